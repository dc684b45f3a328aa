//! Payments' metrics: orders by state (sampled at scrape) and webhooks by plugin and outcome.

use async_trait::async_trait;
use lpsaring_kernel::metrics::Sampled;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, QuerySelect};

use crate::api::{EventOutcome, OrderStatus, WebhookReply};
use crate::entity::order;
use crate::error::PaymentsError;
use crate::events::status_word;
use crate::service::Service;

pub const ORDERS: &str = "lpsaring_payments_orders";
pub const WEBHOOKS: &str = "lpsaring_payments_webhooks_total";

pub fn describe() {
    metrics::describe_gauge!(ORDERS, "Payment orders by state.");
    metrics::describe_counter!(
        WEBHOOKS,
        "Payment notifications received, by plugin and outcome (paid, duplicate, bad_signature, ...)."
    );
}

fn outcome_word(outcome: EventOutcome) -> &'static str {
    match outcome {
        EventOutcome::Moved(status) => status_word(status),
        EventOutcome::LatePayment => "late_payment",
        EventOutcome::NoChange => "no_change",
        EventOutcome::Duplicate => "duplicate",
        EventOutcome::AmountMismatch => "amount_mismatch",
        EventOutcome::UnknownOrder => "unknown_order",
        EventOutcome::BadSignature => "bad_signature",
        EventOutcome::Malformed => "malformed",
    }
}

pub(crate) fn record_webhook(plugin: &str, result: &Result<WebhookReply, PaymentsError>) {
    let outcome = match result {
        Ok(reply) => outcome_word(reply.outcome),
        Err(_) => "error",
    };
    // Only configured plugins reach here (an unknown one is an error before any work).
    let plugin = if result.is_ok() { plugin } else { "unknown" };
    metrics::counter!(WEBHOOKS, "plugin" => plugin.to_owned(), "outcome" => outcome).increment(1);
}

#[async_trait]
impl Sampled for Service {
    async fn sample(&self) {
        let counts = order::Entity::find()
            .select_only()
            .column(order::Column::Status)
            .column_as(Expr::cust("COUNT(*)"), "n")
            .group_by(order::Column::Status)
            .into_tuple::<(OrderStatus, i64)>()
            .all(&self.db)
            .await;
        let counts = match counts {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "payment orders not sampled");
                return;
            }
        };
        for status in [
            OrderStatus::Pending,
            OrderStatus::Paid,
            OrderStatus::Failed,
            OrderStatus::Expired,
            OrderStatus::Cancelled,
            OrderStatus::Refunded,
        ] {
            let n = counts
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n);
            metrics::gauge!(ORDERS, "state" => status_word(status)).set(n as f64);
        }
    }
}
