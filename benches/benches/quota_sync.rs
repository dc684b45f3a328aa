//! A full quota sync run (`Service::sync_once`) against the RouterOS simulator over TCP: 10k users
//! with 20k devices, on SQLite (file, WAL) and, when `LPSARING_TEST_POSTGRES_URL` is set, on a
//! fresh Postgres database. Target: at most 1 s per run, and 0 router writes in a steady state
//! (asserted once, outside the timed loop).
//!
//! - `idle`: nothing moved since the last run (snapshot, counting, diff; nothing to write);
//! - `traffic`: 1 host in 20 moved bytes since the last run (plus the SQL of charging them).
//! - `apply_user`: one user's router state applied at once, as after a purchase (reads only that
//!   user's rows from the router).
//!
//! `cargo bench -p lpsaring-benches --bench quota_sync -- --warm-up-time 1 --measurement-time 5`
//! (Postgres too with `LPSARING_TEST_POSTGRES_URL`; a trailing `sqlite` or `postgres` picks one.)

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use lpsaring_benches as _;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use lpsaring_kernel::ports::users::UserDirectory;
use lpsaring_kernel::{EphemeralStore, FakeClock, UserId};
use lpsaring_migrations::{Migrator, MigratorTrait};
use lpsaring_quota::api::SyncSummary;
use lpsaring_quota::{Deps, QuotaError, QuotaSettings, Service};
use lpsaring_routeros::{RouterOsClient, RouterSettings, Secret};
use lpsaring_routeros_sim::{Menu, SimConfig, SimHandle, Simulator};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

/// 10k users (50 when the bench runs once as a test), with two devices each.
fn users() -> usize {
    lpsaring_benches::size(10_000, 50)
}

fn devices() -> usize {
    2 * users()
}
/// Rows per multi-row INSERT while seeding.
const CHUNK: usize = 500;
const SEEDED_AT: &str = "2026-01-01 00:00:00+00:00";

struct World {
    sim: SimHandle,
    svc: Arc<Service>,
    macs: Vec<String>,
    _dir: tempfile::TempDir,
    _db: DatabaseConnection,
    postgres: Option<(String, String)>,
}

async fn seed(db: &DatabaseConnection, hosts: &[(String, String)]) {
    for start in (0..users()).step_by(CHUNK) {
        let end = (start + CHUNK).min(users());
        let users: Vec<String> = (start..end)
            .map(|i| {
                let id = i + 1;
                format!(
                    "({id}, '+62811{id:07}', 'User {id}', 'USER', 'APPROVED', true, false, '{SEEDED_AT}', '{SEEDED_AT}')"
                )
            })
            .collect();
        db.execute_unprepared(&format!(
            "INSERT INTO users (id, phone_number, full_name, role, approval_status, is_active, is_blocked, created_at, updated_at) VALUES {}",
            users.join(",")
        ))
        .await
        .expect("seed users");
        // Plenty of quota: every user stays `ok`, so a steady state writes nothing.
        let accounts: Vec<String> = (start..end)
            .map(|i| format!("({}, {}, 0, false, '{SEEDED_AT}')", i + 1, 1_i64 << 50))
            .collect();
        db.execute_unprepared(&format!(
            "INSERT INTO quota_accounts (user_id, purchased_bytes, used_bytes, unlimited, updated_at) VALUES {}",
            accounts.join(",")
        ))
        .await
        .expect("seed accounts");
    }
    for (n, chunk) in hosts.chunks(CHUNK).enumerate() {
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(j, (mac, ip))| {
                let user = (n * CHUNK + j) / 2 + 1;
                format!("({user}, '{mac}', '{ip}', true, '{SEEDED_AT}', '{SEEDED_AT}')")
            })
            .collect();
        db.execute_unprepared(&format!(
            "INSERT INTO devices (user_id, mac, ip, is_authorized, first_seen_at, last_seen_at) VALUES {}",
            rows.join(",")
        ))
        .await
        .expect("seed devices");
    }
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('users', 'id'), {})",
            users()
        ))
        .await
        .expect("users sequence");
    }
}

async fn world(postgres_admin: Option<&str>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let (url, postgres) = match postgres_admin {
        None => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            None,
        ),
        Some(admin) => {
            let name = format!("lpsaring_bench_{}", std::process::id());
            let conn = Database::connect(admin).await.expect("postgres admin");
            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .unwrap();
            conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            let _ = conn.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
            (format!("{base}/{name}"), Some((admin.to_owned(), name)))
        }
    };
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(8).sqlx_logging(false);
    let db = if postgres.is_none() {
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
        });
        Database::connect(opts).await.unwrap()
    } else {
        Database::connect(opts).await.unwrap()
    };
    Migrator::up(&db, None).await.unwrap();

    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    let settings = QuotaSettings::default();
    sim.ensure_profiles(settings.profiles.distinct());
    sim.with_state(|s| s.populate(devices()));
    let hosts: Vec<(String, String)> = sim.with_state(|s| {
        s.rows(Menu::Host)
            .into_iter()
            .map(|r| {
                (
                    r.get("mac-address").unwrap().to_owned(),
                    r.get("address").unwrap().to_owned(),
                )
            })
            .collect()
    });
    seed(&db, &hosts).await;

    let clock = Arc::new(FakeClock::at_epoch_2026());
    let store = lpsaring_store::Store::open(dir.path().join("state.redb"), clock.clone())
        .await
        .unwrap();
    let devices = Arc::new(lpsaring_devices::Service::new(lpsaring_devices::Deps {
        db: db.clone(),
        clock: clock.clone(),
        policy: lpsaring_devices::api::DevicePolicy::default(),
    }));
    let users = Arc::new(lpsaring_auth::Users::new(db.clone(), clock.clone()));
    let local = SimConfig::local();
    let router = RouterOsClient::start(RouterSettings {
        address: sim.addr().to_string(),
        username: local.user,
        password: Secret::new(local.password),
        timeout_ms: 30_000,
        ..RouterSettings::default()
    });
    let svc = Service::new(Deps {
        db: db.clone(),
        clock,
        store: Arc::new(store) as Arc<dyn EphemeralStore>,
        router: Arc::new(router),
        devices,
        users: Arc::new(lpsaring_auth::Directory(users)) as Arc<dyn UserDirectory>,
        settings,
        timezone: "Asia/Jakarta".parse().unwrap(),
    })
    .unwrap();
    World {
        sim,
        svc: Arc::new(svc),
        macs: hosts.into_iter().map(|(m, _)| m).collect(),
        _dir: dir,
        _db: db,
        postgres,
    }
}

/// The first run counts every host and creates every router row; the second must be steady.
async fn settle(w: &World) {
    let started = Instant::now();
    let first = w.svc.sync_once().await.unwrap();
    eprintln!(
        "first run (creates every router row) took {:.1?}: {first:?}",
        started.elapsed()
    );
    assert_eq!(first.router_errors, 0, "{first:?}");
    assert_eq!(first.devices_matched, devices(), "{first:?}");
    let writes = w.sim.stats().writes;
    let second = w.svc.sync_once().await.unwrap();
    eprintln!("steady run phases: {:?}", second.timings);
    assert_eq!(second.router_writes, 0, "steady state: {second:?}");
    assert_eq!(second.router_errors, 0, "{second:?}");
    assert_eq!(w.sim.stats().writes, writes, "steady state writes nothing");
}

fn traffic(w: &World, round: u64) {
    w.sim.with_state(|s| {
        for mac in w.macs.iter().skip((round % 20) as usize).step_by(20) {
            assert!(s.add_traffic(mac, 1_000 + round, 9_000, 10));
        }
    });
}

/// `iters` runs: `next` prepares one (untimed) and returns it, the run alone is timed, and
/// every summary is checked.
fn timed<F>(
    rt: &tokio::runtime::Runtime,
    iters: u64,
    mut next: impl FnMut() -> F,
    check: impl Fn(&SyncSummary),
) -> Duration
where
    F: Future<Output = Result<SyncSummary, QuotaError>>,
{
    let mut spent = Duration::ZERO;
    for _ in 0..iters {
        let run = next();
        let started = Instant::now();
        let summary = rt.block_on(run).unwrap();
        spent += started.elapsed();
        check(&summary);
    }
    spent
}

fn bench_backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, label: &str, pg: Option<&str>) {
    let w = rt.block_on(world(pg));
    rt.block_on(settle(&w));
    let mut group = c.benchmark_group(format!("quota_sync/{label}"));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("idle", |b| {
        b.iter_custom(|iters| {
            timed(
                rt,
                iters,
                || w.svc.sync_once(),
                |s| {
                    assert_eq!((s.router_writes, s.bytes_counted), (0, 0), "{s:?}");
                },
            )
        });
    });
    let mut round = 0u64;
    group.bench_function("traffic", |b| {
        b.iter_custom(|iters| {
            let next = || {
                round += 1;
                traffic(&w, round);
                w.svc.sync_once()
            };
            timed(rt, iters, next, |s| {
                assert_eq!(s.router_writes, 0, "{s:?}");
                assert_eq!(s.users_charged, devices() / 20, "{s:?}");
            })
        });
    });
    // A purchase or an admin change applies one user's state at once: it must not cost a
    // whole-router read.
    let mut user = 0i64;
    group.bench_function("apply_user", |b| {
        b.iter_custom(|iters| {
            let next = || {
                user = user % users() as i64 + 1;
                w.svc.apply_user(UserId(user))
            };
            timed(rt, iters, next, |s| {
                assert_eq!((s.router_writes, s.devices_matched), (0, 2), "{s:?}");
            })
        });
    });
    group.finish();
    if let Some((admin, name)) = &w.postgres {
        rt.block_on(async {
            if let Ok(conn) = Database::connect(admin.as_str()).await {
                let _ = conn
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
            }
        });
    }
}

fn bench(c: &mut Criterion) {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .with_writer(std::io::stderr)
        .try_init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if wanted("sqlite") {
        bench_backend(c, &rt, "sqlite", None);
    }
    if let Ok(url) = std::env::var("LPSARING_TEST_POSTGRES_URL")
        && wanted("postgres")
    {
        bench_backend(c, &rt, "postgres", Some(&url));
    }
}

/// Building a 20k-device world takes a while: when the command line names a backend (a
/// criterion filter such as `postgres`), only the named ones are set up.
fn wanted(backend: &str) -> bool {
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && (a.contains("sqlite") || a.contains("postgres")))
        .collect();
    named.is_empty() || named.iter().any(|a| a.contains(backend))
}

criterion_group!(benches, bench);
criterion_main!(benches);
