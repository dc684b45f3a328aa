//! The admin overview's figures, one small read port per owning module: auth counts users by
//! status, devices counts the devices online, quota sums usage and reports the last sync and the
//! accounts about to expire, payments sums revenue and the best-selling packages. Admin reads
//! them without depending on those modules; `app` wires each to its module.

use async_trait::async_trait;
use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::ApiError;

/// A named count (a status, a package) and, where it has one, an amount in rupiah.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct Tally {
    pub key: String,
    pub count: i64,
    pub amount: i64,
}

/// One local day's value (bytes or rupiah).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct DayValue {
    #[salvo(schema(value_type = String))]
    pub day: NaiveDate,
    pub value: i64,
}

/// auth's figures: users (role `user`) by status (`pending`, `approved`, `rejected`,
/// `blocked`, `inactive`), every status listed even when none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct UserFigures {
    pub by_status: Vec<Tally>,
}

/// devices' figures: devices seen on the hotspot in the last few minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct DeviceFigures {
    pub online_now: i64,
    /// The window "online" means, in minutes.
    pub window_minutes: i64,
}

/// The latest sync run as quota recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct SyncFigures {
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub bytes_counted: i64,
    pub router_writes: i32,
    pub errors: i32,
    pub status: String,
}

/// An account whose validity ends soon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct Expiring {
    pub user_id: i64,
    pub expires_at: DateTime<Utc>,
}

/// quota's figures over local days in the site's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct UsageFigures {
    pub today_bytes: i64,
    pub month_bytes: i64,
    /// The last 30 days, oldest first, every day listed.
    pub by_day: Vec<DayValue>,
    /// Accounts expiring in the next 3 days, soonest first.
    pub expiring: Vec<Expiring>,
    pub last_sync: Option<SyncFigures>,
}

/// payments' figures: paid orders (refunded ones do not count) by local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct SalesFigures {
    pub today_orders: i64,
    pub today_amount: i64,
    pub month_orders: i64,
    pub month_amount: i64,
    /// Rupiah per day over the last 30 days, oldest first, every day listed.
    pub by_day: Vec<DayValue>,
    /// Packages over the last 30 days, highest amount first.
    pub best_sellers: Vec<Tally>,
}

#[async_trait]
pub trait UserOverview: Send + Sync {
    async fn user_figures(&self) -> Result<UserFigures, ApiError>;
}

#[async_trait]
pub trait DeviceOverview: Send + Sync {
    async fn device_figures(&self) -> Result<DeviceFigures, ApiError>;
}

#[async_trait]
pub trait UsageOverview: Send + Sync {
    /// `today` is the local day in `tz` (the site's).
    async fn usage_figures(&self, today: NaiveDate, tz: Tz) -> Result<UsageFigures, ApiError>;
}

#[async_trait]
pub trait SalesOverview: Send + Sync {
    async fn sales_figures(&self, today: NaiveDate, tz: Tz) -> Result<SalesFigures, ApiError>;
}

/// The 30 local days ending `today`, oldest first.
pub fn last_30_days(today: NaiveDate) -> Vec<NaiveDate> {
    (0..30)
        .rev()
        .map(|back| today - chrono::Duration::days(back))
        .collect()
}

/// The first day of `today`'s month.
pub fn month_start(today: NaiveDate) -> NaiveDate {
    today.with_day0(0).unwrap_or(today)
}
