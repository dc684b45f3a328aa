//! Refunds (issue 12, "Applying a paid order"): a super admin refunds a paid order; the order
//! and quota's reversing ledger row commit together, the reversal never takes back more than is
//! unused, an audit entry is written, and a refunded order is never refunded again (409), even
//! by refunds racing each other. Admins who are not super admins get 403.

use futures_util::future::join_all;
use lpsaring_kernel::UserId;
use lpsaring_kernel::ports::users::Role;
use lpsaring_tests::{TestApp, count_rows, set_cookie};
use serde_json::{Value, json};

use crate::payments::{buyer, create_package, sandbox_app};
use crate::quota::{admin_token, assert_envelope, send};
use crate::vouchers::{codes_of, create_batch};

const GIB: i64 = 1 << 30;
const MAC: &str = "02:00:00:00:0e:01";
const IP: &str = "10.5.64.1";

async fn super_admin(app: &TestApp) -> String {
    app.bearer_session("081234567501", "Pemilik", Role::SuperAdmin)
        .await
        .1
}

async fn refund(app: &TestApp, token: Option<&str>, order_id: &str, reason: &str) -> (u16, Value) {
    send(
        app.http
            .post(app.url(&format!("/api/admin/transactions/{order_id}/refund")))
            .json(&json!({ "reason": reason })),
        token,
    )
    .await
}

async fn sync(app: &TestApp, admin: &str) {
    let (status, body) = send(app.http.post(app.url("/api/admin/sync")), Some(admin)).await;
    assert_eq!(status, 200, "{body}");
}

/// Audit entries of refunds.
async fn refund_audits(app: &TestApp) -> i64 {
    use sea_orm::ConnectionTrait;
    let db = &app.app.db;
    db.query_one_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'payment.refunded'",
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get::<i64>("", "n")
    .unwrap()
}

#[tokio::test]
async fn a_super_admin_refunds_a_paid_order_once_and_takes_back_only_the_unused_part() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let owner = super_admin(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    // A phone on the hotspot holds the package through a voucher login (a paid order).
    let (_, batch) =
        create_batch(&app, &admin, json!({"package_id": package_id, "count": 1})).await;
    let code = codes_of(&batch).remove(0);
    app.phone_on_hotspot(MAC, IP);
    let res = app
        .http
        .post(app.url("/api/auth/voucher-login"))
        .json(&json!({"code": code, "client_ip": IP, "client_mac": MAC}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = set_cookie(&res, "auth_token").unwrap();
    let user = UserId(
        res.json::<Value>().await.unwrap()["user"]["id"]
            .as_i64()
            .unwrap(),
    );
    let (_, mine) = send(
        app.http.get(app.url("/api/users/me/transactions")),
        Some(&token),
    )
    .await;
    let order_id = mine[0]["order_id"].as_str().unwrap().to_owned();
    // 4 GiB of the 5 are used on the router.
    sync(&app, &admin).await;
    assert!(
        app.sim
            .with_state(|s| s.add_traffic(MAC, 3 * GIB as u64, GIB as u64, 30))
    );
    sync(&app, &admin).await;
    assert_eq!(app.app.quota.show(user).await.unwrap().used_bytes, 4 * GIB);
    let ledger = count_rows(&app.app.db, "quota_ledger").await;

    // Only a super admin; bad input is a 4xx in the envelope; nothing changes meanwhile.
    let (status, body) = refund(&app, None, &order_id, "salah paket").await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = refund(&app, Some(&admin), &order_id, "salah paket").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("AUTH_ADMIN_REQUIRED")),
        "{body}"
    );
    assert_envelope(&body, 403);
    let (status, body) = refund(&app, Some(&owner), &order_id, "  ").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = refund(&app, Some(&owner), "BD-NOPE", "salah paket").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(count_rows(&app.app.db, "quota_ledger").await, ledger);

    let (status, body) = refund(&app, Some(&owner), &order_id, "salah paket").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "REFUNDED", "{body}");
    // One reversing row; only the unused GiB goes: nothing already used is taken back.
    assert_eq!(count_rows(&app.app.db, "quota_ledger").await, ledger + 1);
    let after = app.app.quota.show(user).await.unwrap();
    assert_eq!(
        (after.purchased_bytes, after.used_bytes),
        (4 * GIB, 4 * GIB)
    );
    assert_eq!(refund_audits(&app).await, 1);

    // Never twice.
    let (status, body) = refund(&app, Some(&owner), &order_id, "lagi").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("ORDER_ALREADY_REFUNDED")),
        "{body}"
    );
    assert_eq!(count_rows(&app.app.db, "quota_ledger").await, ledger + 1);
    assert_eq!(refund_audits(&app).await, 1);

    // A pending order was never paid: nothing to refund.
    let (_, buyer_token) = buyer(&app, "081234567502").await;
    let (status, pending) = send(
        app.http
            .post(app.url("/api/transactions/initiate"))
            .json(&json!({ "package_id": package_id })),
        Some(&buyer_token),
    )
    .await;
    assert_eq!(status, 200, "{pending}");
    let pending_id = pending["order_id"].as_str().unwrap();
    let (status, body) = refund(&app, Some(&owner), pending_id, "belum bayar").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("ORDER_NOT_PAID")),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrent_refunds_of_one_order_reverse_once() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let owner = super_admin(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    let (user, _) = buyer(&app, "081234567503").await;
    let (status, sale) = send(
        app.http
            .post(app.url("/api/admin/transactions/manual"))
            .json(&json!({"phone": "081234567503", "package_id": package_id, "method": "cash"})),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 201, "{sale}");
    let order_id = sale["order_id"].as_str().unwrap();
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        5 * GIB
    );
    let ledger = count_rows(&app.app.db, "quota_ledger").await;

    let answers = join_all((0..10).map(|_| refund(&app, Some(&owner), order_id, "batal"))).await;
    let won = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(won, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, b)| *s == 200 || (*s == 409 && b["code"] == "ORDER_ALREADY_REFUNDED")),
        "{answers:?}"
    );
    assert_eq!(count_rows(&app.app.db, "quota_ledger").await, ledger + 1);
    // Nothing was used: all of it goes back.
    assert_eq!(app.app.quota.show(user).await.unwrap().purchased_bytes, 0);
    assert_eq!(refund_audits(&app).await, 1);
    app.stop().await;
}
