use lpsaring_plugin_api::testing::{context, resumed};
use lpsaring_plugin_api::{Customer, PaymentItem};

use super::*;

const KEY: &str = "SB-Mid-server-TEST123";

fn ctx() -> CallContext {
    context(
        "2026-01-01T03:00:00Z",
        1_767_236_400,
        [("server_key", json!(KEY))],
    )
}

fn order(method: Option<&str>) -> CreatePayment {
    CreatePayment {
        order_id: "V-20260101-0001".into(),
        amount: 10000,
        item: PaymentItem {
            id: "plan-1d".into(),
            name: "1 hari".into(),
            price: 10000,
            quantity: 1,
        },
        customer: Customer {
            name: "Budi".into(),
            phone: "+6281234567890".into(),
            email: None,
        },
        method: method.map(str::to_owned),
        return_url: "https://portal.example/pay/finish".into(),
        expiry_minutes: 30,
    }
}

fn notification(status: &str, fraud: Option<&str>, key: &str) -> Webhook {
    let mut body = json!({
        "transaction_time": "2026-01-01 10:05:00", "transaction_status": status,
        "transaction_id": "9aed5972-5b6a-401e-894b-a32c91ed1a3a", "status_message": "midtrans payment notification",
        "status_code": "200", "payment_type": "qris", "order_id": "V-20260101-0001",
        "merchant_id": "G141532850", "gross_amount": "10000.00", "currency": "IDR",
        "new_field_midtrans_adds_later": {"x": 1}
    });
    if let Some(fraud) = fraud {
        body["fraud_status"] = json!(fraud);
    }
    body["signature_key"] = json!(signature("V-20260101-0001", "200", "10000.00", key));
    Webhook {
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: serde_json::to_vec(&body).unwrap(),
    }
}

#[test]
fn snap_request_has_the_documented_shape() {
    let Step::Http { request, state } = MidtransPlugin.create_payment(&ctx(), &order(None)) else {
        panic!()
    };
    assert_eq!(
        request.url,
        "https://app.sandbox.midtrans.com/snap/v1/transactions"
    );
    assert_eq!(
        request.header_value("Authorization"),
        Some(format!("Basic {}", base64_encode(b"SB-Mid-server-TEST123:")).as_str())
    );
    assert_eq!(state, json!({"flow": "snap"}));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body["transaction_details"],
        json!({"order_id": "V-20260101-0001", "gross_amount": 10000})
    );
    assert_eq!(body["item_details"][0]["price"], 10000);
    assert_eq!(body["customer_details"]["first_name"], "Budi");
    assert_eq!(
        body["callbacks"]["finish"],
        "https://portal.example/pay/finish"
    );
    assert_eq!(
        body["expiry"],
        json!({"start_time": "2026-01-01 03:00:00 +0000", "unit": "minutes", "duration": 30})
    );
}

#[test]
fn qris_and_va_use_the_core_api() {
    let Step::Http { request, state } = MidtransPlugin.create_payment(&ctx(), &order(Some("qris")))
    else {
        panic!()
    };
    assert_eq!(request.url, "https://api.sandbox.midtrans.com/v2/charge");
    assert_eq!(state["flow"], "core");
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["payment_type"], "qris");
    let Step::Http { request, .. } = MidtransPlugin.create_payment(&ctx(), &order(Some("bca_va")))
    else {
        panic!()
    };
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["bank_transfer"]["bank"], "bca");
    let mut production = ctx();
    production.config.insert("production".into(), json!(true));
    let Step::Http { request, .. } =
        MidtransPlugin.create_payment(&production, &order(Some("qris")))
    else {
        panic!()
    };
    assert_eq!(request.url, "https://api.midtrans.com/v2/charge");
}

#[test]
fn snap_success_and_errors() {
    let ok = r#"{"token":"66e4fa55-fdac-4ef9-91b5-733b97d1b862","redirect_url":"https://app.sandbox.midtrans.com/snap/v2/vtweb/66e4fa55-fdac-4ef9-91b5-733b97d1b862"}"#;
    let step = MidtransPlugin.create_payment(
        &resumed(&ctx(), json!({"flow": "snap"}), 201, ok),
        &order(None),
    );
    let Step::Done(created) = step else {
        panic!("{step:?}")
    };
    assert_eq!(
        created.provider_ref.as_deref(),
        Some("66e4fa55-fdac-4ef9-91b5-733b97d1b862")
    );
    assert!(created.redirect_url.unwrap().contains("/snap/v2/vtweb/"));

    let denied = parse_create(
        "snap",
        &HttpResponse::new(
            401,
            r#"{"error_messages":["Access denied, please check client or server key"]}"#,
        ),
    )
    .unwrap_err();
    assert_eq!(denied.kind, ErrorKind::Auth);
    let taken = parse_create(
        "snap",
        &HttpResponse::new(
            400,
            r#"{"error_messages":["transaction_details.order_id has already been taken"]}"#,
        ),
    )
    .unwrap_err();
    assert_eq!(taken.code, "MIDTRANS_DUPLICATE_ORDER");
    assert_eq!(
        parse_create("snap", &HttpResponse::new(503, "busy"))
            .unwrap_err()
            .kind,
        ErrorKind::Retryable
    );
    assert_eq!(
        parse_create("snap", &HttpResponse::new(201, "{not json"))
            .unwrap_err()
            .code,
        "BAD_RESPONSE"
    );
}

#[test]
fn core_charge_success_and_http_200_failures() {
    let qris = r#"{"status_code":"201","status_message":"QRIS transaction is created","transaction_id":"0aef6b1e-1a7c-4b5a-a1d4-2a5d2b8f0c11","order_id":"V-20260101-0001","merchant_id":"G141532850","gross_amount":"10000.00","currency":"IDR","payment_type":"qris","transaction_time":"2026-01-01 10:00:00","transaction_status":"pending","fraud_status":"accept","acquirer":"gopay","qr_string":"00020101021226620014COM.GO-JEK.WWW011993600914...6304ABCD","actions":[{"name":"generate-qr-code","method":"GET","url":"https://api.sandbox.midtrans.com/v2/qris/0aef6b1e/qr-code"}]}"#;
    let created = parse_create("core", &HttpResponse::new(200, qris)).unwrap();
    assert!(created.qr_string.unwrap().starts_with("000201"));
    assert_eq!(
        created.provider_ref.as_deref(),
        Some("0aef6b1e-1a7c-4b5a-a1d4-2a5d2b8f0c11")
    );

    let va = r#"{"status_code":"201","transaction_id":"t-2","order_id":"V-20260101-0001","gross_amount":"10000.00","payment_type":"bank_transfer","transaction_status":"pending","va_numbers":[{"bank":"bca","va_number":"12345678901"}]}"#;
    let created = parse_create("core", &HttpResponse::new(200, va)).unwrap();
    assert_eq!(
        (created.va_number.as_deref(), created.bank.as_deref()),
        (Some("12345678901"), Some("bca"))
    );

    // The Core API reports failures inside an HTTP 200.
    let duplicate = r#"{"status_code":"406","status_message":"The request could not be completed due to a conflict with the current state of the target resource, please try again","id":"x"}"#;
    let err = parse_create("core", &HttpResponse::new(200, duplicate)).unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_str()),
        (ErrorKind::Permanent, "MIDTRANS_DUPLICATE_ORDER")
    );
    let unavailable = r#"{"status_code":"503","status_message":"Bank connection issue"}"#;
    assert_eq!(
        parse_create("core", &HttpResponse::new(200, unavailable))
            .unwrap_err()
            .kind,
        ErrorKind::Retryable
    );
}

#[test]
fn status_answers_map_to_events() {
    let Step::Http { request, .. } = MidtransPlugin.payment_status(
        &ctx(),
        &PaymentStatusQuery {
            order_id: "V-20260101-0001".into(),
        },
    ) else {
        panic!()
    };
    assert_eq!(
        (request.method.as_str(), request.url.as_str()),
        (
            "GET",
            "https://api.sandbox.midtrans.com/v2/V-20260101-0001/status"
        )
    );
    let settled = r#"{"status_code":"200","transaction_id":"t-1","order_id":"V-20260101-0001","gross_amount":"10000.00","payment_type":"qris","transaction_status":"settlement","fraud_status":"accept"}"#;
    let event = parse_status("V-20260101-0001", &HttpResponse::new(200, settled)).unwrap();
    assert_eq!(
        (event.status, event.gross_amount, event.method.as_deref()),
        (PaymentStatus::Paid, 10000, Some("qris"))
    );
    // A Snap order whose payer has not chosen a method yet does not exist at Midtrans: pending.
    for (http, body) in [
        (
            200,
            r#"{"status_code":"404","status_message":"Transaction doesn't exist."}"#,
        ),
        (
            404,
            r#"{"status_code":"404","status_message":"Transaction doesn't exist."}"#,
        ),
    ] {
        let missing = parse_status("V-20260101-0001", &HttpResponse::new(http, body)).unwrap();
        assert_eq!(
            (missing.order_id.as_str(), missing.status),
            ("V-20260101-0001", PaymentStatus::Pending)
        );
    }
    // Other failures stay failures.
    let refused = parse_status(
        "V-20260101-0001",
        &HttpResponse::new(
            200,
            r#"{"status_code":"401","status_message":"Access denied"}"#,
        ),
    )
    .unwrap_err();
    assert_eq!(refused.code, "MIDTRANS_AUTH");
}

#[test]
fn status_mapping_follows_the_notes() {
    use PaymentStatus::*;
    let cases = [
        ("settlement", None, Paid),
        ("capture", Some("accept"), Paid),
        ("capture", Some("challenge"), Pending),
        ("capture", Some("deny"), Failed),
        ("pending", None, Pending),
        ("deny", None, Failed),
        ("failure", None, Failed),
        ("expire", None, Expired),
        ("cancel", None, Cancelled),
        ("refund", None, Refunded),
        ("partial_refund", None, Refunded),
    ];
    for (status, fraud, expected) in cases {
        assert_eq!(
            map_status(status, fraud).unwrap(),
            expected,
            "{status} {fraud:?}"
        );
    }
    assert!(map_status("teleported", None).is_err());
}

#[test]
fn webhooks_are_verified_on_the_exact_strings() {
    let event = verify_webhook(KEY, &notification("settlement", Some("accept"), KEY)).unwrap();
    assert_eq!(
        (event.order_id.as_str(), event.status, event.gross_amount),
        ("V-20260101-0001", PaymentStatus::Paid, 10000)
    );
    assert_eq!(event.raw["merchant_id"], "G141532850");
    // Through the typed trait too.
    let mut ctx = ctx();
    assert!(
        matches!(MidtransPlugin.parse_webhook(&ctx, &notification("expire", None, KEY)), Step::Done(e) if e.status == PaymentStatus::Expired)
    );
    ctx.config
        .insert("server_key".into(), json!("SB-Mid-server-OTHER"));
    assert!(
        matches!(MidtransPlugin.parse_webhook(&ctx, &notification("settlement", None, KEY)), Step::Error(e) if e.code == "BAD_SIGNATURE")
    );
}

#[test]
fn tampered_or_malformed_webhooks_are_refused() {
    let mut tampered: Value =
        serde_json::from_slice(&notification("settlement", None, KEY).body).unwrap();
    tampered["gross_amount"] = json!("10000.0"); // same number, different string: must not verify
    let webhook = Webhook {
        headers: vec![],
        body: serde_json::to_vec(&tampered).unwrap(),
    };
    assert_eq!(
        verify_webhook(KEY, &webhook).unwrap_err().code,
        "BAD_SIGNATURE"
    );
    let garbage = Webhook {
        headers: vec![],
        body: b"order_id=1&status=paid".to_vec(),
    };
    assert_eq!(verify_webhook(KEY, &garbage).unwrap_err().code, "BAD_BODY");
    let no_signature = Webhook {
        headers: vec![],
        body: br#"{"order_id":"1","status_code":"200","gross_amount":"1.00"}"#.to_vec(),
    };
    assert_eq!(
        verify_webhook(KEY, &no_signature).unwrap_err().code,
        "BAD_BODY"
    );
}

#[test]
fn manifest_allows_the_configured_hosts_only() {
    let mut ctx = ctx();
    assert_eq!(
        MidtransPlugin.manifest(&ctx).allowed_hosts,
        vec!["app.sandbox.midtrans.com", "api.sandbox.midtrans.com"]
    );
    ctx.config
        .insert("snap_base_url".into(), json!("http://127.0.0.1:9000"));
    ctx.config
        .insert("api_base_url".into(), json!("http://127.0.0.1:9000/"));
    assert_eq!(
        MidtransPlugin.manifest(&ctx).allowed_hosts,
        vec!["127.0.0.1:9000"]
    );
    assert!(
        MidtransPlugin
            .manifest(&ctx)
            .config_keys
            .iter()
            .any(|k| k.name == "server_key" && k.secret && k.required)
    );
}
