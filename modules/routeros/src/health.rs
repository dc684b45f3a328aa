//! `/readyz`'s `router` entry. The portal keeps serving pages while the router is away (logins
//! then fail with a clear message, the sync retries), so the router is at worst degraded, never
//! down: a lost router must not take the portal out of a load balancer.

use async_trait::async_trait;
use lpsaring_kernel::health::{Check, Health};
use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::router::RouterHealth;

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

#[async_trait]
impl Health for RouterOsClient {
    fn name(&self) -> &'static str {
        "router"
    }

    async fn check(&self) -> Check {
        check_of(self.health())
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
}
