//! auth: voucher accounts (issue 12, "a voucher is also a login"). A voucher login makes an
//! account without a phone, so `users.phone_number` becomes nullable (still unique: both
//! backends allow many NULLs in a unique column), and `users.voucher_ref` (unique, nullable)
//! finds the account of a voucher again.
//!
//! Postgres changes the column in place. SQLite cannot change a column's nullability, so the
//! table is rebuilt (SQLite's documented twelve steps): on one connection with foreign keys off,
//! because dropping `users` with them on would cascade into every table that points at it; in one
//! transaction; the rows keep their ids, the other tables' foreign keys keep naming `users`, the
//! indexes are made again, and `foreign_key_check` must find nothing before the commit. (The
//! migrator runs SQLite migrations outside a transaction and Postgres ones inside.)

use sea_orm_migration::sea_orm::sqlx::{self, Connection as _, Row as _};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns every version of `users` has, copied row by row in a rebuild.
const KEPT: &[&str] = &[
    "id",
    "phone_number",
    "full_name",
    "role",
    "approval_status",
    "is_active",
    "is_blocked",
    "blocked_reason",
    "password_hash",
    "created_at",
    "updated_at",
    "approved_at",
    "last_login_at",
];

const VOUCHER_INDEX: &str = "ux_users_voucher_ref";

/// `users` as 000001 made it, under `name`, with the phone nullable or not and the voucher
/// reference or not.
fn users_table(name: &str, nullable_phone: bool, voucher_ref: bool) -> TableCreateStatement {
    let mut phone = ColumnDef::new("phone_number");
    phone.string_len(25).unique_key();
    if nullable_phone {
        phone.null();
    } else {
        phone.not_null();
    }
    let mut t = Table::create();
    t.table(Alias::new(name))
        .col(big_pk_auto("id"))
        .col(phone)
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
        .col(timestamp_with_time_zone_null("last_login_at"));
    if voucher_ref {
        t.col(string_len_null("voucher_ref", 64));
    }
    t.take()
}

fn sqlx_err(e: &sqlx::Error) -> DbErr {
    DbErr::Migration(format!("rebuilding users: {e}"))
}

/// Replaces SQLite's `users` with `new_table`, keeping the rows of [`KEPT`], their ids and the
/// table's indexes; see the module doc.
async fn rebuild_sqlite_users(
    m: &SchemaManager<'_>,
    new_table: TableCreateStatement,
) -> Result<(), DbErr> {
    let SchemaManagerConnection::Connection(db) = m.get_connection() else {
        return Err(DbErr::Migration(
            "the users rebuild must run outside a transaction (foreign keys are switched off)"
                .to_owned(),
        ));
    };
    // One connection for the pragma and the work (an in-memory database lives in its pool's
    // only connection, so it is borrowed, not taken). Foreign keys are switched on again before
    // it goes back; if that fails, the connection is closed rather than returned without them.
    let mut conn = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(|e| sqlx_err(&e))?;
    sqlx::raw_sql("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .map_err(|e| sqlx_err(&e))?;
    let rebuilt = rebuild_in(&mut conn, new_table).await;
    let restored = sqlx::raw_sql("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await;
    if restored.is_err() {
        conn.close_on_drop();
    }
    rebuilt?;
    restored.map(|_| ()).map_err(|e| sqlx_err(&e))
}

/// The rebuild itself, in one transaction on `conn` (foreign keys already off).
async fn rebuild_in(
    conn: &mut sqlx::SqliteConnection,
    new_table: TableCreateStatement,
) -> Result<(), DbErr> {
    let mut txn = conn.begin().await.map_err(|e| sqlx_err(&e))?;
    let indexes: Vec<String> = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' AND sql IS NOT NULL",
    )
    .fetch_all(&mut *txn)
    .await
    .map_err(|e| sqlx_err(&e))?
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    let columns = KEPT.join(", ");
    let steps = [
        "DROP TABLE IF EXISTS users_rebuild".to_owned(),
        new_table.to_string(SqliteQueryBuilder),
        format!("INSERT INTO users_rebuild ({columns}) SELECT {columns} FROM users"),
        "DROP TABLE users".to_owned(),
        "ALTER TABLE users_rebuild RENAME TO users".to_owned(),
    ];
    for sql in steps.iter().chain(indexes.iter()) {
        // Our own DDL, and index definitions SQLite itself wrote.
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut *txn)
            .await
            .map_err(|e| sqlx_err(&e))?;
    }
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *txn)
        .await
        .map_err(|e| sqlx_err(&e))?;
    if !broken.is_empty() {
        // Dropping the transaction rolls it back.
        return Err(DbErr::Migration(format!(
            "rebuilding users would break {} foreign key reference(s)",
            broken.len()
        )));
    }
    txn.commit().await.map_err(|e| sqlx_err(&e))?;
    Ok(())
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => {
                rebuild_sqlite_users(m, users_table("users_rebuild", true, true)).await?;
            }
            _ => {
                m.get_connection()
                    .execute_unprepared("ALTER TABLE users ALTER COLUMN phone_number DROP NOT NULL")
                    .await?;
                m.alter_table(
                    Table::alter()
                        .table("users")
                        .add_column(string_len_null("voucher_ref", 64))
                        .take(),
                )
                .await?;
            }
        }
        m.create_index(
            Index::create()
                .name(VOUCHER_INDEX)
                .table("users")
                .col("voucher_ref")
                .unique()
                .take(),
        )
        .await
    }

    /// Back to a required phone: refused while a voucher account has none.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let phoneless = m
            .get_connection()
            .query_one_raw(sea_orm::Statement::from_string(
                m.get_database_backend(),
                "SELECT COUNT(*) AS n FROM users WHERE phone_number IS NULL",
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if phoneless > 0 {
            return Err(DbErr::Migration(format!(
                "{phoneless} voucher account(s) have no phone number; attach one or remove them first"
            )));
        }
        m.drop_index(Index::drop().name(VOUCHER_INDEX).table("users").to_owned())
            .await?;
        match m.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => {
                rebuild_sqlite_users(m, users_table("users_rebuild", false, false)).await
            }
            _ => {
                m.alter_table(
                    Table::alter()
                        .table("users")
                        .drop_column("voucher_ref")
                        .take(),
                )
                .await?;
                m.get_connection()
                    .execute_unprepared("ALTER TABLE users ALTER COLUMN phone_number SET NOT NULL")
                    .await
                    .map(|_| ())
            }
        }
    }
}
