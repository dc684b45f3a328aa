//! Baselines for the redb + moka state store (`lpsaring-store`), on a real file in a temp dir.
//!
//! Every write is durable (fsync per commit), so `set` measures one commit per op, while the
//! concurrent `incr` bench shows group commit: many callers share one transaction and one fsync.
//!
//! `cargo bench -p lpsaring-benches --bench store -- --warm-up-time 1 --measurement-time 3`

// Setup failures should abort the bench loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lpsaring_kernel::{BatchOp, Clock, EphemeralStore, SystemClock};
use lpsaring_store::{STATE_FILE_NAME, Store};
use tempfile::TempDir;
use tokio::runtime::Runtime;

/// Keys read by the cold bench: read from redb, never cached (readers do not fill the cache).
const COLD_KEYS: usize = 10_000;
const BATCH_SIZE: usize = 1_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn open(rt: &Runtime) -> (TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = rt
        .block_on(Store::open(dir.path().join(STATE_FILE_NAME), clock))
        .expect("open");
    (dir, Arc::new(store))
}

fn batch(prefix: &str, count: usize, round: usize) -> Vec<BatchOp> {
    (0..count)
        .map(|i| BatchOp::Put {
            key: format!("{prefix}:{i:05}"),
            value: format!("{round}:{i}:baseline-bytes-and-uptime").into_bytes(),
            ttl: Some(Duration::from_secs(3600)),
        })
        .collect()
}

fn reads(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1));

    let (_hot_dir, hot) = open(&rt);
    rt.block_on(hot.set("otp:6281234567890", b"hashed-code".to_vec(), None))
        .unwrap();
    group.bench_function("get (hot, cached)", |b| {
        b.to_async(&rt).iter(|| {
            let store = hot.clone();
            async move { black_box(store.get("otp:6281234567890").await.unwrap()) }
        });
    });

    // Write the keys, then reopen so the cache is empty and every get goes to redb.
    let (cold_dir, cold) = open(&rt);
    for chunk in 0..COLD_KEYS / BATCH_SIZE {
        rt.block_on(cold.write_batch(batch(&format!("cold{chunk}"), BATCH_SIZE, 0)))
            .unwrap();
    }
    let cold = Arc::into_inner(cold).expect("sole owner");
    rt.block_on(cold.close()).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let cold = Arc::new(
        rt.block_on(Store::open(cold_dir.path().join(STATE_FILE_NAME), clock))
            .unwrap(),
    );
    let cold_keys: Arc<Vec<String>> = Arc::new(
        (0..COLD_KEYS)
            .map(|i| format!("cold{}:{:05}", i / BATCH_SIZE, i % BATCH_SIZE))
            .collect(),
    );
    let mut next = 0usize;
    group.bench_function("get (cold, redb)", |b| {
        b.to_async(&rt).iter(|| {
            next = (next + 1) % COLD_KEYS;
            let (store, keys, index) = (cold.clone(), cold_keys.clone(), next);
            async move {
                let value = store.get(&keys[index]).await.unwrap();
                assert!(value.is_some());
                black_box(value)
            }
        });
    });
    group.finish();
}

fn writes(c: &mut Criterion) {
    let rt = runtime();
    let (_dir, store) = open(&rt);
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1));

    let mut next = 0u64;
    group.bench_function("set (1 task, fsync each)", |b| {
        b.to_async(&rt).iter(|| {
            next += 1;
            let (store, key) = (store.clone(), format!("cooldown:{}", next % 1000));
            async move {
                store
                    .set(&key, b"1".to_vec(), Some(Duration::from_secs(60)))
                    .await
                    .unwrap();
            }
        });
    });

    for tasks in [1u64, 8, 64] {
        group.bench_function(format!("incr ({tasks} concurrent, group commit)"), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let store = store.clone();
                async move { concurrent_increments(store, tasks, iters).await }
            });
        });
    }

    group.throughput(Throughput::Elements(BATCH_SIZE as u64));
    let mut round = 0usize;
    group.bench_function("write_batch (1000 baselines)", |b| {
        b.to_async(&rt).iter(|| {
            round += 1;
            let (store, ops) = (store.clone(), batch("baseline", BATCH_SIZE, round));
            async move {
                store.write_batch(ops).await.unwrap();
            }
        });
    });
    group.finish();
}

/// `iters` increments spread over `tasks` concurrent tasks; returns the wall time for all.
async fn concurrent_increments(store: Arc<Store>, tasks: u64, iters: u64) -> Duration {
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|task| {
            let store = store.clone();
            let share = iters / tasks + u64::from(task < iters % tasks);
            tokio::spawn(async move {
                for _ in 0..share {
                    store
                        .incr("rl:ip:10.5.50.7", 1, Some(Duration::from_secs(60)))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    started.elapsed()
}

criterion_group!(benches, reads, writes);
criterion_main!(benches);
