//! Test support for the integration binary: start the whole app on port 0 against a fresh
//! database (SQLite file per test, or a fresh Postgres database per test when
//! `LPSARING_TEST_POSTGRES_URL` is set) and talk to it over real HTTP.
// Test support: a failed set-up step should stop the test loudly, so expect is the right tool.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use std::sync::Arc;

use lpsaring::{App, Settings};
use lpsaring_kernel::FakeClock;
use sea_orm::{ConnectionTrait, Statement};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub use lpsaring_kernel::testing::{POSTGRES_ENV, TestDatabase, with_database};

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
    database: TestDatabase,
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
        phone_on_hotspot(&self.sim, mac, ip);
    }

    /// Every row of one simulated router menu.
    pub fn router_rows(
        &self,
        menu: lpsaring_routeros_sim::Menu,
    ) -> Vec<lpsaring_routeros_sim::Row> {
        self.sim.with_state(|s| s.rows(menu))
    }

    /// Removes a hotspot user profile on the simulated router, as a reset or an operator would.
    pub fn remove_profile(&self, name: &str) {
        let row = self
            .router_rows(lpsaring_routeros_sim::Menu::UserProfile)
            .into_iter()
            .find(|r| r.get("name") == Some(name))
            .expect("the profile exists");
        let id = row.get(".id").expect("a row id").to_owned();
        self.sim.with_state(|s| {
            s.execute(&lpsaring_routeros_sim::request(
                "/ip/hotspot/user/profile/remove",
                &[(".id", &id)],
            ))
        });
    }

    /// The messages the console messenger wrote, oldest first, as `(to, text)` (see [`outbox`]).
    pub fn outbox(&self) -> Vec<(String, String)> {
        outbox(self.data_dir.path())
    }

    /// The newest six-digit code sent to `e164`.
    pub fn last_code(&self, e164: &str) -> Option<String> {
        last_code(self.data_dir.path(), e164)
    }

    /// A user (approved or not) holding 5 GiB for 30 days, through the services; returns the id.
    pub async fn user_with_quota(&self, phone: &str, approved: bool) -> i64 {
        use lpsaring_kernel::ports::users::Role;
        use lpsaring_kernel::{Phone, UserId};
        use lpsaring_quota::api::{Grant, GrantSource};
        let phone = Phone::parse(phone).expect("test phone");
        let id = self
            .app
            .users
            .create(&phone, "Budi", approved, Role::User)
            .await
            .expect("create user")
            .id
            .0;
        self.app
            .quota
            .grant(&Grant {
                user: UserId(id),
                bytes: 5 << 30,
                validity_hours: 30 * 24,
                mode: Default::default(),
                profile: None,
                unlimited: false,
                source: GrantSource::Admin,
                idempotency_key: format!("test:{id}"),
                actor: "test".to_owned(),
                note: None,
            })
            .await
            .expect("grant");
        id
    }

    /// A user created with `role` and a session for them, answered as (id, bearer access
    /// token): for JSON calls with `Authorization: Bearer`.
    pub async fn bearer_session(
        &self,
        phone: &str,
        name: &str,
        role: lpsaring_kernel::ports::users::Role,
    ) -> (lpsaring_kernel::UserId, String) {
        let phone = lpsaring_kernel::Phone::parse(phone).expect("test phone");
        let user = self
            .app
            .users
            .create(&phone, name, true, role)
            .await
            .expect("create user");
        let session = self
            .app
            .sessions
            .issue(&user, None, Some("integration"))
            .await
            .expect("issue session");
        (user.id, session.access_token.expose().to_owned())
    }

    /// A new approved user with `role`, logged in: its id and a `Cookie` header value carrying
    /// its session (`auth_token` and `refresh_token`).
    pub async fn logged_in(
        &self,
        phone: &str,
        role: lpsaring_kernel::ports::users::Role,
    ) -> (i64, String) {
        let phone = lpsaring_kernel::Phone::parse(phone).expect("test phone");
        let user = self
            .app
            .users
            .create(&phone, "Tester", true, role)
            .await
            .expect("create user");
        let s = self
            .app
            .sessions
            .issue(&user, None, Some("integration"))
            .await
            .expect("issue session");
        let refresh = s.refresh_token.as_ref().expect("a refresh token");
        (
            user.id.0,
            format!(
                "auth_token={}; refresh_token={}",
                s.access_token.expose(),
                refresh.expose()
            ),
        )
    }

    /// This app as a [`Portal`] reached over HTTP.
    pub fn portal(&self) -> Portal<'_> {
        Portal {
            http: &self.http,
            base_url: &self.base_url,
            data_dir: self.data_dir.path(),
        }
    }

    /// See [`Portal::request_code`].
    pub async fn request_code(&self, phone: &str) -> String {
        self.portal().request_code(phone).await
    }

    /// See [`Portal::login_by_code`].
    pub async fn login_by_code(
        &self,
        phone: &str,
        device: Option<(&str, &str)>,
    ) -> reqwest::Response {
        self.portal().login_by_code(phone, device).await
    }

    /// The `lpsaring` binary pointed at this app's data dir, database and plugin folder, as an
    /// operator on the same machine would run it.
    pub fn cli(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(lpsaring_bin());
        cmd.args(args)
            .env("LPSARING_DATA_DIR", &self.app.settings.data_dir)
            .env("LPSARING_PLUGINS__DIR", &self.app.settings.plugins.dir)
            .env("LPSARING_LOG__LEVEL", "warn");
        if let Some(url) = &self.app.settings.database.url {
            cmd.env("LPSARING_DATABASE__URL", url.expose());
        }
        cmd
    }

    /// Runs [`TestApp::cli`] off the runtime's thread, so the app keeps serving meanwhile.
    pub async fn run_cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = self.cli(args);
        tokio::task::spawn_blocking(move || cmd.output().expect("run lpsaring"))
            .await
            .expect("the CLI task ran")
    }

    /// Which backend this test runs on: `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.database.backend()
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

/// A running portal (in this process or a child) reached over HTTP at `base_url`, with the
/// console messenger writing into `data_dir`.
pub struct Portal<'a> {
    pub http: &'a reqwest::Client,
    pub base_url: &'a str,
    pub data_dir: &'a std::path::Path,
}

impl Portal<'_> {
    fn url_of(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Asks for a login code for `phone` over the JSON API (must answer 200) and returns the
    /// code the messenger sent.
    pub async fn request_code(&self, phone: &str) -> String {
        let res = self
            .http
            .post(self.url_of("/api/auth/request-otp"))
            .json(&serde_json::json!({ "phone_number": phone }))
            .send()
            .await
            .expect("request failed");
        let status = res.status();
        assert_eq!(
            status,
            200,
            "request-otp: {}",
            res.text().await.unwrap_or_default()
        );
        let e164 = lpsaring_kernel::Phone::parse(phone)
            .expect("a valid phone")
            .to_string();
        last_code(self.data_dir, &e164).expect("a code in the outbox")
    }

    /// Logs `phone` in by code: asks for one, then verifies it, from the hotspot device
    /// `(ip, mac)` when given. Returns the verify response unchecked.
    pub async fn login_by_code(
        &self,
        phone: &str,
        device: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let code = self.request_code(phone).await;
        let mut body = serde_json::json!({ "phone_number": phone, "otp": code });
        if let Some((ip, mac)) = device {
            body["client_ip"] = ip.into();
            body["client_mac"] = mac.into();
        }
        self.http
            .post(self.url_of("/api/auth/verify-otp"))
            .json(&body)
            .send()
            .await
            .expect("request failed")
    }
}

/// Puts a phone on a simulated hotspot: a host entry (and a DHCP lease) for `mac` at `ip`.
pub fn phone_on_hotspot(sim: &lpsaring_routeros_sim::SimHandle, mac: &str, ip: &str) {
    sim.add_host(&lpsaring_routeros_sim::NewHost {
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

/// The messages the console messenger wrote in `data_dir`, oldest first, as `(to, text)`. No
/// file means no message yet (the messenger creates it with the first one); any other read
/// error, or a line that is not a message, fails the test rather than reading as "nothing was
/// sent".
pub fn outbox(data_dir: &std::path::Path) -> Vec<(String, String)> {
    let path = data_dir.join("outbox.jsonl");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("cannot read the outbox {}: {e}", path.display()),
    };
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("outbox line {line:?} is not JSON: {e}"));
            let field = |k: &str| {
                v[k].as_str()
                    .unwrap_or_else(|| panic!("outbox line {line:?} has no {k:?}"))
                    .to_owned()
            };
            (field("to"), field("text"))
        })
        .collect()
}

/// The newest six-digit code the console messenger in `data_dir` sent to `e164`.
pub fn last_code(data_dir: &std::path::Path, e164: &str) -> Option<String> {
    let digits = e164.trim_start_matches('+');
    outbox(data_dir)
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

/// Settings for a test: fresh data dir, port 0, SQLite (the app's default file in the data dir)
/// or a fresh Postgres database per the environment (see `lpsaring_kernel::testing`).
pub async fn test_settings(data_dir: &TempDir) -> (Settings, TestDatabase) {
    let mut settings = Settings {
        data_dir: data_dir.path().to_path_buf(),
        ..Settings::default()
    };
    settings.http.listen = "127.0.0.1:0".to_owned();
    settings.log.level = "warn".to_owned();
    let db = TestDatabase::in_dir(data_dir.path()).await;
    if db.backend() == "postgres" {
        settings.database.url = Some(db.url().to_owned().into());
    }
    (settings, db)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}, salvo::Router::new()).await
}

/// Starts the app after `configure` has adjusted the settings, with `extra` routes mounted.
/// The real console messenger plugin, built next to the test binary (the app depends on it, so
/// `cargo test` builds its cdylib into `deps/`).
pub fn console_plugin() -> PathBuf {
    built_plugin("liblpsaring_plugin_console.so")
}

/// A plugin `.so` the app's dependencies built next to the test binary (console, sandbox).
pub fn built_plugin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let deps = exe.parent().expect("deps dir");
    [
        deps.join(name),
        deps.join("deps").join(name),
        deps.parent().expect("profile dir").join(name),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .unwrap_or_else(|| panic!("{name} is not built; run `cargo test --workspace`"))
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
        database: pg,
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

/// What a finished command wrote to stdout, as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a finished command wrote to stderr, as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The stdout of a command that must have succeeded; otherwise fails showing both streams.
#[track_caller]
pub fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// A command running the `lpsaring` binary in `dir` with a clean `LPSARING_*` environment (and
/// no `RUST_LOG`), so only what the test sets counts.
pub fn lpsaring_command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(lpsaring_bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("LPSARING_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

/// A child process that is killed and reaped when dropped, so a failed test leaves nothing
/// running.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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

/// How long a child process gets to print what a test waits for (a cold SQLite start on a
/// loaded two-core machine included).
pub const START_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The lines of a child's stdout or stderr, read on a thread so a test can wait with a limit.
pub struct Lines {
    rx: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    /// Every line read so far, oldest first.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    pub fn of(stream: impl std::io::Read + Send + 'static) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(stream)) {
                let Ok(line) = line else { break };
                // Read to the end even when nobody listens any more: a closed pipe would make
                // the child's next write fail.
                let _ = tx.send(line);
            }
        });
        Self {
            rx,
            seen: Vec::new(),
        }
    }

    /// The first line (from now) for which `pick` returns something; fails the test after
    /// [`START_LIMIT`] or when the stream ends, showing what was read.
    pub fn wait_for<T>(&mut self, what: &str, mut pick: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + START_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    let picked = pick(&line);
                    self.seen.push(line);
                    if let Some(found) = picked {
                        return found;
                    }
                }
                Err(e) => panic!("no {what} ({e:?}); read so far:\n{}", self.seen.join("\n")),
            }
        }
    }
}
