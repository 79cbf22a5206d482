//! API.md §4.4: deleting needs TEAM_ADMIN, answers 204 with no body, and removes the
//! credential for good, freeing its slug.

use serde_json::json;

use super::*;

/// A team with an EDITOR, a VIEWER and an outsider; the EDITOR's credential "Contended" and
/// a bystander credential. Returns both credentials' ids.
async fn two_credentials(server: &Server) -> (World, i64, i64) {
    let roles = [Role::Editor, Role::Viewer, Role::Outsider];
    let w = World::new(server, "Race", &roles).await;
    let mut ids = Vec::new();
    for name in ["Contended", "Bystander"] {
        let (status, created) = server
            .create_credential(w.editor_key(), jwt_body(w.team_id, name))
            .await;
        assert_eq!(status, 201, "{created}");
        ids.push(id_of(&created));
    }
    assert_eq!(list(server, w.editor_key(), "").await["meta"]["count"], 2);
    (w, ids[0], ids[1])
}

#[tokio::test]
async fn delete_needs_team_admin_and_outsiders_do_not_see_the_credential() {
    let server = Server::start();
    let (w, id, _) = two_credentials(&server).await;
    // Neither VIEWERs nor EDITORs may delete (Tines).
    for key in [w.viewer_key(), w.editor_key()] {
        let (status, body) = server.delete(&cred_path(id), key).await;
        assert_error(status, &body, 403, None, "TEAM_ADMIN");
    }
    let (status, body) = server.delete(&cred_path(id), w.outsider_key()).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = server.get(&cred_path(id), w.editor_key()).await;
    assert_eq!(status, 200, "refused deletes removed it: {body}");
}

#[tokio::test]
async fn a_deleted_credential_is_gone_for_good_and_its_slug_is_free() {
    let server = Server::start();
    let (w, id, other) = two_credentials(&server).await;
    let editor = w.editor_key();
    let resp = server
        .request(Method::DELETE, &cred_path(id))
        .bearer_auth(OWNER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert!(resp.bytes().await.unwrap().is_empty(), "204 with a body");

    let (status, body) = server.get(&cred_path(id), editor).await;
    assert_error(status, &body, 404, None, "not found");
    let (status, body) = put(&server, id, editor, jwt(json!({ "description": "back?" }))).await;
    assert_error(status, &body, 404, None, "not found");
    for key in [editor, OWNER_KEY] {
        let (status, body) = server.delete(&cred_path(id), key).await;
        assert_error(status, &body, 404, None, "not found");
        let after = list(&server, key, "").await;
        assert_eq!(ids(&after), vec![other]);
        assert_eq!(after["meta"]["count"], 1);
    }
    for missing in ["999999", "abc"] {
        let (status, body) = server.delete(&cred_path(missing), editor).await;
        assert_error(status, &body, 404, None, "not found");
    }
    // Its slug is free again.
    let (status, again) = server
        .create_credential(editor, jwt_body(w.team_id, "Contended"))
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["slug"], "contended");
    assert_ne!(id_of(&again), id);
}
