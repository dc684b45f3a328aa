//! Quota over HTTP on the whole app (issue 7): a logged-in user's `GET /api/users/me/quota` after
//! traffic in the simulator and an admin-triggered `POST /api/admin/sync`, the role guards on the
//! trigger, zero router writes on a steady second run, and the operator CLI (`quota grant|show`,
//! `sync once`) beside the running service against the same database.

use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Phone, UserId};
use lpsaring_quota::api::{Grant, GrantSource};
use lpsaring_routeros_sim::{Menu, NewHost};
use lpsaring_tests::{TestApp, spawn_app_with};
use serde_json::{Value, json};

const PHONE: &str = "081234567001";
const ADMIN_PHONE: &str = "081234567009";
const MAC: &str = "02:00:00:00:07:01";
const IP: &str = "10.5.57.1";
const GIB: i64 = 1 << 30;

/// The app with the periodic sync effectively off (its first tick runs at start, before any
/// traffic), so every counted byte comes from a run the test triggers.
async fn app() -> TestApp {
    spawn_app_with(|s| s.quota.sync_interval_secs = 3_600, salvo::Router::new()).await
}

pub(crate) async fn user_with_quota(app: &TestApp, phone: &str, bytes: i64) -> i64 {
    let phone = Phone::parse(phone).unwrap();
    let id = app
        .app
        .users
        .create(&phone, "Budi", true, Role::User)
        .await
        .unwrap()
        .id;
    if bytes > 0 {
        app.app
            .quota
            .grant(&Grant {
                user: id,
                bytes,
                validity_hours: 30 * 24,
                mode: Default::default(),
                profile: None,
                unlimited: false,
                source: GrantSource::Admin,
                idempotency_key: format!("test:{}", id.0),
                actor: "test".to_owned(),
                note: None,
            })
            .await
            .unwrap();
    }
    id.0
}

/// Logs `phone` in from the hotspot device (`MAC`, `IP`) and returns its access token.
pub(crate) async fn login_on_hotspot(app: &TestApp, phone: &str) -> String {
    app.phone_on_hotspot(MAC, IP);
    login_from_device(app, phone, false).await
}

/// Logs `phone` in from the device already on the hotspot (`MAC`, `IP`), confirming a takeover
/// when asked to, and returns its access token.
async fn login_from_device(app: &TestApp, phone: &str, confirm_takeover: bool) -> String {
    let code = app.request_code(phone).await;
    let res = app
        .http
        .post(app.url("/api/auth/verify-otp"))
        .json(&json!({
            "phone_number": phone, "otp": code, "client_ip": IP, "client_mac": MAC,
            "confirm_device_takeover": confirm_takeover,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = lpsaring_tests::set_cookie(&res, "auth_token").expect("an auth_token cookie");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["access_status"], "ok", "{body}");
    token
}

/// An admin's bearer token (a session issued directly, as the admin login would).
pub(crate) async fn admin_token(app: &TestApp) -> String {
    app.bearer_session(ADMIN_PHONE, "Operator", Role::Admin)
        .await
        .1
}

pub(crate) async fn send(req: reqwest::RequestBuilder, token: Option<&str>) -> (u16, Value) {
    let req = match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    };
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn admin_sync(app: &TestApp, token: Option<&str>) -> (u16, Value) {
    send(app.http.post(app.url("/api/admin/sync")), token).await
}

async fn my_quota(app: &TestApp, token: Option<&str>) -> (u16, Value) {
    send(app.http.get(app.url("/api/users/me/quota")), token).await
}

pub(crate) fn assert_envelope(body: &Value, status: u16) {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["status_code"], status, "{body}");
    assert!(
        body["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    assert!(body["request_id"].as_str().is_some(), "{body}");
}

#[tokio::test]
async fn a_users_quota_counts_router_traffic_exactly_after_an_admin_sync() {
    let app = app().await;
    let uid = user_with_quota(&app, PHONE, 5 * GIB).await;
    let token = login_on_hotspot(&app, PHONE).await;
    let admin = admin_token(&app).await;

    // The trigger is for admins only, with precise answers in the error envelope.
    let (status, body) = admin_sync(&app, None).await;
    assert_eq!(status, 401, "{body}");
    assert_envelope(&body, 401);
    let (status, body) = admin_sync(&app, Some(&token)).await;
    assert_eq!(status, 403, "{body}");
    assert_envelope(&body, 403);
    assert_eq!(body["code"], "AUTH_ADMIN_REQUIRED");
    let (status, body) = my_quota(&app, None).await;
    assert_eq!(status, 401, "{body}");
    assert_envelope(&body, 401);

    // A first run takes the device's baseline (its counters start at zero).
    let (status, first) = admin_sync(&app, Some(&admin)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["bytes_counted"], 0, "{first}");

    // Traffic on the router, in odd amounts, then a run counts exactly that.
    let (down, up) = (123_456_789_u64, 987_654_321_u64);
    assert!(app.sim.with_state(|s| s.add_traffic(MAC, down, up, 30)));
    let (status, run) = admin_sync(&app, Some(&admin)).await;
    assert_eq!(status, 200, "{run}");
    let counted = i64::try_from(down + up).unwrap();
    assert_eq!(run["bytes_counted"], counted, "{run}");
    assert_eq!(run["hosts_seen"], 1, "{run}");
    assert_eq!(run["devices_matched"], 1, "{run}");
    assert_eq!(run["unknown_macs"], 0, "{run}");
    assert_eq!(run["users_charged"], 1, "{run}");
    assert_eq!(run["router_errors"], 0, "{run}");
    assert!(
        run["run_id"].as_str().is_some_and(|r| !r.is_empty()),
        "{run}"
    );

    // Nothing changed since: a second run counts nothing and writes nothing to the router.
    let writes_before = app.sim.stats().writes;
    let (status, again) = admin_sync(&app, Some(&admin)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["bytes_counted"], 0, "{again}");
    assert_eq!(again["router_writes"], 0, "{again}");
    assert_eq!(
        app.sim.stats().writes,
        writes_before,
        "a steady run must not write to the router"
    );

    // The user's view: bytes exact, status, and 30 local days with today's usage last.
    let (status, view) = my_quota(&app, Some(&token)).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["user_id"], uid, "{view}");
    assert_eq!(view["purchased_bytes"], 5 * GIB, "{view}");
    assert_eq!(view["used_bytes"], counted, "{view}");
    assert_eq!(view["remaining_bytes"], 5 * GIB - counted, "{view}");
    assert_eq!(view["unlimited"], false, "{view}");
    assert_eq!(view["status"], "ok", "{view}");
    assert!(view["expires_at"].as_str().is_some(), "{view}");
    let daily = view["daily"].as_array().expect("daily usage");
    assert_eq!(daily.len(), 30, "{view}");
    let today = lpsaring_kernel::Clock::now(app.clock.as_ref())
        .with_timezone(&app.app.settings.tz())
        .date_naive()
        .to_string();
    assert_eq!(daily[29]["day"], today.as_str(), "{view}");
    assert_eq!(daily[29]["bytes"], counted, "{view}");
    let days: Vec<&str> = daily.iter().filter_map(|d| d["day"].as_str()).collect();
    assert!(
        days.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {days:?}"
    );
    let total: i64 = daily.iter().filter_map(|d| d["bytes"].as_i64()).sum();
    assert_eq!(total, counted, "{view}");
    assert_eq!(
        app.app.quota.show(UserId(uid)).await.unwrap().used_bytes,
        counted
    );
}

#[tokio::test]
async fn running_out_moves_the_device_to_habis_on_the_router() {
    let app = app().await;
    user_with_quota(&app, PHONE, 1_000_000).await;
    let token = login_on_hotspot(&app, PHONE).await;
    let admin = admin_token(&app).await;
    let (status, _) = admin_sync(&app, Some(&admin)).await;
    assert_eq!(status, 200);
    assert!(
        app.sim
            .with_state(|s| s.add_traffic(MAC, 600_000, 400_001, 30))
    );
    let (status, run) = admin_sync(&app, Some(&admin)).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["bytes_counted"], 1_000_001, "{run}");
    assert!(run["router_writes"].as_u64().unwrap() > 0, "{run}");
    let (_, view) = my_quota(&app, Some(&token)).await;
    assert_eq!(view["status"], "habis", "{view}");
    assert_eq!(view["remaining_bytes"], 0, "{view}");
    assert_eq!(view["used_bytes"], 1_000_001, "{view}");
    let lists: Vec<String> = app.sim.with_state(|s| {
        s.rows(Menu::AddressList)
            .into_iter()
            .filter(|r| r.get("address") == Some(IP))
            .filter_map(|r| r.get("list").map(str::to_owned))
            .collect()
    });
    assert_eq!(lists, vec!["habis".to_owned()]);
    let bindings = app.sim.with_state(|s| s.rows(Menu::IpBinding));
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].get("type"), Some("regular"));
    // And it stays put: the next run writes nothing.
    let writes_before = app.sim.stats().writes;
    let (_, again) = admin_sync(&app, Some(&admin)).await;
    assert_eq!(again["router_writes"], 0, "{again}");
    assert_eq!(app.sim.stats().writes, writes_before);
}

#[tokio::test]
async fn quota_grant_and_show_work_beside_the_running_service() {
    let app = app().await;
    let uid = user_with_quota(&app, PHONE, 0).await;
    let granted = 7 * GIB + 12_345;
    let bytes = granted.to_string();
    let out = app
        .run_cli(&["quota", "grant", PHONE, "--bytes", &bytes, "--days", "7"])
        .await;
    assert!(
        out.status.success(),
        "grant failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = app.run_cli(&["quota", "show", PHONE]).await;
    assert!(
        out.status.success(),
        "show failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one JSON object on one line: {stdout}");
    let shown: Value = serde_json::from_str(lines[0]).unwrap();
    assert!(shown.is_object(), "{shown}");
    assert_eq!(shown["purchased_bytes"], granted, "{shown}");
    assert_eq!(shown["used_bytes"], 0, "{shown}");
    assert_eq!(shown["remaining_bytes"], granted, "{shown}");
    assert_eq!(shown["unlimited"], false, "{shown}");
    assert_eq!(shown["status"], "ok", "{shown}");
    let expires = shown["expires_at"]
        .as_str()
        .expect("expires_at set by --days");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    let in_days = (expires.with_timezone(&chrono::Utc)
        - lpsaring_kernel::Clock::now(&lpsaring_kernel::SystemClock))
    .num_hours();
    assert!((7 * 24 - 2..=7 * 24 + 1).contains(&in_days), "{shown}");

    // The running service reads the same database.
    let summary = app.app.quota.show(UserId(uid)).await.unwrap();
    assert_eq!(summary.purchased_bytes, granted);

    // A second grant adds up; an unknown phone is a clear failure.
    let out = app
        .run_cli(&["quota", "grant", PHONE, "--bytes", "1000"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = app.run_cli(&["quota", "show", PHONE]).await;
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["purchased_bytes"], granted + 1000, "{shown}");
    let out = app.run_cli(&["quota", "show", "081299999999"]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no user"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn sync_once_while_the_service_runs_points_to_the_http_trigger() {
    let app = app().await;
    let out = app.run_cli(&["sync", "once"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "must fail while the service runs: {stderr}"
    );
    assert!(stderr.contains("POST /api/admin/sync"), "{stderr}");
    // The service is unaffected and still syncs on request.
    let admin = admin_token(&app).await;
    let (status, run) = admin_sync(&app, Some(&admin)).await;
    assert_eq!(status, 200, "{run}");
}

/// Issue 15 item 1: the router's counters before a login are not the user's. A phone whose
/// host entry already counted 5.3 GB logs in; only the bytes after the login are charged. The
/// same holds for a device taken over from another user and for one registered again after it
/// was removed (its bytes while removed belong to nobody).
#[tokio::test]
async fn only_bytes_after_the_login_are_charged() {
    let app = app().await;
    let first = user_with_quota(&app, PHONE, 10 * GIB).await;
    let second = user_with_quota(&app, "081234567002", 10 * GIB).await;
    let used = |user: i64| {
        let quota = app.app.quota.clone();
        async move { quota.show(UserId(user)).await.unwrap().used_bytes }
    };
    let traffic = |bytes: u64| {
        assert!(
            app.sim
                .with_state(|s| s.add_traffic(MAC, bytes / 3, bytes - bytes / 3, 30))
        );
    };
    let sync = || async { app.app.quota.sync_once().await.unwrap() };
    // Past the OTP cooldown and the previous owner's online window.
    let later = || app.clock.advance(chrono::Duration::minutes(15));

    app.sim
        .add_host(&NewHost {
            mac: MAC.to_owned(),
            address: IP.to_owned(),
            bytes_in: 1_300_000_000,
            bytes_out: 4_000_000_000,
            uptime_secs: 86_400,
            server: Some("hotspot1".to_owned()),
            with_lease: true,
        })
        .unwrap();
    // A run while nobody owns the device charges nobody and keeps no baseline for it.
    sync().await;
    login_from_device(&app, PHONE, false).await;
    traffic(7_654_321);
    let run = sync().await;
    assert_eq!(run.bytes_counted, 7_654_321, "{run:?}");
    assert_eq!(used(first).await, 7_654_321);

    // Taken over by another user: the new owner pays only from the takeover on.
    traffic(1_000);
    sync().await;
    later();
    traffic(2_000_000);
    login_from_device(&app, "081234567002", true).await;
    traffic(333_333);
    sync().await;
    assert_eq!(used(first).await, 7_654_321 + 1_000);
    assert_eq!(used(second).await, 333_333);

    // Removed, used while nobody owned it, registered again: only the bytes after that login.
    app.app
        .devices
        .remove(UserId(second), MAC.parse().unwrap())
        .await
        .unwrap();
    traffic(4_000_000);
    later();
    login_from_device(&app, "081234567002", false).await;
    traffic(55_555);
    sync().await;
    assert_eq!(used(second).await, 333_333 + 55_555);
    assert_eq!(used(first).await, 7_654_321 + 1_000);
}
