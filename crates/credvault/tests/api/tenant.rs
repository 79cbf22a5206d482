//! The tenant model's happy paths: users, teams, membership and folders.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn users_teams_members_and_folders() {
    let server = Server::start();

    let (status, user) = server
        .post(
            "/api/v1/admin/users",
            OWNER_KEY,
            json!({ "email": " Jane@Example.com ", "first_name": "Jane", "last_name": "Doe" }),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let user_id = user["id"].as_i64().unwrap();
    assert_eq!(user["email"], "jane@example.com");
    assert_eq!(user["first_name"], "Jane");
    assert_eq!(user["last_name"], "Doe");
    assert_eq!(user["admin"], false);
    assert_eq!(user["is_active"], true);
    assert_eq!(user["last_seen"], serde_json::Value::Null);
    assert!(user["created_at"].is_string() && user["updated_at"].is_string());

    let (status, team) = server
        .post(
            "/api/v1/teams",
            OWNER_KEY,
            json!({ "name": "Detection & Response" }),
        )
        .await;
    assert_eq!(status, 201, "{team}");
    assert_eq!(team["slug"], "detection_response");
    assert_eq!(team["name"], "Detection & Response");
    let team_id = team["id"].as_i64().unwrap();

    // Default role VIEWER; calling again changes the role.
    let path = format!("/api/v1/teams/{team_id}/invite_member");
    let (status, member) = server
        .post(&path, OWNER_KEY, json!({ "user_id": user_id }))
        .await;
    assert_eq!(status, 200, "{member}");
    assert_eq!(member["role"], "VIEWER");
    assert_eq!(member["id"], user_id);
    assert_eq!(member["email"], "jane@example.com");
    let (status, member) = server
        .post(
            &path,
            OWNER_KEY,
            json!({ "user_id": user_id, "role": "TEAM_ADMIN" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(member["role"], "TEAM_ADMIN");

    // A TEAM_ADMIN invites others.
    let (status, key) = server
        .post(
            &format!("/api/v1/admin/users/{user_id}/api_keys"),
            OWNER_KEY,
            json!({ "name": "laptop" }),
        )
        .await;
    assert_eq!(status, 201);
    let jane = key["key"].as_str().unwrap().to_string();
    let (bob_id, bob) = server.user("bob@example.com", None).await;
    let (status, member) = server
        .post(&path, &jane, json!({ "user_id": bob_id, "role": "EDITOR" }))
        .await;
    assert_eq!(status, 200, "{member}");
    assert_eq!(member["role"], "EDITOR");

    // Members see their teams.
    let (status, teams) = server.get("/api/v1/teams", &bob).await;
    assert_eq!(status, 200);
    assert_eq!(teams["teams"], json!([team]));
    assert_eq!(teams["meta"]["count"], 1);
    let (status, got) = server.get(&format!("/api/v1/teams/{team_id}"), &bob).await;
    assert_eq!((status, &got), (200, &team));

    // Folders: an EDITOR creates, members list.
    let (status, folder) = server
        .post(
            "/api/v1/folders",
            &bob,
            json!({ "name": "Prod", "content_type": "CREDENTIAL", "team_id": team_id }),
        )
        .await;
    assert_eq!(status, 201, "{folder}");
    let parent = folder["id"].as_i64().unwrap();
    assert_eq!(
        folder,
        json!({ "id": parent, "name": "Prod", "content_type": "CREDENTIAL", "team_id": team_id,
                "size": 0, "parent_folder_id": null })
    );
    let (status, child) = server
        .post(
            "/api/v1/folders",
            &bob,
            json!({ "name": "Signing", "content_type": "CREDENTIAL", "team_id": team_id,
                    "parent_folder_id": parent }),
        )
        .await;
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

    // The owner lists users, paginated with the Tines envelope.
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
    assert_eq!(page2["meta"]["next_page"], serde_json::Value::Null);
}
