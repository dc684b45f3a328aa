//! The login half of auth as one service: what the pages and the JSON API both call. Built once
//! from [`Deps`] by the app, the CLI and the tests alike.

use std::net::IpAddr;
use std::sync::Arc;

use lpsaring_kernel::ports::access::AccessPolicy;
use lpsaring_kernel::ports::users::{Role, UserFacts};
use lpsaring_kernel::ports::{Messenger, Router as RouterPort};
use lpsaring_kernel::web::{client_ip, current_user};
use lpsaring_kernel::{Clock, EphemeralStore, Lang, Phone};
use salvo::{Depot, Request};

use crate::captive::{LoginOutcome, LoginRequest};
use crate::context::CaptiveContext;
use crate::error::AuthError;
use crate::routes::user_agent;
use crate::settings::AuthSettings;
use crate::users::Users;
use crate::{Sessions, captive, otp, secrets, session};

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

/// A verify request from a form or JSON.
#[derive(Debug, Clone)]
pub struct VerifyInput {
    pub phone_number: String,
    pub otp: String,
    pub confirm_device_takeover: bool,
    pub ctx: CaptiveContext,
}

impl Service {
    pub(crate) async fn request_code(
        &self,
        raw_phone: &str,
        ip: Option<IpAddr>,
        lang: Lang,
    ) -> Result<(Phone, otp::OtpSent), AuthError> {
        let phone = Phone::parse(raw_phone)?;
        let user = self
            .users
            .find(&phone)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        captive::ensure_may_log_in(&user)?;
        let sent = self.otp.request(&phone, ip, lang).await?;
        Ok((phone, sent))
    }

    pub(crate) async fn verify(
        &self,
        input: VerifyInput,
        req: &Request,
        depot: &Depot,
    ) -> Result<LoginOutcome, AuthError> {
        let phone = Phone::parse(&input.phone_number)?;
        self.captive
            .login(LoginRequest {
                phone,
                code: input.otp,
                client_ip: input.ctx.ip,
                client_mac: input.ctx.mac,
                confirm_takeover: input.confirm_device_takeover,
                request_ip: client_ip(depot),
                user_agent: user_agent(req),
            })
            .await
    }

    pub(crate) async fn register(
        &self,
        raw_phone: &str,
        name: &str,
    ) -> Result<UserFacts, AuthError> {
        let phone = Phone::parse(raw_phone)?;
        self.users.create(&phone, name, false, Role::User).await
    }

    /// Ends the session family of the refresh cookie and releases the router (best effort).
    pub(crate) async fn logout(&self, req: &Request, depot: &Depot) {
        if let Some(token) = req
            .cookie(session::REFRESH_COOKIE)
            .map(|c| c.value().to_owned())
            && let Err(e) = self.sessions.end(&token).await
        {
            tracing::warn!(error = %e, "logout: could not revoke the session");
        }
        if let Some(user) = current_user(depot)
            && let Err(e) = self.captive.release_router_state(user).await
        {
            tracing::warn!(error = %e, "logout: router clean-up failed");
        }
    }
}
