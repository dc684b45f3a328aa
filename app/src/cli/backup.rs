//! `lpsaring backup [--to DIR]` and `lpsaring restore DIR` (see [`crate::backup`]).

use std::path::PathBuf;

use clap::Args;
use lpsaring_kernel::{Clock, SystemClock};

use super::CliError;
use crate::backup;
use crate::db;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Folder to write the backup archive into (default: `[backup] dir`, else
    /// `<data_dir>/backups`).
    #[arg(long, value_name = "DIR")]
    to: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// An archive `lpsaring backup` wrote (`lpsaring-backup-<time>.tar`).
    archive: PathBuf,
}

pub async fn backup(
    settings: Settings,
    config: Option<PathBuf>,
    args: BackupArgs,
) -> Result<(), CliError> {
    let conn = db::connect(&settings).await?;
    let to = args
        .to
        .unwrap_or_else(|| settings.backup.dir_in(&settings.data_dir));
    let dir = backup::create(
        &settings,
        &conn,
        config.as_deref(),
        &to,
        SystemClock.now(),
        None,
    )
    .await
    .map_err(CliError::Failed)?;
    println!("Backup written to {}", dir.display());
    Ok(())
}

pub async fn restore(settings: Settings, args: RestoreArgs) -> Result<(), CliError> {
    let manifest = backup::restore(&settings, &args.archive)
        .await
        .map_err(CliError::Failed)?;
    println!(
        "Restored the backup of {} ({} database, {} state entries) into {}.",
        manifest.created_at.to_rfc3339(),
        manifest.database,
        manifest.state_entries,
        settings.data_dir.display()
    );
    if manifest.config {
        println!(
            "The settings file is not replaced: the backup's copy is lpsaring.toml inside {}.",
            args.archive.display()
        );
    }
    Ok(())
}
