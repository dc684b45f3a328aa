//! The state-store half of a run: baselines per MAC (`quota:base:<mac>`) and the journal of
//! the run in flight (`quota:journal`). A journal is written before the SQL commit and
//! promoted to baselines after it; [`Service::recover`] settles one a crash left behind.

use lpsaring_kernel::ports::router::Snapshot;
use lpsaring_kernel::{BatchOp, Mac, UserId};
use serde::{Deserialize, Serialize};

use super::RunState;
use crate::core::{self, Baseline, Baselines, Usage};
use crate::error::QuotaError;
use crate::service::Service;

pub(super) const BASELINE_PREFIX: &str = "quota:base:";
const JOURNAL_KEY: &str = "quota:journal";

fn store_err(e: lpsaring_kernel::StoreError) -> QuotaError {
    QuotaError::Store(e)
}

/// The journal of a run whose SQL may or may not have committed.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Journal {
    pub(super) run_id: String,
    put: Vec<(String, String)>,
    delete: Vec<String>,
}

impl Journal {
    /// The baselines a run changes: new or moved ones to put, vanished hosts' to delete.
    pub(super) fn of(run_id: &str, usage: &Usage) -> Self {
        Self {
            run_id: run_id.to_owned(),
            put: usage
                .changed()
                .map(|(m, b)| (m.to_string(), b.encode()))
                .collect(),
            delete: usage.delete.iter().map(Mac::to_string).collect(),
        }
    }

    /// Nothing to write: a steady run skips the journal and the promotion.
    pub(super) fn is_empty(&self) -> bool {
        self.put.is_empty() && self.delete.is_empty()
    }
}

impl Service {
    /// Finishes or discards a crashed run's journal: promoted when its run id is in `sync_runs`
    /// (its SQL committed), discarded otherwise. Returns what happened.
    pub(super) async fn recover(&self, state: &mut RunState) -> Result<Option<String>, QuotaError> {
        let Some(raw) = self.store.get(JOURNAL_KEY).await.map_err(store_err)? else {
            return Ok(None);
        };
        state.baselines = None;
        let journal: Option<Journal> = serde_json::from_slice(&raw).ok();
        let Some(journal) = journal else {
            tracing::error!("unreadable sync journal discarded");
            self.store.delete(JOURNAL_KEY).await.map_err(store_err)?;
            return Ok(Some("discarded unreadable journal".into()));
        };
        if self.run_committed(&journal.run_id).await? {
            self.promote(&journal).await?;
            tracing::info!(run_id = %journal.run_id, "promoted the journal of a committed sync run");
            Ok(Some(format!("promoted {}", journal.run_id)))
        } else {
            self.store.delete(JOURNAL_KEY).await.map_err(store_err)?;
            tracing::info!(run_id = %journal.run_id, "discarded the journal of an uncommitted sync run");
            Ok(Some(format!("discarded {}", journal.run_id)))
        }
    }

    /// Writes the run's journal before its SQL commits (nothing to write for an empty one).
    pub(super) async fn write_journal(&self, journal: &Journal) -> Result<(), QuotaError> {
        if journal.is_empty() {
            return Ok(());
        }
        let bytes = serde_json::to_vec(journal).map_err(QuotaError::Journal)?;
        self.store
            .set(JOURNAL_KEY, bytes, None)
            .await
            .map_err(store_err)
    }

    /// Drops the journal of a run whose SQL did not commit; should that fail too, the next
    /// run's recovery discards it (its run id is not in `sync_runs`).
    pub(super) async fn discard_journal(&self, journal: &Journal) {
        if !journal.is_empty()
            && let Err(e) = self.store.delete(JOURNAL_KEY).await
        {
            tracing::error!(error = %e, "could not discard the journal; the next run will");
        }
    }

    /// Baselines ← journal, and the journal removed, in one atomic batch.
    pub(super) async fn promote(&self, journal: &Journal) -> Result<(), QuotaError> {
        let mut ops = Vec::with_capacity(journal.put.len() + journal.delete.len() + 1);
        for (mac, enc) in &journal.put {
            ops.push(BatchOp::Put {
                key: format!("{BASELINE_PREFIX}{mac}"),
                value: enc.clone().into_bytes(),
                ttl: None,
            });
        }
        for mac in &journal.delete {
            ops.push(BatchOp::Delete {
                key: format!("{BASELINE_PREFIX}{mac}"),
            });
        }
        ops.push(BatchOp::Delete {
            key: JOURNAL_KEY.to_owned(),
        });
        self.store.write_batch(ops).await.map_err(store_err)
    }

    /// The promoted baselines, read from the store once and then kept by the run state.
    pub(super) async fn load_state(&self, state: &mut RunState) -> Result<(), QuotaError> {
        if state.baselines.is_none() {
            let rows = self
                .store
                .scan_prefix(BASELINE_PREFIX)
                .await
                .map_err(store_err)?;
            let parsed = rows.into_iter().filter_map(|(key, value)| {
                let mac = key
                    .strip_prefix(BASELINE_PREFIX)
                    .and_then(|m| Mac::parse(m).ok())?;
                let base = std::str::from_utf8(&value)
                    .ok()
                    .and_then(Baseline::decode)?;
                Some((mac, base))
            });
            state.baselines = Some(Baselines::from_rows(parsed));
        }
        Ok(())
    }

    /// Makes `mac`'s next charge start from now; auth calls it (through the `AccessPolicy`
    /// port) before a login registers the device to `user`. The host entry's current counters
    /// and `.id` become the device's baseline, so bytes the router counted before the login
    /// (for nobody, for a previous owner, before a removal) are never charged to `user`. A
    /// device already `user`'s keeps its baseline: its bytes since the last run are theirs.
    ///
    /// Runs under the run lock after settling a leftover journal, so neither a run in flight
    /// nor a crashed run's journal can overwrite the new baseline; and it runs before the
    /// registration, so no run meets the device registered without it. A taken-over device's
    /// bytes since the last run are charged to nobody (at most one sync interval's worth).
    pub async fn meter_from_now(&self, user: UserId, mac: Mac) -> Result<(), QuotaError> {
        if self
            .devices
            .find_by_mac(mac)
            .await?
            .is_some_and(|d| d.user_id == user)
        {
            return Ok(());
        }
        let mut state = self.run.lock().await;
        self.recover(&mut state).await?;
        let Snapshot { hosts, .. } = self
            .router
            .rows_for(&[mac], &[], None)
            .await
            .map_err(QuotaError::RouterUnavailable)?;
        let base = core::counted_host(hosts.iter().filter(|h| h.mac == mac)).map(Baseline::of_host);
        let key = format!("{BASELINE_PREFIX}{mac}");
        match &base {
            // No host entry: a later one starts counting from zero, as it should.
            None => self.store.delete(&key).await.map(drop),
            Some(b) => self.store.set(&key, b.encode().into_bytes(), None).await,
        }
        .map_err(store_err)?;
        if let Some(loaded) = state.baselines.as_mut() {
            loaded.set(mac, base);
        }
        Ok(())
    }
}
