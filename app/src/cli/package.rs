//! `lpsaring package add|list|disable`: the operator's package list from the shell. Only SQL is
//! touched, so it works beside the running service.

use std::sync::Arc;

use clap::{ArgGroup, Subcommand};
use lpsaring_kernel::ports::audit::LogOnlyAudit;
use lpsaring_kernel::{EphemeralStore, SystemClock};
use lpsaring_payments::api::{Package, PackageInput};

use super::CliError;
use super::quota::offline_quota;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Add a package and print its id.
    #[command(group(ArgGroup::new("amount").required(true).args(["quota_bytes", "unlimited"])))]
    #[command(group(ArgGroup::new("validity").required(true).args(["days", "hours"])))]
    Add {
        #[arg(long)]
        name: String,
        /// Price in whole rupiah.
        #[arg(long)]
        price: i64,
        #[arg(long)]
        quota_bytes: Option<i64>,
        #[arg(long)]
        unlimited: bool,
        #[arg(long)]
        days: Option<i32>,
        #[arg(long)]
        hours: Option<i32>,
        /// Hotspot user profile (speed) while the buyer's status is ok.
        #[arg(long)]
        profile: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Position in the list (smaller first).
        #[arg(long, default_value_t = 0)]
        sort: i32,
    },
    /// Print every package, one JSON object a line.
    List,
    /// Take a package off sale.
    Disable { id: i64 },
}

pub(super) fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

/// A payments service for SQL-only work: no gateways, a private scratch state store, the server
/// secret's voucher key (codes created here are read by the running service).
pub(super) async fn offline_payments(
    settings: &Settings,
) -> Result<(lpsaring_payments::Service, tempfile::TempDir), CliError> {
    let keys = lpsaring_auth::secrets::Keys::load_or_create(
        settings.auth.secret.as_ref().map(|s| s.expose().as_str()),
        &settings.data_dir,
    )
    .map_err(failed)?;
    let (quota, directory, scratch) = offline_quota(settings).await?;
    let clock = Arc::new(SystemClock);
    let store = lpsaring_store::Store::open(scratch.path().join("payments.redb"), clock.clone())
        .await
        .map_err(failed)?;
    let service = lpsaring_payments::Service::new(lpsaring_payments::Deps {
        db: directory.0.db().clone(),
        clock,
        store: Arc::new(store) as Arc<dyn EphemeralStore>,
        quota: Arc::new(quota),
        accounts: Arc::new(lpsaring_auth::Directory(directory.0.clone())),
        users: Arc::new(directory),
        audit: Arc::new(LogOnlyAudit),
        router: None,
        gateways: Vec::new(),
        settings: settings.payments.clone(),
        public_url: settings.http.public_url.clone(),
        // No status links are issued from the shell.
        link_key: [0; 32],
        voucher_key: keys.derive(lpsaring_payments::VOUCHER_KEY_PURPOSE),
    });
    Ok((service, scratch))
}

fn print(package: &Package) -> Result<(), CliError> {
    println!("{}", serde_json::to_string(package).map_err(failed)?);
    Ok(())
}

pub async fn run(settings: Settings, command: PackageCommand) -> Result<(), CliError> {
    let (payments, _scratch) = offline_payments(&settings).await?;
    match command {
        PackageCommand::Add {
            name,
            price,
            quota_bytes,
            unlimited,
            days,
            hours,
            profile,
            description,
            sort,
        } => {
            let validity_hours = match (days, hours) {
                (Some(d), _) => d
                    .checked_mul(24)
                    .ok_or_else(|| failed("--days is too large"))?,
                (None, Some(h)) => h,
                (None, None) => return Err(failed("give --days or --hours")),
            };
            let created = payments
                .create_package(&PackageInput {
                    name,
                    description,
                    price,
                    quota_bytes: quota_bytes.unwrap_or(0),
                    unlimited,
                    validity_hours,
                    hotspot_profile: profile,
                    sort_order: sort,
                    is_active: true,
                })
                .await
                .map_err(failed)?;
            println!("{}", created.id);
        }
        PackageCommand::List => {
            for package in payments.all_packages().await.map_err(failed)? {
                print(&package)?;
            }
        }
        PackageCommand::Disable { id } => {
            print(&payments.disable_package(id).await.map_err(failed)?)?;
        }
    }
    Ok(())
}
