//! A real vendor plugin (Midtrans) in the whole app, against a local stand-in for Midtrans'
//! cloud (a small salvo server on 127.0.0.1 answering with real-shaped Core API payloads): a QRIS
//! order shows its QR on the status page, a Snap order nobody has paid yet stays pending when
//! Midtrans answers 404, and a missed notification is recovered by reconciliation, once.

use std::sync::{Arc, Mutex};

use lpsaring_tests::{TestApp, built_plugin, spawn_app_with};
use salvo::prelude::*;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::payments::{buyer, create_package, order_status};
use crate::quota::{admin_token, send};

const MIDTRANS_SO: &str = "liblpsaring_plugin_payment_midtrans.so";
pub(crate) const MIDTRANS: &str = "payment-midtrans";
pub(crate) const SERVER_KEY: &str = "SB-Mid-server-INTEGRATION";

/// What the stand-in answers to `GET /v2/{order}/status`: `None` is Midtrans' 404 ("Transaction
/// doesn't exist", a Snap order whose payer has not chosen a method yet).
#[derive(Clone, Default)]
pub(crate) struct Cloud {
    pub(crate) status: Arc<Mutex<Option<Value>>>,
    status_checks: Arc<Mutex<usize>>,
}

#[async_trait]
impl Handler for Cloud {
    async fn handle(
        &self,
        req: &mut Request,
        _depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let path = req.uri().path().to_owned();
        let body: Value = req.parse_json().await.unwrap_or(Value::Null);
        let order_id = body["transaction_details"]["order_id"].clone();
        let gross = body["transaction_details"]["gross_amount"].clone();
        match (req.method().as_str(), path.as_str()) {
            ("POST", "/v2/charge") if body["payment_type"] == "bank_transfer" => {
                res.render(Json(json!({
                    "status_code": "201", "status_message": "Success, Bank Transfer transaction is created",
                    "transaction_id": "9aed5972-5b6a-401e-894b-a32c91ed1a3a", "order_id": order_id,
                    "merchant_id": "G000000000", "gross_amount": format!("{gross}.00"),
                    "currency": "IDR", "payment_type": "bank_transfer",
                    "transaction_time": "2026-12-01 12:00:00", "transaction_status": "pending",
                    "fraud_status": "accept",
                    "va_numbers": [{"bank": body["bank_transfer"]["bank"], "va_number": "812785002530231"}],
                    "expiry_time": "2026-12-02 12:00:00"
                })));
            }
            ("POST", "/v2/charge") => res.render(Json(json!({
                "status_code": "201", "status_message": "QRIS transaction is created",
                "transaction_id": "0a1b2c3d-qris", "order_id": order_id,
                "merchant_id": "G000000000", "gross_amount": format!("{gross}.00"),
                "currency": "IDR", "payment_type": "qris", "transaction_time": "2026-12-01 12:00:00",
                "transaction_status": "pending", "fraud_status": "accept",
                "actions": [{"name": "generate-qr-code", "method": "GET",
                    "url": "https://api.sandbox.midtrans.com/v2/qris/0a1b2c3d-qris/qr-code"}],
                "qr_string": "00020101021126610014COM.GO-JEK.WWW01189360091434506469550210G0000000000303UMI51440014ID.CO.QRIS.WWW0215ID20200000000000303UMI5204481253033605802ID5904Demo6007JAKARTA6105121606304ABCD",
                "acquirer": "gopay", "expiry_time": "2026-12-01 12:15:00"
            }))),
            ("POST", "/snap/v1/transactions") => {
                res.status_code(StatusCode::CREATED);
                res.render(Json(json!({
                    "token": "66e4fa55-fdac-4ef9-91b5-733b97d1b862",
                    "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/redirection/66e4fa55-fdac-4ef9-91b5-733b97d1b862"
                })));
            }
            ("GET", p) if p.starts_with("/v2/") && p.ends_with("/status") => {
                *self.status_checks.lock().unwrap() += 1;
                match self.status.lock().unwrap().clone() {
                    Some(answer) => res.render(Json(answer)),
                    None => {
                        res.status_code(StatusCode::NOT_FOUND);
                        res.render(Json(json!({
                            "status_code": "404",
                            "status_message": "Transaction doesn't exist.",
                            "id": "e2a3f3a1-0000-0000-0000-000000000000"
                        })));
                    }
                }
            }
            _ => {
                res.status_code(StatusCode::NOT_FOUND);
                res.render(Json(json!({"status_code": "404", "status_message": "not found"})));
            }
        }
    }
}

/// A vendor's stand-in (`cloud` answers every path) on 127.0.0.1, and its base URL.
pub(crate) async fn start_cloud(cloud: impl Handler) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = salvo::conn::tcp::TcpAcceptor::try_from(listener).unwrap();
    tokio::spawn(Server::new(acceptor).serve(Router::with_path("{**rest}").goal(cloud)));
    format!("http://{addr}")
}

/// The app taking orders through the real vendor plugin `so` (named `plugin`) with `config`
/// (which points it at a stand-in); the jobs are left to the test.
pub(crate) async fn vendor_app(so: &'static str, plugin: &'static str, config: Value) -> TestApp {
    spawn_app_with(
        move |s| {
            s.quota.sync_interval_secs = 3_600;
            s.payments.reconcile_interval_secs = 3_600;
            std::fs::copy(built_plugin(so), s.plugins.dir.join(so)).unwrap();
            s.plugins.plugin_config.insert(plugin.into(), config);
            s.payments.plugin = Some(plugin.to_owned());
        },
        Router::new(),
    )
    .await
}

/// The app with the real Midtrans plugin pointed at the stand-in.
pub(crate) async fn midtrans_app(cloud_url: &str) -> TestApp {
    vendor_app(
        MIDTRANS_SO,
        MIDTRANS,
        json!({"server_key": SERVER_KEY, "api_base_url": cloud_url, "snap_base_url": cloud_url}),
    )
    .await
}

/// A Midtrans status answer (the notification has the same shape plus its signature).
fn midtrans_status(order_id: &str, status: &str, gross: &str) -> Value {
    json!({
        "status_code": if status == "pending" { "201" } else { "200" },
        "status_message": "Success, transaction is found",
        "transaction_id": "0a1b2c3d-qris", "order_id": order_id, "gross_amount": gross,
        "currency": "IDR", "payment_type": "qris", "transaction_time": "2026-12-01 12:00:00",
        "transaction_status": status, "fraud_status": "accept",
        "settlement_time": "2026-12-01 12:03:00", "merchant_id": "G000000000"
    })
}

/// Signs a Midtrans notification body with `server_key`: `signature_key = hex(sha512(order_id +
/// status_code + gross_amount + server_key))`, computed here on its own, not by the plugin.
pub(crate) fn sign_midtrans(mut body: Value, server_key: &str) -> Value {
    let field = |name: &str| body[name].as_str().unwrap().to_owned();
    let signed = format!(
        "{}{}{}{server_key}",
        field("order_id"),
        field("status_code"),
        field("gross_amount")
    );
    body["signature_key"] = json!(hex::encode(sha2::Sha512::digest(signed.as_bytes())));
    body
}

/// A notification as Midtrans signs it.
fn notification(order_id: &str, status: &str, gross: &str) -> Value {
    sign_midtrans(midtrans_status(order_id, status, gross), SERVER_KEY)
}

#[tokio::test]
async fn a_missed_midtrans_notification_is_recovered_by_reconciliation_once() {
    let cloud = Cloud::default();
    let url = start_cloud(cloud.clone()).await;
    let app = midtrans_app(&url).await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    let (user, token) = buyer(&app, crate::payments::BUYER).await;

    // A QRIS order through the Core API: the status page draws the QR itself.
    let (status, order) = send(
        app.http
            .post(app.url("/api/transactions/initiate"))
            .json(&json!({"package_id": package_id, "payment_method": "qris"})),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200, "{order}");
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    assert!(
        order["qr_string"].as_str().unwrap().starts_with("000201"),
        "{order}"
    );
    let status_url = order["status_url"].as_str().unwrap();
    let page_path = &status_url[status_url.find("/bayar/").unwrap()..];
    let html = app.get(page_path).await.text().await.unwrap();
    assert!(html.contains("<svg width=\"240\""), "{html}");
    assert!(html.contains("data-status=\"PENDING\""), "{html}");

    // Nobody paid yet and Midtrans knows no transaction (404): still pending after the check.
    app.clock.advance(chrono::Duration::seconds(61));
    let report = app.app.payments.reconcile_due().await.unwrap();
    assert_eq!(
        (report.checked, report.settled, report.errors),
        (1, 0, 0),
        "{report:?}"
    );
    assert_eq!(
        order_status(&app, &token, &order_id).await["status"],
        "PENDING"
    );

    // Paid at Midtrans, but the notification never arrived: the next due check applies it.
    *cloud.status.lock().unwrap() = Some(midtrans_status(&order_id, "settlement", "50000.00"));
    let report = app.app.payments.reconcile_due().await.unwrap();
    assert_eq!(report.checked, 0, "not due yet (backoff): {report:?}");
    app.clock.advance(chrono::Duration::seconds(121));
    let report = app.app.payments.reconcile_due().await.unwrap();
    assert_eq!((report.checked, report.settled), (1, 1), "{report:?}");
    let view = order_status(&app, &token, &order_id).await;
    assert_eq!(view["status"], "SUCCESS", "{view}");
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        5 << 30
    );

    // Once: later passes, "reconcile now" and the late notification change nothing.
    let checks = *cloud.status_checks.lock().unwrap();
    app.clock.advance(chrono::Duration::hours(2));
    let report = app.app.payments.reconcile_due().await.unwrap();
    assert_eq!(report.checked, 0, "{report:?}");
    assert_eq!(
        *cloud.status_checks.lock().unwrap(),
        checks,
        "a paid order is not asked again"
    );
    let (_, admin) = app
        .bearer_session(
            "081234567122",
            "Operator 2",
            lpsaring_kernel::ports::users::Role::Admin,
        )
        .await;
    let (status, body) = send(
        app.http
            .post(app.url(&format!("/api/admin/transactions/{order_id}/reconcile"))),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, body["order"]["status"].as_str()),
        (200, Some("SUCCESS")),
        "{body}"
    );
    for late in ["settlement", "pending"] {
        let (status, body) = send(
            app.http
                .post(app.url("/api/transactions/notification"))
                .json(&notification(&order_id, late, "50000.00")),
            None,
        )
        .await;
        assert_eq!(status, 200, "{late}: {body}");
    }
    // (The buyer's session has expired by now; the order's link still opens it.)
    let query = &status_url[status_url.find('?').unwrap()..];
    let (status, view) = send(
        app.http.get(app.url(&format!(
            "/api/transactions/public/by-order-id/{order_id}{query}"
        ))),
        None,
    )
    .await;
    assert_eq!(
        (status, view["status"].as_str()),
        (200, Some("SUCCESS")),
        "{view}"
    );
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        5 << 30
    );
    app.stop().await;
}
