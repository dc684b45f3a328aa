//! The state store's metrics: commit latency and writes (events), file size, entries and the hot
//! cache (sampled at scrape).

use async_trait::async_trait;
use lpsaring_kernel::metrics::Sampled;
use redb::{ReadableDatabase, ReadableTableMetadata};

use crate::Store;
use crate::writer::ENTRIES;

pub const COMMITS: &str = "lpsaring_store_commits_total";
pub const WRITE_OPS: &str = "lpsaring_store_write_ops_total";
pub const COMMIT_SECONDS: &str = "lpsaring_store_commit_seconds";
pub const FILE_BYTES: &str = "lpsaring_store_file_bytes";
pub const ENTRIES_GAUGE: &str = "lpsaring_store_entries";
pub const CACHE_ENTRIES: &str = "lpsaring_store_cache_entries";
pub const CACHE_BYTES: &str = "lpsaring_store_cache_bytes";

pub fn describe() {
    metrics::describe_counter!(
        COMMITS,
        "State store write transactions (each one fsync), by outcome."
    );
    metrics::describe_counter!(
        WRITE_OPS,
        "State store writes (set, delete, incr, ...) committed; several share one transaction."
    );
    metrics::describe_histogram!(
        COMMIT_SECONDS,
        metrics::Unit::Seconds,
        "Time to apply and fsync one state store write transaction."
    );
    metrics::describe_gauge!(
        FILE_BYTES,
        metrics::Unit::Bytes,
        "Size of the state store file."
    );
    metrics::describe_gauge!(
        ENTRIES_GAUGE,
        "Keys in the state store (expired ones until swept)."
    );
    metrics::describe_gauge!(CACHE_ENTRIES, "Keys in the state store's hot cache.");
    metrics::describe_gauge!(
        CACHE_BYTES,
        metrics::Unit::Bytes,
        "Approximate weight of the hot cache (keys and values); bounded."
    );
}

#[async_trait]
impl Sampled for Store {
    async fn sample(&self) {
        if let Ok(meta) = std::fs::metadata(&self.path) {
            metrics::gauge!(FILE_BYTES).set(meta.len() as f64);
        }
        let db = self.db.clone();
        let entries = tokio::task::spawn_blocking(move || -> Option<u64> {
            let txn = db.begin_read().ok()?;
            match txn.open_table(ENTRIES) {
                Ok(table) => table.len().ok(),
                Err(redb::TableError::TableDoesNotExist(_)) => Some(0),
                Err(_) => None,
            }
        })
        .await
        .ok()
        .flatten();
        if let Some(n) = entries {
            metrics::gauge!(ENTRIES_GAUGE).set(n as f64);
        }
        self.cache.run_pending_tasks();
        metrics::gauge!(CACHE_ENTRIES).set(self.cache.entry_count() as f64);
        metrics::gauge!(CACHE_BYTES).set(self.cache.weighted_size() as f64);
    }
}
