//! `credvault login --url URL`: checks an API key against the server and saves it as a
//! profile. The key comes from stdin (for scripts) or a prompt that does not echo, never from
//! an argument, where it would end up in shell history and `ps`.

use std::io::{BufRead, IsTerminal};

use clap::Args;
use zeroize::Zeroizing;

use super::client::Client;
use super::config::{self, Profile, Target};
use super::{CliError, ClientArgs};

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The server's base URL, e.g. https://vault.example.com
    #[arg(long)]
    pub url: String,
    /// Refused, without echoing it: a key given as an argument stays in shell history.
    #[arg(long = "api-key", hide = true, num_args = 0..=1, default_missing_value = "")]
    api_key: Option<String>,
    /// Refused likewise: anything after the flags (a key pasted as an argument).
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    stray: Vec<String>,
}

pub async fn run(login: LoginArgs, args: &ClientArgs) -> Result<(), CliError> {
    if login.api_key.is_some() || !login.stray.is_empty() {
        return Err(CliError::Usage(
            "the API key is never taken as an argument (it would stay in shell history and in \
             `ps`): pipe it to stdin or type it at the prompt"
                .into(),
        ));
    }
    let url = login.url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CliError::Usage(
            "--url must start with http:// or https://".into(),
        ));
    }
    let key = read_key()?;
    let client = Client::new(Target {
        url: url.clone(),
        api_key: key.clone(),
    });
    client.get("/teams?per_page=1").await?;
    let mut stored = config::load()?;
    stored.profiles.insert(
        args.profile.clone(),
        Profile {
            url: url.clone(),
            api_key: key.to_string(),
        },
    );
    let path = config::save(&stored)?;
    eprintln!(
        "logged in to {url} (profile {}, saved in {})",
        args.profile,
        path.display()
    );
    Ok(())
}

/// The API key from a no-echo prompt when stdin is a terminal, else stdin's first line.
fn read_key() -> Result<Zeroizing<String>, CliError> {
    let key = if std::io::stdin().is_terminal() {
        Zeroizing::new(
            rpassword::prompt_password("API key: ")
                .map_err(|e| CliError::Local(format!("cannot read the API key: {e}")))?,
        )
    } else {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::Local(format!("cannot read the API key from stdin: {e}")))?;
        line
    };
    let trimmed = Zeroizing::new(key.trim().to_string());
    if trimmed.is_empty() {
        return Err(CliError::Usage(
            "no API key given: type it at the prompt or pipe it to stdin".into(),
        ));
    }
    Ok(trimmed)
}
