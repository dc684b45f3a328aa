//! The sweep: any paid order whose quota grant was never written gets it. None should exist
//! (the grant commits with the status), but a crashed older version, a restore or an operator's
//! hand-written SQL can leave one, and money taken must never be lost.
//!
//! Each order is claimed and granted in its own write transaction: the claim is a
//! compare-and-set on `applied_at IS NULL`, so two sweeps (or a sweep and a restarted process)
//! apply an order once, and quota's ledger key `order:<id>` backs that up. One order that cannot
//! be applied is logged and counted, and the others still are.

use lpsaring_kernel::UserId;
use lpsaring_kernel::sql::begin_write;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::api::{EventKind, OrderStatus};
use crate::entity::order;
use crate::error::PaymentsError;
use crate::orders::append_event;
use crate::service::Service;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Orders whose grant this sweep wrote.
    pub applied: usize,
    /// Orders that could not be applied (logged; tried again on the next sweep).
    pub failed: usize,
}

impl Service {
    /// Applies every paid order without its grant (see the module docs). Fails only when the
    /// orders cannot be listed.
    pub async fn sweep_unapplied(&self) -> Result<SweepReport, PaymentsError> {
        let unapplied = order::Entity::find()
            .filter(order::Column::Status.eq(OrderStatus::Paid))
            .filter(order::Column::AppliedAt.is_null())
            .order_by_asc(order::Column::Id)
            .all(&self.db)
            .await?;
        let mut report = SweepReport::default();
        for order in unapplied {
            match self.sweep_one(&order).await {
                Ok(true) => {
                    report.applied += 1;
                    self.apply_on_router(UserId(order.user_id)).await;
                }
                Ok(false) => {}
                Err(e) => {
                    report.failed += 1;
                    tracing::error!(order = %order.order_id, error = %e, "paid order could not be applied by the sweep; retried on the next one");
                }
            }
        }
        if report.applied > 0 || report.failed > 0 {
            tracing::warn!(
                applied = report.applied,
                failed = report.failed,
                "paid orders without their quota grant were found by the sweep"
            );
        }
        Ok(report)
    }

    /// One order: `false` when someone else applied it meanwhile (nothing written).
    async fn sweep_one(&self, order: &order::Model) -> Result<bool, PaymentsError> {
        let now = self.clock.now();
        let txn = begin_write(&self.db).await?;
        let claimed = order::Entity::update_many()
            .col_expr(order::Column::AppliedAt, Expr::value(now))
            .filter(order::Column::Id.eq(order.id))
            .filter(order::Column::Status.eq(OrderStatus::Paid))
            .filter(order::Column::AppliedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            txn.rollback().await?;
            return Ok(false);
        }
        self.write_grant(&txn, order, now).await?;
        append_event(
            &txn,
            order.id,
            EventKind::Applied,
            "sweep",
            Some(OrderStatus::Paid),
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}
