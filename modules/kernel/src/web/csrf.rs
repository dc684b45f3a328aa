//! Cross-site request forgery defences for cookie-authenticated state changes:
//! 1. the `Origin` (else `Referer`) must be one of ours: `http.public_url`, `http.allowed_origins`,
//!    or the request's own host;
//! 2. when a browser sends neither header, an HTML form post must carry the form token: an HMAC
//!    (key derived for "csrf") of a random `csrf` cookie, compared in constant time;
//! 3. reads of `/api/admin` with a session cookie must not come from a foreign origin either.
//!
//! Bearer-token requests are exempt: a browser never attaches a bearer token on its own.
//!
//! [`Csrf`], mounted by `app` for the whole service right after the request context, judges the
//! origin, hands out the form token and enforces the rules: every state change of every module,
//! present and future, passes this one check before any handler runs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use rand::RngCore;
use salvo::http::Method;
use salvo::prelude::*;
use sha2::Sha256;

use super::guard::{GuardError, reject};
use super::{is_admin_api_path, is_api_path, is_https, session_cookie};

pub const CSRF_COOKIE: &str = "csrf";
/// Name of the hidden form field that carries the token.
pub const CSRF_FIELD: &str = "csrf";
/// The `csrf` cookie outlives sessions: a login form left open for days must still post.
const CSRF_COOKIE_MAX_AGE_SECS: i64 = 365 * 24 * 3600;
const FACTS_KEY: &str = "lpsaring.web.csrf";

/// The origins we trust, normalised to `scheme://host[:port]` (default ports dropped).
#[derive(Debug, Clone, Default)]
pub struct Origins(Vec<String>);

impl Origins {
    /// From `http.public_url` and `http.allowed_origins`; entries that are not http(s) URLs are
    /// ignored.
    pub fn new<'a>(urls: impl IntoIterator<Item = &'a str>) -> Self {
        Self(urls.into_iter().filter_map(normalize_origin).collect())
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

/// The request's own origin (`scheme://Host`), by the scheme the trusted-proxy rule decided.
pub fn own_origin(req: &Request, https: bool) -> Option<String> {
    header(req, "host").and_then(|host| {
        normalize_origin(&format!(
            "{}://{host}",
            if https { "https" } else { "http" }
        ))
    })
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
    if origins.contains(&claimed) || own_origin(req, https).as_deref() == Some(claimed.as_str()) {
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

/// Constant-time equality of two strings (secret comparisons).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
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

/// What [`Csrf`] established for this request.
#[derive(Debug, Clone)]
pub struct CsrfFacts {
    pub origin: OriginVerdict,
    /// The token this browser's forms must carry in the [`CSRF_FIELD`] field.
    pub form_token: String,
}

/// The facts of this request; `Absent` and no token outside [`Csrf`] (tests mounting bare routers).
pub fn csrf_facts(depot: &Depot) -> CsrfFacts {
    depot
        .get::<CsrfFacts>(FACTS_KEY)
        .ok()
        .cloned()
        .unwrap_or(CsrfFacts {
            origin: OriginVerdict::Absent,
            form_token: String::new(),
        })
}

/// Where this request says it came from.
pub fn origin(depot: &Depot) -> OriginVerdict {
    csrf_facts(depot).origin
}

/// The form token to put in a hidden `csrf` field of every form we render.
pub fn csrf_token(depot: &Depot) -> String {
    csrf_facts(depot).form_token
}

/// True when `submitted` is this browser's form token.
pub fn verify_form_token(depot: &Depot, submitted: &str) -> bool {
    let expected = csrf_facts(depot).form_token;
    !expected.is_empty() && constant_time_eq(&expected, submitted.trim())
}

/// Middleware: judges the origin, makes sure the browser has a `csrf` cookie (set on pages, not on
/// `/api`) so every form rendered on this request can carry the token, and refuses a
/// cookie-authenticated state change that breaks the rules (403 `AUTH_ORIGIN_INVALID`). Runs
/// after the request context (it needs the scheme) and before the session middleware, so a
/// cross-site write never even refreshes a session.
pub struct Csrf {
    origins: Origins,
    key: [u8; 32],
    /// Names of the cookies that authenticate a request (the session module's): a state change
    /// carrying one of them is cookie-authenticated and must pass the rules.
    session_cookies: Vec<&'static str>,
}

impl Csrf {
    pub fn new(origins: Origins, key: [u8; 32], session_cookies: &[&'static str]) -> Self {
        Self {
            origins,
            key,
            session_cookies: session_cookies.to_vec(),
        }
    }

    /// The CSRF rules for a cookie-authenticated state change: the origin must be ours; with no
    /// origin information at all, a form-like body must carry the form token. Requests with a
    /// bearer token or without a session cookie are not cookie-authenticated.
    async fn check(&self, req: &mut Request, facts: &CsrfFacts) -> Result<(), GuardError> {
        let bearer = header(req, "authorization").is_some_and(|v| {
            v.trim()
                .split_once(' ')
                .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        });
        let cookie_session = self
            .session_cookies
            .iter()
            .any(|name| req.cookie(name).is_some_and(|c| !c.value().is_empty()));
        if bearer || !cookie_session {
            return Ok(());
        }
        if !is_state_changing(req.method()) {
            // Admin data is read by our own pages only: a cookie-carrying read of `/api/admin`
            // that another site's page started is refused as well.
            return if is_admin_api_path(req.uri().path()) && facts.origin == OriginVerdict::Foreign
            {
                Err(GuardError::OriginInvalid)
            } else {
                Ok(())
            };
        }
        match facts.origin {
            OriginVerdict::Trusted => Ok(()),
            OriginVerdict::Foreign => Err(GuardError::OriginInvalid),
            OriginVerdict::Absent if is_form_like(req) => {
                let submitted = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
                if !facts.form_token.is_empty()
                    && constant_time_eq(&facts.form_token, submitted.trim())
                {
                    Ok(())
                } else {
                    Err(GuardError::OriginInvalid)
                }
            }
            OriginVerdict::Absent => Ok(()),
        }
    }
}

#[async_trait]
impl Handler for Csrf {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        ctrl: &mut FlowCtrl,
    ) {
        let https = is_https(depot);
        let origin = origin_verdict(req, &self.origins, https);
        let cookie = req
            .cookie(CSRF_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|v| plausible_cookie(v));
        let cookie = match cookie {
            Some(v) => v,
            None => {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                let value = URL_SAFE_NO_PAD.encode(bytes);
                if !is_api_path(req.uri().path()) {
                    res.add_cookie(session_cookie(
                        CSRF_COOKIE,
                        value.clone(),
                        CSRF_COOKIE_MAX_AGE_SECS,
                        https,
                    ));
                }
                value
            }
        };
        let facts = CsrfFacts {
            origin,
            form_token: form_token(&self.key, &cookie),
        };
        if let Err(e) = self.check(req, &facts).await {
            reject(&e, false, req, depot, res).await;
            ctrl.skip_rest();
            return;
        }
        depot.insert(FACTS_KEY, facts);
        ctrl.call_next(req, depot, res).await;
    }
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

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
