//! Every notification a real gateway sends, through its real plugin (`.so`) in the whole app,
//! against a local stand-in for the vendor's cloud (issue 12, "Tests"): one table per vendor,
//! each row one order (Snap, QRIS or a bank VA) and the notifications it gets, asserting the
//! final order state, the quota ledger (exactly one grant or none) and every webhook answer,
//! including the reply body the plugin says its provider expects.

use lpsaring_tests::TestApp;
use salvo::prelude::*;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::payments::create_package;
use crate::quota::{admin_token, send};
use crate::vendors::{MIDTRANS, SERVER_KEY, midtrans_app, sign_midtrans, start_cloud, vendor_app};

const GIB: i64 = 1 << 30;

/// What a row does to its order, in turn.
#[derive(Debug, Clone, Copy)]
enum Act {
    /// A correctly signed notification reporting this provider status (Midtrans:
    /// `transaction_status` and `fraud_status`; Tripay: `status`).
    Say(&'static str, Option<&'static str>),
    /// The same signed with another key: 403, and nothing changes.
    Forge(&'static str),
    /// Our pending window passes and "reconcile now" expires the order.
    Expire,
}

/// One order and what must be true after its acts.
struct Row {
    name: &'static str,
    /// The buyer's method (`None`: Snap for Midtrans, the default channel for Tripay).
    method: Option<&'static str>,
    acts: &'static [Act],
    /// The stored state (`paid`, `pending`, …).
    status: &'static str,
    /// Ledger rows keyed `order:<id>`.
    grants: i64,
    flagged: bool,
}

/// A vendor as the table sees it.
struct Vendor {
    /// The notification request for row `i`'s order, reporting `status` (and Midtrans'
    /// `fraud_status`), signed with `key`.
    notify: fn(&TestApp, usize, &Order, &str, Option<&str>, &str) -> reqwest::RequestBuilder,
    /// The signing key the plugin is configured with.
    key: &'static str,
    /// What a verified notification is answered: body and content type.
    reply: (&'static str, &'static str),
}

/// An order as the buyer got it.
struct Order {
    id: String,
    method: Option<&'static str>,
}

/// The one row `text` (with `?` placeholders) selects on the app's database.
pub(crate) async fn query_row(
    app: &TestApp,
    text: &str,
    values: Vec<sea_orm::Value>,
) -> sea_orm::QueryResult {
    let db = &app.app.db;
    db.query_one_raw(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        sql(db, text),
        values,
    ))
    .await
    .unwrap()
    .unwrap_or_else(|| panic!("no row: {text}"))
}

/// Stored state and flag of an order, read in SQL (neither is in a JSON view).
async fn stored(app: &TestApp, order_id: &str) -> (String, bool) {
    let row = query_row(
        app,
        "SELECT status, flagged FROM transactions WHERE order_id = ?",
        vec![order_id.into()],
    )
    .await;
    (
        row.try_get::<String>("", "status").unwrap(),
        row.try_get::<bool>("", "flagged").unwrap(),
    )
}

/// Ledger rows of one order's grant (quota's table, read here as an auditor would).
pub(crate) async fn grants(app: &TestApp, order_id: &str) -> i64 {
    query_row(
        app,
        "SELECT COUNT(*) AS n FROM quota_ledger WHERE idempotency_key = ?",
        vec![format!("order:{order_id}").into()],
    )
    .await
    .try_get::<i64>("", "n")
    .unwrap()
}

/// `?` placeholders as the backend wants them (`$1` … on Postgres).
pub(crate) fn sql(db: &impl ConnectionTrait, text: &str) -> String {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return text.to_owned();
    }
    let mut n = 0;
    text.chars()
        .map(|c| {
            if c == '?' {
                n += 1;
                format!("${n}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Runs every row on `app`, one buyer per row, and checks each as it ends.
async fn run(app: &TestApp, vendor: &Vendor, rows: &[Row]) {
    let admin = admin_token(app).await;
    let package_id = create_package(app, &admin, "5 GB").await;
    for (i, row) in rows.iter().enumerate() {
        let (user, token) = crate::payments::buyer(app, &format!("0812345673{i:02}")).await;
        let (status, created) = send(
            app.http
                .post(app.url("/api/transactions/initiate"))
                .json(&json!({"package_id": package_id, "payment_method": row.method})),
            Some(&token),
        )
        .await;
        assert_eq!(status, 200, "{}: {created}", row.name);
        let order = Order {
            id: created["order_id"].as_str().unwrap().to_owned(),
            method: row.method,
        };
        for act in row.acts {
            let (status, fraud, key, expected) = match *act {
                Act::Say(status, fraud) => (status, fraud, vendor.key, 200),
                Act::Forge(status) => (status, None, "forged-key", 403),
                Act::Expire => {
                    let window = app.app.settings.payments.pending_window_hours;
                    app.clock
                        .advance(chrono::Duration::hours(i64::from(window) + 1));
                    let checked = app.app.payments.reconcile_order(&order.id).await.unwrap();
                    assert_eq!(
                        checked.checked,
                        Some(lpsaring_payments::Checked::Expired),
                        "{}",
                        row.name
                    );
                    continue;
                }
            };
            let res = (vendor.notify)(app, i, &order, status, fraud, key)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), expected, "{}: {act:?}", row.name);
            let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
            let body = res.text().await.unwrap();
            if expected == 200 {
                assert_eq!(
                    (body.as_str(), content_type.as_str()),
                    vendor.reply,
                    "{}: {act:?}",
                    row.name
                );
            }
        }
        let (status, flagged) = stored(app, &order.id).await;
        let grants = grants(app, &order.id).await;
        assert_eq!(
            (status.as_str(), grants, flagged),
            (row.status, row.grants, row.flagged),
            "{}",
            row.name
        );
        let purchased = app.app.quota.show(user).await.unwrap().purchased_bytes;
        if row.status == "paid" {
            assert_eq!(purchased, 5 * GIB, "{}", row.name);
        }
        if row.grants == 0 {
            assert_eq!(purchased, 0, "{}", row.name);
        }
    }
}

/// Orders that show this VA number of this bank (the create answer reached the buyer).
async fn orders_with_va(app: &TestApp, bank: &str, number: &str) -> i64 {
    query_row(
        app,
        "SELECT COUNT(*) AS n FROM transactions WHERE va_bank = ? AND va_number = ?",
        vec![bank.into(), number.into()],
    )
    .await
    .try_get::<i64>("", "n")
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Midtrans

/// Midtrans' `status_code` for a transaction status.
fn midtrans_code(status: &str) -> &'static str {
    match status {
        "pending" => "201",
        "deny" => "202",
        "expire" => "407",
        _ => "200",
    }
}

/// A notification as Midtrans sends it for the order's payment type: a card through Snap, QRIS
/// or a BCA virtual account (the fields of Midtrans' documented samples).
fn midtrans_notification(order: &Order, status: &str, fraud: Option<&str>, key: &str) -> Value {
    let common = json!({
        "transaction_time": "2026-12-01 12:00:00", "transaction_status": status,
        "transaction_id": format!("tx-{}", order.id), "status_message": "midtrans payment notification",
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
    use Act::*;
    let cloud = crate::vendors::Cloud::default();
    let url = start_cloud(cloud).await;
    let app = midtrans_app(&url).await;
    let vendor = Vendor {
        notify: notify_midtrans,
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
    assert_eq!(orders_with_va(&app, "bca", "812785002530231").await, 3);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Tripay

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

/// Tripay's stand-in: `POST /transaction/create` answers a real-shaped closed transaction.
#[derive(Clone, Default)]
struct TripayCloud;

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

fn notify_tripay(
    app: &TestApp,
    _i: usize,
    order: &Order,
    status: &str,
    _fraud: Option<&str>,
    key: &str,
) -> reqwest::RequestBuilder {
    let channel = tripay_channel(order.method);
    let body = json!({
        "reference": "T0001000000000000006", "merchant_ref": order.id,
        "payment_method": channel, "payment_method_code": channel,
        "total_amount": 50_000 + TRIPAY_FEE, "fee_merchant": 0, "fee_customer": TRIPAY_FEE,
        "total_fee": TRIPAY_FEE, "amount_received": 50_000, "is_closed_payment": 1,
        "status": status, "paid_at": if status == "PAID" { json!(1_764_590_580) } else { Value::Null },
        "note": null
    });
    let body = serde_json::to_vec(&body).unwrap();
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
    use Act::*;
    // The HMAC here is right: Tripay's documented request-signature example.
    assert_eq!(
        hmac_sha256_hex(TRIPAY_KEY.as_bytes(), b"T0001INV555671500000"),
        "9f167eba844d1fcb369404e2bda53702e2f78f7aa12e91da6715414e65b8c86a"
    );
    let url = start_cloud(TripayCloud).await;
    let app = vendor_app(
        TRIPAY_SO,
        TRIPAY,
        json!({"api_key": "DEV-apikey-abc", "private_key": TRIPAY_KEY,
            "merchant_code": "T0001", "base_url": url}),
    )
    .await;
    let vendor = Vendor {
        notify: notify_tripay,
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
            name: "paid then refunded (the grant row stays; its reversal is separate)",
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
    assert_eq!(orders_with_va(&app, "bri", "57585748548596587").await, 3);
    app.stop().await;
}
