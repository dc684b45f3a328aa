//! `[router]` settings. The lead embeds [`RouterSettings`] in the app settings; every field has a
//! default so a partial `[router]` table works.

use std::fmt;

use serde::Deserialize;

/// A secret string: deserialises from a plain string, never shows in `Debug` output or logs.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; only for handing to the router login.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// How to reach the router and how patient to be with it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RouterSettings {
    /// `host:port` of the API service (8728 plain, 8729 api-ssl). Empty = no router (the port
    /// reports `Disabled` and every call fails as unreachable).
    pub address: String,
    pub username: String,
    pub password: Secret,
    /// Use api-ssl. The router's certificate is not verified (RouterOS routers use self-signed
    /// certificates); restrict the API service by address on the router.
    pub tls: bool,
    /// Bound on connect + login, and on each command until its last reply.
    pub timeout_ms: u64,
    /// Hotspot server name for new ip-bindings and users (`all` = every server).
    pub hotspot_server: String,
    /// Consecutive connectivity failures that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long the breaker stays open before one probe call is let through.
    pub breaker_cooldown_ms: u64,
    /// Longest pause between re-dial attempts (backoff doubles from 100 ms up to this).
    pub max_backoff_ms: u64,
    /// Interval of the liveness probe on an idle connection (mikrotik-rs owns the socket, so
    /// TCP keepalive cannot be set; this probe finds half-open connections instead). 0 = off.
    pub keepalive_ms: u64,
    /// The portal's IPv4 address as the router sees it: router set-up lets the API user log in
    /// only from here and lets restricted statuses reach it. Unset: `router-script` prints a
    /// placeholder and `router setup` refuses.
    pub portal_address: Option<std::net::Ipv4Addr>,
    /// Walled-garden hosts besides the portal and the plugins' own (a bank app, a help page).
    pub extra_walled_garden: Vec<String>,
    /// Hosts trusted to receive the hotspot credentials (`link-login-only`) besides the
    /// `dns-name` and `hotspot-address` of the router's hotspot profiles, which are read from
    /// the router. A login URL on any other host is dropped.
    pub hotspot_hosts: Vec<String>,
}

impl Default for RouterSettings {
    fn default() -> Self {
        Self {
            address: String::new(),
            username: "lpsaring".into(),
            password: Secret::default(),
            tls: false,
            timeout_ms: 5_000,
            hotspot_server: "all".into(),
            breaker_failures: 5,
            breaker_cooldown_ms: 10_000,
            max_backoff_ms: 10_000,
            keepalive_ms: 30_000,
            portal_address: None,
            extra_walled_garden: Vec::new(),
            hotspot_hosts: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wrapper {
        router: RouterSettings,
    }

    #[test]
    fn partial_table_gets_defaults_and_password_is_redacted() {
        let text =
            r#"{"router": {"address": "10.0.0.1:8728", "username": "api", "password": "hunter2"}}"#;
        let w: Wrapper = serde_json::from_str(text).unwrap();
        assert_eq!(w.router.address, "10.0.0.1:8728");
        assert_eq!(w.router.password.expose(), "hunter2");
        assert_eq!(w.router.timeout_ms, 5_000);
        assert_eq!(w.router.hotspot_server, "all");
        let debug = format!("{:?}", w.router);
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("***"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = r#"{"router": {"adress": "x"}}"#;
        assert!(serde_json::from_str::<Wrapper>(text).is_err());
    }
}
