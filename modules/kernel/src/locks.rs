//! Striped in-process locks: work on one key (an order, a user) runs one at a time in this
//! process, without a map that grows with the keys.
//!
//! The database stays the source of truth (unique keys, compare-and-set updates); the lock only
//! keeps a burst on one key from queueing for the connection pool and the SQLite write lock:
//! a thousand copies of one webhook wait here, not holding connections, and each then finds the
//! first one's work done with a cheap read.

use std::hash::{DefaultHasher, Hash, Hasher};

use tokio::sync::{Mutex, MutexGuard};

pub struct StripedLocks {
    stripes: Box<[Mutex<()>]>,
}

impl StripedLocks {
    /// `stripes` locks (at least one); two keys share a lock when they hash to the same stripe,
    /// which only costs concurrency, never correctness.
    pub fn new(stripes: usize) -> Self {
        Self {
            stripes: (0..stripes.max(1)).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Waits for the key's stripe; tokio's mutex is fair, so waiters go in arrival order.
    pub async fn lock(&self, key: &str) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let index = (hasher.finish() % self.stripes.len() as u64) as usize;
        self.stripes[index].lock().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn work_on_one_key_never_overlaps() {
        let locks = Arc::new(StripedLocks::new(16));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (locks, inside, most) = (locks.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _guard = locks.lock("order-1").await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn zero_stripes_still_locks() {
        let locks = StripedLocks::new(0);
        drop(locks.lock("a").await);
        drop(locks.lock("b").await);
    }
}
