//! Test support every crate's tests share (feature `testing`, dev-dependencies only): how a test
//! says it could not run, and the database a test runs on.
//!
//! A test that needs a peer the machine may lack (chromedriver, a Python with librouteros, …)
//! calls [`skip`] instead of returning quietly: the harness hides a test's own output, so a
//! skipped test would otherwise look exactly like a passing one. With
//! `LPSARING_REQUIRE_PEERS=1` (CI sets it) a missing peer fails the test instead.
//!
//! Tests that touch SQL open [`TestDatabase::fresh`]: in-memory SQLite by default, a fresh
//! Postgres database when `LPSARING_TEST_POSTGRES_URL` is set (an admin URL whose user may create
//! databases). Postgres is the suite's second backend, not a peer: without the variable the run
//! says once, visibly, that it is SQLite only, and CI runs the suite a second time with it set.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a failed set-up step stops the test loudly"
)]

use std::io::Write as _;
use std::path::Path;
use std::sync::Once;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// Switches every SQL test to Postgres: an admin URL whose user may create databases.
pub const POSTGRES_ENV: &str = "LPSARING_TEST_POSTGRES_URL";

/// When `1` (or `true`), a test whose peer is missing fails instead of skipping.
pub const REQUIRE_PEERS_ENV: &str = "LPSARING_REQUIRE_PEERS";

/// Whether this run demands every peer (`LPSARING_REQUIRE_PEERS=1`).
pub fn peers_required() -> bool {
    std::env::var(REQUIRE_PEERS_ENV).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

/// The running test's name: libtest names each test's thread after the test.
pub fn current_test() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("<unnamed test>")
        .to_owned()
}

/// Writes one line to the process's real stderr. `eprintln!` inside a test is captured by the
/// harness and shown only when the test fails; a skip must be seen when it passes too.
pub fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// The running test cannot run because `reason` (a missing peer): prints `SKIP <test>: <reason>`
/// on the real stderr and returns, so the caller returns too; fails the test instead when
/// [`peers_required`].
#[track_caller]
pub fn skip(reason: &str) {
    let test = current_test();
    if peers_required() {
        panic!("{test}: {reason} ({REQUIRE_PEERS_ENV}=1: a missing peer is a failure)");
    }
    say(&format!("SKIP {test}: {reason}"));
}

/// The value of env var `var` naming a peer (a binary, an interpreter…), or `None` after
/// [`skip`] said why the test does not run.
#[track_caller]
pub fn peer_env(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            skip(&format!("{var} is unset: set it to {what}"));
            None
        }
    }
}

/// The Postgres admin URL of this run, or `None` after saying (once per test process) that the
/// run is SQLite only.
pub fn postgres_url() -> Option<String> {
    static SAID: Once = Once::new();
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            SAID.call_once(|| {
                let exe = std::env::current_exe()
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .unwrap_or_default();
                say(&format!(
                    "SKIP postgres ({exe}): {POSTGRES_ENV} is unset, these tests run on SQLite only"
                ));
            });
            None
        }
    }
}

/// A test that exists only for Postgres (a Postgres-specific behaviour) and has no SQLite
/// counterpart: returns the admin URL, or `None` after printing `SKIP <test>`. Not a peer
/// failure under [`REQUIRE_PEERS_ENV`]: CI's SQLite run leaves the variable unset on purpose and
/// its Postgres run covers the test.
pub fn postgres_only() -> Option<String> {
    let url = std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty());
    if url.is_none() {
        say(&format!(
            "SKIP {}: Postgres only, and {POSTGRES_ENV} is unset",
            current_test()
        ));
    }
    url
}

/// The database one test runs on. Dropping it drops a Postgres database (SQLite needs nothing:
/// in memory, or a file in the caller's temporary directory).
pub struct TestDatabase {
    url: String,
    postgres: Option<PostgresDb>,
}

impl TestDatabase {
    /// In-memory SQLite, or a fresh Postgres database when [`POSTGRES_ENV`] is set.
    pub async fn fresh() -> TestDatabase {
        TestDatabase::pick("sqlite::memory:".to_owned()).await
    }

    /// A SQLite file in `dir` (for a database another process opens too), or a fresh Postgres
    /// database when [`POSTGRES_ENV`] is set.
    pub async fn in_dir(dir: &Path) -> TestDatabase {
        let file = dir.join("lpsaring-test.db");
        TestDatabase::pick(format!("sqlite://{}?mode=rwc", file.display())).await
    }

    async fn pick(sqlite_url: String) -> TestDatabase {
        match postgres_url() {
            Some(admin) => {
                let db = PostgresDb::create(&admin).await;
                TestDatabase {
                    url: with_database(&admin, &db.name),
                    postgres: Some(db),
                }
            }
            None => TestDatabase {
                url: sqlite_url,
                postgres: None,
            },
        }
    }

    /// The URL to connect to (also for a child process).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// The Postgres database's name, if this is one.
    pub fn postgres_name(&self) -> Option<&str> {
        self.postgres.as_ref().map(|p| p.name.as_str())
    }

    /// Opens a connection. For in-memory SQLite every call is a new, empty database: connect once.
    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect to the {} test database: {e}", self.backend()))
    }
}

/// A throwaway Postgres database, dropped (forcefully) when the test ends.
struct PostgresDb {
    admin_url: String,
    name: String,
}

impl PostgresDb {
    async fn create(admin_url: &str) -> PostgresDb {
        let name = format!("lpsaring_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("connect to {POSTGRES_ENV}: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        PostgresDb {
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop may run inside or outside a runtime: use a private one on a plain thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(db) = Database::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = db.execute_unprepared(&sql).await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

/// Replaces the database name (the last path segment) of a Postgres URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_path() {
        assert_eq!(
            with_database("postgres://u@h:5432/test?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
