//! The messenger used when no messaging plugin is configured: every send fails with a clear
//! reason, so a login says "could not send the code" instead of pretending it was sent.

use async_trait::async_trait;
use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::messenger::{
    GatewayError, GatewayErrorKind, MessageReceipt, Messenger,
};

#[derive(Debug, Default)]
pub struct NoMessenger;

fn refused() -> GatewayError {
    GatewayError::new(
        GatewayErrorKind::Permanent,
        "messaging_not_configured",
        "no messaging plugin is configured: set [messaging] plugin in the settings",
    )
}

#[async_trait]
impl Messenger for NoMessenger {
    fn name(&self) -> &str {
        "none"
    }

    async fn send_text(&self, _to: &Phone, _text: &str) -> Result<MessageReceipt, GatewayError> {
        Err(refused())
    }

    async fn send_document(
        &self,
        _to: &Phone,
        _caption: &str,
        _url: &str,
        _filename: &str,
    ) -> Result<MessageReceipt, GatewayError> {
        Err(refused())
    }
}
