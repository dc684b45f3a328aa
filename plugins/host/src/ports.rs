//! The kernel ports served by plugins: `Messenger` for messaging plugins, `PaymentGateway` for
//! payment plugins. The kernel's types and the protocol's have the same JSON shape on purpose;
//! webhooks are converted by hand because the protocol carries bodies as base64.

use async_trait::async_trait;
use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::messenger::MessageReceipt;
use lpsaring_kernel::ports::payment::{
    CreatePayment, PaymentCreated, PaymentEvent, PaymentStatus, RawWebhook,
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

    async fn parse_webhook(&self, webhook: &RawWebhook) -> Result<PaymentEvent, GatewayError> {
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
