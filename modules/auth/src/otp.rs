//! One-time codes: six CSPRNG digits, stored only as a keyed hash with a TTL, single use, with a
//! per-phone cooldown, a per-IP+phone rate limit (the per-IP one is `crate::limits`), and at most N wrong attempts.
//!
//! Checking and consuming are separate steps so a login can check the code, do its router work,
//! and only then consume it: a router outage leaves the code usable for a retry, and of two
//! concurrent logins with the same code exactly one wins the consume.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lpsaring_kernel::ports::Messenger;
use lpsaring_kernel::{BatchOp, EphemeralStore, Lang, Phone, Text};
use rand::Rng;

use crate::error::AuthError;
use crate::limits::RateLimits;
use crate::secrets::{constant_time_eq, keyed_hash};
use crate::settings::AuthSettings;

const CODE_TEXT: Text = Text::new(
    "{site}: kode masuk hotspot Anda {code}. Berlaku {minutes} menit. Jangan berikan kode ini kepada siapa pun.",
    "{site}: your hotspot login code is {code}. Valid for {minutes} minutes. Do not share this code with anyone.",
);

pub struct Otp {
    store: Arc<dyn EphemeralStore>,
    limits: Arc<RateLimits>,
    messenger: Arc<dyn Messenger>,
    key: [u8; 32],
    settings: AuthSettings,
    /// Phones whose code is being sent right now. In memory on purpose: the durable cooldown is
    /// set only once the messenger took the message, and a process that dies mid-send must not
    /// leave anything behind that makes the user wait.
    sending: Mutex<HashSet<Phone>>,
}

/// Marks a phone as being sent to until dropped (also when the request is cancelled).
struct Sending<'a> {
    set: &'a Mutex<HashSet<Phone>>,
    phone: Phone,
}

impl<'a> Sending<'a> {
    /// `None` when another request is already sending to `phone`.
    fn claim(set: &'a Mutex<HashSet<Phone>>, phone: &Phone) -> Option<Self> {
        let mut held = set.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        held.insert(phone.clone()).then(|| Self {
            set,
            phone: phone.clone(),
        })
    }
}

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        let mut held = self
            .set
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        held.remove(&self.phone);
    }
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

/// Six CSPRNG digits.
fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

fn secs(d: Option<Duration>) -> u64 {
    d.map(|d| d.as_secs().max(1)).unwrap_or(1)
}

impl Otp {
    pub fn new(
        store: Arc<dyn EphemeralStore>,
        limits: Arc<RateLimits>,
        messenger: Arc<dyn Messenger>,
        key: [u8; 32],
        settings: AuthSettings,
    ) -> Self {
        Self {
            store,
            limits,
            messenger,
            key,
            settings,
            sending: Mutex::new(HashSet::new()),
        }
    }

    fn hash(&self, phone: &Phone, code: &str) -> String {
        keyed_hash(&self.key, format!("{phone}|{code}").as_bytes())
    }

    /// Generates a code, sends it, and once the messenger accepted the message stores the
    /// code's hash, the reset wrong-attempt count and the cooldown in ONE durable commit. A
    /// failed send, or a process that dies while sending, stores nothing: no cooldown, so the
    /// user can ask again at once, and any earlier code stays as it was. A failed send is
    /// reported, never hidden. The code is usable once this returns; it reaches the phone no
    /// sooner than the messaging provider delivers it, which is after the provider accepted it.
    pub async fn request(
        &self,
        phone: &Phone,
        client_ip: Option<IpAddr>,
        lang: Lang,
    ) -> Result<OtpSent, AuthError> {
        if let Some(ip) = client_ip {
            self.limits
                .hit(
                    &format!("rl:otp:ipphone:{ip}:{phone}"),
                    self.settings.otp_requests_per_ip_phone_per_hour,
                    Duration::from_secs(3600),
                )
                .await?;
        }
        let cooldown = Duration::from_secs(self.settings.otp_cooldown_secs);
        let cooldown_key = cooldown_key(phone);
        if let Some(left) = self.store.ttl(&cooldown_key).await? {
            return Err(AuthError::OtpCooldown {
                retry_after_secs: secs(Some(left)),
            });
        }
        // A concurrent request for the same phone is about to start the cooldown.
        let Some(_sending) = Sending::claim(&self.sending, phone) else {
            return Err(AuthError::OtpCooldown {
                retry_after_secs: self.settings.otp_cooldown_secs.max(1),
            });
        };
        let code = new_code();
        let minutes = (self.settings.otp_ttl_secs / 60).max(1).to_string();
        let text = CODE_TEXT
            .get(lang)
            .replace("{site}", &lpsaring_kernel::ui::Site::current().name)
            .replace("{code}", &code)
            .replace("{minutes}", &minutes);
        if let Err(e) = self.messenger.send_text(phone, &text).await {
            tracing::warn!(phone = %phone.masked(), error = %e, "one-time code could not be sent");
            return Err(AuthError::MessengerFailed(e.to_string()));
        }
        let mut batch = self.code_ops(phone, &code);
        batch.push(BatchOp::Put {
            key: cooldown_key,
            value: vec![1],
            ttl: Some(cooldown),
        });
        self.store.write_batch(batch).await?;
        tracing::info!(phone = %phone.masked(), "one-time code sent");
        Ok(OtpSent {
            sent_to: phone.masked(),
            expires_in_secs: self.settings.otp_ttl_secs,
            resend_after_secs: self.settings.otp_cooldown_secs,
        })
    }

    /// The writes that make `code` the one for `phone`: its hash stored for the code's lifetime
    /// (replacing an earlier code) and the wrong-attempt count reset.
    fn code_ops(&self, phone: &Phone, code: &str) -> Vec<BatchOp> {
        vec![
            BatchOp::Put {
                key: code_key(phone),
                value: self.hash(phone, code).into_bytes(),
                ttl: Some(Duration::from_secs(self.settings.otp_ttl_secs)),
            },
            BatchOp::Delete {
                key: tries_key(phone),
            },
        ]
    }

    /// A code an operator hands over by voice or in person (when WhatsApp is down): stored and
    /// checked exactly as a sent one, but nothing is sent and no cooldown starts. Returns the
    /// code and its lifetime in seconds.
    pub async fn issue_by_operator(&self, phone: &Phone) -> Result<(String, u64), AuthError> {
        let code = new_code();
        self.store.write_batch(self.code_ops(phone, &code)).await?;
        tracing::info!(phone = %phone.masked(), "one-time code issued by an operator");
        Ok((code, self.settings.otp_ttl_secs))
    }

    /// Checks `code` without consuming it. A wrong code costs an attempt; the last allowed wrong
    /// attempt voids the code.
    pub async fn check(&self, phone: &Phone, code: &str) -> Result<CheckedCode, AuthError> {
        let result = self.check_code(phone, code).await;
        crate::metrics::count(crate::metrics::CODE_CHECKS, "verified", &result);
        result
    }

    async fn check_code(&self, phone: &Phone, code: &str) -> Result<CheckedCode, AuthError> {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use lpsaring_kernel::FakeClock;
    use lpsaring_kernel::ports::messenger::{GatewayError, GatewayErrorKind, MessageReceipt};

    use super::*;

    /// A messenger whose first send never returns (the process "dies" while sending); later
    /// sends succeed.
    #[derive(Default)]
    struct StuckOnce {
        calls: AtomicUsize,
        entered: tokio::sync::Notify,
    }

    #[async_trait]
    impl Messenger for StuckOnce {
        fn name(&self) -> &str {
            "stuck-once"
        }

        async fn send_text(
            &self,
            _to: &Phone,
            _text: &str,
        ) -> Result<MessageReceipt, GatewayError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                self.entered.notify_one();
                std::future::pending::<()>().await;
            }
            Ok(MessageReceipt { provider_id: None })
        }

        async fn send_document(
            &self,
            _to: &Phone,
            _caption: &str,
            _url: &str,
            _filename: &str,
        ) -> Result<MessageReceipt, GatewayError> {
            Err(GatewayError::new(
                GatewayErrorKind::Permanent,
                "x",
                "unused",
            ))
        }
    }

    /// Issue 15 item 14: a request that dies between generating the code and the messenger
    /// accepting it leaves no cooldown behind; while it is in flight a second one waits.
    #[tokio::test]
    async fn a_code_never_sent_starts_no_cooldown() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let store: Arc<dyn EphemeralStore> = Arc::new(
            lpsaring_store::Store::open(dir.path().join("state.redb"), clock.clone())
                .await
                .unwrap(),
        );
        let settings = AuthSettings::default();
        let messenger = Arc::new(StuckOnce::default());
        let otp = Arc::new(Otp::new(
            store.clone(),
            Arc::new(RateLimits::new(clock, settings.clone())),
            messenger.clone(),
            [3u8; 32],
            settings,
        ));
        let phone = Phone::parse("081234567890").unwrap();

        let first = tokio::spawn({
            let (otp, phone) = (otp.clone(), phone.clone());
            async move { otp.request(&phone, None, Lang::Id).await }
        });
        messenger.entered.notified().await;
        assert!(matches!(
            otp.request(&phone, None, Lang::Id).await,
            Err(AuthError::OtpCooldown { .. })
        ));
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());

        assert_eq!(otp.cooldown_left(&phone).await.unwrap(), 0);
        let sent = otp.request(&phone, None, Lang::Id).await.unwrap();
        assert_eq!(
            sent.resend_after_secs,
            AuthSettings::default().otp_cooldown_secs
        );
        assert!(otp.cooldown_left(&phone).await.unwrap() > 0);
    }
}
