//! kernel owns: outbox (notifications waiting for the messenger; nothing is lost while a gateway
//! is down).

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("outbox")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len_uniq("dedup_key", 128))
                .col(string_len("channel", 20))
                .col(string_len("recipient", 25))
                .col(text("body"))
                .col(string_len("status", 20).default("pending"))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .take(),
        )
        .await?;
        m.create_index(index("outbox", &["status", "next_attempt_at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("outbox").if_exists().take())
            .await
    }
}
