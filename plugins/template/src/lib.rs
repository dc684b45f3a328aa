//! A messaging plugin for "Contoh WA", a fictional WhatsApp gateway: the template a vendor copies.
//!
//! The gateway's API: `POST {base_url}/v1/messages` with `Authorization: Bearer <api_key>` and a
//! JSON body `{"to": "6281…", "text": "…"}` (documents add `document_url` and `filename`); it
//! answers `200 {"message_id": "…"}`, or an error status with `{"error": "…"}`.
//!
//! The plugin does no I/O: `send_text` first answers [`Step::Http`] with the request, the portal
//! performs it (timeouts, retries of `retryable` errors, only the hosts in `allowed_hosts`) and
//! calls `send_text` again with the response in `ctx.resume`; the plugin then answers
//! [`Step::Done`] or [`Step::Error`]. So the tests need no network: they feed recorded responses.
//!
//! Config `[plugins.example-whatsapp]`: `api_key` (secret, required), `base_url` (default
//! `https://api.contoh-wa.example`).

use lpsaring_plugin_api::{
    CallContext, ConfigKey, ErrorKind, HttpRequest, HttpResponse, Manifest, MessageSent,
    MessagingPlugin, PROTOCOL_VERSION, PluginError, PluginKind, SendDocument, SendText, Step,
    export_plugin, phone_digits, url_authority,
};
use serde::Deserialize;
use serde_json::{Value, json};

// The one line that exports the C entry point the portal looks for.
export_plugin!(messaging: ExamplePlugin);

/// The name operators write in `[messaging] plugin = "…"` and `[plugins.<name>]`.
pub const NAME: &str = "example-whatsapp";
const DEFAULT_BASE_URL: &str = "https://api.contoh-wa.example";

/// See the crate docs.
#[derive(Debug, Default)]
pub struct ExamplePlugin;

fn base_url(ctx: &CallContext) -> String {
    ctx.config_str("base_url")
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// The request for one message (`document`: its URL and file name).
pub fn build_send(
    ctx: &CallContext,
    to: &str,
    text: &str,
    document: Option<(&str, &str)>,
) -> Result<HttpRequest, PluginError> {
    let api_key = ctx.require_config("api_key")?;
    let mut body = json!({ "to": phone_digits(to)?, "text": text });
    if let Some((url, filename)) = document {
        body["document_url"] = json!(url);
        body["filename"] = json!(filename);
    }
    Ok(HttpRequest::post(format!("{}/v1/messages", base_url(ctx)))
        .header("Authorization", format!("Bearer {api_key}"))
        .json(&body))
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// The gateway's answer as the portal understands it. The error kind decides what happens next:
/// `retryable` is retried (and may open the circuit breaker), `auth` tells the operator to fix the
/// key, `invalid_input` blames the number, `permanent` gives up on this message.
pub fn parse_send(response: &HttpResponse) -> Result<MessageSent, PluginError> {
    if response.status == 429 || response.status >= 500 {
        return Err(PluginError::retryable(
            "EXAMPLE_UNAVAILABLE",
            format!("the gateway answered HTTP {}", response.status),
        ));
    }
    let answer: Answer = response.json()?;
    let reason = answer.error.unwrap_or_else(|| "no reason given".to_owned());
    match response.status {
        200..=299 => Ok(MessageSent {
            provider_id: answer.message_id,
        }),
        401 | 403 => Err(PluginError::new(
            ErrorKind::Auth,
            "EXAMPLE_AUTH",
            format!("the gateway refused the API key: {reason}"),
        )),
        400 | 422 => Err(PluginError::new(
            ErrorKind::InvalidInput,
            "EXAMPLE_BAD_RECIPIENT",
            format!("the gateway refused the message: {reason}"),
        )),
        status => Err(PluginError::new(
            ErrorKind::Permanent,
            "EXAMPLE_REJECTED",
            format!("the gateway answered HTTP {status}: {reason}"),
        )),
    }
}

/// First call: the request. Second call (with the response): the outcome.
fn send(
    ctx: &CallContext,
    to: &str,
    text: &str,
    document: Option<(&str, &str)>,
) -> Step<MessageSent> {
    match &ctx.resume {
        None => match build_send(ctx, to, text, document) {
            Ok(request) => Step::http(request, Value::Null),
            Err(e) => Step::Error(e),
        },
        Some(resume) => parse_send(&resume.response).into(),
    }
}

impl MessagingPlugin for ExamplePlugin {
    fn manifest(&self, ctx: &CallContext) -> Manifest {
        let mut allowed_hosts = vec!["api.contoh-wa.example".to_owned()];
        allowed_hosts.extend(
            ctx.config_str("base_url")
                .as_deref()
                .and_then(url_authority),
        );
        Manifest {
            name: NAME.to_owned(),
            kind: PluginKind::Messaging,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol_version: PROTOCOL_VERSION,
            description: "WhatsApp through the Contoh WA gateway (template)".to_owned(),
            config_keys: vec![
                ConfigKey::new("api_key", "Contoh WA API key")
                    .secret()
                    .required(),
                ConfigKey::new(
                    "base_url",
                    "API base URL, default https://api.contoh-wa.example",
                ),
            ],
            allowed_hosts,
            // What a phone not yet logged in must reach to receive the code (the router's
            // walled garden): WhatsApp's own hosts are the operator's to add; none here.
            walled_garden_hosts: Vec::new(),
            development_only: false,
        }
    }

    fn send_text(&self, ctx: &CallContext, input: &SendText) -> Step<MessageSent> {
        send(ctx, &input.to, &input.text, None)
    }

    fn send_document(&self, ctx: &CallContext, input: &SendDocument) -> Step<MessageSent> {
        send(
            ctx,
            &input.to,
            &input.caption,
            Some((&input.url, &input.filename)),
        )
    }
}
