//! The module's background work: the daily audit retention purge.

use std::sync::Arc;

use lpsaring_kernel::jobs::{DAY, Job};

use crate::service::Service;

pub fn jobs(service: &Arc<Service>) -> Vec<Job> {
    vec![Job::new(
        "admin.audit_retention",
        DAY,
        service.clone(),
        |service| async move {
            match service.purge_audit().await {
                Ok(deleted) => tracing::info!(deleted, "old audit entries deleted"),
                Err(e) => tracing::warn!(error = %e, "audit retention failed"),
            }
        },
    )]
}
