//! The command line: `serve` (default), `migrate`, `demo`, and the operator tools later issues add.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::settings::Settings;
use crate::{StartupError, db};

mod admin;
mod backup;
mod demo;
mod doctor;
mod import;
mod package;
mod plugins;
mod quota;
pub(crate) mod router;
mod sim;
mod user;
mod voucher;

#[derive(Debug, Parser)]
#[command(
    name = "lpsaring",
    version,
    about = "MikroTik hotspot portal: WhatsApp OTP login, quota, packages"
)]
pub struct Cli {
    /// Settings file (default: ./lpsaring.toml, then /etc/lpsaring/lpsaring.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the portal (the default).
    Serve,
    /// Apply or inspect database migrations.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Run a throwaway portal for trying it out: fresh data dir, everything local.
    Demo,
    /// Run the quota sync by hand.
    Sync {
        #[command(subcommand)]
        command: quota::SyncCommand,
    },
    /// Grant or show a user's quota.
    Quota {
        #[command(subcommand)]
        command: quota::QuotaCommand,
    },
    /// Manage the packages for sale (add, list, disable).
    Package {
        #[command(subcommand)]
        command: package::PackageCommand,
    },
    /// Print and manage voucher batches (create, list, revoke).
    Voucher {
        #[command(subcommand)]
        command: voucher::VoucherCommand,
    },
    /// Run a RouterOS API simulator (for demos and trying a config without a MikroTik).
    Sim(sim::SimArgs),
    /// Manage users (add, approve, block, list).
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Manage admin logins (`admin create --phone P --name N [--super]`, `admin reset-totp PHONE`).
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Print a RouterOS script that sets the router up for the portal (import it on the router).
    RouterScript,
    /// Set the router up through its API (`router setup [--dry-run]`).
    Router {
        #[command(subcommand)]
        command: router::RouterCommand,
    },
    /// Check the installation (config, database, state store, plugins, the router's set-up,
    /// clock, disk); prints the fix for each problem and exits non-zero when there is one.
    Doctor,
    /// Bring users, devices, packages, quota and transactions over from the original lpsaring's
    /// Postgres database (idempotent; `--dry-run` writes nothing).
    #[command(name = "import-lpsaring")]
    ImportLpsaring(import::ImportArgs),
    /// Write a backup archive: database, state store snapshot, secret key, settings (works while
    /// the service runs: it snapshots its state store when asked).
    Backup(backup::BackupArgs),
    /// Put a backup archive back (refused while the service runs).
    Restore(backup::RestoreArgs),
    /// Inspect the plugin folder or check a plugin file.
    Plugins {
        #[command(subcommand)]
        command: plugins::PluginsCommand,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateAction {
    /// Apply pending migrations (the default).
    Up,
    /// List migrations and whether each is applied.
    Status,
}

/// Exit code for configuration and start-up problems.
const EXIT_CONFIG: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lpsaring: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Startup(e)) => {
            eprintln!("lpsaring: {}", one_line(&e.to_string()));
            ExitCode::from(EXIT_CONFIG)
        }
        Err(CliError::Failed(message)) => {
            eprintln!("lpsaring: {message}");
            ExitCode::from(1)
        }
    }
}

/// Start-up errors are printed as one line, whatever the underlying library put in its message.
fn one_line(text: &str) -> String {
    text.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("{0}")]
    Failed(String),
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::load(cli.config.as_deref()).map_err(StartupError::from)?;
    let config = cli.config.clone();
    crate::telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate { action } => migrate(settings, action.unwrap_or(MigrateAction::Up)).await,
        Command::Demo => demo::run(settings).await,
        Command::Sim(args) => sim::run(args).await,
        Command::Sync { command } => quota::sync(settings, command).await,
        Command::Quota { command } => quota::quota(settings, command).await,
        Command::User { command } => user::run(settings, command).await,
        Command::Package { command } => package::run(settings, command).await,
        Command::Voucher { command } => voucher::run(settings, command).await,
        Command::Plugins { command } => plugins::run(&settings, command),
        Command::Admin { command } => admin::run(settings, command).await,
        Command::RouterScript => router::script(&settings),
        Command::Router { command } => router::run(settings, command).await,
        Command::Doctor => doctor::run(settings, config).await,
        Command::Backup(args) => backup::backup(settings, config, args).await,
        Command::Restore(args) => backup::restore(settings, args).await,
        Command::ImportLpsaring(args) => import::run(settings, args).await,
    }
}

async fn serve(settings: Settings) -> Result<(), CliError> {
    let listener = crate::bind(&settings).await?;
    let app = crate::build(settings).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Failed(e.to_string()))?;
    tracing::info!(%addr, version = env!("CARGO_PKG_VERSION"), "lpsaring is serving");
    // Under systemd (`Type=notify`): READY=1 once /readyz would answer 200, watchdog pings.
    let notifier = crate::systemd::start(app.health.clone());
    let shutdown = async move {
        crate::shutdown_signal().await;
        if let Some(n) = notifier {
            n.notify("STOPPING=1");
        }
    };
    crate::serve(app, listener, shutdown)
        .await
        .map_err(|e| CliError::Failed(format!("server failed: {e}")))
}

async fn migrate(settings: Settings, action: MigrateAction) -> Result<(), CliError> {
    let url = db::redact_url(&settings.database_url());
    let conn = db::connect(&settings).await?;
    match action {
        MigrateAction::Up => {
            let before = db::migration_status(&conn).await;
            let pending = before.iter().filter(|(_, applied)| !applied).count();
            println!("Applying {pending} pending migration(s) to {url} ...");
            db::migrate_up(&conn).await?;
            println!("Database is up to date ({} migrations).", before.len());
        }
        MigrateAction::Status => {
            for (name, applied) in db::migration_status(&conn).await {
                println!("{}  {name}", if applied { "applied" } else { "pending" });
            }
        }
    }
    Ok(())
}
