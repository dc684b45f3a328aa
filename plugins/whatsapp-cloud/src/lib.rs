//! The official WhatsApp Cloud API (Meta Graph API).
//!
//! `POST {base_url}/{api_version}/{phone_number_id}/messages` with `Authorization: Bearer <token>`
//! and a JSON body `{"messaging_product": "whatsapp", "to": "<digits>", "type": …}`.
//! Business-initiated messages outside the 24-hour window need an approved template; one-time
//! codes need an *authentication* template. When `otp_template` is configured, a text that carries
//! a code (the first run of 4 to 8 digits) is sent as that template with the code as the body
//! parameter and as the copy-code button's parameter; any other text goes as a plain text message.
//!
//! Config `[plugins.whatsapp-cloud]`: `access_token` (secret, required), `phone_number_id`
//! (required), `api_version` (default `v21.0`), `otp_template`, `template_language` (default
//! `id`), `base_url` (default `https://graph.facebook.com`).

use lpsaring_plugin_api::{
    CallContext, ConfigKey, ErrorKind, HttpRequest, HttpResponse, Manifest, MessageSent,
    MessagingPlugin, PROTOCOL_VERSION, PluginError, PluginKind, SendDocument, SendText, Step,
    export_plugin, phone_digits, url_authority,
};
use serde::Deserialize;
use serde_json::{Value, json};

export_plugin!(messaging: CloudPlugin);

const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
const DEFAULT_API_VERSION: &str = "v21.0";

/// See the crate docs.
#[derive(Debug, Default)]
pub struct CloudPlugin;

fn messages_url(ctx: &CallContext) -> Result<String, PluginError> {
    let base = ctx
        .config_str("base_url")
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    let version = ctx
        .config_str("api_version")
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
    let phone_number_id = ctx.require_config("phone_number_id")?;
    Ok(format!(
        "{}/{version}/{phone_number_id}/messages",
        base.trim_end_matches('/')
    ))
}

/// The first run of 4 to 8 digits in `text`: the one-time code, if the text carries one.
pub fn find_code(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut start = None;
    for (i, b) in bytes
        .iter()
        .enumerate()
        .chain(std::iter::once((bytes.len(), &b' ')))
    {
        match (b.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if (4..=8).contains(&(i - s)) {
                    return text.get(s..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    None
}

/// The JSON body for a text: an authentication template when configured and a code is present.
pub fn text_body(ctx: &CallContext, to: &str, text: &str) -> Value {
    if let (Some(template), Some(code)) = (ctx.config_str("otp_template"), find_code(text)) {
        let language = ctx
            .config_str("template_language")
            .unwrap_or_else(|| "id".to_owned());
        return json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": {
                "name": template,
                "language": {"code": language},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": code}]},
                    {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": code}]}
                ]
            }
        });
    }
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": false, "body": text}
    })
}

fn request(ctx: &CallContext, body: &Value) -> Result<HttpRequest, PluginError> {
    let token = ctx.require_config("access_token")?;
    Ok(HttpRequest::post(messages_url(ctx)?)
        .header("Authorization", format!("Bearer {token}"))
        .json(body))
}

#[derive(Debug, Deserialize)]
struct CloudAnswer {
    #[serde(default)]
    messages: Vec<CloudMessage>,
    #[serde(default)]
    error: Option<CloudError>,
}

#[derive(Debug, Deserialize)]
struct CloudMessage {
    id: String,
}

#[derive(Debug, Deserialize)]
struct CloudError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
}

/// Interprets a Graph API answer.
pub fn parse_send(response: &HttpResponse) -> Result<MessageSent, PluginError> {
    let answer: Result<CloudAnswer, _> = response.json();
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) if response.is_success() => return Err(e),
        Err(_) => {
            let kind = response.status_error_kind().unwrap_or(ErrorKind::Permanent);
            return Err(PluginError::new(
                kind,
                "CLOUD_HTTP",
                format!("HTTP {}: {}", response.status, response.body_snippet()),
            ));
        }
    };
    if let Some(error) = answer.error {
        return Err(classify(response.status, &error));
    }
    if !response.is_success() {
        let kind = response.status_error_kind().unwrap_or(ErrorKind::Permanent);
        return Err(PluginError::new(
            kind,
            "CLOUD_HTTP",
            format!("HTTP {}", response.status),
        ));
    }
    match answer.messages.into_iter().next() {
        Some(message) => Ok(MessageSent {
            provider_id: Some(message.id),
        }),
        None => Err(PluginError::permanent(
            "BAD_RESPONSE",
            "the answer lists no message id",
        )),
    }
}

fn classify(status: u16, error: &CloudError) -> PluginError {
    let message = format!("WhatsApp Cloud API error {}: {}", error.code, error.message);
    let code = format!("CLOUD_{}", error.code);
    // 190: access token expired or invalid; 10/200..299: permission problems.
    let kind = if status == 401
        || error.code == 190
        || error.code == 10
        || (200..300).contains(&error.code)
    {
        ErrorKind::Auth
    // 4, 80007, 130429, 131048, 131056: rate limits; 1, 2, 131000, 131016: temporary service errors.
    } else if status == 429
        || status >= 500
        || [1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056].contains(&error.code)
    {
        ErrorKind::Retryable
    // 131026: not a WhatsApp user or cannot receive; 100: bad parameter.
    } else if error.code == 131026 || error.code == 100 {
        ErrorKind::InvalidInput
    } else {
        ErrorKind::Permanent
    };
    PluginError::new(kind, code, message)
}

fn send(ctx: &CallContext, build: impl FnOnce(&str) -> Value, to: &str) -> Step<MessageSent> {
    if let Some(resume) = &ctx.resume {
        return parse_send(&resume.response).into();
    }
    let digits = match phone_digits(to) {
        Ok(digits) => digits,
        Err(e) => return Step::Error(e),
    };
    match request(ctx, &build(&digits)) {
        Ok(request) => Step::http(request, Value::Null),
        Err(e) => Step::Error(e),
    }
}

impl MessagingPlugin for CloudPlugin {
    fn manifest(&self, ctx: &CallContext) -> Manifest {
        let mut allowed_hosts = vec!["graph.facebook.com".to_owned()];
        allowed_hosts.extend(
            ctx.config_str("base_url")
                .as_deref()
                .and_then(url_authority),
        );
        Manifest {
            name: "whatsapp-cloud".to_owned(),
            kind: PluginKind::Messaging,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol_version: PROTOCOL_VERSION,
            description: "WhatsApp through Meta's official Cloud API".to_owned(),
            config_keys: vec![
                ConfigKey::new("access_token", "system user access token")
                    .secret()
                    .required(),
                ConfigKey::new("phone_number_id", "the sending number's id").required(),
                ConfigKey::new("api_version", "Graph API version, default v21.0"),
                ConfigKey::new(
                    "otp_template",
                    "approved authentication template for one-time codes",
                ),
                ConfigKey::new("template_language", "template language code, default id"),
                ConfigKey::new("base_url", "default https://graph.facebook.com"),
            ],
            allowed_hosts,
            development_only: false,
            // The phone receives the code in WhatsApp.
            walled_garden_hosts: lpsaring_plugin_api::whatsapp_walled_garden(),
        }
    }

    fn send_text(&self, ctx: &CallContext, input: &SendText) -> Step<MessageSent> {
        send(ctx, |to| text_body(ctx, to, &input.text), &input.to)
    }

    fn send_document(&self, ctx: &CallContext, input: &SendDocument) -> Step<MessageSent> {
        let build = |to: &str| {
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "document",
                "document": {"link": input.url, "caption": input.caption, "filename": input.filename}
            })
        };
        send(ctx, build, &input.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lpsaring_plugin_api::testing::{context, resumed};

    fn ctx() -> CallContext {
        context(
            "2026-01-01T00:00:00Z",
            0,
            [
                ("access_token", json!("EAAG-secret-token")),
                ("phone_number_id", json!("106540352242922")),
            ],
        )
    }

    fn text(t: &str) -> SendText {
        SendText {
            to: "+6281234567890".into(),
            text: t.into(),
        }
    }

    #[test]
    fn plain_text_request_shape() {
        let Step::Http { request, .. } = CloudPlugin.send_text(&ctx(), &text("Halo")) else {
            panic!()
        };
        assert_eq!(
            request.url,
            "https://graph.facebook.com/v21.0/106540352242922/messages"
        );
        assert_eq!(
            request.header_value("Authorization"),
            Some("Bearer EAAG-secret-token")
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["messaging_product"], "whatsapp");
        assert_eq!(body["to"], "6281234567890");
        assert_eq!(body["text"]["body"], "Halo");
    }

    #[test]
    fn codes_use_the_authentication_template_when_configured() {
        let mut ctx = ctx();
        ctx.config.insert("otp_template".into(), json!("otp_login"));
        let Step::Http { request, .. } =
            CloudPlugin.send_text(&ctx, &text("Kode login Anda 482913, berlaku 5 menit"))
        else {
            panic!()
        };
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["type"], "template");
        assert_eq!(body["template"]["name"], "otp_login");
        assert_eq!(body["template"]["language"]["code"], "id");
        assert_eq!(
            body["template"]["components"][0]["parameters"][0]["text"],
            "482913"
        );
        assert_eq!(
            body["template"]["components"][1]["parameters"][0]["text"],
            "482913"
        );
        assert_eq!(find_code("no code 12 here"), None);
        assert_eq!(find_code("123456789 is too long, 4321 fits"), Some("4321"));
    }

    #[test]
    fn documents_are_sent_by_link() {
        let doc = SendDocument {
            to: "+6281234567890".into(),
            caption: "Invoice".into(),
            url: "https://p.example/1.pdf".into(),
            filename: "1.pdf".into(),
        };
        let Step::Http { request, .. } = CloudPlugin.send_document(&ctx(), &doc) else {
            panic!()
        };
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body["document"],
            json!({"link": "https://p.example/1.pdf", "caption": "Invoice", "filename": "1.pdf"})
        );
    }

    #[test]
    fn success_gives_the_wamid() {
        let body = r#"{"messaging_product":"whatsapp","contacts":[{"input":"6281234567890","wa_id":"6281234567890"}],"messages":[{"id":"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ1"}]}"#;
        assert_eq!(
            CloudPlugin.send_text(&resumed(&ctx(), Value::Null, 200, body), &text("x")),
            Step::Done(MessageSent {
                provider_id: Some("wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ1".into())
            })
        );
    }

    #[test]
    fn provider_errors_are_classified() {
        let expired = r#"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AbC"}}"#;
        assert_eq!(
            parse_send(&HttpResponse::new(401, expired))
                .unwrap_err()
                .kind,
            ErrorKind::Auth
        );
        let throttled = r#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"fbtrace_id":"x"}}"#;
        assert_eq!(
            parse_send(&HttpResponse::new(400, throttled))
                .unwrap_err()
                .kind,
            ErrorKind::Retryable
        );
        let not_whatsapp =
            r#"{"error":{"message":"Message undeliverable","code":131026,"fbtrace_id":"x"}}"#;
        let err = parse_send(&HttpResponse::new(400, not_whatsapp)).unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (ErrorKind::InvalidInput, "CLOUD_131026")
        );
    }

    #[test]
    fn http_200_without_a_message_id_and_malformed_json_fail() {
        let err = parse_send(&HttpResponse::new(
            200,
            r#"{"messaging_product":"whatsapp","messages":[]}"#,
        ))
        .unwrap_err();
        assert_eq!(err.code, "BAD_RESPONSE");
        let err = parse_send(&HttpResponse::new(
            200,
            r#"{"error":{"message":"weird","code":131000}}"#,
        ))
        .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Retryable,
            "an error object wins even with HTTP 200"
        );
        assert_eq!(
            parse_send(&HttpResponse::new(200, "not json"))
                .unwrap_err()
                .code,
            "BAD_RESPONSE"
        );
        assert_eq!(
            parse_send(&HttpResponse::new(502, "<html>bad gateway</html>"))
                .unwrap_err()
                .kind,
            ErrorKind::Retryable
        );
    }
}
