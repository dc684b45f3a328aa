//! Counting: the bytes each registered device used since its baseline, where each device is,
//! and the baselines the next run starts from.

use std::net::Ipv4Addr;

use lpsaring_kernel::Mac;
use lpsaring_kernel::ports::router::HostEntry;

use super::{CursorJoin, FastMap, Fleet, HostId, NONE, index, mac_key, mac_of};

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

    /// The baseline a host entry has now: what a device bound at login is counted from.
    pub fn of_host(host: &HostEntry) -> Self {
        Self::of(host, HostId::numeric(&host.id))
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

    /// Puts one MAC's baseline, or forgets it with `None` (a linear scan: once per login, not
    /// per device in a run).
    pub fn set(&mut self, mac: Mac, base: Option<Baseline>) {
        let key = mac_key(mac);
        match (self.rows.iter().position(|(k, _)| *k == key), base) {
            (Some(i), Some(b)) => self.rows[i].1 = b,
            (Some(i), None) => {
                self.rows.remove(i);
            }
            (None, Some(b)) => self.rows.push((key, b)),
            (None, None) => {}
        }
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

/// Whether `a` is the longer-lived of two host entries for one MAC: the one a run counts.
fn outlives(a: &HostEntry, b: &HostEntry) -> bool {
    (a.uptime_secs, total(a), &a.id) > (b.uptime_secs, total(b), &b.id)
}

/// The entry a run would count among several for one MAC (see [`pick_hosts`]).
pub fn counted_host<'h>(entries: impl IntoIterator<Item = &'h HostEntry>) -> Option<&'h HostEntry> {
    entries
        .into_iter()
        .reduce(|best, h| if outlives(h, best) { h } else { best })
}

fn pick_hosts(hosts: &[HostEntry], fleet: &Fleet) -> Picks {
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
