//! The kernel's [`EphemeralStore`] on redb (durable, `<data_dir>/state.redb`) fronted by a moka
//! cache of recently written keys.
//!
//! * **Writes** go to one dedicated writer thread (see [`writer`]) that applies everything queued
//!   in one redb transaction, commits with `Durability::Immediate` (fsync), then updates the cache
//!   and replies. Every acknowledged write is on disk; concurrent writers share one fsync.
//! * **Reads** look in the cache first. On a miss they read redb on the blocking pool and do not
//!   fill the cache: only the writer changes the cache, in commit order, so it cannot go stale.
//! * **Expiry** is an absolute unix-millis instant stored with the value and judged against the
//!   injected [`Clock`] on every read; expired keys are invisible at once and removed from disk by
//!   [`EphemeralStore::sweep_expired`] (the [`sweep_job`] runs it).
//! * **Counters** (`incr`) are stored as ASCII decimal, so `get` on a counter returns e.g. `b"3"`.
//!
//! redb locks its file: a second process (or a second `Store` on the same path) gets a clear error.

pub mod metrics;
mod record;
mod writer;

#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle as ThreadHandle;
use std::time::Duration;

use async_trait::async_trait;
use lpsaring_kernel::health::{Check, Health};
use lpsaring_kernel::jobs::Job;
use lpsaring_kernel::{BatchOp, Clock, EphemeralStore, StoreError};
use moka::sync::Cache;
use redb::{Database, DatabaseError, ReadableDatabase, ReadableTable};
use tokio::sync::{mpsc, oneshot};

use crate::record::Cached;
use crate::writer::{Command, ENTRIES, Outcome, Reply, WriteOp, Writer};

/// The file name the app uses inside `data_dir`.
pub const STATE_FILE_NAME: &str = "state.redb";

/// `(expires_at, value)` as stored; may be expired.
type StoredRecord = (i64, Vec<u8>);

/// Memory budget of the hot cache: keys, values and each entry's bookkeeping (see
/// `record::Cached::weight`).
const CACHE_BYTES: u64 = 24 * 1024 * 1024;

/// redb's own page cache. Its default is 1 GiB, which a busy portal's file would grow into; the
/// hot cache above answers most reads, so redb needs only enough for the tree's upper pages.
const REDB_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Commands waiting for the writer; when full, callers wait (async) instead of piling up memory.
const WRITE_QUEUE_DEPTH: usize = 4096;

/// Expired keys deleted per writer command, so a big sweep does not stall other writes.
const SWEEP_CHUNK: usize = 1024;

/// redb + moka state store. Cheap to share as `Arc<Store>` / `Arc<dyn EphemeralStore>`.
///
/// Dropping it flushes queued writes and waits for the writer thread (briefly blocking the
/// current thread); [`Store::close`] does the same without blocking the runtime.
pub struct Store {
    db: Arc<Database>,
    cache: Cache<String, Cached>,
    cache_epoch: Arc<AtomicU64>,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    /// `None` once closed; dropping it lets the writer drain its queue and stop.
    commands: Option<mpsc::Sender<Command>>,
    writer: Option<ThreadHandle<()>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the redb file at `path` and starts the writer thread.
    ///
    /// Fails with [`StoreError::Locked`] when another process already holds the file.
    pub async fn open(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let db = {
            let path = path.clone();
            // Opening may run redb's crash repair, which can take a while: keep it off the runtime.
            tokio::task::spawn_blocking(move || open_database(&path))
                .await
                .map_err(task_failed)??
        };
        let db = Arc::new(db);
        let cache = Cache::builder()
            .max_capacity(CACHE_BYTES)
            .weigher(|key: &String, cached: &Cached| cached.weight(key))
            .build();
        let cache_epoch = Arc::new(AtomicU64::new(0));
        let (commands, queue) = mpsc::channel(WRITE_QUEUE_DEPTH);
        let writer = Writer {
            db: Arc::clone(&db),
            cache: cache.clone(),
            clock: Arc::clone(&clock),
            cache_epoch: Arc::clone(&cache_epoch),
        };
        let writer = std::thread::Builder::new()
            .name("lpsaring-store-writer".to_owned())
            .spawn(move || writer.run(queue))
            .map_err(|e| {
                StoreError::Backend(format!("cannot start the state store writer: {e}"))
            })?;
        Ok(Self {
            db,
            cache,
            cache_epoch,
            clock,
            path,
            commands: Some(commands),
            writer: Some(writer),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting writes, lets the writer commit everything already queued, and waits for
    /// it on the blocking pool.
    pub async fn close(mut self) -> Result<(), StoreError> {
        self.commands = None;
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(task_failed)?
            .map_err(|_| StoreError::Backend("the state store writer thread panicked".to_owned()))
    }

    /// Sends one op to the writer and waits for its reply.
    async fn submit(&self, op: WriteOp) -> Outcome {
        let commands = self.commands.as_ref().ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        commands
            .send(Command { op, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs a read against redb on the blocking pool.
    async fn read_db<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || read(&db))
            .await
            .map_err(task_failed)?
    }

    /// Writes a consistent copy of every entry (one read transaction: what was committed when
    /// it began) to a new redb file at `to`, for a backup taken while the store is in use.
    /// Returns the number of entries copied.
    pub async fn snapshot(&self, to: &Path) -> Result<u64, StoreError> {
        let to = to.to_path_buf();
        self.read_db(move |db| copy_entries(db, &to)).await
    }

    /// The stored record (possibly expired) under `key`: cache first, then redb.
    async fn lookup(&self, key: &str) -> Result<Option<StoredRecord>, StoreError> {
        if let Some(cached) = self.cache.get(key) {
            return Ok(cached
                .value
                .map(|value| (cached.expires_at, value.to_vec())));
        }
        let keys = vec![key.to_owned()];
        let mut records = self.read_db(move |db| read_records(db, &keys)).await?;
        Ok(records.pop().flatten())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.commands = None;
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!(path = %self.path.display(), "state store writer thread panicked");
        }
    }
}

#[async_trait]
impl EphemeralStore for Store {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let record = self.lookup(key).await?;
        let now = self.clock.now_millis();
        Ok(
            record
                .and_then(|(expires_at, value)| record::is_live(expires_at, now).then_some(value)),
        )
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        let record = self.lookup(key).await?;
        let now = self.clock.now_millis();
        Ok(record
            .filter(|(expires_at, _)| record::is_live(*expires_at, now))
            .and_then(|(expires_at, _)| record::remaining(expires_at, now)))
    }

    async fn set(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), StoreError> {
        match self
            .submit(WriteOp::Set {
                key: key.to_owned(),
                value,
                ttl,
            })
            .await?
        {
            Reply::Done => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        flag(
            self.submit(WriteOp::Delete {
                key: key.to_owned(),
            })
            .await?,
        )
    }

    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
        match self
            .submit(WriteOp::Incr {
                key: key.to_owned(),
                by,
                ttl,
            })
            .await?
        {
            Reply::Counter(value) => Ok(value),
            other => Err(unexpected(&other)),
        }
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        flag(
            self.submit(WriteOp::SetIfAbsent {
                key: key.to_owned(),
                value,
                ttl,
            })
            .await?,
        )
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<Vec<u8>>,
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        let op = WriteOp::CompareAndSwap {
            key: key.to_owned(),
            expected: expected.map(<[u8]>::to_vec),
            new,
            ttl,
        };
        flag(self.submit(op).await?)
    }

    /// One consistent snapshot: either every key is answered from the cache while no commit was
    /// changing it, or every key is read from a single redb read transaction. So a concurrent
    /// `write_batch` is seen entirely or not at all.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let epoch_before = self.cache_epoch.load(Ordering::SeqCst);
        if epoch_before.is_multiple_of(2) {
            let hits: Option<Vec<Cached>> = keys
                .iter()
                .map(|key| self.cache.get(key.as_str()))
                .collect();
            fence(Ordering::SeqCst);
            if let Some(hits) = hits
                && self.cache_epoch.load(Ordering::SeqCst) == epoch_before
            {
                let now = self.clock.now_millis();
                return Ok(hits
                    .iter()
                    .map(|hit| hit.live_value(now).map(<[u8]>::to_vec))
                    .collect());
            }
        }
        let keys = keys.to_vec();
        let records = self.read_db(move |db| read_records(db, &keys)).await?;
        let now = self.clock.now_millis();
        Ok(records
            .into_iter()
            .map(|record| {
                record.and_then(|(expires_at, value)| {
                    record::is_live(expires_at, now).then_some(value)
                })
            })
            .collect())
    }

    async fn write_batch(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        match self.submit(WriteOp::Batch(ops)).await? {
            Reply::Done => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let prefix = prefix.to_owned();
        let records = self.read_db(move |db| scan_records(db, &prefix)).await?;
        let now = self.clock.now_millis();
        Ok(records
            .into_iter()
            .filter(|(_, expires_at, _)| record::is_live(*expires_at, now))
            .map(|(key, _, value)| (key, value))
            .collect())
    }

    /// Finds expired keys in a read snapshot (off the writer), then has the writer delete those
    /// still expired, in chunks so other writes interleave.
    async fn sweep_expired(&self) -> Result<usize, StoreError> {
        let now = self.clock.now_millis();
        let expired = self.read_db(move |db| expired_keys(db, now)).await?;
        let mut deleted = 0;
        for chunk in expired.chunks(SWEEP_CHUNK) {
            match self
                .submit(WriteOp::DeleteIfExpired(chunk.to_vec()))
                .await?
            {
                Reply::Count(count) => deleted += count,
                other => return Err(unexpected(&other)),
            }
        }
        Ok(deleted)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if self.commands.as_ref().is_none_or(mpsc::Sender::is_closed) {
            return Err(StoreError::Closed);
        }
        self.read_db(|db| {
            let txn = db.begin_read().map_err(backend)?;
            txn.open_table(ENTRIES).map_err(backend)?;
            Ok(())
        })
        .await
    }
}

/// `/readyz`'s `state_store`: down when the store is closed or its file cannot be read.
#[async_trait]
impl Health for Store {
    fn name(&self) -> &'static str {
        "state_store"
    }

    async fn check(&self) -> Check {
        match self.ping().await {
            Ok(()) => Check::ok("answers"),
            Err(error) => {
                tracing::warn!(%error, "readiness: state store does not answer");
                Check::down("does not answer")
            }
        }
    }
}

/// The job that runs `sweep_expired` every `every`. It holds only a weak reference, so it never
/// keeps the store (and its file lock) alive; once the store is gone its runs do nothing.
pub fn sweep_job<S>(store: &Arc<S>, every: Duration) -> Job
where
    S: EphemeralStore + ?Sized + 'static,
{
    let store: Weak<S> = Arc::downgrade(store);
    Job::new("store.sweep", every, store, |store| async move {
        let Some(store) = store.upgrade() else { return };
        match store.sweep_expired().await {
            Ok(0) | Err(StoreError::Closed) => {}
            Ok(deleted) => tracing::debug!(deleted, "swept expired state keys"),
            Err(error) => tracing::warn!(%error, "sweeping expired state keys failed"),
        }
    })
}

fn open_database(path: &Path) -> Result<Database, StoreError> {
    let db = Database::builder()
        .set_cache_size(REDB_CACHE_BYTES)
        .create(path)
        .map_err(|error| match error {
            DatabaseError::DatabaseAlreadyOpen => StoreError::Locked {
                path: path.display().to_string(),
            },
            other => StoreError::Backend(format!(
                "cannot open state store {}: {other}",
                path.display()
            )),
        })?;
    // A read transaction cannot open a table that was never created: create it now.
    let txn = db.begin_write().map_err(backend)?;
    txn.open_table(ENTRIES).map_err(backend)?;
    txn.commit().map_err(backend)?;
    Ok(db)
}

/// [`Store::snapshot`] of the file at `from` when no process holds it (the service is
/// stopped); `StoreError::Locked` when one does.
pub fn snapshot_file(from: &Path, to: &Path) -> Result<u64, StoreError> {
    copy_entries(&open_database(from)?, to)
}

/// `Ok` when no process holds the store file at `path` (or there is none yet);
/// `StoreError::Locked` while one does (a restore must not write under a running service).
pub fn ensure_free(path: &Path) -> Result<(), StoreError> {
    if !path.exists() {
        return Ok(());
    }
    open_database(path).map(drop)
}

/// Copies every entry of `db` into a new file at `to` (replacing one left there).
fn copy_entries(db: &Database, to: &Path) -> Result<u64, StoreError> {
    match std::fs::remove_file(to) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(backend(format!("cannot replace {}: {e}", to.display()))),
    }
    let copy = open_database(to)?;
    let read = db.begin_read().map_err(backend)?;
    let from = read.open_table(ENTRIES).map_err(backend)?;
    let write = copy.begin_write().map_err(backend)?;
    let mut copied = 0;
    {
        let mut table = write.open_table(ENTRIES).map_err(backend)?;
        for entry in from.iter().map_err(backend)? {
            let (key, stored) = entry.map_err(backend)?;
            table.insert(key.value(), stored.value()).map_err(backend)?;
            copied += 1;
        }
    }
    write.commit().map_err(backend)?;
    Ok(copied)
}

/// Records for `keys`, all from one read transaction.
fn read_records(db: &Database, keys: &[String]) -> Result<Vec<Option<StoredRecord>>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(ENTRIES).map_err(backend)?;
    keys.iter()
        .map(|key| {
            let Some(guard) = table.get(key.as_str()).map_err(backend)? else {
                return Ok(None);
            };
            let (expires_at, value) = record::decode(guard.value())?;
            Ok(Some((expires_at, value.to_vec())))
        })
        .collect()
}

/// `(key, expires_at, value)` for every key starting with `prefix`, in key order.
fn scan_records(db: &Database, prefix: &str) -> Result<Vec<(String, i64, Vec<u8>)>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(ENTRIES).map_err(backend)?;
    let mut found = Vec::new();
    for entry in table.range(prefix..).map_err(backend)? {
        let (key, stored) = entry.map_err(backend)?;
        let key = key.value();
        if !key.starts_with(prefix) {
            break;
        }
        let (expires_at, value) = record::decode(stored.value())?;
        found.push((key.to_owned(), expires_at, value.to_vec()));
    }
    Ok(found)
}

fn expired_keys(db: &Database, now: i64) -> Result<Vec<String>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(ENTRIES).map_err(backend)?;
    let mut expired = Vec::new();
    for entry in table.iter().map_err(backend)? {
        let (key, stored) = entry.map_err(backend)?;
        if let Ok((expires_at, _)) = record::decode(stored.value())
            && !record::is_live(expires_at, now)
        {
            expired.push(key.value().to_owned());
        }
    }
    Ok(expired)
}

fn flag(reply: Reply) -> Result<bool, StoreError> {
    match reply {
        Reply::Flag(flag) => Ok(flag),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(reply: &Reply) -> StoreError {
    StoreError::Backend(format!(
        "state store writer gave an unexpected reply: {reply:?}"
    ))
}

fn backend(error: impl fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

fn task_failed(error: impl fmt::Display) -> StoreError {
    StoreError::Backend(format!("state store task failed: {error}"))
}
