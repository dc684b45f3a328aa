//! Snapshots for backups: a copy taken while the store is in use, one taken from a file nobody
//! holds, and the lock check a restore relies on.

use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::{EphemeralStore, FakeClock, StoreError};

use crate::{STATE_FILE_NAME, Store, ensure_free, snapshot_file};

#[tokio::test]
async fn a_snapshot_of_a_store_in_use_opens_as_a_store_with_the_same_entries() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FakeClock::at_epoch_2026());
    let path = dir.path().join(STATE_FILE_NAME);
    let store = Store::open(&path, clock.clone()).await.unwrap();
    store.set("a", b"1".to_vec(), None).await.unwrap();
    store
        .set("b", b"2".to_vec(), Some(Duration::from_secs(60)))
        .await
        .unwrap();
    store.incr("n", 3, None).await.unwrap();

    // Held by `store`: a restore must refuse, a second process cannot copy it.
    assert!(matches!(ensure_free(&path), Err(StoreError::Locked { .. })));
    let copy = dir.path().join("copy.redb");
    assert!(matches!(
        snapshot_file(&path, &copy),
        Err(StoreError::Locked { .. })
    ));

    assert_eq!(store.snapshot(&copy).await.unwrap(), 3);
    // Taken again over a copy left there: replaced, not appended to.
    assert_eq!(store.snapshot(&copy).await.unwrap(), 3);
    store.close().await.unwrap();
    ensure_free(&path).unwrap();

    let restored = Store::open(&copy, clock.clone()).await.unwrap();
    assert_eq!(restored.get("a").await.unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(restored.get("n").await.unwrap().as_deref(), Some(&b"3"[..]));
    // The expiry came along: past it the key is gone.
    clock.advance(chrono::TimeDelta::seconds(61));
    assert_eq!(restored.get("b").await.unwrap(), None);
    restored.close().await.unwrap();

    let again = dir.path().join("again.redb");
    assert_eq!(snapshot_file(&path, &again).unwrap(), 3);
    ensure_free(&dir.path().join("none.redb")).unwrap();
}
