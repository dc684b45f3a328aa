//! Auth: who the user is and how they prove it.
//!
//! Users (operator-created or self-registered, approved, blocked), one-time codes over the
//! messenger, the captive login that binds a device on the router (seed diagram 3), sessions with
//! short access tokens and rotating refresh tokens (seed diagram 4), admin password login and
//! CSRF rules. Owns the `users`, `refresh_tokens` and `login_history` tables.

pub mod admin_account;
pub mod admin_create;
pub mod admin_users;
pub mod captive;
pub mod context;
mod entity;
mod error;
pub mod hotspot_hosts;
pub mod import;
pub mod limits;
mod messages;
pub mod metrics;
pub mod otp;
pub mod overview;
mod pages;
mod profile;
mod routes;
pub mod secrets;
mod service;
pub mod session;
pub mod settings;
pub mod user_record;
pub mod users;

use std::sync::Arc;

use lpsaring_kernel::jobs::{DAY, Job};

pub use admin_users::{UserAdmin, UserAdminDeps};
pub use error::AuthError;
pub use service::{Deps, LoggedIn, LoginRefused, Service, VerifyInput, VoucherInput};
pub use session::{SessionHoop, Sessions};
pub use settings::AuthSettings;
pub use users::{Directory, LoginMethod, Users};

/// The operator's user JSON under `/api/admin/users`.
pub fn admin_router(admin: Arc<UserAdmin>) -> salvo::Router {
    routes::admin::router(admin)
}

/// Pages and JSON endpoints of the login flows, with the service in the depot.
pub fn router(svc: Arc<Service>) -> salvo::Router {
    routes::router().hoop(salvo::affix_state::inject(svc))
}

/// Auth's background work, for `app` to spawn: the daily deletion of expired refresh tokens and
/// of revoked ones past [`session::REVOKED_RETENTION_DAYS`].
pub fn jobs(sessions: &Arc<Sessions>) -> Vec<Job> {
    vec![Job::new(
        "auth.session_cleanup",
        DAY,
        sessions.clone(),
        |sessions| async move {
            match sessions.cleanup_expired(sessions.clock.now()).await {
                Ok(n) => tracing::info!(
                    deleted = n,
                    "expired and old revoked refresh tokens deleted"
                ),
                Err(e) => tracing::warn!(error = %e, "refresh token clean-up failed"),
            }
        },
    )]
}

/// The admin panel's page of one user, `/admin/users/{id}`, and `GET /api/admin/users/{id}`.
pub fn user_record_router(records: Arc<user_record::UserRecords>) -> salvo::Router {
    routes::admin_user_page::router(records)
}
