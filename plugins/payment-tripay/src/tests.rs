use lpsaring_plugin_api::testing::{context, resumed};
use lpsaring_plugin_api::{Customer, PaymentItem};

use super::*;

const PRIVATE: &str = "ytf6ooi2gmlNPfpchd94jDOk8hRWOu";

fn ctx() -> CallContext {
    context(
        "2026-01-01T00:00:00Z",
        1_767_225_600,
        [
            ("api_key", json!("DEV-apikey-abc")),
            ("private_key", json!(PRIVATE)),
            ("merchant_code", json!("T0001")),
        ],
    )
}

fn order(method: Option<&str>) -> CreatePayment {
    CreatePayment {
        order_id: "INV55567".into(),
        amount: 1_500_000,
        item: PaymentItem {
            id: "plan-30d".into(),
            name: "30 hari".into(),
            price: 1_500_000,
            quantity: 1,
        },
        customer: Customer {
            name: "Budi".into(),
            phone: "+6281234567890".into(),
            email: None,
        },
        method: method.map(str::to_owned),
        return_url: "https://portal.example/pay/finish".into(),
        expiry_minutes: 60,
    }
}

fn callback(status: &str, key: &str) -> Webhook {
    let body = format!(
        r#"{{"reference":"T0001000000000000006","merchant_ref":"INV55567","payment_method":"BRIVA","payment_method_code":"BRIVA","total_amount":1504250,"fee_merchant":0,"fee_customer":4250,"total_fee":4250,"amount_received":1500000,"is_closed_payment":1,"status":"{status}","paid_at":1767226000,"note":null}}"#
    );
    Webhook {
        headers: vec![
            ("X-Callback-Event".into(), "payment_status".into()),
            (
                "X-Callback-Signature".into(),
                hmac_hex(key, body.as_bytes()),
            ),
        ],
        body: body.into_bytes(),
    }
}

#[test]
fn request_signature_matches_the_documented_example() {
    // Tripay's documentation: T0001 + INV55567 + 1500000 with this key.
    assert_eq!(
        hmac_hex(PRIVATE, b"T0001INV555671500000"),
        "9f167eba844d1fcb369404e2bda53702e2f78f7aa12e91da6715414e65b8c86a"
    );
}

#[test]
fn create_request_shape() {
    let Step::Http { request, .. } = TripayPlugin.create_payment(&ctx(), &order(Some("bri_va")))
    else {
        panic!()
    };
    assert_eq!(
        request.url,
        "https://tripay.co.id/api-sandbox/transaction/create"
    );
    assert_eq!(
        request.header_value("Authorization"),
        Some("Bearer DEV-apikey-abc")
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["method"], "BRIVA");
    assert_eq!(body["merchant_ref"], "INV55567");
    assert_eq!(body["customer_phone"], "081234567890");
    assert_eq!(body["expired_time"], 1_767_225_600 + 3600);
    assert_eq!(
        body["signature"],
        "9f167eba844d1fcb369404e2bda53702e2f78f7aa12e91da6715414e65b8c86a"
    );
    assert_eq!(channel(None, "QRIS"), "QRIS");
    assert_eq!(channel(Some("qris"), "X"), "QRIS");
    assert_eq!(channel(Some("alfamart"), "X"), "ALFAMART");
}

#[test]
fn create_success_gives_the_pay_code_and_checkout() {
    let ok = r#"{"success":true,"message":"","data":{"reference":"T0001000000000000006","merchant_ref":"INV55567","payment_selection_type":"static","payment_method":"BRIVA","payment_name":"BRI Virtual Account","amount":1500000,"fee_merchant":1500,"fee_customer":0,"pay_code":"57585748548596587","pay_url":null,"checkout_url":"https://tripay.co.id/checkout/T0001000000000000006","status":"UNPAID","expired_time":1767229200,"qr_string":null,"qr_url":null}}"#;
    let Step::Done(created) =
        TripayPlugin.create_payment(&resumed(&ctx(), Value::Null, 200, ok), &order(None))
    else {
        panic!()
    };
    assert_eq!(created.va_number.as_deref(), Some("57585748548596587"));
    assert_eq!(created.bank.as_deref(), Some("bri"));
    assert_eq!(
        created.provider_ref.as_deref(),
        Some("T0001000000000000006")
    );
    assert_eq!(
        created.redirect_url.as_deref(),
        Some("https://tripay.co.id/checkout/T0001000000000000006")
    );
}

#[test]
fn failures_inside_http_200_and_provider_errors() {
    let err = parse_create(&HttpResponse::new(
        200,
        r#"{"success":false,"message":"Invalid API Key"}"#,
    ))
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    let err = parse_create(&HttpResponse::new(
        400,
        r#"{"success":false,"message":"Invalid signature"}"#,
    ))
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    let err = parse_create(&HttpResponse::new(
        400,
        r#"{"success":false,"message":"Payment channel is not enabled"}"#,
    ))
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert_eq!(
        parse_create(&HttpResponse::new(502, "<html>"))
            .unwrap_err()
            .kind,
        ErrorKind::Retryable
    );
    assert_eq!(
        parse_create(&HttpResponse::new(200, "{{{"))
            .unwrap_err()
            .code,
        "BAD_RESPONSE"
    );
}

#[test]
fn status_is_looked_up_by_merchant_ref() {
    let Step::Http { request, .. } = TripayPlugin.payment_status(
        &ctx(),
        &PaymentStatusQuery {
            order_id: "INV55567".into(),
        },
    ) else {
        panic!()
    };
    assert_eq!(
        request.url,
        "https://tripay.co.id/api-sandbox/merchant/transactions?merchant_ref=INV55567"
    );
    let list = r#"{"success":true,"message":"","data":[{"reference":"T0001000000000000006","merchant_ref":"INV55567","payment_method":"BRIVA","amount":1500000,"fee_customer":0,"status":"PAID","paid_at":1767226000}],"pagination":{"total":1}}"#;
    let event = parse_status("INV55567", &HttpResponse::new(200, list)).unwrap();
    assert_eq!(
        (event.status, event.gross_amount),
        (PaymentStatus::Paid, 1_500_000)
    );
    let empty = r#"{"success":true,"message":"","data":[]}"#;
    assert_eq!(
        parse_status("INV55567", &HttpResponse::new(200, empty))
            .unwrap_err()
            .code,
        "TRIPAY_NOT_FOUND"
    );
}

#[test]
fn callbacks_are_verified_over_the_raw_body() {
    let event = verify_webhook(PRIVATE, &callback("PAID", PRIVATE)).unwrap();
    assert_eq!(
        (event.order_id.as_str(), event.status, event.gross_amount),
        ("INV55567", PaymentStatus::Paid, 1_500_000)
    );
    assert_eq!(
        verify_webhook(PRIVATE, &callback("EXPIRED", PRIVATE))
            .unwrap()
            .status,
        PaymentStatus::Expired
    );
    assert_eq!(
        verify_webhook(PRIVATE, &callback("PAID", "another-key"))
            .unwrap_err()
            .code,
        "BAD_SIGNATURE"
    );

    // Re-serialising the JSON (spacing) breaks the signature: the raw bytes are what count.
    let mut reformatted = callback("PAID", PRIVATE);
    let value: Value = serde_json::from_slice(&reformatted.body).unwrap();
    reformatted.body = serde_json::to_vec_pretty(&value).unwrap();
    assert_eq!(
        verify_webhook(PRIVATE, &reformatted).unwrap_err().code,
        "BAD_SIGNATURE"
    );

    let mut no_header = callback("PAID", PRIVATE);
    no_header
        .headers
        .retain(|(k, _)| k != "X-Callback-Signature");
    assert_eq!(
        verify_webhook(PRIVATE, &no_header).unwrap_err().code,
        "BAD_SIGNATURE"
    );

    let garbage = b"not json".to_vec();
    let signed_garbage = Webhook {
        headers: vec![
            ("X-Callback-Event".into(), "payment_status".into()),
            ("X-Callback-Signature".into(), hmac_hex(PRIVATE, &garbage)),
        ],
        body: garbage,
    };
    assert_eq!(
        verify_webhook(PRIVATE, &signed_garbage).unwrap_err().code,
        "BAD_BODY"
    );
}

#[test]
fn a_verified_callback_answers_with_the_reply_tripay_expects() {
    use lpsaring_plugin_api::{CallEnvelope, ParsedWebhook, Payment, dispatch, ops};
    let envelope = |webhook: &Webhook| CallEnvelope {
        protocol: PROTOCOL_VERSION,
        context: ctx(),
        input: serde_json::to_value(webhook).unwrap(),
    };
    let plugin = Payment(TripayPlugin);
    let Step::Done(answer) = dispatch(
        &plugin,
        ops::PARSE_WEBHOOK,
        &envelope(&callback("PAID", PRIVATE)),
    ) else {
        panic!("a verified callback is done")
    };
    let parsed: ParsedWebhook = serde_json::from_value(answer).unwrap();
    assert_eq!(parsed.event.status, PaymentStatus::Paid);
    let reply = parsed.reply.expect("Tripay's reply");
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&reply.body).unwrap(),
        json!({"success": true})
    );
    // A forged one is an error: the host answers it, not the plugin.
    let forged = dispatch(
        &plugin,
        ops::PARSE_WEBHOOK,
        &envelope(&callback("PAID", "another-key")),
    );
    assert!(matches!(forged, Step::Error(e) if e.code == "BAD_SIGNATURE"));
}
