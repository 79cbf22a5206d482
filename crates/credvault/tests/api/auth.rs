//! Authentication (401) and authorisation (403 / 404) at the edges.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn missing_unknown_and_non_bearer_keys_get_401() {
    let server = Server::start();
    let team_id = server.team("Ops").await;
    let body = jwt_body(team_id, "a");
    let (status, resp) = server
        .call(Method::POST, CREDENTIALS, None, Some(body.clone()))
        .await;
    assert_error(status, &resp, 401, None, "API key is required");
    let (status, resp) = server.create_credential("cvk_not_a_real_key", body).await;
    assert_error(status, &resp, 401, None, "unknown or revoked");
    let request = server
        .request(Method::GET, "/api/v1/teams")
        .header("Authorization", "Basic dXNlcjpwYXNz");
    let (status, resp) = Server::read(request).await;
    assert_error(status, &resp, 401, None, "API key is required");
}

#[tokio::test]
async fn the_x_user_token_header_works_and_x_user_email_is_ignored() {
    let server = Server::start();
    let w = World::new(&server, "Ops", &[Role::Editor]).await;
    let request = server
        .request(Method::GET, "/api/v1/teams")
        .header("X-User-Token", w.editor_key())
        .header("X-User-Email", "someone-else@example.com");
    assert_eq!(Server::read(request).await.0, 200);
}

#[tokio::test]
async fn revoking_one_of_a_users_keys_leaves_the_other_working() {
    let server = Server::start();
    let w = World::new(&server, "Ops", &[Role::Editor]).await;
    let (user_id, key) = (w.editor_id(), w.editor_key());
    let keys = format!("/api/v1/admin/users/{user_id}/api_keys");
    let (status, second) = server.post(&keys, key, json!({ "name": "ci" })).await;
    assert_eq!(status, 201, "{second}");
    let second_key = second["key"].as_str().unwrap().to_string();
    assert!(second_key.starts_with("cvk_"));
    assert_eq!(second["name"], "ci");

    let revoke = format!("{keys}/{}", id_of(&second));
    let (status, resp) = server.delete(&revoke, key).await;
    assert_eq!(status, 204, "{resp}");
    assert_eq!(resp, serde_json::Value::Null);
    let (status, resp) = server.get("/api/v1/teams", &second_key).await;
    assert_error(status, &resp, 401, None, "unknown or revoked");
    let (status, _) = server.get("/api/v1/teams", key).await;
    assert_eq!(status, 200);

    // Revoking again: the key no longer exists as a live key.
    let (status, resp) = server.delete(&revoke, key).await;
    assert_error(status, &resp, 404, None, "not found");
}

/// Team Ops with a VIEWER, an EDITOR and a TEAM_ADMIN; team Elsewhere with its own
/// TEAM_ADMIN (an outsider to Ops). Returns Ops and the outsider's key.
async fn two_teams(server: &Server) -> (World, i64, String) {
    let roles = [Role::Viewer, Role::Editor, Role::TeamAdmin];
    let w = World::new(server, "Ops", &roles).await;
    let other_team = server.team("Elsewhere").await;
    let (_, outsider) = server
        .user("out@example.com", Some((other_team, "TEAM_ADMIN")))
        .await;
    (w, other_team, outsider)
}

#[tokio::test]
async fn roles_decide_who_may_create() {
    let server = Server::start();
    let (w, _, outsider) = two_teams(&server).await;
    let team_id = w.team_id;
    let (status, resp) = server
        .create_credential(w.viewer_key(), jwt_body(team_id, "v"))
        .await;
    assert_error(status, &resp, 403, None, "VIEWER");
    let (status, resp) = server
        .create_credential(&outsider, jwt_body(team_id, "o"))
        .await;
    let needle = format!("team {team_id} not found");
    assert_error(status, &resp, 404, None, &needle);
    let (status, resp) = server
        .create_credential(&outsider, jwt_body(424_242, "o"))
        .await;
    assert_error(status, &resp, 404, None, "team 424242 not found");
    let (status, resp) = server
        .create_credential(w.editor_key(), jwt_body(team_id, "e"))
        .await;
    assert_eq!(status, 201, "{resp}");
    assert_eq!(resp["owner"]["email"], Role::Editor.email());
    let (status, resp) = server
        .create_credential(w.team_admin_key(), jwt_body(team_id, "t"))
        .await;
    assert_eq!(status, 201, "{resp}");
}

#[tokio::test]
async fn members_of_any_role_read_a_credential_and_others_get_404() {
    let server = Server::start();
    let (w, _, outsider) = two_teams(&server).await;
    let (status, resp) = server
        .create_credential(w.team_admin_key(), jwt_body(w.team_id, "t"))
        .await;
    assert_eq!(status, 201, "{resp}");
    let id = id_of(&resp);
    assert_eq!(server.get(&cred_path(id), w.viewer_key()).await.0, 200);
    let (status, resp) = server.get(&cred_path(id), &outsider).await;
    let needle = format!("credential {id} not found");
    assert_error(status, &resp, 404, None, &needle);
}

#[tokio::test]
async fn a_team_is_invisible_to_non_members() {
    let server = Server::start();
    let (w, other_team, outsider) = two_teams(&server).await;
    let (status, _) = server
        .get(&format!("/api/v1/teams/{}", w.team_id), &outsider)
        .await;
    assert_eq!(status, 404);
    let (status, teams) = server.get("/api/v1/teams", &outsider).await;
    assert_eq!(status, 200);
    assert_eq!(teams["teams"].as_array().unwrap().len(), 1);
    assert_eq!(teams["teams"][0]["id"], other_team);
}
