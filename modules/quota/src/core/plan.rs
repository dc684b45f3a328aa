//! Planning: the router state every device and hotspot user should have, and the minimal
//! writes that bring our rows there (a steady state plans nothing).

use std::net::Ipv4Addr;
use std::sync::Arc;

use lpsaring_kernel::ports::router::{
    AddressListEntry, BindingType, HostEntry, HotspotUser, IpBinding, OwnedComment, RouterWrite,
};
use lpsaring_kernel::{Mac, UserId};

use super::{CursorJoin, FastMap, FastSet, Fleet, Presence, index, mac_key};
use crate::api::AccessStatus;
use crate::settings::QuotaSettings;
use crate::status;

const NO_LIST: u8 = u8::MAX;

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
