//! The user's devices page `/akun/perangkat` and its JSON: what is listed (masked MAC, online,
//! this device), rename with validation, removal that takes the device off the router, binding
//! the device in use, and that nobody reaches another user's device.

use lpsaring_kernel::ports::users::Role;
use lpsaring_routeros_sim::Menu;
use lpsaring_tests::{TestApp, set_cookie, spawn_app};
use serde_json::{Value, json};

use crate::portal::{cookies_of, get_as};
use crate::purchase::hidden;
use crate::web::client;

const PHONE: &str = "081299995501";

/// A JSON call as the browser holding `cookie` (same-origin, as the page's own fetch would be).
async fn call(
    app: &TestApp,
    cookie: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client()
        .request(method.parse().unwrap(), app.url(path))
        .header("cookie", cookie)
        .header("origin", app.base_url.as_str());
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A form post as a browser with no JavaScript: the page's token, no Origin header.
async fn post_form(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(app.url(path))
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// A page's HTML as the browser holding `cookie`.
async fn html_of(app: &TestApp, cookie: &str, path: &str) -> String {
    get_as(app, cookie, path).await.text().await.unwrap()
}

async fn bind_current(app: &TestApp, session: &str) -> (u16, Value) {
    let path = "/api/users/me/devices/bind-current";
    call(app, session, "POST", path, None).await
}

/// A form refused in place: the page again, with `status` and the reason.
async fn refused_with(res: reqwest::Response, status: u16, reason: &str) {
    assert_eq!(res.status(), status);
    let html = res.text().await.unwrap();
    assert!(html.contains(reason), "{reason} missing from:\n{html}");
}

fn rows_for(app: &TestApp, menu: Menu, key: &str, value: &str) -> usize {
    app.router_rows(menu)
        .iter()
        .filter(|r| r.get(key) == Some(value))
        .count()
}

#[tokio::test]
async fn a_user_lists_renames_and_removes_devices_and_the_router_rows_go() {
    let app = spawn_app().await;
    app.user_with_quota(PHONE, true).await;
    let (mac1, ip1) = ("02:00:00:00:55:01", "10.5.50.51");
    let (mac2, ip2) = ("02:00:00:00:55:02", "10.5.50.52");
    app.phone_on_hotspot(mac1, ip1);
    app.phone_on_hotspot(mac2, ip2);
    assert_eq!(
        app.login_by_code(PHONE, Some((ip1, mac1))).await.status(),
        200
    );
    app.clock.advance(chrono::Duration::seconds(61));
    let login = app.login_by_code(PHONE, Some((ip2, mac2))).await;
    assert_eq!(login.status(), 200);
    let session = cookies_of(&login);
    assert_eq!(rows_for(&app, Menu::IpBinding, "mac-address", mac1), 1);

    // Logged out: the page goes to the login, the JSON answers 401.
    let res = get_as(&app, "", "/akun/perangkat").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/login?next=/akun/perangkat");
    assert_eq!(
        call(&app, "", "GET", "/api/users/me/devices", None).await.0,
        401
    );

    let (status, list) = call(&app, &session, "GET", "/api/users/me/devices", None).await;
    assert_eq!(status, 200, "{list}");
    let devices = list["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{list}");
    assert!(
        devices
            .iter()
            .all(|d| d["online"] == true && d["this_device"] == false)
    );
    assert!(
        devices
            .iter()
            .any(|d| d["mac_masked"] == "••:••:••:••:55:01")
    );
    assert!(
        !list.to_string().contains(mac1),
        "the full MAC is never shown"
    );
    assert_eq!(
        list["this_device"],
        Value::Null,
        "this request is not from the hotspot"
    );
    let id_of = |mac_tail: &str| {
        devices
            .iter()
            .find(|d| d["mac_masked"].as_str().unwrap().ends_with(mac_tail))
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (id1, id2) = (id_of("55:01"), id_of("55:02"));

    // Rename over JSON; a bad name is a readable 422, nothing written.
    let path = format!("/api/users/me/devices/{id1}/label");
    let (status, body) = call(
        &app,
        &session,
        "PUT",
        &path,
        Some(json!({"label": "HP Budi"})),
    )
    .await;
    assert_eq!(
        (status, body["device"]["label"].as_str()),
        (200, Some("HP Budi")),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &session,
        "PUT",
        &path,
        Some(json!({"label": "x".repeat(41)})),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("VALIDATION_ERROR")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("40 characters"));
    let (status, body) = call(&app, &session, "PUT", &path, Some(json!({"name": "x"}))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"]["field"], "label");

    // Another user: every device id of this one is a 404, and nothing changes.
    let (_, other) = app.logged_in("081299995502", Role::User).await;
    for (method, path, body) in [
        (
            "PUT",
            format!("/api/users/me/devices/{id1}/label"),
            Some(json!({"label": "mine"})),
        ),
        ("DELETE", format!("/api/users/me/devices/{id1}"), None),
    ] {
        let (status, body) = call(&app, &other, method, &path, body).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("DEVICE_NOT_FOUND")),
            "{method} {path}"
        );
    }
    // The form token belongs to the browser (its `csrf` cookie), not to the session.
    let res = get_as(&app, &session, "/akun/perangkat").await;
    let csrf_cookie = set_cookie(&res, "csrf").unwrap();
    let csrf = hidden(&res.text().await.unwrap(), "csrf");
    let res = post_form(
        &app,
        &format!("{other}; csrf={csrf_cookie}"),
        &format!("/akun/perangkat/{id1}/hapus"),
        &[("csrf", &csrf)],
    )
    .await;
    refused_with(res, 404, "Perangkat tidak ditemukan").await;
    assert_eq!(rows_for(&app, Menu::IpBinding, "mac-address", mac1), 1);

    // The page in both languages: names, masked MACs, online badges, a form per action.
    for (lang, words) in [
        (
            "id",
            ["Perangkat saya", "HP Budi", "Terakhir terlihat", "Hapus"],
        ),
        ("en", ["My devices", "HP Budi", "Last seen", "Remove"]),
    ] {
        let html = html_of(&app, &session, &format!("/akun/perangkat?lang={lang}")).await;
        for word in words {
            assert!(html.contains(word), "{lang}: {word} missing");
        }
        assert!(html.contains("••:••:••:••:55:02") && !html.contains(mac2));
        assert!(html.contains("aria-current=\"page\""), "the portal tabs");
        assert!(html.contains(&format!("action=\"/akun/perangkat/{id2}/hapus\"")));
    }

    // The forms work without JavaScript: the page's token, POST, then back with a notice.
    let cookie = format!("{session}; csrf={csrf_cookie}");
    let res = post_form(
        &app,
        &cookie,
        &format!("/akun/perangkat/{id2}/nama"),
        &[("csrf", "forged"), ("label", "x")],
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = post_form(
        &app,
        &cookie,
        &format!("/akun/perangkat/{id2}/nama"),
        &[("csrf", &csrf), ("label", "Laptop")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/akun/perangkat?ok=renamed");
    let long = "y".repeat(41);
    let res = post_form(
        &app,
        &cookie,
        &format!("/akun/perangkat/{id2}/nama"),
        &[("csrf", &csrf), ("label", &long)],
    )
    .await;
    refused_with(res, 422, "paling banyak 40 karakter").await;
    let html = html_of(&app, &session, "/akun/perangkat?ok=renamed").await;
    assert!(html.contains("Laptop") && html.contains("Nama perangkat disimpan."));

    // Remove one by form and one by JSON: the rows and the router's bindings, hosts and
    // status-list entries go.
    let res = post_form(
        &app,
        &cookie,
        &format!("/akun/perangkat/{id1}/hapus"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/akun/perangkat?ok=removed");
    let delete_id2 = format!("/api/users/me/devices/{id2}");
    let (status, body) = call(&app, &session, "DELETE", &delete_id2, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["router_failures"], 0);
    for (mac, ip) in [(mac1, ip1), (mac2, ip2)] {
        assert_eq!(
            rows_for(&app, Menu::IpBinding, "mac-address", mac),
            0,
            "{mac}"
        );
        assert_eq!(rows_for(&app, Menu::Host, "mac-address", mac), 0, "{mac}");
        assert_eq!(rows_for(&app, Menu::AddressList, "address", ip), 0, "{ip}");
    }
    let (_, list) = call(&app, &session, "GET", "/api/users/me/devices", None).await;
    assert_eq!(list["devices"], json!([]));
    let (status, _) = call(&app, &session, "DELETE", &delete_id2, None).await;
    assert_eq!(status, 404, "removed once only");
}

#[tokio::test]
async fn the_device_in_use_is_marked_and_can_be_bound_from_the_portal() {
    let app = spawn_app().await;
    app.user_with_quota(PHONE, true).await;
    let session = cookies_of(&app.login_by_code(PHONE, None).await);
    // The router sees this test's requests (from 127.0.0.1) as a hotspot client.
    let mac = "02:00:00:00:55:09";
    app.phone_on_hotspot(mac, "127.0.0.1");

    let (_, list) = call(&app, &session, "GET", "/api/users/me/devices", None).await;
    assert_eq!(list["devices"], json!([]), "{list}");
    assert_eq!(list["this_device"]["bound"], false, "{list}");
    assert_eq!(list["this_device"]["can_bind"], true, "{list}");
    let html = html_of(&app, &session, "/akun/perangkat?lang=en").await;
    assert!(html.contains("action=\"/akun/perangkat/ikat\"") && html.contains("Bind this device"));

    let (status, body) = bind_current(&app, &session).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["device"]["this_device"], true);
    assert_eq!(rows_for(&app, Menu::IpBinding, "mac-address", mac), 1);

    let (_, list) = call(&app, &session, "GET", "/api/users/me/devices", None).await;
    assert_eq!(list["this_device"]["bound"], true, "{list}");
    assert_eq!(list["devices"][0]["this_device"], true, "{list}");
    let html = html_of(&app, &session, "/akun/perangkat").await;
    assert!(html.contains("Perangkat ini") && !html.contains("/akun/perangkat/ikat"));
    let (status, body) = bind_current(&app, &session).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("DEVICE_NOT_ON_HOTSPOT")),
        "{body}"
    );
}

/// Takes `mac`'s host entry off the simulated hotspot: the phone left and the router forgot it.
fn leave_hotspot(app: &TestApp, mac: &str) {
    let id = app
        .router_rows(Menu::Host)
        .into_iter()
        .find(|r| r.get("mac-address") == Some(mac))
        .and_then(|r| r.get(".id").map(str::to_owned))
        .expect("the host entry");
    app.sim.with_state(|s| {
        s.execute(&lpsaring_routeros_sim::request(
            "/ip/hotspot/host/remove",
            &[(".id", &id)],
        ))
    });
}

#[tokio::test]
async fn devices_unseen_for_the_set_days_are_removed_daily_from_router_and_database() {
    let app = spawn_app().await;
    app.user_with_quota(PHONE, true).await;
    let (old_mac, old_ip) = ("02:00:00:00:56:01", "10.5.50.61");
    let (new_mac, new_ip) = ("02:00:00:00:56:02", "10.5.50.62");
    app.phone_on_hotspot(old_mac, old_ip);
    let login = app.login_by_code(PHONE, Some((old_ip, old_mac))).await;
    assert_eq!(login.status(), 200);
    leave_hotspot(&app, old_mac);
    // Two months later (the default is 60 days) the user comes back with another phone.
    app.clock.advance(chrono::Duration::days(61));
    app.phone_on_hotspot(new_mac, new_ip);
    let login = app.login_by_code(PHONE, Some((new_ip, new_mac))).await;
    assert_eq!(login.status(), 200);
    assert_eq!(rows_for(&app, Menu::IpBinding, "mac-address", old_mac), 1);
    assert_eq!(lpsaring_tests::count_rows(&app.app.db, "devices").await, 2);

    let job = app
        .app
        .jobs()
        .into_iter()
        .find(|j| j.name == "devices.remove_stale")
        .expect("the stale-device job");
    job.run_once().await;

    let left: Vec<String> = app
        .app
        .devices
        .all()
        .await
        .unwrap()
        .iter()
        .map(|d| d.mac.to_string())
        .collect();
    assert_eq!(
        left,
        [new_mac.to_uppercase()],
        "only the fresh device stays"
    );
    assert_eq!(rows_for(&app, Menu::IpBinding, "mac-address", old_mac), 0);
    assert_eq!(rows_for(&app, Menu::IpBinding, "mac-address", new_mac), 1);
    let audit = app
        .app
        .admin
        .audit_page(
            &lpsaring_admin::AuditFilter {
                action: Some("devices.stale_removed".to_owned()),
                ..Default::default()
            },
            1,
            10,
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 1, "one audit entry for the sweep");

    // Nothing else is old now: a second run removes nothing and writes no entry.
    job.run_once().await;
    assert_eq!(app.app.devices.all().await.unwrap().len(), 1);
}

#[tokio::test]
async fn zero_days_keeps_devices_forever() {
    let app =
        lpsaring_tests::spawn_app_with(|s| s.devices.remove_after_days = 0, salvo::Router::new())
            .await;
    app.user_with_quota(PHONE, true).await;
    let (mac, ip) = ("02:00:00:00:56:03", "10.5.50.63");
    app.phone_on_hotspot(mac, ip);
    assert_eq!(
        app.login_by_code(PHONE, Some((ip, mac))).await.status(),
        200
    );
    app.clock.advance(chrono::Duration::days(400));
    let swept = app.app.stale_devices.run().await.unwrap();
    assert_eq!(swept.removed, 0);
    assert_eq!(app.app.devices.all().await.unwrap().len(), 1);
}
