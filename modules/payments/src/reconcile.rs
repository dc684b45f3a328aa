//! Reconciliation: pending gateway orders are checked with the provider (`payment_status`)
//! from a minute after they were made, with backoff, until final; past the pending window they
//! expire. A missed webhook is recovered here through the same apply as a webhook.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use serde::Serialize;

use crate::api::{EventKind, EventOutcome, OrderSource, OrderStatus, OrderView};
use crate::entity::order;
use crate::error::PaymentsError;
use crate::events::Statement;
use crate::orders::{FIRST_CHECK_AFTER_SECS, append_event, close_pending, to_view};
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

/// What one check of one order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Checked {
    /// The provider's answer moved it to a final state.
    Settled,
    /// Past the pending window.
    Expired,
    /// Still pending (checked again later), or moved by someone else meanwhile.
    Unchanged,
    /// The provider could not be asked (checked again later).
    Error,
}

/// `POST /api/admin/transactions/{order_id}/reconcile`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct ReconcileOne {
    /// What the check did; absent when the order was already final (nothing to ask).
    pub checked: Option<Checked>,
    /// The order as it is now.
    pub order: OrderView,
}

impl ReconcileReport {
    fn count(&mut self, checked: Checked) {
        self.checked += 1;
        match checked {
            Checked::Settled => self.settled += 1,
            Checked::Expired => self.expired += 1,
            Checked::Error => self.errors += 1,
            Checked::Unchanged => {}
        }
    }
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
            report.count(self.check_one(&order, now).await?);
        }
        Ok(report)
    }

    /// "Reconcile now" for one order (the admin's button): the job's check of a pending order,
    /// whenever its next check was due; an order already final is answered as it is.
    pub async fn reconcile_order(&self, order_id: &str) -> Result<ReconcileOne, PaymentsError> {
        let order = self.order_row(order_id).await?;
        let checked =
            if order.status == OrderStatus::Pending && order.source == OrderSource::Gateway {
                Some(self.check_one(&order, self.clock.now()).await?)
            } else {
                None
            };
        let order = to_view(&self.order_row(order_id).await?);
        Ok(ReconcileOne { checked, order })
    }

    /// One pending gateway order: expired past its window, else asked of its provider and the
    /// answer applied like a webhook; anything not final is checked again later.
    async fn check_one(
        &self,
        order: &order::Model,
        now: DateTime<Utc>,
    ) -> Result<Checked, PaymentsError> {
        if now > order.expires_at {
            return Ok(if self.expire(order, now).await? {
                Checked::Expired
            } else {
                Checked::Unchanged
            });
        }
        let provider = order.provider.clone().unwrap_or_default();
        let Some(gateway) = self.gateway(&provider).cloned() else {
            tracing::warn!(order = %order.order_id, provider, "payment plugin not loaded; checked later");
            self.check_later(order, now).await?;
            return Ok(Checked::Error);
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
                    EventOutcome::Moved(_) | EventOutcome::LatePayment => Ok(Checked::Settled),
                    _ => {
                        self.check_later(order, now).await?;
                        Ok(Checked::Unchanged)
                    }
                }
            }
            Ok(event) => {
                tracing::warn!(order = %order.order_id, answered = %event.order_id, "status answer for another order ignored");
                self.check_later(order, now).await?;
                Ok(Checked::Error)
            }
            Err(e) => {
                tracing::warn!(order = %order.order_id, error = %e, "payment status check failed; retried later");
                self.check_later(order, now).await?;
                Ok(Checked::Error)
            }
        }
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
