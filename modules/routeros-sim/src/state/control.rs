//! The `/sim/…` control commands (hosts, traffic, reboot, faults, statistics) and the state
//! they set.

use std::collections::BTreeMap;

use crate::codec::Request;

use super::SimState;
use super::hotspot::NewHost;
use super::reply::{Replies, Trap, no_such_item, trap};
use super::table::parse_duration;

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
    /// The router stops answering: non-`/sim` sentences, logins included, get no reply at all
    /// while connections stay open (a hung router, or a half-open socket). Replies skipped
    /// while silent are never sent.
    pub silent: bool,
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

impl SimState {
    pub(super) fn execute_sim(
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
                    silent: matches!(request.attribute("silent"), Some("yes" | "true")),
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
}
