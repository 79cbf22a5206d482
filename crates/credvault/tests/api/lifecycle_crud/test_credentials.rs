//! API.md §4.6: a test credential from attach to delete.

use serde_json::{json, Value};

use super::*;

/// A team with an EDITOR and a VIEWER, and the EDITOR's live credential, as created.
async fn staging(server: &Server) -> (World, Value) {
    let w = World::new(server, "Staging", &[Role::Editor, Role::Viewer]).await;
    let (status, live) = server
        .create_credential(w.editor_key(), jwt_body(w.team_id, "Live"))
        .await;
    assert_eq!(status, 201, "{live}");
    (w, live)
}

/// `is_test` and enabling the test credential are refused for `id`, which has none.
async fn assert_no_test_credential(server: &Server, id: i64, editor: &str) {
    let body = jwt(json!({ "is_test": true, "jwt_payload": { "iss": "x" } }));
    let (status, resp) = put(server, id, editor, body).await;
    assert_error(status, &resp, 422, Some("is_test"), "test credential");
    let body = jwt(json!({ "test_credential_enabled": true }));
    let (status, resp) = put(server, id, editor, body).await;
    let field = Some("test_credential_enabled");
    assert_error(status, &resp, 422, field, "test credential");
}

/// Attaches the test credential to `live` as `editor`; returns the answer.
async fn attach(server: &Server, live: &Value, editor: &str) -> Value {
    pause().await;
    let (status, attached) = server
        .create_credential(editor, attach_body(id_of(live)))
        .await;
    assert_eq!(status, 201, "{attached}");
    attached
}

#[tokio::test]
async fn without_a_test_credential_is_test_and_enabling_one_are_refused() {
    let server = Server::start();
    let (w, live) = staging(&server).await;
    assert_no_test_credential(&server, id_of(&live), w.editor_key()).await;
    let (_, read) = server.get(&cred_path(id_of(&live)), w.editor_key()).await;
    assert_eq!(read, live);
    // Another credential without a test credential refuses both too, even after the first
    // got one.
    attach(&server, &live, w.editor_key()).await;
    let (status, plain) = server
        .create_credential(w.editor_key(), jwt_body(w.team_id, "Plain"))
        .await;
    assert_eq!(status, 201, "{plain}");
    let (status, body) = put(
        &server,
        id_of(&plain),
        w.editor_key(),
        jwt(json!({ "is_test": true })),
    )
    .await;
    assert_error(status, &body, 422, Some("is_test"), "test credential");
    assert_no_test_credential(&server, id_of(&plain), w.editor_key()).await;
}

#[tokio::test]
async fn an_attach_answers_with_the_live_credential_now_with_its_test_credential() {
    let server = Server::start();
    let (w, live) = staging(&server).await;
    let attached = attach(&server, &live, w.editor_key()).await;
    assert_eq!(id_of(&attached), id_of(&live));
    assert_eq!(attached["test_credential_enabled"], true);
    let test = attached["test_credential"]
        .as_object()
        .unwrap_or_else(|| panic!("{attached}"));
    assert_eq!(test.len(), 5, "{attached}");
    assert!(is_timestamp(&test["created_at"]) && is_timestamp(&test["updated_at"]));
    // Its own expiry settings (API.md §7), none given in the attach.
    assert_eq!(test["expires_at"], json!(null));
    assert_eq!(test["expiry_notifications_enabled"], false);
    assert_eq!(
        test["credential_notification_recipient_user_ids"],
        json!([])
    );
    // The live credential's own settings are its own.
    for field in [
        "name",
        "slug",
        "jwt_algorithm",
        "jwt_payload",
        "metadata",
        "created_at",
        "team_id",
    ] {
        assert_eq!(attached[field], live[field], "{field}");
    }
    assert!(!attached.to_string().contains("test-environment"));
    let (_, read) = server.get(&cred_path(id_of(&live)), w.viewer_key()).await;
    assert_eq!(read, attached);
    let (status, body) = server
        .create_credential(w.editor_key(), attach_body(id_of(&live)))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(list(&server, w.editor_key(), "").await["meta"]["count"], 1);
}

#[tokio::test]
async fn is_test_sends_the_mode_fields_and_metadata_to_the_test_credential() {
    let server = Server::start();
    let (w, live) = staging(&server).await;
    let (editor, live_id) = (w.editor_key(), id_of(&live));
    let test = attach(&server, &live, editor).await["test_credential"].clone();
    pause().await;
    let body = json!({ "is_test": true, "jwt_payload": { "iss": "test-2" }, "metadata": { "env": "test" } });
    let (status, updated) = put(&server, live_id, editor, jwt(body)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["jwt_payload"], live["jwt_payload"]);
    assert_eq!(updated["metadata"], live["metadata"]);
    assert_eq!(updated["jwt_algorithm"], "ES256");
    assert_eq!(updated["test_credential"]["created_at"], test["created_at"]);
    assert_ne!(
        updated["test_credential"]["updated_at"], test["updated_at"],
        "test_credential.updated_at did not move"
    );
    assert!(!updated.to_string().contains("test-2"));
    // The test credential holds its P-384 key: ES256 does not fit it; and the live one keeps
    // its P-256 key, which ES384 does not fit.
    for (body, alg) in [
        (
            json!({ "is_test": true, "jwt_algorithm": "ES256" }),
            "ES256",
        ),
        (json!({ "jwt_algorithm": "ES384" }), "ES384"),
    ] {
        let (status, resp) = put(&server, live_id, editor, jwt(body)).await;
        assert_error(status, &resp, 422, Some("jwt_algorithm"), alg);
    }
    let (status, read) = server.get(&cred_path(live_id), editor).await;
    assert_eq!(status, 200);
    assert_eq!(read, updated);
}

#[tokio::test]
async fn an_editor_turns_use_of_the_test_credential_off_and_on() {
    let server = Server::start();
    let (w, live) = staging(&server).await;
    let (editor, live_id) = (w.editor_key(), id_of(&live));
    let attached = attach(&server, &live, editor).await;
    let enabled = |on: bool| jwt(json!({ "test_credential_enabled": on }));
    let (status, body) = put(&server, live_id, w.viewer_key(), enabled(false)).await;
    assert_error(status, &body, 403, None, "EDITOR");
    pause().await;
    let (status, off) = put(&server, live_id, editor, enabled(false)).await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["test_credential_enabled"], false);
    assert_eq!(off["test_credential"], attached["test_credential"]);
    assert_only_changed(&attached, &off, &["test_credential_enabled"]);
    let (_, read) = server.get(&cred_path(live_id), editor).await;
    assert_eq!(read, off);
    pause().await;
    let (status, on) = put(&server, live_id, editor, enabled(true)).await;
    assert_eq!(status, 200, "{on}");
    assert_eq!(on["test_credential_enabled"], true);
    assert_only_changed(&off, &on, &["test_credential_enabled"]);
}

#[tokio::test]
async fn deleting_the_live_credential_deletes_its_test_credential() {
    let server = Server::start();
    let (w, live) = staging(&server).await;
    let (editor, live_id) = (w.editor_key(), id_of(&live));
    attach(&server, &live, editor).await;
    let (status, plain) = server
        .create_credential(editor, jwt_body(w.team_id, "Plain"))
        .await;
    assert_eq!(status, 201, "{plain}");
    let (status, body) = server.delete(&cred_path(live_id), OWNER_KEY).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(body, Value::Null);
    let (status, body) = server.get(&cred_path(live_id), editor).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = server.create_credential(editor, attach_body(live_id)).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = put(&server, live_id, editor, jwt(json!({ "is_test": true }))).await;
    assert_error(status, &body, 404, None, "not found");
    // A new credential of the same name takes a test credential afresh.
    let (status, reborn) = server
        .create_credential(editor, jwt_body(w.team_id, "Live"))
        .await;
    assert_eq!(status, 201, "{reborn}");
    assert_eq!(reborn["test_credential"], Value::Null);
    assert_eq!(reborn["test_credential_enabled"], false);
    let attached = attach(&server, &reborn, editor).await;
    assert_eq!(attached["test_credential_enabled"], true);
    assert!(is_timestamp(&attached["test_credential"]["created_at"]));
    let after = list(&server, editor, "").await;
    assert_eq!(ids(&after), vec![id_of(&plain), id_of(&reborn)]);
    assert_eq!(after["meta"]["count"], 2);
}

#[tokio::test]
async fn an_attach_ignores_the_live_credentials_fields_and_checks_its_own_expiry() {
    let server = Server::in_process().await;
    let (w, live) = staging(&server).await;
    let mut body = attach_body(id_of(&live));
    // The live credential's fields are not the test credential's to set: ignored, not checked.
    body["description"] = json!(12_345);
    body["allowed_hosts"] = json!("not a list");
    body["expiry_notifications_enabled"] = json!("yes");
    let (status, resp) = server.create_credential(w.editor_key(), body.clone()).await;
    assert_error(
        status,
        &resp,
        422,
        Some("expiry_notifications_enabled"),
        "true or false",
    );
    body["expiry_notifications_enabled"] = json!(true);
    let (status, attached) = server.create_credential(w.editor_key(), body).await;
    assert_eq!(status, 201, "{attached}");
    assert_eq!(attached["description"], live["description"]);
    assert_eq!(
        attached["test_credential"]["expiry_notifications_enabled"],
        true
    );
}
