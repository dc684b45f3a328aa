//! quota: what a purchase leaves on the account besides bytes and expiry: the package's hotspot
//! profile (the latest purchase's wins; the sync gives it to `ok` users) and the end of an
//! unlimited period (`NULL` with `unlimited`: no end of its own, as admin grants and accounts
//! from before this migration have). SQLite adds one column per statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("quota_accounts")
                .add_column(string_len_null("profile", 64))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("quota_accounts")
                .add_column(timestamp_with_time_zone_null("unlimited_until"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["unlimited_until", "profile"] {
            m.alter_table(
                Table::alter()
                    .table("quota_accounts")
                    .drop_column(column)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
