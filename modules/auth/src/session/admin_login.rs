//! Admin password login: argon2id, one uniform failure for every reason (unknown phone, wrong
//! password, not an admin, blocked…) with the same cost, and fixed-window rate limits per client
//! IP and per phone from that IP in the ephemeral store: wrong passwords sent from many IPs
//! cannot lock the operator out of their own portal.
//!
//! An admin with a second factor gets, instead of a session, `AUTH_TOTP_REQUIRED` with a
//! one-time challenge (5 minutes, 5 tries, kept hashed in the ephemeral store) that
//! [`Sessions::admin_login_code`] exchanges, with a TOTP or recovery code, for the session.

use std::net::IpAddr;
use std::time::Duration as StdDuration;

use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::UserFacts;

use super::password::{DUMMY_HASH, verify_password};
use super::service::{IssuedSession, Sessions};
use crate::error::AuthError;
use crate::users::{LoginMethod, facts};

/// The rate-limit window (`auth.admin_login_attempts_per_window` attempts per key in it).
pub const ADMIN_LOGIN_WINDOW: StdDuration = StdDuration::from_secs(15 * 60);
/// How long the second step of a login waits for its code.
pub const TOTP_CHALLENGE_TTL: StdDuration = StdDuration::from_secs(5 * 60);
/// Codes tried against one challenge before it is spent.
const TOTP_CHALLENGE_TRIES: i64 = 5;

fn challenge_key(challenge: &str) -> String {
    format!(
        "auth:totp_challenge:{}",
        crate::secrets::sha256_hex(challenge.as_bytes())
    )
}

impl Sessions {
    /// Counts one attempt under `key`; `RateLimited` once the window's budget is spent.
    async fn spend_attempt(&self, key: &str) -> Result<(), AuthError> {
        let count = self.store.incr(key, 1, Some(ADMIN_LOGIN_WINDOW)).await?;
        if count > self.settings.admin_login_attempts_per_window.max(1) {
            let retry = self
                .store
                .ttl(key)
                .await?
                .unwrap_or(ADMIN_LOGIN_WINDOW)
                .as_secs()
                .max(1);
            return Err(AuthError::RateLimited {
                retry_after_secs: retry,
            });
        }
        Ok(())
    }

    /// Spends one of the per-IP admin-login attempts (both login steps draw on the same
    /// budget); answers the IP as it appears in the attempt keys.
    async fn spend_ip_attempt(&self, ip: Option<IpAddr>) -> Result<String, AuthError> {
        let from = ip.map(|i| i.to_string()).unwrap_or_else(|| "-".to_owned());
        self.spend_attempt(&format!("auth:admin_login:ip:{from}"))
            .await?;
        Ok(from)
    }

    /// Checks an admin's phone and password and starts a session. Every failure is
    /// `InvalidCredentials` (429 only when rate limited); `TotpRequired` with a challenge when
    /// the admin has a second factor.
    pub async fn admin_login(
        &self,
        phone: &str,
        password: &str,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<(UserFacts, IssuedSession), AuthError> {
        let from = self.spend_ip_attempt(ip).await?;
        let phone = Phone::parse(phone).ok();
        // Per phone *and* IP: failures from elsewhere never lock the operator out.
        let phone_key = phone
            .as_ref()
            .map(|p| format!("auth:admin_login:phone:{}:ip:{from}", p.as_str()));
        if let Some(key) = &phone_key {
            self.spend_attempt(key).await?;
        }
        let model = match &phone {
            Some(p) => self.users.model_by_phone(p).await?,
            None => None,
        };
        let hash = model
            .as_ref()
            .and_then(|m| m.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_owned());
        let plain = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || verify_password(&plain, &hash))
            .await
            .map_err(|e| AuthError::Internal(format!("password check: {e}")))?;
        let user = model
            .as_ref()
            .and_then(facts)
            .filter(|u| verified && u.role.is_admin() && u.approved && u.active && !u.blocked)
            .ok_or(AuthError::InvalidCredentials)?;
        if let Some(key) = &phone_key {
            // The password was right: the phone's budget is clear; the IP's stays spent.
            self.store.delete(key).await?;
        }
        if self.totp_enabled(user.id).await? {
            let challenge = super::service::new_refresh_token();
            self.store
                .set(
                    &challenge_key(&challenge),
                    user.id.0.to_be_bytes().to_vec(),
                    Some(TOTP_CHALLENGE_TTL),
                )
                .await?;
            return Err(AuthError::TotpRequired { challenge });
        }
        self.start_admin_session(user, ip, user_agent).await
    }

    /// The second step of an admin login: the challenge from `TotpRequired` and a code from the
    /// authenticator app (or a recovery code).
    pub async fn admin_login_code(
        &self,
        challenge: &str,
        code: &str,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<(UserFacts, IssuedSession), AuthError> {
        self.spend_ip_attempt(ip).await?;
        if challenge.is_empty() || challenge.len() > super::service::REFRESH_MAX_LEN {
            return Err(AuthError::TotpChallengeExpired);
        }
        let key = challenge_key(challenge);
        let user_id = self
            .store
            .get(&key)
            .await?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(i64::from_be_bytes)
            .ok_or(AuthError::TotpChallengeExpired)?;
        let tries = self
            .store
            .incr(&format!("{key}:tries"), 1, Some(TOTP_CHALLENGE_TTL))
            .await?;
        if tries > TOTP_CHALLENGE_TRIES {
            self.store.delete(&key).await?;
            return Err(AuthError::TotpChallengeExpired);
        }
        let user = self
            .users
            .get(lpsaring_kernel::UserId(user_id))
            .await?
            .filter(|u| u.role.is_admin() && u.approved && u.active && !u.blocked)
            .ok_or(AuthError::InvalidCredentials)?;
        if !self.check_second_factor(user.id, code).await? {
            return Err(AuthError::TotpInvalid);
        }
        self.store.delete(&key).await?;
        self.start_admin_session(user, ip, user_agent).await
    }

    async fn start_admin_session(
        &self,
        user: UserFacts,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<(UserFacts, IssuedSession), AuthError> {
        let session = self.issue(&user, ip, user_agent).await?;
        self.users
            .record_login(
                user.id,
                LoginMethod::Admin,
                ip.map(|i| i.to_string()),
                None,
                user_agent.map(str::to_owned),
            )
            .await?;
        Ok((user, session))
    }
}
