//! devices owns: devices (one row per MAC; a MAC belongs to at most one user).

use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk_user, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("devices")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len_uniq("mac", 17))
                .col(string_len_null("ip", 45))
                .col(string_len_null("label", 100))
                .col(boolean("is_authorized").default(true))
                .col(timestamp_with_time_zone("first_seen_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .col(timestamp_with_time_zone_null("last_login_at"))
                .foreign_key(&mut fk_user("devices", "user_id"))
                .take(),
        )
        .await?;
        m.create_index(index("devices", &["user_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("devices").if_exists().take())
            .await
    }
}
