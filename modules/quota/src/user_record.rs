//! Quota's side of the kernel's `UserQuotas` port: one user's quota, ledger and 30-day usage
//! for the admin panel's user page (auth's), from this module's own reads.

use async_trait::async_trait;
use lpsaring_kernel::ports::user_record::{UserDayUsage, UserLedgerEntry, UserQuota, UserQuotas};
use lpsaring_kernel::{ApiError, UserId};

use crate::service::Service;

#[async_trait]
impl UserQuotas for Service {
    async fn quota_of(&self, user: UserId) -> Result<UserQuota, ApiError> {
        let summary = self.show(user).await?;
        let history = self.history(user).await?;
        Ok(UserQuota {
            purchased_bytes: summary.purchased_bytes,
            used_bytes: summary.used_bytes,
            remaining_bytes: summary.remaining_bytes,
            unlimited: summary.unlimited,
            status: summary.status.as_str().to_owned(),
            expires_at: summary.expires_at,
            ledger: history
                .ledger
                .into_iter()
                .map(|l| UserLedgerEntry {
                    at: l.at,
                    source: l.source,
                    bytes_added: l.bytes_added,
                    expires_after: l.expires_after,
                    note: l.note,
                })
                .collect(),
            daily: history
                .daily
                .into_iter()
                .map(|d| UserDayUsage {
                    day: d.day,
                    bytes: d.bytes,
                })
                .collect(),
        })
    }
}
