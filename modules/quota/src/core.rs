//! The pure sync core: byte deltas from one hosts snapshot against stored baselines, and the
//! minimal router writes that bring our rows to the desired state. No I/O, no clock, so it can be
//! tested exhaustively and benchmarked at 100k devices (`benches/benches/quota_core.rs`).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;

use lpsaring_kernel::ports::router::{
    AddressListEntry, BindingType, HostEntry, IpBinding, OwnedComment, RouterWrite,
};
use lpsaring_kernel::{Mac, UserId};

use crate::api::AccessStatus;

/// A small multiplicative hasher for MACs, IPs and ids: the keys are not attacker-chosen in a way
/// that matters (the router reports them, the registry stores them) and SipHash would dominate
/// the run time at 100k devices.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FastHasher {
    /// A final avalanche (murmur3's fmix64): the multiply alone leaves the low bits, which pick
    /// the bucket, equal for keys that differ only in their high bytes (MACs of one vendor).
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

/// What we remember about a MAC's host entry after a counted run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub host_id: String,
    /// bytes-in + bytes-out as last counted.
    pub bytes: u64,
    pub uptime: u64,
}

impl Baseline {
    /// `id|bytes|uptime`; compact because a journal holds one per changed device.
    pub fn encode(&self) -> String {
        format!("{}|{}|{}", self.host_id, self.bytes, self.uptime)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.rsplitn(3, '|');
        let uptime = parts.next()?.parse().ok()?;
        let bytes = parts.next()?.parse().ok()?;
        let host_id = parts.next()?.to_owned();
        Some(Self {
            host_id,
            bytes,
            uptime,
        })
    }

    fn of(host: &HostEntry) -> Self {
        Self {
            host_id: host.id.clone(),
            bytes: total(host),
            uptime: host.uptime_secs,
        }
    }
}

fn total(host: &HostEntry) -> u64 {
    host.bytes_in.saturating_add(host.bytes_out)
}

/// The outcome of counting one snapshot.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Usage {
    /// Bytes to add per user (only users with a positive delta).
    pub per_user: FastMap<UserId, i64>,
    /// Bytes per MAC counted this run (for device sightings and tests).
    pub per_mac: FastMap<Mac, i64>,
    /// Baselines to store (new or changed).
    pub put: Vec<(Mac, Baseline)>,
    /// Baselines to forget (their host entry is gone: a returning host gets a new `.id`).
    pub delete: Vec<Mac>,
    pub hosts_seen: usize,
    pub devices_matched: usize,
    pub unknown_macs: usize,
    pub recreated: usize,
    pub bytes_counted: i64,
}

/// Picks one row per MAC: a MAC on two hotspot servers shows twice; the longest-lived entry is
/// the stable choice (picking differently between runs would look like a recreation).
pub fn dedup_hosts(hosts: &[HostEntry]) -> FastMap<Mac, &HostEntry> {
    let mut by_mac: FastMap<Mac, &HostEntry> = FastMap::default();
    by_mac.reserve(hosts.len());
    for h in hosts {
        by_mac
            .entry(h.mac)
            .and_modify(|cur| {
                if (h.uptime_secs, total(h), &h.id) > (cur.uptime_secs, total(cur), &cur.id) {
                    *cur = h;
                }
            })
            .or_insert(h);
    }
    by_mac
}

/// Deltas since the baselines. A MAC first seen counts from zero (the router's counter starts
/// when the host entry is created); so does an entry with a new `.id`, a lower counter or a
/// lower uptime (recreated: host timeout or router reboot). MACs nobody owns are not charged;
/// their existing baselines still follow the router so a later owner pays only later bytes.
pub fn usage(
    hosts: &FastMap<Mac, &HostEntry>,
    baselines: &FastMap<Mac, Baseline>,
    owners: &FastMap<Mac, UserId>,
) -> Usage {
    let mut out = Usage {
        hosts_seen: hosts.len(),
        ..Usage::default()
    };
    for (mac, host) in hosts {
        let now_bytes = total(host);
        let owner = owners.get(mac);
        let base = baselines.get(mac);
        if owner.is_none() {
            out.unknown_macs += 1;
            if let Some(b) = base
                && (b.host_id != host.id || b.bytes != now_bytes || b.uptime != host.uptime_secs)
            {
                out.put.push((*mac, Baseline::of(host)));
            }
            continue;
        }
        out.devices_matched += 1;
        let delta = match base {
            None => now_bytes,
            Some(b)
                if b.host_id != host.id || now_bytes < b.bytes || host.uptime_secs < b.uptime =>
            {
                out.recreated += 1;
                now_bytes
            }
            Some(b) => now_bytes - b.bytes,
        };
        let unchanged = base.is_some_and(|b| {
            b.host_id == host.id && b.bytes == now_bytes && b.uptime == host.uptime_secs
        });
        if !unchanged {
            out.put.push((*mac, Baseline::of(host)));
        }
        if delta > 0 {
            let delta = i64::try_from(delta).unwrap_or(i64::MAX);
            if let Some(user) = owner {
                let slot = out.per_user.entry(*user).or_insert(0);
                *slot = slot.saturating_add(delta);
            }
            out.per_mac.insert(*mac, delta);
            out.bytes_counted = out.bytes_counted.saturating_add(delta);
        }
    }
    for mac in baselines.keys() {
        if !hosts.contains_key(mac) {
            out.delete.push(*mac);
        }
    }
    out
}

/// One device as the router should see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesiredDevice<'a> {
    pub user: UserId,
    pub mac: Mac,
    /// The IP its status list entry is for (none: the device is not on the network).
    pub ip: Option<Ipv4Addr>,
    pub status: AccessStatus,
    pub binding: BindingType,
    pub list: &'a str,
}

/// A hotspot user's profile as it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredProfile<'a> {
    pub user: UserId,
    pub name: String,
    pub profile: &'a str,
}

/// Router writes with the user each one is for (to attribute a trap) and what was left alone.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub writes: Vec<RouterWrite>,
    /// `owners[i]` is the user `writes[i]` is for (`None` for orphan clean-up).
    pub owners: Vec<Option<UserId>>,
    pub orphan_rows: usize,
}

impl Plan {
    fn push(&mut self, owner: Option<UserId>, write: RouterWrite) {
        self.writes.push(write);
        self.owners.push(owner);
    }
}

/// Diffs the desired state against our router rows: only differences become writes, so a steady
/// state plans nothing. Each IP ends up on exactly one of `status_lists`; the first device
/// claiming an IP wins (callers put devices the router sees right now first).
pub fn plan(
    devices: &[DesiredDevice<'_>],
    bindings: &[IpBinding],
    entries: &[AddressListEntry],
    status_lists: &[String],
    profiles: &[DesiredProfile<'_>],
    applied_profiles: &FastMap<UserId, String>,
    remove_foreign: bool,
) -> Plan {
    let mut out = Plan::default();

    // ip-bindings: one per device MAC, of the status's type.
    let mut existing: FastMap<Mac, &IpBinding> = FastMap::default();
    existing.reserve(bindings.len());
    let mut duplicates: Vec<&IpBinding> = Vec::new();
    for b in bindings {
        if let Some(prev) = existing.insert(b.mac, b) {
            duplicates.push(prev);
        }
    }
    let mut device_macs: FastSet<Mac> = FastSet::default();
    device_macs.reserve(devices.len());
    for d in devices {
        if !device_macs.insert(d.mac) {
            continue;
        }
        match existing.get(&d.mac) {
            Some(b) if b.kind == d.binding && b.comment.user() == Some(d.user) => {}
            Some(b) if b.comment.user() == Some(d.user) => out.push(
                Some(d.user),
                RouterWrite::UpsertBinding {
                    mac: d.mac,
                    kind: d.binding,
                    comment: b.comment.clone(),
                },
            ),
            _ => out.push(
                Some(d.user),
                RouterWrite::UpsertBinding {
                    mac: d.mac,
                    kind: d.binding,
                    comment: OwnedComment::for_user(d.user),
                },
            ),
        }
    }
    for b in duplicates {
        out.push(
            b.comment.user(),
            RouterWrite::RemoveBinding { id: b.id.clone() },
        );
    }
    for b in bindings {
        if !device_macs.contains(&b.mac) {
            out.orphan_rows += 1;
            if remove_foreign {
                out.push(None, RouterWrite::RemoveBinding { id: b.id.clone() });
            }
        }
    }

    // Status address-lists: exactly one entry per device IP.
    let mut wanted: FastMap<Ipv4Addr, &DesiredDevice<'_>> = FastMap::default();
    wanted.reserve(devices.len());
    for d in devices {
        if let Some(ip) = d.ip {
            wanted.entry(ip).or_insert(d);
        }
    }
    let is_status_list = |list: &str| status_lists.iter().any(|l| l == list);
    let mut kept: FastSet<Ipv4Addr> = FastSet::default();
    kept.reserve(wanted.len());
    let mut removals: Vec<(Option<UserId>, String)> = Vec::new();
    for e in entries {
        if !is_status_list(&e.list) {
            continue;
        }
        match wanted.get(&e.address) {
            Some(d)
                if d.list == e.list
                    && e.comment.user() == Some(d.user)
                    && !kept.contains(&e.address) =>
            {
                kept.insert(e.address);
            }
            Some(d) => removals.push((Some(d.user), e.id.clone())),
            None => {
                out.orphan_rows += 1;
                if remove_foreign {
                    removals.push((e.comment.user(), e.id.clone()));
                }
            }
        }
    }
    // Adds before removals: a device moving to a better list gets access a moment sooner, and
    // one that moves to a worse list is never on none.
    for d in devices {
        let Some(ip) = d.ip else { continue };
        let first_claim = wanted.get(&ip).is_some_and(|w| w.mac == d.mac);
        if first_claim && kept.insert(ip) {
            out.push(
                Some(d.user),
                RouterWrite::AddAddress {
                    list: d.list.to_owned(),
                    address: ip,
                    comment: OwnedComment::for_user(d.user).with("status", d.status.as_str()),
                },
            );
        }
    }
    for (owner, id) in removals {
        out.push(owner, RouterWrite::RemoveAddress { id });
    }

    for p in profiles {
        if applied_profiles.get(&p.user).map(String::as_str) != Some(p.profile) {
            out.push(
                Some(p.user),
                RouterWrite::SetUserProfile {
                    name: p.name.clone(),
                    profile: p.profile.to_owned(),
                },
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut baselines = FastMap::default();
        baselines.insert(mac(1), base("*1", 1000, 90));
        baselines.insert(mac(2), base("*2", 100, 50));
        baselines.insert(mac(3), base("*3", 900, 400));
        baselines.insert(mac(4), base("*4", 4000, 20));
        baselines.insert(mac(7), base("*7", 50, 50));
        baselines.insert(mac(9), base("*9", 1, 1)); // host gone
        let mut owners = FastMap::default();
        for n in [1, 2, 3, 4, 5, 7, 9] {
            owners.insert(mac(n), UserId(i64::from(n % 2) + 1));
        }
        let by_mac = dedup_hosts(&hosts);
        let u = usage(&by_mac, &baselines, &owners);
        assert_eq!(u.per_mac.get(&mac(1)), Some(&500));
        assert_eq!(u.per_mac.get(&mac(2)), Some(&300));
        assert_eq!(u.per_mac.get(&mac(3)), Some(&200));
        assert_eq!(u.per_mac.get(&mac(4)), Some(&5000));
        assert_eq!(u.per_mac.get(&mac(5)), Some(&700));
        assert_eq!(u.per_mac.get(&mac(6)), None);
        assert_eq!(u.per_mac.get(&mac(7)), None);
        assert_eq!(u.recreated, 3);
        assert_eq!(u.unknown_macs, 1);
        assert_eq!(u.devices_matched, 6);
        assert_eq!(u.hosts_seen, 7);
        assert_eq!(u.bytes_counted, 500 + 300 + 200 + 5000 + 700);
        // users: odd MACs → user 2, even → user 1
        assert_eq!(u.per_user.get(&UserId(2)), Some(&(500 + 200 + 700)));
        assert_eq!(u.per_user.get(&UserId(1)), Some(&(300 + 5000)));
        assert_eq!(u.delete, vec![mac(9)]);
        let put: FastSet<Mac> = u.put.iter().map(|(m, _)| *m).collect();
        assert_eq!(
            put.len(),
            5,
            "unchanged and unowned-without-baseline are not written"
        );
        assert!(!put.contains(&mac(7)) && !put.contains(&mac(6)));
    }

    #[test]
    fn applying_the_new_baselines_makes_the_next_run_count_nothing() {
        let hosts = vec![host(1, "*1", 10, 1), host(2, "*2", 20, 1)];
        let owners: FastMap<Mac, UserId> = [(mac(1), UserId(1)), (mac(2), UserId(1))]
            .into_iter()
            .collect();
        let mut baselines = FastMap::default();
        let by_mac = dedup_hosts(&hosts);
        let first = usage(&by_mac, &baselines, &owners);
        assert_eq!(first.bytes_counted, 30);
        for (m, b) in first.put {
            baselines.insert(m, b);
        }
        let second = usage(&by_mac, &baselines, &owners);
        assert_eq!(second.bytes_counted, 0);
        assert!(second.put.is_empty() && second.delete.is_empty());
    }

    #[test]
    fn unowned_baseline_follows_the_router_without_charging() {
        let hosts = vec![host(1, "*1", 100, 10)];
        let mut baselines = FastMap::default();
        baselines.insert(mac(1), base("*1", 40, 5));
        let u = usage(&dedup_hosts(&hosts), &baselines, &FastMap::default());
        assert_eq!(u.bytes_counted, 0);
        assert_eq!(u.put, vec![(mac(1), base("*1", 100, 10))]);
    }

    #[test]
    fn duplicate_macs_pick_the_longest_lived_entry() {
        let hosts = vec![host(1, "*A", 10, 5), host(1, "*B", 10, 50)];
        let by_mac = dedup_hosts(&hosts);
        assert_eq!(by_mac.get(&mac(1)).map(|h| h.id.as_str()), Some("*B"));
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
            binding: crate::status::binding_for(status),
            list,
        }
    }

    fn lists() -> Vec<String> {
        crate::settings::QuotaSettings::default()
            .address_lists
            .all()
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
        let p = plan(
            &devices,
            &bindings,
            &entries,
            &lists(),
            &[],
            &FastMap::default(),
            true,
        );
        assert_eq!(p.writes, vec![]);
        assert_eq!(p.orphan_rows, 0);
    }

    #[test]
    fn status_change_moves_binding_and_list_only() {
        let devices = [dev(1, 1, AccessStatus::Habis, "habis")];
        let bindings = [binding("*B1", 1, BindingType::Bypassed, 1)];
        let entries = [entry("*A1", "active", 1, 1), entry("*A9", "fup", 1, 1)];
        let p = plan(
            &devices,
            &bindings,
            &entries,
            &lists(),
            &[],
            &FastMap::default(),
            false,
        );
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
        let p = plan(
            &devices,
            &bindings,
            &entries,
            &lists(),
            &[],
            &FastMap::default(),
            false,
        );
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
        let p = plan(
            &devices,
            &bindings,
            &entries,
            &lists(),
            &[],
            &FastMap::default(),
            true,
        );
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
        let p = plan(
            &devices,
            &bindings,
            &entries,
            &lists(),
            &[],
            &FastMap::default(),
            false,
        );
        assert_eq!(p.writes.len(), 2);
        assert!(
            matches!(&p.writes[0], RouterWrite::AddAddress { comment, .. } if comment.user() == Some(UserId(2)))
        );
        assert_eq!(p.writes[1], RouterWrite::RemoveAddress { id: "*A1".into() });
    }

    #[test]
    fn profiles_are_written_only_when_they_differ_from_the_last_applied() {
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
        ];
        let applied: FastMap<UserId, String> = [
            (UserId(1), "default".to_owned()),
            (UserId(2), "default".to_owned()),
        ]
        .into_iter()
        .collect();
        let p = plan(&[], &[], &[], &lists(), &profiles, &applied, false);
        assert_eq!(
            p.writes,
            vec![RouterWrite::SetUserProfile {
                name: "0811".into(),
                profile: "fup".into()
            }]
        );
    }
}
