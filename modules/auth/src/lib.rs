//! Auth: who the user is and how they prove it.
//!
//! Users (operator-created or self-registered, approved, blocked), one-time codes over the
//! messenger, the captive login that binds a device on the router (seed diagram 3), sessions with
//! short access tokens and rotating refresh tokens (seed diagram 4), admin password login and
//! CSRF rules. Owns the `users`, `refresh_tokens` and `login_history` tables.

pub mod captive;
mod entity;
mod error;
pub mod otp;
pub mod secrets;
pub mod settings;
pub mod users;

pub use error::AuthError;
pub use settings::AuthSettings;
pub use users::{Directory, LoginMethod, Users};
