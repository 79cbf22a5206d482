//! `credvault backup`, `restore` and `check` (API.md §9). A backup is a consistent snapshot of
//! the SQLite database taken while servers keep serving and writing; it holds the keyring
//! wrapped by the master key, never the master key itself. A restore makes a new data
//! directory from a snapshot only once the snapshot is whole and the master key opens it.
//! PostgreSQL is backed up with its own tools (`pg_dump`), and `check` verifies the result.

use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use credvault_store::{PageRequest, SqliteStore, Store};

use crate::startup::{create_data_dir, load_master_key, make_private, open_keyring, open_store};
use crate::{BackupArgs, CheckArgs, DbArgs, RestoreArgs};

const DATABASE_FILE: &str = "credvault.db";

pub async fn backup(args: BackupArgs) -> Result<()> {
    let store = open_sqlite(&args.db).await?;
    if args.to.exists() {
        bail!(
            "{} exists; a backup is written to a new file",
            args.to.display()
        );
    }
    let started = Instant::now();
    store
        .backup_to(&args.to)
        .await
        .with_context(|| format!("cannot write the backup {}", args.to.display()))?;
    make_private(&args.to);
    store.close().await;
    tracing::info!(
        to = %args.to.display(),
        seconds = started.elapsed().as_secs_f64(),
        "backup written; keep the master key apart from it"
    );
    Ok(())
}

/// The SQLite database of `db`; a PostgreSQL URL is refused with what to do instead.
async fn open_sqlite(db: &DbArgs) -> Result<SqliteStore> {
    let store = match db.database_url.as_deref() {
        Some(url) if url.starts_with("sqlite:") => SqliteStore::open_url(url).await,
        Some(_) => bail!(
            "credvault backup is for the embedded SQLite database; back PostgreSQL up with \
             pg_dump and check a restore with credvault check (docs/operations.md)"
        ),
        None => {
            let path = db.data_dir.join(DATABASE_FILE);
            if !path.exists() {
                bail!("there is no database at {}", path.display());
            }
            SqliteStore::open(&path).await
        }
    };
    store.context("cannot open the database")
}

pub async fn restore(args: RestoreArgs) -> Result<()> {
    refuse_non_empty(&args.data_dir)?;
    SqliteStore::check_file(&args.from)
        .await
        .with_context(|| format!("{} is not a whole credvault snapshot", args.from.display()))?;
    create_data_dir(&args.data_dir)?;
    let target = args.data_dir.join(DATABASE_FILE);
    fs::copy(&args.from, &target).with_context(|| {
        format!(
            "cannot copy {} to {}",
            args.from.display(),
            target.display()
        )
    })?;
    make_private(&target);
    if let Err(e) = opens(&args, &target).await {
        for suffix in ["", "-wal", "-shm", "-migrate.lock"] {
            let _ = fs::remove_file(format!("{}{suffix}", target.display()));
        }
        return Err(e);
    }
    tracing::info!(data_dir = %args.data_dir.display(), "restored; start credvault serve on it with the same master key");
    Ok(())
}

/// A data directory may receive a restore when it is missing, empty, or holds only the
/// master key the restore is to use.
fn refuse_non_empty(dir: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let name = entry?.file_name();
        if name != "master.key" {
            bail!(
                "the data directory {} is not empty (it holds {}); restore into a new one",
                dir.display(),
                name.to_string_lossy()
            );
        }
    }
    Ok(())
}

/// Opens the restored database (bringing an older snapshot's schema up to date) and its
/// keyring with the master key.
async fn opens(args: &RestoreArgs, target: &Path) -> Result<()> {
    let store = SqliteStore::open(target)
        .await
        .context("cannot open the restored database")?;
    let db = DbArgs {
        data_dir: args.data_dir.clone(),
        database_url: None,
        database_pool_size: 1,
    };
    let key_file = args.master_key_file.as_deref();
    let result = async {
        let master = load_master_key(&db, key_file, &store, false).await?;
        open_keyring(&store, &master)
            .await
            .context("the master key does not open this snapshot")
    }
    .await;
    store.close().await;
    result.map(drop)
}

pub async fn check(args: CheckArgs) -> Result<()> {
    let store = open_store(&args.db).await?;
    let key_file = args.master_key_file.as_deref();
    let master = load_master_key(&args.db, key_file, store.as_ref(), false).await?;
    let keyring = open_keyring(store.as_ref(), &master).await?;
    drop(master);
    let users = store.count_users().await?;
    let all = PageRequest {
        offset: 0,
        limit: 1,
    };
    let teams = store.list_teams(None, all).await?.total;
    let credentials: i64 = store
        .count_credentials_by_mode()
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum();
    store.close().await;
    println!(
        "ok: the master key opens the keyring (data-key term {}); {users} users, {teams} teams, \
         {credentials} credentials",
        keyring.current_term()
    );
    Ok(())
}
