//! `credvault credentials …`: list, read, mint from and delete credentials.

use clap::Subcommand;
use serde_json::{json, Value};

use super::output::{cell, fields, table};
use super::{client, output, CliError, ClientArgs};

#[derive(Subcommand, Debug)]
pub enum CredentialsCommand {
    /// List the credentials you can see.
    ///
    /// Examples:
    ///   credvault credentials list
    ///   credvault credentials list --team 2 --json
    #[command(verbatim_doc_comment)]
    List {
        /// Only this team's (its id).
        #[arg(long)]
        team: Option<i64>,
        /// Up to this many (the API's maximum is 500).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Create a credential.
    ///
    /// Examples:
    ///   credvault credentials create --name stripe --team Ops --alg RS256 --key-file key.pem \
    ///     --payload '{"iss":"svc","aud":"stripe"}' --expires-in 90d --allowed-host api.stripe.com
    ///   gh-key | credvault credentials create --name gh --team 2 --alg RS256 --key-file -
    ///   credvault credentials create --name signer --team Ops --alg ES256 --generate-key
    ///   credvault credentials create --name token --team Ops --mode TEXT --value - < token.txt
    #[command(verbatim_doc_comment)]
    Create(Box<super::create::CreateArgs>),
    /// Show one credential (never its secret).
    ///
    /// Example: credvault credentials get 3
    #[command(verbatim_doc_comment)]
    Get { id: i64 },
    /// Mint a token and print only the token, for `$(credvault credentials token 3)`.
    ///
    /// Examples:
    ///   curl -H "Authorization: Bearer $(credvault credentials token 3)" https://api.example.com
    ///   credvault credentials token 3 --url https://api.example.com/v1 --test
    #[command(verbatim_doc_comment)]
    Token {
        id: i64,
        /// Where the token will be sent (needed when the credential has allowed hosts).
        #[arg(long)]
        url: Option<String>,
        /// Mint from the credential's test credential.
        #[arg(long)]
        test: bool,
    },
    /// Change a credential: the flags given replace the stored values.
    ///
    /// Examples:
    ///   credvault credentials update 3 --description "Stripe, prod" --expires-in 90d
    ///   credvault credentials update 3 --key-file new-key.pem
    #[command(verbatim_doc_comment)]
    Update(Box<super::more::UpdateArgs>),
    /// Replace the key with a new one of the same algorithm and size, made by the server.
    ///
    /// Example: credvault credentials rotate 3
    #[command(verbatim_doc_comment)]
    Rotate {
        id: i64,
        /// Rotate the test credential's key.
        #[arg(long)]
        test: bool,
    },
    /// Print the credential's public keys (JWKS).
    ///
    /// Example: credvault credentials jwks 3 > jwks.json
    #[command(verbatim_doc_comment)]
    Jwks { id: i64 },
    /// Delete a credential and its test credential (TEAM_ADMIN).
    ///
    /// Example: credvault credentials delete 3
    #[command(verbatim_doc_comment)]
    Delete { id: i64 },
}

pub async fn run(command: CredentialsCommand, args: &ClientArgs) -> Result<(), CliError> {
    let client = super::client(args)?;
    match command {
        CredentialsCommand::List { team, limit } => list(&client, args, team, limit).await,
        CredentialsCommand::Create(create) => super::create::run(*create, &client, args).await,
        CredentialsCommand::Update(update) => super::more::update(*update, &client, args).await,
        CredentialsCommand::Rotate { id, test } => {
            super::more::rotate(id, test, &client, args).await
        }
        CredentialsCommand::Jwks { id } => super::more::jwks(id, &client).await,
        CredentialsCommand::Get { id } => {
            let credential = client.get(&format!("/user_credentials/{id}")).await?;
            if args.json {
                output::json(&credential);
            } else {
                fields(&credential, &SHOWN);
            }
            Ok(())
        }
        CredentialsCommand::Token { id, url, test } => {
            let mut body = json!({ "test": test });
            if let Some(url) = url {
                body["url"] = json!(url);
            }
            let minted = client
                .post(&format!("/user_credentials/{id}/token"), &body)
                .await?;
            if args.json {
                output::json(&minted);
            } else {
                println!("{}", cell(&minted["token"]));
            }
            Ok(())
        }
        CredentialsCommand::Delete { id } => {
            client
                .call(
                    reqwest::Method::DELETE,
                    &format!("/user_credentials/{id}"),
                    None,
                )
                .await?;
            eprintln!("deleted credential {id}");
            Ok(())
        }
    }
}

/// The fields `get` shows, in order.
const SHOWN: [&str; 14] = [
    "id",
    "name",
    "mode",
    "team_id",
    "folder_id",
    "description",
    "read_access",
    "allowed_hosts",
    "jwt_algorithm",
    "jwt_key_id",
    "expires_at",
    "last_used_at",
    "created_at",
    "updated_at",
];

async fn list(
    client: &client::Client,
    args: &ClientArgs,
    team: Option<i64>,
    limit: u32,
) -> Result<(), CliError> {
    let team = team
        .map(|team| format!("&team_id={team}"))
        .unwrap_or_default();
    let path = format!("/user_credentials?per_page={}{team}", limit.clamp(1, 500));
    let page = client.get(&path).await?;
    if args.json {
        output::json(&page);
        return Ok(());
    }
    let rows = items(&page, "user_credentials")
        .iter()
        .map(|c| {
            let restricted = c["allowed_hosts"].as_array().is_some_and(|h| !h.is_empty());
            vec![
                cell(&c["id"]),
                cell(&c["name"]),
                cell(&c["mode"]),
                cell(&c["team_id"]),
                if restricted { "yes" } else { "no" }.into(),
                cell(&c["expires_at"]),
                cell(&c["last_used_at"]),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "NAME",
            "MODE",
            "TEAM",
            "RESTRICTED",
            "EXPIRES",
            "LAST USED",
        ],
        rows,
    );
    Ok(())
}

/// The items of a list answer's collection.
pub fn items<'a>(page: &'a Value, collection: &str) -> &'a [Value] {
    page[collection].as_array().map_or(&[], Vec::as_slice)
}
