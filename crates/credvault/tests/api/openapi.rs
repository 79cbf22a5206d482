//! The OpenAPI document: it is served, names this server, is valid OpenAPI 3.1, and real
//! responses of the main routes (successes and errors) match the schemas it gives for them.
//! The checking is done by `tests/openapi_check.py` with openapi-spec-validator and jsonschema,
//! in a virtualenv kept in `target/openapi-venv`.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// Real responses, as the checker reads them: method, path template, status and body.
struct Samples<'a> {
    server: &'a Server,
    list: Vec<Value>,
}

impl Samples<'_> {
    fn record(&mut self, method: &Method, template: &str, status: u16, body: &Value) {
        self.list.push(json!({
            "method": method.as_str(),
            "path_template": template,
            "status": status,
            "body": body,
        }));
    }

    /// Sends a request, asserts its status and records the response. `path` is `template`
    /// with its ids filled in.
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        want: u16,
    ) -> Value {
        let (status, response) = self.server.call(method.clone(), path, key, body).await;
        assert_eq!(status, want, "{method} {path}: {response}");
        self.record(&method, template, status, &response);
        response
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// A Python with openapi-spec-validator and jsonschema: a virtualenv in the workspace's
/// `target/`, created and filled from PyPI the first time.
fn checker_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/openapi-venv");
    let python = venv.join("bin/python");
    let ready = |python: &Path| {
        python.exists()
            && Command::new(python)
                .args(["-c", "import openapi_spec_validator, jsonschema"])
                .output()
                .is_ok_and(|out| out.status.success())
    };
    if ready(&python) {
        return python;
    }
    let out = run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    assert!(
        out.status.success(),
        "python3 -m venv {}: {}",
        venv.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "openapi-spec-validator",
        "jsonschema",
    ]));
    assert!(
        out.status.success(),
        "pip install openapi-spec-validator jsonschema: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ready(&python), "{} lacks the packages", python.display());
    python
}

#[tokio::test]
async fn document_is_valid_and_real_responses_match_it() {
    let server = Server::start();
    let mut s = Samples {
        server: &server,
        list: Vec::new(),
    };

    // The document needs no key and names this server.
    let doc = s
        .call(
            Method::GET,
            "/api/v1/openapi.json",
            "/api/v1/openapi.json",
            None,
            None,
            200,
        )
        .await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], server.base.as_str(), "{doc}");

    // Service routes.
    s.call(Method::GET, "/healthz", "/healthz", None, None, 200)
        .await;
    s.call(Method::GET, "/readyz", "/readyz", None, None, 200)
        .await;
    let metrics = server
        .request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let content_type = metrics.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/plain"), "{content_type}");

    // Users and API keys.
    let users = "/api/v1/admin/users";
    let user = s
        .call(
            Method::POST,
            users,
            users,
            Some(OWNER_KEY),
            Some(json!({ "email": "ada@example.com", "first_name": "Ada", "last_name": "L" })),
            201,
        )
        .await;
    let ada_id = user["id"].as_i64().unwrap();
    s.call(
        Method::POST,
        users,
        users,
        Some(OWNER_KEY),
        Some(json!({ "email": "ada@example.com" })),
        409,
    )
    .await;
    s.call(
        Method::POST,
        users,
        users,
        Some(OWNER_KEY),
        Some(json!({ "email": "not an address" })),
        422,
    )
    .await;
    s.call(
        Method::GET,
        users,
        &format!("{users}?per_page=1"),
        Some(OWNER_KEY),
        None,
        200,
    )
    .await;
    let keys = "/api/v1/admin/users/{id}/api_keys";
    let key = s
        .call(
            Method::POST,
            keys,
            &format!("{users}/{ada_id}/api_keys"),
            Some(OWNER_KEY),
            Some(json!({ "name": "laptop" })),
            201,
        )
        .await;
    let ada = key["key"].as_str().unwrap().to_string();
    let spare = s
        .call(
            Method::POST,
            keys,
            &format!("{users}/{ada_id}/api_keys"),
            Some(&ada),
            Some(json!({ "name": "spare" })),
            201,
        )
        .await;
    s.call(
        Method::DELETE,
        "/api/v1/admin/users/{id}/api_keys/{key_id}",
        &format!("{users}/{ada_id}/api_keys/{}", spare["id"]),
        Some(&ada),
        None,
        204,
    )
    .await;
    // Revoked, then no key at all, then someone else's keys.
    s.call(
        Method::GET,
        "/api/v1/teams",
        "/api/v1/teams",
        spare["key"].as_str(),
        None,
        401,
    )
    .await;
    s.call(
        Method::GET,
        "/api/v1/user_credentials",
        "/api/v1/user_credentials",
        None,
        None,
        401,
    )
    .await;
    s.call(
        Method::POST,
        keys,
        &format!("{users}/1/api_keys"),
        Some(&ada),
        Some(json!({ "name": "not mine" })),
        403,
    )
    .await;
    s.call(Method::GET, users, users, Some(&ada), None, 403)
        .await;

    // Teams and membership.
    let teams = "/api/v1/teams";
    let team = s
        .call(
            Method::POST,
            teams,
            teams,
            Some(OWNER_KEY),
            Some(json!({ "name": "Blue Team" })),
            201,
        )
        .await;
    let team_id = team["id"].as_i64().unwrap();
    s.call(
        Method::POST,
        teams,
        teams,
        Some(OWNER_KEY),
        Some(json!({ "name": "blue team" })),
        409,
    )
    .await;
    let other_team = server.team("Red Team").await;
    s.call(
        Method::POST,
        "/api/v1/teams/{id}/invite_member",
        &format!("{teams}/{team_id}/invite_member"),
        Some(OWNER_KEY),
        Some(json!({ "user_id": ada_id, "role": "EDITOR" })),
        200,
    )
    .await;
    let (_, viewer) = server
        .user("viewer@example.com", Some((team_id, "VIEWER")))
        .await;
    s.call(Method::GET, teams, teams, Some(&ada), None, 200)
        .await;
    s.call(
        Method::GET,
        "/api/v1/teams/{id}",
        &format!("{teams}/{team_id}"),
        Some(&ada),
        None,
        200,
    )
    .await;
    s.call(
        Method::GET,
        "/api/v1/teams/{id}",
        &format!("{teams}/{other_team}"),
        Some(&ada),
        None,
        404,
    )
    .await;
    s.call(
        Method::POST,
        "/api/v1/teams/{id}/invite_member",
        &format!("{teams}/{team_id}/invite_member"),
        Some(&ada),
        Some(json!({ "user_id": ada_id, "role": "TEAM_ADMIN" })),
        403,
    )
    .await;

    // Taking a member out, and deactivating a user.
    let (leaver_id, _) = server
        .user("leaver@example.com", Some((team_id, "EDITOR")))
        .await;
    let remove = "/api/v1/teams/{id}/remove_member";
    let remove_path = format!("{teams}/{team_id}/remove_member");
    s.call(
        Method::POST,
        remove,
        &remove_path,
        Some(&ada),
        Some(json!({ "user_id": leaver_id })),
        403,
    )
    .await;
    s.call(
        Method::POST,
        remove,
        &remove_path,
        Some(OWNER_KEY),
        Some(json!({ "user_id": leaver_id })),
        200,
    )
    .await;
    s.call(
        Method::POST,
        remove,
        &remove_path,
        Some(OWNER_KEY),
        Some(json!({ "user_id": leaver_id })),
        422,
    )
    .await;
    let user = "/api/v1/admin/users/{id}";
    s.call(
        Method::DELETE,
        user,
        &format!("{users}/{leaver_id}"),
        Some(&ada),
        None,
        403,
    )
    .await;
    s.call(
        Method::DELETE,
        user,
        &format!("{users}/{leaver_id}"),
        Some(OWNER_KEY),
        None,
        204,
    )
    .await;
    s.call(
        Method::DELETE,
        user,
        &format!("{users}/1"),
        Some(OWNER_KEY),
        None,
        422,
    )
    .await;
    s.call(
        Method::DELETE,
        user,
        &format!("{users}/999999"),
        Some(OWNER_KEY),
        None,
        404,
    )
    .await;

    // Folders.
    let folders = "/api/v1/folders";
    let folder = s
        .call(
            Method::POST,
            folders,
            folders,
            Some(&ada),
            Some(
                json!({ "name": "Signing keys", "content_type": "CREDENTIAL", "team_id": team_id }),
            ),
            201,
        )
        .await;
    let folder_id = folder["id"].as_i64().unwrap();
    s.call(
        Method::POST,
        folders,
        folders,
        Some(&ada),
        Some(json!({ "name": "Stories", "content_type": "STORY", "team_id": team_id })),
        422,
    )
    .await;
    s.call(
        Method::GET,
        folders,
        &format!("{folders}?team_id={team_id}"),
        Some(&ada),
        None,
        200,
    )
    .await;

    // Credentials.
    let creds = "/api/v1/user_credentials";
    let one = "/api/v1/user_credentials/{id}";
    let mut jwt = jwt_body(team_id, "Signing key");
    jwt["folder_id"] = json!(folder_id);
    jwt["jwt_auto_generate_time_claims"] = json!(true);
    jwt["jwt_headers"] = json!({ "kid": "k1" });
    jwt["allowed_hosts"] = json!(["api.example.com"]);
    jwt["expires_at"] = json!("2040-01-31T12:00:00Z");
    let created = s
        .call(
            Method::POST,
            creds,
            creds,
            Some(&ada),
            Some(jwt.clone()),
            201,
        )
        .await;
    let jwt_id = created["id"].as_i64().unwrap();
    s.call(Method::POST, creds, creds, Some(&ada), Some(jwt), 409)
        .await;
    let text =
        json!({ "name": "Webhook secret", "mode": "TEXT", "team_id": team_id, "value": "s3cr3t" });
    let created = s
        .call(
            Method::POST,
            creds,
            creds,
            Some(&ada),
            Some(text.clone()),
            201,
        )
        .await;
    let text_id = created["id"].as_i64().unwrap();
    s.call(Method::POST, creds, creds, Some(&viewer), Some(text), 403)
        .await;
    let mut bad = jwt_body(team_id, "Too long");
    bad["jwt_lifetime_seconds"] = json!(86_401);
    s.call(Method::POST, creds, creds, Some(&ada), Some(bad), 422)
        .await;
    s.call(
        Method::POST,
        creds,
        creds,
        Some(&ada),
        Some(json!({ "name": "OAuth", "mode": "OAUTH", "team_id": team_id })),
        422,
    )
    .await;
    s.call(
        Method::POST,
        creds,
        creds,
        Some(&ada),
        Some(jwt_body(other_team, "Elsewhere")),
        404,
    )
    .await;
    let (status, body) = Server::read(
        server
            .request(Method::POST, creds)
            .bearer_auth(&ada)
            .header("content-type", "application/json")
            .body("{\"name\": "),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    s.record(&Method::POST, creds, status, &body);
    let (status, body) = Server::read(
        server
            .request(Method::POST, creds)
            .bearer_auth(&ada)
            .header("content-type", "text/plain")
            .body("name=x"),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    s.record(&Method::POST, creds, status, &body);

    // Test credential: the response is the live credential, now with its test credential.
    let attached = s
        .call(
            Method::POST,
            creds,
            creds,
            Some(&ada),
            Some(json!({
                "live_credential_id": jwt_id,
                "mode": "JWT",
                "jwt_algorithm": "HS256",
                "jwt_private_key": "test-secret",
            })),
            201,
        )
        .await;
    assert_eq!(attached["id"], jwt_id);
    assert!(attached["test_credential"].is_object(), "{attached}");
    s.call(
        Method::POST,
        creds,
        creds,
        Some(&ada),
        Some(json!({
            "live_credential_id": jwt_id,
            "mode": "JWT",
            "jwt_algorithm": "HS256",
            "jwt_private_key": "test-secret",
        })),
        409,
    )
    .await;

    // Read, list.
    s.call(
        Method::GET,
        one,
        &format!("{creds}/{jwt_id}"),
        Some(&viewer),
        None,
        200,
    )
    .await;
    s.call(
        Method::GET,
        one,
        &format!("{creds}/{text_id}"),
        Some(&ada),
        None,
        200,
    )
    .await;
    s.call(
        Method::GET,
        one,
        &format!("{creds}/999999"),
        Some(&ada),
        None,
        404,
    )
    .await;
    let listed = s
        .call(
            Method::GET,
            creds,
            &format!("{creds}?per_page=1"),
            Some(&ada),
            None,
            200,
        )
        .await;
    assert_eq!(listed["meta"]["count"], 2, "{listed}");
    s.call(
        Method::GET,
        creds,
        &format!("{creds}?team_id={team_id}&folder_id={folder_id}&filter=RESTRICTED"),
        Some(&viewer),
        None,
        200,
    )
    .await;
    s.call(
        Method::GET,
        creds,
        &format!("{creds}?filter=SOMETIMES"),
        Some(&ada),
        None,
        422,
    )
    .await;

    // Update.
    s.call(
        Method::PUT,
        one,
        &format!("{creds}/{jwt_id}"),
        Some(&ada),
        Some(json!({
            "mode": "JWT",
            "name": "Signing key v2",
            "description": "rotated",
            "jwt_lifetime_seconds": 600,
            "metadata": { "owner": "blue" },
        })),
        200,
    )
    .await;
    s.call(
        Method::PUT,
        one,
        &format!("{creds}/{text_id}"),
        Some(&ada),
        Some(json!({ "mode": "TEXT", "value": "n3w", "expires_at": null })),
        200,
    )
    .await;
    s.call(
        Method::PUT,
        one,
        &format!("{creds}/{text_id}"),
        Some(&ada),
        Some(json!({ "mode": "JWT" })),
        422,
    )
    .await;
    s.call(
        Method::PUT,
        one,
        &format!("{creds}/{text_id}"),
        Some(&viewer),
        Some(json!({ "mode": "TEXT", "description": "mine now" })),
        403,
    )
    .await;

    // Minting: the JWT credential is restricted to api.example.com.
    let token = "/api/v1/user_credentials/{id}/token";
    let minted = s
        .call(
            Method::POST,
            token,
            &format!("{creds}/{jwt_id}/token"),
            Some(&ada),
            Some(json!({ "url": "https://api.example.com/v1/things" })),
            200,
        )
        .await;
    assert_eq!(minted["credential_id"], jwt_id, "{minted}");
    assert_eq!(minted["algorithm"], "ES256", "{minted}");
    assert_eq!(minted["test"], false, "{minted}");
    assert!(minted["expires_at"].is_string(), "{minted}");
    s.call(
        Method::POST,
        token,
        &format!("{creds}/{jwt_id}/token"),
        Some(&ada),
        Some(json!({ "host": "evil.example.org" })),
        403,
    )
    .await;
    s.call(
        Method::POST,
        token,
        &format!("{creds}/999999/token"),
        Some(&ada),
        None,
        404,
    )
    .await;

    // The public key: ES256 has one, HS256 has none.
    let jwks = "/api/v1/user_credentials/{id}/jwks";
    let set = s
        .call(
            Method::GET,
            jwks,
            &format!("{creds}/{jwt_id}/jwks"),
            Some(&viewer),
            None,
            200,
        )
        .await;
    assert_eq!(set["keys"][0]["kty"], "EC", "{set}");
    assert_eq!(set["keys"][0]["crv"], "P-256", "{set}");
    assert_eq!(set["keys"][0]["kid"], "k1", "{set}");
    let mut hmac = jwt_body(team_id, "Shared secret");
    hmac["jwt_algorithm"] = json!("HS256");
    hmac["jwt_private_key"] = json!("a-shared-secret");
    let (status, created) = server.create_credential(&ada, hmac).await;
    assert_eq!(status, 201, "{created}");
    let hmac_id = created["id"].as_i64().unwrap();
    s.call(
        Method::GET,
        jwks,
        &format!("{creds}/{hmac_id}/jwks"),
        Some(&ada),
        None,
        422,
    )
    .await;

    // Delete.
    s.call(
        Method::DELETE,
        one,
        &format!("{creds}/{text_id}"),
        Some(&viewer),
        None,
        403,
    )
    .await;
    // EDITORs may not delete (Tines); tenant admins and TEAM_ADMINs may.
    s.call(
        Method::DELETE,
        one,
        &format!("{creds}/{text_id}"),
        Some(&ada),
        None,
        403,
    )
    .await;
    s.call(
        Method::DELETE,
        one,
        &format!("{creds}/{text_id}"),
        Some(OWNER_KEY),
        None,
        204,
    )
    .await;
    s.call(
        Method::DELETE,
        one,
        &format!("{creds}/{text_id}"),
        Some(&ada),
        None,
        404,
    )
    .await;

    // The document as served and the samples, to the checker.
    let tmp = tempfile::TempDir::new().unwrap();
    let doc_path = tmp.path().join("openapi.json");
    let samples_path = tmp.path().join("samples.json");
    std::fs::write(&doc_path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::write(&samples_path, serde_json::to_vec_pretty(&s.list).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi_check.py");
    let out = run(Command::new(checker_python())
        .arg(&script)
        .arg(&doc_path)
        .arg(&samples_path));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "openapi_check.py failed ({}):\n{report}",
        out.status
    );
    assert!(
        report.contains(&format!("{} samples valid", s.list.len())),
        "{report}"
    );
    println!("{}", report.trim_end());
}
