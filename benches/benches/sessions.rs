//! Cost of a refresh-token rotation (seed diagram 4): one SELECT by hash, the user lookup, and a
//! transaction that inserts the successor and revokes the old row with a guarded UPDATE, plus an
//! HS256 access token. On a SQLite file in WAL mode (the default deployment), with the same
//! connection options as the app.
//!
//! `cargo bench -p lpsaring-benches --bench sessions -- --warm-up-time 1 --measurement-time 5`

// Setup failures should abort the bench loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lpsaring_auth::secrets::Keys;
use lpsaring_auth::session::{Deps, OriginSettings, Sessions};
use lpsaring_auth::{AuthSettings, Users};
use lpsaring_kernel::ports::audit::LogOnlyAudit;
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Clock, EphemeralStore, Phone, SystemClock};
use lpsaring_migrations::{Migrator, MigratorTrait};
use lpsaring_store::{STATE_FILE_NAME, Store};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database};
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

const PARALLEL: usize = 8;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

struct Setup {
    _dir: TempDir,
    sessions: Arc<Sessions>,
    /// The live refresh token of each family.
    tokens: Vec<Arc<Mutex<String>>>,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(8)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    let db = Database::connect(options).await.expect("sqlite");
    Migrator::up(&db, None).await.expect("migrate");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Store::open(dir.path().join(STATE_FILE_NAME), clock.clone())
        .await
        .expect("store");
    let users = Arc::new(Users::new(db.clone(), clock.clone()));
    let sessions = Arc::new(Sessions::new(Deps {
        db,
        clock,
        keys: Keys::from_master([3u8; 32]),
        settings: AuthSettings::default(),
        audit: Arc::new(LogOnlyAudit),
        origins: OriginSettings::default(),
        users: users.clone(),
        store: Arc::new(store) as Arc<dyn EphemeralStore>,
        access: Arc::new(lpsaring_kernel::ports::access::BasicAccessPolicy),
        admin_require_totp: false,
    }));
    let mut tokens = Vec::new();
    for i in 0..PARALLEL {
        let phone = Phone::parse(&format!("0811000000{i:02}")).expect("phone");
        let user = users
            .create(&phone, "Bench", true, Role::User)
            .await
            .expect("user");
        let issued = sessions
            .issue(&user, None, Some("bench"))
            .await
            .expect("issue");
        let token = issued.refresh_token.expect("refresh").expose().clone();
        tokens.push(Arc::new(Mutex::new(token)));
    }
    Setup {
        _dir: dir,
        sessions,
        tokens,
    }
}

async fn rotate_once(sessions: &Sessions, slot: &Mutex<String>) {
    let mut token = slot.lock().await;
    let next = sessions
        .rotate(&token, None, Some("bench"))
        .await
        .expect("rotate");
    *token = next.refresh_token.expect("minted").expose().clone();
}

fn rotations(c: &mut Criterion) {
    let rt = runtime();
    let setup = rt.block_on(setup());
    let mut group = c.benchmark_group("sessions");

    group.throughput(Throughput::Elements(1));
    group.bench_function("rotate (sqlite wal, sequential)", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let sessions = setup.sessions.clone();
            let slot = setup.tokens[0].clone();
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    rotate_once(&sessions, &slot).await;
                }
                start.elapsed()
            }
        });
    });

    group.throughput(Throughput::Elements(PARALLEL as u64));
    group.bench_function("rotate (sqlite wal, 8 families in parallel)", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let sessions = setup.sessions.clone();
            let tokens = setup.tokens.clone();
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let mut tasks = Vec::with_capacity(PARALLEL);
                    for slot in &tokens {
                        let sessions = sessions.clone();
                        let slot = slot.clone();
                        tasks.push(tokio::spawn(async move {
                            rotate_once(&sessions, &slot).await;
                        }));
                    }
                    for task in tasks {
                        task.await.expect("task");
                    }
                }
                start.elapsed()
            }
        });
    });
    group.finish();
}

criterion_group!(benches, rotations);
criterion_main!(benches);
