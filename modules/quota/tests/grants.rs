//! Grants and reversals on the real schema (SQLite, or Postgres with
//! `LPSARING_TEST_POSTGRES_URL`): hour validity extended or reset, an unlimited period that
//! ends and falls back to the bytes, the latest purchase's profile, and a reversal that never
//! takes back more than is unused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use chrono::Duration;
use lpsaring_kernel::testing::TestDatabase;
use lpsaring_kernel::{FakeClock, UserId};
use lpsaring_quota::api::{AccessStatus, Grant, GrantSource, Reversal, ValidityMode};
use lpsaring_quota::settings::GIB;
use lpsaring_quota::{QuotaError, QuotaSettings, Service};
use lpsaring_routeros_sim::{SimConfig, Simulator};
use sea_orm::{DatabaseConnection, TransactionTrait};

struct World {
    svc: Arc<Service>,
    db: DatabaseConnection,
    clock: Arc<FakeClock>,
    sim: lpsaring_routeros_sim::SimHandle,
    _keep: (tempfile::TempDir, TestDatabase),
}

async fn world() -> World {
    let sim = Simulator::start(SimConfig::local()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (database, db, clock, (svc, _, users)) = support::fresh(
        dir.path(),
        &sim.addr().to_string(),
        QuotaSettings::default(),
    )
    .await;
    users.add(&db, 1).await;
    World {
        svc,
        db,
        clock,
        sim,
        _keep: (dir, database),
    }
}

fn purchase(key: &str, bytes: i64, hours: i64) -> Grant {
    Grant::new(UserId(1), bytes, hours, GrantSource::Purchase, key, "test")
}

#[tokio::test]
async fn hour_validity_extends_or_resets_and_the_latest_purchase_names_the_profile() {
    let w = world().await;
    let t0 = lpsaring_kernel::Clock::now(&*w.clock);
    let three_hours = Grant {
        profile: Some("paket-10m".into()),
        ..purchase("order:1", GIB, 3)
    };
    assert!(w.svc.grant(&three_hours).await.unwrap().applied);
    let s = w.svc.show(UserId(1)).await.unwrap();
    assert_eq!(s.expires_at, Some(t0 + Duration::hours(3)));
    assert_eq!(s.profile.as_deref(), Some("paket-10m"));

    // Extend (the default): an hour later, 30 days more counts from the current end.
    w.clock.advance(Duration::hours(1));
    let month = purchase("order:2", GIB, 720);
    w.svc.grant(&month).await.unwrap();
    let s = w.svc.show(UserId(1)).await.unwrap();
    assert_eq!(s.expires_at, Some(t0 + Duration::hours(3 + 720)));
    assert_eq!(s.purchased_bytes, 2 * GIB);
    assert_eq!(
        s.profile, None,
        "the latest purchase had none: the active profile"
    );

    // Reset: from now. An admin grant without a profile keeps the account's.
    let reset = Grant {
        mode: ValidityMode::Reset,
        profile: Some("paket-20m".into()),
        ..purchase("order:3", 0, 24)
    };
    w.svc.grant(&reset).await.unwrap();
    let admin = Grant::new(UserId(1), GIB, 0, GrantSource::Admin, "admin:1", "test");
    w.svc.grant(&admin).await.unwrap();
    let s = w.svc.show(UserId(1)).await.unwrap();
    assert_eq!(s.expires_at, Some(t0 + Duration::hours(1 + 24)));
    assert_eq!(s.profile.as_deref(), Some("paket-20m"));
    assert_eq!(s.status, AccessStatus::Ok);

    // A profile name that no router would take is refused, nothing written.
    let bad = Grant {
        profile: Some(" spaced ".into()),
        ..purchase("order:4", GIB, 1)
    };
    assert!(matches!(
        w.svc.grant(&bad).await,
        Err(QuotaError::InvalidGrant(_))
    ));
    assert_eq!(
        w.svc.show(UserId(1)).await.unwrap().purchased_bytes,
        3 * GIB
    );
}

#[tokio::test]
async fn an_unlimited_period_ends_and_the_account_falls_back_to_its_bytes() {
    let w = world().await;
    let t0 = lpsaring_kernel::Clock::now(&*w.clock);
    w.svc
        .grant(&purchase("order:1", 2 * GIB, 720))
        .await
        .unwrap();
    let unlimited = Grant {
        unlimited: true,
        ..purchase("order:2", 0, 3)
    };
    w.svc.grant(&unlimited).await.unwrap();
    let s = w.svc.show(UserId(1)).await.unwrap();
    assert_eq!(
        (s.status, s.unlimited, s.unlimited_until),
        (AccessStatus::Unlimited, true, Some(t0 + Duration::hours(3)))
    );
    assert_eq!(s.expires_at, Some(t0 + Duration::hours(723)));

    w.clock.advance(Duration::hours(3));
    let s = w.svc.show(UserId(1)).await.unwrap();
    assert_eq!(
        (s.status, s.unlimited, s.unlimited_until, s.purchased_bytes),
        (AccessStatus::Ok, false, None, 2 * GIB),
        "the period ended at its instant: the bytes count again"
    );

    // An admin's unlimited without validity has no end of its own.
    let forever = Grant {
        unlimited: true,
        ..Grant::new(UserId(1), 0, 0, GrantSource::Admin, "admin:u", "test")
    };
    w.svc.grant(&forever).await.unwrap();
    w.clock.advance(Duration::hours(700));
    assert_eq!(
        w.svc.show(UserId(1)).await.unwrap().status,
        AccessStatus::Unlimited
    );
}

#[tokio::test]
async fn a_reversal_takes_back_only_what_is_unused_once() {
    let w = world().await;
    let t0 = lpsaring_kernel::Clock::now(&*w.clock);
    w.svc
        .grant(&purchase("order:1", 5 * GIB, 720))
        .await
        .unwrap();
    w.svc
        .grant(&purchase("order:2", 5 * GIB, 720))
        .await
        .unwrap();
    // 8 GiB used: of the second order's 5 GiB only 2 are unused.
    use sea_orm::ConnectionTrait;
    w.db.execute_unprepared(&format!(
        "UPDATE quota_accounts SET used_bytes = {} WHERE user_id = 1",
        8 * GIB
    ))
    .await
    .unwrap();
    let refund = Reversal {
        user: UserId(1),
        bytes: 5 * GIB,
        validity_hours: 720,
        unlimited: false,
        source: GrantSource::Refund,
        idempotency_key: "refund:2".into(),
        actor: "test".into(),
        note: Some("refunded".into()),
    };
    let txn = w.db.begin().await.unwrap();
    assert!(w.svc.reverse_in(&txn, &refund).await.unwrap());
    txn.commit().await.unwrap();
    let s = w.svc.show(UserId(1)).await.unwrap();
    assert_eq!(
        (s.purchased_bytes, s.used_bytes, s.status),
        (8 * GIB, 8 * GIB, AccessStatus::Habis)
    );
    assert_eq!(s.expires_at, Some(t0 + Duration::hours(720)));

    let txn = w.db.begin().await.unwrap();
    assert!(!w.svc.reverse_in(&txn, &refund).await.unwrap(), "once");
    txn.commit().await.unwrap();
    assert_eq!(
        w.svc.show(UserId(1)).await.unwrap().purchased_bytes,
        8 * GIB
    );
}

/// The hotspot user's profile on the simulated router.
fn router_profile(w: &World) -> Option<String> {
    w.sim
        .with_state(|s| s.rows(lpsaring_routeros_sim::Menu::User))
        .into_iter()
        .find(|r| r.get("name") == Some("081100000001"))
        .and_then(|r| r.get("profile").map(str::to_owned))
}

#[tokio::test]
async fn an_ok_user_gets_the_package_profile_created_on_the_router_and_loses_it_with_the_status() {
    use lpsaring_kernel::ports::router::OwnedComment;
    let w = world().await;
    w.sim
        .ensure_profiles(QuotaSettings::default().profiles.distinct());
    let comment = OwnedComment::for_user(UserId(1)).render();
    w.sim.with_state(|s| {
        s.execute(&lpsaring_routeros_sim::request(
            "/ip/hotspot/user/add",
            &[
                ("name", "081100000001"),
                ("profile", "habis"),
                ("comment", comment.as_str()),
            ],
        ))
    });
    let has_profile = || {
        w.sim
            .with_state(|s| s.rows(lpsaring_routeros_sim::Menu::UserProfile))
            .iter()
            .any(|r| r.get("name") == Some("paket-10m"))
    };
    assert!(!has_profile());

    // Paid with a profile the router lacks: created, and the user is on it.
    let ten = Grant {
        profile: Some("paket-10m".into()),
        ..purchase("order:1", 5 * GIB, 720)
    };
    w.svc.grant(&ten).await.unwrap();
    let applied = w.svc.apply_user(UserId(1)).await.unwrap();
    assert_eq!(applied.router_errors, 0, "{applied:?}");
    assert!(has_profile(), "created when a user first needed it");
    assert_eq!(router_profile(&w).as_deref(), Some("paket-10m"));
    // Steady: nothing more to write.
    assert_eq!(w.svc.apply_user(UserId(1)).await.unwrap().router_writes, 0);

    // An unlimited booster: the status profile while it runs, the package's after it ends.
    let booster = Grant {
        unlimited: true,
        profile: Some("paket-10m".into()),
        ..purchase("order:2", 0, 3)
    };
    w.svc.grant(&booster).await.unwrap();
    w.svc.apply_user(UserId(1)).await.unwrap();
    assert_eq!(router_profile(&w).as_deref(), Some("unlimited"));
    w.clock.advance(Duration::hours(3));
    w.svc.apply_user(UserId(1)).await.unwrap();
    assert_eq!(router_profile(&w).as_deref(), Some("paket-10m"));
    assert_eq!(
        w.svc.show(UserId(1)).await.unwrap().status,
        AccessStatus::Ok
    );

    // Expired: the status profile, whatever the package was.
    w.clock.advance(Duration::hours(800));
    w.svc.apply_user(UserId(1)).await.unwrap();
    assert_eq!(router_profile(&w).as_deref(), Some("expired"));
}
