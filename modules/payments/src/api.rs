//! Public types of the payments module: what the app, the CLI, pages and tests see.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An order's state. Stored lower-case; in JSON the original's names (`PENDING`, `SUCCESS`,
/// …) so its clients keep understanding them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum OrderStatus {
    #[sea_orm(string_value = "pending")]
    #[serde(rename = "PENDING")]
    Pending,
    #[sea_orm(string_value = "paid")]
    #[serde(rename = "SUCCESS")]
    Paid,
    #[sea_orm(string_value = "failed")]
    #[serde(rename = "FAILED")]
    Failed,
    #[sea_orm(string_value = "expired")]
    #[serde(rename = "EXPIRED")]
    Expired,
    #[sea_orm(string_value = "cancelled")]
    #[serde(rename = "CANCELLED")]
    Cancelled,
    #[sea_orm(string_value = "refunded")]
    #[serde(rename = "REFUNDED")]
    Refunded,
}

impl OrderStatus {
    pub fn is_final(self) -> bool {
        self != OrderStatus::Pending
    }
}

/// Where an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "lowercase")]
pub enum OrderSource {
    #[sea_orm(string_value = "gateway")]
    Gateway,
    #[sea_orm(string_value = "voucher")]
    Voucher,
    #[sea_orm(string_value = "manual")]
    Manual,
}

/// What a `transaction_events` row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(30))")]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The order was created (and the provider asked).
    #[sea_orm(string_value = "initiated")]
    Initiated,
    /// A verified webhook.
    #[sea_orm(string_value = "notification")]
    Notification,
    /// A `payment_status` answer (reconciliation).
    #[sea_orm(string_value = "status_check")]
    StatusCheck,
    /// A paid notification for an order we had expired or cancelled: applied and flagged.
    #[sea_orm(string_value = "late_payment")]
    LatePayment,
    /// The provider's amount differs from ours: not applied, flagged.
    #[sea_orm(string_value = "amount_mismatch")]
    AmountMismatch,
    /// The owner cancelled.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Pending past the window.
    #[sea_orm(string_value = "expired")]
    Expired,
    /// The quota grant was written (by the sweep, for an order paid without one).
    #[sea_orm(string_value = "applied")]
    Applied,
    /// A paid order recorded without a gateway (a redeemed voucher, a cash sale).
    #[sea_orm(string_value = "recorded")]
    Recorded,
    /// Brought over from another system (`lpsaring import-lpsaring`), with its status there.
    #[sea_orm(string_value = "imported")]
    Imported,
    /// A super admin refunded the paid order (its grant reversed).
    #[sea_orm(string_value = "refunded")]
    Refunded,
}

/// A package as sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, salvo::oapi::ToSchema)]
pub struct Package {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// Integer rupiah.
    pub price: i64,
    /// 0 with `unlimited`.
    pub quota_bytes: i64,
    pub unlimited: bool,
    /// Hotspot packages are sold as "3 jam" as well as "30 hari".
    pub validity_hours: i32,
    /// The router's hotspot user profile (speed) while the user's status is `ok`.
    pub hotspot_profile: Option<String>,
    pub sort_order: i32,
    pub is_active: bool,
}

/// Create or replace a package (admin JSON, CLI, demo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, salvo::oapi::ToSchema)]
pub struct PackageInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub price: i64,
    #[serde(default)]
    pub quota_bytes: i64,
    #[serde(default)]
    pub unlimited: bool,
    pub validity_hours: i32,
    #[serde(default)]
    pub hotspot_profile: Option<String>,
    #[serde(default)]
    pub sort_order: i32,
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

/// What removing a package did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Removed {
    Deleted,
    /// It has orders, so it was taken off sale instead.
    Deactivated,
}

/// `POST /api/transactions/initiate` (also the original's field names).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, salvo::oapi::ToSchema)]
pub struct InitiateRequest {
    pub package_id: i64,
    #[serde(default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub va_bank: Option<String>,
}

/// An order as its owner (or an admin, or a status link) sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct OrderView {
    pub order_id: String,
    #[salvo(schema(value_type = String))]
    pub status: OrderStatus,
    pub amount: i64,
    pub package_id: i64,
    pub package_name: String,
    pub quota_bytes: i64,
    pub unlimited: bool,
    pub validity_hours: i32,
    #[salvo(schema(value_type = String))]
    pub source: OrderSource,
    pub provider: Option<String>,
    pub payment_method: Option<String>,
    pub redirect_url: Option<String>,
    pub qr_string: Option<String>,
    pub va_bank: Option<String>,
    pub va_number: Option<String>,
    pub bill_key: Option<String>,
    pub biller_code: Option<String>,
    pub deeplink: Option<String>,
    /// When the pending order lapses (the provider's expiry when it gave one).
    pub expiry_time: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/transactions/initiate`'s answer: the order plus its status link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct Initiated {
    #[serde(flatten)]
    pub order: OrderView,
    /// Opens the order without a login (`?t=`); present only when the order was created now
    /// (the token is stored hashed, so a reused order cannot show it again).
    pub status_token: Option<String>,
    pub status_url: Option<String>,
    /// An unexpired pending order of the same user and package was returned instead of a new one.
    pub reused: bool,
}

/// `GET /api/settings/payment-availability`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct Availability {
    pub available: bool,
    pub provider: Option<String>,
    /// A sentence for pages when not available.
    pub message: Option<String>,
}

/// How the webhook endpoint answers the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReply {
    pub status: u16,
    /// What the provider expects (its plugin decides for verified notifications).
    pub body: String,
    pub content_type: String,
    /// What happened, for logs and tests.
    pub outcome: EventOutcome,
}

/// What one verified statement about an order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    /// The order moved to this status.
    Moved(OrderStatus),
    /// A paid statement for an order we had expired or cancelled: now paid and flagged.
    LatePayment,
    /// Same webhook again, or a statement that would move the order backwards: no change.
    NoChange,
    Duplicate,
    /// The provider's amount differs from the order's: flagged, not applied.
    AmountMismatch,
    UnknownOrder,
    BadSignature,
    Malformed,
}
