//! The router connection's metrics: commands by operation (the RouterOS menu path, a bounded
//! set) with their latency and errors, and the connection and breaker state (sampled at scrape).

use async_trait::async_trait;
use lpsaring_kernel::metrics::Sampled;
use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::router::{RouterError, RouterHealth};

use crate::RouterOsClient;

pub const COMMANDS: &str = "lpsaring_router_commands_total";
pub const COMMAND_SECONDS: &str = "lpsaring_router_command_seconds";
pub const CONNECTED: &str = "lpsaring_router_connected";
pub const BREAKER_OPEN: &str = "lpsaring_router_breaker_open";

pub fn describe() {
    metrics::describe_counter!(
        COMMANDS,
        "RouterOS API commands by operation (menu path and verb) and outcome (ok, trap, timeout, unreachable, ...)."
    );
    metrics::describe_histogram!(
        COMMAND_SECONDS,
        metrics::Unit::Seconds,
        "Time from sending a RouterOS command (or a pipelined batch, labelled by its first operation) to its last reply."
    );
    metrics::describe_gauge!(
        CONNECTED,
        "1 while the portal holds a live RouterOS API connection."
    );
    metrics::describe_gauge!(
        BREAKER_OPEN,
        "1 while the router circuit breaker is open (calls fail at once)."
    );
}

/// The outcome label of one command's result.
pub(crate) fn outcome<T>(result: &Result<T, RouterError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(RouterError::Trap { .. }) => "trap",
        Err(RouterError::Timeout) => "timeout",
        Err(RouterError::Unreachable(_)) => "unreachable",
        Err(RouterError::Authentication(_)) => "authentication",
        Err(RouterError::CircuitOpen) => "circuit_open",
        Err(RouterError::Protocol(_)) => "protocol",
        Err(RouterError::NotOurs(_)) => "not_ours",
    }
}

#[async_trait]
impl Sampled for RouterOsClient {
    async fn sample(&self) {
        let state = self.health();
        let flag = |on: bool| if on { 1.0 } else { 0.0 };
        metrics::gauge!(CONNECTED).set(flag(state == RouterHealth::Connected));
        metrics::gauge!(BREAKER_OPEN).set(flag(state == RouterHealth::CircuitOpen));
    }
}
