//! An operator's correction of one account (`POST /api/admin/users/{id}/quota-adjust`): bytes
//! and days added, or taken back when negative, as one ledger row carrying the reason. Taking
//! back follows the refund rules ([`crate::period::bytes_taken`], [`crate::period::reversed`]):
//! never more bytes than are unused, never a validity in the past. Written to the audit log.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lpsaring_kernel::UserId;
use lpsaring_kernel::ports::audit::{AuditEntry, AuditSink};
use lpsaring_kernel::ports::users::Role;
use serde::{Deserialize, Serialize};

use crate::api::{GrantSource, QuotaSummary, ValidityMode};
use crate::error::QuotaError;
use crate::grant::Change;
use crate::period;
use crate::service::Service;

/// Longest reason kept, in characters.
const REASON_MAX_CHARS: usize = 200;
/// Ten years: more is a typo.
const MAX_DAYS: i64 = 3650;
/// One pebibyte: more is a typo.
const MAX_BYTES: i64 = 1 << 50;

/// The request: what to add (negative: take back) and why.
#[derive(Debug, Clone, Deserialize, salvo::oapi::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustIn {
    #[serde(default)]
    pub bytes: i64,
    #[serde(default)]
    pub days: i64,
    pub reason: String,
}

/// What the adjustment did: the bytes actually added (a take-back is capped at what is unused)
/// and the account afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct Adjusted {
    pub bytes_added: i64,
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub expires_before: Option<DateTime<Utc>>,
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub expires_after: Option<DateTime<Utc>>,
    pub quota: QuotaSummary,
}

/// The reason as kept: control characters dropped, trimmed, at most 200 characters; required.
fn clean_reason(raw: &str) -> Result<String, QuotaError> {
    let reason: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(REASON_MAX_CHARS)
        .collect::<String>()
        .trim()
        .to_owned();
    if reason.is_empty() {
        return Err(QuotaError::InvalidGrant("a reason is required".into()));
    }
    Ok(reason)
}

fn check(input: &AdjustIn) -> Result<String, QuotaError> {
    if input.bytes == 0 && input.days == 0 {
        return Err(QuotaError::InvalidGrant(
            "bytes or days must not be zero".into(),
        ));
    }
    if input.days.abs() > MAX_DAYS || input.bytes.unsigned_abs() > MAX_BYTES.unsigned_abs() {
        return Err(QuotaError::InvalidGrant(format!(
            "at most {MAX_DAYS} days and {MAX_BYTES} bytes either way"
        )));
    }
    clean_reason(&input.reason)
}

/// The operator's side of quota, with the audit log it writes to.
pub struct Adjustments {
    quota: Arc<Service>,
    audit: Arc<dyn AuditSink>,
}

impl Adjustments {
    pub fn new(quota: Arc<Service>, audit: Arc<dyn AuditSink>) -> Self {
        Self { quota, audit }
    }

    /// Adds (or takes back) bytes and days on `target`'s account for admin `actor`, in one
    /// transaction with its ledger row; then the router state is applied (best effort) and the
    /// audit entry written. Only a super admin adjusts an admin's account.
    pub async fn adjust(
        &self,
        actor: (UserId, Role),
        target: UserId,
        input: &AdjustIn,
        ip: Option<String>,
    ) -> Result<Adjusted, QuotaError> {
        let reason = check(input)?;
        let q = &self.quota;
        let facts = q.users.get(target).await?.ok_or(QuotaError::UserNotFound)?;
        if facts.role.is_admin() && actor.1 != Role::SuperAdmin {
            return Err(QuotaError::Forbidden);
        }
        let key = format!("admin:{}:{}", target.0, uuid::Uuid::new_v4());
        let label = format!("admin:{}", actor.0.0);
        let guard = q.accounts.lock().await;
        let txn = lpsaring_kernel::sql::begin_write(&q.db).await?;
        let before = q
            .unless_applied(&txn, target, &key)
            .await?
            .ok_or_else(|| QuotaError::InvalidGrant("duplicate adjustment".into()))?;
        let now = q.clock.now();
        let bytes = if input.bytes >= 0 {
            input.bytes
        } else {
            -period::bytes_taken(before.purchased, before.used, -input.bytes)
        };
        let hours = input.days.saturating_mul(24);
        let after = if hours >= 0 {
            period::granted(&before.period(), hours, false, ValidityMode::Extend, now)
        } else {
            period::reversed(&before.period(), -hours, false, now)
        };
        q.write_change(
            &txn,
            Change {
                user: target,
                before: &before,
                bytes,
                period: after,
                profile: before.profile.clone(),
                rearm: bytes > 0 || hours > 0,
                source: GrantSource::Admin,
                key: &key,
                actor: &label,
                note: Some(reason.clone()),
            },
        )
        .await?;
        txn.commit().await?;
        drop(guard);
        if let Err(e) = q.apply_user(target).await {
            tracing::warn!(user = target.0, error = %e, "adjusted, but the router update waits for the next sync");
        }
        let entry = AuditEntry::new("quota.adjust")
            .actor(actor.0)
            .target(format!("user:{}", target.0))
            .details(serde_json::json!({
                "bytes_requested": input.bytes,
                "bytes_added": bytes,
                "days": input.days,
                "reason": reason,
                "expires_after": after.expires_at,
            }))
            .ip(ip);
        if let Err(e) = self.audit.record(entry).await {
            tracing::error!(error = %e, "audit entry of a quota adjustment not written");
        }
        Ok(Adjusted {
            bytes_added: bytes,
            expires_before: before.expires_at,
            expires_after: after.expires_at,
            quota: q.summary_for(&facts).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bytes: i64, days: i64, reason: &str) -> AdjustIn {
        AdjustIn {
            bytes,
            days,
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn an_adjustment_needs_a_reason_and_something_within_bounds() {
        assert_eq!(check(&input(5, 0, "  bonus\n ")).unwrap(), "bonus");
        assert!(check(&input(0, -3, "koreksi")).is_ok());
        assert!(check(&input(0, 0, "x")).is_err());
        assert!(check(&input(5, 0, " \t ")).is_err());
        assert!(check(&input(0, MAX_DAYS + 1, "x")).is_err());
        assert!(check(&input(-MAX_BYTES - 1, 0, "x")).is_err());
        assert!(check(&input(i64::MIN, 0, "x")).is_err());
        assert_eq!(
            check(&input(1, 0, &"r".repeat(500))).unwrap().len(),
            REASON_MAX_CHARS
        );
    }
}
