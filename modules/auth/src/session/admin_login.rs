//! Admin password login: argon2id, one uniform failure for every reason (unknown phone, wrong
//! password, not an admin, blocked…) with the same cost, and fixed-window rate limits per client
//! IP and per phone from that IP in the ephemeral store: wrong passwords sent from many IPs
//! cannot lock the operator out of their own portal.

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

    /// Checks an admin's phone and password and starts a session. Every failure is
    /// `InvalidCredentials` (429 only when rate limited).
    pub async fn admin_login(
        &self,
        phone: &str,
        password: &str,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<(UserFacts, IssuedSession), AuthError> {
        let from = ip.map(|i| i.to_string()).unwrap_or_else(|| "-".to_owned());
        self.spend_attempt(&format!("auth:admin_login:ip:{from}"))
            .await?;
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
        if let Some(key) = &phone_key {
            // A successful login clears the phone's budget; the IP's stays spent.
            self.store.delete(key).await?;
        }
        Ok((user, session))
    }
}
