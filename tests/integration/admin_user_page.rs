//! One user's page in the admin panel (`/admin/users/{id}`) and its JSON twin
//! (`GET /api/admin/users/{id}`), with real data from every module: a device bound on the
//! RouterOS simulator by a code login, an order paid through the sandbox plugin, an operator's
//! quota grant and its audit entry; then revoking the user's session and removing the device
//! from the page's forms.

use lpsaring_kernel::ports::users::Role;
use lpsaring_tests::set_cookie;
use reqwest::Method;
use serde_json::json;

use crate::admin_forms::{form_page, post_form};
use crate::admin_users::{send, user};
use crate::payments::{create_package, initiate, sandbox_app};
use crate::purchase::pay_in_sandbox;
use crate::quota::admin_token;
use crate::web::client;

const PHONE: &str = "081234500451";
const MAC: &str = "02:00:00:00:45:01";
const IP: &str = "10.5.61.7";
const GIB: i64 = 1 << 30;

#[tokio::test]
async fn the_user_page_shows_everything_about_a_user_and_revokes_their_session() {
    let app = sandbox_app().await;
    let (_, admin) = app.logged_in("081100000451", Role::Admin).await;
    let package = create_package(&app, &admin_token(&app).await, "Paket Rina").await;
    let uid = user(&app, PHONE, "Rina Wati", true).await;

    // A code login from a phone on the hotspot: a device, a login, a session.
    app.phone_on_hotspot(MAC, IP);
    let res = app.login_by_code(PHONE, Some((IP, MAC))).await;
    assert_eq!(res.status(), 200);
    let access = set_cookie(&res, "auth_token").expect("an access cookie");
    let refresh = set_cookie(&res, "refresh_token").expect("a refresh cookie");
    // An order paid through the sandbox, and an operator's grant (a ledger row, an audit entry).
    let order = initiate(&app, &access, package).await["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(pay_in_sandbox(&app, &order).await.status(), 303);
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("/api/admin/users/{uid}/quota-adjust"),
        &admin,
        Some(json!({"bytes": GIB, "days": 2, "reason": "bonus gangguan"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let path = format!("/api/admin/users/{uid}");
    let (status, r) = send(&app, Method::GET, &path, &admin, None).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["user"]["phone_number"], "+6281234500451");
    assert_eq!(r["user"]["full_name"], "Rina Wati");
    assert_eq!(r["user"]["role"], "USER");
    assert_eq!(r["user"]["approval_status"], "APPROVED");
    assert!(r["user"]["last_login_at"].is_string(), "{r}");
    assert_eq!(r["devices"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["devices"][0]["mac"], MAC);
    assert_eq!(r["devices"][0]["ip"], IP);
    assert_eq!(r["sessions"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["orders"][0]["order_id"], order.as_str());
    assert_eq!(r["orders"][0]["status"], "SUCCESS");
    assert_eq!(r["orders"][0]["package_name"], "Paket Rina");
    assert!(r["orders"][0]["paid_at"].is_string(), "{r}");
    let sources: Vec<&str> = r["quota"]["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2, "the purchase and the grant: {r}");
    assert!(sources.contains(&"admin"), "{sources:?}");
    assert_eq!(r["quota"]["ledger"][0]["bytes_added"], GIB, "newest first");
    assert_eq!(r["quota"]["daily"].as_array().unwrap().len(), 30);
    let added: i64 = r["quota"]["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["bytes_added"].as_i64().unwrap())
        .sum();
    assert_eq!(r["quota"]["purchased_bytes"], added, "{r}");
    assert_eq!(r["logins"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["logins"][0]["mac"], MAC);
    assert_eq!(r["audit"][0]["action"], "quota.adjust");
    assert_eq!(r["audit"][0]["details"]["reason"], "bonus gangguan");

    // The page, in both languages.
    let page = form_page(&app, &format!("/admin/users/{uid}"), &admin).await;
    assert_eq!(page.status, 200, "{}", page.html);
    for needle in [
        "Rina Wati",
        "+6281234500451",
        MAC,
        order.as_str(),
        "Paket Rina",
        "bonus gangguan",
        "quota.adjust",
        "<svg class=\"chart\"",
        "Perangkat",
        "Sesi",
        "Riwayat login",
        "Riwayat kuota",
        "Log audit",
    ] {
        assert!(page.html.contains(needle), "{needle}: {}", page.html);
    }
    let english = form_page(&app, &format!("/admin/users/{uid}?lang=en"), &admin).await;
    for needle in [
        "Devices",
        "Sessions",
        "Login history",
        "Quota ledger",
        "Audit log",
    ] {
        assert!(english.html.contains(needle), "{needle}: {}", english.html);
    }
    // The list links each row here.
    let list = form_page(&app, "/admin/users", &admin).await;
    assert!(list.html.contains(&format!("href=\"/admin/users/{uid}\"")));

    // Unknown ids: a readable 404 page and the envelope's 404; a plain user: 403.
    let missing = form_page(&app, "/admin/users/987654", &admin).await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.html.contains("Pengguna tidak ditemukan"),
        "{}",
        missing.html
    );
    let (status, body) = send(&app, Method::GET, "/api/admin/users/987654", &admin, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("AUTH_USER_NOT_FOUND"))
    );
    let plain = format!("auth_token={access}");
    let (status, _) = send(&app, Method::GET, &path, &plain, None).await;
    assert_eq!(status, 403);

    // Revoking the session: a stale form token is refused, an unknown session is a 404, then
    // the revoke lands back on the page and the user's refresh token answers 401.
    let family = r["sessions"][0]["id"].as_str().unwrap().to_owned();
    let revoke = format!("/admin/users/{uid}/sessions/{family}/revoke");
    let (status, _, _) = post_form(&app, &revoke, &page.cookies, &[("csrf", "stale")]).await;
    assert_eq!(status, 403);
    let unknown = format!("/admin/users/{uid}/sessions/nope/revoke");
    let (status, _, html) =
        post_form(&app, &unknown, &page.cookies, &[("csrf", &page.token)]).await;
    assert_eq!(status, 404, "{html}");
    let (status, to, _) = post_form(&app, &revoke, &page.cookies, &[("csrf", &page.token)]).await;
    assert_eq!(
        (status, to.as_str()),
        (303, format!("/admin/users/{uid}?done=revoked").as_str())
    );
    let res = client()
        .post(app.url("/api/auth/refresh"))
        .header("cookie", format!("refresh_token={refresh}"))
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (_, r) = send(&app, Method::GET, &path, &admin, None).await;
    assert_eq!(r["sessions"].as_array().unwrap().len(), 0, "{r}");
    assert_eq!(r["audit"][0]["action"], "session.revoke", "{r}");
    assert_eq!(r["audit"][0]["details"]["family"], family.as_str());

    // Removing the device from the page's form: back on the page, gone, audited by devices.
    let page = form_page(&app, &format!("/admin/users/{uid}?done=revoked"), &admin).await;
    assert!(page.html.contains("Sesi dicabut."), "{}", page.html);
    let device = r["devices"][0]["id"].as_i64().unwrap();
    let back = format!("/admin/users/{uid}");
    let (status, to, _) = post_form(
        &app,
        &format!("/admin/devices/{device}/remove"),
        &page.cookies,
        &[("csrf", &page.token), ("back", &back)],
    )
    .await;
    assert_eq!((status, to), (303, format!("{back}?done=removed")));
    let (_, r) = send(&app, Method::GET, &path, &admin, None).await;
    assert_eq!(r["devices"].as_array().unwrap().len(), 0, "{r}");
    app.stop().await;
}
