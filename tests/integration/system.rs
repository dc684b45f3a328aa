//! Health, readiness, the error envelope, request ids, trusted-proxy rules and migrations.

use lpsaring_migrations::CORE_TABLES;
use lpsaring_tests::{count_rows, spawn_app, spawn_app_with};
use salvo::prelude::*;
use serde_json::Value;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["state_store"], "ok");
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.app.db.close_by_ref().await.unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["database"], "down");
    assert_eq!(body["state_store"], "ok");
    // Liveness is about the process, not its dependencies.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

fn assert_envelope(body: &Value, status: u16, code: &str) {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["status_code"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["error"], body["message"], "{body}");
    assert!(
        body["request_id"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_api_paths_get_the_envelope_with_our_request_id() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(app.url("/api/nope"))
        .header("X-Request-ID", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["x-request-id"], "abc");
    let body: Value = res.json().await.unwrap();
    assert_envelope(&body, 404, "HTTP_404");
    assert_eq!(body["request_id"], "abc");
}

#[tokio::test]
async fn wrong_method_under_api_is_a_405_envelope() {
    let app = spawn_app().await;
    let res = app
        .http
        .delete(app.url("/api/system/client"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let body: Value = res.json().await.unwrap();
    assert_envelope(&body, 405, "HTTP_405");
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app_with(|s| s.http.max_body_bytes = 1024, Router::new()).await;
    let res = app
        .http
        .post(app.url("/api/system/client"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_envelope(&body, 413, "PAYLOAD_TOO_LARGE");
}

#[handler]
async fn explode() -> &'static str {
    panic!("secret internal detail")
}

#[tokio::test]
async fn a_panicking_handler_becomes_a_500_envelope_without_internals() {
    let app = spawn_app_with(|_| {}, Router::with_path("api/test/explode").get(explode)).await;
    let res = app.get("/api/test/explode").await;
    assert_eq!(res.status(), 500);
    let text = res.text().await.unwrap();
    assert!(!text.contains("secret internal detail"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_envelope(&body, 500, "INTERNAL_ERROR");
    // The server keeps serving.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn pages_get_a_readable_error_page_not_json() {
    let app = spawn_app().await;
    let res = app.get("/no-such-page").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("Halaman tidak ditemukan"), "{html}");
}

#[tokio::test]
async fn request_ids_are_generated_or_sanitised() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 32);
    let res = app
        .http
        .get(app.url("/api/nope"))
        .header("X-Request-ID", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let echoed = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(echoed, "bad id with spaces");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], echoed);
}

async fn client_ip_seen(app: &lpsaring_tests::TestApp, headers: &[(&str, &str)]) -> Value {
    let mut req = app.http.get(app.url("/api/system/client"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn forwarded_headers_are_ignored_from_untrusted_peers() {
    let app = spawn_app().await;
    let seen = client_ip_seen(
        &app,
        &[
            ("X-Forwarded-For", "203.0.113.7"),
            ("CF-Connecting-IP", "203.0.113.8"),
            ("X-Forwarded-Proto", "https"),
        ],
    )
    .await;
    assert_eq!(seen["client_ip"], "127.0.0.1");
    assert_eq!(seen["https"], false);
}

#[tokio::test]
async fn forwarded_headers_count_from_trusted_proxies() {
    let app = spawn_app_with(
        |s| s.http.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()],
        Router::new(),
    )
    .await;
    let seen = client_ip_seen(
        &app,
        &[
            ("X-Forwarded-For", "198.51.100.1, 203.0.113.7, 127.0.0.9"),
            ("X-Forwarded-Proto", "https"),
        ],
    )
    .await;
    assert_eq!(seen["client_ip"], "203.0.113.7");
    assert_eq!(seen["https"], true);
    let seen = client_ip_seen(&app, &[("CF-Connecting-IP", "203.0.113.8")]).await;
    assert_eq!(seen["client_ip"], "203.0.113.8");
}

#[tokio::test]
async fn migrations_create_every_core_table() {
    let app = spawn_app().await;
    for table in CORE_TABLES {
        // The quota sync runs once at start, so sync_runs may already hold that run.
        let limit = if *table == "sync_runs" { 1 } else { 0 };
        assert!(
            count_rows(&app.app.db, table).await <= limit,
            "{table} on {}",
            app.backend()
        );
    }
    let status = lpsaring::db::migration_status(&app.app.db).await;
    assert!(!status.is_empty());
    assert!(status.iter().all(|(_, applied)| *applied), "{status:?}");
}

#[tokio::test]
async fn the_landing_page_is_indonesian_by_default_and_english_on_request() {
    let app = spawn_app().await;
    let html = app.get("/").await.text().await.unwrap();
    assert!(
        html.contains("lang=\"id\"") && html.contains("Selamat datang"),
        "{html}"
    );
    let html = app.get("/?lang=en").await.text().await.unwrap();
    assert!(
        html.contains("lang=\"en\"") && html.contains("Welcome"),
        "{html}"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_the_system_endpoints() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/readyz"].is_object(), "{doc}");
    assert!(doc["paths"]["/api/system/client"].is_object(), "{doc}");
}

#[tokio::test]
async fn switching_language_keeps_the_captive_query_and_is_remembered() {
    let app = spawn_app().await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = format!(
        "{}/captive?ip=10.5.50.9&mac=02:00:00:00:00:09&lang=id",
        app.base_url
    );
    let res = http
        .get(app.url("/lang/en"))
        .header("Referer", &page)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/captive?ip=10.5.50.9&mac=02:00:00:00:00:09"
    );
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("lang=en")),
        "{cookies:?}"
    );
    // A foreign referer is not followed.
    let res = http
        .get(app.url("/lang/en"))
        .header("Referer", "http://evil.example/x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
    // The cookie decides the language of later pages (form posts carry no ?lang=).
    let html = http
        .get(app.url("/"))
        .header("Cookie", "lang=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Welcome"), "{html}");
}
