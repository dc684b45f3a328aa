//! auth: the admin second factor (issue 18, security of the panel). One row per admin who started
//! enrolling: the TOTP secret encrypted with a key derived from the server secret, when it was
//! confirmed (`NULL` while enrolment is pending), the last step accepted (a code is never taken
//! twice) and the SHA-256 hashes of the unused recovery codes (a JSON array).

use sea_orm_migration::{prelude::*, schema::*};

use crate::fk_user;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("admin_totp")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(text("secret_enc"))
                .col(timestamp_with_time_zone_null("enabled_at"))
                .col(big_integer_null("last_step"))
                .col(text("recovery_hashes"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk_user("admin_totp", "user_id"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("admin_totp").if_exists().take())
            .await
    }
}
