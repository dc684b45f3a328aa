//! The admin's sales area (issue 18, "Sales"), over HTTP: the order list with its filters,
//! paging and CSV, one order's events with the provider's secrets redacted, "reconcile now"
//! audited, and the revenue report by day, package and method with its CSV.

use lpsaring_kernel::ports::payment::PaymentStatus;
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Clock, UserId};
use lpsaring_tests::TestApp;
use serde_json::{Value, json};

use crate::admin_forms::csv_of;
use crate::payments::{SANDBOX, buyer, gateway, initiate, post_webhook, sandbox_app};
use crate::quota::{admin_token, assert_envelope, send};

const GIB: i64 = 1 << 30;
pub(crate) const CUSTOMER: &str = "081234567501";
/// A buyer whose name is a spreadsheet formula: every export must neutralise it.
pub(crate) const FORMULA_BUYER: &str = "081234567502";
pub(crate) const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"x\")";

/// A package on sale for `price` rupiah; its id.
pub(crate) async fn package(app: &TestApp, admin: &str, name: &str, price: i64) -> i64 {
    let body = json!({"name": name, "price": price, "quota_bytes": GIB, "validity_hours": 24});
    let (status, body) = send(
        app.http.post(app.url("/api/admin/packages")).json(&body),
        Some(admin),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// A cash or transfer sale recorded by `admin`; the order as answered.
pub(crate) async fn sale(
    app: &TestApp,
    admin: &str,
    phone: &str,
    package_id: i64,
    method: &str,
) -> Value {
    let body = json!({"phone": phone, "package_id": package_id, "method": method});
    let (status, order) = send(
        app.http
            .post(app.url("/api/admin/transactions/manual"))
            .json(&body),
        Some(admin),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    order
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    send(app.http.get(app.url(path)), Some(token)).await
}

/// Two packages; three paid sales (cash, cash, transfer — one to a buyer named like a formula)
/// and one pending gateway order. Answers (small package, big package, pending order id).
async fn some_sales(app: &TestApp, admin: &str) -> (i64, i64, String) {
    let small = package(app, admin, "1 GB harian", 5_000).await;
    let big = package(app, admin, "10 GB bulanan", 75_000).await;
    let (_, token) = buyer(app, CUSTOMER).await;
    app.bearer_session(FORMULA_BUYER, FORMULA, Role::User).await;
    sale(app, admin, CUSTOMER, small, "cash").await;
    sale(app, admin, FORMULA_BUYER, small, "cash").await;
    sale(app, admin, CUSTOMER, big, "transfer").await;
    let pending = initiate(app, &token, big).await;
    (small, big, pending["order_id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_sales_list_filters_pages_and_exports_csv() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let (small, big, pending) = some_sales(&app, &admin).await;
    let total = |v: &Value| v["total"].as_u64().unwrap();

    let (status, all) = get(&app, "/api/admin/transactions", &admin).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(total(&all), 4);
    assert_eq!(
        all["items"][0]["order_id"],
        pending.as_str(),
        "newest first"
    );
    assert_eq!(all["items"][0]["status"], "PENDING");
    for (query, expected) in [
        ("status=paid".to_owned(), 3),
        ("status=SUCCESS".to_owned(), 3),
        ("status=pending".to_owned(), 1),
        ("source=manual".to_owned(), 3),
        ("source=gateway".to_owned(), 1),
        ("method=transfer".to_owned(), 1),
        ("method=cash".to_owned(), 2),
        (format!("package={small}"), 2),
        (format!("package={big}&status=paid"), 1),
        (format!("q={pending}"), 1),
        (format!("q={}", pending.to_lowercase()), 1),
        ("q=0812-3456-7502".to_owned(), 1),
        ("q=81234567501".to_owned(), 3),
    ] {
        let (status, page) = get(&app, &format!("/api/admin/transactions?{query}"), &admin).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(total(&page), expected, "{query}: {page}");
    }
    let today = app.clock.now().date_naive();
    let tomorrow = today + chrono::Duration::days(1);
    // Local days (Asia/Makassar): the day after tomorrow in UTC is surely in the future.
    let later = tomorrow + chrono::Duration::days(1);
    let (_, page) = get(
        &app,
        &format!("/api/admin/transactions?from={later}"),
        &admin,
    )
    .await;
    assert_eq!(total(&page), 0);
    let (_, page) = get(
        &app,
        &format!(
            "/api/admin/transactions?from={}&to={tomorrow}&per_page=3&page=2",
            today - chrono::Duration::days(1)
        ),
        &admin,
    )
    .await;
    assert_eq!((total(&page), page["page"].as_u64()), (4, Some(2)));
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");

    for (query, field) in [
        ("status=maybe", "status"),
        ("source=cheque", "source"),
        ("from=kemarin", "from"),
        ("page=abc", "page"),
        ("package=x", "package"),
    ] {
        let (status, body) = get(&app, &format!("/api/admin/transactions?{query}"), &admin).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_envelope(&body, 422);
        assert_eq!(body["details"]["field"], field, "{body}");
    }
    let (_, user) = buyer(&app, "081234567509").await;
    let (status, _) = get(&app, "/api/admin/transactions", &user).await;
    assert_eq!(status, 403);

    let path = "/api/admin/transactions?format=csv&status=paid";
    let (header, rows) = csv_of(&app, path, &admin).await;
    assert_eq!(header[0], "order_id");
    assert_eq!(header[10], "buyer_name");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| &r[3] == "paid"));
    let formula = rows.iter().find(|r| r[10].contains("HYPERLINK")).unwrap();
    assert!(formula[10].starts_with("'="), "{:?}", &formula[10]);
    assert_eq!(rows.iter().filter(|r| &r[5] == "cash").count(), 2);
    app.stop().await;
}

#[tokio::test]
async fn an_orders_detail_shows_every_event_with_the_providers_secrets_redacted() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let big = package(&app, &admin, "10 GB bulanan", 75_000).await;
    let (_, token) = buyer(&app, CUSTOMER).await;
    let order = initiate(&app, &token, big).await;
    let order_id = order["order_id"].as_str().unwrap().to_owned();

    // A paid notification whose body carries a secret-looking field, correctly signed.
    let simulated = gateway(&app)
        .simulate_webhook(&order_id, PaymentStatus::Paid, 75_000)
        .await
        .unwrap();
    let mut body: Value = serde_json::from_slice(&simulated.body).unwrap();
    body["signature_key"] = json!("s3cr3t-signature");
    body["customer"] = json!({"token": "card-token-123", "bank": "bca"});
    let body = serde_json::to_vec(&body).unwrap();
    let signature = lpsaring_plugin_payment_sandbox::sign("lpsaring-sandbox", &body).unwrap();
    let webhook = lpsaring_kernel::ports::payment::RawWebhook {
        headers: vec![("X-Sandbox-Signature".into(), signature)],
        body,
    };
    let (status, answer) = post_webhook(&app, SANDBOX, &webhook).await;
    assert_eq!(status, 200, "{answer}");

    let path = format!("/api/admin/transactions/{order_id}/detail");
    let (status, detail) = get(&app, &path, &admin).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["order_id"], order_id.as_str());
    assert_eq!(detail["status"], "SUCCESS");
    assert!(detail["applied_at"].is_string(), "{detail}");
    let events = detail["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["initiated", "notification"], "{detail}");
    let payload = &events[1]["payload"];
    assert_eq!(payload["signature_key"], "***", "{payload}");
    assert_eq!(payload["customer"]["token"], "***", "{payload}");
    assert_eq!(payload["customer"]["bank"], "bca");
    assert_eq!(payload["order_id"], order_id.as_str());
    let text = detail.to_string();
    assert!(
        !text.contains("s3cr3t") && !text.contains("card-token-123"),
        "{text}"
    );

    let (status, body) = get(
        &app,
        "/api/admin/transactions/LPS-000000000000/detail",
        &admin,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_envelope(&body, 404);

    // "Reconcile now" on a final order changes nothing and is audited.
    let (status, done) = send(
        app.http
            .post(app.url(&format!("/api/admin/transactions/{order_id}/reconcile"))),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert!(done["checked"].is_null());
    let audit = app
        .app
        .admin
        .audit_page(
            &lpsaring_admin::AuditFilter {
                action: Some("payment.reconcile".into()),
                ..Default::default()
            },
            1,
            10,
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 1);
    assert_eq!(
        audit.items[0].target.as_deref(),
        Some(format!("order:{order_id}").as_str())
    );
    assert!(audit.items[0].actor.is_some());
    app.stop().await;
}

#[tokio::test]
async fn the_revenue_report_counts_paid_orders_by_day_package_and_method() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let (small, big, _) = some_sales(&app, &admin).await;
    // A day later: one more cash sale, and a refunded one that no longer counts.
    app.clock.advance(chrono::Duration::days(1));
    // The first admin's access token has expired by now: a second admin records these.
    let (_, admin) = app
        .bearer_session("081100000599", "Operator", Role::Admin)
        .await;
    sale(&app, &admin, CUSTOMER, big, "cash").await;
    let refunded = sale(&app, &admin, CUSTOMER, small, "cash").await;
    app.app
        .payments
        .refund(
            refunded["order_id"].as_str().unwrap(),
            UserId(1),
            "salah paket",
        )
        .await
        .unwrap();

    let (status, report) = get(&app, "/api/admin/transactions/revenue", &admin).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["orders"], 4, "{report}");
    assert_eq!(report["amount"], 5_000 + 5_000 + 75_000 + 75_000);
    let days = report["by_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["orders"], 1, "{report}");
    assert_eq!(days[29]["amount"], 75_000);
    assert_eq!(days[28]["orders"], 3);
    assert_eq!(report["by_package"][0]["key"], "10 GB bulanan");
    assert_eq!(report["by_package"][0]["amount"], 150_000);
    assert_eq!(report["by_package"][1]["orders"], 2);
    let methods: Vec<(&str, u64)> = report["by_method"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["key"].as_str().unwrap(), m["orders"].as_u64().unwrap()))
        .collect();
    assert_eq!(methods, [("cash", 3), ("transfer", 1)]);

    let today = report["to"].as_str().unwrap().to_owned();
    let (_, one_day) = get(
        &app,
        &format!("/api/admin/transactions/revenue?from={today}&to={today}"),
        &admin,
    )
    .await;
    assert_eq!(
        (
            one_day["orders"].as_u64(),
            one_day["by_day"].as_array().map(Vec::len)
        ),
        (Some(1), Some(1))
    );
    for query in [
        "from=2026-02-01&to=2026-01-01",
        "from=2020-01-01&to=2026-01-01",
        "to=besok",
    ] {
        let (status, body) = get(
            &app,
            &format!("/api/admin/transactions/revenue?{query}"),
            &admin,
        )
        .await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_envelope(&body, 422);
    }

    let (header, rows) = csv_of(&app, "/api/admin/transactions/revenue?format=csv", &admin).await;
    assert_eq!(header, ["group", "key", "orders", "amount"]);
    assert_eq!(rows.len(), 30 + 2 + 2, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| &r[0] == "day").count(), 30);
    assert!(
        rows.iter()
            .any(|r| &r[0] == "method" && &r[1] == "transfer" && &r[3] == "75000")
    );
    app.stop().await;
}
