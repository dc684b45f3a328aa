//! The web layer every module shares: the one origin guard over the whole route table, the
//! OpenAPI document covering every JSON route, the language switch's redirect, and the scheme
//! decided only by the trusted-proxy rule, and the security headers (CSP nonce) of every page.

use lpsaring_kernel::ports::users::Role;
use lpsaring_tests::{TestApp, spawn_app, spawn_app_with};
use salvo::http::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A client that shows redirects instead of following them.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A logged-in admin's session cookies: the strongest cookie a cross-site request could ride on.
async fn admin_cookies(app: &TestApp) -> String {
    app.logged_in("081199990001", Role::Admin).await.1
}

/// `{name}` (and `{name:pattern}`) segments filled with a plausible value.
pub(crate) fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "1" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) fn api_routes(app: &TestApp) -> Vec<(Method, String)> {
    let routes: Vec<_> = lpsaring::http::route_table(&app.app)
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/"))
        .collect();
    assert!(
        routes.len() > 10,
        "the walk found too few routes: {routes:?}"
    );
    routes
}

#[tokio::test]
async fn no_cookie_state_change_under_api_answers_a_foreign_origin() {
    let app = spawn_app().await;
    let cookies = admin_cookies(&app).await;
    let writes: Vec<_> = api_routes(&app)
        .into_iter()
        .filter(|(m, _)| {
            matches!(
                *m,
                Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            )
        })
        .collect();
    assert!(
        writes.iter().any(|(_, p)| p == "/api/admin/sync"),
        "{writes:?}"
    );
    for (method, path) in &writes {
        for origin in ["http://evil.example", "null"] {
            let res = client()
                .request(method.clone(), app.url(&concrete(path)))
                .header("cookie", &cookies)
                .header("origin", origin)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or_default();
            assert_eq!(status, 403, "{method} {path} with Origin {origin}: {body}");
            assert_eq!(body["code"], "AUTH_ORIGIN_INVALID", "{method} {path}");
        }
    }
    // The session itself still works from our own origin.
    let res = client()
        .get(app.url("/api/auth/me"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let mut missing = Vec::new();
    for (method, path) in api_routes(&app) {
        if path == "/api/openapi.json" {
            continue;
        }
        let documented = path
            .split('/')
            .map(|seg| match seg.strip_prefix('{') {
                Some(rest) => format!("{{{}}}", rest.split([':', '}']).next().unwrap_or("")),
                None => seg.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        let op = &doc["paths"][&documented][method.as_str().to_ascii_lowercase()];
        let route = format!("{method} {path}");
        if !op.is_object() {
            missing.push(route);
        }
    }
    assert!(missing.is_empty(), "not in /api/openapi.json: {missing:?}");
}

/// salvo-oapi only warns when a `{param}` of a path is not declared; a client generated from the
/// document would then have no argument for it. Every one must be a path parameter of its operation.
#[tokio::test]
async fn every_path_parameter_is_declared_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().expect("paths");
    let mut undeclared = Vec::new();
    let mut checked = 0;
    for (path, item) in paths {
        let names: Vec<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, op) in item.as_object().into_iter().flatten() {
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            for name in &names {
                checked += 1;
                if !declared.contains(name) {
                    undeclared.push(format!("{method} {path}: {{{name}}}"));
                }
            }
        }
    }
    assert!(checked >= 5, "too few path parameters found: {checked}");
    assert!(
        undeclared.is_empty(),
        "undeclared path parameters: {undeclared:#?}"
    );
}

#[tokio::test]
async fn the_language_switch_never_redirects_off_site() {
    let app = spawn_app().await;
    let host = app.addr.to_string();
    for referer in [
        format!("http://{host}//evil.example/x"),
        format!("http://{host}/\\evil.example/x"),
    ] {
        let res = client()
            .get(app.url("/lang/en"))
            .header("referer", &referer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/", "{referer}");
    }
}

/// Sends one raw HTTP/1.1 request and returns the whole answer.
async fn raw(app: &TestApp, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut out),
    )
    .await
    .expect("the server closes the connection")
    .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn an_https_request_target_over_plain_http_is_not_believed() {
    let app = spawn_app().await;
    let host = app.addr.to_string();
    let answer = raw(
        &app,
        &format!(
            "GET https://{host}/api/system/client HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(answer.contains("\"https\":false"), "{answer}");
    let answer = raw(
        &app,
        &format!("GET https://{host}/login HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    let cookie = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie: csrf="))
        .unwrap_or_else(|| panic!("no csrf cookie: {answer}"));
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_the_connection_closes() {
    let app = spawn_app_with(|s| s.http.body_read_timeout_secs = 1, salvo::Router::new()).await;
    let host = app.addr.to_string();
    let started = std::time::Instant::now();
    // One byte of a thousand, then silence: before, the connection stayed open for minutes.
    let answer = raw(
        &app,
        &format!(
            "POST /api/auth/request-otp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[tokio::test]
async fn an_oversized_chunked_form_gets_413_not_form_expired() {
    let app = spawn_app_with(|s| s.http.max_body_bytes = 1024, salvo::Router::new()).await;
    let host = app.addr.to_string();
    let chunk = "a".repeat(4000);
    let answer = raw(
        &app,
        &format!(
            "POST /register HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\nfull_name={chunk}\r\n0\r\n\r\n",
            chunk.len() + "full_name=".len()
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn malformed_json_names_the_field() {
    let app = spawn_app().await;
    for (body, field) in [
        (r#"{"phone_number": 5}"#, Some("phone_number")),
        (r#"{}"#, Some("phone_number")),
        (r#"{"phone_number": "#, None),
    ] {
        let res = client()
            .post(app.url("/api/auth/request-otp"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{body}");
        let json: Value = res.json().await.unwrap();
        assert_eq!(json["code"], "VALIDATION_ERROR", "{json}");
        if let Some(field) = field {
            assert_eq!(json["details"]["field"], field, "{json}");
            assert!(json["message"].as_str().unwrap().contains(field), "{json}");
        }
    }
}

#[tokio::test]
async fn a_bad_form_token_on_register_is_403() {
    let app = spawn_app().await;
    let res = client()
        .post(app.url("/register"))
        .form(&[
            ("csrf", "0".repeat(64).as_str()),
            ("full_name", "Budi"),
            ("phone_number", "081199990002"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

/// The nonce a response's policy names for its scripts (`script-src 'self' 'nonce-…'`).
fn policy_nonce(policy: &str) -> String {
    let start = policy
        .find("script-src 'self' 'nonce-")
        .expect("script nonce")
        + "script-src 'self' 'nonce-".len();
    policy[start..].split('\'').next().unwrap().to_owned()
}

/// A page from the probe route: a script, and forms allowed to post to the hotspot's origin.
#[salvo::handler]
async fn hotspot_probe() -> lpsaring_kernel::ui::Page {
    lpsaring_kernel::ui::Page::new(
        lpsaring_kernel::Lang::En,
        "probe",
        "<form action=\"http://10.5.50.1/login\"></form><script>go()</script>".to_owned(),
    )
    .allow_form_action("http://10.5.50.1/login?x=1")
}

#[tokio::test]
async fn every_page_gets_the_security_headers_and_a_fresh_nonce() {
    let app = spawn_app().await;
    let c = client();
    let mut nonces = Vec::new();
    for path in [
        "/captive?ip=10.5.50.7&mac=AA:BB:CC:DD:EE:01&link-login-only=http%3A%2F%2F10.5.50.1%2Flogin",
        "/login",
        "/policy/blocked",
        "/admin/login",
        "/login",
        "/no-such-page",
    ] {
        let res = c.get(app.url(path)).send().await.unwrap();
        let h = res.headers().clone();
        let html = res.text().await.unwrap();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        let policy = h["content-security-policy"].to_str().unwrap().to_owned();
        for directive in [
            "default-src 'none'",
            "form-action 'self';",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        // No external source: every source is a keyword or a nonce.
        for source in policy.split(';').flat_map(|d| d.split_whitespace().skip(1)) {
            assert!(
                source.starts_with('\''),
                "{path}: external source {source} in {policy}"
            );
        }
        let nonce = policy_nonce(&policy);
        assert!(
            policy.contains(&format!("style-src 'self' 'nonce-{nonce}'")),
            "{policy}"
        );
        assert_eq!(
            html.matches("<style").count(),
            html.matches(&format!("<style nonce=\"{nonce}\">")).count(),
            "{path}: every inline style carries the nonce"
        );
        assert_eq!(
            html.matches("<script").count() - html.matches("<script src=\"/assets/").count(),
            html.matches(&format!("<script nonce=\"{nonce}\">")).count(),
            "{path}: every inline script carries the nonce (our hashed script is 'self')"
        );
        assert!(
            !html.contains(" style=\""),
            "{path}: inline style attribute"
        );
        nonces.push(nonce);
    }
    let mut unique = nonces.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), nonces.len(), "a nonce was reused: {nonces:?}");

    // JSON answers are not documents: no policy.
    let res = c.get(app.url("/api/system/client")).send().await.unwrap();
    assert!(res.headers().get("content-security-policy").is_none());
}

#[tokio::test]
async fn only_the_page_that_posts_to_the_hotspot_may_target_it() {
    let app = spawn_app_with(
        |_| {},
        salvo::Router::with_path("probe/hotspot").get(hotspot_probe),
    )
    .await;
    let c = client();
    let res = c.get(app.url("/probe/hotspot")).send().await.unwrap();
    let policy = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("form-action 'self' http://10.5.50.1;"),
        "{policy}"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!("<script nonce=\"{}\">go()", policy_nonce(&policy))));

    // The captive page that merely carries the router's address does not widen the policy.
    let res = c
        .get(app.url("/captive?ip=10.5.50.7&link-login-only=http%3A%2F%2F10.5.50.1%2Flogin"))
        .send()
        .await
        .unwrap();
    let policy = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(!policy.contains("10.5.50.1"), "{policy}");
}
