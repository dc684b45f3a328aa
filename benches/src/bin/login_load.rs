//! A bounded load run of the one-time-code login over loopback, reproducing issue 17's terms
//! from one command:
//!
//! * the portal is `lpsaring serve` in a child process (so the memory figures are its own), on
//!   SQLite, or on a fresh Postgres database when `LPSARING_TEST_POSTGRES_URL` is set;
//! * the real `whatsapp-fonnte` plugin sends every code to a loopback stand-in for the Fonnte
//!   API in this process that answers at once (see `fonnte_stub`), so each request reaches the
//!   messenger plugin and the provider;
//! * USERS approved users (up to 200,000) with quota are seeded straight into the database;
//! * the per-IP limits are raised in the run's own config (all load comes from 127.0.0.1);
//! * load: CONCURRENCY requests in flight from this process's HTTP client: `/healthz`,
//!   `/readyz`, `/api/packages`, then `request-otp` once per user (a fresh phone each time),
//!   then `verify-otp` for the first LOGINS users from their hotspot address on the RouterOS
//!   simulator (binding a device each), then one quota sync of those devices.
//!
//! Prints throughput, p50/p90/p99, failures, the state-store commits per code request, and the
//! portal's resident memory idle, after each phase and, with `--soak-minutes M`, every 30 s for
//! M minutes after the load.
//!
//! `cargo run --release -p lpsaring-benches --bin login_load -- [USERS] [CONCURRENCY]
//!  [--logins N] [--gets N] [--soak-minutes M] 2>/dev/null`
//!
//! Traffic goes only to 127.0.0.1. To profile the portal, set `LOGIN_LOAD_WRAPPER` to a command
//! that runs it, e.g. `valgrind --tool=callgrind --callgrind-out-file=/tmp/portal.cg`.

// A measurement tool: a failed set-up step should stop the run loudly.
#![allow(clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lpsaring_benches::fonnte_stub::FonnteStub;
use lpsaring_benches::load::{report, run_phase};
use lpsaring_benches::portal::{ADMIN_PASSWORD, ADMIN_PHONE, ChildPortal, Peers, RAISED_LIMIT};
use lpsaring_kernel::Phone;
use lpsaring_routeros_sim::{NewHost, SimConfig, Simulator};
use serde_json::json;

fn phone(n: usize) -> String {
    format!("0812{n:08}")
}

/// The simulated hotspot address of user `n`.
fn client_ip(n: usize) -> String {
    format!("10.{}.{}.{}", 20 + (n >> 16), (n >> 8) & 0xff, n & 0xff)
}

struct Args {
    users: usize,
    concurrency: usize,
    logins: usize,
    gets: usize,
    soak_minutes: u64,
}

fn args() -> Args {
    let mut positional = Vec::new();
    let mut flags = std::collections::HashMap::new();
    let mut raw = std::env::args().skip(1);
    while let Some(arg) = raw.next() {
        match arg.strip_prefix("--") {
            Some(name) => {
                let value = raw.next().and_then(|v| v.parse::<u64>().ok());
                flags.insert(name.to_owned(), value.expect("a number after each --flag"));
            }
            None => positional.push(
                arg.parse::<usize>()
                    .expect("USERS and CONCURRENCY are numbers"),
            ),
        }
    }
    let users = positional
        .first()
        .copied()
        .unwrap_or(1000)
        .clamp(1, 200_000);
    let flag = |name: &str, default: usize| {
        flags
            .get(name)
            .map_or(default, |v| usize::try_from(*v).unwrap_or(default))
    };
    Args {
        users,
        concurrency: positional.get(1).copied().unwrap_or(50).clamp(1, 256),
        logins: flag("logins", users.min(20_000)).min(users),
        gets: flag("gets", 20_000).clamp(1, 1_000_000),
        soak_minutes: flags.get("soak-minutes").copied().unwrap_or(0).min(60),
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let local = SimConfig::local();
    let sim = Simulator::start(SimConfig::local())
        .await
        .expect("simulator starts");
    sim.ensure_profiles(lpsaring_quota::QuotaSettings::default().profiles.distinct());
    let fonnte = FonnteStub::start().await.expect("fonnte stub");
    let portal = Arc::new(
        ChildPortal::start(&Peers {
            router: sim.addr(),
            router_user: &local.user,
            router_password: &local.password,
            fonnte_base_url: &fonnte.base_url(),
        })
        .await,
    );
    println!(
        "backend: {}, users: {}, concurrency: {}, logins: {}; messenger: whatsapp-fonnte plugin -> loopback stub; \
         per-IP limits raised to {RAISED_LIMIT} in this run's config (all load comes from 127.0.0.1)",
        portal.db.backend(),
        a.users,
        a.concurrency,
        a.logins
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = portal.rss_mb();
    println!("portal rss idle: {idle:.1} MB");
    let took = portal.seed(a.users, phone).await;
    println!("seeded {} users in {:.1} s", a.users, took.as_secs_f64());
    for n in 0..a.logins {
        sim.add_host(&NewHost {
            mac: format!(
                "02:10:{:02X}:{:02X}:{:02X}:01",
                (n >> 16) & 0xff,
                (n >> 8) & 0xff,
                n & 0xff
            ),
            address: client_ip(n),
            bytes_in: 1 << 20,
            bytes_out: 1 << 18,
            uptime_secs: 5,
            server: None,
            with_lease: false,
        })
        .expect("host");
    }
    println!("portal rss after seeding: {:.1} MB", portal.rss_mb());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .build()
        .expect("client");

    for path in ["/healthz", "/readyz", "/api/packages"] {
        let phase = run_phase(0..a.gets, a.concurrency, |_| {
            let req = http.get(portal.url(path));
            async move { req.send().await.is_ok_and(|r| r.status() == 200) }
        })
        .await;
        report(path, phase);
    }
    println!("portal rss after GETs: {:.1} MB", portal.rss_mb());

    let before = store_writes(&http, &portal).await;
    let requests = run_phase(0..a.users, a.concurrency, |n| {
        let req = http
            .post(portal.url("/api/auth/request-otp"))
            .json(&json!({"phone_number": phone(n)}));
        async move { req.send().await.is_ok_and(|r| r.status() == 200) }
    })
    .await;
    report("request-otp", requests);
    let after = store_writes(&http, &portal).await;
    println!(
        "state store per request-otp: {:.2} commits, {:.2} writes; the Fonnte stub got {} messages",
        (after.0 - before.0) / a.users as f64,
        (after.1 - before.1) / a.users as f64,
        fonnte.sends()
    );
    println!("portal rss after request-otp: {:.1} MB", portal.rss_mb());

    let codes: Vec<(usize, String)> = (0..a.logins)
        .filter_map(|n| {
            let e164 = Phone::parse(&phone(n)).ok()?.to_string();
            fonnte.code_for(&e164).map(|c| (n, c))
        })
        .collect();
    let logins = run_phase(codes, a.concurrency, |(n, code)| {
        let req = http
            .post(portal.url("/api/auth/verify-otp"))
            .json(&json!({"phone_number": phone(n), "otp": code, "client_ip": client_ip(n)}));
        async move { req.send().await.is_ok_and(|r| r.status() == 200) }
    })
    .await;
    report("verify-otp", logins);
    println!("portal rss after verify-otp: {:.1} MB", portal.rss_mb());

    let token = admin_token(&http, &portal).await;
    let started = Instant::now();
    let sync = http
        .post(portal.url("/api/admin/sync"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sync");
    let status = sync.status();
    let summary = sync.text().await.unwrap_or_default();
    println!(
        "quota sync of {} devices: HTTP {status} in {:.2} s: {summary}",
        a.logins,
        started.elapsed().as_secs_f64()
    );
    let loaded = portal.rss_mb();
    println!("portal rss after the sync: {loaded:.1} MB");

    if a.soak_minutes > 0 {
        soak(&portal, a.soak_minutes, idle).await;
    }
}

/// Samples the portal's RSS every 30 s for `minutes` after the load, and says how far the last
/// sample is from `idle`.
async fn soak(portal: &ChildPortal, minutes: u64, idle: f64) {
    println!("rss after the load, every 30 s for {minutes} min:");
    let mut last = portal.rss_mb();
    for step in 1..=minutes * 2 {
        tokio::time::sleep(Duration::from_secs(30)).await;
        last = portal.rss_mb();
        println!("  +{:>4} s: {last:.1} MB", step * 30);
    }
    println!(
        "rss {:.1} MB after {minutes} min idle: {:+.0}% against idle ({idle:.1} MB)",
        last,
        (last / idle - 1.0) * 100.0
    );
}

async fn admin_token(http: &reqwest::Client, portal: &ChildPortal) -> String {
    let answer: serde_json::Value = http
        .post(portal.url("/api/auth/admin/login"))
        .json(&json!({"phone_number": ADMIN_PHONE, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("admin login")
        .json()
        .await
        .expect("admin login answer");
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no admin token: {answer}"))
        .to_owned()
}

/// `lpsaring_store_commits_total` and `lpsaring_store_write_ops_total` from `/metrics`.
async fn store_writes(http: &reqwest::Client, portal: &ChildPortal) -> (f64, f64) {
    let text = http
        .get(portal.url("/metrics"))
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
