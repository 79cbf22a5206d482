//! Expiry notifications (API.md §7) against a real SMTP server (aiosmtpd, [`MailSink`]) and a
//! real HTTP receiver ([`WebhookReceiver`]): what is sent, to whom, when, and that each message
//! is sent once across retries, restarts, instances and killed processes. Servers look every
//! second; credentials are created with an `expires_at` that puts them past the threshold a
//! test is about, or (in process) the scheduler is ticked at a time of the test's choosing.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::support::*;

mod changes;
mod delivery;
mod reliability;

pub const DAY_MS: i64 = 86_400_000;
pub const SENDER: &str = "credvault@notify.example";

/// A server's environment for notifications through `sink`, looked for every second.
pub fn mailing(sink: &MailSink) -> Vec<(&'static str, String)> {
    vec![
        ("CREDVAULT_NOTIFY_INTERVAL_SECONDS", "1".into()),
        ("CREDVAULT_SMTP_URL", sink.url()),
        ("CREDVAULT_SMTP_FROM", SENDER.into()),
    ]
}

/// Starts a server on `dir` with `env`.
pub fn start_with(dir: &std::path::Path, env: &[(&'static str, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_in(dir, &env).expect("server failed to start")
}

/// A server whose relay is down: reminders stay pending, retried.
pub fn relay_down() -> (TempDir, Server, u16) {
    let port = free_port();
    let dir = TempDir::new().unwrap();
    let server = start_with(
        dir.path(),
        &[
            ("CREDVAULT_NOTIFY_INTERVAL_SECONDS", "1".into()),
            ("CREDVAULT_SMTP_URL", format!("smtp://127.0.0.1:{port}")),
        ],
    );
    (dir, server, port)
}

/// Waits until the credential's reminder has failed once.
pub async fn failed_once(server: &Server, id: i64) -> Vec<Value> {
    notifications_until(server, id, "a failed attempt", |f| {
        f.len() == 1 && f[0]["attempts"].as_i64() >= Some(1) && f[0]["last_error"].is_string()
    })
    .await
}

/// A server whose relay is down, and the owner's credential `name` due for its 1-day
/// reminder, which has failed once and stays pending: the server's data directory, the
/// server, the relay's port and the credential.
pub async fn pending_behind_a_down_relay(name: &str) -> (TempDir, Server, u16, i64) {
    let (dir, server, port) = relay_down();
    let team = server.team("Ops").await;
    let id = expiring(&server, OWNER_KEY, team, name, &from_now(DAY_MS / 2), &[]).await;
    let failed = failed_once(&server, id).await;
    assert_eq!(
        (failed[0]["attempts"].clone(), failed[0]["status"].clone()),
        (json!(1), json!("PENDING"))
    );
    (dir, server, port, id)
}

/// Now plus `ms`, as RFC 3339 in UTC (so that its first ten characters are the date).
pub fn from_now(ms: i64) -> String {
    let at = OffsetDateTime::now_utc() + time::Duration::milliseconds(ms);
    at.format(&Rfc3339).unwrap()
}

/// The subject of a reminder of `name` expiring at `expires_at` (RFC 3339 UTC).
pub fn reminder_subject(name: &str, expires_at: &str) -> String {
    format!("Credential \"{name}\" expires on {}", &expires_at[..10])
}

/// Creates, as `key`, a TEXT credential of `team` expiring at `expires_at` with reminders on,
/// for `recipients` (empty: its owner); returns its id.
pub async fn expiring(
    server: &Server,
    key: &str,
    team: i64,
    name: &str,
    expires_at: &str,
    recipients: &[i64],
) -> i64 {
    let mut body = text_body(team, name, "s3cr3t-text-value");
    body["expires_at"] = json!(expires_at);
    body["expiry_notifications_enabled"] = json!(true);
    body["credential_notification_recipient_user_ids"] = json!(recipients);
    let (status, created) = server.create_credential(key, body).await;
    assert_eq!(status, 201, "{created}");
    id_of(&created)
}

/// The credential's notifications, as the owner.
pub async fn notifications(server: &Server, id: i64) -> Vec<Value> {
    let (status, body) = server
        .get(&format!("{}/notifications", cred_path(id)), OWNER_KEY)
        .await;
    assert_eq!(status, 200, "{body}");
    body["notifications"].as_array().unwrap().clone()
}

/// Waits (15 s at most) until the credential's notifications satisfy `done`.
pub async fn notifications_until(
    server: &Server,
    id: i64,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = notifications(server, id).await;
        if done(&found) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} within 15 s; notifications: {found:#?}\nlogs:\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until every notification of the credential has the status `status` (and there is one).
pub async fn all_with_status(server: &Server, id: i64, status: &str) -> Vec<Value> {
    notifications_until(server, id, status, |found| {
        !found.is_empty() && found.iter().all(|n| n["status"] == status)
    })
    .await
}

/// Gives the server's scheduler `ticks` more rounds (of one second) to do what it should not.
pub async fn let_ticks_pass(ticks: u64) {
    tokio::time::sleep(Duration::from_millis(1000 * ticks + 500)).await;
}

/// (recipients, subject) of each mail, sorted.
pub fn addressed(mails: &[Mail]) -> Vec<(String, String)> {
    let mut out: Vec<_> = mails
        .iter()
        .map(|m| (m.to.join(","), m.subject.clone()))
        .collect();
    out.sort();
    out
}

/// HMAC-SHA256 (RFC 2104), written out here so that the server's signatures are checked by
/// code that does not share its implementation.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

#[test]
fn hmac_matches_rfc_4231_case_2() {
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}
