//! The role matrix of the credential endpoints (API.md §2 statuses, §3 roles, §4 credentials,
//! §5 "Who may mint" for how GLOBAL and SPECIFIC_TEAMS consumers relate to reads): create, get,
//! list, update and delete × every kind of caller, each cell with its exact status. Every cell
//! runs, and the failing ones are reported together by name at the end.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// Who calls, relative to the team that owns the credentials under test.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    /// The tenant admin (`OWNER_KEY`).
    Admin,
    TeamAdmin,
    Editor,
    Viewer,
    /// EDITOR of another team: a consumer of any GLOBAL credential.
    GlobalConsumer,
    /// EDITOR of the team listed in the SPECIFIC_TEAMS credential's `shared_team_slugs`.
    SpecificConsumer,
    /// Member of an unrelated team only.
    Outsider,
    /// No API key at all.
    NoKey,
}

impl Who {
    /// A member of the owning team, or the tenant admin: may read.
    fn reads(self) -> bool {
        matches!(
            self,
            Who::Admin | Who::TeamAdmin | Who::Editor | Who::Viewer
        )
    }

    /// EDITOR+ of the owning team, or the tenant admin: may create, update and delete.
    fn writes(self) -> bool {
        matches!(self, Who::Admin | Who::TeamAdmin | Who::Editor)
    }

    /// The status of a write (create, update, delete) whose success is `ok`.
    fn write_status(self, ok: u16) -> u16 {
        match self {
            _ if self.writes() => ok,
            Who::Viewer => 403,
            Who::NoKey => 401,
            _ => 404,
        }
    }

    /// The status of a delete: TEAM_ADMIN and above (Tines' EDITORs cannot delete).
    fn delete_status(self) -> u16 {
        match self {
            Who::Admin | Who::TeamAdmin => 204,
            Who::Editor | Who::Viewer => 403,
            Who::NoKey => 401,
            _ => 404,
        }
    }

    /// The status of a read of the credential or of the owning team's list.
    fn read_status(self) -> u16 {
        match self {
            _ if self.reads() => 200,
            Who::NoKey => 401,
            _ => 404,
        }
    }
}

struct Caller {
    name: &'static str,
    who: Who,
    email: String,
    key: Option<String>,
}

impl Caller {
    fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
}

/// The two credentials under test: one per sharing column.
struct Shared {
    label: &'static str,
    id: i64,
}

/// A JWT credential body shared as `read_access` says (SPECIFIC_TEAMS: with the team `specific`).
fn shared_body(team_id: i64, name: &str, read_access: &str) -> Value {
    let mut body = jwt_body(team_id, name);
    body["read_access"] = json!(read_access);
    if read_access == "SPECIFIC_TEAMS" {
        body["shared_team_slugs"] = json!(["specific"]);
    }
    body
}

/// The expected status, and for an error status the Tines error shape with no `field`.
#[track_caller]
fn assert_status(status: u16, body: &Value, want: u16) {
    if want >= 400 {
        assert_error(status, body, want, None, "");
    } else {
        assert_eq!(status, want, "body: {body}");
    }
}

/// The teams `owning`, `consumer`, `specific` and `unrelated`; one caller of each kind; and
/// the two credentials of `owning` under test, one GLOBAL and one SPECIFIC_TEAMS (shared with
/// `specific`). Returns the owning team too.
async fn matrix(server: &Server) -> (i64, Vec<Caller>, Vec<Shared>) {
    let owning = server.team("owning").await;
    let consumer = server.team("consumer").await;
    let specific = server.team("specific").await;
    let unrelated = server.team("unrelated").await;
    let admin = Caller {
        name: "tenant admin",
        who: Who::Admin,
        email: "owner@localhost".into(),
        key: Some(OWNER_KEY.into()),
    };
    let mut callers = vec![admin];
    #[rustfmt::skip]
    let users = [
        ("TEAM_ADMIN of owning", Who::TeamAdmin, "ta@example.com", owning, "TEAM_ADMIN"),
        ("EDITOR of owning", Who::Editor, "ed@example.com", owning, "EDITOR"),
        ("VIEWER of owning", Who::Viewer, "vi@example.com", owning, "VIEWER"),
        ("EDITOR of consumer (GLOBAL consumer)", Who::GlobalConsumer, "gc@example.com", consumer, "EDITOR"),
        ("EDITOR of specific (SPECIFIC_TEAMS consumer)", Who::SpecificConsumer, "sc@example.com", specific, "EDITOR"),
        ("EDITOR of unrelated (outsider)", Who::Outsider, "out@example.com", unrelated, "EDITOR"),
    ];
    for (name, who, email, team, role) in users {
        let (_, key) = server.user(email, Some((team, role))).await;
        let email = email.into();
        callers.push(Caller {
            name,
            who,
            email,
            key: Some(key),
        });
    }
    let email = String::new();
    callers.push(Caller {
        name: "no API key",
        who: Who::NoKey,
        email,
        key: None,
    });

    let mut shared = Vec::new();
    for label in ["GLOBAL", "SPECIFIC_TEAMS"] {
        let body = shared_body(owning, &format!("under test {label}"), label);
        let (status, resp) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 201, "set-up: {resp}");
        assert_eq!(resp["read_access"], label, "set-up: {resp}");
        shared.push(Shared {
            label,
            id: id_of(&resp),
        });
    }
    (owning, callers, shared)
}

/// Prints the cells that ran, then fails with the failed ones.
#[track_caller]
fn report(ran: &[String], failed: &[String]) {
    eprintln!("matrix: {} cells\n  {}", ran.len(), ran.join("\n  "));
    assert_no_failures("matrix", ran.len(), failed);
}

#[tokio::test]
async fn who_may_create_in_the_owning_team() {
    let server = Server::start();
    let (owning, callers, _) = matrix(&server).await;
    let (mut failed, mut ran) = (Vec::new(), Vec::new());
    for c in &callers {
        let want = c.who.write_status(201);
        let body = jwt_body(owning, &format!("created by {}", c.name));
        let (status, resp) = server
            .call(Method::POST, CREDENTIALS, c.key(), Some(body))
            .await;
        let name = format!("create / {}", c.name);
        ran.push(format!("{name} → {want}"));
        cell(&mut failed, name, &format!("POST {CREDENTIALS}"), || {
            assert_status(status, &resp, want);
            if want == 201 {
                assert_eq!(resp["team_id"], owning, "{resp}");
                assert_eq!(resp["owner"]["email"], c.email.as_str(), "{resp}");
            }
        });
    }
    report(&ran, &failed);
}

#[tokio::test]
async fn who_may_read_a_shared_credential() {
    let server = Server::start();
    let (_, callers, shared) = matrix(&server).await;
    let (mut failed, mut ran) = (Vec::new(), Vec::new());
    for s in &shared {
        for c in &callers {
            let want = c.who.read_status();
            let path = cred_path(s.id);
            let (status, resp) = server.call(Method::GET, &path, c.key(), None).await;
            let name = format!("get {} / {}", s.label, c.name);
            ran.push(format!("{name} → {want}"));
            cell(&mut failed, name, &format!("GET {path}"), || {
                assert_status(status, &resp, want);
                if want == 200 {
                    assert_eq!(resp["id"], s.id, "{resp}");
                }
            });
        }
    }
    report(&ran, &failed);
}

/// A list as caller `c`: with a key 200, listing the shared credentials exactly to those who
/// may read them and no owning-team credential to anyone else.
#[track_caller]
fn check_list(c: &Caller, shared: &[Shared], owning: i64, status: u16, resp: &Value) {
    let want = if c.key.is_some() { 200 } else { 401 };
    assert_status(status, resp, want);
    if want != 200 {
        return;
    }
    let ids = listed_ids(resp);
    for s in shared {
        assert_eq!(
            ids.contains(&s.id),
            c.who.reads(),
            "credential {} ({}) listed: {resp}",
            s.id,
            s.label
        );
    }
    if !c.who.reads() {
        let listed = resp["user_credentials"].as_array().unwrap();
        let owning_listed = listed.iter().any(|cred| cred["team_id"] == owning);
        assert!(!owning_listed, "an owning-team credential listed: {resp}");
    }
}

#[tokio::test]
async fn the_list_shows_shared_credentials_only_to_who_may_read_them() {
    let server = Server::start();
    let (owning, callers, shared) = matrix(&server).await;
    let (mut failed, mut ran) = (Vec::new(), Vec::new());
    for c in &callers {
        let path = format!("{CREDENTIALS}?per_page=500");
        let (status, resp) = server.call(Method::GET, &path, c.key(), None).await;
        let name = format!("list / {}", c.name);
        ran.push(match (c.key.is_some(), c.who.reads()) {
            (true, true) => format!("{name} → 200, both listed"),
            (true, false) => format!("{name} → 200, neither listed"),
            _ => format!("{name} → 401"),
        });
        cell(&mut failed, name, &format!("GET {path}"), || {
            check_list(c, &shared, owning, status, &resp);
        });
    }
    report(&ran, &failed);
}

#[tokio::test]
async fn who_may_list_the_owning_teams_credentials() {
    let server = Server::start();
    let (owning, callers, shared) = matrix(&server).await;
    let (mut failed, mut ran) = (Vec::new(), Vec::new());
    for c in &callers {
        let path = format!("{CREDENTIALS}?team_id={owning}&per_page=500");
        let want = c.who.read_status();
        let (status, resp) = server.call(Method::GET, &path, c.key(), None).await;
        let name = format!("list team_id=owning / {}", c.name);
        ran.push(format!("{name} → {want}"));
        cell(&mut failed, name, &format!("GET {path}"), || {
            assert_status(status, &resp, want);
            if want == 200 {
                let ids = listed_ids(&resp);
                for s in &shared {
                    assert!(ids.contains(&s.id), "{} not listed: {resp}", s.label);
                }
            }
        });
    }
    report(&ran, &failed);
}

#[tokio::test]
async fn who_may_update_a_shared_credential() {
    let server = Server::start();
    let (_, callers, shared) = matrix(&server).await;
    let (mut failed, mut ran) = (Vec::new(), Vec::new());
    for s in &shared {
        for c in &callers {
            let want = c.who.write_status(200);
            let path = cred_path(s.id);
            let description = format!("updated by {} ({})", c.name, s.label);
            let body = json!({ "mode": "JWT", "description": description });
            let (status, resp) = server
                .call(Method::PUT, &path, c.key(), Some(body.clone()))
                .await;
            let (_, after) = server.get(&path, OWNER_KEY).await;
            let name = format!("update {} / {}", s.label, c.name);
            ran.push(format!("{name} → {want}"));
            cell(&mut failed, name, &format!("PUT {path} {body}"), || {
                assert_status(status, &resp, want);
                if want == 200 {
                    assert_eq!(resp["description"], description.as_str(), "{resp}");
                    assert_eq!(after["description"], description.as_str(), "{after}");
                } else {
                    assert_ne!(
                        after["description"],
                        description.as_str(),
                        "a refused update took effect: {after}"
                    );
                }
            });
        }
    }
    report(&ran, &failed);
}

#[tokio::test]
async fn who_may_delete_a_shared_credential() {
    let server = Server::start();
    let (owning, callers, shared) = matrix(&server).await;
    let (mut failed, mut ran) = (Vec::new(), Vec::new());
    // Each delete on a fresh credential of its own.
    for s in &shared {
        for c in &callers {
            let want = c.who.delete_status();
            let body = shared_body(owning, &format!("delete {} {}", s.label, c.name), s.label);
            let (status, fresh) = server.create_credential(OWNER_KEY, body).await;
            assert_eq!(status, 201, "set-up: {fresh}");
            let path = cred_path(id_of(&fresh));
            let (status, resp) = server.call(Method::DELETE, &path, c.key(), None).await;
            let (after, _) = server.get(&path, OWNER_KEY).await;
            let name = format!("delete {} / {}", s.label, c.name);
            ran.push(format!("{name} → {want}"));
            cell(&mut failed, name, &format!("DELETE {path}"), || {
                assert_status(status, &resp, want);
                if want == 204 {
                    assert_eq!(resp, Value::Null, "a 204 has an empty body");
                    assert_eq!(after, 404, "the deleted credential is still there");
                } else {
                    assert_eq!(after, 200, "a refused delete took effect");
                }
            });
        }
    }
    report(&ran, &failed);
}

/// What a sharing-rule update expects.
enum Outcome {
    /// 200, and these fields with these values in the response and when read back.
    Changed(Value),
    /// 403 with this error `field`, and nothing changed.
    Refused(&'static str),
}
use Outcome::{Changed, Refused};

/// One sharing-rule update: `by` (the TEAM_ADMIN or the EDITOR) PUTs `body` to credential
/// `of` (0: the TEAM_ADMIN's, 1: the EDITOR's first, 2: the EDITOR's second).
struct Change {
    name: &'static str,
    by: Role,
    of: usize,
    body: Value,
    want: Outcome,
}

/// API.md §3: TEAM_ADMIN may also change sharing and `allowed_hosts` of others' credentials;
/// an EDITOR may change `allowed_hosts` of its own only, and never share beyond the team.
fn sharing_changes() -> Vec<Change> {
    let hosts = json!({ "mode": "JWT", "allowed_hosts": ["api.example.com"] });
    let restricted =
        json!({ "allowed_hosts": ["api.example.com"], "restriction_type": "RESTRICTED" });
    let global = json!({ "mode": "JWT", "read_access": "GLOBAL" });
    let change = |name, by, of, body: &Value, want| Change {
        name,
        by,
        of,
        body: body.clone(),
        want,
    };
    use Role::{Editor, TeamAdmin};
    #[rustfmt::skip]
    let changes = vec![
        change("EDITOR changes allowed_hosts of another user's credential", Editor, 0, &hosts, Refused("allowed_hosts")),
        change("EDITOR changes allowed_hosts of its own credential", Editor, 1, &hosts, Changed(restricted.clone())),
        change("TEAM_ADMIN changes allowed_hosts of another user's credential", TeamAdmin, 2, &hosts, Changed(restricted)),
        change("TEAM_ADMIN shares another user's credential GLOBAL", TeamAdmin, 2, &global, Changed(json!({ "read_access": "GLOBAL" }))),
        change("EDITOR shares its own credential GLOBAL", Editor, 1, &global, Refused("read_access")),
    ];
    changes
}

/// The outcome of one change: `resp` to the PUT, the credential `before` and `after` it.
#[track_caller]
fn check_change(want: &Outcome, status: u16, resp: &Value, before: &Value, after: &Value) {
    match want {
        Changed(fields) => {
            assert_eq!(status, 200, "body: {resp}");
            for (k, v) in fields.as_object().unwrap() {
                assert_eq!(&resp[k], v, "response field {k}: {resp}");
                assert_eq!(&after[k], v, "stored field {k}: {after}");
            }
        }
        Refused(field) => {
            assert_error(status, resp, 403, Some(field), field);
            for k in ["allowed_hosts", "read_access", "updated_at"] {
                assert_eq!(after[k], before[k], "a refused update changed {k}: {after}");
            }
        }
    }
}

#[tokio::test]
async fn update_sharing_rules_by_role_and_ownership() {
    let server = Server::start();
    let w = World::new(&server, "owning", &[Role::TeamAdmin, Role::Editor]).await;
    let mut ids = Vec::new();
    for (by, name) in [
        (Role::TeamAdmin, "team admin's"),
        (Role::Editor, "editor's first"),
        (Role::Editor, "editor's second"),
    ] {
        let body = jwt_body(w.team_id, name);
        let (status, resp) = server.create_credential(&w.member(by).key, body).await;
        assert_eq!(status, 201, "set-up: {resp}");
        ids.push(id_of(&resp));
    }
    let mut failed = Vec::new();
    let changes = sharing_changes();
    for Change {
        name,
        by,
        of,
        body,
        want,
    } in &changes
    {
        let path = cred_path(ids[*of]);
        let (_, before) = server.get(&path, OWNER_KEY).await;
        let key = &w.member(*by).key;
        let (status, resp) = server
            .call(Method::PUT, &path, Some(key), Some(body.clone()))
            .await;
        let (_, after) = server.get(&path, OWNER_KEY).await;
        cell(
            &mut failed,
            name.to_string(),
            &format!("PUT {path} {body}"),
            || check_change(want, status, &resp, &before, &after),
        );
    }
    assert_no_failures("sharing rules", changes.len(), &failed);
}
