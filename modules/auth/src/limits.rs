//! Fixed-window rate limits per client IP, counted in the ephemeral store before anything is
//! looked up: an unknown phone costs a caller exactly what a known one does, so the distinct
//! answers (unknown, pending, blocked) can only be asked for a few times a minute.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::EphemeralStore;

use crate::error::AuthError;
use crate::settings::AuthSettings;

/// What a caller spends a budget on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `request-otp` (API and forms).
    RequestCode,
    /// `verify-otp` (API and forms).
    VerifyCode,
    /// Self-registration (API and form).
    Register,
}

pub struct RateLimits {
    store: Arc<dyn EphemeralStore>,
    settings: AuthSettings,
}

impl RateLimits {
    pub fn new(store: Arc<dyn EphemeralStore>, settings: AuthSettings) -> Self {
        Self { store, settings }
    }

    /// Counts one `action` of `ip`; `RateLimited` with the seconds left once the window's budget
    /// is spent. Requests without a known client IP are not limited here.
    pub async fn spend(&self, action: Action, ip: Option<IpAddr>) -> Result<(), AuthError> {
        let Some(ip) = ip else {
            return Ok(());
        };
        let s = &self.settings;
        let (name, max, window) = match action {
            Action::RequestCode => ("otp", s.otp_requests_per_ip_per_minute, 60),
            Action::VerifyCode => ("verify", s.otp_verifications_per_ip_per_minute, 60),
            Action::Register => ("register", s.registrations_per_ip_per_hour, 3600),
        };
        self.hit(
            &format!("rl:{name}:ip:{ip}"),
            max,
            Duration::from_secs(window),
        )
        .await
    }

    /// Counts one request under `key` against a fixed window of `max` requests.
    pub async fn hit(&self, key: &str, max: i64, window: Duration) -> Result<(), AuthError> {
        let n = self.store.incr(key, 1, Some(window)).await?;
        if n > max {
            let left = self.store.ttl(key).await?;
            return Err(AuthError::RateLimited {
                retry_after_secs: left.map(|d| d.as_secs().max(1)).unwrap_or(1),
            });
        }
        Ok(())
    }
}
