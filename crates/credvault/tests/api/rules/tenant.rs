//! API.md §3: the rules of users, API keys, teams, membership and folders.

use std::fmt::Display;

use reqwest::Method;
use serde_json::{json, Value};

use super::*;
use crate::support::*;

/// Tenant Alpha with a TEAM_ADMIN `ta`, an EDITOR `ed` and a VIEWER `vw`; Tenant Beta; `out`
/// in no team; a folder in each team; and a second key of `ed`'s (`ed_key`), to try revoking
/// it through the wrong path.
struct Tenant {
    server: Server,
    alpha: i64,
    beta: i64,
    ta: String,
    ed_id: i64,
    ed: String,
    vw_id: i64,
    vw: String,
    out_id: i64,
    out: String,
    folder_alpha: i64,
    folder_beta: i64,
    ed_key: Value,
}

async fn tenant() -> Tenant {
    let server = Server::in_process().await;
    let alpha = server.team("Tenant Alpha").await;
    let beta = server.team("Tenant Beta").await;
    let (_, ta) = server
        .user("ta@tenant.test", Some((alpha, "TEAM_ADMIN")))
        .await;
    let (ed_id, ed) = server.user("ed@tenant.test", Some((alpha, "EDITOR"))).await;
    let (vw_id, vw) = server.user("vw@tenant.test", Some((alpha, "VIEWER"))).await;
    let (out_id, out) = server.user("out@tenant.test", None).await;
    let folder_alpha = server.folder(&ed, alpha, "alpha folder").await;
    let folder_beta = server.folder(OWNER_KEY, beta, "beta folder").await;
    let (status, ed_key) = server
        .post(&keys(ed_id), &ed, json!({ "name": "ed's own" }))
        .await;
    assert_eq!(status, 201, "{ed_key}");
    assert_eq!(ed_key["name"], "ed's own", "{ed_key}");
    assert!(
        ed_key["key"].as_str().is_some_and(|k| !k.is_empty()),
        "{ed_key}"
    );
    assert!(is_timestamp(&ed_key["created_at"]), "{ed_key}");
    Tenant {
        server,
        alpha,
        beta,
        ta,
        ed_id,
        ed,
        vw_id,
        vw,
        out_id,
        out,
        folder_alpha,
        folder_beta,
        ed_key,
    }
}

const USERS: &str = "/api/v1/admin/users";

fn keys(user_id: impl Display) -> String {
    format!("/api/v1/admin/users/{user_id}/api_keys")
}

fn invite(team_id: impl Display) -> String {
    format!("/api/v1/teams/{team_id}/invite_member")
}

/// Creating and listing users needs a tenant admin; emails are valid and unique.
#[tokio::test]
async fn user_rules() {
    let t = tenant().await;
    let Tenant { ta, .. } = &t;
    let post = Method::POST;
    let get = Method::GET;
    let o = OWNER_KEY;
    #[rustfmt::skip]
    let calls = vec![
        // users
        call("create user as a non-admin", post.clone(), USERS, ta, Some(json!({ "email": "x@tenant.test" })), err(403, None, "admin")),
        call("list users as a non-admin", get.clone(), USERS, ta, None, err(403, None, "admin")),
        call("user email missing", post.clone(), USERS, o, Some(json!({ "first_name": "No" })), err(422, Some("email"), "required")),
        call("user email invalid", post.clone(), USERS, o, Some(json!({ "email": "not-an-email" })), err(422, Some("email"), "email")),
        call("user email without local part", post.clone(), USERS, o, Some(json!({ "email": "@tenant.test" })), err(422, Some("email"), "email")),
        call("user email with a space", post.clone(), USERS, o, Some(json!({ "email": "a b@tenant.test" })), err(422, Some("email"), "email")),
        call("user email not a string", post.clone(), USERS, o, Some(json!({ "email": 5 })), err(422, Some("email"), "string")),
        call("user first_name with a NUL character", post.clone(), USERS, o, Some(json!({ "email": "nul@tenant.test", "first_name": "a\u{0}" })), err(422, Some("first_name"), "NUL")),
        call("user admin not a boolean", post.clone(), USERS, o, Some(json!({ "email": "adm@tenant.test", "admin": "yes" })), err(422, Some("admin"), "true or false")),
        call(
            "user created",
            post.clone(),
            USERS,
            o,
            Some(json!({ "email": "dup@tenant.test", "first_name": "Du", "last_name": "P" })),
            ok(
                201,
                vec![
                    ("email", json!("dup@tenant.test")),
                    ("first_name", json!("Du")),
                    ("last_name", json!("P")),
                    ("admin", json!(false)),
                    ("is_active", json!(true)),
                ],
            ),
        ),
        call("user email taken", post.clone(), USERS, o, Some(json!({ "email": "dup@tenant.test" })), err(409, Some("email"), "already exists")),
        call("user email taken, other case", post.clone(), USERS, o, Some(json!({ "email": "DUP@Tenant.TEST" })), err(409, Some("email"), "already exists")),
    ];
    run_calls(&t.server, calls).await;
}

/// API keys: one's own, or any as a tenant admin; revoked only through the owner's path.
#[tokio::test]
async fn api_key_rules() {
    let t = tenant().await;
    let Tenant {
        ta,
        ed_id,
        vw_id,
        vw,
        out_id,
        out,
        ..
    } = &t;
    let ed_key_id = id_of(&t.ed_key);
    let post = Method::POST;
    let delete = Method::DELETE;
    let o = OWNER_KEY;
    #[rustfmt::skip]
    let calls = vec![
        // API keys
        call("key for another user as a non-admin", post.clone(), keys(ed_id), ta, Some(json!({ "name": "k" })), err(403, None, "admin")),
        call("key name missing", post.clone(), keys(vw_id), vw, Some(json!({})), err(422, Some("name"), "required")),
        call("key name empty", post.clone(), keys(vw_id), vw, Some(json!({ "name": "" })), err(422, Some("name"), "empty")),
        call("key name not a string", post.clone(), keys(vw_id), vw, Some(json!({ "name": 1 })), err(422, Some("name"), "string")),
        call("key for no user, as admin", post.clone(), keys(999_999), o, Some(json!({ "name": "k" })), err(404, None, "not found")),
        call("key for a non-numeric user", post.clone(), "/api/v1/admin/users/abc/api_keys", o, Some(json!({ "name": "k" })), err(404, None, "not found")),
        call("own key created", post.clone(), keys(out_id), out, Some(json!({ "name": "mine" })), ok(201, vec![("name", json!("mine"))])),
        call("revoke an unknown key", delete.clone(), format!("{}/999999", keys(vw_id)), vw, None, err(404, None, "not found")),
        call("revoke a non-numeric key id", delete.clone(), format!("{}/abc", keys(vw_id)), vw, None, err(404, None, "not found")),
        call("revoke another user's key through one's own path", delete.clone(), format!("{}/{ed_key_id}", keys(vw_id)), vw, None, err(404, None, "not found")),
        call("revoke another user's key as a non-admin", delete.clone(), format!("{}/{ed_key_id}", keys(ed_id)), vw, None, err(403, None, "admin")),
    ];
    run_calls(&t.server, calls).await;
    // The refused revocations left ed's key working.
    let (status, body) = t
        .server
        .get("/api/v1/teams", t.ed_key["key"].as_str().unwrap())
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Teams: created by tenant admins with unique slugs, visible to members only.
#[tokio::test]
async fn team_rules() {
    let t = tenant().await;
    let Tenant {
        alpha, beta, ta, ..
    } = &t;
    let post = Method::POST;
    let get = Method::GET;
    let o = OWNER_KEY;
    #[rustfmt::skip]
    let calls = vec![
        // teams
        call("create team as a non-admin", post.clone(), "/api/v1/teams", ta, Some(json!({ "name": "Nope" })), err(403, None, "admin")),
        call("team name missing", post.clone(), "/api/v1/teams", o, Some(json!({})), err(422, Some("name"), "required")),
        call("team name with empty slug", post.clone(), "/api/v1/teams", o, Some(json!({ "name": "!!!" })), err(422, Some("name"), "letter or digit")),
        call("team name not a string", post.clone(), "/api/v1/teams", o, Some(json!({ "name": ["x"] })), err(422, Some("name"), "string")),
        call("team slug taken", post.clone(), "/api/v1/teams", o, Some(json!({ "name": "tenant-alpha" })), err(409, Some("name"), "already exists")),
        call("team slug taken, other case", post.clone(), "/api/v1/teams", o, Some(json!({ "name": "TENANT ALPHA" })), err(409, Some("name"), "already exists")),
        call("team created", post.clone(), "/api/v1/teams", o, Some(json!({ "name": "Tenant  Gamma!" })), ok(201, vec![("name", json!("Tenant  Gamma!")), ("slug", json!("tenant_gamma"))])),
        call("get a team one is not in", get.clone(), format!("/api/v1/teams/{beta}"), ta, None, err(404, None, "not found")),
        call("get a non-numeric team", get.clone(), "/api/v1/teams/abc", ta, None, err(404, None, "not found")),
    ];
    run_calls(&t.server, calls).await;
    let (status, body) = t.server.get(&format!("/api/v1/teams/{alpha}"), ta).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], *alpha, "{body}");
}

/// invite_member: by TEAM_ADMINs, with a valid role and user; inviting again changes the role.
#[tokio::test]
async fn invite_member_rules() {
    let t = tenant().await;
    let Tenant {
        alpha,
        beta,
        ta,
        ed,
        vw,
        out_id,
        out,
        ..
    } = &t;
    let post = Method::POST;
    let o = OWNER_KEY;
    #[rustfmt::skip]
    let calls = vec![
        // invite_member
        call("invite by an EDITOR", post.clone(), invite(alpha), ed, Some(json!({ "user_id": out_id, "role": "VIEWER" })), err(403, None, "TEAM_ADMIN")),
        call("invite by a VIEWER", post.clone(), invite(alpha), vw, Some(json!({ "user_id": out_id, "role": "VIEWER" })), err(403, None, "TEAM_ADMIN")),
        call("invite by a non-member", post.clone(), invite(beta), ta, Some(json!({ "user_id": out_id, "role": "VIEWER" })), err(404, None, "not found")),
        call("invite into no team", post.clone(), invite(999_999), o, Some(json!({ "user_id": out_id })), err(404, None, "not found")),
        call("invite with an invalid role", post.clone(), invite(alpha), ta, Some(json!({ "user_id": out_id, "role": "OWNER" })), err(422, Some("role"), "VIEWER")),
        call("invite with a role not a string", post.clone(), invite(alpha), ta, Some(json!({ "user_id": out_id, "role": 2 })), err(422, Some("role"), "string")),
        call("invite an unknown user", post.clone(), invite(alpha), ta, Some(json!({ "user_id": 999_999, "role": "VIEWER" })), err(422, Some("user_id"), "999999")),
        call("invite without user_id", post.clone(), invite(alpha), ta, Some(json!({ "role": "VIEWER" })), err(422, Some("user_id"), "required")),
        call("invite with user_id not an integer", post.clone(), invite(alpha), ta, Some(json!({ "user_id": "abc" })), err(422, Some("user_id"), "integer")),
        call("invite by a TEAM_ADMIN, default role", post.clone(), invite(alpha), ta, Some(json!({ "user_id": out_id })), ok(200, vec![("id", json!(out_id)), ("email", json!("out@tenant.test")), ("role", json!("VIEWER"))])),
        call("invite again changes the role", post.clone(), invite(alpha), ta, Some(json!({ "user_id": out_id, "role": "EDITOR" })), ok(200, vec![("id", json!(out_id)), ("role", json!("EDITOR"))])),
        call("the new role is in force", post.clone(), "/api/v1/folders", out, Some(json!({ "name": "by out", "content_type": "CREDENTIAL", "team_id": alpha })), ok(201, vec![("team_id", json!(alpha))])),
    ];
    run_calls(&t.server, calls).await;
}

/// Folders: CREDENTIAL folders, by EDITORs of the team, under a parent of the same team.
#[tokio::test]
async fn folder_rules() {
    let t = tenant().await;
    let Tenant {
        alpha,
        beta,
        ta,
        ed,
        vw,
        folder_alpha,
        folder_beta,
        ..
    } = &t;
    let post = Method::POST;
    let get = Method::GET;
    #[rustfmt::skip]
    let calls = vec![
        // folders
        call("folder content_type not CREDENTIAL", post.clone(), "/api/v1/folders", ed, Some(json!({ "name": "f", "content_type": "STORY", "team_id": alpha })), err(422, Some("content_type"), "CREDENTIAL")),
        call("folder content_type missing", post.clone(), "/api/v1/folders", ed, Some(json!({ "name": "f", "team_id": alpha })), err(422, Some("content_type"), "required")),
        call("folder name missing", post.clone(), "/api/v1/folders", ed, Some(json!({ "content_type": "CREDENTIAL", "team_id": alpha })), err(422, Some("name"), "required")),
        call("folder name empty", post.clone(), "/api/v1/folders", ed, Some(json!({ "name": "", "content_type": "CREDENTIAL", "team_id": alpha })), err(422, Some("name"), "empty")),
        call("folder team_id missing", post.clone(), "/api/v1/folders", ed, Some(json!({ "name": "f", "content_type": "CREDENTIAL" })), err(422, Some("team_id"), "required")),
        call("folder team_id not an integer", post.clone(), "/api/v1/folders", ed, Some(json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": "abc" })), err(422, Some("team_id"), "integer")),
        call("folder by a VIEWER", post.clone(), "/api/v1/folders", vw, Some(json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": alpha })), err(403, None, "EDITOR")),
        call("folder in a team one is not in", post.clone(), "/api/v1/folders", ed, Some(json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": beta })), err(404, None, "not found")),
        call(
            "folder parent of another team",
            post.clone(),
            "/api/v1/folders",
            ed,
            Some(
                json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": alpha, "parent_folder_id": folder_beta }),
            ),
            err(422, Some("parent_folder_id"), "CREDENTIAL folder"),
        ),
        call(
            "folder parent of no folder",
            post.clone(),
            "/api/v1/folders",
            ed,
            Some(
                json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": alpha, "parent_folder_id": 999_999 }),
            ),
            err(422, Some("parent_folder_id"), "CREDENTIAL folder"),
        ),
        call(
            "folder parent not an integer",
            post.clone(),
            "/api/v1/folders",
            ed,
            Some(
                json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": alpha, "parent_folder_id": "abc" }),
            ),
            err(422, Some("parent_folder_id"), "integer"),
        ),
        call(
            "folder with a parent of the team",
            post.clone(),
            "/api/v1/folders",
            ta,
            Some(
                json!({ "name": "child", "content_type": "CREDENTIAL", "team_id": alpha, "parent_folder_id": folder_alpha }),
            ),
            ok(
                201,
                vec![
                    ("name", json!("child")),
                    ("content_type", json!("CREDENTIAL")),
                    ("team_id", json!(alpha)),
                    ("parent_folder_id", json!(folder_alpha)),
                ],
            ),
        ),
        call("list folders of a team one is not in", get.clone(), format!("/api/v1/folders?team_id={beta}"), ta, None, err(404, None, "not found")),
        call("list folders of no team", get.clone(), "/api/v1/folders?team_id=999999", ta, None, err(404, None, "not found")),
        call("list folders, team_id not an integer", get.clone(), "/api/v1/folders?team_id=abc", ta, None, err(422, Some("team_id"), "integer")),
        call("list folders of one's team", get.clone(), format!("/api/v1/folders?team_id={alpha}"), vw, None, ok(200, vec![("folders/0/team_id", json!(alpha))])),
    ];
    run_calls(&t.server, calls).await;
}
