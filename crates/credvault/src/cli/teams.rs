//! `credvault teams …`: list and create teams.

use clap::Subcommand;
use serde_json::json;

use super::credentials::items;
use super::output::{cell, table};
use super::{output, CliError, ClientArgs};

#[derive(Subcommand, Debug)]
pub enum TeamsCommand {
    /// List the teams you are a member of (tenant admins: all).
    ///
    /// Example: credvault teams list
    #[command(verbatim_doc_comment)]
    List,
    /// Create a team (tenant admins).
    ///
    /// Example: credvault teams create "Security Ops"
    #[command(verbatim_doc_comment)]
    Create { name: String },
    /// Add a user to a team, or change their role (TEAM_ADMIN).
    ///
    /// Example: credvault teams invite 2 --user 5 --role EDITOR
    #[command(verbatim_doc_comment)]
    Invite {
        /// The team's id.
        team: i64,
        /// The user's id.
        #[arg(long)]
        user: i64,
        #[arg(long, default_value = "VIEWER", value_parser = ["VIEWER", "EDITOR", "TEAM_ADMIN"])]
        role: String,
    },
}

pub async fn run(command: TeamsCommand, args: &ClientArgs) -> Result<(), CliError> {
    let client = super::client(args)?;
    match command {
        TeamsCommand::List => {
            let page = client.get("/teams?per_page=500").await?;
            if args.json {
                output::json(&page);
                return Ok(());
            }
            let rows = items(&page, "teams")
                .iter()
                .map(|t| vec![cell(&t["id"]), cell(&t["name"]), cell(&t["slug"])])
                .collect();
            table(&["ID", "NAME", "SLUG"], rows);
            Ok(())
        }
        TeamsCommand::Invite { team, user, role } => {
            super::more::invite(team, user, &role, &client, args).await
        }
        TeamsCommand::Create { name } => {
            let team = client.post("/teams", &json!({ "name": name })).await?;
            if args.json {
                output::json(&team);
            } else {
                println!("{}", cell(&team["id"]));
            }
            Ok(())
        }
    }
}
