//! The conformance suite of the [`Store`] trait: every check runs against each backend (SQLite,
//! and PostgreSQL when a server is given) and asserts exact values, so the two answer the same.
//!
//! PostgreSQL: `CREDVAULT_TEST_POSTGRES_URL` names a server without a database
//! (`postgres://credvault@127.0.0.1:PORT`, as `scripts/test` sets it); every test gets a fresh
//! database on it. Without it the PostgreSQL half is skipped (said on stderr), unless
//! `CREDVAULT_TEST_REQUIRE_POSTGRES` is set: then the tests fail.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use credvault_core::model::{Mode, ReadAccess, Role};
use credvault_store::{
    Conflict, Credential, CredentialFilter, CredentialView, Folder, Membership, Millis,
    NewCredential, NewFolder, NewUser, Owner, Page, PageRequest, PgStore, SqliteStore, Store,
    StoreError, Team, User,
};
use serde_json::json;
use sqlx::Connection;

// ---------------------------------------------------------------------------------------------
// The backends

/// One backend under test: its name (in every assertion message), the store, and what keeps
/// its database alive.
struct Backend {
    name: &'static str,
    store: Arc<dyn Store>,
    guard: Guard,
}

enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server: String, database: String },
}

impl Backend {
    /// Closes the store and drops its PostgreSQL database.
    async fn finish(self) {
        self.store.close().await;
        if let Guard::Postgres { server, database } = &self.guard {
            let mut conn = admin_connection(server).await;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot drop PostgreSQL database {database}: {e}"));
            conn.close().await.ok();
        }
    }
}

/// Every backend available to this run, each on a fresh, empty database.
async fn backends() -> Vec<Backend> {
    let mut all = vec![sqlite().await];
    match std::env::var("CREDVAULT_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => {
            all.push(postgres(url.trim().trim_end_matches('/')).await)
        }
        _ if std::env::var_os("CREDVAULT_TEST_REQUIRE_POSTGRES").is_some() => panic!(
            "CREDVAULT_TEST_REQUIRE_POSTGRES is set but CREDVAULT_TEST_POSTGRES_URL is not: \
             set it to a PostgreSQL server URL without a database name \
             (e.g. postgres://credvault@127.0.0.1:5432), or run scripts/test"
        ),
        _ => eprintln!(
            "PostgreSQL skipped: CREDVAULT_TEST_POSTGRES_URL is not set (this test ran on SQLite only)"
        ),
    }
    all
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let store = SqliteStore::open(&dir.path().join("credvault.db"))
        .await
        .expect("cannot open the SQLite store");
    Backend {
        name: "sqlite",
        store: Arc::new(store),
        guard: Guard::Sqlite(dir),
    }
}

async fn admin_connection(server: &str) -> sqlx::postgres::PgConnection {
    sqlx::postgres::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {server}/postgres: {e}"))
}

async fn postgres(server: &str) -> Backend {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let database = format!(
        "cvstore_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = admin_connection(server).await;
    // A leftover of an earlier run whose process had the same id.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("cannot drop PostgreSQL database {database}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create PostgreSQL database {database}: {e}"));
    conn.close().await.ok();
    let store = PgStore::open(&format!("{server}/{database}"), 5)
        .await
        .unwrap_or_else(|e| panic!("cannot open the PostgreSQL store {database}: {e}"));
    Backend {
        name: "postgres",
        store: Arc::new(store),
        guard: Guard::Postgres {
            server: server.to_string(),
            database,
        },
    }
}

/// Runs one check on every backend, each on its own fresh database. Every backend runs even
/// when an earlier one fails; the test then fails naming each backend that did.
macro_rules! on_every_backend {
    ($check:ident) => {{
        let mut failed = Vec::new();
        for backend in backends().await {
            let (name, store) = (backend.name, Arc::clone(&backend.store));
            let run = tokio::spawn(async move { $check(name, &store).await });
            if let Err(e) = run.await {
                failed.push(format!("[{name}] {}", panic_message(e)));
            }
            backend.finish().await;
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }};
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(panic) => match panic.downcast_ref::<String>() {
            Some(message) => message.clone(),
            None => panic
                .downcast_ref::<&str>()
                .map_or_else(|| "panicked".to_string(), |m| m.to_string()),
        },
        Err(e) => e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

type S = Arc<dyn Store>;

fn page(offset: i64, limit: i64) -> PageRequest {
    PageRequest { offset, limit }
}

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as Millis
}

#[track_caller]
fn assert_between(b: &str, what: &str, t: Millis, before: Millis, after: Millis) {
    assert!(
        before <= t && t <= after,
        "{b}: {what} = {t}, expected within [{before}, {after}]"
    );
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(
    b: &str,
    what: &str,
    result: Result<T, StoreError>,
    want: Conflict,
) {
    match result {
        Err(StoreError::Conflict(got)) => assert_eq!(got, want, "{b}: {what}: wrong conflict"),
        other => panic!("{b}: {what}: expected Err(Conflict({want:?})), got {other:?}"),
    }
}

async fn user(s: &S, email: &str, admin: bool) -> User {
    s.create_user(NewUser {
        email: email.to_string(),
        first_name: format!("First {email}"),
        last_name: format!("Last {email}"),
        admin,
    })
    .await
    .unwrap_or_else(|e| panic!("create_user {email}: {e}"))
}

async fn team(s: &S, name: &str, slug: &str) -> Team {
    s.create_team(name, slug)
        .await
        .unwrap_or_else(|e| panic!("create_team {slug}: {e}"))
}

async fn folder(s: &S, team_id: i64, name: &str, parent_folder_id: Option<i64>) -> Folder {
    s.create_folder(NewFolder {
        team_id,
        name: name.to_string(),
        content_type: "CREDENTIAL".to_string(),
        parent_folder_id,
    })
    .await
    .unwrap_or_else(|e| panic!("create_folder {name}: {e}"))
}

/// A plain credential: no folder, no hosts, no expiry.
fn cred(uid: &str, team_id: i64, owner_id: i64, slug: &str) -> NewCredential {
    NewCredential {
        uid: uid.to_string(),
        team_id,
        live_id: None,
        name: format!("Name of {slug}"),
        slug: slug.to_string(),
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
        secret: b"sealed secret".to_vec(),
    }
}

/// A credential with every field set to something unusual.
fn full_cred(uid: &str, team_id: i64, owner_id: i64, folder_id: Option<i64>) -> NewCredential {
    NewCredential {
        uid: uid.to_string(),
        team_id,
        live_id: None,
        name: "Stripe API key (prod) ✓".to_string(),
        slug: "stripe_api_key_prod".to_string(),
        mode: Mode::Jwt,
        folder_id,
        read_access: ReadAccess::SpecificTeams,
        shared_team_slugs: vec!["platform-eng".to_string(), "security".to_string()],
        description: "line one\nline 'two' \"quoted\" ünïcode 🔑 %_\\".to_string(),
        metadata: json!({
            "zeta": 1,
            "alpha": {"nested": [1, 2.5, "x", null, true, false]},
            "emoji": "🔑",
            "big": 9_007_199_254_740_993_i64,
            "negative": -42,
        })
        .into(),
        allowed_hosts: vec!["api.stripe.com".to_string(), "*.example.com".to_string()],
        owner_id,
        expires_at: Some(1_900_000_000_123),
        expiry_notifications_enabled: true,
        notification_recipient_ids: vec![owner_id, 7, i64::MAX],
        config: json!({
            "algorithm": "RS256",
            "payload": {"sub": "svc", "aud": ["a", "b"]},
            "auto_generate_jwt_claims": false,
        })
        .into(),
        // Every byte value, NUL and 0xFF included.
        secret: (0..=255u8).rev().chain(0..=255u8).collect(),
    }
}

/// The test credential the API would attach to `live`.
fn test_cred(uid: &str, live: &Credential) -> NewCredential {
    NewCredential {
        uid: uid.to_string(),
        team_id: live.team_id,
        live_id: Some(live.id),
        name: live.name.clone(),
        // The same slug as the live one: the team/slug rule is for live credentials only.
        slug: live.slug.clone(),
        mode: live.mode,
        folder_id: live.folder_id,
        read_access: live.read_access,
        shared_team_slugs: live.shared_team_slugs.clone(),
        description: live.description.clone(),
        metadata: json!({"environment": "test"}).into(),
        allowed_hosts: live.allowed_hosts.clone(),
        owner_id: live.owner_id,
        expires_at: Some(1_800_000_000_000),
        expiry_notifications_enabled: false,
        notification_recipient_ids: vec![],
        config: json!({"algorithm": "HS256"}).into(),
        secret: b"test secret".to_vec(),
    }
}

/// The row a fresh insert of `new` must read back as.
fn inserted(new: &NewCredential, id: i64, at: Millis) -> Credential {
    Credential {
        id,
        uid: new.uid.clone(),
        team_id: new.team_id,
        live_id: new.live_id,
        name: new.name.clone(),
        slug: new.slug.clone(),
        mode: new.mode,
        folder_id: new.folder_id,
        read_access: new.read_access,
        shared_team_slugs: new.shared_team_slugs.clone(),
        description: new.description.clone(),
        metadata: new.metadata.clone(),
        allowed_hosts: new.allowed_hosts.clone(),
        owner_id: new.owner_id,
        expires_at: new.expires_at,
        expiry_notifications_enabled: new.expiry_notifications_enabled,
        notification_recipient_ids: new.notification_recipient_ids.clone(),
        config: new.config.clone(),
        secret: new.secret.clone(),
        test_credential_enabled: false,
        version: 1,
        last_used_at: None,
        created_at: at,
        updated_at: at,
    }
}

/// Creates `new` and checks the returned row is exactly `new` as inserted just now.
async fn create(b: &str, s: &S, new: NewCredential) -> Credential {
    let before = now_ms();
    let created = s
        .create_credential(new.clone())
        .await
        .unwrap_or_else(|e| panic!("{b}: create_credential {}: {e}", new.slug));
    let after = now_ms();
    assert_between(
        b,
        "credential created_at",
        created.created_at,
        before,
        after,
    );
    assert_eq!(
        created,
        inserted(&new, created.id, created.created_at),
        "{b}: create_credential {} returns the row as given",
        new.slug
    );
    created
}

async fn view(b: &str, s: &S, id: i64) -> CredentialView {
    s.get_credential_view(id)
        .await
        .unwrap_or_else(|e| panic!("{b}: get_credential_view {id}: {e}"))
        .unwrap_or_else(|| panic!("{b}: get_credential_view {id}: not found"))
}

fn owner_of(u: &User) -> Owner {
    Owner {
        id: u.id,
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        email: u.email.clone(),
    }
}

fn ids(page: &Page<CredentialView>) -> Vec<i64> {
    page.items.iter().map(|v| v.credential.id).collect()
}

// ---------------------------------------------------------------------------------------------
// meta

#[tokio::test]
async fn meta() {
    on_every_backend!(check_meta);
}

async fn check_meta(b: &str, s: &S) {
    s.ping().await.unwrap_or_else(|e| panic!("{b}: ping: {e}"));
    assert_eq!(s.get_meta("kek").await.unwrap(), None, "{b}: missing key");
    assert!(
        s.insert_meta("kek", b"first").await.unwrap(),
        "{b}: first insert writes"
    );
    assert!(
        !s.insert_meta("kek", b"second").await.unwrap(),
        "{b}: second insert of the same key"
    );
    assert_eq!(
        s.get_meta("kek").await.unwrap(),
        Some(b"first".to_vec()),
        "{b}: the first value stays"
    );
    let every_byte: Vec<u8> = (0..=255u8).collect();
    assert!(
        s.insert_meta("bytes", &every_byte).await.unwrap(),
        "{b}: insert bytes"
    );
    assert_eq!(
        s.get_meta("bytes").await.unwrap(),
        Some(every_byte),
        "{b}: every byte value round-trips"
    );
    assert!(
        s.insert_meta("empty", b"").await.unwrap(),
        "{b}: insert an empty value"
    );
    assert_eq!(
        s.get_meta("empty").await.unwrap(),
        Some(vec![]),
        "{b}: empty value round-trips"
    );
    assert_eq!(
        s.get_meta("KEK").await.unwrap(),
        None,
        "{b}: keys are case-sensitive"
    );
    assert_eq!(
        s.get_meta("other").await.unwrap(),
        None,
        "{b}: still missing"
    );
}

// ---------------------------------------------------------------------------------------------
// users

#[tokio::test]
async fn users() {
    on_every_backend!(check_users);
}

async fn check_users(b: &str, s: &S) {
    assert_eq!(s.count_users().await.unwrap(), 0, "{b}: count_users, empty");
    let empty = s.list_users(page(0, 10)).await.unwrap();
    assert_eq!(
        (empty.items, empty.total),
        (vec![], 0),
        "{b}: list_users, empty"
    );

    let new = |email: &str, first: &str, last: &str, admin| NewUser {
        email: email.to_string(),
        first_name: first.to_string(),
        last_name: last.to_string(),
        admin,
    };
    let before = now_ms();
    let ada = s
        .create_user(new("ada@example.com", "Ada", "Lovelace", true))
        .await
        .unwrap();
    let bob = s
        .create_user(new("bob@example.com", "Bób", "O'Brien – 测试", false))
        .await
        .unwrap();
    let eve = s
        .create_user(new("eve@example.com", "", "", false))
        .await
        .unwrap();
    let after = now_ms();
    for (u, id, email, first, last, admin) in [
        (&ada, 1, "ada@example.com", "Ada", "Lovelace", true),
        (&bob, 2, "bob@example.com", "Bób", "O'Brien – 测试", false),
        (&eve, 3, "eve@example.com", "", "", false),
    ] {
        assert_between(b, "user created_at", u.created_at, before, after);
        assert_eq!(
            *u,
            User {
                id,
                email: email.to_string(),
                first_name: first.to_string(),
                last_name: last.to_string(),
                admin,
                is_active: true,
                created_at: u.created_at,
                updated_at: u.created_at,
                last_seen: None,
            },
            "{b}: created user {email}"
        );
    }

    assert_conflict(
        b,
        "create_user with a taken email",
        s.create_user(new("ada@example.com", "Other", "Person", false))
            .await,
        Conflict::UserEmail,
    );
    assert_eq!(
        s.count_users().await.unwrap(),
        3,
        "{b}: count_users after a conflict"
    );
    assert_eq!(
        s.get_user(1).await.unwrap(),
        Some(ada.clone()),
        "{b}: get_user 1"
    );
    assert_eq!(
        s.get_user(2).await.unwrap(),
        Some(bob.clone()),
        "{b}: get_user 2"
    );
    assert_eq!(
        s.get_user(3).await.unwrap(),
        Some(eve.clone()),
        "{b}: get_user 3"
    );
    assert_eq!(
        s.get_user(4).await.unwrap(),
        None,
        "{b}: get_user of a missing id"
    );
    assert_eq!(s.get_user(0).await.unwrap(), None, "{b}: get_user 0");

    let p = s.list_users(page(0, 2)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![ada.clone(), bob.clone()], 3),
        "{b}: list_users 0+2"
    );
    let p = s.list_users(page(2, 2)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![eve.clone()], 3),
        "{b}: list_users 2+2"
    );
    let p = s.list_users(page(3, 2)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![], 3),
        "{b}: list_users past the end"
    );
    let p = s.list_users(page(0, 500)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![ada.clone(), bob.clone(), eve.clone()], 3),
        "{b}: list_users, all"
    );

    s.touch_user(bob.id, 1_700_000_000_123).await.unwrap();
    let touched = User {
        last_seen: Some(1_700_000_000_123),
        ..bob.clone()
    };
    assert_eq!(
        s.get_user(bob.id).await.unwrap(),
        Some(touched.clone()),
        "{b}: touch_user sets last_seen only"
    );
    assert_eq!(
        s.get_user(ada.id).await.unwrap(),
        Some(ada.clone()),
        "{b}: touch_user leaves others alone"
    );
    s.touch_user(bob.id, 1_700_000_000_456).await.unwrap();
    assert_eq!(
        s.get_user(bob.id).await.unwrap().map(|u| u.last_seen),
        Some(Some(1_700_000_000_456)),
        "{b}: touch_user again"
    );
    s.touch_user(999, 1)
        .await
        .unwrap_or_else(|e| panic!("{b}: touch_user of a missing user: {e}"));
    let p = s.list_users(page(1, 1)).await.unwrap();
    assert_eq!(
        p.items[0].last_seen,
        Some(1_700_000_000_456),
        "{b}: list_users shows last_seen"
    );

    // A user created after a conflict: a new id, larger than every earlier one.
    let zed = s
        .create_user(new("zed@example.com", "Zed", "Z", false))
        .await
        .unwrap();
    assert!(zed.id > eve.id, "{b}: id {} after a conflict", zed.id);
    assert_eq!(
        s.get_user(zed.id).await.unwrap(),
        Some(zed.clone()),
        "{b}: get_user after a conflict"
    );
    assert_eq!(
        s.count_users().await.unwrap(),
        4,
        "{b}: count_users at the end"
    );
}

// ---------------------------------------------------------------------------------------------
// API keys

#[tokio::test]
async fn api_keys() {
    on_every_backend!(check_api_keys);
}

async fn check_api_keys(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", true).await;
    let bob = user(s, "bob@example.com", false).await;
    let (h1, h2, h3) = ([1u8; 32], [2u8; 32], [0u8; 32]);

    let before = now_ms();
    let k1 = s.create_api_key(ada.id, "laptop", &h1).await.unwrap();
    let k2 = s.create_api_key(bob.id, "ci ✓", &h2).await.unwrap();
    let after = now_ms();
    assert_between(b, "api key created_at", k1.created_at, before, after);
    assert_eq!(
        (k1.id, k1.user_id, k1.name.as_str()),
        (1, ada.id, "laptop"),
        "{b}: first api key"
    );
    assert_eq!(
        (k2.id, k2.user_id, k2.name.as_str()),
        (2, bob.id, "ci ✓"),
        "{b}: second api key"
    );

    assert_eq!(
        s.find_api_key(&h1).await.unwrap(),
        Some((h1.to_vec(), ada.clone())),
        "{b}: find ada's key"
    );
    assert_eq!(
        s.find_api_key(&h2).await.unwrap(),
        Some((h2.to_vec(), bob.clone())),
        "{b}: find bob's key"
    );
    assert_eq!(
        s.find_api_key(&h3).await.unwrap(),
        None,
        "{b}: unknown hash"
    );
    assert_eq!(
        s.find_api_key(&h1[..31]).await.unwrap(),
        None,
        "{b}: a prefix of a hash"
    );
    assert_eq!(s.find_api_key(&[]).await.unwrap(), None, "{b}: empty hash");

    assert_conflict(
        b,
        "create_api_key with a taken hash",
        s.create_api_key(bob.id, "again", &h1).await,
        Conflict::Other,
    );

    // The user comes back as it is now.
    s.touch_user(ada.id, 1_700_000_000_000).await.unwrap();
    let (_, found) = s.find_api_key(&h1).await.unwrap().expect("ada's key");
    assert_eq!(
        found.last_seen,
        Some(1_700_000_000_000),
        "{b}: find_api_key returns the current user"
    );

    assert!(
        !s.revoke_api_key(bob.id, k1.id).await.unwrap(),
        "{b}: revoke someone else's key"
    );
    assert!(
        s.find_api_key(&h1).await.unwrap().is_some(),
        "{b}: a key survives a foreign revoke"
    );
    assert!(
        !s.revoke_api_key(ada.id, 999).await.unwrap(),
        "{b}: revoke a missing key"
    );
    assert!(
        s.revoke_api_key(ada.id, k1.id).await.unwrap(),
        "{b}: revoke"
    );
    assert!(
        !s.revoke_api_key(ada.id, k1.id).await.unwrap(),
        "{b}: revoke twice"
    );
    assert_eq!(
        s.find_api_key(&h1).await.unwrap(),
        None,
        "{b}: a revoked key is not found"
    );
    assert_eq!(
        s.find_api_key(&h2).await.unwrap().map(|(_, u)| u.id),
        Some(bob.id),
        "{b}: other keys still work"
    );

    // A new key for the same user works; the revoked hash still cannot be reused.
    let k3 = s
        .create_api_key(ada.id, "new laptop", &[3u8; 32])
        .await
        .unwrap();
    assert!(k3.id > k2.id, "{b}: new key id");
    assert_eq!(
        s.find_api_key(&[3u8; 32]).await.unwrap().map(|(_, u)| u.id),
        Some(ada.id),
        "{b}: new key found"
    );
    assert_conflict(
        b,
        "create_api_key with a revoked key's hash",
        s.create_api_key(ada.id, "old", &h1).await,
        Conflict::Other,
    );
    // Deactivating a user is not part of the Store API, so `is_active = false` is not covered.
}

// ---------------------------------------------------------------------------------------------
// teams and memberships

#[tokio::test]
async fn teams_and_memberships() {
    on_every_backend!(check_teams);
}

async fn check_teams(b: &str, s: &S) {
    let empty = s.list_teams(None, page(0, 10)).await.unwrap();
    assert_eq!(
        (empty.items, empty.total),
        (vec![], 0),
        "{b}: list_teams, empty"
    );

    let before = now_ms();
    let sec = s.create_team("Security", "security").await.unwrap();
    let plat = s
        .create_team("Platform Eng ✓", "platform-eng")
        .await
        .unwrap();
    let lone = s.create_team("Nobody's", "nobodys").await.unwrap();
    let after = now_ms();
    for (t, id, name, slug) in [
        (&sec, 1, "Security", "security"),
        (&plat, 2, "Platform Eng ✓", "platform-eng"),
        (&lone, 3, "Nobody's", "nobodys"),
    ] {
        assert_between(b, "team created_at", t.created_at, before, after);
        assert_eq!(
            *t,
            Team {
                id,
                name: name.to_string(),
                slug: slug.to_string(),
                created_at: t.created_at
            },
            "{b}: created team {slug}"
        );
    }
    assert_conflict(
        b,
        "create_team with a taken slug",
        s.create_team("Security again", "security").await,
        Conflict::TeamSlug,
    );

    assert_eq!(
        s.get_team(sec.id).await.unwrap(),
        Some(sec.clone()),
        "{b}: get_team"
    );
    assert_eq!(
        s.get_team(99).await.unwrap(),
        None,
        "{b}: get_team of a missing id"
    );
    assert_eq!(
        s.get_team_by_slug("platform-eng").await.unwrap(),
        Some(plat.clone()),
        "{b}: get_team_by_slug"
    );
    assert_eq!(
        s.get_team_by_slug("platform").await.unwrap(),
        None,
        "{b}: get_team_by_slug, no prefix match"
    );
    assert_eq!(
        s.get_team_by_slug("Security").await.unwrap(),
        None,
        "{b}: get_team_by_slug is case-sensitive"
    );

    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    assert_eq!(
        s.get_team_with_role(sec.id, ada.id).await.unwrap(),
        Some((sec.clone(), None)),
        "{b}: get_team_with_role, not a member"
    );
    assert_eq!(
        s.get_team_with_role(99, ada.id).await.unwrap(),
        None,
        "{b}: get_team_with_role of a missing team"
    );
    assert_eq!(
        s.get_membership(sec.id, ada.id).await.unwrap(),
        None,
        "{b}: get_membership, none"
    );

    s.set_membership(sec.id, ada.id, Role::Editor)
        .await
        .unwrap();
    assert_eq!(
        s.get_membership(sec.id, ada.id).await.unwrap(),
        Some(Role::Editor),
        "{b}: get_membership"
    );
    assert_eq!(
        s.get_team_with_role(sec.id, ada.id).await.unwrap(),
        Some((sec.clone(), Some(Role::Editor))),
        "{b}: get_team_with_role, member"
    );
    s.set_membership(sec.id, ada.id, Role::TeamAdmin)
        .await
        .unwrap();
    assert_eq!(
        s.get_membership(sec.id, ada.id).await.unwrap(),
        Some(Role::TeamAdmin),
        "{b}: set_membership changes the role"
    );
    assert_eq!(
        s.get_team_with_role(sec.id, ada.id).await.unwrap(),
        Some((sec.clone(), Some(Role::TeamAdmin))),
        "{b}: get_team_with_role after the change"
    );
    assert_eq!(
        s.get_membership(sec.id, bob.id).await.unwrap(),
        None,
        "{b}: bob is not in security"
    );
    assert_eq!(
        s.get_team_with_role(sec.id, bob.id).await.unwrap(),
        Some((sec.clone(), None)),
        "{b}: another member's role is not shown"
    );

    s.set_membership(plat.id, ada.id, Role::Viewer)
        .await
        .unwrap();
    s.set_membership(plat.id, bob.id, Role::Editor)
        .await
        .unwrap();
    assert_eq!(
        s.get_team_with_role(plat.id, bob.id).await.unwrap(),
        Some((plat.clone(), Some(Role::Editor))),
        "{b}: bob in platform"
    );

    let p = s.list_teams(None, page(0, 10)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![sec.clone(), plat.clone(), lone.clone()], 3),
        "{b}: list_teams all"
    );
    let p = s.list_teams(None, page(1, 1)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![plat.clone()], 3),
        "{b}: list_teams all, 1+1"
    );
    let p = s.list_teams(None, page(3, 10)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![], 3),
        "{b}: list_teams all, past the end"
    );
    let p = s.list_teams(Some(ada.id), page(0, 10)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![sec.clone(), plat.clone()], 2),
        "{b}: list_teams of ada (upsert made no duplicate)"
    );
    let p = s.list_teams(Some(ada.id), page(1, 10)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![plat.clone()], 2),
        "{b}: list_teams of ada, offset 1"
    );
    let p = s.list_teams(Some(ada.id), page(0, 1)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![sec.clone()], 2),
        "{b}: list_teams of ada, limit 1"
    );
    let p = s.list_teams(Some(bob.id), page(0, 10)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![plat.clone()], 1),
        "{b}: list_teams of bob"
    );
    let p = s.list_teams(Some(999), page(0, 10)).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![], 0),
        "{b}: list_teams of a missing user"
    );
}

// ---------------------------------------------------------------------------------------------
// folders

#[tokio::test]
async fn folders() {
    on_every_backend!(check_folders);
}

async fn check_folders(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let plat = team(s, "Platform", "platform").await;
    s.set_membership(sec.id, ada.id, Role::Editor)
        .await
        .unwrap();

    let before = now_ms();
    let f1 = s
        .create_folder(NewFolder {
            team_id: sec.id,
            name: "Production ✓".into(),
            content_type: "CREDENTIAL".into(),
            parent_folder_id: None,
        })
        .await
        .unwrap();
    let after = now_ms();
    assert_between(b, "folder created_at", f1.created_at, before, after);
    assert_eq!(
        f1,
        Folder {
            id: 1,
            team_id: sec.id,
            name: "Production ✓".into(),
            content_type: "CREDENTIAL".into(),
            parent_folder_id: None,
            created_at: f1.created_at,
            size: 0,
        },
        "{b}: created folder"
    );
    let f2 = folder(s, sec.id, "Child", Some(f1.id)).await;
    assert_eq!(
        (f2.id, f2.parent_folder_id, f2.size),
        (2, Some(f1.id), 0),
        "{b}: child folder"
    );
    let f3 = folder(s, plat.id, "Other team's", None).await;
    assert_eq!((f3.id, f3.team_id), (3, plat.id), "{b}: third folder");
    assert_eq!(
        s.get_folder(f1.id).await.unwrap(),
        Some(f1.clone()),
        "{b}: get_folder, empty"
    );
    assert_eq!(
        s.get_folder(99).await.unwrap(),
        None,
        "{b}: get_folder of a missing id"
    );

    // Two live credentials in f1 (one with a test credential, also in f1), one in f2, one in none.
    let in_f1 = |uid: &str, slug: &str| NewCredential {
        folder_id: Some(f1.id),
        ..cred(uid, sec.id, ada.id, slug)
    };
    let a = create(b, s, in_f1("a", "a")).await;
    let c2 = create(b, s, in_f1("b", "b")).await;
    create(
        b,
        s,
        NewCredential {
            folder_id: Some(f2.id),
            ..cred("c", sec.id, ada.id, "c")
        },
    )
    .await;
    create(b, s, cred("d", sec.id, ada.id, "d")).await;
    s.attach_test_credential(test_cred("a-test", &a))
        .await
        .unwrap();

    let sized = |f: &Folder, size| Folder { size, ..f.clone() };
    assert_eq!(
        s.get_folder(f1.id).await.unwrap(),
        Some(sized(&f1, 2)),
        "{b}: f1 counts live credentials only"
    );
    assert_eq!(
        s.get_folder(f2.id).await.unwrap(),
        Some(sized(&f2, 1)),
        "{b}: f2 size"
    );
    assert_eq!(
        s.get_folder(f3.id).await.unwrap(),
        Some(sized(&f3, 0)),
        "{b}: f3 size"
    );
    assert!(s.delete_credential(c2.id).await.unwrap(), "{b}: delete b");
    assert_eq!(
        s.get_folder(f1.id).await.unwrap(),
        Some(sized(&f1, 1)),
        "{b}: f1 size after a delete"
    );

    let (f1, f2, f3) = (sized(&f1, 1), sized(&f2, 1), sized(&f3, 0));
    let list =
        |team_id, member, offset, limit| s.list_folders(team_id, member, page(offset, limit));
    let p = list(None, None, 0, 10).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![f1.clone(), f2.clone(), f3.clone()], 3),
        "{b}: list_folders all"
    );
    let p = list(None, None, 1, 1).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![f2.clone()], 3),
        "{b}: list_folders all, 1+1"
    );
    let p = list(Some(sec.id), None, 0, 10).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![f1.clone(), f2.clone()], 2),
        "{b}: list_folders of security"
    );
    let p = list(Some(sec.id), None, 1, 5).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![f2.clone()], 2),
        "{b}: list_folders of security, offset 1"
    );
    let p = list(Some(plat.id), None, 0, 10).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![f3.clone()], 1),
        "{b}: list_folders of platform"
    );
    let p = list(Some(99), None, 0, 10).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![], 0),
        "{b}: list_folders of a missing team"
    );
    let p = list(None, Some(ada.id), 0, 10).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![f1.clone(), f2.clone()], 2),
        "{b}: list_folders of ada's teams"
    );
    let p = list(None, Some(bob.id), 0, 10).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![], 0),
        "{b}: list_folders of bob (no teams)"
    );
    let p = list(Some(sec.id), Some(ada.id), 0, 10).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![f1.clone(), f2.clone()], 2),
        "{b}: list_folders of security for ada"
    );
    let p = list(Some(plat.id), Some(ada.id), 0, 10).await.unwrap();
    assert_eq!(
        (p.items, p.total),
        (vec![], 0),
        "{b}: list_folders of a team ada is not in"
    );
}

// ---------------------------------------------------------------------------------------------
// credentials: create, read, conflicts

#[tokio::test]
async fn credentials_round_trip() {
    on_every_backend!(check_credential_round_trip);
}

async fn check_credential_round_trip(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let plat = team(s, "Platform", "platform").await;
    let f = folder(s, sec.id, "Prod", None).await;

    let full = full_cred("uid-full", sec.id, ada.id, Some(f.id));
    let c = create(b, s, full.clone()).await;
    assert_eq!(
        (c.id, c.version),
        (1, 1),
        "{b}: first credential id and version"
    );
    // Object keys keep the order they were given in.
    assert_eq!(
        c.metadata.to_string(),
        full.metadata.to_string(),
        "{b}: metadata key order"
    );
    assert_eq!(
        c.config.to_string(),
        full.config.to_string(),
        "{b}: config key order"
    );
    assert_eq!(
        view(b, s, c.id).await,
        CredentialView {
            credential: c.clone(),
            owner: Some(owner_of(&ada)),
            test_times: None,
        },
        "{b}: get_credential_view of the full credential"
    );
    let v = view(b, s, c.id).await;
    assert_eq!(
        v.credential.metadata.to_string(),
        full.metadata.to_string(),
        "{b}: metadata key order, read back"
    );

    // The other extremes: nothing optional set, an empty secret, JSON null and scalars.
    let bare = NewCredential {
        secret: vec![],
        metadata: json!(null).into(),
        config: json!("just a string").into(),
        description: String::new(),
        ..cred("uid-bare", sec.id, ada.id, "bare")
    };
    let c2 = create(b, s, bare).await;
    assert_eq!(c2.id, 2, "{b}: second credential id");
    assert_eq!(
        view(b, s, c2.id).await.credential,
        c2,
        "{b}: bare credential read back"
    );

    assert_eq!(
        s.get_credential_view(999).await.unwrap(),
        None,
        "{b}: get_credential_view of a missing id"
    );

    // Slugs are unique per team, among live credentials.
    assert_conflict(
        b,
        "the same slug in the same team",
        s.create_credential(NewCredential {
            name: "Something else".into(),
            ..full_cred("uid-dup", sec.id, ada.id, None)
        })
        .await,
        Conflict::CredentialSlug,
    );
    let other_team = create(b, s, full_cred("uid-other-team", plat.id, ada.id, None)).await;
    assert_eq!(
        other_team.slug, c.slug,
        "{b}: the same slug in another team"
    );
    let list = s
        .list_credentials(CredentialFilter::default(), page(0, 10))
        .await
        .unwrap();
    assert_eq!(list.total, 3, "{b}: the conflicting create wrote nothing");
}

#[tokio::test]
async fn duplicate_uid_is_not_a_slug_conflict() {
    on_every_backend!(check_duplicate_uid);
}

/// uids are random, so a clash is practically impossible; but the store must not report it as
/// the slug being taken (the API would then tell the user to pick another name).
async fn check_duplicate_uid(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    create(b, s, cred("same-uid", sec.id, ada.id, "first")).await;
    assert_conflict(
        b,
        "create_credential with a taken uid (and a free slug)",
        s.create_credential(cred("same-uid", sec.id, ada.id, "second"))
            .await,
        Conflict::Other,
    );
}

// ---------------------------------------------------------------------------------------------
// credentials: lists

#[tokio::test]
async fn credential_lists() {
    on_every_backend!(check_credential_lists);
}

async fn check_credential_lists(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let plat = team(s, "Platform", "platform").await;
    let lone = team(s, "Lone", "lone").await;
    s.set_membership(sec.id, ada.id, Role::Editor)
        .await
        .unwrap();
    s.set_membership(plat.id, bob.id, Role::Editor)
        .await
        .unwrap();
    let f1 = folder(s, sec.id, "Sec folder", None).await;
    let f2 = folder(s, plat.id, "Plat folder", None).await;

    let hosts = vec!["a.example.com".to_string()];
    let a = create(
        b,
        s,
        NewCredential {
            folder_id: Some(f1.id),
            allowed_hosts: hosts.clone(),
            ..cred("a", sec.id, ada.id, "a")
        },
    )
    .await;
    let c_b = create(b, s, cred("b", sec.id, bob.id, "b")).await;
    let c = create(
        b,
        s,
        NewCredential {
            folder_id: Some(f2.id),
            allowed_hosts: hosts.clone(),
            ..cred("c", plat.id, bob.id, "c")
        },
    )
    .await;
    let d = create(b, s, cred("d", lone.id, ada.id, "d")).await;
    let t = s
        .attach_test_credential(test_cred("a-test", &a))
        .await
        .unwrap();
    s.mark_used(&[c_b.id], 1_700_000_000_000).await.unwrap();

    let all = s
        .list_credentials(CredentialFilter::default(), page(0, 10))
        .await
        .unwrap();
    assert_eq!(
        (ids(&all), all.total),
        (vec![a.id, c_b.id, c.id, d.id], 4),
        "{b}: list, no filter (test credentials are never listed)"
    );
    // Each listed view is what get_credential_view answers.
    for item in &all.items {
        assert_eq!(
            *item,
            view(b, s, item.credential.id).await,
            "{b}: listed view {}",
            item.credential.slug
        );
    }
    assert_eq!(
        all.items[0].test_times,
        Some((t.created_at, t.updated_at)),
        "{b}: a's test times in the list"
    );
    assert_eq!(
        all.items[0].credential.version, 2,
        "{b}: a's version after the attach"
    );
    assert_eq!(
        all.items[1].owner,
        Some(owner_of(&bob)),
        "{b}: b's owner in the list"
    );
    assert_eq!(
        all.items[1].credential.last_used_at,
        Some(1_700_000_000_000),
        "{b}: b's last use"
    );

    let f = CredentialFilter::default;
    let cases: Vec<(&str, CredentialFilter, Vec<i64>)> = vec![
        (
            "member ada",
            CredentialFilter {
                member: Some(ada.id),
                ..f()
            },
            vec![a.id, c_b.id],
        ),
        (
            "member bob",
            CredentialFilter {
                member: Some(bob.id),
                ..f()
            },
            vec![c.id],
        ),
        (
            "member missing",
            CredentialFilter {
                member: Some(999),
                ..f()
            },
            vec![],
        ),
        (
            "team sec",
            CredentialFilter {
                team_id: Some(sec.id),
                ..f()
            },
            vec![a.id, c_b.id],
        ),
        (
            "team lone",
            CredentialFilter {
                team_id: Some(lone.id),
                ..f()
            },
            vec![d.id],
        ),
        (
            "team missing",
            CredentialFilter {
                team_id: Some(999),
                ..f()
            },
            vec![],
        ),
        (
            "folder f1",
            CredentialFilter {
                folder_id: Some(f1.id),
                ..f()
            },
            vec![a.id],
        ),
        (
            "folder f2",
            CredentialFilter {
                folder_id: Some(f2.id),
                ..f()
            },
            vec![c.id],
        ),
        (
            "restricted",
            CredentialFilter {
                restricted: Some(true),
                ..f()
            },
            vec![a.id, c.id],
        ),
        (
            "unrestricted",
            CredentialFilter {
                restricted: Some(false),
                ..f()
            },
            vec![c_b.id, d.id],
        ),
        (
            "unused",
            CredentialFilter {
                unused: true,
                ..f()
            },
            vec![a.id, c.id, d.id],
        ),
        (
            "member ada, unrestricted",
            CredentialFilter {
                member: Some(ada.id),
                restricted: Some(false),
                ..f()
            },
            vec![c_b.id],
        ),
        (
            "team sec, unused",
            CredentialFilter {
                team_id: Some(sec.id),
                unused: true,
                ..f()
            },
            vec![a.id],
        ),
        (
            "member ada, team plat",
            CredentialFilter {
                member: Some(ada.id),
                team_id: Some(plat.id),
                ..f()
            },
            vec![],
        ),
        (
            "team plat, folder f2, restricted, unused",
            CredentialFilter {
                member: Some(bob.id),
                team_id: Some(plat.id),
                folder_id: Some(f2.id),
                restricted: Some(true),
                unused: true,
            },
            vec![c.id],
        ),
    ];
    for (what, filter, want) in cases {
        let p = s.list_credentials(filter, page(0, 10)).await.unwrap();
        let n = want.len() as i64;
        assert_eq!(
            (ids(&p), p.total),
            (want, n),
            "{b}: list_credentials, {what}"
        );
    }

    // Paging: totals count every match, whatever the page.
    let paged =
        |offset, limit| s.list_credentials(CredentialFilter::default(), page(offset, limit));
    let p = paged(0, 1).await.unwrap();
    assert_eq!((ids(&p), p.total), (vec![a.id], 4), "{b}: list 0+1");
    let p = paged(1, 2).await.unwrap();
    assert_eq!((ids(&p), p.total), (vec![c_b.id, c.id], 4), "{b}: list 1+2");
    let p = paged(3, 2).await.unwrap();
    assert_eq!((ids(&p), p.total), (vec![d.id], 4), "{b}: list 3+2");
    let p = paged(4, 2).await.unwrap();
    assert_eq!((ids(&p), p.total), (vec![], 4), "{b}: list past the end");
    let p = s
        .list_credentials(
            CredentialFilter {
                member: Some(ada.id),
                ..f()
            },
            page(1, 1),
        )
        .await
        .unwrap();
    assert_eq!(
        (ids(&p), p.total),
        (vec![c_b.id], 2),
        "{b}: filtered list 1+1"
    );
}

// ---------------------------------------------------------------------------------------------
// credentials: updates

#[tokio::test]
async fn credential_updates() {
    on_every_backend!(check_credential_updates);
}

async fn check_credential_updates(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let f = folder(s, sec.id, "Prod", None).await;
    let c = create(b, s, full_cred("uid-1", sec.id, ada.id, Some(f.id))).await;
    let taken = create(b, s, cred("uid-2", sec.id, ada.id, "taken")).await;

    let mut edit = c.clone();
    edit.name = "Renamed".into();
    edit.slug = "renamed".into();
    edit.folder_id = None;
    edit.read_access = ReadAccess::Team;
    edit.shared_team_slugs = vec![];
    edit.description = "new description".into();
    edit.metadata = json!({"b": 2, "a": [1]}).into();
    edit.allowed_hosts = vec![];
    edit.expires_at = None;
    edit.expiry_notifications_enabled = false;
    edit.notification_recipient_ids = vec![bob.id];
    edit.config = json!({"algorithm": "ES256"}).into();
    edit.secret = vec![0, 0, 0];
    edit.test_credential_enabled = true;
    // Columns update_credential does not write: these changes are ignored.
    edit.uid = "changed-uid".into();
    edit.mode = Mode::Text;
    edit.owner_id = bob.id;
    edit.last_used_at = Some(5);
    edit.created_at = 5;

    let before = now_ms();
    let updated = s
        .update_credential(&edit)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{b}: update at the current version must apply"));
    let after = now_ms();
    assert_between(
        b,
        "updated_at after an update",
        updated.updated_at,
        before.max(c.updated_at),
        after,
    );
    let expected = Credential {
        uid: c.uid.clone(),
        mode: c.mode,
        owner_id: c.owner_id,
        last_used_at: c.last_used_at,
        created_at: c.created_at,
        version: 2,
        updated_at: updated.updated_at,
        ..edit.clone()
    };
    assert_eq!(
        updated, expected,
        "{b}: update_credential applies every mutable column, bumps the version"
    );
    assert_eq!(
        updated.metadata.to_string(),
        r#"{"b":2,"a":[1]}"#,
        "{b}: metadata key order after an update"
    );
    assert_eq!(
        view(b, s, c.id).await.credential,
        updated,
        "{b}: the update is stored"
    );
    assert_eq!(
        view(b, s, c.id).await.owner,
        Some(owner_of(&ada)),
        "{b}: the owner does not change"
    );

    // Optimistic check: the old version no longer matches.
    let stale = Credential {
        name: "Stale write".into(),
        ..edit.clone()
    };
    assert_eq!(
        s.update_credential(&stale).await.unwrap(),
        None,
        "{b}: stale version"
    );
    assert_eq!(
        view(b, s, c.id).await.credential,
        updated,
        "{b}: a stale update writes nothing"
    );
    let future = Credential {
        version: 3,
        ..updated.clone()
    };
    assert_eq!(
        s.update_credential(&future).await.unwrap(),
        None,
        "{b}: a version ahead of the row"
    );

    // Back to Some(..) values, at the current version.
    let again = Credential {
        folder_id: Some(f.id),
        expires_at: Some(1_234),
        allowed_hosts: vec!["x.example".into()],
        ..updated.clone()
    };
    let third = s
        .update_credential(&again)
        .await
        .unwrap()
        .expect("update at version 2");
    assert_eq!(
        (
            third.version,
            third.folder_id,
            third.expires_at,
            third.allowed_hosts.clone()
        ),
        (3, Some(f.id), Some(1_234), vec!["x.example".to_string()]),
        "{b}: second update"
    );
    assert!(
        third.updated_at >= updated.updated_at,
        "{b}: updated_at moves forward"
    );

    // Renaming onto a taken slug is a conflict and changes nothing.
    let clash = Credential {
        slug: taken.slug.clone(),
        ..third.clone()
    };
    assert_conflict(
        b,
        "update onto a taken slug",
        s.update_credential(&clash).await,
        Conflict::CredentialSlug,
    );
    assert_eq!(
        view(b, s, c.id).await.credential,
        third,
        "{b}: a conflicting update writes nothing"
    );

    // A missing row.
    let gone = Credential {
        id: 999,
        ..third.clone()
    };
    assert_eq!(
        s.update_credential(&gone).await.unwrap(),
        None,
        "{b}: update of a missing id"
    );
    assert!(s.delete_credential(c.id).await.unwrap(), "{b}: delete");
    assert_eq!(
        s.update_credential(&third).await.unwrap(),
        None,
        "{b}: update of a deleted credential"
    );
}

// ---------------------------------------------------------------------------------------------
// credentials: test credentials and deletes

#[tokio::test]
async fn test_credentials_and_deletes() {
    on_every_backend!(check_test_credentials_and_deletes);
}

async fn check_test_credentials_and_deletes(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let f = folder(s, sec.id, "Prod", None).await;
    let live = create(b, s, full_cred("live", sec.id, ada.id, Some(f.id))).await;
    let other = create(b, s, cred("other", sec.id, ada.id, "other")).await;
    assert_eq!(
        s.get_test_credential(live.id).await.unwrap(),
        None,
        "{b}: no test credential yet"
    );

    let new_test = test_cred("live-test", &live);
    let before = now_ms();
    let t = s.attach_test_credential(new_test.clone()).await.unwrap();
    let after = now_ms();
    assert_between(b, "test credential created_at", t.created_at, before, after);
    assert_eq!(
        t,
        inserted(&new_test, t.id, t.created_at),
        "{b}: the attached test credential as given"
    );
    assert_eq!(t.live_id, Some(live.id), "{b}: linked by live_id");
    assert_eq!(
        s.get_test_credential(live.id).await.unwrap(),
        Some(t.clone()),
        "{b}: get_test_credential"
    );
    assert_eq!(
        s.get_test_credential(other.id).await.unwrap(),
        None,
        "{b}: get_test_credential of another"
    );
    assert_eq!(
        s.get_test_credential(999).await.unwrap(),
        None,
        "{b}: get_test_credential of a missing id"
    );

    let live_now = view(b, s, live.id).await;
    assert_between(
        b,
        "live updated_at after the attach",
        live_now.credential.updated_at,
        before,
        after,
    );
    assert_eq!(
        live_now,
        CredentialView {
            credential: Credential {
                test_credential_enabled: true,
                version: 2,
                updated_at: live_now.credential.updated_at,
                ..live.clone()
            },
            owner: Some(owner_of(&ada)),
            test_times: Some((t.created_at, t.updated_at)),
        },
        "{b}: the live credential after the attach"
    );
    assert_eq!(
        s.get_credential_view(t.id).await.unwrap(),
        None,
        "{b}: a test credential is not a live one"
    );
    assert_eq!(
        view(b, s, other.id).await.test_times,
        None,
        "{b}: others have no test times"
    );

    assert_conflict(
        b,
        "a second attach",
        s.attach_test_credential(test_cred("live-test-2", &live))
            .await,
        Conflict::TestCredential,
    );
    assert_eq!(
        view(b, s, live.id).await,
        live_now,
        "{b}: a failed attach changes nothing"
    );
    assert_eq!(
        s.get_test_credential(live.id).await.unwrap(),
        Some(t.clone()),
        "{b}: the first test credential stays"
    );

    // Deletes: only live credentials, and the test credential goes with its live one.
    assert!(
        !s.delete_credential(t.id).await.unwrap(),
        "{b}: delete_credential of a test credential"
    );
    assert_eq!(
        s.get_test_credential(live.id).await.unwrap(),
        Some(t.clone()),
        "{b}: still attached"
    );
    assert!(s.delete_credential(live.id).await.unwrap(), "{b}: delete");
    assert!(
        !s.delete_credential(live.id).await.unwrap(),
        "{b}: delete twice"
    );
    assert!(
        !s.delete_credential(999).await.unwrap(),
        "{b}: delete a missing id"
    );
    assert_eq!(
        s.get_credential_view(live.id).await.unwrap(),
        None,
        "{b}: deleted"
    );
    assert_eq!(
        s.get_test_credential(live.id).await.unwrap(),
        None,
        "{b}: the test credential went with it"
    );
    assert_eq!(
        view(b, s, other.id).await.credential,
        other,
        "{b}: others untouched"
    );
    assert_eq!(
        s.get_folder(f.id).await.unwrap().map(|f| f.size),
        Some(0),
        "{b}: folder size after the delete"
    );

    // The slug is free again, and the new credential can have its own test credential.
    let reborn = create(b, s, full_cred("live-again", sec.id, ada.id, None)).await;
    assert!(reborn.id > t.id, "{b}: a new id");
    let t2 = s
        .attach_test_credential(test_cred("live-again-test", &reborn))
        .await
        .unwrap();
    assert_eq!(
        s.get_test_credential(reborn.id).await.unwrap(),
        Some(t2),
        "{b}: attach after a delete"
    );
}

// ---------------------------------------------------------------------------------------------
// mint_context and mark_used

#[tokio::test]
async fn mint_context_and_mark_used() {
    on_every_backend!(check_mint_context);
}

async fn check_mint_context(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", true).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let plat = team(s, "Platform", "platform-eng").await;
    // Joined in the opposite order of the team ids.
    s.set_membership(plat.id, bob.id, Role::TeamAdmin)
        .await
        .unwrap();
    s.set_membership(sec.id, bob.id, Role::Editor)
        .await
        .unwrap();
    let (h_ada, h_bob, h_revoked) = (
        b"ada-key-hash".to_vec(),
        b"bob-key-hash".to_vec(),
        b"old-bob-key".to_vec(),
    );
    s.create_api_key(ada.id, "a", &h_ada).await.unwrap();
    let bob_key = s.create_api_key(bob.id, "b", &h_bob).await.unwrap();
    let old = s.create_api_key(bob.id, "old", &h_revoked).await.unwrap();
    assert!(
        s.revoke_api_key(bob.id, old.id).await.unwrap(),
        "{b}: revoke"
    );

    let c = create(b, s, full_cred("c", sec.id, ada.id, None)).await;
    let other = create(b, s, cred("other", plat.id, bob.id, "other")).await;
    let t = s
        .attach_test_credential(test_cred("c-test", &c))
        .await
        .unwrap();
    let c = view(b, s, c.id).await.credential;
    assert_eq!(c.version, 2, "{b}: version after the attach");

    let ctx = s
        .mint_context(&h_bob, c.id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{b}: mint_context for bob's key"));
    let mut memberships = ctx.memberships.clone();
    // The order of memberships is not specified.
    memberships.sort_by_key(|m| m.team_id);
    assert_eq!(
        (
            ctx.key_hash.clone(),
            ctx.caller_id,
            ctx.caller_admin,
            memberships
        ),
        (
            h_bob.clone(),
            bob.id,
            false,
            vec![
                Membership {
                    team_id: sec.id,
                    team_slug: "security".into(),
                    role: Role::Editor
                },
                Membership {
                    team_id: plat.id,
                    team_slug: "platform-eng".into(),
                    role: Role::TeamAdmin
                },
            ]
        ),
        "{b}: mint_context caller"
    );
    assert_eq!(
        ctx.credential, c,
        "{b}: mint_context credential, at its current version"
    );

    let ctx = s
        .mint_context(&h_ada, other.id)
        .await
        .unwrap()
        .expect("ada's context");
    assert_eq!(
        (
            ctx.key_hash.clone(),
            ctx.caller_id,
            ctx.caller_admin,
            ctx.memberships.clone()
        ),
        (h_ada.clone(), ada.id, true, vec![]),
        "{b}: mint_context of an admin in no team"
    );
    assert_eq!(
        ctx.credential, other,
        "{b}: mint_context of a plain credential"
    );

    assert!(
        s.mint_context(&h_revoked, c.id).await.unwrap().is_none(),
        "{b}: revoked key"
    );
    assert!(
        s.mint_context(b"unknown", c.id).await.unwrap().is_none(),
        "{b}: unknown key"
    );
    assert!(
        s.mint_context(&h_bob, t.id).await.unwrap().is_none(),
        "{b}: a test credential's id"
    );
    assert!(
        s.mint_context(&h_bob, 999).await.unwrap().is_none(),
        "{b}: a missing credential"
    );

    // The context follows updates.
    let c = s
        .update_credential(&Credential {
            name: "v3".into(),
            ..c.clone()
        })
        .await
        .unwrap()
        .expect("update");
    let ctx = s
        .mint_context(&h_bob, c.id)
        .await
        .unwrap()
        .expect("context after the update");
    assert_eq!(
        (ctx.credential.version, ctx.credential.name.as_str()),
        (3, "v3"),
        "{b}: context after an update"
    );
    assert_eq!(ctx.credential, c, "{b}: context credential after an update");

    // mark_used: exactly the given ids.
    let unused = CredentialFilter {
        unused: true,
        ..Default::default()
    };
    let p = s
        .list_credentials(unused.clone(), page(0, 10))
        .await
        .unwrap();
    assert_eq!(
        (ids(&p), p.total),
        (vec![c.id, other.id], 2),
        "{b}: all unused"
    );
    s.mark_used(&[c.id], 1_700_000_000_001).await.unwrap();
    assert_eq!(
        view(b, s, c.id).await.credential.last_used_at,
        Some(1_700_000_000_001),
        "{b}: marked"
    );
    assert_eq!(
        view(b, s, other.id).await.credential.last_used_at,
        None,
        "{b}: not marked"
    );
    assert_eq!(
        view(b, s, c.id).await.credential.version,
        3,
        "{b}: mark_used leaves the version alone"
    );
    assert_eq!(
        s.mint_context(&h_bob, c.id)
            .await
            .unwrap()
            .map(|x| x.credential.last_used_at),
        Some(Some(1_700_000_000_001)),
        "{b}: context shows the last use"
    );
    let p = s
        .list_credentials(unused.clone(), page(0, 10))
        .await
        .unwrap();
    assert_eq!(
        (ids(&p), p.total),
        (vec![other.id], 1),
        "{b}: unused after one mark"
    );
    s.mark_used(&[], 1_700_000_000_002)
        .await
        .unwrap_or_else(|e| panic!("{b}: mark_used of nothing: {e}"));
    s.mark_used(&[999], 1_700_000_000_002)
        .await
        .unwrap_or_else(|e| panic!("{b}: mark_used of a missing id: {e}"));
    assert_eq!(
        view(b, s, c.id).await.credential.last_used_at,
        Some(1_700_000_000_001),
        "{b}: unchanged"
    );
    s.mark_used(&[c.id, other.id], 1_700_000_000_003)
        .await
        .unwrap();
    assert_eq!(
        view(b, s, c.id).await.credential.last_used_at,
        Some(1_700_000_000_003),
        "{b}: marked again"
    );
    assert_eq!(
        view(b, s, other.id).await.credential.last_used_at,
        Some(1_700_000_000_003),
        "{b}: other marked"
    );
    let p = s.list_credentials(unused, page(0, 10)).await.unwrap();
    assert_eq!((ids(&p), p.total), (vec![], 0), "{b}: none unused");

    // Revoking the key takes the context away.
    assert!(
        s.revoke_api_key(bob.id, bob_key.id).await.unwrap(),
        "{b}: revoke bob's key"
    );
    assert!(
        s.mint_context(&h_bob, c.id).await.unwrap().is_none(),
        "{b}: context after the revoke"
    );
}

// ---------------------------------------------------------------------------------------------
// count_credentials_by_mode

#[tokio::test]
async fn credentials_by_mode() {
    on_every_backend!(check_count_by_mode);
}

async fn check_count_by_mode(b: &str, s: &S) {
    assert_eq!(
        s.count_credentials_by_mode().await.unwrap(),
        vec![],
        "{b}: no credentials"
    );
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let plat = team(s, "Platform", "platform").await;
    let mode = |uid: &str, team_id, slug: &str, mode: Mode| NewCredential {
        mode,
        ..cred(uid, team_id, ada.id, slug)
    };
    let j1 = create(b, s, mode("j1", sec.id, "j1", Mode::Jwt)).await;
    create(b, s, mode("j2", plat.id, "j1", Mode::Jwt)).await;
    create(b, s, mode("t1", sec.id, "t1", Mode::Text)).await;
    create(b, s, mode("a1", sec.id, "a1", Mode::Aws)).await;
    let gone = create(b, s, mode("m1", sec.id, "m1", Mode::Mtls)).await;
    // Test credentials and deleted credentials are not counted.
    s.attach_test_credential(test_cred("j1-test", &j1))
        .await
        .unwrap();
    assert!(s.delete_credential(gone.id).await.unwrap(), "{b}: delete");
    assert_eq!(
        s.count_credentials_by_mode().await.unwrap(),
        vec![(Mode::Aws, 1), (Mode::Jwt, 2), (Mode::Text, 1)],
        "{b}: count_credentials_by_mode, by mode"
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_of_one_slug() {
    on_every_backend!(check_racing_creates);
}

/// 20 creates of the same team and slug at once: exactly one wins, the others are told the
/// slug is taken.
async fn check_racing_creates(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = Arc::clone(s);
        let new = cred(&format!("race-{i}"), sec.id, ada.id, "contested");
        tasks.spawn(async move { (new.clone(), store.create_credential(new).await) });
    }
    let mut winners = vec![];
    let mut conflicts = 0;
    while let Some(joined) = tasks.join_next().await {
        let (new, result) = joined.expect("task panicked");
        match result {
            Ok(c) => {
                assert_eq!(
                    c,
                    inserted(&new, c.id, c.created_at),
                    "{b}: the winner's row"
                );
                winners.push(c);
            }
            Err(StoreError::Conflict(Conflict::CredentialSlug)) => conflicts += 1,
            Err(e) => panic!("{b}: racing create {}: unexpected error {e:?}", new.uid),
        }
    }
    assert_eq!(
        (winners.len(), conflicts),
        (1, 19),
        "{b}: one winner, 19 slug conflicts"
    );
    let p = s
        .list_credentials(
            CredentialFilter {
                team_id: Some(sec.id),
                ..Default::default()
            },
            page(0, 50),
        )
        .await
        .unwrap();
    assert_eq!(p.total, 1, "{b}: one row stored");
    assert_eq!(
        p.items[0].credential, winners[0],
        "{b}: the stored row is the winner's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_distinct_slugs() {
    on_every_backend!(check_concurrent_distinct_creates);
}

/// 30 creates at once, all different: each caller gets its own row back.
async fn check_concurrent_distinct_creates(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let store = Arc::clone(s);
        let new = NewCredential {
            secret: vec![i as u8; i + 1],
            metadata: json!({ "i": i }).into(),
            ..cred(&format!("uid-{i}"), sec.id, ada.id, &format!("slug-{i}"))
        };
        tasks.spawn(async move { (new.clone(), store.create_credential(new).await) });
    }
    let mut created = vec![];
    while let Some(joined) = tasks.join_next().await {
        let (new, result) = joined.expect("task panicked");
        let c = result.unwrap_or_else(|e| panic!("{b}: create {}: {e}", new.uid));
        assert_eq!(
            c,
            inserted(&new, c.id, c.created_at),
            "{b}: {} got its own row",
            new.uid
        );
        created.push(c);
    }
    created.sort_by_key(|c| c.id);
    let mut distinct: Vec<i64> = created.iter().map(|c| c.id).collect();
    distinct.dedup();
    assert_eq!(distinct.len(), 30, "{b}: 30 distinct ids");
    let p = s
        .list_credentials(CredentialFilter::default(), page(0, 50))
        .await
        .unwrap();
    let stored: Vec<Credential> = p.items.into_iter().map(|v| v.credential).collect();
    assert_eq!(
        (stored, p.total),
        (created, 30),
        "{b}: every row stored as answered"
    );
}

#[tokio::test]
async fn a_failing_create_does_not_fail_concurrent_ones() {
    // The default current-thread runtime: every create is queued before any is written, so
    // a backend that writes concurrent creates together gets them all at once.
    on_every_backend!(check_failing_create_isolated);
}

/// A create that the database rejects (its owner does not exist) among concurrent valid ones:
/// it fails alone.
async fn check_failing_create_isolated(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..11 {
        let store = Arc::clone(s);
        let owner = if i == 5 { 999_999 } else { ada.id };
        let new = cred(&format!("uid-{i}"), sec.id, owner, &format!("slug-{i}"));
        tasks.spawn(async move { (new.clone(), store.create_credential(new).await) });
    }
    let mut ok = 0;
    while let Some(joined) = tasks.join_next().await {
        let (new, result) = joined.expect("task panicked");
        match (new.owner_id == ada.id, result) {
            (true, Ok(c)) => {
                assert_eq!(c, inserted(&new, c.id, c.created_at), "{b}: {}", new.uid);
                ok += 1;
            }
            (true, Err(e)) => panic!(
                "{b}: valid create {} failed because of another: {e:?}",
                new.uid
            ),
            (false, Ok(c)) => panic!("{b}: create with a missing owner succeeded: {c:?}"),
            (false, Err(StoreError::Conflict(c))) => {
                panic!("{b}: create with a missing owner reported as a conflict {c:?}")
            }
            (false, Err(_)) => {}
        }
    }
    assert_eq!(ok, 10, "{b}: the valid creates");
    let p = s
        .list_credentials(CredentialFilter::default(), page(0, 50))
        .await
        .unwrap();
    assert_eq!(p.total, 10, "{b}: stored rows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_attaches_and_updates() {
    on_every_backend!(check_racing_attaches_and_updates);
}

/// 10 attaches to one live credential at once: one test credential, one version bump. Then 10
/// updates at one version: exactly one applies.
async fn check_racing_attaches_and_updates(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let live = create(b, s, full_cred("live", sec.id, ada.id, None)).await;

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let store = Arc::clone(s);
        let new = test_cred(&format!("test-{i}"), &live);
        tasks.spawn(async move { store.attach_test_credential(new).await });
    }
    let mut attached = vec![];
    let mut conflicts = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("task panicked") {
            Ok(t) => attached.push(t),
            Err(StoreError::Conflict(Conflict::TestCredential)) => conflicts += 1,
            Err(e) => panic!("{b}: racing attach: unexpected error {e:?}"),
        }
    }
    assert_eq!(
        (attached.len(), conflicts),
        (1, 9),
        "{b}: one attach, 9 conflicts"
    );
    assert_eq!(
        s.get_test_credential(live.id).await.unwrap(),
        Some(attached[0].clone()),
        "{b}: the winner is attached"
    );
    let live = view(b, s, live.id).await.credential;
    assert_eq!(
        (live.version, live.test_credential_enabled),
        (2, true),
        "{b}: one version bump"
    );

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let store = Arc::clone(s);
        let edit = Credential {
            name: format!("writer {i}"),
            ..live.clone()
        };
        tasks.spawn(async move { store.update_credential(&edit).await });
    }
    let mut applied = vec![];
    let mut stale = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("task panicked") {
            Ok(Some(c)) => applied.push(c),
            Ok(None) => stale += 1,
            Err(e) => panic!("{b}: racing update: unexpected error {e:?}"),
        }
    }
    assert_eq!(
        (applied.len(), stale),
        (1, 9),
        "{b}: one update applies, 9 see a stale version"
    );
    assert_eq!(applied[0].version, 3, "{b}: the applied update's version");
    assert_eq!(
        view(b, s, live.id).await.credential,
        applied[0],
        "{b}: the stored row is the winner's"
    );
}

#[tokio::test]
async fn deactivating_users() {
    on_every_backend!(check_deactivation);
}

async fn check_deactivation(b: &str, s: &S) {
    let owner = user(s, "owner@example.com", true).await;
    let ada = user(s, "ada@example.com", false).await;
    s.create_api_key(ada.id, "k", b"ada-key-hash")
        .await
        .unwrap();
    let at = now_ms();

    match s.deactivate_user(ada.id, at).await.unwrap() {
        credvault_store::Deactivation::Done(u) => {
            assert!(!u.is_active, "{b}");
            assert_eq!(u.updated_at, at, "{b}");
        }
        other => panic!("{b}: {other:?}"),
    }
    assert!(!s.get_user(ada.id).await.unwrap().unwrap().is_active, "{b}");
    assert!(
        s.find_api_key(b"ada-key-hash").await.unwrap().is_none(),
        "{b}: an inactive user's key still authenticates"
    );
    // Again: nothing changes.
    assert!(matches!(
        s.deactivate_user(ada.id, at + 1).await.unwrap(),
        credvault_store::Deactivation::Done(u) if u.updated_at == at
    ));
    assert_eq!(
        s.deactivate_user(999_999, at).await.unwrap(),
        credvault_store::Deactivation::NotFound,
        "{b}"
    );
    // The last active admin stays; with a second one, either may go, but not both.
    assert_eq!(
        s.deactivate_user(owner.id, at).await.unwrap(),
        credvault_store::Deactivation::LastAdmin,
        "{b}"
    );
    let second = user(s, "second@example.com", true).await;
    assert!(matches!(
        s.deactivate_user(owner.id, at).await.unwrap(),
        credvault_store::Deactivation::Done(_)
    ));
    assert_eq!(
        s.deactivate_user(second.id, at).await.unwrap(),
        credvault_store::Deactivation::LastAdmin,
        "{b}"
    );
}

#[tokio::test]
async fn removing_members() {
    on_every_backend!(check_remove_membership);
}

async fn check_remove_membership(b: &str, s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    s.set_membership(sec.id, ada.id, Role::Editor)
        .await
        .unwrap();
    assert!(s.remove_membership(sec.id, ada.id).await.unwrap(), "{b}");
    assert_eq!(s.get_membership(sec.id, ada.id).await.unwrap(), None, "{b}");
    assert!(!s.remove_membership(sec.id, ada.id).await.unwrap(), "{b}");
}
