//! The sync core against hand-made snapshots: counting, recreation, duplicates, planning.

use std::net::Ipv4Addr;

use lpsaring_kernel::ports::router::{
    AddressListEntry, BindingType, HostEntry, HotspotUser, IpBinding, OwnedComment, RouterWrite,
};
use lpsaring_kernel::{Mac, UserId};

use super::*;
use crate::api::AccessStatus;
use crate::settings::QuotaSettings;
use crate::status;

fn mac(n: u8) -> Mac {
    Mac([2, 0, 0, 0, 0, n])
}

fn host(n: u8, id: &str, bytes: u64, uptime: u64) -> HostEntry {
    HostEntry {
        id: id.into(),
        mac: mac(n),
        address: Some(Ipv4Addr::new(10, 0, 0, n)),
        to_address: None,
        server: None,
        bytes_in: bytes / 3,
        bytes_out: bytes - bytes / 3,
        uptime_secs: uptime,
        authorized: false,
        bypassed: true,
        comment: None,
    }
}

fn base(id: &str, bytes: u64, uptime: u64) -> Baseline {
    Baseline {
        host_id: id.into(),
        bytes,
        uptime,
    }
}

#[test]
fn baseline_round_trips_even_with_odd_ids() {
    let b = base("*1|A", 7, 9);
    assert_eq!(Baseline::decode(&b.encode()), Some(b));
    assert_eq!(Baseline::decode("garbage"), None);
}

fn fleet(owners: &[(u8, i64)]) -> Fleet {
    Fleet::new(owners.iter().map(|&(n, user)| FleetDevice {
        user: UserId(user),
        mac: mac(n),
        ip: Some(Ipv4Addr::new(10, 0, 0, n)),
    }))
}

fn bases(rows: &[(u8, Baseline)]) -> Baselines {
    Baselines::from_rows(rows.iter().map(|(n, b)| (mac(*n), b.clone())))
}

/// The bytes charged to `user` (a position-free view of `per_user`).
fn charged(u: &Usage, f: &Fleet, user: i64) -> Option<i64> {
    let i = f.users().iter().position(|x| *x == UserId(user))?;
    Some(u.per_user[i]).filter(|n| *n > 0)
}

#[test]
fn deltas_follow_the_rules() {
    let hosts = vec![
        host(1, "*1", 1500, 100), // normal growth: 1500 - 1000
        host(2, "*22", 300, 5),   // new .id: from zero
        host(3, "*3", 200, 500),  // counter went down: from zero
        host(4, "*4", 5000, 10),  // uptime went back: from zero
        host(5, "*5", 700, 1),    // first seen: from zero
        host(6, "*6", 999, 1),    // nobody's MAC: ignored
        host(7, "*7", 50, 50),    // unchanged
    ];
    let baselines = bases(&[
        (1, base("*1", 1000, 90)),
        (2, base("*2", 100, 50)),
        (3, base("*3", 900, 400)),
        (4, base("*4", 4000, 20)),
        (7, base("*7", 50, 50)),
        (9, base("*9", 1, 1)), // host gone
    ]);
    // One user per MAC (user n owns MAC n), so per-user totals are per-MAC deltas.
    let f = fleet(&[1, 2, 3, 4, 5, 7, 9].map(|n| (n, i64::from(n))));
    let u = usage(&hosts, &f, &baselines);
    assert_eq!(charged(&u, &f, 1), Some(500));
    assert_eq!(charged(&u, &f, 2), Some(300));
    assert_eq!(charged(&u, &f, 3), Some(200));
    assert_eq!(charged(&u, &f, 4), Some(5000));
    assert_eq!(charged(&u, &f, 5), Some(700));
    assert_eq!(charged(&u, &f, 6), None);
    assert_eq!(charged(&u, &f, 7), None);
    assert_eq!(u.users_charged, 5);
    assert_eq!(u.recreated, 3);
    assert_eq!(u.unknown_macs, 1);
    assert_eq!(u.devices_matched, 6);
    assert_eq!(u.hosts_seen, 7);
    assert_eq!(u.bytes_counted, 500 + 300 + 200 + 5000 + 700);
    assert_eq!(u.delete, vec![mac(9)]);
    let changed: FastSet<Mac> = u.changed().map(|(m, _)| m).collect();
    assert_eq!(
        changed.len(),
        5,
        "unchanged and unowned-without-baseline are not written"
    );
    assert!(!changed.contains(&mac(7)) && !changed.contains(&mac(6)));
    // The next baselines: every counted host, in snapshot order, the unchanged one kept.
    let next: Vec<Mac> = u.next.iter().map(|(m, _)| m).collect();
    assert_eq!(next, [1, 2, 3, 4, 5, 7].map(mac));
    assert_eq!(u.next.get(mac(7)), Some(&base("*7", 50, 50)));
    // Where the devices are: seen ones on their host's IP, the gone one away.
    let at = |n: u8| u.presence[f.device_of(mac(n)).unwrap_or(usize::MAX)];
    assert_eq!(at(1).ip(), Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert!(at(1).is_online() && !at(9).is_online());
}

#[test]
fn two_users_devices_add_up_per_user() {
    let hosts = vec![
        host(1, "*1", 10, 1),
        host(2, "*2", 20, 1),
        host(3, "*3", 5, 1),
    ];
    let f = fleet(&[(1, 7), (2, 3), (3, 7)]);
    let u = usage(&hosts, &f, &Baselines::default());
    assert_eq!(f.users(), &[UserId(3), UserId(7)], "owners ascending");
    assert_eq!(u.per_user, vec![20, 15]);
    assert_eq!(u.users_charged, 2);
}

#[test]
fn applying_the_new_baselines_makes_the_next_run_count_nothing() {
    let hosts = vec![host(1, "*1", 10, 1), host(2, "*2", 20, 1)];
    let f = fleet(&[(1, 1), (2, 1)]);
    let first = usage(&hosts, &f, &Baselines::default());
    assert_eq!(first.bytes_counted, 30);
    let second = usage(&hosts, &f, &first.next);
    assert_eq!(second.bytes_counted, 0);
    assert!(second.changed.is_empty() && second.delete.is_empty());
    assert_eq!(second.next, first.next);
}

#[test]
fn baselines_in_any_order_meet_the_same_hosts() {
    // Stored baselines come back in key order, hosts in the router's; the join must not
    // care (it only gets slower).
    let hosts: Vec<HostEntry> = (1..=200u8)
        .rev()
        .map(|n| host(n, &format!("*{n:X}"), 1000 + u64::from(n), 10))
        .collect();
    let owners: Vec<(u8, i64)> = (1..=200u8).map(|n| (n, i64::from(n))).collect();
    let f = fleet(&owners);
    let mut rows: Vec<(u8, Baseline)> = (1..=200u8)
        .filter(|n| n % 10 != 0)
        .map(|n| (n, base(&format!("*{n:X}"), 1000, 5)))
        .collect();
    rows.push((250, base("*FA", 1, 1)));
    let u = usage(&hosts, &f, &bases(&rows));
    // Known MACs: +n bytes each; the 20 without a baseline count from zero.
    let expected: i64 = (1..=200i64)
        .map(|n| if n % 10 == 0 { 1000 + n } else { n })
        .sum();
    assert_eq!(u.bytes_counted, expected);
    assert_eq!(u.recreated, 0);
    assert_eq!(u.delete, vec![mac(250)]);
    assert_eq!(u.next.len(), 200);
}

#[test]
fn unowned_baseline_follows_the_router_without_charging() {
    let hosts = vec![host(1, "*1", 100, 10)];
    let baselines = bases(&[(1, base("*1", 40, 5))]);
    let u = usage(&hosts, &Fleet::default(), &baselines);
    assert_eq!(u.bytes_counted, 0);
    let changed: Vec<(Mac, &Baseline)> = u.changed().collect();
    assert_eq!(changed, vec![(mac(1), &base("*1", 100, 10))]);
}

#[test]
fn duplicate_macs_pick_the_longest_lived_entry() {
    let hosts = vec![host(1, "*A", 10, 5), host(1, "*B", 10, 50)];
    let u = usage(&hosts, &fleet(&[(1, 1)]), &Baselines::default());
    assert_eq!(u.hosts_seen, 1);
    assert_eq!(
        u.next.get(mac(1)).map(|b| &b.host_id),
        Some(&HostId::from("*B"))
    );
    assert_eq!(u.bytes_counted, 10);
}

fn binding(id: &str, n: u8, kind: BindingType, user: i64) -> IpBinding {
    IpBinding {
        id: id.into(),
        mac: mac(n),
        kind,
        server: None,
        comment: OwnedComment::for_user(UserId(user)),
    }
}

fn entry(id: &str, list: &str, n: u8, user: i64) -> AddressListEntry {
    AddressListEntry {
        id: id.into(),
        list: list.into(),
        address: Ipv4Addr::new(10, 0, 0, n),
        comment: OwnedComment::for_user(UserId(user)),
    }
}

fn dev(n: u8, user: i64, status: AccessStatus, list: &'static str) -> DesiredDevice<'static> {
    DesiredDevice {
        user: UserId(user),
        mac: mac(n),
        ip: Some(Ipv4Addr::new(10, 0, 0, n)),
        status,
        binding: status::binding_for(status),
        list,
    }
}

/// Plans for these devices as a whole fleet.
fn plan_for(
    devices: &[DesiredDevice<'_>],
    bindings: &[IpBinding],
    entries: &[AddressListEntry],
    remove_foreign: bool,
) -> Plan {
    let f = Fleet::new(devices.iter().map(|d| FleetDevice {
        user: d.user,
        mac: d.mac,
        ip: d.ip,
    }));
    let desired: Vec<Option<DesiredDevice<'_>>> = devices.iter().copied().map(Some).collect();
    let rows = RouterRows {
        bindings,
        entries,
        users: &[],
    };
    plan(&f, &desired, rows, &lists(), &[], remove_foreign)
}

fn lists() -> Vec<String> {
    QuotaSettings::default().address_lists.all()
}

#[test]
fn steady_state_plans_nothing() {
    let devices = [
        dev(1, 1, AccessStatus::Ok, "active"),
        dev(2, 2, AccessStatus::Habis, "habis"),
    ];
    let bindings = [
        binding("*B1", 1, BindingType::Bypassed, 1),
        binding("*B2", 2, BindingType::Regular, 2),
    ];
    let entries = [
        entry("*A1", "active", 1, 1),
        entry("*A2", "habis", 2, 2),
        entry("*X", "walled", 3, 9), // not a status list: never touched
    ];
    let p = plan_for(&devices, &bindings, &entries, true);
    assert_eq!(p.writes, vec![]);
    assert_eq!(p.orphan_rows, 0);
}

#[test]
fn status_change_moves_binding_and_list_only() {
    let devices = [dev(1, 1, AccessStatus::Habis, "habis")];
    let bindings = [binding("*B1", 1, BindingType::Bypassed, 1)];
    let entries = [entry("*A1", "active", 1, 1), entry("*A9", "fup", 1, 1)];
    let p = plan_for(&devices, &bindings, &entries, false);
    assert_eq!(
        p.writes,
        vec![
            RouterWrite::UpsertBinding {
                mac: mac(1),
                kind: BindingType::Regular,
                comment: OwnedComment::for_user(UserId(1)),
            },
            RouterWrite::AddAddress {
                list: "habis".into(),
                address: Ipv4Addr::new(10, 0, 0, 1),
                comment: OwnedComment::for_user(UserId(1)).with("status", "habis"),
            },
            RouterWrite::RemoveAddress { id: "*A1".into() },
            RouterWrite::RemoveAddress { id: "*A9".into() },
        ]
    );
    assert_eq!(p.owners, vec![Some(UserId(1)); 4]);
}

#[test]
fn missing_rows_are_created_and_orphans_only_reported_unless_asked() {
    let devices = [dev(1, 1, AccessStatus::Fup, "fup")];
    let bindings = [binding("*B7", 7, BindingType::Bypassed, 7)];
    let entries = [entry("*A7", "active", 7, 7)];
    let p = plan_for(&devices, &bindings, &entries, false);
    assert_eq!(p.writes.len(), 2);
    assert!(matches!(
        p.writes[0],
        RouterWrite::UpsertBinding {
            kind: BindingType::Bypassed,
            ..
        }
    ));
    assert!(matches!(&p.writes[1], RouterWrite::AddAddress { list, .. } if list == "fup"));
    assert_eq!(p.orphan_rows, 2);
    let p = plan_for(&devices, &bindings, &entries, true);
    assert_eq!(p.writes.len(), 4);
    assert!(
        p.writes
            .contains(&RouterWrite::RemoveBinding { id: "*B7".into() })
    );
    assert!(
        p.writes
            .contains(&RouterWrite::RemoveAddress { id: "*A7".into() })
    );
}

#[test]
fn an_ip_taken_over_by_another_user_is_re_added_under_them() {
    let devices = [dev(1, 2, AccessStatus::Ok, "active")];
    let bindings = [binding("*B1", 1, BindingType::Bypassed, 2)];
    let entries = [entry("*A1", "active", 1, 1)];
    let p = plan_for(&devices, &bindings, &entries, false);
    assert_eq!(p.writes.len(), 2);
    assert!(
        matches!(&p.writes[0], RouterWrite::AddAddress { comment, .. } if comment.user() == Some(UserId(2)))
    );
    assert_eq!(p.writes[1], RouterWrite::RemoveAddress { id: "*A1".into() });
}

#[test]
fn profiles_are_written_only_for_existing_users_whose_profile_differs() {
    let profiles = [
        DesiredProfile {
            user: UserId(1),
            name: "0811".into(),
            profile: "fup",
        },
        DesiredProfile {
            user: UserId(2),
            name: "0812".into(),
            profile: "default",
        },
        // Bound by MAC only: no hotspot user to set.
        DesiredProfile {
            user: UserId(3),
            name: "0813".into(),
            profile: "habis",
        },
    ];
    let on_router = |id: &str, name: &str, user: i64| HotspotUser {
        id: id.into(),
        name: name.into(),
        profile: "default".into(),
        comment: OwnedComment::for_user(UserId(user)),
    };
    let users = [on_router("*1", "0811", 1), on_router("*2", "0812", 2)];
    let rows = RouterRows {
        users: &users,
        ..RouterRows::default()
    };
    let p = plan(&Fleet::default(), &[], rows, &lists(), &profiles, false);
    assert_eq!(
        p.writes,
        vec![RouterWrite::SetUserProfile {
            name: "0811".into(),
            profile: "fup".into()
        }]
    );
}

#[test]
fn a_second_binding_for_a_device_mac_is_removed_and_the_first_kept() {
    let devices = [dev(1, 1, AccessStatus::Ok, "active")];
    let bindings = [
        binding("*B1", 1, BindingType::Bypassed, 1),
        binding("*B2", 1, BindingType::Regular, 1),
    ];
    let entries = [entry("*A1", "active", 1, 1)];
    let p = plan_for(&devices, &bindings, &entries, false);
    assert_eq!(
        p.writes,
        vec![RouterWrite::RemoveBinding { id: "*B2".into() }]
    );
    assert_eq!(p.orphan_rows, 0);
}

#[test]
fn rows_in_any_order_plan_nothing_when_right() {
    // The router's order follows creation; after edits it drifts from the device order.
    let devices: Vec<DesiredDevice<'_>> = (1..=150u8)
        .map(|n| dev(n, i64::from(n), AccessStatus::Ok, "active"))
        .collect();
    let mut bindings: Vec<IpBinding> = (1..=150u8)
        .map(|n| binding(&format!("*B{n}"), n, BindingType::Bypassed, i64::from(n)))
        .collect();
    let mut entries: Vec<AddressListEntry> = (1..=150u8)
        .map(|n| entry(&format!("*A{n}"), "active", n, i64::from(n)))
        .collect();
    bindings.swap(3, 140);
    bindings[70..].reverse();
    entries.reverse();
    // One orphan in the middle: the cursor steps over it.
    bindings.insert(20, binding("*BX", 200, BindingType::Bypassed, 99));
    let p = plan_for(&devices, &bindings, &entries, false);
    assert_eq!(p.writes, vec![]);
    assert_eq!(p.orphan_rows, 1);
}

#[test]
fn an_away_device_keeps_its_ip_unless_a_host_holds_it_now() {
    let settings = QuotaSettings::default();
    let f = Fleet::new([
        FleetDevice {
            user: UserId(1),
            mac: mac(1),
            ip: Some(Ipv4Addr::new(10, 0, 0, 9)),
        },
        FleetDevice {
            user: UserId(1),
            mac: mac(2),
            ip: Some(Ipv4Addr::new(10, 0, 0, 2)),
        },
        FleetDevice {
            user: UserId(2),
            mac: mac(3),
            ip: None,
        },
    ]);
    // A stranger (MAC 9) holds 10.0.0.9 now; MAC 2 is away; MAC 3 is online.
    let hosts = vec![host(9, "*9", 1, 1), host(3, "*3", 1, 1)];
    let seen = presence(&hosts, &f);
    assert_eq!(
        seen,
        vec![
            Presence::Away,
            Presence::Away,
            Presence::Online {
                host: 1,
                ip: Some(Ipv4Addr::new(10, 0, 0, 3))
            }
        ]
    );
    let statuses = [Some(AccessStatus::Ok), None];
    let d = desired_devices(&f, &seen, &hosts, &statuses, &settings);
    let ips: Vec<Option<Option<Ipv4Addr>>> = d.iter().map(|d| d.map(|d| d.ip)).collect();
    assert_eq!(
        ips,
        vec![Some(None), Some(Some(Ipv4Addr::new(10, 0, 0, 2))), None],
        "the stranger's IP is not granted; user 2 has no status, so no state"
    );
}
