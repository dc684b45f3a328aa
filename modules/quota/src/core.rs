//! The pure sync core: byte deltas from one hosts snapshot against stored baselines, and the
//! minimal router writes that bring our rows to the desired state. No I/O, no clock, so it can be
//! tested exhaustively and benchmarked at 100k devices (`benches/benches/quota_core.rs`).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;

use lpsaring_kernel::ports::router::{
    AddressListEntry, BindingType, HostEntry, HotspotUser, IpBinding, OwnedComment, RouterWrite,
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

/// A MAC as one `u64` (the six bytes, big-endian): one multiply to hash instead of a length
/// prefix and a byte copy.
#[inline]
pub fn mac_key(mac: Mac) -> u64 {
    let [a, b, c, d, e, f] = mac.0;
    u64::from_be_bytes([0, 0, a, b, c, d, e, f])
}

/// A host entry's `.id`. RouterOS prints `*` and upper-case hex without leading zeros; such an id
/// is kept as its number, so comparing it costs nothing and storing it allocates nothing. Any
/// other text is kept as is (exactly one form per id, so equality stays exact).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostId {
    Num(u64),
    Text(Box<str>),
}

impl HostId {
    /// The number of a canonical `*HEX` id (`*1A` → 26); `None` for any other text.
    #[inline]
    pub fn numeric(text: &str) -> Option<u64> {
        let hex = text.strip_prefix('*')?.as_bytes();
        if hex.is_empty() || hex.len() > 16 || hex[0] == b'0' {
            return None;
        }
        let mut n: u64 = 0;
        for &c in hex {
            let digit = match c {
                b'0'..=b'9' => c - b'0',
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            n = (n << 4) | u64::from(digit);
        }
        Some(n)
    }

    pub fn parse(text: &str) -> Self {
        match Self::numeric(text) {
            Some(n) => HostId::Num(n),
            None => HostId::Text(text.into()),
        }
    }

    /// Whether this is the id printed as `text`, given `numeric(text)` computed once.
    #[inline]
    fn is(&self, text: &str, numeric: Option<u64>) -> bool {
        match (self, numeric) {
            (HostId::Num(a), Some(b)) => *a == b,
            (HostId::Text(t), None) => &**t == text,
            _ => false,
        }
    }
}

impl From<&str> for HostId {
    fn from(text: &str) -> Self {
        Self::parse(text)
    }
}

impl From<String> for HostId {
    fn from(text: String) -> Self {
        Self::parse(&text)
    }
}

impl std::fmt::Display for HostId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostId::Num(n) => write!(f, "*{n:X}"),
            HostId::Text(t) => f.write_str(t),
        }
    }
}

/// What we remember about a MAC's host entry after a counted run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub host_id: HostId,
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
        let host_id = HostId::parse(parts.next()?);
        Some(Self {
            host_id,
            bytes,
            uptime,
        })
    }

    #[inline]
    fn of(host: &HostEntry, numeric: Option<u64>) -> Self {
        Self {
            host_id: match numeric {
                Some(n) => HostId::Num(n),
                None => HostId::Text(host.id.as_str().into()),
            },
            bytes: total(host),
            uptime: host.uptime_secs,
        }
    }
}

#[inline]
fn total(host: &HostEntry) -> u64 {
    host.bytes_in.saturating_add(host.bytes_out)
}

/// Bytes counted per MAC this run, in snapshot order (for device sightings and tests).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PerMac(pub Vec<(Mac, i64)>);

impl PerMac {
    /// A linear scan: meant for tests and diagnostics, not for per-device loops.
    pub fn get(&self, mac: &Mac) -> Option<&i64> {
        self.0.iter().find(|(m, _)| m == mac).map(|(_, n)| n)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Mac, i64)> {
        self.0.iter()
    }
}

/// The outcome of counting one snapshot.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Usage {
    /// Bytes to add per user (only users with a positive delta).
    pub per_user: FastMap<UserId, i64>,
    /// Bytes per MAC counted this run (only MACs with a positive delta).
    pub per_mac: PerMac,
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

/// One host entry per MAC, in snapshot order: iterating it walks the router's rows front to
/// back (cache-friendly), and lookups go through one compact `u64 → index` table.
#[derive(Debug, Default, Clone)]
pub struct Hosts<'a> {
    order: Vec<&'a HostEntry>,
    index: FastMap<u64, u32>,
}

impl<'a> Hosts<'a> {
    pub fn get(&self, mac: &Mac) -> Option<&'a HostEntry> {
        let i = *self.index.get(&mac_key(*mac))?;
        self.order.get(i as usize).copied()
    }

    pub fn contains_key(&self, mac: &Mac) -> bool {
        self.index.contains_key(&mac_key(*mac))
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// `(mac, host)` in snapshot order.
    pub fn iter(&self) -> impl Iterator<Item = (Mac, &'a HostEntry)> + '_ {
        self.order.iter().map(|h| (h.mac, *h))
    }

    pub fn values(&self) -> impl Iterator<Item = &'a HostEntry> + '_ {
        self.order.iter().copied()
    }
}

/// Picks one row per MAC: a MAC on two hotspot servers shows twice; the longest-lived entry is
/// the stable choice (picking differently between runs would look like a recreation).
pub fn dedup_hosts(hosts: &[HostEntry]) -> Hosts<'_> {
    let mut out = Hosts {
        order: Vec::with_capacity(hosts.len()),
        index: FastMap::default(),
    };
    out.index.reserve(hosts.len());
    for h in hosts {
        match out.index.entry(mac_key(h.mac)) {
            std::collections::hash_map::Entry::Occupied(slot) => {
                let cur = &mut out.order[*slot.get() as usize];
                if (h.uptime_secs, total(h), &h.id) > (cur.uptime_secs, total(cur), &cur.id) {
                    *cur = h;
                }
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(u32::try_from(out.order.len()).unwrap_or(u32::MAX));
                out.order.push(h);
            }
        }
    }
    out
}

/// Deltas since the baselines. A MAC first seen counts from zero (the router's counter starts
/// when the host entry is created); so does an entry with a new `.id`, a lower counter or a
/// lower uptime (recreated: host timeout or router reboot). MACs nobody owns are not charged;
/// their existing baselines still follow the router so a later owner pays only later bytes.
pub fn usage(
    hosts: &Hosts<'_>,
    baselines: &FastMap<Mac, Baseline>,
    owners: &FastMap<Mac, UserId>,
) -> Usage {
    let mut out = Usage {
        hosts_seen: hosts.len(),
        ..Usage::default()
    };
    out.put.reserve(hosts.len());
    out.per_mac.0.reserve(hosts.len());
    out.per_user.reserve(hosts.len().min(owners.len()));
    let mut bases_seen = 0usize;
    for host in &hosts.order {
        let mac = host.mac;
        let now_bytes = total(host);
        let base = baselines.get(&mac);
        let owner = owners.get(&mac);
        let numeric = HostId::numeric(&host.id);
        let (same_id, unchanged) = match base {
            Some(b) => {
                bases_seen += 1;
                let same = b.host_id.is(&host.id, numeric);
                (
                    same,
                    same && b.bytes == now_bytes && b.uptime == host.uptime_secs,
                )
            }
            None => (false, false),
        };
        let Some(user) = owner else {
            out.unknown_macs += 1;
            if base.is_some() && !unchanged {
                out.put.push((mac, Baseline::of(host, numeric)));
            }
            continue;
        };
        out.devices_matched += 1;
        let delta = match base {
            None => now_bytes,
            Some(b) if !same_id || now_bytes < b.bytes || host.uptime_secs < b.uptime => {
                out.recreated += 1;
                now_bytes
            }
            Some(b) => now_bytes - b.bytes,
        };
        if !unchanged {
            out.put.push((mac, Baseline::of(host, numeric)));
        }
        if delta > 0 {
            let delta = i64::try_from(delta).unwrap_or(i64::MAX);
            let slot = out.per_user.entry(*user).or_insert(0);
            *slot = slot.saturating_add(delta);
            out.per_mac.0.push((mac, delta));
            out.bytes_counted = out.bytes_counted.saturating_add(delta);
        }
    }
    // Every baseline matched a host (the steady state): none can be gone.
    if bases_seen < baselines.len() {
        for mac in baselines.keys() {
            if !hosts.contains_key(mac) {
                out.delete.push(*mac);
            }
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

const NONE: u32 = u32::MAX;
const NO_LIST: u8 = u8::MAX;

/// What the plan knows about one MAC: our (last) binding for it, and whether a device has it.
#[derive(Clone, Copy)]
struct MacSlot {
    binding: u32,
    device: bool,
}

/// The index of `name` among the status lists (there are a handful): lists compare as small
/// numbers afterwards.
#[inline]
fn list_id(status_lists: &[String], name: &str) -> u8 {
    status_lists
        .iter()
        .position(|l| l == name)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(NO_LIST)
}

fn index(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(NONE)
}

/// Diffs the desired state against our router rows: only differences become writes, so a steady
/// state plans nothing. Each IP ends up on exactly one of `status_lists`; the first device
/// claiming an IP wins (callers put devices the router sees right now first).
///
/// One per-MAC table (bindings and devices) and one per-IP table (claims), both `u64`/`u32`
/// keyed and pre-sized; the rows' owner uids are parsed once, in row order.
pub fn plan(
    devices: &[DesiredDevice<'_>],
    bindings: &[IpBinding],
    entries: &[AddressListEntry],
    status_lists: &[String],
    profiles: &[DesiredProfile<'_>],
    hotspot_users: &[HotspotUser],
    remove_foreign: bool,
) -> Plan {
    let mut out = Plan::default();

    // ip-bindings: one per device MAC, of the status's type.
    let mut slot_of: FastMap<u64, u32> = FastMap::default();
    slot_of.reserve(bindings.len().max(devices.len()));
    let mut slots: Vec<MacSlot> = Vec::with_capacity(bindings.len().max(devices.len()));
    let mut binding_slot: Vec<u32> = Vec::with_capacity(bindings.len());
    let mut binding_user: Vec<Option<UserId>> = Vec::with_capacity(bindings.len());
    let mut duplicates: Vec<u32> = Vec::new();
    fn slot_for(slot_of: &mut FastMap<u64, u32>, slots: &mut Vec<MacSlot>, mac: Mac) -> u32 {
        *slot_of.entry(mac_key(mac)).or_insert_with(|| {
            slots.push(MacSlot {
                binding: NONE,
                device: false,
            });
            index(slots.len() - 1)
        })
    }
    for (i, b) in bindings.iter().enumerate() {
        binding_user.push(b.comment.user());
        let s = slot_for(&mut slot_of, &mut slots, b.mac);
        let slot = &mut slots[s as usize];
        if slot.binding != NONE {
            duplicates.push(slot.binding);
        }
        slot.binding = index(i);
        binding_slot.push(s);
    }
    for d in devices {
        let s = slot_for(&mut slot_of, &mut slots, d.mac);
        let slot = &mut slots[s as usize];
        if slot.device {
            continue;
        }
        slot.device = true;
        let existing = (slot.binding != NONE).then_some(slot.binding as usize);
        match existing {
            Some(i) if binding_user[i] == Some(d.user) && bindings[i].kind == d.binding => {}
            Some(i) if binding_user[i] == Some(d.user) => out.push(
                Some(d.user),
                RouterWrite::UpsertBinding {
                    mac: d.mac,
                    kind: d.binding,
                    comment: bindings[i].comment.clone(),
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
    for i in duplicates {
        let i = i as usize;
        out.push(
            binding_user[i],
            RouterWrite::RemoveBinding {
                id: bindings[i].id.clone(),
            },
        );
    }
    for (i, b) in bindings.iter().enumerate() {
        if !slots[binding_slot[i] as usize].device {
            out.orphan_rows += 1;
            if remove_foreign {
                out.push(None, RouterWrite::RemoveBinding { id: b.id.clone() });
            }
        }
    }

    // Status address-lists: exactly one entry per device IP. `claimed[i]`: device i is the first
    // to claim its IP; `kept[i]`: that IP already has its right entry (or got it this run).
    let mut wanted: FastMap<u32, u32> = FastMap::default();
    wanted.reserve(devices.len());
    let mut claimed = vec![false; devices.len()];
    let mut kept = vec![false; devices.len()];
    let mut device_list: Vec<u8> = Vec::with_capacity(devices.len());
    let mut last_list: Option<(&str, u8)> = None;
    for (i, d) in devices.iter().enumerate() {
        // Devices borrow one of a handful of list names from the settings: remember the last.
        let lid = match last_list {
            Some((name, lid)) if std::ptr::eq(name, d.list) => lid,
            _ => {
                let lid = list_id(status_lists, d.list);
                last_list = Some((d.list, lid));
                lid
            }
        };
        device_list.push(lid);
        if let Some(ip) = d.ip
            && let std::collections::hash_map::Entry::Vacant(v) = wanted.entry(u32::from(ip))
        {
            v.insert(index(i));
            claimed[i] = true;
        }
    }
    let mut removals: Vec<(Option<UserId>, String)> = Vec::new();
    let mut last_entry_list: Option<(&str, u8)> = None;
    for e in entries {
        // The router prints a list's entries together: the same name as the row before is
        // one compare.
        let lid = match last_entry_list {
            Some((name, lid)) if name == e.list => lid,
            _ => {
                let lid = list_id(status_lists, &e.list);
                last_entry_list = Some((e.list.as_str(), lid));
                lid
            }
        };
        if lid == NO_LIST {
            continue;
        }
        match wanted.get(&u32::from(e.address)) {
            Some(&w) => {
                let w = w as usize;
                let d = &devices[w];
                if device_list[w] == lid && !kept[w] && e.comment.user() == Some(d.user) {
                    kept[w] = true;
                } else {
                    removals.push((Some(d.user), e.id.clone()));
                }
            }
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
    for (i, d) in devices.iter().enumerate() {
        let Some(ip) = d.ip else { continue };
        if claimed[i] && !kept[i] {
            kept[i] = true;
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

    // Hotspot profiles: only users that exist on the router (a user bound by MAC alone has
    // none), and only when the router's profile differs.
    let mut by_name: FastMap<&str, &HotspotUser> = FastMap::default();
    by_name.reserve(hotspot_users.len());
    for u in hotspot_users {
        by_name.entry(u.name.as_str()).or_insert(u);
    }
    for p in profiles {
        if by_name
            .get(p.name.as_str())
            .is_some_and(|u| u.profile != p.profile)
        {
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
        let p = plan(&devices, &bindings, &entries, &lists(), &[], &[], true);
        assert_eq!(p.writes, vec![]);
        assert_eq!(p.orphan_rows, 0);
    }

    #[test]
    fn status_change_moves_binding_and_list_only() {
        let devices = [dev(1, 1, AccessStatus::Habis, "habis")];
        let bindings = [binding("*B1", 1, BindingType::Bypassed, 1)];
        let entries = [entry("*A1", "active", 1, 1), entry("*A9", "fup", 1, 1)];
        let p = plan(&devices, &bindings, &entries, &lists(), &[], &[], false);
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
        let p = plan(&devices, &bindings, &entries, &lists(), &[], &[], false);
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
        let p = plan(&devices, &bindings, &entries, &lists(), &[], &[], true);
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
        let p = plan(&devices, &bindings, &entries, &lists(), &[], &[], false);
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
        let p = plan(&[], &[], &[], &lists(), &profiles, &users, false);
        assert_eq!(
            p.writes,
            vec![RouterWrite::SetUserProfile {
                name: "0811".into(),
                profile: "fup".into()
            }]
        );
    }
}
