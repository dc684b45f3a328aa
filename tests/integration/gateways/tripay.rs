//! Tripay: QRIS and a BRI VA, through the real plugin; callbacks signed over the raw body.

use std::sync::{Arc, Mutex};

use lpsaring_tests::TestApp;
use salvo::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Act::*;
use super::{Order, Row, Vendor, orders_with_va, run};
use crate::vendors::{start_cloud, vendor_app};

const TRIPAY_SO: &str = "liblpsaring_plugin_payment_tripay.so";
const TRIPAY: &str = "payment-tripay";
const TRIPAY_KEY: &str = "ytf6ooi2gmlNPfpchd94jDOk8hRWOu";
/// What Tripay adds for the payer on top of our amount (`total_amount - fee_customer` is ours).
const TRIPAY_FEE: i64 = 750;

/// HMAC-SHA256 in lower-case hex, written here on its own (RFC 2104), not the plugin's.
fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(data)
        .finalize();
    let outer = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize();
    hex::encode(outer)
}

/// Tripay's channel code for a row's method.
fn tripay_channel(method: Option<&str>) -> &'static str {
    match method {
        Some("bri_va") => "BRIVA",
        _ => "QRIS",
    }
}

/// Tripay's stand-in: `POST /transaction/create` answers a real-shaped closed transaction,
/// `GET /merchant/transactions` the transaction in `status` (none: not found).
#[derive(Clone, Default)]
struct TripayCloud {
    status: Arc<Mutex<Option<Value>>>,
}

#[async_trait]
impl Handler for TripayCloud {
    async fn handle(
        &self,
        req: &mut Request,
        _depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let body: Value = req.parse_json().await.unwrap_or(Value::Null);
        if req.uri().path() == "/merchant/transactions" {
            let list: Vec<Value> = self.status.lock().unwrap().iter().cloned().collect();
            res.render(Json(json!({"success": true, "message": "", "data": list})));
            return;
        }
        if req.uri().path() != "/transaction/create" {
            res.status_code(StatusCode::NOT_FOUND);
            res.render(Json(
                json!({"success": false, "message": "Transaction not found"}),
            ));
            return;
        }
        let amount = body["amount"].as_i64().unwrap_or_default();
        let method = body["method"].as_str().unwrap_or("QRIS").to_owned();
        let va = method.ends_with("VA");
        res.render(Json(json!({"success": true, "message": "", "data": {
            "reference": "T0001000000000000006", "merchant_ref": body["merchant_ref"],
            "payment_selection_type": "static", "payment_method": method,
            "payment_name": if va { "BRI Virtual Account" } else { "QRIS" },
            "customer_name": body["customer_name"], "customer_email": body["customer_email"],
            "customer_phone": body["customer_phone"], "callback_url": null,
            "return_url": body["return_url"], "amount": amount + TRIPAY_FEE,
            "fee_merchant": 0, "fee_customer": TRIPAY_FEE, "total_fee": TRIPAY_FEE,
            "amount_received": amount, "pay_code": if va { json!("57585748548596587") } else { Value::Null },
            "pay_url": null, "checkout_url": "https://tripay.co.id/checkout/T0001000000000000006",
            "status": "UNPAID", "expired_time": body["expired_time"],
            "order_items": body["order_items"],
            "qr_string": if va { Value::Null } else { json!("00020101021226670016COM.NOBUBANK.WWW0118936005030000006880") },
            "qr_url": if va { Value::Null } else { json!("https://tripay.co.id/qr/T0001000000000000006") }
        }})));
    }
}

/// A transaction as Tripay describes it (callback and transaction list alike; the list says
/// `amount`, the callback `total_amount`, both with the payer's fee).
fn tripay_status(order: &Order, status: &str, _fraud: Option<&str>) -> Value {
    let channel = tripay_channel(order.method);
    json!({
        "reference": "T0001000000000000006", "merchant_ref": order.id,
        "payment_method": channel, "payment_method_code": channel,
        "amount": 50_000 + TRIPAY_FEE, "total_amount": 50_000 + TRIPAY_FEE, "fee_merchant": 0,
        "fee_customer": TRIPAY_FEE, "total_fee": TRIPAY_FEE, "amount_received": 50_000,
        "is_closed_payment": 1, "status": status,
        "paid_at": if status == "PAID" { json!(1_764_590_580) } else { Value::Null },
        "note": null
    })
}

fn notify_tripay(
    app: &TestApp,
    _i: usize,
    order: &Order,
    status: &str,
    _fraud: Option<&str>,
    key: &str,
) -> reqwest::RequestBuilder {
    let body = serde_json::to_vec(&tripay_status(order, status, None)).unwrap();
    app.http
        .post(app.url(&format!("/api/payments/webhook/{TRIPAY}")))
        .header("X-Callback-Event", "payment_status")
        .header(
            "X-Callback-Signature",
            hmac_sha256_hex(key.as_bytes(), &body),
        )
        .header("Content-Type", "application/json")
        .body(body)
}

#[tokio::test]
async fn every_tripay_callback_through_the_plugin() {
    // The HMAC here is right: Tripay's documented request-signature example.
    assert_eq!(
        hmac_sha256_hex(TRIPAY_KEY.as_bytes(), b"T0001INV555671500000"),
        "9f167eba844d1fcb369404e2bda53702e2f78f7aa12e91da6715414e65b8c86a"
    );
    let cloud = TripayCloud::default();
    let answer = cloud.status.clone();
    let url = start_cloud(cloud).await;
    let app = vendor_app(
        TRIPAY_SO,
        TRIPAY,
        json!({"api_key": "DEV-apikey-abc", "private_key": TRIPAY_KEY,
            "merchant_code": "T0001", "base_url": url}),
    )
    .await;
    let vendor = Vendor {
        notify: notify_tripay,
        status: tripay_status,
        answer,
        key: TRIPAY_KEY,
        reply: (r#"{"success":true}"#, "application/json"),
    };
    let rows = [
        Row {
            name: "QRIS paid",
            method: None,
            acts: &[Say("PAID", None)],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "VA unpaid then paid",
            method: Some("bri_va"),
            acts: &[Say("UNPAID", None), Say("PAID", None)],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "paid then a late unpaid: stays paid",
            method: None,
            acts: &[Say("PAID", None), Say("UNPAID", None), Say("PAID", None)],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "callback missed: unpaid, then paid as a status check finds",
            method: Some("bri_va"),
            acts: &[Check("UNPAID", None), Check("PAID", None)],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "expired",
            method: Some("bri_va"),
            acts: &[Say("EXPIRED", None)],
            status: "expired",
            grants: 0,
            flagged: false,
        },
        Row {
            name: "failed",
            method: None,
            acts: &[Say("FAILED", None)],
            status: "failed",
            grants: 0,
            flagged: false,
        },
        Row {
            name: "paid then refunded (the grant row stays; a reversing row takes the unused bytes back)",
            method: None,
            acts: &[Say("PAID", None), Say("REFUND", None)],
            status: "refunded",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "refund of an unpaid order: nothing",
            method: None,
            acts: &[Say("REFUND", None)],
            status: "pending",
            grants: 0,
            flagged: false,
        },
        Row {
            name: "forged paid",
            method: Some("bri_va"),
            acts: &[Forge("PAID")],
            status: "pending",
            grants: 0,
            flagged: false,
        },
        // Last: it moves the clock past every pending window.
        Row {
            name: "paid after we expired it: late payment, flagged, applied",
            method: None,
            acts: &[Expire, Say("PAID", None)],
            status: "paid",
            grants: 1,
            flagged: true,
        },
    ];
    run(&app, &vendor, &rows).await;
    assert_eq!(orders_with_va(&app, "bri", "57585748548596587").await, 4);
    app.stop().await;
}
