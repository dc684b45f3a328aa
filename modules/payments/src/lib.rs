//! Payments: packages, orders from a gateway, vouchers and cash sales, verified webhooks,
//! the exactly-once apply of a paid order, and reconciliation. Owns `packages`,
//! `transactions`, `transaction_events` and `vouchers`; uses quota only through its public
//! service (a paid order's grant is written in the same SQL transaction that marks it paid).
//!
//! - [`state`]: the forward-only order state machine (pure);
//! - [`Service`] (from [`Deps`]): packages, initiate/cancel/views, webhooks and status checks;
//! - [`router`] for HTTP, [`jobs`] for the app to spawn.

mod admin_ui;
pub mod api;
mod catalog;
mod entity;
mod error;
mod events;
pub mod import;
mod link;
pub mod manual;
pub mod metrics;
mod orders;
pub mod overview;
pub mod package_admin;
mod packages;
mod pages;
mod reconcile;
pub mod refund;
mod routes;
pub mod sales;
mod sandbox;
mod service;
pub mod settings;
pub mod state;
mod sweep;
mod user_record;
pub mod vouchers;

use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::jobs::Job;

pub use error::PaymentsError;
pub use reconcile::{Checked, ReconcileOne, ReconcileReport};
pub use routes::router;
pub use service::{Deps, Gateway, Service};
pub use settings::PaymentsSettings;
pub use sweep::SweepReport;

/// The purpose the app derives [`Deps::voucher_key`] for from the server secret (the service and
/// the CLI must agree on it, or neither can read the other's codes).
pub const VOUCHER_KEY_PURPOSE: &str = "payments-voucher";

/// The background work: reconciliation of pending orders, and the sweep that applies any paid
/// order without its quota grant (both run once at start, then every interval).
pub fn jobs(service: &Arc<Service>) -> Vec<Job> {
    let settings = service.settings();
    vec![
        Job::new(
            "payments.reconcile",
            Duration::from_secs(settings.reconcile_interval_secs),
            service.clone(),
            |service| async move {
                match service.reconcile_due().await {
                    Ok(r) if r.checked > 0 => tracing::info!(
                        checked = r.checked,
                        settled = r.settled,
                        expired = r.expired,
                        errors = r.errors,
                        "payments reconciled"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "payments reconciliation failed"),
                }
            },
        ),
        Job::new(
            "payments.sweep",
            Duration::from_secs(settings.sweep_interval_secs),
            service.clone(),
            |service| async move {
                // Each order's failure is logged by the sweep itself; only the listing fails here.
                if let Err(e) = service.sweep_unapplied().await {
                    tracing::warn!(error = %e, "payments sweep failed");
                }
            },
        ),
    ]
}
