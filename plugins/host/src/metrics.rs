//! Plugin calls by plugin, operation and outcome, with their latency (retries included).

use lpsaring_kernel::ports::{GatewayError, GatewayErrorKind};

pub const CALLS: &str = "lpsaring_plugin_calls_total";
pub const CALL_SECONDS: &str = "lpsaring_plugin_call_seconds";

pub fn describe() {
    metrics::describe_counter!(
        CALLS,
        "Plugin operations by plugin, operation and outcome (ok, retryable, permanent, auth, invalid_input)."
    );
    metrics::describe_histogram!(
        CALL_SECONDS,
        metrics::Unit::Seconds,
        "Time of one plugin operation to its result, its HTTP steps and retries included."
    );
}

pub(crate) fn record<T>(
    plugin: &str,
    op: &str,
    result: &Result<T, GatewayError>,
    started: std::time::Instant,
) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(e) => match e.kind {
            GatewayErrorKind::Retryable => "retryable",
            GatewayErrorKind::Permanent => "permanent",
            GatewayErrorKind::Auth => "auth",
            GatewayErrorKind::InvalidInput => "invalid_input",
        },
    };
    let (plugin, op) = (plugin.to_owned(), op.to_owned());
    metrics::histogram!(CALL_SECONDS, "plugin" => plugin.clone(), "operation" => op.clone())
        .record(lpsaring_kernel::metrics::seconds_since(started));
    metrics::counter!(CALLS, "plugin" => plugin, "operation" => op, "outcome" => outcome)
        .increment(1);
}
