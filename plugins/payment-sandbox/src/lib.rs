//! The development payment provider. No money moves and no HTTP is made: `create_payment`
//! returns a checkout page on our own server (`<public_url>/pay/sandbox/<order_id>`, rendered by
//! the payments module), and that page asks `simulate_webhook` for a notification signed with the
//! sandbox key, which then goes through `parse_webhook` exactly like a real provider's would.
//!
//! Notification: JSON body `{"order_id", "status", "gross_amount", "provider_ref", "at"}`, header
//! `X-Sandbox-Signature: hex(hmac_sha256(signing_key, body))`.
//!
//! Config `[plugins.payment-sandbox]`: `signing_key` (secret, default `lpsaring-sandbox`: the
//! checkout page lets anyone "pay" anyway, so a sandbox must never serve a production portal),
//! `public_url` (default: the host's public URL).

use hmac::{Hmac, Mac};
use lpsaring_plugin_api::encoding::url_component;
use lpsaring_plugin_api::{
    CallContext, ConfigKey, CreatePayment, Manifest, PROTOCOL_VERSION, PaymentCreated,
    PaymentEvent, PaymentPlugin, PaymentStatus, PaymentStatusQuery, PluginError, PluginKind,
    SimulateWebhook, Step, Webhook, WebhookReply, export_plugin, parse_rupiah,
};
use serde_json::{Value, json};
use sha2::Sha256;

export_plugin!(payment: SandboxPlugin);

type HmacSha256 = Hmac<Sha256>;

const DEFAULT_KEY: &str = "lpsaring-sandbox";
pub const SIGNATURE_HEADER: &str = "X-Sandbox-Signature";

/// See the crate docs.
#[derive(Debug, Default)]
pub struct SandboxPlugin;

fn signing_key(ctx: &CallContext) -> String {
    ctx.config_str("signing_key")
        .unwrap_or_else(|| DEFAULT_KEY.to_owned())
}

fn mac(key: &str) -> Result<HmacSha256, PluginError> {
    HmacSha256::new_from_slice(key.as_bytes())
        .map_err(|_| PluginError::invalid_input("BAD_KEY", "unusable signing key"))
}

pub fn sign(key: &str, body: &[u8]) -> Result<String, PluginError> {
    let mut mac = mac(key)?;
    mac.update(body);
    Ok(hex::encode(mac.finalize().into_bytes()))
}

fn status_name(status: PaymentStatus) -> Value {
    serde_json::to_value(status).unwrap_or(Value::Null)
}

pub fn verify(key: &str, webhook: &Webhook) -> Result<PaymentEvent, PluginError> {
    let given = webhook.header_value(SIGNATURE_HEADER).ok_or_else(|| {
        PluginError::invalid_input("BAD_SIGNATURE", "X-Sandbox-Signature header missing")
    })?;
    let given = hex::decode(given.trim())
        .map_err(|_| PluginError::invalid_input("BAD_SIGNATURE", "signature is not hex"))?;
    let mut mac = mac(key)?;
    mac.update(&webhook.body);
    mac.verify_slice(&given).map_err(|_| {
        PluginError::invalid_input("BAD_SIGNATURE", "signature does not match the sandbox key")
    })?;
    let body: Value = serde_json::from_slice(&webhook.body).map_err(|e| {
        PluginError::invalid_input("BAD_BODY", format!("notification is not JSON: {e}"))
    })?;
    let order_id = body["order_id"]
        .as_str()
        .ok_or_else(|| PluginError::invalid_input("BAD_BODY", "order_id missing"))?;
    let status: PaymentStatus = serde_json::from_value(body["status"].clone())
        .map_err(|_| PluginError::invalid_input("BAD_BODY", "status missing or unknown"))?;
    Ok(PaymentEvent {
        order_id: order_id.to_owned(),
        status,
        gross_amount: parse_rupiah(&body["gross_amount"])?,
        provider_ref: body["provider_ref"].as_str().map(str::to_owned),
        method: Some("sandbox".to_owned()),
        raw: body,
    })
}

impl PaymentPlugin for SandboxPlugin {
    fn manifest(&self, _ctx: &CallContext) -> Manifest {
        Manifest {
            name: "payment-sandbox".to_owned(),
            kind: PluginKind::Payment,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol_version: PROTOCOL_VERSION,
            description: "Development payments: a checkout page on the portal itself, signed simulated webhooks".to_owned(),
            config_keys: vec![
                ConfigKey::new("signing_key", "key that signs simulated notifications").secret(),
                ConfigKey::new("public_url", "portal base URL; default the host's public URL"),
            ],
            allowed_hosts: Vec::new(),
            development_only: true,
            walled_garden_hosts: Vec::new(),
        }
    }

    fn create_payment(&self, ctx: &CallContext, input: &CreatePayment) -> Step<PaymentCreated> {
        let Some(base) = ctx
            .config_str("public_url")
            .or_else(|| ctx.host.public_url.clone())
        else {
            return Step::Error(PluginError::invalid_input(
                "NO_PUBLIC_URL",
                "set [plugins.payment-sandbox] public_url or the portal's public URL",
            ));
        };
        if input.amount <= 0 {
            return Step::Error(PluginError::invalid_input(
                "BAD_AMOUNT",
                "amount must be positive",
            ));
        }
        Step::Done(PaymentCreated {
            redirect_url: Some(format!(
                "{}/pay/sandbox/{}",
                base.trim_end_matches('/'),
                url_component(&input.order_id)
            )),
            provider_ref: Some(format!("sandbox-{}", input.order_id)),
            ..Default::default()
        })
    }

    /// The sandbox keeps no state of its own: the payments module's record is the truth, so the
    /// answer is always "pending" (reconciliation then leaves the order alone).
    fn payment_status(&self, _ctx: &CallContext, input: &PaymentStatusQuery) -> Step<PaymentEvent> {
        Step::Done(PaymentEvent {
            order_id: input.order_id.clone(),
            status: PaymentStatus::Pending,
            gross_amount: 0,
            provider_ref: Some(format!("sandbox-{}", input.order_id)),
            method: Some("sandbox".to_owned()),
            raw: json!({"sandbox": true, "note": "the sandbox has no remote state"}),
        })
    }

    fn parse_webhook(&self, ctx: &CallContext, input: &Webhook) -> Step<PaymentEvent> {
        verify(&signing_key(ctx), input).into()
    }

    /// Names the order, so a developer reading the answer sees which one was taken.
    fn webhook_reply(&self, _ctx: &CallContext, event: &PaymentEvent) -> Option<WebhookReply> {
        Some(WebhookReply::json(
            &json!({"received": true, "order_id": event.order_id}),
        ))
    }

    fn simulate_webhook(&self, ctx: &CallContext, input: &SimulateWebhook) -> Step<Webhook> {
        let body = json!({
            "order_id": input.order_id,
            "status": status_name(input.outcome),
            "gross_amount": input.gross_amount,
            "provider_ref": format!("sandbox-{}", input.order_id),
            "at": ctx.now,
        });
        let body = serde_json::to_vec(&body).unwrap_or_default();
        match sign(&signing_key(ctx), &body) {
            Ok(signature) => Step::Done(Webhook {
                headers: vec![
                    ("Content-Type".to_owned(), "application/json".to_owned()),
                    (SIGNATURE_HEADER.to_owned(), signature),
                ],
                body,
            }),
            Err(e) => Step::Error(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lpsaring_plugin_api::testing::context;
    use lpsaring_plugin_api::{Customer, ErrorKind, HostInfo, PaymentItem};

    fn ctx() -> CallContext {
        CallContext {
            host: HostInfo {
                data_dir: None,
                public_url: Some("https://portal.example".into()),
            },
            ..context("2026-01-01T00:00:00Z", 0, [])
        }
    }

    fn simulated(ctx: &CallContext, outcome: PaymentStatus) -> Webhook {
        let Step::Done(webhook) = SandboxPlugin.simulate_webhook(
            ctx,
            &SimulateWebhook {
                order_id: "V-1".into(),
                outcome,
                gross_amount: 10000,
            },
        ) else {
            panic!()
        };
        webhook
    }

    #[test]
    fn checkout_is_on_our_own_server() {
        let order = CreatePayment {
            order_id: "V-1".into(),
            amount: 10000,
            item: PaymentItem {
                id: "p".into(),
                name: "p".into(),
                price: 10000,
                quantity: 1,
            },
            customer: Customer {
                name: "B".into(),
                phone: "+6281234567890".into(),
                email: None,
            },
            method: None,
            return_url: String::new(),
            expiry_minutes: 30,
        };
        let Step::Done(created) = SandboxPlugin.create_payment(&ctx(), &order) else {
            panic!()
        };
        assert_eq!(
            created.redirect_url.as_deref(),
            Some("https://portal.example/pay/sandbox/V-1")
        );
        let no_url = SandboxPlugin.create_payment(&CallContext::default(), &order);
        assert!(matches!(no_url, Step::Error(e) if e.code == "NO_PUBLIC_URL"));
    }

    #[test]
    fn simulated_webhooks_verify_and_round_trip() {
        for outcome in [PaymentStatus::Paid, PaymentStatus::Failed] {
            let webhook = simulated(&ctx(), outcome);
            let Step::Done(event) = SandboxPlugin.parse_webhook(&ctx(), &webhook) else {
                panic!()
            };
            assert_eq!(
                (event.order_id.as_str(), event.status, event.gross_amount),
                ("V-1", outcome, 10000)
            );
        }
    }

    #[test]
    fn bad_signatures_and_bodies_are_refused() {
        let mut tampered = simulated(&ctx(), PaymentStatus::Failed);
        tampered.body = String::from_utf8(tampered.body)
            .unwrap()
            .replace("failed", "paid")
            .into_bytes();
        assert!(
            matches!(SandboxPlugin.parse_webhook(&ctx(), &tampered), Step::Error(e) if e.code == "BAD_SIGNATURE")
        );

        let mut other_key = ctx();
        other_key
            .config
            .insert("signing_key".into(), json!("a-different-key"));
        let webhook = simulated(&ctx(), PaymentStatus::Paid);
        assert!(
            matches!(SandboxPlugin.parse_webhook(&other_key, &webhook), Step::Error(e) if e.kind == ErrorKind::InvalidInput)
        );

        let body = b"{not json".to_vec();
        let signed_garbage = Webhook {
            headers: vec![(SIGNATURE_HEADER.into(), sign(DEFAULT_KEY, &body).unwrap())],
            body,
        };
        assert!(
            matches!(SandboxPlugin.parse_webhook(&ctx(), &signed_garbage), Step::Error(e) if e.code == "BAD_BODY")
        );
    }
}
