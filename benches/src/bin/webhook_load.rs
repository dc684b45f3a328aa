//! A bounded load run of payment notifications over loopback, through the real sandbox plugin
//! (`.so`): N users on the simulated hotspot, each with a pending order; then
//! - `paid`: one signed paid notification per order, C in flight: each moves its order to paid,
//!   writes the grant and updates the router before it answers;
//! - `duplicates`: the same N notifications again (all recognised, nothing written);
//! - `to-router`: M more orders one at a time, the time from sending the notification until the
//!   simulator shows the buyer's device bypassed;
//! - with `--wrk SECS`: `GET /api/packages` under `wrk -t2 -c50` for SECS seconds.
//!
//! ```text
//! cargo build --release -p lpsaring-plugin-payment-sandbox
//! cargo run --release -p lpsaring-benches --bin webhook_load -- [ORDERS] [CONCURRENCY] [--wrk SECS] 2>/dev/null
//! ```
//!
//! Runs on SQLite, or on Postgres when `LPSARING_TEST_POSTGRES_URL` is set. Traffic goes only to
//! 127.0.0.1 (the app and the RouterOS simulator it starts).

// A measurement tool: a failed set-up step should stop the run loudly.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lpsaring_benches::load::{Phase, report, rss, run_phase, wrk};
use lpsaring_kernel::ports::payment::{PaymentStatus, RawWebhook};
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Phone, UserId};
use lpsaring_payments::api::{InitiateRequest, PackageInput};
use lpsaring_routeros_sim::Menu;
use lpsaring_tests::TestApp;

const SANDBOX: &str = "payment-sandbox";
const SANDBOX_SO: &str = "liblpsaring_plugin_payment_sandbox.so";
const PRICE: i64 = 5_000;

struct Buyer {
    mac: String,
    order_id: String,
    webhook: RawWebhook,
}

fn arg(n: usize, default: usize, max: usize) -> usize {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
        .clamp(1, max)
}

fn wrk_secs() -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--wrk")?;
    args.get(at + 1)?.parse().ok().map(|s: u64| s.clamp(1, 120))
}

#[tokio::main]
async fn main() {
    let orders = arg(0, 1000, 50_000);
    let concurrency = arg(1, 16, 256);
    let sample = 100usize;
    let app = lpsaring_tests::spawn_app_with(
        |s| {
            s.quota.sync_interval_secs = 3600;
            s.log.level = "error".to_owned();
            // One user per order, and the OTP logins that put them on the hotspot come from one IP.
            s.auth.otp_requests_per_ip_per_minute = i64::MAX / 2;
            s.auth.otp_requests_per_ip_phone_per_hour = i64::MAX / 2;
            s.auth.otp_verifications_per_ip_per_minute = i64::MAX / 2;
            let plugin = lpsaring_tests::built_plugin(SANDBOX_SO);
            std::fs::copy(plugin, s.plugins.dir.join(SANDBOX_SO)).expect("sandbox plugin");
            s.plugins
                .plugin_config
                .insert(SANDBOX.into(), serde_json::json!({"public_url": "/"}));
            s.payments.plugin = Some(SANDBOX.to_owned());
        },
        salvo::Router::new(),
    )
    .await;
    println!(
        "backend: {}, orders: {orders}, concurrency: {concurrency}; per-IP login limits raised for the set-up (all load comes from 127.0.0.1)",
        app.backend()
    );
    let package = app
        .app
        .payments
        .create_package(&PackageInput {
            name: "5 GB".to_owned(),
            description: None,
            price: PRICE,
            quota_bytes: 5 << 30,
            unlimited: false,
            validity_hours: 720,
            hotspot_profile: None,
            sort_order: 0,
            is_active: true,
        })
        .await
        .expect("package");
    let started = Instant::now();
    let mut buyers = Vec::with_capacity(orders + sample);
    for n in 0..orders + sample {
        buyers.push(buyer(&app, n, package.id).await);
    }
    println!(
        "seeded {} users on the hotspot with a pending order each in {:.1} s",
        buyers.len(),
        started.elapsed().as_secs_f64()
    );
    rss("seeded");
    let timed = buyers.split_off(orders);
    let app = Arc::new(app);
    let buyers = Arc::new(buyers);

    let post = |i: usize| {
        let (app, buyers) = (app.clone(), buyers.clone());
        async move { post_webhook(&app, &buyers[i].webhook).await }
    };
    report("paid", run_phase(0..orders, concurrency, post).await);
    report("duplicates", run_phase(0..orders, concurrency, post).await);
    rss("after webhooks");

    let bypassed = buyers.iter().filter(|b| is_bypassed(&app, &b.mac)).count();
    println!("devices bypassed on the router after the paid phase: {bypassed} of {orders}");

    let mut to_router = Vec::with_capacity(timed.len());
    let mut failures = 0;
    let started = Instant::now();
    for b in &timed {
        let t = Instant::now();
        if !post_webhook(&app, &b.webhook).await {
            failures += 1;
            continue;
        }
        while !is_bypassed(&app, &b.mac) {
            if t.elapsed() > Duration::from_secs(10) {
                failures += 1;
                break;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        to_router.push(t.elapsed());
    }
    report(
        "to-router",
        Phase {
            latencies: to_router,
            failures,
            wall: started.elapsed(),
        },
    );
    let paid = app
        .app
        .payments
        .order_for(UserId(0), true, &timed[0].order_id)
        .await
        .map(|v| format!("{:?}", v.status))
        .unwrap_or_else(|e| e.to_string());
    println!("a timed order afterwards: {paid}");

    if let Some(secs) = wrk_secs() {
        // Warm the page once, as any client would have.
        app.http
            .get(app.url("/api/packages"))
            .send()
            .await
            .expect("packages");
        wrk(&app.url("/api/packages"), secs);
        rss("after wrk");
    }
}

/// User `n` logged in from the hotspot (so their device has a binding), without quota, with a
/// pending order and the sandbox's signed paid notification for it.
async fn buyer(app: &TestApp, n: usize, package_id: i64) -> Buyer {
    let phone = format!("0813{n:08}");
    let mac = format!(
        "02:20:{:02X}:{:02X}:{:02X}:01",
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff
    );
    let ip = format!("10.{}.{}.{}", 40 + (n >> 16), (n >> 8) & 0xff, n & 0xff);
    let user = app
        .app
        .users
        .create(
            &Phone::parse(&phone).expect("phone"),
            "Load",
            true,
            Role::User,
        )
        .await
        .expect("user");
    app.phone_on_hotspot(&mac, &ip);
    let login = app.login_by_code(&phone, Some((&ip, &mac))).await;
    assert_eq!(login.status(), 200, "login of {phone}");
    let order = app
        .app
        .payments
        .initiate(
            user.id,
            &InitiateRequest {
                package_id,
                payment_method: None,
                va_bank: None,
            },
            None,
        )
        .await
        .expect("order");
    let webhook = app
        .app
        .plugins
        .payment_gateway(SANDBOX)
        .expect("sandbox loaded")
        .simulate_webhook(&order.order.order_id, PaymentStatus::Paid, PRICE)
        .await
        .expect("signed notification");
    Buyer {
        mac,
        order_id: order.order.order_id,
        webhook,
    }
}

async fn post_webhook(app: &TestApp, webhook: &RawWebhook) -> bool {
    let mut req = app
        .http
        .post(app.url(&format!("/api/payments/webhook/{SANDBOX}")));
    for (k, v) in &webhook.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    req.body(webhook.body.clone())
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

fn is_bypassed(app: &TestApp, mac: &str) -> bool {
    app.router_rows(Menu::IpBinding).iter().any(|r| {
        r.get("mac-address")
            .is_some_and(|m| m.eq_ignore_ascii_case(mac))
            && r.get("type") == Some("bypassed")
    })
}
