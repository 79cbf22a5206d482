//! Start-up: open and migrate the database, load or create the master key and check it against
//! the database, create the tenant owner on an empty database, then serve until a signal.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use std::time::Duration;

use credvault_api::audit::file::AuditFile;
use credvault_api::audit::{object, op};
use credvault_api::connections::{self, ConnectionLimits};
use credvault_api::encryption::{KeyringCell, KEYRING_META};
use credvault_api::notify::{Notifier, NotifyConfig};
use credvault_api::{AppState, Settings};
use credvault_core::audit::AuditRecord;
use credvault_core::crypto::{generate_api_key, Keyring, KeyringWrapKey, MasterKey};
use credvault_store::{Conflict, NewUser, PgStore, SqliteStore, Store, StoreError};
use serde_json::json;
use zeroize::Zeroizing;

use crate::{DbArgs, NotifyArgs, RekeyArgs, ServeArgs};

/// Before the keyring: a record sealed with the derived data key, to refuse another master key.
const KEY_CHECK: &str = "master_key_check";
/// The keyring, wrapped by the master key (API.md §9).
const KEYRING: &str = KEYRING_META;
/// How often a server looks whether the keyring changed and secrets wait to be re-sealed.
const REENCRYPTION_CHECK: Duration = Duration::from_secs(5);
const WRONG_MASTER_KEY: &str = "the master key does not match this database: it was created \
     with a different key. Start with the original master key (CREDVAULT_MASTER_KEY or \
     --master-key-file), or the new one after a rekey";
const DEFAULT_OWNER_EMAIL: &str = "owner@localhost";

/// Creates the data directory readable only by its owner (it holds the database and keys);
/// an existing one is made so too, since whoever created it may have left it open.
pub(crate) fn create_data_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private (mode 0700)", dir.display()))?;
    Ok(())
}

/// The database file and its WAL and shared-memory files, readable by this user only: files
/// that an older version or another tool created with a wider mode are narrowed.
pub(crate) fn make_private(database: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = database.as_os_str().to_owned();
        path.push(suffix);
        let path = PathBuf::from(path);
        if let Ok(meta) = fs::metadata(&path) {
            if meta.permissions().mode() & 0o077 != 0 {
                if let Err(e) = fs::set_permissions(&path, fs::Permissions::from_mode(0o600)) {
                    tracing::warn!(path = %path.display(), error = %e, "cannot make the file private (mode 0600)");
                }
            }
        }
    }
}

/// File descriptors kept for the database, the key files and logs when capping connections.
const RESERVED_FDS: u64 = 256;

/// Raises the soft open-file limit to the hard limit and returns it, so that the connection
/// cap, not the descriptor table, is what refuses a flood of connections.
fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed in.
    #[allow(unsafe_code)]
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

fn connection_limits(args: &ServeArgs) -> ConnectionLimits {
    let open_files = raise_open_file_limit();
    let fits =
        usize::try_from(open_files.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX);
    let max_connections = args.max_connections.unwrap_or(fits).min(fits);
    tracing::info!(open_files, max_connections, "connection limits");
    ConnectionLimits {
        header_timeout: Duration::from_secs(args.header_timeout_seconds),
        body_timeout: Duration::from_secs(args.body_timeout_seconds),
        idle_timeout: Duration::from_secs(args.idle_timeout_seconds),
        max_connections,
    }
}

pub(crate) async fn open_store(args: &DbArgs) -> Result<Arc<dyn Store>> {
    fn shared(store: impl Store) -> Arc<dyn Store> {
        Arc::new(store)
    }
    let store = match args.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            PgStore::open(url, args.database_pool_size)
                .await
                .map(shared)
        }
        Some(url) if url.starts_with("sqlite:") => SqliteStore::open_url(url).await.map(shared),
        Some(_) => {
            bail!("--database-url must start with sqlite:, postgres:// or postgresql://")
        }
        None => {
            create_data_dir(&args.data_dir)?;
            let path = args.data_dir.join("credvault.db");
            let store = SqliteStore::open(&path).await.map(shared);
            make_private(&path);
            store
        }
    };
    store.context("cannot open the database")
}

pub async fn migrate(args: DbArgs) -> Result<()> {
    let store = open_store(&args).await?;
    store.close().await;
    tracing::info!("database schema is up to date");
    Ok(())
}

/// Writes `contents` to a new file readable only by its owner; never overwrites.
fn write_private_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The master key from `CREDVAULT_MASTER_KEY`, else from `key_file` (default
/// `<data-dir>/master.key`). With `create`, a missing file is created with a new key, but only
/// for a database that holds no encrypted data yet, so a lost key file is never silently
/// replaced by a new key.
pub(crate) async fn load_master_key(
    db: &DbArgs,
    key_file: Option<&Path>,
    store: &dyn Store,
    create: bool,
) -> Result<MasterKey> {
    if let Ok(text) = std::env::var("CREDVAULT_MASTER_KEY") {
        return MasterKey::from_base64(&text).context("CREDVAULT_MASTER_KEY is invalid");
    }
    let path = key_file.map_or_else(|| db.data_dir.join("master.key"), Path::to_path_buf);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let mode = fs::metadata(&path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the master key file is readable by others; chmod 600 it");
            }
            MasterKey::from_base64(&text)
                .with_context(|| format!("the master key file {} is invalid", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let has_data = store.get_meta(KEY_CHECK).await?.is_some()
                || store.get_meta(KEYRING).await?.is_some();
            if has_data || !create {
                bail!(
                    "no master key: {} does not exist and CREDVAULT_MASTER_KEY is not set, but the \
                     database holds data encrypted with a master key; supply that key",
                    path.display()
                );
            }
            if let Some(dir) = path.parent() {
                create_data_dir(dir)?;
            }
            let key = MasterKey::generate();
            write_private_file(&path, key.to_base64().as_bytes())?;
            tracing::info!(path = %path.display(), "generated a new master key; back it up, the data cannot be decrypted without it");
            Ok(key)
        }
        Err(e) => {
            Err(e).with_context(|| format!("cannot read the master key file {}", path.display()))
        }
    }
}

/// The database's keyring, unwrapped with `master`. A database from before the keyring (or a
/// new one) gets one, made of the keys its master key derived, so that every secret and API
/// key it holds keeps working; whichever instance comes first writes it.
pub(crate) async fn open_keyring(store: &dyn Store, master: &MasterKey) -> Result<Keyring> {
    let wrapped = if let Some(wrapped) = store.get_meta(KEYRING).await? {
        wrapped
    } else {
        let derived = Keyring::derived(master, credvault_core::timefmt::now_millis());
        // The old record refuses a wrong key before a keyring is wrapped under it.
        check_master_key(store, &derived).await?;
        store.insert_meta(KEYRING, &derived.wrap(master)).await?;
        // Another instance may have written its keyring first; the stored one decides.
        store
            .get_meta(KEYRING)
            .await?
            .context("the keyring record vanished")?
    };
    Keyring::unwrap(master, &wrapped).map_err(|_| anyhow!(WRONG_MASTER_KEY))
}

/// The new master key of a rekey.
fn new_master_key(args: &RekeyArgs) -> Result<MasterKey> {
    if let Ok(text) = std::env::var("CREDVAULT_NEW_MASTER_KEY") {
        return MasterKey::from_base64(&text).context("CREDVAULT_NEW_MASTER_KEY is invalid");
    }
    let path = args.new_master_key_file.as_ref().context(
        "give the new master key: --new-master-key-file PATH or CREDVAULT_NEW_MASTER_KEY",
    )?;
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the new master key file {}", path.display()))?;
    MasterKey::from_base64(&text)
        .with_context(|| format!("the new master key file {} is invalid", path.display()))
}

/// `credvault rekey`: wraps the keyring under a new master key in one write, conditional on
/// the record it read, so that the database is wrapped by exactly one of the two keys.
pub async fn rekey(args: RekeyArgs) -> Result<()> {
    let store = open_store(&args.db).await?;
    let key_file = args.master_key_file.as_deref();
    let master = load_master_key(&args.db, key_file, store.as_ref(), false).await?;
    let keyring = open_keyring(store.as_ref(), &master).await?;
    let new = new_master_key(&args)?;
    let old = store
        .get_meta(KEYRING)
        .await?
        .context("the keyring record vanished")?;
    let audit = AuditRecord::system(
        op::MASTER_KEY_ROTATION,
        object(json!({"inputs": {"command": "rekey"}, "terms": keyring.current_term()})),
    );
    if !store
        .replace_meta(KEYRING, &old, &keyring.wrap(&new), audit)
        .await?
    {
        bail!("the keyring changed while it was being re-wrapped (another rekey?); run it again");
    }
    let stored = store
        .get_meta(KEYRING)
        .await?
        .context("the keyring record vanished")?;
    Keyring::unwrap(&new, &stored).context("the re-wrapped keyring does not open")?;
    store.close().await;
    tracing::info!(
        "the keyring is now wrapped by the new master key; start credvault with it \
         (replace the master key file or CREDVAULT_MASTER_KEY): the old key no longer opens it"
    );
    Ok(())
}

/// Refuses to start with a master key other than the one the database was created with.
async fn check_master_key(store: &dyn Store, keyring: &Keyring) -> Result<()> {
    let record = if let Some(record) = store.get_meta(KEY_CHECK).await? {
        record
    } else {
        store
            .insert_meta(KEY_CHECK, &keyring.make_key_check())
            .await?;
        // Another instance may have written its record first; the stored one decides.
        store
            .get_meta(KEY_CHECK)
            .await?
            .context("the master key check record vanished")?
    };
    if !keyring.verify_key_check(&record) {
        bail!(WRONG_MASTER_KEY);
    }
    Ok(())
}

/// On a database without users: the tenant owner, and an API key for it.
async fn bootstrap_owner(data_dir: &Path, store: &dyn Store, keyring: &Keyring) -> Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let email =
        std::env::var("CREDVAULT_BOOTSTRAP_EMAIL").unwrap_or_else(|_| DEFAULT_OWNER_EMAIL.into());
    let bootstrap = |operation, inputs| {
        let mut inputs = object(inputs);
        inputs.insert("reason".into(), json!("bootstrap"));
        AuditRecord::system(operation, inputs)
    };
    let new = NewUser {
        email: email.trim().to_lowercase(),
        first_name: "Owner".into(),
        last_name: String::new(),
        admin: true,
    };
    let audit = bootstrap(
        op::USER_CREATION,
        json!({"inputs": {"email": new.email, "firstName": "Owner", "lastName": "", "admin": true}}),
    );
    let owner = match store.create_user(new, audit).await {
        Ok(owner) => owner,
        // Another instance bootstrapped the same database at the same moment.
        Err(StoreError::Conflict(Conflict::UserEmail)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let (key, key_file): (Zeroizing<String>, Option<PathBuf>) =
        match std::env::var("CREDVAULT_BOOTSTRAP_API_KEY") {
            Ok(key) if !key.trim().is_empty() => (Zeroizing::new(key.trim().to_string()), None),
            _ => (generate_api_key(), Some(data_dir.join("owner-api-key"))),
        };
    if let Some(path) = &key_file {
        create_data_dir(data_dir)?;
        write_private_file(path, format!("{}\n", key.as_str()).as_bytes())?;
    }
    let audit = bootstrap(
        op::TOKEN_CREATION,
        json!({"inputs": {"name": "bootstrap", "userId": owner.id}, "user_id": owner.id}),
    );
    store
        .create_api_key(owner.id, "bootstrap", &keyring.hash_api_key(&key), audit)
        .await?;
    match key_file {
        Some(path) => {
            tracing::info!(email = %owner.email, key_file = %path.display(), "created the tenant owner; its API key is in the key file");
        }
        None => {
            tracing::info!(email = %owner.email, "created the tenant owner with the API key from CREDVAULT_BOOTSTRAP_API_KEY");
        }
    }
    Ok(())
}

/// Writes the address whole (a temporary file renamed into place), so that a reader polling
/// for the file never sees half of it.
fn write_address_file(path: &std::path::Path, local: std::net::SocketAddr) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, local.to_string())
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("cannot write the address file {}", path.display()))
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("cannot listen for SIGTERM");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// The expiry notification channels of `args`; the webhook secret only ever comes from the
/// environment, so that it never shows in a process list.
fn notifier(args: &NotifyArgs) -> Result<Notifier> {
    let config = NotifyConfig {
        smtp_url: args.smtp_url.clone(),
        smtp_from: args.smtp_from.clone().unwrap_or_else(default_sender),
        webhook_url: args.notify_webhook_url.clone(),
        webhook_secret: std::env::var("CREDVAULT_NOTIFY_WEBHOOK_SECRET")
            .ok()
            .filter(|s| !s.is_empty()),
        lease: Duration::from_secs(args.notify_lease_seconds.max(1)),
    };
    let notifier = Notifier::new(&config)?;
    if let Some(url) = &args.smtp_url {
        // The host only: the URL may hold the relay's password.
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string));
        tracing::info!(relay = host.as_deref().unwrap_or(""), from = %config.smtp_from, "expiry notifications by email");
    }
    if config.webhook_url.is_some() {
        tracing::info!(
            signed = config.webhook_secret.is_some(),
            "expiry notifications by webhook"
        );
    }
    Ok(notifier)
}

/// `credvault@<host name>`, as mail programs name their sender by default.
fn default_sender() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
        .unwrap_or_else(|| "localhost".to_string());
    format!("credvault@{host}")
}

/// The server's keyring: opened with the master key, which is then dropped; the server keeps
/// only the key that wraps the keyring, to store it again after a data-key rotation.
async fn keyring_cell(args: &ServeArgs, store: &dyn Store) -> Result<KeyringCell> {
    let key_file = args.master_key_file.as_deref();
    let master = load_master_key(&args.db, key_file, store, true).await?;
    let keyring = open_keyring(store, &master).await?;
    let wrapped = store
        .get_meta(KEYRING)
        .await?
        .context("the keyring record vanished")?;
    Ok(KeyringCell::new(
        keyring,
        wrapped,
        KeyringWrapKey::of(&master),
    ))
}

pub async fn serve(args: ServeArgs) -> Result<()> {
    let store = open_store(&args.db).await?;
    if let Some(path) = &args.audit_log_file {
        let file = AuditFile::open(path)
            .with_context(|| format!("cannot open the audit log file {}", path.display()))?;
        store.stream_audit_to(Arc::new(file));
    }
    let keyring = keyring_cell(&args, store.as_ref()).await?;
    bootstrap_owner(&args.db.data_dir, store.as_ref(), &keyring.current()).await?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let settings = Settings {
        public_url: args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}")),
        rate_limit_per_minute: args.rate_limit_per_minute,
        token_cache_seconds: args.token_cache_seconds,
        key_cache_size: args.key_cache_size,
        cache_bytes: args.cache_max_mib.saturating_mul(1024 * 1024),
    };
    let state = AppState::new(store.clone(), keyring, &settings);
    let mint_audit = state.mint_audit.clone();
    let every = std::time::Duration::from_secs(args.rotation_check_seconds.max(1));
    let rotations = credvault_api::rotation::start(state.clone(), every);
    let reencryption =
        state
            .reencryption
            .start(state.keyring.clone(), store.clone(), REENCRYPTION_CHECK);
    let notifications = notifier(&args.notify)?.start(
        state.clone(),
        Duration::from_secs(args.notify.notify_interval_seconds.max(1)),
    );
    let limits = connection_limits(&args);
    tracing::info!("listening on http://{local}");
    if let Some(path) = &args.address_file {
        write_address_file(path, local)?;
    }
    connections::serve(
        listener,
        credvault_api::router(state),
        limits,
        shutdown_signal(),
    )
    .await;
    rotations.abort();
    notifications.abort();
    reencryption.abort();
    // The minute in progress too: its mints are recorded before the process ends.
    mint_audit.flush(store.as_ref(), None).await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
