//! Limits and rules of API.md §12 that a request controls: key derivation cost, the size and
//! depth of stored JSON (whatever is accepted stays readable, listable, updatable and
//! deletable), URL and host readings, `jwt_headers`, group-commit answers, rate-limit identity,
//! roles and the controls for departing colleagues.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

/// Everything the API must still do with a credential it accepted: read, list, update,
/// mint (JWT), delete, each answering as it should.
async fn assert_fully_usable(server: &Server, team_id: i64, id: i64, what: &str) {
    let (status, body) = server.get(&cred_path(id), OWNER_KEY).await;
    assert_eq!(status, 200, "{what}: GET → {body}");
    let (status, list) = server
        .get(&format!("{CREDENTIALS}?team_id={team_id}"), OWNER_KEY)
        .await;
    assert_eq!(status, 200, "{what}: list → {list}");
    assert!(listed_ids(&list).contains(&id), "{what}: not listed");
    let (status, list) = server.get(CREDENTIALS, OWNER_KEY).await;
    assert_eq!(status, 200, "{what}: unfiltered list → {list}");
    let (status, body) = server
        .call(
            Method::PUT,
            &cred_path(id),
            Some(OWNER_KEY),
            Some(json!({ "mode": body["mode"], "description": "updated" })),
        )
        .await;
    assert_eq!(status, 200, "{what}: PUT → {body}");
    if body["mode"] == "JWT" {
        // A restricted credential mints for a URL on its first allowed host.
        let target = match body["allowed_hosts"][0].as_str() {
            Some(host) => json!({ "url": format!("https://{host}/") }),
            None => json!({}),
        };
        let (status, body) = server
            .post(&format!("{}/token", cred_path(id)), OWNER_KEY, target)
            .await;
        assert_eq!(status, 200, "{what}: mint → {body}");
    }
    let (status, body) = server.delete(&cred_path(id), OWNER_KEY).await;
    assert_eq!(status, 204, "{what}: DELETE → {body}");
}

// ---- key derivation cost --------------------------------------------------------------------

/// An encrypted PKCS#8 PEM with the given key derivation and garbage ciphertext.
fn encrypted_key(kdf: pkcs8::pkcs5::pbes2::Kdf<'_>) -> String {
    use pkcs8::der::Encode;
    use pkcs8::pkcs5::{pbes2, EncryptionScheme};
    let info = pkcs8::EncryptedPrivateKeyInfo {
        encryption_algorithm: EncryptionScheme::Pbes2(pbes2::Parameters {
            kdf,
            encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &[7; 16] },
        }),
        encrypted_data: &[0; 1232],
    };
    let body = STANDARD.encode(info.to_der().unwrap());
    format!("-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}\n-----END ENCRYPTED PRIVATE KEY-----\n")
}

#[tokio::test]
async fn costly_key_derivations_are_refused_at_once_and_the_server_stays_up() {
    use pkcs8::pkcs5::pbes2::{Kdf, Pbkdf2Params, Pbkdf2Prf, ScryptParams};
    let server = Server::start();
    let team_id = server.team("Keys").await;
    let salt = [1u8; 16];
    let pbkdf2 = |iterations| {
        Kdf::Pbkdf2(Pbkdf2Params {
            salt: &salt,
            iteration_count: iterations,
            key_length: None,
            prf: Pbkdf2Prf::HmacWithSha256,
        })
    };
    let scrypt = |n: u64, r: u16, p: u16| {
        Kdf::Scrypt(ScryptParams {
            salt: &salt,
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length: Some(32),
        })
    };
    let table = [
        (
            "scrypt N=2^30 (1 TiB)",
            scrypt(1 << 30, 8, 1),
            "N=1073741824",
        ),
        ("scrypt 128 MiB", scrypt(1 << 17, 8, 1), "64 MiB"),
        ("scrypt N·r·p = 2^23", scrypt(1 << 14, 8, 64), "2^22"),
        ("PBKDF2 2^32-1", pbkdf2(u32::MAX), "4294967295 iterations"),
        ("PBKDF2 1,000,001", pbkdf2(1_000_001), "at most 1000000"),
    ];
    for (what, kdf, needle) in table {
        let started = Instant::now();
        let (status, body) = server
            .create_credential(
                OWNER_KEY,
                json!({
                    "name": what, "mode": "JWT", "team_id": team_id, "jwt_algorithm": "RS256",
                    "jwt_private_key": encrypted_key(kdf), "jwt_private_key_passphrase": "pw",
                }),
            )
            .await;
        assert_error(status, &body, 422, Some("jwt_private_key"), needle);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: refused only after {:?}",
            started.elapsed()
        );
    }
    let (status, _) = server.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn key_derivations_within_the_limits_are_tried() {
    use pkcs8::pkcs5::pbes2::{Kdf, ScryptParams};
    let server = Server::start();
    let team_id = server.team("Keys").await;
    let salt = [1u8; 16];
    // 16 MiB and N·r·p = 2^17: allowed, so the passphrase is tried (and is wrong).
    let kdf = Kdf::Scrypt(ScryptParams {
        salt: &salt,
        cost_parameter: 1 << 14,
        block_size: 8,
        parallelization: 1,
        key_length: Some(32),
    });
    let (status, body) = server
        .create_credential(
            OWNER_KEY,
            json!({
                "name": "k", "mode": "JWT", "team_id": team_id, "jwt_algorithm": "RS256",
                "jwt_private_key": encrypted_key(kdf), "jwt_private_key_passphrase": "pw",
            }),
        )
        .await;
    assert_error(status, &body, 422, Some("jwt_private_key"), "passphrase");
}

// ---- size and depth of what is stored -------------------------------------------------------

struct Case {
    what: &'static str,
    fields: Value,
    /// None: accepted; Some((field, words of the message)): refused with 422.
    refused: Option<(&'static str, &'static str)>,
}

fn size_and_depth_cases() -> Vec<Case> {
    let deep_string = |levels| Value::String(nested(levels).to_string());
    let hosts = |n: usize| {
        json!((0..n)
            .map(|i| format!("h{i}.example.com"))
            .collect::<Vec<_>>())
    };
    let host_of = |len: usize| json!([format!("{}.example.com", "a".repeat(len - 12))]);
    let slugs = |n: usize| json!((0..n).map(|i| format!("t{i}")).collect::<Vec<_>>());
    let ok = None;
    let no = Some;
    #[rustfmt::skip]
    let table = vec![
        ("payload 32 deep", json!({ "jwt_payload": nested(32) }), ok),
        ("payload 33 deep", json!({ "jwt_payload": nested(33) }), no(("jwt_payload", "32 levels"))),
        ("payload string 32 deep", json!({ "jwt_payload": deep_string(32) }), ok),
        ("payload string 33 deep", json!({ "jwt_payload": deep_string(33) }), no(("jwt_payload", "32 levels"))),
        // The review's brick: JSON nested 127 deep inside a string.
        ("payload string 127 deep", json!({ "jwt_payload": deep_string(127) }), no(("jwt_payload", "32 levels"))),
        ("payload string 200 deep", json!({ "jwt_payload": deep_string(200) }), no(("jwt_payload", "32 levels"))),
        ("payload 64 KiB", json!({ "jwt_payload": sized(65536) }), ok),
        ("payload 64 KiB + 1", json!({ "jwt_payload": sized(65537) }), no(("jwt_payload", "64 KiB"))),
        ("metadata 32 deep", json!({ "metadata": nested(32) }), ok),
        ("metadata 33 deep", json!({ "metadata": nested(33) }), no(("metadata", "32 levels"))),
        ("metadata 64 KiB", json!({ "metadata": sized(65536) }), ok),
        ("metadata 64 KiB + 1", json!({ "metadata": sized(65537) }), no(("metadata", "64 KiB"))),
        ("headers 4 KiB", json!({ "jwt_headers": sized(4096) }), ok),
        ("headers 4 KiB + 1", json!({ "jwt_headers": sized(4097) }), no(("jwt_headers", "4 KiB"))),
        ("headers 33 deep", json!({ "jwt_headers": nested(33) }), no(("jwt_headers", "32 levels"))),
        ("description 10,000", json!({ "description": "d".repeat(10_000) }), ok),
        ("description 10,001", json!({ "description": "d".repeat(10_001) }), no(("description", "10000 characters"))),
        ("name 255", json!({ "name": "n".repeat(255) }), ok),
        ("name 256", json!({ "name": "n".repeat(256) }), no(("name", "255 characters"))),
        ("100 allowed_hosts", json!({ "allowed_hosts": hosts(100) }), ok),
        ("101 allowed_hosts", json!({ "allowed_hosts": hosts(101) }), no(("allowed_hosts", "at most 100"))),
        ("allowed_hosts entry of 1,024", json!({ "allowed_hosts": host_of(1024) }), ok),
        ("allowed_hosts entry of 1,025", json!({ "allowed_hosts": host_of(1025) }), no(("allowed_hosts", "1024 characters"))),
        ("101 shared teams", json!({ "read_access": "SPECIFIC_TEAMS", "shared_team_slugs": slugs(101) }), no(("shared_team_slugs", "at most 100"))),
    ];
    table
        .into_iter()
        .map(|(what, fields, refused)| Case {
            what,
            fields,
            refused,
        })
        .collect()
}

#[tokio::test]
async fn stored_fields_have_limits_and_whatever_is_accepted_stays_usable() {
    let server = Server::in_process().await;
    let team_id = server.team("Sizes").await;
    for (i, case) in size_and_depth_cases().into_iter().enumerate() {
        let mut body = jwt_body(team_id, &format!("case {i}"));
        for (k, v) in case.fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, resp) = server.create_credential(OWNER_KEY, body).await;
        if let Some((field, needle)) = case.refused {
            assert_error(status, &resp, 422, Some(field), needle);
        } else {
            assert_eq!(status, 201, "{}: {resp}", case.what);
            let id = resp["id"].as_i64().unwrap();
            assert_fully_usable(&server, team_id, id, case.what).await;
        }
    }
    // Nothing refused was stored; everything accepted was deleted.
    let (status, list) = server.get(CREDENTIALS, OWNER_KEY).await;
    assert_eq!(status, 200);
    assert_eq!(list["meta"]["count"], 0, "{list}");
}

#[tokio::test]
async fn updates_have_the_same_limits() {
    let server = Server::start();
    let team_id = server.team("Sizes").await;
    let (status, created) = server
        .create_credential(OWNER_KEY, jwt_body(team_id, "c"))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_i64().unwrap();
    for case in size_and_depth_cases() {
        let Some((field, needle)) = case.refused else {
            continue;
        };
        let mut body = case.fields.clone();
        body["mode"] = json!("JWT");
        let (status, resp) = server
            .call(Method::PUT, &cred_path(id), Some(OWNER_KEY), Some(body))
            .await;
        assert_error(status, &resp, 422, Some(field), needle);
    }
    // The test credential too (is_test applies the mode fields and metadata to it).
    let mut test = jwt_body(team_id, "c");
    test["live_credential_id"] = json!(id);
    let (status, _) = server.create_credential(OWNER_KEY, test).await;
    assert_eq!(status, 201);
    let (status, resp) = server
        .call(
            Method::PUT,
            &cred_path(id),
            Some(OWNER_KEY),
            Some(json!({ "mode": "JWT", "is_test": true, "metadata": nested(40) })),
        )
        .await;
    assert_error(status, &resp, 422, Some("metadata"), "32 levels");
    assert_fully_usable(&server, team_id, id, "after refused updates").await;
}

#[tokio::test]
async fn jwt_headers_that_change_verification_are_refused() {
    let server = Server::start();
    let team_id = server.team("Headers").await;
    for name in [
        "alg", "ALG", "Alg", "crit", "jku", "x5u", "jwk", "x5c", "b64", "JKU", "X5c",
    ] {
        let mut body = jwt_body(team_id, "h");
        body["jwt_headers"] = json!({ name: "none" });
        let (status, resp) = server.create_credential(OWNER_KEY, body).await;
        assert_error(status, &resp, 422, Some("jwt_headers"), name);
    }
    let mut body = jwt_body(team_id, "h");
    body["jwt_headers"] = json!({ "kid": "k1", "typ": "at+jwt", "cty": "x" });
    let (status, resp) = server.create_credential(OWNER_KEY, body).await;
    assert_eq!(status, 201, "{resp}");
    assert_eq!(
        resp["jwt_headers"],
        json!({ "kid": "k1", "typ": "at+jwt", "cty": "x" })
    );
}

// ---- group commit ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_bad_create_among_sixty_good_ones_fails_alone() {
    let server = std::sync::Arc::new(Server::start());
    let team_id = server.team("Crowd").await;
    let mut users = Vec::new();
    for i in 0..6 {
        let (_, key) = server
            .user(&format!("u{i}@example.com"), Some((team_id, "EDITOR")))
            .await;
        users.push(key);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..61 {
        let server = server.clone();
        let key = users[i % users.len()].clone();
        let mut body = jwt_body(team_id, &format!("cred {i}"));
        if i == 30 {
            body["jwt_payload"] = Value::String(nested(127).to_string());
        }
        tasks.spawn(async move { (i, server.create_credential(&key, body).await) });
    }
    let mut created = 0;
    while let Some(joined) = tasks.join_next().await {
        let (i, (status, body)) = joined.unwrap();
        if i == 30 {
            assert_error(status, &body, 422, Some("jwt_payload"), "32 levels");
        } else {
            assert_eq!(status, 201, "create {i}: {body}");
            assert_eq!(body["name"], format!("cred {i}"));
            created += 1;
        }
    }
    assert_eq!(created, 60);
    let (status, list) = server
        .get(&format!("{CREDENTIALS}?per_page=100"), OWNER_KEY)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["meta"]["count"], 60, "{list}");
}

// ---- where a token may go -------------------------------------------------------------------

#[tokio::test]
async fn urls_and_hosts_that_clients_read_differently_are_refused() {
    let server = Server::start();
    let team_id = server.team("Hosts").await;
    let mut body = jwt_body(team_id, "restricted");
    body["allowed_hosts"] = json!(["api.example.com", "svc.example.net/v1/*", "*.partner.org"]);
    let (status, created) = server.create_credential(OWNER_KEY, body).await;
    assert_eq!(status, 201, "{created}");
    let token = format!("{}/token", cred_path(created["id"].as_i64().unwrap()));
    let mint = |body: Value| server.post(&token, OWNER_KEY, body);

    for url in [
        "https://api.example.com\\@evil.org/",
        "https://svc.example.net/v1\\..\\admin",
        "https://api.example.com /x",
        "https://api.example.com/\u{1}",
    ] {
        let (status, resp) = mint(json!({ "url": url })).await;
        assert_error(status, &resp, 403, Some("url"), "backslash");
    }
    for url in [
        "https://svc.example.net/v1/../admin",
        "https://svc.example.net/v1/..%2fadmin",
        "https://svc.example.net/v1/%2e%2e/admin",
        "https://svc.example.net/v1/%2E%2E%2Fadmin",
        "https://api.example.com@evil.org/",
    ] {
        let (status, resp) = mint(json!({ "url": url })).await;
        assert_error(
            status,
            &resp,
            403,
            None,
            "not in the credential's allowed_hosts",
        );
    }
    for host in [
        "evil.org#.partner.org",
        "evil.org?.partner.org",
        "evil.org\\.partner.org",
        "evil.org/.partner.org",
        "x@a.partner.org",
    ] {
        let (status, resp) = mint(json!({ "host": host })).await;
        assert_error(status, &resp, 422, Some("host"), "not allowed");
    }
    let (status, resp) = mint(json!({ "host": "a".repeat(254) })).await;
    assert_error(status, &resp, 422, Some("host"), "253 characters");
    let long = format!("https://api.example.com/{}", "a".repeat(8192));
    let (status, resp) = mint(json!({ "url": long })).await;
    assert_error(status, &resp, 422, Some("url"), "8192 characters");
    for allowed in [
        json!({ "url": "https://svc.example.net/v1/./users" }),
        json!({ "url": "https://svc.example.net/v2/../v1/users" }),
        json!({ "url": "https://user:pw@API.example.com:443/x" }),
        json!({ "host": "a.partner.org" }),
    ] {
        let (status, resp) = mint(allowed.clone()).await;
        assert_eq!(status, 200, "{allowed}: {resp}");
    }
}

#[tokio::test]
async fn the_worst_allowed_pattern_answers_at_once() {
    let server = Server::start();
    let team_id = server.team("Globs").await;
    let mut body = jwt_body(team_id, "globby");
    // 100 entries of the costliest shape a naive matcher has: stars between repeated text.
    let pattern = format!("{}*b", "*a".repeat(500));
    body["allowed_hosts"] = json!(vec![pattern; 100]);
    let (status, created) = server.create_credential(OWNER_KEY, body).await;
    assert_eq!(status, 201, "{created}");
    let token = format!("{}/token", cred_path(created["id"].as_i64().unwrap()));
    let started = Instant::now();
    let (status, resp) = server
        .post(&token, OWNER_KEY, json!({ "host": "a".repeat(253) }))
        .await;
    assert_error(status, &resp, 403, None, "allowed_hosts");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

// ---- rate limiting by caller ----------------------------------------------------------------

#[tokio::test]
async fn the_rate_limit_counts_the_key_whatever_the_header_form() {
    let tmp = TempDir::new().unwrap();
    let server = Server::start_in(tmp.path(), &[("CREDVAULT_RATE_LIMIT_PER_MINUTE", "6")]).unwrap();
    // Spend the key's allowance (its very first request counts against the shared bucket of
    // unknown callers, so 7 pass). At 6 a minute a token comes back only every 10 s.
    for i in 0..7 {
        let (status, body) = server.get("/api/v1/teams", OWNER_KEY).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    let variants: [(&str, String); 5] = [
        ("authorization", format!("Bearer {OWNER_KEY}")),
        ("authorization", format!("bearer {OWNER_KEY}")),
        ("authorization", format!("Bearer  {OWNER_KEY}")),
        ("authorization", format!("Bearer {OWNER_KEY} ")),
        ("x-user-token", OWNER_KEY.to_string()),
    ];
    for (header, value) in variants {
        let resp = server
            .request(Method::GET, "/api/v1/teams")
            .header(header, &value)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 429, "{header}: {value:?}");
    }
}

#[tokio::test]
async fn wrong_keys_share_one_bucket_per_address() {
    let tmp = TempDir::new().unwrap();
    let server =
        Server::start_in(tmp.path(), &[("CREDVAULT_RATE_LIMIT_PER_MINUTE", "10")]).unwrap();
    for i in 0..10 {
        let (status, _) = server.get("/api/v1/teams", &format!("guess-{i}")).await;
        assert_eq!(status, 401, "guess {i}");
    }
    let (status, body) = server.get("/api/v1/teams", "guess-11").await;
    assert_error(status, &body, 429, None, "rate limit");
    let (status, _) = server.call(Method::GET, "/api/v1/teams", None, None).await;
    assert_eq!(status, 429, "no key shares the bucket too");
    // A key that authenticated before has its own allowance.
    let (status, _) = server.get("/api/v1/teams", OWNER_KEY).await;
    assert_eq!(status, 429, "a key's first request counts as unknown");
}

#[tokio::test]
async fn a_known_key_keeps_its_allowance_while_guesses_are_refused() {
    let tmp = TempDir::new().unwrap();
    let server =
        Server::start_in(tmp.path(), &[("CREDVAULT_RATE_LIMIT_PER_MINUTE", "10")]).unwrap();
    let (status, _) = server.get("/api/v1/teams", OWNER_KEY).await;
    assert_eq!(status, 200);
    for i in 0..9 {
        let (status, _) = server.get("/api/v1/teams", &format!("guess-{i}")).await;
        assert_eq!(status, 401, "guess {i}");
    }
    let (status, _) = server.get("/api/v1/teams", "guess-last").await;
    assert_eq!(status, 429);
    let (status, body) = server.get("/api/v1/teams", OWNER_KEY).await;
    assert_eq!(status, 200, "{body}");
}

// ---- roles and the controls for departing colleagues ----------------------------------------

#[tokio::test]
async fn deleting_a_credential_needs_team_admin() {
    let server = Server::start();
    let w = World::new(&server, "Roles", &[Role::Editor, Role::TeamAdmin]).await;
    let (team_id, editor, admin) = (w.team_id, w.editor_key(), w.team_admin_key());
    let (status, created) = server
        .create_credential(editor, jwt_body(team_id, "c"))
        .await;
    assert_eq!(status, 201);
    let path = cred_path(created["id"].as_i64().unwrap());
    let (status, body) = server.delete(&path, editor).await;
    assert_error(status, &body, 403, None, "TEAM_ADMIN");
    let (status, _) = server.get(&path, editor).await;
    assert_eq!(status, 200);
    let (status, body) = server.delete(&path, admin).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(body, Value::Null);
}

#[tokio::test]
async fn a_removed_member_loses_the_team_at_once() {
    let server = Server::start();
    let w = World::new(&server, "Roles", &[Role::Editor, Role::TeamAdmin]).await;
    let (team_id, user_id, key) = (w.team_id, w.editor_id(), w.editor_key().to_string());
    let admin = w.team_admin_key();
    let (status, created) = server.create_credential(&key, jwt_body(team_id, "c")).await;
    assert_eq!(status, 201);
    let path = cred_path(created["id"].as_i64().unwrap());
    let remove = format!("/api/v1/teams/{team_id}/remove_member");

    // An EDITOR may not remove anyone.
    let (status, body) = server
        .post(&remove, &key, json!({ "user_id": user_id }))
        .await;
    assert_error(status, &body, 403, None, "TEAM_ADMIN");
    let (status, body) = server
        .post(&remove, admin, json!({ "user_id": user_id }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], user_id);
    assert_eq!(body["email"], Role::Editor.email());
    assert_eq!(body["team_id"], team_id);

    let (status, _) = server.get(&path, &key).await;
    assert_eq!(status, 404);
    let (status, _) = server.post(&format!("{path}/token"), &key, json!({})).await;
    assert_eq!(status, 404);
    // The credential stays with the team.
    let (status, body) = server.get(&path, admin).await;
    assert_eq!(status, 200, "{body}");
    // Removing again: not a member.
    let (status, body) = server
        .post(&remove, admin, json!({ "user_id": user_id }))
        .await;
    assert_error(status, &body, 422, Some("user_id"), "not a member");
}

#[tokio::test]
async fn a_deactivated_user_is_locked_out_at_once_and_listed_inactive() {
    let server = Server::start();
    let w = World::new(&server, "Roles", &[Role::Editor]).await;
    let (team_id, user_id, key) = (w.team_id, w.editor_id(), w.editor_key());
    let (status, created) = server.create_credential(key, jwt_body(team_id, "c")).await;
    assert_eq!(status, 201);
    let path = cred_path(created["id"].as_i64().unwrap());
    let (status, _) = server.post(&format!("{path}/token"), key, json!({})).await;
    assert_eq!(status, 200);

    let (status, body) = server
        .delete(&format!("/api/v1/admin/users/{user_id}"), key)
        .await;
    assert_error(status, &body, 403, None, "tenant admins");
    let (status, body) = server
        .delete(&format!("/api/v1/admin/users/{user_id}"), OWNER_KEY)
        .await;
    assert_eq!(status, 204, "{body}");

    let (status, _) = server.get(&path, key).await;
    assert_eq!(status, 401);
    let (status, _) = server.post(&format!("{path}/token"), key, json!({})).await;
    assert_eq!(status, 401);
    let (status, users) = server.get("/api/v1/admin/users", OWNER_KEY).await;
    assert_eq!(status, 200);
    let listed = users["admin/users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user_id)
        .unwrap()
        .clone();
    assert_eq!(listed["is_active"], false);
    // The credential stays with its team and its owner.
    let (status, body) = server.get(&path, OWNER_KEY).await;
    assert_eq!(status, 200);
    assert_eq!(body["owner"]["user_id"], user_id);
    let (status, _) = server.delete("/api/v1/admin/users/999999", OWNER_KEY).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_deactivated() {
    let server = Server::start();
    let (status, users) = server.get("/api/v1/admin/users", OWNER_KEY).await;
    assert_eq!(status, 200);
    let owner_id = users["admin/users"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/admin/users/{owner_id}");
    let (status, body) = server.delete(&path, OWNER_KEY).await;
    assert_error(status, &body, 422, Some("id"), "last active tenant admin");
    let (status, _) = server.get("/api/v1/teams", OWNER_KEY).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn per_page_of_any_size_is_clamped() {
    let server = Server::start();
    for per_page in [
        "501",
        "99999999999999999999",
        "340282366920938463463374607431768211456",
    ] {
        let (status, body) = server
            .get(&format!("{CREDENTIALS}?per_page={per_page}"), OWNER_KEY)
            .await;
        assert_eq!(status, 200, "{per_page}: {body}");
        assert_eq!(body["meta"]["per_page"], 500, "{per_page}");
    }
}

// ---- memory -----------------------------------------------------------------------------------

#[tokio::test]
async fn mint_caches_stay_within_their_byte_budget() {
    let tmp = TempDir::new().unwrap();
    let server = Server::start_in(tmp.path(), &[("CREDVAULT_CACHE_MAX_MIB", "1")]).unwrap();
    let team_id = server.team("Big").await;
    // 20 credentials with the largest payload allowed: a count-bounded cache would hold them
    // all (about 5 MiB of tokens and more of parsed payloads).
    for i in 0..20 {
        let mut body = jwt_body(team_id, &format!("big {i}"));
        body["jwt_payload"] = sized(65536);
        let (status, created) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 201);
        let id = created["id"].as_i64().unwrap();
        let (status, minted) = server
            .post(&format!("{}/token", cred_path(id)), OWNER_KEY, json!({}))
            .await;
        assert_eq!(status, 200, "{minted}");
        assert!(minted["token"].as_str().unwrap().len() > 65536);
    }
    let text = server.metrics().await;
    for cache in ["key", "token"] {
        let bytes = sample(
            &text,
            &format!("credvault_cache_bytes{{cache=\"{cache}\"}}"),
        ) as u64;
        assert!(bytes > 0, "{cache} cache is empty");
        assert!(bytes <= 1024 * 1024, "{cache} cache holds {bytes} bytes");
    }
}

#[tokio::test]
async fn a_list_page_of_the_largest_credentials_costs_about_its_size() {
    let server = Server::start();
    let team_id = server.team("Big").await;
    // The shape that takes the most memory as a parsed tree: 32,760 tiny array elements.
    let doc = json!({ "a": vec![0; 32_760] });
    for i in 0..100 {
        let mut body = jwt_body(team_id, &format!("big {i}"));
        body["jwt_payload"] = doc.clone();
        body["metadata"] = doc.clone();
        let (status, created) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 201, "{created}");
    }
    let before = server.peak_memory();
    let resp = server
        .request(Method::GET, &format!("{CREDENTIALS}?per_page=100"))
        .bearer_auth(OWNER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let size = resp.bytes().await.unwrap().len() as u64;
    assert!(size > 13_000_000, "{size}");
    // Parsed into trees the page took over a gigabyte; as text, a few times its size.
    let grown = server.peak_memory().saturating_sub(before);
    assert!(
        grown < 8 * size,
        "the server grew by {grown} bytes for a {size}-byte page"
    );
}
