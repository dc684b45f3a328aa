//! Background jobs: one shape for "do this every so often until the server stops".
//!
//! A module lists its background work as [`Job`]s from a `jobs()` function next to its
//! `router()`; `app` collects every module's list and spawns each with [`Job::run_until`], so the
//! app knows no job by name and a new module adds its work without touching the wiring.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tracing::Instrument;

/// The interval of the daily clean-up jobs.
pub const DAY: Duration = Duration::from_secs(24 * 3600);

/// One run of a job, boxed so jobs of different modules fit in one list.
pub type JobRun = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A named piece of periodic work. The job handles (logs) its own errors: a failed run never
/// stops the next one.
pub struct Job {
    /// Stable dotted name (`quota.sync`), used as the tracing span of every run.
    pub name: &'static str,
    pub interval: Duration,
    run: Box<dyn Fn() -> JobRun + Send + Sync>,
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl Job {
    /// A job that calls `run(target)` every `interval`. The target is usually the module's
    /// service behind an `Arc` (a `Weak` when the job must not keep it alive); each run gets its
    /// own clone, so a run's future owns what it uses.
    pub fn new<T, F, Fut>(name: &'static str, interval: Duration, target: T, run: F) -> Self
    where
        T: Clone + Send + Sync + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            name,
            interval,
            run: Box::new(move || Box::pin(run(target.clone()))),
        }
    }

    /// One run now (tests and `every`'s beats).
    pub fn run_once(&self) -> JobRun {
        (self.run)()
    }

    /// Runs the job at once and then every `interval` until `shutdown` resolves (see [`every`]).
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let span = tracing::info_span!("job", name = self.name);
        every(self.interval, shutdown, || {
            self.run_once().instrument(span.clone())
        })
        .await;
    }
}

/// Runs `job` at once and then every `period` until `shutdown` resolves. A job that overruns
/// its period delays the next beat instead of firing a burst to catch up; a shutdown waits for
/// the running job to finish.
pub async fn every<F, Fut>(period: Duration, shutdown: impl Future<Output = ()>, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(period.max(Duration::from_millis(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tick.tick() => job().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn runs_at_once_then_every_period_until_shutdown() {
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        every(
            Duration::from_secs(10),
            tokio::time::sleep(Duration::from_secs(25)),
            move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            },
        )
        .await;
        // At 0 s, 10 s and 20 s; the shutdown at 25 s ends it.
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_runs_on_its_own_interval_with_its_target() {
        let runs = Arc::new(AtomicU32::new(0));
        let job = Job::new(
            "test.count",
            Duration::from_secs(5),
            runs.clone(),
            |n| async move {
                n.fetch_add(1, Ordering::SeqCst);
            },
        );
        assert_eq!(job.name, "test.count");
        job.run_until(tokio::time::sleep(Duration::from_secs(12)))
            .await;
        // At 0 s, 5 s and 10 s.
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }
}
