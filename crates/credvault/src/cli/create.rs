//! `credvault credentials create`: a credential from flags and files, without writing JSON
//! with a PEM inside by hand.

use std::io::{IsTerminal, Read};

use clap::Args;
use credvault_core::timefmt::{format_millis, now_millis};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::client::Client;
use super::credentials::items;
use super::output::{self, fields};
use super::{CliError, ClientArgs};

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The credential's name.
    #[arg(long)]
    pub name: String,
    /// The team, by name, slug or id.
    #[arg(long)]
    pub team: String,
    /// JWT (a signing key) or TEXT (a value).
    #[arg(long, default_value = "JWT", value_parser = ["JWT", "TEXT"])]
    pub mode: String,
    /// The JWT algorithm, e.g. RS256, ES256, EdDSA, HS256.
    #[arg(long, default_value = "RS256")]
    pub alg: String,
    /// The private key (PEM) to sign with; `-` reads it from stdin.
    #[arg(long, conflicts_with = "generate_key")]
    pub key_file: Option<String>,
    /// Let the server generate the key (RSA 2048 unless --key-size says otherwise).
    #[arg(long)]
    pub generate_key: bool,
    /// RSA modulus size of a generated key: 2048, 3072 or 4096.
    #[arg(long, requires = "generate_key")]
    pub key_size: Option<u32>,
    /// The JWT claims, as JSON or `@file`.
    #[arg(long, default_value = "{}")]
    pub payload: String,
    /// A TEXT credential's value; `-` reads it from stdin.
    #[arg(long)]
    pub value: Option<String>,
    /// When it expires, from now: e.g. 90d, 12h, 30m.
    #[arg(long)]
    pub expires_in: Option<String>,
    /// A host the tokens may be sent to (repeatable); none: any.
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,
    /// A user to remind before it expires, by id or email (repeatable); turns reminders on.
    #[arg(long = "notify")]
    pub notify: Vec<String>,
    #[arg(long)]
    pub description: Option<String>,
}

pub async fn run(create: CreateArgs, client: &Client, args: &ClientArgs) -> Result<(), CliError> {
    let team_id = team_id(client, &create.team).await?;
    let mut body = json!({
        "name": create.name,
        "mode": create.mode,
        "team_id": team_id,
    });
    if let Some(description) = &create.description {
        body["description"] = json!(description);
    }
    if !create.allowed_hosts.is_empty() {
        body["allowed_hosts"] = json!(create.allowed_hosts);
    }
    if let Some(text) = &create.expires_in {
        body["expires_at"] = json!(format_millis(now_millis() + duration_ms(text)?));
    }
    if !create.notify.is_empty() {
        body["expiry_notifications_enabled"] = json!(true);
        body["credential_notification_recipient_user_ids"] =
            json!(user_ids(client, &create.notify).await?);
    }
    if create.mode == "TEXT" {
        let value = create.value.as_deref().ok_or_else(|| {
            CliError::Usage("a TEXT credential needs --value TEXT (or - for stdin)".into())
        })?;
        body["value"] = json!(read_arg(value, "--value")?.as_str());
    } else {
        jwt_fields(&create, &mut body)?;
    }
    let created = with_progress(&create, client.post("/user_credentials", &body)).await?;
    if args.json {
        output::json(&created);
    } else {
        fields(
            &created,
            &[
                "id",
                "name",
                "mode",
                "team_id",
                "jwt_algorithm",
                "jwt_key_id",
                "expires_at",
            ],
        );
    }
    Ok(())
}

/// The JWT fields: algorithm, payload, and the key from a file or stdin, or generated.
fn jwt_fields(create: &CreateArgs, body: &mut Value) -> Result<(), CliError> {
    body["jwt_algorithm"] = json!(create.alg);
    let payload = read_arg(&create.payload, "--payload")?;
    let payload: Value = serde_json::from_str(&payload)
        .map_err(|e| CliError::Usage(format!("--payload is not valid JSON: {e}")))?;
    body["jwt_payload"] = payload;
    body["jwt_auto_generate_time_claims"] = json!(true);
    match (&create.key_file, create.generate_key) {
        (Some(file), _) => body["jwt_private_key"] = json!(read_key(file)?.as_str()),
        (None, true) => {
            body["jwt_generate_key"] = json!(true);
            if let Some(bits) = create.key_size {
                body["jwt_key_size"] = json!(bits);
            }
        }
        (None, false) => {
            return Err(CliError::Usage(
                "a JWT credential needs --key-file PATH (or - for stdin) or --generate-key".into(),
            ))
        }
    }
    Ok(())
}

/// A key file's text; `-` reads stdin.
pub fn read_key(file: &str) -> Result<Zeroizing<String>, CliError> {
    if file == "-" {
        read_stdin()
    } else {
        read_file(file)
    }
}

/// `@file` read from a file, `-` from stdin, anything else as it is.
pub fn read_arg(text: &str, flag: &str) -> Result<Zeroizing<String>, CliError> {
    match text {
        "-" => read_stdin(),
        _ => match text.strip_prefix('@') {
            Some(path) => read_file(path),
            None if text.is_empty() => Err(CliError::Usage(format!("{flag} is empty"))),
            None => Ok(Zeroizing::new(text.to_string())),
        },
    }
}

fn read_file(path: &str) -> Result<Zeroizing<String>, CliError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| CliError::Local(format!("cannot read {path}: {e}")))
}

fn read_stdin() -> Result<Zeroizing<String>, CliError> {
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::Local(format!("cannot read stdin: {e}")))?;
    Ok(text)
}

/// `90d`, `12h`, `30m` or `45s`, in milliseconds.
pub fn duration_ms(text: &str) -> Result<i64, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--expires-in must be a number and a unit, such as 90d, 12h or 30m (got {text:?})"
        ))
    };
    let (number, unit) = text.trim().split_at(text.trim().len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        "s" => 1_000,
        _ => return Err(bad()),
    };
    if n <= 0 {
        return Err(bad());
    }
    n.checked_mul(unit_ms).ok_or_else(bad)
}

/// The ids of users given by id or email (emails are looked up in the user list, which
/// tenant admins may read).
async fn user_ids(client: &Client, users: &[String]) -> Result<Vec<i64>, CliError> {
    let mut ids = Vec::with_capacity(users.len());
    let mut listed: Option<Value> = None;
    for user in users {
        if let Ok(id) = user.parse() {
            ids.push(id);
            continue;
        }
        if listed.is_none() {
            listed = Some(client.get("/admin/users?per_page=500").await?);
        }
        let found = listed
            .as_ref()
            .map(|page| items(page, "admin/users"))
            .unwrap_or_default()
            .iter()
            .find(|u| {
                u["email"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(user))
            })
            .and_then(|u| u["id"].as_i64())
            .ok_or_else(|| CliError::Usage(format!("--notify: no user with the email {user:?}")))?;
        ids.push(found);
    }
    Ok(ids)
}

/// The id of the team named by name, slug or id, among those the caller sees.
async fn team_id(client: &Client, team: &str) -> Result<i64, CliError> {
    if let Ok(id) = team.parse() {
        return Ok(id);
    }
    let page = client.get("/teams?per_page=500").await?;
    items(&page, "teams")
        .iter()
        .find(|t| t["name"] == team || t["slug"] == team)
        .and_then(|t| t["id"].as_i64())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no team named {team:?} among your teams (credvault teams list)"
            ))
        })
}

/// Awaits `work`; when stderr is a terminal and a key is being generated, says so there
/// while it runs (an RSA 4096 key takes seconds).
async fn with_progress<T>(create: &CreateArgs, work: impl std::future::Future<Output = T>) -> T {
    if !(create.generate_key && std::io::stderr().is_terminal()) {
        return work.await;
    }
    let ticker = tokio::spawn(async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        for frame in ["|", "/", "-", "\\"].iter().cycle() {
            eprint!("\r{frame} generating the key…");
            tokio::time::sleep(std::time::Duration::from_millis(120)).await;
        }
    });
    let done = work.await;
    ticker.abort();
    eprint!("\r\x1b[2K");
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_a_number_and_a_unit() {
        assert_eq!(duration_ms("90d").unwrap(), 90 * 86_400_000);
        assert_eq!(duration_ms("12h").unwrap(), 12 * 3_600_000);
        assert_eq!(duration_ms("30m").unwrap(), 1_800_000);
        for bad in ["", "d", "90", "-1d", "0d", "9x", "99999999999999999d"] {
            assert!(duration_ms(bad).is_err(), "{bad}");
        }
    }
}
