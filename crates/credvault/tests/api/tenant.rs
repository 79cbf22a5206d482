//! The tenant model's happy paths: users, teams, membership and folders.

use serde_json::{json, Value};

use crate::support::*;

/// Creates Jane Doe; returns the response.
async fn jane(server: &Server) -> Value {
    let body = json!({ "email": " Jane@Example.com ", "first_name": "Jane", "last_name": "Doe" });
    let (status, user) = server.post("/api/v1/admin/users", OWNER_KEY, body).await;
    assert_eq!(status, 201, "{user}");
    user
}

/// Creates "Detection & Response"; returns the response.
async fn detection_and_response(server: &Server) -> Value {
    let body = json!({ "name": "Detection & Response" });
    let (status, team) = server.post("/api/v1/teams", OWNER_KEY, body).await;
    assert_eq!(status, 201, "{team}");
    team
}

/// Jane, TEAM_ADMIN of "Detection & Response", with a key of her own; Bob, whom she made an
/// EDITOR. Returns the team, Jane's key and Bob's key.
async fn team_with_jane_and_bob(server: &Server) -> (Value, String, String) {
    let user_id = id_of(&jane(server).await);
    let team = detection_and_response(server).await;
    server.invite(id_of(&team), user_id, "TEAM_ADMIN").await;
    let keys = format!("/api/v1/admin/users/{user_id}/api_keys");
    let (status, key) = server
        .post(&keys, OWNER_KEY, json!({ "name": "laptop" }))
        .await;
    assert_eq!(status, 201);
    let jane = key["key"].as_str().unwrap().to_string();
    let (bob_id, bob) = server.user("bob@example.com", None).await;
    let path = format!("/api/v1/teams/{}/invite_member", id_of(&team));
    let body = json!({ "user_id": bob_id, "role": "EDITOR" });
    let (status, member) = server.post(&path, &jane, body).await;
    assert_eq!(status, 200, "{member}");
    assert_eq!(member["role"], "EDITOR");
    (team, jane, bob)
}

#[tokio::test]
async fn a_user_is_created_with_a_normalised_email_and_no_last_seen() {
    let server = Server::start();
    let user = jane(&server).await;
    assert_eq!(user["email"], "jane@example.com");
    assert_eq!(user["first_name"], "Jane");
    assert_eq!(user["last_name"], "Doe");
    assert_eq!(user["admin"], false);
    assert_eq!(user["is_active"], true);
    assert_eq!(user["last_seen"], Value::Null);
    assert!(user["created_at"].is_string() && user["updated_at"].is_string());
}

#[tokio::test]
async fn a_team_gets_a_slug_and_inviting_again_changes_the_role() {
    let server = Server::start();
    let user_id = id_of(&jane(&server).await);
    let team = detection_and_response(&server).await;
    assert_eq!(team["slug"], "detection_response");
    assert_eq!(team["name"], "Detection & Response");
    // Default role VIEWER; calling again changes the role.
    let path = format!("/api/v1/teams/{}/invite_member", id_of(&team));
    let (status, member) = server
        .post(&path, OWNER_KEY, json!({ "user_id": user_id }))
        .await;
    assert_eq!(status, 200, "{member}");
    assert_eq!(member["role"], "VIEWER");
    assert_eq!(member["id"], user_id);
    assert_eq!(member["email"], "jane@example.com");
    let body = json!({ "user_id": user_id, "role": "TEAM_ADMIN" });
    let (status, member) = server.post(&path, OWNER_KEY, body).await;
    assert_eq!(status, 200);
    assert_eq!(member["role"], "TEAM_ADMIN");
}

#[tokio::test]
async fn members_invited_by_a_team_admin_see_their_team() {
    let server = Server::start();
    let (team, _, bob) = team_with_jane_and_bob(&server).await;
    let (status, teams) = server.get("/api/v1/teams", &bob).await;
    assert_eq!(status, 200);
    assert_eq!(teams["teams"], json!([team]));
    assert_eq!(teams["meta"]["count"], 1);
    let (status, got) = server
        .get(&format!("/api/v1/teams/{}", id_of(&team)), &bob)
        .await;
    assert_eq!((status, &got), (200, &team));
}

#[tokio::test]
async fn editors_create_folders_and_members_list_them() {
    let server = Server::start();
    let (team, jane, bob) = team_with_jane_and_bob(&server).await;
    let team_id = id_of(&team);
    let body = json!({ "name": "Prod", "content_type": "CREDENTIAL", "team_id": team_id });
    let (status, folder) = server.post("/api/v1/folders", &bob, body).await;
    assert_eq!(status, 201, "{folder}");
    let parent = id_of(&folder);
    assert_eq!(
        folder,
        json!({ "id": parent, "name": "Prod", "content_type": "CREDENTIAL", "team_id": team_id,
                "size": 0, "parent_folder_id": null })
    );
    let body = json!({ "name": "Signing", "content_type": "CREDENTIAL", "team_id": team_id,
                       "parent_folder_id": parent });
    let (status, child) = server.post("/api/v1/folders", &bob, body).await;
    assert_eq!(status, 201, "{child}");
    assert_eq!(child["parent_folder_id"], parent);
    let (status, list) = server
        .get(&format!("/api/v1/folders?team_id={team_id}"), &jane)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["folders"].as_array().unwrap().len(), 2);
    assert_eq!(list["meta"]["count"], 2);
    let (_, all) = server.get("/api/v1/folders", &jane).await;
    assert_eq!(all["meta"]["count"], 2);
}

#[tokio::test]
async fn the_owner_lists_users_in_pages_with_the_tines_envelope() {
    let server = Server::start();
    jane(&server).await;
    server.user("bob@example.com", None).await;
    let (status, users) = server
        .get("/api/v1/admin/users?per_page=2", OWNER_KEY)
        .await;
    assert_eq!(status, 200);
    assert_eq!(users["admin/users"].as_array().unwrap().len(), 2);
    let base = &server.base;
    assert_eq!(
        users["meta"],
        json!({
            "current_page": format!("{base}/api/v1/admin/users?per_page=2&page=1"),
            "previous_page": null,
            "next_page": format!("{base}/api/v1/admin/users?per_page=2&page=2"),
            "next_page_number": 2,
            "per_page": 2,
            "pages": 2,
            "count": 3,
        })
    );
    let (_, page2) = server
        .get("/api/v1/admin/users?per_page=2&page=2", OWNER_KEY)
        .await;
    assert_eq!(page2["admin/users"].as_array().unwrap().len(), 1);
    assert_eq!(
        page2["meta"]["previous_page"],
        format!("{base}/api/v1/admin/users?per_page=2&page=1")
    );
    assert_eq!(page2["meta"]["next_page"], Value::Null);
}
