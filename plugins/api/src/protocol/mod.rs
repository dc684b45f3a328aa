//! The JSON messages, protocol version [`PROTOCOL_VERSION`].
//!
//! Compatibility rules: unknown fields are ignored on both sides and every field added after
//! version 1 is optional (`#[serde(default)]`), so an older plugin keeps working with a newer host
//! and the other way round. HTTP bodies travel as standard base64 strings (RFC 4648, padded),
//! headers as `[name, value]` pairs in order (names may repeat).
//!
//! Every call carries a [`CallEnvelope`]; every answer is a [`Step`]. The `manifest` operation
//! answers `Step::Done(Manifest)`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::encoding::base64_bytes;

mod messaging;
mod payment;

pub use messaging::*;
pub use payment::*;

/// Version of the JSON protocol. A host refuses a plugin whose manifest says a newer one.
pub const PROTOCOL_VERSION: u32 = 1;

/// Operation names.
pub mod ops {
    pub const MANIFEST: &str = "manifest";
    pub const SEND_TEXT: &str = "send_text";
    pub const SEND_DOCUMENT: &str = "send_document";
    pub const CREATE_PAYMENT: &str = "create_payment";
    pub const PAYMENT_STATUS: &str = "payment_status";
    pub const PARSE_WEBHOOK: &str = "parse_webhook";
    pub const SIMULATE_WEBHOOK: &str = "simulate_webhook";
}

// ---------------------------------------------------------------------------------------------
// Envelope and steps
// ---------------------------------------------------------------------------------------------

/// What the host sends with every call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallEnvelope<I = Value> {
    /// The host's [`PROTOCOL_VERSION`].
    #[serde(default)]
    pub protocol: u32,
    #[serde(flatten)]
    pub context: CallContext,
    /// The operation's input (`null` for `manifest`).
    #[serde(default)]
    pub input: I,
}

/// Everything about a call except the operation's own input.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CallContext {
    /// Current time, RFC 3339 UTC with whole seconds: `2026-01-01T00:00:00Z`. Plugins never read a
    /// clock themselves, so they stay reproducible in tests.
    #[serde(default)]
    pub now: String,
    /// The same instant in Unix seconds.
    #[serde(default)]
    pub now_unix: i64,
    /// The plugin's table `[plugins.<name>]` from the operator's settings.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// Facts about the host installation plugins may need for defaults.
    #[serde(default)]
    pub host: HostInfo,
    /// Set when the host performed the request of a previous [`Step::Http`] of this operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
}

/// Facts about the installation, passed so plugins need no settings of their own for them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostInfo {
    /// The portal's data directory (the console plugin writes `outbox.jsonl` there).
    #[serde(default)]
    pub data_dir: Option<String>,
    /// The portal's public base URL without trailing slash (`https://portal.example`).
    #[serde(default)]
    pub public_url: Option<String>,
}

/// The continuation of a multi-step operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    /// Exactly the `state` the plugin returned with its request.
    #[serde(default)]
    pub state: Value,
    pub response: HttpResponse,
}

impl CallContext {
    /// A config value as text (strings as they are, numbers and booleans printed).
    pub fn config_str(&self, key: &str) -> Option<String> {
        match self.config.get(key)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A required config value; its absence is an `invalid_input` error naming the key.
    pub fn require_config(&self, key: &str) -> Result<String, PluginError> {
        self.config_str(key).ok_or_else(|| {
            PluginError::invalid_input("MISSING_CONFIG", format!("config key `{key}` is required"))
        })
    }

    /// A boolean config value; accepts `true`/`false` and the strings `"true"`/`"false"`.
    pub fn config_bool(&self, key: &str) -> Option<bool> {
        match self.config.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// Decodes the state of a resumed call.
    pub fn resume_state<S: DeserializeOwned>(
        &self,
    ) -> Result<Option<(S, &HttpResponse)>, PluginError> {
        match &self.resume {
            None => Ok(None),
            Some(resume) => {
                let state = serde_json::from_value(resume.state.clone()).map_err(|e| {
                    PluginError::permanent("BAD_STATE", format!("state not understood: {e}"))
                })?;
                Ok(Some((state, &resume.response)))
            }
        }
    }
}

/// A plugin's answer to a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step<T = Value> {
    /// Perform `request` and call the same operation again with `resume = {state, response}`.
    Http {
        request: HttpRequest,
        #[serde(default)]
        state: Value,
    },
    /// The operation's result.
    Done(T),
    /// The operation failed; `kind` tells the host whether retrying can help.
    Error(PluginError),
}

impl<T> Step<T> {
    pub fn http(request: HttpRequest, state: impl Serialize) -> Self {
        Step::Http {
            request,
            state: serde_json::to_value(state).unwrap_or(Value::Null),
        }
    }

    /// The same step with its result (if done) turned into another.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Step<U> {
        match self {
            Step::Http { request, state } => Step::Http { request, state },
            Step::Done(value) => Step::Done(f(value)),
            Step::Error(e) => Step::Error(e),
        }
    }
}

impl<T> From<Result<T, PluginError>> for Step<T> {
    fn from(result: Result<T, PluginError>) -> Self {
        match result {
            Ok(v) => Step::Done(v),
            Err(e) => Step::Error(e),
        }
    }
}

/// How the host should treat a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// May succeed later (5xx, throttling, provider outage): the host retries with backoff.
    Retryable,
    /// Will fail again the same way (rejected number, duplicate order).
    Permanent,
    /// Credentials are wrong or missing: an operator must act.
    Auth,
    /// The input (or the webhook, or the config) is malformed or its signature is bad.
    InvalidInput,
}

/// A failure with a stable `code` (UPPER_SNAKE) and a human `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginError {
    pub kind: ErrorKind,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl PluginError {
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn retryable(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Retryable, code, message)
    }
    pub fn permanent(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permanent, code, message)
    }
    pub fn auth(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, code, message)
    }
    pub fn invalid_input(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, code, message)
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {}: {}", self.kind, self.code, self.message)
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/// A request for the host to perform. The host refuses URLs whose host is not in the manifest's
/// `allowed_hosts`, requires `https` except for loopback addresses, and never follows redirects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Base64 in JSON.
    #[serde(default, with = "base64_bytes")]
    pub body: Vec<u8>,
}

/// What the host received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Base64 in JSON.
    #[serde(default, with = "base64_bytes")]
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Self {
            method: method.to_owned(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
    /// A JSON body with `Content-Type: application/json`.
    pub fn json(mut self, body: &impl Serialize) -> Self {
        self.body = serde_json::to_vec(body).unwrap_or_default();
        self.header("Content-Type", "application/json")
    }
    /// A form body with `Content-Type: application/x-www-form-urlencoded`.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.body = crate::encoding::form_encode(fields).into_bytes();
        self.header("Content-Type", "application/x-www-form-urlencoded")
    }
    /// First header with this name, case-insensitive.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl HttpResponse {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
    /// Parses the body as JSON; a malformed body is a `retryable` `BAD_RESPONSE` when the status
    /// is 5xx (a proxy's HTML error page) and a `permanent` one otherwise.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let kind = if self.status >= 500 {
                ErrorKind::Retryable
            } else {
                ErrorKind::Permanent
            };
            PluginError::new(
                kind,
                "BAD_RESPONSE",
                format!("HTTP {}: body is not the expected JSON: {e}", self.status),
            )
        })
    }
    /// The usual meaning of an HTTP status when the body says nothing better: 429 and 5xx are
    /// retryable, 401/403 are auth, other 4xx permanent. `None` for 2xx.
    pub fn status_error_kind(&self) -> Option<ErrorKind> {
        match self.status {
            200..=299 => None,
            401 | 403 => Some(ErrorKind::Auth),
            408 | 429 | 500..=599 => Some(ErrorKind::Retryable),
            _ => Some(ErrorKind::Permanent),
        }
    }
    /// Body as text for error messages, cut to 300 characters.
    pub fn body_snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.chars().take(300).collect()
    }
}

/// First header with this name, case-insensitive.
pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------------

/// Which port a plugin serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    Messaging,
    Payment,
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PluginKind::Messaging => "messaging",
            PluginKind::Payment => "payment",
        })
    }
}

/// A plugin's description of itself. The host asks for it at load (with an empty config) and again
/// with the operator's config when a role is bound, so `allowed_hosts` may follow URL overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Unique; the operator refers to the plugin by it (`[plugins.<name>]`, `[messaging] plugin`).
    pub name: String,
    pub kind: PluginKind,
    /// The plugin's own version (semver).
    pub version: String,
    /// The [`PROTOCOL_VERSION`] the plugin was built for.
    pub protocol_version: u32,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub config_keys: Vec<ConfigKey>,
    /// Host names (optionally `host:port`, or `*.domain` for subdomains) the plugin may ask the
    /// host to call. Empty for plugins that do no HTTP.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Development providers (sandbox) set this; `simulate_webhook` works only for them.
    #[serde(default)]
    pub development_only: bool,
    /// Hosts (`*.domain` for subdomains) a phone that is not logged in yet must reach through
    /// the hotspot: a payment's checkout pages, their assets and the bank and e-wallet apps'
    /// domains; WhatsApp's for a messenger (to receive the code). The router's walled garden
    /// gets them. Not what our server calls (that is `allowed_hosts`). Optional: older plugins
    /// leave it out.
    #[serde(default)]
    pub walled_garden_hosts: Vec<String>,
}

/// The hosts WhatsApp needs on a phone to receive a message (its app and web), for messaging
/// plugins' `walled_garden_hosts`: a phone behind the hotspot must get its login code.
pub fn whatsapp_walled_garden() -> Vec<String> {
    [
        "whatsapp.com",
        "*.whatsapp.com",
        "whatsapp.net",
        "*.whatsapp.net",
        "wa.me",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// One key of `[plugins.<name>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigKey {
    pub name: String,
    /// The host redacts this key's value from every log line and error message.
    #[serde(default)]
    pub secret: bool,
    /// The host refuses to bind the plugin to a role while a required key is missing.
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: String,
}

impl ConfigKey {
    pub fn new(name: &str, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            secret: false,
            required: false,
            description: description.to_owned(),
        }
    }
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// The host of a URL (`https://user@Host:443/path` → `host:443`), lower-cased, for manifests that
/// add the host of a configured base URL to `allowed_hosts`. Keeps an explicit port.
pub fn url_authority(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    Some(authority.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_have_a_stable_json_shape() {
        let step: Step = Step::http(
            HttpRequest::post("https://api.fonnte.com/send").header("Authorization", "t"),
            json!({"n": 1}),
        );
        let text = serde_json::to_value(&step).unwrap();
        assert_eq!(
            text,
            json!({"http": {"request": {"method": "POST", "url": "https://api.fonnte.com/send",
                "headers": [["Authorization", "t"]], "body": ""}, "state": {"n": 1}}})
        );
        let done: Step = serde_json::from_value(json!({"done": {"provider_id": "x"}})).unwrap();
        assert_eq!(done, Step::Done(json!({"provider_id": "x"})));
        let error: Step = serde_json::from_value(
            json!({"error": {"kind": "auth", "code": "BAD_KEY", "message": "m"}}),
        )
        .unwrap();
        assert_eq!(error, Step::Error(PluginError::auth("BAD_KEY", "m")));
    }

    #[test]
    fn unknown_fields_are_ignored_and_new_ones_optional() {
        let envelope: CallEnvelope = serde_json::from_value(json!({
            "protocol": 1, "now": "2026-01-01T00:00:00Z", "future_field": [1, 2],
            "input": {"to": "+628123", "text": "hi", "priority": "high"}
        }))
        .unwrap();
        let input: SendText = serde_json::from_value(envelope.input).unwrap();
        assert_eq!(input.text, "hi");
        assert!(envelope.context.config.is_empty());
        assert_eq!(envelope.context.resume, None);
        let manifest: Manifest = serde_json::from_value(json!({
            "name": "x", "kind": "payment", "version": "1.0.0", "protocol_version": 1, "icon": "?"
        }))
        .unwrap();
        assert!(manifest.allowed_hosts.is_empty());
    }

    #[test]
    fn http_bodies_travel_as_base64() {
        let response = HttpResponse::new(200, b"{\"ok\":true}".to_vec());
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(value["body"], "eyJvayI6dHJ1ZX0=");
        let back: HttpResponse = serde_json::from_value(value).unwrap();
        assert_eq!(back, response);
    }

    #[test]
    fn authority_and_phone_helpers() {
        assert_eq!(
            url_authority("http://127.0.0.1:8080/snap").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            url_authority("https://API.Midtrans.com").as_deref(),
            Some("api.midtrans.com")
        );
        assert_eq!(url_authority("nonsense"), None);
        assert_eq!(phone_digits("+6281234567890").unwrap(), "6281234567890");
        assert_eq!(phone_digits("+62abc").unwrap_err().code, "BAD_PHONE");
    }

    #[test]
    fn response_status_meanings() {
        assert_eq!(
            HttpResponse::new(503, "").status_error_kind(),
            Some(ErrorKind::Retryable)
        );
        assert_eq!(
            HttpResponse::new(401, "").status_error_kind(),
            Some(ErrorKind::Auth)
        );
        assert_eq!(
            HttpResponse::new(400, "").status_error_kind(),
            Some(ErrorKind::Permanent)
        );
        assert_eq!(HttpResponse::new(201, "").status_error_kind(), None);
        assert_eq!(
            HttpResponse::new(502, "<html>")
                .json::<Value>()
                .unwrap_err()
                .kind,
            ErrorKind::Retryable
        );
        assert_eq!(
            HttpResponse::new(200, "<html>")
                .json::<Value>()
                .unwrap_err()
                .kind,
            ErrorKind::Permanent
        );
    }
}
