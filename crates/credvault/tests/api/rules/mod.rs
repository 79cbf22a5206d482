//! Refusal rules, table-driven: every rule of API.md §4.1 (credential create, common, JWT and
//! TEXT fields, test credentials), §3 (users, API keys, teams, members, folders) and the §2
//! conventions, each with its exact status and error `field`. Each table runs all of its cases
//! and then reports every case that failed by name.
//!
//! This module holds the table runners; the tables are in its submodules.

mod common_fields;
mod conventions;
mod jwt_and_text_fields;
mod tenant;
mod test_credentials;

use std::panic::{catch_unwind, AssertUnwindSafe};

use reqwest::Method;
use serde_json::Value;

use crate::support::*;

/// Fields every credential response MUST have (API.md §4.1).
const RESPONSE_FIELDS: [&str; 22] = [
    "id",
    "name",
    "mode",
    "team_id",
    "folder_id",
    "read_access",
    "shared_team_slugs",
    "description",
    "slug",
    "created_at",
    "updated_at",
    "allowed_hosts",
    "metadata",
    "restriction_type",
    "test_credential_enabled",
    "test_credential",
    "owner",
    "expires_at",
    "expiry_notifications_enabled",
    "credential_notification_recipient_user_ids",
    "owner/user_id",
    "owner/email",
];

/// Fields that hold secrets in a request and must never come back.
const SECRET_FIELDS: [&str; 3] = ["value", "jwt_private_key", "jwt_private_key_passphrase"];

/// One change to a case's base request body.
enum Edit {
    Set(&'static str, Value),
    Remove(&'static str),
}
use Edit::{Remove, Set};

/// What a case expects back.
enum Want {
    /// This 2xx status, and these response fields (a JSON pointer without the leading `/`)
    /// with exactly these values.
    Ok(u16, Vec<(&'static str, Value)>),
    /// An error: status, the error's `field`, and a word of its message.
    Error(u16, Option<&'static str>, &'static str),
}

fn ok(status: u16, fields: Vec<(&'static str, Value)>) -> Want {
    Want::Ok(status, fields)
}

fn err(status: u16, field: Option<&'static str>, needle: &'static str) -> Want {
    Want::Error(status, field, needle)
}

/// Checks one response; on a mismatch the assertion's message is printed, followed by the
/// case's name, and `false` is returned so that the table goes on.
fn check(case: &str, status: u16, body: &Value, want: &Want) -> bool {
    let outcome = catch_unwind(AssertUnwindSafe(|| match want {
        Want::Error(want_status, field, needle) => {
            assert_error(status, body, *want_status, *field, needle);
        }
        Want::Ok(want_status, fields) => {
            assert_eq!(status, *want_status, "body: {body}");
            for (path, value) in fields {
                assert_eq!(
                    body.pointer(&format!("/{path}")),
                    Some(value),
                    "response field {path}: {body}"
                );
            }
        }
    }));
    if outcome.is_err() {
        eprintln!("^^^ case {case:?} failed");
    }
    outcome.is_ok()
}

/// A create-credential case: `edits` applied to the table's base body, sent with `key`.
struct Case {
    name: &'static str,
    key: String,
    edits: Vec<Edit>,
    want: Want,
}

fn case(name: &'static str, key: &str, edits: Vec<Edit>, want: Want) -> Case {
    Case {
        name,
        key: key.to_string(),
        edits,
        want,
    }
}

/// Runs create-credential cases in order; each starts from `base(<unique name>)`. Every 201
/// is also checked for the full Tines response shape and for the absence of secrets.
async fn run_create_cases(server: &Server, base: impl Fn(&str) -> Value, cases: Vec<Case>) {
    let mut failed = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let mut body = base(&format!("rules case {i}"));
        let map = body.as_object_mut().unwrap();
        for edit in &c.edits {
            match edit {
                Set(k, v) => {
                    map.insert(k.to_string(), v.clone());
                }
                Remove(k) => {
                    map.remove(*k);
                }
            }
        }
        let (status, resp) = server.create_credential(&c.key, body.clone()).await;
        let mut passed = check(c.name, status, &resp, &c.want);
        if passed && (200..300).contains(&status) {
            passed = check_credential_shape(c.name, &body, &resp);
        }
        if !passed {
            failed.push(c.name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");
}

/// A credential response has every Tines field and no secret (API.md §2, §4.1).
fn check_credential_shape(case: &str, request: &Value, resp: &Value) -> bool {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        for path in RESPONSE_FIELDS {
            assert!(
                resp.pointer(&format!("/{path}")).is_some(),
                "response lacks {path}: {resp}"
            );
        }
        for field in SECRET_FIELDS {
            assert!(resp.get(field).is_none(), "response has {field}: {resp}");
            if let Some(secret) = request[field].as_str().filter(|s| s.len() >= 8) {
                assert!(
                    !resp.to_string().contains(secret),
                    "response contains the {field} sent: {resp}"
                );
            }
        }
        for time in ["created_at", "updated_at"] {
            assert!(
                resp[time].as_str().is_some_and(is_api_time),
                "{time} is not an RFC 3339 UTC time with milliseconds: {resp}"
            );
        }
        let restricted = resp["allowed_hosts"]
            .as_array()
            .is_some_and(|h| !h.is_empty());
        let want = if restricted {
            "RESTRICTED"
        } else {
            "UNRESTRICTED"
        };
        assert_eq!(resp["restriction_type"], want, "{resp}");
    }));
    if outcome.is_err() {
        eprintln!("^^^ case {case:?} failed");
    }
    outcome.is_ok()
}

/// An arbitrary request case.
struct Call {
    name: &'static str,
    method: Method,
    path: String,
    key: String,
    body: Option<Value>,
    want: Want,
}

fn call(
    name: &'static str,
    method: Method,
    path: impl Into<String>,
    key: &str,
    body: Option<Value>,
    want: Want,
) -> Call {
    Call {
        name,
        method,
        path: path.into(),
        key: key.to_string(),
        body,
        want,
    }
}

async fn run_calls(server: &Server, calls: Vec<Call>) {
    let mut failed = Vec::new();
    for c in &calls {
        let (status, resp) = server
            .call(c.method.clone(), &c.path, Some(&c.key), c.body.clone())
            .await;
        if !check(c.name, status, &resp, &c.want) {
            failed.push(c.name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");
}
