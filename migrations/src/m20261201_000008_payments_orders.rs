//! payments: packages, orders, their event log and vouchers as issue 12 needs them. Migration
//! 000004's tables were never written, and SQLite cannot change a column's nullability or a
//! foreign key in place, so they are dropped and created again.
//!
//! - `packages`: unique names, a hotspot profile (speed), a sort order, validity in hours.
//! - `transactions`: the buyer's phone and name at the time (users are only ever soft-deleted),
//!   what the package was when bought (a later edit never changes a paid order), everything the
//!   provider answered (method, VA number, bill key + biller code, QR string, deeplink, redirect
//!   URL, provider expiry), the status link's token hash, reconciliation bookkeeping, a flag
//!   for the operator, and `applied_at` (set in the transaction that wrote the quota grant).
//! - `transaction_events`: every input about an order, by kind; duplicates of one webhook share
//!   a `dedup_key` (unique), everything else is appended.
//! - `vouchers`: printed codes (keyed hash for lookup, encrypted copy for reprints).

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A foreign key that refuses to delete the referenced row while this one points at it.
fn fk_restrict(
    table: &'static str,
    column: &'static str,
    to: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["transaction_events", "transactions", "packages"] {
            m.drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }

        m.create_table(
            Table::create()
                .table("packages")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("name", 100))
                .col(text_null("description"))
                .col(big_integer("price"))
                .col(big_integer("quota_bytes").default(0))
                .col(boolean("unlimited").default(false))
                .col(integer("validity_hours"))
                .col(string_len_null("hotspot_profile", 64))
                .col(integer("sort_order").default(0))
                .col(boolean("is_active").default(true))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;
        m.create_index(index("packages", &["is_active", "sort_order"]))
            .await?;

        m.create_table(
            Table::create()
                .table("transactions")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("order_id", 64))
                .col(big_integer("user_id"))
                .col(big_integer("package_id"))
                .col(string_len("source", 20))
                .col(big_integer("amount"))
                .col(string_len("status", 20))
                .col(string_len_null("buyer_phone", 20))
                .col(string_len("buyer_name", 100))
                .col(string_len("package_name", 100))
                .col(big_integer("quota_bytes"))
                .col(boolean("unlimited"))
                .col(integer("validity_hours"))
                .col(string_len_null("hotspot_profile", 64))
                .col(string_len_null("provider", 50))
                .col(string_len_null("provider_ref", 100))
                .col(string_len_null("payment_method", 50))
                .col(string_len_null("va_bank", 20))
                .col(string_len_null("va_number", 50))
                .col(string_len_null("bill_key", 50))
                .col(string_len_null("biller_code", 20))
                .col(text_null("qr_string"))
                .col(text_null("deeplink"))
                .col(text_null("redirect_url"))
                .col(timestamp_with_time_zone_null("provider_expires_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(integer("reconcile_attempts").default(0))
                .col(timestamp_with_time_zone_null("next_check_at"))
                .col(boolean("flagged").default(false))
                .col(text_null("flag_reason"))
                .col(text_null("note"))
                .col(timestamp_with_time_zone_null("paid_at"))
                .col(timestamp_with_time_zone_null("applied_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk_restrict("transactions", "user_id", "users"))
                .foreign_key(&mut fk_restrict("transactions", "package_id", "packages"))
                .take(),
        )
        .await?;
        m.create_index(index("transactions", &["user_id", "created_at"]))
            .await?;
        m.create_index(index("transactions", &["status", "next_check_at"]))
            .await?;
        m.create_index(index("transactions", &["package_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("transaction_events")
                .col(big_pk_auto("id"))
                .col(big_integer("transaction_id"))
                .col(string_len("kind", 30))
                .col(string_len("source", 50))
                .col(string_len_null("status", 20))
                .col(string_len_null("dedup_key", 128).unique_key())
                .col(text_null("payload"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk_restrict(
                    "transaction_events",
                    "transaction_id",
                    "transactions",
                ))
                .take(),
        )
        .await?;
        m.create_index(index("transaction_events", &["transaction_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("vouchers")
                .col(big_pk_auto("id"))
                .col(string_len("batch_id", 36))
                .col(big_integer("package_id"))
                .col(string_len("prefix", 10))
                .col(string_len_uniq("code_hash", 64))
                .col(text("code_encrypted"))
                .col(string_len("status", 20))
                .col(big_integer_null("transaction_id"))
                .col(big_integer_null("redeemed_by"))
                .col(timestamp_with_time_zone_null("redeemed_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk_restrict("vouchers", "package_id", "packages"))
                .foreign_key(&mut fk_restrict(
                    "vouchers",
                    "transaction_id",
                    "transactions",
                ))
                .foreign_key(&mut fk_restrict("vouchers", "redeemed_by", "users"))
                .take(),
        )
        .await?;
        m.create_index(index("vouchers", &["batch_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["vouchers", "transaction_events", "transactions", "packages"] {
            m.drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
