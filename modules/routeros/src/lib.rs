//! The kernel's Router port over the RouterOS API, built on mikrotik-rs 0.10.
//!
//! mikrotik-rs gives us the protocol and tag multiplexing on one connection; this crate adds
//! what a portal needs around it (see `../shared/reference/tech-notes.md` §2): timeouts,
//! a supervisor that re-dials with backoff and probes idle connections, a circuit breaker whose
//! state is [`Router::health`](lpsaring_kernel::ports::Router::health), error classification,
//! `.id` re-queries after `add` (mikrotik-rs drops `=ret=`), and typed operations that touch
//! only rows carrying our `lpsaring|` comment.
//!
//! ```ignore
//! let router: Arc<dyn Router> = Arc::new(RouterOsClient::start(settings.router.clone()));
//! ```

mod apply;
mod client;
mod config;
mod health;
pub mod metrics;
mod ops;
pub mod parse;
mod profiles;
mod settings;
pub mod setup;

pub use health::SetupHealth;
pub use ops::{RouterOsClient, print};
pub use parse::{HOST_PROPLIST, parse_host};
pub use settings::{RouterSettings, Secret};
