//! Running one check on one backend: a fresh database for every test, dropped afterwards even
//! when the check panics.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use credvault_store::{PgStore, SqliteStore, Store};
use sqlx::Connection;

/// The store a check runs against.
pub type S = Arc<dyn Store>;

/// A backend under test.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A check: `async fn name(s: &S)`.
pub trait Check<'a>: FnOnce(&'a S) -> Self::Future {
    type Future: Future<Output = ()> + Send + 'a;
}

impl<'a, F, Fut> Check<'a> for F
where
    F: FnOnce(&'a S) -> Fut,
    Fut: Future<Output = ()> + Send + 'a,
{
    type Future = Fut;
}

/// Runs `check` on a fresh database of `kind`, then closes the store and drops the database,
/// also when the check panics (it runs in its own task); the panic is then passed on.
///
/// PostgreSQL needs `CREDVAULT_TEST_POSTGRES_URL`; without it the test says it is skipped and
/// passes, unless `CREDVAULT_TEST_REQUIRE_POSTGRES` is set: then it fails.
pub async fn run<F>(kind: Kind, check: F)
where
    F: for<'a> Check<'a> + Send + 'static,
{
    let backend = match kind {
        Kind::Sqlite => sqlite().await,
        Kind::Postgres => match postgres_server() {
            Some(server) => postgres(&server).await,
            None => return,
        },
    };
    let store = Arc::clone(&backend.store);
    let outcome = tokio::spawn(async move { check(&store).await }).await;
    backend.finish().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the check did not finish: {e}"),
        }
    }
}

/// The store and what keeps its database alive.
struct Backend {
    store: S,
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
            drop_database(&mut conn, database).await;
            conn.close().await.ok();
        }
    }
}

/// The PostgreSQL server to test against, or None (said on stderr) to skip.
fn postgres_server() -> Option<String> {
    match std::env::var("CREDVAULT_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_string()),
        _ if std::env::var_os("CREDVAULT_TEST_REQUIRE_POSTGRES").is_some() => panic!(
            "CREDVAULT_TEST_REQUIRE_POSTGRES is set but CREDVAULT_TEST_POSTGRES_URL is not: \
             set it to a PostgreSQL server URL without a database name \
             (e.g. postgres://credvault@127.0.0.1:5432), or run scripts/test"
        ),
        _ => {
            eprintln!("PostgreSQL skipped: CREDVAULT_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let store = SqliteStore::open(&dir.path().join("credvault.db"))
        .await
        .expect("cannot open the SQLite store");
    Backend {
        store: Arc::new(store),
        guard: Guard::Sqlite(dir),
    }
}

async fn admin_connection(server: &str) -> sqlx::postgres::PgConnection {
    sqlx::postgres::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {server}/postgres: {e}"))
}

async fn drop_database(conn: &mut sqlx::postgres::PgConnection, database: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(conn)
    .await
    .unwrap_or_else(|e| panic!("cannot drop PostgreSQL database {database}: {e}"));
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
    drop_database(&mut conn, &database).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create PostgreSQL database {database}: {e}"));
    conn.close().await.ok();
    let store = PgStore::open(&format!("{server}/{database}"), 5)
        .await
        .unwrap_or_else(|e| panic!("cannot open the PostgreSQL store {database}: {e}"));
    Backend {
        store: Arc::new(store),
        guard: Guard::Postgres {
            server: server.to_string(),
            database,
        },
    }
}
