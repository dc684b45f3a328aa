//! Who is calling, and the route guards every module uses.
//!
//! The session middleware (auth's) authenticates each request and records the outcome here:
//! [`super::set_current_user`] on success, [`set_token_problem`] when a presented token did not
//! count. [`require_user`] / [`require_admin`] refuse afterwards; the origin/CSRF rules run for
//! every state change before that, in [`super::csrf::Csrf`]. Handlers read the caller with the
//! [`CurrentUser`] extractor. No module needs auth to guard its routes.

use salvo::extract::{Extractible, Metadata};
use salvo::http::StatusCode;
use salvo::oapi::{Components, EndpointArgRegister, Operation};
use salvo::prelude::*;
use salvo::writing::Redirect;

use super::{current_role, current_user, encode_component, is_admin_area, is_api_path};
use crate::ports::users::Role;
use crate::{ApiError, ErrorCode, UserId};

const TOKEN_PROBLEM: &str = "lpsaring.web.token_problem";
const SECOND_FACTOR_MISSING: &str = "lpsaring.web.second_factor_missing";

/// The admin's security page, where a second factor is enrolled; with its JSON twin under
/// `/api/admin/security`, the only admin routes open to an admin who must enrol first.
pub const SECOND_FACTOR_PAGE: &str = "/admin/security";

/// Called by the session middleware for an admin whom `admin.require_totp` makes enrol a second
/// factor before anything else in the panel.
pub fn set_second_factor_missing(depot: &mut Depot) {
    depot.insert(SECOND_FACTOR_MISSING, true);
}

fn second_factor_missing(depot: &Depot) -> bool {
    depot.get::<bool>(SECOND_FACTOR_MISSING).is_ok_and(|b| *b)
}

/// The routes an admin who must enrol a second factor may still use.
fn enrolment_route(path: &str) -> bool {
    super::is_under(path, SECOND_FACTOR_PAGE) || super::is_under(path, "/api/admin/security")
}

/// Why a presented access token did not count (decides the 401 code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Expired,
    Invalid,
}

/// Called by the session middleware when the request's token was expired or invalid.
pub fn set_token_problem(depot: &mut Depot, problem: TokenProblem) {
    depot.insert(TOKEN_PROBLEM, problem);
}

fn token_problem(depot: &Depot) -> Option<TokenProblem> {
    depot.get::<TokenProblem>(TOKEN_PROBLEM).ok().copied()
}

/// Why a guard refused a request. The codes are the ones clients already key on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("please log in")]
    Unauthorized,
    #[error("your session has expired; please log in again")]
    TokenExpired,
    #[error("invalid session token")]
    TokenInvalid,
    #[error("you do not have permission for this")]
    AdminRequired,
    #[error("the request came from an untrusted origin")]
    OriginInvalid,
    #[error("set up the authenticator app (second factor) first")]
    SecondFactorRequired,
}

impl ErrorCode for GuardError {
    fn code(&self) -> &'static str {
        match self {
            GuardError::Unauthorized => "AUTH_UNAUTHORIZED",
            GuardError::TokenExpired => "AUTH_TOKEN_EXPIRED",
            GuardError::TokenInvalid => "AUTH_TOKEN_INVALID",
            GuardError::AdminRequired => "AUTH_ADMIN_REQUIRED",
            GuardError::OriginInvalid => "AUTH_ORIGIN_INVALID",
            GuardError::SecondFactorRequired => "AUTH_TOTP_ENROLL_REQUIRED",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            GuardError::Unauthorized | GuardError::TokenExpired | GuardError::TokenInvalid => {
                StatusCode::UNAUTHORIZED
            }
            GuardError::AdminRequired
            | GuardError::OriginInvalid
            | GuardError::SecondFactorRequired => StatusCode::FORBIDDEN,
        }
    }
}

/// The authenticated caller. As a handler argument it answers 401 in the envelope when nobody is
/// logged in, so a handler that takes it cannot be opened by a mounting mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub role: Role,
}

impl CurrentUser {
    /// The caller of this request, or why there is none.
    pub fn of(depot: &Depot) -> Result<Self, GuardError> {
        match (current_user(depot), current_role(depot)) {
            (Some(id), Some(role)) => Ok(Self { id, role }),
            _ => Err(match token_problem(depot) {
                Some(TokenProblem::Expired) => GuardError::TokenExpired,
                Some(TokenProblem::Invalid) => GuardError::TokenInvalid,
                None => GuardError::Unauthorized,
            }),
        }
    }

    /// The caller, who must be an ADMIN or SUPER_ADMIN.
    pub fn admin(depot: &Depot) -> Result<Self, GuardError> {
        let user = Self::of(depot)?;
        if user.role.is_admin() {
            Ok(user)
        } else {
            Err(GuardError::AdminRequired)
        }
    }

    /// The caller, who must be a SUPER_ADMIN (money going back, for one).
    pub fn super_admin(depot: &Depot) -> Result<Self, GuardError> {
        let user = Self::of(depot)?;
        if user.role == Role::SuperAdmin {
            Ok(user)
        } else {
            Err(GuardError::AdminRequired)
        }
    }
}

impl<'ex> Extractible<'ex> for CurrentUser {
    fn metadata() -> &'static Metadata {
        static METADATA: Metadata = Metadata::new("");
        &METADATA
    }

    #[allow(refining_impl_trait)]
    async fn extract(_req: &'ex mut Request, depot: &'ex mut Depot) -> Result<Self, ApiError> {
        Self::of(depot).map_err(|e| ApiError::from(&e))
    }
}

/// The caller is no request input: nothing to document beyond the 401 the route lists.
impl EndpointArgRegister for CurrentUser {
    fn register(_components: &mut Components, _operation: &mut Operation, _arg: &str) {}
}

/// Answers a refused request: the envelope under `/api`; elsewhere a redirect to the login page
/// (to the admin one for admin routes), or a bare 403 the error catcher renders.
pub(crate) async fn reject(
    err: &GuardError,
    admin: bool,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) {
    if is_api_path(req.uri().path()) {
        ApiError::from(err).write(req, depot, res).await;
        return;
    }
    if *err == GuardError::OriginInvalid {
        res.status_code(StatusCode::FORBIDDEN);
        return;
    }
    let here = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let next = encode_component(&here);
    let target = match (admin, err) {
        (true, GuardError::AdminRequired) => "/admin/login".to_owned(),
        (_, GuardError::SecondFactorRequired) => SECOND_FACTOR_PAGE.to_owned(),
        (true, _) => format!("/admin/login?next={next}"),
        (false, _) => format!("/login?next={next}"),
    };
    res.render(Redirect::found(target));
}

/// Guard: a logged-in user (any role). 401 envelope under `/api`, redirect to `/login` for pages.
#[handler]
pub async fn require_user(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
    ctrl: &mut FlowCtrl,
) {
    if let Err(e) = CurrentUser::of(depot) {
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
    if let Err(e) = CurrentUser::admin(depot) {
        reject(&e, true, req, depot, res).await;
        ctrl.skip_rest();
    }
}

/// Guard for the whole service, mounted once by `app`: every route in the admin area
/// ([`is_admin_area`]: `/api/admin/*` and the `/admin` pages but the login), whichever module
/// mounts it, admits only admins. A module's own [`require_admin`] stays; this one means a route
/// added without it is still closed. An admin who must enrol a second factor first
/// ([`set_second_factor_missing`]) reaches only the security page and its JSON.
#[handler]
pub async fn admin_area(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
    ctrl: &mut FlowCtrl,
) {
    let path = req.uri().path();
    if !is_admin_area(path) {
        return;
    }
    let verdict = match CurrentUser::admin(depot) {
        Ok(_) if second_factor_missing(depot) && !enrolment_route(path) => {
            Err(GuardError::SecondFactorRequired)
        }
        other => other.map(|_| ()),
    };
    if let Err(e) = verdict {
        reject(&e, true, req, depot, res).await;
        ctrl.skip_rest();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_codes_are_the_ones_clients_know() {
        assert_eq!(GuardError::Unauthorized.code(), "AUTH_UNAUTHORIZED");
        assert_eq!(GuardError::AdminRequired.status(), StatusCode::FORBIDDEN);
        assert_eq!(GuardError::OriginInvalid.code(), "AUTH_ORIGIN_INVALID");
    }
}
