//! Verified statements about orders (webhooks and status checks) and the exactly-once apply of
//! a paid order.
//!
//! One SQL transaction per statement: the event row (a webhook's duplicate is recognised by its
//! key and changes nothing), the forward-only move (a compare-and-set on the old status, so two
//! statements racing for one order move it once), and for a paid order the quota grant keyed
//! `order:<id>` (quota's `grant_in`, unique) and the purchase confirmation in the outbox. The
//! router is updated after the commit by quota's per-user apply; if it fails, the order stays
//! paid and the next sync enforces it.

use chrono::{DateTime, Utc};
use lpsaring_kernel::outbox::{OutboxMessage, enqueue_many};
use lpsaring_kernel::ports::GatewayErrorKind;
use lpsaring_kernel::ports::audit::AuditEntry;
use lpsaring_kernel::ports::payment::{
    PaymentEvent, PaymentStatus, RawWebhook, WebhookReply as ProviderReply,
};
use lpsaring_kernel::sql::begin_write;
use lpsaring_kernel::{Phone, UserId};
use lpsaring_quota::api::{Grant, GrantSource};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::api::{EventKind, EventOutcome, OrderStatus, WebhookReply};
use crate::entity::{event, order};
use crate::error::PaymentsError;
use crate::orders::append_event;
use crate::service::Service;
use crate::state::{Transition, transition};

/// Attempts of one statement against an order other statements keep moving.
const MAX_RACES: usize = 5;

pub(crate) fn from_port(status: PaymentStatus) -> OrderStatus {
    match status {
        PaymentStatus::Pending => OrderStatus::Pending,
        PaymentStatus::Paid => OrderStatus::Paid,
        PaymentStatus::Failed => OrderStatus::Failed,
        PaymentStatus::Expired => OrderStatus::Expired,
        PaymentStatus::Cancelled => OrderStatus::Cancelled,
        PaymentStatus::Refunded => OrderStatus::Refunded,
    }
}

/// One verified statement and where it came from.
pub(crate) struct Statement<'a> {
    pub event: &'a PaymentEvent,
    pub kind: EventKind,
    /// The plugin that verified it.
    pub source: &'a str,
    /// Webhooks only: the same notification delivered again carries the same key.
    pub dedup_key: Option<String>,
}

/// `Rp 50.000`.
pub(crate) fn rupiah(amount: i64) -> String {
    lpsaring_kernel::ui::format::rupiah(amount)
}

/// The key that recognises a provider's repeated delivery of one notification.
fn dedup_key(plugin: &str, body: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(body));
    format!("{plugin}:{}", &digest[..48])
}

/// The answer to the provider: for a notification the plugin verified, the body its plugin
/// says the provider expects; otherwise (and for plugins that say nothing) our own JSON.
fn reply(status: u16, outcome: EventOutcome, expected: Option<ProviderReply>) -> WebhookReply {
    if let (200, Some(expected)) = (status, expected) {
        return WebhookReply {
            status,
            body: expected.body,
            content_type: expected.content_type,
            outcome,
        };
    }
    let body = if status == 200 {
        json!({"success": true, "status": "ok"})
    } else {
        json!({"success": false, "status": "error"})
    };
    WebhookReply {
        status,
        body: body.to_string(),
        content_type: "application/json".to_owned(),
        outcome,
    }
}

impl Service {
    /// A webhook as received at `/api/payments/webhook/{plugin}`: the plugin verifies and
    /// parses it, then [`Self::apply_statement`]. Bad signature → 403 and an audit entry;
    /// unknown order → 200 and an audit entry (the provider would retry forever); duplicate,
    /// late or backwards → 200, no change; amount mismatch → 200, flagged, not applied.
    pub async fn handle_webhook(
        &self,
        plugin: &str,
        webhook: RawWebhook,
        ip: Option<String>,
    ) -> Result<WebhookReply, PaymentsError> {
        let result = self.receive_webhook(plugin, webhook, ip).await;
        crate::metrics::record_webhook(plugin, &result);
        result
    }

    async fn receive_webhook(
        &self,
        plugin: &str,
        webhook: RawWebhook,
        ip: Option<String>,
    ) -> Result<WebhookReply, PaymentsError> {
        let gateway = self
            .gateway(plugin)
            .ok_or_else(|| PaymentsError::UnknownPlugin(plugin.to_owned()))?;
        let (event, expected) = match gateway.port.parse_webhook(&webhook).await {
            Ok(parsed) => (parsed.event, parsed.reply),
            Err(e) if e.code == "BAD_SIGNATURE" || e.kind == GatewayErrorKind::Auth => {
                self.audit(
                    AuditEntry::new("payment.webhook_bad_signature")
                        .target(format!("plugin:{plugin}"))
                        .details(json!({"code": e.code, "message": e.message}))
                        .ip(ip),
                )
                .await;
                return Ok(reply(403, EventOutcome::BadSignature, None));
            }
            Err(e)
                if e.kind == GatewayErrorKind::InvalidInput
                    || e.kind == GatewayErrorKind::Permanent =>
            {
                tracing::warn!(plugin, code = %e.code, "malformed payment notification refused");
                return Ok(reply(400, EventOutcome::Malformed, None));
            }
            // The plugin call itself failed: let the provider retry.
            Err(e) => {
                tracing::warn!(plugin, error = %e, "payment notification could not be parsed now");
                return Ok(reply(503, EventOutcome::Malformed, None));
            }
        };
        let statement = Statement {
            event: &event,
            kind: EventKind::Notification,
            source: plugin,
            dedup_key: Some(dedup_key(plugin, &webhook.body)),
        };
        let outcome = self.apply_statement(&statement).await?;
        match outcome {
            EventOutcome::UnknownOrder => {
                self.audit(
                    AuditEntry::new("payment.webhook_unknown_order")
                        .target(format!("order:{}", event.order_id))
                        .details(json!({"plugin": plugin, "status": event.status, "gross_amount": event.gross_amount}))
                        .ip(ip),
                )
                .await;
            }
            EventOutcome::AmountMismatch => {
                self.audit(
                    AuditEntry::new("payment.amount_mismatch")
                        .target(format!("order:{}", event.order_id))
                        .details(json!({"plugin": plugin, "gross_amount": event.gross_amount}))
                        .ip(ip),
                )
                .await;
            }
            EventOutcome::LatePayment => {
                self.audit(
                    AuditEntry::new("payment.late_payment")
                        .target(format!("order:{}", event.order_id))
                        .details(json!({"plugin": plugin}))
                        .ip(ip),
                )
                .await;
            }
            _ => {}
        }
        Ok(reply(200, outcome, expected))
    }

    /// Applies one verified statement (see the module docs). Returns what it did. When another
    /// statement moved the order between our read and our write, ours is rolled back (its
    /// de-duplication key with it) and judged again against the new state: a paid notification
    /// racing a cancel must become a late payment, not a lost one.
    pub(crate) async fn apply_statement(
        &self,
        st: &Statement<'_>,
    ) -> Result<EventOutcome, PaymentsError> {
        let _order = self.order_locks.lock(&st.event.order_id).await;
        if self.already_recorded(st).await? {
            return Ok(EventOutcome::Duplicate);
        }
        for _ in 0..MAX_RACES {
            if let Some(outcome) = self.try_statement(st).await? {
                return Ok(outcome);
            }
        }
        tracing::warn!(order = %st.event.order_id, "statement kept losing races; left to reconciliation");
        Ok(EventOutcome::NoChange)
    }

    /// A repeated delivery, recognised by a read: no write lock taken for what changes nothing.
    /// The unique key still decides in the write transaction when another process raced us.
    async fn already_recorded(&self, st: &Statement<'_>) -> Result<bool, PaymentsError> {
        let Some(key) = &st.dedup_key else {
            return Ok(false);
        };
        let found = event::Entity::find()
            .filter(event::Column::DedupKey.eq(key.as_str()))
            .one(&self.db)
            .await?;
        Ok(found.is_some())
    }

    /// One attempt; `None` when the order moved under us (nothing was written).
    async fn try_statement(
        &self,
        st: &Statement<'_>,
    ) -> Result<Option<EventOutcome>, PaymentsError> {
        let now = self.clock.now();
        let reported = from_port(st.event.status);
        let txn = begin_write(&self.db).await?;
        let found = order::Entity::find()
            .filter(order::Column::OrderId.eq(st.event.order_id.as_str()))
            .one(&txn)
            .await?;
        // An order of another provider is not this provider's to confirm.
        let Some(order) = found.filter(|o| o.provider.as_deref() == Some(st.source)) else {
            txn.rollback().await?;
            return Ok(Some(EventOutcome::UnknownOrder));
        };
        let appended = event::Entity::insert(event::ActiveModel {
            id: NotSet,
            transaction_id: Set(order.id),
            kind: Set(st.kind),
            source: Set(st.source.chars().take(50).collect()),
            status: Set(Some(reported)),
            dedup_key: Set(st.dedup_key.clone()),
            payload: Set(serde_json::to_string(&st.event.raw).ok()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(event::Column::DedupKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if appended == 0 {
            txn.rollback().await?;
            return Ok(Some(EventOutcome::Duplicate));
        }
        if reported == OrderStatus::Paid && st.event.gross_amount != order.amount {
            let reason = format!(
                "amount mismatch: the provider reported {}, the order is {}",
                st.event.gross_amount, order.amount
            );
            order::Entity::update_many()
                .col_expr(order::Column::Flagged, Expr::value(true))
                .col_expr(order::Column::FlagReason, Expr::value(reason))
                .col_expr(order::Column::UpdatedAt, Expr::value(now))
                .filter(order::Column::Id.eq(order.id))
                .exec(&txn)
                .await?;
            append_event(
                &txn,
                order.id,
                EventKind::AmountMismatch,
                st.source,
                Some(reported),
                None,
                now,
            )
            .await?;
            txn.commit().await?;
            return Ok(Some(EventOutcome::AmountMismatch));
        }
        let (next, late) = match transition(order.status, reported) {
            Transition::Stay => {
                txn.commit().await?;
                return Ok(Some(EventOutcome::NoChange));
            }
            Transition::Move(next) => (next, false),
            Transition::LatePayment => (OrderStatus::Paid, true),
        };
        let mut update = order::Entity::update_many()
            .col_expr(order::Column::Status, Expr::value(next))
            .col_expr(
                order::Column::NextCheckAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(order::Column::UpdatedAt, Expr::value(now));
        if next == OrderStatus::Paid {
            update = update.col_expr(order::Column::PaidAt, Expr::value(now));
        }
        if late {
            update = update
                .col_expr(order::Column::Flagged, Expr::value(true))
                .col_expr(
                    order::Column::FlagReason,
                    Expr::value(format!("paid after it was {}", status_word(order.status))),
                );
        }
        if let Some(reference) = &st.event.provider_ref {
            update = update.col_expr(order::Column::ProviderRef, Expr::value(reference.clone()));
        }
        let moved = update
            .filter(order::Column::Id.eq(order.id))
            .filter(order::Column::Status.eq(order.status))
            .exec(&txn)
            .await?
            .rows_affected;
        if moved == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        if late {
            append_event(
                &txn,
                order.id,
                EventKind::LatePayment,
                st.source,
                Some(next),
                None,
                now,
            )
            .await?;
        }
        if next == OrderStatus::Paid {
            self.write_grant(&txn, &order, now).await?;
        }
        // The provider refunded a paid order: the quota it bought goes back with it.
        let refunded = next == OrderStatus::Refunded
            && self
                .reverse_order_in(&txn, &order, format!("plugin:{}", st.source), None)
                .await?;
        txn.commit().await?;
        if next == OrderStatus::Paid || refunded {
            self.apply_on_router(UserId(order.user_id)).await;
        }
        Ok(Some(if late {
            EventOutcome::LatePayment
        } else {
            EventOutcome::Moved(next)
        }))
    }

    /// In the caller's transaction: the quota grant keyed `order:<id>`, `applied_at`, and the
    /// purchase confirmation in the outbox.
    pub(crate) async fn write_grant(
        &self,
        txn: &impl ConnectionTrait,
        order: &order::Model,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentsError> {
        let grant = Grant {
            mode: self.settings.validity,
            unlimited: order.unlimited,
            profile: order.hotspot_profile.clone(),
            note: Some(order.package_name.clone()),
            ..Grant::new(
                UserId(order.user_id),
                order.quota_bytes,
                i64::from(order.validity_hours),
                GrantSource::Purchase,
                format!("order:{}", order.order_id),
                "payments",
            )
        };
        self.quota.grant_in(txn, &grant).await?;
        order::Entity::update_many()
            .col_expr(order::Column::AppliedAt, Expr::value(now))
            .filter(order::Column::Id.eq(order.id))
            .exec(txn)
            .await?;
        if let Some(phone) = order
            .buyer_phone
            .as_deref()
            .and_then(|p| Phone::parse(p).ok())
        {
            let (_, url) = self.status_link(&order.order_id);
            let body = format!(
                "Pembayaran {} diterima. Paket {} ({}) sudah aktif. Status: {url}",
                order.order_id,
                order.package_name,
                rupiah(order.amount)
            );
            let message = OutboxMessage {
                dedup_key: format!("payment:paid:{}", order.order_id),
                recipient: phone,
                body,
            };
            enqueue_many(txn, &[message], now).await?;
        }
        Ok(())
    }

    /// The router side of a grant, after the commit. A failure leaves the order paid: the next
    /// sync enforces it.
    pub(crate) async fn apply_on_router(&self, user: UserId) {
        if let Err(e) = self.quota.apply_user(user).await {
            tracing::warn!(user = user.0, error = %e, "order paid; the router update waits for the next sync");
        }
    }
}

/// The order state as stored and as labelled in metrics.
pub(crate) fn status_word(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "pending",
        OrderStatus::Paid => "paid",
        OrderStatus::Failed => "failed",
        OrderStatus::Expired => "expired",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Refunded => "refunded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(rupiah(50_000), "Rp 50.000");
        assert_eq!(rupiah(1_500_000), "Rp 1.500.000");
        assert_eq!(rupiah(500), "Rp 500");
        assert_eq!(dedup_key("p", b"x"), dedup_key("p", b"x"));
        assert_ne!(dedup_key("p", b"x"), dedup_key("p", b"y"));
        assert!(dedup_key(&"p".repeat(50), b"x").len() <= 128);
    }
}
