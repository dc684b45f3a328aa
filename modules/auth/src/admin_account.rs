//! The operator's help with one account's login: reset it (every session revoked, the
//! devices' router rows removed) or hand over a one-time login code when WhatsApp is down. The
//! code lives in auth's one-time code store, so the captive page takes it like a sent one.
//! Each is written to the audit log (never the code itself).

use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Phone, UserId};
use serde::Serialize;
use serde_json::json;

use crate::admin_users::UserAdmin;
use crate::captive;
use crate::error::AuthError;
use crate::users::facts;

/// What a login reset did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct LoginReset {
    /// Refresh tokens revoked (each signed-in browser or app).
    pub sessions_revoked: u64,
    /// Router steps that failed (the next sync removes what is left).
    pub router_failures: usize,
}

/// A one-time login code for the admin to pass on; shown once, never stored in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct LoginCode {
    pub phone_number: String,
    pub code: String,
    pub expires_in_secs: u64,
}

impl UserAdmin {
    /// Signs `target` out everywhere and removes their devices from the router (bindings,
    /// hosts, active sessions, status lists); they log in again on the captive page.
    pub async fn reset_login(
        &self,
        actor: (UserId, Role),
        target: UserId,
        ip: Option<String>,
    ) -> Result<LoginReset, AuthError> {
        self.target(actor, target).await?;
        let sessions_revoked = self.auth.sessions.end_all(target).await?;
        let router_failures = self.auth.captive.release_router_state(target).await?;
        let done = LoginReset {
            sessions_revoked,
            router_failures,
        };
        self.audit(actor.0, "user.reset_login", target, json!(done), ip)
            .await;
        Ok(done)
    }

    /// A one-time login code for `target`'s phone, valid as long as a sent code. Refused for a
    /// user who may not log in (pending, blocked, inactive) or has no phone.
    pub async fn login_code(
        &self,
        actor: (UserId, Role),
        target: UserId,
        ip: Option<String>,
    ) -> Result<LoginCode, AuthError> {
        let model = self.target(actor, target).await?;
        let user = facts(&model)
            .ok_or_else(|| AuthError::Validation("this user has no phone number".to_owned()))?;
        captive::ensure_may_log_in(&user)
            .map_err(|e| AuthError::Validation(format!("this user cannot log in: {e}")))?;
        let phone: &Phone = &user.phone;
        let (code, expires_in_secs) = self.auth.otp.issue_by_operator(phone).await?;
        self.audit(
            actor.0,
            "user.login_code",
            target,
            json!({ "expires_in_secs": expires_in_secs }),
            ip,
        )
        .await;
        Ok(LoginCode {
            phone_number: phone.to_string(),
            code,
            expires_in_secs,
        })
    }
}
