//! `lpsaring sync once` and `lpsaring quota grant|show`.
//!
//! `sync once` needs the state store (sync baselines live there), which only one process may
//! hold: when the service runs, it says so and points to the HTTP trigger. `quota grant|show`
//! touch only SQL, so they work beside the running service; the service's next sync (or the
//! grant's own targeted sync, when run inside the service) applies the router side.

use std::sync::Arc;

use clap::Subcommand;
use lpsaring_kernel::ports::users::UserDirectory;
use lpsaring_kernel::{Clock, Phone, StoreError, SystemClock};
use lpsaring_quota::api::{Grant, GrantSource, ValidityMode};

use super::CliError;
use super::user::open_users;
use crate::StartupError;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Run one quota sync now and print its summary (the service must be stopped).
    Once,
}

#[derive(Debug, Subcommand)]
pub enum QuotaCommand {
    /// Add quota and/or validity to a user (a ledger entry with source "admin").
    Grant {
        phone: String,
        /// Bytes to add (e.g. 5368709120 for 5 GiB).
        #[arg(long, default_value_t = 0)]
        bytes: i64,
        /// Validity in days, added to the time left (0 = unchanged).
        #[arg(long, default_value_t = 0, conflicts_with = "hours")]
        days: i64,
        /// Validity in hours, added to the time left (instead of --days).
        #[arg(long, default_value_t = 0)]
        hours: i64,
        /// Count the validity from now, dropping the time left (as the original did).
        #[arg(long)]
        reset: bool,
        /// Make the account unlimited: for the validity when one is given, else with no end.
        #[arg(long)]
        unlimited: bool,
        /// The hotspot profile (speed) the account gets while its status is `ok`.
        #[arg(long)]
        profile: Option<String>,
    },
    /// Print a user's quota as one JSON object.
    Show { phone: String },
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

pub async fn sync(settings: Settings, command: SyncCommand) -> Result<(), CliError> {
    let SyncCommand::Once = command;
    let app = match crate::build(settings).await {
        Ok(app) => app,
        Err(StartupError::StateStore(locked @ StoreError::Locked { .. })) => {
            return Err(CliError::Failed(format!(
                "the state store is in use, so the service is probably running ({locked}); trigger a run in the service with POST /api/admin/sync as an admin"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let summary = app.quota.sync_once().await.map_err(failed)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).map_err(failed)?
    );
    Ok(())
}

/// A quota service for SQL-only work: a private throwaway state store and no router.
pub(super) async fn offline_quota(
    settings: &Settings,
) -> Result<
    (
        lpsaring_quota::Service,
        lpsaring_auth::Directory,
        tempfile::TempDir,
    ),
    CliError,
> {
    let users = Arc::new(open_users(settings).await?);
    let db = users.db().clone();
    let scratch = tempfile::tempdir().map_err(failed)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = lpsaring_store::Store::open(scratch.path().join("state.redb"), clock.clone())
        .await
        .map_err(failed)?;
    let router = Arc::new(lpsaring_routeros::RouterOsClient::start(
        lpsaring_routeros::RouterSettings::default(),
    ));
    let (_, quota) = crate::quota_service(settings, &db, &clock, Arc::new(store), router, &users)?;
    Ok((quota, lpsaring_auth::Directory(users), scratch))
}

pub async fn quota(settings: Settings, command: QuotaCommand) -> Result<(), CliError> {
    let (quota, directory, _scratch) = offline_quota(&settings).await?;
    let find = |raw: String| async move {
        let phone = Phone::parse(&raw).map_err(|e| CliError::Failed(format!("{raw:?}: {e}")))?;
        directory
            .by_phone(&phone)
            .await
            .map_err(failed)?
            .ok_or_else(|| CliError::Failed(format!("no user with phone {phone}")))
    };
    match command {
        QuotaCommand::Grant {
            phone,
            bytes,
            days,
            hours,
            reset,
            unlimited,
            profile,
        } => {
            let user = find(phone).await?;
            let validity_hours = days
                .checked_mul(24)
                .and_then(|h| h.checked_add(hours))
                .ok_or_else(|| CliError::Failed("the validity is too long".to_owned()))?;
            let outcome = quota
                .grant(&Grant {
                    mode: if reset {
                        ValidityMode::Reset
                    } else {
                        ValidityMode::Extend
                    },
                    unlimited,
                    profile,
                    ..Grant::new(
                        user.id,
                        bytes,
                        validity_hours,
                        GrantSource::Admin,
                        format!("cli:{}", uuid::Uuid::new_v4().simple()),
                        "cli",
                    )
                })
                .await
                .map_err(failed)?;
            println!(
                "{}",
                serde_json::to_string(&outcome.summary).map_err(failed)?
            );
        }
        QuotaCommand::Show { phone } => {
            let user = find(phone).await?;
            let summary = quota.show(user.id).await.map_err(failed)?;
            println!("{}", serde_json::to_string(&summary).map_err(failed)?);
        }
    }
    Ok(())
}
