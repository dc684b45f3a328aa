//! `/pay/sandbox/{order_id}`: the development provider's checkout, on our own server. Pay and
//! Fail ask the sandbox plugin for a signed notification and feed it through the same webhook
//! pipeline a real provider's would take. Only orders of a development provider have one.

use lpsaring_kernel::ports::payment::PaymentStatus;
use lpsaring_kernel::ui::escape;
use lpsaring_kernel::{Lang, Text};

use crate::api::{OrderStatus, OrderView, WebhookReply};
use crate::entity::order;
use crate::error::PaymentsError;
use crate::events::rupiah;
use crate::orders::to_view;
use crate::service::{Gateway, Service};

const TITLE: Text = Text::new("Checkout sandbox", "Sandbox checkout");
const NOTE: Text = Text::new(
    "Penyedia pembayaran pengembangan: tidak ada uang yang berpindah.",
    "Development payment provider: no money moves.",
);
const PAY: Text = Text::new("Bayar", "Pay");
const FAIL: Text = Text::new("Gagalkan", "Fail");
const STATUS: Text = Text::new("Status", "Status");

impl Service {
    async fn sandbox_order(
        &self,
        order_id: &str,
    ) -> Result<(order::Model, Gateway), PaymentsError> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let m = order::Entity::find()
            .filter(order::Column::OrderId.eq(order_id))
            .one(&self.db)
            .await?
            .ok_or(PaymentsError::OrderNotFound)?;
        let gateway = m
            .provider
            .as_deref()
            .and_then(|p| self.gateway(p))
            .filter(|g| g.development_only)
            .cloned()
            .ok_or(PaymentsError::OrderNotFound)?;
        Ok((m, gateway))
    }

    /// The order behind a sandbox checkout page.
    pub async fn sandbox_checkout(&self, order_id: &str) -> Result<OrderView, PaymentsError> {
        self.sandbox_order(order_id).await.map(|(m, _)| to_view(&m))
    }

    /// Pay (or fail) a sandbox order: a signed notification through the webhook pipeline.
    pub async fn sandbox_outcome(
        &self,
        order_id: &str,
        paid: bool,
    ) -> Result<WebhookReply, PaymentsError> {
        let (m, gateway) = self.sandbox_order(order_id).await?;
        let outcome = if paid {
            PaymentStatus::Paid
        } else {
            PaymentStatus::Failed
        };
        let webhook = gateway
            .port
            .simulate_webhook(&m.order_id, outcome, m.amount)
            .await
            .map_err(|e| PaymentsError::GatewayUnavailable(e.to_string()))?;
        let name = gateway.port.name().to_owned();
        self.handle_webhook(&name, webhook, None).await
    }
}

/// The checkout page's body: the order and, while it is pending, the two buttons.
pub(crate) fn checkout_html(lang: Lang, order: &OrderView) -> String {
    let status = serde_json::to_value(order.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let buttons = if order.status == OrderStatus::Pending {
        let action = format!("/pay/sandbox/{}", escape(&order.order_id));
        format!(
            "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"outcome\" value=\"paid\"><button class=\"btn\" type=\"submit\">{}</button></form>\
             <form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"outcome\" value=\"failed\"><button class=\"btn secondary\" type=\"submit\">{}</button></form>",
            PAY.get(lang),
            FAIL.get(lang)
        )
    } else {
        String::new()
    };
    format!(
        "<div class=\"card\"><h1>{}</h1><p class=\"muted\">{}</p><p><strong>{}</strong></p><p>{}</p><p>{}: <strong id=\"status\">{}</strong></p><p class=\"muted\">{}</p>{buttons}</div>",
        TITLE.get(lang),
        NOTE.get(lang),
        escape(&order.package_name),
        rupiah(order.amount),
        STATUS.get(lang),
        escape(&status),
        escape(&order.order_id),
    )
}

pub(crate) fn title(lang: Lang) -> &'static str {
    TITLE.get(lang)
}
