//! The kernel's [`Router`] port as RouterOS API commands.
//!
//! mikrotik-rs drops `=ret=` from `!done`, so nothing here relies on the id an `add` returns:
//! where an id is needed it is re-queried by key (MAC, name, list + address). Rows are only
//! changed or removed when their comment is ours (`lpsaring|…`); hotspot hosts and active
//! sessions carry no comment and are removed by MAC, which is their purpose.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use async_trait::async_trait;
use lpsaring_kernel::Mac;
use lpsaring_kernel::ports::router::{
    AddressListEntry, BindingType, ConfigMenu, ConfigRow, ConfigWrite, HostEntry, HotspotUser,
    HotspotUserSpec, IpBinding, OwnedComment, ProfileCheck, Router, RouterError, RouterHealth,
    RouterWrite, Snapshot,
};

use crate::apply::check_ours;
use crate::client::{Cmd, Link, Row, spawn_supervisor};
use crate::parse::{
    BINDING_PROPLIST, ENTRY_PROPLIST, HOST_PROPLIST, USER_PROPLIST, format_duration, get, id, ours,
    parse_binding, parse_bool, parse_entries, parse_host, parse_mac, parse_user,
};
use crate::profiles::PROFILE_MENU;
use crate::settings::RouterSettings;

pub(crate) const HOST: &str = "/ip/hotspot/host";
const ACTIVE: &str = "/ip/hotspot/active";
pub(crate) const BINDING: &str = "/ip/hotspot/ip-binding";
pub(crate) const USER: &str = "/ip/hotspot/user";
const PROFILE: &str = PROFILE_MENU;
pub(crate) const ADDRESS_LIST: &str = "/ip/firewall/address-list";
const ARP: &str = "/ip/arp";
const LEASE: &str = "/ip/dhcp-server/lease";

/// The Router port over one RouterOS API connection (mikrotik-rs), with timeouts, reconnect and
/// a circuit breaker. Build it inside a tokio runtime; dropping it stops its supervisor.
pub struct RouterOsClient {
    pub(crate) link: Arc<Link>,
    supervisor: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for RouterOsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterOsClient")
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl Drop for RouterOsClient {
    fn drop(&mut self) {
        if let Some(task) = self.supervisor.take() {
            task.abort();
        }
    }
}

pub(crate) fn cmd(menu: &str, verb: &str) -> Cmd {
    Cmd::new(&format!("{menu}/{verb}"))
}

impl RouterOsClient {
    /// Starts the client and its supervisor (which dials at once). Needs a tokio runtime.
    pub fn start(settings: RouterSettings) -> Self {
        let link = Link::new(settings);
        let supervisor = spawn_supervisor(&link);
        Self { link, supervisor }
    }

    pub fn settings(&self) -> &RouterSettings {
        &self.link.settings
    }

    pub(crate) async fn rows(&self, cmd: Cmd) -> Result<Vec<Row>, RouterError> {
        self.link.run(&cmd).await
    }

    async fn first_of(
        &self,
        menu: &str,
        key: &str,
        value: String,
        props: &[&str],
    ) -> Result<Vec<Row>, RouterError> {
        self.rows(cmd(menu, "print").eq(key, value).proplist(props))
            .await
    }

    /// Runs writes pipelined and fails with the first error.
    async fn writes(&self, cmds: Vec<Cmd>) -> Result<(), RouterError> {
        if cmds.is_empty() {
            return Ok(());
        }
        for result in self.link.run_many(&cmds).await? {
            result?;
        }
        Ok(())
    }

    async fn binding_for(&self, mac: Mac) -> Result<Option<Row>, RouterError> {
        let rows = self
            .first_of(BINDING, "mac-address", mac.to_string(), &BINDING_PROPLIST)
            .await?;
        Ok(rows.into_iter().next())
    }

    async fn lookup_chain(
        &self,
        key: &str,
        value: String,
        want: &str,
    ) -> Result<Option<String>, RouterError> {
        for (menu, props) in [
            (HOST, vec![want]),
            (ARP, vec![want]),
            (LEASE, vec![want, "active-address"]),
        ] {
            let rows = self.first_of(menu, key, value.clone(), &props).await?;
            if let Some(found) = rows
                .iter()
                .find_map(|r| get(r, want).or_else(|| get(r, "active-address")))
            {
                return Ok(Some(found.to_owned()));
            }
        }
        Ok(None)
    }

    /// A hotspot user's row as the writes check it (id, profile, owner); the password and
    /// limits are written, never read back.
    async fn user_row(&self, name: &str) -> Result<Option<Row>, RouterError> {
        let rows = self
            .first_of(USER, "name", name.to_owned(), &USER_PROPLIST)
            .await?;
        Ok(rows.into_iter().next())
    }
}

#[async_trait]
impl Router for RouterOsClient {
    fn health(&self) -> RouterHealth {
        self.link.health()
    }

    async fn hosts(&self) -> Result<Vec<HostEntry>, RouterError> {
        let rows = self
            .rows(cmd(HOST, "print").proplist(&HOST_PROPLIST))
            .await?;
        Ok(rows.iter().filter_map(parse_host).collect())
    }

    async fn mac_for_ip(&self, ip: Ipv4Addr) -> Result<Option<Mac>, RouterError> {
        for menu in [HOST, ARP, LEASE] {
            let rows = self
                .first_of(menu, "address", ip.to_string(), &["mac-address"])
                .await?;
            if let Some(mac) = rows
                .iter()
                .find_map(|r| get(r, "mac-address").and_then(parse_mac))
            {
                return Ok(Some(mac));
            }
        }
        Ok(None)
    }

    async fn ip_for_mac(&self, mac: Mac) -> Result<Option<Ipv4Addr>, RouterError> {
        let found = self
            .lookup_chain("mac-address", mac.to_string(), "address")
            .await?;
        Ok(found.and_then(|a| a.parse().ok()))
    }

    async fn ip_bindings(&self) -> Result<Vec<IpBinding>, RouterError> {
        let rows = self
            .rows(cmd(BINDING, "print").proplist(&BINDING_PROPLIST))
            .await?;
        Ok(rows.iter().filter_map(parse_binding).collect())
    }

    async fn rows_for(
        &self,
        macs: &[Mac],
        ips: &[Ipv4Addr],
        user: Option<&str>,
    ) -> Result<Snapshot, RouterError> {
        let by_mac = || macs.iter().map(|m| ("mac-address", m.to_string()));
        let on = |ips: &[Ipv4Addr]| {
            ips.iter()
                .map(|ip| ("address", ip.to_string()))
                .collect::<Vec<_>>()
        };
        // An empty filter would print every row: such a print is skipped instead.
        let hosts: Vec<HostEntry> = if macs.is_empty() && ips.is_empty() {
            Vec::new()
        } else {
            let print = cmd(HOST, "print")
                .proplist(&HOST_PROPLIST)
                .any(by_mac().chain(on(ips)));
            self.rows(print)
                .await?
                .iter()
                .filter_map(parse_host)
                .collect()
        };
        // Entries on the IPs the devices have now, too.
        let mut entry_ips: Vec<Ipv4Addr> = ips.to_vec();
        entry_ips.extend(hosts.iter().filter_map(|h| h.address));
        entry_ips.sort_unstable();
        entry_ips.dedup();
        let bindings = async {
            if macs.is_empty() {
                return Ok(Vec::new());
            }
            let print = cmd(BINDING, "print")
                .proplist(&BINDING_PROPLIST)
                .any(by_mac());
            self.rows(print).await
        };
        let entries = async {
            if entry_ips.is_empty() {
                return Ok(Vec::new());
            }
            let print = cmd(ADDRESS_LIST, "print")
                .proplist(&ENTRY_PROPLIST)
                .any(on(&entry_ips));
            self.rows(print).await
        };
        let users = async {
            match user {
                Some(name) => {
                    let print = cmd(USER, "print").proplist(&USER_PROPLIST).eq("name", name);
                    self.rows(print).await
                }
                None => Ok(Vec::new()),
            }
        };
        let (bindings, entries, users) = tokio::try_join!(bindings, entries, users)?;
        Ok(Snapshot {
            hosts,
            bindings: bindings.iter().filter_map(parse_binding).collect(),
            entries: parse_entries(&entries),
            users: users.iter().filter_map(parse_user).collect(),
        })
    }

    async fn upsert_ip_binding(
        &self,
        mac: Mac,
        kind: BindingType,
        comment: &OwnedComment,
    ) -> Result<(), RouterError> {
        let existing = self.binding_for(mac).await?;
        match self.binding_write(existing.as_ref(), mac, kind, comment)? {
            Some(write) => self.writes(vec![write]).await,
            None => Ok(()),
        }
    }

    async fn remove_ip_binding(&self, mac: Mac) -> Result<bool, RouterError> {
        match self.binding_for(mac).await? {
            Some(row) if ours(&row).is_some() => {
                self.writes(vec![cmd(BINDING, "remove").attr(".id", id(&row)?)])
                    .await?;
                Ok(true)
            }
            Some(_) => Err(RouterError::NotOurs(format!("ip-binding for {mac}"))),
            None => Ok(false),
        }
    }

    async fn address_list(&self) -> Result<Vec<AddressListEntry>, RouterError> {
        let rows = self
            .rows(cmd(ADDRESS_LIST, "print").proplist(&ENTRY_PROPLIST))
            .await?;
        Ok(parse_entries(&rows))
    }

    async fn set_status_list(
        &self,
        ip: Ipv4Addr,
        list: &str,
        status_lists: &[String],
        comment: &OwnedComment,
    ) -> Result<(), RouterError> {
        let rows = self
            .first_of(
                ADDRESS_LIST,
                "address",
                ip.to_string(),
                &[".id", "list", "comment"],
            )
            .await?;
        let mut writes = Vec::new();
        let mut present = false;
        for row in &rows {
            let Some(row_list) = get(row, "list") else {
                continue;
            };
            if row_list == list {
                present = true;
            } else if status_lists.iter().any(|l| l == row_list) && ours(row).is_some() {
                writes.push(cmd(ADDRESS_LIST, "remove").attr(".id", id(row)?));
            }
        }
        if !present {
            writes.push(
                cmd(ADDRESS_LIST, "add")
                    .attr("list", list)
                    .attr("address", ip.to_string())
                    .attr("comment", comment.render()),
            );
        }
        self.writes(writes).await
    }

    async fn remove_address(&self, ip: Ipv4Addr, lists: &[String]) -> Result<usize, RouterError> {
        let rows = self
            .first_of(
                ADDRESS_LIST,
                "address",
                ip.to_string(),
                &[".id", "list", "comment"],
            )
            .await?;
        let mut writes = Vec::new();
        for row in &rows {
            if get(row, "list").is_some_and(|l| lists.iter().any(|x| x == l)) && ours(row).is_some()
            {
                writes.push(cmd(ADDRESS_LIST, "remove").attr(".id", id(row)?));
            }
        }
        let count = writes.len();
        self.writes(writes).await?;
        Ok(count)
    }

    async fn upsert_hotspot_user(&self, user: &HotspotUserSpec) -> Result<(), RouterError> {
        let existing = self.user_row(&user.name).await?;
        let limit_bytes = user.limit_bytes_total.unwrap_or(0).to_string();
        let limit_uptime = format_duration(user.limit_uptime_secs.unwrap_or(0));
        let write = match &existing {
            Some(row) if ours(row).is_none() => {
                return Err(RouterError::NotOurs(format!("hotspot user {}", user.name)));
            }
            Some(row) => cmd(USER, "set").attr(".id", id(row)?),
            None => cmd(USER, "add")
                .attr("name", user.name.clone())
                .attr("server", self.link.settings.hotspot_server.clone()),
        };
        let write = write
            .attr("password", user.password.clone())
            .attr("profile", user.profile.clone())
            .attr("limit-bytes-total", limit_bytes)
            .attr("limit-uptime", limit_uptime)
            .attr("comment", user.comment.render());
        self.writes(vec![write]).await
    }

    async fn set_hotspot_user_profile(&self, name: &str, profile: &str) -> Result<(), RouterError> {
        let row = self.user_row(name).await?;
        check_ours(row.as_ref(), &format!("hotspot user {name}"))?;
        let Some(row) = row else { return Ok(()) };
        if get(&row, "profile") == Some(profile) {
            return Ok(());
        }
        self.writes(vec![
            cmd(USER, "set")
                .attr(".id", id(&row)?)
                .attr("profile", profile),
        ])
        .await
    }

    async fn hotspot_users(&self) -> Result<Vec<HotspotUser>, RouterError> {
        let rows = self
            .rows(cmd(USER, "print").proplist(&USER_PROPLIST))
            .await?;
        Ok(rows.iter().filter_map(parse_user).collect())
    }

    async fn hotspot_profiles(&self) -> Result<Vec<String>, RouterError> {
        let rows = self.rows(cmd(PROFILE, "print").proplist(&["name"])).await?;
        Ok(rows
            .iter()
            .filter_map(|r| get(r, "name").map(str::to_owned))
            .collect())
    }

    fn require_profiles(&self, names: Vec<String>, create: bool) {
        self.link.require_profiles(names, create);
    }

    fn profile_check(&self) -> ProfileCheck {
        self.link.profile_check()
    }

    async fn ensure_profiles(&self, names: &[String]) -> Result<Vec<String>, RouterError> {
        self.link.ensure_profiles(names).await
    }

    async fn active_login(
        &self,
        user: &str,
        password: &str,
        ip: Ipv4Addr,
        mac: Option<Mac>,
    ) -> Result<(), RouterError> {
        let mut login = cmd(ACTIVE, "login")
            .attr("user", user)
            .attr("password", password)
            .attr("ip", ip.to_string());
        if let Some(mac) = mac {
            login = login.attr("mac-address", mac.to_string());
        }
        self.writes(vec![login]).await
    }

    async fn remove_active_by_mac(&self, mac: Mac) -> Result<usize, RouterError> {
        self.remove_by_mac(ACTIVE, mac).await
    }

    async fn remove_hosts_by_mac(&self, mac: Mac) -> Result<usize, RouterError> {
        self.remove_by_mac(HOST, mac).await
    }

    async fn make_lease_static(&self, mac: Mac) -> Result<bool, RouterError> {
        let rows = self
            .first_of(LEASE, "mac-address", mac.to_string(), &[".id", "dynamic"])
            .await?;
        let dynamic: Vec<&Row> = rows
            .iter()
            .filter(|r| get(r, "dynamic").and_then(parse_bool) == Some(true))
            .collect();
        if dynamic.is_empty() {
            return Ok(false);
        }
        let writes = dynamic
            .iter()
            .map(|r| Ok(cmd(LEASE, "make-static").attr("numbers", id(r)?)))
            .collect::<Result<_, RouterError>>()?;
        self.writes(writes).await?;
        Ok(true)
    }

    async fn apply(
        &self,
        writes: Vec<RouterWrite>,
    ) -> Result<Vec<Result<(), RouterError>>, RouterError> {
        self.apply_writes(&writes).await
    }

    async fn config_rows(&self, menu: ConfigMenu) -> Result<Vec<ConfigRow>, RouterError> {
        self.read_config(menu).await
    }

    async fn apply_config(&self, writes: Vec<ConfigWrite>) -> Result<(), RouterError> {
        self.write_config(writes).await
    }
}

impl RouterOsClient {
    async fn remove_by_mac(&self, menu: &str, mac: Mac) -> Result<usize, RouterError> {
        let rows = self
            .first_of(menu, "mac-address", mac.to_string(), &[".id"])
            .await?;
        let writes = rows
            .iter()
            .map(|r| Ok(cmd(menu, "remove").attr(".id", id(r)?)))
            .collect::<Result<Vec<_>, RouterError>>()?;
        let count = writes.len();
        self.writes(writes).await?;
        Ok(count)
    }
}

/// Rows of an arbitrary print, for diagnostics and tests (`/ip/hotspot/host/print`).
pub async fn print(
    client: &RouterOsClient,
    path: &str,
    props: &[&str],
) -> Result<Vec<HashMap<String, String>>, RouterError> {
    let mut c = Cmd::new(path);
    if !props.is_empty() {
        c = c.proplist(props);
    }
    client.rows(c).await
}
