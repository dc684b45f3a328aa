//! Outbound messages to users (one-time codes, quota notices, invoices) over WhatsApp or another
//! channel. A failed send is reported, never hidden: callers tell the user or retry from the outbox.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::Phone;

/// How a gateway failure should be handled by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayErrorKind {
    /// Try again later (timeouts, 5xx, provider throttling, breaker open).
    Retryable,
    /// Will fail again the same way (rejected number, bad template).
    Permanent,
    /// Credentials are wrong; an operator must act.
    Auth,
    /// Our input was malformed.
    InvalidInput,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{kind:?} gateway error {code}: {message}")]
pub struct GatewayError {
    pub kind: GatewayErrorKind,
    pub code: String,
    pub message: String,
}

impl GatewayError {
    pub fn new(
        kind: GatewayErrorKind,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.kind == GatewayErrorKind::Retryable
    }
}

/// Proof of a delivered message, as far as the provider tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageReceipt {
    /// The provider's message id, if it gives one.
    pub provider_id: Option<String>,
}

#[async_trait]
pub trait Messenger: Send + Sync {
    /// Name of the plugin serving this role (for logs and `/readyz`).
    fn name(&self) -> &str;

    async fn send_text(&self, to: &Phone, text: &str) -> Result<MessageReceipt, GatewayError>;

    /// A document by URL (invoices), with a caption.
    async fn send_document(
        &self,
        to: &Phone,
        caption: &str,
        url: &str,
        filename: &str,
    ) -> Result<MessageReceipt, GatewayError>;
}
