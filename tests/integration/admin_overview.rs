//! The admin overview (issue 18, "Overview") on the whole app: real users in every status, a
//! package paid in the sandbox, a sync counting simulator traffic, then `GET /api/admin/overview`
//! and the `/admin` page in both languages show those figures; a router that stops answering
//! shows as down, and as up again once it answers.

use std::time::Duration;

use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;
use lpsaring_quota::api::{Grant, GrantSource};
use lpsaring_routeros_sim::Faults;
use lpsaring_tests::{TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

use crate::browser::{Browser, ONE_BROWSER, driver_binary, screenshot_dir};
use crate::payments::{buyer, create_package, initiate, sandbox_app};
use crate::quota::{admin_token, login_on_hotspot, send, user_with_quota};

const ONLINE: &str = "081234568001";
const PENDING: &str = "081234568002";
const REJECTED: &str = "081234568003";
const BLOCKED: &str = "081234568004";
const BUYER: &str = "081234568005";
const PAGE_ADMIN: &str = "081234568009";
/// The hotspot device `login_on_hotspot` uses.
const MAC: &str = "02:00:00:00:07:01";
const GIB: i64 = 1 << 30;

async fn overview(app: &TestApp, cookie: &str) -> Value {
    let res = app
        .http
        .get(app.url("/api/admin/overview"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn page(app: &TestApp, cookie: &str, lang: &str) -> String {
    let res = app
        .http
        .get(app.url(&format!("/admin?lang={lang}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

async fn new_user(app: &TestApp, phone: &str, approved: bool) -> i64 {
    let phone = Phone::parse(phone).unwrap();
    app.app
        .users
        .create(&phone, "Sari", approved, Role::User)
        .await
        .unwrap()
        .id
        .0
}

async fn admin_post(app: &TestApp, admin: &str, path: &str, body: Value) -> Value {
    let (status, answer) = send(app.http.post(app.url(path)).json(&body), Some(admin)).await;
    assert_eq!(status, 200, "{path}: {answer}");
    answer
}

fn count(report: &Value, status: &str) -> i64 {
    report["users"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == status)
        .unwrap_or_else(|| panic!("{status} missing: {report}"))["count"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn the_overview_shows_users_sales_usage_sync_and_health_in_both_languages() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let (_, cookie) = app.logged_in(PAGE_ADMIN, Role::Admin).await;

    // A user in every status: online on the hotspot (approved), pending, rejected, blocked
    // (with validity ending in two days), and a buyer.
    user_with_quota(&app, ONLINE, 5 * GIB).await;
    login_on_hotspot(&app, ONLINE).await;
    new_user(&app, PENDING, false).await;
    let rejected = new_user(&app, REJECTED, false).await;
    admin_post(
        &app,
        &admin,
        &format!("/api/admin/users/{rejected}/reject"),
        json!({"reason": "bukan warga"}),
    )
    .await;
    let blocked = new_user(&app, BLOCKED, true).await;
    app.app
        .quota
        .grant(&Grant {
            user: lpsaring_kernel::UserId(blocked),
            bytes: GIB,
            validity_hours: 48,
            mode: Default::default(),
            profile: None,
            unlimited: false,
            source: GrantSource::Admin,
            idempotency_key: format!("overview:{blocked}"),
            actor: "test".to_owned(),
            note: None,
        })
        .await
        .unwrap();
    let (status, body) = send(
        app.http
            .patch(app.url(&format!("/api/admin/users/{blocked}/block")))
            .json(&json!({"reason": "berbagi akun"})),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A package bought and paid on the sandbox's checkout page.
    let package = create_package(&app, &admin, "Paket Ringkas").await;
    let (_, buyer_token) = buyer(&app, BUYER).await;
    let order = initiate(&app, &buyer_token, package).await;
    let order_id = order["order_id"].as_str().unwrap();
    let paid = app
        .http
        .post(app.url(&format!("/pay/sandbox/{order_id}")))
        .form(&[("outcome", "paid")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);

    // A baseline sync, traffic on the router, and a sync that counts it.
    admin_post(&app, &admin, "/api/admin/sync", json!({})).await;
    let (down, up) = (300_000_000_u64, 45_000_000_u64);
    assert!(app.sim.with_state(|s| s.add_traffic(MAC, down, up, 30)));
    let run = admin_post(&app, &admin, "/api/admin/sync", json!({})).await;
    let counted = i64::try_from(down + up).unwrap();
    assert_eq!(run["bytes_counted"], counted, "{run}");

    let r = overview(&app, &cookie).await;
    assert_eq!(count(&r, "pending"), 1, "{r}");
    assert_eq!(count(&r, "rejected"), 1, "{r}");
    assert_eq!(count(&r, "blocked"), 1, "{r}");
    assert_eq!(count(&r, "approved"), 2, "{r}");
    assert_eq!(count(&r, "inactive"), 0, "{r}");
    assert_eq!(r["devices"]["online_now"], 1, "{r}");

    assert_eq!(r["usage"]["today_bytes"], counted, "{r}");
    assert_eq!(r["usage"]["month_bytes"], counted, "{r}");
    let usage_days = r["usage"]["by_day"].as_array().unwrap();
    assert_eq!(usage_days.len(), 30);
    assert_eq!(usage_days[29]["day"], r["today"]);
    assert_eq!(usage_days[29]["value"], counted);
    let expiring = r["usage"]["expiring"].as_array().unwrap();
    assert!(
        expiring.iter().any(|e| e["user_id"] == blocked),
        "the two-day account is expiring: {r}"
    );
    let sync = &r["usage"]["last_sync"];
    assert_eq!(sync["bytes_counted"], counted, "{r}");
    assert_eq!(sync["errors"], 0, "{r}");
    assert!(
        sync["duration_ms"].as_i64().is_some_and(|ms| ms >= 0),
        "{r}"
    );

    assert_eq!(r["sales"]["today_orders"], 1, "{r}");
    assert_eq!(r["sales"]["today_amount"], 50_000, "{r}");
    assert_eq!(r["sales"]["month_amount"], 50_000, "{r}");
    assert_eq!(r["sales"]["by_day"].as_array().unwrap().len(), 30);
    assert_eq!(r["sales"]["by_day"][29]["value"], 50_000, "{r}");
    assert_eq!(r["sales"]["best_sellers"][0]["key"], "Paket Ringkas", "{r}");
    assert_eq!(r["sales"]["best_sellers"][0]["count"], 1, "{r}");

    assert_eq!(r["router"]["reachable"], true, "{r}");
    assert_eq!(r["router"]["state"], "connected", "{r}");
    assert_eq!(r["router"]["breaker_open"], false, "{r}");
    let checks = r["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["router", "plugins"], "{r}");
    assert!(
        checks[1]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("payment-sandbox")),
        "{r}"
    );
    assert_eq!(r["outbox"]["dead"], 0, "{r}");
    let queued = r["outbox"]["pending"].as_i64().unwrap() + r["outbox"]["sent"].as_i64().unwrap();
    assert!(
        queued >= 2,
        "the reject and block notices are in the outbox: {r}"
    );

    // The page shows the same figures, server-rendered, in Indonesian and in English.
    let id = page(&app, &cookie, "id").await;
    for text in [
        "Pengguna per status",
        "Pendapatan bulan ini",
        "Rp 50.000",
        "Paket Ringkas",
        "Sinkronisasi terakhir",
        "<svg class=\"chart\"",
        &format!("href=\"/admin/users/{blocked}\""),
        "id=\"router-state\" data-up=\"true\"",
    ] {
        assert!(id.contains(text), "{text} missing from the Indonesian page");
    }
    let en = page(&app, &cookie, "en").await;
    for text in [
        "Users by status",
        "Revenue this month",
        "Best-selling packages (30 days)",
        "Last sync",
        "Rp 50.000",
        "Paket Ringkas",
    ] {
        assert!(en.contains(text), "{text} missing from the English page");
    }
    assert!(!en.contains("Pengguna per status"));
}

#[tokio::test]
async fn a_router_that_stops_answering_shows_as_down_and_then_up_again() {
    let app = spawn_app_with(
        |s| {
            s.quota.sync_interval_secs = 3_600;
            s.router.timeout_ms = 500;
        },
        salvo::Router::new(),
    )
    .await;
    let (_, cookie) = app.logged_in(PAGE_ADMIN, Role::Admin).await;
    let admin = admin_token(&app).await;
    assert_eq!(overview(&app, &cookie).await["router"]["reachable"], true);

    app.sim.set_fault(Faults {
        silent: true,
        ..Faults::default()
    });
    app.sim.drop_connections();
    let mut report = Value::Null;
    for _ in 0..40 {
        // Something that needs the router, so the client notices.
        let _ = send(app.http.post(app.url("/api/admin/sync")), Some(&admin)).await;
        report = overview(&app, &cookie).await;
        if report["router"]["reachable"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(report["router"]["reachable"], false, "{report}");
    assert_ne!(report["router"]["state"], "connected", "{report}");
    let id = page(&app, &cookie, "id").await;
    assert!(
        id.contains("id=\"router-state\" data-up=\"false\">Mati"),
        "the page says the router is down"
    );
    let en = page(&app, &cookie, "en").await;
    assert!(en.contains("id=\"router-state\" data-up=\"false\">Down"));

    app.sim.set_fault(Faults::default());
    for _ in 0..120 {
        report = overview(&app, &cookie).await;
        if report["router"]["reachable"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(report["router"]["reachable"], true, "{report}");
}

/// The overview in headless Chromium: on a 390 px phone (with JavaScript, to measure) and on a
/// 1280 px laptop, the figures and both charts show, nothing scrolls sideways and the browser
/// reports no problem (a blocked style or script, a failed load).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_fits_a_phone_and_a_laptop_in_chromium() {
    let Some(driver) = driver_binary() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app().await;
    let (_, cookie) = app.logged_in(PAGE_ADMIN, Role::Admin).await;
    new_user(&app, PENDING, false).await;
    for (name, browser) in [
        ("phone", Browser::open(&driver, true).await),
        (
            "laptop",
            Browser::open_sized(&driver, true, (1280, 800)).await,
        ),
    ] {
        browser.goto(&app.url("/")).await;
        browser.use_cookies(&cookie).await;
        browser.goto(&app.url("/admin?lang=en")).await;
        browser.text_containing("#users-pending", "Pending").await;
        browser.element("svg.chart").await;
        browser.element("#router-state").await;
        let (fits, measured) = browser.fits_the_width().await;
        assert!(fits, "{name}: the overview scrolls sideways: {measured}");
        let problems = browser.problems().await;
        assert!(problems.is_empty(), "{name}: {problems:?}");
        browser
            .screenshot(
                &screenshot_dir(&app, "admin_overview"),
                &format!("{name}.png"),
            )
            .await;
        browser.quit().await;
    }
    app.stop().await;
}
