//! Setting up who acts in a test: teams, users with API keys, memberships and folders.
//!
//! `World::new(&server, "Ops", &[Role::Editor, Role::Viewer]).await` creates the team and one
//! user per role (in that order), each with an API key, so that a test names its actors in one
//! line: `w.team_id`, `w.editor_key()`, `w.viewer_id()`.

use serde_json::{json, Value};

use super::calls::CREDENTIALS;
use super::server::{Server, OWNER_KEY};

/// A user a [`World`] creates: a member of its team with this role, or ([`Role::Outsider`]) a
/// user in no team at all.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    TeamAdmin,
    Editor,
    Viewer,
    Outsider,
}

impl Role {
    /// The team role as the API spells it; None for an outsider.
    pub fn api_name(self) -> Option<&'static str> {
        match self {
            Role::TeamAdmin => Some("TEAM_ADMIN"),
            Role::Editor => Some("EDITOR"),
            Role::Viewer => Some("VIEWER"),
            Role::Outsider => None,
        }
    }

    /// The email of the user of this role.
    pub fn email(self) -> &'static str {
        match self {
            Role::TeamAdmin => "team-admin@example.com",
            Role::Editor => "editor@example.com",
            Role::Viewer => "viewer@example.com",
            Role::Outsider => "outsider@example.com",
        }
    }
}

/// A user with an API key.
pub struct Member {
    pub id: i64,
    pub key: String,
}

/// A team and its users.
pub struct World {
    pub team_id: i64,
    members: Vec<(Role, Member)>,
}

impl World {
    /// Creates the team `team` and one user per role in `roles`, in that order.
    pub async fn new(server: &Server, team: &str, roles: &[Role]) -> World {
        let team_id = server.team(team).await;
        let mut members = Vec::new();
        for role in roles {
            let membership = role.api_name().map(|name| (team_id, name));
            let (id, key) = server.user(role.email(), membership).await;
            members.push((*role, Member { id, key }));
        }
        World { team_id, members }
    }

    #[track_caller]
    pub fn member(&self, role: Role) -> &Member {
        self.members
            .iter()
            .find(|(r, _)| *r == role)
            .map_or_else(|| panic!("this world has no {role:?}"), |(_, m)| m)
    }

    #[track_caller]
    pub fn team_admin_key(&self) -> &str {
        &self.member(Role::TeamAdmin).key
    }

    #[track_caller]
    pub fn editor_key(&self) -> &str {
        &self.member(Role::Editor).key
    }

    #[track_caller]
    pub fn viewer_key(&self) -> &str {
        &self.member(Role::Viewer).key
    }

    #[track_caller]
    pub fn outsider_key(&self) -> &str {
        &self.member(Role::Outsider).key
    }

    #[track_caller]
    pub fn team_admin_id(&self) -> i64 {
        self.member(Role::TeamAdmin).id
    }

    #[track_caller]
    pub fn editor_id(&self) -> i64 {
        self.member(Role::Editor).id
    }

    #[track_caller]
    pub fn viewer_id(&self) -> i64 {
        self.member(Role::Viewer).id
    }

    #[track_caller]
    pub fn outsider_id(&self) -> i64 {
        self.member(Role::Outsider).id
    }
}

impl Server {
    /// Creates a team as the owner; returns its id.
    pub async fn team(&self, name: &str) -> i64 {
        let (status, body) = self
            .post("/api/v1/teams", OWNER_KEY, json!({ "name": name }))
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Creates a user with an API key, optionally a member of `team` with `role`.
    pub async fn user(&self, email: &str, team: Option<(i64, &str)>) -> (i64, String) {
        let (status, user) = self
            .post("/api/v1/admin/users", OWNER_KEY, json!({ "email": email }))
            .await;
        assert_eq!(status, 201, "{user}");
        let id = user["id"].as_i64().unwrap();
        let (status, key) = self
            .post(
                &format!("/api/v1/admin/users/{id}/api_keys"),
                OWNER_KEY,
                json!({ "name": "test" }),
            )
            .await;
        assert_eq!(status, 201, "{key}");
        if let Some((team_id, role)) = team {
            self.invite(team_id, id, role).await;
        }
        (id, key["key"].as_str().unwrap().to_string())
    }

    pub async fn invite(&self, team_id: i64, user_id: i64, role: &str) {
        let (status, body) = self
            .post(
                &format!("/api/v1/teams/{team_id}/invite_member"),
                OWNER_KEY,
                json!({ "user_id": user_id, "role": role }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Creates a CREDENTIAL folder in `team_id` as `key`; returns its id.
    pub async fn folder(&self, key: &str, team_id: i64, name: &str) -> i64 {
        let (status, folder) = self
            .post(
                "/api/v1/folders",
                key,
                json!({ "name": name, "content_type": "CREDENTIAL", "team_id": team_id }),
            )
            .await;
        assert_eq!(status, 201, "{folder}");
        folder["id"].as_i64().unwrap()
    }

    /// Creates a credential as `key`; returns status and body.
    pub async fn create_credential(&self, key: &str, body: Value) -> (u16, Value) {
        self.post(CREDENTIALS, key, body).await
    }
}
