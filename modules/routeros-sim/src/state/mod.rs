//! The simulated router: in-memory menus with the behaviour the portal relies on, the `/sim/…`
//! control commands, fault settings and command statistics.
//!
//! Every command is executed synchronously under one lock and its replies are encoded straight
//! into bytes, so a 50k-row host print costs one pass over the table.
//!
//! - `table`: rows, tables and the value formats they hold;
//! - `menus`: the menus and their commands;
//! - `hotspot`: hosts, traffic, bypass, active logins, reboots;
//! - `control`: the `/sim/…` commands, faults and statistics;
//! - `dispatch` and `reply`: routing one command and encoding its answer.

use std::collections::BTreeMap;

mod control;
mod dispatch;
mod hotspot;
mod menus;
mod reply;
mod table;

pub use control::{Faults, SimStats};
pub use dispatch::mac_query;
pub use hotspot::NewHost;
pub use menus::Menu;
pub use reply::{Outcome, fatal};
pub use table::{Row, Table, format_duration, normalise_mac, parse_duration};

/// A stand-in for the login form RouterOS puts in a new hotspot's `html-directory`.
pub const ROUTEROS_LOGIN_HTML: &str = "<html><body><form name=\"login\" action=\"$(link-login-only)\" \
method=\"post\"><input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>";

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
        // What a router out of the box has: the built-in groups, the admin user and the
        // default hotspot server profile.
        for (name, policy) in [
            (
                "read",
                "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api",
            ),
            (
                "write",
                "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api",
            ),
            (
                "full",
                "local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,rest-api",
            ),
        ] {
            state.table_mut(Menu::UserGroup).insert(vec![
                ("name".into(), name.into()),
                ("policy".into(), policy.into()),
            ]);
        }
        state.table_mut(Menu::SystemUser).insert(vec![
            ("name".into(), "admin".into()),
            ("group".into(), "full".into()),
            ("disabled".into(), "false".into()),
        ]);
        state.table_mut(Menu::HotspotProfile).insert(vec![
            ("name".into(), "default".into()),
            ("hotspot-address".into(), "10.5.54.254".into()),
            ("dns-name".into(), "hotspot.lpsaring.test".into()),
            ("html-directory".into(), "hotspot".into()),
            ("default".into(), "true".into()),
        ]);
        // The page set-up replaces: RouterOS writes its own login form when a hotspot is made.
        for (name, kind, contents) in [
            ("hotspot", "directory", None),
            ("hotspot/login.html", "file", Some(ROUTEROS_LOGIN_HTML)),
        ] {
            let mut props = vec![("name".into(), name.into()), ("type".into(), kind.into())];
            if let Some(contents) = contents {
                props.push(("size".into(), contents.len().to_string()));
                props.push(("contents".into(), contents.into()));
            }
            state.table_mut(Menu::File).insert(props);
        }
        state
    }
}

#[cfg(test)]
mod tests;
