//! Shared by the module's integration tests and the crash-test child (`examples/sync_child.rs`):
//! a `UserDirectory` over the `users` table (auth's real implementation is wired by `app`; the
//! quota module cannot depend on auth), and the wiring of a service against real parts.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use lpsaring_kernel::ports::users::{DirectoryError, Role, UserDirectory, UserFacts};
use lpsaring_kernel::{Clock, EphemeralStore, Phone, UserId};
use lpsaring_quota::{Deps, QuotaSettings, Service};
use lpsaring_routeros::{RouterOsClient, RouterSettings, Secret};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

pub struct DbUsers(pub DatabaseConnection);

impl DbUsers {
    async fn query(&self, filter: &str) -> Result<Vec<UserFacts>, DirectoryError> {
        let sql = format!(
            "SELECT id, phone_number, full_name, role, approval_status, is_active, is_blocked FROM users {filter}"
        );
        let rows = self
            .0
            .query_all_raw(Statement::from_string(self.0.get_database_backend(), sql))
            .await
            .map_err(|e| DirectoryError(e.to_string()))?;
        rows.into_iter()
            .map(|r| {
                let get = |e: sea_orm::DbErr| DirectoryError(e.to_string());
                let phone: String = r.try_get("", "phone_number").map_err(get)?;
                let role: String = r.try_get("", "role").map_err(get)?;
                let approval: String = r.try_get("", "approval_status").map_err(get)?;
                Ok(UserFacts {
                    id: UserId(r.try_get("", "id").map_err(get)?),
                    phone: Phone::parse(&phone).map_err(|e| DirectoryError(e.to_string()))?,
                    name: r.try_get("", "full_name").map_err(get)?,
                    role: Role::parse(&role).unwrap_or(Role::User),
                    approved: approval == "APPROVED",
                    active: r.try_get("", "is_active").map_err(get)?,
                    blocked: r.try_get("", "is_blocked").map_err(get)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl UserDirectory for DbUsers {
    async fn get(&self, id: UserId) -> Result<Option<UserFacts>, DirectoryError> {
        Ok(self.query(&format!("WHERE id = {}", id.0)).await?.pop())
    }

    async fn by_phone(&self, phone: &Phone) -> Result<Option<UserFacts>, DirectoryError> {
        let all = self.query("").await?;
        Ok(all.into_iter().find(|u| &u.phone == phone))
    }

    async fn many(&self, ids: &[UserId]) -> Result<Vec<UserFacts>, DirectoryError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list: Vec<String> = ids.iter().map(|i| i.0.to_string()).collect();
        self.query(&format!("WHERE id IN ({})", list.join(",")))
            .await
    }
}

/// Inserts an approved, active user `id` with phone `0811000000<id>`.
pub async fn add_user(db: &DatabaseConnection, id: i64) -> Phone {
    let phone = Phone::parse(&format!("08110{:07}", id)).unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO users (id, phone_number, full_name, role, approval_status, is_active, is_blocked, created_at, updated_at) \
         VALUES ({id}, '{}', 'User {id}', 'USER', 'APPROVED', true, false, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        phone.as_str()
    ))
    .await
    .unwrap();
    phone
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
) -> (Arc<Service>, Arc<lpsaring_devices::Service>) {
    let devices = Arc::new(lpsaring_devices::Service::new(lpsaring_devices::Deps {
        db: db.clone(),
        clock: clock.clone(),
        policy: lpsaring_devices::api::DevicePolicy {
            max_per_user: 10,
            ..Default::default()
        },
    }));
    let svc = Service::new(Deps {
        db: db.clone(),
        clock,
        store,
        router: Arc::new(RouterOsClient::start(router_settings(router_addr))),
        devices: devices.clone(),
        users: Arc::new(DbUsers(db)),
        settings,
        timezone: chrono_tz::Asia::Makassar,
    })
    .unwrap();
    (Arc::new(svc), devices)
}
