//! Short-lived state that must survive a restart but is not business data: OTP records,
//! cooldowns, attempt counters, rate-limit buckets, de-duplication keys, sync baselines and the
//! sync journal. The adapter (`lpsaring-store`) keeps it in redb, fronted by moka.
//!
//! Every key may carry a TTL; expiry is judged against the store's `Clock`, so tests can move time.

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store failure: {0}")]
    Backend(String),
    #[error("value under key {key:?} is not a counter")]
    NotACounter { key: String },
    #[error("state store is shutting down")]
    Closed,
    /// Another process holds the file (redb allows one process per file): callers such as
    /// `lpsaring sync once` tell the operator the service is running instead of failing.
    #[error(
        "state store {path} is locked: another lpsaring process probably holds it \
         (redb allows one process per file); stop it or use another data_dir"
    )]
    Locked { path: String },
}

/// One write in an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    Put {
        key: String,
        value: Vec<u8>,
        ttl: Option<Duration>,
    },
    Delete {
        key: String,
    },
}

/// Key/value state with TTLs. All writes are atomic; a batch is one transaction.
#[async_trait]
pub trait EphemeralStore: Send + Sync {
    /// The live (unexpired) value under `key`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Remaining time to live of a live key (`None` when absent or without a TTL).
    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError>;

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Option<Duration>)
    -> Result<(), StoreError>;

    /// Removes `key`; true when a live value was there.
    async fn delete(&self, key: &str) -> Result<bool, StoreError>;

    /// Adds `by` to the counter under `key` and returns the new value. A missing or expired counter
    /// starts from zero and gets `ttl`; an existing one keeps its expiry (fixed windows).
    /// Counters are stored as ASCII decimal, so `get` on one returns e.g. `b"3"`.
    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError>;

    /// Stores the value only if no live value exists; true when it was stored (locks, de-dup).
    async fn set_if_absent(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError>;

    /// Replaces the live value only if it equals `expected` (`None` = absent). `new = None`
    /// deletes. True when the swap happened.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<Vec<u8>>,
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError>;

    /// Live values for many keys at once, in the order asked.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;

    /// Applies every op in one transaction: all or nothing.
    async fn write_batch(&self, ops: Vec<BatchOp>) -> Result<(), StoreError>;

    /// Every live key starting with `prefix`, with its value, in key order.
    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Deletes expired keys; returns how many. Run by a background job.
    async fn sweep_expired(&self) -> Result<usize, StoreError>;

    /// Cheap liveness probe for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
}
