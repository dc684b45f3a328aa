//! Readiness as a port: each part of the process that can be unwell (the database, the state
//! store, the router connection, the plugins, ...) implements [`Health`]; `app` collects the
//! checks in a list and `/readyz` runs them all. The app itself knows no check by name, so a new
//! module reports its health by adding one implementation to the list.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

/// How one part is doing. Only `Down` makes the process not ready (503): a `Degraded` part
/// (say, the router reconnecting) still lets the portal serve pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, salvo::oapi::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Degraded,
    Down,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Degraded => "degraded",
            Status::Down => "down",
        }
    }
}

/// The outcome of one check. `detail` is shown to anyone who can reach `/readyz`: a short
/// word or sentence for an operator, never an internal error text (log that instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct Check {
    pub status: Status,
    pub detail: String,
}

impl Check {
    pub fn ok(detail: impl Into<String>) -> Self {
        Self::new(Status::Ok, detail)
    }

    pub fn degraded(detail: impl Into<String>) -> Self {
        Self::new(Status::Degraded, detail)
    }

    pub fn down(detail: impl Into<String>) -> Self {
        Self::new(Status::Down, detail)
    }

    fn new(status: Status, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }
}

/// One part of the process that `/readyz` asks how it is doing.
#[async_trait]
pub trait Health: Send + Sync {
    /// Stable snake_case key the part is shown under (`database`, `state_store`, `router`).
    fn name(&self) -> &'static str;

    /// Asks the part. Should answer quickly; [`check_all`] bounds it anyway.
    async fn check(&self) -> Check;
}

/// Runs every check at once, each bounded by `limit` (one that does not answer in time is
/// down), and returns the outcomes in the list's order.
pub async fn check_all(checks: &[Arc<dyn Health>], limit: Duration) -> Vec<(&'static str, Check)> {
    let mut running = tokio::task::JoinSet::new();
    for (index, health) in checks.iter().enumerate() {
        let health = health.clone();
        running.spawn(async move {
            let check = match tokio::time::timeout(limit, health.check()).await {
                Ok(check) => check,
                Err(_) => Check::down("no answer in time"),
            };
            (index, check)
        });
    }
    let mut outcomes: Vec<Option<Check>> = vec![None; checks.len()];
    while let Some(joined) = running.join_next().await {
        if let Ok((index, check)) = joined {
            outcomes[index] = Some(check);
        }
    }
    checks
        .iter()
        .zip(outcomes)
        .map(|(health, check)| {
            let check = check.unwrap_or_else(|| Check::down("the check failed"));
            if check.status != Status::Ok {
                tracing::warn!(check = health.name(), status = check.status.as_str(), detail = %check.detail, "readiness check");
            }
            (health.name(), check)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(&'static str, Check);

    #[async_trait]
    impl Health for Fixed {
        fn name(&self) -> &'static str {
            self.0
        }
        async fn check(&self) -> Check {
            self.1.clone()
        }
    }

    struct Hangs;

    #[async_trait]
    impl Health for Hangs {
        fn name(&self) -> &'static str {
            "hangs"
        }
        async fn check(&self) -> Check {
            std::future::pending().await
        }
    }

    struct Panics;

    #[async_trait]
    impl Health for Panics {
        fn name(&self) -> &'static str {
            "panics"
        }
        #[allow(clippy::panic)]
        async fn check(&self) -> Check {
            panic!("a broken check")
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_check_answers_in_list_order_and_a_silent_or_broken_one_is_down() {
        let checks: Vec<Arc<dyn Health>> = vec![
            Arc::new(Fixed("a", Check::ok("fine"))),
            Arc::new(Hangs),
            Arc::new(Panics),
            Arc::new(Fixed("b", Check::degraded("slow"))),
        ];
        let outcomes = check_all(&checks, Duration::from_secs(2)).await;
        let summary: Vec<(&str, Status)> = outcomes.iter().map(|(n, c)| (*n, c.status)).collect();
        assert_eq!(
            summary,
            [
                ("a", Status::Ok),
                ("hangs", Status::Down),
                ("panics", Status::Down),
                ("b", Status::Degraded),
            ]
        );
        assert_eq!(outcomes[0].1.detail, "fine");
    }
}
