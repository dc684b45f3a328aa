//! Test support for the integration binary: start the whole app on port 0 against a fresh
//! database (SQLite file per test, or a fresh Postgres database per test when
//! `LPSARING_TEST_POSTGRES_URL` is set) and talk to it over real HTTP.
// Test support: a failed set-up step should stop the test loudly, so expect is the right tool.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use std::sync::Arc;

use lpsaring::{App, Settings};
use lpsaring_kernel::FakeClock;
use sea_orm::{ConnectionTrait, Database, Statement};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// The env var that switches the suite to Postgres (an admin URL whose user may create databases).
pub const POSTGRES_ENV: &str = "LPSARING_TEST_POSTGRES_URL";

/// A running portal for one test. Dropping it stops the server and removes its database.
pub struct TestApp {
    /// The RouterOS simulator the app talks to.
    pub sim: lpsaring_routeros_sim::SimHandle,
    /// The app's clock: starts at the real time and moves only when a test advances it.
    pub clock: Arc<FakeClock>,
    pub addr: SocketAddr,
    pub base_url: String,
    pub app: App,
    pub http: reqwest::Client,
    pub data_dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    postgres: Option<PostgresDb>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    /// Puts a phone on the simulated hotspot: a host entry (and a DHCP lease) for `mac` at `ip`.
    pub fn phone_on_hotspot(&self, mac: &str, ip: &str) {
        self.sim
            .add_host(&lpsaring_routeros_sim::NewHost {
                mac: mac.to_owned(),
                address: ip.to_owned(),
                bytes_in: 0,
                bytes_out: 0,
                uptime_secs: 30,
                server: Some("hotspot1".to_owned()),
                with_lease: true,
            })
            .expect("host added");
    }

    /// Every row of one simulated router menu.
    pub fn router_rows(
        &self,
        menu: lpsaring_routeros_sim::Menu,
    ) -> Vec<lpsaring_routeros_sim::Row> {
        self.sim.with_state(|s| s.rows(menu))
    }

    /// The messages the console messenger wrote, oldest first, as `(to, text)`.
    pub fn outbox(&self) -> Vec<(String, String)> {
        let path = self.data_dir.path().join("outbox.jsonl");
        let Ok(text) = std::fs::read_to_string(path) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                (
                    v["to"].as_str().unwrap_or("").to_owned(),
                    v["text"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// The newest six-digit code sent to `e164`.
    pub fn last_code(&self, e164: &str) -> Option<String> {
        let digits = e164.trim_start_matches('+');
        self.outbox()
            .into_iter()
            .rev()
            .find(|(to, _)| to.trim_start_matches('+') == digits)
            .and_then(|(_, text)| {
                text.as_bytes()
                    .windows(6)
                    .find(|w| w.iter().all(u8::is_ascii_digit))
                    .map(|w| String::from_utf8_lossy(w).into_owned())
            })
    }

    /// Which backend this test runs on: `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// Stops the server, letting in-flight requests finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A throwaway Postgres database, dropped (forcefully) when the test ends.
struct PostgresDb {
    admin_url: String,
    name: String,
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee: use a private one on a plain thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(db) = Database::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = db.execute_unprepared(&sql).await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

/// Replaces the database name (the last path segment) of a Postgres URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn create_postgres_db(admin_url: &str) -> PostgresDb {
    let name = format!("lpsaring_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url)
        .await
        .expect("connect to LPSARING_TEST_POSTGRES_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    let _ = admin.close().await;
    PostgresDb {
        admin_url: admin_url.to_owned(),
        name,
    }
}

/// Settings for a test: fresh data dir, port 0, SQLite or Postgres per the environment.
pub async fn test_settings(data_dir: &TempDir) -> (Settings, Option<PostgresDbHandle>) {
    let mut settings = Settings {
        data_dir: data_dir.path().to_path_buf(),
        ..Settings::default()
    };
    settings.http.listen = "127.0.0.1:0".to_owned();
    settings.log.level = "warn".to_owned();
    let mut handle = None;
    if let Ok(admin_url) = std::env::var(POSTGRES_ENV) {
        let db = create_postgres_db(&admin_url).await;
        settings.database.url = Some(with_database(&admin_url, &db.name).into());
        handle = Some(PostgresDbHandle(db));
    }
    (settings, handle)
}

/// Keeps a per-test Postgres database alive; dropping it drops the database.
pub struct PostgresDbHandle(PostgresDb);

impl PostgresDbHandle {
    pub fn name(&self) -> &str {
        &self.0.name
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}, salvo::Router::new()).await
}

/// Starts the app after `configure` has adjusted the settings, with `extra` routes mounted.
/// The real console messenger plugin, built next to the test binary (the app depends on it, so
/// `cargo test` builds its cdylib into `deps/`).
pub fn console_plugin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let deps = exe.parent().expect("deps dir");
    let name = "liblpsaring_plugin_console.so";
    [
        deps.join(name),
        deps.join("deps").join(name),
        deps.parent().expect("profile dir").join(name),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .expect("liblpsaring_plugin_console.so is not built; run `cargo test --workspace`")
}

pub async fn spawn_app_with(
    configure: impl FnOnce(&mut Settings),
    extra: salvo::Router,
) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (mut settings, pg) = test_settings(&data_dir).await;
    let sim = lpsaring_routeros_sim::Simulator::start(lpsaring_routeros_sim::SimConfig::local())
        .await
        .expect("simulator starts");
    let local = lpsaring_routeros_sim::SimConfig::local();
    settings.router.address = sim.addr().to_string();
    settings.router.username = local.user;
    settings.router.password = lpsaring_routeros::Secret::new(local.password);
    settings.router.timeout_ms = 2_000;
    let plugin_dir = data_dir.path().join("plugins");
    std::fs::create_dir_all(&plugin_dir).expect("plugin dir");
    std::fs::copy(
        console_plugin(),
        plugin_dir.join("liblpsaring_plugin_console.so"),
    )
    .expect("copy plugin");
    settings.plugins.dir = plugin_dir;
    settings.messaging.plugin = Some("console".to_owned());
    configure(&mut settings);
    sim.ensure_profiles(settings.quota.profiles.distinct());
    lpsaring::telemetry::init(&settings.log);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let clock = Arc::new(FakeClock::new(lpsaring_kernel::Clock::now(
        &lpsaring_kernel::SystemClock,
    )));
    let app = lpsaring::build_with_clock(settings, clock.clone())
        .await
        .expect("app builds");
    let (tx, rx) = oneshot::channel::<()>();
    let served = app.clone();
    let server = tokio::spawn(async move {
        let _ = lpsaring::serve_with(
            served,
            listener,
            async {
                let _ = rx.await;
            },
            extra,
        )
        .await;
    });
    TestApp {
        sim,
        clock,
        addr,
        base_url: format!("http://{addr}"),
        app,
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client"),
        data_dir,
        shutdown: Some(tx),
        server: Some(server),
        postgres: pg.map(|h| h.0),
    }
}

/// Counts rows of `table` (the table must exist).
pub async fn count_rows(db: &impl ConnectionTrait, table: &str) -> i64 {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("count value")
}

/// Path of the `lpsaring` binary next to the test executable, building it if it is missing
/// (a plain `cargo test -p lpsaring-tests` does not build other packages' binaries).
pub fn lpsaring_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("current exe");
            let profile_dir = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("target profile dir")
                .to_path_buf();
            // Built once per test run, always: `cargo test` does not rebuild another package's
            // binary, and a stale one (say, missing a new migration) fails in confusing ways.
            // A fresh binary makes this a no-op.
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let mut build = Command::new(cargo);
            build.args(["build", "--quiet", "-p", "lpsaring", "--bin", "lpsaring"]);
            if profile_dir.ends_with("release") {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build");
            assert!(status.success(), "building the lpsaring binary failed");
            profile_dir.join("lpsaring")
        })
        .clone()
}

/// The value of cookie `name` set by a response (`Set-Cookie: name=value; …`).
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&prefix)
                .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        })
}
