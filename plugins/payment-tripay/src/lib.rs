//! Tripay (<https://tripay.co.id>), a payment aggregator many small Indonesian hotspot and voucher
//! sellers use (low minimums, QRIS, bank VAs, Alfamart/Indomaret).
//!
//! Chosen as the second vendor because it is shaped unlike Midtrans at every point the ABI must
//! carry: a *signed request* (`signature = hex(hmac_sha256(private_key, merchant_code +
//! merchant_ref + amount))`), a Bearer API key, a method that must be chosen up front, status
//! looked up by merchant reference, and webhooks signed over the *raw body bytes*
//! (`X-Callback-Signature = hex(hmac_sha256(private_key, body))`, `X-Callback-Event:
//! payment_status`), which proves the host hands the body through untouched.
//!
//! - `create_payment`: `POST {base}/transaction/create` (JSON). Method hint mapping: `qris` →
//!   `QRIS`, `bca_va` → `BCAVA`, … ; anything else is upper-cased; none → config `default_method`
//!   (default `QRIS`).
//! - `payment_status`: `GET {base}/merchant/transactions?merchant_ref=<order_id>` (the transaction
//!   list filtered by our reference; the detail endpoint wants Tripay's own reference).
//! - `parse_webhook`: signature and event header checked; the event's amount is `total_amount -
//!   fee_customer`, i.e. the order amount we asked for; the reply is `{"success": true}`, without
//!   which Tripay keeps retrying.
//!
//! Config `[plugins.payment-tripay]`: `api_key` (secret, required), `private_key` (secret,
//! required), `merchant_code` (required), `production` (bool; default sandbox
//! `https://tripay.co.id/api-sandbox`), `base_url` override, `default_method`, `callback_url`.

use hmac::{Hmac, Mac};
use lpsaring_plugin_api::encoding::url_component;
use lpsaring_plugin_api::{
    CallContext, ConfigKey, CreatePayment, ErrorKind, HttpRequest, HttpResponse, Manifest,
    PROTOCOL_VERSION, PaymentCreated, PaymentEvent, PaymentPlugin, PaymentStatus,
    PaymentStatusQuery, PluginError, PluginKind, Step, Webhook, WebhookReply, export_plugin,
    parse_rupiah, phone_digits, url_authority,
};
use serde_json::{Value, json};
use sha2::Sha256;

export_plugin!(payment: TripayPlugin);

type HmacSha256 = Hmac<Sha256>;

/// See the crate docs.
#[derive(Debug, Default)]
pub struct TripayPlugin;

pub fn base_url(ctx: &CallContext) -> String {
    let default = if ctx.config_bool("production").unwrap_or(false) {
        "https://tripay.co.id/api"
    } else {
        "https://tripay.co.id/api-sandbox"
    };
    ctx.config_str("base_url")
        .unwrap_or_else(|| default.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// Lower-case hex HMAC-SHA256.
pub fn hmac_hex(key: &str, data: &[u8]) -> String {
    // HMAC accepts keys of any length; the error branch cannot happen.
    let Ok(mut mac) = HmacSha256::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// Our method hint in Tripay's channel codes.
pub fn channel(method: Option<&str>, default: &str) -> String {
    match method {
        None | Some("") => default.to_owned(),
        Some("qris") => "QRIS".to_owned(),
        Some(m) => m.replace('_', "").to_ascii_uppercase(),
    }
}

fn authorized(ctx: &CallContext, request: HttpRequest) -> Result<HttpRequest, PluginError> {
    let key = ctx.require_config("api_key")?;
    Ok(request.header("Authorization", format!("Bearer {key}")))
}

pub fn build_create(ctx: &CallContext, input: &CreatePayment) -> Result<HttpRequest, PluginError> {
    let private_key = ctx.require_config("private_key")?;
    let merchant_code = ctx.require_config("merchant_code")?;
    let default_method = ctx
        .config_str("default_method")
        .unwrap_or_else(|| "QRIS".to_owned());
    let method = channel(input.method.as_deref(), &default_method);
    let digits = phone_digits(&input.customer.phone)?;
    // Tripay wants the local form (08…) for Indonesian numbers and requires an email.
    let local_phone = match digits.strip_prefix("62") {
        Some(rest) => format!("0{rest}"),
        None => digits.clone(),
    };
    let email = input
        .customer
        .email
        .clone()
        .unwrap_or_else(|| format!("{digits}@customer.invalid"));
    let signature = hmac_hex(
        &private_key,
        format!("{merchant_code}{}{}", input.order_id, input.amount).as_bytes(),
    );
    let mut body = json!({
        "method": method,
        "merchant_ref": input.order_id,
        "amount": input.amount,
        "customer_name": input.customer.name,
        "customer_email": email,
        "customer_phone": local_phone,
        "order_items": [{"sku": input.item.id, "name": input.item.name, "price": input.item.price, "quantity": input.item.quantity}],
        "expired_time": ctx.now_unix + i64::from(input.expiry_minutes) * 60,
        "signature": signature,
    });
    if !input.return_url.is_empty() {
        body["return_url"] = json!(input.return_url);
    }
    if let Some(callback) = ctx.config_str("callback_url") {
        body["callback_url"] = json!(callback);
    }
    authorized(
        ctx,
        HttpRequest::post(format!("{}/transaction/create", base_url(ctx))).json(&body),
    )
}

fn tripay_error(status: u16, message: &str) -> PluginError {
    let lower = message.to_ascii_lowercase();
    let text = format!("Tripay (HTTP {status}): {message}");
    if status == 429 || status >= 500 {
        PluginError::new(ErrorKind::Retryable, "TRIPAY_UNAVAILABLE", text)
    } else if status == 401
        || status == 403
        || lower.contains("api key")
        || lower.contains("signature")
        || lower.contains("unauthori")
    {
        PluginError::new(ErrorKind::Auth, "TRIPAY_AUTH", text)
    } else if lower.contains("merchant_ref")
        || lower.contains("already")
        || lower.contains("duplicate")
    {
        PluginError::new(ErrorKind::Permanent, "TRIPAY_DUPLICATE_ORDER", text)
    } else if lower.contains("channel") || lower.contains("method") || lower.contains("amount") {
        PluginError::new(ErrorKind::InvalidInput, "TRIPAY_BAD_REQUEST", text)
    } else {
        PluginError::new(ErrorKind::Permanent, "TRIPAY_REJECTED", text)
    }
}

/// `{"success": true, "data": …}` or the failure it carries (also inside HTTP 200).
fn envelope_data(response: &HttpResponse) -> Result<Value, PluginError> {
    if response.status == 429 || response.status >= 500 {
        return Err(tripay_error(response.status, &response.body_snippet()));
    }
    let body: Value = response.json()?;
    if body["success"] != Value::Bool(true) {
        let message = body["message"].as_str().unwrap_or("no message");
        return Err(tripay_error(response.status, message));
    }
    Ok(body["data"].clone())
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn parse_create(response: &HttpResponse) -> Result<PaymentCreated, PluginError> {
    let data = envelope_data(response)?;
    let reference = text(&data["reference"])
        .ok_or_else(|| PluginError::permanent("BAD_RESPONSE", "no reference in the answer"))?;
    let method = text(&data["payment_method"]).unwrap_or_default();
    let is_va = method.ends_with("VA");
    Ok(PaymentCreated {
        redirect_url: text(&data["checkout_url"]).or_else(|| text(&data["pay_url"])),
        qr_string: text(&data["qr_string"]),
        va_number: if is_va { text(&data["pay_code"]) } else { None },
        bank: is_va.then(|| method.trim_end_matches("VA").to_ascii_lowercase()),
        provider_ref: Some(reference),
    })
}

pub fn map_status(status: &str) -> Result<PaymentStatus, PluginError> {
    Ok(match status {
        "UNPAID" => PaymentStatus::Pending,
        "PAID" => PaymentStatus::Paid,
        "EXPIRED" => PaymentStatus::Expired,
        "FAILED" => PaymentStatus::Failed,
        "REFUND" | "REFUNDED" => PaymentStatus::Refunded,
        other => {
            return Err(PluginError::invalid_input(
                "UNKNOWN_STATUS",
                format!("unknown Tripay status {other:?}"),
            ));
        }
    })
}

/// A transaction (status list item or callback body) as an event.
pub fn event_from(tx: &Value, amount_field: &str) -> Result<PaymentEvent, PluginError> {
    let order_id = text(&tx["merchant_ref"])
        .ok_or_else(|| PluginError::invalid_input("BAD_BODY", "merchant_ref missing"))?;
    let status = map_status(tx["status"].as_str().unwrap_or_default())?;
    let total = parse_rupiah(&tx[amount_field])?;
    let fee_customer = if tx["fee_customer"].is_null() {
        0
    } else {
        parse_rupiah(&tx["fee_customer"])?
    };
    Ok(PaymentEvent {
        order_id,
        status,
        gross_amount: total - fee_customer,
        provider_ref: text(&tx["reference"]),
        method: text(&tx["payment_method"]),
        raw: tx.clone(),
    })
}

pub fn parse_status(order_id: &str, response: &HttpResponse) -> Result<PaymentEvent, PluginError> {
    let data = envelope_data(response)?;
    let list = data.as_array().cloned().unwrap_or_default();
    // The newest attempt for our reference comes first in Tripay's list.
    let tx = list
        .iter()
        .find(|tx| tx["merchant_ref"].as_str() == Some(order_id))
        .ok_or_else(|| {
            PluginError::permanent(
                "TRIPAY_NOT_FOUND",
                format!("no Tripay transaction for {order_id}"),
            )
        })?;
    event_from(tx, "amount").map_err(|e| PluginError::permanent("BAD_RESPONSE", e.message))
}

pub fn verify_webhook(private_key: &str, webhook: &Webhook) -> Result<PaymentEvent, PluginError> {
    let given = webhook
        .header_value("X-Callback-Signature")
        .ok_or_else(|| {
            PluginError::invalid_input("BAD_SIGNATURE", "X-Callback-Signature header missing")
        })?;
    let given = hex::decode(given.trim())
        .map_err(|_| PluginError::invalid_input("BAD_SIGNATURE", "signature is not hex"))?;
    let Ok(mut mac) = HmacSha256::new_from_slice(private_key.as_bytes()) else {
        return Err(PluginError::invalid_input("BAD_SIGNATURE", "unusable key"));
    };
    mac.update(&webhook.body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given).map_err(|_| {
        PluginError::invalid_input(
            "BAD_SIGNATURE",
            "callback signature does not match the private key",
        )
    })?;
    match webhook.header_value("X-Callback-Event") {
        Some("payment_status") => {}
        other => {
            return Err(PluginError::invalid_input(
                "UNKNOWN_EVENT",
                format!("unexpected X-Callback-Event {other:?}"),
            ));
        }
    }
    let body: Value = serde_json::from_slice(&webhook.body).map_err(|e| {
        PluginError::invalid_input("BAD_BODY", format!("callback is not JSON: {e}"))
    })?;
    event_from(&body, "total_amount")
}

impl PaymentPlugin for TripayPlugin {
    fn manifest(&self, ctx: &CallContext) -> Manifest {
        let mut allowed_hosts = vec!["tripay.co.id".to_owned()];
        allowed_hosts.extend(
            ctx.config_str("base_url")
                .as_deref()
                .and_then(url_authority),
        );
        Manifest {
            name: "payment-tripay".to_owned(),
            kind: PluginKind::Payment,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol_version: PROTOCOL_VERSION,
            description: "Tripay closed payments (QRIS, bank VA, retail outlets)".to_owned(),
            config_keys: vec![
                ConfigKey::new("api_key", "Tripay API key")
                    .secret()
                    .required(),
                ConfigKey::new(
                    "private_key",
                    "Tripay private key (signs requests and callbacks)",
                )
                .secret()
                .required(),
                ConfigKey::new("merchant_code", "Tripay merchant code, e.g. T0001").required(),
                ConfigKey::new("production", "true for live URLs; default false (sandbox)"),
                ConfigKey::new("base_url", "override of the API base URL"),
                ConfigKey::new(
                    "default_method",
                    "channel when the order names none; default QRIS",
                ),
                ConfigKey::new(
                    "callback_url",
                    "callback URL; default: the one set in the Tripay dashboard",
                ),
            ],
            allowed_hosts,
            development_only: false,
            // Tripay's checkout pages and their assets.
            walled_garden_hosts: ["tripay.co.id", "*.tripay.co.id"]
                .map(str::to_owned)
                .to_vec(),
        }
    }

    fn create_payment(&self, ctx: &CallContext, input: &CreatePayment) -> Step<PaymentCreated> {
        match &ctx.resume {
            Some(resume) => parse_create(&resume.response).into(),
            None => match build_create(ctx, input) {
                Ok(request) => Step::http(request, Value::Null),
                Err(e) => Step::Error(e),
            },
        }
    }

    fn payment_status(&self, ctx: &CallContext, input: &PaymentStatusQuery) -> Step<PaymentEvent> {
        if let Some(resume) = &ctx.resume {
            return parse_status(&input.order_id, &resume.response).into();
        }
        let url = format!(
            "{}/merchant/transactions?merchant_ref={}",
            base_url(ctx),
            url_component(&input.order_id)
        );
        match authorized(ctx, HttpRequest::get(url)) {
            Ok(request) => Step::http(request, Value::Null),
            Err(e) => Step::Error(e),
        }
    }

    fn parse_webhook(&self, ctx: &CallContext, input: &Webhook) -> Step<PaymentEvent> {
        match ctx.require_config("private_key") {
            Ok(key) => verify_webhook(&key, input).into(),
            Err(e) => Step::Error(e),
        }
    }

    /// Tripay counts a callback as delivered only when the answer is `{"success": true}`.
    fn webhook_reply(&self, _ctx: &CallContext, _event: &PaymentEvent) -> Option<WebhookReply> {
        Some(WebhookReply::json(&json!({"success": true})))
    }
}

#[cfg(test)]
mod tests;
