//! The expiry notification scheduler's cost at scale (API.md §7): one tick's time and the SQL
//! statements it runs, with 100,000 credentials that have reminders on, of which 1,000 are due.
//! Every instance ticks every `--notify-interval-seconds`, so the tick with nothing due is the
//! steady cost; the due tick is what a busy morning costs.
//!
//! Steps, on a fresh database:
//! 1. 98,000 credentials whose first reminder is a year away; a tick (nothing due).
//! 2. 1,000 more, due now (10 days left); a tick with no channel configured: planning only.
//! 3. 1,000 more, due now; a tick with a webhook (a local receiver answering 204): planning,
//!    claiming, sending and marking 1,000 calls.
//! 4. A tick with nothing due and nothing pending, at 100,000 credentials.
//!
//! Statements are counted as sqlx logs them (target `sqlx::query`, one event per statement).
//! The reference, measured in the same run: 1,000 `SELECT 1` round trips on the same store.
//!
//! `cargo bench -p credvault-api --bench notify_tick` (SQLite in a temporary directory);
//! with `CREDVAULT_BENCH_POSTGRES_URL=postgres://…/<empty database>` it also runs on PostgreSQL.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credvault_api::encryption::KeyringCell;
use credvault_api::notify::{Notifier, NotifyConfig, Tick};
use credvault_api::{AppState, Settings};
use credvault_core::crypto::{generate_uid, Keyring, KeyringWrapKey, MasterKey};
use credvault_core::expiry::{sequence_start, DAY_MS};
use credvault_core::model::{Mode, ReadAccess};
use credvault_core::timefmt::now_millis;
use credvault_store::{AuditRecord, NewCredential, NewUser, PgStore, SqliteStore, Store};
use futures_util::stream::{self, StreamExt};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

/// Counts the statements sqlx runs.
struct Statements(Arc<AtomicU64>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn main() {
    let statements = Arc::new(AtomicU64::new(0));
    let subscriber = tracing_subscriber::registry().with(Statements(statements.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::TempDir::new().unwrap();
        let sqlite = SqliteStore::open(&dir.path().join("bench.db"))
            .await
            .unwrap();
        run("SQLite", Arc::new(sqlite), &statements).await;
        if let Ok(url) = std::env::var("CREDVAULT_BENCH_POSTGRES_URL") {
            let pg = PgStore::open(&url, 10).await.unwrap();
            run("PostgreSQL", Arc::new(pg), &statements).await;
        }
    });
}

async fn run(backend: &str, store: Arc<dyn Store>, statements: &AtomicU64) {
    let (state, team_id, owner_id) = tenant(&store).await;
    let config = NotifyConfig {
        smtp_from: "credvault@bench.example".into(),
        lease: Duration::from_mins(2),
        ..NotifyConfig::default()
    };
    let silent = Notifier::new(&config).unwrap();
    let (url, calls) = receiver().await;
    let hooked = Notifier::new(&NotifyConfig {
        webhook_url: Some(url),
        webhook_secret: Some("bench-secret".into()),
        ..config
    })
    .unwrap();

    let now = now_millis();
    let started = Instant::now();
    insert(&store, team_id, owner_id, 98_000, now + 400 * DAY_MS).await;
    println!(
        "{backend}: 98,000 credentials inserted in {:.1?}",
        started.elapsed()
    );
    let steps = [
        ("nothing due, 98,000 credentials", None, &hooked),
        (
            "1,000 due, no channel (plan only)",
            Some(now + 10 * DAY_MS),
            &silent,
        ),
        (
            "1,000 due, webhook (plan and deliver)",
            Some(now + 10 * DAY_MS),
            &hooked,
        ),
        ("nothing due, 100,000 credentials", None, &hooked),
    ];
    println!("| {backend}: tick | time | statements | planned | sent |");
    println!("| --- | --- | --- | --- | --- |");
    for (what, due, notifier) in steps {
        if let Some(expires_at) = due {
            insert(&store, team_id, owner_id, 1_000, expires_at).await;
        }
        let before = statements.load(Ordering::Relaxed);
        let started = Instant::now();
        let tick: Tick = notifier.tick(&state, now_millis()).await.unwrap();
        let took = started.elapsed();
        let ran = statements.load(Ordering::Relaxed) - before;
        println!(
            "| {what} | {:.1} ms | {ran} | {} | {} |",
            took.as_secs_f64() * 1000.0,
            tick.planned,
            tick.sent
        );
    }
    assert_eq!(
        calls.load(Ordering::Relaxed),
        1_000,
        "every call arrived once"
    );
    // The reference, same run: what a statement costs on this backend at its cheapest.
    let started = Instant::now();
    for _ in 0..1_000 {
        store.ping().await.unwrap();
    }
    println!(
        "| reference: 1,000 `SELECT 1` round trips | {:.1} ms | 1000 | | |",
        started.elapsed().as_secs_f64() * 1000.0
    );
}

/// A tenant with its owner (an admin, so that reminders have a recipient) and one team: the
/// state of a server on `store`, the team and the owner.
async fn tenant(store: &Arc<dyn Store>) -> (AppState, i64, i64) {
    let owner = store
        .create_user(
            NewUser {
                email: "owner@bench.example".into(),
                first_name: "Owner".into(),
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
    let settings = Settings {
        public_url: "http://bench".into(),
        rate_limit_per_minute: 0,
        token_cache_seconds: 30,
        key_cache_size: 10_000,
        cache_bytes: 128 * 1024 * 1024,
    };
    let master = MasterKey::generate();
    let keyring = KeyringCell::create(
        store.as_ref(),
        Keyring::derived(&master, 0),
        KeyringWrapKey::of(&master),
    )
    .await
    .unwrap();
    let state = AppState::new(store.clone(), keyring, &settings);
    (state, team.id, owner.id)
}

/// `n` TEXT credentials of the owner with reminders on, expiring at `expires_at`; created 64
/// at a time, as concurrent API creates would be.
async fn insert(store: &Arc<dyn Store>, team_id: i64, owner_id: i64, n: usize, expires_at: i64) {
    stream::iter(0..n)
        .map(|_| {
            let uid = generate_uid();
            let new = NewCredential {
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
                expires_at: Some(expires_at),
                expiry_notifications_enabled: true,
                notification_recipient_ids: vec![],
                config: json!({}).into(),
                secret: vec![0; 60],
                issuer_id: generate_uid(),
                key_id: None,
                rotate_at: None,
                notify_at: Some(sequence_start(expires_at)),
                uid,
            };
            let store = store.clone();
            async move { store.create_credential(new, bench_audit()).await.unwrap() }
        })
        .buffer_unordered(64)
        .for_each(|_| async {})
        .await;
}

/// A local webhook receiver answering 204; its URL and how many calls it took.
async fn receiver() -> (String, Arc<AtomicU64>) {
    let calls = Arc::new(AtomicU64::new(0));
    let counted = calls.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

/// The audit record of the bench's setup writes.
fn bench_audit() -> AuditRecord {
    AuditRecord::system("BenchSetup", serde_json::Map::new())
}
