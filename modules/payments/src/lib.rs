//! Payments: packages, orders from a gateway (and later vouchers and cash), verified webhooks,
//! the exactly-once apply of a paid order, and reconciliation. Owns `packages`,
//! `transactions`, `transaction_events` and `vouchers`; uses quota only through its public
//! service (a paid order's grant is written in the same SQL transaction that marks it paid).
//!
//! - [`state`]: the forward-only order state machine (pure);
//! - [`Service`] (from [`Deps`]): packages, initiate/cancel/views, webhooks and status checks;
//! - [`router`] for HTTP, [`jobs`] for the app to spawn.

pub mod api;
mod entity;
mod error;
mod link;
mod orders;
mod packages;
mod routes;
mod service;
pub mod settings;
pub mod state;

pub use error::PaymentsError;
pub use routes::router;
pub use service::{Deps, Gateway, Service};
pub use settings::PaymentsSettings;
