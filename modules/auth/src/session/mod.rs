//! Sessions (seed diagram 4): short-lived access JWTs, single-use rotating refresh tokens with
//! reuse detection, cookie auto-refresh and admin password login. The route guards and the CSRF
//! rules are `kernel::web`'s; [`Sessions::csrf`] configures the latter with our cookies.
//!
//! Wiring (done by `app`): build [`Sessions`] from [`Deps`], mount [`Sessions::csrf`] and then
//! [`SessionHoop`] as service-level hoops after the request context, mount [`router`], and spawn
//! [`crate::jobs`] (which runs [`Sessions::cleanup_expired`] daily).

mod admin_login;
mod cookies;
mod handoff;
mod hoop;
mod idle;
pub mod jwt;
mod login_code;
pub mod password;
mod routes;
mod second_factor;
mod security_routes;
mod service;
pub mod totp;

#[cfg(test)]
mod admin_tests;
#[cfg(test)]
mod jwt_tests;
#[cfg(test)]
mod tests;

pub use admin_login::ADMIN_LOGIN_WINDOW;
pub use cookies::{ACCESS_COOKIE, REFRESH_COOKIE};
pub use handoff::{HANDOFF_TTL_SECS, session_url};
pub use hoop::{SessionHoop, SessionState, session_state};
pub use idle::ADMIN_IDLE;
pub use routes::router;
pub use second_factor::{Enrolment, RECOVERY_CODES, TotpStatus, reset_totp};
pub use service::{Deps, IssuedSession, OriginSettings, REVOKED_RETENTION_DAYS, Sessions, reason};
