//! Test-only messaging plugin, `faulty`, whose `send_text` misbehaves on request, by the text:
//! - `panic`: panics inside the plugin;
//! - `garbage`: answers bytes that are not JSON;
//! - `wrong-shape`: answers JSON that is not a Step;
//! - `rogue <url>`: asks the host to call `<url>` (tests pick one outside `allowed_hosts`);
//! - `loop <url>`: asks for `<url>` again after every response (never finishes);
//! - anything else: succeeds with provider id `ok`.
//!
//! It implements `RawPlugin` directly because the typed traits cannot produce garbage.

use lpsaring_plugin_api::{
    CallEnvelope, HttpRequest, Manifest, MessageSent, PROTOCOL_VERSION, PluginKind, RawPlugin,
    SendText, Step, export_plugin, ops,
};

/// See the crate docs.
#[derive(Debug, Default)]
pub struct Faulty;

/// `allowed_hosts` is `api.example.invalid` plus the config value `allow`, if any.
fn manifest(envelope: Option<&CallEnvelope>) -> Manifest {
    let mut allowed_hosts = vec!["api.example.invalid".to_owned()];
    if let Some(extra) = envelope.and_then(|e| e.context.config_str("allow")) {
        allowed_hosts.push(extra);
    }
    Manifest {
        name: "faulty".to_owned(),
        kind: PluginKind::Messaging,
        version: "0.0.1".to_owned(),
        protocol_version: PROTOCOL_VERSION,
        description: "test-only".to_owned(),
        config_keys: vec![],
        allowed_hosts,
        development_only: true,
        walled_garden_hosts: Vec::new(),
    }
}

fn answer(step: &Step) -> Vec<u8> {
    serde_json::to_vec(step).unwrap_or_default()
}

impl RawPlugin for Faulty {
    #[allow(clippy::panic)]
    fn call(&self, op: &str, input: &[u8]) -> Vec<u8> {
        let envelope = serde_json::from_slice::<CallEnvelope>(input).ok();
        if op == ops::MANIFEST {
            return answer(&Step::Done(
                serde_json::to_value(manifest(envelope.as_ref())).unwrap_or_default(),
            ));
        }
        let Some(envelope) = envelope else {
            return b"not even the envelope parsed".to_vec();
        };
        let Ok(input) = serde_json::from_value::<SendText>(envelope.input) else {
            return b"{}".to_vec();
        };
        let text = input.text.as_str();
        if text == "panic" {
            panic!("faulty plugin panics on purpose");
        }
        if text == "garbage" {
            return b"\xff\xfe this is not json".to_vec();
        }
        if text == "wrong-shape" {
            return br#"{"result": "done"}"#.to_vec();
        }
        if let Some(url) = text.strip_prefix("rogue ") {
            if envelope.context.resume.is_some() {
                return answer(&Step::Done(
                    serde_json::json!({"provider_id": "should-not-happen"}),
                ));
            }
            return answer(&Step::Http {
                request: HttpRequest::get(url),
                state: serde_json::Value::Null,
            });
        }
        if let Some(url) = text.strip_prefix("loop ") {
            return answer(&Step::Http {
                request: HttpRequest::get(url),
                state: serde_json::Value::Null,
            });
        }
        answer(&Step::Done(
            serde_json::to_value(MessageSent {
                provider_id: Some("ok".to_owned()),
            })
            .unwrap_or_default(),
        ))
    }
}

export_plugin!(raw: Faulty);
