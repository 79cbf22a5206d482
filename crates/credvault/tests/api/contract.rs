//! The server does what its OpenAPI document says at the edges where an outside Schemathesis
//! run found the two apart, and the document carries what Schemathesis needs to test it
//! (`scripts/schemathesis` runs it in CI). One test per finding, plus the rules they led to.

use serde_json::{json, Value};

use crate::support::*;

const CREDENTIALS_LIST: &str = "/api/v1/user_credentials";

async fn document(server: &Server) -> Value {
    let (status, doc) = server.get("/api/v1/openapi.json", OWNER_KEY).await;
    assert_eq!(status, 200);
    doc
}

fn schema<'d>(doc: &'d Value, name: &str) -> &'d Value {
    &doc["components"]["schemas"][name]
}

async fn invite(server: &Server, team: i64, body: Value) -> (u16, Value) {
    let path = format!("/api/v1/teams/{team}/invite_member");
    server.post(&path, OWNER_KEY, body).await
}

#[tokio::test]
async fn list_filters_below_1_or_empty_are_422_naming_the_filter() {
    let server = Server::in_process().await;
    for (query, field) in [
        ("folder_id=0", "folder_id"),
        ("folder_id=-3", "folder_id"),
        ("folder_id=", "folder_id"),
        ("team_id=0", "team_id"),
        ("team_id=", "team_id"),
    ] {
        let (status, body) = server
            .get(&format!("{CREDENTIALS_LIST}?{query}"), OWNER_KEY)
            .await;
        assert_error(status, &body, 422, Some(field), field);
    }
    let (status, body) = server.get("/api/v1/folders?team_id=0", OWNER_KEY).await;
    assert_error(status, &body, 422, Some("team_id"), "1 or greater");
    let doc = document(&server).await;
    let folder_id = &doc["components"]["parameters"]["FolderIdQuery"]["schema"];
    assert_eq!(folder_id["minimum"], 1);
}

#[tokio::test]
async fn invite_member_takes_a_null_role_as_not_given() {
    let server = Server::in_process().await;
    let team = server.team("Ops").await;
    let (user, _) = server.user("ada@example.com", None).await;
    let (status, body) = invite(&server, team, json!({ "user_id": user, "role": null })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "VIEWER");
    let doc = document(&server).await;
    let role = &schema(&doc, "InviteMemberRequest")["properties"]["role"];
    assert_eq!(role["type"], json!(["string", "null"]));
    assert!(role["enum"].as_array().unwrap().contains(&Value::Null));
}

#[tokio::test]
async fn integers_written_with_a_zero_fraction_are_integers() {
    let server = Server::in_process().await;
    let team = server.team("Ops").await;
    let (user, _) = server.user("ada@example.com", None).await;
    let whole = json!({ "user_id": user as f64, "role": "EDITOR" });
    assert!(whole["user_id"].is_f64(), "{whole}");
    let (status, body) = invite(&server, team, whole).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], user);
    assert_eq!(body["role"], "EDITOR");
    // So is a string of decimal digits (some clients send ids so), as the document says.
    let (status, body) = invite(&server, team, json!({ "user_id": user.to_string() })).await;
    assert_eq!(status, 200, "{body}");
    let doc = document(&server).await;
    let user_id = &schema(&doc, "InviteMemberRequest")["properties"]["user_id"];
    assert_eq!(user_id["type"], json!(["integer", "string"]));
    assert_eq!(user_id["pattern"], "^-?[0-9]+$");
    // A fraction, other strings and a number out of range are not integers.
    for user_id in [
        json!(user as f64 + 0.5),
        json!(format!(" {user}")),
        json!("+2"),
        json!(9.3e18),
    ] {
        let (status, body) = invite(&server, team, json!({ "user_id": user_id })).await;
        assert_error(status, &body, 422, Some("user_id"), "integer");
    }
}

#[tokio::test]
async fn a_parent_folder_of_another_team_is_a_documented_422() {
    let server = Server::in_process().await;
    let ops = server.team("Ops").await;
    let dev = server.team("Dev").await;
    let folder = |name: &str, team: i64, parent: Value| json!({ "name": name, "content_type": "CREDENTIAL", "team_id": team, "parent_folder_id": parent });
    let (status, parent) = server
        .post(
            "/api/v1/folders",
            OWNER_KEY,
            folder("keys", dev, Value::Null),
        )
        .await;
    assert_eq!(status, 201, "{parent}");
    let body = folder("child", ops, parent["id"].clone());
    let (status, body) = server.post("/api/v1/folders", OWNER_KEY, body).await;
    assert_error(status, &body, 422, Some("parent_folder_id"), "team");
    let doc = document(&server).await;
    let responses = &doc["paths"]["/api/v1/folders"]["post"]["responses"];
    assert!(responses["422"].is_object(), "{responses}");
}

#[tokio::test]
async fn modes_not_supported_yet_are_422_and_outside_the_documented_enum() {
    let server = Server::in_process().await;
    let team = server.team("Ops").await;
    let id = create_ok(&server, text_body(team, "pager", "s3cret")).await;
    for mode in ["AWS", "MULTI_REQUEST", "OAUTH"] {
        let body = json!({ "name": "x", "mode": mode, "team_id": team });
        let (status, body) = server.post(CREDENTIALS_LIST, OWNER_KEY, body).await;
        assert_error(status, &body, 422, Some("mode"), "not supported yet");
        let body = json!({ "mode": mode });
        let (status, body) = server.put(&cred_path(id), OWNER_KEY, body).await;
        assert_error(status, &body, 422, Some("mode"), "not supported yet");
    }
    let doc = document(&server).await;
    for request in ["Create", "Update"] {
        for (mode, variant) in [("TEXT", "Text"), ("JWT", "Jwt")] {
            let name = format!("{request}{variant}CredentialRequest");
            let documented = &schema(&doc, &name)["properties"]["mode"]["enum"];
            assert_eq!(documented, &json!([mode]), "{name}");
        }
    }
}

/// Found by Schemathesis: a page number beyond 64 bits was a 422 "page must be an integer",
/// while the document set no maximum. Every page past the last is empty, however large.
#[tokio::test]
async fn a_page_number_beyond_64_bits_is_an_empty_page_as_documented() {
    let server = Server::in_process().await;
    server.team("Ops").await;
    let path = "/api/v1/teams?page=16571084008682499866624";
    let (status, body) = server.get(path, OWNER_KEY).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["teams"], json!([]));
    assert_eq!(body["meta"]["count"], 1);
    assert_eq!(body["meta"]["next_page"], Value::Null);
    let doc = document(&server).await;
    let page = &doc["components"]["parameters"]["Page"]["schema"];
    assert_eq!(page["minimum"], 1);
    assert_eq!(page.get("maximum"), None, "{page}");
}

/// Each create (method, path, status) and the operations its links must lead to.
#[rustfmt::skip]
const WANTED_LINKS: &[(&str, &str, &str, &[&str])] = &[
    ("/api/v1/admin/users", "post", "201", &["createApiKey", "deactivateUser"]),
    ("/api/v1/admin/users/{id}/api_keys", "post", "201", &["revokeApiKey"]),
    ("/api/v1/teams", "post", "201", &["getTeam", "inviteMember", "removeMember", "createFolder", "listFolders", "createCredential", "listCredentials"]),
    ("/api/v1/folders", "post", "201", &["createCredential", "listCredentials"]),
    ("/api/v1/user_credentials", "post", "201", &["getCredential", "updateCredential", "deleteCredential", "rotateCredentialKey", "listCredentialNotifications", "mintToken", "getCredentialJwks", "getIssuerJwks", "getIssuerDiscovery"]),
    ("/api/v1/user_credentials/{id}", "put", "200", &["getCredential", "deleteCredential", "mintToken"]),
    ("/api/v1/user_credentials/{id}/rotate", "post", "200", &["getCredentialJwks", "mintToken"]),
];

/// Each create links to the operations on what it created, naming parameters those operations
/// have, so that Schemathesis' stateful phase can walk create → get → update → token → rotate
/// → delete with real ids.
#[tokio::test]
async fn every_create_links_to_the_operations_on_what_it_created() {
    let server = Server::in_process().await;
    let doc = document(&server).await;
    let operations = operations_by_id(&doc);
    for (path, method, status, targets) in WANTED_LINKS {
        let links = doc["paths"][path][method]["responses"][status]["links"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} {status} has no links"));
        for target in *targets {
            let link = links
                .values()
                .find(|l| l["operationId"] == *target)
                .unwrap_or_else(|| panic!("{method} {path}: no link to {target}"));
            let (target_path, params) = &operations[*target];
            for name in link["parameters"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                assert!(
                    params.contains(name),
                    "{target} ({target_path}) has no parameter {name}"
                );
            }
        }
    }
}

/// operationId → (path, names of its path and query parameters).
fn operations_by_id(doc: &Value) -> std::collections::HashMap<String, (String, Vec<String>)> {
    let mut found = std::collections::HashMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let own = op["parameters"].as_array().cloned().unwrap_or_default();
            let names = shared
                .iter()
                .chain(&own)
                .map(|p| resolve(doc, p)["name"].as_str().unwrap().to_string())
                .collect();
            let id = op["operationId"].as_str().unwrap().to_string();
            found.insert(id, (path.clone(), names));
        }
    }
    found
}

fn resolve<'d>(doc: &'d Value, param: &'d Value) -> &'d Value {
    match param["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            &doc["components"]["parameters"][name]
        }
        None => param,
    }
}

#[tokio::test]
async fn fields_of_the_other_mode_are_refused_and_null_ones_are_not_given() {
    let server = Server::in_process().await;
    let team = server.team("Ops").await;
    let mut text = text_body(team, "pager", "s3cret");
    text["jwt_payload"] = json!({ "sub": "x" });
    let (status, body) = server.post(CREDENTIALS_LIST, OWNER_KEY, text).await;
    assert_error(status, &body, 422, Some("jwt_payload"), "TEXT credentials");
    let mut jwt = jwt_body(team, "signer");
    jwt["value"] = json!("s3cret");
    let (status, body) = server.post(CREDENTIALS_LIST, OWNER_KEY, jwt).await;
    assert_error(status, &body, 422, Some("value"), "JWT credentials");
    let mut text = text_body(team, "pager", "s3cret");
    text["jwt_rotation_period_seconds"] = Value::Null;
    let id = create_ok(&server, text).await;
    let body = json!({ "mode": "TEXT", "jwt_lifetime_seconds": 60 });
    let (status, body) = server.put(&cred_path(id), OWNER_KEY, body).await;
    assert_error(
        status,
        &body,
        422,
        Some("jwt_lifetime_seconds"),
        "TEXT credentials",
    );
}

#[tokio::test]
async fn audit_filters_refuse_empty_times_and_ids_below_1() {
    let server = Server::in_process().await;
    for (query, field) in [
        ("before=", "before"),
        ("after=", "after"),
        ("user_id[]=0", "user_id"),
        ("user_id=", "user_id"),
        ("operation_name[]=", "operation_name"),
    ] {
        let (status, body) = server
            .get(&format!("/api/v1/audit_logs?{query}"), OWNER_KEY)
            .await;
        assert_error(status, &body, 422, Some(field), field);
    }
}

/// Found by Schemathesis on PostgreSQL: a NUL character reached the database, which refuses it,
/// and the answer was 503 as for an outage (from the public issuer endpoint, without a key).
#[tokio::test]
async fn a_nul_in_a_query_or_an_issuer_id_is_a_client_error_on_every_backend() {
    let server = Server::in_process().await;
    let path = "/api/v1/audit_logs?operation_name[]=Team%00Creation";
    let (status, body) = server.get(path, OWNER_KEY).await;
    assert_error(status, &body, 422, Some("operation_name"), "NUL");
    let (status, body) = server
        .get(&format!("{CREDENTIALS_LIST}?filter=A%00"), OWNER_KEY)
        .await;
    assert_error(status, &body, 422, Some("filter"), "NUL");
    for path in [
        "/issuers/ab%00cd/jwks.json",
        "/issuers/ab%00cd/.well-known/openid-configuration",
    ] {
        let (status, body) = server.call(reqwest::Method::GET, path, None, None).await;
        assert_refused(status, &body, 404);
    }
    // A parameter no list reads is ignored, NUL or not.
    let (status, body) = server.get("/api/v1/teams?note=a%00b", OWNER_KEY).await;
    assert_eq!(status, 200, "{body}");
}
