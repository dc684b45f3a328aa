//! The captive journey over HTTP against the RouterOS simulator and the console messenger plugin:
//! request a code, verify it, and check what the router holds afterwards.

use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;
use lpsaring_routeros_sim::{Faults, Menu, Row};
use lpsaring_tests::{TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const PHONE: &str = "081234567890";

/// A user with 5 GiB for 30 days (an approved user without quota is `habis`).
async fn user(app: &TestApp, phone: &str, approved: bool) -> i64 {
    app.user_with_quota(phone, approved).await
}

async fn user_without_quota(app: &TestApp, phone: &str, approved: bool) -> i64 {
    let phone = Phone::parse(phone).unwrap();
    app.app
        .users
        .create(&phone, "Budi", approved, Role::User)
        .await
        .unwrap()
        .id
        .0
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let res = app
        .http
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn wrong(code: &str) -> String {
    let first = if code.starts_with('9') { '0' } else { '9' };
    format!("{first}{}", &code[1..])
}

#[tokio::test]
async fn a_phone_behind_the_hotspot_gets_online() {
    let app = spawn_app().await;
    let uid = user(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:00:01", "10.5.50.11");
    let code = app.request_code(PHONE).await;
    let res = app
        .http
        .post(app.url("/api/auth/verify-otp"))
        .json(&json!({"phone_number": PHONE, "otp": code, "client_ip": "10.5.50.11", "client_mac": "02-00-00-00-00-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("auth_token=") && c.contains("HttpOnly")),
        "{cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("refresh_token=") && c.contains("HttpOnly")),
        "{cookies:?}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["device"]["binding"], "bypassed", "{body}");
    assert_eq!(body["access_status"], "ok");

    let bindings = app.router_rows(Menu::IpBinding);
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].get("mac-address"), Some("02:00:00:00:00:01"));
    assert_eq!(bindings[0].get("type"), Some("bypassed"));
    assert!(
        bindings[0].get("comment").unwrap().starts_with("lpsaring|"),
        "{:?}",
        bindings[0]
    );
    assert!(
        bindings[0]
            .get("comment")
            .unwrap()
            .contains(&format!("uid={uid}"))
    );
    let lists: Vec<Row> = app
        .router_rows(Menu::AddressList)
        .into_iter()
        .filter(|r| r.get("address") == Some("10.5.50.11"))
        .collect();
    assert_eq!(lists.len(), 1, "exactly one status list entry: {lists:?}");
    assert_eq!(lists[0].get("list"), Some("active"));
    // The same code cannot be used twice.
    let (status, body) = post(
        &app,
        "/api/auth/verify-otp",
        json!({"phone_number": PHONE, "otp": code}),
    )
    .await;
    assert_eq!(status, 410, "{body}");
}

#[tokio::test]
async fn bad_phone_numbers_get_422_with_a_reason() {
    let app = spawn_app().await;
    for phone in ["", "0812", "abc", "+1234567890123456"] {
        let (status, body) = post(
            &app,
            "/api/auth/request-otp",
            json!({"phone_number": phone}),
        )
        .await;
        assert_eq!(status, 422, "{phone}: {body}");
        assert_eq!(body["code"], "PHONE_INVALID");
    }
    let (status, body) = post(&app, "/api/auth/request-otp", json!({"nope": 1})).await;
    assert!((400..500).contains(&status), "{body}");
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn unknown_unapproved_and_blocked_users_are_told_what_to_do() {
    let app = spawn_app().await;
    let (status, body) = post(
        &app,
        "/api/auth/request-otp",
        json!({"phone_number": "081111111111"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("AUTH_USER_NOT_FOUND"))
    );
    user(&app, "081222222222", false).await;
    let (status, body) = post(
        &app,
        "/api/auth/request-otp",
        json!({"phone_number": "081222222222"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("AUTH_USER_UNAPPROVED"))
    );
    user(&app, "081333333333", true).await;
    app.app
        .users
        .block(&Phone::parse("081333333333").unwrap(), "abuse")
        .await
        .unwrap();
    let (status, body) = post(
        &app,
        "/api/auth/request-otp",
        json!({"phone_number": "081333333333"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("AUTH_USER_BLOCKED"))
    );
    assert!(app.outbox().is_empty(), "no code may be sent to them");
    // The messenger does deliver: an approved user's code arrives, and it is the only message.
    user(&app, PHONE, true).await;
    app.request_code(PHONE).await;
    assert_eq!(app.outbox().len(), 1, "{:?}", app.outbox());
}

#[tokio::test]
async fn a_second_request_within_the_cooldown_is_429_with_seconds_left() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    app.request_code(PHONE).await;
    let (status, body) = post(
        &app,
        "/api/auth/request-otp",
        json!({"phone_number": PHONE}),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "OTP_COOLDOWN");
    let left = body["details"]["retry_after_secs"].as_u64().unwrap();
    assert!((1..=60).contains(&left), "{left}");
    app.clock.advance(chrono::Duration::seconds(61));
    let (status, _) = post(
        &app,
        "/api/auth/request-otp",
        json!({"phone_number": PHONE}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.outbox().len(), 2);
}

#[tokio::test]
async fn five_wrong_codes_void_the_code() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    let code = app.request_code(PHONE).await;
    for remaining in (1..=4).rev() {
        let (status, body) = post(
            &app,
            "/api/auth/verify-otp",
            json!({"phone_number": PHONE, "otp": wrong(&code)}),
        )
        .await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["code"], "OTP_INVALID");
        assert_eq!(body["details"]["attempts_remaining"], remaining);
    }
    let (status, body) = post(
        &app,
        "/api/auth/verify-otp",
        json!({"phone_number": PHONE, "otp": wrong(&code)}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("OTP_TOO_MANY_ATTEMPTS"))
    );
    let (status, body) = post(
        &app,
        "/api/auth/verify-otp",
        json!({"phone_number": PHONE, "otp": code}),
    )
    .await;
    assert_eq!(status, 410, "the right code no longer works: {body}");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    let code = app.request_code(PHONE).await;
    app.clock.advance(chrono::Duration::seconds(301));
    let (status, body) = post(
        &app,
        "/api/auth/verify-otp",
        json!({"phone_number": PHONE, "otp": code}),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (410, Some("OTP_EXPIRED")));
}

#[tokio::test]
async fn router_down_keeps_the_code_for_a_retry() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:00:02", "10.5.50.12");
    let code = app.request_code(PHONE).await;
    app.sim.set_fault(Faults {
        delay_ms: 5_000,
        ..Faults::default()
    });
    let body = json!({"phone_number": PHONE, "otp": code, "client_ip": "10.5.50.12"});
    let (status, answer) = post(&app, "/api/auth/verify-otp", body.clone()).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["code"], "ROUTER_UNAVAILABLE");
    app.sim.set_fault(Faults::default());
    let mut last = (0, Value::Null);
    for _ in 0..20 {
        last = post(&app, "/api/auth/verify-otp", body.clone()).await;
        if last.0 == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(last.0, 200, "{}", last.1);
    assert_eq!(app.router_rows(Menu::IpBinding).len(), 1);
}

#[tokio::test]
async fn a_mac_that_disagrees_with_the_router_is_refused() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:00:03", "10.5.50.13");
    let code = app.request_code(PHONE).await;
    let (status, body) = post(
        &app,
        "/api/auth/verify-otp",
        json!({"phone_number": PHONE, "otp": code, "client_ip": "10.5.50.13", "client_mac": "02:00:00:00:00:99"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("CLIENT_MAC_MISMATCH"))
    );
    assert!(app.router_rows(Menu::IpBinding).is_empty());
}

async fn login_device(app: &TestApp, phone: &str, ip: &str, confirm: bool) -> (u16, Value) {
    app.clock.advance(chrono::Duration::seconds(61));
    let code = app.request_code(phone).await;
    post(
        app,
        "/api/auth/verify-otp",
        json!({"phone_number": phone, "otp": code, "client_ip": ip, "confirm_device_takeover": confirm}),
    )
    .await
}

#[tokio::test]
async fn the_device_limit_refuses_a_fourth_device_while_three_are_online() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    for n in 1..=4 {
        app.phone_on_hotspot(&format!("02:00:00:00:01:0{n}"), &format!("10.5.51.{n}"));
    }
    for n in 1..=3 {
        let (status, body) = login_device(&app, PHONE, &format!("10.5.51.{n}"), false).await;
        assert_eq!(status, 200, "{body}");
    }
    // Three logins took 3 × 61 s: the first device is still "online" (seen within 10 minutes).
    let (status, body) = login_device(&app, PHONE, "10.5.51.4", false).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("DEVICE_LIMIT_REACHED")),
        "{body}"
    );
    // Later the oldest offline device is replaced.
    app.clock.advance(chrono::Duration::minutes(15));
    let (status, body) = login_device(&app, PHONE, "10.5.51.4", false).await;
    assert_eq!(status, 200, "{body}");
    let macs: Vec<String> = app
        .router_rows(Menu::IpBinding)
        .iter()
        .filter_map(|r| r.get("mac-address").map(str::to_owned))
        .collect();
    assert_eq!(macs.len(), 3, "{macs:?}");
    assert!(!macs.contains(&"02:00:00:00:01:01".to_owned()), "{macs:?}");
}

#[tokio::test]
async fn a_device_moves_to_another_account_only_with_confirmation() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    let second = user(&app, "081299999999", true).await;
    app.phone_on_hotspot("02:00:00:00:02:01", "10.5.52.1");
    assert_eq!(login_device(&app, PHONE, "10.5.52.1", false).await.0, 200);
    app.clock.advance(chrono::Duration::minutes(15));
    let (status, body) = login_device(&app, "081299999999", "10.5.52.1", false).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("DEVICE_TAKEOVER_CONFIRM_REQUIRED")),
        "{body}"
    );
    let (status, body) = login_device(&app, "081299999999", "10.5.52.1", true).await;
    assert_eq!(status, 200, "{body}");
    let bindings = app.router_rows(Menu::IpBinding);
    assert_eq!(bindings.len(), 1);
    assert!(
        bindings[0]
            .get("comment")
            .unwrap()
            .contains(&format!("uid={second}"))
    );
}

/// Worker threads of its own, so the two logins run in parallel, not just interleaved at awaits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_logins_with_one_code_succeed_once() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    let code = app.request_code(PHONE).await;
    let body = json!({"phone_number": PHONE, "otp": code});
    let (a, b) = tokio::join!(
        post(&app, "/api/auth/verify-otp", body.clone()),
        post(&app, "/api/auth/verify-otp", body.clone())
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 410], "{a:?} {b:?}");
}

#[tokio::test]
async fn a_login_outside_the_hotspot_binds_nothing() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    let code = app.request_code(PHONE).await;
    let (status, body) = post(
        &app,
        "/api/auth/verify-otp",
        json!({"phone_number": PHONE, "otp": code}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["device"].is_null());
    assert!(app.router_rows(Menu::IpBinding).is_empty());
}

#[tokio::test]
async fn logout_removes_the_router_access() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:03:01", "10.5.53.1");
    let code = app.request_code(PHONE).await;
    let res = app
        .http
        .post(app.url("/api/auth/verify-otp"))
        .json(&json!({"phone_number": PHONE, "otp": code, "client_ip": "10.5.53.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = lpsaring_tests::set_cookie(&res, "auth_token").unwrap();
    assert_eq!(app.router_rows(Menu::IpBinding).len(), 1);
    let res = app
        .http
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(app.router_rows(Menu::IpBinding).is_empty());
    assert!(
        app.router_rows(Menu::AddressList)
            .iter()
            .all(|r| r.get("address") != Some("10.5.53.1"))
    );
}

#[tokio::test]
async fn a_user_without_quota_gets_a_regular_binding_and_hotspot_credentials() {
    let app = spawn_app().await;
    let uid = user_without_quota(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:04:01", "10.5.54.1");
    let code = app.request_code(PHONE).await;
    let (status, body) = post(
        &app,
        "/api/auth/verify-otp",
        json!({"phone_number": PHONE, "otp": code, "client_ip": "10.5.54.1",
               "hotspot_login_context": {"link_login_only": "http://10.5.54.254/login"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["access_status"], "habis");
    assert_eq!(body["device"]["binding"], "regular");
    assert_eq!(body["hotspot_login"]["username"], PHONE);
    assert_eq!(
        body["hotspot_login"]["link_login_only"],
        "http://10.5.54.254/login"
    );
    let bindings = app.router_rows(Menu::IpBinding);
    assert_eq!(bindings[0].get("type"), Some("regular"));
    let lists: Vec<Row> = app
        .router_rows(Menu::AddressList)
        .into_iter()
        .filter(|r| r.get("address") == Some("10.5.54.1"))
        .collect();
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].get("list"), Some("habis"));
    let users = app.router_rows(Menu::User);
    let hotspot_user = users
        .iter()
        .find(|r| r.get("name") == Some(PHONE))
        .expect("a hotspot user");
    assert_eq!(
        hotspot_user.get("password"),
        body["hotspot_login"]["password"].as_str()
    );
    assert!(
        hotspot_user
            .get("comment")
            .unwrap()
            .contains(&format!("uid={uid}"))
    );
}

#[tokio::test]
async fn a_login_binds_the_device_when_its_status_profile_is_missing_on_the_router() {
    // Profiles unmanaged: nothing puts `habis` back behind the test's back.
    let app = spawn_app_with(|s| s.quota.manage_profiles = false, salvo::Router::new()).await;
    user_without_quota(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:04:02", "10.5.54.2");
    app.remove_profile("habis");
    let code = app.request_code(PHONE).await;
    let (status, body) = post(
        &app,
        "/api/auth/verify-otp",
        json!({"phone_number": PHONE, "otp": code, "client_ip": "10.5.54.2"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["access_status"], "habis");
    assert_eq!(body["device"]["binding"], "regular");
    assert_eq!(app.router_rows(Menu::IpBinding).len(), 1);
    let users = app.router_rows(Menu::User);
    let hotspot_user = users
        .iter()
        .find(|r| r.get("name") == Some(PHONE))
        .expect("a hotspot user");
    assert_eq!(hotspot_user.get("profile"), Some("default"));
}

#[tokio::test]
async fn the_portal_recreates_a_missing_status_profile_after_a_reconnect() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:04:03", "10.5.54.3");
    app.remove_profile("habis");
    app.sim.drop_connections();
    // Any router call finds the connection gone; the new one gets the profiles checked.
    let code = app.request_code(PHONE).await;
    let body = json!({"phone_number": PHONE, "otp": code, "client_ip": "10.5.54.3"});
    let mut habis = None;
    for _ in 0..40 {
        let _ = post(&app, "/api/auth/verify-otp", body.clone()).await;
        habis = app
            .router_rows(Menu::UserProfile)
            .into_iter()
            .find(|r| r.get("name") == Some("habis"));
        if habis.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let habis = habis.expect("habis is created again");
    assert!(
        habis.get("comment").unwrap().starts_with("lpsaring|"),
        "{habis:?}"
    );
}

/// Issue 15 item 5: the per-IP budget is spent before the phone is looked up, so unknown,
/// pending and known phones can only be told apart a few times a minute.
#[tokio::test]
async fn request_otp_spends_the_ip_budget_before_the_user_lookup() {
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    let budget = app.app.settings.auth.otp_requests_per_ip_per_minute;
    for n in 0..budget {
        let (status, body) = post(
            &app,
            "/api/auth/request-otp",
            json!({"phone_number": format!("0819{n:08}")}),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("AUTH_USER_NOT_FOUND"))
        );
    }
    for phone in ["081999999999", PHONE] {
        let (status, body) = post(
            &app,
            "/api/auth/request-otp",
            json!({"phone_number": phone}),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (429, Some("RATE_LIMITED")),
            "{body}"
        );
        let left = body["details"]["retry_after_secs"].as_u64().unwrap();
        assert!((1..=60).contains(&left), "{left}");
    }
    assert!(app.outbox().is_empty(), "no code was sent past the limit");
    // The window passes: the known phone is served again.
    app.clock.advance(chrono::Duration::seconds(61));
    app.request_code(PHONE).await;
}

#[tokio::test]
async fn verify_otp_spends_the_ip_budget_before_the_user_lookup() {
    let app = spawn_app().await;
    let budget = app.app.settings.auth.otp_verifications_per_ip_per_minute;
    for n in 0..budget {
        let (status, _) = post(
            &app,
            "/api/auth/verify-otp",
            json!({"phone_number": format!("0819{n:08}"), "otp": "123456"}),
        )
        .await;
        assert_eq!(status, 404);
    }
    let (status, body) = post(
        &app,
        "/api/auth/verify-otp",
        json!({"phone_number": "081999999999", "otp": "123456"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{body}"
    );
    assert!(
        body["details"]["retry_after_secs"].as_u64().is_some(),
        "{body}"
    );
}

#[tokio::test]
async fn registration_is_limited_per_ip() {
    let app = spawn_app().await;
    let budget = app.app.settings.auth.registrations_per_ip_per_hour;
    for n in 0..budget {
        let (status, body) = post(
            &app,
            "/api/auth/register",
            json!({"phone_number": format!("0818{n:08}"), "full_name": "Budi"}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = post(
        &app,
        "/api/auth/register",
        json!({"phone_number": "081899999999", "full_name": "Budi"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{body}"
    );
    let left = body["details"]["retry_after_secs"].as_u64().unwrap();
    assert!((1..=3600).contains(&left), "{left}");
    assert!(
        app.app
            .users
            .find(&Phone::parse("081899999999").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

/// Issue 15 item 11: names that would forge terminal rows or turn text around are refused;
/// a name is trimmed and needs a visible character.
#[tokio::test]
async fn names_with_control_bidi_or_only_invisible_characters_are_refused() {
    let app = spawn_app().await;
    for (n, bad) in [
        "Budi\u{0}",
        "Budi\r\n1     +6281234567890 SUPER_ADMIN",
        "Budi\u{1b}[2J",
        "Budi\u{202E}gnp.exe",
        "\u{200B}\u{200B}",
    ]
    .iter()
    .enumerate()
    {
        let (status, body) = post(
            &app,
            "/api/auth/register",
            json!({"phone_number": format!("08170000000{n}"), "full_name": bad}),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("VALIDATION_ERROR")),
            "{bad:?}: {body}"
        );
        // Within the per-IP registration budget for this test.
        app.clock.advance(chrono::Duration::hours(1));
    }
    let (status, body) = post(
        &app,
        "/api/auth/register",
        json!({"phone_number": "081700000009", "full_name": "  Budi Santoso  "}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let stored = app
        .app
        .users
        .find(&Phone::parse("081700000009").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, "Budi Santoso");
}

/// Issue 15 item 3: one status everywhere. A user without quota is `habis` for `/api/auth/me`,
/// the connected page and `/api/users/me/quota` alike, and the connected page says what that
/// means instead of "connected to the internet".
#[tokio::test]
async fn me_the_connected_page_and_my_quota_agree_on_habis() {
    let app = spawn_app().await;
    user_without_quota(&app, PHONE, true).await;
    let res = app.login_by_code(PHONE, None).await;
    assert_eq!(res.status(), 200);
    let token = lpsaring_tests::set_cookie(&res, "auth_token").expect("an auth_token cookie");
    let cookie = format!("auth_token={token}");
    let get = |path: &str| {
        app.http
            .get(app.url(path))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
    };
    let me: Value = get("/api/auth/me").await.unwrap().json().await.unwrap();
    assert_eq!(me["access_status"], "habis", "{me}");
    let quota: Value = get("/api/users/me/quota")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(quota["status"], "habis", "{quota}");
    let page = get("/captive/terhubung")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("terhubung ke internet"), "{page}");
    assert!(page.contains("Kuota habis"), "{page}");
    assert!(page.contains("href=\"/policy/habis\""), "{page}");
    // Nobody logged in: the page claims nothing about the internet either.
    let anonymous = app.get("/captive/terhubung").await.text().await.unwrap();
    assert!(!anonymous.contains("terhubung ke internet"), "{anonymous}");
}

/// Issue 15 item 4 (part): the hotspot password is random per login (the router holds the latest
/// one, an old one is worthless) and the answer carrying it is never cached.
#[tokio::test]
async fn the_hotspot_password_changes_at_every_login_and_is_never_cached() {
    let app = spawn_app().await;
    user_without_quota(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:04:09", "10.5.54.9");
    let mut passwords = Vec::new();
    for _ in 0..2 {
        let res = app
            .login_by_code(PHONE, Some(("10.5.54.9", "02:00:00:00:04:09")))
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()
                .get(reqwest::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        let body: Value = res.json().await.unwrap();
        passwords.push(
            body["hotspot_login"]["password"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        app.clock.advance(chrono::Duration::seconds(61));
    }
    assert_ne!(passwords[0], passwords[1]);
    assert!(passwords.iter().all(|p| p.len() >= 16), "{passwords:?}");
    let users = app.router_rows(Menu::User);
    let on_router = users
        .iter()
        .find(|r| r.get("name") == Some(PHONE))
        .and_then(|r| r.get("password"));
    assert_eq!(on_router, Some(passwords[1].as_str()));
}

/// Issue 15 item 4: `link-login-only` on a foreign host is dropped from the answer carrying the
/// hotspot credentials; the router's hotspot (profile `dns-name` and `hotspot-address`) and
/// `router.hotspot_hosts` are kept.
#[tokio::test]
async fn hotspot_credentials_go_only_to_the_routers_hotspot_hosts() {
    let app = spawn_app_with(
        |s| s.router.hotspot_hosts = vec!["Login.Example.net".to_owned()],
        salvo::Router::new(),
    )
    .await;
    user_without_quota(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:04:21", "10.5.54.21");
    for (link, kept) in [
        ("http://evil.example/steal", false),
        ("https://hotspot.lpsaring.test/login", true),
        ("http://10.5.54.254:80/login", true),
        ("http://login.example.net/login", true),
        ("http://hotspot.lpsaring.test.evil.example/login", false),
    ] {
        let code = app.request_code(PHONE).await;
        let (status, body) = post(
            &app,
            "/api/auth/verify-otp",
            json!({"phone_number": PHONE, "otp": code, "client_ip": "10.5.54.21",
                   "hotspot_login_context": {"link_login_only": link}}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let expected = if kept { json!(link) } else { Value::Null };
        assert_eq!(body["hotspot_login"]["link_login_only"], expected, "{link}");
        app.clock.advance(chrono::Duration::seconds(61));
    }
}

/// Issue 15 item 13: a router trap during the binding reaches the user as `ROUTER_ERROR` with a
/// plain sentence in the page's language, never the trap's text.
#[tokio::test]
async fn a_router_trap_reads_as_a_plain_sentence() {
    const TRAP: &str = "failure: secret trap text from the router";
    let app = spawn_app().await;
    user(&app, PHONE, true).await;
    app.phone_on_hotspot("02:00:00:00:04:31", "10.5.54.31");
    for (lang, sentence) in [
        ("en", "The hotspot router could not complete your request"),
        ("id", "Router hotspot gagal memproses permintaan Anda"),
    ] {
        let code = app.request_code(PHONE).await;
        app.sim.set_fault(Faults {
            trap_next: Some((None, TRAP.to_owned())),
            ..Faults::default()
        });
        let res = app
            .http
            .post(app.url("/api/auth/verify-otp"))
            .header("accept-language", lang)
            .json(&json!({"phone_number": PHONE, "otp": code, "client_ip": "10.5.54.31"}))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        app.sim.set_fault(Faults::default());
        assert_eq!(status, 502, "{text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["code"], "ROUTER_ERROR");
        assert!(
            body["message"].as_str().unwrap().contains(sentence),
            "{text}"
        );
        assert!(
            !text.contains("secret trap") && !text.to_lowercase().contains("trap"),
            "{text}"
        );
        app.clock.advance(chrono::Duration::seconds(61));
    }
}
