//! The access status rule and what it means on the router. Pure: the sync, the pages and the API
//! all call [`resolve`], so they can never disagree.

use chrono::{DateTime, Utc};
use lpsaring_kernel::ports::router::BindingType;

use crate::api::AccessStatus;
use crate::settings::QuotaSettings;

/// Every status, for tables and parsing.
pub const ALL_STATUSES: [AccessStatus; 7] = [
    AccessStatus::Ok,
    AccessStatus::Unlimited,
    AccessStatus::Fup,
    AccessStatus::Habis,
    AccessStatus::Expired,
    AccessStatus::Inactive,
    AccessStatus::Blocked,
];

/// The status named by `text` (`ok`, `fup`, …).
pub fn parse_status(text: &str) -> Option<AccessStatus> {
    ALL_STATUSES.into_iter().find(|s| s.as_str() == text)
}

/// Whether the status lets the device use the network.
pub fn has_access(status: AccessStatus) -> bool {
    matches!(
        status,
        AccessStatus::Ok | AccessStatus::Unlimited | AccessStatus::Fup
    )
}

/// Everything the status depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInput {
    pub blocked: bool,
    pub approved: bool,
    pub active: bool,
    pub unlimited: bool,
    /// End of the unlimited period (`None`: no end of its own).
    pub unlimited_until: Option<DateTime<Utc>>,
    pub purchased: i64,
    pub used: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub fup_threshold: i64,
}

/// Bytes left, never negative.
pub fn remaining(purchased: i64, used: i64) -> i64 {
    purchased.saturating_sub(used).max(0)
}

/// Priority: blocked > inactive > expired > unlimited > habis > fup > ok. Expiry applies to
/// unlimited accounts too; an account is expired from the instant `expires_at` is reached, and
/// falls back from unlimited to its bytes from the instant `unlimited_until` is.
pub fn resolve(input: &StatusInput, now: DateTime<Utc>) -> AccessStatus {
    if input.blocked {
        return AccessStatus::Blocked;
    }
    if !input.approved || !input.active {
        return AccessStatus::Inactive;
    }
    if input.expires_at.is_some_and(|at| at <= now) {
        return AccessStatus::Expired;
    }
    if crate::period::unlimited_at(input.unlimited, input.unlimited_until, now) {
        return AccessStatus::Unlimited;
    }
    let left = remaining(input.purchased, input.used);
    if input.purchased <= 0 || left <= 0 {
        return AccessStatus::Habis;
    }
    if input.purchased > input.fup_threshold && left <= input.fup_threshold {
        return AccessStatus::Fup;
    }
    AccessStatus::Ok
}

/// The router state a status implies for each of the user's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesiredState<'a> {
    pub binding: BindingType,
    /// The one status address-list for the device's IP.
    pub list: &'a str,
    /// The hotspot user profile.
    pub profile: &'a str,
}

/// Bypassed while the user may use the network, blocked only for a hard block, regular (the
/// hotspot login page, walled garden only) otherwise.
pub fn binding_for(status: AccessStatus) -> BindingType {
    match status {
        AccessStatus::Ok | AccessStatus::Unlimited | AccessStatus::Fup => BindingType::Bypassed,
        AccessStatus::Blocked => BindingType::Blocked,
        AccessStatus::Habis | AccessStatus::Expired | AccessStatus::Inactive => {
            BindingType::Regular
        }
    }
}

pub fn desired(status: AccessStatus, settings: &QuotaSettings) -> DesiredState<'_> {
    DesiredState {
        binding: binding_for(status),
        list: settings.address_lists.for_status(status),
        profile: settings.profiles.for_status(status),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const T: i64 = 3 * 1024 * 1024 * 1024;

    fn base() -> StatusInput {
        StatusInput {
            blocked: false,
            approved: true,
            active: true,
            unlimited: false,
            unlimited_until: None,
            purchased: 10 * T,
            used: 0,
            expires_at: None,
            fup_threshold: T,
        }
    }

    #[test]
    fn status_table_covers_every_boundary() {
        let now = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        let past = Some(now - Duration::seconds(1));
        let exactly_now = Some(now);
        let future = Some(now + Duration::seconds(1));
        use AccessStatus::*;
        let b = base();
        let cases: Vec<(&str, StatusInput, AccessStatus)> = vec![
            ("plain ok", b, Ok),
            (
                "blocked beats everything",
                StatusInput {
                    blocked: true,
                    approved: false,
                    active: false,
                    expires_at: past,
                    unlimited: true,
                    purchased: 0,
                    ..b
                },
                Blocked,
            ),
            (
                "not approved",
                StatusInput {
                    approved: false,
                    expires_at: past,
                    ..b
                },
                Inactive,
            ),
            (
                "deactivated",
                StatusInput {
                    active: false,
                    unlimited: true,
                    ..b
                },
                Inactive,
            ),
            (
                "expired beats unlimited",
                StatusInput {
                    unlimited: true,
                    expires_at: past,
                    ..b
                },
                Expired,
            ),
            (
                "expiry instant counts as expired",
                StatusInput {
                    expires_at: exactly_now,
                    ..b
                },
                Expired,
            ),
            (
                "one second before expiry",
                StatusInput {
                    expires_at: future,
                    ..b
                },
                Ok,
            ),
            (
                "expired beats habis",
                StatusInput {
                    purchased: 0,
                    expires_at: past,
                    ..b
                },
                Expired,
            ),
            (
                "unlimited beats habis",
                StatusInput {
                    unlimited: true,
                    purchased: 0,
                    used: 5,
                    ..b
                },
                Unlimited,
            ),
            (
                "unlimited not yet expired",
                StatusInput {
                    unlimited: true,
                    expires_at: future,
                    ..b
                },
                Unlimited,
            ),
            (
                "unlimited period still running",
                StatusInput {
                    unlimited: true,
                    unlimited_until: future,
                    purchased: 0,
                    ..b
                },
                Unlimited,
            ),
            (
                "unlimited period ended: back to the bytes",
                StatusInput {
                    unlimited: true,
                    unlimited_until: exactly_now,
                    ..b
                },
                Ok,
            ),
            (
                "unlimited period ended without bytes",
                StatusInput {
                    unlimited: true,
                    unlimited_until: past,
                    purchased: 0,
                    ..b
                },
                Habis,
            ),
            (
                "nothing purchased",
                StatusInput { purchased: 0, ..b },
                Habis,
            ),
            (
                "negative purchase",
                StatusInput { purchased: -5, ..b },
                Habis,
            ),
            ("used exactly all", StatusInput { used: 10 * T, ..b }, Habis),
            (
                "overshoot",
                StatusInput {
                    used: 10 * T + 1,
                    ..b
                },
                Habis,
            ),
            (
                "one byte left",
                StatusInput {
                    used: 10 * T - 1,
                    ..b
                },
                Fup,
            ),
            (
                "remaining exactly at threshold",
                StatusInput { used: 9 * T, ..b },
                Fup,
            ),
            (
                "remaining one above threshold",
                StatusInput {
                    used: 9 * T - 1,
                    ..b
                },
                Ok,
            ),
            (
                "purchase exactly at threshold never fup",
                StatusInput {
                    purchased: T,
                    used: 1,
                    ..b
                },
                Ok,
            ),
            (
                "purchase one above threshold is fup at once",
                StatusInput {
                    purchased: T + 1,
                    used: 1,
                    ..b
                },
                Fup,
            ),
            (
                "small package runs to habis",
                StatusInput {
                    purchased: T / 2,
                    used: T / 2,
                    ..b
                },
                Habis,
            ),
            (
                "zero threshold disables fup",
                StatusInput {
                    fup_threshold: 0,
                    used: 10 * T - 1,
                    ..b
                },
                Ok,
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(resolve(&input, now), want, "{name}");
        }
    }

    #[test]
    fn router_state_per_status() {
        let s = QuotaSettings::default();
        let table = [
            (AccessStatus::Ok, BindingType::Bypassed, "active", "default"),
            (
                AccessStatus::Unlimited,
                BindingType::Bypassed,
                "active",
                "unlimited",
            ),
            (AccessStatus::Fup, BindingType::Bypassed, "fup", "fup"),
            (AccessStatus::Habis, BindingType::Regular, "habis", "habis"),
            (
                AccessStatus::Expired,
                BindingType::Regular,
                "expired",
                "expired",
            ),
            (
                AccessStatus::Inactive,
                BindingType::Regular,
                "inactive",
                "inactive",
            ),
            (
                AccessStatus::Blocked,
                BindingType::Blocked,
                "blocked",
                "inactive",
            ),
        ];
        for (status, binding, list, profile) in table {
            let d = desired(status, &s);
            assert_eq!(
                (d.binding, d.list, d.profile),
                (binding, list, profile),
                "{status:?}"
            );
            assert_eq!(has_access(status), binding == BindingType::Bypassed);
            assert_eq!(
                status.binding_type(),
                binding,
                "agrees with the kernel's rule"
            );
            assert_eq!(parse_status(status.as_str()), Some(status));
        }
    }

    #[test]
    fn remaining_never_negative_and_never_overflows() {
        assert_eq!(remaining(10, 3), 7);
        assert_eq!(remaining(3, 10), 0);
        assert_eq!(remaining(i64::MIN, i64::MAX), 0);
    }
}
