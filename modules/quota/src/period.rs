//! Validity and unlimited periods: what a grant and its reversal do to an account's expiry and
//! unlimited period (pure: no I/O, no clock). [`crate::status::resolve`] asks [`unlimited_at`]
//! whether an unlimited period is running, so a period that ended falls back to the bytes.

use chrono::{DateTime, Duration, Utc};

use crate::api::ValidityMode;

/// The time-bound part of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    pub expires_at: Option<DateTime<Utc>>,
    pub unlimited: bool,
    /// End of the unlimited period; `None` with `unlimited`: no end of its own.
    pub unlimited_until: Option<DateTime<Utc>>,
}

/// Whether an account with this unlimited flag and end is unlimited at `now`: until the
/// instant its period ends, or always when it has no end.
pub fn unlimited_at(unlimited: bool, until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    unlimited && until.is_none_or(|end| end > now)
}

impl Period {
    pub fn unlimited_at(&self, now: DateTime<Utc>) -> bool {
        unlimited_at(self.unlimited, self.unlimited_until, now)
    }

    /// The unlimited period's end as pages show it: only while it runs.
    pub fn running_unlimited_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.unlimited_until.filter(|_| self.unlimited_at(now))
    }
}

fn hours(n: i64) -> Duration {
    Duration::try_hours(n).unwrap_or(Duration::MAX)
}

/// Where a period of `mode` starts: now, or (extending) the end of one still running.
fn start(current: Option<DateTime<Utc>>, mode: ValidityMode, now: DateTime<Utc>) -> DateTime<Utc> {
    match (mode, current) {
        (ValidityMode::Extend, Some(end)) if end > now => end,
        _ => now,
    }
}

fn plus(at: DateTime<Utc>, n: i64) -> DateTime<Utc> {
    at.checked_add_signed(hours(n))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The period after a grant of `validity_hours` (0: expiry unchanged), unlimited or not.
/// An unlimited grant with validity is a period of that length; without validity, or on an
/// account already unlimited with no end, it has no end of its own.
pub fn granted(
    before: &Period,
    validity_hours: i64,
    unlimited: bool,
    mode: ValidityMode,
    now: DateTime<Utc>,
) -> Period {
    let expires_at = if validity_hours > 0 {
        Some(plus(start(before.expires_at, mode, now), validity_hours))
    } else {
        before.expires_at
    };
    let no_end = before.unlimited && before.unlimited_until.is_none();
    let (unlimited, unlimited_until) = if !unlimited {
        (before.unlimited, before.unlimited_until)
    } else if validity_hours <= 0 || no_end {
        (true, None)
    } else {
        let running = before.running_unlimited_until(now);
        (true, Some(plus(start(running, mode, now), validity_hours)))
    };
    Period {
        expires_at,
        unlimited,
        unlimited_until,
    }
}

/// The period after taking back a grant of `validity_hours` (a refund): expiry and, for an
/// unlimited grant, the unlimited period end that much earlier, never before `now` (the
/// account is expired, or back on its bytes, at once). An unlimited with no end of its own
/// (an admin's) is left alone.
pub fn reversed(
    before: &Period,
    validity_hours: i64,
    unlimited: bool,
    now: DateTime<Utc>,
) -> Period {
    let back = |at: DateTime<Utc>| {
        at.checked_sub_signed(hours(validity_hours))
            .unwrap_or(now)
            .max(now)
            .min(at)
    };
    let expires_at = match before.expires_at {
        Some(at) if validity_hours > 0 => Some(back(at)),
        other => other,
    };
    let unlimited_until = match before.unlimited_until {
        Some(at) if unlimited && validity_hours > 0 => Some(back(at)),
        other => other,
    };
    Period {
        expires_at,
        unlimited: before.unlimited,
        unlimited_until,
    }
}

/// The bytes a reversal of `bytes` removes from `purchased`: never more than is unused, so
/// purchased never falls below used (and never rises).
pub fn bytes_taken(purchased: i64, used: i64, bytes: i64) -> i64 {
    let unused = purchased.saturating_sub(used.max(0)).max(0);
    bytes.max(0).min(unused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).unwrap() + Duration::hours(h)
    }

    const NOW: i64 = 0;

    fn period(expires: Option<i64>, unlimited: bool, until: Option<i64>) -> Period {
        Period {
            expires_at: expires.map(at),
            unlimited,
            unlimited_until: until.map(at),
        }
    }

    #[test]
    fn extend_counts_from_the_later_of_now_and_the_current_end_reset_from_now() {
        use ValidityMode::*;
        let now = at(NOW);
        let cases = [
            // (name, before expiry, hours, mode, after expiry)
            ("no expiry yet, extend", None, 3, Extend, Some(3)),
            ("no expiry yet, reset", None, 3, Reset, Some(3)),
            ("time left is kept", Some(10), 720, Extend, Some(730)),
            ("time left is dropped", Some(10), 720, Reset, Some(720)),
            ("expired: from now", Some(-5), 24, Extend, Some(24)),
            ("ends exactly now: from now", Some(0), 24, Extend, Some(24)),
            ("no validity: unchanged", Some(10), 0, Extend, Some(10)),
            (
                "no validity, reset: unchanged",
                Some(10),
                0,
                Reset,
                Some(10),
            ),
        ];
        for (name, before, hours, mode, want) in cases {
            let after = granted(&period(before, false, None), hours, false, mode, now);
            assert_eq!(after.expires_at, want.map(at), "{name}");
            assert!(!after.unlimited, "{name}");
        }
    }

    #[test]
    fn an_unlimited_grant_is_a_period_of_its_own_and_ends() {
        let now = at(NOW);
        // A 24-hour unlimited on a 30-day bytes account: unlimited for a day, then the bytes.
        let before = period(Some(720), false, None);
        let after = granted(&before, 24, true, ValidityMode::Extend, now);
        assert_eq!(after.unlimited_until, Some(at(24)));
        assert_eq!(after.expires_at, Some(at(744)));
        assert!(after.unlimited_at(at(23)));
        assert!(!after.unlimited_at(at(24)), "ends at the instant");
        assert_eq!(after.running_unlimited_until(at(25)), None);

        // Extending a running period counts from its end; reset from now.
        let again = granted(&after, 24, true, ValidityMode::Extend, at(12));
        assert_eq!(again.unlimited_until, Some(at(48)));
        let reset = granted(&after, 24, true, ValidityMode::Reset, at(12));
        assert_eq!(reset.unlimited_until, Some(at(36)));
        // A period that ended is not extended from its old end.
        let late = granted(&after, 24, true, ValidityMode::Extend, at(100));
        assert_eq!(late.unlimited_until, Some(at(124)));

        // No validity (an admin's): no end of its own, and a later timed purchase keeps that.
        let forever = granted(&Period::default(), 0, true, ValidityMode::Extend, now);
        assert_eq!((forever.unlimited, forever.unlimited_until), (true, None));
        assert!(forever.unlimited_at(at(1_000_000)));
        let bought = granted(&forever, 24, true, ValidityMode::Extend, now);
        assert_eq!((bought.unlimited, bought.unlimited_until), (true, None));

        // A bytes grant leaves the unlimited period as it is.
        let bytes = granted(&after, 48, false, ValidityMode::Extend, now);
        assert_eq!(bytes.unlimited_until, Some(at(24)));
        assert!(bytes.unlimited);
        assert!(!unlimited_at(false, None, now));
    }

    #[test]
    fn a_reversal_shortens_but_never_reaches_into_the_past() {
        let now = at(NOW);
        let before = period(Some(730), true, Some(48));
        let back = reversed(&before, 24, true, now);
        assert_eq!(back.expires_at, Some(at(706)));
        assert_eq!(back.unlimited_until, Some(at(24)));
        // More hours than are left: ends now.
        let all = reversed(&before, 10_000, true, now);
        assert_eq!(all.expires_at, Some(now));
        assert_eq!(all.unlimited_until, Some(now));
        assert!(!all.unlimited_at(now));
        // A bytes grant's reversal leaves the unlimited period; already past stays put.
        let bytes = reversed(&period(Some(-5), true, Some(48)), 24, false, now);
        assert_eq!(bytes.unlimited_until, Some(at(48)));
        assert_eq!(bytes.expires_at, Some(at(-5)));
        // An admin's unlimited with no end is left alone; no expiry stays none.
        let forever = reversed(&period(None, true, None), 24, true, now);
        assert_eq!(forever, period(None, true, None));
    }

    #[test]
    fn bytes_taken_never_go_below_what_was_used() {
        assert_eq!(bytes_taken(10, 3, 5), 5);
        assert_eq!(bytes_taken(10, 8, 5), 2);
        assert_eq!(bytes_taken(10, 10, 5), 0);
        assert_eq!(bytes_taken(10, 12, 5), 0, "overshoot: nothing unused");
        assert_eq!(bytes_taken(10, 0, 50), 10);
        assert_eq!(bytes_taken(10, 0, -5), 0);
        assert_eq!(bytes_taken(i64::MAX, i64::MIN, i64::MAX), i64::MAX);
    }
}
