//! Who may mint and who may read the JWKS (API.md §5 "Who may mint", with §2's 401/403/404),
//! for each `read_access` of the credential. Every cell runs; failures are reported by name.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Admin,
    TeamAdmin,
    Editor,
    Viewer,
    /// EDITOR of a team unrelated to the credential (a consumer of GLOBAL ones).
    OtherEditor,
    /// VIEWER of that other team.
    OtherViewer,
    /// EDITOR of the team listed in the SPECIFIC_TEAMS credential's `shared_team_slugs`.
    SpecificEditor,
    /// A user in no team at all.
    Outsider,
    NoKey,
    RevokedKey,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Access {
    Team,
    Global,
    SpecificTeams,
}

impl Access {
    fn name(self) -> &'static str {
        match self {
            Access::Team => "TEAM",
            Access::Global => "GLOBAL",
            Access::SpecificTeams => "SPECIFIC_TEAMS",
        }
    }
}

/// API.md §5 "Who may mint", with §2's 401/403/404.
fn mint_status(who: Who, access: Access) -> u16 {
    match who {
        Who::NoKey | Who::RevokedKey => 401,
        Who::Admin | Who::TeamAdmin | Who::Editor => 200,
        Who::Viewer => 403,
        Who::OtherEditor if access == Access::Global => 200,
        Who::OtherViewer if access == Access::Global => 403,
        Who::SpecificEditor if access != Access::Team => 200,
        Who::OtherEditor | Who::OtherViewer | Who::SpecificEditor | Who::Outsider => 404,
    }
}

/// "Visible to whoever may read the credential": members of the owning team and the admin.
fn jwks_status(who: Who) -> u16 {
    match who {
        Who::NoKey | Who::RevokedKey => 401,
        Who::Admin | Who::TeamAdmin | Who::Editor | Who::Viewer => 200,
        _ => 404,
    }
}

type Caller = (&'static str, Who, Option<String>);

/// The callers: teams `owning`, `other` and `specific`, one user per kind of caller, no key,
/// and an EDITOR of the owning team whose key is revoked. Also returns the owning team.
async fn callers(server: &Server) -> (i64, Vec<Caller>) {
    let owning = server.team("owning").await;
    let other = server.team("other").await;
    let specific = server.team("specific").await;
    let mut callers: Vec<Caller> = vec![("tenant admin", Who::Admin, Some(OWNER_KEY.into()))];
    #[rustfmt::skip]
    let users = [
        ("TEAM_ADMIN of owning", Who::TeamAdmin, "ta@example.com", Some(owning), "TEAM_ADMIN"),
        ("EDITOR of owning", Who::Editor, "ed@example.com", Some(owning), "EDITOR"),
        ("VIEWER of owning", Who::Viewer, "vi@example.com", Some(owning), "VIEWER"),
        ("EDITOR of other", Who::OtherEditor, "oe@example.com", Some(other), "EDITOR"),
        ("VIEWER of other", Who::OtherViewer, "ov@example.com", Some(other), "VIEWER"),
        ("EDITOR of specific (listed)", Who::SpecificEditor, "se@example.com", Some(specific), "EDITOR"),
        ("outsider in no team", Who::Outsider, "out@example.com", None, ""),
    ];
    for (name, who, email, team, role) in users {
        let (_, key) = server.user(email, team.map(|t| (t, role))).await;
        callers.push((name, who, Some(key)));
    }
    callers.push(("no API key", Who::NoKey, None));
    let revoked = revoked_editor_key(server, owning).await;
    callers.push(("revoked key", Who::RevokedKey, Some(revoked)));
    (owning, callers)
}

/// The key of an EDITOR of `owning`, which worked and then was revoked.
async fn revoked_editor_key(server: &Server, owning: i64) -> String {
    let email = json!({ "email": "revoked@example.com" });
    let (status, user) = server.post("/api/v1/admin/users", OWNER_KEY, email).await;
    assert_eq!(status, 201, "{user}");
    let user_id = id_of(&user);
    server.invite(owning, user_id, "EDITOR").await;
    let keys_path = format!("/api/v1/admin/users/{user_id}/api_keys");
    let (status, key) = server
        .post(&keys_path, OWNER_KEY, json!({ "name": "soon revoked" }))
        .await;
    assert_eq!(status, 201, "{key}");
    let revoked = key["key"].as_str().unwrap().to_string();
    assert_eq!(
        server.get(&jwks_path(1_000_000), &revoked).await.0,
        404,
        "set-up: the key works before it is revoked"
    );
    let (status, _) = server
        .delete(&format!("{keys_path}/{}", key["id"]), OWNER_KEY)
        .await;
    assert_eq!(status, 204, "set-up: revoke");
    revoked
}

/// One ES256 credential of `owning` per `read_access` (SPECIFIC_TEAMS: shared with `specific`).
async fn shared_credentials(server: &Server, owning: i64) -> Vec<(Access, i64)> {
    let mut credentials = Vec::new();
    for access in [Access::Team, Access::Global, Access::SpecificTeams] {
        let name = format!("shared {}", access.name());
        let key = fixture_key("ec-p256-pkcs8.pem");
        let mut body = jwt_credential(owning, &name, "ES256", &key, 900);
        body["read_access"] = json!(access.name());
        if access == Access::SpecificTeams {
            body["shared_team_slugs"] = json!(["specific"]);
        }
        credentials.push((access, create_ok(server, body).await));
    }
    credentials
}

#[tokio::test]
async fn who_may_mint_depends_on_role_team_and_read_access() {
    let server = Server::start();
    let (owning, callers) = callers(&server).await;
    let credentials = shared_credentials(&server, owning).await;
    let (mut failed, mut ran) = (Vec::new(), Vec::new());
    for (access, id) in &credentials {
        for (name, who, key) in &callers {
            let want = mint_status(*who, *access);
            let (status, resp) = mint(&server, key.as_deref(), *id, Some(json!({}))).await;
            let cell_name = format!("mint {} / {name}", access.name());
            ran.push(format!("{cell_name} → {want}"));
            cell(
                &mut failed,
                cell_name,
                &format!("POST {}", token_path(id)),
                || {
                    if want == 200 {
                        assert_eq!(status, 200, "{resp}");
                        assert_eq!(resp["credential_id"], *id, "{resp}");
                        assert_eq!(resp["test"], false, "{resp}");
                        assert!(resp["token"].is_string(), "{resp}");
                    } else {
                        assert_refused(status, &resp, want);
                    }
                },
            );
        }
    }
    eprintln!("matrix: {} cells\n  {}", ran.len(), ran.join("\n  "));
    assert_no_failures("mint matrix", ran.len(), &failed);
}

#[tokio::test]
async fn the_jwks_is_visible_to_whoever_may_read_the_credential() {
    let server = Server::start();
    let (owning, callers) = callers(&server).await;
    let credentials = shared_credentials(&server, owning).await;
    let (mut failed, mut ran) = (Vec::new(), Vec::new());
    for (access, id) in &credentials {
        for (name, who, key) in &callers {
            let want = jwks_status(*who);
            let path = jwks_path(id);
            let (status, resp) = server.call(Method::GET, &path, key.as_deref(), None).await;
            let cell_name = format!("jwks {} / {name}", access.name());
            ran.push(format!("{cell_name} → {want}"));
            cell(&mut failed, cell_name, &format!("GET {path}"), || {
                if want == 200 {
                    assert_eq!(status, 200, "{resp}");
                    assert_eq!(resp["keys"][0]["kty"], "EC", "{resp}");
                } else {
                    assert_refused(status, &resp, want);
                }
            });
        }
    }
    eprintln!("matrix: {} cells\n  {}", ran.len(), ran.join("\n  "));
    assert_no_failures("jwks matrix", ran.len(), &failed);
}

#[tokio::test]
async fn minting_a_credential_that_does_not_exist_is_404() {
    let server = Server::start();
    let (status, resp) = mint(&server, Some(OWNER_KEY), 999_999, None).await;
    assert_refused(status, &resp, 404);
}
