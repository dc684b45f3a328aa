//! What a sync puts on the router for the statuses the quota tests do not reach by traffic:
//! blocked, inactive and unlimited users, each with a device logged in behind the hotspot; and
//! `history_retention_days = 0` keeping every run.

use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Phone, UserId};
use lpsaring_quota::api::{Grant, GrantSource};
use lpsaring_routeros_sim::Menu;
use lpsaring_tests::{TestApp, count_rows, spawn_app_with};
use sea_orm::ConnectionTrait;
use serde_json::Value;

/// The app with the periodic sync effectively off: every run is one the test starts.
async fn app(configure: impl FnOnce(&mut lpsaring::Settings)) -> TestApp {
    spawn_app_with(
        |s| {
            s.quota.sync_interval_secs = 3_600;
            configure(s);
        },
        salvo::Router::new(),
    )
    .await
}

async fn grant(app: &TestApp, user: i64, unlimited: bool, key: &str) {
    app.app
        .quota
        .grant(&Grant {
            user: UserId(user),
            bytes: 5 << 30,
            validity_hours: 30 * 24,
            mode: Default::default(),
            profile: None,
            unlimited,
            source: GrantSource::Admin,
            idempotency_key: key.to_owned(),
            actor: "test".to_owned(),
            note: None,
        })
        .await
        .unwrap();
}

/// An approved user with quota, logged in from `mac` at `ip` on the hotspot. Returns the id.
async fn online_user(app: &TestApp, phone: &str, mac: &str, ip: &str) -> i64 {
    let id = app
        .app
        .users
        .create(&Phone::parse(phone).unwrap(), "Budi", true, Role::User)
        .await
        .unwrap()
        .id
        .0;
    grant(app, id, false, &format!("test:{id}")).await;
    app.phone_on_hotspot(mac, ip);
    let res = app.login_by_code(phone, Some((ip, mac))).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["access_status"], "ok", "{body}");
    id
}

/// `(binding type, status lists)` the router holds for one device.
fn router_state(app: &TestApp, mac: &str, ip: &str) -> (Vec<String>, Vec<String>) {
    let bindings = app
        .router_rows(Menu::IpBinding)
        .into_iter()
        .filter(|r| r.get("mac-address") == Some(mac))
        .filter_map(|r| r.get("type").map(str::to_owned))
        .collect();
    let lists = app
        .router_rows(Menu::AddressList)
        .into_iter()
        .filter(|r| r.get("address") == Some(ip))
        .filter_map(|r| r.get("list").map(str::to_owned))
        .collect();
    (bindings, lists)
}

#[tokio::test]
async fn a_sync_puts_blocked_inactive_and_unlimited_users_where_their_status_says() {
    let app = app(|_| {}).await;
    let devices = [
        ("081255500001", "02:00:00:00:55:01", "10.5.55.1"),
        ("081255500002", "02:00:00:00:55:02", "10.5.55.2"),
        ("081255500003", "02:00:00:00:55:03", "10.5.55.3"),
    ];
    let mut ids = Vec::new();
    for (phone, mac, ip) in devices {
        ids.push(online_user(&app, phone, mac, ip).await);
    }
    app.app.quota.sync_once().await.unwrap();
    for (_, mac, ip) in devices {
        let (bindings, lists) = router_state(&app, mac, ip);
        assert_eq!(
            (bindings, lists),
            (vec!["bypassed".into()], vec!["active".into()])
        );
    }

    // The operator blocks one, deactivates one (no service call does that yet: the column is
    // the account's own switch) and makes one unlimited.
    app.app
        .users
        .block(&Phone::parse(devices[0].0).unwrap(), "abuse")
        .await
        .unwrap();
    let db = &app.app.db;
    db.execute_unprepared(&format!(
        "UPDATE users SET is_active = false WHERE id = {}",
        ids[1]
    ))
    .await
    .unwrap();
    grant(&app, ids[2], true, "test:unlimited").await;

    let run = app.app.quota.sync_once().await.unwrap();
    assert_eq!(run.router_errors, 0, "{run:?}");
    let expect = [
        ("blocked", "blocked"),
        ("regular", "inactive"),
        ("bypassed", "active"),
    ];
    for ((_, mac, ip), (binding, list)) in devices.iter().zip(expect) {
        let (bindings, lists) = router_state(&app, mac, ip);
        assert_eq!(bindings, vec![binding.to_owned()], "{mac}");
        assert_eq!(
            lists,
            vec![list.to_owned()],
            "{ip}: exactly one status list"
        );
    }
    let shown = app.app.quota.show(UserId(ids[2])).await.unwrap();
    assert_eq!(shown.status.as_str(), "unlimited");

    // Settled: the next run writes nothing.
    let again = app.app.quota.sync_once().await.unwrap();
    assert_eq!(again.router_writes, 0, "{again:?}");
}

#[tokio::test]
async fn history_retention_of_zero_days_keeps_every_run() {
    let app = app(|s| s.quota.history_retention_days = 0).await;
    online_user(&app, "081255500009", "02:00:00:00:55:09", "10.5.55.9").await;
    for _ in 0..3 {
        app.app.quota.sync_once().await.unwrap();
    }
    let runs = count_rows(&app.app.db, "sync_runs").await;
    assert!(runs >= 3, "{runs}");
    // Long past any retention a non-zero setting could mean.
    app.clock.advance(chrono::Duration::days(4_000));
    assert_eq!(app.app.quota.purge_history().await.unwrap(), (0, 0));
    assert_eq!(count_rows(&app.app.db, "sync_runs").await, runs);
}
