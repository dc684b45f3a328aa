//! `lpsaring doctor` through the binary against a test's app and simulator, and `/readyz`'s
//! router entry showing the same router checks.

use std::net::Ipv4Addr;
use std::process::Output;

use lpsaring_tests::{TestApp, spawn_app_with};
use serde_json::Value;

const PUBLIC_URL: &str = "https://wifi.example";
const PORTAL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

async fn app() -> TestApp {
    spawn_app_with(
        |s| {
            s.http.public_url = Some(PUBLIC_URL.to_owned());
            s.router.portal_address = Some(PORTAL);
        },
        salvo::Router::new(),
    )
    .await
}

/// The CLI as the operator runs it on the portal's machine: the app's config, router included.
async fn cli(app: &TestApp, args: &[&str]) -> Output {
    let router = &app.app.settings.router;
    cli_as(app, (&router.username, router.password.expose()), args, &[]).await
}

/// [`cli`] with `router.username` / `router.password` set to `login` and extra variables.
async fn cli_as(app: &TestApp, login: (&str, &str), args: &[&str], env: &[(&str, &str)]) -> Output {
    let router = &app.app.settings.router;
    let mut cmd = app.cli(args);
    cmd.envs(env.iter().copied())
        .env("LPSARING_ROUTER__ADDRESS", &router.address)
        .env("LPSARING_ROUTER__USERNAME", login.0)
        .env("LPSARING_ROUTER__PASSWORD", login.1)
        .env("LPSARING_ROUTER__PORTAL_ADDRESS", PORTAL.to_string())
        .env("LPSARING_HTTP__PUBLIC_URL", PUBLIC_URL)
        .env("LPSARING_MESSAGING__PLUGIN", "console");
    tokio::task::spawn_blocking(move || cmd.output().expect("run lpsaring"))
        .await
        .expect("the CLI ran")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The report line of `area` (`FAIL  walled garden  missing …`).
fn line<'a>(out: &'a str, area: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|l| l.get(6..).is_some_and(|rest| rest.starts_with(area)))
        .collect()
}

#[tokio::test]
async fn doctor_fails_on_a_bare_router_and_passes_after_router_setup() {
    let app = app().await;

    let out = cli(&app, &["doctor"]).await;
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    for area in ["walled garden", "firewall", "login page"] {
        let lines = line(&report, area);
        assert!(
            lines.first().is_some_and(|l| l.starts_with("FAIL")),
            "{area}: {report}"
        );
    }
    assert!(report.contains("fix: lpsaring router setup"), "{report}");
    // What is in place passes: the service holds the store, the database is migrated.
    for area in [
        "database",
        "state store",
        "router login",
        "api permissions",
        "plugin",
        "clock",
    ] {
        assert!(
            line(&report, area).iter().all(|l| l.starts_with("ok")),
            "{area}: {report}"
        );
    }
    assert!(report.contains("held by the running service"), "{report}");
    assert!(report.contains("problem(s) found"), "{report}");

    let out = cli(&app, &["router", "setup"]).await;
    assert!(out.status.success(), "{}", text(&out));

    let out = cli(&app, &["doctor"]).await;
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("Everything the portal needs is in place"),
        "{report}"
    );
    assert!(!report.contains("FAIL"), "{report}");
    // The router's own login page was replaced by the redirect to the captive page.
    let page = app.sim.with_state(|s| {
        s.rows(lpsaring_routeros_sim::Menu::File)
            .into_iter()
            .find(|r| r.get("name") == Some("hotspot/login.html"))
            .and_then(|r| r.get("contents").map(str::to_owned))
            .unwrap()
    });
    assert!(
        page.contains("https://wifi.example/captive?ip=$(ip)&mac=$(mac)"),
        "{page}"
    );

    // `/readyz` runs the same checks: the set-up is now as expected.
    let body: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["router"], "ok", "{body}");
}

#[tokio::test]
async fn an_admin_login_creates_the_api_user_and_doctor_passes_as_that_user() {
    let app = app().await;
    let api = ("lpsaring", "api-pass-1");
    // The API user does not exist yet: logging in as it fails, and doctor says so.
    let out = cli_as(&app, api, &["doctor"], &[]).await;
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        line(&report, "router login")
            .first()
            .is_some_and(|l| l.contains("refused our credentials")),
        "{report}"
    );

    // The first set-up logs in as the router's admin and creates it.
    let out = cli_as(
        &app,
        api,
        &["router", "setup", "--login-user", "admin"],
        &[("LPSARING_ROUTER_SETUP_PASSWORD", "secret")],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));

    let out = cli_as(&app, api, &["doctor"], &[]).await;
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    for area in ["router login", "api permissions", "api user", "login page"] {
        assert!(
            line(&report, area).iter().all(|l| l.starts_with("ok")),
            "{area}: {report}"
        );
    }
    assert!(
        report.contains("lpsaring in group lpsaring-api"),
        "{report}"
    );

    // A wrong admin password changes nothing and says why.
    let out = cli_as(
        &app,
        api,
        &["router", "setup", "--login-user", "admin"],
        &[("LPSARING_ROUTER_SETUP_PASSWORD", "wrong")],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[tokio::test]
async fn readyz_names_the_router_setup_areas_that_differ() {
    let app = app().await;
    // Let the client connect (the first call dials).
    let _ = app.app.router.hosts().await;
    let body: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["status"], "ready", "a router set-up only degrades");
    assert_eq!(body["router"], "degraded", "{body}");
    let detail = body["checks"][2]["detail"].as_str().unwrap();
    assert!(
        detail.contains("set-up differs: walled garden")
            && detail.contains("login page")
            && detail.contains("(run `lpsaring router setup`)"),
        "{detail}"
    );
}

#[tokio::test]
async fn doctor_names_an_unreachable_router_and_an_unset_public_url() {
    let app = app().await;
    let mut cmd = app.cli(&["doctor"]);
    // A closed port: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    cmd.env("LPSARING_ROUTER__ADDRESS", &addr)
        .env("LPSARING_ROUTER__TIMEOUT_MS", "500");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("http.public_url is not set")
            && report.contains("fix: set http.public_url"),
        "{report}"
    );
    let login = line(&report, "router login");
    assert!(
        login
            .first()
            .is_some_and(|l| l.starts_with("FAIL") && l.contains("does not answer")),
        "{report}"
    );
}
