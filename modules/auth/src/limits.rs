//! Fixed-window rate limits per client IP, counted before anything is looked up: an unknown
//! phone costs a caller exactly what a known one does, so the distinct answers (unknown, pending,
//! blocked) can only be asked for a few times a minute.
//!
//! The windows live in memory (a bounded moka cache), not in the durable state store. What a
//! crash loses is the counts of the windows running at that moment: each caller may then spend
//! at most one more window's budget (ten code requests, say) once per crash, and a caller cannot
//! make the portal crash. What protects a phone owner and a code survives a crash because it
//! stays durable in the state store: the per-phone cooldown between codes, the code itself and
//! its wrong-attempt count (see `crate::otp`). Keeping the windows out of the store spares every
//! code request and check two fsynced commits. Only one process serves a data directory (the
//! state store locks its file), so an in-memory count is the whole count.
//!
//! Bound: at most [`WINDOW_BYTES`] of keys (least used evicted first, and every window gone an
//! hour after it was last written, the longest window there is). An evicted window restarts at
//! zero, like a crash; filling the cache takes many distinct keys, and each new key costs its
//! caller a per-IP hit first.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::Clock;
use moka::ops::compute::Op;
use moka::sync::Cache;

use crate::error::AuthError;
use crate::settings::AuthSettings;

/// Memory budget of the windows: each key plus a fixed allowance for the window and moka's
/// bookkeeping.
const WINDOW_BYTES: u64 = 8 * 1024 * 1024;

/// The longest window any limit uses; an untouched window is dropped after it.
const LONGEST_WINDOW: Duration = Duration::from_secs(3600);

/// What a caller spends a budget on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `request-otp` (API and forms).
    RequestCode,
    /// `verify-otp` (API and forms).
    VerifyCode,
    /// Self-registration (API and form).
    Register,
}

/// One fixed window: when it ends (unix millis by the injected clock) and the hits it has seen.
#[derive(Debug, Clone, Copy)]
struct Window {
    ends_at: i64,
    hits: i64,
}

pub struct RateLimits {
    windows: Cache<String, Window>,
    clock: Arc<dyn Clock>,
    settings: AuthSettings,
}

impl RateLimits {
    pub fn new(clock: Arc<dyn Clock>, settings: AuthSettings) -> Self {
        let windows = Cache::builder()
            .max_capacity(WINDOW_BYTES)
            .weigher(|key: &String, _: &Window| u32::try_from(key.len() + 96).unwrap_or(u32::MAX))
            .time_to_live(LONGEST_WINDOW)
            .build();
        Self {
            windows,
            clock,
            settings,
        }
    }

    /// Counts one `action` of `ip`; `RateLimited` with the seconds left once the window's budget
    /// is spent. Requests without a known client IP are not limited here.
    pub async fn spend(&self, action: Action, ip: Option<IpAddr>) -> Result<(), AuthError> {
        let Some(ip) = ip else {
            return Ok(());
        };
        let s = &self.settings;
        let (name, max, window) = match action {
            Action::RequestCode => ("otp", s.otp_requests_per_ip_per_minute, 60),
            Action::VerifyCode => ("verify", s.otp_verifications_per_ip_per_minute, 60),
            Action::Register => ("register", s.registrations_per_ip_per_hour, 3600),
        };
        self.hit(
            &format!("rl:{name}:ip:{ip}"),
            max,
            Duration::from_secs(window),
        )
        .await
    }

    /// Counts one request under `key` against a fixed window of `max` requests.
    pub async fn hit(&self, key: &str, max: i64, window: Duration) -> Result<(), AuthError> {
        let now = self.clock.now_millis();
        let length = i64::try_from(window.min(LONGEST_WINDOW).as_millis()).unwrap_or(i64::MAX);
        let mut counted = Window {
            ends_at: now,
            hits: 0,
        };
        self.windows.entry_by_ref(key).and_compute_with(|current| {
            counted = match current.map(|entry| entry.into_value()) {
                Some(open) if now < open.ends_at => Window {
                    hits: open.hits.saturating_add(1),
                    ..open
                },
                _ => Window {
                    ends_at: now.saturating_add(length),
                    hits: 1,
                },
            };
            Op::Put(counted)
        });
        if counted.hits > max {
            return Err(AuthError::RateLimited {
                retry_after_secs: u64::try_from((counted.ends_at - now) / 1000)
                    .unwrap_or(0)
                    .max(1),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use lpsaring_kernel::FakeClock;

    use super::*;

    fn limited(result: Result<(), AuthError>) -> Option<u64> {
        match result {
            Ok(()) => None,
            Err(AuthError::RateLimited { retry_after_secs }) => Some(retry_after_secs),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_window_allows_its_budget_then_refuses_until_it_ends() {
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let limits = RateLimits::new(clock.clone(), AuthSettings::default());
        let minute = Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limited(limits.hit("k", 3, minute).await), None);
        }
        // Other keys have their own windows.
        assert_eq!(limited(limits.hit("other", 3, minute).await), None);
        clock.advance(chrono::Duration::seconds(20));
        assert_eq!(limited(limits.hit("k", 3, minute).await), Some(40));
        clock.advance(chrono::Duration::seconds(39));
        assert_eq!(limited(limits.hit("k", 3, minute).await), Some(1));
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(limited(limits.hit("k", 3, minute).await), None);
    }

    #[tokio::test]
    async fn concurrent_hits_are_each_counted_once() {
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let limits = Arc::new(RateLimits::new(clock, AuthSettings::default()));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let limits = limits.clone();
                tokio::spawn(
                    async move { limits.hit("k", 40, Duration::from_secs(60)).await.is_ok() },
                )
            })
            .collect();
        let mut allowed = 0;
        for task in tasks {
            allowed += usize::from(task.await.unwrap());
        }
        assert_eq!(allowed, 40);
    }
}
