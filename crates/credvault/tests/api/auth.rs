//! Authentication (401) and authorisation (403 / 404) at the edges.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn missing_unknown_and_revoked_keys_get_401() {
    let server = Server::start();
    let team_id = server.team("Ops").await;
    let body = jwt_body(team_id, "a");

    let (status, resp) = server
        .call(
            Method::POST,
            "/api/v1/user_credentials",
            None,
            Some(body.clone()),
        )
        .await;
    assert_error(status, &resp, 401, None, "API key is required");

    let (status, resp) = server
        .create_credential("cvk_not_a_real_key", body.clone())
        .await;
    assert_error(status, &resp, 401, None, "unknown or revoked");

    let (status, resp) = Server::read(
        server
            .request(Method::GET, "/api/v1/teams")
            .header("Authorization", "Basic dXNlcjpwYXNz"),
    )
    .await;
    assert_error(status, &resp, 401, None, "API key is required");

    // Both Tines headers work; X-User-Email is accepted and ignored.
    let (user_id, key) = server
        .user("ed@example.com", Some((team_id, "EDITOR")))
        .await;
    let (status, _) = Server::read(
        server
            .request(Method::GET, "/api/v1/teams")
            .header("X-User-Token", &key)
            .header("X-User-Email", "someone-else@example.com"),
    )
    .await;
    assert_eq!(status, 200);

    // A second key of the same user; revoking one leaves the other working.
    let (status, second) = server
        .post(
            &format!("/api/v1/admin/users/{user_id}/api_keys"),
            &key,
            json!({ "name": "ci" }),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    let second_key = second["key"].as_str().unwrap().to_string();
    let second_id = second["id"].as_i64().unwrap();
    assert!(second_key.starts_with("cvk_"));
    assert_eq!(second["name"], "ci");

    let (status, resp) = server
        .delete(
            &format!("/api/v1/admin/users/{user_id}/api_keys/{second_id}"),
            &key,
        )
        .await;
    assert_eq!(status, 204, "{resp}");
    assert_eq!(resp, serde_json::Value::Null);

    let (status, resp) = server.get("/api/v1/teams", &second_key).await;
    assert_error(status, &resp, 401, None, "unknown or revoked");
    let (status, _) = server.get("/api/v1/teams", &key).await;
    assert_eq!(status, 200);

    // Revoking again: the key no longer exists as a live key.
    let (status, resp) = server
        .delete(
            &format!("/api/v1/admin/users/{user_id}/api_keys/{second_id}"),
            &key,
        )
        .await;
    assert_error(status, &resp, 404, None, "not found");
}

#[tokio::test]
async fn roles_decide_who_may_create() {
    let server = Server::start();
    let team_id = server.team("Ops").await;
    let other_team = server.team("Elsewhere").await;
    let (_, viewer) = server
        .user("viewer@example.com", Some((team_id, "VIEWER")))
        .await;
    let (_, editor) = server
        .user("editor@example.com", Some((team_id, "EDITOR")))
        .await;
    let (_, team_admin) = server
        .user("lead@example.com", Some((team_id, "TEAM_ADMIN")))
        .await;
    let (_, outsider) = server
        .user("out@example.com", Some((other_team, "TEAM_ADMIN")))
        .await;

    let (status, resp) = server
        .create_credential(&viewer, jwt_body(team_id, "v"))
        .await;
    assert_error(status, &resp, 403, None, "VIEWER");

    let (status, resp) = server
        .create_credential(&outsider, jwt_body(team_id, "o"))
        .await;
    assert_error(
        status,
        &resp,
        404,
        None,
        &format!("team {team_id} not found"),
    );

    let (status, resp) = server
        .create_credential(&outsider, jwt_body(424242, "o"))
        .await;
    assert_error(status, &resp, 404, None, "team 424242 not found");

    let (status, resp) = server
        .create_credential(&editor, jwt_body(team_id, "e"))
        .await;
    assert_eq!(status, 201, "{resp}");
    assert_eq!(resp["owner"]["email"], "editor@example.com");

    let (status, resp) = server
        .create_credential(&team_admin, jwt_body(team_id, "t"))
        .await;
    assert_eq!(status, 201, "{resp}");

    // Reading: members of the team (any role) see it; others get 404.
    let id = resp["id"].as_i64().unwrap();
    let path = format!("/api/v1/user_credentials/{id}");
    assert_eq!(server.get(&path, &viewer).await.0, 200);
    let (status, resp) = server.get(&path, &outsider).await;
    assert_error(
        status,
        &resp,
        404,
        None,
        &format!("credential {id} not found"),
    );

    // A team is invisible to non-members.
    let (status, _) = server
        .get(&format!("/api/v1/teams/{team_id}"), &outsider)
        .await;
    assert_eq!(status, 404);
    let (status, teams) = server.get("/api/v1/teams", &outsider).await;
    assert_eq!(status, 200);
    assert_eq!(teams["teams"].as_array().unwrap().len(), 1);
    assert_eq!(teams["teams"][0]["id"], other_team);
}
