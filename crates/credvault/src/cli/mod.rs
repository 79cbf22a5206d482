//! The command-line client (API.md §10): `credvault login`, `credvault credentials …`,
//! `credvault teams …`. It talks to a server over its HTTP API like any other client; the
//! server code knows nothing of it.

use std::fmt;

use clap::{Args, Subcommand};

pub mod client;
pub mod config;
pub mod create;
pub mod credentials;
pub mod login;
pub mod more;
pub mod output;
pub mod teams;

/// What every client command takes.
#[derive(Args, Clone, Debug)]
pub struct ClientArgs {
    /// The profile (server and key) to use, as `credvault login --profile` saved it.
    #[arg(long, global = true, env = "CREDVAULT_PROFILE", default_value = config::DEFAULT_PROFILE)]
    pub profile: String,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// How a client command failed; each kind has its exit status.
#[derive(Debug)]
pub enum CliError {
    /// The API refused (4xx/5xx): its message and the field at fault.
    Api {
        status: u16,
        message: String,
        field: Option<String>,
    },
    /// The server could not be reached.
    Connect { url: String, reason: String },
    /// A problem on this machine (configuration, a file to read).
    Local(String),
    /// The command was given something it cannot use.
    Usage(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Api {
                status,
                message,
                field: Some(field),
            } => write!(f, "{message} (field: {field}; HTTP {status})"),
            CliError::Api {
                status, message, ..
            } => write!(f, "{message} (HTTP {status})"),
            CliError::Connect { url, reason } => write!(
                f,
                "cannot reach the credvault server at {url}: {reason}\n\
                 check the URL, or run `credvault login --url URL`"
            ),
            CliError::Local(message) | CliError::Usage(message) => f.write_str(message),
        }
    }
}

/// The client's commands, as `main` dispatches them.
#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Save a server URL and API key as a profile (the key is read from stdin or a prompt,
    /// never from an argument).
    ///
    /// Examples:
    ///   credvault login --url https://vault.example.com
    ///   printf '%s' "$KEY" | credvault login --url https://vault.example.com --profile prod
    #[command(verbatim_doc_comment)]
    Login(login::LoginArgs),
    /// List, read, create, change, delete credentials; mint tokens.
    #[command(subcommand)]
    Credentials(credentials::CredentialsCommand),
    /// List and create teams, invite members.
    #[command(subcommand)]
    Teams(teams::TeamsCommand),
    /// Create users.
    #[command(subcommand)]
    Users(more::UsersCommand),
    /// Print a shell completion script: bash, zsh or fish.
    ///
    /// Example:
    ///   credvault completions bash > /etc/bash_completion.d/credvault
    #[command(verbatim_doc_comment)]
    Completions { shell: clap_complete::Shell },
    /// `credvault audit list`, which clap parses under `audit`.
    #[command(skip)]
    AuditList(more::AuditListArgs),
}

/// Runs a client command; prints its output on stdout and returns the exit status.
pub async fn run(command: ClientCommand, args: &ClientArgs) -> u8 {
    let outcome = match command {
        ClientCommand::Login(login) => login::run(login, args).await,
        ClientCommand::Credentials(c) => credentials::run(c, args).await,
        ClientCommand::Teams(t) => teams::run(t, args).await,
        ClientCommand::Users(u) => more::users(u, args).await,
        ClientCommand::AuditList(list) => more::audit_list(list, args).await,
        ClientCommand::Completions { .. } => Ok(()),
    };
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// A client for the profile the arguments name.
pub fn client(args: &ClientArgs) -> Result<client::Client, CliError> {
    Ok(client::Client::new(config::target(&args.profile)?))
}
