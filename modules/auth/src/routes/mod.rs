//! HTTP surface of auth's login half: the captive and login pages (forms, no JavaScript needed)
//! in [`pages`] and the JSON API with the original's paths in [`api`]. Handlers parse, call one
//! service method, render; the service side is in `crate::service`, the user-facing texts of
//! errors in `crate::messages`.

pub(crate) mod admin;
mod admin_pages;
pub(crate) mod admin_user_page;
mod api;
mod pages;

use std::sync::Arc;

use lpsaring_kernel::ApiError;
use lpsaring_kernel::web::require_user;
use salvo::prelude::*;

use self::pages::Flow;
use crate::{Service, session};

fn service(depot: &Depot) -> Result<Arc<Service>, ApiError> {
    depot
        .get_typed::<Arc<Service>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"auth service missing from the depot"))
}

/// The refresh cookie of this request, if any (logout revokes its family).
fn refresh_cookie(req: &Request) -> Option<String> {
    req.cookie(session::REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
}

/// A login answer carries session cookies and possibly the hotspot password: no cache (a
/// browser's, a proxy's) may keep it.
pub(crate) fn no_store(res: &mut Response) {
    res.headers_mut().insert(
        salvo::http::header::CACHE_CONTROL,
        salvo::http::HeaderValue::from_static("no-store"),
    );
}

/// Every route of auth's login half. State changes need no guard of their own for CSRF: the
/// kernel's origin check runs for every one of them.
pub fn router() -> Router {
    Router::new()
        .push(Router::with_path("captive").get(pages::ShowLogin(Flow::Captive)))
        .push(Router::with_path("captive/request").post(pages::RequestCodeForm(Flow::Captive)))
        .push(Router::with_path("captive/verify").post(pages::VerifyCodeForm(Flow::Captive)))
        .push(Router::with_path("captive/voucher").post(pages::VoucherForm(Flow::Captive)))
        .push(Router::with_path("captive/terhubung").get(pages::connected))
        .push(Router::with_path("login").get(pages::ShowLogin(Flow::Login)))
        .push(Router::with_path("login/request").post(pages::RequestCodeForm(Flow::Login)))
        .push(Router::with_path("login/verify").post(pages::VerifyCodeForm(Flow::Login)))
        .push(Router::with_path("login/voucher").post(pages::VoucherForm(Flow::Login)))
        .push(Router::with_path("logout").post(pages::logout_form))
        .push(
            Router::with_path("register")
                .get(pages::RegisterPage)
                .post(pages::RegisterPage),
        )
        .push(Router::with_path("policy/{status}").get(pages::policy))
        .push(Router::with_path("api/auth/request-otp").post(api::request_otp))
        .push(Router::with_path("api/auth/verify-otp").post(api::verify_otp))
        .push(Router::with_path("api/auth/voucher-login").post(api::voucher_login))
        .push(
            Router::with_path("api/auth/me/phone")
                .hoop(require_user)
                .post(api::attach_phone),
        )
        .push(Router::with_path("api/auth/register").post(api::register))
        .push(Router::with_path("api/auth/logout").post(api::logout))
        .push(
            Router::with_path("api/auth/reset-login")
                .hoop(require_user)
                .post(api::reset_login),
        )
}
