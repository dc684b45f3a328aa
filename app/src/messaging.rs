//! The messenger used when no messaging plugin is configured: every send fails with a clear
//! reason, so a login says "could not send the code" instead of pretending it was sent; and
//! `/readyz`'s `messaging`, which says which plugin sends, or that none does.

use async_trait::async_trait;
use lpsaring_kernel::Phone;
use lpsaring_kernel::health::{Check, Health};
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

/// `/readyz`'s `messaging`: the plugin that sends one-time codes and notices, degraded when none
/// is configured (logins by code cannot work). The plugin's own state is under `plugins`.
pub struct MessagingHealth(pub Option<String>);

#[async_trait]
impl Health for MessagingHealth {
    fn name(&self) -> &'static str {
        "messaging"
    }

    async fn check(&self) -> Check {
        match &self.0 {
            Some(plugin) => Check::ok(format!("plugin {plugin}")),
            None => Check::degraded("no messaging plugin configured: codes cannot be sent"),
        }
    }
}
