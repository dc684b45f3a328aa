//! The operator's admin panel: every `/api/admin/*` route (found by walking the route table, so a
//! route another module adds later is covered without touching this file) admits only an admin
//! calling from our own origin; the `/admin` pages send everyone else to the admin login.

use lpsaring_kernel::ports::users::Role;
use lpsaring_tests::{TestApp, spawn_app};
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

#[tokio::test]
async fn every_admin_api_route_admits_only_an_admin_from_our_origin() {
    let app = spawn_app().await;
    let (_, user) = app.logged_in("081100000101", Role::User).await;
    let (_, admin) = app.logged_in("081100000102", Role::Admin).await;
    let ours = app.base_url.clone();
    let routes = admin_routes(&app, true);
    for expected in ["/api/admin/sync", "/api/admin/packages"] {
        assert!(
            routes.iter().any(|(_, p)| p == expected),
            "the walk missed {expected}: {routes:?}"
        );
    }
    for (method, path) in &routes {
        let path = concrete(path);
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
