//! The web layer every module shares, so every module guards and answers the same way.
//!
//! - per-request facts that `app`'s middleware establishes once and every module reads: the
//!   request id (echoed in logs and error envelopes), the client IP and scheme (after the
//!   trusted-proxy rules), the authenticated user (set by auth's session middleware);
//! - [`csrf`]: the one origin/CSRF check for cookie-authenticated state changes;
//! - [`guard`]: the [`CurrentUser`] extractor and the [`require_user`] / [`require_admin`] guards;
//! - [`json`]: the JSON body extractor whose errors name the field;
//! - [`security`]: the security headers (CSP with a per-response nonce) of every HTML response.
//!
//! Errors become the API envelope through [`crate::ApiError`] (`From` any [`crate::ErrorCode`]).

pub mod csrf;
pub mod guard;
pub mod json;
pub mod security;

use std::net::IpAddr;

use salvo::Depot;
use salvo::http::cookie::time::Duration as CookieDuration;
use salvo::http::cookie::{Cookie, SameSite};

pub use csrf::{CSRF_COOKIE, CSRF_FIELD, Csrf, Origins, csrf_token, verify_form_token};
pub use guard::{
    CurrentUser, GuardError, TokenProblem, admin_area, require_admin, require_user,
    set_token_problem,
};
pub use guard::{SECOND_FACTOR_PAGE, set_second_factor_missing};
pub use json::{JsonIn, JsonOrForm};
pub use security::SecurityHeaders;

/// True for `/api` and everything below it: JSON answers, never pages.
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// True for `/path` and everything below it.
fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The admin area's JSON: `/api/admin` and below. Only admins, and only from our own pages.
pub fn is_admin_api_path(path: &str) -> bool {
    is_under(path, "/api/admin")
}

/// The admin area, JSON and pages (`/admin` and below), except the admin login page: only
/// admins. [`guard::admin_area`] enforces it for every route, whichever module mounts it.
pub fn is_admin_area(path: &str) -> bool {
    is_admin_api_path(path) || (is_under(path, "/admin") && !is_under(path, "/admin/login"))
}

/// Query parameter `name` parsed as `T`: empty counts as absent; anything unparsable is a 422
/// `VALIDATION_ERROR` naming the parameter in `details.field` (`?page=abc`, `?from=2026-13-01`).
pub fn query_param<T: std::str::FromStr>(
    req: &salvo::Request,
    name: &str,
) -> Result<Option<T>, crate::ApiError> {
    match req.query::<String>(name) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| {
            crate::ApiError::validation(format!("Query parameter `{name}` is not valid."))
                .with_details(serde_json::json!({ "field": name }))
        }),
    }
}

/// True when the request asks for a list as CSV (`?format=csv`).
pub fn wants_csv(req: &salvo::Request) -> bool {
    req.query::<String>("format")
        .is_some_and(|f| f.eq_ignore_ascii_case("csv"))
}

/// A path on this site that a redirect may follow: one leading `/` (never `//host` or `/\host`,
/// which browsers read as another site) and no control characters.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

/// The list an admin form was posted from (`back`, when it is a path of `area`), else `area`.
pub fn area_back<'a>(back: Option<&'a str>, area: &'a str) -> &'a str {
    back.filter(|b| is_local_path(b) && is_under(b.split('?').next().unwrap_or(b), area))
        .unwrap_or(area)
}

/// Where an admin form goes after it succeeded: back to the list it was posted from
/// ([`area_back`]) with `done=<what>` for the page's notice.
pub fn return_path(back: Option<&str>, area: &str, done: &str) -> String {
    let back = area_back(back, area);
    let glue = if back.contains('?') { '&' } else { '?' };
    format!("{back}{glue}done={}", encode_component(done))
}

/// Percent-encodes a path-and-query for a query parameter (`next=`, `link-orig=`); `/` stays.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `name=value&…` of the pairs that have a value, each value through [`encode_component`]: the
/// filters a list page carries into its pager and CSV links.
pub fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode_component(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// A cookie of ours: HttpOnly, SameSite=Lax, Path=/, Secure when the client reached us over
/// HTTPS. `max_age_secs` of 0 expires it.
pub fn session_cookie(
    name: &'static str,
    value: String,
    max_age_secs: i64,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .max_age(CookieDuration::seconds(max_age_secs.max(0)))
        .build()
}

const REQUEST_ID: &str = "lpsaring.request_id";
const CLIENT_IP: &str = "lpsaring.client_ip";
const IS_HTTPS: &str = "lpsaring.is_https";

/// The id of the current request, or `-` outside the request-id middleware.
pub fn request_id(depot: &Depot) -> String {
    depot
        .get::<String>(REQUEST_ID)
        .cloned()
        .unwrap_or_else(|_| "-".to_owned())
}

pub fn set_request_id(depot: &mut Depot, id: String) {
    depot.insert(REQUEST_ID, id);
}

/// The client's address as decided by the trusted-proxy rules.
pub fn client_ip(depot: &Depot) -> Option<IpAddr> {
    depot.get::<IpAddr>(CLIENT_IP).ok().copied()
}

pub fn set_client_ip(depot: &mut Depot, ip: IpAddr) {
    depot.insert(CLIENT_IP, ip);
}

/// Whether the client reached us over HTTPS (directly or via a trusted proxy); decides `Secure`
/// on cookies.
pub fn is_https(depot: &Depot) -> bool {
    depot.get::<bool>(IS_HTTPS).ok().copied().unwrap_or(false)
}

pub fn set_is_https(depot: &mut Depot, https: bool) {
    depot.insert(IS_HTTPS, https);
}

const CURRENT_USER: &str = "lpsaring.current_user";
const CURRENT_ROLE: &str = "lpsaring.current_role";

/// The authenticated user of this request, set by auth's session middleware.
pub fn current_user(depot: &Depot) -> Option<crate::UserId> {
    depot.get::<crate::UserId>(CURRENT_USER).ok().copied()
}

/// The authenticated user's role, set together with [`current_user`].
pub fn current_role(depot: &Depot) -> Option<crate::ports::users::Role> {
    depot
        .get::<crate::ports::users::Role>(CURRENT_ROLE)
        .ok()
        .copied()
}

/// Called by auth's session middleware once the access token (or a rotated refresh token) checks.
pub fn set_current_user(depot: &mut Depot, user: crate::UserId, role: crate::ports::users::Role) {
    depot.insert(CURRENT_USER, user);
    depot.insert(CURRENT_ROLE, role);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_single_slash_paths_are_local() {
        assert!(is_local_path("/captive?ip=1"));
        assert!(!is_local_path("//evil.example/x"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(!is_local_path("https://evil.example"));
        assert!(!is_local_path("/a\r\nb"));
    }

    #[test]
    fn the_admin_area_is_everything_under_admin_but_its_login() {
        assert!(is_admin_area("/api/admin"));
        assert!(is_admin_area("/api/admin/users/1/approve"));
        assert!(is_admin_area("/admin"));
        assert!(is_admin_area("/admin/audit"));
        assert!(!is_admin_area("/admin/login"));
        assert!(!is_admin_area("/admin/login/x"));
        assert!(!is_admin_area("/administrator"));
        assert!(!is_admin_area("/api/administer"));
        assert!(!is_admin_area("/api/auth/admin/login"));
        assert!(is_admin_api_path("/api/admin/sync"));
        assert!(!is_admin_api_path("/admin/audit"));
    }

    #[test]
    fn next_is_encoded() {
        assert_eq!(
            encode_component("/akun?x=1&y=a b"),
            "/akun%3Fx%3D1%26y%3Da%20b"
        );
    }
}
