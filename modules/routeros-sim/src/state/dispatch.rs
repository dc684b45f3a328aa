//! One command in: counted, routed to a menu or to `/sim/…`, answered (or trapped).

use crate::codec::{QueryWord, Request};

use super::SimState;
use super::menus::Menu;
use super::reply::{Outcome, Replies, Trap, trap};
use super::table::{Row, Table};

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

impl SimState {
    pub fn table(&self, menu: Menu) -> &Table {
        // Every menu is created in `default()`; an empty table stands in should one be missing.
        static EMPTY: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
        self.tables
            .get(&menu)
            .unwrap_or_else(|| EMPTY.get_or_init(Table::default))
    }

    pub(super) fn table_mut(&mut self, menu: Menu) -> &mut Table {
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
}

/// A query word matching a MAC (used by the in-process helpers).
pub fn mac_query(mac: &str) -> QueryWord {
    QueryWord::Equal("mac-address".into(), mac.into())
}
