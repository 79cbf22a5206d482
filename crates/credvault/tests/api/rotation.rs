//! `POST /user_credentials/{id}/rotate` (API.md §6): a new key of the same algorithm and
//! strength, generated inside; tokens of the old key keep verifying through the JWKS.

use serde_json::{json, Value};

use crate::support::*;

fn rotate_path(id: i64) -> String {
    format!("{}/rotate", cred_path(id))
}

async fn rotate(server: &Server, key: &str, id: i64, body: Option<Value>) -> (u16, Value) {
    server
        .call(reqwest::Method::POST, &rotate_path(id), Some(key), body)
        .await
}

#[tokio::test]
async fn a_rotation_signs_with_a_new_key_and_keeps_the_old_one_published() {
    let server = Server::start();
    let team = server.team("rotation").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let id = create_ok(
        &server,
        jwt_credential(team, "rotating", "ES256", &key, 600),
    )
    .await;
    let (_, before) = server.get(&cred_path(id), OWNER_KEY).await;
    let old_token = token_of(&mint_ok(&server, id, None).await);
    let (status, rotated) = rotate(&server, OWNER_KEY, id, None).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["jwt_key_id"], before["jwt_key_id"]);
    assert!(is_timestamp(&rotated["jwt_key_rotated_at"]), "{rotated}");
    assert_eq!(rotated["jwt_algorithm"], "ES256");
    let new_token = token_of(&mint_ok(&server, id, None).await);
    assert_eq!(split_jws(&new_token).header["kid"], rotated["jwt_key_id"]);
    let (_, set) = server.get(&jwks_path(id), OWNER_KEY).await;
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{set}");
    assert!(verifies_with_jwk(&new_token, &keys[0], "ES256"));
    assert!(verifies_with_jwk(&old_token, &keys[1], "ES256"));
}

#[tokio::test]
async fn an_rsa_key_keeps_its_modulus_size() {
    let server = Server::start();
    let team = server.team("rotation").await;
    let mut body = jwt_credential(team, "rsa", "PS256", "", 600);
    body.as_object_mut().unwrap().remove("jwt_private_key");
    body["jwt_generate_key"] = json!(true);
    body["jwt_key_size"] = json!(3072);
    let id = create_ok(&server, body).await;
    let (status, rotated) = rotate(&server, OWNER_KEY, id, Some(json!({}))).await;
    assert_eq!(status, 200, "{rotated}");
    let jwk = jwk_of(&server, id).await;
    assert_eq!(jwk["kid"], rotated["jwt_key_id"]);
    assert_eq!(unb64url(jwk["n"].as_str().unwrap()).len(), 384, "{jwk}");
}

/// A token of the test credential of `id`.
async fn test_token(server: &Server, id: i64) -> String {
    token_of(&mint_ok(server, id, Some(json!({ "test": true }))).await)
}

#[tokio::test]
async fn a_test_credential_rotates_alone() {
    let server = Server::start();
    let team = server.team("rotation").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let id = create_ok(&server, jwt_credential(team, "live", "ES256", &key, 600)).await;
    let attach = json!({
        "live_credential_id": id, "mode": "JWT", "jwt_algorithm": "ES256",
        "jwt_private_key": key, "jwt_payload": { "iss": "test" },
    });
    let (status, attached) = server.create_credential(OWNER_KEY, attach).await;
    assert_eq!(status, 201, "{attached}");
    put_ok(
        &server,
        id,
        json!({ "mode": "JWT", "test_credential_enabled": true }),
    )
    .await;
    let before = split_jws(&test_token(&server, id).await).header["kid"].clone();
    let (status, rotated) = rotate(&server, OWNER_KEY, id, Some(json!({ "is_test": true }))).await;
    assert_eq!(status, 200, "{rotated}");
    let after = split_jws(&test_token(&server, id).await).header["kid"].clone();
    assert_ne!(before, after, "the test key did not change");
    assert_eq!(
        rotated["jwt_key_rotated_at"],
        Value::Null,
        "the live key did not change"
    );
    let (_, set) = server.get(&jwks_path(id), OWNER_KEY).await;
    assert_eq!(set["keys"].as_array().unwrap().len(), 1, "{set}");
}

#[tokio::test]
async fn rotations_that_cannot_happen_are_refused() {
    let server = Server::in_process().await;
    let w = World::new(
        &server,
        "rotation",
        &[Role::Editor, Role::Viewer, Role::Outsider],
    )
    .await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let ec = create_ok(&server, jwt_credential(w.team_id, "ec", "ES256", &key, 600)).await;
    let hmac = create_ok(
        &server,
        jwt_credential(w.team_id, "hmac", "HS256", "a shared secret", 600),
    )
    .await;
    let (status, body) = rotate(&server, OWNER_KEY, hmac, None).await;
    assert_error(status, &body, 422, Some("jwt_algorithm"), "PUT");
    let (status, body) = rotate(&server, OWNER_KEY, ec, Some(json!({ "is_test": true }))).await;
    assert_error(status, &body, 422, Some("is_test"), "no test credential");
    let (status, body) = rotate(&server, w.viewer_key(), ec, None).await;
    assert_error(status, &body, 403, None, "EDITOR");
    let (status, body) = rotate(&server, w.outsider_key(), ec, None).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = rotate(&server, w.editor_key(), ec, None).await;
    assert_eq!(status, 200, "an EDITOR rotates: {body}");
}
