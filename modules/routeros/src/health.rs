//! `/readyz`'s `router` entry. The portal keeps serving pages while the router is away (logins
//! then fail with a clear message, the sync retries), so the router is at worst degraded, never
//! down: a lost router must not take the portal out of a load balancer. Status profiles the
//! router lacks (see [`Router::require_profiles`]) degrade it too, naming them: logins of those
//! statuses get the default profile until they exist.
//!
//! [`SetupHealth`] adds the checks of `lpsaring doctor` ([`crate::setup::verify`]): a router whose
//! profiles, lists, walled garden, firewall, API user or login page differ from what the portal
//! expects is degraded, naming the areas and the command that repairs them.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lpsaring_kernel::health::{Check, Health, Status};
use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::router::{ProfileCheck, RouterHealth};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::RouterOsClient;
use crate::setup::{self, Desired, Finding, Level};

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

/// How long a set-up check is reused: it reads every set-up menu, `/readyz` may be asked often.
const SETUP_RECHECK: Duration = Duration::from_secs(30);

/// The router's `/readyz` entry with the set-up checks: [`RouterOsClient`]'s connection and
/// profile check, then (when connected) the set-up areas against `desired`.
pub struct SetupHealth {
    client: Arc<RouterOsClient>,
    desired: Desired,
    user: String,
    last: Mutex<Option<(Instant, Vec<Finding>)>>,
}

impl SetupHealth {
    /// `user` is the account the portal logs in as (`router.username`).
    pub fn new(client: Arc<RouterOsClient>, desired: Desired, user: String) -> Self {
        Self {
            client,
            desired,
            user,
            last: Mutex::new(None),
        }
    }

    async fn findings(&self) -> Option<Vec<Finding>> {
        let mut last = self.last.lock().await;
        if let Some((at, findings)) = last.as_ref()
            && at.elapsed() < SETUP_RECHECK
        {
            return Some(findings.clone());
        }
        match setup::check_router(self.client.as_ref(), &self.desired, &self.user).await {
            Ok(findings) => {
                *last = Some((Instant::now(), findings.clone()));
                Some(findings)
            }
            Err(e) => {
                tracing::warn!(error = %e, "router set-up could not be read for /readyz");
                None
            }
        }
    }
}

/// The connection check, degraded with the set-up areas that fail.
fn with_setup(connection: Check, findings: Option<&[Finding]>) -> Check {
    let failing: Vec<&str> = match findings {
        None => vec!["unreadable"],
        Some(findings) => findings
            .iter()
            .filter(|f| f.level == Level::Fail)
            .map(|f| f.area)
            .collect(),
    };
    if failing.is_empty() {
        return connection;
    }
    let detail = format!(
        "{}; set-up differs: {} (run `{}`)",
        connection.detail,
        failing.join(", "),
        setup::FIX
    );
    match connection.status {
        Status::Down => Check::down(detail),
        _ => Check::degraded(detail),
    }
}

#[async_trait]
impl Health for SetupHealth {
    fn name(&self) -> &'static str {
        "router"
    }

    async fn check(&self) -> Check {
        let connection = self.client.check().await;
        if self.client.health() != RouterHealth::Connected {
            return connection;
        }
        if !self.desired.warnings.is_empty() {
            // Placeholders in the desired state: the set-up cannot be judged yet.
            let unset: Vec<&str> = self
                .desired
                .warnings
                .iter()
                .filter_map(|w| w.split(' ').next())
                .collect();
            return Check::degraded(format!(
                "{}; set-up not checked: {} not set",
                connection.detail,
                unset.join(", ")
            ));
        }
        with_setup(connection, self.findings().await.as_deref())
    }
}

#[cfg(test)]
mod tests {
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
    fn failing_setup_areas_degrade_the_router_and_name_the_fix() {
        let connected = check_of(RouterHealth::Connected);
        let ok = [Finding::new("walled garden", Level::Ok, "fine")];
        assert_eq!(with_setup(connected.clone(), Some(&ok)), connected);
        let wrong = [
            Finding::new("walled garden", Level::Fail, "missing x"),
            Finding::new("hotspot profiles", Level::Warn, "hand made"),
            Finding::new("login page", Level::Fail, "differs"),
        ];
        let check = with_setup(connected.clone(), Some(&wrong));
        assert_eq!(check.status, Status::Degraded);
        assert_eq!(
            check.detail,
            "connected; set-up differs: walled garden, login page (run `lpsaring router setup`)"
        );
        assert_eq!(with_setup(connected, None).status, Status::Degraded);
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
