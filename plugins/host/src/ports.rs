//! The kernel ports served by plugins: `Messenger` for messaging plugins, `PaymentGateway` for
//! payment plugins. The kernel's types and the protocol's have the same JSON shape on purpose;
//! webhooks are converted by hand because the protocol carries bodies as base64.

use async_trait::async_trait;
use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::messenger::MessageReceipt;
use lpsaring_kernel::ports::payment::{
    CreatePayment, ParsedWebhook, PaymentCreated, PaymentEvent, PaymentStatus, RawWebhook,
};
use lpsaring_kernel::ports::{GatewayError, GatewayErrorKind, Messenger, PaymentGateway};
use lpsaring_plugin_api::{
    MessageSent, PaymentStatusQuery, SendDocument, SendText, SimulateWebhook, Webhook, ops,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::runtime::PluginRuntime;

fn to_input(value: impl Serialize) -> Result<Value, GatewayError> {
    serde_json::to_value(value).map_err(|e| {
        GatewayError::new(GatewayErrorKind::InvalidInput, "HOST_ENCODE", e.to_string())
    })
}

fn from_output<T: DeserializeOwned>(
    plugin: &str,
    op: &str,
    value: Value,
) -> Result<T, GatewayError> {
    serde_json::from_value(value).map_err(|e| {
        GatewayError::new(
            GatewayErrorKind::Permanent,
            "PLUGIN_BAD_OUTPUT",
            format!("plugin `{plugin}` answered `{op}` with an unexpected result: {e}"),
        )
    })
}

/// A messaging plugin serving the kernel's `Messenger` port.
#[derive(Debug)]
pub(crate) struct PluginMessenger {
    pub(crate) runtime: PluginRuntime,
}

#[async_trait]
impl Messenger for PluginMessenger {
    fn name(&self) -> &str {
        self.runtime.name()
    }

    async fn send_text(&self, to: &Phone, text: &str) -> Result<MessageReceipt, GatewayError> {
        let input = to_input(SendText {
            to: to.as_str().to_owned(),
            text: text.to_owned(),
        })?;
        let out = self.runtime.run(ops::SEND_TEXT, input).await?;
        let sent: MessageSent = from_output(self.name(), ops::SEND_TEXT, out)?;
        Ok(MessageReceipt {
            provider_id: sent.provider_id,
        })
    }

    async fn send_document(
        &self,
        to: &Phone,
        caption: &str,
        url: &str,
        filename: &str,
    ) -> Result<MessageReceipt, GatewayError> {
        let input = to_input(SendDocument {
            to: to.as_str().to_owned(),
            caption: caption.to_owned(),
            url: url.to_owned(),
            filename: filename.to_owned(),
        })?;
        let out = self.runtime.run(ops::SEND_DOCUMENT, input).await?;
        let sent: MessageSent = from_output(self.name(), ops::SEND_DOCUMENT, out)?;
        Ok(MessageReceipt {
            provider_id: sent.provider_id,
        })
    }
}

/// A payment plugin serving the kernel's `PaymentGateway` port.
#[derive(Debug)]
pub(crate) struct PluginPaymentGateway {
    pub(crate) runtime: PluginRuntime,
}

#[async_trait]
impl PaymentGateway for PluginPaymentGateway {
    fn name(&self) -> &str {
        self.runtime.name()
    }

    async fn create_payment(&self, order: &CreatePayment) -> Result<PaymentCreated, GatewayError> {
        let out = self
            .runtime
            .run(ops::CREATE_PAYMENT, to_input(order)?)
            .await?;
        from_output(self.name(), ops::CREATE_PAYMENT, out)
    }

    async fn payment_status(&self, order_id: &str) -> Result<PaymentEvent, GatewayError> {
        let input = to_input(PaymentStatusQuery {
            order_id: order_id.to_owned(),
        })?;
        let out = self.runtime.run(ops::PAYMENT_STATUS, input).await?;
        from_output(self.name(), ops::PAYMENT_STATUS, out)
    }

    async fn parse_webhook(&self, webhook: &RawWebhook) -> Result<ParsedWebhook, GatewayError> {
        let input = to_input(Webhook {
            headers: webhook.headers.clone(),
            body: webhook.body.clone(),
        })?;
        let out = self.runtime.run(ops::PARSE_WEBHOOK, input).await?;
        from_output(self.name(), ops::PARSE_WEBHOOK, out)
    }

    async fn simulate_webhook(
        &self,
        order_id: &str,
        outcome: PaymentStatus,
        gross_amount: i64,
    ) -> Result<RawWebhook, GatewayError> {
        // Never ask a real provider's plugin to forge a notification, whatever it implements.
        if !self.runtime.manifest.development_only {
            return Err(GatewayError::new(
                GatewayErrorKind::Permanent,
                "NOT_SUPPORTED",
                format!(
                    "`{}` is not a development provider; only those simulate webhooks",
                    self.name()
                ),
            ));
        }
        let outcome = from_output(self.name(), ops::SIMULATE_WEBHOOK, to_input(outcome)?)?;
        let input = to_input(SimulateWebhook {
            order_id: order_id.to_owned(),
            outcome,
            gross_amount,
        })?;
        let out = self.runtime.run(ops::SIMULATE_WEBHOOK, input).await?;
        let webhook: Webhook = from_output(self.name(), ops::SIMULATE_WEBHOOK, out)?;
        Ok(RawWebhook {
            headers: webhook.headers,
            body: webhook.body,
        })
    }
}

#[cfg(test)]
mod tests {
    //! The payment types exist twice on purpose (the kernel's port and the MIT/Apache plugin
    //! protocol, which may not depend on the kernel) and cross the boundary as JSON. These
    //! round trips fail when one copy gains, loses or renames a field the other does not.

    use std::fmt::Debug;

    use lpsaring_kernel::ports::payment as kernel;
    use lpsaring_plugin_api as api;
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::json;

    /// `value` → JSON → the other side's type → JSON is the same JSON, and back again is
    /// the same value.
    fn mirrors<T, U>(value: &T)
    where
        T: Serialize + DeserializeOwned + PartialEq + Debug,
        U: Serialize + DeserializeOwned,
    {
        let json = serde_json::to_value(value).unwrap();
        let other: U = serde_json::from_value(json.clone()).unwrap();
        let other_json = serde_json::to_value(&other).unwrap();
        assert_eq!(other_json, json, "{}", std::any::type_name::<U>());
        let back: T = serde_json::from_value(other_json).unwrap();
        assert_eq!(&back, value);
    }

    fn kernel_order(optional: bool) -> kernel::CreatePayment {
        kernel::CreatePayment {
            order_id: "V-20260101-0001".into(),
            amount: 20_000,
            item: kernel::PaymentItem {
                id: "plan-1d".into(),
                name: "1 hari".into(),
                price: 10_000,
                quantity: 2,
            },
            customer: kernel::Customer {
                name: "Budi".into(),
                phone: "+6281234567890".into(),
                email: optional.then(|| "budi@example.com".into()),
            },
            method: optional.then(|| "qris".into()),
            return_url: "https://portal.example/pay/done".into(),
            expiry_minutes: 60,
        }
    }

    fn api_created(optional: bool) -> api::PaymentCreated {
        let some = |v: &str| optional.then(|| v.to_owned());
        api::PaymentCreated {
            redirect_url: some("https://pay.example/x"),
            qr_string: some("000201010212"),
            va_number: some("8808123456"),
            bank: some("bca"),
            provider_ref: some("ref-1"),
        }
    }

    fn api_event(status: api::PaymentStatus, optional: bool) -> api::PaymentEvent {
        api::PaymentEvent {
            order_id: "V-20260101-0001".into(),
            status,
            gross_amount: 20_000,
            provider_ref: optional.then(|| "ref-1".into()),
            method: optional.then(|| "qris".into()),
            raw: json!({"transaction_status": "settlement", "nested": [1, 2]}),
        }
    }

    const STATUSES: [api::PaymentStatus; 6] = [
        api::PaymentStatus::Pending,
        api::PaymentStatus::Paid,
        api::PaymentStatus::Failed,
        api::PaymentStatus::Expired,
        api::PaymentStatus::Cancelled,
        api::PaymentStatus::Refunded,
    ];

    #[test]
    fn kernel_and_protocol_payment_types_share_one_json_shape() {
        for optional in [true, false] {
            // Host → plugin.
            mirrors::<kernel::CreatePayment, api::CreatePayment>(&kernel_order(optional));
            // Plugin → host.
            mirrors::<api::PaymentCreated, kernel::PaymentCreated>(&api_created(optional));
            for status in STATUSES {
                mirrors::<api::PaymentEvent, kernel::PaymentEvent>(&api_event(status, optional));
                let reply = optional.then(|| api::WebhookReply::json(&json!({"success": true})));
                mirrors::<api::ParsedWebhook, kernel::ParsedWebhook>(&api::ParsedWebhook {
                    event: api_event(status, optional),
                    reply,
                });
            }
        }
        for status in STATUSES {
            mirrors::<api::PaymentStatus, kernel::PaymentStatus>(&status);
        }
        // Every kernel status is one the protocol knows. The match is exhaustive: a new kernel
        // variant stops this test compiling until it is listed here and mirrored.
        let listed = |s: kernel::PaymentStatus| match s {
            kernel::PaymentStatus::Pending => 0,
            kernel::PaymentStatus::Paid => 1,
            kernel::PaymentStatus::Failed => 2,
            kernel::PaymentStatus::Expired => 3,
            kernel::PaymentStatus::Cancelled => 4,
            kernel::PaymentStatus::Refunded => 5,
        };
        for (i, status) in STATUSES.iter().enumerate() {
            let json = serde_json::to_value(status).unwrap();
            let theirs: kernel::PaymentStatus = serde_json::from_value(json).unwrap();
            assert_eq!(listed(theirs), i);
            mirrors::<kernel::PaymentStatus, api::PaymentStatus>(&theirs);
        }
    }
}
