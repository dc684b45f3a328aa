//! Behaviour of the store against a real redb file in a temp dir, with time from a `FakeClock`.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use lpsaring_kernel::{BatchOp, Clock, EphemeralStore, FakeClock, StoreError, SystemClock};
use redb::{ReadableDatabase, ReadableTableMetadata};
use tempfile::TempDir;
use tokio::sync::oneshot;

use crate::writer::{Command, ENTRIES, Reply, WriteOp};
use crate::{STATE_FILE_NAME, Store};

struct Fixture {
    dir: TempDir,
    clock: Arc<FakeClock>,
    store: Store,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let store = Store::open(dir.path().join(STATE_FILE_NAME), clock.clone())
            .await
            .unwrap();
        Self { dir, clock, store }
    }

    fn advance(&self, seconds: i64) {
        self.clock.advance(TimeDelta::seconds(seconds));
    }

    /// Closes the store and opens the same file again: the cache starts empty, so every read
    /// afterwards comes from redb.
    async fn reopen(self) -> Self {
        let Self { dir, clock, store } = self;
        store.close().await.unwrap();
        let store = Store::open(dir.path().join(STATE_FILE_NAME), clock.clone())
            .await
            .unwrap();
        Self { dir, clock, store }
    }
}

fn secs(n: u64) -> Option<Duration> {
    Some(Duration::from_secs(n))
}

#[tokio::test]
async fn keys_expire_when_the_clock_passes_their_ttl() {
    let f = Fixture::new().await;
    f.store
        .set("otp:1", b"hash".to_vec(), secs(10))
        .await
        .unwrap();
    f.store.set("forever", b"x".to_vec(), None).await.unwrap();

    f.advance(9);
    assert_eq!(f.store.get("otp:1").await.unwrap(), Some(b"hash".to_vec()));

    f.advance(1);
    assert_eq!(f.store.get("otp:1").await.unwrap(), None);
    assert_eq!(f.store.ttl("otp:1").await.unwrap(), None);
    assert_eq!(
        f.store.get_many(&["otp:1".into()]).await.unwrap(),
        vec![None]
    );
    assert!(
        !f.store.delete("otp:1").await.unwrap(),
        "an expired key is not live"
    );
    assert_eq!(f.store.get("forever").await.unwrap(), Some(b"x".to_vec()));
}

#[tokio::test]
async fn expiry_is_judged_on_cold_reads_from_redb_too() {
    let f = Fixture::new().await;
    f.store
        .set("cooldown:628", b"1".to_vec(), secs(60))
        .await
        .unwrap();
    let f = f.reopen().await;
    assert_eq!(
        f.store.get("cooldown:628").await.unwrap(),
        Some(b"1".to_vec())
    );
    f.advance(60);
    assert_eq!(f.store.get("cooldown:628").await.unwrap(), None);
    assert_eq!(
        f.store.get_many(&["cooldown:628".into()]).await.unwrap(),
        vec![None]
    );
}

#[tokio::test]
async fn ttl_reports_the_time_left() {
    let f = Fixture::new().await;
    f.store.set("k", b"v".to_vec(), secs(60)).await.unwrap();
    f.store.set("no-ttl", b"v".to_vec(), None).await.unwrap();
    f.advance(15);
    assert_eq!(f.store.ttl("k").await.unwrap(), secs(45));
    assert_eq!(f.store.ttl("no-ttl").await.unwrap(), None);
    assert_eq!(f.store.ttl("missing").await.unwrap(), None);

    let f = f.reopen().await;
    assert_eq!(
        f.store.ttl("k").await.unwrap(),
        secs(45),
        "same answer from redb"
    );
}

#[tokio::test]
async fn durable_keys_survive_drop_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STATE_FILE_NAME);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    {
        let store = Store::open(&path, clock.clone()).await.unwrap();
        store
            .set("baseline:aa", b"42".to_vec(), None)
            .await
            .unwrap();
        store.incr("attempts", 3, secs(3600)).await.unwrap();
        store.set("gone", b"x".to_vec(), None).await.unwrap();
        store.delete("gone").await.unwrap();
    } // dropped, not closed

    let store = Store::open(&path, clock).await.unwrap();
    assert_eq!(
        store.get("baseline:aa").await.unwrap(),
        Some(b"42".to_vec())
    );
    assert_eq!(store.get("attempts").await.unwrap(), Some(b"3".to_vec()));
    assert_eq!(store.get("gone").await.unwrap(), None);
}

#[tokio::test]
async fn dropping_the_store_flushes_writes_still_queued() {
    let f = Fixture::new().await;
    let path = f.store.path().to_path_buf();
    let commands = f.store.commands.clone().unwrap();
    for i in 0..200 {
        let (reply, _ignored) = oneshot::channel();
        let op = WriteOp::Set {
            key: format!("q:{i:03}"),
            value: vec![1],
            ttl: None,
        };
        commands.send(Command { op, reply }).await.unwrap();
    }
    drop(commands);
    drop(f.store);

    let store = Store::open(&path, f.clock.clone()).await.unwrap();
    assert_eq!(store.scan_prefix("q:").await.unwrap().len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_are_exact() {
    let f = Fixture::new().await;
    let store = Arc::new(f.store);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..50 {
                    store.incr("rl:ip:10.0.0.7", 1, secs(60)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        store.get("rl:ip:10.0.0.7").await.unwrap(),
        Some(b"800".to_vec())
    );
    assert_eq!(store.incr("rl:ip:10.0.0.7", -800, None).await.unwrap(), 0);
}

#[tokio::test]
async fn incr_keeps_a_fixed_window_and_restarts_after_expiry() {
    let f = Fixture::new().await;
    assert_eq!(f.store.incr("tries", 1, secs(10)).await.unwrap(), 1);
    f.advance(5);
    assert_eq!(f.store.incr("tries", 1, secs(10)).await.unwrap(), 2);
    assert_eq!(
        f.store.ttl("tries").await.unwrap(),
        secs(5),
        "the window was not extended"
    );
    f.advance(5);
    assert_eq!(
        f.store.incr("tries", 1, secs(10)).await.unwrap(),
        1,
        "a new window"
    );
    assert_eq!(f.store.ttl("tries").await.unwrap(), secs(10));
}

#[tokio::test]
async fn incr_refuses_a_value_that_is_not_a_counter_and_leaves_it_alone() {
    let f = Fixture::new().await;
    f.store
        .set("otp:x", b"not a number".to_vec(), None)
        .await
        .unwrap();
    let error = f.store.incr("otp:x", 1, None).await.unwrap_err();
    assert!(
        matches!(error, StoreError::NotACounter { ref key } if key == "otp:x"),
        "{error:?}"
    );
    assert_eq!(
        f.store.get("otp:x").await.unwrap(),
        Some(b"not a number".to_vec())
    );

    f.store
        .set("n", i64::MAX.to_string().into_bytes(), None)
        .await
        .unwrap();
    assert!(
        f.store.incr("n", 1, None).await.is_err(),
        "overflow is an error, not a wrap"
    );
}

#[tokio::test]
async fn a_failed_op_does_not_undo_others_committed_in_the_same_group() {
    let f = Fixture::new().await;
    f.store.set("text", b"abc".to_vec(), None).await.unwrap();
    let (good, bad, good_too) = tokio::join!(
        f.store.set("a", b"1".to_vec(), None),
        f.store.incr("text", 1, None),
        f.store.incr("b", 1, None),
    );
    good.unwrap();
    assert!(bad.is_err());
    assert_eq!(good_too.unwrap(), 1);
    let f = f.reopen().await;
    assert_eq!(f.store.get("a").await.unwrap(), Some(b"1".to_vec()));
    assert_eq!(f.store.get("b").await.unwrap(), Some(b"1".to_vec()));
}

#[tokio::test]
async fn set_if_absent_treats_expired_keys_as_absent() {
    let f = Fixture::new().await;
    assert!(
        f.store
            .set_if_absent("lock", b"a".to_vec(), secs(30))
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .set_if_absent("lock", b"b".to_vec(), secs(30))
            .await
            .unwrap()
    );
    assert_eq!(f.store.get("lock").await.unwrap(), Some(b"a".to_vec()));

    f.advance(30);
    assert!(
        f.store
            .set_if_absent("lock", b"c".to_vec(), secs(30))
            .await
            .unwrap()
    );
    assert_eq!(f.store.get("lock").await.unwrap(), Some(b"c".to_vec()));
    assert_eq!(f.store.ttl("lock").await.unwrap(), secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn set_if_absent_has_exactly_one_winner() {
    let f = Fixture::new().await;
    let store = Arc::new(f.store);
    let tasks: Vec<_> = (0..20u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.set_if_absent("dedup:evt", vec![i], None).await })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap().unwrap());
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn compare_and_swap_semantics() {
    let f = Fixture::new().await;
    let s = &f.store;
    assert!(
        s.compare_and_swap("k", None, Some(b"1".to_vec()), None)
            .await
            .unwrap(),
        "absent"
    );
    assert!(
        !s.compare_and_swap("k", None, Some(b"x".to_vec()), None)
            .await
            .unwrap()
    );
    assert!(
        !s.compare_and_swap("k", Some(b"2"), Some(b"x".to_vec()), None)
            .await
            .unwrap()
    );
    assert_eq!(s.get("k").await.unwrap(), Some(b"1".to_vec()));

    assert!(
        s.compare_and_swap("k", Some(b"1"), Some(b"2".to_vec()), secs(5))
            .await
            .unwrap()
    );
    assert_eq!(s.get("k").await.unwrap(), Some(b"2".to_vec()));
    assert_eq!(s.ttl("k").await.unwrap(), secs(5));

    f.advance(5);
    assert!(
        !s.compare_and_swap("k", Some(b"2"), None, None)
            .await
            .unwrap(),
        "expired ≠ 2"
    );
    assert!(
        s.compare_and_swap("k", None, Some(b"3".to_vec()), None)
            .await
            .unwrap(),
        "expired = absent"
    );

    assert!(
        s.compare_and_swap("k", Some(b"3"), None, None)
            .await
            .unwrap(),
        "None deletes"
    );
    assert_eq!(s.get("k").await.unwrap(), None);
}

#[tokio::test]
async fn write_batch_applies_puts_and_deletes_together() {
    let f = Fixture::new().await;
    f.store
        .set("journal:old", b"x".to_vec(), None)
        .await
        .unwrap();
    f.store
        .write_batch(vec![
            BatchOp::Put {
                key: "baseline:a".into(),
                value: b"1".to_vec(),
                ttl: None,
            },
            BatchOp::Put {
                key: "baseline:b".into(),
                value: b"2".to_vec(),
                ttl: secs(10),
            },
            BatchOp::Delete {
                key: "journal:old".into(),
            },
        ])
        .await
        .unwrap();
    let f = f.reopen().await;
    let keys = [
        "baseline:a".to_owned(),
        "baseline:b".to_owned(),
        "journal:old".to_owned(),
    ];
    assert_eq!(
        f.store.get_many(&keys).await.unwrap(),
        vec![Some(b"1".to_vec()), Some(b"2".to_vec()), None]
    );
    assert_eq!(f.store.ttl("baseline:b").await.unwrap(), secs(10));
}

/// Readers racing with batches must see each batch entirely or not at all, through the cache
/// (`get_many`) and through redb (`scan_prefix`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_half_a_batch() {
    const KEYS: usize = 100;
    let f = Fixture::new().await;
    let store = Arc::new(f.store);
    let keys: Vec<String> = (0..KEYS).map(|i| format!("b:{i:03}")).collect();
    let batch = |generation: u32| {
        keys.iter()
            .map(|key| BatchOp::Put {
                key: key.clone(),
                value: generation.to_le_bytes().to_vec(),
                ttl: None,
            })
            .collect::<Vec<_>>()
    };
    store.write_batch(batch(0)).await.unwrap();

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = |scan: bool| {
        let (store, keys, stop) = (store.clone(), keys.clone(), stop.clone());
        tokio::spawn(async move {
            let mut checks = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if scan {
                    let scanned = store.scan_prefix("b:").await.unwrap();
                    assert_eq!(scanned.len(), KEYS);
                    assert!(scanned.iter().all(|(_, v)| v == &scanned[0].1), "torn scan");
                } else {
                    let values = store.get_many(&keys).await.unwrap();
                    let first = &values[0];
                    assert!(values.iter().all(|v| v == first), "torn get_many");
                }
                checks += 1;
                tokio::task::yield_now().await;
            }
            checks
        })
    };
    let readers = [reader(false), reader(false), reader(true)];

    for generation in 1..=60 {
        store.write_batch(batch(generation)).await.unwrap();
        // Evict a key now and then so get_many also has to fall back to redb.
        if generation % 10 == 0 {
            store.cache.invalidate(&keys[generation as usize % KEYS]);
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
}

/// The race above is rare to hit; this pins the mechanism that closes it: while the writer is
/// changing the cache (odd epoch), `get_many` must not trust cache hits.
#[tokio::test]
async fn get_many_reads_one_redb_snapshot_while_the_cache_is_being_changed() {
    use std::sync::atomic::Ordering;
    let f = Fixture::new().await;
    f.store.set("a", b"disk".to_vec(), None).await.unwrap();
    // A cache entry the writer has not reconciled yet (as between its cache updates).
    f.store
        .cache
        .insert("a".into(), crate::record::Cached::present(0, b"cache"));
    let keys = ["a".to_owned()];

    f.store.cache_epoch.fetch_add(1, Ordering::SeqCst);
    assert_eq!(
        f.store.get_many(&keys).await.unwrap(),
        vec![Some(b"disk".to_vec())]
    );
    f.store.cache_epoch.fetch_add(1, Ordering::SeqCst);
    assert_eq!(
        f.store.get_many(&keys).await.unwrap(),
        vec![Some(b"cache".to_vec())]
    );
}

#[tokio::test]
async fn scan_prefix_is_in_key_order_and_skips_expired_keys() {
    let f = Fixture::new().await;
    for key in ["sync:c", "sync:a", "synd:z", "syn", "sync:b", "async:x"] {
        f.store
            .set(key, key.as_bytes().to_vec(), None)
            .await
            .unwrap();
    }
    f.store
        .set("sync:aa", b"short".to_vec(), secs(1))
        .await
        .unwrap();
    assert_eq!(f.store.scan_prefix("sync:").await.unwrap().len(), 4);

    f.advance(1);
    let keys: Vec<String> = f
        .store
        .scan_prefix("sync:")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["sync:a", "sync:b", "sync:c"]);
    assert_eq!(
        f.store.scan_prefix("sync:b").await.unwrap(),
        vec![("sync:b".into(), b"sync:b".to_vec())]
    );
    assert!(f.store.scan_prefix("nothing").await.unwrap().is_empty());
}

#[tokio::test]
async fn sweep_removes_expired_keys_from_disk() {
    let f = Fixture::new().await;
    for i in 0..30 {
        f.store
            .set(&format!("short:{i}"), vec![1], secs(10))
            .await
            .unwrap();
    }
    f.store.set("long", vec![1], secs(100)).await.unwrap();
    f.store.set("forever", vec![1], None).await.unwrap();
    assert_eq!(f.store.sweep_expired().await.unwrap(), 0);

    f.advance(10);
    assert_eq!(f.store.sweep_expired().await.unwrap(), 30);
    assert_eq!(f.store.sweep_expired().await.unwrap(), 0);

    let path = f.store.path().to_path_buf();
    f.store.close().await.unwrap();
    let db = redb::Database::open(&path).unwrap();
    let table = db.begin_read().unwrap().open_table(ENTRIES).unwrap();
    assert_eq!(
        table.len().unwrap(),
        2,
        "only live records are left in the file"
    );
}

#[tokio::test]
async fn sweep_spares_a_key_rewritten_after_it_was_found_expired() {
    let f = Fixture::new().await;
    f.store.set("k", vec![1], secs(1)).await.unwrap();
    f.advance(1);
    // The sweeper's snapshot said "k" is expired, but it is written again before the delete.
    f.store.set("k", vec![2], secs(60)).await.unwrap();
    let swept = f
        .store
        .submit(WriteOp::DeleteIfExpired(vec!["k".into()]))
        .await
        .unwrap();
    assert_eq!(swept, Reply::Count(0));
    assert_eq!(f.store.get("k").await.unwrap(), Some(vec![2]));
}

#[tokio::test(start_paused = true)]
async fn the_sweep_job_runs_on_its_interval_and_never_keeps_the_store_alive() {
    let f = Fixture::new().await;
    f.store.set("k", vec![1], secs(1)).await.unwrap();
    f.advance(1);
    let store = Arc::new(f.store);
    let (stop, stopped) = oneshot::channel::<()>();
    let sweeper = tokio::spawn(crate::sweep_job(&store, Duration::from_secs(30)).run_until(
        async move {
            let _ = stopped.await;
        },
    ));
    tokio::time::sleep(Duration::from_secs(31)).await;
    // A sweep in progress briefly holds a strong reference; wait for it to end.
    while Arc::strong_count(&store) > 1 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let store = Arc::into_inner(store).unwrap();
    let path = store.path().to_path_buf();
    store.close().await.unwrap();
    // Beats after the store is gone are no-ops, and the job still stops when told.
    tokio::time::sleep(Duration::from_secs(31)).await;
    let _ = stop.send(());
    sweeper.await.unwrap();

    let db = redb::Database::open(&path).unwrap();
    let table = db.begin_read().unwrap().open_table(ENTRIES).unwrap();
    assert_eq!(table.len().unwrap(), 0);
}

#[tokio::test]
async fn opening_a_held_file_says_another_process_holds_it() {
    let f = Fixture::new().await;
    let path = f.store.path().to_path_buf();
    let error = Store::open(&path, f.clock.clone()).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Locked { path: p } if *p == path.display().to_string()),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("another lpsaring process probably holds"),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");

    f.store.close().await.unwrap();
    assert!(
        Store::open(&path, f.clock.clone()).await.is_ok(),
        "closing releases the lock"
    );
}

#[tokio::test]
async fn ping_reads_and_a_closed_store_says_closed() {
    let f = Fixture::new().await;
    f.store.ping().await.unwrap();
    let mut store = f.store;
    store.commands = None; // as after close: the writer stops
    assert!(matches!(store.ping().await, Err(StoreError::Closed)));
    assert!(matches!(
        store.set("k", vec![], None).await,
        Err(StoreError::Closed)
    ));
}
