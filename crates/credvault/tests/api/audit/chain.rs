//! The hash chain (API.md §8): each entry's `hash` is SHA-256 over the previous entry's hash
//! and its own canonical JSON, so that `credvault audit verify` finds the first row changed,
//! deleted or reordered behind the server's back (here with SQL on its database).

use std::fmt::Write as _;

use reqwest::Method;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::*;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A fresh server with six entries: the bootstrap (1, 2), a team (3), a credential created
/// (4), updated (5) and deleted (6).
async fn six_entries() -> Server {
    let server = Server::start();
    let team = server.team("Chain").await;
    let id = create_ok(&server, text_body(team, "Linked", "s")).await;
    put_ok(
        &server,
        id,
        json!({ "mode": "TEXT", "description": "changed" }),
    )
    .await;
    let (status, _) = server
        .call(Method::DELETE, &cred_path(id), Some(OWNER_KEY), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(last_id(&server).await, 6);
    server
}

/// `value` as the chain hashes it: object keys sorted at every depth, no whitespace.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The hash a listed entry must have: SHA-256 (hex) over its `previous_hash` and the
/// canonical JSON of its fields (times in milliseconds; not the hashes, nor the constant
/// fields `updated_at`, `tenant_id` and `story_id`).
fn expected_hash(entry: &Value) -> String {
    let mut fields = Map::new();
    fields.insert(
        "created_at".into(),
        rfc3339_millis(&entry["created_at"]).into(),
    );
    for key in [
        "id",
        "inputs",
        "operation_name",
        "outputs",
        "request_ip",
        "request_user_agent",
        "user_email",
        "user_id",
        "user_name",
    ] {
        fields.insert(key.into(), entry[key].clone());
    }
    let mut text = String::new();
    canonical(&Value::Object(fields), &mut text);
    let mut sha = Sha256::new();
    sha.update(entry["previous_hash"].as_str().unwrap().as_bytes());
    sha.update(text.as_bytes());
    sha.finalize().iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

#[tokio::test]
async fn verify_passes_on_an_untouched_log_and_counts_its_entries() {
    let server = six_entries().await;
    let count = list(&server, "per_page=1").await["meta"]["count"].clone();
    assert_eq!(json!(verified_count(&server)), count);
    assert_eq!(count, 6);
}

#[tokio::test]
async fn each_entry_links_to_the_hash_of_the_one_before() {
    let server = six_entries().await;
    let log = chain(&server).await;
    let mut previous = GENESIS.to_string();
    for (n, entry) in (1..).zip(&log) {
        assert_eq!(entry["id"], n, "{entry}");
        assert_eq!(entry["previous_hash"], previous.as_str(), "{entry}");
        previous = entry["hash"].as_str().unwrap().to_string();
    }
}

#[tokio::test]
async fn each_hash_is_sha256_of_the_previous_hash_and_the_entry_in_canonical_json() {
    let server = six_entries().await;
    for entry in chain(&server).await {
        assert_eq!(entry["hash"], expected_hash(&entry).as_str(), "{entry}");
    }
}

#[tokio::test]
async fn verify_names_an_entry_whose_row_was_changed() {
    let server = six_entries().await;
    server.run_sql("UPDATE audit_logs SET request_ip = '10.9.8.7' WHERE id = 3");
    assert_verify_fails(&server, "audit entry 3 was changed");
}

#[tokio::test]
async fn verify_names_the_entry_after_a_row_changed_with_its_hash_recomputed() {
    let server = six_entries().await;
    let mut forged = chain(&server).await[2].clone();
    forged["request_ip"] = json!("10.9.8.7");
    let hash = expected_hash(&forged);
    server.run_sql(&format!(
        "UPDATE audit_logs SET request_ip = '10.9.8.7', hash = '{hash}' WHERE id = 3"
    ));
    assert_verify_fails(&server, "audit entry 4 does not follow entry 3");
}

#[tokio::test]
async fn verify_names_a_deleted_entry() {
    let server = six_entries().await;
    server.run_sql("DELETE FROM audit_logs WHERE id = 4");
    assert_verify_fails(&server, "audit entry 4 is missing");
}

#[tokio::test]
async fn verify_names_the_first_of_two_reordered_entries() {
    let server = six_entries().await;
    // Rows 3 and 4 trade places: each keeps its contents under the other's id.
    server.run_sql("UPDATE audit_logs SET id = -id WHERE id IN (3, 4)");
    server.run_sql("UPDATE audit_logs SET id = 7 + id WHERE id < 0");
    let log = chain(&server).await;
    assert_eq!(
        log[2]["operation_name"], "CredentialSave",
        "set-up: swapped"
    );
    assert_verify_fails(&server, "audit entry 3 was changed");
}

/// SQL giving row `to` the operation, inputs and hash of row `from`.
fn copy_contents(from: i64, to: i64) -> String {
    let column = |c: &str| format!("{c} = (SELECT {c} FROM audit_logs WHERE id = {from})");
    format!(
        "UPDATE audit_logs SET {}, {}, {} WHERE id = {to}",
        column("operation_name"),
        column("inputs"),
        column("hash")
    )
}

#[tokio::test]
async fn verify_names_the_first_of_two_entries_whose_contents_were_swapped() {
    let server = six_entries().await;
    // Row 3's contents are kept aside as row -3 while rows 3 and 4 trade them.
    server.run_sql(
        "INSERT INTO audit_logs (id, created_at, operation_name, inputs, outputs, request_ip, \
         request_user_agent, user_id, user_email, user_name, previous_hash, hash) \
         SELECT -3, created_at, operation_name, inputs, outputs, request_ip, \
         request_user_agent, user_id, user_email, user_name, previous_hash, hash \
         FROM audit_logs WHERE id = 3",
    );
    server.run_sql(&copy_contents(4, 3));
    server.run_sql(&copy_contents(-3, 4));
    server.run_sql("DELETE FROM audit_logs WHERE id = -3");
    let log = chain(&server).await;
    assert_eq!(
        (&log[2]["operation_name"], &log[3]["operation_name"]),
        (&json!("CredentialSave"), &json!("TeamCreation")),
        "set-up: swapped"
    );
    assert_verify_fails(&server, "audit entry 3 was changed");
}

#[tokio::test]
async fn verify_finds_a_deleted_last_entry_from_the_recorded_head() {
    let server = six_entries().await;
    server.run_sql("DELETE FROM audit_logs WHERE id = 6");
    assert_verify_fails(&server, "audit entries after 5 are missing");
}

#[tokio::test]
async fn verify_passes_while_the_server_appends() {
    let server = std::sync::Arc::new(Server::start());
    let team = server.team("Busy").await;
    let writer = {
        let server = server.clone();
        tokio::spawn(async move {
            for n in 0..60 {
                create_ok(&server, text_body(team, &format!("busy {n}"), "s")).await;
            }
        })
    };
    let mut counts = Vec::new();
    while !writer.is_finished() {
        let server = server.clone();
        counts.push(
            tokio::task::spawn_blocking(move || verified_count(&server))
                .await
                .unwrap(),
        );
    }
    writer.await.unwrap();
    assert!(counts.len() >= 2, "verify ran {} times", counts.len());
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(verified_count(&server), last_id(&server).await);
}

#[tokio::test]
async fn two_instances_writing_at_once_keep_one_unbroken_chain() {
    let tmp = tempfile::TempDir::new().unwrap();
    let first = Server::start_in(tmp.path(), &[]).unwrap();
    let second = Server::start_in(tmp.path(), &[]).unwrap();
    let team = first.team("Shared").await;
    tokio::join!(
        async {
            for n in 0..40 {
                create_ok(&first, text_body(team, &format!("first {n}"), "s")).await;
            }
        },
        async {
            for n in 0..40 {
                create_ok(&second, text_body(team, &format!("second {n}"), "s")).await;
            }
        },
    );
    let saves = entries_of(&first, "CredentialSave").await;
    assert_eq!(saves.len(), 80);
    assert_eq!(verified_count(&first), last_id(&second).await);
}
