//! Reconciliation: pending gateway orders are checked with the provider (`payment_status`)
//! from a minute after they were made, with backoff, until final; past the pending window they
//! expire. A missed webhook is recovered here through the same apply as a webhook.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use serde::Serialize;

use crate::api::{EventKind, EventOutcome, OrderSource, OrderStatus};
use crate::entity::order;
use crate::error::PaymentsError;
use crate::events::Statement;
use crate::orders::{FIRST_CHECK_AFTER_SECS, append_event, close_pending};
use crate::service::Service;

/// Orders checked per pass (the next pass takes the rest).
const BATCH: u64 = 50;
/// Longest wait between two checks of one order.
const MAX_BACKOFF_SECS: i64 = 3600;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    pub checked: usize,
    /// Moved to a final state by the provider's answer.
    pub settled: usize,
    /// Past the pending window.
    pub expired: usize,
    /// The provider could not be asked (the order is checked again later).
    pub errors: usize,
}

/// Seconds until the next check after `attempts` checks: 1, 2, 4 … minutes, at most an hour.
pub(crate) fn backoff_secs(attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.clamp(0, 6)).unwrap_or(6);
    (FIRST_CHECK_AFTER_SECS * 2_i64.pow(doublings)).min(MAX_BACKOFF_SECS)
}

impl Service {
    /// One pass over the pending orders due for a check (the job and the admin's "reconcile
    /// now" run the same code).
    pub async fn reconcile_due(&self) -> Result<ReconcileReport, PaymentsError> {
        let now = self.clock.now();
        let due = order::Entity::find()
            .filter(order::Column::Status.eq(OrderStatus::Pending))
            .filter(order::Column::Source.eq(OrderSource::Gateway))
            .filter(order::Column::NextCheckAt.lte(now))
            .order_by_asc(order::Column::NextCheckAt)
            .limit(BATCH)
            .all(&self.db)
            .await?;
        let mut report = ReconcileReport::default();
        for order in due {
            report.checked += 1;
            if now > order.expires_at {
                if self.expire(&order, now).await? {
                    report.expired += 1;
                }
                continue;
            }
            let provider = order.provider.clone().unwrap_or_default();
            let Some(gateway) = self.gateway(&provider).cloned() else {
                self.check_later(&order, now).await?;
                report.errors += 1;
                continue;
            };
            match gateway.port.payment_status(&order.order_id).await {
                Ok(event) if event.order_id == order.order_id => {
                    let outcome = self
                        .apply_statement(&Statement {
                            event: &event,
                            kind: EventKind::StatusCheck,
                            source: &provider,
                            dedup_key: None,
                        })
                        .await?;
                    match outcome {
                        EventOutcome::Moved(_) | EventOutcome::LatePayment => report.settled += 1,
                        _ => self.check_later(&order, now).await?,
                    }
                }
                Ok(event) => {
                    tracing::warn!(order = %order.order_id, answered = %event.order_id, "status answer for another order ignored");
                    self.check_later(&order, now).await?;
                    report.errors += 1;
                }
                Err(e) => {
                    tracing::warn!(order = %order.order_id, error = %e, "payment status check failed; retried later");
                    self.check_later(&order, now).await?;
                    report.errors += 1;
                }
            }
        }
        Ok(report)
    }

    /// Counts a check and schedules the next one (only while the order is still pending).
    async fn check_later(&self, m: &order::Model, now: DateTime<Utc>) -> Result<(), PaymentsError> {
        let next = now + Duration::seconds(backoff_secs(m.reconcile_attempts + 1));
        order::Entity::update_many()
            .col_expr(
                order::Column::ReconcileAttempts,
                Expr::value(m.reconcile_attempts + 1),
            )
            .col_expr(order::Column::NextCheckAt, Expr::value(next))
            .filter(order::Column::Id.eq(m.id))
            .filter(order::Column::Status.eq(OrderStatus::Pending))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Pending past the window: expired (a paid notification later still counts, flagged).
    async fn expire(&self, m: &order::Model, now: DateTime<Utc>) -> Result<bool, PaymentsError> {
        let txn = self.db.begin().await?;
        let moved = close_pending(&txn, m.id, OrderStatus::Expired, now).await?;
        if moved == 1 {
            append_event(
                &txn,
                m.id,
                EventKind::Expired,
                "system",
                Some(OrderStatus::Expired),
                None,
                now,
            )
            .await?;
        }
        txn.commit().await?;
        Ok(moved == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_back_off_to_an_hour() {
        assert_eq!(backoff_secs(0), 60);
        assert_eq!(backoff_secs(1), 120);
        assert_eq!(backoff_secs(3), 480);
        assert_eq!(backoff_secs(6), 3600);
        assert_eq!(backoff_secs(50), 3600);
    }
}
