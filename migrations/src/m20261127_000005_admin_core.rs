//! admin owns: settings (operator-editable runtime settings), audit_log.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("settings")
                .if_not_exists()
                .col(string_len("key", 100).primary_key())
                .col(text("value"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer_null("updated_by"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("audit_log")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(big_integer_null("actor_user_id"))
                .col(string_len("action", 60))
                .col(string_len_null("target", 100))
                .col(text_null("details"))
                .col(string_len_null("ip", 45))
                .take(),
        )
        .await?;
        m.create_index(index("audit_log", &["at"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["audit_log", "settings"] {
            m.drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
