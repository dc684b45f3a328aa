//! Background jobs: one shape for "do this every so often until the server stops".

use std::future::Future;
use std::time::Duration;

/// Runs `job` at once and then every `period` until `shutdown` resolves. A job that overruns
/// its period delays the next beat instead of firing a burst to catch up; a shutdown waits for
/// the running job to finish.
pub async fn every<F, Fut>(period: Duration, shutdown: impl Future<Output = ()>, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(period);
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
}
