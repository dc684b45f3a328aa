//! How one value sits on disk and in the cache: its absolute expiry next to the bytes.
//!
//! On disk a record is `expires_at` (unix millis, little-endian `i64`, 0 = never) followed by the
//! value. Expiry is absolute so a restart or a moved `FakeClock` needs no bookkeeping: a record is
//! live while `now < expires_at`.

use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::StoreError;

const EXPIRY_BYTES: usize = 8;

/// "Never expires".
pub(crate) const NO_EXPIRY: i64 = 0;

pub(crate) fn encode(expires_at: i64, value: &[u8]) -> Vec<u8> {
    let mut record = Vec::with_capacity(EXPIRY_BYTES + value.len());
    record.extend_from_slice(&expires_at.to_le_bytes());
    record.extend_from_slice(value);
    record
}

/// Splits a stored record into `(expires_at, value)`.
pub(crate) fn decode(record: &[u8]) -> Result<(i64, &[u8]), StoreError> {
    match record.split_first_chunk::<EXPIRY_BYTES>() {
        Some((expiry, value)) => Ok((i64::from_le_bytes(*expiry), value)),
        None => Err(StoreError::Backend(format!(
            "corrupt record: {} bytes, shorter than its expiry header",
            record.len()
        ))),
    }
}

pub(crate) fn is_live(expires_at: i64, now: i64) -> bool {
    expires_at == NO_EXPIRY || now < expires_at
}

/// The absolute expiry for a TTL starting `now`. Sub-millisecond remainders round up so a positive
/// TTL never expires on the spot; `Some(ZERO)` is already expired.
pub(crate) fn expiry_after(ttl: Option<Duration>, now: i64) -> i64 {
    let Some(ttl) = ttl else { return NO_EXPIRY };
    let mut millis = ttl.as_millis();
    if ttl.subsec_nanos() % 1_000_000 != 0 {
        millis += 1;
    }
    let millis = i64::try_from(millis).unwrap_or(i64::MAX);
    // Never collide with the "no expiry" marker.
    now.saturating_add(millis).max(NO_EXPIRY + 1)
}

/// Time left before `expires_at`, for a live record.
pub(crate) fn remaining(expires_at: i64, now: i64) -> Option<Duration> {
    if expires_at == NO_EXPIRY {
        return None;
    }
    u64::try_from(expires_at.saturating_sub(now))
        .ok()
        .map(Duration::from_millis)
}

/// Counters are stored as ASCII decimal (like Redis), so `get` returns something readable and a
/// value written with `set(b"5")` can be incremented.
pub(crate) fn parse_counter(key: &str, value: &[u8]) -> Result<i64, StoreError> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .ok_or_else(|| StoreError::NotACounter {
            key: key.to_owned(),
        })
}

/// What the cache knows about a key the writer touched. `value: None` is a tombstone: the key was
/// deleted, so a read can answer "absent" without going to redb.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    pub(crate) expires_at: i64,
    pub(crate) value: Option<Arc<[u8]>>,
}

impl Cached {
    pub(crate) fn present(expires_at: i64, value: &[u8]) -> Self {
        Self {
            expires_at,
            value: Some(Arc::from(value)),
        }
    }

    pub(crate) fn deleted() -> Self {
        Self {
            expires_at: NO_EXPIRY,
            value: None,
        }
    }

    /// The live value at `now`, if any.
    pub(crate) fn live_value(&self, now: i64) -> Option<&[u8]> {
        self.value
            .as_deref()
            .filter(|_| is_live(self.expires_at, now))
    }

    /// Memory cost for the cache's weigher: the key's and value's bytes plus what an entry costs
    /// whatever its size (the `String` and `Vec` headers, moka's entry, its access-order and
    /// write-order nodes and its hash-table slot, about 200 bytes together), so that the
    /// capacity bounds the real memory, not just the payload.
    pub(crate) fn weight(&self, key: &str) -> u32 {
        const PER_ENTRY: usize = 200;
        let bytes = key.len() + self.value.as_ref().map_or(0, |v| v.len()) + PER_ENTRY;
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_expiry_and_value() {
        let record = encode(1_767_225_600_123, b"abc");
        assert_eq!(decode(&record).unwrap(), (1_767_225_600_123, &b"abc"[..]));
        assert!(decode(&[1, 2, 3]).is_err());
    }

    #[test]
    fn expiry_rounds_up_and_zero_ttl_is_already_expired() {
        let now = 1_000;
        assert_eq!(expiry_after(None, now), NO_EXPIRY);
        assert_eq!(expiry_after(Some(Duration::from_micros(1)), now), 1_001);
        let zero = expiry_after(Some(Duration::ZERO), now);
        assert!(!is_live(zero, now));
        assert!(is_live(
            expiry_after(Some(Duration::from_secs(1)), now),
            now + 999
        ));
        assert!(!is_live(
            expiry_after(Some(Duration::from_secs(1)), now),
            now + 1_000
        ));
    }

    #[test]
    fn counters_are_ascii_decimal() {
        assert_eq!(parse_counter("k", b"-42").unwrap(), -42);
        assert!(matches!(
            parse_counter("k", b"4x"),
            Err(StoreError::NotACounter { .. })
        ));
        assert!(matches!(
            parse_counter("k", &[0xff]),
            Err(StoreError::NotACounter { .. })
        ));
    }
}
