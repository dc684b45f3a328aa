//! `lpsaring import-lpsaring --from postgres://… [--dry-run] [--merge]`: brings users, devices,
//! packages, quota and transactions over from the original lpsaring (see [`crate::import`]).
//! Only SQL is written, in one transaction: stop the service first on SQLite, or its writes wait
//! until the import commits.

use std::io::Write as _;

use clap::Args;
use lpsaring_kernel::SystemClock;
use sea_orm::{ConnectOptions, Database};

use super::CliError;
use crate::db;
use crate::import::{self, Options};
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The original's database, e.g. postgres://user:pass@host:5432/lpsaring (its
    /// `postgresql+psycopg2://` DATABASE_URL works too). Only read.
    #[arg(
        long,
        value_name = "URL",
        env = "LPSARING_IMPORT_FROM",
        hide_env_values = true
    )]
    from: String,
    /// Show what would be imported, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Import even though this database has users who are not in the original.
    #[arg(long)]
    merge: bool,
}

pub async fn run(settings: Settings, args: ImportArgs) -> Result<(), CliError> {
    let url = import::source_url(&args.from).map_err(CliError::Failed)?;
    let shown = db::redact_url(&url);
    let mut options = ConnectOptions::new(url);
    options.max_connections(2).sqlx_logging(false);
    let source = Database::connect(options)
        .await
        .map_err(|e| CliError::Failed(format!("cannot connect to {shown}: {e}")))?;
    let target = db::open(&settings).await?;
    eprintln!(
        "Reading {shown} into {}{} ...",
        db::redact_url(&settings.database_url()),
        if args.dry_run { " (dry run)" } else { "" }
    );
    let mut progress = |kind: import::Kind, done: usize, all: usize| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "  {:<13} {done}/{all}", kind.as_str());
    };
    let report = import::run(
        &source,
        &target,
        &SystemClock,
        Options {
            dry_run: args.dry_run,
            merge: args.merge,
        },
        &mut progress,
    )
    .await
    .map_err(|e| CliError::Failed(e.to_string()))?;
    print!("{report}");
    Ok(())
}
