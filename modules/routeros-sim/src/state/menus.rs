//! The modelled menus and their commands: print (with queries and proplists), add, set, remove,
//! with the checks a router makes (writable properties, duplicates, unknown profiles).

use crate::codec::Request;
use crate::query;

use super::SimState;
use super::reply::{Replies, Trap, no_such_item, trap};
use super::table::{normalise_mac, parse_id};

/// The menus the simulator models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Menu {
    Host,
    Active,
    IpBinding,
    User,
    UserProfile,
    AddressList,
    Arp,
    Lease,
    WalledGarden,
    WalledGardenIp,
    FirewallFilter,
    UserGroup,
    SystemUser,
    HotspotProfile,
    HotspotServer,
    /// `/file`: the router's files, as RouterOS 7 has them (`add` with `contents`, `set
    /// contents=`, `contents` printed for small files).
    File,
}

impl Menu {
    pub const ALL: [Menu; 16] = [
        Menu::Host,
        Menu::Active,
        Menu::IpBinding,
        Menu::User,
        Menu::UserProfile,
        Menu::AddressList,
        Menu::Arp,
        Menu::Lease,
        Menu::WalledGarden,
        Menu::WalledGardenIp,
        Menu::FirewallFilter,
        Menu::UserGroup,
        Menu::SystemUser,
        Menu::HotspotProfile,
        Menu::HotspotServer,
        Menu::File,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Menu::Host => "/ip/hotspot/host",
            Menu::Active => "/ip/hotspot/active",
            Menu::IpBinding => "/ip/hotspot/ip-binding",
            Menu::User => "/ip/hotspot/user",
            Menu::UserProfile => "/ip/hotspot/user/profile",
            Menu::AddressList => "/ip/firewall/address-list",
            Menu::Arp => "/ip/arp",
            Menu::Lease => "/ip/dhcp-server/lease",
            Menu::WalledGarden => "/ip/hotspot/walled-garden",
            Menu::WalledGardenIp => "/ip/hotspot/walled-garden/ip",
            Menu::FirewallFilter => "/ip/firewall/filter",
            Menu::UserGroup => "/user/group",
            Menu::SystemUser => "/user",
            Menu::HotspotProfile => "/ip/hotspot/profile",
            Menu::HotspotServer => "/ip/hotspot",
            Menu::File => "/file",
        }
    }

    pub fn from_path(path: &str) -> Option<Menu> {
        Menu::ALL.into_iter().find(|m| m.path() == path)
    }

    /// Properties a client may write with add/set; anything else is `unknown parameter`.
    fn writable(self) -> &'static [&'static str] {
        match self {
            Menu::Host | Menu::Active => &["comment"],
            Menu::IpBinding => &[
                "mac-address",
                "address",
                "to-address",
                "server",
                "type",
                "comment",
                "disabled",
            ],
            Menu::User => &[
                "name",
                "password",
                "profile",
                "server",
                "mac-address",
                "address",
                "email",
                "limit-uptime",
                "limit-bytes-in",
                "limit-bytes-out",
                "limit-bytes-total",
                "comment",
                "disabled",
            ],
            Menu::UserProfile => &[
                "name",
                "rate-limit",
                "shared-users",
                "session-timeout",
                "idle-timeout",
                "keepalive-timeout",
                "address-list",
                "add-mac-cookie",
                "mac-cookie-timeout",
                "comment",
            ],
            Menu::AddressList => &["list", "address", "comment", "timeout", "disabled"],
            Menu::Arp => &[
                "address",
                "mac-address",
                "interface",
                "published",
                "comment",
                "disabled",
            ],
            Menu::Lease => &[
                "address",
                "mac-address",
                "client-id",
                "server",
                "lease-time",
                "address-lists",
                "block-access",
                "comment",
                "disabled",
            ],
            Menu::WalledGarden => &[
                "dst-host", "dst-port", "path", "server", "action", "comment", "disabled",
            ],
            Menu::WalledGardenIp => &[
                "dst-address",
                "dst-address-list",
                "dst-port",
                "protocol",
                "server",
                "action",
                "comment",
                "disabled",
            ],
            Menu::FirewallFilter => &[
                "chain",
                "action",
                "src-address-list",
                "dst-address-list",
                "dst-address",
                "protocol",
                "dst-port",
                "hotspot",
                "place-before",
                "comment",
                "disabled",
            ],
            Menu::UserGroup => &["name", "policy", "comment"],
            Menu::SystemUser => &[
                "name", "group", "password", "address", "comment", "disabled",
            ],
            Menu::HotspotProfile => &[
                "name",
                "hotspot-address",
                "dns-name",
                "html-directory",
                "login-by",
                "comment",
            ],
            Menu::HotspotServer => &[
                "name",
                "interface",
                "address-pool",
                "profile",
                "comment",
                "disabled",
            ],
            Menu::File => &["name", "type", "contents"],
        }
    }

    fn can_add(self) -> bool {
        !matches!(self, Menu::Host | Menu::Active)
    }
}

impl SimState {
    /// Whether a `/user` row may log in to the API, as on a router: enabled, its password, and
    /// a group with the `api` policy. (The simulator's own login is checked by the server.)
    pub fn api_login(&self, name: &str, password: &str) -> bool {
        let users = self.table(Menu::SystemUser);
        let Some(user) = users
            .find(|r| r.get("name") == Some(name))
            .and_then(|id| users.rows.get(&id))
        else {
            return false;
        };
        let group = user.get("group").unwrap_or_default();
        let api = self
            .table(Menu::UserGroup)
            .find(|g| g.get("name") == Some(group))
            .and_then(|id| self.table(Menu::UserGroup).rows.get(&id))
            .and_then(|g| g.get("policy"))
            .is_some_and(|p| p.split(',').any(|p| p.trim() == "api"));
        !user.is_true("disabled") && user.get("password") == Some(password) && api
    }

    pub(super) fn execute_menu(
        &mut self,
        menu: Menu,
        verb: &str,
        request: &Request,
        replies: &mut Replies<'_>,
    ) -> Result<(), Trap> {
        match verb {
            "print" | "getall" => self.print(menu, request, replies),
            "add" if menu.can_add() => {
                let props = self.validate(menu, request)?;
                let id = self.add(menu, props)?;
                replies.done(Some(&id));
                Ok(())
            }
            "set" => {
                let ids = self.targets(menu, request)?;
                let props = self.validate(menu, request)?;
                for id in ids {
                    self.set(menu, id, &props)?;
                }
                replies.done(None);
                Ok(())
            }
            "remove" => {
                let ids = self.targets(menu, request)?;
                for id in ids {
                    self.remove(menu, id);
                }
                replies.done(None);
                Ok(())
            }
            "login" if menu == Menu::Active => {
                self.active_login(request)?;
                replies.done(None);
                Ok(())
            }
            "make-static" if menu == Menu::Lease => {
                for id in self.targets(menu, request)? {
                    if let Some(row) = self.table_mut(menu).rows.get_mut(&id) {
                        row.set("dynamic", "false");
                    }
                }
                replies.done(None);
                Ok(())
            }
            other => Err(trap(
                Some(0),
                format!("no such command or directory ({other})"),
            )),
        }
    }

    fn print(&self, menu: Menu, request: &Request, replies: &mut Replies<'_>) -> Result<(), Trap> {
        let proplist: Option<Vec<&str>> = request
            .attribute(".proplist")
            .map(|p| p.split(',').filter(|s| !s.is_empty()).collect());
        let count_only = request.attribute("count-only").is_some();
        let mut count = 0u64;
        for row in self.table(menu).rows.values() {
            let hit =
                query::matches(row, &request.queries).map_err(|e| trap(Some(1), e.to_string()))?;
            if hit {
                count += 1;
                if !count_only {
                    replies.row(row, proplist.as_deref());
                }
            }
        }
        if count_only {
            replies.done(Some(&count.to_string()));
        } else {
            if count == 0 && self.empty_replies {
                replies.empty();
            }
            replies.done(None);
        }
        Ok(())
    }

    /// The writable properties of an add/set, or `unknown parameter`.
    fn validate(&self, menu: Menu, request: &Request) -> Result<Vec<(String, String)>, Trap> {
        let mut props = Vec::new();
        for (k, v) in &request.attributes {
            if k == ".id" || k == "numbers" {
                continue;
            }
            if !menu.writable().contains(&k.as_str()) {
                return Err(trap(Some(1), format!("unknown parameter {k}")));
            }
            if k == "mac-address" {
                let mac = normalise_mac(v).ok_or_else(|| {
                    trap(
                        Some(1),
                        format!("invalid value for argument mac-address: {v}"),
                    )
                })?;
                props.push((k.clone(), mac));
            } else {
                props.push((k.clone(), v.clone()));
            }
        }
        Ok(props)
    }

    /// `.id` / `numbers` targets (comma-separated), each of which must exist.
    fn targets(&self, menu: Menu, request: &Request) -> Result<Vec<u64>, Trap> {
        let list = request
            .attribute(".id")
            .or_else(|| request.attribute("numbers"))
            .ok_or_else(|| trap(Some(1), "missing value of argument numbers"))?;
        let table = self.table(menu);
        list.split(',')
            .map(|id| match parse_id(id.trim()) {
                Some(n) if table.rows.contains_key(&n) => Ok(n),
                _ => Err(no_such_item()),
            })
            .collect()
    }

    fn add(&mut self, menu: Menu, mut props: Vec<(String, String)>) -> Result<String, Trap> {
        let get = |props: &[(String, String)], key: &str| {
            props.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        };
        match menu {
            Menu::IpBinding => {
                let mac = get(&props, "mac-address");
                if mac.is_none() && get(&props, "address").is_none() {
                    return Err(trap(Some(1), "either mac-address or address must be set"));
                }
                if let Some(mac) = &mac
                    && self.table(menu).find_by_mac(mac).is_some()
                {
                    return Err(trap(Some(1), "failure: already have such entry"));
                }
                defaults(
                    &mut props,
                    &[
                        ("type", "regular"),
                        ("server", "all"),
                        ("disabled", "false"),
                    ],
                );
                let id = self.table_mut(menu).insert(props);
                if let Some(mac) = mac {
                    self.refresh_bypass(&mac);
                }
                return Ok(id);
            }
            Menu::User => {
                let name = get(&props, "name")
                    .ok_or_else(|| trap(Some(1), "missing value of argument name"))?;
                if self
                    .table(menu)
                    .find(|r| r.get("name") == Some(name.as_str()))
                    .is_some()
                {
                    return Err(trap(
                        Some(1),
                        "failure: already have user with this name for this server",
                    ));
                }
                defaults(
                    &mut props,
                    &[
                        ("profile", "default"),
                        ("server", "all"),
                        ("disabled", "false"),
                    ],
                );
                self.check_profile(&props)?;
                props.extend([
                    ("uptime".into(), "0s".into()),
                    ("bytes-in".into(), "0".into()),
                    ("bytes-out".into(), "0".into()),
                ]);
            }
            Menu::UserProfile
            | Menu::UserGroup
            | Menu::SystemUser
            | Menu::HotspotProfile
            | Menu::HotspotServer => {
                let name = get(&props, "name")
                    .ok_or_else(|| trap(Some(1), "missing value of argument name"))?;
                if self
                    .table(menu)
                    .find(|r| r.get("name") == Some(name.as_str()))
                    .is_some()
                {
                    return Err(trap(Some(1), "failure: already have such name"));
                }
                match menu {
                    Menu::UserProfile => {
                        defaults(&mut props, &[("shared-users", "1"), ("default", "false")]);
                    }
                    Menu::UserGroup => defaults(&mut props, &[("policy", "read")]),
                    Menu::SystemUser => {
                        let group = get(&props, "group").unwrap_or_else(|| "read".into());
                        if self
                            .table(Menu::UserGroup)
                            .find(|r| r.get("name") == Some(group.as_str()))
                            .is_none()
                        {
                            return Err(trap(
                                Some(1),
                                format!("input does not match any value of group: {group}"),
                            ));
                        }
                        defaults(&mut props, &[("group", "read"), ("disabled", "false")]);
                    }
                    _ => defaults(&mut props, &[("default", "false")]),
                }
            }
            Menu::WalledGarden => {
                defaults(&mut props, &[("action", "allow"), ("disabled", "false")]);
            }
            Menu::WalledGardenIp => {
                defaults(&mut props, &[("action", "accept"), ("disabled", "false")]);
            }
            Menu::FirewallFilter => {
                if get(&props, "chain").is_none() {
                    return Err(trap(Some(1), "missing value of argument chain"));
                }
                // `place-before` positions the rule; it is not a property of the rule.
                props.retain(|(k, _)| k != "place-before");
                defaults(&mut props, &[("action", "accept"), ("disabled", "false")]);
            }
            Menu::AddressList => {
                let list = get(&props, "list")
                    .ok_or_else(|| trap(Some(1), "missing value of argument list"))?;
                let address = get(&props, "address")
                    .ok_or_else(|| trap(Some(1), "missing value of argument address"))?;
                let table = self.table(menu);
                if table
                    .ids_where("address", &address)
                    .filter_map(|id| table.rows.get(&id))
                    .any(|r| {
                        r.get("list") == Some(list.as_str())
                            && r.get("address") == Some(address.as_str())
                    })
                {
                    return Err(trap(Some(1), "failure: already have such entry"));
                }
                let dynamic = if get(&props, "timeout").is_some() {
                    "true"
                } else {
                    "false"
                };
                defaults(&mut props, &[("disabled", "false"), ("dynamic", dynamic)]);
            }
            Menu::Arp | Menu::Lease => {
                if get(&props, "address").is_none() {
                    return Err(trap(Some(1), "missing value of argument address"));
                }
                defaults(&mut props, &[("disabled", "false"), ("dynamic", "false")]);
                if menu == Menu::Lease {
                    defaults(&mut props, &[("server", "all"), ("status", "waiting")]);
                }
            }
            Menu::File => {
                let name = get(&props, "name")
                    .ok_or_else(|| trap(Some(1), "missing value of argument name"))?;
                if self
                    .table(menu)
                    .find(|r| r.get("name") == Some(name.as_str()))
                    .is_some()
                {
                    return Err(trap(Some(1), "failure: file already exists"));
                }
                let size = get(&props, "contents").map_or(0, |c| c.len());
                defaults(&mut props, &[("type", "file"), ("contents", "")]);
                props.push(("size".into(), size.to_string()));
            }
            Menu::Host | Menu::Active => {}
        }
        Ok(self.table_mut(menu).insert(props))
    }

    fn check_profile(&self, props: &[(String, String)]) -> Result<(), Trap> {
        if let Some((_, profile)) = props.iter().find(|(k, _)| k == "profile")
            && self
                .table(Menu::UserProfile)
                .find(|r| r.get("name") == Some(profile.as_str()))
                .is_none()
        {
            return Err(trap(
                Some(1),
                format!("input does not match any value of profile: {profile}"),
            ));
        }
        Ok(())
    }

    fn set(&mut self, menu: Menu, id: u64, props: &[(String, String)]) -> Result<(), Trap> {
        if menu == Menu::User {
            self.check_profile(props)?;
        }
        if menu == Menu::IpBinding
            && let Some((_, mac)) = props.iter().find(|(k, _)| k == "mac-address")
            && self
                .table(menu)
                .find_by_mac(mac)
                .is_some_and(|other| other != id)
        {
            return Err(trap(Some(1), "failure: already have such entry"));
        }
        let old_mac = self
            .table(menu)
            .rows
            .get(&id)
            .and_then(|r| r.get("mac-address").map(str::to_owned));
        let table = self.table_mut(menu);
        if let Some(row) = table.rows.get_mut(&id) {
            for (k, v) in props {
                row.set(k, v);
            }
            if menu == Menu::File
                && let Some((_, contents)) = props.iter().find(|(k, _)| k == "contents")
            {
                row.set("size", &contents.len().to_string());
            }
            for (k, v) in props {
                table.note(id, k, v);
            }
        }
        if menu == Menu::IpBinding {
            let new_mac = self
                .table(menu)
                .rows
                .get(&id)
                .and_then(|r| r.get("mac-address").map(str::to_owned));
            for mac in [old_mac, new_mac].into_iter().flatten() {
                self.refresh_bypass(&mac);
            }
        }
        Ok(())
    }

    fn remove(&mut self, menu: Menu, id: u64) {
        let Some(row) = self.table_mut(menu).rows.remove(&id) else {
            return;
        };
        let mac = row.get("mac-address").map(str::to_owned);
        match (menu, mac) {
            (Menu::IpBinding, Some(mac)) => self.refresh_bypass(&mac),
            (Menu::Active, Some(mac)) => self.set_authorized(&mac, false),
            (Menu::Host, Some(mac)) => {
                self.table_mut(Menu::Active)
                    .rows
                    .retain(|_, r| r.get("mac-address").is_none_or(|m| m != mac));
            }
            _ => {}
        }
    }
}

fn defaults(props: &mut Vec<(String, String)>, values: &[(&str, &str)]) {
    for (k, v) in values {
        if !props.iter().any(|(pk, _)| pk == k) {
            props.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
}
