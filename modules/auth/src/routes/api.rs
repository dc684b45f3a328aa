//! The JSON API of the login flows, with the original's paths under `/api/auth`.

use std::sync::Arc;

use lpsaring_kernel::ports::users::UserFacts;
use lpsaring_kernel::web::{
    CurrentUser, JsonIn, JsonOrForm, current_user, encode_component, is_https,
};
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
use crate::service::{LoggedIn, VerifyInput, VoucherInput};
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
    body: JsonOrForm<RequestOtpBody>,
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

/// `hotspot_login_context` as either client sends it: the router's links (ours) or the
/// original's flag saying "this login comes from the captive page".
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum HotspotContextIn {
    Flag(bool),
    Links(HotspotLoginContext),
}

#[derive(Debug, Deserialize, ToSchema)]
struct VerifyOtpBody {
    phone_number: String,
    otp: String,
    #[serde(default, alias = "clientIp")]
    client_ip: Option<String>,
    #[serde(default, alias = "clientMac")]
    client_mac: Option<String>,
    #[serde(default, alias = "hotspotLoginContext")]
    hotspot_login_context: Option<HotspotContextIn>,
    #[serde(default, alias = "confirmDeviceTakeover")]
    confirm_device_takeover: bool,
}

#[derive(Debug, Serialize, ToSchema)]
struct UserView {
    id: i64,
    /// `None` for a voucher account.
    phone_number: Option<String>,
    full_name: String,
    role: String,
}

impl From<&UserFacts> for UserView {
    fn from(u: &UserFacts) -> Self {
        Self {
            id: u.id.0,
            phone_number: u.phone.as_ref().map(ToString::to_string),
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
    /// The access token (also set as the `auth_token` cookie), for bearer clients.
    access_token: String,
    /// `bearer`.
    token_type: &'static str,
    /// The router still wants a hotspot login with `hotspot_username`/`hotspot_password`.
    hotspot_login_required: bool,
    /// The device got its ip-binding on the router at this login.
    hotspot_binding_active: bool,
    hotspot_username: Option<String>,
    hotspot_password: Option<String>,
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

/// The hotspot context of a JSON login; a client IP or MAC that is given but malformed is a 422,
/// never silently a login outside the hotspot.
fn json_context(
    client_ip: Option<&str>,
    client_mac: Option<&str>,
    context: Option<HotspotContextIn>,
) -> Result<CaptiveContext, ApiError> {
    let given = |v: Option<&str>| v.is_some_and(|s| !s.trim().is_empty());
    let context = match context {
        Some(HotspotContextIn::Links(links)) => links,
        // The original's flag: a captive login must say which device it is for.
        Some(HotspotContextIn::Flag(true)) if !given(client_ip) && !given(client_mac) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "HOTSPOT_CONTEXT_MISSING",
                "A hotspot login needs client_ip or client_mac.",
            ));
        }
        Some(HotspotContextIn::Flag(_)) | None => HotspotLoginContext::default(),
    };
    let ctx = CaptiveContext::from_fields(|k| match k {
        "ip" => client_ip.map(str::to_owned),
        "mac" => client_mac.map(str::to_owned),
        "link-login-only" => context.link_login_only.clone(),
        "link-orig" => context.link_orig.clone(),
        _ => None,
    });
    if given(client_ip) && ctx.ip.is_none() {
        return Err(ApiError::from(AuthError::Validation(
            "client_ip is not an IPv4 address".to_owned(),
        )));
    }
    if given(client_mac) && ctx.mac.is_none() {
        return Err(ApiError::from(AuthError::Validation(
            "client_mac is not a MAC address".to_owned(),
        )));
    }
    Ok(ctx)
}

/// A refusal as the API answers it: a router refusal reads as a plain sentence in the page's
/// language (the trap text stays the logged cause); the other answers keep the messages clients
/// already match.
fn refusal(lang: Lang, error: AuthError) -> ApiError {
    let router_refused = matches!(error, AuthError::Router(_));
    let localized = router_refused.then(|| localized(lang, &error));
    let mut api = ApiError::from(error);
    if let Some(message) = localized {
        api.message = message;
    }
    api
}

/// The answer of a login that went through: cookies set, no caching, the body.
fn logged_in(
    svc: &crate::Service,
    done: LoggedIn,
    ctx: CaptiveContext,
    https: bool,
    res: &mut Response,
) -> Json<VerifyResponse> {
    svc.sessions.set_cookies(res, &done.session, https);
    super::no_store(res);
    let session_url = done.session_url();
    let session_token = done.handoff.as_ref().map(|t| t.expose().clone());
    let outcome = done.outcome;
    let link_login_only = done.link_login_only;
    let redirect = match ctx.link_orig {
        Some(orig) => format!("/captive/terhubung?link-orig={}", encode_component(&orig)),
        None => "/captive/terhubung".to_owned(),
    };
    let hotspot = outcome.hotspot_login.as_ref();
    Json(VerifyResponse {
        success: true,
        access_token: done.session.access_token.expose().clone(),
        token_type: "bearer",
        hotspot_login_required: hotspot.is_some(),
        hotspot_binding_active: outcome.device.is_some(),
        hotspot_username: hotspot.map(|h| h.username.clone()),
        hotspot_password: hotspot.map(|h| h.password.clone()),
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
    })
}

/// The client IP, client MAC and hotspot context of a JSON login body.
type Hints = (Option<String>, Option<String>, Option<HotspotContextIn>);

/// The shared half of the JSON logins: the hotspot context checked, `login` called with it,
/// the answer (cookies, device, access status) or the refusal in the envelope.
async fn json_login<Fut>(
    req: &Request,
    depot: &Depot,
    res: &mut Response,
    (client_ip, client_mac, context): Hints,
    login: impl FnOnce(Arc<crate::Service>, CaptiveContext, ClientHints) -> Fut,
) -> Result<Json<VerifyResponse>, ApiError>
where
    Fut: Future<Output = Result<LoggedIn, AuthError>>,
{
    let svc = service(depot)?;
    let ctx = json_context(client_ip.as_deref(), client_mac.as_deref(), context)?;
    let client = ClientHints::of(req, depot);
    let https = client.https;
    let lang = Lang::of_request(req);
    let done = login(svc.clone(), ctx.clone(), client)
        .await
        .map_err(|e| refusal(lang, e))?;
    Ok(logged_in(&svc, done, ctx, https, res))
}

/// Checks the code and logs in; behind the hotspot also binds the device on the router.
#[endpoint(tags("auth"), status_codes(200, 401, 403, 409, 410, 422, 429, 503))]
pub(super) async fn verify_otp(
    body: JsonOrForm<VerifyOtpBody>,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<VerifyResponse>, ApiError> {
    let body = body.into_inner();
    let hints = (body.client_ip, body.client_mac, body.hotspot_login_context);
    json_login(req, depot, res, hints, |svc, ctx, client| async move {
        let input = VerifyInput {
            phone_number: body.phone_number,
            otp: body.otp,
            confirm_device_takeover: body.confirm_device_takeover,
            ctx,
        };
        svc.login(input, &client).await.map_err(|r| r.error)
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
struct VoucherLoginBody {
    /// The printed code, with or without its dashes, any case.
    code: String,
    #[serde(default)]
    client_ip: Option<String>,
    #[serde(default)]
    client_mac: Option<String>,
    #[serde(default)]
    hotspot_login_context: Option<HotspotContextIn>,
    #[serde(default)]
    confirm_device_takeover: bool,
}

/// Logs in with a voucher code alone (no phone): the first use makes the voucher's account
/// holding its package; later uses log in to the same account, up to the device limit.
#[endpoint(tags("auth"), status_codes(200, 400, 403, 409, 422, 429, 503))]
pub(super) async fn voucher_login(
    body: JsonIn<VoucherLoginBody>,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<VerifyResponse>, ApiError> {
    let body = body.into_inner();
    let hints = (body.client_ip, body.client_mac, body.hotspot_login_context);
    json_login(req, depot, res, hints, |svc, ctx, client| async move {
        let input = VoucherInput {
            code: body.code,
            confirm_device_takeover: body.confirm_device_takeover,
            ctx,
        };
        svc.voucher_login(input, &client).await
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
struct PhoneBody {
    phone_number: String,
    /// The code sent to it (the second step).
    #[serde(default)]
    otp: Option<String>,
}

/// A voucher account attaches a phone for notices: without `otp` a code is sent to the phone;
/// with it the phone is attached.
#[endpoint(tags("auth"), status_codes(200, 401, 409, 410, 422, 429, 503))]
pub(super) async fn attach_phone(
    user: CurrentUser,
    body: JsonIn<PhoneBody>,
    req: &mut Request,
    depot: &mut Depot,
) -> Result<Json<MessageResponse>, ApiError> {
    let svc = service(depot)?;
    let lang = Lang::of_request(req);
    let client = ClientHints::of(req, depot);
    let message = match body.otp.as_deref() {
        None => {
            let (_, sent) = svc
                .request_phone_code(user.id, &body.phone_number, &client, lang)
                .await?;
            format!("OTP sent to {}", sent.sent_to)
        }
        Some(code) => {
            svc.attach_phone(user.id, &body.phone_number, code, &client)
                .await?;
            "Phone number attached".to_owned()
        }
    };
    Ok(Json(MessageResponse {
        success: true,
        message,
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
