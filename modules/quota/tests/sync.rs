//! The quota service against real parts: in-memory SQLite (or a fresh Postgres database when
//! `LPSARING_TEST_POSTGRES_URL` is set) with the real migrations, the redb state store on a temp
//! file, and the RouterOS simulator over TCP through the real client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::Ipv4Addr;
use std::sync::Arc;

use lpsaring_devices::Takeover;
use lpsaring_kernel::outbox;
use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::router::{HotspotUserSpec, OwnedComment};
use lpsaring_kernel::testing::TestDatabase;
use lpsaring_kernel::{FakeClock, Mac, UserId};
use lpsaring_quota::api::{AccessStatus, Grant, GrantSource};
use lpsaring_quota::settings::GIB;
use lpsaring_quota::{QuotaError, QuotaSettings, Service};
use lpsaring_routeros::RouterOsClient;
use lpsaring_routeros_sim::{Faults, Menu, NewHost, SimConfig, SimHandle, Simulator};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tempfile::TempDir;

struct World {
    sim: SimHandle,
    svc: Arc<Service>,
    devices: Arc<lpsaring_devices::Service>,
    users: Arc<support::TestUsers>,
    db: DatabaseConnection,
    clock: Arc<FakeClock>,
    _dir: TempDir,
    /// Dropping it drops a Postgres test database.
    _database: TestDatabase,
}

fn mac(n: u8) -> Mac {
    Mac([0x02, 0xAA, 0, 0, 0, n])
}

fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 5, 0, n)
}

async fn world(settings: QuotaSettings) -> World {
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (database, db, clock, (svc, devices, users)) =
        support::fresh(dir.path(), &sim.addr().to_string(), settings).await;
    World {
        sim,
        svc,
        devices,
        users,
        db,
        clock,
        _dir: dir,
        _database: database,
    }
}

impl World {
    /// A user with a device `n` on the network (host with `bytes` already counted by the router).
    async fn user_with_device(&self, user: i64, n: u8, bytes: u64) {
        if self.svc.show(UserId(user)).await.is_err() {
            self.users.add(&self.db, user).await;
        }
        self.devices
            .register_for_login(UserId(user), mac(n), Some(ip(n)), Takeover::default())
            .await
            .unwrap();
        self.host(n, bytes);
    }

    fn host(&self, n: u8, bytes: u64) {
        self.sim
            .add_host(&NewHost {
                mac: mac(n).to_string(),
                address: ip(n).to_string(),
                bytes_in: bytes / 4,
                bytes_out: bytes - bytes / 4,
                uptime_secs: 60,
                ..NewHost::default()
            })
            .unwrap();
    }

    fn traffic(&self, n: u8, bytes: u64) {
        assert!(self.sim.with_state(|s| s.add_traffic(
            &mac(n).to_string(),
            bytes / 2,
            bytes - bytes / 2,
            30
        )));
    }

    async fn grant(&self, user: i64, bytes: i64, days: i64, key: &str) -> bool {
        self.svc
            .grant(&Grant {
                user: UserId(user),
                bytes,
                validity_hours: days * 24,
                mode: Default::default(),
                profile: None,
                unlimited: false,
                source: GrantSource::Admin,
                idempotency_key: key.into(),
                actor: "test".into(),
                note: None,
            })
            .await
            .unwrap()
            .applied
    }

    async fn used(&self, user: i64) -> i64 {
        self.svc.show(UserId(user)).await.unwrap().used_bytes
    }

    /// (binding type, status lists) the router shows for device `n`.
    fn router_rows(&self, n: u8) -> (Option<String>, Vec<String>) {
        self.sim.with_state(|s| {
            let binding = s
                .rows(Menu::IpBinding)
                .into_iter()
                .find(|r| r.get("mac-address") == Some(mac(n).to_string().as_str()))
                .and_then(|r| r.get("type").map(str::to_owned));
            let lists = s
                .rows(Menu::AddressList)
                .into_iter()
                .filter(|r| r.get("address") == Some(ip(n).to_string().as_str()))
                .filter_map(|r| r.get("list").map(str::to_owned))
                .collect();
            (binding, lists)
        })
    }
}

#[tokio::test]
async fn traffic_is_counted_exactly_and_a_steady_run_writes_nothing() {
    let w = world(QuotaSettings::default()).await;
    w.user_with_device(1, 1, 1_000).await;
    w.user_with_device(1, 2, 500).await;
    w.user_with_device(2, 3, 7).await;
    assert!(w.grant(1, 10 * GIB, 30, "g1").await);
    assert!(w.grant(2, 10 * GIB, 30, "g2").await);

    // First sight counts from zero: everything the router counted so far.
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!(s.bytes_counted, 1_507);
    assert_eq!((s.hosts_seen, s.devices_matched, s.unknown_macs), (3, 3, 0));
    assert_eq!(w.used(1).await, 1_500);
    assert_eq!(w.used(2).await, 7);
    assert!(s.router_writes > 0, "bindings and lists created");
    assert_eq!(s.router_errors, 0, "{s:?}");
    assert_eq!(
        w.router_rows(1),
        (Some("bypassed".into()), vec!["active".into()])
    );

    w.traffic(1, 123_456);
    w.traffic(3, 1);
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!(s.bytes_counted, 123_457);
    assert_eq!(w.used(1).await, 1_500 + 123_456);
    assert_eq!(w.used(2).await, 8);
    assert_eq!(s.router_writes, 0);

    // Nothing moved: nothing counted, nothing written (the simulator counts write commands).
    w.sim.reset_stats();
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!((s.bytes_counted, s.router_writes), (0, 0));
    assert_eq!(w.sim.stats().writes, 0, "{:?}", w.sim.stats());
    assert_eq!(
        w.sim.stats().count("/ip/hotspot/host/print"),
        1,
        "one hosts snapshot per run"
    );

    // Daily usage on the local day, ledger rows per charged user per run.
    let view = w.svc.view(UserId(1)).await.unwrap();
    assert_eq!(view.daily.len(), 30);
    assert_eq!(view.daily.last().unwrap().bytes, 1_500 + 123_456);
    assert_eq!(
        view.daily.iter().map(|d| d.bytes).sum::<i64>(),
        1_500 + 123_456
    );
    let ledger =
        w.db.query_one_raw(sea_orm::Statement::from_string(
            w.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM quota_ledger WHERE source = 'sync'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ledger.try_get::<i64>("", "n").unwrap(), 4);
}

#[tokio::test]
async fn counter_reset_recreation_reboot_and_unknown_macs() {
    let w = world(QuotaSettings::default()).await;
    w.user_with_device(1, 1, 100).await;
    w.user_with_device(1, 2, 200).await;
    w.grant(1, 10 * GIB, 30, "g").await;
    w.host(9, 5_000); // nobody's device
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!((s.bytes_counted, s.unknown_macs), (300, 1));

    // Host entry recreated (timeout): new .id, counters from zero; its new bytes count in full.
    w.sim
        .with_state(|s| s.recreate_host(&mac(1).to_string()))
        .unwrap();
    w.traffic(1, 40);
    w.traffic(2, 2);
    w.traffic(9, 1_000_000);
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!(s.recreated_hosts, 1);
    assert_eq!(s.bytes_counted, 42);
    assert_eq!(w.used(1).await, 342);

    // Router reboot: every host back with new ids and zero counters.
    w.sim.with_state(|s| s.reboot());
    w.traffic(1, 10);
    w.traffic(2, 20);
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!(s.recreated_hosts, 2);
    assert_eq!(s.bytes_counted, 30);
    assert_eq!(w.used(1).await, 372);

    // Steady again.
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!((s.bytes_counted, s.recreated_hosts), (0, 0));
}

#[tokio::test]
async fn fup_then_habis_then_a_purchase_moves_the_router_rows() {
    let w = world(QuotaSettings::default()).await;
    w.user_with_device(1, 1, 0).await;
    let router = RouterOsClient::start(support::router_settings(&w.sim.addr().to_string()));
    router
        .upsert_hotspot_user(&HotspotUserSpec {
            name: "081100000001".into(),
            password: "123456".into(),
            profile: "default".into(),
            limit_bytes_total: None,
            limit_uptime_secs: None,
            comment: OwnedComment::for_user(UserId(1)),
        })
        .await
        .unwrap();
    for profile in ["fup", "habis", "expired", "inactive", "unlimited"] {
        w.sim.with_state(|s| {
            s.execute(&lpsaring_routeros_sim::request(
                "/ip/hotspot/user/profile/add",
                &[("name", profile)],
            ))
        });
    }
    w.grant(1, 4 * GIB, 30, "order-1").await;
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!(s.router_errors, 0, "{s:?}");
    assert_eq!(
        w.svc.show(UserId(1)).await.unwrap().status,
        AccessStatus::Ok
    );
    assert_eq!(
        w.router_rows(1),
        (Some("bypassed".into()), vec!["active".into()])
    );
    let profile = || {
        w.sim.with_state(|s| {
            s.rows(Menu::User)
                .into_iter()
                .find_map(|r| r.get("profile").map(str::to_owned))
        })
    };
    assert_eq!(profile().as_deref(), Some("default"));

    // 1.5 GiB used: 2.5 GiB left ≤ 3 GiB threshold ⇒ fup (still bypassed, fup list).
    w.traffic(1, (3 * GIB / 2) as u64);
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!(s.router_errors, 0, "{s:?}");
    assert_eq!(
        w.svc.show(UserId(1)).await.unwrap().status,
        AccessStatus::Fup
    );
    assert_eq!(
        w.router_rows(1),
        (Some("bypassed".into()), vec!["fup".into()])
    );
    assert_eq!(profile().as_deref(), Some("fup"));

    // Everything used ⇒ habis: regular binding (hotspot login page), habis list.
    w.traffic(1, (3 * GIB) as u64);
    w.svc.sync_once().await.unwrap();
    let summary = w.svc.show(UserId(1)).await.unwrap();
    assert_eq!(summary.status, AccessStatus::Habis);
    assert_eq!(summary.remaining_bytes, 0);
    assert_eq!(
        w.router_rows(1),
        (Some("regular".into()), vec!["habis".into()])
    );

    // A purchase applies at once (targeted sync), exactly once per order.
    let grant = Grant {
        user: UserId(1),
        bytes: 10 * GIB,
        validity_hours: 30 * 24,
        mode: Default::default(),
        profile: None,
        unlimited: false,
        source: GrantSource::Purchase,
        idempotency_key: "order-2".into(),
        actor: "payments".into(),
        note: None,
    };
    assert!(w.svc.grant_and_apply(&grant).await.unwrap().applied);
    assert!(!w.svc.grant_and_apply(&grant).await.unwrap().applied);
    let summary = w.svc.show(UserId(1)).await.unwrap();
    assert_eq!(summary.purchased_bytes, 14 * GIB);
    assert_eq!(summary.status, AccessStatus::Ok);
    assert_eq!(
        w.router_rows(1),
        (Some("bypassed".into()), vec!["active".into()])
    );
    assert_eq!(profile().as_deref(), Some("default"));
    w.sim.reset_stats();
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!((s.router_writes, w.sim.stats().writes), (0, 0));

    // The profile is compared with the router, not remembered: a hand edit is put right.
    router
        .set_hotspot_user_profile("081100000001", "habis")
        .await
        .unwrap();
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!((s.router_writes, s.router_errors), (1, 0), "{s:?}");
    assert_eq!(profile().as_deref(), Some("default"));

    // Notices: fup and habis once each, plus the low-quota level crossed on the way.
    let rows = outbox::list(&w.db).await.unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r.dedup_key.as_str()).collect();
    assert!(keys.iter().any(|k| k.contains(":status:fup:")), "{keys:?}");
    assert!(
        keys.iter().any(|k| k.contains(":status:habis:")),
        "{keys:?}"
    );
    assert_eq!(
        keys.iter().filter(|k| k.contains(":status:")).count(),
        2,
        "{keys:?}"
    );
    assert!(
        rows.iter().all(|r| r.recipient == "+6281100000001"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn router_down_changes_nothing_and_the_next_run_counts_everything() {
    let w = world(QuotaSettings::default()).await;
    w.user_with_device(1, 1, 1_000).await;
    w.grant(1, 10 * GIB, 30, "g").await;
    w.svc.sync_once().await.unwrap();
    w.traffic(1, 111);
    w.sim.set_fault(Faults {
        delay_ms: 2_000,
        ..Faults::default()
    });
    let err = w.svc.sync_once().await.unwrap_err();
    assert!(matches!(err, QuotaError::RouterUnavailable(_)), "{err}");
    assert_eq!(w.used(1).await, 1_000);
    w.sim.set_fault(Faults::default());
    w.traffic(1, 222);
    // The client may need a moment to re-dial after the timeout.
    let mut counted = None;
    for _ in 0..50 {
        match w.svc.sync_once().await {
            Ok(s) => {
                counted = Some(s.bytes_counted);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    assert_eq!(counted, Some(333));
    assert_eq!(w.used(1).await, 1_333);
}

#[tokio::test]
async fn one_users_refused_write_does_not_stop_the_others() {
    let w = world(QuotaSettings::default()).await;
    w.user_with_device(1, 1, 0).await;
    w.user_with_device(2, 2, 0).await;
    // An operator's hand-made binding for user 1's MAC: not ours, so the router client refuses
    // to change it.
    w.sim.with_state(|s| {
        s.execute(&lpsaring_routeros_sim::request(
            "/ip/hotspot/ip-binding/add",
            &[
                ("mac-address", &mac(1).to_string()),
                ("type", "blocked"),
                ("comment", "by hand"),
            ],
        ))
    });
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!(s.router_errors, 1, "{s:?}");
    // User 2 (habis: nothing purchased) got their rows anyway.
    assert_eq!(
        w.router_rows(2),
        (Some("regular".into()), vec!["habis".into()])
    );
    assert_eq!(w.router_rows(1).1, vec!["habis".to_owned()]);
}

#[tokio::test]
async fn grants_are_exactly_once_and_validated() {
    let w = world(QuotaSettings::default()).await;
    w.users.add(&w.db, 1).await;
    assert!(w.grant(1, GIB, 30, "k").await);
    assert!(!w.grant(1, GIB, 30, "k").await);
    let s = w.svc.show(UserId(1)).await.unwrap();
    assert_eq!(s.purchased_bytes, GIB);
    assert_eq!(
        s.expires_at,
        Some(w.clock.now_utc() + chrono::Duration::days(30))
    );
    let bad = Grant {
        user: UserId(1),
        bytes: -1,
        validity_hours: 0,
        mode: Default::default(),
        profile: None,
        unlimited: false,
        source: GrantSource::Admin,
        idempotency_key: "x".into(),
        actor: "t".into(),
        note: None,
    };
    assert!(matches!(
        w.svc.grant(&bad).await,
        Err(QuotaError::InvalidGrant(_))
    ));
    let sync_key = Grant {
        bytes: 1,
        idempotency_key: "sync:forged".into(),
        ..bad.clone()
    };
    assert!(matches!(
        w.svc.grant(&sync_key).await,
        Err(QuotaError::InvalidGrant(_))
    ));
    let nobody = Grant {
        user: UserId(99),
        bytes: 1,
        ..bad
    };
    assert!(matches!(
        w.svc.grant(&nobody).await,
        Err(QuotaError::UserNotFound)
    ));
    // Expiry: validity runs out ⇒ expired, whatever is left.
    w.clock.advance(chrono::Duration::days(31));
    assert_eq!(
        w.svc.show(UserId(1)).await.unwrap().status,
        AccessStatus::Expired
    );
}

/// Payments add quota in the transaction that marks an order paid (`grant_in`): the grant
/// commits or rolls back with the caller's transaction, and the order's key (`order:<id>`)
/// applies once.
#[tokio::test]
async fn a_grant_in_the_callers_transaction_commits_or_rolls_back_with_it() {
    use sea_orm::TransactionTrait;
    let w = world(QuotaSettings::default()).await;
    w.users.add(&w.db, 1).await;
    let paid = Grant {
        user: UserId(1),
        bytes: 3 * GIB,
        validity_hours: 30 * 24,
        mode: Default::default(),
        profile: None,
        unlimited: false,
        source: GrantSource::Purchase,
        idempotency_key: "order:42".into(),
        actor: "payments".into(),
        note: Some("BD-LPSR-42".into()),
    };
    let purchased = || async { w.svc.show(UserId(1)).await.unwrap().purchased_bytes };

    let txn = w.db.begin().await.unwrap();
    assert!(w.svc.grant_in(&txn, &paid).await.unwrap());
    txn.rollback().await.unwrap();
    assert_eq!(purchased().await, 0, "rolled back with the caller");

    let txn = w.db.begin().await.unwrap();
    assert!(w.svc.grant_in(&txn, &paid).await.unwrap());
    txn.commit().await.unwrap();
    assert_eq!(purchased().await, 3 * GIB);

    let txn = w.db.begin().await.unwrap();
    assert!(
        !w.svc.grant_in(&txn, &paid).await.unwrap(),
        "the key applied once"
    );
    txn.commit().await.unwrap();
    assert!(!w.grant(1, 3 * GIB, 30, "order:42").await);
    assert_eq!(purchased().await, 3 * GIB);
    let bad = Grant {
        idempotency_key: "sync:1:1".into(),
        ..paid
    };
    assert!(matches!(
        w.svc.grant_in(&w.db, &bad).await,
        Err(QuotaError::InvalidGrant(_))
    ));
}

/// Issue 15 item 1 at the module: a device whose host entry already counted gigabytes is
/// metered from the login on (`meter_from_now` before its registration), not from zero.
#[tokio::test]
async fn a_device_is_metered_from_its_login_not_from_its_host_entrys_start() {
    let w = world(QuotaSettings::default()).await;
    w.users.add(&w.db, 1).await;
    w.users.add(&w.db, 2).await;
    w.host(1, 5_300_000_000);
    // A run before the login: the MAC is nobody's, nothing is charged.
    w.svc.sync_once().await.unwrap();
    w.svc.meter_from_now(UserId(1), mac(1)).await.unwrap();
    w.devices
        .register_for_login(UserId(1), mac(1), Some(ip(1)), Takeover::default())
        .await
        .unwrap();
    w.traffic(1, 1_234_567);
    let s = w.svc.sync_once().await.unwrap();
    assert_eq!(s.bytes_counted, 1_234_567, "{s:?}");
    assert_eq!(w.used(1).await, 1_234_567);

    // The owner logging in again keeps counting from the baseline: bytes since the last run
    // are still theirs.
    w.traffic(1, 1_000);
    w.svc.meter_from_now(UserId(1), mac(1)).await.unwrap();
    w.svc.sync_once().await.unwrap();
    assert_eq!(w.used(1).await, 1_235_567);

    // Taken over: the new owner starts from the takeover.
    w.traffic(1, 77);
    w.svc.meter_from_now(UserId(2), mac(1)).await.unwrap();
    w.devices
        .register_for_login(
            UserId(2),
            mac(1),
            Some(ip(1)),
            Takeover {
                confirmed: true,
                owner_online: false,
            },
        )
        .await
        .unwrap();
    w.traffic(1, 500);
    w.svc.sync_once().await.unwrap();
    assert_eq!(w.used(2).await, 500);
    assert_eq!(w.used(1).await, 1_235_567);
}

trait NowUtc {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc>;
}

impl NowUtc for FakeClock {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        lpsaring_kernel::Clock::now(self)
    }
}

#[tokio::test]
async fn history_purge_drops_old_sync_rows_and_keeps_grants_and_daily_usage() {
    let w = world(QuotaSettings {
        history_retention_days: 30,
        ..QuotaSettings::default()
    })
    .await;
    w.user_with_device(1, 1, 0).await;
    w.grant(1, 4 * GIB, 400, "order-1").await;
    let count = |sql: &'static str| {
        let db = w.db.clone();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    // Two runs that charge, 40 days ago…
    for bytes in [100, 200] {
        w.traffic(1, bytes);
        w.svc.sync_once().await.unwrap();
    }
    w.clock.advance(chrono::Duration::days(40));
    // …and one today.
    w.traffic(1, 300);
    w.svc.sync_once().await.unwrap();
    let ledger_sync = "SELECT COUNT(*) FROM quota_ledger WHERE source = 'sync'";
    assert_eq!(count(ledger_sync).await, 3);
    let runs_before = count("SELECT COUNT(*) FROM sync_runs").await;

    let (ledger_rows, runs) = w.svc.purge_history().await.unwrap();
    assert_eq!(ledger_rows, 2);
    assert_eq!(runs, u64::try_from(runs_before).unwrap() - 1);
    assert_eq!(count(ledger_sync).await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM sync_runs").await, 1);
    assert_eq!(
        count("SELECT COUNT(*) FROM quota_ledger WHERE source <> 'sync'").await,
        1,
        "the purchase stays"
    );
    assert_eq!(
        count("SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM usage_daily").await,
        600,
        "daily usage stays"
    );
    assert_eq!(w.used(1).await, 600);
    assert_eq!(w.svc.purge_history().await.unwrap(), (0, 0));
}
