//! Opening the SQL database: SQLite (WAL, busy timeout, so CLI commands can write beside the
//! running service) or Postgres, chosen by URL. [`open`] is the one way the server and every CLI
//! command get a database: connected, and migrated when `database.auto_migrate` allows.

use std::time::Duration;

use async_trait::async_trait;
use lpsaring_kernel::health::{Check, Health};
use lpsaring_migrations::sea_orm_migration;
use lpsaring_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::StartupError;
use crate::settings::Settings;

/// Connects and, when `database.auto_migrate` is on, applies pending migrations.
pub async fn open(settings: &Settings) -> Result<DatabaseConnection, StartupError> {
    let db = connect(settings).await?;
    if settings.database.auto_migrate {
        migrate_up(&db).await?;
    }
    Ok(db)
}

/// The URL with any password replaced, for messages and logs. Only the authority's userinfo is
/// looked at (an `@` in the query is not a password), and a URL without a password stays as it is
/// so the message does not suggest one was configured.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // The last `@` ends the userinfo: a password with a raw `@` is still hidden whole.
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, password)) if !password.is_empty() => {
                format!("{scheme}://{user}:***@{host}{tail}")
            }
            _ => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Connects without migrating (`lpsaring migrate` reports what it applies); the error names the
/// URL with its password redacted.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, StartupError> {
    connect_url(settings)
        .await
        .map_err(|e| StartupError::Database {
            url: redact_url(&settings.database_url()),
            message: e.to_string(),
        })
}

async fn connect_url(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let url = settings.database_url();
    if url.starts_with("sqlite:")
        && let Some(parent) = sqlite_file(&url)
            .and_then(|f| std::path::Path::new(f).parent().map(|p| p.to_path_buf()))
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(&parent)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(settings.database.max_connections)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// The file of a SQLite URL (`None` for in-memory databases and other backends).
pub fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path.starts_with(":memory:") {
        None
    } else {
        Some(path)
    }
}

pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), StartupError> {
    Migrator::up(db, None)
        .await
        .map_err(|e| StartupError::Migration(e.to_string()))
}

/// `/readyz`'s `database`: down when the database does not answer, or when its schema lags
/// this binary (pending migrations with `database.auto_migrate = false`): the portal cannot work
/// on a schema it does not know, so it should not get traffic.
pub struct DatabaseHealth(pub DatabaseConnection);

#[async_trait]
impl Health for DatabaseHealth {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Check {
        if let Err(error) = self.0.ping().await {
            tracing::warn!(%error, "readiness: database does not answer");
            return Check::down("does not answer");
        }
        match Migrator::get_pending_migrations_read_only(&self.0).await {
            Ok(pending) if pending.is_empty() => Check::ok("answers; schema up to date"),
            Ok(pending) => Check::down(format!(
                "{} migration(s) pending; run `lpsaring migrate`",
                pending.len()
            )),
            Err(error) => {
                tracing::warn!(%error, "readiness: cannot read the applied migrations");
                Check::down("cannot read the applied migrations")
            }
        }
    }
}

/// `(name, applied)` for every known migration, in order. Reads only: never creates the
/// bookkeeping table, so `migrate status` on an empty database changes nothing.
pub async fn migration_status(db: &DatabaseConnection) -> Vec<(String, bool)> {
    use sea_orm_migration::MigrationStatus;
    match Migrator::get_migration_with_status_read_only(db).await {
        Ok(list) => list
            .iter()
            .map(|m| (m.name().to_owned(), m.status() == MigrationStatus::Applied))
            .collect(),
        Err(_) => Migrator::migrations()
            .iter()
            .map(|m| (m.name().to_owned(), false))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
        assert_eq!(
            redact_url("postgres://app:p@ss@db/x"),
            "postgres://app:***@db/x"
        );
    }

    #[test]
    fn a_url_without_a_password_is_left_alone() {
        for url in [
            "postgres://app@db:5432/x",
            "postgres://app:@db/x",
            "postgres://db/x?options=a@b",
            "postgres://db",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_file("sqlite://./data/x.db?mode=rwc"),
            Some("./data/x.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
