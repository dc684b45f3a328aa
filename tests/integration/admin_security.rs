//! Security of the admin panel over HTTP: the authenticator second factor (enrolment, the login's
//! second step in JSON and as a page, `admin.require_totp`, `lpsaring admin reset-totp`), the
//! eight-hour idle timeout, a role change or block holding on a live token at once, and the
//! frame-busting headers of the panel's pages.

use chrono::Duration;
use lpsaring_auth::session::password::hash_password;
use lpsaring_auth::session::totp;
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Clock, Phone};
use lpsaring_tests::{TestApp, count_rows, set_cookie, spawn_app, spawn_app_with, succeeded};
use serde_json::{Value, json};

use crate::admin_users::send;
use crate::web::client;

const PASSWORD: &str = "kopi-susu-2026!";

/// The code an authenticator app with `secret` (base32) shows now.
fn code_now(app: &TestApp, secret: &str) -> String {
    let bytes = totp::base32_decode(secret).unwrap();
    format!(
        "{:06}",
        totp::code_at(&bytes, totp::step_of(app.clock.now().timestamp()))
    )
}

/// An admin with a password, logged in (cookies), who set up an authenticator over the JSON:
/// (cookies, secret, recovery codes).
async fn enrolled_admin(app: &TestApp, phone: &str, role: Role) -> (String, String, Vec<String>) {
    let (_, cookies) = app.logged_in(phone, role).await;
    let hash = hash_password(PASSWORD).unwrap();
    app.app
        .users
        .set_admin_password(&Phone::parse(phone).unwrap(), hash, role)
        .await
        .unwrap();
    let (status, status_body) = send(
        app,
        reqwest::Method::GET,
        "/api/admin/security",
        &cookies,
        None,
    )
    .await;
    assert_eq!(status, 200, "{status_body}");
    assert_eq!(status_body["totp_enabled"], false);
    assert_eq!(status_body["idle_timeout_secs"], 8 * 3600);
    let (status, started) = send(
        app,
        reqwest::Method::POST,
        "/api/admin/security/totp/start",
        &cookies,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let secret = started["secret"].as_str().unwrap().to_owned();
    assert!(started["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let (status, wrong) = send(
        app,
        reqwest::Method::POST,
        "/api/admin/security/totp/confirm",
        &cookies,
        Some(json!({"code": "12345x"})),
    )
    .await;
    assert_eq!(
        (status, wrong["code"].as_str()),
        (401, Some("AUTH_TOTP_INVALID"))
    );
    let (status, confirmed) = send(
        app,
        reqwest::Method::POST,
        "/api/admin/security/totp/confirm",
        &cookies,
        Some(json!({"code": code_now(app, &secret)})),
    )
    .await;
    assert_eq!(status, 200, "{confirmed}");
    let codes: Vec<String> = serde_json::from_value(confirmed["recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    (cookies, secret, codes)
}

async fn login_json(app: &TestApp, body: Value) -> reqwest::Response {
    client()
        .post(app.url("/api/auth/admin/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_with_an_authenticator_logs_in_in_two_steps_or_one() {
    let app = spawn_app().await;
    let (cookies, secret, recovery) = enrolled_admin(&app, "081100000501", Role::Admin).await;
    let (status, me) = send(
        &app,
        reqwest::Method::GET,
        "/api/admin/security",
        &cookies,
        None,
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (
            me["totp_enabled"].as_bool(),
            me["recovery_codes_left"].as_u64()
        ),
        (Some(true), Some(10))
    );

    let res = login_json(
        &app,
        json!({"phone_number": "081100000501", "password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status(), 401);
    assert!(
        set_cookie(&res, "auth_token").is_none(),
        "no session before the code"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "AUTH_TOTP_REQUIRED", "{body}");
    let challenge = body["details"]["challenge"].as_str().unwrap().to_owned();

    app.clock.advance(Duration::seconds(30));
    let step = |body: Value| {
        client()
            .post(app.url("/api/auth/admin/login/totp"))
            .json(&body)
            .send()
    };
    let res = step(json!({"challenge": challenge, "code": "000000"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = step(json!({"challenge": challenge, "code": code_now(&app, &secret)}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(set_cookie(&res, "auth_token").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["role"], "ADMIN", "{body}");

    // In one call with `totp_code`; a recovery code does too, once.
    app.clock.advance(Duration::seconds(30));
    let res = login_json(
        &app,
        json!({"phone_number": "081100000501", "password": PASSWORD, "totp_code": code_now(&app, &secret)}),
    )
    .await;
    assert_eq!(res.status(), 200);
    for expected in [200, 401] {
        let res = login_json(
            &app,
            json!({"phone_number": "081100000501", "password": PASSWORD, "totp_code": recovery[0]}),
        )
        .await;
        assert_eq!(res.status(), expected);
    }
}

#[tokio::test]
async fn the_login_page_asks_for_the_code_when_enrolled() {
    let app = spawn_app().await;
    let (_, secret, _) = enrolled_admin(&app, "081100000511", Role::Admin).await;
    app.clock.advance(Duration::seconds(30));
    let res = client().get(app.url("/admin/login")).send().await.unwrap();
    let csrf_cookie = set_cookie(&res, "csrf").unwrap();
    let html = res.text().await.unwrap();
    let token = hidden(&html, "csrf");
    let res = client()
        .post(app.url("/admin/login"))
        .header("cookie", format!("csrf={csrf_cookie}"))
        .header("origin", &app.base_url)
        .form(&[
            ("csrf", token.as_str()),
            ("next", "/admin/audit"),
            ("phone_number", "081100000511"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(set_cookie(&res, "auth_token").is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("autocomplete=\"one-time-code\""), "{html}");
    let challenge = hidden(&html, "challenge");
    let post = |code: String| {
        client()
            .post(app.url("/admin/login/totp"))
            .header("cookie", format!("csrf={csrf_cookie}"))
            .header("origin", &app.base_url)
            .form(&[
                ("csrf", token.clone()),
                ("next", "/admin/audit".to_owned()),
                ("challenge", challenge.clone()),
                ("code", code),
            ])
            .send()
    };
    let res = post("000000".to_owned()).await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("Kode salah"));
    let res = post(code_now(&app, &secret)).await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/audit");
    let access = set_cookie(&res, "auth_token").unwrap();
    let res = client()
        .get(app.url("/admin/audit"))
        .header("cookie", format!("auth_token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// The value of the hidden input `name` in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn require_totp_sends_a_super_admin_to_enrol_first() {
    let app = spawn_app_with(|s| s.admin.require_totp = true, salvo::Router::new()).await;
    let (_, owner) = app.logged_in("081100000521", Role::SuperAdmin).await;
    let (_, admin) = app.logged_in("081100000522", Role::Admin).await;
    let (status, body) = send(&app, reqwest::Method::GET, "/api/admin/audit", &owner, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("AUTH_TOTP_ENROLL_REQUIRED"))
    );
    let res = client()
        .get(app.url("/admin/audit"))
        .header("cookie", &owner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/admin/security");
    let res = client()
        .get(app.url("/admin/security"))
        .header("cookie", &owner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"totp-required\""));
    // A plain admin is not held up.
    let (status, _) = send(&app, reqwest::Method::GET, "/api/admin/audit", &admin, None).await;
    assert_eq!(status, 200);
    // Enrolled, the super admin's same session opens the panel.
    let (_, started) = send(
        &app,
        reqwest::Method::POST,
        "/api/admin/security/totp/start",
        &owner,
        Some(json!({})),
    )
    .await;
    let secret = started["secret"].as_str().unwrap();
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        "/api/admin/security/totp/confirm",
        &owner,
        Some(json!({"code": code_now(&app, secret)})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(&app, reqwest::Method::GET, "/api/admin/audit", &owner, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn reset_totp_lets_a_locked_out_admin_in_with_the_password_again() {
    let app = spawn_app().await;
    let (cookies, _, _) = enrolled_admin(&app, "081100000531", Role::Admin).await;
    let res = login_json(
        &app,
        json!({"phone_number": "081100000531", "password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status(), 401);
    let out = app.run_cli(&["admin", "reset-totp", "081100000531"]).await;
    assert!(succeeded(&out).contains("Removed the authenticator"));
    assert_eq!(count_rows(&app.app.db, "admin_totp").await, 0);
    let res = login_json(
        &app,
        json!({"phone_number": "081100000531", "password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let filter = lpsaring_admin::AuditFilter {
        action: Some("admin.totp_reset".to_owned()),
        ..Default::default()
    };
    let page = app.app.admin.audit_page(&filter, 1, 10).await.unwrap();
    assert_eq!(page.total, 1, "{page:?}");
    // The sessions from before the reset are over (their refresh tokens revoked).
    let refresh = cookies.split("refresh_token=").nth(1).unwrap();
    let res = client()
        .post(app.url("/api/auth/refresh"))
        .header("cookie", format!("refresh_token={refresh}"))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let out = app.run_cli(&["admin", "reset-totp", "081299999999"]).await;
    assert!(!out.status.success());
}

/// Cookies kept across responses, like a browser's jar for our two session cookies.
struct Jar(String, String);

impl Jar {
    fn of(cookies: &str) -> Self {
        let get = |name: &str| {
            cookies
                .split("; ")
                .find_map(|c| c.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_owned()
        };
        Self(get("auth_token"), get("refresh_token"))
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> reqwest::Response {
        let res = client()
            .get(app.url(path))
            .header(
                "cookie",
                format!("auth_token={}; refresh_token={}", self.0, self.1),
            )
            .send()
            .await
            .unwrap();
        if let Some(access) = set_cookie(&res, "auth_token") {
            self.0 = access;
        }
        if let Some(refresh) = set_cookie(&res, "refresh_token") {
            self.1 = refresh;
        }
        res
    }
}

#[tokio::test]
async fn an_admin_session_idle_for_eight_hours_is_over_and_each_request_slides_it() {
    let app = spawn_app().await;
    let (_, cookies) = app.logged_in("081100000541", Role::Admin).await;
    let mut jar = Jar::of(&cookies);
    for _ in 0..3 {
        app.clock
            .advance(Duration::hours(7) + Duration::minutes(50));
        let res = jar.get(&app, "/api/admin/audit").await;
        assert_eq!(res.status(), 200, "used within 8 hours: still in");
    }
    app.clock.advance(Duration::hours(8) + Duration::minutes(1));
    let res = jar.get(&app, "/api/admin/audit").await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "AUTH_TOKEN_EXPIRED", "{body}");
    let res = jar.get(&app, "/admin/audit").await;
    assert_eq!(res.status(), 302);
    // A plain user's session is not cut after 8 idle hours.
    let (_, user) = app.logged_in("081234500541", Role::User).await;
    app.clock.advance(Duration::hours(9));
    let res = Jar::of(&user).get(&app, "/api/auth/me").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_role_change_or_block_holds_on_a_live_token_at_once() {
    let app = spawn_app().await;
    let (_, owner) = app.logged_in("081100000551", Role::SuperAdmin).await;
    let (admin_id, admin) = app.logged_in("081100000552", Role::Admin).await;
    let (victim_id, victim) = app.logged_in("081100000553", Role::Admin).await;
    for cookies in [&admin, &victim] {
        let (status, _) = send(
            &app,
            reqwest::Method::GET,
            "/api/admin/audit",
            cookies,
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
    let (status, body) = send(
        &app,
        reqwest::Method::PUT,
        &format!("/api/admin/users/{admin_id}"),
        &owner,
        Some(json!({"role": "USER"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The same access token, still unexpired, says ADMIN; the panel says no.
    let (status, body) = send(&app, reqwest::Method::GET, "/api/admin/audit", &admin, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("AUTH_ADMIN_REQUIRED"))
    );
    let (status, body) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/admin/users/{victim_id}/block"),
        &owner,
        Some(json!({"reason": "lost laptop"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = send(
        &app,
        reqwest::Method::GET,
        "/api/admin/audit",
        &victim,
        None,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn admin_pages_may_not_be_framed() {
    let app = spawn_app().await;
    let (_, admin) = app.logged_in("081100000561", Role::Admin).await;
    for path in ["/admin/security", "/admin/audit", "/admin/login"] {
        let res = client()
            .get(app.url(path))
            .header("cookie", &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(res.headers()["x-frame-options"], "DENY", "{path}");
    }
}
