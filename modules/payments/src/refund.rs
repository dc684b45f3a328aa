//! Refunds, the payments side (issue 12, "Applying a paid order"): a paid order becomes
//! refunded in one SQL transaction with quota's reversing ledger row (never more bytes than are
//! unused, see `lpsaring_quota::Service::reverse_in`) and its event; the audit entry follows the
//! commit. The move is a guarded UPDATE (`status = 'paid'`), so of two refunds racing for one
//! order exactly one reverses anything; a refunded order answers 409 ever after.

use lpsaring_kernel::UserId;
use lpsaring_kernel::ports::audit::AuditEntry;
use lpsaring_kernel::sql::begin_write;
use lpsaring_quota::api::{GrantSource, Reversal};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;

use crate::api::{EventKind, OrderStatus, OrderView};
use crate::entity::order;
use crate::error::PaymentsError;
use crate::orders::{append_event, to_view};
use crate::service::Service;

/// Longest refund reason kept.
const REASON_MAX_CHARS: usize = 500;

/// `POST /api/admin/transactions/{order_id}/refund`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, salvo::oapi::ToSchema)]
pub struct RefundRequest {
    pub reason: String,
}

impl Service {
    /// Refunds paid order `order_id` for super admin `actor`; see the module doc. An order paid
    /// but not applied yet (no grant) is refunded without a reversal: the sweep only applies
    /// paid orders, so it never grants it afterwards.
    pub async fn refund(
        &self,
        order_id: &str,
        actor: UserId,
        reason: &str,
    ) -> Result<OrderView, PaymentsError> {
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().count() > REASON_MAX_CHARS
            || reason.chars().any(char::is_control)
        {
            return Err(PaymentsError::Invalid(format!(
                "reason: 1 to {REASON_MAX_CHARS} characters, no control characters"
            )));
        }
        let now = self.clock.now();
        let txn = begin_write(&self.db).await?;
        let found = order::Entity::find()
            .filter(order::Column::OrderId.eq(order_id))
            .one(&txn)
            .await?
            .ok_or(PaymentsError::OrderNotFound)?;
        let moved = order::Entity::update_many()
            .col_expr(order::Column::Status, Expr::value(OrderStatus::Refunded))
            .col_expr(order::Column::UpdatedAt, Expr::value(now))
            .filter(order::Column::Id.eq(found.id))
            .filter(order::Column::Status.eq(OrderStatus::Paid))
            .exec(&txn)
            .await?
            .rows_affected;
        if moved == 0 {
            txn.rollback().await?;
            // Read again: a refund racing this one may have moved it meanwhile.
            let status = order::Entity::find_by_id(found.id)
                .one(&self.db)
                .await?
                .map_or(found.status, |o| o.status);
            return Err(match status {
                OrderStatus::Refunded => PaymentsError::OrderAlreadyRefunded,
                _ => PaymentsError::OrderNotPaid,
            });
        }
        let user = UserId(found.user_id);
        let reversed = self
            .reverse_order_in(
                &txn,
                &found,
                format!("admin:{}", actor.0),
                Some(reason.to_owned()),
            )
            .await?;
        append_event(
            &txn,
            found.id,
            EventKind::Refunded,
            "admin",
            Some(OrderStatus::Refunded),
            Some(json!({"reason": reason, "by": actor.0, "reversed": reversed}).to_string()),
            now,
        )
        .await?;
        txn.commit().await?;
        self.audit(
            AuditEntry::new("payment.refunded")
                .actor(actor)
                .target(format!("order:{}", found.order_id))
                .details(json!({"user": user.0, "reason": reason, "reversed": reversed})),
        )
        .await;
        self.apply_on_router(user).await;
        let refunded = order::Model {
            status: OrderStatus::Refunded,
            updated_at: now,
            ..found
        };
        Ok(to_view(&refunded))
    }
}

impl Service {
    /// In the caller's transaction, for an order that has just moved from paid to refunded (by an
    /// admin, or by the provider's refund notification): quota's reversing ledger row, keyed
    /// `refund:<order id>`, never more than is unused. An order paid but never applied (no grant)
    /// has nothing to reverse. Returns whether anything was reversed.
    pub(crate) async fn reverse_order_in(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        order: &order::Model,
        actor: String,
        note: Option<String>,
    ) -> Result<bool, PaymentsError> {
        if order.applied_at.is_none() {
            return Ok(false);
        }
        Ok(self
            .quota
            .reverse_in(
                txn,
                &Reversal {
                    user: UserId(order.user_id),
                    bytes: order.quota_bytes,
                    validity_hours: i64::from(order.validity_hours),
                    unlimited: order.unlimited,
                    source: GrantSource::Refund,
                    idempotency_key: format!("refund:{}", order.order_id),
                    actor,
                    note,
                },
            )
            .await?)
    }
}
