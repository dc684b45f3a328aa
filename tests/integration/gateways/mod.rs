//! Every notification a real gateway sends, through its real plugin (`.so`) in the whole app,
//! against a local stand-in for the vendor's cloud (issue 12, "Tests"): one table per vendor,
//! each row one order (Snap, QRIS or a bank VA) and the notifications it gets, asserting the
//! final order state, the quota ledger (exactly one grant or none) and every webhook answer,
//! including the reply body the plugin says its provider expects.

use std::sync::{Arc, Mutex};

use lpsaring_payments::Checked;
use lpsaring_tests::TestApp;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::payments::create_package;
use crate::quota::{admin_token, send};

mod midtrans;
mod tripay;

const GIB: i64 = 1 << 30;

/// What a row does to its order, in turn.
#[derive(Debug, Clone, Copy)]
enum Act {
    /// A correctly signed notification reporting this provider status (Midtrans:
    /// `transaction_status` and `fraud_status`; Tripay: `status`).
    Say(&'static str, Option<&'static str>),
    /// The same signed with another key: 403, and nothing changes.
    Forge(&'static str),
    /// The provider's status answer says this (its notification was missed) and "reconcile
    /// now" asks it.
    Check(&'static str, Option<&'static str>),
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
    /// The provider's status answer for the order (unsigned, as its API gives it).
    status: fn(&Order, &str, Option<&str>) -> Value,
    /// What the stand-in answers to a status query (`None`: not found).
    answer: Arc<Mutex<Option<Value>>>,
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
                Act::Check(status, fraud) => {
                    *vendor.answer.lock().unwrap() = Some((vendor.status)(&order, status, fraud));
                    let checked = reconcile_now(app, &order.id).await;
                    *vendor.answer.lock().unwrap() = None;
                    assert_ne!(checked, Some(Checked::Error), "{}", row.name);
                    continue;
                }
                Act::Expire => {
                    let window = app.app.settings.payments.pending_window_hours;
                    app.clock
                        .advance(chrono::Duration::hours(i64::from(window) + 1));
                    let checked = reconcile_now(app, &order.id).await;
                    assert_eq!(checked, Some(Checked::Expired), "{}", row.name);
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
            } else {
                assert!(
                    audited(app, "payment.webhook_bad_signature", None).await,
                    "{}",
                    row.name
                );
            }
        }
        if row.flagged {
            let target = format!("order:{}", order.id);
            assert!(
                audited(app, "payment.late_payment", Some(&target)).await,
                "{}",
                row.name
            );
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
        // No grant, or the provider refunded it (nothing was used): the buyer holds nothing.
        if row.grants == 0 || row.status == "refunded" {
            assert_eq!(purchased, 0, "{}", row.name);
        }
    }
}

/// The admin's "reconcile now" for one order: what its check did.
async fn reconcile_now(app: &TestApp, order_id: &str) -> Option<Checked> {
    let done = app.app.payments.reconcile_order(order_id).await.unwrap();
    done.checked
}

/// Whether one of the newest audit entries is `action` (on `target`, when given).
async fn audited(app: &TestApp, action: &str, target: Option<&str>) -> bool {
    let recent = app.app.admin.audit().recent(5).await.unwrap();
    recent
        .iter()
        .any(|e| e.action == action && (target.is_none() || e.target.as_deref() == target))
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
