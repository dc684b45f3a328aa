//! quota owns: quota_accounts, usage_daily, quota_ledger, sync_runs.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk_user, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("quota_accounts")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(big_integer("purchased_bytes").default(0))
                .col(big_integer("used_bytes").default(0))
                .col(boolean("unlimited").default(false))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(big_integer_null("fup_threshold_bytes"))
                .col(big_integer_null("low_quota_notified_bytes"))
                .col(integer_null("expiry_notified_days"))
                .col(string_len_null("last_status", 20))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk_user("quota_accounts", "user_id"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("usage_daily")
                .if_not_exists()
                .col(big_integer("user_id"))
                .col(date("day"))
                .col(big_integer("bytes").default(0))
                .primary_key(Index::create().col("user_id").col("day"))
                .foreign_key(&mut fk_user("usage_daily", "user_id"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("quota_ledger")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("source", 20))
                .col(string_len_uniq("idempotency_key", 128))
                .col(big_integer("purchased_before"))
                .col(big_integer("purchased_after"))
                .col(big_integer("used_before"))
                .col(big_integer("used_after"))
                .col(timestamp_with_time_zone_null("expires_before"))
                .col(timestamp_with_time_zone_null("expires_after"))
                .col(string_len_null("actor", 100))
                .col(text_null("note"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk_user("quota_ledger", "user_id"))
                .take(),
        )
        .await?;
        m.create_index(index("quota_ledger", &["user_id", "created_at"]))
            .await?;

        m.create_table(
            Table::create()
                .table("sync_runs")
                .if_not_exists()
                .col(string_len("run_id", 36).primary_key())
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(integer("hosts_seen").default(0))
                .col(integer("devices_matched").default(0))
                .col(integer("unknown_macs").default(0))
                .col(big_integer("bytes_counted").default(0))
                .col(integer("router_writes").default(0))
                .col(integer("errors").default(0))
                .col(string_len("status", 20))
                .col(text_null("error"))
                .take(),
        )
        .await?;
        m.create_index(index("sync_runs", &["started_at"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["sync_runs", "quota_ledger", "usage_daily", "quota_accounts"] {
            m.drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
