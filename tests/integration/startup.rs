//! Starting the portal: `log.format = "json"`, `database.auto_migrate = false`, `lpsaring demo`
//! through the binary, and what `/readyz` and the job list are made of.

use std::process::Stdio;
use std::time::{Duration, Instant};

use lpsaring_tests::{Lines, Running, START_LIMIT, lpsaring_command, spawn_app, spawn_app_with};
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Sends SIGTERM (what systemd sends) to a child this test started.
fn terminate(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// Waits for a child to exit on its own, up to `limit`.
fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the process did not exit in time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The listen address from the JSON `lpsaring is serving` line (`log.format = "json"`).
pub(crate) fn serving_addr(log: &mut Lines) -> String {
    log.wait_for("`lpsaring is serving` line", |line| {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        (v["message"] == "lpsaring is serving").then(|| v["addr"].as_str().unwrap().to_owned())
    })
}

#[tokio::test]
async fn log_format_json_writes_every_line_as_json_with_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = lpsaring_command(dir.path())
        .arg("serve")
        .env("LPSARING_LOG__FORMAT", "json")
        .env("LPSARING_HTTP__LISTEN", "127.0.0.1:0")
        .env("LPSARING_PLUGINS__DIR", dir.path().join("plugins"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = Lines::of(child.stderr.take().unwrap());
    let _guard = Running(child);

    let json = |line: &str| -> Value {
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"))
    };
    let addr = serving_addr(&mut log);
    let res = client()
        .get(format!("http://{addr}/healthz"))
        .header("X-Request-ID", "json-log-check")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let request = log.wait_for("request line", |line| {
        let v = json(line);
        (v["message"] == "request").then_some(v)
    });
    assert_eq!(request["path"], "/healthz", "{request}");
    assert_eq!(request["status"], 200, "{request}");
    assert_eq!(request["span"]["request_id"], "json-log-check", "{request}");
    // Every line so far was one JSON object with a level and a timestamp: nothing in text.
    for line in log.seen() {
        let v = json(line);
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
}

#[tokio::test]
async fn with_auto_migrate_off_the_schema_is_left_alone_and_readyz_says_so() {
    let app = spawn_app_with(|s| s.database.auto_migrate = false, salvo::Router::new()).await;
    let status = lpsaring::db::migration_status(&app.app.db).await;
    assert!(!status.is_empty());
    assert!(
        status.iter().all(|(_, applied)| !applied),
        "nothing may be migrated: {status:?}"
    );

    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "not_ready", "{body}");
    assert_eq!(body["database"], "down", "{body}");
    let detail = body["checks"][0]["detail"].as_str().unwrap_or_default();
    assert_eq!(body["checks"][0]["name"], "database", "{body}");
    assert!(
        detail.contains(&format!("{} migration(s) pending", status.len())),
        "{body}"
    );

    lpsaring::db::migrate_up(&app.app.db).await.unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["database"], "ok", "{body}");
}

#[test]
fn cli_commands_migrate_only_when_auto_migrate_allows() {
    let dir = tempfile::tempdir().unwrap();
    let user_list = |auto: &str| {
        lpsaring_command(dir.path())
            .args(["user", "list"])
            .env("LPSARING_DATABASE__AUTO_MIGRATE", auto)
            .output()
            .unwrap()
    };
    let pending = || {
        let out = lpsaring_command(dir.path())
            .args(["migrate", "status"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("pending"))
            .count()
    };

    let refused = user_list("false");
    assert!(!refused.status.success(), "no users table yet");
    let all = pending();
    assert!(
        all > 0,
        "auto_migrate = false must leave every migration pending"
    );

    let listed = user_list("true");
    let stderr = String::from_utf8_lossy(&listed.stderr);
    assert!(listed.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&listed.stdout).contains("0 user(s)."));
    assert_eq!(pending(), 0);
}

#[tokio::test]
async fn demo_starts_answers_healthz_and_cleans_up_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = lpsaring_command(dir.path())
        .arg("demo")
        .env("LPSARING_HTTP__LISTEN", "127.0.0.1:0")
        .env("LPSARING_LOG__LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = Lines::of(child.stdout.take().unwrap());
    let mut running = Running(child);

    // "  Also: http://ADDR/login (no hotspot), ..." names the address it bound.
    let addr: String = out.wait_for("address line", |line| {
        let rest = line.trim().strip_prefix("Also: http://")?;
        Some(rest.split('/').next()?.to_owned())
    });
    let data_dir: std::path::PathBuf = out.wait_for("data dir line", |line| {
        let rest = line.trim().strip_prefix("Data dir: ")?;
        Some(rest.split(" (deleted on exit)").next()?.into())
    });
    assert!(data_dir.is_dir());

    let res = client()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let res = client()
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");

    terminate(&running.0);
    let status = wait_exit(&mut running.0, START_LIMIT);
    assert!(status.success(), "demo exit: {status}");
    assert!(!data_dir.exists(), "the demo's data dir is removed on exit");
}

#[tokio::test]
async fn readyz_shows_every_part_with_a_detail() {
    let app = spawn_app().await;
    let body: Value = app.get("/readyz").await.json().await.unwrap();
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["database", "state_store", "router", "plugins", "messaging"],
        "{body}"
    );
    for check in body["checks"].as_array().unwrap() {
        let name = check["name"].as_str().unwrap();
        assert_eq!(body[name], check["status"], "{body}");
        assert!(
            check["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{body}"
        );
    }
    assert_eq!(body["plugins"], "ok", "{body}");
    assert!(
        body["checks"][3]["detail"]
            .as_str()
            .unwrap()
            .contains("console"),
        "{body}"
    );
}

#[tokio::test]
async fn jobs_of_every_module_are_collected() {
    let app = spawn_app().await;
    let mut names: Vec<&str> = app.app.jobs().iter().map(|j| j.name).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "admin.audit_retention",
            "auth.session_cleanup",
            "devices.remove_stale",
            "outbox.deliver",
            "payments.reconcile",
            "payments.sweep",
            "quota.purge_history",
            "quota.sync",
            "store.sweep",
        ]
    );
}

#[tokio::test]
async fn readyz_names_a_status_profile_the_router_lacks() {
    // Profiles unmanaged: the portal reports a missing one instead of creating it.
    let app = spawn_app_with(|s| s.quota.manage_profiles = false, salvo::Router::new()).await;
    app.remove_profile("habis");
    // The profiles are checked again on the next connection.
    app.sim.drop_connections();
    let mut last = Value::Null;
    for _ in 0..80 {
        let _ = app.app.router.hosts().await;
        let res = app.get("/readyz").await;
        assert_eq!(
            res.status(),
            200,
            "a missing profile only degrades the router"
        );
        last = res.json().await.unwrap();
        if last["router"] == "degraded"
            && last["checks"][2]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("missing hotspot profiles: habis"))
        {
            assert_eq!(last["status"], "ready", "{last}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("/readyz never named the missing profile: {last}");
}

#[tokio::test]
async fn readyz_says_when_no_messaging_plugin_is_configured() {
    let app = spawn_app_with(|s| s.messaging.plugin = None, salvo::Router::new()).await;
    let res = app.get("/readyz").await;
    assert_eq!(
        res.status(),
        200,
        "logins by code fail, but the portal serves"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["messaging"], "degraded", "{body}");
    assert!(
        body["checks"][4]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no messaging plugin configured")),
        "{body}"
    );
}

/// Under systemd (`Type=notify`, `WatchdogSec=`): the portal sends READY=1 on the notify socket
/// once `/readyz` answers 200, pings the watchdog, and says STOPPING=1 on SIGTERM.
#[tokio::test]
async fn under_systemd_it_notifies_ready_pings_the_watchdog_and_says_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(START_LIMIT)).unwrap();
    let mut child = lpsaring_command(dir.path())
        .arg("serve")
        .env("LPSARING_HTTP__LISTEN", "127.0.0.1:0")
        .env("LPSARING_PLUGINS__DIR", dir.path().join("plugins"))
        .env("LPSARING_LOG__FORMAT", "json")
        .env("NOTIFY_SOCKET", &socket_path)
        // 200 ms watchdog: pings every 100 ms.
        .env("WATCHDOG_USEC", "200000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = Lines::of(child.stderr.take().unwrap());
    let mut running = Running(child);
    let addr = serving_addr(&mut log);
    let mut buf = [0u8; 512];
    let mut received = Vec::new();
    let recv = |buf: &mut [u8]| -> String {
        let n = socket
            .recv(buf)
            .expect("a notification before the time limit");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    while !received.iter().any(|m: &String| m.contains("READY=1")) {
        received.push(recv(&mut buf));
    }
    let res = client()
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "READY=1 was sent while /readyz is not 200"
    );
    while !received.iter().any(|m| m == "WATCHDOG=1") {
        received.push(recv(&mut buf));
    }
    terminate(&running.0);
    while !received.iter().any(|m| m == "STOPPING=1") {
        received.push(recv(&mut buf));
    }
    assert!(wait_exit(&mut running.0, START_LIMIT).success());
}
