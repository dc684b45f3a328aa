//! The operator's devices area (issue 18, "Devices"): `GET /api/admin/devices` with owner,
//! MAC, IP, last seen and online, filtered by the owner's phone or a MAC, paged, exported as
//! CSV; removal from the page (CSRF token) and the JSON takes the router rows too and is audited.

use lpsaring_kernel::ports::users::Role;
use lpsaring_routeros_sim::Menu;
use lpsaring_tests::{TestApp, set_cookie, spawn_app};
use serde_json::{Value, json};

use crate::admin_forms::csv_of;
use crate::portal::cookies_of;
use crate::quota::{admin_token, assert_envelope, send};
use crate::web::client;

const OWNER_A: &str = "081299996601";
const OWNER_B: &str = "081299996602";
const MACS: [(&str, &str); 3] = [
    ("02:00:00:00:66:01", "10.5.50.61"),
    ("02:00:00:00:66:02", "10.5.50.62"),
    ("02:00:00:00:66:03", "10.5.50.63"),
];

fn rows_for(app: &TestApp, menu: Menu, key: &str, value: &str) -> usize {
    app.router_rows(menu)
        .iter()
        .filter(|r| r.get(key) == Some(value))
        .count()
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    send(app.http.get(app.url(path)), Some(token)).await
}

/// A has two devices seen 11 minutes ago (offline); B one just now (online, its label a
/// spreadsheet formula).
async fn devices(app: &TestApp) {
    app.user_with_quota(OWNER_A, true).await;
    app.user_with_quota(OWNER_B, true).await;
    for (mac, ip) in MACS {
        app.phone_on_hotspot(mac, ip);
    }
    for (phone, (mac, ip)) in [(OWNER_A, MACS[0]), (OWNER_A, MACS[1])] {
        let login = app.login_by_code(phone, Some((ip, mac))).await;
        assert_eq!(login.status(), 200);
        app.clock.advance(chrono::Duration::seconds(61));
    }
    app.clock.advance(chrono::Duration::minutes(11));
    let login = app
        .login_by_code(OWNER_B, Some((MACS[2].1, MACS[2].0)))
        .await;
    assert_eq!(login.status(), 200);
    let session = cookies_of(&login);
    let (status, mine) = send(
        client()
            .get(app.url("/api/users/me/devices"))
            .header("cookie", &session),
        None,
    )
    .await;
    assert_eq!(status, 200, "{mine}");
    let id = mine["devices"][0]["id"].as_i64().unwrap();
    let res = client()
        .put(app.url(&format!("/api/users/me/devices/{id}/label")))
        .header("cookie", &session)
        .header("origin", app.base_url.as_str())
        .json(&json!({"label": "=1+2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn admins_list_filter_page_and_export_every_device() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    devices(&app).await;
    let total = |v: &Value| v["total"].as_u64().unwrap();

    let (status, all) = get(&app, "/api/admin/devices", &admin).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(total(&all), 3);
    let first = &all["items"][0];
    assert_eq!(first["mac"], MACS[2].0, "most recently seen first: {all}");
    assert_eq!(first["ip"], MACS[2].1);
    assert_eq!(first["owner_phone"], "+6281299996602");
    assert_eq!(first["owner_name"], "Budi");
    assert_eq!(first["online"], true);
    assert_eq!(all["items"][2]["online"], false, "{all}");

    for (query, expected) in [
        (format!("owner={OWNER_A}"), 2),
        ("owner=6281299996602".to_owned(), 1),
        ("owner=081299990000".to_owned(), 0),
        ("mac=02-00-00-00-66-01".to_owned(), 1),
        ("mac=6603".to_owned(), 1),
        ("mac=66".to_owned(), 3),
        (format!("owner={OWNER_A}&mac=66:03"), 0),
    ] {
        let (status, page) = get(&app, &format!("/api/admin/devices?{query}"), &admin).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(total(&page), expected, "{query}: {page}");
    }
    let (_, page) = get(&app, "/api/admin/devices?per_page=2&page=2", &admin).await;
    assert_eq!(
        (total(&page), page["items"].as_array().unwrap().len()),
        (3, 1)
    );
    for (query, field) in [
        ("owner=abc", "owner"),
        ("mac=zz", "mac"),
        ("page=x", "page"),
    ] {
        let (status, body) = get(&app, &format!("/api/admin/devices?{query}"), &admin).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_envelope(&body, 422);
        assert_eq!(body["details"]["field"], field, "{body}");
    }

    let (header, rows) = csv_of(&app, "/api/admin/devices?format=csv", &admin).await;
    assert_eq!(header[4], "mac");
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][6], "'=1+2", "the label is neutralised: {rows:?}");
    let mine = format!("/api/admin/devices?format=csv&owner={OWNER_A}");
    assert_eq!(csv_of(&app, &mine, &admin).await.1.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn admins_remove_devices_with_their_router_rows_from_the_page_and_the_json() {
    let app = spawn_app().await;
    let admin_json = admin_token(&app).await;
    devices(&app).await;
    let (_, admin) = app.logged_in("081100000801", Role::Admin).await;
    let (_, all) = get(&app, "/api/admin/devices", &admin_json).await;
    let id_of = |mac: &str| {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["mac"] == mac)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(rows_for(&app, Menu::IpBinding, "mac-address", MACS[0].0), 1);

    // The page: filters kept, the formula label escaped, a remove button per device.
    let res = client()
        .get(app.url(&format!("/admin/devices?owner={OWNER_B}")))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csrf = set_cookie(&res, "csrf").expect("a csrf cookie");
    let html = res.text().await.unwrap();
    assert!(
        html.contains("<strong id=\"devices-total\">1</strong>"),
        "{html}"
    );
    assert!(html.contains("aria-current=\"page\">Perangkat</a>"));
    assert!(
        html.contains("/api/admin/devices?format=csv&amp;owner=081299996602"),
        "{html}"
    );
    let marker = "name=\"csrf\" value=\"";
    let token = html[html.find(marker).unwrap() + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let cookies = format!("{admin}; csrf={csrf}");

    let remove = |id: i64, token: String| {
        client()
            .post(app.url(&format!("/admin/devices/{id}/remove")))
            .header("cookie", &cookies)
            .form(&[
                ("csrf", token),
                ("back", format!("/admin/devices?owner={OWNER_A}")),
            ])
            .send()
    };
    let res = remove(id_of(MACS[0].0), "forged".into()).await.unwrap();
    assert_eq!(res.status(), 403);
    let audit_before = lpsaring_tests::count_rows(&app.app.db, "audit_log").await;
    let res = remove(id_of(MACS[0].0), token.clone()).await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/admin/devices?owner={OWNER_A}&done=removed")
    );
    assert_eq!(rows_for(&app, Menu::IpBinding, "mac-address", MACS[0].0), 0);
    assert_eq!(rows_for(&app, Menu::Host, "mac-address", MACS[0].0), 0);
    assert_eq!(
        rows_for(&app, Menu::IpBinding, "mac-address", MACS[1].0),
        1,
        "the others stay"
    );
    let res = remove(999_999, token).await.unwrap();
    assert_eq!(res.status(), 404);

    // The JSON.
    let id = id_of(MACS[2].0);
    let (status, removed) = send(
        app.http
            .delete(app.url(&format!("/api/admin/devices/{id}"))),
        Some(&admin_json),
    )
    .await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(
        (
            removed["device"]["mac"].as_str(),
            removed["router_failures"].as_u64()
        ),
        (Some(MACS[2].0), Some(0))
    );
    assert_eq!(rows_for(&app, Menu::IpBinding, "mac-address", MACS[2].0), 0);
    let (status, body) = send(
        app.http
            .delete(app.url(&format!("/api/admin/devices/{id}"))),
        Some(&admin_json),
    )
    .await;
    assert_eq!(status, 404, "{body}");

    let filter = lpsaring_admin::AuditFilter {
        action: Some("device.remove".into()),
        ..Default::default()
    };
    let audit = app.app.admin.audit_page(&filter, 1, 10).await.unwrap();
    assert_eq!(audit.total, 2);
    assert!(audit.items.iter().all(|e| e.actor.is_some()));
    assert_eq!(audit.items[1].details.as_ref().unwrap()["mac"], MACS[0].0);
    assert_eq!(
        lpsaring_tests::count_rows(&app.app.db, "audit_log").await,
        audit_before + 2
    );
    let (_, left) = get(&app, "/api/admin/devices", &admin_json).await;
    assert_eq!(left["total"], 1);
    app.stop().await;
}
