//! The pure sync core: byte deltas from one hosts snapshot against stored baselines, and the
//! minimal router writes that bring our rows to the desired state. No I/O, no clock, so it can be
//! tested exhaustively and benchmarked at 100k devices (`benches/benches/quota_core.rs`).
//!
//! Built for a run every few seconds at 100k devices: the registry is numbered once per run
//! ([`Fleet`]), so users and devices are found by position afterwards; the one hash probe per
//! host row finds device and owner together; rows we keep or create (baselines, bindings, list
//! entries) come back from the router in the order we last saw them, so they are joined by a
//! cursor (`CursorJoin`) and hashed only where that order broke.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;
use std::sync::Arc;

use lpsaring_kernel::ports::router::{
    AddressListEntry, BindingType, HostEntry, HotspotUser, IpBinding, OwnedComment, RouterWrite,
};
use lpsaring_kernel::{Mac, UserId};

use crate::api::AccessStatus;
use crate::settings::QuotaSettings;
use crate::status;

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

/// The MAC a [`mac_key`] was made from.
#[inline]
fn mac_of(key: u64) -> Mac {
    let [_, _, a, b, c, d, e, f] = key.to_be_bytes();
    Mac([a, b, c, d, e, f])
}

const NONE: u32 = u32::MAX;
const NO_LIST: u8 = u8::MAX;

fn index(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(NONE)
}

/// How far a cursor join skips ahead to a match (over rows that vanished: removed hosts,
/// deleted devices). A match further away is taken as one row out of place, and the cursor stays.
const RESYNC_WINDOW: usize = 64;

/// Finds rows by MAC in a list that is usually in the order it is asked in: the router prints
/// rows in creation order, we create bindings in device order, and we keep baselines in the
/// order of the last snapshot. The row at the cursor is tried first (one compare, no hashing);
/// an index, built the first time the order breaks, finds the rest. Order only ever affects
/// speed, never the answer: a row with the MAC is found either way (with two rows for one MAC,
/// which one may depend on the order; callers treat such rows as interchangeable).
struct CursorJoin<K: Fn(usize) -> u64> {
    key_at: K,
    len: usize,
    cursor: usize,
    index: Option<FastMap<u64, u32>>,
}

impl<K: Fn(usize) -> u64> CursorJoin<K> {
    fn new(len: usize, key_at: K) -> Self {
        Self {
            key_at,
            len,
            cursor: 0,
            index: None,
        }
    }

    /// The position of a row with `key`. Callers ask for each key once.
    #[inline]
    fn find(&mut self, key: u64) -> Option<usize> {
        if self.cursor < self.len && (self.key_at)(self.cursor) == key {
            self.cursor += 1;
            return Some(self.cursor - 1);
        }
        self.find_slow(key)
    }

    #[cold]
    fn find_slow(&mut self, key: u64) -> Option<usize> {
        let (len, key_at) = (self.len, &self.key_at);
        let found = self.index.get_or_insert_with(|| {
            let mut index = FastMap::default();
            index.reserve(len);
            for i in 0..len {
                index.entry(key_at(i)).or_insert(self::index(i));
            }
            index
        });
        let p = *found.get(&key)? as usize;
        if p >= self.cursor && p - self.cursor <= RESYNC_WINDOW {
            self.cursor = p + 1;
        }
        Some(p)
    }
}

/// Baselines of the MACs counted so far, kept in the order the router last printed their hosts
/// so the next run meets them in the same order (see `CursorJoin`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Baselines {
    rows: Vec<(u64, Baseline)>,
}

impl Baselines {
    /// From stored rows (any order; one per MAC).
    pub fn from_rows(rows: impl IntoIterator<Item = (Mac, Baseline)>) -> Self {
        Self {
            rows: rows.into_iter().map(|(m, b)| (mac_key(m), b)).collect(),
        }
    }

    /// A linear scan: for tests and diagnostics, not per-device loops.
    pub fn get(&self, mac: Mac) -> Option<&Baseline> {
        let key = mac_key(mac);
        self.rows.iter().find(|(k, _)| *k == key).map(|(_, b)| b)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Mac, &Baseline)> + '_ {
        self.rows.iter().map(|(k, b)| (mac_of(*k), b))
    }
}

/// A registered device as a run sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetDevice {
    pub user: UserId,
    pub mac: Mac,
    /// The last IP the registry knows for it.
    pub ip: Option<Ipv4Addr>,
}

/// The run's registered devices, numbered once: every later step finds a device's owner, usage
/// and status by position instead of hashing a `UserId` or a MAC again. Positions follow the
/// input; owners are numbered in ascending `UserId` order (the order [`Fleet::users`] lists
/// them). Devices ordered by owner (as the registry reads them) are numbered in one pass.
#[derive(Debug, Default, Clone)]
pub struct Fleet {
    devices: Vec<FleetDevice>,
    /// Position in `users` of each device's owner; `NONE` for a MAC an earlier device has.
    owner: Vec<u32>,
    users: Vec<UserId>,
    by_mac: FastMap<u64, Owned>,
}

/// A device and its owner's position, found by MAC in one probe.
#[derive(Debug, Clone, Copy)]
struct Owned {
    device: u32,
    user: u32,
}

impl Fleet {
    pub fn new(devices: impl IntoIterator<Item = FleetDevice>) -> Self {
        let devices: Vec<FleetDevice> = devices.into_iter().collect();
        let mut users: Vec<UserId> = Vec::new();
        let mut owner: Vec<u32> = Vec::with_capacity(devices.len());
        if devices.windows(2).all(|w| w[0].user <= w[1].user) {
            for d in &devices {
                if users.last() != Some(&d.user) {
                    users.push(d.user);
                }
                owner.push(index(users.len() - 1));
            }
        } else {
            users = devices.iter().map(|d| d.user).collect();
            users.sort_unstable();
            users.dedup();
            let position: FastMap<UserId, u32> = users
                .iter()
                .enumerate()
                .map(|(i, u)| (*u, index(i)))
                .collect();
            owner.extend(devices.iter().map(|d| position[&d.user]));
        }
        let mut by_mac: FastMap<u64, Owned> = FastMap::default();
        by_mac.reserve(devices.len());
        for (i, d) in devices.iter().enumerate() {
            match by_mac.entry(mac_key(d.mac)) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(Owned {
                        device: index(i),
                        user: owner[i],
                    });
                }
                // The registry keeps one device per MAC; should two come, the first is the one.
                std::collections::hash_map::Entry::Occupied(_) => owner[i] = NONE,
            }
        }
        Self {
            devices,
            owner,
            users,
            by_mac,
        }
    }

    /// Every owner, ascending; a user's position here indexes [`Usage::per_user`] and the
    /// statuses given to [`desired_devices`].
    pub fn users(&self) -> &[UserId] {
        &self.users
    }

    pub fn devices(&self) -> &[FleetDevice] {
        &self.devices
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// The position of the device with this MAC.
    pub fn device_of(&self, mac: Mac) -> Option<usize> {
        self.by_mac.get(&mac_key(mac)).map(|o| o.device as usize)
    }

    /// The position in [`Fleet::users`] of device `d`'s owner.
    pub fn owner_of(&self, d: usize) -> Option<usize> {
        self.owner
            .get(d)
            .filter(|&&u| u != NONE)
            .map(|&u| u as usize)
    }
}

/// Where a registered device is on the network this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// No host entry: offline.
    Away,
    /// The router sees it: `host` is its row in this snapshot, `ip` the address there (when
    /// the router knows one).
    Online { host: u32, ip: Option<Ipv4Addr> },
}

impl Presence {
    pub fn is_online(self) -> bool {
        matches!(self, Presence::Online { .. })
    }

    /// The IP the router sees it on now.
    pub fn ip(self) -> Option<Ipv4Addr> {
        match self {
            Presence::Online { ip, .. } => ip,
            Presence::Away => None,
        }
    }
}

/// A host row left out because another row has its MAC (see [`pick_hosts`]).
const SKIP: u32 = NONE;
/// A host row nobody registered.
const STRANGER: u32 = NONE - 1;

/// One row per MAC, and whose it is: `pick[i]` is `(fleet device, owner position)` of host row
/// `i`, `(STRANGER, _)`, or `(SKIP, _)` for a duplicate row. A MAC on two hotspot servers shows
/// twice; the longest-lived entry is the stable choice (picking differently between runs would
/// look like a recreation).
struct Picks {
    pick: Vec<(u32, u32)>,
    presence: Vec<Presence>,
}

fn pick_hosts(hosts: &[HostEntry], fleet: &Fleet) -> Picks {
    let outlives = |a: &HostEntry, b: &HostEntry| {
        (a.uptime_secs, total(a), &a.id) > (b.uptime_secs, total(b), &b.id)
    };
    let mut presence = vec![Presence::Away; fleet.len()];
    let mut strangers: FastMap<u64, u32> = FastMap::default();
    let mut pick: Vec<(u32, u32)> = Vec::with_capacity(hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        let key = mac_key(h.mac);
        let here = index(i);
        let (earlier, who) = match fleet.by_mac.get(&key) {
            Some(&o) => {
                let seen = &mut presence[o.device as usize];
                let earlier = match *seen {
                    Presence::Online { host, .. } if !outlives(h, &hosts[host as usize]) => {
                        pick.push((SKIP, 0));
                        continue;
                    }
                    Presence::Online { host, .. } => Some(host),
                    Presence::Away => None,
                };
                *seen = Presence::Online {
                    host: here,
                    ip: h.address,
                };
                (earlier, (o.device, o.user))
            }
            None => {
                let slot = strangers.entry(key).or_insert(NONE);
                let earlier = match *slot {
                    NONE => None,
                    host if !outlives(h, &hosts[host as usize]) => {
                        pick.push((SKIP, 0));
                        continue;
                    }
                    host => Some(host),
                };
                *slot = here;
                (earlier, (STRANGER, 0))
            }
        };
        if let Some(earlier) = earlier {
            pick[earlier as usize].0 = SKIP;
        }
        pick.push(who);
    }
    Picks { pick, presence }
}

/// Where each fleet device is, without counting anything (a targeted apply).
pub fn presence(hosts: &[HostEntry], fleet: &Fleet) -> Vec<Presence> {
    pick_hosts(hosts, fleet).presence
}

/// The outcome of counting one snapshot.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Usage {
    /// Bytes to add per user, by position in [`Fleet::users`].
    pub per_user: Vec<i64>,
    /// Users with bytes to add.
    pub users_charged: usize,
    /// Where each fleet device is.
    pub presence: Vec<Presence>,
    /// Every baseline after this run, in snapshot order: what the next run starts from once
    /// this one is committed.
    pub next: Baselines,
    /// Positions in `next` that are new or changed: the journal carries only these.
    pub changed: Vec<u32>,
    /// Baselines to forget (their host entry is gone: a returning host gets a new `.id`).
    pub delete: Vec<Mac>,
    pub hosts_seen: usize,
    pub devices_matched: usize,
    pub unknown_macs: usize,
    pub recreated: usize,
    pub bytes_counted: i64,
}

impl Usage {
    /// The new or changed baselines (for the journal).
    pub fn changed(&self) -> impl Iterator<Item = (Mac, &Baseline)> + '_ {
        self.changed.iter().map(|&i| {
            let (key, base) = &self.next.rows[i as usize];
            (mac_of(*key), base)
        })
    }
}

/// Deltas since the baselines. A MAC first seen counts from zero (the router's counter starts
/// when the host entry is created); so does an entry with a new `.id`, a lower counter or a
/// lower uptime (recreated: host timeout or router reboot). MACs nobody owns are not charged;
/// their existing baselines still follow the router so a later owner pays only later bytes.
pub fn usage(hosts: &[HostEntry], fleet: &Fleet, baselines: &Baselines) -> Usage {
    let Picks { pick, presence } = pick_hosts(hosts, fleet);
    let rows = &baselines.rows;
    let mut join = CursorJoin::new(rows.len(), |i| rows[i].0);
    let mut matched = vec![false; rows.len()];
    let mut bases_seen = 0usize;
    let mut out = Usage {
        per_user: vec![0; fleet.users.len()],
        presence,
        ..Usage::default()
    };
    out.next.rows.reserve(hosts.len());
    for (host, &(who, user)) in hosts.iter().zip(&pick) {
        if who == SKIP {
            continue;
        }
        out.hosts_seen += 1;
        let key = mac_key(host.mac);
        let now_bytes = total(host);
        let numeric = HostId::numeric(&host.id);
        let base = join.find(key).map(|j| {
            matched[j] = true;
            bases_seen += 1;
            &rows[j].1
        });
        let (same_id, unchanged) = match base {
            Some(b) => {
                let same = b.host_id.is(&host.id, numeric);
                (
                    same,
                    same && b.bytes == now_bytes && b.uptime == host.uptime_secs,
                )
            }
            None => (false, false),
        };
        let keep = |out: &mut Usage| {
            let row = match base {
                Some(b) if unchanged => b.clone(),
                _ => {
                    out.changed.push(index(out.next.rows.len()));
                    Baseline::of(host, numeric)
                }
            };
            out.next.rows.push((key, row));
        };
        if who == STRANGER {
            out.unknown_macs += 1;
            if base.is_some() {
                keep(&mut out);
            }
            continue;
        }
        out.devices_matched += 1;
        keep(&mut out);
        let delta = match base {
            None => now_bytes,
            Some(b) if !same_id || now_bytes < b.bytes || host.uptime_secs < b.uptime => {
                out.recreated += 1;
                now_bytes
            }
            Some(b) => now_bytes - b.bytes,
        };
        if delta > 0 {
            let delta = i64::try_from(delta).unwrap_or(i64::MAX);
            let slot = &mut out.per_user[user as usize];
            if *slot == 0 {
                out.users_charged += 1;
            }
            *slot = slot.saturating_add(delta);
            out.bytes_counted = out.bytes_counted.saturating_add(delta);
        }
    }
    // Every baseline met its host (the steady state): none can be gone.
    if bases_seen < rows.len() {
        for ((key, _), seen) in rows.iter().zip(&matched) {
            if !seen {
                out.delete.push(mac_of(*key));
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

/// The router state of every fleet device (same positions; `None` where the owner has no
/// status this run). A device on the network is on the IP the router sees; one that is away
/// keeps its last known IP unless a host on the network holds that IP now (the IP was given
/// to someone else, who must not inherit the device's access).
pub fn desired_devices<'s>(
    fleet: &Fleet,
    presence: &[Presence],
    hosts: &[HostEntry],
    statuses: &[Option<AccessStatus>],
    settings: &'s QuotaSettings,
) -> Vec<Option<DesiredDevice<'s>>> {
    let mut live: Option<FastSet<u32>> = None;
    let mut is_live = |ip: Ipv4Addr| {
        live.get_or_insert_with(|| {
            hosts
                .iter()
                .filter_map(|h| h.address)
                .map(u32::from)
                .collect()
        })
        .contains(&u32::from(ip))
    };
    fleet
        .devices
        .iter()
        .enumerate()
        .map(|(d, dev)| {
            let status = (*statuses.get(fleet.owner_of(d)?)?)?;
            let want = status::desired(status, settings);
            let ip = match presence.get(d).copied().unwrap_or(Presence::Away) {
                Presence::Online { ip, .. } => ip,
                Presence::Away => dev.ip.filter(|ip| !is_live(*ip)),
            };
            Some(DesiredDevice {
                user: dev.user,
                mac: dev.mac,
                ip,
                status,
                binding: want.binding,
                list: want.list,
            })
        })
        .collect()
}

/// A hotspot user's profile as it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredProfile<'a> {
    pub user: UserId,
    pub name: String,
    pub profile: &'a str,
}

/// Our rows on the router, as one snapshot read them.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouterRows<'a> {
    pub bindings: &'a [IpBinding],
    pub entries: &'a [AddressListEntry],
    pub users: &'a [HotspotUser],
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

/// Diffs the desired state (one entry per fleet device, from [`desired_devices`]) against our
/// router rows: only differences become writes, so a steady state plans nothing. One binding
/// per device MAC (a second of ours for the same MAC is removed); each IP ends up on exactly one
/// of `status_lists`, the first device claiming an IP wins.
pub fn plan(
    fleet: &Fleet,
    devices: &[Option<DesiredDevice<'_>>],
    rows: RouterRows<'_>,
    status_lists: &[String],
    profiles: &[DesiredProfile<'_>],
    remove_foreign: bool,
) -> Plan {
    let mut out = Plan::default();
    let RouterRows {
        bindings,
        entries,
        users: hotspot_users,
    } = rows;

    // ip-bindings: one per device MAC, of the status's type.
    let mut join = CursorJoin::new(bindings.len(), |i| mac_key(bindings[i].mac));
    let mut taken = vec![false; bindings.len()];
    let mut has_binding = vec![false; devices.len()];
    for (d, dev) in devices.iter().enumerate() {
        let Some(dev) = dev else { continue };
        let existing = join.find(mac_key(dev.mac)).filter(|&i| !taken[i]);
        let comment = match existing {
            Some(i) => {
                taken[i] = true;
                has_binding[d] = true;
                let b = &bindings[i];
                match b.comment.user() == Some(dev.user) {
                    true if b.kind == dev.binding => continue,
                    true => b.comment.clone(),
                    false => OwnedComment::for_user(dev.user),
                }
            }
            None => OwnedComment::for_user(dev.user),
        };
        out.push(
            Some(dev.user),
            RouterWrite::UpsertBinding {
                mac: dev.mac,
                kind: dev.binding,
                comment,
            },
        );
    }
    for (b, _) in bindings.iter().zip(&taken).filter(|(_, taken)| !**taken) {
        // A second binding of ours for a device's MAC: the router would honour either, so it
        // goes whatever the orphan setting says.
        let duplicate = fleet
            .device_of(b.mac)
            .is_some_and(|d| has_binding.get(d).copied().unwrap_or(false));
        if duplicate {
            out.push(
                b.comment.user(),
                RouterWrite::RemoveBinding { id: b.id.clone() },
            );
        } else {
            out.orphan_rows += 1;
            if remove_foreign {
                out.push(None, RouterWrite::RemoveBinding { id: b.id.clone() });
            }
        }
    }

    // Status address-lists: exactly one entry per device IP. `claimed[d]`: device d is the first
    // to claim its IP; `kept[d]`: that IP already has its right entry (or got it this run).
    let mut wanted: FastMap<u32, u32> = FastMap::default();
    wanted.reserve(devices.len());
    let mut claimed = vec![false; devices.len()];
    let mut kept = vec![false; devices.len()];
    let mut device_list: Vec<u8> = vec![NO_LIST; devices.len()];
    let mut last_list: Option<(&str, u8)> = None;
    for (d, dev) in devices.iter().enumerate() {
        let Some(dev) = dev else { continue };
        // Devices borrow one of a handful of list names from the settings: remember the last.
        device_list[d] = match last_list {
            Some((name, lid)) if std::ptr::eq(name, dev.list) => lid,
            _ => {
                let lid = list_id(status_lists, dev.list);
                last_list = Some((dev.list, lid));
                lid
            }
        };
        if let Some(ip) = dev.ip
            && let std::collections::hash_map::Entry::Vacant(v) = wanted.entry(u32::from(ip))
        {
            v.insert(index(d));
            claimed[d] = true;
        }
    }
    let mut removals: Vec<(Option<UserId>, String)> = Vec::new();
    let mut last_entry_list: Option<(&Arc<str>, u8)> = None;
    for e in entries {
        // The router prints a list's entries together, sharing one name: the same name as the
        // row before is a pointer compare.
        let lid = match last_entry_list {
            Some((name, lid)) if Arc::ptr_eq(name, &e.list) || **name == *e.list => lid,
            _ => {
                let lid = list_id(status_lists, &e.list);
                last_entry_list = Some((&e.list, lid));
                lid
            }
        };
        if lid == NO_LIST {
            continue;
        }
        let claimant = wanted
            .get(&u32::from(e.address))
            .and_then(|&d| Some((d as usize, devices[d as usize].as_ref()?)));
        match claimant {
            Some((d, dev)) => {
                if device_list[d] == lid && !kept[d] && e.comment.user() == Some(dev.user) {
                    kept[d] = true;
                } else {
                    removals.push((Some(dev.user), e.id.clone()));
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
    for (d, dev) in devices.iter().enumerate() {
        let Some(dev) = dev else { continue };
        let Some(ip) = dev.ip else { continue };
        if claimed[d] && !kept[d] {
            kept[d] = true;
            out.push(
                Some(dev.user),
                RouterWrite::AddAddress {
                    list: dev.list.to_owned(),
                    address: ip,
                    comment: OwnedComment::for_user(dev.user).with("status", dev.status.as_str()),
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
}
