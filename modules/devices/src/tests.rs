use std::sync::Arc;

use chrono::Duration;
use lpsaring_kernel::testing::TestDatabase;
use lpsaring_kernel::{FakeClock, Mac, UserId};
use lpsaring_migrations::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;

use crate::api::DevicePolicy;
use crate::{Deps, DeviceError, Service, Takeover};

/// The service on a fresh database (in-memory SQLite, or Postgres per `LPSARING_TEST_POSTGRES_URL`)
/// with users 1 and 2. Keep the `TestDatabase`: dropping it drops a Postgres database.
async fn setup() -> (Service, Arc<FakeClock>, TestDatabase) {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    Migrator::up(&db, None).await.unwrap();
    for (id, phone) in [(1, "+6281100000001"), (2, "+6281100000002")] {
        db.execute_unprepared(&format!(
            "INSERT INTO users (id, phone_number, full_name, created_at, updated_at) VALUES ({id}, '{phone}', 'U{id}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        ))
        .await
        .unwrap();
    }
    let clock = Arc::new(FakeClock::at_epoch_2026());
    let svc = Service::new(Deps {
        db,
        clock: clock.clone(),
        policy: DevicePolicy::default(),
    });
    (svc, clock, database)
}

fn mac(n: u8) -> Mac {
    Mac([0x02, 0, 0, 0, 0, n])
}

#[tokio::test]
async fn same_device_again_is_an_update_not_a_new_row() {
    let (svc, _, _db) = setup().await;
    let first = svc
        .register_for_login(UserId(1), mac(1), None, Takeover::default())
        .await
        .unwrap();
    assert!(first.newly_added);
    let again = svc
        .register_for_login(
            UserId(1),
            mac(1),
            Some("10.0.0.5".parse().unwrap()),
            Takeover::default(),
        )
        .await
        .unwrap();
    assert!(!again.newly_added);
    assert_eq!(again.device.ip, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(svc.devices_of(UserId(1)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_limit_replaces_the_oldest_offline_device() {
    let (svc, clock, _db) = setup().await;
    for n in 1..=3 {
        svc.register_for_login(UserId(1), mac(n), None, Takeover::default())
            .await
            .unwrap();
        clock.advance(Duration::hours(1));
    }
    let fourth = svc
        .register_for_login(UserId(1), mac(4), None, Takeover::default())
        .await
        .unwrap();
    assert_eq!(fourth.evicted.len(), 1);
    assert_eq!(fourth.evicted[0].mac, mac(1));
    let macs: Vec<Mac> = svc
        .devices_of(UserId(1))
        .await
        .unwrap()
        .iter()
        .map(|d| d.mac)
        .collect();
    assert_eq!(macs.len(), 3);
    assert!(!macs.contains(&mac(1)));
}

#[tokio::test]
async fn online_devices_are_never_evicted() {
    let (svc, _, _db) = setup().await;
    for n in 1..=3 {
        svc.register_for_login(UserId(1), mac(n), None, Takeover::default())
            .await
            .unwrap();
    }
    let err = svc
        .register_for_login(UserId(1), mac(4), None, Takeover::default())
        .await
        .unwrap_err();
    assert!(matches!(err, DeviceError::LimitReached { limit: 3 }));
    assert_eq!(svc.devices_of(UserId(1)).await.unwrap().len(), 3);
}

#[tokio::test]
async fn takeover_needs_confirmation_and_an_offline_owner() {
    let (svc, _, _db) = setup().await;
    svc.register_for_login(UserId(1), mac(9), None, Takeover::default())
        .await
        .unwrap();
    let err = svc
        .register_for_login(UserId(2), mac(9), None, Takeover::default())
        .await
        .unwrap_err();
    assert!(matches!(err, DeviceError::TakeoverNeedsConfirmation));
    let err = svc
        .register_for_login(
            UserId(2),
            mac(9),
            None,
            Takeover {
                confirmed: true,
                owner_online: true,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DeviceError::OwnedByActiveUser));
    let moved = svc
        .register_for_login(
            UserId(2),
            mac(9),
            None,
            Takeover {
                confirmed: true,
                owner_online: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.taken_from, Some(UserId(1)));
    assert_eq!(
        svc.find_by_mac(mac(9)).await.unwrap().unwrap().user_id,
        UserId(2)
    );
    assert!(svc.devices_of(UserId(1)).await.unwrap().is_empty());
}

#[tokio::test]
async fn sightings_update_last_seen_and_ip() {
    let (svc, clock, _db) = setup().await;
    svc.register_for_login(UserId(1), mac(1), None, Takeover::default())
        .await
        .unwrap();
    clock.advance(Duration::minutes(5));
    let at = lpsaring_kernel::Clock::now(clock.as_ref());
    let n = svc
        .record_sightings(&[
            crate::api::Sighting {
                mac: mac(1),
                ip: Some("10.0.0.9".parse().unwrap()),
                at,
            },
            crate::api::Sighting {
                mac: mac(7),
                ip: None,
                at,
            },
        ])
        .await
        .unwrap();
    assert_eq!(n, 1);
    let d = svc.find_by_mac(mac(1)).await.unwrap().unwrap();
    assert_eq!(d.last_seen_at, at);
    assert_eq!(d.ip, Some("10.0.0.9".parse().unwrap()));
}

#[tokio::test]
async fn a_user_renames_and_removes_only_their_own_devices() {
    let (svc, _, _db) = setup().await;
    let mine = svc
        .register_for_login(UserId(1), mac(1), None, Takeover::default())
        .await
        .unwrap()
        .device;
    let renamed = svc.rename(UserId(1), mine.id, "  HP Budi  ").await.unwrap();
    assert_eq!(renamed.label.as_deref(), Some("HP Budi"));
    // Another user's id behaves as if it did not exist, and changes nothing.
    assert!(matches!(
        svc.rename(UserId(2), mine.id, "x").await,
        Err(DeviceError::NotFound)
    ));
    assert!(matches!(
        svc.remove_owned(UserId(2), mine.id).await,
        Err(DeviceError::NotFound)
    ));
    assert_eq!(
        svc.owned(UserId(1), mine.id)
            .await
            .unwrap()
            .label
            .as_deref(),
        Some("HP Budi")
    );
    // Bad labels are refused before any write; an empty one clears the name.
    for bad in ["x".repeat(41), "a\u{7}b".to_owned()] {
        assert!(matches!(
            svc.rename(UserId(1), mine.id, &bad).await,
            Err(DeviceError::InvalidLabel)
        ));
    }
    assert_eq!(
        svc.rename(UserId(1), mine.id, "📱".repeat(40).as_str())
            .await
            .unwrap_err()
            .to_string(),
        DeviceError::InvalidLabel.to_string(),
        "160 bytes do not fit the column"
    );
    assert_eq!(
        svc.rename(UserId(1), mine.id, " ").await.unwrap().label,
        None
    );
    let removed = svc.remove_owned(UserId(1), mine.id).await.unwrap();
    assert_eq!(removed.mac, mac(1));
    assert!(svc.devices_of(UserId(1)).await.unwrap().is_empty());
    assert!(matches!(
        svc.remove_owned(UserId(1), mine.id).await,
        Err(DeviceError::NotFound)
    ));
}
