//! The child process of the crash test (`tests/crash.rs`): runs quota sync runs back to back
//! against a SQLite file, a redb state file and a simulator until it is killed with SIGKILL.
//! Prints one line per run so the parent can see what recovery did.
//!
//! Env: `QUOTA_CHILD_DB` (the test database URL: a SQLite file or Postgres), `QUOTA_CHILD_STATE`
//! (redb path), `QUOTA_CHILD_ROUTER`, `QUOTA_CHILD_USERS` (users 1..=n exist).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::sync::Arc;

use lpsaring_kernel::SystemClock;
use lpsaring_quota::QuotaSettings;
use lpsaring_store::Store;

#[tokio::main]
async fn main() {
    let db_url = std::env::var("QUOTA_CHILD_DB").expect("QUOTA_CHILD_DB");
    let state = std::env::var("QUOTA_CHILD_STATE").expect("QUOTA_CHILD_STATE");
    let router = std::env::var("QUOTA_CHILD_ROUTER").expect("QUOTA_CHILD_ROUTER");
    let db = sea_orm::Database::connect(&db_url).await.unwrap();
    let clock = Arc::new(SystemClock);
    let store = Store::open(state, clock.clone()).await.unwrap();
    let users: i64 = std::env::var("QUOTA_CHILD_USERS")
        .expect("QUOTA_CHILD_USERS")
        .parse()
        .unwrap();
    let (svc, _, directory) = support::service(
        db,
        clock,
        Arc::new(store),
        &router,
        QuotaSettings::default(),
    );
    for user in 1..=users {
        directory.remember(user);
    }
    let mut out = std::io::stdout();
    loop {
        match svc.sync_once().await {
            Ok(s) => {
                writeln!(
                    out,
                    "run {} bytes={} recovered={:?}",
                    s.run_id, s.bytes_counted, s.recovered
                )
                .ok();
            }
            Err(e) => {
                writeln!(out, "error {e}").ok();
            }
        }
        out.flush().ok();
    }
}
