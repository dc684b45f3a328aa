//! A RouterOS API simulator: the real wire protocol over TCP with an in-memory hotspot, so every
//! test, benchmark and the demo can run without a MikroTik.
//!
//! - [`codec`]: length prefixes, sentences, request and reply parsing (shared with tests and
//!   the fuzz target);
//! - [`state`]: the menus (`/ip/hotspot/host`, `active`, `ip-binding`, `user`, `user/profile`,
//!   `/ip/firewall/address-list`, `/ip/arp`, `/ip/dhcp-server/lease`) and the `/sim/…` control
//!   commands (host add/traffic/recreate, reboot, fault, stats);
//! - [`Simulator::start`] for tests (port 0, in-process access to the state) and
//!   [`run_standalone`] for `lpsaring sim`.
//!
//! Protocol behaviour follows RouterOS 7.18+: post-6.43 `/login`, `!fatal not logged in` before
//! login, `.tag` echoed right after the reply word, `!done =ret=` after `add`, `!trap` followed
//! by `!done`, `!empty` for a print without rows, `/cancel`, `/quit`. TLS (api-ssl) is not
//! simulated.

pub mod codec;
pub mod query;
mod server;
pub mod state;

pub use server::{SimConfig, SimError, SimHandle, Simulator, request, run_standalone};
pub use state::{Faults, Menu, NewHost, Row, SimState, SimStats};
