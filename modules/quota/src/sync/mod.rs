//! Sync runs: count the bytes each registered device used since its baseline, charge them to
//! the owners, decide statuses and notices, and enforce the result on the router.
//!
//! Exactly-once across the two stores: a run writes its new baselines to a journal in the state
//! store ([`journal`]), commits all SQL (accounts, daily usage, ledger, outbox, the `sync_runs`
//! row) in one transaction ([`commit`]), then promotes the journal to baselines in one atomic
//! batch. Before each run a leftover journal is promoted if its run id is in `sync_runs` (the
//! SQL committed) and discarded otherwise. Whatever instant the process dies at, every byte is
//! counted once. [`run`] holds the steps in order.

mod commit;
mod journal;
mod run;

use crate::api::SyncSummary;
use crate::core::Baselines;
use crate::error::QuotaError;
use crate::service::Service;

/// State only a sync run touches; the mutex around it is what makes runs one at a time.
#[derive(Default)]
pub(crate) struct RunState {
    /// Baselines as promoted; `None` = (re)load from the store.
    baselines: Option<Baselines>,
}

impl Service {
    /// Runs one sync, waiting for a run in progress to finish first.
    pub async fn sync_once(&self) -> Result<SyncSummary, QuotaError> {
        let mut state = self.run.lock().await;
        let result = self.run_locked(&mut state).await.map(Some);
        crate::metrics::record(&result, self.clock.now().timestamp());
        result.map(|summary| summary.unwrap_or_default())
    }

    /// Runs one sync unless one is in progress (the periodic job skips a beat instead of queueing).
    pub async fn try_sync(&self) -> Result<Option<SyncSummary>, QuotaError> {
        let result = match self.run.try_lock() {
            Ok(mut state) => self.run_locked(&mut state).await.map(Some),
            Err(_) => Ok(None),
        };
        crate::metrics::record(&result, self.clock.now().timestamp());
        result
    }
}
