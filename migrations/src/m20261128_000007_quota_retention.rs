//! quota: an index for the daily history purge (sync ledger rows and `sync_runs` by age), so it
//! deletes by range instead of scanning a table that grows by one row per charged user per run.

use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("quota_ledger", &["source", "created_at"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_quota_ledger_source_created_at")
                .table("quota_ledger")
                .to_owned(),
        )
        .await
    }
}
