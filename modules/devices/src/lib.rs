//! Devices: which MAC belongs to which user.
//!
//! The registry behind device binding at login (limits, stale eviction, confirmed takeovers) and
//! behind the quota sync's MAC → user mapping. Owns the `devices` table, and the user's devices
//! page `/akun/perangkat` with its JSON under `/api/users/me/devices`.

pub mod admin;
pub mod api;
mod entity;
mod error;
pub mod import;
pub mod overview;
mod page;
mod portal;
mod release;
mod routes;
mod service;
mod settings;
mod stale;

pub use admin::AdminDevices;
pub use admin::routes::router as admin_router;
pub use error::DeviceError;
pub use portal::{Listing, Portal, mask_mac};
pub use release::release_from_router;
pub use routes::router;
pub use service::{Deps, LABEL_MAX_CHARS, Service, Takeover, clean_label};
pub use settings::{DeviceSettings, SettingsError};
pub use stale::{StaleSweep, Swept, jobs};

#[cfg(test)]
mod tests;
