//! Crash safety with a real child process: the child (`examples/sync_child.rs`) syncs back to
//! back while this test generates traffic in the simulator and kills the child with SIGKILL at
//! random moments, over and over (so some kills land between the journal write and the SQL
//! commit, some between the commit and the promotion). At the end every byte the router counted
//! for a registered device is accounted exactly once. On SQLite (a file both processes open) or,
//! with `LPSARING_TEST_POSTGRES_URL`, on a fresh Postgres database.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lpsaring_devices::Takeover;
use lpsaring_kernel::testing::TestDatabase;
use lpsaring_kernel::{Mac, SystemClock, UserId};
use lpsaring_migrations::{Migrator, MigratorTrait};
use lpsaring_quota::QuotaSettings;
use lpsaring_quota::api::{Grant, GrantSource};
use lpsaring_quota::settings::GIB;
use lpsaring_routeros_sim::{Menu, NewHost, SimConfig, Simulator};
use lpsaring_store::{STATE_FILE_NAME, Store};

const USERS: i64 = 5;
const DEVICES_PER_USER: u8 = 2;
const KILLS: u32 = 30;

fn mac(n: u8) -> Mac {
    Mac([0x02, 0xCC, 0, 0, 0, n])
}

fn child_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = target.join("examples").join("sync_child");
    if !path.exists() {
        // `cargo test` builds examples; `cargo test --test crash` does not.
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "lpsaring-quota", "--example", "sync_child"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    assert!(path.exists(), "child binary missing: {}", path.display());
    path
}

/// xorshift: enough randomness for kill moments, no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_and_doubles_nothing() {
    let sim = Arc::new(Simulator::start(SimConfig::local()).await.unwrap());
    let dir = tempfile::tempdir().unwrap();
    // A SQLite file the child opens too, or a fresh Postgres database.
    let database = TestDatabase::in_dir(dir.path()).await;
    let db_url = database.url().to_owned();
    let state_path = dir.path().join(STATE_FILE_NAME);
    let db = database.connect().await;
    Migrator::up(&db, None).await.unwrap();

    // Users, devices and hosts, set up through a service that is dropped before the child runs.
    {
        let clock = Arc::new(SystemClock);
        let store = Store::open(&state_path, clock.clone()).await.unwrap();
        let (svc, devices, users) = support::service(
            db.clone(),
            clock,
            Arc::new(store),
            &sim.addr().to_string(),
            QuotaSettings::default(),
        );
        for user in 1..=USERS {
            users.add(&db, user).await;
            for d in 0..DEVICES_PER_USER {
                let n = (user as u8) * 10 + d;
                devices
                    .register_for_login(UserId(user), mac(n), None, Takeover::default())
                    .await
                    .unwrap();
                sim.add_host(&NewHost {
                    mac: mac(n).to_string(),
                    address: format!("10.9.0.{n}"),
                    bytes_in: u64::from(n) * 1_000,
                    bytes_out: 7,
                    uptime_secs: 10,
                    ..NewHost::default()
                })
                .unwrap();
            }
            svc.grant(&Grant {
                user: UserId(user),
                bytes: 1_000 * GIB,
                validity_hours: 30 * 24,
                mode: Default::default(),
                profile: None,
                unlimited: false,
                source: GrantSource::Admin,
                idempotency_key: format!("setup-{user}"),
                actor: "test".into(),
                note: None,
            })
            .await
            .unwrap();
        }
        // An unregistered device's bytes must never be counted.
        sim.add_host(&NewHost {
            mac: mac(250).to_string(),
            address: "10.9.0.250".into(),
            bytes_in: 999,
            ..NewHost::default()
        })
        .unwrap();
    }

    // Traffic keeps flowing while the child syncs and dies.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let sim = sim.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            while !stop.load(Ordering::Relaxed) {
                let user = 1 + rng.next(USERS as u64) as u8;
                let n = user * 10 + rng.next(u64::from(DEVICES_PER_USER)) as u8;
                let bytes = 1 + rng.next(50_000);
                sim.with_state(|s| s.add_traffic(&mac(n).to_string(), bytes, bytes / 3, 1));
                sim.with_state(|s| s.add_traffic(&mac(250).to_string(), 5, 5, 1));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    let child_path = child_binary();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut log = String::new();
    for _ in 0..KILLS {
        let mut child = Command::new(&child_path)
            .env("QUOTA_CHILD_DB", &db_url)
            .env("QUOTA_CHILD_STATE", &state_path)
            .env("QUOTA_CHILD_ROUTER", sim.addr().to_string())
            .env("QUOTA_CHILD_USERS", USERS.to_string())
            .env("RUST_LOG", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(80 + rng.next(400))).await;
        child.kill().unwrap(); // SIGKILL
        let out = child.wait_with_output().unwrap();
        log.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    stop.store(true, Ordering::Relaxed);
    traffic.await.unwrap();

    // Recover and count the rest in-process, then compare with the router's own counters.
    let clock = Arc::new(SystemClock);
    let store = Store::open(&state_path, clock.clone()).await.unwrap();
    let (svc, _, users) = support::service(
        db.clone(),
        clock,
        Arc::new(store),
        &sim.addr().to_string(),
        QuotaSettings::default(),
    );
    for user in 1..=USERS {
        users.remember(user);
    }
    let last = svc.sync_once().await.unwrap();
    let steady = svc.sync_once().await.unwrap();
    assert_eq!(steady.bytes_counted, 0);
    let router_total: i64 = sim.with_state(|s| {
        s.rows(Menu::Host)
            .into_iter()
            .filter(|r| r.get("mac-address") != Some(mac(250).to_string().as_str()))
            .map(|r| {
                let n = |k: &str| r.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                n("bytes-in") + n("bytes-out")
            })
            .sum()
    });
    let runs = log.lines().filter(|l| l.starts_with("run ")).count();
    let promoted = log.matches("recovered=Some(\"promoted").count();
    let discarded = log.matches("recovered=Some(\"discarded").count();
    println!(
        "{runs} completed runs in {KILLS} child lives; recoveries: {promoted} promoted, {discarded} discarded; final run recovered {:?}",
        last.recovered
    );
    // The children must have committed work before dying, or the final comparison only checks
    // the in-process recovery. How many runs fit in a life depends on the machine's load, so
    // the count is not asserted beyond that.
    assert!(runs > 0, "no child got a run done between kills: {log}");
    assert_eq!(svc.total_used().await.unwrap(), router_total);
}
