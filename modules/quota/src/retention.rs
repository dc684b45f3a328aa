//! History retention: per-run rows older than `history_retention_days` are deleted, in batches
//! so SQLite's one writer is never held for long. Purchases, admin grants, daily usage and
//! accounts are never touched.

use chrono::Duration;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter};

use crate::entity::{ledger, sync_run};
use crate::service::Service;

/// Rows per DELETE.
const BATCH: u64 = 5_000;

impl Service {
    /// Deletes sync ledger rows and `sync_runs` older than the retention. Returns (ledger rows,
    /// runs) deleted.
    pub async fn purge_history(&self) -> Result<(u64, u64), DbErr> {
        let days = self.settings.history_retention_days;
        if days == 0 {
            return Ok((0, 0));
        }
        let cutoff = self.clock.now() - Duration::days(i64::from(days));
        let ledger_rows = self
            .delete_in_batches(
                ledger::Entity,
                ledger::Column::Id,
                Condition::all()
                    .add(ledger::Column::Source.eq("sync"))
                    .add(ledger::Column::CreatedAt.lt(cutoff)),
            )
            .await?;
        let runs = self
            .delete_in_batches(
                sync_run::Entity,
                sync_run::Column::RunId,
                Condition::all().add(sync_run::Column::StartedAt.lt(cutoff)),
            )
            .await?;
        Ok((ledger_rows, runs))
    }

    /// Deletes the rows of `entity` matching `filter`, `BATCH` keys (`key`) at a time.
    async fn delete_in_batches<E: EntityTrait>(
        &self,
        entity: E,
        key: E::Column,
        filter: Condition,
    ) -> Result<u64, DbErr> {
        let mut deleted = 0;
        loop {
            let pick: SelectStatement = Query::select()
                .column(key)
                .from(entity)
                .cond_where(filter.clone())
                .limit(BATCH)
                .to_owned();
            let n = E::delete_many()
                .filter(key.in_subquery(pick))
                .exec(&self.db)
                .await?
                .rows_affected;
            deleted += n;
            if n < BATCH {
                return Ok(deleted);
            }
        }
    }
}
