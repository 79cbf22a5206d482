//! The `credvault` binary: `serve` runs the HTTP service, `migrate` brings the database schema
//! up to date and exits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod audit;
mod backup;
mod cli;
mod startup;

#[derive(Parser)]
#[command(
    name = "credvault",
    version,
    about = "A self-hosted credentials service speaking the Tines credentials API"
)]
struct Cli {
    /// Log line format: human-readable text, or one JSON object per line.
    #[arg(long, global = true, env = "CREDVAULT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(flatten)]
    client: cli::ClientArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(Box<ServeArgs>),
    /// Create or upgrade the database schema, then exit.
    Migrate(DbArgs),
    /// Wrap the database's keyring under a new master key (API.md §9), then exit. Running
    /// servers keep serving; from then on only the new key starts one.
    Rekey(RekeyArgs),
    /// Write a consistent snapshot of the SQLite database to a new file while servers keep
    /// serving and writing (API.md §9). The master key is not in it. PostgreSQL: use pg_dump.
    Backup(BackupArgs),
    /// Make a data directory from a snapshot that `backup` wrote, after checking the
    /// snapshot's integrity and that the master key opens it.
    Restore(RestoreArgs),
    /// Open the database and its keyring with the master key, count what it holds, and exit 0
    /// (1 if the key does not open it): the check after a restore, on either backend.
    Check(CheckArgs),
    /// The audit log (API.md §8).
    #[command(subcommand)]
    Audit(AuditCommand),
    #[command(flatten)]
    Client(cli::ClientCommand),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the audit log's hash chain: exit 0 with the number of entries, or 1 naming the
    /// first entry that was changed, deleted or reordered.
    Verify(DbArgs),
    /// List the audit log through the API (tenant admins), newest first.
    ///
    /// Examples:
    ///   credvault audit list --operation CredentialDestruction --after 2026-11-01T00:00:00Z
    ///   credvault audit list --user 5 --json
    #[command(verbatim_doc_comment)]
    List(cli::more::AuditListArgs),
}

#[derive(Args, Clone)]
pub struct BackupArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The snapshot file to write; it must not exist.
    #[arg(long)]
    pub to: PathBuf,
}

#[derive(Args, Clone)]
pub struct RestoreArgs {
    /// The snapshot file `credvault backup` wrote.
    #[arg(long)]
    pub from: PathBuf,
    /// The data directory to make; it must not hold a database, or anything but `master.key`.
    #[arg(long, env = "CREDVAULT_DATA_DIR")]
    pub data_dir: PathBuf,
    /// File holding the base64 master key the snapshot was made under; CREDVAULT_MASTER_KEY,
    /// when set, takes precedence. Default <data-dir>/master.key.
    #[arg(long, env = "CREDVAULT_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// File holding the base64 master key; CREDVAULT_MASTER_KEY, when set, takes precedence.
    /// Default <data-dir>/master.key.
    #[arg(long, env = "CREDVAULT_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct RekeyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// File holding the current base64 master key; CREDVAULT_MASTER_KEY, when set, takes
    /// precedence. Default <data-dir>/master.key.
    #[arg(long, env = "CREDVAULT_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// File holding the new base64 master key (32 random bytes, e.g. `openssl rand -base64
    /// 32`); CREDVAULT_NEW_MASTER_KEY, when set, takes precedence.
    #[arg(long)]
    pub new_master_key_file: Option<PathBuf>,
}

/// Where expiry notifications go and how often they are looked for.
#[derive(Args, Clone)]
pub struct NotifyArgs {
    /// SMTP relay for expiry notification emails: `smtp://[user:pass@]host[:port]` (plain),
    /// `smtp://…?tls=required` (STARTTLS), `smtps://…` (implicit TLS).
    #[arg(long, env = "CREDVAULT_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of notification emails; default `credvault@<host name>`.
    #[arg(long, env = "CREDVAULT_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Receives a JSON `POST` per expiry notification, signed (`X-Credvault-Signature`) with
    /// the secret in the environment variable `CREDVAULT_NOTIFY_WEBHOOK_SECRET` when it is set.
    #[arg(long, env = "CREDVAULT_NOTIFY_WEBHOOK_URL", hide_env_values = true)]
    pub notify_webhook_url: Option<String>,
    /// How often to look for expiry notifications that are due (and retries, sooner).
    #[arg(long, env = "CREDVAULT_NOTIFY_INTERVAL_SECONDS", default_value_t = 60)]
    pub notify_interval_seconds: u64,
    /// How long an instance holds a notification it is sending; if it dies meanwhile, another
    /// sends it once this has passed. A delivery times out at half of it (at most 10 s).
    #[arg(long, env = "CREDVAULT_NOTIFY_LEASE_SECONDS", default_value_t = 120)]
    pub notify_lease_seconds: u64,
}

#[derive(Args, Clone)]
pub struct DbArgs {
    /// Directory for the SQLite database, the generated master key and the owner's API key.
    #[arg(long, env = "CREDVAULT_DATA_DIR", default_value = "./credvault-data")]
    pub data_dir: PathBuf,
    /// Database URL; default: the SQLite file credvault.db in the data directory.
    #[arg(long, env = "CREDVAULT_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// PostgreSQL connections kept by this instance (keep instances × size below the server's
    /// max_connections).
    #[arg(long, env = "CREDVAULT_DATABASE_POOL_SIZE", default_value_t = 10)]
    pub database_pool_size: u32,
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "CREDVAULT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Once listening, write the bound address (e.g. `127.0.0.1:43567`) to this file, so that
    /// a supervisor or test harness that asked for port 0 learns the port without reading logs.
    #[arg(long, env = "CREDVAULT_ADDRESS_FILE")]
    pub address_file: Option<PathBuf>,
    /// How often to look for credentials due for scheduled key rotation (and at start).
    #[arg(long, env = "CREDVAULT_ROTATION_CHECK_SECONDS", default_value_t = 30)]
    pub rotation_check_seconds: u64,
    #[command(flatten, next_help_heading = "Expiry notifications (API.md §7)")]
    pub notify: NotifyArgs,
    /// Base URL for links in responses (pagination); default http://<listen address>.
    #[arg(long, env = "CREDVAULT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds a minted token may be reused (at most 10% of its lifetime); 0 turns reuse off.
    #[arg(long, env = "CREDVAULT_TOKEN_CACHE_SECONDS", default_value_t = 30)]
    pub token_cache_seconds: u64,
    /// Most parsed signing keys kept in memory (least recently used are dropped first).
    #[arg(long, env = "CREDVAULT_KEY_CACHE_SIZE", default_value_t = 10_000)]
    pub key_cache_size: usize,
    /// Memory each mint cache (parsed keys, minted tokens) may use, in MiB; the least recently
    /// used entries are dropped first.
    #[arg(long, env = "CREDVAULT_CACHE_MAX_MIB", default_value_t = 128)]
    pub cache_max_mib: usize,
    /// Requests per minute allowed per API key and client IP.
    #[arg(long, env = "CREDVAULT_RATE_LIMIT_PER_MINUTE", default_value_t = 5000)]
    pub rate_limit_per_minute: u32,
    /// Seconds a client has to send a request's headers.
    #[arg(long, env = "CREDVAULT_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, env = "CREDVAULT_BODY_TIMEOUT_SECONDS", default_value_t = 30)]
    pub body_timeout_seconds: u64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, env = "CREDVAULT_IDLE_TIMEOUT_SECONDS", default_value_t = 60)]
    pub idle_timeout_seconds: u64,
    /// Most open client connections; further ones are closed at once. Default: what the
    /// open-file limit allows, less a reserve for the database and files.
    #[arg(long, env = "CREDVAULT_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// File holding the base64 master key; created (mode 0600) on first start if absent.
    /// CREDVAULT_MASTER_KEY (base64), when set, takes precedence. Default <data-dir>/master.key.
    #[arg(long, env = "CREDVAULT_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Also append every audit log entry to this file, one JSON object per line (created with
    /// mode 0600). While it cannot be written, changes are refused with 503.
    #[arg(long, env = "CREDVAULT_AUDIT_LOG_FILE")]
    pub audit_log_file: Option<PathBuf>,
}

/// Logs go to stderr, filtered by `CREDVAULT_LOG` (or `RUST_LOG`), default `info`.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CREDVAULT_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// A client command: no logging set-up (its output is for people and scripts), errors on
/// stderr, exit 1 for a refusal and 2 for a usage error.
fn client_main(command: cli::ClientCommand, args: &cli::ClientArgs) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");
    ExitCode::from(runtime.block_on(cli::run(command, args)))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Client(cli::ClientCommand::Completions { shell }) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "credvault", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Client(command) => return client_main(command, &cli.client),
        Command::Audit(AuditCommand::List(list)) => {
            return client_main(cli::ClientCommand::AuditList(list), &cli.client)
        }
        other => other,
    };
    init_logging(cli.log_format);
    // Everything credvault creates (database, WAL, keys) is for its own user only, whoever
    // created the data directory and whatever umask the service manager set.
    // SAFETY: umask only changes this process's file-creation mask.
    #[allow(unsafe_code)]
    unsafe {
        libc::umask(0o077)
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Serve(args) => startup::serve(*args).await,
            Command::Migrate(args) => startup::migrate(args).await,
            Command::Rekey(args) => startup::rekey(args).await,
            Command::Backup(args) => backup::backup(args).await,
            Command::Restore(args) => backup::restore(args).await,
            Command::Check(args) => backup::check(args).await,
            Command::Audit(AuditCommand::Verify(args)) => audit::verify(args).await,
            Command::Client(_) | Command::Audit(AuditCommand::List(_)) => {
                unreachable!("client commands returned above")
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
