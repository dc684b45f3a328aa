//! The daily removal of devices nobody has seen for `devices.remove_after_days`: off the router
//! (the same clean-up as a removal from the portal) and out of the database, counted in the log
//! and in one audit entry.

use std::sync::Arc;

use chrono::Duration;
use lpsaring_kernel::jobs::{DAY, Job};
use lpsaring_kernel::ports::audit::{AuditEntry, AuditSink};
use lpsaring_kernel::ports::router::Router;

use crate::error::DeviceError;
use crate::release::release_from_router;
use crate::service::Service;

/// The stale-device sweep, wired by `app`.
pub struct StaleSweep {
    pub devices: Arc<Service>,
    pub router: Arc<dyn Router>,
    /// Every status list an address may be on (cleaned with the device).
    pub status_lists: Vec<String>,
    pub audit: Arc<dyn AuditSink>,
    /// `devices.remove_after_days`; 0 turns the sweep off.
    pub remove_after_days: u32,
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Swept {
    pub removed: usize,
    /// Router clean-up steps that failed (logged; the rows are gone from the database).
    pub router_failures: usize,
}

impl StaleSweep {
    /// Removes every device not seen for `remove_after_days`.
    pub async fn run(&self) -> Result<Swept, DeviceError> {
        if self.remove_after_days == 0 {
            return Ok(Swept::default());
        }
        let cutoff = self.devices.now() - Duration::days(i64::from(self.remove_after_days));
        let removed = self.devices.remove_unseen_since(cutoff).await?;
        let mut swept = Swept {
            removed: removed.len(),
            router_failures: 0,
        };
        for device in &removed {
            swept.router_failures +=
                release_from_router(self.router.as_ref(), &self.status_lists, device).await;
        }
        if swept.removed > 0 {
            let entry = AuditEntry::new("devices.stale_removed").details(serde_json::json!({
                "removed": swept.removed,
                "remove_after_days": self.remove_after_days,
                "router_failures": swept.router_failures,
            }));
            if let Err(e) = self.audit.record(entry).await {
                tracing::warn!(error = %e, "stale devices: audit entry not written");
            }
        }
        Ok(swept)
    }
}

/// The module's background work: the daily stale-device sweep.
pub fn jobs(sweep: &Arc<StaleSweep>) -> Vec<Job> {
    vec![Job::new(
        "devices.remove_stale",
        DAY,
        sweep.clone(),
        |sweep| async move {
            match sweep.run().await {
                Ok(s) => tracing::info!(
                    removed = s.removed,
                    router_failures = s.router_failures,
                    "stale devices removed"
                ),
                Err(e) => tracing::warn!(error = %e, "stale device sweep failed"),
            }
        },
    )]
}
