//! Quota: accounts, access status, the exactly-once sync engine, usage history and enforcement
//! on the router. Owns `quota_accounts`, `usage_daily`, `quota_ledger` and `sync_runs`.
//!
//! - [`status`]: the one access-status rule and what it means on the router (pure);
//! - [`core`]: deltas from a hosts snapshot and the minimal router diff (pure, benchmarked);
//! - [`Service`]: sync runs (journal in the state store, one SQL transaction, promote), grants,
//!   summaries; [`router`] for HTTP and [`jobs`] for `app` to spawn;
//! - the service also implements the kernel's `AccessPolicy`, so auth places a device at login
//!   exactly as the sync would.

pub mod api;
pub mod core;
mod entity;
mod error;
pub mod notify;
mod policy;
mod routes;
mod service;
pub mod settings;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::jobs::{DAY, Job};

pub use error::{ConfigError, QuotaError};
pub use routes::router;
pub use service::{Deps, Service};
pub use settings::QuotaSettings;

/// The quota module's background work, for `app` to spawn beside every other module's: the sync
/// every `sync_interval_secs` (a beat is skipped while another run, e.g. one triggered over HTTP,
/// is in progress) and the daily purge of per-run history older than `history_retention_days`.
pub fn jobs(service: &Arc<Service>) -> Vec<Job> {
    let every = Duration::from_secs(
        service
            .settings()
            .sync_interval_secs
            .max(QuotaSettings::MIN_INTERVAL_SECS),
    );
    vec![
        Job::new("quota.sync", every, service.clone(), |service| async move {
            match service.try_sync().await {
                Ok(Some(s)) => tracing::info!(
                    run_id = %s.run_id, bytes = s.bytes_counted, writes = s.router_writes,
                    errors = s.router_errors, "quota sync"
                ),
                Ok(None) => tracing::debug!("quota sync skipped: a run is in progress"),
                Err(e) => tracing::warn!(error = %e, "quota sync failed"),
            }
        }),
        Job::new(
            "quota.purge_history",
            DAY,
            service.clone(),
            |service| async move {
                match service.purge_history().await {
                    Ok((ledger, runs)) => tracing::info!(ledger, runs, "old sync history deleted"),
                    Err(e) => tracing::warn!(error = %e, "sync history clean-up failed"),
                }
            },
        ),
    ]
}
