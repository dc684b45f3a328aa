//! The plugin host: loads gateway plugins (`*.so` built against `lpsaring-plugin-api`) once at
//! start, and serves the kernel's `Messenger` and `PaymentGateway` ports through them.
//!
//! Plugins are sans-IO: they turn an operation into HTTP requests and responses into results. The
//! host performs the requests and owns every policy about them: only hosts in the plugin's
//! manifest, https except to loopback, no redirects, a per-request timeout, bounded retries with
//! backoff and jitter for retryable failures, a circuit breaker per plugin, a step limit per
//! operation, and secrets (config keys the manifest marks secret) redacted from logs and errors.
//!
//! Loading checks, in order: the file is a regular file, not world-writable, owned by root or the
//! service user; it exports `lpsaring_plugin_v1`; the table's ABI version and size match; the
//! manifest parses and speaks a known protocol version. A refused file is one log line and one
//! [`LoadReport`]; the others load. Libraries are never unloaded.
//!
//! This crate and the export glue in `lpsaring-plugin-api` are the only places with `unsafe`,
//! all of it in the private `library` module.

mod checks;
mod host;
mod library;
pub mod metrics;
mod policy;
mod ports;
mod report;
mod runtime;
mod settings;

pub use host::{HostError, PluginHost, check, list};
pub use lpsaring_plugin_api::{Manifest, PluginKind};
pub use policy::HostPolicy;
pub use report::{LoadReport, RefuseReason};
pub use settings::{HostEnv, PluginsSettings};
