//! The client's smaller commands: updating, rotating and publishing a credential's key,
//! inviting team members, creating users, reading the audit log, shell completions.

use clap::{Args, Subcommand};
use credvault_core::timefmt::{format_millis, now_millis};
use reqwest::Method;
use serde_json::{json, Value};

use super::client::Client;
use super::create::duration_ms;
use super::credentials::items;
use super::output::{self, cell, fields, table};
use super::{CliError, ClientArgs};

#[derive(Args, Debug)]
pub struct UpdateArgs {
    pub id: i64,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// New JWT claims, as JSON or `@file`.
    #[arg(long)]
    pub payload: Option<String>,
    /// A new private key (PEM); `-` reads it from stdin. The old public key stays published
    /// until its tokens have expired.
    #[arg(long)]
    pub key_file: Option<String>,
    /// A new expiry, from now: e.g. 90d.
    #[arg(long)]
    pub expires_in: Option<String>,
    /// Replace the allowed hosts with these (repeatable).
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,
    /// Remove every host restriction.
    #[arg(long, conflicts_with = "allowed_hosts")]
    pub unrestricted: bool,
}

pub async fn update(
    update: UpdateArgs,
    client: &Client,
    args: &ClientArgs,
) -> Result<(), CliError> {
    let path = format!("/user_credentials/{}", update.id);
    // The API needs the mode with every update; it is the stored one.
    let stored = client.get(&path).await?;
    let mut body = json!({ "mode": stored["mode"] });
    if let Some(name) = update.name {
        body["name"] = json!(name);
    }
    if let Some(description) = update.description {
        body["description"] = json!(description);
    }
    if let Some(payload) = update.payload {
        let text = super::create::read_arg(&payload, "--payload")?;
        body["jwt_payload"] = serde_json::from_str(&text)
            .map_err(|e| CliError::Usage(format!("--payload is not valid JSON: {e}")))?;
    }
    if let Some(file) = update.key_file {
        body["jwt_private_key"] = json!(super::create::read_key(&file)?.as_str());
    }
    if let Some(text) = update.expires_in {
        body["expires_at"] = json!(format_millis(now_millis() + duration_ms(&text)?));
    }
    if !update.allowed_hosts.is_empty() {
        body["allowed_hosts"] = json!(update.allowed_hosts);
    }
    if update.unrestricted {
        body["allowed_hosts"] = json!([]);
    }
    let updated = client.call(Method::PUT, &path, Some(&body)).await?;
    show(&updated, args);
    Ok(())
}

fn show(credential: &Value, args: &ClientArgs) {
    if args.json {
        output::json(credential);
    } else {
        fields(
            credential,
            &[
                "id",
                "name",
                "mode",
                "description",
                "jwt_algorithm",
                "jwt_key_id",
                "allowed_hosts",
                "expires_at",
                "updated_at",
            ],
        );
    }
}

pub async fn rotate(
    id: i64,
    test: bool,
    client: &Client,
    args: &ClientArgs,
) -> Result<(), CliError> {
    let rotated = client
        .post(
            &format!("/user_credentials/{id}/rotate"),
            &json!({ "is_test": test }),
        )
        .await?;
    show(&rotated, args);
    Ok(())
}

pub async fn jwks(id: i64, client: &Client) -> Result<(), CliError> {
    output::json(&client.get(&format!("/user_credentials/{id}/jwks")).await?);
    Ok(())
}

pub async fn invite(
    team: i64,
    user: i64,
    role: &str,
    client: &Client,
    args: &ClientArgs,
) -> Result<(), CliError> {
    let member = client
        .post(
            &format!("/teams/{team}/invite_member"),
            &json!({ "user_id": user, "role": role }),
        )
        .await?;
    if args.json {
        output::json(&member);
    } else {
        fields(&member, &["id", "email", "team_id", "role"]);
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Create a user (tenant admins).
    ///
    /// Example:
    ///   credvault users create --email ada@example.com --first-name Ada
    #[command(verbatim_doc_comment)]
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        /// A tenant admin.
        #[arg(long)]
        admin: bool,
    },
}

pub async fn users(command: UsersCommand, args: &ClientArgs) -> Result<(), CliError> {
    let client = super::client(args)?;
    let UsersCommand::Create {
        email,
        first_name,
        last_name,
        admin,
    } = command;
    let user = client
        .post(
            "/admin/users",
            &json!({"email": email, "first_name": first_name, "last_name": last_name, "admin": admin}),
        )
        .await?;
    if args.json {
        output::json(&user);
    } else {
        println!("{}", cell(&user["id"]));
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct AuditListArgs {
    /// Only these operations (repeatable), e.g. CredentialSave.
    #[arg(long = "operation")]
    pub operations: Vec<String>,
    /// Only entries by these users (ids; repeatable).
    #[arg(long = "user")]
    pub users: Vec<i64>,
    /// Only entries after this time (RFC 3339).
    #[arg(long)]
    pub after: Option<String>,
    /// Only entries before this time (RFC 3339).
    #[arg(long)]
    pub before: Option<String>,
    /// Up to this many, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

pub async fn audit_list(list: AuditListArgs, args: &ClientArgs) -> Result<(), CliError> {
    let client = super::client(args)?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("per_page", &list.limit.clamp(1, 500).to_string());
    for operation in &list.operations {
        query.append_pair("operation_name[]", operation);
    }
    for user in &list.users {
        query.append_pair("user_id[]", &user.to_string());
    }
    for (name, time) in [("after", &list.after), ("before", &list.before)] {
        if let Some(time) = time {
            query.append_pair(name, time);
        }
    }
    let query = query.finish();
    let page = client.get(&format!("/audit_logs?{query}")).await?;
    if args.json {
        output::json(&page);
        return Ok(());
    }
    let rows = items(&page, "audit_logs")
        .iter()
        .map(|e| {
            vec![
                cell(&e["id"]),
                cell(&e["created_at"]),
                cell(&e["operation_name"]),
                cell(&e["user_email"]),
                cell(&e["inputs"]["credential_id"]),
                cell(&e["request_ip"]),
            ]
        })
        .collect();
    table(
        &["ID", "TIME", "OPERATION", "USER", "CREDENTIAL", "IP"],
        rows,
    );
    Ok(())
}
