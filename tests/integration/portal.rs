//! The user's portal: the design system's assets (hashed names, a year of caching), the
//! operator's brand on every page and in the login message, and the page weight of what a phone
//! downloads in the captive mini-browser.

use lpsaring_kernel::EphemeralStore;
use lpsaring_tests::{spawn_app, spawn_app_with};

/// The stylesheet and script a page links, read from its HTML.
fn linked_assets(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["href=\"/assets/", "src=\"/assets/"] {
        let mut rest = html;
        while let Some(at) = rest.find(marker) {
            let tail = &rest[at + marker.len() - "/assets/".len()..];
            let end = tail.find('"').unwrap_or(tail.len());
            out.push(tail[..end].to_owned());
            rest = &tail[end..];
        }
    }
    out
}

#[tokio::test]
async fn assets_are_hashed_cached_for_a_year_and_old_names_are_gone() {
    let app = spawn_app().await;
    let html = app.get("/login").await.text().await.unwrap();
    let assets = linked_assets(&html);
    assert!(assets.iter().any(|a| a.ends_with(".css")), "{assets:?}");
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
    for path in &assets {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            kind.starts_with("text/css") || kind.starts_with("text/javascript"),
            "{kind}"
        );
    }
    assert_eq!(app.get("/assets/app.0000000000.css").await.status(), 404);
    assert_eq!(app.get("/assets/..%2Fsecret").await.status(), 404);
}

#[tokio::test]
async fn the_operators_brand_is_on_every_page_and_in_the_login_message() {
    let logo_dir = tempfile::tempdir().unwrap();
    let logo = logo_dir.path().join("brand.svg");
    std::fs::write(&logo, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    let app = spawn_app_with(
        |s| {
            s.site.name = "Warung Wifi".into();
            s.site.tagline = Some("Internet cepat".into());
            s.site.logo = Some(logo.clone());
            s.site.primary_color = Some("#aa3300".into());
            s.site.support_whatsapp = Some("0811 2222 3333".into());
            s.site.support_hours = Some("08.00-22.00".into());
        },
        salvo::Router::new(),
    )
    .await;
    assert!(app.app.settings.data_dir.join("site/logo.svg").is_file());
    for path in ["/login", "/captive", "/register", "/", "/no-such-page"] {
        let html = app.get(path).await.text().await.unwrap();
        assert!(html.contains("Warung Wifi</strong>"), "{path}");
        assert!(html.contains("Internet cepat"), "{path}");
        assert!(html.contains(":root{--primary:#aa3300}"), "{path}");
        assert!(html.contains("https://wa.me/6281122223333"), "{path}");
        assert!(html.contains("08.00-22.00"), "{path}");
        assert!(!html.contains("lpsaring"), "{path}: the product name shows");
        let logo_url = app.app.site.logo.as_ref().unwrap().url();
        assert!(html.contains(&logo_url), "{path}");
    }
    let logo_url = app.app.site.logo.as_ref().unwrap().url();
    let res = app.get(&logo_url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    // The login message names the operator too.
    let phone = "081299990001";
    app.user_with_quota(phone, true).await;
    app.request_code(phone).await;
    let (_, text) = app.outbox().pop().unwrap();
    assert!(text.starts_with("Warung Wifi:"), "{text}");
}

/// HTML + CSS + JS of a page, uncompressed, and whether it asks for anything off our origin.
async fn page_weight(app: &lpsaring_tests::TestApp, cookie: &str, path: &str) -> (usize, bool) {
    let html = get_as(app, cookie, path).await.text().await.unwrap();
    let mut total = html.len();
    for asset in linked_assets(&html) {
        total += app.get(&asset).await.bytes().await.unwrap().len();
    }
    let external = ["src=\"http", "href=\"http", "url(http", "@import"]
        .iter()
        .any(|m| html.contains(m));
    (total, external)
}

#[tokio::test]
async fn captive_pages_weigh_under_30_kb_with_no_external_request() {
    let app = spawn_app().await;
    for path in [
        "/captive?ip=10.5.50.9&mac=02:00:00:00:00:09",
        "/login",
        "/register",
        "/policy/blocked",
        "/captive/terhubung",
    ] {
        let (bytes, external) = page_weight(&app, "", path).await;
        eprintln!("page weight {path}: {bytes} bytes");
        assert!(bytes < 30 * 1024, "{path}: {bytes} bytes");
        assert!(!external, "{path} asks for an external resource");
    }
}

/// The `Cookie` header a browser would send after `res`: every cookie it set, `name=value`.
pub(crate) fn cookies_of(res: &reqwest::Response) -> String {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `GET path` as a browser holding `cookie` (empty = logged out), following no redirect.
pub(crate) async fn get_as(
    app: &lpsaring_tests::TestApp,
    cookie: &str,
    path: &str,
) -> reqwest::Response {
    let mut req = crate::web::client().get(app.url(path));
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_dashboard_shows_status_quota_validity_and_usage() {
    let app = spawn_app().await;
    let phone = "081299990002";
    app.user_with_quota(phone, true).await;
    let login = app.login_by_code(phone, None).await;
    assert_eq!(login.status(), 200);
    let cookie = cookies_of(&login);

    // Logged out: pages go to the login, JSON answers 401 in the envelope.
    let res = get_as(&app, "", "/akun").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/login?next=/akun");
    let res = get_as(&app, "", "/api/users/me/quota-history").await;
    assert_eq!(res.status(), 401);

    // `/` sends a logged-in user to the dashboard.
    let res = get_as(&app, &cookie, "/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/akun");

    for (lang, words) in [
        (
            "id",
            ["Halo, Budi", "Aktif", "5 GB", "30 hari lagi", "Beli paket"],
        ),
        (
            "en",
            [
                "Hello, Budi",
                "Active",
                "5 GB",
                "30 days left",
                "Buy a package",
            ],
        ),
    ] {
        let res = get_as(&app, &cookie, &format!("/akun?lang={lang}")).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        for word in words {
            assert!(html.contains(word), "{lang}: {word} missing");
        }
        assert!(html.contains("data-status=\"ok\""));
        assert!(html.contains("<svg class=\"chart\""));
        assert!(html.contains("<svg class=\"gauge\""));
        assert!(html.contains("href=\"/paket\""));
    }

    let history: serde_json::Value = get_as(&app, &cookie, "/api/users/me/quota-history")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["daily"].as_array().unwrap().len(), 30);
    let ledger = history["ledger"].as_array().unwrap();
    assert_eq!(ledger.len(), 1, "{history}");
    assert_eq!(ledger[0]["source"], "admin");
    assert_eq!(ledger[0]["bytes_added"], 5_i64 << 30);
    assert!(ledger[0]["expires_after"].is_string());
}

#[tokio::test]
async fn the_portal_pages_weigh_under_30_kb() {
    let app = spawn_app().await;
    let phone = "081299990003";
    app.user_with_quota(phone, true).await;
    app.phone_on_hotspot("02:00:00:00:00:33", "10.5.50.33");
    let cookie = cookies_of(
        &app.login_by_code(phone, Some(("10.5.50.33", "02:00:00:00:00:33")))
            .await,
    );
    for path in ["/akun", "/akun/perangkat", "/akun/riwayat", "/akun/profil"] {
        let (bytes, external) = page_weight(&app, &cookie, path).await;
        eprintln!("page weight {path}: {bytes} bytes");
        assert!(bytes < 30 * 1024, "{path}: {bytes} bytes");
        assert!(!external, "{path} asks for an external resource");
    }
}

/// `POST /api/auth/session/consume {token}` as a client without cookies.
async fn consume(app: &lpsaring_tests::TestApp, token: &str) -> reqwest::Response {
    crate::web::client()
        .post(app.url("/api/auth/session/consume"))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap()
}

/// Logs `phone` in over JSON; its (session_token, session_url). The clock moves past the
/// code's cooldown so the next login may ask again.
async fn handoff_login(app: &lpsaring_tests::TestApp, phone: &str) -> (String, String) {
    let body: serde_json::Value = app.login_by_code(phone, None).await.json().await.unwrap();
    app.clock.advance(chrono::Duration::seconds(61));
    let token = body["session_token"].as_str().unwrap().to_owned();
    let url = body["session_url"].as_str().unwrap().to_owned();
    (token, url)
}

#[tokio::test]
async fn a_login_hands_off_to_another_browser_once_within_two_minutes() {
    let app = spawn_app().await;
    let phone = "081299990004";
    app.user_with_quota(phone, true).await;
    let app = &app;
    let login = || handoff_login(app, phone);

    // The link opens the account in a browser with no cookies, then never again.
    let (token, url) = login().await;
    assert!(token.len() >= 43, "{token}");
    assert_eq!(
        url,
        format!("/session/consume?token={token}&next=/akun"),
        "a random token needs no escaping"
    );
    let keys = app.app.store.scan_prefix("auth:handoff:").await.unwrap();
    assert_eq!(keys.len(), 1);
    assert!(
        !keys[0].0.contains(&token) && !String::from_utf8_lossy(&keys[0].1).contains(&token),
        "only a hash of the token is stored"
    );
    let res = get_as(app, "", &url).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/akun");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let cookie = cookies_of(&res);
    assert!(cookie.contains("auth_token="), "{cookie}");
    let html = get_as(app, &cookie, "/akun").await.text().await.unwrap();
    assert!(html.contains("Halo, Budi"), "{html}");
    let res = get_as(app, "", &format!("{url}&lang=en")).await;
    assert_eq!(res.status(), 410);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("This link no longer works") && html.contains("href=\"/login?next=/akun\"")
    );

    // Past two minutes it is gone; JSON clients get the code.
    let (token, _) = login().await;
    app.clock.advance(chrono::Duration::seconds(121));
    let res = consume(app, &token).await;
    assert_eq!(res.status(), 410);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "SESSION_TOKEN_INVALID");

    // Within them, JSON redeems it once: cookies and an access token.
    let (token, _) = login().await;
    let res = consume(app, &token).await;
    assert_eq!(res.status(), 200);
    assert!(cookies_of(&res).contains("refresh_token="));
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(consume(app, &token).await.status(), 410);
    assert_eq!(consume(app, "").await.status(), 410);
    assert_eq!(consume(app, &"x".repeat(500)).await.status(), 410);

    // `next` stays on this site.
    let (token, _) = login().await;
    let res = get_as(
        app,
        "",
        &format!("/session/consume?token={token}&next=//evil.example/x"),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/akun");
}

#[tokio::test]
async fn the_account_page_renames_lists_logins_and_logs_out_everywhere() {
    let app = spawn_app().await;
    let phone = "081299990005";
    app.user_with_quota(phone, true).await;
    app.phone_on_hotspot("02:00:00:00:00:35", "10.5.50.35");
    let login = app
        .login_by_code(phone, Some(("10.5.50.35", "02:00:00:00:00:35")))
        .await;
    let session = cookies_of(&login);
    let json_call = |method: reqwest::Method, path: &str| {
        crate::web::client()
            .request(method, app.url(path))
            .header("cookie", &session)
            .header("origin", app.base_url.as_str())
    };

    assert_eq!(get_as(&app, "", "/akun/profil").await.status(), 302);
    let history: serde_json::Value = json_call(reqwest::Method::GET, "/api/users/me/login-history")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["method"], "captive_otp");
    assert_eq!(history[0]["device"], "••:••:••:••:00:35");
    assert_eq!(history[0]["ip"], "10.5.50.35");

    let res = json_call(reqwest::Method::PUT, "/api/users/me/profile")
        .json(&serde_json::json!({"full_name": "  Budi Santoso "}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let profile: serde_json::Value = res.json().await.unwrap();
    assert_eq!(profile["full_name"], "Budi Santoso");
    assert_eq!(profile["language"], "id");
    let res = json_call(reqwest::Method::PUT, "/api/users/me/profile")
        .json(&serde_json::json!({"full_name": "\u{202E}x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);

    let res = get_as(&app, &session, "/akun/profil?lang=en").await;
    assert_eq!(res.status(), 200);
    let cookie = format!(
        "{session}; csrf={}",
        lpsaring_tests::set_cookie(&res, "csrf").unwrap()
    );
    let html = res.text().await.unwrap();
    for word in [
        "Login history",
        "Budi Santoso",
        "••:••:••:••:00:35",
        "Log out everywhere",
    ] {
        assert!(html.contains(word), "{word} missing");
    }
    assert!(html.contains("href=\"/akun/profil\" aria-current=\"page\""));
    let csrf = crate::purchase::hidden(&html, "csrf");
    let post = |path: &str, fields: Vec<(&str, String)>| {
        crate::web::client()
            .post(app.url(path))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
    };
    let res = post(
        "/akun/profil/nama",
        vec![("csrf", csrf.clone()), ("full_name", "x".repeat(101))],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Nama harus 1 sampai 100 karakter")
    );
    let res = post(
        "/akun/profil/nama",
        vec![("csrf", csrf.clone()), ("full_name", "Budi S".into())],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/akun/profil?ok=1");
    let html = get_as(&app, &session, "/akun").await.text().await.unwrap();
    assert!(
        html.contains("Halo, Budi S"),
        "the dashboard greets by the new name"
    );

    // Log out everywhere: cookies cleared here, the refresh token dead for every browser.
    let res = post("/akun/profil/keluar-semua", vec![("csrf", csrf)])
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    let res = crate::web::client()
        .post(app.url("/api/auth/refresh"))
        .header("cookie", &session)
        .header("origin", app.base_url.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
