//! The binary as an operator meets it: defaults in an empty folder, file < environment, and
//! config errors as one readable line with exit code 2.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use lpsaring_tests::{Lines, Running, lpsaring_command as lpsaring};

/// A port nothing listens on (bound, then released): only for connections that must fail, where
/// someone taking the port meanwhile would make them fail differently, never pass.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run lpsaring")
}

/// Polls `GET /healthz` on `port` until it answers 200 or `limit` passes.
async fn wait_healthy(port: u16, limit: Duration) -> Option<Duration> {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(res) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && res.status() == 200
        {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
}

#[tokio::test]
async fn serve_in_an_empty_folder_uses_the_defaults_and_env_wins_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // The file names an address no interface has (TEST-NET-3): were it used, binding would fail.
    std::fs::write(
        dir.path().join("lpsaring.toml"),
        "[http]\nlisten = \"203.0.113.7:8080\"\n",
    )
    .unwrap();
    let mut child = lpsaring(dir.path())
        .arg("serve")
        .env("LPSARING_HTTP__LISTEN", "127.0.0.1:0")
        .env("LPSARING_LOG__LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = Lines::of(child.stderr.take().unwrap());
    let _guard = Running(child);
    // The service binds port 0 itself and names the port (one found by binding and releasing
    // could be taken before it binds).
    let env_port: u16 = log.wait_for("`lpsaring is serving` line", |line| {
        let at = line.find("127.0.0.1:")? + "127.0.0.1:".len();
        let digits: String = line[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        line.contains("lpsaring is serving")
            .then(|| digits.parse().ok())
            .flatten()
    });
    let took = wait_healthy(env_port, Duration::from_secs(20)).await;
    assert!(
        took.is_some(),
        "the service never answered on the env-configured port"
    );
    // Defaults: the SQLite database and the state store appear in ./data.
    assert!(dir.path().join("data/lpsaring.db").exists());
    assert!(dir.path().join("data/state.redb").exists());
}

fn assert_config_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("lpsaring: "), "{stderr}");
    assert!(lines[0].contains(needle), "expected {needle:?} in {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn a_bad_value_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[http]\nlisten = \"nowhere\"\n",
    )
    .unwrap();
    let output = run(lpsaring(dir.path()).args(["--config", "bad.toml", "serve"]));
    assert_config_error(&output, "http.listen");
}

#[test]
fn an_unknown_key_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lpsaring.toml"),
        "[database]\nurll = \"x\"\n",
    )
    .unwrap();
    let output = run(lpsaring(dir.path()).arg("serve"));
    assert_config_error(&output, "urll");
}

/// Templates that lack the configured language are the language's fault, not the file's: the
/// error names `quota.notify_lang` (it used to name `quota.templates_path` for every cause).
#[test]
fn templates_without_the_notify_language_exit_2_naming_notify_lang() {
    let dir = tempfile::tempdir().unwrap();
    let templates = lpsaring_quota::notify::DEFAULT_TEMPLATES;
    let only_id = &templates[..templates.find("[en]").expect("an [en] section")];
    std::fs::write(dir.path().join("messages.toml"), only_id).unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    // The service is built after the plugins load: an empty plugin folder and errors-only
    // logging keep the error the one line on stderr.
    let serve = |templates: &str| {
        let mut cmd = lpsaring(dir.path());
        cmd.arg("serve")
            .env("LPSARING_PLUGINS__DIR", dir.path().join("plugins"))
            .env("LPSARING_LOG__LEVEL", "error")
            .env("LPSARING_QUOTA__TEMPLATES_PATH", templates);
        cmd
    };
    let output = run(serve("messages.toml").env("LPSARING_QUOTA__NOTIFY_LANG", "en"));
    assert_config_error(&output, "quota.notify_lang");
    let output = run(&mut serve("missing.toml"));
    assert_config_error(&output, "quota.templates_path");
}

#[test]
fn a_bad_environment_value_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(lpsaring(dir.path())
        .arg("serve")
        .env("LPSARING_DATABASE__AUTO_MIGRATE", "maybe"));
    assert_config_error(&output, "database.auto_migrate");
}

#[test]
fn an_unreachable_database_exits_2_without_leaking_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let output = run(lpsaring(dir.path())
        .arg("serve")
        .env(
            "LPSARING_DATABASE__URL",
            format!("postgres://app:hunter2@127.0.0.1:{port}/x"),
        )
        .env("LPSARING_HTTP__LISTEN", "127.0.0.1:0"));
    assert_config_error(&output, "cannot open database");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("hunter2"));
}

#[test]
fn a_missing_config_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(lpsaring(dir.path()).args(["--config", "nope.toml", "serve"]));
    assert_config_error(&output, "nope.toml");
}

#[test]
fn migrate_up_then_status_lists_everything_applied() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(lpsaring(dir.path()).args(["migrate", "status"]));
    assert!(output.status.success());
    let before = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(before.lines().all(|l| l.starts_with("pending")), "{before}");
    let output = run(lpsaring(dir.path()).args(["migrate", "up"]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = run(lpsaring(dir.path()).args(["migrate", "status"]));
    let after = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        !after.is_empty() && after.lines().all(|l| l.starts_with("applied")),
        "{after}"
    );
}

#[test]
fn version_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(lpsaring(dir.path()).arg("--version"));
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("lpsaring "));
}
