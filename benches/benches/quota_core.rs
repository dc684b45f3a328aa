//! The pure quota sync core at 1k, 10k and 100k devices: deltas from a hosts snapshot, the
//! access status of every user, and the diff against the router's rows. Target: 100k devices in
//! at most 20 ms on the 2-core CI box.
//!
//! Each iteration is a realistic steady run: every host moved some bytes, 1% of the users change
//! status (so the plan holds a few writes), the rest is already right on the router.
//!
//! `cargo bench -p lpsaring-benches --bench quota_core -- --warm-up-time 1 --measurement-time 4`

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lpsaring_kernel::ports::router::{AddressListEntry, HostEntry, IpBinding, OwnedComment};
use lpsaring_kernel::{FakeClock, Mac, UserId};
use lpsaring_quota::QuotaSettings;
use lpsaring_quota::api::AccessStatus;
use lpsaring_quota::core::{self, Baseline, DesiredDevice, FastMap};
use lpsaring_quota::status::{self, StatusInput};

struct World {
    hosts: Vec<HostEntry>,
    baselines: FastMap<Mac, Baseline>,
    owners: FastMap<Mac, UserId>,
    accounts: FastMap<UserId, StatusInput>,
    bindings: Vec<IpBinding>,
    entries: Vec<AddressListEntry>,
}

fn mac(i: usize) -> Mac {
    let b = (i as u32).to_be_bytes();
    Mac([0x02, 0x5a, b[0], b[1], b[2], b[3]])
}

fn ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0a40_0000u32 + i as u32)
}

/// `devices` devices, two per user.
fn world(devices: usize, settings: &QuotaSettings) -> World {
    let gib = 1024 * 1024 * 1024_i64;
    let mut w = World {
        hosts: Vec::with_capacity(devices),
        baselines: FastMap::default(),
        owners: FastMap::default(),
        accounts: FastMap::default(),
        bindings: Vec::with_capacity(devices),
        entries: Vec::with_capacity(devices),
    };
    for i in 0..devices {
        let user = UserId((i / 2) as i64 + 1);
        let m = mac(i);
        w.hosts.push(HostEntry {
            id: format!("*{:X}", i + 1),
            mac: m,
            address: Some(ip(i)),
            to_address: None,
            server: Some("hotspot1".into()),
            bytes_in: 1_000_000 + i as u64 * 7,
            bytes_out: 9_000_000 + i as u64 * 13,
            uptime_secs: 3_600,
            authorized: false,
            bypassed: true,
            comment: None,
        });
        w.baselines.insert(
            m,
            Baseline {
                host_id: format!("*{:X}", i + 1).into(),
                bytes: 9_000_000,
                uptime: 3_570,
            },
        );
        w.owners.insert(m, user);
        // 1% of users are about to run out (habis); the rest have plenty.
        let used = if (i / 2) % 100 == 0 { 5 * gib - 1 } else { gib };
        w.accounts.insert(
            user,
            StatusInput {
                blocked: false,
                approved: true,
                active: true,
                unlimited: false,
                purchased: 5 * gib,
                used,
                expires_at: None,
                fup_threshold: settings.fup_threshold_bytes,
            },
        );
        let comment = OwnedComment::for_user(user);
        w.bindings.push(IpBinding {
            id: format!("*B{i:X}"),
            mac: m,
            kind: lpsaring_kernel::ports::router::BindingType::Bypassed,
            server: None,
            comment: comment.clone(),
        });
        w.entries.push(AddressListEntry {
            id: format!("*A{i:X}"),
            list: "active".into(),
            address: ip(i),
            comment,
        });
    }
    w
}

/// Every user's status once this run's usage is added.
fn statuses(w: &World, per_user: &FastMap<UserId, i64>) -> FastMap<UserId, AccessStatus> {
    let now = lpsaring_kernel::Clock::now(&FakeClock::at_epoch_2026());
    let mut out: FastMap<UserId, AccessStatus> = FastMap::default();
    out.reserve(w.accounts.len());
    for (user, input) in &w.accounts {
        let mut input = *input;
        input.used += per_user.get(user).copied().unwrap_or(0);
        out.insert(*user, status::resolve(&input, now));
    }
    out
}

/// The router state every seen device should have.
fn desired<'a>(
    w: &World,
    by_mac: &core::Hosts<'_>,
    statuses: &FastMap<UserId, AccessStatus>,
    settings: &'a QuotaSettings,
) -> Vec<DesiredDevice<'a>> {
    by_mac
        .iter()
        .filter_map(|(m, h)| {
            let user = *w.owners.get(&m)?;
            let st = *statuses.get(&user)?;
            let d = status::desired(st, settings);
            Some(DesiredDevice {
                user,
                mac: m,
                ip: h.address,
                status: st,
                binding: d.binding,
                list: d.list,
            })
        })
        .collect()
}

fn one_run(w: &World, settings: &QuotaSettings, lists: &[String]) -> usize {
    let by_mac = core::dedup_hosts(&w.hosts);
    let usage = core::usage(&by_mac, &w.baselines, &w.owners);
    let statuses = statuses(w, &usage.per_user);
    let devices = desired(w, &by_mac, &statuses, settings);
    let plan = core::plan(&devices, &w.bindings, &w.entries, lists, &[], &[], false);
    plan.writes.len() + usage.put.len()
}

fn bench(c: &mut Criterion) {
    let settings = QuotaSettings::default();
    let lists = settings.address_lists.all();
    let mut group = c.benchmark_group("quota_core");
    group.sample_size(20);
    for devices in [1_000usize, 10_000, 100_000] {
        let w = world(devices, &settings);
        // Sanity: 1% of users change status ⇒ binding + add + remove per device of theirs.
        let expected_writes = (devices / 2).div_ceil(100) * 2 * 3;
        assert_eq!(one_run(&w, &settings, &lists), expected_writes + devices);
        group.throughput(Throughput::Elements(devices as u64));
        group.bench_with_input(BenchmarkId::from_parameter(devices), &w, |b, w| {
            b.iter(|| black_box(one_run(w, &settings, &lists)));
        });
    }
    group.finish();
}

/// The phases of one run at 100k devices, each on prepared inputs: says where the time goes.
fn phases(c: &mut Criterion) {
    let settings = QuotaSettings::default();
    let lists = settings.address_lists.all();
    let devices = 100_000;
    let w = world(devices, &settings);
    let by_mac = core::dedup_hosts(&w.hosts);
    let usage = core::usage(&by_mac, &w.baselines, &w.owners);
    let statuses_now = statuses(&w, &usage.per_user);
    let desired = desired(&w, &by_mac, &statuses_now, &settings);
    let mut group = c.benchmark_group("quota_core_phases_100000");
    group.sample_size(20);
    group.bench_function("dedup_hosts", |b| {
        b.iter(|| black_box(core::dedup_hosts(&w.hosts).len()));
    });
    group.bench_function("usage", |b| {
        b.iter(|| black_box(core::usage(&by_mac, &w.baselines, &w.owners).put.len()));
    });
    group.bench_function("statuses", |b| {
        b.iter(|| black_box(statuses(&w, &usage.per_user).len()));
    });
    group.bench_function("plan", |b| {
        b.iter(|| {
            black_box(
                core::plan(&desired, &w.bindings, &w.entries, &lists, &[], &[], false)
                    .writes
                    .len(),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, bench, phases);
criterion_main!(benches);
