//! The re-encryption rate after a data-key rotation (API.md §9): 100,000 credentials, each
//! secret a sealed 241-byte PKCS#8 ES256 key; one [`Reencryption::tick`] re-seals them all.
//!
//! References, measured in the same run on the same rows:
//! - the store's share: the same batches with a re-seal that returns the stored bytes as they
//!   are (read, lock and write every row, no cryptography);
//! - the cryptography's share: opening and sealing the 100,000 secrets in memory.
//!
//! `cargo bench -p credvault-api --bench reencrypt` (SQLite in a temporary directory); with
//! `CREDVAULT_BENCH_POSTGRES_URL=postgres://…/<empty database>` it also runs on PostgreSQL.

// Counts of at most 100,000 are exact in every numeric type used here.
#![allow(clippy::cast_possible_wrap, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::time::Instant;

use credvault_api::encryption::{KeyringCell, Reencryption};
use credvault_core::audit::AuditRecord;
use credvault_core::crypto::{credential_aad, generate_uid, Keyring, KeyringWrapKey, MasterKey};
use credvault_core::model::{Mode, ReadAccess};
use credvault_core::timefmt::now_millis;
use credvault_store::{NewCredential, NewUser, PgStore, SealedSecret, SqliteStore, Store};
use futures_util::stream::{self, StreamExt};
use serde_json::json;

const SECRETS: usize = 100_000;

/// The size of a PKCS#8 P-256 key, the commonest JWT key.
const SECRET_BYTES: usize = 241;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::TempDir::new().unwrap();
        let sqlite = SqliteStore::open(&dir.path().join("bench.db"))
            .await
            .unwrap();
        run("SQLite", Arc::new(sqlite)).await;
        if let Ok(url) = std::env::var("CREDVAULT_BENCH_POSTGRES_URL") {
            let pg = PgStore::open(&url, 10).await.unwrap();
            run("PostgreSQL", Arc::new(pg)).await;
        }
    });
}

async fn run(backend: &str, store: Arc<dyn Store>) {
    let master = MasterKey::generate();
    let keyring = Keyring::derived(&master, now_millis());
    let cell = KeyringCell::create(store.as_ref(), keyring, KeyringWrapKey::of(&master))
        .await
        .unwrap();
    let (team_id, owner_id) = tenant(store.as_ref()).await;
    let started = Instant::now();
    insert(&store, &cell.current(), team_id, owner_id).await;
    println!(
        "{backend}: {SECRETS} credentials inserted in {:.1?}",
        started.elapsed()
    );
    println!("| {backend} | time | secrets per second |");
    println!("| --- | ---: | ---: |");

    // The store's share: every row read, locked and written back as it is.
    let started = Instant::now();
    let (mut after, mut rows) = (0, 0);
    let unchanged = |s: &SealedSecret| Some(s.secret.clone());
    loop {
        let batch = store
            .reseal_secrets(2, after, 200, &unchanged)
            .await
            .unwrap();
        rows += batch.resealed;
        match batch.last_id {
            Some(last) => after = last,
            None => break,
        }
    }
    report("reference: the batches without cryptography", rows, started);

    // The cryptography's share.
    let keyring = cell.current();
    let sealed: Vec<(Vec<u8>, Vec<u8>)> = (0..SECRETS)
        .map(|i| {
            let aad = credential_aad(1, &i.to_string(), "secret");
            let blob = keyring.seal(&aad, &[7; SECRET_BYTES]);
            (aad, blob)
        })
        .collect();
    let next = keyring.with_new_term(now_millis());
    let started = Instant::now();
    for (aad, blob) in &sealed {
        let plain = next.open(aad, blob).unwrap();
        std::hint::black_box(next.seal(aad, &plain));
    }
    report(
        "reference: open and seal in memory",
        SECRETS as u64,
        started,
    );

    // The rotation itself.
    let audit = AuditRecord::system("EncryptionKeyRotation", serde_json::Map::new());
    cell.rotate(store.as_ref(), audit).await.unwrap();
    let started = Instant::now();
    let done = Reencryption::tick(&cell, store.as_ref(), now_millis())
        .await
        .unwrap();
    report("re-encryption after a rotation", done.resealed, started);
    assert_eq!(done.resealed, SECRETS as u64, "every secret re-sealed once");
    let counts = store.count_secrets_by_term().await.unwrap();
    assert_eq!(counts, vec![(2, SECRETS as i64)]);
}

fn report(what: &str, n: u64, started: Instant) {
    let took = started.elapsed().as_secs_f64();
    println!("| {what} ({n}) | {:.2} s | {:.0} |", took, n as f64 / took);
}

async fn tenant(store: &dyn Store) -> (i64, i64) {
    let audit = || AuditRecord::system("BenchSetup", serde_json::Map::new());
    let new = NewUser {
        email: "owner@bench.example".into(),
        first_name: "Owner".into(),
        last_name: String::new(),
        admin: true,
    };
    let owner = store.create_user(new, audit()).await.unwrap();
    let team = store.create_team("Bench", "bench", audit()).await.unwrap();
    (team.id, owner.id)
}

/// The credentials, each with its secret sealed as the API seals it; 64 at a time, as
/// concurrent creates would be.
async fn insert(store: &Arc<dyn Store>, keyring: &Keyring, team_id: i64, owner_id: i64) {
    stream::iter(0..SECRETS)
        .map(|_| {
            let uid = generate_uid();
            let aad = credential_aad(team_id, &uid, "secret");
            let new = NewCredential {
                secret: keyring.seal(&aad, &[7; SECRET_BYTES]),
                team_id,
                live_id: None,
                name: format!("credential {uid}"),
                slug: format!("c_{uid}"),
                mode: Mode::Text,
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
                config: json!({}).into(),
                issuer_id: generate_uid(),
                key_id: None,
                rotate_at: None,
                notify_at: None,
                uid,
            };
            let store = store.clone();
            let audit = AuditRecord::system("BenchSetup", serde_json::Map::new());
            async move { store.create_credential(new, audit).await.unwrap() }
        })
        .buffer_unordered(64)
        .for_each(|_| async {})
        .await;
}
