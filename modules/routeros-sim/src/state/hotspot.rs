//! Hotspot behaviour beyond plain rows: hosts appearing and counting traffic, bypass from
//! ip-bindings, active logins, host recreation and reboots, and bulk population.

use crate::codec::Request;

use super::SimState;
use super::menus::Menu;
use super::reply::{Trap, trap};
use super::table::{Row, format_duration, normalise_mac, parse_duration};

/// A host to create with [`SimState::add_host`].
#[derive(Debug, Clone, Default)]
pub struct NewHost {
    pub mac: String,
    pub address: String,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub uptime_secs: u64,
    pub server: Option<String>,
    /// Also create a dynamic, bound DHCP lease for the host (as a DHCP-served hotspot does).
    pub with_lease: bool,
}

impl SimState {
    pub(super) fn set_authorized(&mut self, mac: &str, authorized: bool) {
        let value = if authorized { "true" } else { "false" };
        let table = self.table_mut(Menu::Host);
        let ids: Vec<u64> = table.ids_where("mac-address", mac).collect();
        for id in ids {
            if let Some(row) = table.rows.get_mut(&id)
                && row.get("mac-address") == Some(mac)
            {
                row.set("authorized", value);
            }
        }
    }

    /// A host is `bypassed` while an enabled `type=bypassed` binding exists for its MAC.
    fn bypassed(&self, mac: &str) -> bool {
        let bindings = self.table(Menu::IpBinding);
        bindings
            .ids_where("mac-address", mac)
            .filter_map(|id| bindings.rows.get(&id))
            .any(|b| b.get("type") == Some("bypassed") && !b.is_true("disabled"))
    }

    pub(super) fn refresh_bypass(&mut self, mac: &str) {
        let value = if self.bypassed(mac) { "true" } else { "false" };
        let hosts = self.table_mut(Menu::Host);
        let ids: Vec<u64> = hosts.ids_where("mac-address", mac).collect();
        for id in ids {
            if let Some(row) = hosts.rows.get_mut(&id) {
                row.set("bypassed", value);
            }
        }
    }

    pub(super) fn active_login(&mut self, request: &Request) -> Result<(), Trap> {
        let user = request
            .attribute("user")
            .ok_or_else(|| trap(Some(1), "missing value of argument user"))?;
        let password = request.attribute("password").unwrap_or("");
        let ip = request
            .attribute("ip")
            .ok_or_else(|| trap(Some(1), "missing value of argument ip"))?;
        let host_id = self
            .table(Menu::Host)
            .find(|r| r.get("address") == Some(ip))
            .ok_or_else(|| trap(Some(4), "no such host"))?;
        let host = self
            .table(Menu::Host)
            .rows
            .get(&host_id)
            .cloned()
            .unwrap_or_default();
        let host_mac = host.get("mac-address").unwrap_or_default().to_owned();
        if let Some(mac) = request.attribute("mac-address")
            && !mac.eq_ignore_ascii_case(&host_mac)
        {
            return Err(trap(Some(4), "mac-address does not match host"));
        }
        let account = self
            .table(Menu::User)
            .rows
            .values()
            .find(|r| r.get("name") == Some(user))
            .cloned()
            .ok_or_else(|| trap(Some(4), "invalid username or password"))?;
        if account.get("password").unwrap_or("") != password {
            return Err(trap(Some(4), "invalid username or password"));
        }
        if self
            .table(Menu::Active)
            .find(|r| r.get("mac-address") == Some(host_mac.as_str()))
            .is_some()
        {
            return Err(trap(Some(4), "already logged in"));
        }
        let server = host.get("server").unwrap_or("hotspot1").to_owned();
        self.table_mut(Menu::Active).insert(vec![
            ("server".into(), server),
            ("user".into(), user.to_owned()),
            ("address".into(), ip.to_owned()),
            ("mac-address".into(), host_mac.clone()),
            ("login-by".into(), "http-pap".into()),
            ("uptime".into(), "0s".into()),
            ("bytes-in".into(), "0".into()),
            ("bytes-out".into(), "0".into()),
        ]);
        self.set_authorized(&host_mac, true);
        Ok(())
    }

    /// Adds a host as the hotspot would on seeing a new device.
    pub fn add_host(&mut self, host: &NewHost) -> Result<String, String> {
        let mac =
            normalise_mac(&host.mac).ok_or_else(|| format!("invalid mac-address {}", host.mac))?;
        if self.table(Menu::Host).find_by_mac(&mac).is_some() {
            return Err("failure: already have such entry".into());
        }
        Ok(self.insert_host(mac, host))
    }

    /// Inserts a host whose MAC is known to be new (no duplicate scan: `populate` relies on
    /// this to stay linear for 50k hosts).
    fn insert_host(&mut self, mac: String, host: &NewHost) -> String {
        let server = host.server.clone().unwrap_or_else(|| "hotspot1".into());
        let mut props = host_props(&mac, &host.address, &server, host);
        if self.bypassed(&mac) {
            props
                .iter_mut()
                .filter(|(k, _)| k == "bypassed")
                .for_each(|(_, v)| *v = "true".into());
        }
        let id = self.table_mut(Menu::Host).insert(props);
        if host.with_lease && self.table(Menu::Lease).find_by_mac(&mac).is_none() {
            self.table_mut(Menu::Lease).insert(vec![
                ("address".into(), host.address.clone()),
                ("mac-address".into(), mac),
                ("server".into(), "dhcp1".into()),
                ("status".into(), "bound".into()),
                ("dynamic".into(), "true".into()),
                ("disabled".into(), "false".into()),
            ]);
        }
        id
    }

    /// Adds traffic (and optionally uptime) to the host of `mac`.
    pub fn add_traffic(
        &mut self,
        mac: &str,
        bytes_in: u64,
        bytes_out: u64,
        uptime_secs: u64,
    ) -> bool {
        let Some(mac) = normalise_mac(mac) else {
            return false;
        };
        let Some(id) = self.table(Menu::Host).find_by_mac(&mac) else {
            return false;
        };
        if let Some(row) = self.table_mut(Menu::Host).rows.get_mut(&id) {
            let bin = row.number("bytes-in") + bytes_in;
            let bout = row.number("bytes-out") + bytes_out;
            let up = parse_duration(row.get("uptime").unwrap_or("0s")).unwrap_or(0) + uptime_secs;
            row.set("bytes-in", &bin.to_string());
            row.set("bytes-out", &bout.to_string());
            row.set("uptime", &format_duration(up));
        }
        true
    }

    /// Replaces the host of `mac` by a fresh entry: new `.id`, zero counters and uptime.
    pub fn recreate_host(&mut self, mac: &str) -> Option<String> {
        let mac = normalise_mac(mac)?;
        let id = self.table(Menu::Host).find_by_mac(&mac)?;
        let old = self.table_mut(Menu::Host).rows.remove(&id)?;
        self.table_mut(Menu::Active)
            .rows
            .retain(|_, r| r.get("mac-address") != Some(mac.as_str()));
        Some(self.reinsert_fresh_host(&old))
    }

    fn reinsert_fresh_host(&mut self, old: &Row) -> String {
        let mac = old.get("mac-address").unwrap_or_default().to_owned();
        let fresh = NewHost {
            mac: mac.clone(),
            address: old.get("address").unwrap_or_default().to_owned(),
            ..NewHost::default()
        };
        let mut props = host_props(
            &mac,
            &fresh.address,
            old.get("server").unwrap_or("hotspot1"),
            &fresh,
        );
        if let Some(comment) = old.get("comment") {
            props.push(("comment".into(), comment.to_owned()));
        }
        if self.bypassed(&mac) {
            props
                .iter_mut()
                .filter(|(k, _)| k == "bypassed")
                .for_each(|(_, v)| *v = "true".into());
        }
        self.table_mut(Menu::Host).insert(props)
    }

    /// A router reboot: hosts come back with new ids and zero counters, sessions and dynamic
    /// rows (address-list entries with a timeout, dynamic ARP and leases) are gone.
    pub fn reboot(&mut self) {
        let hosts: Vec<Row> = std::mem::take(&mut self.table_mut(Menu::Host).rows)
            .into_values()
            .collect();
        self.table_mut(Menu::Active).rows.clear();
        for menu in [Menu::AddressList, Menu::Arp, Menu::Lease] {
            self.table_mut(menu)
                .rows
                .retain(|_, r| !r.is_true("dynamic"));
        }
        for row in self.table_mut(Menu::User).rows.values_mut() {
            row.set("uptime", "0s");
            row.set("bytes-in", "0");
            row.set("bytes-out", "0");
        }
        for host in &hosts {
            self.reinsert_fresh_host(host);
        }
    }

    /// Fills the router with `count` deterministic pseudo-random hosts (for demos and benches).
    pub fn populate(&mut self, count: usize) {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = self.table(Menu::Host).rows.len();
        for i in base..base + count {
            let n = i as u64 + 1;
            let mac = format!(
                "02:5A:{:02X}:{:02X}:{:02X}:{:02X}",
                (n >> 24) & 0xFF,
                (n >> 16) & 0xFF,
                (n >> 8) & 0xFF,
                n & 0xFF
            );
            let address = format!(
                "10.{}.{}.{}",
                64 + ((n >> 16) & 0x3F),
                (n >> 8) & 0xFF,
                n & 0xFF
            );
            let host = NewHost {
                mac,
                address,
                bytes_in: next() % 5_000_000_000,
                bytes_out: next() % 20_000_000_000,
                uptime_secs: next() % 604_800,
                server: None,
                with_lease: false,
            };
            // Generated MACs are unique by construction (the index is in the last four bytes).
            self.insert_host(host.mac.clone(), &host);
        }
    }
}

fn host_props(mac: &str, address: &str, server: &str, host: &NewHost) -> Vec<(String, String)> {
    vec![
        ("mac-address".into(), mac.to_owned()),
        ("address".into(), address.to_owned()),
        ("to-address".into(), address.to_owned()),
        ("server".into(), server.to_owned()),
        ("uptime".into(), format_duration(host.uptime_secs)),
        ("bytes-in".into(), host.bytes_in.to_string()),
        ("bytes-out".into(), host.bytes_out.to_string()),
        ("packets-in".into(), (host.bytes_in / 1000).to_string()),
        ("packets-out".into(), (host.bytes_out / 1000).to_string()),
        ("found-by".into(), "DHCP".into()),
        ("authorized".into(), "false".into()),
        ("bypassed".into(), "false".into()),
        ("dynamic".into(), "true".into()),
    ]
}
