//! Admin's side of the kernel's `AuditReader` port: the audit entries about one target, for
//! the admin panel's user page (auth's), read from this module's `audit_log`.

use async_trait::async_trait;
use lpsaring_kernel::ApiError;
use lpsaring_kernel::ports::user_record::{AuditReader, UserAuditEntry};

use crate::audit::{Audit, AuditFilter};

#[async_trait]
impl AuditReader for Audit {
    async fn about(&self, target: &str, limit: u64) -> Result<Vec<UserAuditEntry>, ApiError> {
        let filter = AuditFilter {
            target: Some(target.to_owned()),
            ..AuditFilter::default()
        };
        let page = self
            .page(&filter, 1, limit)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        Ok(page
            .items
            .into_iter()
            .map(|r| UserAuditEntry {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                target: r.target,
                details: r.details,
            })
            .collect())
    }
}
