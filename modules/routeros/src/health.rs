//! `/readyz`'s `router` entry. The portal keeps serving pages while the router is away (logins
//! then fail with a clear message, the sync retries), so the router is at worst degraded, never
//! down: a lost router must not take the portal out of a load balancer. Status profiles the
//! router lacks (see [`Router::require_profiles`]) degrade it too, naming them: logins of those
//! statuses get the default profile until they exist.

use async_trait::async_trait;
use lpsaring_kernel::health::{Check, Health};
use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::router::{ProfileCheck, RouterHealth};

use crate::RouterOsClient;

/// The connection state as `/readyz` words it (`connected`, `connecting`, `circuit_open`,
/// `not_configured`, the words it showed before readiness became a port).
fn check_of(state: RouterHealth) -> Check {
    match state {
        RouterHealth::Connected => Check::ok("connected"),
        RouterHealth::Connecting => Check::degraded("connecting"),
        RouterHealth::CircuitOpen => Check::degraded("circuit_open"),
        RouterHealth::Disabled => Check::degraded("not_configured"),
    }
}

/// The connection check, degraded with the names of the required profiles the router lacks.
fn with_profiles(connection: Check, profiles: &ProfileCheck) -> Check {
    if profiles.missing.is_empty() {
        return connection;
    }
    Check::degraded(format!(
        "{}; missing hotspot profiles: {}",
        connection.detail,
        profiles.missing.join(", ")
    ))
}

#[async_trait]
impl Health for RouterOsClient {
    fn name(&self) -> &'static str {
        "router"
    }

    async fn check(&self) -> Check {
        with_profiles(check_of(self.health()), &self.profile_check())
    }
}

#[cfg(test)]
mod tests {
    use lpsaring_kernel::health::Status;

    use super::*;

    #[test]
    fn a_router_away_is_degraded_never_down() {
        assert_eq!(check_of(RouterHealth::Connected).status, Status::Ok);
        for away in [
            RouterHealth::Connecting,
            RouterHealth::CircuitOpen,
            RouterHealth::Disabled,
        ] {
            assert_eq!(check_of(away).status, Status::Degraded, "{away:?}");
        }
    }

    #[test]
    fn missing_status_profiles_degrade_the_router_and_are_named() {
        let connected = check_of(RouterHealth::Connected);
        let all_there = ProfileCheck {
            checked: true,
            ..ProfileCheck::default()
        };
        assert_eq!(with_profiles(connected.clone(), &all_there), connected);
        let lacking = ProfileCheck {
            checked: true,
            missing: vec!["habis".into(), "expired".into()],
            created: Vec::new(),
        };
        let check = with_profiles(connected, &lacking);
        assert_eq!(check.status, Status::Degraded);
        assert_eq!(
            check.detail,
            "connected; missing hotspot profiles: habis, expired"
        );
    }
}
