//! payments owns: packages, transactions, transaction_events.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk_user, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("packages")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len("name", 100))
                .col(text_null("description"))
                .col(big_integer("price"))
                .col(big_integer("quota_bytes").default(0))
                .col(boolean("unlimited").default(false))
                .col(integer("duration_days"))
                .col(boolean("is_active").default(true))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("transactions")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len_uniq("order_id", 64))
                .col(big_integer("user_id"))
                .col(big_integer("package_id"))
                .col(big_integer("amount"))
                .col(string_len("status", 20))
                .col(string_len("provider", 50))
                .col(string_len_null("provider_ref", 100))
                .col(string_len_null("payment_method", 50))
                .col(text_null("redirect_url"))
                .col(text_null("qr_string"))
                .col(string_len_null("va_number", 50))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("paid_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk_user("transactions", "user_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_transactions_package_id")
                        .from("transactions", "package_id")
                        .to("packages", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .take(),
        )
        .await?;
        m.create_index(index("transactions", &["user_id", "created_at"]))
            .await?;
        m.create_index(index("transactions", &["status"])).await?;

        m.create_table(
            Table::create()
                .table("transaction_events")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("transaction_id"))
                .col(string_len("source", 30))
                .col(string_len("status", 20))
                .col(string_len_null("dedup_key", 128).unique_key())
                .col(text_null("payload"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_transaction_events_transaction_id")
                        .from("transaction_events", "transaction_id")
                        .to("transactions", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(index("transaction_events", &["transaction_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["transaction_events", "transactions", "packages"] {
            m.drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
