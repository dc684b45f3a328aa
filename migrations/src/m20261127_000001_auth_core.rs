//! auth owns: users, refresh_tokens, login_history.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk_user, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("users")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len_uniq("phone_number", 25))
                .col(string_len("full_name", 100))
                .col(string_len("role", 20).default("USER"))
                .col(string_len("approval_status", 20).default("PENDING_APPROVAL"))
                .col(boolean("is_active").default(true))
                .col(boolean("is_blocked").default(false))
                .col(text_null("blocked_reason"))
                .col(text_null("password_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("approved_at"))
                .col(timestamp_with_time_zone_null("last_login_at"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("refresh_tokens")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("family_id", 36))
                .col(string_len_uniq("token_hash", 64))
                .col(timestamp_with_time_zone("issued_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(string_len_null("revoked_reason", 40))
                .col(big_integer_null("replaced_by"))
                .col(string_len_null("ip", 45))
                .col(text_null("user_agent"))
                .foreign_key(&mut fk_user("refresh_tokens", "user_id"))
                .take(),
        )
        .await?;
        m.create_index(index("refresh_tokens", &["family_id"]))
            .await?;
        m.create_index(index("refresh_tokens", &["user_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("login_history")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(timestamp_with_time_zone("at"))
                .col(string_len("method", 20))
                .col(string_len_null("ip", 45))
                .col(string_len_null("mac", 17))
                .col(text_null("user_agent"))
                .foreign_key(&mut fk_user("login_history", "user_id"))
                .take(),
        )
        .await?;
        m.create_index(index("login_history", &["user_id", "at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["login_history", "refresh_tokens", "users"] {
            m.drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
