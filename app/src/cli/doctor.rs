//! `lpsaring doctor`: checks the installation — config, database, state store, plugins, the
//! router (login, API permissions and every area of its set-up against what the portal expects,
//! the same checks `/readyz` shows), the clock and free disk — and prints, for each problem, the
//! command or setting that fixes it. Exits non-zero when something is wrong.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::router::{ConfigMenu, RouterError};
use lpsaring_kernel::{Clock, StoreError, SystemClock};
use lpsaring_routeros::setup::{self, Level};

use super::CliError;
use super::router::{connect, setup_inputs};
use crate::db;
use crate::settings::Settings;

/// Free space under which the data directory fails (SQLite, backups and the store grow there).
const DISK_FAIL_BYTES: u64 = 256 * 1024 * 1024;
/// Free space under which it warns.
const DISK_WARN_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// A clock before this is a machine without a set clock (a dead RTC, no NTP): codes, sessions
/// and validity would all be wrong.
const CLOCK_FLOOR: &str = "2026-01-01T00:00:00Z";

/// One line of the report.
#[derive(Debug)]
struct Line {
    area: String,
    level: Level,
    detail: String,
    fix: Option<String>,
}

#[derive(Debug, Default)]
struct Report {
    lines: Vec<Line>,
}

impl Report {
    fn push(&mut self, area: &str, level: Level, detail: impl Into<String>, fix: Option<String>) {
        self.lines.push(Line {
            area: area.to_owned(),
            level,
            detail: detail.into(),
            fix,
        });
    }

    fn ok(&mut self, area: &str, detail: impl Into<String>) {
        self.push(area, Level::Ok, detail, None);
    }

    fn fail(&mut self, area: &str, detail: impl Into<String>, fix: impl Into<String>) {
        self.push(area, Level::Fail, detail, Some(fix.into()));
    }

    fn warn(&mut self, area: &str, detail: impl Into<String>, fix: Option<String>) {
        self.push(area, Level::Warn, detail, fix);
    }

    fn print(&self) {
        for line in &self.lines {
            let level = match line.level {
                Level::Ok => "ok",
                Level::Warn => "warn",
                Level::Fail => "FAIL",
            };
            println!("{level:<5} {:<17} {}", line.area, line.detail);
            if let Some(fix) = &line.fix {
                println!("{:<23} fix: {fix}", "");
            }
        }
    }

    fn failures(&self) -> usize {
        self.lines.iter().filter(|l| l.level == Level::Fail).count()
    }
}

pub async fn run(settings: Settings, config: Option<PathBuf>) -> Result<(), CliError> {
    let mut report = Report::default();
    config_check(&settings, config, &mut report);
    database(&settings, &mut report).await;
    state_store(&settings, &mut report).await;
    plugins(&settings, &mut report);
    router(&settings, &mut report).await;
    clock(&settings, &mut report);
    disk(&settings.data_dir, &mut report);
    report.print();
    match report.failures() {
        0 => {
            println!("Everything the portal needs is in place.");
            Ok(())
        }
        n => Err(CliError::Failed(format!(
            "{n} problem(s) found; each says how to fix it"
        ))),
    }
}

fn config_check(settings: &Settings, config: Option<PathBuf>, report: &mut Report) {
    match config.or_else(Settings::default_path) {
        Some(path) => report.ok("config", format!("{} read", path.display())),
        None => report.ok(
            "config",
            "no config file: defaults and LPSARING_ environment",
        ),
    }
    for warning in setup::desired(&setup_inputs(settings)).warnings {
        let setting = warning.split(' ').next().unwrap_or_default().to_owned();
        report.fail(
            "config",
            format!("{setting} is not set (the router set-up needs it)"),
            format!("set {setting} in the config file"),
        );
    }
}

async fn database(settings: &Settings, report: &mut Report) {
    let url = db::redact_url(&settings.database_url());
    let conn = match db::connect(settings).await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "doctor: database connection failed");
            return report.fail(
                "database",
                format!("cannot open {url}"),
                "check database.url and that the database server runs",
            );
        }
    };
    let status = db::migration_status(&conn).await;
    let pending = status.iter().filter(|(_, applied)| !applied).count();
    if status.is_empty() {
        report.fail(
            "database",
            format!("{url}: migration table unreadable"),
            "lpsaring migrate",
        );
    } else if pending > 0 {
        report.fail(
            "database",
            format!("{url}: {pending} migration(s) pending"),
            "lpsaring migrate",
        );
    } else {
        report.ok(
            "database",
            format!("{url}: {} migrations applied", status.len()),
        );
    }
}

async fn state_store(settings: &Settings, report: &mut Report) {
    let path = settings.state_path();
    if !path.exists() {
        return report.warn(
            "state store",
            format!(
                "{} not created yet (the service creates it)",
                path.display()
            ),
            None,
        );
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match lpsaring_store::Store::open(&path, clock).await {
        Ok(store) => {
            let _ = store.close().await;
            report.ok("state store", format!("{} opens", path.display()));
        }
        Err(StoreError::Locked { .. }) => report.ok(
            "state store",
            format!("{} held by the running service", path.display()),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "doctor: state store failed to open");
            report.fail(
                "state store",
                format!("{} cannot be opened", path.display()),
                "restore it with `lpsaring restore`, or move it aside (the service starts a new one)",
            );
        }
    }
}

fn plugins(settings: &Settings, report: &mut Report) {
    let dir = &settings.plugins.dir;
    let reports = lpsaring_plugin_host::list(dir);
    let mut loaded = Vec::new();
    for r in &reports {
        let name = r.manifest.as_ref().map_or("-", |m| m.name.as_str());
        match &r.refused {
            None => {
                loaded.push(name.to_owned());
                report.ok("plugin", format!("{name} ({})", r.file.display()));
            }
            Some(reason) => report.fail(
                "plugin",
                format!("{} refused: {reason}", r.file.display()),
                format!("replace or remove {}", r.file.display()),
            ),
        }
    }
    if reports.is_empty() {
        report.warn(
            "plugin",
            format!("no plugin files in {}", dir.display()),
            None,
        );
    }
    let wanted = [
        ("messaging.plugin", settings.messaging.plugin.as_ref()),
        ("payments.plugin", settings.payments.plugin.as_ref()),
    ];
    for (key, name) in wanted {
        if let Some(name) = name
            && !loaded.contains(name)
        {
            report.fail(
                "plugin",
                format!(
                    "{key} names {name}, which is not loaded from {}",
                    dir.display()
                ),
                format!(
                    "install the {name} plugin into {} or change {key}",
                    dir.display()
                ),
            );
        }
    }
}

async fn router(settings: &Settings, report: &mut Report) {
    const LOGIN: &str = "router login";
    if settings.router.address.trim().is_empty() {
        return report.fail(
            LOGIN,
            "router.address is not set",
            "set router.address (and router.username, router.password) in the config file",
        );
    }
    let address = &settings.router.address;
    let client = connect(settings.router.clone()).await;
    // One read says why a connection is not up (refused credentials, unreachable).
    if let Err(e) = client.config_rows(ConfigMenu::UserGroup).await {
        let fix = match e {
            RouterError::Authentication(_) => {
                "set router.username and router.password to the API user (`lpsaring router-script` creates one)"
            }
            _ => {
                "check router.address and that the router's API service allows the portal's address"
            }
        };
        tracing::warn!(error = %e, "doctor: router read failed");
        return report.fail(LOGIN, format!("{address}: {}", router_words(&e)), fix);
    }
    report.ok(LOGIN, format!("{address} as {}", settings.router.username));
    let desired = setup::desired(&setup_inputs(settings));
    match setup::check_router(&client, &desired, &settings.router.username).await {
        Ok(findings) => {
            for f in findings {
                let placeholder = !desired.warnings.is_empty() && f.area != "api permissions";
                if placeholder && f.level == Level::Fail {
                    // Already reported under config: the set-up cannot be judged without it.
                    report.warn(
                        f.area,
                        "not checked until the config above is complete",
                        None,
                    );
                } else {
                    report.push(f.area, f.level, f.detail, f.fix.map(str::to_owned));
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "doctor: router set-up read failed");
            report.fail(
                "router setup",
                format!("cannot read the set-up menus: {}", router_words(&e)),
                "give the API user the read policy (`lpsaring router setup` does)",
            );
        }
    }
}

/// A router error in a few words (no credentials in it).
fn router_words(e: &RouterError) -> &'static str {
    match e {
        RouterError::Authentication(_) => "the router refused our credentials",
        RouterError::Unreachable(_) | RouterError::Timeout | RouterError::CircuitOpen => {
            "the router does not answer"
        }
        RouterError::Trap { .. } | RouterError::NotOurs(_) => "the router refused a read",
        RouterError::Protocol(_) => "the router answered something unexpected",
    }
}

fn clock(settings: &Settings, report: &mut Report) {
    let now = SystemClock.now();
    let floor = chrono::DateTime::parse_from_rfc3339(CLOCK_FLOOR)
        .map(|t| t.to_utc())
        .unwrap_or_default();
    if now < floor {
        report.fail(
            "clock",
            format!("the system clock says {now}, before {CLOCK_FLOOR}"),
            "set the clock and enable NTP (timedatectl set-ntp true)",
        );
    } else {
        report.ok(
            "clock",
            format!(
                "{} UTC, local days in {}",
                now.format("%Y-%m-%d %H:%M:%S"),
                settings.timezone
            ),
        );
    }
}

fn disk(data_dir: &Path, report: &mut Report) {
    let probe = std::iter::successors(Some(data_dir), |p| p.parent())
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let free = match rustix::fs::statvfs(probe) {
        Ok(stat) => stat.f_bavail.saturating_mul(stat.f_frsize),
        Err(e) => {
            return report.warn(
                "disk",
                format!("cannot measure free space at {}: {e}", probe.display()),
                None,
            );
        }
    };
    let mib = free / (1024 * 1024);
    let detail = format!("{mib} MiB free at {}", probe.display());
    if free < DISK_FAIL_BYTES {
        report.fail("disk", detail, "free space on that file system");
    } else if free < DISK_WARN_BYTES {
        report.warn("disk", detail, Some("free space soon".into()));
    } else {
        report.ok("disk", detail);
    }
}
