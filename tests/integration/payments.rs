//! Payments over HTTP on the whole app (issue 12): packages (public list, admin CRUD, the CLI),
//! gateway orders through the real sandbox plugin, verified webhooks applied exactly once, and
//! reconciliation.

use lpsaring_kernel::ports::PaymentGateway;
use lpsaring_kernel::ports::payment::{PaymentStatus, RawWebhook};
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Phone, UserId};
use lpsaring_routeros_sim::Menu;
use lpsaring_tests::{TestApp, built_plugin, spawn_app_with};
use serde_json::{Value, json};

use crate::quota::{admin_token, assert_envelope, send};

const GIB: i64 = 1 << 30;

pub(crate) async fn app() -> TestApp {
    spawn_app_with(|s| s.quota.sync_interval_secs = 3_600, salvo::Router::new()).await
}

fn package(name: &str, price: i64, sort: i32) -> Value {
    json!({
        "name": name, "price": price, "quota_bytes": 5 * GIB,
        "validity_hours": 720, "hotspot_profile": "paket-5gb", "sort_order": sort
    })
}

#[tokio::test]
async fn admins_manage_packages_and_everyone_sees_the_active_ones_sorted() {
    let app = app().await;
    let admin = admin_token(&app).await;
    let url = app.url("/api/admin/packages");

    // Guards: nobody and non-admins get the envelope.
    let (status, body) = send(app.http.post(&url).json(&package("x", 1, 0)), None).await;
    assert_eq!(status, 401, "{body}");
    assert_envelope(&body, 401);

    let mut ids = Vec::new();
    for (name, price, sort) in [
        ("30 hari", 50_000, 2),
        ("3 jam", 3_000, 0),
        ("7 hari", 20_000, 1),
    ] {
        let (status, body) = send(
            app.http.post(&url).json(&package(name, price, sort)),
            Some(&admin),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["name"], name);
        ids.push(body["id"].as_i64().unwrap());
    }
    // Names are unique; bad input names the problem.
    let (status, body) = send(
        app.http.post(&url).json(&package("3 jam", 1, 0)),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("PACKAGE_NAME_TAKEN")),
        "{body}"
    );
    for bad in [
        json!({"name": "", "price": 1, "quota_bytes": 1, "validity_hours": 1}),
        json!({"name": "n", "price": 0, "quota_bytes": 1, "validity_hours": 1}),
        json!({"name": "n", "price": 1, "quota_bytes": 0, "validity_hours": 1}),
        json!({"name": "n", "price": 1, "unlimited": true, "validity_hours": 0}),
        json!({"name": "n", "price": "lots"}),
    ] {
        let (status, body) = send(app.http.post(&url).json(&bad), Some(&admin)).await;
        assert_eq!(status, 422, "{bad} -> {body}");
        assert_envelope(&body, 422);
    }

    // Public list: active only, by sort order.
    let update = json!({"name": "7 hari", "price": 20_000, "quota_bytes": GIB, "validity_hours": 168,
        "sort_order": 1, "is_active": false});
    let (status, body) = send(
        app.http
            .put(app.url(&format!("/api/admin/packages/{}", ids[2])))
            .json(&update),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, list) = send(app.http.get(app.url("/api/packages")), None).await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["3 jam", "30 hari"]);
    assert_eq!(list[0]["validity_hours"], 720);
    assert_eq!(list[0]["hotspot_profile"], "paket-5gb");

    // Nobody bought it: deleted.
    let (status, body) = send(
        app.http
            .delete(app.url(&format!("/api/admin/packages/{}", ids[2]))),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("deleted")),
        "{body}"
    );
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/admin/packages/{}", ids[2]))),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_package_cli_adds_lists_and_disables() {
    let app = app().await;
    let out = app
        .run_cli(&[
            "package",
            "add",
            "--name",
            "3 jam",
            "--price",
            "3000",
            "--quota-bytes",
            "1073741824",
            "--hours",
            "3",
            "--profile",
            "cepat",
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: i64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the new id");
    let out = app
        .run_cli(&[
            "package",
            "add",
            "--name",
            "Bulanan",
            "--price",
            "100000",
            "--unlimited",
            "--days",
            "30",
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Neither a quota nor unlimited, or both validities: refused before anything is written.
    let out = app
        .run_cli(&[
            "package", "add", "--name", "x", "--price", "1", "--days", "1",
        ])
        .await;
    assert!(!out.status.success());
    let out = app
        .run_cli(&[
            "package",
            "add",
            "--name",
            "x",
            "--price",
            "1",
            "--unlimited",
            "--days",
            "1",
            "--hours",
            "2",
        ])
        .await;
    assert!(!out.status.success());

    let out = app.run_cli(&["package", "disable", &id.to_string()]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = app.run_cli(&["package", "list"]).await;
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let three = rows.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(
        (
            three["validity_hours"].as_i64(),
            three["is_active"].as_bool()
        ),
        (Some(3), Some(false))
    );
    assert_eq!(three["hotspot_profile"], "cepat");
    let monthly = rows.iter().find(|r| r["name"] == "Bulanan").unwrap();
    assert_eq!(
        (
            monthly["unlimited"].as_bool(),
            monthly["validity_hours"].as_i64()
        ),
        (Some(true), Some(720))
    );

    // The running service sees the CLI's list.
    let (_, list) = send(app.http.get(app.url("/api/packages")), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Gateway orders through the real sandbox plugin

const SANDBOX_SO: &str = "liblpsaring_plugin_payment_sandbox.so";
pub(crate) const SANDBOX: &str = "payment-sandbox";
pub(crate) const BUYER: &str = "081234567120";
pub(crate) const BUYER_MAC: &str = "02:00:00:00:12:01";
pub(crate) const BUYER_IP: &str = "10.5.60.1";

/// The app with the real sandbox plugin taking orders.
pub(crate) async fn sandbox_app() -> TestApp {
    spawn_app_with(
        |s| {
            s.quota.sync_interval_secs = 3_600;
            std::fs::copy(built_plugin(SANDBOX_SO), s.plugins.dir.join(SANDBOX_SO)).unwrap();
            s.plugins
                .plugin_config
                .insert(SANDBOX.into(), json!({"public_url": "/"}));
            s.payments.plugin = Some(SANDBOX.to_owned());
        },
        salvo::Router::new(),
    )
    .await
}

pub(crate) async fn create_package(app: &TestApp, admin: &str, name: &str) -> i64 {
    let (status, body) = send(
        app.http
            .post(app.url("/api/admin/packages"))
            .json(&package(name, 50_000, 0)),
        Some(admin),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// A user without quota and a session for them (no device).
pub(crate) async fn buyer(app: &TestApp, phone: &str) -> (UserId, String) {
    app.bearer_session(phone, "Budi", Role::User).await
}

pub(crate) async fn initiate(app: &TestApp, token: &str, package_id: i64) -> Value {
    let (status, body) = send(
        app.http
            .post(app.url("/api/transactions/initiate"))
            .json(&json!({"package_id": package_id})),
        Some(token),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

pub(crate) async fn order_status(app: &TestApp, token: &str, order_id: &str) -> Value {
    let (status, body) = send(
        app.http
            .get(app.url(&format!("/api/transactions/by-order-id/{order_id}"))),
        Some(token),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

pub(crate) fn gateway(app: &TestApp) -> std::sync::Arc<dyn PaymentGateway> {
    app.app.plugins.payment_gateway(SANDBOX).unwrap()
}

/// Posts a webhook as received to the plugin's endpoint.
pub(crate) async fn post_webhook(
    app: &TestApp,
    plugin: &str,
    webhook: &RawWebhook,
) -> (u16, Value) {
    let mut req = app
        .http
        .post(app.url(&format!("/api/payments/webhook/{plugin}")));
    for (k, v) in &webhook.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    send(req.body(webhook.body.clone()), None).await
}

#[tokio::test]
async fn a_habis_user_buys_pays_in_the_sandbox_and_is_back_online() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB 30 hari").await;
    let phone = Phone::parse(BUYER).unwrap();
    app.app
        .users
        .create(&phone, "Budi", true, Role::User)
        .await
        .unwrap();

    // Logged in from the hotspot without quota: habis, not bypassed.
    app.phone_on_hotspot(BUYER_MAC, BUYER_IP);
    let res = app.login_by_code(BUYER, Some((BUYER_IP, BUYER_MAC))).await;
    assert_eq!(res.status(), 200);
    let token = lpsaring_tests::set_cookie(&res, "auth_token").unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["access_status"], "habis", "{body}");
    let binding = |app: &TestApp| {
        app.router_rows(Menu::IpBinding)[0]
            .get("type")
            .map(str::to_owned)
    };
    assert_eq!(binding(&app).as_deref(), Some("regular"));

    let (_, availability) = send(
        app.http.get(app.url("/api/settings/payment-availability")),
        None,
    )
    .await;
    assert_eq!(availability["available"], true, "{availability}");

    // Buy: a pending order whose checkout is the sandbox page; asking again reuses it.
    let order = initiate(&app, &token, package_id).await;
    assert_eq!(order["status"], "PENDING", "{order}");
    assert_eq!(order["amount"], 50_000);
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    assert!(
        order["redirect_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/pay/sandbox/{order_id}")),
        "{order}"
    );
    let again = initiate(&app, &token, package_id).await;
    assert_eq!(
        (again["order_id"].as_str(), again["reused"].as_bool()),
        (Some(order_id.as_str()), Some(true))
    );

    // Pay on the checkout page: the same webhook pipeline as a provider's notification.
    let page = app.get(&format!("/pay/sandbox/{order_id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"outcome\" value=\"paid\""), "{html}");
    let paid = app
        .http
        .post(app.url(&format!("/pay/sandbox/{order_id}")))
        .header("Origin", app.base_url.as_str())
        .form(&[("outcome", "paid")])
        .send()
        .await
        .unwrap();
    // Back on the shop's status page (the provider's finish redirect), which says paid.
    assert_eq!(paid.status(), 200);
    assert!(paid.url().path().starts_with("/bayar/"), "{}", paid.url());
    assert!(
        paid.text()
            .await
            .unwrap()
            .contains("data-status=\"SUCCESS\"")
    );

    let view = order_status(&app, &token, &order_id).await;
    assert_eq!(view["status"], "SUCCESS", "{view}");
    assert!(view["paid_at"].is_string(), "{view}");
    let (_, quota) = send(app.http.get(app.url("/api/users/me/quota")), Some(&token)).await;
    assert_eq!(
        (quota["purchased_bytes"].as_i64(), quota["status"].as_str()),
        (Some(5 * GIB), Some("ok")),
        "{quota}"
    );

    // The router follows at once: bypassed, and the device on the active list.
    assert_eq!(binding(&app).as_deref(), Some("bypassed"));
    let lists = app.router_rows(Menu::AddressList);
    assert!(
        lists
            .iter()
            .any(|r| r.get("address") == Some(BUYER_IP) && r.get("list") == Some("active")),
        "{lists:?}"
    );

    // The confirmation with its status link is queued; the link opens the order without a login.
    let queued = lpsaring_kernel::outbox::list(&app.app.db).await.unwrap();
    let confirmation = queued
        .iter()
        .find(|m| m.body.contains(&order_id))
        .expect("a purchase confirmation");
    let link = confirmation
        .body
        .split("Status: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    // The link is the status page; its token opens the JSON view as well.
    let (page_path, token_query) = link
        .split_once("/bayar/")
        .map(|(_, p)| p.split_once('?').unwrap())
        .unwrap();
    assert_eq!(page_path, order_id);
    let page = app.get(&format!("/bayar/{order_id}?{token_query}")).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("data-status=\"SUCCESS\"")
    );
    let path = format!("/api/transactions/public/by-order-id/{order_id}?{token_query}");
    let (status, public) = send(app.http.get(app.url(&path)), None).await;
    assert_eq!(
        (status, public["status"].as_str()),
        (200, Some("SUCCESS")),
        "{public}"
    );
    let (status, _) = send(
        app.http.get(app.url(&format!(
            "/api/transactions/public/by-order-id/{order_id}?t=1.abc"
        ))),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, mine) = send(
        app.http.get(app.url("/api/users/me/transactions")),
        Some(&token),
    )
    .await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");

    // A paid order is final: cancelling fails, and the package, once sold, is only deactivated.
    let (status, body) = send(
        app.http
            .post(app.url(&format!("/api/transactions/{order_id}/cancel"))),
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("ORDER_NOT_PENDING")),
        "{body}"
    );
    let (_, body) = send(
        app.http
            .delete(app.url(&format!("/api/admin/packages/{package_id}"))),
        Some(&admin),
    )
    .await;
    assert_eq!(body["result"], "deactivated", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_thousand_duplicate_and_out_of_order_notifications_apply_once() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    let (user, token) = buyer(&app, BUYER).await;
    let order = initiate(&app, &token, package_id).await;
    let order_id = order["order_id"].as_str().unwrap().to_owned();

    let gw = gateway(&app);
    let mut kinds = Vec::new();
    for status in [
        PaymentStatus::Paid,
        PaymentStatus::Pending,
        PaymentStatus::Expired,
        PaymentStatus::Cancelled,
    ] {
        kinds.push(
            gw.simulate_webhook(&order_id, status, 50_000)
                .await
                .unwrap(),
        );
    }
    // 700 copies of the paid notification among 300 others, in a scrambled order, all at once.
    let notifications: Vec<RawWebhook> = (0..1000usize)
        .map(|i| kinds[if i % 10 < 7 { 0 } else { 1 + (i * 7919) % 3 }].clone())
        .collect();
    let answers = futures_util::future::join_all(
        notifications.iter().map(|w| post_webhook(&app, SANDBOX, w)),
    )
    .await;
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{:?}",
        answers.iter().find(|(s, _)| *s != 200)
    );

    let view = order_status(&app, &token, &order_id).await;
    assert_eq!(view["status"], "SUCCESS", "{view}");
    // Exactly one grant: the purchased bytes are the package's once.
    let summary = app.app.quota.show(user).await.unwrap();
    assert_eq!(summary.purchased_bytes, 5 * GIB);
    let confirmations = lpsaring_kernel::outbox::list(&app.app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.body.contains(&order_id))
        .count();
    assert_eq!(confirmations, 1);
    // And again later: still once.
    let (status, _) = post_webhook(&app, SANDBOX, &kinds[0]).await;
    assert_eq!(status, 200);
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        5 * GIB
    );
    app.stop().await;
}

#[tokio::test]
async fn forged_mismatched_unknown_and_malformed_notifications_change_nothing() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    let (user, token) = buyer(&app, BUYER).await;
    let order_id = initiate(&app, &token, package_id).await["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gw = gateway(&app);
    let unchanged = async |app: &TestApp| {
        assert_eq!(
            order_status(app, &token, &order_id).await["status"],
            "PENDING"
        );
        assert_eq!(app.app.quota.show(user).await.unwrap().purchased_bytes, 0);
    };

    // Forged: the signature of another body → 403.
    let mut forged = gw
        .simulate_webhook(&order_id, PaymentStatus::Failed, 50_000)
        .await
        .unwrap();
    forged.body = String::from_utf8(forged.body)
        .unwrap()
        .replace("failed", "paid")
        .into_bytes();
    let (status, _) = post_webhook(&app, SANDBOX, &forged).await;
    assert_eq!(status, 403);
    unchanged(&app).await;

    // Amount different from ours: answered 200 (the provider must stop), flagged, not applied.
    let cheap = gw
        .simulate_webhook(&order_id, PaymentStatus::Paid, 1_000)
        .await
        .unwrap();
    let (status, _) = post_webhook(&app, SANDBOX, &cheap).await;
    assert_eq!(status, 200);
    unchanged(&app).await;

    // Unknown order: 200, nothing else.
    let unknown = gw
        .simulate_webhook("LPS-000000000000", PaymentStatus::Paid, 50_000)
        .await
        .unwrap();
    let (status, _) = post_webhook(&app, SANDBOX, &unknown).await;
    assert_eq!(status, 200);
    unchanged(&app).await;

    // Malformed, but correctly signed: 400.
    let body = b"{not json".to_vec();
    let signature = lpsaring_plugin_payment_sandbox::sign("lpsaring-sandbox", &body).unwrap();
    let malformed = RawWebhook {
        headers: vec![("X-Sandbox-Signature".into(), signature)],
        body,
    };
    let (status, _) = post_webhook(&app, SANDBOX, &malformed).await;
    assert_eq!(status, 400);
    unchanged(&app).await;

    // A plugin that is not loaded: 404 in the envelope.
    let (status, body) = post_webhook(&app, "payment-nope", &cheap).await;
    assert_eq!(status, 404, "{body}");
    assert_envelope(&body, 404);
    unchanged(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn an_admin_reconciles_one_order_now_through_the_jobs_path() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    let (user, token) = buyer(&app, BUYER).await;
    let order_id = initiate(&app, &token, package_id).await["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reconcile = |id: &str| {
        app.http
            .post(app.url(&format!("/api/admin/transactions/{id}/reconcile")))
    };

    // Admins only; an unknown order is a 404, all in the envelope.
    let (status, body) = send(reconcile(&order_id), Some(&token)).await;
    assert_eq!(status, 403, "{body}");
    assert_envelope(&body, 403);
    let (status, body) = send(reconcile(&order_id), None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = send(reconcile("LPS-000000000000"), Some(&admin)).await;
    assert_eq!(status, 404, "{body}");
    assert_envelope(&body, 404);

    // The sandbox says "still pending" (it has no remote state): checked, unchanged.
    let (status, body) = send(reconcile(&order_id), Some(&admin)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["checked"].as_str(), body["order"]["status"].as_str()),
        (Some("unchanged"), Some("PENDING")),
        "{body}"
    );

    // Past the pending window the same check expires it, at once, without waiting for the job.
    let window = app.app.settings.payments.pending_window_hours;
    app.clock
        .advance(chrono::Duration::hours(i64::from(window) + 1));
    // (The first admin's session expired meanwhile: another admin asks.)
    let operator = app
        .app
        .users
        .create(
            &Phone::parse("081234567121").unwrap(),
            "Operator 2",
            true,
            Role::Admin,
        )
        .await
        .unwrap();
    let session = app
        .app
        .sessions
        .issue(&operator, None, Some("integration"))
        .await
        .unwrap();
    let admin = session.access_token.expose().to_owned();
    let (status, body) = send(reconcile(&order_id), Some(&admin)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["checked"].as_str(), body["order"]["status"].as_str()),
        (Some("expired"), Some("EXPIRED")),
        "{body}"
    );
    // A final order is answered as it is: nothing to ask.
    let (status, body) = send(reconcile(&order_id), Some(&admin)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["checked"].is_null(), "{body}");
    assert_eq!(body["order"]["status"], "EXPIRED");
    assert_eq!(app.app.quota.show(user).await.unwrap().purchased_bytes, 0);
    app.stop().await;
}
