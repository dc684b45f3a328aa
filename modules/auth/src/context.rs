//! What MikroTik's redirect tells us about the client, accepted in the spellings RouterOS
//! templates and the original portal use, and validated before it is shown or followed.

use std::net::Ipv4Addr;

use lpsaring_kernel::Mac;

/// The hotspot context carried from the redirect through the login forms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptiveContext {
    pub ip: Option<Ipv4Addr>,
    pub mac: Option<Mac>,
    /// MikroTik's login URL (`$(link-login-only)`), where a `regular` binding posts credentials.
    pub link_login_only: Option<String>,
    /// Where the user was going (`$(link-orig)`).
    pub link_orig: Option<String>,
}

/// An http(s) URL safe to put in an attribute and follow: no spaces, quotes, angle brackets or
/// control characters, bounded length. Anything else (`javascript:`, data URLs) is dropped.
pub fn safe_http_url(raw: &str) -> Option<String> {
    let url = raw.trim();
    let lower = url.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
    let chars_ok = url.chars().all(|c| {
        !c.is_control() && !c.is_whitespace() && !matches!(c, '"' | '\'' | '<' | '>' | '`')
    });
    (scheme_ok && chars_ok && url.len() <= 2048 && url.len() > "https://".len())
        .then(|| url.to_owned())
}

impl CaptiveContext {
    /// Reads the context from a lookup of request fields (query string or form), first spelling
    /// that is present wins. Malformed values are dropped rather than trusted.
    pub fn from_fields(get: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| get(n).filter(|v| !v.trim().is_empty()))
        };
        Self {
            ip: first(&["ip", "client_ip", "client-ip"]).and_then(|v| v.trim().parse().ok()),
            mac: first(&["mac", "client_mac", "mac-address", "client-mac"])
                .and_then(|v| Mac::parse(&v).ok()),
            link_login_only: first(&["link-login-only", "link_login_only", "link-login"])
                .and_then(|v| safe_http_url(&v)),
            link_orig: first(&["link-orig", "link_orig", "dst"]).and_then(|v| safe_http_url(&v)),
        }
    }

    /// Hidden form fields that carry the context to the next step.
    pub fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(ip) = self.ip {
            out.push(("ip", ip.to_string()));
        }
        if let Some(mac) = self.mac {
            out.push(("mac", mac.to_string()));
        }
        if let Some(url) = &self.link_login_only {
            out.push(("link-login-only", url.clone()));
        }
        if let Some(url) = &self.link_orig {
            out.push(("link-orig", url.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ctx(pairs: &[(&str, &str)]) -> CaptiveContext {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        CaptiveContext::from_fields(|k| map.get(k).cloned())
    }

    #[test]
    fn accepts_the_spellings_routers_send() {
        let a = ctx(&[
            ("ip", "10.5.50.7"),
            ("mac", "AA:BB:CC:DD:EE:01"),
            ("link-login-only", "http://10.5.50.1/login"),
        ]);
        let b = ctx(&[
            ("client_ip", "10.5.50.7"),
            ("client_mac", "aa-bb-cc-dd-ee-01"),
            ("link_login_only", "http://10.5.50.1/login"),
        ]);
        let c = ctx(&[
            ("ip", "10.5.50.7"),
            ("mac-address", "aabb.ccdd.ee01"),
            ("link-login-only", "http://10.5.50.1/login"),
        ]);
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.mac.unwrap().to_string(), "AA:BB:CC:DD:EE:01");
    }

    #[test]
    fn drops_unsafe_or_malformed_values() {
        let c = ctx(&[
            ("ip", "10.5.50.999"),
            ("mac", "zz"),
            ("link-orig", "javascript:alert(1)"),
            ("link-login-only", "http://x/\"><script>"),
        ]);
        assert_eq!(c, CaptiveContext::default());
        assert_eq!(
            safe_http_url("https://example.com/a?b=c"),
            Some("https://example.com/a?b=c".to_owned())
        );
    }

    #[test]
    fn hidden_fields_round_trip() {
        let a = ctx(&[
            ("ip", "10.5.50.7"),
            ("mac", "AA:BB:CC:DD:EE:01"),
            ("link-orig", "http://neverssl.com/"),
        ]);
        let fields = a.hidden_fields();
        let back = CaptiveContext::from_fields(|k| {
            fields.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        });
        assert_eq!(a, back);
    }
}
