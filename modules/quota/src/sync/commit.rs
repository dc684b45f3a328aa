//! The SQL half of a run: everything it decided, in one transaction — accounts, daily usage,
//! ledger rows, queued notices and the `sync_runs` row whose presence says "committed" to
//! [`Service::recover`](super::journal). Written with the entities' typed columns.

use chrono::{DateTime, NaiveDate, Utc};
use lpsaring_kernel::UserId;
use lpsaring_kernel::outbox::{self, OutboxMessage};
use lpsaring_kernel::ports::router::RouterError;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter,
};

use crate::api::SyncSummary;
use crate::entity::{account, ledger, sync_run, usage_daily};
use crate::service::{AccountRow, CHUNK, Service};

/// What a run charges, decided under the accounts lock.
#[derive(Default)]
pub(super) struct Charges {
    /// Accounts to upsert: (user, bytes to add, the account after this run).
    pub(super) accounts: Vec<(UserId, i64, AccountRow)>,
    /// Ledger rows: (user, the account before this run, bytes added).
    pub(super) ledger: Vec<(UserId, AccountRow, i64)>,
    pub(super) messages: Vec<OutboxMessage>,
}

/// One run's commit: its summary so far, when it started, the local day its bytes belong to,
/// and what it charges.
pub(super) struct RunCommit<'a> {
    pub(super) summary: &'a SyncSummary,
    pub(super) started: DateTime<Utc>,
    pub(super) today: NaiveDate,
    pub(super) now: DateTime<Utc>,
    pub(super) charges: &'a Charges,
}

/// `table.column + excluded.column`: an upsert that adds instead of overwriting.
fn plus_excluded<E: EntityTrait>(entity: E, column: E::Column) -> Expr {
    Expr::col((entity, column)).add(Expr::col((Alias::new("excluded"), column)))
}

fn clamp(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Service {
    /// Whether the run's SQL committed (its `sync_runs` row says `ok`).
    pub(super) async fn run_committed(&self, run_id: &str) -> Result<bool, DbErr> {
        Ok(sync_run::Entity::find_by_id(run_id.to_owned())
            .one(&self.db)
            .await?
            .is_some_and(|r| r.status == "ok"))
    }

    pub(super) async fn commit_run(&self, run: &RunCommit<'_>) -> Result<(), DbErr> {
        let RunCommit {
            summary,
            started,
            today,
            now,
            charges,
        } = *run;
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        for chunk in charges.accounts.chunks(CHUNK) {
            let rows = chunk
                .iter()
                .map(|(user, delta, after)| account::ActiveModel {
                    user_id: Set(user.0),
                    purchased_bytes: Set(0),
                    used_bytes: Set(*delta),
                    unlimited: Set(false),
                    expires_at: NotSet,
                    fup_threshold_bytes: NotSet,
                    low_quota_notified_bytes: Set(after.memory.low_notified),
                    expiry_notified_days: Set(after
                        .memory
                        .expiry_notified
                        .and_then(|d| i32::try_from(d).ok())),
                    last_status: Set(after.memory.last_status.map(|s| s.as_str().to_owned())),
                    updated_at: Set(now),
                    profile: NotSet,
                    unlimited_until: NotSet,
                });
            account::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::column(account::Column::UserId)
                        .value(
                            account::Column::UsedBytes,
                            plus_excluded(account::Entity, account::Column::UsedBytes),
                        )
                        .update_columns([
                            account::Column::LowQuotaNotifiedBytes,
                            account::Column::ExpiryNotifiedDays,
                            account::Column::LastStatus,
                            account::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        let charged: Vec<&(UserId, i64, AccountRow)> =
            charges.accounts.iter().filter(|(_, d, _)| *d > 0).collect();
        for chunk in charged.chunks(CHUNK) {
            let rows = chunk
                .iter()
                .map(|(user, delta, _)| usage_daily::ActiveModel {
                    user_id: Set(user.0),
                    day: Set(today),
                    bytes: Set(*delta),
                });
            usage_daily::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([usage_daily::Column::UserId, usage_daily::Column::Day])
                        .value(
                            usage_daily::Column::Bytes,
                            plus_excluded(usage_daily::Entity, usage_daily::Column::Bytes),
                        )
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        for chunk in charges.ledger.chunks(CHUNK) {
            let rows = chunk
                .iter()
                .map(|(user, before, delta)| ledger::ActiveModel {
                    id: NotSet,
                    user_id: Set(user.0),
                    source: Set("sync".to_owned()),
                    idempotency_key: Set(format!("sync:{}:{}", summary.run_id, user.0)),
                    purchased_before: Set(before.purchased),
                    purchased_after: Set(before.purchased),
                    used_before: Set(before.used),
                    used_after: Set(before.used.saturating_add(*delta)),
                    expires_before: Set(before.expires_at),
                    expires_after: Set(before.expires_at),
                    actor: Set(Some("sync".to_owned())),
                    note: Set(None),
                    created_at: Set(now),
                });
            ledger::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        outbox::enqueue_many(&txn, &charges.messages, now).await?;
        let row = sync_run::ActiveModel {
            run_id: Set(summary.run_id.clone()),
            started_at: Set(started),
            finished_at: Set(None),
            hosts_seen: Set(clamp(summary.hosts_seen)),
            devices_matched: Set(clamp(summary.devices_matched)),
            unknown_macs: Set(clamp(summary.unknown_macs)),
            bytes_counted: Set(summary.bytes_counted),
            router_writes: Set(0),
            errors: Set(0),
            status: Set("ok".into()),
            error: Set(None),
        };
        sync_run::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await
    }

    /// Completes the committed run's `sync_runs` row with what enforcing it did (best effort:
    /// the usage is committed either way).
    pub(super) async fn finish_run(&self, run_id: &str, writes: usize, errors: usize) {
        let update = sync_run::Entity::update_many()
            .col_expr(sync_run::Column::FinishedAt, Expr::value(self.clock.now()))
            .col_expr(sync_run::Column::RouterWrites, Expr::value(clamp(writes)))
            .col_expr(sync_run::Column::Errors, Expr::value(clamp(errors)))
            .filter(sync_run::Column::RunId.eq(run_id))
            .exec(&self.db)
            .await;
        if let Err(e) = update {
            tracing::warn!(error = %e, "could not finish the sync_runs row");
        }
    }

    /// A run the router refused: a `failed` row, so the history shows the gap.
    pub(super) async fn record_failed_run(
        &self,
        run_id: &str,
        started: DateTime<Utc>,
        error: &RouterError,
    ) {
        let row = sync_run::ActiveModel {
            run_id: Set(run_id.to_owned()),
            started_at: Set(started),
            finished_at: Set(Some(self.clock.now())),
            hosts_seen: Set(0),
            devices_matched: Set(0),
            unknown_macs: Set(0),
            bytes_counted: Set(0),
            router_writes: Set(0),
            errors: Set(1),
            status: Set("failed".into()),
            error: Set(Some(error.to_string())),
        };
        if let Err(e) = sync_run::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
        {
            tracing::warn!(error = %e, "could not record the failed sync run");
        }
    }
}
