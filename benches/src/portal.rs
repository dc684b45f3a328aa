//! The portal as a child process for the load runs: `lpsaring serve` from this build's target
//! directory with a generated config, so the resident memory a run reports is the portal's
//! alone, not the load generator's. Its database is seeded directly, in batches.

// Part of a measurement tool: a failed set-up step stops the run loudly.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lpsaring_kernel::Phone;
use lpsaring_kernel::testing::TestDatabase;
use lpsaring_tests::{Lines, Running, built_plugin};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait, Value};
use tempfile::TempDir;

/// The per-IP budgets of the run's config: all load comes from 127.0.0.1, so the limits a
/// portal applies per client IP are raised for the run (and the run says so).
pub const RAISED_LIMIT: i64 = 1_000_000_000;

/// Users inserted per statement while seeding.
const SEED_CHUNK: usize = 1000;

/// The admin the run logs in as to start a quota sync.
pub const ADMIN_PHONE: &str = "081999000001";
pub const ADMIN_PASSWORD: &str = "load-run-admin-password";

pub struct ChildPortal {
    pub base_url: String,
    pub pid: u32,
    pub db: TestDatabase,
    _running: Running,
    _dir: TempDir,
}

/// Where the portal's router and messaging provider are.
pub struct Peers<'a> {
    pub router: std::net::SocketAddr,
    pub router_user: &'a str,
    pub router_password: &'a str,
    pub fonnte_base_url: &'a str,
}

impl ChildPortal {
    /// Builds the `lpsaring` binary (a no-op when it is fresh), writes the config into a fresh
    /// data directory, starts `lpsaring serve` and waits for it to serve.
    pub async fn start(peers: &Peers<'_>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDatabase::in_dir(dir.path()).await;
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).expect("plugin dir");
        let fonnte = "liblpsaring_plugin_whatsapp_fonnte.so";
        std::fs::copy(built_plugin(fonnte), plugins.join(fonnte)).expect("copy the plugin");
        std::fs::write(
            dir.path().join("lpsaring.toml"),
            config(dir.path(), &plugins, db.url(), peers),
        )
        .expect("write the config");
        let binary = binary();
        // `LOGIN_LOAD_WRAPPER`: a profiler (or any command) to run the portal under.
        let wrapper = std::env::var("LOGIN_LOAD_WRAPPER").unwrap_or_default();
        let mut words = wrapper.split_whitespace();
        let mut command = match words.next() {
            Some(program) => {
                let mut c = Command::new(program);
                c.args(words).arg(&binary);
                c
            }
            None => Command::new(&binary),
        };
        for (key, _) in std::env::vars() {
            if key.starts_with("LPSARING_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        let mut child = command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let pid = child.id();
        let mut log = Lines::of(child.stderr.take().expect("stderr"));
        let running = Running(child);
        let addr = tokio::task::block_in_place(|| {
            log.wait_for("`lpsaring is serving` line", |line| {
                let v: serde_json::Value = serde_json::from_str(line).ok()?;
                (v["message"] == "lpsaring is serving")
                    .then(|| v["addr"].as_str().map(str::to_owned))
                    .flatten()
            })
        });
        // The reader thread keeps draining the child's log; nobody keeps the lines.
        drop(log);
        Self {
            base_url: format!("http://{addr}"),
            pid,
            db,
            _running: running,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The child's resident memory in MB (`VmRSS`).
    pub fn rss_mb(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// Inserts `users` approved users (phones from `phone`) with 1 GiB valid for 30 days each,
    /// plus the run's admin, straight into the portal's database: a thousand rows a statement
    /// in one transaction. Returns how long it took.
    pub async fn seed(&self, users: usize, phone: impl Fn(usize) -> String) -> Duration {
        let started = Instant::now();
        let db = self.db.connect().await;
        let txn = db.begin().await.expect("begin");
        let now = lpsaring_kernel::Clock::now(&lpsaring_kernel::SystemClock);
        let admin_hash = lpsaring_auth::session::password::hash_password(ADMIN_PASSWORD)
            .expect("hash the admin password");
        let row = |phone: &str, role: &str, hash: Option<String>| -> Vec<Value> {
            let e164 = Phone::parse(phone).expect("phone").to_string();
            vec![
                e164.into(),
                "Load".into(),
                role.into(),
                "APPROVED".into(),
                true.into(),
                false.into(),
                hash.into(),
                now.into(),
                now.into(),
                now.into(),
            ]
        };
        insert_users(&txn, vec![row(ADMIN_PHONE, "ADMIN", Some(admin_hash))]).await;
        for start in (0..users).step_by(SEED_CHUNK) {
            let rows = (start..users.min(start + SEED_CHUNK))
                .map(|n| row(&phone(n), "USER", None))
                .collect();
            insert_users(&txn, rows).await;
        }
        let backend = txn.get_database_backend();
        let grant = Statement::from_sql_and_values(
            backend,
            placeholders(
                &db,
                "INSERT INTO quota_accounts (user_id, purchased_bytes, used_bytes, unlimited, \
                 expires_at, updated_at) SELECT id, ?, 0, ?, ?, ? FROM users WHERE role = 'USER'",
            ),
            [
                (1i64 << 30).into(),
                false.into(),
                (now + chrono::Duration::days(30)).into(),
                now.into(),
            ],
        );
        txn.execute_raw(grant).await.expect("seed quota accounts");
        txn.commit().await.expect("commit the seed");
        started.elapsed()
    }
}

async fn insert_users(txn: &impl ConnectionTrait, rows: Vec<Vec<Value>>) {
    let columns = "phone_number, full_name, role, approval_status, is_active, is_blocked, \
                   password_hash, created_at, updated_at, approved_at";
    let width = columns.split(',').count();
    let tuple = format!("({})", vec!["?"; width].join(", "));
    let sql = format!(
        "INSERT INTO users ({columns}) VALUES {}",
        vec![tuple; rows.len()].join(", ")
    );
    let backend = txn.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => numbered(&sql),
        _ => sql,
    };
    let values: Vec<Value> = rows.into_iter().flatten().collect();
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .expect("seed users");
}

/// `?` placeholders as the backend of `db` wants them.
fn placeholders(db: &DatabaseConnection, sql: &str) -> String {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => numbered(sql),
        _ => sql.to_owned(),
    }
}

/// `?` → `$1`, `$2`, … (Postgres).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() * 2);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// The `lpsaring` binary next to this one, built first (cargo makes that a no-op when fresh).
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().expect("profile dir").to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "-p", "lpsaring", "--bin", "lpsaring"]);
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let built = build.status().is_ok_and(|s| s.success());
    assert!(built, "building the lpsaring binary failed");
    profile_dir.join("lpsaring")
}

fn config(dir: &Path, plugins: &Path, database_url: &str, peers: &Peers<'_>) -> String {
    let Peers {
        router,
        router_user,
        router_password,
        fonnte_base_url,
    } = peers;
    format!(
        r#"data_dir = {data:?}

[http]
listen = "127.0.0.1:0"

[log]
format = "json"
level = "warn,lpsaring::cli=info"

[database]
url = {database_url:?}

[router]
address = "{router}"
username = "{router_user}"
password = "{router_password}"
timeout_ms = 2000

[plugins]
dir = {plugins:?}

[plugins.whatsapp-fonnte]
token = "load-run-token"
base_url = "{fonnte_base_url}"

[messaging]
plugin = "whatsapp-fonnte"

[auth]
otp_requests_per_ip_per_minute = {RAISED_LIMIT}
otp_requests_per_ip_phone_per_hour = {RAISED_LIMIT}
otp_verifications_per_ip_per_minute = {RAISED_LIMIT}

[quota]
sync_interval_secs = 86400

[metrics]
enabled = true
"#,
        data = dir.display().to_string(),
        plugins = plugins.display().to_string(),
    )
}
