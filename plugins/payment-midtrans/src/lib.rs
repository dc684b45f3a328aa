//! Midtrans (<https://midtrans.com>).
//!
//! - `create_payment`: a `method` of `qris` or a bank VA (`bca_va`, `bni_va`, `bri_va`,
//!   `cimb_va`, `permata_va`) is charged with the Core API (`POST {api}/v2/charge`) so the portal
//!   can show the QR string or VA number itself; anything else (or none) creates a Snap transaction
//!   (`POST {snap}/snap/v1/transactions`) and returns its `redirect_url`.
//! - `payment_status`: `GET {api}/v2/{order_id}/status`.
//! - `parse_webhook`: `signature_key == hex(sha512(order_id + status_code + gross_amount +
//!   server_key))` on the exact received strings, compared in constant time, then the status
//!   mapping (settlement → paid, capture with fraud_status accept → paid, …); the reply is
//!   `200 OK` (Midtrans reads only the status).
//!
//! Auth everywhere: `Authorization: Basic base64(server_key + ":")`. Note that the Core API
//! answers HTTP 200 with a failing `status_code` inside the body; that is a failure.
//!
//! Config `[plugins.payment-midtrans]`: `server_key` (secret, required), `client_key`,
//! `production` (bool, default false: sandbox URLs), `snap_base_url` / `api_base_url` overrides.

use lpsaring_plugin_api::encoding::{base64_encode, url_component};
use lpsaring_plugin_api::{
    CallContext, ConfigKey, CreatePayment, ErrorKind, HttpRequest, HttpResponse, Manifest,
    PROTOCOL_VERSION, PaymentCreated, PaymentEvent, PaymentPlugin, PaymentStatus,
    PaymentStatusQuery, PluginError, PluginKind, Step, Webhook, WebhookReply, export_plugin,
    parse_rupiah, url_authority,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

export_plugin!(payment: MidtransPlugin);

/// See the crate docs.
#[derive(Debug, Default)]
pub struct MidtransPlugin;

/// The two base URLs for this config.
pub fn base_urls(ctx: &CallContext) -> (String, String) {
    let production = ctx.config_bool("production").unwrap_or(false);
    let (snap, api) = if production {
        ("https://app.midtrans.com", "https://api.midtrans.com")
    } else {
        (
            "https://app.sandbox.midtrans.com",
            "https://api.sandbox.midtrans.com",
        )
    };
    let snap = ctx
        .config_str("snap_base_url")
        .unwrap_or_else(|| snap.to_owned());
    let api = ctx
        .config_str("api_base_url")
        .unwrap_or_else(|| api.to_owned());
    (
        snap.trim_end_matches('/').to_owned(),
        api.trim_end_matches('/').to_owned(),
    )
}

fn authorized(ctx: &CallContext, request: HttpRequest) -> Result<HttpRequest, PluginError> {
    let key = ctx.require_config("server_key")?;
    Ok(request
        .header(
            "Authorization",
            format!("Basic {}", base64_encode(format!("{key}:").as_bytes())),
        )
        .header("Accept", "application/json"))
}

/// `2026-01-01T00:00:00Z` → `2026-01-01 00:00:00 +0000`, the format Snap's `expiry.start_time` wants.
fn midtrans_time(now: &str) -> String {
    format!("{} +0000", now.trim_end_matches('Z').replacen('T', " ", 1))
}

/// Which Core API charge a method hint asks for, if any.
fn core_charge(method: Option<&str>) -> Option<Value> {
    match method? {
        "qris" => Some(json!({"payment_type": "qris", "qris": {"acquirer": "gopay"}})),
        m => {
            let bank = m.strip_suffix("_va")?;
            ["bca", "bni", "bri", "cimb", "permata"]
                .contains(&bank)
                .then(|| json!({"payment_type": "bank_transfer", "bank_transfer": {"bank": bank}}))
        }
    }
}

fn common_details(input: &CreatePayment) -> Value {
    let mut customer = json!({"first_name": input.customer.name, "phone": input.customer.phone});
    if let Some(email) = &input.customer.email {
        customer["email"] = json!(email);
    }
    json!({
        "transaction_details": {"order_id": input.order_id, "gross_amount": input.amount},
        "item_details": [{
            "id": input.item.id, "price": input.item.price,
            "quantity": input.item.quantity, "name": input.item.name
        }],
        "customer_details": customer,
    })
}

/// The create request: Core API charge or Snap transaction. The state says which answer to expect.
pub fn build_create(
    ctx: &CallContext,
    input: &CreatePayment,
) -> Result<(HttpRequest, Value), PluginError> {
    if input.amount <= 0 || input.item.price * input.item.quantity != input.amount {
        return Err(PluginError::invalid_input(
            "BAD_AMOUNT",
            "amount must be positive and equal price × quantity",
        ));
    }
    let (snap, api) = base_urls(ctx);
    let mut body = common_details(input);
    if let Some(charge) = core_charge(input.method.as_deref()) {
        if let (Value::Object(body), Value::Object(charge)) = (&mut body, charge) {
            body.extend(charge);
        }
        body["custom_expiry"] = json!({"expiry_duration": input.expiry_minutes, "unit": "minute"});
        let request = authorized(
            ctx,
            HttpRequest::post(format!("{api}/v2/charge")).json(&body),
        )?;
        return Ok((request, json!({"flow": "core"})));
    }
    if let Some(method) = &input.method {
        body["enabled_payments"] = json!([method]);
    }
    if !input.return_url.is_empty() {
        body["callbacks"] = json!({"finish": input.return_url});
    }
    body["expiry"] = json!({"start_time": midtrans_time(&ctx.now), "unit": "minutes", "duration": input.expiry_minutes});
    let request = authorized(
        ctx,
        HttpRequest::post(format!("{snap}/snap/v1/transactions")).json(&body),
    )?;
    Ok((request, json!({"flow": "snap"})))
}

/// Errors shared by both APIs: HTTP status first, then Midtrans' own `status_code` in the body.
fn midtrans_error(http_status: u16, status_code: &str, messages: &str) -> PluginError {
    let code_number: u16 = status_code.parse().unwrap_or(http_status);
    let text = format!("Midtrans {code_number}: {messages}");
    match code_number {
        401..=403 => PluginError::new(ErrorKind::Auth, "MIDTRANS_AUTH", text),
        404 => PluginError::new(ErrorKind::Permanent, "MIDTRANS_NOT_FOUND", text),
        406 => PluginError::new(ErrorKind::Permanent, "MIDTRANS_DUPLICATE_ORDER", text),
        429 | 500..=599 | 900..=999 => {
            PluginError::new(ErrorKind::Retryable, "MIDTRANS_UNAVAILABLE", text)
        }
        _ if messages.contains("already been taken") || messages.contains("utilized") => {
            PluginError::new(ErrorKind::Permanent, "MIDTRANS_DUPLICATE_ORDER", text)
        }
        _ => PluginError::new(ErrorKind::Permanent, "MIDTRANS_REJECTED", text),
    }
}

fn error_messages(body: &Value) -> String {
    match (&body["error_messages"], &body["status_message"]) {
        (Value::Array(list), _) => list
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        (_, Value::String(message)) => message.clone(),
        _ => "no message".to_owned(),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Interprets a create answer (`flow` from the state).
pub fn parse_create(flow: &str, response: &HttpResponse) -> Result<PaymentCreated, PluginError> {
    if response.status >= 500 || response.status == 429 {
        return Err(midtrans_error(
            response.status,
            "",
            &response.body_snippet(),
        ));
    }
    let body: Value = response.json()?;
    if !response.is_success() {
        return Err(midtrans_error(response.status, "", &error_messages(&body)));
    }
    if flow == "snap" {
        let redirect_url = text(&body["redirect_url"]).ok_or_else(|| {
            PluginError::permanent("BAD_RESPONSE", "Snap answer without redirect_url")
        })?;
        return Ok(PaymentCreated {
            redirect_url: Some(redirect_url),
            provider_ref: text(&body["token"]),
            ..Default::default()
        });
    }
    // Core API: HTTP 200 always; the body's status_code says 201 (pending) or the failure.
    let status_code = text(&body["status_code"]).unwrap_or_default();
    if status_code != "201" && status_code != "200" {
        return Err(midtrans_error(
            response.status,
            &status_code,
            &error_messages(&body),
        ));
    }
    let mut created = PaymentCreated {
        provider_ref: text(&body["transaction_id"]),
        ..Default::default()
    };
    created.qr_string = text(&body["qr_string"]);
    if let Some(va) = body["va_numbers"].as_array().and_then(|l| l.first()) {
        created.va_number = text(&va["va_number"]);
        created.bank = text(&va["bank"]);
    } else if let Some(permata) = text(&body["permata_va_number"]) {
        created.va_number = Some(permata);
        created.bank = Some("permata".to_owned());
    }
    if created.qr_string.is_none() && created.va_number.is_none() {
        return Err(PluginError::permanent(
            "BAD_RESPONSE",
            "charge answer has neither qr_string nor a VA number",
        ));
    }
    Ok(created)
}

/// Midtrans' `transaction_status` (+ `fraud_status`) in our terms.
pub fn map_status(
    transaction_status: &str,
    fraud_status: Option<&str>,
) -> Result<PaymentStatus, PluginError> {
    Ok(match (transaction_status, fraud_status) {
        ("settlement", _) => PaymentStatus::Paid,
        ("capture", Some("accept")) => PaymentStatus::Paid,
        ("capture", Some("deny")) => PaymentStatus::Failed,
        ("capture", _) | ("pending", _) | ("authorize", _) => PaymentStatus::Pending,
        ("deny", _) | ("failure", _) => PaymentStatus::Failed,
        ("expire", _) => PaymentStatus::Expired,
        ("cancel", _) => PaymentStatus::Cancelled,
        ("refund", _) | ("partial_refund", _) => PaymentStatus::Refunded,
        (other, _) => {
            return Err(PluginError::invalid_input(
                "UNKNOWN_STATUS",
                format!("unknown transaction_status {other:?}"),
            ));
        }
    })
}

/// A status answer or a notification body as an event (no signature check here).
pub fn event_from(body: &Value) -> Result<PaymentEvent, PluginError> {
    let order_id = text(&body["order_id"])
        .ok_or_else(|| PluginError::invalid_input("BAD_BODY", "order_id missing"))?;
    let transaction_status = body["transaction_status"]
        .as_str()
        .ok_or_else(|| PluginError::invalid_input("BAD_BODY", "transaction_status missing"))?;
    let status = map_status(transaction_status, body["fraud_status"].as_str())?;
    Ok(PaymentEvent {
        order_id,
        status,
        gross_amount: parse_rupiah(&body["gross_amount"])?,
        provider_ref: text(&body["transaction_id"]),
        method: text(&body["payment_type"]),
        raw: body.clone(),
    })
}

/// A `payment_status` answer. `order_id` is the order asked about: Midtrans answers 404 for a
/// Snap order whose payer has not chosen a method yet (no transaction exists until then), which
/// means the order is still pending, not failed.
pub fn parse_status(order_id: &str, response: &HttpResponse) -> Result<PaymentEvent, PluginError> {
    if response.status >= 500 || response.status == 429 {
        return Err(midtrans_error(
            response.status,
            "",
            &response.body_snippet(),
        ));
    }
    let body: Value = response.json()?;
    let status_code = text(&body["status_code"]).unwrap_or_else(|| response.status.to_string());
    if status_code == "404" || (response.status == 404 && body["status_code"].is_null()) {
        return Ok(PaymentEvent {
            order_id: order_id.to_owned(),
            status: PaymentStatus::Pending,
            gross_amount: 0,
            provider_ref: None,
            method: None,
            raw: body,
        });
    }
    if !response.is_success() || !matches!(status_code.as_str(), "200" | "201" | "202" | "407") {
        return Err(midtrans_error(
            response.status,
            &status_code,
            &error_messages(&body),
        ));
    }
    event_from(&body).map_err(|e| PluginError::permanent("BAD_RESPONSE", e.message))
}

/// `hex(sha512(order_id + status_code + gross_amount + server_key))`.
pub fn signature(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    server_key: &str,
) -> String {
    let mut hasher = Sha512::new();
    for part in [order_id, status_code, gross_amount, server_key] {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Verifies and parses an HTTP notification.
pub fn verify_webhook(server_key: &str, webhook: &Webhook) -> Result<PaymentEvent, PluginError> {
    let body: Value = serde_json::from_slice(&webhook.body).map_err(|e| {
        PluginError::invalid_input("BAD_BODY", format!("notification is not JSON: {e}"))
    })?;
    let field = |name: &str| {
        body[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| PluginError::invalid_input("BAD_BODY", format!("`{name}` missing")))
    };
    let (order_id, status_code, gross_amount, given) = (
        field("order_id")?,
        field("status_code")?,
        field("gross_amount")?,
        field("signature_key")?,
    );
    let expected = signature(&order_id, &status_code, &gross_amount, server_key);
    let matches: bool = expected
        .as_bytes()
        .ct_eq(given.to_ascii_lowercase().as_bytes())
        .into();
    if !matches {
        return Err(PluginError::invalid_input(
            "BAD_SIGNATURE",
            "signature_key does not match this server key",
        ));
    }
    event_from(&body)
}

impl PaymentPlugin for MidtransPlugin {
    fn manifest(&self, ctx: &CallContext) -> Manifest {
        let (snap, api) = base_urls(ctx);
        let mut allowed_hosts: Vec<String> = [snap, api]
            .iter()
            .filter_map(|u| url_authority(u))
            .collect();
        allowed_hosts.dedup();
        Manifest {
            name: "payment-midtrans".to_owned(),
            kind: PluginKind::Payment,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol_version: PROTOCOL_VERSION,
            description: "Midtrans Snap and Core API (QRIS, bank VA)".to_owned(),
            config_keys: vec![
                ConfigKey::new("server_key", "Midtrans server key")
                    .secret()
                    .required(),
                ConfigKey::new("client_key", "Midtrans client key (public, for Snap JS)"),
                ConfigKey::new("production", "true for live URLs; default false (sandbox)"),
                ConfigKey::new("snap_base_url", "override of the Snap base URL"),
                ConfigKey::new("api_base_url", "override of the Core API base URL"),
            ],
            allowed_hosts,
            development_only: false,
            // Snap's checkout and assets, and the apps QRIS and GoPay hand over to.
            walled_garden_hosts: [
                "app.midtrans.com",
                "app.sandbox.midtrans.com",
                "api.midtrans.com",
                "api.sandbox.midtrans.com",
                "*.midtrans.com",
                "*.gopay.co.id",
                "gojek.link",
                "*.shopee.co.id",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }

    fn create_payment(&self, ctx: &CallContext, input: &CreatePayment) -> Step<PaymentCreated> {
        match &ctx.resume {
            None => match build_create(ctx, input) {
                Ok((request, state)) => Step::Http { request, state },
                Err(e) => Step::Error(e),
            },
            Some(resume) => {
                let flow = resume.state["flow"].as_str().unwrap_or("snap");
                parse_create(flow, &resume.response).into()
            }
        }
    }

    fn payment_status(&self, ctx: &CallContext, input: &PaymentStatusQuery) -> Step<PaymentEvent> {
        if let Some(resume) = &ctx.resume {
            return parse_status(&input.order_id, &resume.response).into();
        }
        let (_, api) = base_urls(ctx);
        let url = format!("{api}/v2/{}/status", url_component(&input.order_id));
        match authorized(ctx, HttpRequest::get(url)) {
            Ok(request) => Step::http(request, Value::Null),
            Err(e) => Step::Error(e),
        }
    }

    fn parse_webhook(&self, ctx: &CallContext, input: &Webhook) -> Step<PaymentEvent> {
        match ctx.require_config("server_key") {
            Ok(key) => verify_webhook(&key, input).into(),
            Err(e) => Step::Error(e),
        }
    }

    /// Midtrans reads only the HTTP status (anything but 2xx is retried); a short text body.
    fn webhook_reply(&self, _ctx: &CallContext, _event: &PaymentEvent) -> Option<WebhookReply> {
        Some(WebhookReply::text("OK"))
    }
}

#[cfg(test)]
mod tests;
