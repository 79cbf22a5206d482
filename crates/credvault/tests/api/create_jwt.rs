//! The seed: Tines' sample JWT create request, and the response fields it promises.

use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn seed_sample_request_returns_every_tines_field() {
    let server = Server::start();
    let team_id = server.team("Security Ops").await;
    let (status, body) = server
        .create_credential(
            OWNER_KEY,
            json!({
                "name": "jwt credential",
                "mode": "JWT",
                "team_id": team_id,
                "jwt_algorithm": "RS256",
                "jwt_payload": { "iss": "", "sub": "", "scope": "", "aud": "" },
                "jwt_auto_generate_time_claims": true,
                "jwt_private_key": fixture_key("rsa2048-pkcs8.pem"),
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let obj = body.as_object().unwrap();
    assert!(obj["id"].as_i64().unwrap() >= 1);
    assert_eq!(obj["name"], "jwt credential");
    assert_eq!(obj["mode"], "JWT");
    assert_eq!(obj["team_id"], team_id);
    assert_eq!(obj["folder_id"], Value::Null);
    assert_eq!(obj["read_access"], "TEAM");
    assert_eq!(obj["shared_team_slugs"], json!([]));
    assert_eq!(obj["description"], "");
    assert_eq!(obj["slug"], "jwt_credential");
    assert!(is_timestamp(&obj["created_at"]), "{}", obj["created_at"]);
    assert!(is_timestamp(&obj["updated_at"]));
    assert_eq!(obj["created_at"], obj["updated_at"]);
    assert_eq!(obj["allowed_hosts"], json!([]));
    assert_eq!(obj["metadata"], json!({}));
    assert_eq!(obj["restriction_type"], "UNRESTRICTED");
    assert_eq!(obj["test_credential_enabled"], false);
    assert_eq!(obj["test_credential"], Value::Null);
    assert_eq!(
        obj["owner"],
        json!({ "user_id": 1, "first_name": "Owner", "last_name": "", "email": "owner@localhost" })
    );
    assert_eq!(obj["expires_at"], Value::Null);
    assert_eq!(obj["expiry_notifications_enabled"], false);
    assert_eq!(obj["credential_notification_recipient_user_ids"], json!([]));
    assert_eq!(obj["last_used_at"], Value::Null);
    assert_eq!(obj["jwt_algorithm"], "RS256");
    assert_eq!(
        obj["jwt_payload"],
        json!({ "iss": "", "sub": "", "scope": "", "aud": "" })
    );
    assert_eq!(obj["jwt_auto_generate_time_claims"], true);
    assert_eq!(obj["jwt_headers"], json!({}));
    assert_eq!(obj["jwt_lifetime_seconds"], 3600);
    assert!(!obj.contains_key("jwt_private_key"));
    // The public issuer (API.md §6).
    let issuer = obj["issuer_url"].as_str().unwrap();
    assert!(
        issuer.starts_with(&format!("{}/issuers/", server.base)),
        "{issuer}"
    );
    assert_eq!(obj["jwks_url"], format!("{issuer}/jwks.json"));
    assert_eq!(
        obj["issuer_id"].as_str(),
        issuer.rsplit('/').next(),
        "{issuer}"
    );
    assert!(obj["jwt_key_id"].is_string(), "{body}");
    assert_eq!(obj["jwt_key_rotated_at"], Value::Null);
    assert_eq!(obj["jwt_rotation_period_seconds"], Value::Null);
    assert_eq!(obj.len(), 32, "unexpected fields: {body}");

    // The same credential reads back identically.
    let id = obj["id"].as_i64().unwrap();
    let (status, read) = server
        .get(&format!("/api/v1/user_credentials/{id}"), OWNER_KEY)
        .await;
    assert_eq!(status, 200);
    assert_eq!(read, body);
}

#[tokio::test]
async fn every_optional_field_is_stored_and_returned() {
    let server = Server::start();
    let w = World::new(&server, "Platform", &[Role::Editor]).await;
    let (team_id, editor_id) = (w.team_id, w.editor_id());
    let other = server.team("Partners").await;
    server.invite(other, 1, "EDITOR").await;
    let folder =
        json!({ "name": "Signing keys", "content_type": "CREDENTIAL", "team_id": team_id });
    let (status, folder) = server.post("/api/v1/folders", OWNER_KEY, folder).await;
    assert_eq!(status, 201, "{folder}");
    assert_eq!(folder["size"], 0);
    let folder_id = id_of(&folder);

    let (status, body) = server
        .create_credential(
            OWNER_KEY,
            json!({
                "name": "  Partner API: signing key  ",
                "mode": "JWT",
                "team_id": team_id,
                "folder_id": folder_id,
                "read_access": "SPECIFIC_TEAMS",
                "shared_team_slugs": ["partners"],
                "description": "signs partner requests",
                "metadata": { "owner": "platform", "rotation": 90 },
                "allowed_hosts": ["api.partner.example", "*.example.com", "https://x.example.org/v1/*"],
                "expires_at": "2031-01-02T03:04:05.678+01:00",
                "expiry_notifications_enabled": true,
                "credential_notification_recipient_user_ids": [editor_id],
                "jwt_algorithm": "eddsa",
                "jwt_payload": "{\"iss\":\"credvault\",\"aud\":[\"a\",\"b\"]}",
                "jwt_headers": { "kid": "partner-2031" },
                "jwt_lifetime_seconds": 600,
                "jwt_private_key": fixture_key("ed25519-pkcs8.pem"),
                "some_future_tines_field": "ignored",
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], "Partner API: signing key");
    assert_eq!(body["slug"], "partner_api_signing_key");
    assert_eq!(body["folder_id"], folder_id);
    assert_eq!(body["read_access"], "SPECIFIC_TEAMS");
    assert_eq!(body["shared_team_slugs"], json!(["partners"]));
    assert_eq!(body["description"], "signs partner requests");
    assert_eq!(
        body["metadata"],
        json!({ "owner": "platform", "rotation": 90 })
    );
    let hosts = [
        "api.partner.example",
        "*.example.com",
        "https://x.example.org/v1/*",
    ];
    assert_eq!(body["allowed_hosts"], json!(hosts));
    assert_eq!(body["restriction_type"], "RESTRICTED");
    assert_eq!(body["expires_at"], "2031-01-02T02:04:05.678Z");
    assert_eq!(body["expiry_notifications_enabled"], true);
    assert_eq!(
        body["credential_notification_recipient_user_ids"],
        json!([editor_id])
    );
    assert_eq!(body["jwt_algorithm"], "EdDSA");
    assert_eq!(
        body["jwt_payload"],
        json!({ "iss": "credvault", "aud": ["a", "b"] })
    );
    assert_eq!(body["jwt_auto_generate_time_claims"], false);
    assert_eq!(body["jwt_headers"], json!({ "kid": "partner-2031" }));
    assert_eq!(body["jwt_lifetime_seconds"], 600);
    assert!(body.get("some_future_tines_field").is_none());

    let (_, folder) = server
        .get(&format!("/api/v1/folders?team_id={team_id}"), OWNER_KEY)
        .await;
    assert_eq!(folder["folders"][0]["size"], 1);
}

#[tokio::test]
async fn text_credentials_hold_a_value_and_never_return_it() {
    let server = Server::start();
    let team_id = server.team("Ops").await;
    let (status, body) = server
        .create_credential(
            OWNER_KEY,
            json!({ "name": "slack token", "mode": "TEXT", "team_id": team_id, "value": "xoxb-123" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["mode"], "TEXT");
    assert_eq!(body["slug"], "slack_token");
    assert!(body.get("value").is_none());
    assert!(body.get("jwt_algorithm").is_none());
    assert!(!body.to_string().contains("xoxb-123"));
}
