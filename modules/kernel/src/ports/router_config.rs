//! The router configuration router set-up manages (issue 14): walled garden, firewall filter,
//! user groups and profiles, read and written as plain rows of attributes. Set-up compares
//! whole rows, so a typed struct per menu would only repeat RouterOS's own property names.
//!
//! As everywhere on the router, only rows whose comment starts `lpsaring|` are ever changed;
//! the rows of hotspot profiles and servers are read (to find names), never written.

use std::collections::BTreeMap;

use super::router::OwnedComment;

/// A configuration menu [`Router::config_rows`](super::Router::config_rows) reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigMenu {
    /// `/ip/hotspot/user/profile`: one profile per status and per package.
    UserProfile,
    /// `/ip/hotspot/walled-garden`: hosts a device reaches before logging in.
    WalledGarden,
    /// `/ip/hotspot/walled-garden/ip`: the same by address (DNS for blocked statuses).
    WalledGardenIp,
    /// `/ip/firewall/address-list`: here only the portal's own address row.
    AddressList,
    /// `/ip/firewall/filter`: what each status list may reach.
    FirewallFilter,
    /// `/user/group`: the API user's policies.
    UserGroup,
    /// `/user`: the API user.
    User,
    /// `/ip/hotspot/profile`: server profiles (read: their `html-directory`).
    HotspotProfile,
    /// `/ip/hotspot`: hotspot servers (read).
    HotspotServer,
    /// `/file`: the router's files; set-up writes only the hotspot login pages
    /// (`<html-directory>/login.html`). Files carry no comment: see [`ConfigMenu::commented`].
    File,
}

impl ConfigMenu {
    pub const ALL: [ConfigMenu; 10] = [
        ConfigMenu::UserProfile,
        ConfigMenu::WalledGarden,
        ConfigMenu::WalledGardenIp,
        ConfigMenu::AddressList,
        ConfigMenu::FirewallFilter,
        ConfigMenu::UserGroup,
        ConfigMenu::User,
        ConfigMenu::HotspotProfile,
        ConfigMenu::HotspotServer,
        ConfigMenu::File,
    ];

    pub fn path(self) -> &'static str {
        match self {
            ConfigMenu::UserProfile => "/ip/hotspot/user/profile",
            ConfigMenu::WalledGarden => "/ip/hotspot/walled-garden",
            ConfigMenu::WalledGardenIp => "/ip/hotspot/walled-garden/ip",
            ConfigMenu::AddressList => "/ip/firewall/address-list",
            ConfigMenu::FirewallFilter => "/ip/firewall/filter",
            ConfigMenu::UserGroup => "/user/group",
            ConfigMenu::User => "/user",
            ConfigMenu::HotspotProfile => "/ip/hotspot/profile",
            ConfigMenu::HotspotServer => "/ip/hotspot",
            ConfigMenu::File => "/file",
        }
    }

    /// Whether set-up may add and change (our) rows here; profiles and servers are only read.
    pub fn writable(self) -> bool {
        !matches!(self, ConfigMenu::HotspotProfile | ConfigMenu::HotspotServer)
    }

    /// Whether rows here carry a comment, so ownership is our `lpsaring|` comment. Files have
    /// none: the only files ever written are hotspot login pages ([`is_login_page`]).
    pub fn commented(self) -> bool {
        self != ConfigMenu::File
    }
}

/// The hotspot page set-up writes in a hotspot profile's `html-directory`.
pub const LOGIN_PAGE: &str = "login.html";

/// True for a file name set-up may write: `<html-directory>/login.html`.
pub fn is_login_page(name: &str) -> bool {
    name.rsplit_once('/')
        .is_some_and(|(dir, file)| !dir.is_empty() && file == LOGIN_PAGE)
}

/// One row of a configuration menu as the router printed it (`.id` apart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigRow {
    pub id: String,
    pub attrs: BTreeMap<String, String>,
}

impl ConfigRow {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs.get(key).map(String::as_str)
    }

    /// The row's comment when it is ours.
    pub fn ours(&self) -> Option<OwnedComment> {
        OwnedComment::parse(self.get("comment")?)
    }
}

/// A configuration write; [`Router::apply_config`](super::Router::apply_config) refuses a
/// `Set` on a row that is not ours, any write to a read-only menu and any file write but a
/// hotspot login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigWrite {
    Add {
        menu: ConfigMenu,
        attrs: BTreeMap<String, String>,
    },
    Set {
        menu: ConfigMenu,
        id: String,
        attrs: BTreeMap<String, String>,
    },
}
