//! A voucher as a login (issue 12, "Vouchers and cash"): the code alone on the captive page or
//! `POST /api/auth/voucher-login` makes a voucher account (no phone) holding the package and
//! binds the device on the simulator; later uses log in to the same account up to the device
//! limit; revoked, unknown and purchased codes log nobody in and write nothing; wrong codes are
//! rate limited per IP; the account can attach a phone later.

use futures_util::future::join_all;
use lpsaring_kernel::UserId;
use lpsaring_routeros_sim::Menu;
use lpsaring_tests::{TestApp, count_rows, set_cookie};
use serde_json::{Value, json};

use crate::pages::{Visitor, bindings_for};
use crate::payments::{app, buyer, create_package};
use crate::quota::{admin_token, assert_envelope, send};
use crate::vouchers::{codes_of, create_batch, redeem};

const GIB: i64 = 1 << 30;

/// An admin, a 5 GiB package and a batch of `count` codes with prefix `RT5`.
async fn codes(app: &TestApp, count: u32) -> (String, String, Vec<String>) {
    let admin = admin_token(app).await;
    let package_id = create_package(app, &admin, "5 GB voucher").await;
    let (status, created) = create_batch(
        app,
        &admin,
        json!({"package_id": package_id, "count": count, "prefix": "RT5"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let batch = created["batch_id"].as_str().unwrap().to_owned();
    (admin, batch, codes_of(&created))
}

async fn voucher_login(app: &TestApp, body: Value) -> (u16, Value) {
    send(
        app.http
            .post(app.url("/api/auth/voucher-login"))
            .json(&body),
        None,
    )
    .await
}

/// A voucher login from a phone on the hotspot at `mac`/`ip`.
async fn login_from(app: &TestApp, code: &str, mac: &str, ip: &str) -> (u16, Value) {
    app.phone_on_hotspot(mac, ip);
    voucher_login(
        app,
        json!({"code": code, "client_ip": ip, "client_mac": mac}),
    )
    .await
}

/// Users, orders and ledger rows: what a refused login must leave as it was.
async fn written(app: &TestApp) -> [i64; 3] {
    [
        count_rows(&app.app.db, "users").await,
        count_rows(&app.app.db, "transactions").await,
        count_rows(&app.app.db, "quota_ledger").await,
    ]
}

fn user_id(body: &Value) -> UserId {
    UserId(body["user"]["id"].as_i64().unwrap())
}

#[tokio::test]
async fn a_voucher_makes_an_account_on_first_use_and_logs_in_to_it_again() {
    let app = app().await;
    let (_, _, codes) = codes(&app, 1).await;
    let before = written(&app).await;

    // First use: cookies like verify-otp, an account without a phone holding the package,
    // the device bound on the router and on the `active` list.
    app.phone_on_hotspot("02:00:00:00:0a:01", "10.5.60.1");
    let res = app
        .http
        .post(app.url("/api/auth/voucher-login"))
        .json(
            &json!({"code": codes[0], "client_ip": "10.5.60.1", "client_mac": "02-00-00-00-0A-01"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = set_cookie(&res, "auth_token").expect("an access cookie");
    assert!(set_cookie(&res, "refresh_token").is_some());
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["user"]["phone_number"], Value::Null, "{first}");
    assert!(
        first["user"]["full_name"]
            .as_str()
            .unwrap()
            .starts_with("Voucher RT5"),
        "{first}"
    );
    assert_eq!(first["access_status"], "ok", "{first}");
    assert_eq!(first["device"]["binding"], "bypassed", "{first}");
    let user = user_id(&first);
    let quota = app.app.quota.show(user).await.unwrap();
    assert_eq!(quota.purchased_bytes, 5 * GIB);
    let bound = bindings_for(&app, "02:00:00:00:0A:01");
    assert_eq!(bound.len(), 1, "{bound:?}");
    assert_eq!(bound[0].get("type"), Some("bypassed"));
    assert!(
        bound[0]
            .get("comment")
            .unwrap()
            .contains(&format!("uid={}", user.0))
    );
    let lists: Vec<_> = app
        .router_rows(Menu::AddressList)
        .into_iter()
        .filter(|r| r.get("address") == Some("10.5.60.1"))
        .collect();
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(lists[0].get("list"), Some("active"));
    // One account, one paid voucher order, one grant.
    assert_eq!(
        written(&app).await,
        [before[0] + 1, before[1] + 1, before[2] + 1]
    );
    // The session is the voucher account's: `/api/auth/me` says so, without a phone.
    let (status, me) = send(app.http.get(app.url("/api/auth/me")), Some(&token)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["id"].as_i64(), &me["phone_number"]),
        (Some(user.0), &Value::Null)
    );

    // Later use, typed loosely, from another phone: the same account, nothing granted twice.
    let typed = codes[0].replace('-', "").to_lowercase();
    let (status, second) = login_from(&app, &typed, "02:00:00:00:0a:02", "10.5.60.2").await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(user_id(&second), user);
    assert_eq!(
        written(&app).await,
        [before[0] + 1, before[1] + 1, before[2] + 1]
    );
    assert_eq!(bindings_for(&app, "02:00:00:00:0A:02").len(), 1);
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        5 * GIB
    );

    // The code is the voucher account's now: a phone user cannot redeem it as a purchase.
    let (_, phone_user) = buyer(&app, "081234567401").await;
    let (status, answer) = redeem(&app, &phone_user, &codes[0]).await;
    assert_eq!(status, 409, "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn beyond_the_device_limit_a_voucher_login_is_refused() {
    let app = app().await;
    let (_, _, codes) = codes(&app, 1).await;
    for n in 1..=3 {
        let (status, body) = login_from(
            &app,
            &codes[0],
            &format!("02:00:00:00:0b:0{n}"),
            &format!("10.5.61.{n}"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    // All three are online: the fourth device is refused with the device code, not bound.
    let (status, body) = login_from(&app, &codes[0], "02:00:00:00:0b:04", "10.5.61.4").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("DEVICE_LIMIT_REACHED")),
        "{body}"
    );
    assert_envelope(&body, 409);
    assert!(bindings_for(&app, "02:00:00:00:0B:04").is_empty());
    assert_eq!(app.router_rows(Menu::IpBinding).len(), 3);
    // A MAC hint that disagrees with the router is refused like a code login's.
    app.phone_on_hotspot("02:00:00:00:0b:05", "10.5.61.5");
    let (status, body) = voucher_login(
        &app,
        json!({"code": codes[0], "client_ip": "10.5.61.5", "client_mac": "02:00:00:00:0b:99"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("CLIENT_MAC_MISMATCH"))
    );
    app.stop().await;
}

#[tokio::test]
async fn revoked_unknown_and_purchased_codes_log_nobody_in() {
    let app = app().await;
    let (admin, batch, codes) = codes(&app, 2).await;
    // One code is bought by a phone user, then the batch is revoked (the other code with it).
    let (_, phone_user) = buyer(&app, "081234567402").await;
    let (status, answer) = redeem(&app, &phone_user, &codes[0]).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = send(
        app.http
            .post(app.url(&format!("/api/admin/vouchers/{batch}/revoke"))),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let before = written(&app).await;

    app.phone_on_hotspot("02:00:00:00:0c:01", "10.5.62.1");
    for (code, status, error) in [
        (codes[0].as_str(), 409, "VOUCHER_USED"),
        (codes[1].as_str(), 409, "VOUCHER_REVOKED"),
        ("RT5-AAAAA-AAAAA", 400, "VOUCHER_INVALID"),
        ("<script>", 400, "VOUCHER_INVALID"),
    ] {
        let (got, body) = voucher_login(
            &app,
            json!({"code": code, "client_ip": "10.5.62.1", "client_mac": "02:00:00:00:0c:01"}),
        )
        .await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(error)),
            "{body}"
        );
        assert_envelope(&body, status);
    }
    // Malformed input is a 422 with the field, never a login outside the hotspot.
    let (status, body) =
        voucher_login(&app, json!({"code": codes[1], "client_ip": "10.5.999.1"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = voucher_login(&app, json!({"kode": 1})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(written(&app).await, before);
    assert!(app.router_rows(Menu::IpBinding).is_empty());
    app.stop().await;
}

#[tokio::test]
async fn wrong_voucher_codes_are_rate_limited_per_ip() {
    let app = app().await;
    let (_, _, codes) = codes(&app, 1).await;
    let before = written(&app).await;
    for wrong in (0..10).map(|i| format!("RT5-AAAAA-AAAA{}", (b'A' + i) as char)) {
        let (status, body) = voucher_login(&app, json!({ "code": wrong })).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("VOUCHER_INVALID")),
            "{body}"
        );
    }
    // The budget is spent: even the right code waits, and says for how long.
    let (status, body) = voucher_login(&app, json!({ "code": codes[0] })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{body}"
    );
    assert!(body["details"]["retry_after_secs"].as_u64().unwrap() > 0);
    assert_eq!(written(&app).await, before);
    // After the window the right code works.
    app.clock.advance(chrono::Duration::minutes(16));
    let (status, body) = voucher_login(&app, json!({ "code": codes[0] })).await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn concurrent_first_uses_of_one_code_make_one_account() {
    let app = app().await;
    let (_, _, codes) = codes(&app, 1).await;
    let before = written(&app).await;
    let answers = join_all((0..8).map(|_| voucher_login(&app, json!({ "code": codes[0] })))).await;
    let ids: Vec<i64> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["user"]["id"].as_i64().unwrap()
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(
        written(&app).await,
        [before[0] + 1, before[1] + 1, before[2] + 1]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_voucher_account_attaches_a_phone_with_a_code_sent_to_it() {
    let app = app().await;
    let (_, _, codes) = codes(&app, 1).await;
    let res = app
        .http
        .post(app.url("/api/auth/voucher-login"))
        .json(&json!({ "code": codes[0] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = set_cookie(&res, "auth_token").unwrap();
    let url = app.url("/api/auth/me/phone");
    // A phone another account uses cannot be attached.
    buyer(&app, "081234567403").await;
    let (status, body) = send(
        app.http
            .post(&url)
            .json(&json!({"phone_number": "081234567403"})),
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("USER_EXISTS")),
        "{body}"
    );
    // A code goes to the phone; a wrong one attaches nothing; the right one attaches it.
    let (status, body) = send(
        app.http
            .post(&url)
            .json(&json!({"phone_number": "081234567404"})),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let code = app.last_code("+6281234567404").expect("a code sent");
    let wrong = if code.starts_with('9') {
        "000000"
    } else {
        "999999"
    };
    let (status, body) = send(
        app.http
            .post(&url)
            .json(&json!({"phone_number": "081234567404", "otp": wrong})),
        Some(&token),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = send(
        app.http
            .post(&url)
            .json(&json!({"phone_number": "081234567404", "otp": code})),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, me) = send(app.http.get(app.url("/api/auth/me")), Some(&token)).await;
    assert_eq!(me["phone_number"], "+6281234567404", "{me}");
    // Once attached, the phone stays: a second one is refused. The code still logs in.
    let (status, _) = send(
        app.http
            .post(&url)
            .json(&json!({"phone_number": "081234567405"})),
        Some(&token),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = voucher_login(&app, json!({ "code": codes[0] })).await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn the_captive_page_takes_a_voucher_without_javascript() {
    let app = app().await;
    let (_, _, codes) = codes(&app, 1).await;
    app.phone_on_hotspot("02:00:00:00:0d:01", "10.5.63.1");
    let mut phone = Visitor::new(&app);
    let page = phone
        .get("/captive?ip=10.5.63.1&mac=02:00:00:00:0d:01")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Saya punya voucher"), "{}", page.body);
    let wrong = phone
        .submit(
            &page.body,
            "/captive/voucher",
            &[("code", "RT5-AAAAA-AAAAA")],
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.body.contains("role=\"alert\""), "{}", wrong.body);
    assert!(
        wrong.body.contains("Kode voucher tidak dikenal"),
        "{}",
        wrong.body
    );
    // The form stays unfolded with the code typed, and still carries the hotspot context.
    assert!(
        wrong.body.contains("<details id=\"voucher\" open>"),
        "{}",
        wrong.body
    );
    let done = phone
        .submit(&wrong.body, "/captive/voucher", &[("code", &codes[0])])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(phone.cookie("auth_token").is_some(), "{:?}", done.body);
    assert!(done.body.contains("Terhubung"), "{}", done.body);
    assert_eq!(bindings_for(&app, "02:00:00:00:0D:01").len(), 1);
    // English on request.
    let res = app
        .http
        .get(app.url("/captive"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("I have a voucher"));
    app.stop().await;
}

#[tokio::test]
async fn a_cards_link_offers_the_voucher_login_to_a_visitor_without_a_session() {
    let app = app().await;
    let (_, _, codes) = codes(&app, 1).await;
    let mut phone = Visitor::new(&app);
    let page = phone.get(&format!("/voucher?code={}", codes[0])).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("value=\"{}\"", codes[0])),
        "{}",
        page.body
    );
    // The filled-in code goes to auth's voucher login: logged in (no hotspot here, no binding).
    let done = phone
        .submit(&page.body, "/login/voucher", &[("code", &codes[0])])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(phone.cookie("auth_token").is_some(), "{}", done.body);
    assert!(app.router_rows(Menu::IpBinding).is_empty());
    app.stop().await;
}
