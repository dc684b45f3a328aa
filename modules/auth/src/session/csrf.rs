//! Cross-site request forgery defences for cookie-authenticated state changes:
//! 1. the `Origin` (else `Referer`) must be one of ours: `http.public_url`, `http.allowed_origins`,
//!    or the request's own host;
//! 2. when a browser sends neither header, an HTML form post must carry the form token: an HMAC
//!    (key derived for "csrf") of a random `csrf` cookie, compared in constant time.
//!
//! Bearer-token requests are exempt: a browser never attaches a bearer token on its own.

use hmac::{Hmac, Mac as _};
use salvo::Request;
use salvo::http::Method;
use sha2::Sha256;

use super::service::OriginSettings;
use crate::secrets::constant_time_eq;

pub const CSRF_COOKIE: &str = "csrf";
/// Name of the hidden form field that carries the token.
pub const CSRF_FIELD: &str = "csrf";

/// The origins we trust, normalised to `scheme://host[:port]` (default ports dropped).
#[derive(Debug, Clone, Default)]
pub struct Origins(Vec<String>);

impl Origins {
    pub fn new(settings: &OriginSettings) -> Self {
        let list = settings
            .public_url
            .iter()
            .chain(settings.allowed_origins.iter())
            .filter_map(|u| normalize_origin(u))
            .collect();
        Self(list)
    }

    fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }
}

/// `scheme://host[:port]` of a URL, lower-cased, default port dropped; `None` when it is not an
/// http(s) URL with a host.
pub fn normalize_origin(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Credentials in an origin are never ours.
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (h, Some(p)),
        _ => (authority.as_str(), None),
    };
    let default_port = if scheme == "https" { "443" } else { "80" };
    match port {
        Some(p) if p.is_empty() || p == default_port => Some(format!("{scheme}://{host}")),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Some(format!("{scheme}://{host}:{p}")),
        Some(_) => None,
        None => Some(format!("{scheme}://{host}")),
    }
}

/// What the browser told us about where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginVerdict {
    Trusted,
    Foreign,
    /// Neither `Origin` nor `Referer` was sent.
    Absent,
}

pub fn is_state_changing(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Judges `Origin`, else `Referer`, against our origins and the request's own host.
pub fn origin_verdict(req: &Request, origins: &Origins, https: bool) -> OriginVerdict {
    let claimed = match header(req, "origin") {
        Some(origin) => origin,
        None => match header(req, "referer") {
            Some(referer) => referer,
            None => return OriginVerdict::Absent,
        },
    };
    let Some(claimed) = normalize_origin(claimed) else {
        return OriginVerdict::Foreign;
    };
    if origins.contains(&claimed) {
        return OriginVerdict::Trusted;
    }
    let own = header(req, "host").and_then(|host| {
        normalize_origin(&format!(
            "{}://{host}",
            if https { "https" } else { "http" }
        ))
    });
    if own.as_deref() == Some(claimed.as_str()) {
        OriginVerdict::Trusted
    } else {
        OriginVerdict::Foreign
    }
}

/// Bodies a cross-site HTML form (or a "simple" fetch) can send without a CORS preflight.
pub fn is_form_like(req: &Request) -> bool {
    let ctype = header(req, "content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        ctype.as_str(),
        "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
    )
}

/// The form token for a `csrf` cookie value.
pub fn form_token(key: &[u8; 32], cookie_value: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(b"lpsaring/csrf-form/");
    mac.update(cookie_value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// True when `submitted` is the token for `cookie_value`.
pub fn token_matches(key: &[u8; 32], cookie_value: &str, submitted: &str) -> bool {
    !cookie_value.is_empty() && constant_time_eq(&form_token(key, cookie_value), submitted.trim())
}

/// A `csrf` cookie value we could have issued (so a junk cookie is replaced, not trusted).
pub fn plausible_cookie(value: &str) -> bool {
    (32..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_normalise() {
        assert_eq!(
            normalize_origin("https://WiFi.Example.id/path?q"),
            Some("https://wifi.example.id".to_owned())
        );
        assert_eq!(
            normalize_origin("https://wifi.example.id:443"),
            Some("https://wifi.example.id".to_owned())
        );
        assert_eq!(
            normalize_origin("http://10.0.0.1:8080/"),
            Some("http://10.0.0.1:8080".to_owned())
        );
        assert_eq!(
            normalize_origin("http://[::1]:8080"),
            Some("http://[::1]:8080".to_owned())
        );
        assert_eq!(
            normalize_origin("http://[::1]"),
            Some("http://[::1]".to_owned())
        );
        assert_eq!(normalize_origin("null"), None);
        assert_eq!(normalize_origin("ftp://x"), None);
        assert_eq!(normalize_origin("https://user@evil.example"), None);
        assert_eq!(normalize_origin("https://x:12ab"), None);
    }

    #[test]
    fn form_tokens_bind_to_the_cookie_and_key() {
        let key = [1u8; 32];
        let token = form_token(&key, "cookie-a");
        assert_eq!(token.len(), 64);
        assert!(token_matches(&key, "cookie-a", &token));
        assert!(!token_matches(&key, "cookie-b", &token));
        assert!(!token_matches(&[2u8; 32], "cookie-a", &token));
        assert!(!token_matches(&key, "", &form_token(&key, "")));
        assert!(!token_matches(&key, "cookie-a", ""));
    }
}
