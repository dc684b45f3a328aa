//! Midtrans: Snap (card), Core QRIS and a BCA VA, through the real plugin.

use lpsaring_tests::TestApp;
use serde_json::{Value, json};

use super::Act::*;
use super::{Order, Row, Vendor, orders_with_va, run};
use crate::vendors::{MIDTRANS, SERVER_KEY, midtrans_app, sign_midtrans, start_cloud};

/// Midtrans' `status_code` for a transaction status.
fn midtrans_code(status: &str) -> &'static str {
    match status {
        "pending" => "201",
        "deny" => "202",
        "expire" => "407",
        _ => "200",
    }
}

/// A transaction as Midtrans describes it (status answer and notification alike) for the
/// order's payment type: a card through Snap, QRIS or a BCA virtual account (the fields of
/// Midtrans' documented samples).
fn midtrans_status(order: &Order, status: &str, fraud: Option<&str>) -> Value {
    let common = json!({
        "transaction_time": "2026-12-01 12:00:00", "transaction_status": status,
        "transaction_id": format!("tx-{}", order.id), "status_message": "Success, transaction is found",
        "status_code": midtrans_code(status), "order_id": order.id, "merchant_id": "G000000000",
        "gross_amount": "50000.00", "currency": "IDR", "fraud_status": fraud.unwrap_or("accept"),
    });
    let specific = match order.method {
        None => json!({"payment_type": "credit_card", "masked_card": "48111111-1114",
            "card_type": "credit", "bank": "bni", "eci": "05", "approval_code": "1578569243927",
            "channel_response_code": "00", "channel_response_message": "Approved"}),
        Some("qris") => json!({"payment_type": "qris", "transaction_type": "on-us",
            "issuer": "gopay", "acquirer": "gopay", "settlement_time": "2026-12-01 12:03:00"}),
        Some(_) => json!({"payment_type": "bank_transfer", "payment_amounts": [],
            "va_numbers": [{"va_number": "812785002530231", "bank": "bca"}],
            "expiry_time": "2026-12-02 12:00:00"}),
    };
    let mut body = common;
    if let (Value::Object(body), Value::Object(specific)) = (&mut body, specific) {
        body.extend(specific);
    }
    body
}

/// The notification Midtrans sends about the same transaction, signed with `key`.
fn midtrans_notification(order: &Order, status: &str, fraud: Option<&str>, key: &str) -> Value {
    let mut body = midtrans_status(order, status, fraud);
    body["status_message"] = json!("midtrans payment notification");
    sign_midtrans(body, key)
}

fn notify_midtrans(
    app: &TestApp,
    i: usize,
    order: &Order,
    status: &str,
    fraud: Option<&str>,
    key: &str,
) -> reqwest::RequestBuilder {
    // Both paths: the original's and the one every plugin has.
    let path = if i.is_multiple_of(2) {
        "/api/transactions/notification".to_owned()
    } else {
        format!("/api/payments/webhook/{MIDTRANS}")
    };
    app.http
        .post(app.url(&path))
        .json(&midtrans_notification(order, status, fraud, key))
}

#[tokio::test]
async fn every_midtrans_notification_through_the_plugin() {
    let cloud = crate::vendors::Cloud::default();
    let answer = cloud.status.clone();
    let url = start_cloud(cloud).await;
    let app = midtrans_app(&url).await;
    let vendor = Vendor {
        notify: notify_midtrans,
        status: midtrans_status,
        answer,
        key: SERVER_KEY,
        reply: ("OK", "text/plain; charset=utf-8"),
    };
    let rows = [
        Row {
            name: "QRIS settlement",
            method: Some("qris"),
            acts: &[Say("settlement", None)],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "card capture, fraud accept",
            method: None,
            acts: &[Say("capture", Some("accept"))],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "card capture, fraud challenge: not paid",
            method: None,
            acts: &[Say("capture", Some("challenge"))],
            status: "pending",
            grants: 0,
            flagged: false,
        },
        Row {
            name: "VA pending then settlement",
            method: Some("bca_va"),
            acts: &[Say("pending", None), Say("settlement", None)],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "settlement then a late pending: stays paid",
            method: Some("qris"),
            acts: &[
                Say("settlement", None),
                Say("pending", None),
                Say("settlement", None),
            ],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "VA pending, its settlement missed and found by a status check",
            method: Some("bca_va"),
            acts: &[Say("pending", None), Check("settlement", None)],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "card challenged, then accepted as a status check finds",
            method: None,
            acts: &[
                Say("capture", Some("challenge")),
                Check("capture", Some("challenge")),
                Check("capture", Some("accept")),
            ],
            status: "paid",
            grants: 1,
            flagged: false,
        },
        Row {
            name: "card deny",
            method: None,
            acts: &[Say("deny", Some("deny"))],
            status: "failed",
            grants: 0,
            flagged: false,
        },
        Row {
            name: "VA expire",
            method: Some("bca_va"),
            acts: &[Say("pending", None), Say("expire", None)],
            status: "expired",
            grants: 0,
            flagged: false,
        },
        Row {
            name: "VA cancel",
            method: Some("bca_va"),
            acts: &[Say("cancel", None)],
            status: "cancelled",
            grants: 0,
            flagged: false,
        },
        Row {
            name: "forged settlement",
            method: Some("qris"),
            acts: &[Forge("settlement")],
            status: "pending",
            grants: 0,
            flagged: false,
        },
        // Last: it moves the clock past every pending window.
        Row {
            name: "paid after we expired it: late payment, flagged, applied",
            method: Some("qris"),
            acts: &[Expire, Say("settlement", None)],
            status: "paid",
            grants: 1,
            flagged: true,
        },
    ];
    run(&app, &vendor, &rows).await;
    assert_eq!(orders_with_va(&app, "bca", "812785002530231").await, 4);
    app.stop().await;
}
