//! Quota's metrics: sync runs by result, their duration by phase, and what each run counted,
//! matched and wrote.

use lpsaring_kernel::ErrorCode;

use crate::api::SyncSummary;
use crate::error::QuotaError;

pub const SYNC_RUNS: &str = "lpsaring_quota_sync_runs_total";
pub const SYNC_PHASE_SECONDS: &str = "lpsaring_quota_sync_phase_seconds";
pub const SYNC_BYTES: &str = "lpsaring_quota_sync_counted_bytes_total";
pub const SYNC_ROUTER_WRITES: &str = "lpsaring_quota_sync_router_writes_total";
pub const SYNC_ROUTER_ERRORS: &str = "lpsaring_quota_sync_router_errors_total";
pub const SYNC_HOSTS: &str = "lpsaring_quota_sync_hosts_seen";
pub const SYNC_DEVICES: &str = "lpsaring_quota_sync_devices_matched";
pub const SYNC_UNKNOWN_MACS: &str = "lpsaring_quota_sync_unknown_macs";
pub const SYNC_LAST_SUCCESS: &str = "lpsaring_quota_sync_last_success_timestamp_seconds";

pub fn describe() {
    metrics::describe_counter!(
        SYNC_RUNS,
        "Quota sync runs by result: ok, or the error code (ROUTER_UNAVAILABLE, ...)."
    );
    metrics::describe_histogram!(
        SYNC_PHASE_SECONDS,
        metrics::Unit::Seconds,
        "Duration of a successful sync run by phase (snapshot, accounts, commit, enforce, total)."
    );
    metrics::describe_counter!(
        SYNC_BYTES,
        metrics::Unit::Bytes,
        "Bytes charged to users by sync runs."
    );
    metrics::describe_counter!(
        SYNC_ROUTER_WRITES,
        "Router writes the sync made to enforce access."
    );
    metrics::describe_counter!(
        SYNC_ROUTER_ERRORS,
        "Router writes the sync made that the router refused."
    );
    metrics::describe_gauge!(SYNC_HOSTS, "Hotspot hosts the last sync run saw.");
    metrics::describe_gauge!(
        SYNC_DEVICES,
        "Hosts of the last sync run that matched a registered device."
    );
    metrics::describe_gauge!(
        SYNC_UNKNOWN_MACS,
        "Hosts of the last sync run whose MAC no device has."
    );
    metrics::describe_gauge!(
        SYNC_LAST_SUCCESS,
        metrics::Unit::Seconds,
        "Unix time of the last successful sync run."
    );
}

/// Records a finished run (`None`: skipped, another was in progress).
pub(crate) fn record(result: &Result<Option<SyncSummary>, QuotaError>, now_unix: i64) {
    let summary = match result {
        Ok(Some(summary)) => summary,
        Ok(None) => {
            metrics::counter!(SYNC_RUNS, "result" => "skipped").increment(1);
            return;
        }
        Err(e) => {
            metrics::counter!(SYNC_RUNS, "result" => e.code()).increment(1);
            return;
        }
    };
    metrics::counter!(SYNC_RUNS, "result" => "ok").increment(1);
    let t = &summary.timings;
    for (phase, ms) in [
        ("snapshot", t.snapshot_ms),
        ("accounts", t.accounts_ms),
        ("commit", t.commit_ms),
        ("enforce", t.enforce_ms),
        ("total", t.total_ms),
    ] {
        metrics::histogram!(SYNC_PHASE_SECONDS, "phase" => phase).record(ms as f64 / 1000.0);
    }
    metrics::counter!(SYNC_BYTES).increment(u64::try_from(summary.bytes_counted).unwrap_or(0));
    metrics::counter!(SYNC_ROUTER_WRITES).increment(summary.router_writes as u64);
    metrics::counter!(SYNC_ROUTER_ERRORS).increment(summary.router_errors as u64);
    metrics::gauge!(SYNC_HOSTS).set(summary.hosts_seen as f64);
    metrics::gauge!(SYNC_DEVICES).set(summary.devices_matched as f64);
    metrics::gauge!(SYNC_UNKNOWN_MACS).set(summary.unknown_macs as f64);
    metrics::gauge!(SYNC_LAST_SUCCESS).set(now_unix as f64);
}
