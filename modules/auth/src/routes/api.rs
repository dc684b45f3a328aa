//! The JSON API of the login flows, with the original's paths under `/api/auth`.

use lpsaring_kernel::ports::users::UserFacts;
use lpsaring_kernel::web::{CurrentUser, JsonIn, current_user, encode_component, is_https};
use lpsaring_kernel::{ApiError, ClientHints, Lang};
use salvo::http::StatusCode;
use salvo::oapi::ToSchema;
use salvo::prelude::*;
use serde::{Deserialize, Serialize};

use super::{refresh_cookie, service};
use crate::context::CaptiveContext;
use crate::error::AuthError;
use crate::messages::localized;
use crate::pages::REGISTERED;
use crate::service::VerifyInput;
use crate::session;

#[derive(Debug, Deserialize, ToSchema)]
struct RequestOtpBody {
    phone_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct OtpSentResponse {
    success: bool,
    message: String,
    sent_to: String,
    expires_in_secs: u64,
    resend_after_secs: u64,
}

/// Sends a one-time code over WhatsApp.
#[endpoint(tags("auth"), status_codes(200, 404, 403, 422, 429, 503))]
pub(super) async fn request_otp(
    body: JsonIn<RequestOtpBody>,
    req: &mut Request,
    depot: &mut Depot,
) -> Result<Json<OtpSentResponse>, ApiError> {
    let svc = service(depot)?;
    let lang = Lang::of_request(req);
    let (_, sent) = svc
        .request_code(&body.phone_number, &ClientHints::of(req, depot), lang)
        .await?;
    Ok(Json(OtpSentResponse {
        success: true,
        message: "OTP sent".to_owned(),
        sent_to: sent.sent_to,
        expires_in_secs: sent.expires_in_secs,
        resend_after_secs: sent.resend_after_secs,
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
struct HotspotLoginContext {
    #[serde(default, alias = "link-login-only")]
    link_login_only: Option<String>,
    #[serde(default, alias = "link-orig")]
    link_orig: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct VerifyOtpBody {
    phone_number: String,
    otp: String,
    #[serde(default)]
    client_ip: Option<String>,
    #[serde(default)]
    client_mac: Option<String>,
    #[serde(default)]
    hotspot_login_context: Option<HotspotLoginContext>,
    #[serde(default)]
    confirm_device_takeover: bool,
}

#[derive(Debug, Serialize, ToSchema)]
struct UserView {
    id: i64,
    phone_number: String,
    full_name: String,
    role: String,
}

impl From<&UserFacts> for UserView {
    fn from(u: &UserFacts) -> Self {
        Self {
            id: u.id.0,
            phone_number: u.phone.to_string(),
            full_name: u.name.clone(),
            role: u.role.as_str().to_owned(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct DeviceView {
    mac: String,
    ip: String,
    binding: String,
    address_list: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct HotspotLoginView {
    username: String,
    password: String,
    link_login_only: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct VerifyResponse {
    success: bool,
    user: UserView,
    access_status: String,
    device: Option<DeviceView>,
    hotspot_login: Option<HotspotLoginView>,
    redirect: String,
    /// Opens the account in another browser (the captive window keeps no cookies): single use,
    /// valid for two minutes.
    session_token: Option<String>,
    /// `/session/consume?token=…&next=/akun`.
    session_url: Option<String>,
}

/// Checks the code and logs in; behind the hotspot also binds the device on the router.
#[endpoint(tags("auth"), status_codes(200, 401, 403, 409, 410, 422, 429, 503))]
pub(super) async fn verify_otp(
    body: JsonIn<VerifyOtpBody>,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<VerifyResponse>, ApiError> {
    let svc = service(depot)?;
    let body = body.into_inner();
    let context = body.hotspot_login_context.unwrap_or_default();
    let ctx = CaptiveContext::from_fields(|k| match k {
        "ip" => body.client_ip.clone(),
        "mac" => body.client_mac.clone(),
        "link-login-only" => context.link_login_only.clone(),
        "link-orig" => context.link_orig.clone(),
        _ => None,
    });
    if body
        .client_ip
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
        && ctx.ip.is_none()
    {
        return Err(ApiError::from(AuthError::Validation(
            "client_ip is not an IPv4 address".to_owned(),
        )));
    }
    if body
        .client_mac
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
        && ctx.mac.is_none()
    {
        return Err(ApiError::from(AuthError::Validation(
            "client_mac is not a MAC address".to_owned(),
        )));
    }
    let input = VerifyInput {
        phone_number: body.phone_number,
        otp: body.otp,
        confirm_device_takeover: body.confirm_device_takeover,
        ctx: ctx.clone(),
    };
    let client = ClientHints::of(req, depot);
    let lang = Lang::of_request(req);
    let done = svc.login(input, &client).await.map_err(|refused| {
        // A router refusal reads as a plain sentence in the page's language (the trap text
        // stays the logged cause); the other answers keep the messages clients already match.
        let router_refused = matches!(refused.error, AuthError::Router(_));
        let localized = router_refused.then(|| localized(lang, &refused.error));
        let mut api = ApiError::from(refused.error);
        if let Some(message) = localized {
            api.message = message;
        }
        api
    })?;
    svc.sessions.set_cookies(res, &done.session, client.https);
    super::no_store(res);
    let session_url = done.session_url();
    let session_token = done.handoff.as_ref().map(|t| t.expose().clone());
    let outcome = done.outcome;
    let link_login_only = done.link_login_only;
    let redirect = match ctx.link_orig {
        Some(orig) => format!("/captive/terhubung?link-orig={}", encode_component(&orig)),
        None => "/captive/terhubung".to_owned(),
    };
    Ok(Json(VerifyResponse {
        success: true,
        user: UserView::from(&outcome.user),
        access_status: outcome.status.as_str().to_owned(),
        device: outcome.device.as_ref().map(|d| DeviceView {
            mac: d.mac.to_string(),
            ip: d.ip.to_string(),
            binding: d.binding.as_str().to_owned(),
            address_list: d.address_list.clone(),
        }),
        hotspot_login: outcome.hotspot_login.as_ref().map(|h| HotspotLoginView {
            username: h.username.clone(),
            password: h.password.clone(),
            link_login_only: link_login_only.clone(),
        }),
        redirect,
        session_token,
        session_url,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
struct RegisterBody {
    phone_number: String,
    full_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct MessageResponse {
    success: bool,
    message: String,
}

/// Self-registration; the account waits for the operator's approval.
#[endpoint(tags("auth"), status_codes(201, 409, 422, 429))]
pub(super) async fn register(
    body: JsonIn<RegisterBody>,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<MessageResponse>, ApiError> {
    let svc = service(depot)?;
    let lang = Lang::of_request(req);
    svc.register(
        &body.phone_number,
        &body.full_name,
        &ClientHints::of(req, depot),
    )
    .await?;
    res.status_code(StatusCode::CREATED);
    Ok(Json(MessageResponse {
        success: true,
        message: REGISTERED.get(lang).to_owned(),
    }))
}

/// Ends the session and removes the user's devices from the router (best effort; always 200).
#[endpoint(tags("auth"))]
pub(super) async fn logout(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<MessageResponse>, ApiError> {
    let svc = service(depot)?;
    svc.logout(refresh_cookie(req).as_deref(), current_user(depot))
        .await;
    session::Sessions::clear_cookies(res, is_https(depot));
    Ok(Json(MessageResponse {
        success: true,
        message: "Logged out".to_owned(),
    }))
}

/// Removes the user's devices from the router but keeps the session (the original's reset-login).
#[endpoint(tags("auth"), status_codes(200, 401))]
pub(super) async fn reset_login(
    user: CurrentUser,
    depot: &mut Depot,
) -> Result<Json<MessageResponse>, ApiError> {
    let svc = service(depot)?;
    let failures = svc.captive.release_router_state(user.id).await?;
    let message = if failures == 0 {
        "Router access reset".to_owned()
    } else {
        format!("Router access reset with {failures} failed step(s)")
    };
    Ok(Json(MessageResponse {
        success: true,
        message,
    }))
}
