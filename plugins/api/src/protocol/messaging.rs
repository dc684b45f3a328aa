//! The messaging port's messages: `send_text`, `send_document` and their answer.

use serde::{Deserialize, Serialize};

use super::PluginError;

/// `send_text` input. `to` is E.164 with a leading `+` (`+6281234567890`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendText {
    pub to: String,
    pub text: String,
}

/// `send_document` input: a document the provider fetches from `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendDocument {
    pub to: String,
    #[serde(default)]
    pub caption: String,
    pub url: String,
    pub filename: String,
}

/// Result of `send_text` and `send_document`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MessageSent {
    /// The provider's message id, if it gives one.
    #[serde(default)]
    pub provider_id: Option<String>,
}

/// E.164 digits without the `+` (`6281234567890`), the form most Indonesian gateways want.
pub fn phone_digits(e164: &str) -> Result<String, PluginError> {
    let digits = e164.strip_prefix('+').unwrap_or(e164);
    if digits.len() < 8 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PluginError::invalid_input(
            "BAD_PHONE",
            format!("{e164:?} is not an E.164 number"),
        ));
    }
    Ok(digits.to_owned())
}
