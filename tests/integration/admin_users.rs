//! The operator's user admin JSON (`/api/admin/users`): search and filters, paging, CSV, and the
//! approve / reject / block / unblock actions with their notice in the outbox and audit entry.

use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Phone, UserId};
use lpsaring_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::web::client;

pub(crate) async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    cookies: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client()
        .request(method, app.url(path))
        .header("cookie", cookies)
        .header("origin", &app.base_url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

pub(crate) async fn user(app: &TestApp, phone: &str, name: &str, approved: bool) -> i64 {
    app.app
        .users
        .create(&Phone::parse(phone).unwrap(), name, approved, Role::User)
        .await
        .unwrap()
        .id
        .0
}

/// The audit entries about `user:<id>`, newest first.
pub(crate) async fn audit_of(app: &TestApp, id: i64) -> Vec<lpsaring_admin::AuditRecord> {
    app.app
        .admin
        .audit_page(
            &lpsaring_admin::AuditFilter {
                target: Some(format!("user:{id}")),
                ..Default::default()
            },
            1,
            50,
        )
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn the_user_list_searches_filters_pages_and_exports() {
    let app = spawn_app().await;
    let (_, admin) = app.logged_in("081100000201", Role::Admin).await;
    user(&app, "081234500001", "Budi Santoso", true).await;
    user(&app, "081234500002", "Siti Aminah", false).await;
    user(&app, "081234500003", "=cmd|'/C calc'!A0", false).await;
    let get = |path: &'static str| send(&app, reqwest::Method::GET, path, &admin, None);

    let (status, page) = get("/api/admin/users?q=0812-3450-0002").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["full_name"], "Siti Aminah");
    let (_, page) = get("/api/admin/users?q=budi").await;
    assert_eq!(page["total"], 1, "names match in any case: {page}");
    assert_eq!(page["items"][0]["phone_number"], "+6281234500001");
    let (_, page) = get("/api/admin/users?q=%25").await;
    assert_eq!(page["total"], 0, "a % is a character, not a wildcard");
    let (_, page) = get("/api/admin/users?status=pending&per_page=1&page=2").await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    let (status, body) = get("/api/admin/users?status=sleepy").await;
    assert_eq!(status, 422);
    assert_eq!(body["details"]["field"], "status");

    let res = client()
        .get(app.url("/api/admin/users?format=csv&status=pending"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(&reader.headers().unwrap()[1], "phone_number");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|r| &r[2] == "'=cmd|'/C calc'!A0"), "{text}");
}

#[tokio::test]
async fn approve_block_and_unblock_notify_the_user_and_write_the_audit_log() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.logged_in("081100000211", Role::Admin).await;
    let pending = user(&app, "081234500011", "Dewi", false).await;

    let (status, body) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/admin/users/{pending}/approve"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["approval_status"], "APPROVED");
    let (status, body) = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/admin/users/{pending}/block"),
        &admin,
        Some(json!({"reason": "berbagi akun"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["is_blocked"], true);
    assert_eq!(body["blocked_reason"], "berbagi akun");
    let facts = app.app.users.get(UserId(pending)).await.unwrap().unwrap();
    assert!(facts.approved && facts.blocked);
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/admin/users/{pending}/unblock"),
        &admin,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);

    // The notices wait in the outbox for delivery, one per action.
    let to_user: Vec<String> = lpsaring_kernel::outbox::list(&app.app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient.ends_with("81234500011"))
        .map(|m| m.body)
        .collect();
    assert_eq!(to_user.len(), 3, "{to_user:?}");
    assert!(to_user.iter().any(|b| b.contains("berbagi akun")));

    let log = audit_of(&app, pending).await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.unblock", "user.block", "user.approve"]);
    assert!(log.iter().all(|e| e.actor == Some(UserId(admin_id))));
    assert_eq!(log[1].details.as_ref().unwrap()["reason"], "berbagi akun");
    assert!(
        !serde_json::to_string(&log).unwrap().contains("81234500011"),
        "no phone number in the audit details"
    );

    // Nobody blocks themselves; an admin cannot block another admin; unknown users are 404.
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/admin/users/{admin_id}/block"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (other_admin, _) = app.logged_in("081100000212", Role::Admin).await;
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/admin/users/{other_admin}/block"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = send(
        &app,
        reqwest::Method::POST,
        "/api/admin/users/999999/approve",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/admin/users/{pending}/reject"),
        &admin,
        Some(json!({"reason": 5})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["details"]["field"], "reason");
}
