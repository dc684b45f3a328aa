//! `lpsaring user …`: operator commands until the admin pages exist. They touch only the SQL
//! database (never the state store), so they work beside the running service.

use std::sync::Arc;

use clap::Subcommand;
use lpsaring_auth::Users;
use lpsaring_auth::users::printable;
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Phone, SystemClock};

use super::CliError;
use crate::db;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who can log in with a WhatsApp code.
    Add {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        name: String,
        /// Approve at once (otherwise the user waits for `user approve`).
        #[arg(long)]
        approved: bool,
    },
    /// Approve a self-registered user.
    Approve { phone: String },
    /// Block a user's internet access.
    Block {
        phone: String,
        #[arg(long)]
        reason: String,
    },
    /// Lift a block.
    Unblock { phone: String },
    /// List every user.
    List,
}

/// Opens the database (migrating when allowed) and the users service.
pub(crate) async fn open_users(settings: &Settings) -> Result<Users, CliError> {
    let conn = db::open(settings).await?;
    Ok(Users::new(conn, Arc::new(SystemClock)))
}

fn phone(raw: &str) -> Result<Phone, CliError> {
    Phone::parse(raw).map_err(|e| CliError::Failed(format!("{raw:?}: {e}")))
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

pub async fn run(settings: Settings, command: UserCommand) -> Result<(), CliError> {
    let users = open_users(&settings).await?;
    match command {
        UserCommand::Add {
            phone: raw,
            name,
            approved,
        } => {
            let user = users
                .create(&phone(&raw)?, &name, approved, Role::User)
                .await
                .map_err(failed)?;
            println!(
                "Created user {} ({}){}.",
                user.phone_label(),
                printable(&user.name),
                if user.approved {
                    ", approved"
                } else {
                    ", waiting for approval"
                }
            );
        }
        UserCommand::Approve { phone: raw } => {
            let user = users.approve(&phone(&raw)?).await.map_err(failed)?;
            println!(
                "Approved {} ({}).",
                user.phone_label(),
                printable(&user.name)
            );
        }
        UserCommand::Block { phone: raw, reason } => {
            let user = users.block(&phone(&raw)?, &reason).await.map_err(failed)?;
            println!(
                "Blocked {} ({}). The next quota sync applies it on the router.",
                user.phone_label(),
                printable(&user.name)
            );
        }
        UserCommand::Unblock { phone: raw } => {
            let user = users.unblock(&phone(&raw)?).await.map_err(failed)?;
            println!(
                "Unblocked {} ({}).",
                user.phone_label(),
                printable(&user.name)
            );
        }
        UserCommand::List => {
            let list = users.list().await.map_err(failed)?;
            println!(
                "{:<6} {:<16} {:<12} {:<9} {:<8} name",
                "id", "phone", "role", "approved", "blocked"
            );
            for u in &list {
                println!(
                    "{:<6} {:<16} {:<12} {:<9} {:<8} {}",
                    u.id,
                    u.phone_label(),
                    u.role.as_str(),
                    if u.approved { "yes" } else { "no" },
                    if u.blocked { "yes" } else { "no" },
                    printable(&u.name)
                );
            }
            println!("{} user(s).", list.len());
        }
    }
    Ok(())
}
