//! The per-request session middleware and the route guards.
//!
//! [`SessionHoop`] runs for every request: it authenticates from a bearer token or the access
//! cookie, and when the cookie is missing or expired but a refresh cookie is present it rotates
//! the refresh token and sets both new cookies on this same response (cookie auto-refresh). It
//! never rejects; [`require_user`] / [`require_admin`] do, after it, and they also apply the
//! CSRF rules to cookie-authenticated state changes.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lpsaring_kernel::ApiError;
use lpsaring_kernel::client::user_agent;
use lpsaring_kernel::web::{self, client_ip, current_role, current_user};
use rand::RngCore;
use salvo::http::StatusCode;
use salvo::prelude::*;
use salvo::writing::Redirect;

use super::cookies::{ACCESS_COOKIE, REFRESH_COOKIE};
use super::csrf::{
    CSRF_COOKIE, CSRF_FIELD, OriginVerdict, form_token, is_form_like, is_state_changing,
    origin_verdict, plausible_cookie,
};
use super::service::{IssuedSession, Sessions};
use crate::error::AuthError;
use crate::secrets::constant_time_eq;

const STATE_KEY: &str = "lpsaring.auth.session";
/// The `csrf` cookie outlives sessions: a login form left open for days must still post.
const CSRF_COOKIE_MAX_AGE_SECS: i64 = 365 * 24 * 3600;

/// How this request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVia {
    Bearer,
    Cookie,
}

/// Why a presented access token did not count (for 401 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenProblem {
    Expired,
    Invalid,
}

/// What the hoop found out; read by the guards and handlers of the same request.
#[derive(Debug, Clone)]
pub struct SessionState {
    pub via: Option<AuthVia>,
    problem: Option<TokenProblem>,
    origin: OriginVerdict,
    /// A bearer header was present (requests with one are exempt from CSRF rules).
    bearer: bool,
    /// The request carried one of our session cookies.
    session_cookie: bool,
    csrf_form_token: String,
    /// Set when this request's refresh cookie was rotated by the hoop.
    pub rotated: Option<IssuedSession>,
    /// Set when the hoop tried that rotation and it was refused (so nobody tries it twice in one
    /// request: a second try would count as a reuse).
    pub refresh_refused: Option<ApiError>,
}

/// The session state of this request, when [`SessionHoop`] ran.
pub fn session_state(depot: &Depot) -> Option<&SessionState> {
    depot.get::<SessionState>(STATE_KEY).ok()
}

/// The form token to put in a hidden `csrf` field of every form we render.
pub fn csrf_token(depot: &Depot) -> String {
    session_state(depot)
        .map(|s| s.csrf_form_token.clone())
        .unwrap_or_default()
}

/// True when `submitted` is this browser's form token.
pub fn verify_form_token(depot: &Depot, submitted: &str) -> bool {
    session_state(depot).is_some_and(|s| {
        !s.csrf_form_token.is_empty() && constant_time_eq(&s.csrf_form_token, submitted.trim())
    })
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn bearer_token(req: &Request) -> Option<String> {
    let value = header(req, "authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn cookie_value(req: &Request, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

fn problem_of(err: &AuthError) -> Option<TokenProblem> {
    match err {
        AuthError::TokenExpired => Some(TokenProblem::Expired),
        AuthError::TokenInvalid => Some(TokenProblem::Invalid),
        _ => None,
    }
}

pub struct SessionHoop {
    sessions: Arc<Sessions>,
}

impl SessionHoop {
    pub fn new(sessions: Arc<Sessions>) -> Self {
        Self { sessions }
    }
}

#[async_trait]
impl Handler for SessionHoop {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        ctrl: &mut FlowCtrl,
    ) {
        let sessions = &self.sessions;
        depot.insert_typed(sessions.clone());
        let https = web::is_https(depot);
        let origin = origin_verdict(req, &sessions.origins, https);
        let csrf_cookie = match cookie_value(req, CSRF_COOKIE).filter(|v| plausible_cookie(v)) {
            Some(v) => v,
            None => {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                let value = URL_SAFE_NO_PAD.encode(bytes);
                if !req.uri().path().starts_with("/api") {
                    res.add_cookie(super::cookies::session_cookie(
                        CSRF_COOKIE,
                        value.clone(),
                        CSRF_COOKIE_MAX_AGE_SECS,
                        https,
                    ));
                }
                value
            }
        };
        let access_cookie = cookie_value(req, ACCESS_COOKIE);
        let refresh_cookie = cookie_value(req, REFRESH_COOKIE);
        let bearer = bearer_token(req);
        let mut state = SessionState {
            via: None,
            problem: None,
            origin,
            bearer: bearer.is_some(),
            session_cookie: access_cookie.is_some() || refresh_cookie.is_some(),
            csrf_form_token: form_token(&sessions.csrf_key, &csrf_cookie),
            rotated: None,
            refresh_refused: None,
        };

        if let Some(token) = bearer {
            // A bearer client manages its own tokens: no cookie refresh behind its back.
            match sessions.verify_access(&token) {
                Ok(subject) => {
                    web::set_current_user(depot, subject.user, subject.role);
                    state.via = Some(AuthVia::Bearer);
                }
                Err(e) => state.problem = problem_of(&e),
            }
        } else {
            if let Some(token) = &access_cookie {
                match sessions.verify_access(token) {
                    Ok(subject) => {
                        web::set_current_user(depot, subject.user, subject.role);
                        state.via = Some(AuthVia::Cookie);
                    }
                    Err(e) => state.problem = problem_of(&e),
                }
            }
            let cross_site_write =
                is_state_changing(req.method()) && origin == OriginVerdict::Foreign;
            if state.via.is_none()
                && !cross_site_write
                && let Some(refresh) = &refresh_cookie
            {
                let ip = client_ip(depot);
                let ua = user_agent(req);
                match sessions.rotate(refresh, ip, ua.as_deref()).await {
                    Ok(issued) => {
                        sessions.set_cookies(res, &issued, https);
                        web::set_current_user(depot, issued.user, issued.role);
                        state.via = Some(AuthVia::Cookie);
                        state.problem = None;
                        state.rotated = Some(issued);
                    }
                    Err(
                        e @ (AuthError::Database(_) | AuthError::Store(_) | AuthError::Internal(_)),
                    ) => {
                        tracing::warn!(error = %e, "session refresh failed");
                        state.refresh_refused = Some(ApiError::from(&e));
                    }
                    Err(e) => {
                        // Revoked, expired, stolen or unknown: stop the browser from retrying.
                        Sessions::clear_cookies(res, https);
                        state.refresh_refused = Some(ApiError::from(&e));
                    }
                }
            }
        }
        depot.insert(STATE_KEY, state);
        ctrl.call_next(req, depot, res).await;
    }
}

fn is_api(req: &Request) -> bool {
    let path = req.uri().path();
    path == "/api" || path.starts_with("/api/")
}

/// Percent-encodes a path-and-query for a query parameter (`next=`, `link-orig=`).
pub(crate) fn encode_component(text: &str) -> String {
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

fn path_and_query(req: &Request) -> String {
    req.uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned())
}

/// The CSRF rules for a cookie-authenticated state change: origin must be ours; with no
/// origin information at all, a form-like body must carry the form token.
async fn csrf_check(req: &mut Request, depot: &Depot) -> Result<(), AuthError> {
    let Some(state) = session_state(depot) else {
        return Ok(());
    };
    if !is_state_changing(req.method()) || state.bearer || !state.session_cookie {
        return Ok(());
    }
    match state.origin {
        OriginVerdict::Trusted => Ok(()),
        OriginVerdict::Foreign => Err(AuthError::OriginInvalid),
        OriginVerdict::Absent if is_form_like(req) => {
            let expected = state.csrf_form_token.clone();
            let submitted = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
            if !expected.is_empty() && constant_time_eq(&expected, submitted.trim()) {
                Ok(())
            } else {
                Err(AuthError::OriginInvalid)
            }
        }
        OriginVerdict::Absent => Ok(()),
    }
}

async fn guard(req: &mut Request, depot: &Depot, admin: bool) -> Result<(), AuthError> {
    let Some(_user) = current_user(depot) else {
        return Err(match session_state(depot).and_then(|s| s.problem) {
            Some(TokenProblem::Expired) => AuthError::TokenExpired,
            Some(TokenProblem::Invalid) => AuthError::TokenInvalid,
            None => AuthError::Unauthorized,
        });
    };
    if admin && !current_role(depot).is_some_and(|r| r.is_admin()) {
        return Err(AuthError::Forbidden);
    }
    csrf_check(req, depot).await
}

/// Answers a refused request: the envelope under `/api`, a redirect to a login page (or a bare
/// status the error catcher renders) elsewhere.
async fn reject(
    err: &AuthError,
    admin: bool,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) {
    if is_api(req) {
        ApiError::from(err).write(req, depot, res).await;
        return;
    }
    match err {
        AuthError::OriginInvalid => {
            res.status_code(StatusCode::FORBIDDEN);
        }
        _ => {
            let next = encode_component(&path_and_query(req));
            let target = match (admin, err) {
                (true, AuthError::Forbidden) => "/admin/login".to_owned(),
                (true, _) => format!("/admin/login?next={next}"),
                (false, _) => format!("/login?next={next}"),
            };
            res.render(Redirect::found(target));
        }
    }
}

/// Guard: a logged-in user (any role). 401 envelope under `/api`, redirect to `/login` for pages.
#[handler]
pub async fn require_user(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
    ctrl: &mut FlowCtrl,
) {
    if let Err(e) = guard(req, depot, false).await {
        reject(&e, false, req, depot, res).await;
        ctrl.skip_rest();
    }
}

/// Guard: an ADMIN or SUPER_ADMIN. 401 / 403 `AUTH_ADMIN_REQUIRED` under `/api`, redirect to
/// `/admin/login` for pages.
#[handler]
pub async fn require_admin(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
    ctrl: &mut FlowCtrl,
) {
    if let Err(e) = guard(req, depot, true).await {
        reject(&e, true, req, depot, res).await;
        ctrl.skip_rest();
    }
}

/// Guard for state-changing endpoints that act on the session cookies without needing a user
/// (refresh, logout): only the CSRF rules.
#[handler]
pub async fn require_same_origin(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
    ctrl: &mut FlowCtrl,
) {
    if let Err(e) = csrf_check(req, depot).await {
        reject(&e, false, req, depot, res).await;
        ctrl.skip_rest();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_encoded() {
        assert_eq!(
            encode_component("/akun?x=1&y=a b"),
            "/akun%3Fx%3D1%26y%3Da%20b"
        );
    }
}
