//! The audit log (API.md §8): what each change records ([`entries`]), that no entry holds a
//! secret ([`redaction`]), `GET /audit_logs` with its filters and pages ([`listing`]), mints
//! counted per minute ([`mints`]), the hash chain and `credvault audit verify` ([`chain`]),
//! the JSON-lines file ([`stream`]), and a change and its entry surviving a crash together
//! ([`crash`]).

mod chain;
mod crash;
mod entries;
mod listing;
mod mints;
mod redaction;
mod stream;

use std::process::{Command, Output};

use reqwest::header::USER_AGENT;
use reqwest::Method;
use serde_json::Value;

use crate::support::*;

pub const AUDIT_LOGS: &str = "/api/v1/audit_logs";

/// The user agent [`act`] sends.
pub const AGENT: &str = "credvault-audit-tests/1.0";

/// The bootstrapped owner, as entries name it.
pub const OWNER_ID: i64 = 1;
pub const OWNER_EMAIL: &str = "owner@localhost";
pub const OWNER_NAME: &str = "Owner";

/// `GET /audit_logs?{query}` as the owner: 200; the whole body.
pub async fn list(server: &Server, query: &str) -> Value {
    let path = format!("{AUDIT_LOGS}?{query}");
    let (status, body) = server.get(&path, OWNER_KEY).await;
    assert_eq!(status, 200, "GET {path} → {body}");
    body
}

/// The entries of [`list`], newest first.
pub async fn entries(server: &Server, query: &str) -> Vec<Value> {
    let body = list(server, query).await;
    body["audit_logs"]
        .as_array()
        .unwrap_or_else(|| panic!("no audit_logs array: {body}"))
        .clone()
}

/// Every entry, oldest first: the chain's order.
pub async fn chain(server: &Server) -> Vec<Value> {
    let body = list(server, "per_page=500").await;
    assert!(
        body["meta"]["count"].as_i64().unwrap() <= 500,
        "{}",
        body["meta"]
    );
    let mut all = body["audit_logs"].as_array().unwrap().clone();
    all.reverse();
    all
}

/// The newest entry.
pub async fn last_entry(server: &Server) -> Value {
    entries(server, "per_page=1")
        .await
        .into_iter()
        .next()
        .expect("the log is empty")
}

/// The newest entry's id: the length of the chain.
pub async fn last_id(server: &Server) -> i64 {
    last_entry(server).await["id"].as_i64().unwrap()
}

/// The entries of `operation`, newest first.
pub async fn entries_of(server: &Server, operation: &str) -> Vec<Value> {
    entries(
        server,
        &format!("per_page=500&operation_name[]={operation}"),
    )
    .await
}

/// A request as a client that names itself ([`AGENT`]): status and JSON body.
pub async fn act(
    server: &Server,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server
        .request(method, path)
        .bearer_auth(key)
        .header(USER_AGENT, AGENT);
    if let Some(body) = body {
        req = req.json(&body);
    }
    Server::read(req).await
}

/// [`act`], expecting `want`; returns the body.
pub async fn act_ok(
    server: &Server,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
    want: u16,
) -> Value {
    let (status, resp) = act(server, method.clone(), path, key, body.clone()).await;
    assert_eq!(status, want, "{method} {path} {body:?} → {resp}");
    resp
}

/// Asserts that `entry` records `operation` made by this user through [`act`]: the user's
/// id, email and name, the client's address and user agent.
#[track_caller]
pub fn assert_made_by(entry: &Value, operation: &str, user: (i64, &str, &str)) {
    assert_eq!(entry["operation_name"], operation, "{entry}");
    assert_eq!(entry["user_id"], user.0, "{entry}");
    assert_eq!(entry["user_email"], user.1, "{entry}");
    assert_eq!(entry["user_name"], user.2, "{entry}");
    assert_eq!(entry["request_ip"], "127.0.0.1", "{entry}");
    assert_eq!(entry["request_user_agent"], AGENT, "{entry}");
}

/// The owner, as [`assert_made_by`] takes a user.
pub const OWNER: (i64, &str, &str) = (OWNER_ID, OWNER_EMAIL, OWNER_NAME);

/// Asserts that `entry` records `operation` by the system: no user, no request.
#[track_caller]
pub fn assert_by_the_system(entry: &Value, operation: &str) {
    assert_eq!(entry["operation_name"], operation, "{entry}");
    for field in [
        "user_id",
        "user_email",
        "user_name",
        "request_ip",
        "request_user_agent",
    ] {
        assert_eq!(entry[field], Value::Null, "{field}: {entry}");
    }
}

/// `credvault <args>` on `server`'s database (SQLite file in its data directory, or its
/// PostgreSQL database), with `env`.
pub fn credvault_on(server: &Server, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_credvault"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(&server.data_dir)
        .env_remove("CREDVAULT_MASTER_KEY")
        .env_remove("CREDVAULT_NEW_MASTER_KEY")
        .env_remove("CREDVAULT_DATABASE_URL")
        .env_remove("CREDVAULT_AUDIT_LOG_FILE");
    if let Some(url) = server.database_url() {
        cmd.env("CREDVAULT_DATABASE_URL", url);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("cannot run credvault")
}

/// `credvault audit verify` on `server`'s database.
pub fn verify(server: &Server) -> Output {
    credvault_on(server, &["audit", "verify"], &[])
}

/// Runs [`verify`], expecting exit 0; returns the number of entries it reports.
#[track_caller]
pub fn verified_count(server: &Server) -> i64 {
    let out = verify(server);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    stdout
        .trim()
        .strip_prefix("ok: the audit log's ")
        .and_then(|rest| rest.strip_suffix(" entries form an unbroken chain"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output: {stdout}"))
}

/// Runs [`verify`], expecting exit 1 with `message` on stderr and nothing on stdout.
#[track_caller]
pub fn assert_verify_fails(server: &Server, message: &str) {
    let out = verify(server);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stderr.contains(message), "{message:?} not in: {stderr}");
    assert!(stdout.trim().is_empty(), "{stdout}");
}
