//! A bounded load run of the captive login over loopback: N users, each asks for a code
//! (`/api/auth/request-otp`) and logs in behind the hotspot (`/api/auth/verify-otp` with the
//! client IP, so the router is asked for the MAC and gets a binding and a status list entry).
//! Before them it loads `/healthz`, `/readyz` and `/api/packages`. Prints latency percentiles,
//! throughput and errors per phase, the process's resident memory after each phase, and the
//! state-store commits and writes per one-time-code request (from `/metrics`).
//!
//! `cargo run --release -p lpsaring-benches --bin login_load -- [USERS] [CONCURRENCY] 2>/dev/null`
//!
//! The portal runs inside this process (with the console messenger), so the memory figure
//! includes the load generator's own few MB.
//! Runs on SQLite, or on Postgres when `LPSARING_TEST_POSTGRES_URL` is set. Traffic goes only to
//! 127.0.0.1 (the app and the RouterOS simulator it starts).

// A measurement tool: a failed set-up step should stop the run loudly.
#![allow(clippy::expect_used)]

use lpsaring_benches::load::{report, rss, run_phase};
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Phone, UserId};
use lpsaring_quota::api::{Grant, GrantSource};
use lpsaring_routeros_sim::NewHost;
use serde_json::json;
use std::sync::Arc;

fn phone(n: usize) -> String {
    format!("0812{n:08}")
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let users: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000)
        .clamp(1, 200_000);
    let concurrency: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(16)
        .clamp(1, 256);
    let app = lpsaring_tests::spawn_app_with(
        |s| {
            // The load comes from one IP: lift the per-IP limits for this run only.
            s.auth.otp_requests_per_ip_per_minute = i64::MAX / 2;
            s.auth.otp_requests_per_ip_phone_per_hour = i64::MAX / 2;
            s.auth.otp_verifications_per_ip_per_minute = i64::MAX / 2;
            s.quota.sync_interval_secs = 3600;
            s.log.level = "error".to_owned();
            s.metrics.enabled = true;
        },
        salvo::Router::new(),
    )
    .await;
    println!(
        "backend: {}, users: {users}, concurrency: {concurrency}; per-IP limits raised for this run (all load comes from 127.0.0.1)",
        app.backend()
    );
    rss("idle");
    for n in 0..users {
        let p = Phone::parse(&phone(n)).expect("phone");
        let user = app
            .app
            .users
            .create(&p, "Load", true, Role::User)
            .await
            .expect("user");
        app.app
            .quota
            .grant(&Grant {
                user: UserId(user.id.0),
                bytes: 1 << 30,
                validity_hours: 30 * 24,
                mode: Default::default(),
                profile: None,
                unlimited: false,
                source: GrantSource::Admin,
                idempotency_key: format!("load:{n}"),
                actor: "load".to_owned(),
                note: None,
            })
            .await
            .expect("grant");
        let mac = format!(
            "02:10:{:02X}:{:02X}:{:02X}:01",
            (n >> 16) & 0xff,
            (n >> 8) & 0xff,
            n & 0xff
        );
        let ip = format!("10.{}.{}.{}", 20 + (n >> 16), (n >> 8) & 0xff, n & 0xff);
        app.sim
            .add_host(&NewHost {
                mac,
                address: ip,
                bytes_in: 0,
                bytes_out: 0,
                uptime_secs: 5,
                server: None,
                with_lease: false,
            })
            .expect("host");
    }
    let app = Arc::new(app);
    rss("seeded");
    for path in ["/healthz", "/readyz", "/api/packages"] {
        let phase = run_phase(0..users.max(1000), concurrency, |_| {
            let app = app.clone();
            async move {
                app.http
                    .get(app.url(path))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        })
        .await;
        report(path, phase);
    }
    rss("after GETs");
    let before = store_writes(&app).await;

    let requests = run_phase(0..users, concurrency, |n| {
        let app = app.clone();
        async move {
            app.http
                .post(app.url("/api/auth/request-otp"))
                .json(&json!({"phone_number": phone(n)}))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    })
    .await;
    report("request-otp", requests);
    let after = store_writes(&app).await;
    println!(
        "state store per request-otp: {:.2} commits, {:.2} writes",
        (after.0 - before.0) / users as f64,
        (after.1 - before.1) / users as f64
    );
    rss("after request-otp");

    let codes: Vec<(usize, String)> = (0..users)
        .filter_map(|n| {
            let e164 = Phone::parse(&phone(n)).ok()?.to_string();
            app.last_code(&e164).map(|c| (n, c))
        })
        .collect();
    let logins = run_phase(codes, concurrency, |(n, code)| {
        let app = app.clone();
        async move {
            let ip = format!("10.{}.{}.{}", 20 + (n >> 16), (n >> 8) & 0xff, n & 0xff);
            app.http
                .post(app.url("/api/auth/verify-otp"))
                .json(&json!({"phone_number": phone(n), "otp": code, "client_ip": ip}))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    })
    .await;
    report("verify-otp", logins);
    rss("after verify-otp");
}

/// `lpsaring_store_commits_total` and `lpsaring_store_write_ops_total` from `/metrics`.
async fn store_writes(app: &lpsaring_tests::TestApp) -> (f64, f64) {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("scrape body");
    let sum = |name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    (
        sum("lpsaring_store_commits_total"),
        sum("lpsaring_store_write_ops_total"),
    )
}
