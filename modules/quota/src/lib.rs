//! Quota: accounts, access status, the exactly-once sync engine, usage history and enforcement
//! on the router. Owns `quota_accounts`, `usage_daily`, `quota_ledger` and `sync_runs`.
//!
//! - [`status`]: the one access-status rule and what it means on the router (pure);
//! - [`core`]: deltas from a hosts snapshot and the minimal router diff (pure, benchmarked);
//! - [`Service`], built from [`Deps`] (`service`: the constructor and the reads), with one room
//!   per kind of work: `sync` (journal in the state store, one SQL transaction, promote),
//!   `enforce` (router diff and writes), `grant` (`grant_in` joins a caller's transaction),
//!   `retention`, and `jobs` ([`jobs()`] for `app` to spawn); [`router`] (`routes`) for HTTP;
//! - the service also implements the kernel's `AccessPolicy`, so auth places a device at login
//!   exactly as the sync would.

mod adjust;
mod admin_form;
pub mod api;
pub mod core;
mod enforce;
mod entity;
mod error;
mod grant;
pub mod import;
mod jobs;
pub mod metrics;
pub mod notify;
pub mod overview;
pub mod period;
mod policy;
pub mod portal;
mod retention;
mod reverse;
mod routes;
mod service;
pub mod settings;
pub mod status;
mod sync;
mod user_record;

pub use adjust::{AdjustIn, Adjusted, Adjustments};
pub use error::{ConfigError, QuotaError};
pub use jobs::jobs;
pub use routes::{admin_router, router};
pub use service::{Deps, Service};
pub use settings::QuotaSettings;
