//! Public types of vouchers: what the admin JSON, the CLI, pages and tests see.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A code's state; moves only from `active` (to `redeemed` or `revoked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "lowercase")]
pub enum VoucherStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "redeemed")]
    Redeemed,
    #[sea_orm(string_value = "revoked")]
    Revoked,
}

/// `POST /api/admin/vouchers` and `lpsaring voucher create`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, salvo::oapi::ToSchema)]
pub struct CreateBatch {
    pub package_id: i64,
    pub count: u32,
    #[serde(default)]
    pub prefix: Option<String>,
}

/// A batch of codes created together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct Batch {
    pub batch_id: String,
    pub package_id: i64,
    pub package_name: String,
    pub price: i64,
    pub prefix: String,
    pub count: i64,
    pub used: i64,
    pub revoked: i64,
    pub created_at: DateTime<Utc>,
}

/// A new batch with its codes (the only answer besides the admin's codes list that shows them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct CreatedBatch {
    #[serde(flatten)]
    pub batch: Batch,
    pub codes: Vec<String>,
}

/// One code of a batch, for the admin (reprint, export).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct VoucherCode {
    /// Printed form, `PREFIX-ABCDE-FGHJK`.
    pub code: String,
    #[salvo(schema(value_type = String))]
    pub status: VoucherStatus,
    pub redeemed_at: Option<DateTime<Utc>>,
    /// The order it became.
    pub order_id: Option<String>,
}

/// `POST /api/vouchers/redeem`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, salvo::oapi::ToSchema)]
pub struct RedeemRequest {
    pub code: String,
}
