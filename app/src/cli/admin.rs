//! `lpsaring admin create --phone P --name N [--super]`: gives an operator a password login.
//! The password comes from `LPSARING_ADMIN_PASSWORD` or a hidden prompt (never from argv, which
//! other local users can read in the process list) and is refused when weak, with the reason.
//!
//! `lpsaring admin reset-totp PHONE`: for an admin who lost their authenticator app and their
//! recovery codes. Removes the second factor and ends their sessions (SQL only, so it works while
//! the service runs), writes the audit entry; they log in with the password and set it up again.

use clap::Subcommand;
use lpsaring_auth::session::password::{check_strength, hash_password};
use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;

use super::CliError;
use super::user::open_users;
use crate::settings::Settings;

pub const PASSWORD_ENV: &str = "LPSARING_ADMIN_PASSWORD";

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin (or give an existing user admin rights and a new password).
    Create {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        name: String,
        /// SUPER_ADMIN instead of ADMIN.
        #[arg(long = "super")]
        super_admin: bool,
    },
    /// Remove an admin's authenticator app (second factor) and end their sessions.
    ResetTotp {
        /// The admin's phone number.
        phone: String,
    },
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

/// The password from the environment, else typed twice at a hidden prompt.
fn read_password() -> Result<String, CliError> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(password);
    }
    let first = rpassword::prompt_password("New admin password: ").map_err(|e| {
        CliError::Failed(format!(
            "cannot read the password ({e}); set {PASSWORD_ENV} when there is no terminal"
        ))
    })?;
    let second = rpassword::prompt_password("Repeat the password: ").map_err(failed)?;
    if first != second {
        return Err(CliError::Failed("the passwords differ".to_owned()));
    }
    Ok(first)
}

async fn reset_totp(settings: &Settings, phone: &str) -> Result<(), CliError> {
    let parsed = Phone::parse(phone).map_err(|e| failed(format!("{phone:?}: {e}")))?;
    let users = open_users(settings).await?;
    let user = users
        .find(&parsed)
        .await
        .map_err(failed)?
        .filter(|u| u.role.is_admin())
        .ok_or_else(|| failed(format!("no admin has the phone number {}", parsed.as_str())))?;
    let clock = lpsaring_kernel::SystemClock;
    let admin = lpsaring_admin::Service::new(lpsaring_admin::Deps {
        db: users.db().clone(),
        clock: std::sync::Arc::new(clock),
        settings: settings.admin.clone(),
    });
    let had = lpsaring_auth::session::reset_totp(
        users.db(),
        admin.audit().as_ref(),
        lpsaring_kernel::Clock::now(&clock),
        user.id,
    )
    .await
    .map_err(failed)?;
    println!(
        "{} {} ({}); every session of theirs ended. They log in with their password and can set up an authenticator again at /admin/security.",
        if had {
            "Removed the authenticator of"
        } else {
            "No authenticator was set up for"
        },
        user.phone_label(),
        user.name
    );
    Ok(())
}

pub async fn run(settings: Settings, command: AdminCommand) -> Result<(), CliError> {
    match command {
        AdminCommand::ResetTotp { phone } => reset_totp(&settings, &phone).await,
        AdminCommand::Create {
            phone,
            name,
            super_admin,
        } => {
            let phone = Phone::parse(&phone).map_err(|e| failed(format!("{phone:?}: {e}")))?;
            let password = read_password()?;
            check_strength(&password, Some(&phone)).map_err(failed)?;
            let hash = tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(failed)?
                .map_err(failed)?;
            let role = if super_admin {
                Role::SuperAdmin
            } else {
                Role::Admin
            };
            let users = open_users(&settings).await?;
            let created = match users.find(&phone).await.map_err(failed)? {
                None => {
                    users
                        .create(&phone, &name, true, role)
                        .await
                        .map_err(failed)?;
                    true
                }
                Some(existing) => {
                    if !existing.approved {
                        users.approve(&phone).await.map_err(failed)?;
                    }
                    false
                }
            };
            let user = users
                .set_admin_password(&phone, hash, role)
                .await
                .map_err(failed)?;
            println!(
                "{} {} {} ({}). Log in at /admin/login.",
                if created { "Created" } else { "Updated" },
                user.role.as_str(),
                user.phone_label(),
                user.name
            );
            Ok(())
        }
    }
}
