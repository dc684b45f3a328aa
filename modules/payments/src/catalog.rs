//! The packages on sale, kept in memory: `GET /api/packages` and `/paket` are the pages every
//! habis phone opens, so they are answered without a database round trip.
//!
//! Writes through this service drop the copy at once. A change made by another process (the
//! `lpsaring package` CLI) shows within [`FRESH_FOR`]. The age is measured on the monotonic
//! clock, not the service's `Clock`: it is a cache's lifetime, not business time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::api::Package;

/// How long a copy serves before it is read again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(5);

struct Copy {
    taken: Instant,
    generation: u64,
    packages: Arc<Vec<Package>>,
}

#[derive(Default)]
pub(crate) struct OnSale {
    copy: RwLock<Option<Copy>>,
    /// Bumped by every write; a read that started before a write must not store its result.
    generation: AtomicU64,
}

impl OnSale {
    /// The fresh copy, if any.
    pub(crate) fn get(&self) -> Option<Arc<Vec<Package>>> {
        let generation = self.generation.load(Ordering::Acquire);
        let copy = self.copy.read().unwrap_or_else(|e| e.into_inner());
        copy.as_ref()
            .filter(|c| c.generation == generation && c.taken.elapsed() < FRESH_FOR)
            .map(|c| c.packages.clone())
    }

    /// The generation to hand to [`Self::store`] after reading the database.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps `packages` read at `generation`, unless a write came in since.
    pub(crate) fn store(&self, generation: u64, packages: Arc<Vec<Package>>) {
        let mut copy = self.copy.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            *copy = Some(Copy {
                taken: Instant::now(),
                generation,
                packages,
            });
        }
    }

    /// A package was written: the next read goes to the database.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *self.copy.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(name: &str) -> Arc<Vec<Package>> {
        Arc::new(vec![Package {
            id: 1,
            name: name.to_owned(),
            description: None,
            price: 1000,
            quota_bytes: 1,
            unlimited: false,
            validity_hours: 1,
            hotspot_profile: None,
            sort_order: 0,
            is_active: true,
        }])
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let on_sale = OnSale::default();
        let before_write = on_sale.generation();
        on_sale.invalidate();
        on_sale.store(before_write, list("old"));
        assert!(on_sale.get().is_none());
        on_sale.store(on_sale.generation(), list("new"));
        assert_eq!(on_sale.get().unwrap()[0].name, "new");
        on_sale.invalidate();
        assert!(on_sale.get().is_none());
    }
}
