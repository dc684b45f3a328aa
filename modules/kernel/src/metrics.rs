//! Metrics as a port: every module records its own counters and histograms through the
//! `metrics` facade (names `lpsaring_<module>_…_total`, `_seconds`, `_bytes`; labels are
//! bounded words, never a phone, a MAC or a raw path) and describes them in its own
//! `metrics::describe()`. Figures that are a state rather than an event (outbox depth, store
//! size, router connection, process memory) are read when `/metrics` is scraped: each part
//! implements [`Sampled`] and `app` collects the list, as it does for [`crate::health`].
//!
//! Without an installed recorder (tests of one module, the CLI) every record is a no-op.

use std::time::Instant;

use async_trait::async_trait;

/// A part that sets its gauges when `/metrics` is scraped.
#[async_trait]
pub trait Sampled: Send + Sync {
    async fn sample(&self);
}

/// Seconds since `started`, for `_seconds` histograms.
pub fn seconds_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

/// `ok` or `error`: the outcome label of a `Result`.
pub fn outcome<T, E>(result: &Result<T, E>) -> &'static str {
    if result.is_ok() { "ok" } else { "error" }
}

pub const PROCESS_RESIDENT: &str = "lpsaring_process_resident_memory_bytes";
pub const PROCESS_OPEN_FDS: &str = "lpsaring_process_open_fds";
pub const OUTBOX_MESSAGES: &str = "lpsaring_outbox_messages";
pub const OUTBOX_DELIVERIES: &str = "lpsaring_outbox_deliveries_total";

/// The kernel's own metrics: the process and the notification outbox.
pub fn describe() {
    metrics::describe_gauge!(
        PROCESS_RESIDENT,
        metrics::Unit::Bytes,
        "Resident memory of the process (VmRSS)."
    );
    metrics::describe_gauge!(PROCESS_OPEN_FDS, "Open file descriptors of the process.");
    metrics::describe_gauge!(OUTBOX_MESSAGES, "Outbox messages by state.");
    metrics::describe_counter!(
        OUTBOX_DELIVERIES,
        "Outbox delivery attempts by outcome (sent, retried, dead)."
    );
}

/// Resident memory and open descriptors from `/proc/self` (Linux; elsewhere nothing is set).
#[derive(Debug, Default, Clone, Copy)]
pub struct Process;

/// Bytes resident, from `/proc/self/status`'s `VmRSS:  1234 kB`.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn open_fds() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
}

#[async_trait]
impl Sampled for Process {
    async fn sample(&self) {
        if let Some(rss) = resident_bytes() {
            metrics::gauge!(PROCESS_RESIDENT).set(rss as f64);
        }
        if let Some(fds) = open_fds() {
            metrics::gauge!(PROCESS_OPEN_FDS).set(fds as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_figures_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_bytes().is_some_and(|b| b > 0));
            assert!(open_fds().is_some_and(|n| n > 0));
        }
    }

    #[test]
    fn outcome_names_a_result() {
        assert_eq!(outcome::<(), ()>(&Ok(())), "ok");
        assert_eq!(outcome::<(), ()>(&Err(())), "error");
    }
}
