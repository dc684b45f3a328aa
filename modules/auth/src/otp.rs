//! One-time codes: six CSPRNG digits, stored only as a keyed hash with a TTL, single use, with a
//! per-phone cooldown, per-IP and per-IP+phone rate limits, and at most N wrong attempts.
//!
//! Checking and consuming are separate steps so a login can check the code, do its router work,
//! and only then consume it: a router outage leaves the code usable for a retry, and of two
//! concurrent logins with the same code exactly one wins the consume.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::ports::Messenger;
use lpsaring_kernel::{EphemeralStore, Lang, Phone, Text};
use rand::Rng;

use crate::error::AuthError;
use crate::secrets::{constant_time_eq, keyed_hash};
use crate::settings::AuthSettings;

const CODE_TEXT: Text = Text::new(
    "Kode masuk hotspot Anda: {code}. Berlaku {minutes} menit. Jangan berikan kode ini kepada siapa pun.",
    "Your hotspot login code: {code}. Valid for {minutes} minutes. Do not share this code with anyone.",
);

pub struct Otp {
    store: Arc<dyn EphemeralStore>,
    messenger: Arc<dyn Messenger>,
    key: [u8; 32],
    settings: AuthSettings,
}

/// What the user is told after a code was sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OtpSent {
    pub sent_to: String,
    pub expires_in_secs: u64,
    pub resend_after_secs: u64,
}

/// A code that checked out but is not consumed yet.
#[derive(Debug, Clone)]
pub struct CheckedCode {
    key: String,
    stored: Vec<u8>,
}

fn code_key(phone: &Phone) -> String {
    format!("otp:code:{phone}")
}
fn tries_key(phone: &Phone) -> String {
    format!("otp:tries:{phone}")
}
fn cooldown_key(phone: &Phone) -> String {
    format!("otp:cooldown:{phone}")
}

/// Counters in the store are ASCII decimal (see `EphemeralStore::incr`).
fn parse_counter(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

fn secs(d: Option<Duration>) -> u64 {
    d.map(|d| d.as_secs().max(1)).unwrap_or(1)
}

impl Otp {
    pub fn new(
        store: Arc<dyn EphemeralStore>,
        messenger: Arc<dyn Messenger>,
        key: [u8; 32],
        settings: AuthSettings,
    ) -> Self {
        Self {
            store,
            messenger,
            key,
            settings,
        }
    }

    fn hash(&self, phone: &Phone, code: &str) -> String {
        keyed_hash(&self.key, format!("{phone}|{code}").as_bytes())
    }

    /// Counts one request against a fixed-window limit; errors with the seconds left when over.
    async fn limit(&self, key: &str, max: i64, window: Duration) -> Result<(), AuthError> {
        let n = self.store.incr(key, 1, Some(window)).await?;
        if n > max {
            let left = self.store.ttl(key).await?;
            return Err(AuthError::RateLimited {
                retry_after_secs: secs(left),
            });
        }
        Ok(())
    }

    /// Generates a code, stores its hash and sends it. A send failure removes the code and the
    /// cooldown again and is reported, never hidden.
    pub async fn request(
        &self,
        phone: &Phone,
        client_ip: Option<IpAddr>,
        lang: Lang,
    ) -> Result<OtpSent, AuthError> {
        if let Some(ip) = client_ip {
            self.limit(
                &format!("rl:otp:ip:{ip}"),
                self.settings.otp_requests_per_ip_per_minute,
                Duration::from_secs(60),
            )
            .await?;
            self.limit(
                &format!("rl:otp:ipphone:{ip}:{phone}"),
                self.settings.otp_requests_per_ip_phone_per_hour,
                Duration::from_secs(3600),
            )
            .await?;
        }
        let cooldown = Duration::from_secs(self.settings.otp_cooldown_secs);
        let cooldown_key = cooldown_key(phone);
        if !self
            .store
            .set_if_absent(&cooldown_key, vec![1], Some(cooldown))
            .await?
        {
            let left = self.store.ttl(&cooldown_key).await?;
            return Err(AuthError::OtpCooldown {
                retry_after_secs: secs(left),
            });
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let ttl = Duration::from_secs(self.settings.otp_ttl_secs);
        self.store
            .set(
                &code_key(phone),
                self.hash(phone, &code).into_bytes(),
                Some(ttl),
            )
            .await?;
        self.store.delete(&tries_key(phone)).await?;
        let minutes = (self.settings.otp_ttl_secs / 60).max(1).to_string();
        let text = CODE_TEXT
            .get(lang)
            .replace("{code}", &code)
            .replace("{minutes}", &minutes);
        if let Err(e) = self.messenger.send_text(phone, &text).await {
            tracing::warn!(phone = %phone.masked(), error = %e, "one-time code could not be sent");
            self.store.delete(&code_key(phone)).await?;
            self.store.delete(&cooldown_key).await?;
            return Err(AuthError::MessengerFailed(e.to_string()));
        }
        tracing::info!(phone = %phone.masked(), "one-time code sent");
        Ok(OtpSent {
            sent_to: phone.masked(),
            expires_in_secs: self.settings.otp_ttl_secs,
            resend_after_secs: self.settings.otp_cooldown_secs,
        })
    }

    /// Checks `code` without consuming it. A wrong code costs an attempt; the last allowed wrong
    /// attempt voids the code.
    pub async fn check(&self, phone: &Phone, code: &str) -> Result<CheckedCode, AuthError> {
        let code = code.trim();
        let key = code_key(phone);
        let Some(stored) = self.store.get(&key).await? else {
            return Err(AuthError::OtpExpired);
        };
        let tries_key = tries_key(phone);
        let max = i64::from(self.settings.otp_max_attempts);
        let used = match self.store.get(&tries_key).await? {
            Some(bytes) => parse_counter(&bytes).unwrap_or(max),
            None => 0,
        };
        if used >= max {
            self.store.delete(&key).await?;
            return Err(AuthError::OtpTooManyAttempts);
        }
        let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        let expected = String::from_utf8_lossy(&stored).into_owned();
        if well_formed && constant_time_eq(&self.hash(phone, code), &expected) {
            return Ok(CheckedCode { key, stored });
        }
        let ttl = self.store.ttl(&key).await?;
        let used = self.store.incr(&tries_key, 1, ttl).await?;
        let remaining = (max - used).max(0);
        if remaining == 0 {
            self.store.delete(&key).await?;
            return Err(AuthError::OtpTooManyAttempts);
        }
        Err(AuthError::OtpInvalid {
            remaining: u32::try_from(remaining).unwrap_or(0),
        })
    }

    /// Consumes a checked code. Exactly one of several concurrent consumers succeeds.
    pub async fn consume(&self, checked: &CheckedCode) -> Result<(), AuthError> {
        if self
            .store
            .compare_and_swap(&checked.key, Some(&checked.stored), None, None)
            .await?
        {
            Ok(())
        } else {
            Err(AuthError::OtpExpired)
        }
    }

    /// Puts a consumed code back (the router failed after consuming), for the rest of its life.
    pub async fn restore(&self, checked: &CheckedCode) -> Result<(), AuthError> {
        let ttl = Duration::from_secs(self.settings.otp_ttl_secs);
        self.store
            .set_if_absent(&checked.key, checked.stored.clone(), Some(ttl))
            .await?;
        Ok(())
    }

    /// Seconds until another code may be requested for `phone` (0 = now).
    pub async fn cooldown_left(&self, phone: &Phone) -> Result<u64, AuthError> {
        Ok(self
            .store
            .ttl(&cooldown_key(phone))
            .await?
            .map(|d| d.as_secs().max(1))
            .unwrap_or(0))
    }

    /// Wrong attempts left for the current code.
    pub async fn attempts_left(&self, phone: &Phone) -> Result<u32, AuthError> {
        let max = i64::from(self.settings.otp_max_attempts);
        let used = match self.store.get(&tries_key(phone)).await? {
            Some(bytes) => parse_counter(&bytes).unwrap_or(max),
            None => 0,
        };
        Ok(u32::try_from((max - used).max(0)).unwrap_or(0))
    }
}
