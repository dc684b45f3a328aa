//! The operator's admin panel: every `/api/admin/*` route (found by walking the route table, so a
//! route another module adds later is covered without touching this file) admits only an admin
//! calling from our own origin; the `/admin` pages send everyone else to the admin login.

use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Clock, UserId};
use lpsaring_tests::{TestApp, spawn_app, spawn_app_with};
use salvo::http::Method;
use serde_json::Value;

use crate::web::{client, concrete};

/// Sends `method path` with `cookies` (when any) and `origin` (when any); a write carries `{}`.
async fn call(
    app: &TestApp,
    method: &Method,
    path: &str,
    cookies: Option<&str>,
    origin: Option<&str>,
) -> (u16, Value) {
    let mut req = client().request(method.clone(), app.url(path));
    if let Some(c) = cookies {
        req = req.header("cookie", c);
    }
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if *method != Method::GET {
        req = req.header("content-type", "application/json").body("{}");
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

fn admin_routes(app: &TestApp, api: bool) -> Vec<(Method, String)> {
    lpsaring::http::route_table(&app.app)
        .into_iter()
        .filter(|(_, p)| {
            if api {
                lpsaring_kernel::web::is_admin_api_path(p)
            } else {
                !p.starts_with("/api") && lpsaring_kernel::web::is_admin_area(p)
            }
        })
        .collect()
}

/// Admin routes only a super admin may call (money going back): a plain admin gets 403 too.
const SUPER_ADMIN_ONLY: &[&str] = &["/api/admin/transactions/{order_id}/refund"];

#[tokio::test]
async fn every_admin_api_route_admits_only_an_admin_from_our_origin() {
    let app = spawn_app().await;
    let (_, user) = app.logged_in("081100000101", Role::User).await;
    let (_, admin) = app.logged_in("081100000102", Role::Admin).await;
    let (_, owner) = app.logged_in("081100000103", Role::SuperAdmin).await;
    let ours = app.base_url.clone();
    let routes = admin_routes(&app, true);
    for expected in ["/api/admin/sync", "/api/admin/packages", "/api/admin/audit"] {
        assert!(
            routes.iter().any(|(_, p)| p == expected),
            "the walk missed {expected}: {routes:?}"
        );
    }
    for (method, pattern) in &routes {
        let path = concrete(pattern);
        let route = format!("{method} {path}");
        let (status, body) = call(&app, method, &path, None, None).await;
        assert_eq!(status, 401, "{route} without a session: {body}");
        assert_eq!(body["code"], "AUTH_UNAUTHORIZED", "{route}");

        let (status, body) = call(&app, method, &path, Some(&user), Some(&ours)).await;
        assert_eq!(status, 403, "{route} as a user: {body}");
        assert_eq!(body["code"], "AUTH_ADMIN_REQUIRED", "{route}");

        let (status, body) = call(
            &app,
            method,
            &path,
            Some(&admin),
            Some("http://evil.example"),
        )
        .await;
        assert_eq!(status, 403, "{route} from a foreign origin: {body}");
        assert_eq!(body["code"], "AUTH_ORIGIN_INVALID", "{route}");

        let (status, body) = call(&app, method, &path, Some(&admin), Some(&ours)).await;
        let caller = if SUPER_ADMIN_ONLY.contains(&pattern.as_str()) {
            assert_eq!(status, 403, "{route} as a plain admin: {body}");
            assert_eq!(body["code"], "AUTH_ADMIN_REQUIRED", "{route}");
            &owner
        } else {
            &admin
        };
        let (status, body) = call(&app, method, &path, Some(caller), Some(&ours)).await;
        assert!(
            (200..500).contains(&status) && status != 401 && status != 403,
            "{route} as an admin: {status} {body}"
        );
    }
}

#[tokio::test]
async fn admin_pages_send_everyone_but_an_admin_to_the_admin_login() {
    let app = spawn_app().await;
    let (_, user) = app.logged_in("081100000111", Role::User).await;
    let (_, admin) = app.logged_in("081100000112", Role::Admin).await;
    let pages: Vec<_> = admin_routes(&app, false)
        .into_iter()
        .filter(|(m, _)| *m == Method::GET)
        .collect();
    for expected in ["/admin", "/admin/audit"] {
        assert!(pages.iter().any(|(_, p)| p == expected), "{pages:?}");
    }
    for (_, path) in &pages {
        let path = concrete(path);
        let res = client().get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 302, "{path} without a session");
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/admin/login?next="), "{path}: {to}");
        let res = client()
            .get(app.url(&path))
            .header("cookie", &user)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "{path} as a user");
        assert_eq!(res.headers()["location"], "/admin/login", "{path}");
        let res = client()
            .get(app.url(&path))
            .header("cookie", &admin)
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success() || res.status() == 404,
            "{path} as an admin: {}",
            res.status()
        );
    }
}

/// Records the entries the audit tests read: five approvals by admin 1 (one with a target that
/// is a spreadsheet formula), then two days later a block by admin 2.
async fn some_audit(app: &TestApp) {
    let audit = app.app.admin.audit();
    for i in 0..4 {
        audit
            .record(
                Some(UserId(1)),
                "user.approve",
                Some(&format!("user:{i}")),
                Some(&serde_json::json!({"reason": "ok"})),
                Some("10.0.0.1"),
            )
            .await
            .unwrap();
    }
    audit
        .record(
            Some(UserId(1)),
            "user.approve",
            Some("=HYPERLINK(\"http://evil.example\",\"x\")"),
            None,
            None,
        )
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::days(2));
    audit
        .record(Some(UserId(2)), "user.block", Some("user:3"), None, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_exports_csv() {
    let app = spawn_app().await;
    some_audit(&app).await;
    // After the two days `some_audit` moves the clock: an admin session idle that long is over.
    let (_, admin) = app.logged_in("081100000121", Role::Admin).await;
    let get = |path: &str| client().get(app.url(path)).header("cookie", &admin).send();

    let page: Value = get("/api/admin/audit?action=user.&per_page=2&page=2")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 6, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["page"], 2);
    let page: Value = get("/api/admin/audit?actor=2")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["action"], "user.block");
    assert_eq!(page["items"][0]["target"], "user:3");
    let today = app.clock.now().date_naive();
    let page: Value = get(&format!(
        "/api/admin/audit?action=user.approve&to={}",
        today - chrono::Duration::days(1)
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(page["total"], 5);

    let res = get("/api/admin/audit?actor=abc").await.unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "VALIDATION_ERROR");
    assert_eq!(body["details"]["field"], "actor");

    let res = get("/api/admin/audit?format=csv&action=user.")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("audit.csv")
    );
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        ["id", "at", "actor", "action", "target", "details", "ip"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(&rows[0][3], "user.block");
    let formula = rows.iter().find(|r| r[4].contains("HYPERLINK")).unwrap();
    assert!(formula[4].starts_with("'="), "{:?}", &formula[4]);
    assert!(rows.iter().any(|r| &r[5] == r#"{"reason":"ok"}"#));
}

#[tokio::test]
async fn the_audit_page_shows_filters_and_pages_without_javascript() {
    let app = spawn_app().await;
    some_audit(&app).await;
    // After the two days `some_audit` moves the clock: an admin session idle that long is over.
    let (_, admin) = app.logged_in("081100000131", Role::Admin).await;
    let page = |path: &str| {
        let req = client().get(app.url(path)).header("cookie", &admin).send();
        async move {
            let res = req.await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (status, html) = page("/admin/audit?action=user.approve&per_page=3").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<strong id=\"audit-total\">5</strong>"),
        "{html}"
    );
    assert!(
        html.contains("href=\"/admin/audit?page=2&amp;action=user.approve&amp;per_page=3\""),
        "{html}"
    );
    assert!(html.contains("/api/admin/audit?format=csv&amp;action=user.approve"));
    assert!(
        html.contains("=HYPERLINK(&quot;"),
        "the target is escaped: {html}"
    );
    assert!(html.contains("aria-current=\"page\">Log audit</a>"));
    let (status, html) = page("/admin/audit?from=kemarin").await;
    assert_eq!(status, 400);
    assert!(html.contains("class=\"error\""), "{html}");
    let (status, html) = page("/admin?lang=en").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Recent activity") && html.contains("user.block"),
        "{html}"
    );
}

#[tokio::test]
async fn audit_entries_past_the_retention_are_purged_daily() {
    let app = spawn_app_with(|s| s.admin.audit_retention_days = 1, salvo::Router::new()).await;
    some_audit(&app).await;
    let job = lpsaring_admin::jobs(&app.app.admin)
        .into_iter()
        .find(|j| j.name == "admin.audit_retention")
        .expect("the retention job");
    job.run_once().await;
    let left = app
        .app
        .admin
        .audit_page(&lpsaring_admin::AuditFilter::default(), 1, 50)
        .await
        .unwrap();
    assert_eq!(left.total, 1);
    assert_eq!(left.items[0].action, "user.block");
}
