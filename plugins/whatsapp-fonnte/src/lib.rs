//! Fonnte (<https://fonnte.com>), an unofficial WhatsApp gateway popular with Indonesian operators.
//!
//! `POST {base_url}/send`, header `Authorization: <token>` (no "Bearer"), form fields `target`
//! (E.164 digits without `+`), `message`, `countryCode=0` (we already send the full international
//! number, so Fonnte must not rewrite a leading 0), and for documents `url` + `filename`.
//! Fonnte answers HTTP 200 even on failure, with `"status": false` and a `reason`: that is a
//! failure, classified by its reason.
//!
//! Config `[plugins.whatsapp-fonnte]`: `token` (secret, required), `base_url` (default
//! `https://api.fonnte.com`; tests point it at a local mock).

use lpsaring_plugin_api::{
    CallContext, ConfigKey, ErrorKind, HttpRequest, HttpResponse, Manifest, MessageSent,
    MessagingPlugin, PROTOCOL_VERSION, PluginError, PluginKind, SendDocument, SendText, Step,
    export_plugin, phone_digits, url_authority,
};
use serde::Deserialize;
use serde_json::Value;

export_plugin!(messaging: FonntePlugin);

const DEFAULT_BASE_URL: &str = "https://api.fonnte.com";

/// See the crate docs.
#[derive(Debug, Default)]
pub struct FonntePlugin;

fn base_url(ctx: &CallContext) -> String {
    ctx.config_str("base_url")
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// The form request for one message.
pub fn build_send(
    ctx: &CallContext,
    to: &str,
    message: &str,
    document: Option<(&str, &str)>,
) -> Result<HttpRequest, PluginError> {
    let token = ctx.require_config("token")?;
    let target = phone_digits(to)?;
    let mut fields = vec![
        ("target", target.as_str()),
        ("message", message),
        ("countryCode", "0"),
    ];
    if let Some((url, filename)) = document {
        fields.push(("url", url));
        fields.push(("filename", filename));
    }
    Ok(HttpRequest::post(format!("{}/send", base_url(ctx)))
        .header("Authorization", token)
        .form(&fields))
}

#[derive(Debug, Deserialize)]
struct FonnteAnswer {
    #[serde(default)]
    status: Value,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    id: Value,
}

/// Interprets Fonnte's answer, including its "HTTP 200 but failed" bodies.
pub fn parse_send(response: &HttpResponse) -> Result<MessageSent, PluginError> {
    if response.status == 429 || response.status >= 500 {
        return Err(PluginError::retryable(
            "PROVIDER_UNAVAILABLE",
            format!("Fonnte answered HTTP {}", response.status),
        ));
    }
    let answer: FonnteAnswer = response.json()?;
    let ok =
        matches!(answer.status, Value::Bool(true)) || answer.status == Value::String("true".into());
    if !ok {
        let reason = answer
            .reason
            .or(answer.detail)
            .unwrap_or_else(|| "no reason given".to_owned());
        return Err(classify_failure(response.status, &reason));
    }
    // `id` is a list of message ids (numbers), one per target.
    let provider_id = match &answer.id {
        Value::Array(ids) => ids.first().map(id_text),
        Value::Null => None,
        other => Some(id_text(other)),
    };
    Ok(MessageSent { provider_id })
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn classify_failure(status: u16, reason: &str) -> PluginError {
    let lower = reason.to_ascii_lowercase();
    let message = format!("Fonnte refused the message: {reason}");
    if status == 401 || status == 403 || lower.contains("token") {
        PluginError::new(ErrorKind::Auth, "FONNTE_AUTH", message)
    } else if lower.contains("disconnect")
        || lower.contains("not connected")
        || lower.contains("timeout")
    {
        // The paired phone is offline: later attempts (the outbox) may succeed.
        PluginError::new(ErrorKind::Retryable, "FONNTE_DEVICE_OFFLINE", message)
    } else if lower.contains("target") || lower.contains("invalid number") {
        PluginError::new(ErrorKind::InvalidInput, "FONNTE_BAD_TARGET", message)
    } else {
        PluginError::new(ErrorKind::Permanent, "FONNTE_REJECTED", message)
    }
}

fn send(
    ctx: &CallContext,
    to: &str,
    message: &str,
    document: Option<(&str, &str)>,
) -> Step<MessageSent> {
    match &ctx.resume {
        None => match build_send(ctx, to, message, document) {
            Ok(request) => Step::http(request, Value::Null),
            Err(e) => Step::Error(e),
        },
        Some(resume) => parse_send(&resume.response).into(),
    }
}

impl MessagingPlugin for FonntePlugin {
    fn manifest(&self, ctx: &CallContext) -> Manifest {
        let mut allowed_hosts = vec!["api.fonnte.com".to_owned()];
        allowed_hosts.extend(
            ctx.config_str("base_url")
                .as_deref()
                .and_then(url_authority),
        );
        Manifest {
            name: "whatsapp-fonnte".to_owned(),
            kind: PluginKind::Messaging,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol_version: PROTOCOL_VERSION,
            description: "WhatsApp through the Fonnte gateway".to_owned(),
            config_keys: vec![
                ConfigKey::new("token", "Fonnte device token")
                    .secret()
                    .required(),
                ConfigKey::new("base_url", "API base URL, default https://api.fonnte.com"),
            ],
            allowed_hosts,
            development_only: false,
            // The phone receives the code in WhatsApp, whichever gateway sent it.
            walled_garden_hosts: lpsaring_plugin_api::whatsapp_walled_garden(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use lpsaring_plugin_api::encoding::form_decode;
    use lpsaring_plugin_api::testing::{context, resumed};
    use serde_json::json;

    fn ctx() -> CallContext {
        context(
            "2026-01-01T00:00:00Z",
            0,
            [("token", json!("fonnte-token-123"))],
        )
    }

    const SUCCESS: &str = r#"{"detail":"success! message in queue","id":[142223099],"process":"pending","requestid":369052479,"status":true,"target":["6281234567890"],"quota":{"6281234567890":{"details":"deduced from total quota","quota":990,"remaining":989,"used":1}}}"#;

    #[test]
    fn builds_the_documented_form_request() {
        let step = FonntePlugin.send_text(
            &ctx(),
            &SendText {
                to: "+6281234567890".into(),
                text: "Kode: 123456".into(),
            },
        );
        let Step::Http { request, .. } = step else {
            panic!("expected HTTP")
        };
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, "https://api.fonnte.com/send");
        assert_eq!(
            request.header_value("authorization"),
            Some("fonnte-token-123")
        );
        let form = form_decode(std::str::from_utf8(&request.body).unwrap());
        assert_eq!(
            form,
            vec![
                ("target".into(), "6281234567890".into()),
                ("message".into(), "Kode: 123456".into()),
                ("countryCode".into(), "0".into()),
            ]
        );
        let doc = SendDocument {
            to: "+6281234567890".into(),
            caption: "Invoice".into(),
            url: "https://p.example/1.pdf".into(),
            filename: "1.pdf".into(),
        };
        let Step::Http { request, .. } = FonntePlugin.send_document(&ctx(), &doc) else {
            panic!()
        };
        let form = form_decode(std::str::from_utf8(&request.body).unwrap());
        assert!(form.contains(&("url".into(), "https://p.example/1.pdf".into())));
        assert!(form.contains(&("filename".into(), "1.pdf".into())));
    }

    #[test]
    fn success_answer_gives_the_message_id() {
        let step = FonntePlugin.send_text(
            &resumed(&ctx(), Value::Null, 200, SUCCESS),
            &SendText {
                to: "+6281234567890".into(),
                text: "x".into(),
            },
        );
        assert_eq!(
            step,
            Step::Done(MessageSent {
                provider_id: Some("142223099".into())
            })
        );
    }

    #[test]
    fn http_200_with_status_false_is_a_failure_by_reason() {
        let cases = [
            (
                r#"{"reason":"invalid token","status":false}"#,
                ErrorKind::Auth,
            ),
            (
                r#"{"reason":"device disconnected","status":false}"#,
                ErrorKind::Retryable,
            ),
            (
                r#"{"reason":"invalid target","status":false}"#,
                ErrorKind::InvalidInput,
            ),
            (
                r#"{"reason":"insufficient quota","status":false}"#,
                ErrorKind::Permanent,
            ),
        ];
        for (body, kind) in cases {
            let err = parse_send(&HttpResponse::new(200, body.as_bytes().to_vec())).unwrap_err();
            assert_eq!(err.kind, kind, "{body}");
            assert!(err.message.contains("Fonnte refused"), "{err}");
        }
    }

    #[test]
    fn provider_errors_and_malformed_json() {
        assert_eq!(
            parse_send(&HttpResponse::new(503, "upstream down"))
                .unwrap_err()
                .kind,
            ErrorKind::Retryable
        );
        assert_eq!(
            parse_send(&HttpResponse::new(
                401,
                r#"{"status":false,"reason":"unauthorized"}"#
            ))
            .unwrap_err()
            .kind,
            ErrorKind::Auth
        );
        let malformed = parse_send(&HttpResponse::new(200, "<html>oops</html>")).unwrap_err();
        assert_eq!(
            (malformed.kind, malformed.code.as_str()),
            (ErrorKind::Permanent, "BAD_RESPONSE")
        );
    }

    #[test]
    fn missing_token_and_bad_numbers_are_invalid_input() {
        let step = FonntePlugin.send_text(
            &CallContext::default(),
            &SendText {
                to: "+6281234567890".into(),
                text: "x".into(),
            },
        );
        assert!(matches!(step, Step::Error(e) if e.code == "MISSING_CONFIG"));
        let step = FonntePlugin.send_text(
            &ctx(),
            &SendText {
                to: "0812".into(),
                text: "x".into(),
            },
        );
        assert!(matches!(step, Step::Error(e) if e.code == "BAD_PHONE"));
    }

    #[test]
    fn base_url_override_is_allowed_in_the_manifest() {
        let mut ctx = ctx();
        ctx.config
            .insert("base_url".into(), json!("http://127.0.0.1:4567/"));
        assert_eq!(
            FonntePlugin.manifest(&ctx).allowed_hosts,
            vec!["api.fonnte.com", "127.0.0.1:4567"]
        );
        let Step::Http { request, .. } = FonntePlugin.send_text(
            &ctx,
            &SendText {
                to: "+6281234567890".into(),
                text: "x".into(),
            },
        ) else {
            panic!()
        };
        assert_eq!(request.url, "http://127.0.0.1:4567/send");
    }
}
