//! The overview's figures (`/admin`, `GET /api/admin/overview`): each module's through its
//! kernel port (users, devices, usage, sales), the router's connection and breaker, the
//! readiness checks of the router and the plugins, and the outbox's depth.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use lpsaring_kernel::health::{Check, Health, Status, check_all};
use lpsaring_kernel::outbox::{self, OutboxCounts};
use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::overview::{
    DeviceFigures, DeviceOverview, SalesFigures, SalesOverview, UsageFigures, UsageOverview,
    UserFigures, UserOverview,
};
use lpsaring_kernel::ports::router::RouterHealth;
use lpsaring_kernel::{ApiError, Clock};
use sea_orm::DatabaseConnection;
use serde::Serialize;

/// How long one readiness check may take before the overview calls it down.
const CHECK_LIMIT: Duration = Duration::from_secs(2);

pub struct OverviewDeps {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    /// The site's time zone: "today" and "this month" are its local days.
    pub timezone: Tz,
    pub users: Arc<dyn UserOverview>,
    pub devices: Arc<dyn DeviceOverview>,
    pub usage: Arc<dyn UsageOverview>,
    pub sales: Arc<dyn SalesOverview>,
    pub router: Arc<dyn Router>,
    /// The readiness checks shown (the router's set-up check and the plugins').
    pub checks: Vec<Arc<dyn Health>>,
}

/// The router as the overview shows it: reachable when connected; the breaker is open while
/// the client waits before trying again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct RouterFigures {
    pub reachable: bool,
    /// `connected`, `connecting`, `circuit_open` or `not_configured`.
    pub state: String,
    pub breaker_open: bool,
}

/// One readiness check by name (`router`, `plugins`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct NamedCheck {
    pub name: String,
    pub status: Status,
    pub detail: String,
}

/// `GET /api/admin/overview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct OverviewReport {
    pub generated_at: DateTime<Utc>,
    pub timezone: String,
    #[salvo(schema(value_type = String))]
    pub today: NaiveDate,
    pub users: UserFigures,
    pub devices: DeviceFigures,
    pub usage: UsageFigures,
    pub sales: SalesFigures,
    pub router: RouterFigures,
    pub checks: Vec<NamedCheck>,
    pub outbox: OutboxCounts,
}

pub struct Overview {
    deps: OverviewDeps,
}

fn router_figures(health: RouterHealth) -> RouterFigures {
    let state = match health {
        RouterHealth::Connected => "connected",
        RouterHealth::Connecting => "connecting",
        RouterHealth::CircuitOpen => "circuit_open",
        RouterHealth::Disabled => "not_configured",
    };
    RouterFigures {
        reachable: health == RouterHealth::Connected,
        state: state.to_owned(),
        breaker_open: health == RouterHealth::CircuitOpen,
    }
}

fn named((name, check): (&'static str, Check)) -> NamedCheck {
    NamedCheck {
        name: name.to_owned(),
        status: check.status,
        detail: check.detail,
    }
}

impl Overview {
    pub fn new(deps: OverviewDeps) -> Self {
        Self { deps }
    }

    pub fn timezone(&self) -> Tz {
        self.deps.timezone
    }

    /// Every figure, read now.
    pub async fn report(&self) -> Result<OverviewReport, ApiError> {
        let d = &self.deps;
        let now = d.clock.now();
        let tz = d.timezone;
        let today = now.with_timezone(&tz).date_naive();
        let (users, devices, usage, sales, checks) = tokio::join!(
            d.users.user_figures(),
            d.devices.device_figures(),
            d.usage.usage_figures(today, tz),
            d.sales.sales_figures(today, tz),
            check_all(&d.checks, CHECK_LIMIT),
        );
        let outbox = outbox::counts(&d.db)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        Ok(OverviewReport {
            generated_at: now,
            timezone: tz.name().to_owned(),
            today,
            users: users?,
            devices: devices?,
            usage: usage?,
            sales: sales?,
            router: router_figures(d.router.health()),
            checks: checks.into_iter().map(named).collect(),
            outbox,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_connected_router_is_reachable_and_an_open_circuit_is_the_breaker() {
        let up = router_figures(RouterHealth::Connected);
        assert!(up.reachable && !up.breaker_open);
        let open = router_figures(RouterHealth::CircuitOpen);
        assert!(!open.reachable && open.breaker_open);
        assert_eq!(open.state, "circuit_open");
        assert!(!router_figures(RouterHealth::Connecting).reachable);
    }
}
