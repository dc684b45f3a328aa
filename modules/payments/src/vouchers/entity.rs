//! The `vouchers` table (migration 000008): one row per printed code.

use sea_orm::entity::prelude::*;

use super::api::VoucherStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vouchers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// A UUID shared by the codes created together.
    pub batch_id: String,
    pub package_id: i64,
    /// The visible prefix of the code.
    pub prefix: String,
    /// HMAC of the normalised code (the lookup).
    #[sea_orm(unique)]
    pub code_hash: String,
    /// The code sealed with AES-256-GCM, for reprints.
    pub code_encrypted: String,
    pub status: VoucherStatus,
    /// The paid order it became.
    pub transaction_id: Option<i64>,
    pub redeemed_by: Option<i64>,
    pub redeemed_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
