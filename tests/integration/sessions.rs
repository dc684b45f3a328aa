//! Sessions over HTTP (seed diagram 4): cookie auto-refresh on pages and `/api/auth/me`, explicit
//! refresh and reuse detection, bearer tokens, CSRF rules, admin login and role guards. Time moves
//! with the app's `FakeClock`, never by sleeping.

use std::collections::HashMap;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use lpsaring_auth::session::IssuedSession;
use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::{Role, UserFacts};
use lpsaring_kernel::web::current_user;
use lpsaring_tests::{TestApp, count_rows, spawn_app, spawn_app_with};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use salvo::prelude::*;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::web::client;

const PASSWORD: &str = "kopi-susu-2026!";

async fn user(app: &TestApp, phone: &str, role: Role) -> UserFacts {
    let phone = Phone::parse(phone).unwrap();
    app.app
        .users
        .create(&phone, "Budi", true, role)
        .await
        .unwrap()
}

async fn login(app: &TestApp, user: &UserFacts) -> IssuedSession {
    app.app
        .sessions
        .issue(user, None, Some("integration"))
        .await
        .unwrap()
}

fn cookie_header(session: &IssuedSession) -> String {
    format!(
        "auth_token={}; refresh_token={}",
        session.access_token.expose(),
        session.refresh_token.as_ref().unwrap().expose()
    )
}

/// `name → full Set-Cookie line` of a response.
fn set_cookies(res: &reqwest::Response) -> HashMap<String, String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|line| {
            let name = line.split('=').next()?.trim().to_owned();
            Some((name, line.to_owned()))
        })
        .collect()
}

fn value_of(line: &str) -> String {
    line.split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

fn assert_session_cookie_flags(line: &str) {
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(line.contains("Path=/"), "{line}");
    assert!(
        !line.contains("Secure"),
        "plain http must not set Secure: {line}"
    );
}

fn assert_envelope(body: &Value, status: u16, code: &str) {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["status_code"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["request_id"].as_str().is_some(), "{body}");
}

/// Probes mounted inside the app: a user page and an admin page behind the guards.
fn probes() -> Router {
    #[handler]
    async fn whoami(depot: &mut Depot) -> String {
        format!("user {}", current_user(depot).map(|u| u.0).unwrap_or(-1))
    }
    Router::with_path("probe")
        .push(
            Router::with_path("page")
                .hoop(lpsaring_kernel::web::require_user)
                .get(whoami),
        )
        .push(
            Router::with_path("admin")
                .hoop(lpsaring_kernel::web::require_admin)
                .get(whoami),
        )
}

#[tokio::test]
async fn expired_access_token_is_refreshed_on_me_with_new_cookies_on_that_response() {
    let app = spawn_app().await;
    let u = user(&app, "081100000001", Role::User).await;
    let s = login(&app, &u).await;
    app.clock.advance(Duration::minutes(16));
    let res = client()
        .get(app.url("/api/auth/me"))
        .header(COOKIE, cookie_header(&s))
        .header("user-agent", "integration")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookies = set_cookies(&res);
    let access = cookies.get("auth_token").expect("new access cookie");
    let refresh = cookies.get("refresh_token").expect("new refresh cookie");
    assert_session_cookie_flags(access);
    assert_session_cookie_flags(refresh);
    assert_ne!(
        value_of(refresh),
        *s.refresh_token.as_ref().unwrap().expose()
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], u.id.0);
    assert_eq!(body["phone_number"], "+6281100000001");
    assert_eq!(body["role"], "USER");
    assert_eq!(body["approval_status"], "APPROVED");
    // The access policy's answer: an approved user without any quota is out of quota.
    assert_eq!(body["access_status"], "habis");

    // The new pair works as it is, without another rotation.
    let res = client()
        .get(app.url("/api/auth/me"))
        .header(
            COOKIE,
            format!(
                "auth_token={}; refresh_token={}",
                value_of(access),
                value_of(refresh)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!set_cookies(&res).contains_key("refresh_token"));
}

#[tokio::test]
async fn a_page_render_refreshes_too_and_guards_redirect_to_login() {
    let app = spawn_app_with(|_| {}, probes()).await;
    let u = user(&app, "081100000001", Role::User).await;
    let s = login(&app, &u).await;

    // No session: a redirect to the login page that comes back here.
    let res = client()
        .get(app.url("/probe/page?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/login?next=/probe/page%3Fx%3D1");

    // Expired access token, valid refresh cookie: rendered as the user, with new cookies.
    app.clock.advance(Duration::minutes(20));
    let res = client()
        .get(app.url("/probe/page"))
        .header(COOKIE, cookie_header(&s))
        .header("user-agent", "integration")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookies = set_cookies(&res);
    assert!(cookies.contains_key("auth_token"));
    assert!(cookies.contains_key("refresh_token"));
    assert_eq!(res.text().await.unwrap(), format!("user {}", u.id.0));

    // Only the refresh cookie (the browser dropped the expired access cookie): same.
    let res = client()
        .get(app.url("/probe/page"))
        .header(
            COOKIE,
            format!("refresh_token={}", value_of(&cookies["refresh_token"])),
        )
        .header("user-agent", "integration")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn explicit_refresh_rotates_and_reuse_outside_the_grace_window_kills_the_family() {
    let app = spawn_app().await;
    let u = user(&app, "081100000001", Role::User).await;
    let s = login(&app, &u).await;
    let r0 = s.refresh_token.as_ref().unwrap().expose().clone();

    let res = client()
        .post(app.url("/api/auth/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_envelope(&res.json().await.unwrap(), 401, "AUTH_UNAUTHORIZED");

    let res = client()
        .post(app.url("/api/auth/refresh"))
        .header(COOKIE, format!("refresh_token={r0}"))
        .header("user-agent", "integration")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let r1 = value_of(&set_cookies(&res)["refresh_token"]);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);

    // The same old cookie a second later from the same browser: the parallel-request case.
    app.clock.advance(Duration::seconds(1));
    let res = client()
        .post(app.url("/api/auth/refresh"))
        .header(COOKIE, format!("refresh_token={r0}"))
        .header("user-agent", "integration")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookies = set_cookies(&res);
    assert!(cookies.contains_key("auth_token"));
    assert!(
        !cookies.contains_key("refresh_token"),
        "the successor cookie stays"
    );

    // A minute later the old token is theft: 401, and the newest token is dead too.
    app.clock.advance(Duration::seconds(60));
    for token in [&r0, &r1] {
        let res = client()
            .post(app.url("/api/auth/refresh"))
            .header(COOKIE, format!("refresh_token={token}"))
            .header("user-agent", "integration")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    assert_eq!(count_rows(&app.app.db, "audit_log").await, 1);
    let row = app
        .app
        .db
        .query_one_raw(Statement::from_string(
            app.app.db.get_database_backend(),
            "SELECT action, actor_user_id FROM audit_log".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<String>("", "action").unwrap(),
        "session.refresh_reuse"
    );
    assert_eq!(
        row.try_get::<Option<i64>>("", "actor_user_id").unwrap(),
        Some(u.id.0)
    );
}

#[tokio::test]
async fn bearer_tokens_work_and_bad_ones_get_precise_401s() {
    let app = spawn_app().await;
    let u = user(&app, "081100000001", Role::User).await;
    let s = login(&app, &u).await;
    let bearer = format!("Bearer {}", s.access_token.expose());
    let res = client()
        .get(app.url("/api/auth/me"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let tampered = format!("{bearer}x");
    let res = client()
        .get(app.url("/api/auth/me"))
        .header("authorization", tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_envelope(&res.json().await.unwrap(), 401, "AUTH_TOKEN_INVALID");

    app.clock.advance(Duration::minutes(15));
    let res = client()
        .get(app.url("/api/auth/me"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_envelope(&res.json().await.unwrap(), 401, "AUTH_TOKEN_EXPIRED");

    let res = client().get(app.url("/api/auth/me")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_envelope(&res.json().await.unwrap(), 401, "AUTH_UNAUTHORIZED");
}

/// The `csrf` cookie and the hidden form token from the admin login page.
async fn form_token(app: &TestApp) -> (String, String) {
    let res = client().get(app.url("/admin/login")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cookie = set_cookies(&res)
        .get("csrf")
        .map(|l| value_of(l))
        .expect("csrf cookie");
    let html = res.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("csrf field") + marker.len();
    let token = html[start..].split('"').next().unwrap().to_owned();
    (cookie, token)
}

#[tokio::test]
async fn cookie_state_changes_need_our_origin_or_the_form_token() {
    let app = spawn_app().await;
    let u = user(&app, "081100000001", Role::User).await;
    let s = login(&app, &u).await;
    let cookies = cookie_header(&s);

    // A foreign Origin: refused, nothing revoked.
    let res = client()
        .post(app.url("/api/auth/logout-all"))
        .header(COOKIE, &cookies)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_envelope(&res.json().await.unwrap(), 403, "AUTH_ORIGIN_INVALID");
    // …and a foreign Referer alone counts the same.
    let res = client()
        .post(app.url("/api/auth/logout-all"))
        .header(COOKIE, &cookies)
        .header("referer", "https://evil.example/page")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // No Origin or Referer, a form body without the token: refused.
    let (csrf_cookie, token) = form_token(&app).await;
    let res = client()
        .post(app.url("/api/auth/logout-all"))
        .header(COOKIE, format!("{cookies}; csrf={csrf_cookie}"))
        .form(&[("csrf", "0".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // With the right token: allowed.
    let res = client()
        .post(app.url("/api/auth/logout-all"))
        .header(COOKIE, format!("{cookies}; csrf={csrf_cookie}"))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cleared = set_cookies(&res);
    assert!(
        cleared["refresh_token"].contains("Max-Age=0"),
        "{cleared:?}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["revoked"], 1);

    // Bearer requests are exempt, whatever the Origin; our own origin passes with cookies.
    let s2 = login(&app, &u).await;
    let res = client()
        .post(app.url("/api/auth/logout-all"))
        .header(
            "authorization",
            format!("Bearer {}", s2.access_token.expose()),
        )
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let s3 = login(&app, &u).await;
    let res = client()
        .post(app.url("/api/auth/logout-all"))
        .header(COOKIE, cookie_header(&s3))
        .header("origin", app.base_url.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn configured_public_url_and_allowed_origins_are_trusted() {
    let app = spawn_app_with(
        |s| {
            s.http.public_url = Some("https://wifi.example.id".to_owned());
            s.http.allowed_origins = vec!["https://admin.example.id:8443".to_owned()];
        },
        Router::new(),
    )
    .await;
    let u = user(&app, "081100000001", Role::User).await;
    for (origin, status) in [
        ("https://wifi.example.id", 200),
        ("https://admin.example.id:8443", 200),
        ("https://admin.example.id", 403),
        ("http://wifi.example.id", 403),
        ("null", 403),
    ] {
        let s = login(&app, &u).await;
        let res = client()
            .post(app.url("/api/auth/logout-all"))
            .header(COOKIE, cookie_header(&s))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{origin}");
    }
}

/// Creates an admin through the real CLI, reading the password from the environment.
fn cli_admin_create(app: &TestApp, phone: &str, extra: &[&str]) -> std::process::Output {
    app.cli(&["admin", "create", "--phone", phone, "--name", "Operator"])
        .args(extra)
        .env("LPSARING_ADMIN_PASSWORD", PASSWORD)
        .output()
        .expect("run lpsaring admin create")
}

async fn admin_login(
    app: &TestApp,
    phone: &str,
    password: &str,
) -> (reqwest::Response, StdDuration) {
    let started = Instant::now();
    let res = client()
        .post(app.url("/api/auth/admin/login"))
        .json(&json!({"phone_number": phone, "password": password}))
        .send()
        .await
        .unwrap();
    (res, started.elapsed())
}

/// The median of `samples` (sorted in place).
fn median(samples: &mut [StdDuration]) -> StdDuration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn admin_login_answers_failures_the_same_way() {
    // Room for the timing samples below under the per-phone and per-IP limits.
    let app = spawn_app_with(
        |s| s.auth.admin_login_attempts_per_window = 1_000,
        Router::new(),
    )
    .await;
    let out = cli_admin_create(&app, "081100000009", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created ADMIN +6281100000009"));

    let (res, _) = admin_login(&app, "081100000009", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookies = set_cookies(&res);
    assert_session_cookie_flags(&cookies["auth_token"]);
    assert_session_cookie_flags(&cookies["refresh_token"]);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["role"], "ADMIN");
    assert_eq!(body["token_type"], "Bearer");

    let (wrong, _) = admin_login(&app, "081100000009", "not-the-password").await;
    let (unknown, _) = admin_login(&app, "081199999999", PASSWORD).await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let wrong: Value = wrong.json().await.unwrap();
    let unknown: Value = unknown.json().await.unwrap();
    assert_envelope(&wrong, 401, "AUTH_INVALID_CREDENTIALS");
    assert_eq!(wrong["message"], unknown["message"]);
    assert_eq!(wrong["code"], unknown["code"]);
    // Both paths run one argon2 verification: an unknown phone is not visibly faster. One
    // request of each says little on a loaded machine; the medians of interleaved samples do,
    // and without the dummy verification the unknown phone would be many times faster (no
    // argon2 at all), far outside the margin.
    let (mut wrong_times, mut unknown_times) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        let (res, took) = admin_login(&app, "081100000009", "not-the-password").await;
        assert_eq!(res.status(), 401);
        wrong_times.push(took);
        let (res, took) = admin_login(&app, "081199999999", PASSWORD).await;
        assert_eq!(res.status(), 401);
        unknown_times.push(took);
    }
    let (wrong_median, unknown_median) = (median(&mut wrong_times), median(&mut unknown_times));
    assert!(
        unknown_median * 3 >= wrong_median,
        "median unknown phone {unknown_median:?} vs wrong password {wrong_median:?}: \
         {unknown_times:?} vs {wrong_times:?}"
    );

    // A weak password is refused by the CLI with a reason.
    let out = app
        .cli(&["admin", "create", "--phone", "081100000008", "--name", "X"])
        .env("LPSARING_ADMIN_PASSWORD", "1234567890")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only digits"));
}

#[tokio::test]
async fn admin_login_page_posts_with_the_form_token() {
    let app = spawn_app().await;
    let out = cli_admin_create(&app, "081100000009", &["--super"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (csrf_cookie, token) = form_token(&app).await;
    let post = |password: &'static str, token: String| {
        client()
            .post(app.url("/admin/login"))
            .header(COOKIE, format!("csrf={csrf_cookie}"))
            .form(&[
                ("phone_number", "081100000009"),
                ("password", password),
                ("csrf", &token),
                ("next", "/admin/users"),
            ])
            .send()
    };
    let res = post("nope-nope-nope", token.clone()).await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("kata sandi salah"));
    let res = post(PASSWORD, "forged".to_owned()).await.unwrap();
    assert_eq!(res.status(), 403);
    let res = post(PASSWORD, token).await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/admin/users");
    let cookies = set_cookies(&res);
    let access = value_of(&cookies["auth_token"]);
    let res = client()
        .get(app.url("/api/auth/me"))
        .header(COOKIE, format!("auth_token={access}"))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["role"], "SUPER_ADMIN");
}

#[tokio::test]
async fn role_guards_answer_401_and_403() {
    let app = spawn_app_with(|_| {}, probes()).await;
    let plain = user(&app, "081100000001", Role::User).await;
    let admin = user(&app, "081100000002", Role::Admin).await;
    let user_cookies = cookie_header(&login(&app, &plain).await);
    let admin_cookies = cookie_header(&login(&app, &admin).await);

    let res = client()
        .get(app.url("/api/auth/admin/check"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_envelope(&res.json().await.unwrap(), 401, "AUTH_UNAUTHORIZED");
    let res = client()
        .get(app.url("/api/auth/admin/check"))
        .header(COOKIE, &user_cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_envelope(&res.json().await.unwrap(), 403, "AUTH_ADMIN_REQUIRED");
    let res = client()
        .get(app.url("/api/auth/admin/check"))
        .header(COOKIE, &admin_cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Pages: to the admin login, keeping where the admin wanted to go.
    let res = client().get(app.url("/probe/admin")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/admin/login?next=/probe/admin");
    let res = client()
        .get(app.url("/probe/admin"))
        .header(COOKIE, &user_cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/admin/login");
    let res = client()
        .get(app.url("/probe/admin"))
        .header(COOKIE, &admin_cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), format!("user {}", admin.id.0));
}

/// Worker threads of its own, so the six rotations run in parallel, not just interleaved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rotations_of_one_token_mint_one_successor() {
    // On Postgres the pool gives each rotation its own connection: the guarded UPDATE decides.
    let app = spawn_app().await;
    let u = user(&app, "081100000001", Role::User).await;
    let r0 = login(&app, &u)
        .await
        .refresh_token
        .unwrap()
        .expose()
        .clone();
    let sessions = app.app.sessions.clone();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let sessions = sessions.clone();
            let r0 = r0.clone();
            tokio::spawn(async move { sessions.rotate(&r0, None, Some("integration")).await })
        })
        .collect();
    let mut minted = 0;
    for task in tasks {
        let session = task.await.unwrap().expect("winner or grace");
        if session.refresh_token.is_some() {
            minted += 1;
        }
    }
    assert_eq!(minted, 1);
    assert_eq!(count_rows(&app.app.db, "refresh_tokens").await, 2);
    assert_eq!(count_rows(&app.app.db, "audit_log").await, 0);
}
