//! The safe side for plugin authors: implement [`MessagingPlugin`] or [`PaymentPlugin`] (or, for
//! unusual needs, [`RawPlugin`]) and let `export_plugin!` do the rest.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::protocol::*;

/// The byte-level contract behind the C table: operation name and JSON in, JSON out. The typed
/// traits are adapted to it by [`Messaging`] and [`Payment`]; test plugins implement it directly to
/// misbehave on purpose.
pub trait RawPlugin: Send + Sync + 'static {
    fn call(&self, op: &str, input: &[u8]) -> Vec<u8>;
}

/// A WhatsApp (or other channel) provider. Each method gets the call context (time, config,
/// resume) and returns the next [`Step`].
pub trait MessagingPlugin: Send + Sync + Default + 'static {
    fn manifest(&self, ctx: &CallContext) -> Manifest;
    fn send_text(&self, ctx: &CallContext, input: &SendText) -> Step<MessageSent>;
    fn send_document(&self, ctx: &CallContext, input: &SendDocument) -> Step<MessageSent>;
}

/// A payment provider.
pub trait PaymentPlugin: Send + Sync + Default + 'static {
    fn manifest(&self, ctx: &CallContext) -> Manifest;
    fn create_payment(&self, ctx: &CallContext, input: &CreatePayment) -> Step<PaymentCreated>;
    fn payment_status(&self, ctx: &CallContext, input: &PaymentStatusQuery) -> Step<PaymentEvent>;
    /// Verifies the signature on the exact received bytes and parses the notification.
    fn parse_webhook(&self, ctx: &CallContext, input: &Webhook) -> Step<PaymentEvent>;
    /// The body the provider expects in the HTTP 200 answer to a notification `parse_webhook`
    /// verified (it travels in `parse_webhook`'s answer as [`ParsedWebhook::reply`]). The
    /// default `None` leaves the host's own JSON answer.
    fn webhook_reply(&self, _ctx: &CallContext, _event: &PaymentEvent) -> Option<WebhookReply> {
        None
    }
    /// Development providers only; real providers keep this default refusal.
    fn simulate_webhook(&self, _ctx: &CallContext, _input: &SimulateWebhook) -> Step<Webhook> {
        Step::Error(PluginError::permanent(
            "NOT_SUPPORTED",
            "simulate_webhook is only offered by development providers",
        ))
    }
}

/// Adapts a [`MessagingPlugin`] to [`RawPlugin`].
#[derive(Debug, Default)]
pub struct Messaging<P>(pub P);

/// Adapts a [`PaymentPlugin`] to [`RawPlugin`].
#[derive(Debug, Default)]
pub struct Payment<P>(pub P);

impl<P: MessagingPlugin> RawPlugin for Messaging<P> {
    fn call(&self, op: &str, input: &[u8]) -> Vec<u8> {
        let plugin = &self.0;
        encode(&match decode(input) {
            Err(e) => Step::Error(e),
            Ok(envelope) => match op {
                ops::MANIFEST => Step::Done(to_value(plugin.manifest(&envelope.context))),
                ops::SEND_TEXT => typed(&envelope, |ctx, i| plugin.send_text(ctx, i)),
                ops::SEND_DOCUMENT => typed(&envelope, |ctx, i| plugin.send_document(ctx, i)),
                other => unknown_op(other),
            },
        })
    }
}

impl<P: PaymentPlugin> RawPlugin for Payment<P> {
    fn call(&self, op: &str, input: &[u8]) -> Vec<u8> {
        let plugin = &self.0;
        encode(&match decode(input) {
            Err(e) => Step::Error(e),
            Ok(envelope) => match op {
                ops::MANIFEST => Step::Done(to_value(plugin.manifest(&envelope.context))),
                ops::CREATE_PAYMENT => typed(&envelope, |ctx, i| plugin.create_payment(ctx, i)),
                ops::PAYMENT_STATUS => typed(&envelope, |ctx, i| plugin.payment_status(ctx, i)),
                ops::PARSE_WEBHOOK => typed(&envelope, |ctx, i| {
                    plugin.parse_webhook(ctx, i).map(|event| ParsedWebhook {
                        reply: plugin.webhook_reply(ctx, &event),
                        event,
                    })
                }),
                ops::SIMULATE_WEBHOOK => typed(&envelope, |ctx, i| plugin.simulate_webhook(ctx, i)),
                other => unknown_op(other),
            },
        })
    }
}

/// Runs one call through a plugin's JSON boundary, as the host would, without loading a library.
/// Handy in plugin unit tests that want to check the wire format too.
pub fn dispatch(plugin: &dyn RawPlugin, op: &str, envelope: &CallEnvelope) -> Step {
    let input = serde_json::to_vec(envelope).unwrap_or_default();
    let output = plugin.call(op, &input);
    serde_json::from_slice(&output).unwrap_or_else(|e| {
        Step::Error(PluginError::permanent(
            "BAD_PLUGIN_OUTPUT",
            format!("not a Step: {e}"),
        ))
    })
}

fn decode(input: &[u8]) -> Result<CallEnvelope, PluginError> {
    serde_json::from_slice(input).map_err(|e| {
        PluginError::invalid_input("BAD_ENVELOPE", format!("call envelope not understood: {e}"))
    })
}

fn typed<I: DeserializeOwned, O: Serialize>(
    envelope: &CallEnvelope,
    run: impl FnOnce(&CallContext, &I) -> Step<O>,
) -> Step {
    let input: I = match serde_json::from_value(envelope.input.clone()) {
        Ok(input) => input,
        Err(e) => {
            return Step::Error(PluginError::invalid_input(
                "BAD_INPUT",
                format!("operation input not understood: {e}"),
            ));
        }
    };
    run(&envelope.context, &input).map(to_value)
}

fn unknown_op(op: &str) -> Step {
    Step::Error(PluginError::invalid_input(
        "UNKNOWN_OPERATION",
        format!("operation `{op}` is not offered"),
    ))
}

fn to_value(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn encode(step: &Step) -> Vec<u8> {
    // Serialising a Step of plain JSON values cannot fail; the fallback keeps the contract anyway.
    serde_json::to_vec(step).unwrap_or_else(|_| {
        br#"{"error":{"kind":"permanent","code":"ENCODE_FAILED","message":"plugin could not encode its answer"}}"#.to_vec()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Default)]
    struct Echo;

    impl MessagingPlugin for Echo {
        fn manifest(&self, _ctx: &CallContext) -> Manifest {
            Manifest {
                name: "echo".into(),
                kind: PluginKind::Messaging,
                version: "0.1.0".into(),
                protocol_version: PROTOCOL_VERSION,
                description: String::new(),
                config_keys: vec![],
                allowed_hosts: vec![],
                development_only: false,
                walled_garden_hosts: Vec::new(),
            }
        }
        fn send_text(&self, ctx: &CallContext, input: &SendText) -> Step<MessageSent> {
            Step::Done(MessageSent {
                provider_id: Some(format!("{}@{}", input.text, ctx.now)),
            })
        }
        fn send_document(&self, _ctx: &CallContext, _input: &SendDocument) -> Step<MessageSent> {
            Step::Error(PluginError::permanent("NO_DOCS", "no documents"))
        }
    }

    fn envelope(input: Value) -> CallEnvelope {
        CallEnvelope {
            protocol: PROTOCOL_VERSION,
            context: CallContext {
                now: "2026-01-01T00:00:00Z".into(),
                ..Default::default()
            },
            input,
        }
    }

    #[test]
    fn typed_plugin_answers_through_json() {
        let plugin = Messaging(Echo);
        let step = dispatch(
            &plugin,
            ops::SEND_TEXT,
            &envelope(json!({"to": "+6281234567890", "text": "hi"})),
        );
        assert_eq!(
            step,
            Step::Done(json!({"provider_id": "hi@2026-01-01T00:00:00Z"}))
        );
        let manifest = dispatch(&plugin, ops::MANIFEST, &envelope(Value::Null));
        assert!(matches!(manifest, Step::Done(m) if m["name"] == "echo"));
    }

    #[test]
    fn bad_input_and_unknown_ops_are_errors_not_panics() {
        let plugin = Messaging(Echo);
        let bad = dispatch(&plugin, ops::SEND_TEXT, &envelope(json!({"to": 5})));
        assert!(
            matches!(bad, Step::Error(e) if e.code == "BAD_INPUT" && e.kind == ErrorKind::InvalidInput)
        );
        let unknown = dispatch(&plugin, "create_payment", &envelope(Value::Null));
        assert!(matches!(unknown, Step::Error(e) if e.code == "UNKNOWN_OPERATION"));
        let garbage: Step =
            serde_json::from_slice(&plugin.call(ops::SEND_TEXT, b"{not json")).unwrap();
        assert!(matches!(garbage, Step::Error(e) if e.code == "BAD_ENVELOPE"));
    }
}
