//! Sessions (seed diagram 4): short-lived access JWTs, single-use rotating refresh tokens with
//! reuse detection, cookie auto-refresh, route guards, CSRF rules and admin password login.
//!
//! Wiring (done by `app`): build [`Sessions`] from [`Deps`], mount [`SessionHoop`] as a
//! service-level hoop after the request context, mount [`router`], and spawn
//! [`crate::jobs`] (which runs [`Sessions::cleanup_expired`] daily).

mod admin_login;
mod cookies;
pub mod csrf;
mod hoop;
pub mod jwt;
pub mod password;
mod routes;
mod service;

#[cfg(test)]
mod tests;

pub use admin_login::ADMIN_LOGIN_WINDOW;
pub use cookies::{ACCESS_COOKIE, REFRESH_COOKIE};
pub use csrf::{CSRF_COOKIE, CSRF_FIELD};
pub(crate) use hoop::encode_component;
pub use hoop::{
    AuthVia, SessionHoop, SessionState, csrf_token, require_admin, require_same_origin,
    require_user, session_state, verify_form_token,
};
pub use routes::router;
pub use service::{Deps, IssuedSession, OriginSettings, REVOKED_RETENTION_DAYS, Sessions, reason};
