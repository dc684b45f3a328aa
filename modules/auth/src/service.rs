//! The login half of auth as one service: what the pages and the JSON API both call. Built once
//! from [`Deps`] by the app, the CLI and the tests alike.

use std::sync::Arc;

use lpsaring_kernel::ports::access::{AccessPolicy, AccessStatus};
use lpsaring_kernel::ports::users::{Role, UserFacts};
use lpsaring_kernel::ports::{Messenger, Router as RouterPort, VoucherLogin};
use lpsaring_kernel::{ClientHints, Clock, EphemeralStore, Lang, Phone, UserId};

use crate::captive::{ClientDevice, LoginOutcome, LoginRequest};
use crate::context::CaptiveContext;
use crate::error::AuthError;
use crate::hotspot_hosts::HotspotHosts;
use crate::limits::{Action, RateLimits};
use crate::session::IssuedSession;
use crate::settings::AuthSettings;
use crate::users::Users;
use crate::{Sessions, captive, otp, secrets};

/// The device side of a login request.
fn client_device(
    ctx: &CaptiveContext,
    confirm_takeover: bool,
    client: &ClientHints,
) -> ClientDevice {
    ClientDevice {
        client_ip: ctx.ip,
        client_mac: ctx.mac,
        confirm_takeover,
        request_ip: client.ip,
        user_agent: client.user_agent.clone(),
    }
}

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
    /// `router.hotspot_hosts`: hosts trusted with the hotspot credentials besides the ones the
    /// router's hotspot profiles name.
    pub hotspot_hosts: Vec<String>,
    /// Which account a voucher code logs in to (payments implements it; `app` injects it).
    pub vouchers: Arc<dyn VoucherLogin>,
}

/// The login half of auth, composed from its parts.
pub struct Service {
    pub users: Arc<Users>,
    /// Per-IP budgets, spent before any lookup.
    pub limits: Arc<RateLimits>,
    pub otp: Arc<otp::Otp>,
    pub captive: Arc<captive::Captive>,
    pub sessions: Arc<Sessions>,
    pub settings: AuthSettings,
    /// Where `link-login-only` may point.
    pub hotspot_hosts: HotspotHosts,
    vouchers: Arc<dyn VoucherLogin>,
}

impl Service {
    pub fn new(deps: Deps) -> Self {
        let users = deps.users;
        let limits = Arc::new(RateLimits::new(deps.clock.clone(), deps.settings.clone()));
        let otp = Arc::new(otp::Otp::new(
            deps.store,
            limits.clone(),
            deps.messenger,
            deps.keys.derive("otp"),
            deps.settings.clone(),
        ));
        let hotspot_hosts = HotspotHosts::new(deps.router.clone(), &deps.hotspot_hosts);
        let captive = Arc::new(captive::Captive::new(captive::CaptiveDeps {
            users: users.clone(),
            otp: otp.clone(),
            devices: deps.devices,
            router: deps.router,
            access: deps.access,
            clock: deps.clock,
        }));
        Self {
            users,
            limits,
            otp,
            captive,
            sessions: deps.sessions,
            settings: deps.settings,
            hotspot_hosts,
            vouchers: deps.vouchers,
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

/// A voucher login from a form or JSON: the code alone, behind the hotspot or not.
#[derive(Debug, Clone)]
pub struct VoucherInput {
    pub code: String,
    pub confirm_device_takeover: bool,
    pub ctx: CaptiveContext,
}

/// A login that went through: what it did on the router and the session it started.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub outcome: LoginOutcome,
    pub session: IssuedSession,
    /// The request's `link-login-only` when the hotspot credentials go out and it points at the
    /// router's hotspot; `None` otherwise, so no page posts the credentials to a foreign host.
    pub link_login_only: Option<String>,
    /// The hand-off token to open the account in another browser (`None` when the state store
    /// failed: the login itself stands).
    pub handoff: Option<lpsaring_kernel::Secret<String>>,
}

impl LoggedIn {
    /// `/session/consume?token=…&next=/akun`, when there is a hand-off token.
    pub fn session_url(&self) -> Option<String> {
        self.handoff
            .as_ref()
            .map(|t| crate::session::session_url(t.expose(), "/akun"))
    }
}

/// A refused login and how long the code form should still count down before another code may
/// be asked for (0 when the code is spent and the user must start over).
#[derive(Debug)]
pub struct LoginRefused {
    pub error: AuthError,
    pub resend_after_secs: u64,
}

impl LoginRefused {
    /// Whether the code of this attempt is gone (expired, used, voided) or never applied: the
    /// user goes back to the phone step.
    pub fn code_is_spent(&self) -> bool {
        matches!(
            self.error,
            AuthError::OtpExpired | AuthError::OtpTooManyAttempts | AuthError::InvalidPhone(_)
        )
    }
}

impl Service {
    /// Sends a code to a user who may log in. The caller's IP budget is spent first, so the
    /// distinct answers for unknown, pending and blocked phones cannot be harvested.
    pub async fn request_code(
        &self,
        raw_phone: &str,
        client: &ClientHints,
        lang: Lang,
    ) -> Result<(Phone, otp::OtpSent), AuthError> {
        let result = self.try_request_code(raw_phone, client, lang).await;
        crate::metrics::count(crate::metrics::CODE_REQUESTS, "sent", &result);
        result
    }

    async fn try_request_code(
        &self,
        raw_phone: &str,
        client: &ClientHints,
        lang: Lang,
    ) -> Result<(Phone, otp::OtpSent), AuthError> {
        self.limits.spend(Action::RequestCode, client.ip).await?;
        let phone = Phone::parse(raw_phone)?;
        let user = self
            .users
            .find(&phone)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        captive::ensure_may_log_in(&user)?;
        // The language the user chose on their profile wins over the page's.
        let lang = user.language.unwrap_or(lang);
        let sent = self.otp.request(&phone, client.ip, lang).await?;
        Ok((phone, sent))
    }

    /// Checks the code, binds the device behind the hotspot (when the input carries a hotspot
    /// context) and starts a session. A refusal says how long the resend button still waits.
    pub async fn login(
        &self,
        input: VerifyInput,
        client: &ClientHints,
    ) -> Result<LoggedIn, LoginRefused> {
        let raw_phone = input.phone_number.clone();
        let result = self.try_login(input, client).await;
        crate::metrics::count(crate::metrics::LOGINS, "ok", &result);
        match result {
            Ok(done) => Ok(done),
            Err(error) => {
                let mut refused = LoginRefused {
                    error,
                    resend_after_secs: 0,
                };
                if !refused.code_is_spent()
                    && let Ok(phone) = Phone::parse(&raw_phone)
                {
                    refused.resend_after_secs = self.otp.cooldown_left(&phone).await.unwrap_or(0);
                }
                Err(refused)
            }
        }
    }

    async fn try_login(
        &self,
        input: VerifyInput,
        client: &ClientHints,
    ) -> Result<LoggedIn, AuthError> {
        self.limits.spend(Action::VerifyCode, client.ip).await?;
        let phone = Phone::parse(&input.phone_number)?;
        let outcome = self
            .captive
            .login(LoginRequest {
                phone,
                code: input.otp,
                device: client_device(&input.ctx, input.confirm_device_takeover, client),
            })
            .await?;
        self.start_session(outcome, input.ctx, client).await
    }

    /// Logs in with a printed voucher's code alone: its first use makes the voucher's account
    /// (holding the package), later uses log in to that account. Device binding, device limit
    /// and the per-IP budget are a code login's; wrong codes also spend the voucher budget.
    pub async fn voucher_login(
        &self,
        input: VoucherInput,
        client: &ClientHints,
    ) -> Result<LoggedIn, AuthError> {
        let result = self.try_voucher_login(input, client).await;
        crate::metrics::count(crate::metrics::LOGINS, "ok", &result);
        if let Err(AuthError::VoucherUnavailable(why)) = &result {
            tracing::warn!(error = %why, "voucher login failed");
        }
        result
    }

    async fn try_voucher_login(
        &self,
        input: VoucherInput,
        client: &ClientHints,
    ) -> Result<LoggedIn, AuthError> {
        self.limits.spend(Action::VerifyCode, client.ip).await?;
        let account = self.vouchers.account_for(&input.code, client.ip).await?;
        let user = self
            .users
            .get(account.user)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let outcome = self
            .captive
            .voucher_login(
                user,
                client_device(&input.ctx, input.confirm_device_takeover, client),
            )
            .await?;
        self.start_session(outcome, input.ctx, client).await
    }

    /// The session of a login that went through, and where the hotspot credentials may go.
    async fn start_session(
        &self,
        outcome: LoginOutcome,
        ctx: CaptiveContext,
        client: &ClientHints,
    ) -> Result<LoggedIn, AuthError> {
        let session = self
            .sessions
            .issue(&outcome.user, client.ip, client.user_agent())
            .await?;
        let link_login_only = match outcome.hotspot_login {
            Some(_) => self.hotspot_hosts.accept(ctx.link_login_only).await,
            None => None,
        };
        let handoff = match self.sessions.handoff_token(outcome.user.id).await {
            Ok(token) => Some(token),
            Err(e) => {
                tracing::warn!(error = %e, "no hand-off token for this login");
                None
            }
        };
        Ok(LoggedIn {
            outcome,
            session,
            link_login_only,
            handoff,
        })
    }

    /// Sends a code to `raw_phone` so the logged-in `user`, whose account has no phone (a
    /// voucher account), can attach it. Limited like any code request.
    pub async fn request_phone_code(
        &self,
        user: UserId,
        raw_phone: &str,
        client: &ClientHints,
        lang: Lang,
    ) -> Result<(Phone, otp::OtpSent), AuthError> {
        self.limits.spend(Action::RequestCode, client.ip).await?;
        let phone = Phone::parse(raw_phone)?;
        let me = self.users.get(user).await?.ok_or(AuthError::UserNotFound)?;
        if me.phone.is_some() {
            return Err(AuthError::Validation(
                "this account has a phone number already".to_owned(),
            ));
        }
        if self.users.find(&phone).await?.is_some() {
            return Err(AuthError::UserExists);
        }
        let sent = self.otp.request(&phone, client.ip, lang).await?;
        Ok((phone, sent))
    }

    /// Attaches the phone a code was sent to: from now on the account gets WhatsApp notices
    /// and may log in with codes too.
    pub async fn attach_phone(
        &self,
        user: UserId,
        raw_phone: &str,
        code: &str,
        client: &ClientHints,
    ) -> Result<UserFacts, AuthError> {
        self.limits.spend(Action::VerifyCode, client.ip).await?;
        let phone = Phone::parse(raw_phone)?;
        let checked = self.otp.check(&phone, code).await?;
        let facts = self.users.attach_phone(user, &phone).await?;
        self.otp.consume(&checked).await?;
        Ok(facts)
    }

    /// The network access status of a logged-in user (`None` for an unknown id): the access
    /// policy's answer, as `/api/auth/me` gives it.
    pub async fn status_of(&self, user: UserId) -> Result<Option<AccessStatus>, AuthError> {
        match self.users.get(user).await? {
            Some(facts) => Ok(Some(self.sessions.status_of(&facts).await?)),
            None => Ok(None),
        }
    }

    /// Self-registration: the account waits for the operator's approval. Limited per client IP.
    pub async fn register(
        &self,
        raw_phone: &str,
        name: &str,
        client: &ClientHints,
    ) -> Result<UserFacts, AuthError> {
        self.limits.spend(Action::Register, client.ip).await?;
        let phone = Phone::parse(raw_phone)?;
        self.users.create(&phone, name, false, Role::User).await
    }

    /// Ends the session family of `refresh_token` and releases `user`'s devices on the router.
    /// Best effort: logging out always succeeds for the caller; failures are logged.
    pub async fn logout(&self, refresh_token: Option<&str>, user: Option<UserId>) {
        if let Some(token) = refresh_token
            && let Err(e) = self.sessions.end(token).await
        {
            tracing::warn!(error = %e, "logout: could not revoke the session");
        }
        if let Some(user) = user
            && let Err(e) = self.captive.release_router_state(user).await
        {
            tracing::warn!(error = %e, "logout: router clean-up failed");
        }
    }
}
