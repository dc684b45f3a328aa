//! Money an admin takes (issue 12, "Vouchers and cash"): a cash or transfer sale recorded as a
//! paid order with its grant, and a bill: a gateway order opened for a user, its payment link
//! sent to them through the outbox, applied like any other order once paid.

use lpsaring_kernel::ports::payment::PaymentStatus;
use lpsaring_tests::{TestApp, count_rows};
use serde_json::{Value, json};

use crate::payments::{SANDBOX, app, buyer, create_package, gateway, post_webhook, sandbox_app};
use crate::quota::{admin_token, assert_envelope, send};

const GIB: i64 = 1 << 30;
const CUSTOMER: &str = "081234567401";

async fn post(app: &TestApp, path: &str, body: &Value, token: &str) -> (u16, Value) {
    send(app.http.post(app.url(path)).json(body), Some(token)).await
}

async fn outbox_to(app: &TestApp, e164: &str) -> Vec<String> {
    lpsaring_kernel::outbox::list(&app.app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == e164)
        .map(|m| m.body)
        .collect()
}

#[tokio::test]
async fn an_admin_records_a_cash_sale_that_applies_once_with_an_audit_entry() {
    let app = app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB tunai").await;
    let (user, token) = buyer(&app, CUSTOMER).await;
    let path = "/api/admin/transactions/manual";
    let sale = json!({"phone": CUSTOMER, "package_id": package_id, "method": "cash", "note": "bayar di warung"});

    // Admins only; bad input is a 4xx in the envelope and writes nothing.
    let (status, answer) = post(&app, path, &sale, &token).await;
    assert_eq!(status, 403, "{answer}");
    for (bad, code) in [
        (
            json!({"phone": CUSTOMER, "package_id": package_id, "method": "card"}),
            422,
        ),
        (
            json!({"phone": "12", "package_id": package_id, "method": "cash"}),
            422,
        ),
        (
            json!({"phone": "081299999999", "package_id": package_id, "method": "cash"}),
            404,
        ),
        (
            json!({"phone": CUSTOMER, "package_id": 999_999, "method": "transfer"}),
            404,
        ),
        (
            json!({"phone": CUSTOMER, "package_id": package_id, "method": "cash", "note": "x".repeat(501)}),
            422,
        ),
    ] {
        let (status, answer) = post(&app, path, &bad, &admin).await;
        assert_eq!(status, code, "{bad} -> {answer}");
        assert_envelope(&answer, code);
    }
    assert_eq!(count_rows(&app.app.db, "transactions").await, 0);

    let audit_before = count_rows(&app.app.db, "audit_log").await;
    let (status, order) = post(&app, path, &sale, &admin).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "SUCCESS");
    assert_eq!(order["source"], "manual");
    assert_eq!(order["payment_method"], "cash");
    assert_eq!(order["amount"], 50_000);
    assert_eq!(count_rows(&app.app.db, "quota_ledger").await, 1);
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        5 * GIB
    );
    assert_eq!(count_rows(&app.app.db, "audit_log").await, audit_before + 1);
    // In the user's own list, with the confirmation queued for them.
    let (_, mine) = send(
        app.http.get(app.url("/api/users/me/transactions")),
        Some(&token),
    )
    .await;
    assert_eq!(mine[0]["order_id"], order["order_id"], "{mine}");
    let order_id = order["order_id"].as_str().unwrap();
    let messages = outbox_to(&app, "+6281234567401").await;
    assert!(
        messages.iter().any(|m| m.contains(order_id)),
        "{messages:?}"
    );

    // A transfer is a second sale (each record is its own order).
    let transfer =
        json!({"phone": "6281234567401", "package_id": package_id, "method": "transfer"});
    let (status, second) = post(&app, path, &transfer, &admin).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["payment_method"], "transfer");
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        10 * GIB
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bill_sends_the_payment_link_and_applies_when_paid() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB tagihan").await;
    let (user, token) = buyer(&app, CUSTOMER).await;
    let path = "/api/admin/transactions/bill";

    let bill = json!({"phone": CUSTOMER, "package_id": package_id});
    let (status, answer) = post(&app, path, &bill, &token).await;
    assert_eq!(status, 403, "{answer}");
    let (status, answer) = post(
        &app,
        path,
        &json!({"phone": "081299999999", "package_id": package_id}),
        &admin,
    )
    .await;
    assert_eq!(status, 404, "{answer}");

    let (status, order) = post(&app, path, &bill, &admin).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "PENDING", "{order}");
    assert_eq!(order["source"], "gateway");
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    let link = order["redirect_url"].as_str().unwrap().to_owned();
    assert!(
        link.ends_with(&format!("/pay/sandbox/{order_id}")),
        "{order}"
    );
    // The link goes to the customer by message; the order is theirs.
    let messages = outbox_to(&app, "+6281234567401").await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains(&link), "{messages:?}");
    let (_, mine) = send(
        app.http.get(app.url("/api/users/me/transactions")),
        Some(&token),
    )
    .await;
    assert_eq!(mine[0]["order_id"], order_id.as_str(), "{mine}");

    // Paid at the provider: applied once, like any gateway order.
    let webhook = gateway(&app)
        .simulate_webhook(&order_id, PaymentStatus::Paid, 50_000)
        .await
        .unwrap();
    let (status, _) = post_webhook(&app, SANDBOX, &webhook).await;
    assert_eq!(status, 200);
    let (status, _) = post_webhook(&app, SANDBOX, &webhook).await;
    assert_eq!(status, 200);
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        5 * GIB
    );
    assert_eq!(count_rows(&app.app.db, "quota_ledger").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_bill_without_a_gateway_is_a_503_and_writes_nothing() {
    let app = app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    buyer(&app, CUSTOMER).await;
    let (status, answer) = post(
        &app,
        "/api/admin/transactions/bill",
        &json!({"phone": CUSTOMER, "package_id": package_id}),
        &admin,
    )
    .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (503, Some("PAYMENT_GATEWAY_UNAVAILABLE")),
        "{answer}"
    );
    assert_eq!(count_rows(&app.app.db, "transactions").await, 0);
    assert!(outbox_to(&app, "+6281234567401").await.is_empty());
    app.stop().await;
}
