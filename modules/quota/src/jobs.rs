//! The module's background work, for `app` to spawn beside every other module's.

use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::jobs::{DAY, Job};

use crate::service::Service;
use crate::settings::QuotaSettings;

/// The sync every `sync_interval_secs` (a beat is skipped while another run, e.g. one triggered
/// over HTTP, is in progress) and the daily purge of per-run history older than
/// `history_retention_days`.
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
