//! The simulated router: in-memory menus with the behaviour the portal relies on, the `/sim/…`
//! control commands, fault settings and command statistics.
//!
//! Every command is executed synchronously under one lock and its replies are encoded straight
//! into bytes, so a 50k-row host print costs one pass over the table.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::codec::{QueryWord, Request, encode_attribute, encode_length, encode_word};
use crate::query;

/// One row of a menu: properties in insertion order (`.id` first), values as RouterOS prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub props: Vec<(String, String)>,
}

impl Row {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, key: &str, value: &str) {
        match self.props.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => {
                v.clear();
                v.push_str(value);
            }
            None => self.props.push((key.to_owned(), value.to_owned())),
        }
    }

    pub fn unset(&mut self, key: &str) {
        self.props.retain(|(k, _)| k != key);
    }

    fn number(&self, key: &str) -> u64 {
        self.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    fn is_true(&self, key: &str) -> bool {
        self.get(key) == Some("true")
    }
}

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
}

impl Menu {
    pub const ALL: [Menu; 8] = [
        Menu::Host,
        Menu::Active,
        Menu::IpBinding,
        Menu::User,
        Menu::UserProfile,
        Menu::AddressList,
        Menu::Arp,
        Menu::Lease,
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
        }
    }

    fn can_add(self) -> bool {
        !matches!(self, Menu::Host | Menu::Active)
    }
}

/// A menu's rows keyed by the numeric part of `.id`; ids only ever increase.
#[derive(Debug, Clone, Default)]
pub struct Table {
    next_id: u64,
    pub rows: BTreeMap<u64, Row>,
    /// Ids of rows that were given a value in an [`INDEXED`] field (lower-cased). Only a hint,
    /// always checked against the row: removals leave stale ids behind, while a value can only
    /// enter a row through [`Table::insert`] or [`Table::note`] (the `set` command), which both
    /// record it. Keeps duplicate checks and bypass refreshes linear-free at 20k+ rows.
    index: HashMap<(&'static str, String), BTreeSet<u64>>,
}

/// Fields the simulator looks rows up by.
const INDEXED: [&str; 2] = ["mac-address", "address"];

impl Table {
    fn insert(&mut self, mut props: Vec<(String, String)>) -> String {
        self.next_id += 1;
        let id = format!("*{:X}", self.next_id);
        props.insert(0, (".id".to_owned(), id.clone()));
        for (k, v) in &props {
            self.note(self.next_id, k, v);
        }
        self.rows.insert(self.next_id, Row { props });
        id
    }

    /// Records that row `id` now has `value` in field `key` (ignored for unindexed fields).
    fn note(&mut self, id: u64, key: &str, value: &str) {
        if let Some(field) = INDEXED.iter().find(|f| **f == key) {
            self.index
                .entry((field, value.to_ascii_lowercase()))
                .or_default()
                .insert(id);
        }
    }

    /// Ids of the rows whose `key` equals `value` (ASCII case ignored), ascending.
    fn ids_where<'a>(
        &'a self,
        key: &'static str,
        value: &'a str,
    ) -> impl Iterator<Item = u64> + 'a {
        self.index
            .get(&(key, value.to_ascii_lowercase()))
            .into_iter()
            .flatten()
            .copied()
            .filter(move |id| {
                self.rows
                    .get(id)
                    .and_then(|r| r.get(key))
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            })
    }

    fn find(&self, mut pred: impl FnMut(&Row) -> bool) -> Option<u64> {
        self.rows.iter().find(|(_, r)| pred(r)).map(|(k, _)| *k)
    }

    fn find_by_mac(&self, mac: &str) -> Option<u64> {
        self.ids_where("mac-address", mac).next()
    }
}

fn parse_id(id: &str) -> Option<u64> {
    u64::from_str_radix(id.strip_prefix('*')?, 16).ok()
}

/// Fault injection set through `/sim/fault` or [`crate::SimHandle::set_fault`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every reply to a non-`/sim` command is delayed by this much.
    pub delay_ms: u64,
    /// After this many more non-`/sim` sentences, the connection that receives the last one is
    /// closed without an answer.
    pub drop_after: Option<u64>,
    /// The next non-`/sim`, non-login command is answered with this trap (category, message).
    pub trap_next: Option<(Option<u8>, String)>,
}

/// Commands received, for tests that must prove what a client did (or did not) send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Count of commands received per command path (`/ip/hotspot/host/print` → 3).
    pub by_path: BTreeMap<String, u64>,
    /// Commands received that would change router state (add, set, remove, login, make-static…).
    pub writes: u64,
}

impl SimStats {
    pub fn count(&self, path: &str) -> u64 {
        self.by_path.get(path).copied().unwrap_or(0)
    }
}

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

/// The whole simulated router.
#[derive(Debug)]
pub struct SimState {
    tables: BTreeMap<Menu, Table>,
    pub faults: Faults,
    pub stats: SimStats,
    /// RouterOS ≥ 7.18 answers an empty print with `!empty` (then `!done`); older versions only
    /// with `!done`.
    pub empty_replies: bool,
    /// Put `.tag` last in reply sentences instead of right after the reply word (RouterOS
    /// documentation shows it last, captured traffic shows it first; clients must take both).
    pub tag_last: bool,
}

impl Default for SimState {
    fn default() -> Self {
        let mut state = SimState {
            tables: Menu::ALL
                .into_iter()
                .map(|m| (m, Table::default()))
                .collect(),
            faults: Faults::default(),
            stats: SimStats::default(),
            empty_replies: true,
            tag_last: false,
        };
        state.table_mut(Menu::UserProfile).insert(vec![
            ("name".into(), "default".into()),
            ("shared-users".into(), "1".into()),
            ("default".into(), "true".into()),
        ]);
        state
    }
}

/// What the connection must do after a command.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Encoded reply sentences.
    pub bytes: Vec<u8>,
    /// Close the connection after sending `bytes`.
    pub close: bool,
}

/// Encodes replies for one tagged command, `.tag` right after the reply word (or last).
struct Replies<'a> {
    out: Vec<u8>,
    tag: Option<&'a str>,
    tag_last: bool,
}

impl<'a> Replies<'a> {
    fn new(tag: Option<&'a str>, tag_last: bool) -> Self {
        Self {
            out: Vec::new(),
            tag,
            tag_last,
        }
    }

    fn tag_word(&mut self) {
        if let Some(tag) = self.tag {
            encode_length(5 + tag.len(), &mut self.out);
            self.out.extend_from_slice(b".tag=");
            self.out.extend_from_slice(tag.as_bytes());
        }
    }

    fn head(&mut self, word: &str) {
        encode_word(word.as_bytes(), &mut self.out);
        if !self.tag_last {
            self.tag_word();
        }
    }

    /// Ends a sentence (the tag goes here when it is placed last).
    fn end(&mut self) {
        if self.tag_last {
            self.tag_word();
        }
        self.out.push(0);
    }

    fn row(&mut self, row: &Row, proplist: Option<&[&str]>) {
        self.head("!re");
        match proplist {
            Some(keys) => {
                for key in keys {
                    if let Some(v) = row.get(key) {
                        encode_attribute(key, v, &mut self.out);
                    }
                }
            }
            None => {
                for (k, v) in &row.props {
                    encode_attribute(k, v, &mut self.out);
                }
            }
        }
        self.end();
    }

    fn re(&mut self, attrs: &[(&str, &str)]) {
        self.head("!re");
        for (k, v) in attrs {
            encode_attribute(k, v, &mut self.out);
        }
        self.end();
    }

    fn done(&mut self, ret: Option<&str>) {
        self.head("!done");
        if let Some(ret) = ret {
            encode_attribute("ret", ret, &mut self.out);
        }
        self.end();
    }

    fn empty(&mut self) {
        self.head("!empty");
        self.end();
    }

    fn trap(&mut self, category: Option<u8>, message: &str) {
        self.head("!trap");
        if let Some(c) = category {
            encode_attribute("category", &c.to_string(), &mut self.out);
        }
        encode_attribute("message", message, &mut self.out);
        self.end();
        self.done(None);
    }

    fn finish(self) -> Outcome {
        Outcome {
            bytes: self.out,
            close: false,
        }
    }
}

/// A command failure, answered as `!trap` (+ `!done`).
#[derive(Debug)]
struct Trap(Option<u8>, String);

fn trap(category: Option<u8>, message: impl Into<String>) -> Trap {
    Trap(category, message.into())
}

fn no_such_item() -> Trap {
    trap(Some(1), "no such item")
}

const WRITE_VERBS: [&str; 8] = [
    "add",
    "set",
    "remove",
    "unset",
    "enable",
    "disable",
    "login",
    "make-static",
];

/// `!fatal` sentence bytes.
pub fn fatal(reason: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode_word(b"!fatal", &mut out);
    encode_word(reason.as_bytes(), &mut out);
    out.push(0);
    out
}

impl SimState {
    pub fn table(&self, menu: Menu) -> &Table {
        // Every menu is created in `default()`; an empty table stands in should one be missing.
        static EMPTY: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
        self.tables
            .get(&menu)
            .unwrap_or_else(|| EMPTY.get_or_init(Table::default))
    }

    fn table_mut(&mut self, menu: Menu) -> &mut Table {
        self.tables.entry(menu).or_default()
    }

    /// Rows of a menu, in `.id` order.
    pub fn rows(&self, menu: Menu) -> Vec<Row> {
        self.table(menu).rows.values().cloned().collect()
    }

    /// Counts a received command and says whether it is a write.
    pub fn record(&mut self, command: &str) {
        *self.stats.by_path.entry(command.to_owned()).or_default() += 1;
        let verb = command.rsplit('/').next().unwrap_or("");
        if !command.starts_with("/sim/") && command != "/login" && WRITE_VERBS.contains(&verb) {
            self.stats.writes += 1;
        }
    }

    /// Executes one command of a logged-in session.
    pub fn execute(&mut self, request: &Request) -> Outcome {
        let tag = request.tag.as_deref();
        let mut replies = Replies::new(tag, self.tag_last);
        let command = request.command.as_str();
        if !command.starts_with("/sim/")
            && let Some((category, message)) = self.faults.trap_next.take()
        {
            replies.trap(category, &message);
            return replies.finish();
        }
        let result = if let Some(sim) = command.strip_prefix("/sim/") {
            self.execute_sim(sim, request, &mut replies)
        } else {
            let (menu_path, verb) = command.rsplit_once('/').unwrap_or(("", command));
            match Menu::from_path(menu_path) {
                Some(menu) => self.execute_menu(menu, verb, request, &mut replies),
                None => Err(trap(Some(0), "no such command prefix")),
            }
        };
        if let Err(Trap(category, message)) = result {
            replies.trap(category, &message);
        }
        replies.finish()
    }

    fn execute_menu(
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
            Menu::UserProfile => {
                let name = get(&props, "name")
                    .ok_or_else(|| trap(Some(1), "missing value of argument name"))?;
                if self
                    .table(menu)
                    .find(|r| r.get("name") == Some(name.as_str()))
                    .is_some()
                {
                    return Err(trap(Some(1), "failure: already have such name"));
                }
                defaults(&mut props, &[("shared-users", "1"), ("default", "false")]);
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

    fn set_authorized(&mut self, mac: &str, authorized: bool) {
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

    fn refresh_bypass(&mut self, mac: &str) {
        let value = if self.bypassed(mac) { "true" } else { "false" };
        let hosts = self.table_mut(Menu::Host);
        let ids: Vec<u64> = hosts.ids_where("mac-address", mac).collect();
        for id in ids {
            if let Some(row) = hosts.rows.get_mut(&id) {
                row.set("bypassed", value);
            }
        }
    }

    fn active_login(&mut self, request: &Request) -> Result<(), Trap> {
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

    fn execute_sim(
        &mut self,
        sim: &str,
        request: &Request,
        replies: &mut Replies<'_>,
    ) -> Result<(), Trap> {
        let number = |key: &str| -> Result<u64, Trap> {
            match request.attribute(key) {
                None | Some("") => Ok(0),
                Some(v) => v
                    .parse()
                    .or_else(|_| parse_duration(v).ok_or(()))
                    .map_err(|()| trap(Some(1), format!("invalid value for argument {key}"))),
            }
        };
        match sim {
            "host/add" => {
                let host = NewHost {
                    mac: request
                        .attribute("mac-address")
                        .unwrap_or_default()
                        .to_owned(),
                    address: request.attribute("address").unwrap_or_default().to_owned(),
                    bytes_in: number("bytes-in")?,
                    bytes_out: number("bytes-out")?,
                    uptime_secs: number("uptime")?,
                    server: request.attribute("server").map(str::to_owned),
                    with_lease: request.attribute("lease") != Some("no"),
                };
                let id = self.add_host(&host).map_err(|m| trap(Some(1), m))?;
                replies.done(Some(&id));
            }
            "host/traffic" => {
                let mac = request.attribute("mac-address").unwrap_or_default();
                if !self.add_traffic(
                    mac,
                    number("bytes-in")?,
                    number("bytes-out")?,
                    number("uptime")?,
                ) {
                    return Err(no_such_item());
                }
                replies.done(None);
            }
            "host/recreate" => {
                let mac = request.attribute("mac-address").unwrap_or_default();
                let id = self.recreate_host(mac).ok_or_else(no_such_item)?;
                replies.done(Some(&id));
            }
            "reboot" => {
                self.reboot();
                replies.done(None);
            }
            "fault" => {
                let category = match request.attribute("trap-category") {
                    Some(c) => Some(
                        c.parse::<u8>()
                            .map_err(|_| trap(Some(1), "invalid trap-category"))?,
                    ),
                    None => None,
                };
                self.faults = Faults {
                    delay_ms: number("delay-ms")?,
                    drop_after: request
                        .attribute("drop-after")
                        .map(|_| number("drop-after"))
                        .transpose()?,
                    trap_next: request
                        .attribute("trap-message")
                        .map(|m| (category, m.to_owned())),
                };
                replies.done(None);
            }
            "stats/print" => {
                let writes = self.stats.writes.to_string();
                let commands: u64 = self.stats.by_path.values().sum();
                let commands = commands.to_string();
                replies.re(&[("writes", &writes), ("commands", &commands)]);
                for (path, count) in &self.stats.by_path {
                    replies.re(&[("path", path), ("count", &count.to_string())]);
                }
                replies.done(None);
            }
            "stats/reset" => {
                self.stats = SimStats::default();
                replies.done(None);
            }
            other => {
                return Err(trap(
                    Some(0),
                    format!("no such command or directory ({other})"),
                ));
            }
        }
        Ok(())
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

fn defaults(props: &mut Vec<(String, String)>, values: &[(&str, &str)]) {
    for (k, v) in values {
        if !props.iter().any(|(pk, _)| pk == k) {
            props.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
}

/// RouterOS prints MACs upper case with colons; accept `aa:bb:…`, `aa-bb-…` and bare hex.
/// (Kept local rather than using the kernel's `Mac`, so the simulator and its fuzz target
/// build without the kernel's web and database dependencies.)
pub fn normalise_mac(input: &str) -> Option<String> {
    let input = input.trim();
    let hex: Vec<u8> = input
        .bytes()
        .filter(|b| !matches!(b, b':' | b'-' | b'.'))
        .collect();
    let separators = input.len() - hex.len();
    if hex.len() != 12 || !matches!(separators, 0 | 2 | 5) || !hex.iter().all(u8::is_ascii_hexdigit)
    {
        return None;
    }
    let upper: Vec<String> = hex
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect();
    Some(upper.join(":"))
}

/// Formats seconds the way RouterOS prints durations: `1w2d3h4m5s`, `0s` for zero.
pub fn format_duration(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ] {
        if secs >= size {
            out.push_str(&(secs / size).to_string());
            out.push(unit);
            secs %= size;
        }
    }
    out
}

/// Parses `1w2d3h4m5s` (any subset, in order) or plain seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let mut total = 0u64;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let size = match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: u64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(size)?)?;
        digits.clear();
    }
    digits.is_empty().then_some(total)
}

/// A query word matching a MAC (used by the in-process helpers).
pub fn mac_query(mac: &str) -> QueryWord {
    QueryWord::Equal("mac-address".into(), mac.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{ReplyKind, SentenceReader, parse_reply};

    fn add_host(s: &mut SimState, mac: &str, address: &str) {
        s.add_host(&NewHost {
            mac: mac.into(),
            address: address.into(),
            ..NewHost::default()
        })
        .unwrap();
    }

    fn run(
        state: &mut SimState,
        command: &str,
        attrs: &[(&str, &str)],
    ) -> Vec<crate::codec::Reply> {
        let request = Request {
            command: command.into(),
            tag: Some("1".into()),
            attributes: attrs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            queries: vec![],
        };
        let outcome = state.execute(&request);
        let mut reader = SentenceReader::new();
        reader.push(&outcome.bytes);
        let mut out = vec![];
        while let Some(words) = reader.next_sentence().unwrap() {
            out.push(parse_reply(&words).unwrap());
        }
        out
    }

    #[test]
    fn macs_normalise_like_routeros_prints_them() {
        assert_eq!(
            normalise_mac("aa-bb-cc-dd-ee-0f").as_deref(),
            Some("AA:BB:CC:DD:EE:0F")
        );
        assert_eq!(
            normalise_mac("aabbccddee0f").as_deref(),
            Some("AA:BB:CC:DD:EE:0F")
        );
        assert_eq!(normalise_mac("aa:bb:cc:dd:ee"), None);
        assert_eq!(normalise_mac("aa:bb:cc:dd:ee:gg"), None);
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(694_861), "1w1d1h1m1s");
        assert_eq!(parse_duration("1w1d1h1m1s"), Some(694_861));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("5m3"), None);
    }

    #[test]
    fn ids_increase_and_are_never_reused() {
        let mut s = SimState::default();
        let a = run(&mut s, "/ip/arp/add", &[("address", "10.0.0.1")]);
        assert_eq!(a[0].attribute("ret"), Some("*1"));
        run(&mut s, "/ip/arp/remove", &[(".id", "*1")]);
        let b = run(&mut s, "/ip/arp/add", &[("address", "10.0.0.1")]);
        assert_eq!(b[0].attribute("ret"), Some("*2"));
        for _ in 0..14 {
            run(&mut s, "/ip/arp/add", &[("address", "10.0.0.2")]);
        }
        let c = run(&mut s, "/ip/arp/add", &[("address", "10.0.0.3")]);
        assert_eq!(c[0].attribute("ret"), Some("*11"), "upper-case hex");
    }

    #[test]
    fn bypassed_binding_marks_its_host_and_duplicates_trap() {
        let mut s = SimState::default();
        add_host(&mut s, "aa:bb:cc:00:00:01", "10.0.0.5");
        let r = run(
            &mut s,
            "/ip/hotspot/ip-binding/add",
            &[("mac-address", "AA:BB:CC:00:00:01"), ("type", "bypassed")],
        );
        assert_eq!(r[0].kind, ReplyKind::Done);
        assert_eq!(s.rows(Menu::Host)[0].get("bypassed"), Some("true"));
        let dup = run(
            &mut s,
            "/ip/hotspot/ip-binding/add",
            &[("mac-address", "aa:bb:cc:00:00:01")],
        );
        assert_eq!(dup[0].kind, ReplyKind::Trap);
        assert_eq!(dup[1].kind, ReplyKind::Done, "a trap is followed by !done");
        let id = r[0].attribute("ret").unwrap().to_owned();
        run(
            &mut s,
            "/ip/hotspot/ip-binding/set",
            &[(".id", &id), ("type", "regular")],
        );
        assert_eq!(s.rows(Menu::Host)[0].get("bypassed"), Some("false"));
    }

    #[test]
    fn lookups_follow_a_binding_moved_to_another_mac_and_forget_removed_rows() {
        let mut s = SimState::default();
        for (mac, ip) in [
            ("aa:bb:cc:00:00:01", "10.0.0.5"),
            ("aa:bb:cc:00:00:02", "10.0.0.6"),
        ] {
            add_host(&mut s, mac, ip);
        }
        let r = run(
            &mut s,
            "/ip/hotspot/ip-binding/add",
            &[("mac-address", "AA:BB:CC:00:00:01"), ("type", "bypassed")],
        );
        let id = r[0].attribute("ret").unwrap().to_owned();
        run(
            &mut s,
            "/ip/hotspot/ip-binding/set",
            &[(".id", &id), ("mac-address", "AA:BB:CC:00:00:02")],
        );
        let bypassed = |s: &SimState| -> Vec<String> {
            s.rows(Menu::Host)
                .iter()
                .map(|r| r.get("bypassed").unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(
            bypassed(&s),
            ["false", "true"],
            "the bypass moved with the MAC"
        );
        // The old MAC is free again, the new one taken.
        let old = run(
            &mut s,
            "/ip/hotspot/ip-binding/add",
            &[("mac-address", "aa:bb:cc:00:00:01")],
        );
        assert_eq!(old[0].kind, ReplyKind::Done);
        let new = run(
            &mut s,
            "/ip/hotspot/ip-binding/add",
            &[("mac-address", "aa:bb:cc:00:00:02")],
        );
        assert_eq!(new[0].kind, ReplyKind::Trap);
        run(&mut s, "/ip/hotspot/ip-binding/remove", &[(".id", &id)]);
        assert_eq!(bypassed(&s), ["false", "false"]);
        let again = run(
            &mut s,
            "/ip/hotspot/ip-binding/add",
            &[("mac-address", "aa:bb:cc:00:00:02")],
        );
        assert_eq!(
            again[0].kind,
            ReplyKind::Done,
            "a removed row is not a duplicate"
        );
        // Address-list duplicates are per (list, address).
        let add = |s: &mut SimState, list: &str| {
            run(
                s,
                "/ip/firewall/address-list/add",
                &[("list", list), ("address", "10.0.0.5")],
            )[0]
            .kind
        };
        assert_eq!(add(&mut s, "active"), ReplyKind::Done);
        assert_eq!(add(&mut s, "habis"), ReplyKind::Done);
        assert_eq!(add(&mut s, "active"), ReplyKind::Trap);
    }

    #[test]
    fn empty_print_answers_empty_then_done() {
        let mut s = SimState::default();
        let r = run(&mut s, "/ip/arp/print", &[]);
        assert_eq!(
            r.iter().map(|r| r.kind).collect::<Vec<_>>(),
            [ReplyKind::Empty, ReplyKind::Done]
        );
        s.empty_replies = false;
        let r = run(&mut s, "/ip/arp/print", &[]);
        assert_eq!(
            r.iter().map(|r| r.kind).collect::<Vec<_>>(),
            [ReplyKind::Done]
        );
    }
}
