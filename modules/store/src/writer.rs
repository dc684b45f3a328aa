//! The one thread that writes.
//!
//! redb allows one write transaction at a time and its API blocks, so every mutation goes through
//! this thread: it takes whatever commands are queued, applies them in order inside ONE write
//! transaction (group commit: one fsync for many writers), and only after the commit updates the
//! cache and replies. Because the cache is only ever changed here, in commit order, it can never
//! hold a value older than redb's once a write has been acknowledged.
//!
//! Conditional ops (`incr`, `set_if_absent`, `compare_and_swap`) read and write inside that same
//! transaction, so they are atomic without locks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lpsaring_kernel::{BatchOp, Clock, StoreError};
use moka::sync::Cache;
use redb::{Database, ReadableTable, Table, TableDefinition};
use tokio::sync::{mpsc, oneshot};

use crate::record::{self, Cached};

/// The single table: key → `record::encode(expires_at, value)`.
pub(crate) const ENTRIES: TableDefinition<&str, &[u8]> = TableDefinition::new("entries");

/// At most this many commands share one transaction, so one huge queue does not become one
/// huge, late commit.
const MAX_GROUP: usize = 256;

#[derive(Debug)]
pub(crate) enum WriteOp {
    Set {
        key: String,
        value: Vec<u8>,
        ttl: Option<Duration>,
    },
    Delete {
        key: String,
    },
    Incr {
        key: String,
        by: i64,
        ttl: Option<Duration>,
    },
    SetIfAbsent {
        key: String,
        value: Vec<u8>,
        ttl: Option<Duration>,
    },
    CompareAndSwap {
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
        ttl: Option<Duration>,
    },
    Batch(Vec<BatchOp>),
    /// Deletes those of `keys` that are still expired when the writer gets to them (a key may
    /// have been rewritten since the sweeper saw it).
    DeleteIfExpired(Vec<String>),
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    Done,
    Flag(bool),
    Counter(i64),
    Count(usize),
}

pub(crate) type Outcome = Result<Reply, StoreError>;

#[derive(Debug)]
pub(crate) struct Command {
    pub(crate) op: WriteOp,
    pub(crate) reply: oneshot::Sender<Outcome>,
}

pub(crate) struct Writer {
    pub(crate) db: Arc<Database>,
    pub(crate) cache: Cache<String, Cached>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Seqlock-style counter: odd while the writer is changing the cache. `get_many` uses it to
    /// tell whether the cache hits it collected all belong to one committed state.
    pub(crate) cache_epoch: Arc<AtomicU64>,
}

impl Writer {
    /// Runs until every sender is dropped and the queue is drained, so queued writes are flushed
    /// on shutdown.
    pub(crate) fn run(self, mut commands: mpsc::Receiver<Command>) {
        while let Some(first) = commands.blocking_recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match commands.try_recv() {
                    Ok(command) => group.push(command),
                    Err(_) => break,
                }
            }
            self.commit_group(group);
        }
    }

    fn commit_group(&self, group: Vec<Command>) {
        let mut cache_updates = Vec::new();
        self.cache_epoch.fetch_add(1, Ordering::SeqCst);
        let started = std::time::Instant::now();
        let applied = self.apply_in_one_transaction(&group, &mut cache_updates);
        metrics::histogram!(crate::metrics::COMMIT_SECONDS)
            .record(lpsaring_kernel::metrics::seconds_since(started));
        metrics::counter!(crate::metrics::COMMITS, "outcome" => lpsaring_kernel::metrics::outcome(&applied))
            .increment(1);
        metrics::counter!(crate::metrics::WRITE_OPS).increment(group.len() as u64);
        if applied.is_ok() {
            // In op order, so the last write to a key wins, as it did in redb.
            for (key, cached) in cache_updates {
                self.cache.insert(key, cached);
            }
        }
        self.cache_epoch.fetch_add(1, Ordering::SeqCst);

        match applied {
            Ok(outcomes) => {
                for (command, outcome) in group.into_iter().zip(outcomes) {
                    // The caller may have stopped waiting (cancelled future); the write stands.
                    let _ = command.reply.send(outcome);
                }
            }
            Err(error) => {
                let message = error.to_string();
                tracing::error!(%message, ops = group.len(), "state store write transaction failed");
                for command in group {
                    let _ = command
                        .reply
                        .send(Err(StoreError::Backend(message.clone())));
                }
            }
        }
    }

    /// Applies every op of the group; an `Err` aborts the whole transaction (nothing of the group
    /// is written). Per-op failures such as `NotACounter` change nothing and are returned inside.
    fn apply_in_one_transaction(
        &self,
        group: &[Command],
        cache_updates: &mut Vec<(String, Cached)>,
    ) -> Result<Vec<Outcome>, redb::Error> {
        let txn = self.db.begin_write()?;
        let mut outcomes = Vec::with_capacity(group.len());
        {
            let mut table = txn.open_table(ENTRIES)?;
            let mut tx = Txn {
                table: &mut table,
                cache: &self.cache,
                cache_updates,
            };
            for command in group {
                let now = self.clock.now_millis();
                outcomes.push(tx.apply(&command.op, now)?);
            }
        }
        txn.commit()?;
        Ok(outcomes)
    }
}

/// One op at a time against the open write transaction.
struct Txn<'a, 'txn> {
    table: &'a mut Table<'txn, &'static str, &'static [u8]>,
    cache: &'a Cache<String, Cached>,
    cache_updates: &'a mut Vec<(String, Cached)>,
}

impl Txn<'_, '_> {
    fn apply(&mut self, op: &WriteOp, now: i64) -> Result<Outcome, redb::Error> {
        Ok(match op {
            WriteOp::Set { key, value, ttl } => {
                self.put(key, value, record::expiry_after(*ttl, now))?;
                Ok(Reply::Done)
            }
            WriteOp::Delete { key } => {
                let was_live = self.live(key, now)?.is_some();
                self.remove(key)?;
                Ok(Reply::Flag(was_live))
            }
            WriteOp::Incr { key, by, ttl } => self.incr(key, *by, *ttl, now)?,
            WriteOp::SetIfAbsent { key, value, ttl } => {
                if self.live(key, now)?.is_some() {
                    Ok(Reply::Flag(false))
                } else {
                    self.put(key, value, record::expiry_after(*ttl, now))?;
                    Ok(Reply::Flag(true))
                }
            }
            WriteOp::CompareAndSwap {
                key,
                expected,
                new,
                ttl,
            } => {
                let current = self.live(key, now)?.map(|(_, value)| value);
                if current.as_deref() != expected.as_deref() {
                    Ok(Reply::Flag(false))
                } else {
                    match new {
                        Some(value) => self.put(key, value, record::expiry_after(*ttl, now))?,
                        None => self.remove(key)?,
                    }
                    Ok(Reply::Flag(true))
                }
            }
            WriteOp::Batch(ops) => {
                for op in ops {
                    match op {
                        BatchOp::Put { key, value, ttl } => {
                            self.put(key, value, record::expiry_after(*ttl, now))?;
                        }
                        BatchOp::Delete { key } => self.remove(key)?,
                    }
                }
                Ok(Reply::Done)
            }
            WriteOp::DeleteIfExpired(keys) => {
                let mut deleted = 0;
                for key in keys {
                    let expired = match self.table.get(key.as_str())? {
                        Some(guard) => record::decode(guard.value())
                            .is_ok_and(|(expires_at, _)| !record::is_live(expires_at, now)),
                        None => false,
                    };
                    if expired {
                        self.table.remove(key.as_str())?;
                        // No tombstone: swept keys are cold; just do not let the cache keep them.
                        self.cache.invalidate(key);
                        deleted += 1;
                    }
                }
                Ok(Reply::Count(deleted))
            }
        })
    }

    fn incr(
        &mut self,
        key: &str,
        by: i64,
        ttl: Option<Duration>,
        now: i64,
    ) -> Result<Outcome, redb::Error> {
        let (current, expires_at) = match self.live(key, now)? {
            Some((expires_at, value)) => match record::parse_counter(key, &value) {
                Ok(current) => (current, expires_at),
                Err(not_a_counter) => return Ok(Err(not_a_counter)),
            },
            // A fresh window: starts at zero and takes the TTL given now.
            None => (0, record::expiry_after(ttl, now)),
        };
        let Some(next) = current.checked_add(by) else {
            return Ok(Err(StoreError::Backend(format!(
                "counter {key:?} would overflow"
            ))));
        };
        self.put(key, next.to_string().as_bytes(), expires_at)?;
        Ok(Ok(Reply::Counter(next)))
    }

    /// The live `(expires_at, value)` under `key`. A record that does not decode counts as absent
    /// here, so the write replaces it instead of wedging the key forever.
    fn live(&self, key: &str, now: i64) -> Result<Option<(i64, Vec<u8>)>, redb::Error> {
        let Some(guard) = self.table.get(key)? else {
            return Ok(None);
        };
        match record::decode(guard.value()) {
            Ok((expires_at, value)) if record::is_live(expires_at, now) => {
                Ok(Some((expires_at, value.to_vec())))
            }
            Ok(_) => Ok(None),
            Err(corrupt) => {
                tracing::warn!(key, error = %corrupt, "overwriting a corrupt state record");
                Ok(None)
            }
        }
    }

    // The cache entry is dropped before the change and refilled only after the commit: in
    // between, readers miss and read redb, which shows either the old or the new committed value.
    fn put(&mut self, key: &str, value: &[u8], expires_at: i64) -> Result<(), redb::Error> {
        self.cache.invalidate(key);
        self.table
            .insert(key, record::encode(expires_at, value).as_slice())?;
        self.cache_updates
            .push((key.to_owned(), Cached::present(expires_at, value)));
        Ok(())
    }

    fn remove(&mut self, key: &str) -> Result<(), redb::Error> {
        self.cache.invalidate(key);
        self.table.remove(key)?;
        self.cache_updates.push((key.to_owned(), Cached::deleted()));
        Ok(())
    }
}
