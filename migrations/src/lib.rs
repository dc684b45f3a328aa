//! Frozen DDL for lpsaring, one migration per owning module.
//!
//! Rules: a landed migration is never edited (add a new one); migrations never import entities;
//! every statement must run on both SQLite and Postgres. Bytes are BIGINT, money is BIGINT rupiah,
//! times are UTC timestamps.

pub use sea_orm_migration;
pub use sea_orm_migration::prelude::*;

mod m20261127_000001_auth_core;
mod m20261127_000002_devices_core;
mod m20261127_000003_quota_core;
mod m20261127_000004_payments_core;
mod m20261127_000005_admin_core;
mod m20261127_000006_kernel_outbox;
mod m20261128_000007_quota_retention;
mod m20261201_000008_payments_orders;
mod m20261201_000009_quota_package_period;
mod m20261201_000010_auth_voucher_accounts;
mod m20261201_000011_auth_user_language;
mod m20261201_000012_auth_admin_totp;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_auth_core::Migration),
            Box::new(m20261127_000002_devices_core::Migration),
            Box::new(m20261127_000003_quota_core::Migration),
            Box::new(m20261127_000004_payments_core::Migration),
            Box::new(m20261127_000005_admin_core::Migration),
            Box::new(m20261127_000006_kernel_outbox::Migration),
            Box::new(m20261128_000007_quota_retention::Migration),
            Box::new(m20261201_000008_payments_orders::Migration),
            Box::new(m20261201_000009_quota_package_period::Migration),
            Box::new(m20261201_000010_auth_voucher_accounts::Migration),
            Box::new(m20261201_000011_auth_user_language::Migration),
            Box::new(m20261201_000012_auth_admin_totp::Migration),
        ]
    }
}

/// Names of every table the migrations create, for readiness checks and tests.
pub const CORE_TABLES: &[&str] = &[
    "users",
    "refresh_tokens",
    "login_history",
    "devices",
    "quota_accounts",
    "usage_daily",
    "quota_ledger",
    "sync_runs",
    "packages",
    "transactions",
    "transaction_events",
    "vouchers",
    "settings",
    "audit_log",
    "outbox",
    "admin_totp",
];

/// A foreign key from `table.column` to `users.id`, deleting dependants with the user.
pub(crate) fn fk_user(table: &'static str, column: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to("users", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// A plain (non-unique) index.
pub(crate) fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", columns.join("_")))
        .table(table)
        .if_not_exists();
    for column in columns {
        stmt.col(*column);
    }
    stmt.take()
}
