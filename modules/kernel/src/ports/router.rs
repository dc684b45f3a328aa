//! The MikroTik router as the modules see it: typed hotspot operations, nothing about sentences or
//! tags. `lpsaring-routeros` implements it over the RouterOS API.
//!
//! Every row we create carries a comment starting `lpsaring|` ([`OwnedComment`]); we only ever
//! modify or delete rows whose comment is ours, so an operator's hand-made rows are safe.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::{Mac, UserId};

pub use super::router_config::{ConfigMenu, ConfigRow, ConfigWrite};

/// Prefix that marks router rows owned by lpsaring.
pub const COMMENT_PREFIX: &str = "lpsaring|";

/// A structured router comment: `lpsaring|uid=42|k=v…`. Keys and values never contain `|` or `=`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnedComment {
    fields: BTreeMap<String, String>,
    /// `uid` parsed once: the sync asks every row of a 100k-device router for its owner.
    user: Option<UserId>,
}

impl OwnedComment {
    pub fn for_user(user: UserId) -> Self {
        Self::default().with("uid", &user.0.to_string())
    }

    pub fn with(mut self, key: &str, value: &str) -> Self {
        let clean = |s: &str| s.replace(['|', '='], "_");
        let (key, value) = (clean(key), clean(value));
        if key == "uid" {
            self.user = value.parse().ok().map(UserId);
        }
        self.fields.insert(key, value);
        self
    }

    pub fn user(&self) -> Option<UserId> {
        self.user
    }

    /// The value of one field (`status`, `kind`…).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// Parses a router comment; `None` when it is not ours.
    pub fn parse(comment: &str) -> Option<Self> {
        let rest = comment.strip_prefix(COMMENT_PREFIX)?;
        let fields: BTreeMap<String, String> = rest
            .split('|')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let user = fields.get("uid").and_then(|v| v.parse().ok()).map(UserId);
        Some(Self { fields, user })
    }

    pub fn render(&self) -> String {
        let mut out = String::from("lpsaring");
        for (k, v) in &self.fields {
            out.push('|');
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out
    }
}

/// One row of `/ip/hotspot/host`: a device the hotspot currently sees, with its byte counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    /// The router's `.id` (`*1A`); a new id for the same MAC means the entry was recreated.
    pub id: String,
    pub mac: Mac,
    pub address: Option<Ipv4Addr>,
    pub to_address: Option<Ipv4Addr>,
    pub server: Option<String>,
    /// Bytes from the client (upload), as the router counts them.
    pub bytes_in: u64,
    /// Bytes to the client (download).
    pub bytes_out: u64,
    pub uptime_secs: u64,
    pub authorized: bool,
    pub bypassed: bool,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingType {
    Regular,
    Bypassed,
    Blocked,
}

impl BindingType {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingType::Regular => "regular",
            BindingType::Bypassed => "bypassed",
            BindingType::Blocked => "blocked",
        }
    }
}

/// One of our `/ip/hotspot/ip-binding` rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpBinding {
    pub id: String,
    pub mac: Mac,
    pub kind: BindingType,
    pub server: Option<String>,
    pub comment: OwnedComment,
}

/// One of our `/ip/firewall/address-list` rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressListEntry {
    pub id: String,
    /// Shared between the rows of one list (a handful of names over 100k rows): comparing a
    /// row's list with the one before is a pointer compare, not a trip to the heap.
    pub list: Arc<str>,
    pub address: Ipv4Addr,
    pub comment: OwnedComment,
}

/// One of our `/ip/hotspot/user` rows as it is on the router: the sync sets its profile only
/// when it differs from the one its status wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotspotUser {
    pub id: String,
    pub name: String,
    pub profile: String,
    pub comment: OwnedComment,
}

/// Our rows as one read saw them: the whole router for a sync run, or a few devices' rows
/// from [`Router::rows_for`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub hosts: Vec<HostEntry>,
    pub bindings: Vec<IpBinding>,
    pub entries: Vec<AddressListEntry>,
    pub users: Vec<HotspotUser>,
}

/// A hotspot user (`/ip/hotspot/user`) as we want it to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotspotUserSpec {
    pub name: String,
    pub password: String,
    pub profile: String,
    pub limit_bytes_total: Option<u64>,
    pub limit_uptime_secs: Option<u64>,
    pub comment: OwnedComment,
}

/// A write the quota sync wants applied; a batch of these is pipelined on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterWrite {
    UpsertBinding {
        mac: Mac,
        kind: BindingType,
        comment: OwnedComment,
    },
    RemoveBinding {
        id: String,
    },
    AddAddress {
        list: String,
        address: Ipv4Addr,
        comment: OwnedComment,
    },
    RemoveAddress {
        id: String,
    },
    SetUserProfile {
        name: String,
        profile: String,
    },
}

/// Why a router call failed, classified so callers can decide (retry, tell the user, alert).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    #[error("router unreachable: {0}")]
    Unreachable(String),
    #[error("router refused our credentials: {0}")]
    Authentication(String),
    #[error("router did not answer in time")]
    Timeout,
    #[error("router trap (category {category:?}): {message}")]
    Trap {
        category: Option<u8>,
        message: String,
    },
    #[error("router protocol error: {0}")]
    Protocol(String),
    #[error("router circuit breaker is open; not trying until it cools down")]
    CircuitOpen,
    #[error("refusing to touch a router row that is not ours: {0}")]
    NotOurs(String),
}

impl RouterError {
    /// True when the router itself could not be reached (as opposed to refusing one command).
    pub fn is_connectivity(&self) -> bool {
        matches!(
            self,
            RouterError::Unreachable(_) | RouterError::Timeout | RouterError::CircuitOpen
        )
    }

    /// True for the trap RouterOS answers when a hotspot user names a profile it does not have
    /// (`input does not match any value of profile: habis`): the caller may fall back to
    /// [`DEFAULT_PROFILE`] rather than fail a login.
    pub fn is_unknown_profile(&self) -> bool {
        matches!(self, RouterError::Trap { message, .. } if message.contains("value of profile"))
    }
}

/// The hotspot user profile every RouterOS router has.
pub const DEFAULT_PROFILE: &str = "default";

/// What the last check of the hotspot user profiles the portal assigns found
/// ([`Router::require_profiles`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileCheck {
    /// True once a check has run on a live connection.
    pub checked: bool,
    /// Required profiles the router lacks: with creation off, or when creating one failed.
    /// Logins of these statuses get [`DEFAULT_PROFILE`] until they exist.
    pub missing: Vec<String>,
    /// Profiles the last check created (with our comment).
    pub created: Vec<String>,
}

/// Breaker state, shown by `/readyz` and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouterHealth {
    Connected,
    Connecting,
    CircuitOpen,
    /// No router configured (development without a simulator).
    Disabled,
}

#[async_trait]
pub trait Router: Send + Sync {
    fn health(&self) -> RouterHealth;

    /// One `/ip/hotspot/host/print` of every host.
    async fn hosts(&self) -> Result<Vec<HostEntry>, RouterError>;

    /// The MAC behind an IP: hotspot host, then ARP, then DHCP lease; first hit wins.
    async fn mac_for_ip(&self, ip: Ipv4Addr) -> Result<Option<Mac>, RouterError>;

    /// The IP a MAC currently has (host, ARP, lease).
    async fn ip_for_mac(&self, mac: Mac) -> Result<Option<Ipv4Addr>, RouterError>;

    /// Our ip-bindings (comment starts with `lpsaring|`).
    async fn ip_bindings(&self) -> Result<Vec<IpBinding>, RouterError>;

    /// The rows about a few devices, filtered on the router: host entries with one of `macs`
    /// or on one of `ips`, our bindings for `macs`, our address-list entries on `ips` or on the
    /// hosts' addresses, and our hotspot user `user` (when given). A one-user apply reads these
    /// instead of printing the whole router.
    async fn rows_for(
        &self,
        macs: &[Mac],
        ips: &[Ipv4Addr],
        user: Option<&str>,
    ) -> Result<Snapshot, RouterError>;

    /// Creates or updates the binding for `mac`. Refuses a foreign binding for the same MAC.
    async fn upsert_ip_binding(
        &self,
        mac: Mac,
        kind: BindingType,
        comment: &OwnedComment,
    ) -> Result<(), RouterError>;

    /// Removes our binding for `mac`; true when one existed.
    async fn remove_ip_binding(&self, mac: Mac) -> Result<bool, RouterError>;

    /// Our address-list entries (any list).
    async fn address_list(&self) -> Result<Vec<AddressListEntry>, RouterError>;

    /// Puts `ip` on exactly `list` among `status_lists`, removing it from the others.
    async fn set_status_list(
        &self,
        ip: Ipv4Addr,
        list: &str,
        status_lists: &[String],
        comment: &OwnedComment,
    ) -> Result<(), RouterError>;

    /// Removes `ip` from every one of `lists` (ours only).
    async fn remove_address(&self, ip: Ipv4Addr, lists: &[String]) -> Result<usize, RouterError>;

    async fn upsert_hotspot_user(&self, user: &HotspotUserSpec) -> Result<(), RouterError>;

    /// [`Router::upsert_hotspot_user`] for a login: when the router lacks the user's profile
    /// (a status profile not created yet), the user gets [`DEFAULT_PROFILE`] instead and a WARN
    /// line says so, so a missing profile never fails a login; the quota sync moves the user to
    /// the right profile once it exists. Returns the profile the user got.
    async fn upsert_hotspot_user_for_login(
        &self,
        user: &HotspotUserSpec,
    ) -> Result<String, RouterError> {
        match self.upsert_hotspot_user(user).await {
            Ok(()) => Ok(user.profile.clone()),
            Err(e) if e.is_unknown_profile() && user.profile != DEFAULT_PROFILE => {
                tracing::warn!(
                    user = %user.name,
                    profile = %user.profile,
                    "hotspot profile missing on the router; the device is bound with the \
                     `default` profile until it exists"
                );
                let fallback = HotspotUserSpec {
                    profile: DEFAULT_PROFILE.to_owned(),
                    ..user.clone()
                };
                self.upsert_hotspot_user(&fallback).await?;
                Ok(fallback.profile)
            }
            Err(e) => Err(e),
        }
    }

    async fn set_hotspot_user_profile(&self, name: &str, profile: &str) -> Result<(), RouterError>;

    /// Our hotspot users (comment starts with `lpsaring|`).
    async fn hotspot_users(&self) -> Result<Vec<HotspotUser>, RouterError>;

    async fn hotspot_profiles(&self) -> Result<Vec<String>, RouterError>;

    /// Names the hotspot user profiles the portal assigns (the status profiles). They are
    /// checked as soon as a connection is up and again after every reconnect (a reset router
    /// loses them): with `create`, missing ones are added with our comment, and existing ones
    /// are never touched; otherwise missing ones are logged and reported by
    /// [`Router::profile_check`].
    fn require_profiles(&self, names: Vec<String>, create: bool);

    /// What the last profile check found; `/readyz` reports its `missing` profiles.
    fn profile_check(&self) -> ProfileCheck;

    /// Makes sure the hotspot user profiles `names` exist now (a package's profile the first
    /// time a user of it is placed): adds them to the ones [`Router::require_profiles`] named,
    /// so they are checked again after every reconnect, and checks them at once on the live
    /// connection, creating the missing ones with our comment when that was allowed. Returns
    /// the names still missing; the caller places those users on a status profile instead, so
    /// a missing profile never fails a login or a sync.
    async fn ensure_profiles(&self, names: &[String]) -> Result<Vec<String>, RouterError> {
        Ok(names.to_vec())
    }

    /// `/ip/hotspot/active/login`: logs a host in as a hotspot user.
    async fn active_login(
        &self,
        user: &str,
        password: &str,
        ip: Ipv4Addr,
        mac: Option<Mac>,
    ) -> Result<(), RouterError>;

    /// Logs out active sessions of a MAC; returns how many.
    async fn remove_active_by_mac(&self, mac: Mac) -> Result<usize, RouterError>;

    /// Drops host entries of a MAC (forces a fresh host, e.g. at logout).
    async fn remove_hosts_by_mac(&self, mac: Mac) -> Result<usize, RouterError>;

    /// Makes the DHCP lease of `mac` static.
    async fn make_lease_static(&self, mac: Mac) -> Result<bool, RouterError>;

    /// Applies many writes pipelined on one connection; one result per write, in order.
    async fn apply(
        &self,
        writes: Vec<RouterWrite>,
    ) -> Result<Vec<Result<(), RouterError>>, RouterError>;

    /// Every row of a configuration menu (router set-up compares them with what it wants).
    /// The default answers that this router cannot be set up from the portal.
    async fn config_rows(&self, menu: ConfigMenu) -> Result<Vec<ConfigRow>, RouterError> {
        Err(RouterError::Protocol(format!(
            "{} is not readable through this router",
            menu.path()
        )))
    }

    /// Applies configuration writes in order, stopping at the first failure. A `Set` on a row
    /// whose comment is not ours fails with [`RouterError::NotOurs`] before anything is sent.
    async fn apply_config(&self, writes: Vec<ConfigWrite>) -> Result<(), RouterError> {
        match writes.first() {
            None => Ok(()),
            Some(_) => Err(RouterError::Protocol(
                "this router cannot be set up from the portal".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_comment_round_trips_and_rejects_foreign() {
        let c = OwnedComment::for_user(UserId(42))
            .with("mac", "AA:BB")
            .with("bad|key", "v=1");
        let text = c.render();
        assert!(text.starts_with(COMMENT_PREFIX));
        let back = OwnedComment::parse(&text).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.user(), Some(UserId(42)));
        assert!(OwnedComment::parse("made by hand").is_none());
    }

    #[test]
    fn an_unknown_profile_trap_is_recognised() {
        let trap = |message: &str| RouterError::Trap {
            category: Some(1),
            message: message.to_owned(),
        };
        assert!(trap("input does not match any value of profile: habis").is_unknown_profile());
        assert!(!trap("failure: already have such entry").is_unknown_profile());
        assert!(!RouterError::Timeout.is_unknown_profile());
    }
}
