//! SQL helpers every module shares.

use sea_orm::error::ConnAcquireErr;
use sea_orm::{DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait};

/// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later fails with
/// `SQLITE_BUSY_SNAPSHOT` when another connection committed in between, and the busy timeout
/// cannot help with that. Postgres ignores the mode.
pub async fn begin_write<C: TransactionTrait>(conn: &C) -> Result<C::Transaction, DbErr> {
    conn.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The database is there but overloaded: no pooled connection came free in time, or SQLite's
/// write lock stayed busy past the busy timeout. A caller answers 503 (retry later), not 500:
/// nothing is broken and nothing was written.
pub fn is_busy(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        other => other.to_string().contains("database is locked"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_timeout_and_a_locked_database_are_busy_and_other_errors_are_not() {
        assert!(is_busy(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)));
        assert!(is_busy(&DbErr::Custom(
            "error returned from database: (code: 5) database is locked".into()
        )));
        assert!(!is_busy(&DbErr::ConnectionAcquire(
            ConnAcquireErr::ConnectionClosed
        )));
        assert!(!is_busy(&DbErr::RecordNotFound("order".into())));
    }
}
