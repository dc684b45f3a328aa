//! The per-request session middleware.
//!
//! [`SessionHoop`] runs for every request: it authenticates from a bearer token or the access
//! cookie, and when the cookie is missing or expired but a refresh cookie is present it rotates
//! the refresh token and sets both new cookies on this same response (cookie auto-refresh). It
//! never rejects: it records the caller in `kernel::web`, whose guards (`require_user`,
//! `require_admin`, the `CurrentUser` extractor) refuse afterwards. The origin/CSRF rules have
//! already run by then (`kernel::web::Csrf`), so a cross-site write never gets here with cookies.
//! An admin's token, or any token on an admin route, is checked against the users table and the
//! admin idle timeout ([`super::idle`]) before it counts.

use std::sync::Arc;

use lpsaring_kernel::ApiError;
use lpsaring_kernel::client::user_agent;
use lpsaring_kernel::web::{self, TokenProblem, client_ip};
use salvo::prelude::*;

use super::cookies::{ACCESS_COOKIE, REFRESH_COOKIE};
use super::idle::Standing;
use super::service::{IssuedSession, Sessions};
use crate::error::AuthError;

const STATE_KEY: &str = "lpsaring.auth.session";

/// What the hoop did with the refresh cookie; read by the refresh endpoint of the same request
/// (a second rotation in one request would count as a reuse).
#[derive(Debug, Clone, Default)]
pub struct SessionState {
    /// Set when this request's refresh cookie was rotated by the hoop.
    pub rotated: Option<IssuedSession>,
    /// Set when the hoop tried that rotation and it was refused.
    pub refresh_refused: Option<ApiError>,
}

/// The session state of this request, when [`SessionHoop`] ran.
pub fn session_state(depot: &Depot) -> Option<&SessionState> {
    depot.get::<SessionState>(STATE_KEY).ok()
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

    /// Checks an access token and records the caller, or why the token did not count. True when
    /// the token was good.
    async fn accept(&self, token: &str, admin_route: bool, depot: &mut Depot) -> bool {
        match self.sessions.verify_access(token) {
            Ok(subject) => {
                self.admit(
                    subject.user,
                    subject.role,
                    &subject.family,
                    admin_route,
                    depot,
                )
                .await
            }
            Err(e) => {
                if let Some(problem) = problem_of(&e) {
                    web::set_token_problem(depot, problem);
                }
                false
            }
        }
    }

    /// Records `user` as the caller with the role the users table gives now, unless the session
    /// is over (blocked, deleted, an idle admin). True when recorded.
    async fn admit(
        &self,
        user: lpsaring_kernel::UserId,
        role: lpsaring_kernel::ports::users::Role,
        family: &str,
        admin_route: bool,
        depot: &mut Depot,
    ) -> bool {
        match self
            .sessions
            .standing(user, role, family, admin_route)
            .await
        {
            Ok(Standing::Acts { role, enrol_first }) => {
                web::set_current_user(depot, user, role);
                if enrol_first {
                    web::set_second_factor_missing(depot);
                }
                true
            }
            Ok(Standing::Gone(problem)) => {
                web::set_token_problem(depot, problem);
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot check a session's standing");
                false
            }
        }
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
        let mut state = SessionState::default();
        let admin_route = web::is_admin_area(req.uri().path());
        if let Some(token) = bearer_token(req) {
            // A bearer client manages its own tokens: no cookie refresh behind its back.
            self.accept(&token, admin_route, depot).await;
        } else {
            let authenticated = match cookie_value(req, ACCESS_COOKIE) {
                Some(token) => self.accept(&token, admin_route, depot).await,
                None => false,
            };
            if !authenticated && let Some(refresh) = cookie_value(req, REFRESH_COOKIE) {
                let https = web::is_https(depot);
                let ua = user_agent(req);
                match sessions
                    .rotate(&refresh, client_ip(depot), ua.as_deref())
                    .await
                {
                    Ok(issued) => {
                        if self
                            .admit(issued.user, issued.role, &issued.family, admin_route, depot)
                            .await
                        {
                            sessions.set_cookies(res, &issued, https);
                            state.rotated = Some(issued);
                        } else {
                            // An idle admin session: revoked just now, so stop the browser too.
                            Sessions::clear_cookies(res, https);
                            state.refresh_refused = Some(ApiError::from(&AuthError::TokenExpired));
                        }
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
