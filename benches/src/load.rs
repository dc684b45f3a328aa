//! What the load runs in `src/bin/` share: a bounded phase runner, its report, and the process's
//! resident memory.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Latencies of one phase, how many requests failed, and the phase's wall time.
pub struct Phase {
    pub latencies: Vec<Duration>,
    pub failures: usize,
    pub wall: Duration,
}

/// Runs `request` for every item with at most `concurrency` in flight, timing each.
pub async fn run_phase<I, F, Fut>(items: I, concurrency: usize, request: F) -> Phase
where
    I: IntoIterator,
    F: Fn(I::Item) -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    let results: Vec<(Duration, bool)> = stream::iter(items)
        .map(|item| {
            let call = request(item);
            async move {
                let t = Instant::now();
                let ok = call.await;
                (t.elapsed(), ok)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let failures = results.iter().filter(|(_, ok)| !ok).count();
    Phase {
        latencies: results.into_iter().map(|(d, _)| d).collect(),
        failures,
        wall: started.elapsed(),
    }
}

/// One line: count, failures, p50/p90/p99/max and throughput.
pub fn report(name: &str, phase: Phase) {
    let Phase {
        mut latencies,
        failures,
        wall,
    } = phase;
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<12} n={:<6} failures={failures:<4} p50={:.2} ms  p90={:.2} ms  p99={:.2} ms  max={:.2} ms  throughput={:.0}/s",
        latencies.len(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default()),
        latencies.len() as f64 / wall.as_secs_f64(),
    );
}

/// Prints the process's resident memory.
pub fn rss(when: &str) {
    let mb = lpsaring_kernel::metrics::resident_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0);
    println!("rss {when}: {mb:.1} MB");
}

/// Runs `wrk -t2 -c50 -d{secs}s --latency url` when wrk is installed (Debian's `wrk`), printing
/// its output; says how to get it otherwise.
pub fn wrk(url: &str, secs: u64) {
    match std::process::Command::new("wrk")
        .args(["-t2", "-c50", &format!("-d{secs}s"), "--latency", url])
        .output()
    {
        Ok(out) => {
            println!("wrk -t2 -c50 -d{secs}s --latency {url}");
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
        Err(e) => println!("wrk not run ({e}); install Debian's `wrk` for this phase"),
    }
}
