//! The pure sync core: byte deltas from one hosts snapshot against stored baselines, and the
//! minimal router writes that bring our rows to the desired state. No I/O, no clock, so it can be
//! tested exhaustively and benchmarked at 100k devices (`benches/benches/quota_core.rs`).
//!
//! Built for a run every few seconds at 100k devices: the registry is numbered once per run
//! ([`Fleet`]), so users and devices are found by position afterwards; the one hash probe per
//! host row finds device and owner together; rows we keep or create (baselines, bindings, list
//! entries) come back from the router in the order we last saw them, so they are joined by a
//! cursor (`CursorJoin`) and hashed only where that order broke.
//!
//! Two rooms over shared ground, one file each: `count` ([`usage`]: baselines, where each
//! device is, the bytes to charge) and `plan` ([`desired_devices`], [`plan()`]: the desired
//! router state and the writes that reach it). This file holds what both stand on: the fast
//! hasher, host ids, the cursor join and the numbered registry ([`Fleet`]).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;

use lpsaring_kernel::{Mac, UserId};

mod count;
mod plan;
#[cfg(test)]
mod tests;

pub use count::{Baseline, Baselines, Presence, Usage, counted_host, presence, usage};
pub use plan::{DesiredDevice, DesiredProfile, Plan, RouterRows, desired_devices, plan};

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

/// The MAC a [`mac_key`] was made from.
#[inline]
fn mac_of(key: u64) -> Mac {
    let [_, _, a, b, c, d, e, f] = key.to_be_bytes();
    Mac([a, b, c, d, e, f])
}

const NONE: u32 = u32::MAX;

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
