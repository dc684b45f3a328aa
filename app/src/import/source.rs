//! Reading the original's Postgres database (its Alembic head: `users`, `user_devices`,
//! `packages` + `package_profiles`, `transactions`), in one read-only snapshot so the rows
//! agree with each other while the original keeps running. Only the columns imported are read;
//! UUIDs and decimals arrive as text.

use chrono::{DateTime, Utc};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult,
    IsolationLevel, Statement, TransactionTrait,
};

#[derive(Debug, Clone, FromQueryResult)]
pub struct User {
    pub id: String,
    pub phone_number: String,
    pub full_name: String,
    pub role: String,
    pub approval_status: String,
    pub is_active: bool,
    pub is_blocked: bool,
    pub blocked_reason: Option<String>,
    pub purchased_mb: i64,
    pub used_mb: String,
    pub quota_expiry_date: Option<DateTime<Utc>>,
    pub is_unlimited_user: bool,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// The hotspot profile of the user's latest successful purchase.
    pub profile: Option<String>,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Device {
    pub id: String,
    pub user_id: String,
    pub mac_address: String,
    pub ip_address: Option<String>,
    pub label: Option<String>,
    pub is_authorized: bool,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub description: Option<String>,
    pub is_active: bool,
    pub quota_gb: String,
    pub duration_days: i32,
    pub profile: Option<String>,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Transaction {
    pub id: String,
    pub user_id: Option<String>,
    pub package_id: Option<String>,
    pub order_id: String,
    pub provider_ref: Option<String>,
    pub redirect_url: Option<String>,
    pub amount: i64,
    pub status: String,
    pub payment_method: Option<String>,
    pub payment_time: Option<DateTime<Utc>>,
    pub expiry_time: Option<DateTime<Utc>>,
    pub va_number: Option<String>,
    pub payment_code: Option<String>,
    pub biller_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Everything imported, as the original holds it.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub users: Vec<User>,
    pub devices: Vec<Device>,
    pub packages: Vec<Package>,
    pub transactions: Vec<Transaction>,
}

const USERS: &str = "SELECT u.id::text AS id, u.phone_number, u.full_name, u.role, \
    u.approval_status, u.is_active, u.is_blocked, u.blocked_reason, \
    u.total_quota_purchased_mb AS purchased_mb, u.total_quota_used_mb::text AS used_mb, \
    u.quota_expiry_date, u.is_unlimited_user, u.created_at, u.approved_at, u.last_login_at, \
    (SELECT pp.profile_name FROM transactions t \
       JOIN packages p ON p.id = t.package_id \
       JOIN package_profiles pp ON pp.id = p.profile_id \
      WHERE t.user_id = u.id AND t.status = 'SUCCESS' \
      ORDER BY COALESCE(t.payment_time, t.updated_at) DESC LIMIT 1) AS profile \
    FROM users u ORDER BY u.created_at, u.id";

// Authorized and recently seen first: when the original has one MAC under two users, the
// device the router honours now is the one kept.
const DEVICES: &str = "SELECT d.id::text AS id, d.user_id::text AS user_id, d.mac_address, \
    d.ip_address, d.label, d.is_authorized, d.first_seen_at, d.last_seen_at \
    FROM user_devices d ORDER BY d.is_authorized DESC, d.last_seen_at DESC, d.id";

const PACKAGES: &str = "SELECT p.id::text AS id, p.name, p.price, p.description, p.is_active, \
    p.data_quota_gb::text AS quota_gb, p.duration_days, pp.profile_name AS profile \
    FROM packages p LEFT JOIN package_profiles pp ON pp.id = p.profile_id \
    ORDER BY p.created_at, p.id";

const TRANSACTIONS: &str = "SELECT t.id::text AS id, t.user_id::text AS user_id, \
    t.package_id::text AS package_id, t.midtrans_order_id AS order_id, \
    t.midtrans_transaction_id AS provider_ref, t.snap_redirect_url AS redirect_url, t.amount, \
    t.status, t.payment_method, t.payment_time, t.expiry_time, t.va_number, t.payment_code, \
    t.biller_code, t.created_at, t.updated_at \
    FROM transactions t ORDER BY t.created_at, t.id";

async fn all<T: FromQueryResult>(conn: &impl ConnectionTrait, sql: &str) -> Result<Vec<T>, DbErr> {
    T::find_by_statement(Statement::from_string(DbBackend::Postgres, sql))
        .all(conn)
        .await
}

/// Reads the snapshot in one `REPEATABLE READ, READ ONLY` transaction: consistent, and never a
/// write to the original.
pub async fn read(source: &DatabaseConnection) -> Result<Snapshot, DbErr> {
    let txn = source
        .begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?;
    let snapshot = Snapshot {
        users: all(&txn, USERS).await?,
        devices: all(&txn, DEVICES).await?,
        packages: all(&txn, PACKAGES).await?,
        transactions: all(&txn, TRANSACTIONS).await?,
    };
    txn.rollback().await?;
    Ok(snapshot)
}
