//! Read ports for the admin panel's page of one user (`/admin/users/{id}`, auth's): what other
//! modules hold about that user — devices (devices), orders (payments), the quota ledger and
//! daily usage (quota), audit entries about them (admin). Each owning module implements its
//! port over its own tables; `app` wires them into auth, which never reads those tables.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use salvo::oapi::ToSchema;
use serde::Serialize;

use crate::{ApiError, UserId};

/// One registered device of the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserDevice {
    pub id: i64,
    pub mac: String,
    pub ip: Option<String>,
    pub label: Option<String>,
    #[salvo(schema(value_type = String, format = DateTime))]
    pub last_seen_at: DateTime<Utc>,
    /// Seen by the router within the online window.
    pub online: bool,
}

/// One order (payment) of the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserOrder {
    pub order_id: String,
    /// `PENDING`, `SUCCESS`, `FAILED`, `EXPIRED`, …: the status as the orders API names it.
    pub status: String,
    pub amount: i64,
    pub package_name: String,
    /// `gateway`, `voucher`, `cash`, …
    pub source: String,
    pub payment_method: Option<String>,
    #[salvo(schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub paid_at: Option<DateTime<Utc>>,
}

/// One quota ledger entry (a purchase, an operator's grant, a promotion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserLedgerEntry {
    #[salvo(schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
    pub source: String,
    pub bytes_added: i64,
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub expires_after: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Bytes used on one local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserDayUsage {
    #[salvo(schema(value_type = String, format = Date))]
    pub day: NaiveDate,
    pub bytes: i64,
}

/// The user's quota now, the newest ledger entries and the last 30 local days (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserQuota {
    pub purchased_bytes: i64,
    pub used_bytes: i64,
    pub remaining_bytes: i64,
    pub unlimited: bool,
    /// The access status (`ok`, `fup`, `expired`, …) as quota names it.
    pub status: String,
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<DateTime<Utc>>,
    pub ledger: Vec<UserLedgerEntry>,
    pub daily: Vec<UserDayUsage>,
}

/// One audit entry about the user.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UserAuditEntry {
    pub id: i64,
    #[salvo(schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
    #[salvo(schema(value_type = Option<i64>))]
    pub actor: Option<UserId>,
    pub action: String,
    pub target: Option<String>,
    #[salvo(schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
}

/// devices: the user's registered devices, most recently seen first.
#[async_trait]
pub trait UserDevices: Send + Sync {
    async fn devices_of(&self, user: UserId) -> Result<Vec<UserDevice>, ApiError>;
}

/// payments: the user's newest orders (at most `limit`), newest first.
#[async_trait]
pub trait UserOrders: Send + Sync {
    async fn orders_of(&self, user: UserId, limit: u64) -> Result<Vec<UserOrder>, ApiError>;
}

/// quota: the user's quota, ledger and 30-day usage.
#[async_trait]
pub trait UserQuotas: Send + Sync {
    async fn quota_of(&self, user: UserId) -> Result<UserQuota, ApiError>;
}

/// admin: the newest audit entries (at most `limit`) whose target is exactly `target`
/// (`user:<id>`), newest first.
#[async_trait]
pub trait AuditReader: Send + Sync {
    async fn about(&self, target: &str, limit: u64) -> Result<Vec<UserAuditEntry>, ApiError>;
}
