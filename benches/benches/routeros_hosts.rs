//! Hosts snapshot through the real client (`lpsaring-routeros` over mikrotik-rs) from the
//! simulator on loopback TCP: `/ip/hotspot/host/print` with `.proplist`, parsed into
//! `HostEntry` rows. Throughput is reported in rows (hosts) per second.
//!
//! `cargo bench -p lpsaring-benches --bench routeros_hosts -- --warm-up-time 1 --measurement-time 5`

// Setup failures should abort the bench loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lpsaring_kernel::ports::Router;
use lpsaring_routeros::{RouterOsClient, RouterSettings, Secret};
use lpsaring_routeros_sim::{SimConfig, Simulator};
use tokio::runtime::Runtime;

fn hosts_snapshot(c: &mut Criterion) {
    let runtime: Runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("routeros_hosts_snapshot");
    group.sample_size(10);
    for hosts in [10_000usize, 50_000] {
        let hosts = lpsaring_benches::size(hosts, hosts / 100);
        let (sim, client) = runtime.block_on(async {
            let sim = Simulator::start(SimConfig {
                hosts,
                ..SimConfig::local()
            })
            .await
            .expect("simulator");
            let client = RouterOsClient::start(RouterSettings {
                address: sim.addr().to_string(),
                username: "admin".into(),
                password: Secret::new("secret"),
                timeout_ms: 60_000,
                keepalive_ms: 0,
                ..RouterSettings::default()
            });
            assert_eq!(client.hosts().await.expect("first snapshot").len(), hosts);
            (sim, client)
        });
        group.throughput(Throughput::Elements(hosts as u64));
        group.bench_function(format!("{hosts}_hosts"), |b| {
            b.to_async(&runtime)
                .iter(|| async { black_box(client.hosts().await.expect("snapshot")) });
        });
        drop(client);
        drop(sim);
    }
    group.finish();
}

criterion_group!(benches, hosts_snapshot);
criterion_main!(benches);
