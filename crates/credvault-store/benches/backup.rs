//! `credvault backup` at scale (API.md §9): the time to write a consistent snapshot of a
//! SQLite database holding 100,000 credentials. Reference, same run: copying the database file
//! (`std::fs::copy`, what a cold file copy costs, which is not a consistent backup of a
//! database in use).
//!
//! `cargo bench -p credvault-store --bench backup`

use std::sync::Arc;
use std::time::Instant;

use credvault_core::model::{Mode, ReadAccess};
use credvault_store::{AuditRecord, NewCredential, NewUser, SqliteStore, Store};
use serde_json::json;

const CREDENTIALS: usize = 100_000;

#[tokio::main]
async fn main() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("credvault.db");
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let owner = store
        .create_user(
            NewUser {
                email: "owner@bench.example".into(),
                first_name: String::new(),
                last_name: String::new(),
                admin: true,
            },
            bench_audit(),
        )
        .await
        .unwrap();
    let team = store
        .create_team("Bench", "bench", bench_audit())
        .await
        .unwrap();
    let started = Instant::now();
    // 64 creates in flight at a time, as concurrent API creates would be.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..CREDENTIALS {
        if tasks.len() >= 64 {
            tasks.join_next().await.unwrap().unwrap();
        }
        let store = store.clone();
        tasks.spawn(async move {
            store
                .create_credential(credential(team.id, owner.id, n), bench_audit())
                .await
                .unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    println!(
        "{CREDENTIALS} credentials inserted in {:.1?}",
        started.elapsed()
    );

    let snapshot = dir.path().join("snapshot.db");
    let started = Instant::now();
    store.backup_to(&snapshot).await.unwrap();
    let backup = started.elapsed();
    let size = std::fs::metadata(&snapshot).unwrap().len();
    let copy_to = dir.path().join("copy.db");
    let started = Instant::now();
    std::fs::copy(&db, &copy_to).unwrap();
    let copy = started.elapsed();
    println!("| what | time | bytes |");
    println!("| --- | --- | --- |");
    println!("| backup (VACUUM INTO) of {CREDENTIALS} credentials | {backup:.2?} | {size} |");
    println!(
        "| reference: std::fs::copy of the database file | {copy:.2?} | {} |",
        std::fs::metadata(&copy_to).unwrap().len()
    );
}

/// A JWT credential row the size of a real one: an RS256 key's sealed PKCS#8 (about 1.2 KB)
/// and a small payload.
fn credential(team_id: i64, owner_id: i64, n: usize) -> NewCredential {
    NewCredential {
        uid: format!("{n:032x}"),
        team_id,
        live_id: None,
        name: format!("credential {n}"),
        slug: format!("credential_{n}"),
        mode: Mode::Jwt,
        folder_id: None,
        read_access: ReadAccess::Team,
        shared_team_slugs: vec![],
        description: String::new(),
        metadata: json!({}).into(),
        allowed_hosts: vec![],
        owner_id,
        expires_at: None,
        expiry_notifications_enabled: false,
        notification_recipient_ids: vec![],
        config: json!({"algorithm": "RS256", "payload": {"sub": "svc"}}).into(),
        secret: vec![7; 1_250],
        issuer_id: format!("issuer{n:026x}"),
        key_id: Some(format!("kid-{n}")),
        rotate_at: None,
        notify_at: None,
    }
}

/// The audit record of the bench's writes.
fn bench_audit() -> AuditRecord {
    AuditRecord::system("BenchSetup", serde_json::Map::new())
}
