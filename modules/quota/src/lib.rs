//! Quota: accounts, access status, the exactly-once sync engine, usage history and enforcement
//! on the router. Owns `quota_accounts`, `usage_daily`, `quota_ledger` and `sync_runs`.
//!
//! - [`status`]: the one access-status rule and what it means on the router (pure);
//! - [`core`]: deltas from a hosts snapshot and the minimal router diff (pure, benchmarked);
//! - [`Service`]: sync runs (journal in the state store, one SQL transaction, promote), grants,
//!   summaries; [`router`] for HTTP and [`run_sync_loop`] for `app` to spawn;
//! - the service also implements the kernel's `AccessPolicy`, so auth places a device at login
//!   exactly as the sync would.

pub mod api;
pub mod core;
mod entity;
mod error;
pub mod notify;
mod policy;
mod routes;
mod service;
pub mod settings;
pub mod status;

pub use error::{ConfigError, QuotaError};
pub use routes::router;
pub use service::{Deps, Service, run_sync_loop};
pub use settings::QuotaSettings;
