//! The cross-cutting rules the host applies to every plugin, so plugins never have to: the host
//! allow-list, retries with backoff and jitter, the circuit breaker, and secret redaction.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lpsaring_plugin_api::Manifest;
use lpsaring_plugin_api::encoding::{base64_encode, url_component};
use serde_json::{Map, Value};

/// Tunables of the step runner. `Default` is what production uses.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// Per HTTP request, connect to last body byte.
    pub call_timeout: Duration,
    /// Attempts of a whole operation when it fails with a retryable error (1 = no retry).
    pub max_attempts: u32,
    /// First backoff; doubles each retry up to `backoff_max`, with jitter in [half, full].
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// `Http` steps allowed in one operation; a plugin looping forever is cut off here.
    pub max_steps: u32,
    /// Consecutive failed operations (retryable failures after all attempts) that open the breaker.
    pub breaker_failures: u32,
    /// How long an open breaker fails calls fast before letting one through again.
    pub breaker_cooldown: chrono::Duration,
    /// Largest response body the host reads.
    pub max_response_bytes: usize,
}

impl Default for HostPolicy {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(15),
            max_attempts: 3,
            backoff_base: Duration::from_millis(300),
            backoff_max: Duration::from_secs(5),
            max_steps: 8,
            breaker_failures: 5,
            breaker_cooldown: chrono::Duration::seconds(30),
            max_response_bytes: 2 * 1024 * 1024,
        }
    }
}

impl HostPolicy {
    /// The pause before attempt `next_attempt` (2, 3, …): exponential, capped, jittered so that
    /// many callers retrying together do not hit the provider in lockstep.
    pub(crate) fn backoff(&self, next_attempt: u32) -> Duration {
        let exponent = next_attempt.saturating_sub(2).min(16);
        let full = self
            .backoff_base
            .saturating_mul(1 << exponent)
            .min(self.backoff_max);
        let full_ms = u64::try_from(full.as_millis()).unwrap_or(u64::MAX);
        let jittered = rand::random_range(full_ms / 2..=full_ms);
        Duration::from_millis(jittered)
    }
}

/// One breaker per plugin: after `breaker_failures` consecutive failed operations it opens for
/// `breaker_cooldown`, during which HTTP steps fail fast; then it lets calls through again and
/// closes on the first success (or reopens on the next failure).
#[derive(Debug, Default)]
pub(crate) struct Breaker {
    state: Mutex<BreakerState>,
}

#[derive(Debug, Default)]
struct BreakerState {
    consecutive_failures: u32,
    open_until: Option<DateTime<Utc>>,
}

impl Breaker {
    /// `Some(until)` while open.
    pub(crate) fn open_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.open_until.filter(|until| *until > now)
    }

    pub(crate) fn record_success(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.consecutive_failures = 0;
        state.open_until = None;
    }

    /// Returns true when this failure opened (or reopened) the breaker.
    pub(crate) fn record_failure(&self, now: DateTime<Utc>, policy: &HostPolicy) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        if state.consecutive_failures >= policy.breaker_failures.max(1) {
            state.open_until = Some(now + policy.breaker_cooldown);
            return true;
        }
        false
    }
}

/// Replaces secret values in text meant for logs or error messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    needles: Vec<String>,
}

/// Config key names treated as secret even if a manifest forgot to mark them.
const SECRET_LOOKING: [&str; 5] = ["key", "token", "secret", "password", "signature"];

impl Redactor {
    pub(crate) fn new(manifest: &Manifest, config: &Map<String, Value>) -> Self {
        let mut needles = Vec::new();
        for (name, value) in config {
            let marked = manifest
                .config_keys
                .iter()
                .any(|k| k.secret && &k.name == name);
            let lower = name.to_ascii_lowercase();
            let looks_secret = SECRET_LOOKING.iter().any(|word| lower.contains(word));
            // Keys that only name things (`client_key` is public by Midtrans' design) stay
            // readable when the manifest lists them as not secret.
            let declared_public = manifest
                .config_keys
                .iter()
                .any(|k| !k.secret && &k.name == name);
            if !(marked || (looks_secret && !declared_public)) {
                continue;
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            // Short values would blank out ordinary words; no real credential is this short.
            if text.len() < 4 {
                continue;
            }
            // The raw value and the encodings it travels in (Basic auth, query strings).
            needles.push(base64_encode(format!("{text}:").as_bytes()));
            needles.push(base64_encode(text.as_bytes()));
            needles.push(url_component(&text));
            needles.push(text);
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Self { needles }
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), "[REDACTED]");
            }
        }
        out
    }
}

/// The hosts a plugin may reach, from its manifest.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowList {
    entries: Vec<String>,
}

impl AllowList {
    pub(crate) fn new(hosts: &[String]) -> Self {
        Self {
            entries: hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    /// `Err(reason)` unless the URL's scheme and host are allowed: `https` always, `http` only to
    /// loopback (local mock servers), host equal to an entry, or a subdomain of a `*.` entry; an
    /// entry with a port allows only that port.
    pub(crate) fn check(&self, url: &reqwest::Url) -> Result<(), String> {
        let host = url
            .host_str()
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| "the URL has no host".to_owned())?;
        let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            other => return Err(format!("scheme `{other}` is not allowed (https only)")),
        }
        let port = url.port_or_known_default();
        let allowed = self.entries.iter().any(|entry| {
            let (entry_host, entry_port) = match entry.rsplit_once(':') {
                Some((h, p)) => match p.parse::<u16>() {
                    Ok(p) => (h, Some(p)),
                    Err(_) => (entry.as_str(), None),
                },
                None => (entry.as_str(), None),
            };
            let host_ok = match entry_host.strip_prefix("*.") {
                Some(domain) => host.ends_with(&format!(".{domain}")),
                None => host == entry_host,
            };
            host_ok && entry_port.is_none_or(|p| Some(p) == port)
        });
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "host `{host}` is not in the plugin's allowed_hosts {:?}",
                self.entries
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lpsaring_plugin_api::{ConfigKey, PluginKind};
    use serde_json::json;

    fn manifest(keys: Vec<ConfigKey>) -> Manifest {
        Manifest {
            name: "t".into(),
            kind: PluginKind::Payment,
            version: "1".into(),
            protocol_version: 1,
            description: String::new(),
            config_keys: keys,
            allowed_hosts: vec![],
            development_only: false,
            walled_garden_hosts: Vec::new(),
        }
    }

    #[test]
    fn allow_list_matches_hosts_ports_and_wildcards() {
        let list = AllowList::new(&[
            "api.midtrans.com".into(),
            "127.0.0.1:8080".into(),
            "*.xendit.co".into(),
        ]);
        let ok = |u: &str| list.check(&reqwest::Url::parse(u).unwrap());
        assert!(ok("https://api.midtrans.com/v2/charge").is_ok());
        assert!(ok("https://API.MIDTRANS.COM/v2").is_ok());
        assert!(ok("http://127.0.0.1:8080/x").is_ok());
        assert!(ok("http://127.0.0.1:9090/x").is_err(), "other port");
        assert!(ok("https://api.xendit.co/").is_ok());
        assert!(
            ok("https://xendit.co/").is_err(),
            "wildcard needs a subdomain"
        );
        assert!(
            ok("http://api.midtrans.com/").is_err(),
            "plain http only to loopback"
        );
        assert!(ok("https://api.midtrans.com.evil.example/").is_err());
        assert!(ok("https://evil.example/?api.midtrans.com").is_err());
    }

    #[test]
    fn redactor_hides_secrets_and_their_encodings() {
        let m = manifest(vec![
            ConfigKey::new("server_key", "").secret(),
            ConfigKey::new("client_key", ""),
        ]);
        let config = json!({"server_key": "SB-Mid-server-abc", "client_key": "SB-Mid-client-xyz", "api_token": "tok-123456", "production": false});
        let r = Redactor::new(&m, config.as_object().unwrap());
        let basic = base64_encode(b"SB-Mid-server-abc:");
        let line = format!(
            "key SB-Mid-server-abc basic {basic} token tok-123456 client SB-Mid-client-xyz"
        );
        assert_eq!(
            r.redact(&line),
            "key [REDACTED] basic [REDACTED] token [REDACTED] client SB-Mid-client-xyz"
        );
    }

    #[test]
    fn breaker_opens_after_consecutive_failures_and_closes_on_success() {
        let policy = HostPolicy {
            breaker_failures: 2,
            ..HostPolicy::default()
        };
        let breaker = Breaker::default();
        let t0 = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        assert!(!breaker.record_failure(t0, &policy));
        assert!(breaker.open_until(t0).is_none());
        assert!(breaker.record_failure(t0, &policy));
        assert!(breaker.open_until(t0).is_some());
        assert!(
            breaker
                .open_until(t0 + chrono::Duration::seconds(31))
                .is_none(),
            "cooldown over"
        );
        breaker.record_success();
        assert!(!breaker.record_failure(t0, &policy), "count restarted");
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let policy = HostPolicy {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(350),
            ..HostPolicy::default()
        };
        for _ in 0..50 {
            let second = policy.backoff(2);
            assert!((50..=100).contains(&second.as_millis()), "{second:?}");
            let third = policy.backoff(3);
            assert!((100..=200).contains(&third.as_millis()), "{third:?}");
            let tenth = policy.backoff(10);
            assert!((175..=350).contains(&tenth.as_millis()), "{tenth:?}");
        }
    }
}
