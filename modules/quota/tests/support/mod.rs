//! Shared by the module's integration tests and the crash-test child (`examples/sync_child.rs`):
//! a test `UserDirectory` ([`TestUsers`]: auth's real one is wired by `app`, and quota may not
//! depend on auth), and the wiring of a service against real parts.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use lpsaring_kernel::ports::users::{DirectoryError, Role, UserDirectory, UserFacts};
use lpsaring_kernel::{Clock, EphemeralStore, Phone, UserId};
use lpsaring_quota::{Deps, QuotaSettings, Service};
use lpsaring_routeros::{RouterOsClient, RouterSettings, Secret};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// The users the service knows, in memory: approved, active, unblocked, phone `08110<id:07>`.
#[derive(Default)]
pub struct TestUsers(Mutex<BTreeMap<i64, UserFacts>>);

impl TestUsers {
    /// Makes user `id` known to the directory only (the child process, whose parent made the
    /// rows).
    pub fn remember(&self, id: i64) -> Phone {
        let phone = Phone::parse(&format!("08110{id:07}")).unwrap();
        let facts = UserFacts {
            id: UserId(id),
            phone: Some(phone.clone()),
            name: format!("User {id}"),
            role: Role::User,
            approved: true,
            active: true,
            blocked: false,
            language: None,
        };
        self.0.lock().unwrap().insert(id, facts);
        phone
    }

    /// Adds user `id`: known to the directory, and the bare `users` row the quota tables'
    /// foreign key needs (the one write into auth's table: quota may not depend on auth).
    pub async fn add(&self, db: &DatabaseConnection, id: i64) -> Phone {
        let phone = self.remember(id);
        db.execute_unprepared(&format!(
            "INSERT INTO users (id, phone_number, full_name, role, approval_status, is_active, is_blocked, created_at, updated_at) \
             VALUES ({id}, '{}', 'User {id}', 'USER', 'APPROVED', true, false, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            phone.as_str()
        ))
        .await
        .unwrap();
        phone
    }
}

#[async_trait]
impl UserDirectory for TestUsers {
    async fn get(&self, id: UserId) -> Result<Option<UserFacts>, DirectoryError> {
        Ok(self.0.lock().unwrap().get(&id.0).cloned())
    }

    async fn by_phone(&self, phone: &Phone) -> Result<Option<UserFacts>, DirectoryError> {
        let users = self.0.lock().unwrap();
        Ok(users
            .values()
            .find(|u| u.phone.as_ref() == Some(phone))
            .cloned())
    }

    async fn many(&self, ids: &[UserId]) -> Result<Vec<UserFacts>, DirectoryError> {
        let users = self.0.lock().unwrap();
        Ok(ids
            .iter()
            .filter_map(|i| users.get(&i.0).cloned())
            .collect())
    }
}

pub fn router_settings(addr: &str) -> RouterSettings {
    RouterSettings {
        address: addr.to_owned(),
        username: "admin".into(),
        password: Secret::new("secret"),
        timeout_ms: 1_000,
        breaker_failures: 1_000,
        breaker_cooldown_ms: 100,
        max_backoff_ms: 100,
        keepalive_ms: 0,
        ..RouterSettings::default()
    }
}

pub fn service(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    store: Arc<dyn EphemeralStore>,
    router_addr: &str,
    settings: QuotaSettings,
) -> (Arc<Service>, Arc<lpsaring_devices::Service>, Arc<TestUsers>) {
    let devices = Arc::new(lpsaring_devices::Service::new(lpsaring_devices::Deps {
        db: db.clone(),
        clock: clock.clone(),
        policy: lpsaring_devices::api::DevicePolicy {
            max_per_user: 10,
            ..Default::default()
        },
    }));
    let users = Arc::new(TestUsers::default());
    let router = Arc::new(RouterOsClient::start(router_settings(router_addr)));
    // As the app does: the profiles the portal assigns may be created (none are named here, so
    // nothing is checked until a package profile is needed).
    lpsaring_kernel::ports::Router::require_profiles(
        &*router,
        Vec::new(),
        settings.manage_profiles,
    );
    let svc = Service::new(Deps {
        db,
        clock,
        store,
        router,
        devices: devices.clone(),
        users: users.clone(),
        settings,
        timezone: chrono_tz::Asia::Makassar,
    })
    .unwrap();
    (Arc::new(svc), devices, users)
}

/// A service on a fresh migrated database (SQLite, or Postgres per the environment), with a
/// clock at the 2026 epoch and its state store in `dir`, against the router at `router_addr`.
/// The database handle drops a Postgres test database with it.
pub async fn fresh(
    dir: &std::path::Path,
    router_addr: &str,
    settings: QuotaSettings,
) -> (
    lpsaring_kernel::testing::TestDatabase,
    DatabaseConnection,
    Arc<lpsaring_kernel::FakeClock>,
    (Arc<Service>, Arc<lpsaring_devices::Service>, Arc<TestUsers>),
) {
    use lpsaring_migrations::{Migrator, MigratorTrait};
    let database = lpsaring_kernel::testing::TestDatabase::fresh().await;
    let db = database.connect().await;
    Migrator::up(&db, None).await.unwrap();
    let clock = Arc::new(lpsaring_kernel::FakeClock::at_epoch_2026());
    let store =
        lpsaring_store::Store::open(dir.join(lpsaring_store::STATE_FILE_NAME), clock.clone())
            .await
            .unwrap();
    let parts = service(
        db.clone(),
        clock.clone(),
        Arc::new(store),
        router_addr,
        settings,
    );
    (database, db, clock, parts)
}
