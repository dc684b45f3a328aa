//! The security headers of every HTML response, set in one place so no module's page can forget
//! them: `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, a
//! Content-Security-Policy that allows no external source at all and is never framed
//! (`frame-ancestors 'none'`, with `X-Frame-Options: DENY` for browsers that predate it).
//!
//! Our pages carry a little inline CSS (the layout) and two inline scripts (the hotspot auto-post,
//! the resend countdown). Instead of `'unsafe-inline'` each response gets a fresh nonce:
//! [`crate::ui::Page`] draws it when it renders, stamps it on the layout's `<style>` and every
//! `<script>` of the body, and leaves it in the response's extensions with any extra form target;
//! [`SecurityHeaders`] then writes the policy naming that nonce. An injected script (escaped by
//! our templates anyway) would not know the nonce, so it would not run.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rand::RngCore;
use salvo::http::HeaderValue;
use salvo::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use salvo::prelude::*;

/// The nonce of this response's inline `<script>` and `<style>` elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CspNonce(pub String);

impl CspNonce {
    /// 128 random bits: unguessable by a page's attacker, fresh for every response.
    pub fn fresh() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(STANDARD_NO_PAD.encode(bytes))
    }
}

/// One more origin this response's forms may post to: the connected page auto-posts the hotspot
/// credentials to the router's `link-login-only`, which only that response may target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormTarget(pub String);

/// The origin (`scheme://host[:port]`) of an http(s) URL, fit for a CSP source list, or `None`
/// when the URL is not one whose host is plain (letters, digits, `.`, `-`, `:`, brackets): a `;`
/// or `,` in a host would smuggle a directive into the policy.
pub fn url_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    plain.then(|| format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// The policy of one HTML response: nothing from elsewhere, our own assets, inline code only with `nonce`, forms
/// to ourselves (plus `form_target`), never inside a frame.
pub fn content_security_policy(nonce: Option<&CspNonce>, form_target: Option<&str>) -> String {
    // Our own hashed stylesheet and script (`'self'`), plus this response's inline code.
    let inline = nonce.map_or_else(
        || "'self'".to_owned(),
        |n| format!("'self' 'nonce-{}'", n.0),
    );
    let form_action = match form_target {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'none'; img-src 'self'; style-src {inline}; script-src {inline}; \
         connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; \
         base-uri 'none'"
    )
}

/// The hoop that gives every `text/html` response the security headers (JSON answers need none of
/// them: they are never rendered as documents). Pages also get `Cache-Control: no-store` unless
/// the handler chose otherwise: each one either carries a CSRF token, a hotspot password or a
/// user's own status, so no browser or proxy cache may keep it.
pub struct SecurityHeaders;

#[async_trait]
impl Handler for SecurityHeaders {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        ctrl: &mut FlowCtrl,
    ) {
        ctrl.call_next(req, depot, res).await;
        let html = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if !html {
            return;
        }
        let policy = content_security_policy(
            res.extensions.get::<CspNonce>(),
            res.extensions.get::<FormTarget>().map(|t| t.0.as_str()),
        );
        let headers = res.headers_mut();
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        if !headers.contains_key(CACHE_CONTROL) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(CONTENT_SECURITY_POLICY, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_keeps_scheme_host_and_port_only() {
        assert_eq!(
            url_origin("http://10.5.50.1/login?x=1").as_deref(),
            Some("http://10.5.50.1")
        );
        assert_eq!(
            url_origin("HTTPS://Hotspot.Example:8443").as_deref(),
            Some("https://hotspot.example:8443")
        );
        assert_eq!(
            url_origin("http://user@10.5.50.1/login").as_deref(),
            Some("http://10.5.50.1")
        );
        assert_eq!(url_origin("http://a;script-src*/x"), None);
        assert_eq!(url_origin("javascript:alert(1)"), None);
    }

    #[test]
    fn policy_names_no_external_source_but_the_form_target() {
        let nonce = CspNonce("abc".to_owned());
        let csp = content_security_policy(Some(&nonce), Some("http://10.5.50.1"));
        assert!(csp.contains("script-src 'self' 'nonce-abc'"));
        assert!(csp.contains("form-action 'self' http://10.5.50.1;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe") && !csp.contains('*'));
        assert_ne!(CspNonce::fresh(), CspNonce::fresh());
    }
}
