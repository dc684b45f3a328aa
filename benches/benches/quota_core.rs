//! The pure quota sync core at 1k, 10k and 100k devices: deltas from a hosts snapshot, the
//! access status of every user, and the diff against the router's rows. Target: 100k devices in
//! at most 20 ms on the 2-core CI box.
//!
//! Each iteration is a realistic steady run: every host moved some bytes, 1% of the users change
//! status (so the plan holds a few writes), the rest is already right on the router. Orders are
//! as a live router has them: hosts in the order devices came online (shuffled against the
//! registry), bindings and list entries in the order the sync created them, baselines in the
//! order of the previous snapshot. `quota_core_unordered` is the worst case: baselines in key
//! order (the first run after a restart) and router rows shuffled.
//!
//! `cargo bench -p lpsaring-benches --bench quota_core -- --warm-up-time 1 --measurement-time 4`

#![allow(clippy::expect_used, clippy::unwrap_used)]

use lpsaring_benches as _;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lpsaring_kernel::ports::router::{
    AddressListEntry, BindingType, HostEntry, IpBinding, OwnedComment,
};
use lpsaring_kernel::{FakeClock, Mac, UserId};
use lpsaring_quota::QuotaSettings;
use lpsaring_quota::api::AccessStatus;
use lpsaring_quota::core::{self, Baseline, Baselines, Fleet, FleetDevice, RouterRows};
use lpsaring_quota::status::{self, StatusInput};

struct World {
    /// The registry, by owner.
    devices: Vec<FleetDevice>,
    hosts: Vec<HostEntry>,
    baselines: Baselines,
    /// By position in the fleet's users (user `k + 1` is at `k`).
    accounts: Vec<StatusInput>,
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

/// A fixed pseudo-random permutation (xorshift Fisher-Yates): the same world every run.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut x = seed | 1;
    for i in (1..items.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        items.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

/// `devices` devices, two per user.
fn world(devices: usize, settings: &QuotaSettings) -> World {
    let gib = 1024 * 1024 * 1024_i64;
    let mut w = World {
        devices: Vec::with_capacity(devices),
        hosts: Vec::with_capacity(devices),
        baselines: Baselines::default(),
        accounts: Vec::with_capacity(devices / 2 + 1),
        bindings: Vec::with_capacity(devices),
        entries: Vec::with_capacity(devices),
    };
    // Rows of one list share its name, as the client parses them.
    let active: Arc<str> = Arc::from("active");
    for i in 0..devices {
        let user = UserId((i / 2) as i64 + 1);
        w.devices.push(FleetDevice {
            user,
            mac: mac(i),
            ip: Some(ip(i)),
        });
        if i % 2 == 0 {
            // 1% of users are about to run out (habis); the rest have plenty.
            let used = if (i / 2) % 100 == 0 { 5 * gib - 1 } else { gib };
            w.accounts.push(StatusInput {
                blocked: false,
                approved: true,
                active: true,
                unlimited: false,
                unlimited_until: None,
                purchased: 5 * gib,
                used,
                expires_at: None,
                fup_threshold: settings.fup_threshold_bytes,
            });
        }
        let comment = OwnedComment::for_user(user);
        w.bindings.push(IpBinding {
            id: format!("*B{i:X}"),
            mac: mac(i),
            kind: BindingType::Bypassed,
            server: None,
            comment: comment.clone(),
        });
        w.entries.push(AddressListEntry {
            id: format!("*A{i:X}"),
            list: active.clone(),
            address: ip(i),
            comment,
        });
    }
    // Hosts in the order the devices came online; their `.id`s count up in that order.
    let mut online: Vec<usize> = (0..devices).collect();
    shuffle(&mut online, 0x9e37_79b9_7f4a_7c15);
    let mut previous = Vec::with_capacity(devices);
    for (pos, &i) in online.iter().enumerate() {
        let id = format!("*{:X}", pos + 1);
        previous.push((
            mac(i),
            Baseline {
                host_id: id.as_str().into(),
                bytes: 9_000_000,
                uptime: 3_570,
            },
        ));
        w.hosts.push(HostEntry {
            id,
            mac: mac(i),
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
    }
    w.baselines = Baselines::from_rows(previous);
    w
}

/// The worst case for the order-following joins: baselines in key order, rows shuffled.
fn unordered(mut w: World) -> World {
    let mut rows: Vec<(Mac, Baseline)> = w.baselines.iter().map(|(m, b)| (m, b.clone())).collect();
    rows.sort_by_key(|(m, _)| m.to_string());
    w.baselines = Baselines::from_rows(rows);
    shuffle(&mut w.bindings, 7);
    shuffle(&mut w.entries, 11);
    w
}

/// Every user's status once this run's usage is added.
fn statuses(w: &World, per_user: &[i64]) -> Vec<Option<AccessStatus>> {
    let now = lpsaring_kernel::Clock::now(&FakeClock::at_epoch_2026());
    w.accounts
        .iter()
        .zip(per_user)
        .map(|(input, delta)| {
            let mut input = *input;
            input.used += delta;
            Some(status::resolve(&input, now))
        })
        .collect()
}

fn rows(w: &World) -> RouterRows<'_> {
    RouterRows {
        bindings: &w.bindings,
        entries: &w.entries,
        users: &[],
    }
}

fn one_run(w: &World, settings: &QuotaSettings, lists: &[String]) -> usize {
    let fleet = Fleet::new(w.devices.iter().copied());
    let usage = core::usage(&w.hosts, &fleet, &w.baselines);
    let statuses = statuses(w, &usage.per_user);
    let desired = core::desired_devices(&fleet, &usage.presence, &w.hosts, &statuses, settings);
    let plan = core::plan(&fleet, &desired, rows(w), lists, &[], false);
    plan.writes.len() + usage.changed.len()
}

fn bench(c: &mut Criterion) {
    let settings = QuotaSettings::default();
    let lists = settings.address_lists.all();
    let mut group = c.benchmark_group("quota_core");
    group.sample_size(20);
    for devices in [1_000usize, 10_000, 100_000] {
        let devices = lpsaring_benches::size(devices, devices / 100);
        run_on(&mut group, &world(devices, &settings), &settings, &lists);
    }
    group.finish();

    let mut group = c.benchmark_group("quota_core_unordered");
    group.sample_size(20);
    let w = unordered(world(lpsaring_benches::size(100_000, 1_000), &settings));
    run_on(&mut group, &w, &settings, &lists);
    group.finish();
}

/// Times whole runs on `w`, after checking one plans what it should.
fn run_on(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    w: &World,
    settings: &QuotaSettings,
    lists: &[String],
) {
    let devices = w.devices.len();
    // Sanity: 1% of users change status ⇒ binding + add + remove per device of theirs.
    let expected_writes = (devices / 2).div_ceil(100) * 2 * 3;
    assert_eq!(one_run(w, settings, lists), expected_writes + devices);
    group.throughput(Throughput::Elements(devices as u64));
    group.bench_with_input(BenchmarkId::from_parameter(devices), w, |b, w| {
        b.iter(|| black_box(one_run(w, settings, lists)));
    });
}

/// The phases of one run at 100k devices, each on prepared inputs: says where the time goes.
fn phases(c: &mut Criterion) {
    let settings = QuotaSettings::default();
    let lists = settings.address_lists.all();
    let devices = lpsaring_benches::size(100_000, 1_000);
    let w = world(devices, &settings);
    let fleet = Fleet::new(w.devices.iter().copied());
    let usage = core::usage(&w.hosts, &fleet, &w.baselines);
    let statuses_now = statuses(&w, &usage.per_user);
    let desired =
        core::desired_devices(&fleet, &usage.presence, &w.hosts, &statuses_now, &settings);
    let mut group = c.benchmark_group(format!("quota_core_phases_{devices}"));
    group.sample_size(20);
    group.bench_function("fleet", |b| {
        b.iter(|| black_box(Fleet::new(w.devices.iter().copied()).len()));
    });
    group.bench_function("usage", |b| {
        b.iter(|| black_box(core::usage(&w.hosts, &fleet, &w.baselines).changed.len()));
    });
    group.bench_function("statuses", |b| {
        b.iter(|| black_box(statuses(&w, &usage.per_user).len()));
    });
    group.bench_function("desired", |b| {
        b.iter(|| {
            black_box(
                core::desired_devices(&fleet, &usage.presence, &w.hosts, &statuses_now, &settings)
                    .len(),
            )
        });
    });
    group.bench_function("plan", |b| {
        b.iter(|| {
            black_box(
                core::plan(&fleet, &desired, rows(&w), &lists, &[], false)
                    .writes
                    .len(),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, bench, phases);
criterion_main!(benches);
