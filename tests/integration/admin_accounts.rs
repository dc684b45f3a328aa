//! The operator's changes to one account under `/api/admin/users/{id}`: quota adjustments
//! (quota's admin JSON) with their ledger rows, the one-time login code and the login reset;
//! each with its audit entry.

use chrono::Duration;
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Clock, UserId};
use lpsaring_routeros_sim::Menu;
use lpsaring_tests::{TestApp, count_rows, spawn_app};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::admin_users::{audit_of, send, user};

const GIB: i64 = 1 << 30;

async fn post(app: &TestApp, path: &str, cookies: &str, body: Value) -> (u16, Value) {
    send(app, reqwest::Method::POST, path, cookies, Some(body)).await
}

#[tokio::test]
async fn quota_adjustments_add_and_take_back_never_below_what_was_used() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.logged_in("081100000301", Role::Admin).await;
    let uid = app.user_with_quota("081234500301", true).await;
    app.app
        .db
        .execute_unprepared(&format!(
            "UPDATE quota_accounts SET used_bytes = {} WHERE user_id = {uid}",
            4 * GIB
        ))
        .await
        .unwrap();
    let path = format!("/api/admin/users/{uid}/quota-adjust");
    let expires = app.app.quota.show(UserId(uid)).await.unwrap().expires_at;

    let (status, body) = post(
        &app,
        &path,
        &admin,
        json!({"bytes": GIB, "days": 2, "reason": "bonus gangguan"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bytes_added"], GIB);
    assert_eq!(body["quota"]["purchased_bytes"], 6 * GIB);
    let after = app.app.quota.show(UserId(uid)).await.unwrap();
    assert_eq!(after.expires_at, expires.map(|e| e + Duration::days(2)));

    // More than is unused and more days than are left: stops at what was used, and now.
    let (status, body) = post(
        &app,
        &path,
        &admin,
        json!({"bytes": -10 * GIB, "days": -100, "reason": "koreksi"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bytes_added"], -2 * GIB, "{body}");
    let after = app.app.quota.show(UserId(uid)).await.unwrap();
    assert_eq!(
        (after.purchased_bytes, after.used_bytes),
        (4 * GIB, 4 * GIB)
    );
    let left = after.expires_at.unwrap() - app.clock.now();
    assert!(
        left.num_milliseconds().abs() < 1,
        "ends now, not earlier: {left}"
    );

    let history = app.app.quota.history(UserId(uid)).await.unwrap();
    let newest = &history.ledger[0];
    assert_eq!(
        (
            newest.source.as_str(),
            newest.bytes_added,
            newest.note.as_deref()
        ),
        ("admin", -2 * GIB, Some("koreksi"))
    );
    assert_eq!(history.ledger[1].note.as_deref(), Some("bonus gangguan"));

    let log = audit_of(&app, uid).await;
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|e| e.action == "quota.adjust" && e.actor == Some(UserId(admin_id)))
    );
    let details = log[0].details.as_ref().unwrap();
    assert_eq!(details["reason"], "koreksi");
    assert_eq!(details["bytes_added"], -2 * GIB);
}

#[tokio::test]
async fn bad_quota_adjustments_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (_, admin) = app.logged_in("081100000311", Role::Admin).await;
    let uid = app.user_with_quota("081234500311", true).await;
    let path = format!("/api/admin/users/{uid}/quota-adjust");
    let before = app.app.quota.show(UserId(uid)).await.unwrap();

    for (body, field) in [
        (json!({"bytes": GIB}), Some("reason")),
        (json!({"bytes": "banyak", "reason": "x"}), Some("bytes")),
        (json!({"bytes": 0, "days": 0, "reason": "x"}), None),
        (json!({"bytes": GIB, "reason": "  "}), None),
        (json!({"days": 100_000, "reason": "x"}), None),
    ] {
        let (status, answer) = post(&app, &path, &admin, body.clone()).await;
        assert_eq!(status, 422, "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["details"]["field"], field, "{answer}");
        }
    }
    let (status, _) = post(
        &app,
        "/api/admin/users/999999/quota-adjust",
        &admin,
        json!({"bytes": GIB, "reason": "x"}),
    )
    .await;
    assert_eq!(status, 404);
    // An admin's account is a super admin's to adjust.
    let other = user(&app, "081234500312", "Operator", true).await;
    app.app
        .db
        .execute_unprepared(&format!(
            "UPDATE users SET role = 'ADMIN' WHERE id = {other}"
        ))
        .await
        .unwrap();
    let (status, body) = post(
        &app,
        &format!("/api/admin/users/{other}/quota-adjust"),
        &admin,
        json!({"bytes": GIB, "reason": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("QUOTA_FORBIDDEN"))
    );

    assert_eq!(app.app.quota.show(UserId(uid)).await.unwrap(), before);
    assert!(audit_of(&app, uid).await.is_empty());
}

const MAC: &str = "02:00:00:00:03:21";
const IP: &str = "10.5.50.121";

/// The user's refresh tokens not yet revoked.
async fn live_sessions(app: &TestApp, id: i64) -> i64 {
    count_rows(
        &app.app.db,
        &format!("refresh_tokens WHERE user_id = {id} AND revoked_at IS NULL"),
    )
    .await
}

fn bindings_for(app: &TestApp, mac: &str) -> usize {
    app.router_rows(Menu::IpBinding)
        .iter()
        .filter(|r| r.get("mac-address") == Some(mac))
        .count()
}

/// WhatsApp is down: the admin reads a code to the user, who logs in with it on the hotspot
/// like a sent one; then the admin resets the login: sessions revoked, router rows gone.
#[tokio::test]
async fn an_operator_code_logs_in_and_a_reset_signs_out_and_clears_the_router() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.logged_in("081100000321", Role::Admin).await;
    let uid = app.user_with_quota("081234500321", true).await;
    let sent_before = app.outbox().len();

    let (status, body) = post(
        &app,
        &format!("/api/admin/users/{uid}/login-code"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["phone_number"], "+6281234500321");
    let code = body["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert_eq!(app.outbox().len(), sent_before, "nothing is sent");

    app.phone_on_hotspot(MAC, IP);
    let res = app
        .http
        .post(app.url("/api/auth/verify-otp"))
        .json(&json!({"phone_number": "081234500321", "otp": code,
            "client_ip": IP, "client_mac": MAC}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(bindings_for(&app, MAC), 1);
    assert_eq!(live_sessions(&app, uid).await, 1);
    // Used once: the same code does not log in again.
    let res = app
        .http
        .post(app.url("/api/auth/verify-otp"))
        .json(&json!({"phone_number": "081234500321", "otp": code}))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200);

    let (status, body) = post(
        &app,
        &format!("/api/admin/users/{uid}/reset-login"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessions_revoked"], 1);
    assert_eq!(body["router_failures"], 0);
    assert_eq!(bindings_for(&app, MAC), 0, "router access removed");
    assert_eq!(live_sessions(&app, uid).await, 0, "signed out everywhere");

    let log = audit_of(&app, uid).await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.reset_login", "user.login_code"]);
    assert!(log.iter().all(|e| e.actor == Some(UserId(admin_id))));
    assert!(
        !serde_json::to_string(&log).unwrap().contains(&code),
        "the code is never in the audit log"
    );
}

#[tokio::test]
async fn no_login_code_for_a_user_who_may_not_log_in_or_an_admin() {
    let app = spawn_app().await;
    let (_, admin) = app.logged_in("081100000331", Role::Admin).await;
    let pending = user(&app, "081234500331", "Pending", false).await;
    let (status, body) = post(
        &app,
        &format!("/api/admin/users/{pending}/login-code"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (other, _) = app.logged_in("081100000332", Role::Admin).await;
    for action in ["login-code", "reset-login"] {
        let (status, _) = post(
            &app,
            &format!("/api/admin/users/{other}/{action}"),
            &admin,
            json!({}),
        )
        .await;
        assert_eq!(status, 403, "{action} on an admin");
        let (status, _) = post(
            &app,
            &format!("/api/admin/users/999999/{action}"),
            &admin,
            json!({}),
        )
        .await;
        assert_eq!(status, 404, "{action} on nobody");
    }
    assert!(audit_of(&app, pending).await.is_empty());
}

async fn call(app: &TestApp, method: reqwest::Method, path: &str, cookies: &str) -> (u16, Value) {
    send(app, method, path, cookies, None).await
}

/// A deleted account: anonymised, disabled, signed out, its phone free for a new account; its
/// ledger stays.
#[tokio::test]
async fn a_deleted_user_is_anonymised_and_disabled_and_the_ledger_stays() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.logged_in("081100000341", Role::Admin).await;
    let (uid, _) = app.logged_in("081234500341", Role::User).await;
    let (status, _) = post(
        &app,
        &format!("/api/admin/users/{uid}/quota-adjust"),
        &admin,
        json!({"bytes": GIB, "reason": "awal"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(live_sessions(&app, uid).await, 1);
    app.app
        .users
        .record_login(
            UserId(uid),
            lpsaring_auth::LoginMethod::Otp,
            Some("10.0.0.9".to_owned()),
            None,
            None,
        )
        .await
        .unwrap();

    let path = format!("/api/admin/users/{uid}");
    let (status, body) = call(&app, reqwest::Method::DELETE, &path, &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["full_name"], format!("Pengguna terhapus #{uid}"));
    assert_eq!(body["is_active"], false);
    assert!(!body.to_string().contains("81234500341"), "{body}");
    assert_eq!(live_sessions(&app, uid).await, 0);
    assert_eq!(
        count_rows(&app.app.db, &format!("login_history WHERE user_id = {uid}")).await,
        0
    );
    assert_eq!(
        app.app
            .quota
            .history(UserId(uid))
            .await
            .unwrap()
            .ledger
            .len(),
        1
    );
    let phone = lpsaring_kernel::Phone::parse("081234500341").unwrap();
    assert!(app.app.users.find(&phone).await.unwrap().is_none());
    user(&app, "081234500341", "Pemilik baru", true).await;

    let log = audit_of(&app, uid).await;
    assert_eq!(log[0].action, "user.delete");
    assert_eq!(log[0].actor, Some(UserId(admin_id)));

    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/admin/users/{admin_id}"),
        &admin,
    )
    .await;
    assert_eq!(status, 422, "nobody deletes themselves");
    let (other, _) = app.logged_in("081100000342", Role::Admin).await;
    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/admin/users/{other}"),
        &admin,
    )
    .await;
    assert_eq!(status, 403, "an admin is a super admin's to delete");
}

#[tokio::test]
async fn only_a_super_admin_changes_roles_and_the_last_one_stays() {
    let app = spawn_app().await;
    let (boss, super_admin) = app.logged_in("081100000351", Role::SuperAdmin).await;
    let (_, admin) = app.logged_in("081100000352", Role::Admin).await;
    let uid = user(&app, "081234500351", "Calon operator", true).await;
    let put = |cookies: &str, id: i64, body: Value| {
        let path = format!("/api/admin/users/{id}");
        let cookies = cookies.to_owned();
        let app = &app;
        async move { send(app, reqwest::Method::PUT, &path, &cookies, Some(body)).await }
    };

    let (status, _) = put(&admin, uid, json!({"role": "ADMIN"})).await;
    assert_eq!(status, 403);
    let (status, body) = put(&super_admin, uid, json!({"role": "KING"})).await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (422, Some("role"))
    );
    let (status, body) = put(&super_admin, uid, json!({"role": "ADMIN"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "ADMIN");
    assert_eq!(
        app.app.users.get(UserId(uid)).await.unwrap().unwrap().role,
        Role::Admin
    );
    let log = audit_of(&app, uid).await;
    assert_eq!(log[0].action, "user.role");
    assert_eq!(log[0].details.as_ref().unwrap()["to"], "ADMIN");

    let (status, body) = put(&super_admin, boss, json!({"role": "USER"})).await;
    assert_eq!(status, 422, "the last super admin: {body}");
    let (second, second_cookies) = app.logged_in("081100000353", Role::SuperAdmin).await;
    let (status, body) = put(&second_cookies, boss, json!({"role": "USER"})).await;
    assert_eq!(status, 200, "another super admin remains: {body}");
    let (status, _) = put(&second_cookies, second, json!({"role": "ADMIN"})).await;
    assert_eq!(status, 422, "now the last one");
}
