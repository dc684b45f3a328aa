//! HTTP surface of auth's login half: the captive and login pages (forms, no JavaScript needed)
//! in [`pages`] and the JSON API with the original's paths in [`api`]. Handlers parse, call one
//! service method, render; the service side is in `crate::service`, the user-facing texts of
//! errors in `crate::messages`.

mod api;
mod pages;

use std::sync::Arc;

use lpsaring_kernel::ApiError;
use salvo::prelude::*;

use self::pages::Flow;
use crate::error::AuthError;
use crate::{Service, session};

fn service(depot: &Depot) -> Result<Arc<Service>, ApiError> {
    depot
        .get_typed::<Arc<Service>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"auth service missing from the depot"))
}

fn api_error(e: &AuthError) -> ApiError {
    if matches!(
        e,
        AuthError::Database(_) | AuthError::Store(_) | AuthError::Internal(_)
    ) {
        tracing::error!(error = %e, "auth internal error");
    }
    ApiError::from(e)
}

/// The refresh cookie of this request, if any (logout revokes its family).
fn refresh_cookie(req: &Request) -> Option<String> {
    req.cookie(session::REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
}

/// Every route of auth's login half.
pub fn router() -> Router {
    Router::new()
        .push(Router::with_path("captive").get(pages::ShowLogin(Flow::Captive)))
        .push(Router::with_path("captive/request").post(pages::RequestCodeForm(Flow::Captive)))
        .push(Router::with_path("captive/verify").post(pages::VerifyCodeForm(Flow::Captive)))
        .push(Router::with_path("captive/terhubung").get(pages::connected))
        .push(Router::with_path("login").get(pages::ShowLogin(Flow::Login)))
        .push(Router::with_path("login/request").post(pages::RequestCodeForm(Flow::Login)))
        .push(Router::with_path("login/verify").post(pages::VerifyCodeForm(Flow::Login)))
        .push(
            Router::with_path("logout")
                .hoop(session::require_same_origin)
                .post(pages::logout_form),
        )
        .push(
            Router::with_path("register")
                .get(pages::RegisterPage)
                .post(pages::RegisterPage),
        )
        .push(Router::with_path("policy/{status}").get(pages::policy))
        .push(Router::with_path("api/auth/request-otp").post(api::request_otp))
        .push(Router::with_path("api/auth/verify-otp").post(api::verify_otp))
        .push(Router::with_path("api/auth/register").post(api::register))
        .push(
            Router::with_path("api/auth/logout")
                .hoop(session::require_same_origin)
                .post(api::logout),
        )
        .push(
            Router::with_path("api/auth/reset-login")
                .hoop(session::require_same_origin)
                .post(api::reset_login),
        )
}
