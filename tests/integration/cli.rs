//! The operator CLI through the real binary: `user add|approve|block|unblock|list`,
//! `plugins list|check`, `quota grant --unlimited`, `sync once` against the simulator, and
//! `migrate` on Postgres.

use std::process::{Command, Output};

use lpsaring_kernel::Phone;
use lpsaring_kernel::testing::TestDatabase;
use lpsaring_routeros_sim::{SimConfig, Simulator};
use lpsaring_tests::{console_plugin, lpsaring_bin, spawn_app, stderr, stdout, succeeded};
use serde_json::Value;

const PHONE: &str = "081234567801";

#[track_caller]
fn failed_with(out: &Output, needle: &str) {
    assert!(!out.status.success(), "should fail: {}", stdout(out));
    assert!(
        stderr(out).contains(needle),
        "{needle:?} not in {}",
        stderr(out)
    );
}

#[tokio::test]
async fn user_commands_add_approve_block_unblock_and_list() {
    let app = spawn_app().await;
    let users = &app.app.users;
    let phone = Phone::parse(PHONE).unwrap();

    let out = app
        .run_cli(&["user", "add", "--phone", PHONE, "--name", "Wayan"])
        .await;
    assert!(succeeded(&out).contains("waiting for approval"));
    let made = users.find(&phone).await.unwrap().expect("created");
    assert!(!made.approved && !made.blocked);
    failed_with(
        &app.run_cli(&["user", "add", "--phone", PHONE, "--name", "Again"])
            .await,
        "lpsaring:",
    );
    failed_with(
        &app.run_cli(&["user", "add", "--phone", "12ab", "--name", "X"])
            .await,
        "12ab",
    );

    succeeded(&app.run_cli(&["user", "approve", PHONE]).await);
    assert!(users.find(&phone).await.unwrap().unwrap().approved);

    let out = app
        .run_cli(&["user", "block", PHONE, "--reason", "abuse"])
        .await;
    assert!(succeeded(&out).contains("Blocked"));
    assert!(users.find(&phone).await.unwrap().unwrap().blocked);

    let list = succeeded(&app.run_cli(&["user", "list"]).await);
    let row = list
        .lines()
        .find(|l| l.contains("+6281234567801"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(row.contains("Wayan"), "{row}");
    assert!(list.contains("1 user(s)."), "{list}");

    succeeded(&app.run_cli(&["user", "unblock", PHONE]).await);
    assert!(!users.find(&phone).await.unwrap().unwrap().blocked);

    failed_with(
        &app.run_cli(&["user", "approve", "081299999999"]).await,
        "lpsaring:",
    );
}

#[tokio::test]
async fn plugins_list_shows_the_folder_and_check_refuses_a_non_plugin() {
    let app = spawn_app().await;
    let list = succeeded(&app.run_cli(&["plugins", "list"]).await);
    let row = list
        .lines()
        .find(|l| l.starts_with("console"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(row.contains("messaging") && row.contains("loaded"), "{row}");

    let plugin = console_plugin();
    let out = app
        .run_cli(&["plugins", "check", plugin.to_str().unwrap()])
        .await;
    assert!(succeeded(&out).contains("would load: console"));

    let junk = app.data_dir.path().join("libjunk.so");
    std::fs::write(&junk, b"not a shared object").unwrap();
    let out = app
        .run_cli(&["plugins", "check", junk.to_str().unwrap()])
        .await;
    failed_with(&out, "refused");
}

#[tokio::test]
async fn quota_grant_unlimited_makes_the_account_unlimited() {
    let app = spawn_app().await;
    succeeded(
        &app.run_cli(&["user", "add", "--phone", PHONE, "--name", "W", "--approved"])
            .await,
    );
    succeeded(
        &app.run_cli(&["quota", "grant", PHONE, "--unlimited", "--days", "30"])
            .await,
    );
    let shown: Value =
        serde_json::from_str(&succeeded(&app.run_cli(&["quota", "show", PHONE]).await)).unwrap();
    assert_eq!(shown["unlimited"], true, "{shown}");
    assert_eq!(shown["status"], "unlimited", "{shown}");
}

/// `sync once` with the service stopped: a fresh data dir and database, the simulator as router.
#[tokio::test]
async fn sync_once_runs_a_sync_against_the_router_and_prints_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::in_dir(dir.path()).await;
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    let local = SimConfig::local();
    let run = |args: &[&str]| {
        let mut cmd = Command::new(lpsaring_bin());
        cmd.args(args)
            .env("LPSARING_DATA_DIR", dir.path())
            .env("LPSARING_DATABASE__URL", db.url())
            .env("LPSARING_ROUTER__ADDRESS", sim.addr().to_string())
            .env("LPSARING_ROUTER__USERNAME", &local.user)
            .env("LPSARING_ROUTER__PASSWORD", &local.password)
            .env("LPSARING_LOG__LEVEL", "warn");
        cmd
    };
    let output = |args: &'static [&'static str]| {
        let mut cmd = run(args);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    succeeded(
        &output(&["user", "add", "--phone", PHONE, "--name", "W", "--approved"])
            .await
            .unwrap(),
    );
    let reads_before = sim.stats().count("/ip/hotspot/host/print");
    let out = output(&["sync", "once"]).await.unwrap();
    let summary: Value = serde_json::from_str(&succeeded(&out)).unwrap();
    assert_eq!(summary["router_errors"], 0, "{summary}");
    assert!(
        sim.stats().count("/ip/hotspot/host/print") > reads_before,
        "the run read the router's hosts"
    );
}

/// `migrate` and `migrate status` on a fresh Postgres database (SQLite: `config.rs`).
#[tokio::test]
async fn migrate_on_postgres_applies_everything_once() {
    if lpsaring_kernel::testing::postgres_only().is_none() {
        return;
    }
    let db = TestDatabase::fresh().await;
    assert_eq!(db.backend(), "postgres");
    let dir = tempfile::tempdir().unwrap();
    let migrate = |action: &str| {
        Command::new(lpsaring_bin())
            .args(["migrate", action])
            .env("LPSARING_DATA_DIR", dir.path())
            .env("LPSARING_DATABASE__URL", db.url())
            .env("LPSARING_DATABASE__AUTO_MIGRATE", "false")
            .env("LPSARING_LOG__LEVEL", "warn")
            .output()
            .unwrap()
    };
    let status = succeeded(&migrate("status"));
    assert!(status.lines().any(|l| l.starts_with("pending")), "{status}");
    let up = succeeded(&migrate("up"));
    assert!(!up.contains("Applying 0 "), "{up}");
    let status = succeeded(&migrate("status"));
    assert!(status.lines().all(|l| l.starts_with("applied")), "{status}");
    let again = succeeded(&migrate("up"));
    assert!(again.contains("Applying 0 pending"), "{again}");
    // The database now holds the core tables.
    let conn = db.connect().await;
    for table in ["users", "devices", "quota_accounts", "outbox"] {
        lpsaring_tests::count_rows(&conn, table).await;
    }
}

#[tokio::test]
async fn router_script_puts_every_loaded_plugins_walled_garden_hosts_in() {
    let app = spawn_app().await;
    let midtrans = "liblpsaring_plugin_payment_midtrans.so";
    std::fs::copy(
        lpsaring_tests::built_plugin(midtrans),
        app.app.settings.plugins.dir.join(midtrans),
    )
    .unwrap();
    let script = succeeded(&app.run_cli(&["router-script"]).await);
    let garden = script
        .split("/ip hotspot walled-garden")
        .nth(1)
        .expect("a walled-garden section");
    for host in [
        "app.midtrans.com",
        "app.sandbox.midtrans.com",
        "*.gopay.co.id",
    ] {
        assert!(
            garden.contains(&format!("dst-host=\"{host}\""))
                || garden.contains(&format!("dst-host={host}")),
            "{host} not in the walled garden:\n{script}"
        );
    }
    app.stop().await;
}
