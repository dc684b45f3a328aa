//! Payment providers (Midtrans, Xendit, the development sandbox). The payments module creates
//! orders and applies verified events; the provider only moves money and signs notifications.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::messenger::GatewayError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentItem {
    pub id: String,
    pub name: String,
    /// Integer rupiah.
    pub price: i64,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub name: String,
    /// E.164.
    pub phone: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePayment {
    pub order_id: String,
    /// Integer rupiah.
    pub amount: i64,
    pub item: PaymentItem,
    pub customer: Customer,
    /// Provider-specific method hint (`qris`, `bca_va`, …); `None` lets the provider offer all.
    pub method: Option<String>,
    pub return_url: String,
    pub expiry_minutes: u32,
}

/// What the user needs to pay: any of a redirect, a QR string or a VA number.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaymentCreated {
    pub redirect_url: Option<String>,
    pub qr_string: Option<String>,
    pub va_number: Option<String>,
    pub bank: Option<String>,
    pub provider_ref: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    Expired,
    Cancelled,
    Refunded,
}

/// A verified statement from the provider about one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentEvent {
    pub order_id: String,
    pub status: PaymentStatus,
    /// Integer rupiah as the provider reports it.
    pub gross_amount: i64,
    pub provider_ref: Option<String>,
    pub method: Option<String>,
    /// The provider's payload, kept for the transaction's event log.
    pub raw: serde_json::Value,
}

/// The HTTP 200 answer a provider expects to a notification that was verified (Tripay wants
/// `{"success": true}`), as its plugin says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookReply {
    pub body: String,
    #[serde(default = "json_content_type")]
    pub content_type: String,
}

fn json_content_type() -> String {
    "application/json".to_owned()
}

/// A verified notification: the event, and the reply its provider expects (`None`: the
/// portal's default answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedWebhook {
    #[serde(flatten)]
    pub event: PaymentEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<WebhookReply>,
}

/// An inbound HTTP request as received, handed to the provider to verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawWebhook {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[async_trait]
pub trait PaymentGateway: Send + Sync {
    fn name(&self) -> &str;

    async fn create_payment(&self, order: &CreatePayment) -> Result<PaymentCreated, GatewayError>;

    /// Asks the provider for the order's current status (reconciliation).
    async fn payment_status(&self, order_id: &str) -> Result<PaymentEvent, GatewayError>;

    /// Verifies a notification's signature and parses it, with the reply the provider expects.
    /// A bad signature is an error.
    async fn parse_webhook(&self, webhook: &RawWebhook) -> Result<ParsedWebhook, GatewayError>;

    /// Development providers only: a correctly signed notification for `order_id` reporting
    /// `outcome` and `gross_amount` (integer rupiah, so the amount check on the event passes).
    /// Real providers answer a `Permanent` `NOT_SUPPORTED` error.
    async fn simulate_webhook(
        &self,
        order_id: &str,
        outcome: PaymentStatus,
        gross_amount: i64,
    ) -> Result<RawWebhook, GatewayError>;
}
