//! Time comes from a `Clock`, never from `Utc::now()` directly, so expiry windows, cooldowns and
//! TTLs can be tested by moving a fake clock instead of sleeping.

use std::fmt::Debug;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// A source of the current UTC time.
pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Milliseconds since the Unix epoch; the unit the ephemeral store keeps expiries in.
    fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// The wall clock. The only place allowed to read system time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<DateTime<Utc>>,
}

impl FakeClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// A fixed, readable start: 2026-01-01T00:00:00Z.
    pub fn at_epoch_2026() -> Self {
        Self::new(DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default())
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_told() {
        let clock = FakeClock::at_epoch_2026();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::seconds(90));
        assert_eq!((clock.now() - t0).num_seconds(), 90);
    }
}
