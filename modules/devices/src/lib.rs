//! Devices: which MAC belongs to which user.
//!
//! The registry behind device binding at login (limits, stale eviction, confirmed takeovers) and
//! behind the quota sync's MAC → user mapping. Owns the `devices` table.

pub mod api;
mod entity;
mod error;
pub mod import;
mod service;

pub use error::DeviceError;
pub use service::{Deps, Service, Takeover};

#[cfg(test)]
mod tests;
