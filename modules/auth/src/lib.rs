//! Auth: who the user is and how they prove it.
//!
//! Users (operator-created or self-registered, approved, blocked), one-time codes over the
//! messenger, the captive login that binds a device on the router (seed diagram 3), sessions with
//! short access tokens and rotating refresh tokens (seed diagram 4), admin password login and
//! CSRF rules. Owns the `users`, `refresh_tokens` and `login_history` tables.

pub mod captive;
pub mod context;
mod entity;
mod error;
pub mod otp;
mod pages;
mod routes;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod users;

use std::sync::Arc;

use lpsaring_kernel::ports::access::AccessPolicy;
use lpsaring_kernel::ports::{Messenger, Router as RouterPort};
use lpsaring_kernel::{Clock, EphemeralStore};

pub use error::AuthError;
pub use session::{SessionHoop, Sessions};
pub use settings::AuthSettings;
pub use users::{Directory, LoginMethod, Users};

/// What auth needs from the rest of the process.
pub struct Deps {
    pub users: Arc<Users>,
    pub clock: Arc<dyn Clock>,
    pub store: Arc<dyn EphemeralStore>,
    pub messenger: Arc<dyn Messenger>,
    pub router: Arc<dyn RouterPort>,
    pub devices: Arc<lpsaring_devices::Service>,
    pub access: Arc<dyn AccessPolicy>,
    pub keys: secrets::Keys,
    pub settings: AuthSettings,
    pub sessions: Arc<Sessions>,
}

/// The login half of auth, composed from its parts.
pub struct Service {
    pub users: Arc<Users>,
    pub otp: Arc<otp::Otp>,
    pub captive: Arc<captive::Captive>,
    pub sessions: Arc<Sessions>,
    pub settings: AuthSettings,
}

impl Service {
    pub fn new(deps: Deps) -> Self {
        let users = deps.users;
        let otp = Arc::new(otp::Otp::new(
            deps.store,
            deps.messenger,
            deps.keys.derive("otp"),
            deps.settings.clone(),
        ));
        let captive = Arc::new(captive::Captive::new(captive::CaptiveDeps {
            users: users.clone(),
            otp: otp.clone(),
            devices: deps.devices,
            router: deps.router,
            access: deps.access,
            clock: deps.clock,
            hotspot_key: deps.keys.derive("hotspot"),
        }));
        Self {
            users,
            otp,
            captive,
            sessions: deps.sessions,
            settings: deps.settings,
        }
    }
}

/// Pages and JSON endpoints of the login flows, with the service in the depot.
pub fn router(svc: Arc<Service>) -> salvo::Router {
    routes::router().hoop(salvo::affix_state::inject(svc))
}
