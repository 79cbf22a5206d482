//! What each change records (API.md §8): the operation, who made it and from where, and
//! `inputs` in Tines' shape (the request under `inputs.inputs` in camelCase, secrets
//! `"REDACTED"`) with credvault's own keys beside it (the ids of what changed, the fields).
//! A change that is refused records nothing.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use super::*;

const TEAMS: &str = "/api/v1/teams";
const USERS: &str = "/api/v1/admin/users";

fn api_keys_path(user_id: i64) -> String {
    format!("{USERS}/{user_id}/api_keys")
}

/// A user with a first and last name and an API key made by the owner; (id, key).
async fn ada(server: &Server) -> (i64, String) {
    let body = json!({ "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace" });
    let (status, user) = server.post(USERS, OWNER_KEY, body).await;
    assert_eq!(status, 201, "{user}");
    let id = id_of(&user);
    let (status, key) = server
        .post(&api_keys_path(id), OWNER_KEY, json!({ "name": "first" }))
        .await;
    assert_eq!(status, 201, "{key}");
    (id, key["key"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn the_bootstrap_owner_and_its_key_are_the_first_two_entries_by_the_system() {
    let server = Server::start();
    let log = chain(&server).await;
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(
        (log[0]["id"].clone(), log[1]["id"].clone()),
        (json!(1), json!(2))
    );
    assert_by_the_system(&log[0], "UserCreation");
    assert_eq!(
        log[0]["inputs"],
        json!({
            "inputs": { "email": OWNER_EMAIL, "firstName": "Owner", "lastName": "", "admin": true },
            "reason": "bootstrap",
            "user_id": OWNER_ID,
        })
    );
    assert_by_the_system(&log[1], "AuthenticationTokenCreation");
    assert_eq!(
        log[1]["inputs"],
        json!({
            "inputs": { "name": "bootstrap", "userId": OWNER_ID },
            "user_id": OWNER_ID,
            "reason": "bootstrap",
            "api_key_id": 1,
        })
    );
}

#[tokio::test]
async fn an_entry_has_the_tines_fields_and_the_hashes() {
    let server = Server::start();
    server.team("Ops").await;
    let entry = last_entry(&server).await;
    let mut keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "hash",
            "id",
            "inputs",
            "operation_name",
            "outputs",
            "previous_hash",
            "request_ip",
            "request_user_agent",
            "story_id",
            "tenant_id",
            "updated_at",
            "user_email",
            "user_id",
            "user_name",
        ]
    );
    assert_eq!(
        (entry["id"].clone(), entry["tenant_id"].clone()),
        (json!(3), json!(1))
    );
    assert_eq!(entry["story_id"], Value::Null);
    assert!(is_timestamp(&entry["created_at"]), "{entry}");
    assert_eq!(entry["updated_at"], entry["created_at"]);
    for hash in [&entry["hash"], &entry["previous_hash"]] {
        let hex = hash.as_str().unwrap();
        assert!(
            hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{hash}"
        );
    }
}

#[tokio::test]
async fn an_entry_names_the_user_the_client_address_and_the_user_agent() {
    let server = Server::start();
    let (ada_id, ada_key) = ada(&server).await;
    let path = api_keys_path(ada_id);
    act_ok(
        &server,
        Method::POST,
        &path,
        &ada_key,
        Some(json!({ "name": "own" })),
        201,
    )
    .await;
    let entry = last_entry(&server).await;
    let ada = (ada_id, "ada@example.com", "Ada Lovelace");
    assert_made_by(&entry, "AuthenticationTokenCreation", ada);
}

#[tokio::test]
async fn a_team_creation_records_the_team() {
    let server = Server::start();
    let body = json!({ "name": "Platform Ops" });
    let team = act_ok(&server, Method::POST, TEAMS, OWNER_KEY, Some(body), 201).await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "TeamCreation", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({ "inputs": { "name": "Platform Ops" }, "team_id": id_of(&team) })
    );
    assert_eq!(entry["outputs"], json!({}));
}

#[tokio::test]
async fn a_user_creation_records_the_user() {
    let server = Server::start();
    let body = json!({
        "email": "Ada@Example.com", "first_name": "Ada", "last_name": "Lovelace", "admin": true,
    });
    let user = act_ok(&server, Method::POST, USERS, OWNER_KEY, Some(body), 201).await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "UserCreation", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": {
                "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace",
                "admin": true,
            },
            "user_id": id_of(&user),
        })
    );
}

#[tokio::test]
async fn an_api_key_creation_records_the_key_id_and_its_user() {
    let server = Server::start();
    let (user_id, _) = server.user("ci@example.com", None).await;
    let path = api_keys_path(user_id);
    let body = json!({ "name": "deploys" });
    let key = act_ok(&server, Method::POST, &path, OWNER_KEY, Some(body), 201).await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "AuthenticationTokenCreation", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": { "name": "deploys", "userId": user_id },
            "user_id": user_id,
            "api_key_id": id_of(&key),
        })
    );
}

#[tokio::test]
async fn an_api_key_revocation_records_the_key_id_and_its_user() {
    let server = Server::start();
    let (user_id, _) = server.user("ci@example.com", None).await;
    let (_, key) = server
        .post(
            &api_keys_path(user_id),
            OWNER_KEY,
            json!({ "name": "deploys" }),
        )
        .await;
    let key_id = id_of(&key);
    let path = format!("{}/{key_id}", api_keys_path(user_id));
    act_ok(&server, Method::DELETE, &path, OWNER_KEY, None, 204).await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "AuthenticationTokenDeletion", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": { "id": key_id, "userId": user_id },
            "api_key_id": key_id,
            "user_id": user_id,
        })
    );
}

#[tokio::test]
async fn an_invitation_records_the_team_the_user_and_the_role() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let (user_id, _) = server.user("ed@example.com", None).await;
    let path = format!("{TEAMS}/{team}/invite_member");
    let body = json!({ "user_id": user_id, "role": "EDITOR" });
    act_ok(&server, Method::POST, &path, OWNER_KEY, Some(body), 200).await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "TeamMemberInvitation", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": { "teamId": team, "userId": user_id, "role": "EDITOR" },
            "team_id": team,
            "user_id": user_id,
            "role": "EDITOR",
        })
    );
}

#[tokio::test]
async fn a_member_removal_records_the_team_and_the_user() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let (user_id, _) = server.user("ed@example.com", Some((team, "EDITOR"))).await;
    let path = format!("{TEAMS}/{team}/remove_member");
    let body = json!({ "user_id": user_id });
    act_ok(&server, Method::POST, &path, OWNER_KEY, Some(body), 200).await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "TeamMemberRemoval", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": { "teamId": team, "userId": user_id },
            "team_id": team,
            "user_id": user_id,
        })
    );
}

#[tokio::test]
async fn a_user_deactivation_records_the_user() {
    let server = Server::start();
    let (user_id, _) = server.user("leaver@example.com", None).await;
    let path = format!("{USERS}/{user_id}");
    act_ok(&server, Method::DELETE, &path, OWNER_KEY, None, 204).await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "UserDeactivation", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({ "inputs": { "userId": user_id }, "user_id": user_id })
    );
}

#[tokio::test]
async fn a_folder_creation_records_the_folder_its_parent_and_its_team() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let parent = server.folder(OWNER_KEY, team, "Prod").await;
    let body = json!({
        "name": "Databases", "content_type": "CREDENTIAL", "team_id": team,
        "parent_folder_id": parent,
    });
    let folder = act_ok(
        &server,
        Method::POST,
        "/api/v1/folders",
        OWNER_KEY,
        Some(body),
        201,
    )
    .await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "FolderCreation", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": {
                "name": "Databases", "contentType": "CREDENTIAL", "teamId": team,
                "parentFolderId": parent,
            },
            "team_id": team,
            "folder_id": id_of(&folder),
        })
    );
}

#[tokio::test]
async fn a_jwt_credential_creation_records_its_fields_with_key_and_passphrase_redacted() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let body = json!({
        "name": "Signing",
        "mode": "JWT",
        "team_id": team,
        "description": "for the partner API",
        "jwt_algorithm": "ES256",
        "jwt_payload": { "iss": "credvault-tests" },
        "jwt_private_key": fixture_key("ec-p256-encrypted.pem"),
        "jwt_private_key_passphrase": "correct horse",
        "not_a_field": "ignored",
    });
    let created = act_ok(
        &server,
        Method::POST,
        CREDENTIALS,
        OWNER_KEY,
        Some(body),
        201,
    )
    .await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "CredentialSave", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": {
                "name": "Signing",
                "mode": "JWT",
                "teamId": team,
                "description": "for the partner API",
                "jwtAlgorithm": "ES256",
                "jwtPayload": { "iss": "credvault-tests" },
                "jwtPrivateKey": "REDACTED",
                "jwtPrivateKeyPassphrase": "REDACTED",
            },
            "team_id": team,
            "fields": [
                "name", "mode", "team_id", "description", "jwt_algorithm", "jwt_payload",
                "jwt_private_key", "jwt_private_key_passphrase",
            ],
            "credential_id": id_of(&created),
        })
    );
    assert_eq!(entry["outputs"], json!({}));
}

#[tokio::test]
async fn a_text_credential_creation_records_its_fields_with_the_value_redacted() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let body = text_body(team, "Webhook secret", "whsec_0123456789");
    let created = act_ok(
        &server,
        Method::POST,
        CREDENTIALS,
        OWNER_KEY,
        Some(body),
        201,
    )
    .await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "CredentialSave", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": {
                "name": "Webhook secret", "mode": "TEXT", "teamId": team, "value": "REDACTED",
            },
            "team_id": team,
            "fields": ["name", "mode", "team_id", "value"],
            "credential_id": id_of(&created),
        })
    );
}

#[tokio::test]
async fn attaching_a_test_credential_records_the_live_and_the_test_credential() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let live = create_ok(&server, jwt_body(team, "Live")).await;
    let body = json!({
        "mode": "JWT",
        "live_credential_id": live,
        "jwt_algorithm": "ES256",
        "jwt_payload": { "iss": "sandbox" },
        "jwt_private_key": fixture_key("ec-p256-sec1-noparams.pem"),
    });
    act_ok(
        &server,
        Method::POST,
        CREDENTIALS,
        OWNER_KEY,
        Some(body),
        201,
    )
    .await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "CredentialSave", OWNER);
    // The test credential has no id in the API; the entry names its row.
    let test_id = entry["inputs"]["test_credential_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no test_credential_id: {entry}"));
    assert_ne!(test_id, live, "{entry}");
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": {
                "mode": "JWT",
                "liveCredentialId": live,
                "jwtAlgorithm": "ES256",
                "jwtPayload": { "iss": "sandbox" },
                "jwtPrivateKey": "REDACTED",
            },
            "credential_id": live,
            "is_test": true,
            "fields": ["mode", "live_credential_id", "jwt_algorithm", "jwt_payload", "jwt_private_key"],
            "test_credential_id": test_id,
        })
    );
}

#[tokio::test]
async fn an_update_lists_exactly_the_fields_it_changed() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let id = create_ok(&server, jwt_body(team, "Signing")).await;
    // The algorithm and the (empty) description are sent unchanged.
    let body = json!({
        "mode": "JWT",
        "name": "Signing v2",
        "description": "",
        "jwt_algorithm": "ES256",
        "jwt_payload": { "iss": "elsewhere" },
    });
    act_ok(
        &server,
        Method::PUT,
        &cred_path(id),
        OWNER_KEY,
        Some(body),
        200,
    )
    .await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "CredentialSave", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": {
                "name": "Signing v2",
                "mode": "JWT",
                "description": "",
                "jwtAlgorithm": "ES256",
                "jwtPayload": { "iss": "elsewhere" },
                "credentialId": id,
            },
            "credential_id": id,
            "fields": ["name", "jwt_payload"],
        })
    );
}

#[tokio::test]
async fn moving_a_credential_to_a_folder_is_a_credential_movement() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let folder = server.folder(OWNER_KEY, team, "Prod").await;
    let id = create_ok(&server, text_body(team, "Moved", "s")).await;
    let body = json!({ "mode": "TEXT", "folder_id": folder });
    act_ok(
        &server,
        Method::PUT,
        &cred_path(id),
        OWNER_KEY,
        Some(body),
        200,
    )
    .await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "CredentialMovement", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": { "mode": "TEXT", "folderId": folder, "credentialId": id },
            "credential_id": id,
            "fields": ["folder_id"],
        })
    );
}

#[tokio::test]
async fn a_key_rotation_by_call_records_the_new_key_id() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let id = create_ok(&server, jwt_body(team, "Signing")).await;
    let path = format!("{}/rotate", cred_path(id));
    let rotated = act_ok(&server, Method::POST, &path, OWNER_KEY, None, 200).await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "CredentialKeyRotation", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({
            "inputs": { "credentialId": id, "isTest": false },
            "credential_id": id,
            "reason": "request",
        })
    );
    assert!(rotated["jwt_key_id"].is_string(), "{rotated}");
    assert_eq!(entry["outputs"], json!({ "key_id": rotated["jwt_key_id"] }));
}

#[tokio::test]
async fn a_scheduled_rotation_is_recorded_for_the_user_null() {
    let tmp = tempfile::TempDir::new().unwrap();
    let env = [("CREDVAULT_ROTATION_CHECK_SECONDS", "1")];
    let server = Server::start_in(tmp.path(), &env).unwrap();
    let team = server.team("Ops").await;
    let mut body = jwt_body(team, "Rotating");
    body["jwt_rotation_period_seconds"] = json!(60);
    let id = create_ok(&server, body).await;
    // Due now, rather than in a minute.
    server.run_sql(&format!(
        "UPDATE credentials SET rotate_at = 1 WHERE id = {id}"
    ));
    let deadline = Instant::now() + Duration::from_secs(15);
    let entry = loop {
        if let Some(entry) = entries_of(&server, "CredentialKeyRotation").await.pop() {
            break entry;
        }
        assert!(Instant::now() < deadline, "no rotation within 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_by_the_system(&entry, "CredentialKeyRotation");
    assert_eq!(
        entry["inputs"],
        json!({ "inputs": { "credentialId": id }, "credential_id": id, "reason": "schedule" })
    );
    let (_, read) = server.get(&cred_path(id), OWNER_KEY).await;
    assert_eq!(entry["outputs"], json!({ "key_id": read["jwt_key_id"] }));
}

#[tokio::test]
async fn a_credential_deletion_records_the_tines_destruction_shape() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let id = create_ok(&server, text_body(team, "Doomed", "s")).await;
    act_ok(
        &server,
        Method::DELETE,
        &cred_path(id),
        OWNER_KEY,
        None,
        204,
    )
    .await;
    let entry = last_entry(&server).await;
    assert_made_by(&entry, "CredentialDestruction", OWNER);
    assert_eq!(
        entry["inputs"],
        json!({ "inputs": { "credentialId": id }, "credential_id": id })
    );
}

#[tokio::test]
async fn rekey_records_a_master_key_rotation_by_the_system() {
    let server = Server::start();
    let new_key = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
    let out = credvault_on(
        &server,
        &["rekey"],
        &[("CREDVAULT_NEW_MASTER_KEY", new_key)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entry = last_entry(&server).await;
    assert_by_the_system(&entry, "MasterKeyRotation");
    assert_eq!(
        entry["inputs"]["inputs"],
        json!({ "command": "rekey" }),
        "{entry}"
    );
    let log = serde_json::to_string(&entry).unwrap();
    assert!(!log.contains(new_key), "{log}");
}

/// The number of entries, after a refused change.
async fn count(server: &Server) -> i64 {
    list(server, "per_page=1").await["meta"]["count"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_change_refused_for_a_conflict_records_nothing() {
    let server = Server::start();
    let team = server.team("Ops").await;
    create_ok(&server, text_body(team, "Taken", "s")).await;
    server.user("taken@example.com", None).await;
    let before = count(&server).await;
    let (status, body) = server
        .create_credential(OWNER_KEY, text_body(team, "taken", "s"))
        .await;
    assert_error(status, &body, 409, Some("name"), "already exists");
    let (status, body) = server
        .post(USERS, OWNER_KEY, json!({ "email": "taken@example.com" }))
        .await;
    assert_error(status, &body, 409, Some("email"), "already exists");
    let (status, body) = server
        .post(TEAMS, OWNER_KEY, json!({ "name": "ops" }))
        .await;
    assert_error(status, &body, 409, Some("name"), "already exists");
    assert_eq!(count(&server).await, before);
}

#[tokio::test]
async fn a_change_refused_as_invalid_records_nothing() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let id = create_ok(&server, text_body(team, "Kept", "s")).await;
    let before = count(&server).await;
    let no_name = json!({ "mode": "TEXT", "team_id": team, "value": "s" });
    let (status, body) = server.create_credential(OWNER_KEY, no_name).await;
    assert_error(status, &body, 422, Some("name"), "name");
    let (status, body) = server
        .call(
            Method::PUT,
            &cred_path(id),
            Some(OWNER_KEY),
            Some(json!({ "mode": "TEXT", "expires_at": "tomorrow" })),
        )
        .await;
    assert_error(status, &body, 422, Some("expires_at"), "expires_at");
    let folder = json!({ "name": "F", "content_type": "STORY", "team_id": team });
    let (status, body) = server.post("/api/v1/folders", OWNER_KEY, folder).await;
    assert_error(status, &body, 422, Some("content_type"), "CREDENTIAL");
    assert_eq!(count(&server).await, before);
}

#[tokio::test]
async fn a_change_refused_as_forbidden_records_nothing() {
    let server = Server::start();
    let w = World::new(&server, "Ops", &[Role::Editor, Role::Viewer]).await;
    let id = create_ok(&server, text_body(w.team_id, "Kept", "s")).await;
    let before = count(&server).await;
    let (status, body) = server
        .create_credential(w.viewer_key(), text_body(w.team_id, "New", "s"))
        .await;
    assert_refused(status, &body, 403);
    // Only TEAM_ADMINs delete.
    let (status, body) = server.delete(&cred_path(id), w.editor_key()).await;
    assert_refused(status, &body, 403);
    let (status, body) = server
        .post(TEAMS, w.editor_key(), json!({ "name": "Mine" }))
        .await;
    assert_refused(status, &body, 403);
    assert_eq!(count(&server).await, before);
}

#[tokio::test]
async fn a_change_of_something_that_does_not_exist_records_nothing() {
    let server = Server::start();
    let team = server.team("Ops").await;
    let (user_id, _) = server.user("ed@example.com", None).await;
    let before = count(&server).await;
    let (status, body) = server.delete(&cred_path(9999), OWNER_KEY).await;
    assert_refused(status, &body, 404);
    let (status, body) = server.delete(&format!("{USERS}/9999"), OWNER_KEY).await;
    assert_refused(status, &body, 404);
    let path = format!("{}/9999", api_keys_path(user_id));
    let (status, body) = server.delete(&path, OWNER_KEY).await;
    assert_refused(status, &body, 404);
    let path = format!("{TEAMS}/{team}/remove_member");
    let (status, body) = server
        .post(&path, OWNER_KEY, json!({ "user_id": user_id }))
        .await;
    assert_error(status, &body, 422, Some("user_id"), "not a member");
    assert_eq!(count(&server).await, before);
}

#[tokio::test]
async fn deactivating_the_last_tenant_admin_is_refused_and_records_nothing() {
    let server = Server::start();
    let before = count(&server).await;
    let (status, body) = server
        .delete(&format!("{USERS}/{OWNER_ID}"), OWNER_KEY)
        .await;
    assert_error(status, &body, 422, Some("id"), "last active tenant admin");
    assert_eq!(count(&server).await, before);
}

#[tokio::test]
async fn racing_creates_of_one_name_record_only_the_one_made() {
    let server = std::sync::Arc::new(Server::start());
    let team = server.team("Race").await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move {
                let body = text_body(team, "Same Name", "s");
                server.create_credential(OWNER_KEY, body).await
            })
        })
        .collect();
    let mut made = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => made.push(id_of(&body)),
            409 => {}
            other => panic!("{other}: {body}"),
        }
    }
    let creations: Vec<i64> = entries_of(&server, "CredentialSave")
        .await
        .iter()
        .map(|e| e["inputs"]["credential_id"].as_i64().unwrap())
        .collect();
    assert_eq!(made.len(), 1);
    assert_eq!(creations, made);
}

#[tokio::test]
async fn the_largest_documents_an_editor_may_send_are_recorded_by_size_and_digest() {
    let server = Server::start();
    let w = World::new(&server, "Ops", &[Role::Editor]).await;
    let id = create_ok(&server, jwt_body(w.team_id, "Big")).await;
    // 64 KiB each, the most the API accepts (API.md §12).
    let document = sized(64 * 1024);
    let body = json!({"mode": "JWT", "metadata": document, "jwt_payload": document});
    act_ok(
        &server,
        Method::PUT,
        &cred_path(id),
        w.editor_key(),
        Some(body),
        200,
    )
    .await;
    let entry = last_entry(&server).await;
    let text = document.to_string();
    let digest = credvault_core::audit::sha256_hex(&[text.as_bytes()]);
    let omitted = json!({"omitted": "larger than 4096 bytes", "bytes": 65536, "sha256": digest});
    assert_eq!(entry["inputs"]["inputs"]["metadata"], omitted);
    assert_eq!(entry["inputs"]["inputs"]["jwtPayload"], omitted);
    assert_eq!(
        entry["inputs"]["fields"],
        json!(["metadata", "jwt_payload"])
    );
    assert!(
        entry.to_string().len() < 4096,
        "{} bytes",
        entry.to_string().len()
    );
    let (status, stored) = server.get(&cred_path(id), w.editor_key()).await;
    assert_eq!(
        (status, &stored["metadata"]),
        (200, &document),
        "the credential holds it all"
    );
}
