//! The shared vocabulary of lpsaring.
//!
//! Every module depends on this crate and on nothing else of ours except other modules' `api`.
//! It holds the small types everyone agrees on (ids, time, errors), the ports that `app` wires to
//! concrete adapters (router, messenger, payment gateway, ephemeral store), the shapes every
//! module presents its background work and its health in ([`jobs`], [`health`]), and the page
//! layout.

pub mod admin_shell;
pub mod client;
pub mod clock;
pub mod csv;
pub mod ephemeral;
pub mod error;
pub mod health;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod locks;
pub mod metrics;
pub mod outbox;
pub mod ports;
pub mod qr;
pub mod secret;
pub mod sql;
#[cfg(feature = "testing")]
pub mod testing;
pub mod ui;
pub mod web;

pub use client::ClientHints;
pub use clock::{Clock, FakeClock, SystemClock};
pub use ephemeral::{BatchOp, EphemeralStore, StoreError};
pub use error::{ApiError, ErrorCode};
pub use i18n::{Lang, Text};
pub use ids::{Mac, Phone, PhoneError, UserId};
pub use secret::Secret;
