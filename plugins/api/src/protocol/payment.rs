//! The payment port's messages: creating a payment, asking its status, and the provider's
//! webhooks (parsed, answered, simulated).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{PluginError, find_header};
use crate::encoding::base64_bytes;

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
    #[serde(default)]
    pub email: Option<String>,
}

/// `create_payment` input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePayment {
    /// Our unique id for this payment attempt; providers dedupe on it.
    pub order_id: String,
    /// Integer rupiah; equals `item.price * item.quantity`.
    pub amount: i64,
    pub item: PaymentItem,
    pub customer: Customer,
    /// Provider-specific method hint (`qris`, `bca_va`, …); `None` lets the provider offer all.
    #[serde(default)]
    pub method: Option<String>,
    /// Where the provider sends the user back after paying.
    #[serde(default)]
    pub return_url: String,
    pub expiry_minutes: u32,
}

/// `create_payment` result: what the user needs to pay.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaymentCreated {
    #[serde(default)]
    pub redirect_url: Option<String>,
    #[serde(default)]
    pub qr_string: Option<String>,
    #[serde(default)]
    pub va_number: Option<String>,
    #[serde(default)]
    pub bank: Option<String>,
    #[serde(default)]
    pub provider_ref: Option<String>,
}

/// `payment_status` input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentStatusQuery {
    pub order_id: String,
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

/// A verified statement from the provider about one order (`payment_status`, `parse_webhook`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentEvent {
    pub order_id: String,
    pub status: PaymentStatus,
    /// Integer rupiah as the provider reports it.
    pub gross_amount: i64,
    #[serde(default)]
    pub provider_ref: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    /// The provider's payload, kept for the event log.
    #[serde(default)]
    pub raw: Value,
}

/// What the host answers a provider whose notification the plugin verified (HTTP 200 with this
/// body), when the provider expects something particular: Tripay wants `{"success": true}`.
/// Answers to refused notifications (bad signature, malformed) stay the host's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookReply {
    /// Sent as is.
    pub body: String,
    /// Default `application/json`.
    #[serde(default = "json_content_type")]
    pub content_type: String,
}

fn json_content_type() -> String {
    "application/json".to_owned()
}

impl WebhookReply {
    /// A JSON body.
    pub fn json(body: &Value) -> Self {
        Self {
            body: body.to_string(),
            content_type: json_content_type(),
        }
    }
    /// A plain-text body.
    pub fn text(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            content_type: "text/plain; charset=utf-8".to_owned(),
        }
    }
}

/// `parse_webhook` result: the verified event (its fields at the top level) and, optionally,
/// the reply the provider expects. Added after version 1 without a version change: a plugin
/// that answers a bare [`PaymentEvent`] gets the host's default reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedWebhook {
    #[serde(flatten)]
    pub event: PaymentEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<WebhookReply>,
}

/// `parse_webhook` input and `simulate_webhook` result: an HTTP request exactly as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Base64 in JSON; signatures are checked on these exact bytes.
    #[serde(default, with = "base64_bytes")]
    pub body: Vec<u8>,
}

impl Webhook {
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// `simulate_webhook` input (development providers only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulateWebhook {
    pub order_id: String,
    pub outcome: PaymentStatus,
    /// Integer rupiah the simulated notification reports.
    #[serde(default)]
    pub gross_amount: i64,
}

/// Parses a provider amount written as an integer or a decimal string (`"10000.00"`) into
/// integer rupiah. Fractions other than zero are refused rather than rounded.
pub fn parse_rupiah(value: &Value) -> Result<i64, PluginError> {
    let bad =
        || PluginError::invalid_input("BAD_AMOUNT", format!("amount {value} is not whole rupiah"));
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(bad),
        Value::String(s) => {
            let (whole, fraction) = s.split_once('.').unwrap_or((s.as_str(), ""));
            if !fraction.bytes().all(|b| b == b'0') {
                return Err(bad());
            }
            whole.parse().map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Step;
    use serde_json::json;

    #[test]
    fn a_parsed_webhook_is_an_event_with_an_optional_reply() {
        let event = json!({"order_id": "V-1", "status": "paid", "gross_amount": 10000,
            "raw": {"a": 1}});
        // A plugin built before `reply` answers the bare event: no reply, the host's default.
        let old: ParsedWebhook = serde_json::from_value(event.clone()).unwrap();
        assert_eq!(old.event.order_id, "V-1");
        assert_eq!(old.reply, None);
        assert_eq!(serde_json::to_value(&old).unwrap()["order_id"], "V-1");
        assert!(serde_json::to_value(&old).unwrap().get("reply").is_none());
        // A reply without a content type is JSON.
        let mut with = event;
        with["reply"] = json!({"body": "{\"success\":true}"});
        let new: ParsedWebhook = serde_json::from_value(with).unwrap();
        assert_eq!(
            new.reply,
            Some(WebhookReply::json(&json!({"success": true})))
        );
        assert_eq!(
            WebhookReply::text("OK").content_type,
            "text/plain; charset=utf-8"
        );
        let step: Step<i32> = Step::Done(2);
        assert_eq!(step.map(|n| n * 2), Step::Done(4));
    }

    #[test]
    fn amounts_parse_strictly() {
        assert_eq!(parse_rupiah(&json!("10000.00")).unwrap(), 10000);
        assert_eq!(parse_rupiah(&json!(10000)).unwrap(), 10000);
        assert_eq!(parse_rupiah(&json!("10000")).unwrap(), 10000);
        assert!(parse_rupiah(&json!("10000.50")).is_err());
        assert!(parse_rupiah(&json!("ten")).is_err());
        assert!(parse_rupiah(&json!(null)).is_err());
    }
}
