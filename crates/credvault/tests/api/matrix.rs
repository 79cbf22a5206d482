//! The role matrix of the credential endpoints (API.md §2 statuses, §3 roles, §4 credentials,
//! §5 "Who may mint" for how GLOBAL and SPECIFIC_TEAMS consumers relate to reads): create, get,
//! list, update and delete × every kind of caller, each cell with its exact status. Every cell
//! runs, and the failing ones are reported together by name at the end.

use std::panic::{catch_unwind, AssertUnwindSafe};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

const CREDENTIALS: &str = "/api/v1/user_credentials";

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

/// Runs the checks of one cell; on a failed assertion, prints the cell's name and request and
/// records it in `failed` so that the table goes on.
fn cell(failed: &mut Vec<String>, name: String, request: &str, checks: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(checks)).is_err() {
        eprintln!("^^^ cell {name:?} failed; request: {request}");
        failed.push(name);
    }
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

#[tokio::test]
async fn credential_endpoints_role_matrix() {
    let server = Server::start();
    let owning = server.team("owning").await;
    let consumer = server.team("consumer").await;
    let specific = server.team("specific").await;
    let unrelated = server.team("unrelated").await;

    let mut callers = vec![Caller {
        name: "tenant admin",
        who: Who::Admin,
        email: "owner@localhost".into(),
        key: Some(OWNER_KEY.into()),
    }];
    for (name, who, email, team, role) in [
        (
            "TEAM_ADMIN of owning",
            Who::TeamAdmin,
            "ta@example.com",
            owning,
            "TEAM_ADMIN",
        ),
        (
            "EDITOR of owning",
            Who::Editor,
            "ed@example.com",
            owning,
            "EDITOR",
        ),
        (
            "VIEWER of owning",
            Who::Viewer,
            "vi@example.com",
            owning,
            "VIEWER",
        ),
        (
            "EDITOR of consumer (GLOBAL consumer)",
            Who::GlobalConsumer,
            "gc@example.com",
            consumer,
            "EDITOR",
        ),
        (
            "EDITOR of specific (SPECIFIC_TEAMS consumer)",
            Who::SpecificConsumer,
            "sc@example.com",
            specific,
            "EDITOR",
        ),
        (
            "EDITOR of unrelated (outsider)",
            Who::Outsider,
            "out@example.com",
            unrelated,
            "EDITOR",
        ),
    ] {
        let (_, key) = server.user(email, Some((team, role))).await;
        callers.push(Caller {
            name,
            who,
            email: email.into(),
            key: Some(key),
        });
    }
    callers.push(Caller {
        name: "no API key",
        who: Who::NoKey,
        email: String::new(),
        key: None,
    });

    let mut shared = Vec::new();
    for (label, access) in [("GLOBAL", "GLOBAL"), ("SPECIFIC_TEAMS", "SPECIFIC_TEAMS")] {
        let body = shared_body(owning, &format!("under test {label}"), access);
        let (status, resp) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 201, "set-up: {resp}");
        assert_eq!(resp["read_access"], access, "set-up: {resp}");
        shared.push(Shared {
            label,
            id: resp["id"].as_i64().unwrap(),
        });
    }

    let mut failed = Vec::new();
    let mut ran = Vec::new();

    // create in the owning team
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

    // get
    for s in &shared {
        for c in &callers {
            let want = c.who.read_status();
            let path = format!("{CREDENTIALS}/{}", s.id);
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

    // list, and list of the owning team
    for c in &callers {
        let path = format!("{CREDENTIALS}?per_page=500");
        let want = if c.key.is_some() { 200 } else { 401 };
        let (status, resp) = server.call(Method::GET, &path, c.key(), None).await;
        let name = format!("list / {}", c.name);
        ran.push(format!(
            "{name} → {want}{}",
            match (want, c.who.reads()) {
                (200, true) => ", both listed",
                (200, false) => ", neither listed",
                _ => "",
            }
        ));
        cell(&mut failed, name, &format!("GET {path}"), || {
            assert_status(status, &resp, want);
            if want == 200 {
                let ids = listed_ids(&resp);
                for s in &shared {
                    assert_eq!(
                        ids.contains(&s.id),
                        c.who.reads(),
                        "credential {} ({}) listed: {resp}",
                        s.id,
                        s.label
                    );
                }
                if !c.who.reads() {
                    let owning_listed = resp["user_credentials"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|cred| cred["team_id"] == owning);
                    assert!(!owning_listed, "an owning-team credential listed: {resp}");
                }
            }
        });

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

    // update
    for s in &shared {
        for c in &callers {
            let want = c.who.write_status(200);
            let path = format!("{CREDENTIALS}/{}", s.id);
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

    // delete, each on its own fresh credential
    for s in &shared {
        for c in &callers {
            let want = c.who.delete_status();
            let body = shared_body(owning, &format!("delete {} {}", s.label, c.name), s.label);
            let (status, fresh) = server.create_credential(OWNER_KEY, body).await;
            assert_eq!(status, 201, "set-up: {fresh}");
            let path = format!("{CREDENTIALS}/{}", fresh["id"]);
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

    eprintln!("matrix: {} cells\n  {}", ran.len(), ran.join("\n  "));
    assert!(
        failed.is_empty(),
        "{} of {} cells failed: {failed:#?}",
        failed.len(),
        ran.len()
    );
}

/// What a sharing-rule update expects.
enum Outcome {
    /// 200, and these fields with these values in the response and when read back.
    Changed(Value),
    /// 403 with this error `field`, and nothing changed.
    Refused(&'static str),
}
use Outcome::{Changed, Refused};

/// One update of the sharing-rule test.
struct Change<'a> {
    name: &'static str,
    key: &'a str,
    id: i64,
    body: Value,
    want: Outcome,
}

/// API.md §3: TEAM_ADMIN may also change sharing and `allowed_hosts` of others' credentials;
/// an EDITOR may change `allowed_hosts` of its own only, and never share beyond the team.
#[tokio::test]
async fn update_sharing_rules_by_role_and_ownership() {
    let server = Server::start();
    let owning = server.team("owning").await;
    let (_, team_admin) = server
        .user("ta@example.com", Some((owning, "TEAM_ADMIN")))
        .await;
    let (_, editor) = server
        .user("ed@example.com", Some((owning, "EDITOR")))
        .await;

    let mut ids = Vec::new();
    for (key, name) in [
        (&team_admin, "team admin's"),
        (&editor, "editor's first"),
        (&editor, "editor's second"),
    ] {
        let (status, resp) = server.create_credential(key, jwt_body(owning, name)).await;
        assert_eq!(status, 201, "set-up: {resp}");
        ids.push(resp["id"].as_i64().unwrap());
    }
    let (admins, editors, editors_second) = (ids[0], ids[1], ids[2]);
    let hosts = json!(["api.example.com"]);

    let cases = [
        Change {
            name: "EDITOR changes allowed_hosts of another user's credential",
            key: &editor,
            id: admins,
            body: json!({ "mode": "JWT", "allowed_hosts": hosts }),
            want: Refused("allowed_hosts"),
        },
        Change {
            name: "EDITOR changes allowed_hosts of its own credential",
            key: &editor,
            id: editors,
            body: json!({ "mode": "JWT", "allowed_hosts": hosts }),
            want: Changed(json!({ "allowed_hosts": hosts, "restriction_type": "RESTRICTED" })),
        },
        Change {
            name: "TEAM_ADMIN changes allowed_hosts of another user's credential",
            key: &team_admin,
            id: editors_second,
            body: json!({ "mode": "JWT", "allowed_hosts": hosts }),
            want: Changed(json!({ "allowed_hosts": hosts, "restriction_type": "RESTRICTED" })),
        },
        Change {
            name: "TEAM_ADMIN shares another user's credential GLOBAL",
            key: &team_admin,
            id: editors_second,
            body: json!({ "mode": "JWT", "read_access": "GLOBAL" }),
            want: Changed(json!({ "read_access": "GLOBAL" })),
        },
        Change {
            name: "EDITOR shares its own credential GLOBAL",
            key: &editor,
            id: editors,
            body: json!({ "mode": "JWT", "read_access": "GLOBAL" }),
            want: Refused("read_access"),
        },
    ];

    let mut failed = Vec::new();
    for Change {
        name,
        key,
        id,
        body,
        want,
    } in cases
    {
        let path = format!("{CREDENTIALS}/{id}");
        let (_, before) = server.get(&path, OWNER_KEY).await;
        let (status, resp) = server
            .call(Method::PUT, &path, Some(key), Some(body.clone()))
            .await;
        let (_, after) = server.get(&path, OWNER_KEY).await;
        cell(
            &mut failed,
            name.to_string(),
            &format!("PUT {path} {body}"),
            || match &want {
                Changed(fields) => {
                    assert_eq!(status, 200, "body: {resp}");
                    for (k, v) in fields.as_object().unwrap() {
                        assert_eq!(&resp[k], v, "response field {k}: {resp}");
                        assert_eq!(&after[k], v, "stored field {k}: {after}");
                    }
                }
                Refused(field) => {
                    assert_error(status, &resp, 403, Some(field), field);
                    for k in ["allowed_hosts", "read_access", "updated_at"] {
                        assert_eq!(after[k], before[k], "a refused update changed {k}: {after}");
                    }
                }
            },
        );
    }
    assert!(failed.is_empty(), "failed cases: {failed:#?}");
}
