//! Opening the SQL database: SQLite (WAL, busy timeout, so CLI commands can write beside the
//! running service) or Postgres, chosen by URL.

use std::time::Duration;

use lpsaring_migrations::sea_orm_migration;
use lpsaring_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::settings::Settings;

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
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

fn sqlite_file(url: &str) -> Option<&str> {
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

pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
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
