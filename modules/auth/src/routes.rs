//! HTTP surface of auth's login half: the captive and login pages (forms, no JavaScript needed)
//! and the JSON API with the original's paths. Handlers parse, call one service method, render.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use lpsaring_kernel::ports::access::AccessStatus;
use lpsaring_kernel::ports::users::{Role, UserFacts};
use lpsaring_kernel::web::{client_ip, current_user, is_https};
use lpsaring_kernel::{ApiError, Lang, Phone};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::oapi::ToSchema;
use salvo::oapi::extract::JsonBody;
use salvo::prelude::*;
use serde::{Deserialize, Serialize};

use crate::captive::{LoginOutcome, LoginRequest};
use crate::context::CaptiveContext;
use crate::error::AuthError;
use crate::pages::{
    ConnectedTexts, ConnectedView, HotspotForm, LoginTexts, LoginView, REGISTERED, RegisterTexts,
    RegisterView, page, policy_page,
};
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

fn user_agent(req: &Request) -> Option<String> {
    req.headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Starts a session for `user` and sets both cookies on this response.
async fn start_session(
    svc: &Service,
    req: &Request,
    depot: &Depot,
    res: &mut Response,
    user: &UserFacts,
) -> Result<(), AuthError> {
    let ua = user_agent(req);
    let issued = svc
        .sessions
        .issue(user, client_ip(depot), ua.as_deref())
        .await?;
    svc.sessions.set_cookies(res, &issued, is_https(depot));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pages

/// Which page family a form belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// `/captive`: behind the hotspot; binds the device.
    Captive,
    /// `/login`: anywhere; no binding.
    Login,
}

impl Flow {
    fn base(self) -> &'static str {
        match self {
            Flow::Captive => "/captive",
            Flow::Login => "/login",
        }
    }
}

async fn form_fields(req: &mut Request) -> HashMap<String, String> {
    match req.form_data().await {
        Ok(form) => form
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Err(_) => HashMap::new(),
    }
}

struct LoginStep<'a> {
    flow: Flow,
    ctx: &'a CaptiveContext,
    phone: &'a str,
    code_step: bool,
    sent_to: String,
    info: Option<String>,
    error: Option<String>,
    resend_after_secs: u64,
    attempts_left: Option<u32>,
    ask_takeover: bool,
}

fn render_login(
    lang: Lang,
    csrf: &str,
    step: LoginStep<'_>,
    status: StatusCode,
) -> lpsaring_kernel::ui::Page {
    let t = LoginTexts::new(lang, step.flow == Flow::Captive);
    let title = t.title;
    let hidden = match step.flow {
        Flow::Captive => step.ctx.hidden_fields(),
        Flow::Login => Vec::new(),
    };
    let view = LoginView {
        t,
        action_base: step.flow.base(),
        csrf,
        hidden,
        phone: step.phone,
        step_code: step.code_step,
        sent_to: step.sent_to,
        info: step.info,
        error: step.error,
        resend_after_secs: step.resend_after_secs,
        attempts_left: step.attempts_left,
        ask_takeover: step.ask_takeover,
    };
    page(lang, title, view.render_once()).with_status(status)
}

/// `GET /captive` and `GET /login`: the phone step.
struct ShowLogin(Flow);

#[async_trait]
impl Handler for ShowLogin {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let lang = Lang::of_request(req);
        let ctx = CaptiveContext::from_fields(|k| req.query::<String>(k));
        let csrf = session::csrf_token(depot);
        let step = LoginStep {
            flow: self.0,
            ctx: &ctx,
            phone: "",
            code_step: false,
            sent_to: String::new(),
            info: None,
            error: None,
            resend_after_secs: 0,
            attempts_left: None,
            ask_takeover: false,
        };
        res.render(render_login(lang, &csrf, step, StatusCode::OK));
    }
}

/// `POST …/request`: sends a code and shows the code step, or the phone step with the error.
struct RequestCodeForm(Flow);

#[async_trait]
impl Handler for RequestCodeForm {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let lang = Lang::of_request(req);
        let fields = form_fields(req).await;
        let ctx = CaptiveContext::from_fields(|k| fields.get(k).cloned());
        let raw_phone = fields.get("phone_number").cloned().unwrap_or_default();
        let csrf = session::csrf_token(depot);
        let Ok(svc) = service(depot) else {
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
            return;
        };
        let mut step = LoginStep {
            flow: self.0,
            ctx: &ctx,
            phone: &raw_phone,
            code_step: false,
            sent_to: String::new(),
            info: None,
            error: None,
            resend_after_secs: 0,
            attempts_left: None,
            ask_takeover: false,
        };
        if !session::verify_form_token(
            depot,
            fields
                .get(session::CSRF_FIELD)
                .map(String::as_str)
                .unwrap_or(""),
        ) {
            step.error = Some(form_expired(lang));
            res.render(render_login(lang, &csrf, step, StatusCode::FORBIDDEN));
            return;
        }
        match svc.request_code(&raw_phone, client_ip(depot), lang).await {
            Ok((phone, sent)) => {
                let phone_text = phone.to_string();
                step.phone = &phone_text;
                step.code_step = true;
                step.sent_to = sent.sent_to;
                step.resend_after_secs = sent.resend_after_secs;
                step.attempts_left = Some(svc.settings.otp_max_attempts);
                res.render(render_login(lang, &csrf, step, StatusCode::OK));
            }
            Err(e) => {
                // A cooldown on a valid phone still lets the user type the code already sent.
                if let (AuthError::OtpCooldown { retry_after_secs }, Ok(phone)) =
                    (&e, Phone::parse(&raw_phone))
                {
                    let phone_text = phone.to_string();
                    step.phone = &phone_text;
                    step.code_step = true;
                    step.sent_to = phone.masked();
                    step.resend_after_secs = *retry_after_secs;
                    step.info = Some(localized(lang, &e));
                    res.render(render_login(lang, &csrf, step, StatusCode::OK));
                    return;
                }
                step.error = Some(localized(lang, &e));
                let status = ApiError::from(&e).status;
                res.render(render_login(lang, &csrf, step, status));
            }
        }
    }
}

/// `POST …/verify`: logs in, sets cookies and goes to the connected page; errors stay in place.
struct VerifyCodeForm(Flow);

#[async_trait]
impl Handler for VerifyCodeForm {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let lang = Lang::of_request(req);
        let fields = form_fields(req).await;
        let ctx = match self.0 {
            Flow::Captive => CaptiveContext::from_fields(|k| fields.get(k).cloned()),
            Flow::Login => CaptiveContext::default(),
        };
        let raw_phone = fields.get("phone_number").cloned().unwrap_or_default();
        let csrf = session::csrf_token(depot);
        let Ok(svc) = service(depot) else {
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
            return;
        };
        let code_step = |error: Option<String>, attempts: Option<u32>, takeover: bool| LoginStep {
            flow: self.0,
            ctx: &ctx,
            phone: &raw_phone,
            code_step: true,
            sent_to: Phone::parse(&raw_phone)
                .map(|p| p.masked())
                .unwrap_or_default(),
            info: None,
            error,
            resend_after_secs: 0,
            attempts_left: attempts,
            ask_takeover: takeover,
        };
        if !session::verify_form_token(
            depot,
            fields
                .get(session::CSRF_FIELD)
                .map(String::as_str)
                .unwrap_or(""),
        ) {
            res.render(render_login(
                lang,
                &csrf,
                code_step(Some(form_expired(lang)), None, false),
                StatusCode::FORBIDDEN,
            ));
            return;
        }
        let input = VerifyInput {
            phone_number: raw_phone.clone(),
            otp: fields.get("otp").cloned().unwrap_or_default(),
            confirm_device_takeover: fields
                .get("confirm_device_takeover")
                .is_some_and(|v| v == "true" || v == "on"),
            ctx: ctx.clone(),
        };
        match svc.verify(input, req, depot).await {
            Ok(outcome) => {
                if let Err(e) = start_session(&svc, req, depot, res, &outcome.user).await {
                    res.render(render_login(
                        lang,
                        &csrf,
                        code_step(Some(localized(lang, &e)), None, false),
                        ApiError::from(&e).status,
                    ));
                    return;
                }
                res.render(connected_page(lang, &ctx, &outcome));
            }
            Err(e) => {
                let takeover = matches!(
                    e,
                    AuthError::Device(lpsaring_devices::DeviceError::TakeoverNeedsConfirmation)
                );
                let status = ApiError::from(&e).status;
                let step = if matches!(
                    e,
                    AuthError::OtpExpired
                        | AuthError::OtpTooManyAttempts
                        | AuthError::InvalidPhone(_)
                ) {
                    LoginStep {
                        code_step: false,
                        ..code_step(Some(localized(lang, &e)), None, false)
                    }
                } else {
                    // Still on the code form: the resend button keeps counting down the cooldown
                    // of the code already sent. Attempts left are in the error text itself.
                    let wait = match Phone::parse(&raw_phone) {
                        Ok(phone) => svc.otp.cooldown_left(&phone).await.unwrap_or(0),
                        Err(_) => 0,
                    };
                    LoginStep {
                        resend_after_secs: wait,
                        ..code_step(Some(localized(lang, &e)), None, takeover)
                    }
                };
                res.render(render_login(lang, &csrf, step, status));
            }
        }
    }
}

fn connected_page(
    lang: Lang,
    ctx: &CaptiveContext,
    outcome: &LoginOutcome,
) -> lpsaring_kernel::ui::Page {
    let t = ConnectedTexts::new(lang);
    let title = t.title;
    let hotspot = match (&outcome.hotspot_login, &ctx.link_login_only) {
        (Some(creds), Some(action)) => Some(HotspotForm {
            action: action.clone(),
            username: creds.username.clone(),
            password: creds.password.clone(),
            dst: ctx.link_orig.clone(),
        }),
        _ => None,
    };
    let status_path = (!matches!(outcome.status, AccessStatus::Ok | AccessStatus::Unlimited))
        .then(|| format!("/policy/{}", outcome.status.as_str()));
    let view = ConnectedView {
        t,
        hotspot,
        continue_to: ctx.link_orig.clone(),
        status_path,
    };
    page(lang, title, view.render_once())
}

/// `GET /captive/terhubung`: the connected page (also reachable directly after a login).
#[handler]
async fn connected(req: &mut Request) -> lpsaring_kernel::ui::Page {
    let lang = Lang::of_request(req);
    let ctx = CaptiveContext::from_fields(|k| req.query::<String>(k));
    let t = ConnectedTexts::new(lang);
    let title = t.title;
    let view = ConnectedView {
        t,
        hotspot: None,
        continue_to: ctx.link_orig,
        status_path: None,
    };
    page(lang, title, view.render_once())
}

/// `GET /policy/{status}`: what the state means and what to do.
#[handler]
async fn policy(req: &mut Request, res: &mut Response) {
    let lang = Lang::of_request(req);
    let status = match req.param::<String>("status").as_deref() {
        Some("blocked") => Some(AccessStatus::Blocked),
        Some("inactive") => Some(AccessStatus::Inactive),
        Some("expired") => Some(AccessStatus::Expired),
        Some("habis") => Some(AccessStatus::Habis),
        Some("fup") => Some(AccessStatus::Fup),
        _ => None,
    };
    match status.and_then(|s| policy_page(lang, s)) {
        Some(p) => res.render(p),
        None => {
            res.status_code(StatusCode::NOT_FOUND);
        }
    }
}

struct RegisterPage;

#[async_trait]
impl Handler for RegisterPage {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let lang = Lang::of_request(req);
        let is_post = req.method() == salvo::http::Method::POST;
        let fields = if is_post {
            form_fields(req).await
        } else {
            HashMap::new()
        };
        let csrf = session::csrf_token(depot);
        let name = fields.get("full_name").cloned().unwrap_or_default();
        let phone = fields.get("phone_number").cloned().unwrap_or_default();
        let mut view = RegisterView {
            t: RegisterTexts::new(lang),
            csrf: &csrf,
            name: &name,
            phone: &phone,
            info: None,
            error: None,
            done: false,
        };
        let mut status = StatusCode::OK;
        if is_post {
            let outcome = if session::verify_form_token(
                depot,
                fields
                    .get(session::CSRF_FIELD)
                    .map(String::as_str)
                    .unwrap_or(""),
            ) {
                match service(depot) {
                    Ok(svc) => svc.register(&phone, &name).await,
                    Err(_) => Err(AuthError::Internal("auth service missing".to_owned())),
                }
            } else {
                Err(AuthError::Validation(form_expired(lang)))
            };
            match outcome {
                Ok(_) => {
                    view.info = Some(REGISTERED.get(lang).to_owned());
                    view.done = true;
                    status = StatusCode::CREATED;
                }
                Err(e) => {
                    status = ApiError::from(&e).status;
                    view.error = Some(localized(lang, &e));
                }
            }
        }
        let title = view.t.title;
        res.render(page(lang, title, view.render_once()).with_status(status));
    }
}

/// `POST /logout` (form): ends the session and the router access, then back to the login page.
#[handler]
async fn logout_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    if let Ok(svc) = service(depot) {
        svc.logout(req, depot).await;
    }
    session::Sessions::clear_cookies(res, is_https(depot));
    res.render(Redirect::other("/login"));
}

// ---------------------------------------------------------------------------------------------
// JSON API

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
async fn request_otp(
    body: JsonBody<RequestOtpBody>,
    req: &mut Request,
    depot: &mut Depot,
) -> Result<Json<OtpSentResponse>, ApiError> {
    let svc = service(depot)?;
    let lang = Lang::of_request(req);
    let (_, sent) = svc
        .request_code(&body.phone_number, client_ip(depot), lang)
        .await
        .map_err(|e| api_error(&e))?;
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
}

/// Checks the code and logs in; behind the hotspot also binds the device on the router.
#[endpoint(tags("auth"), status_codes(200, 401, 403, 409, 410, 422, 429, 503))]
async fn verify_otp(
    body: JsonBody<VerifyOtpBody>,
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
        return Err(api_error(&AuthError::Validation(
            "client_ip is not an IPv4 address".to_owned(),
        )));
    }
    if body
        .client_mac
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
        && ctx.mac.is_none()
    {
        return Err(api_error(&AuthError::Validation(
            "client_mac is not a MAC address".to_owned(),
        )));
    }
    let input = VerifyInput {
        phone_number: body.phone_number,
        otp: body.otp,
        confirm_device_takeover: body.confirm_device_takeover,
        ctx: ctx.clone(),
    };
    let outcome = svc
        .verify(input, req, depot)
        .await
        .map_err(|e| api_error(&e))?;
    start_session(&svc, req, depot, res, &outcome.user)
        .await
        .map_err(|e| api_error(&e))?;
    let redirect = match ctx.link_orig {
        Some(orig) => format!("/captive/terhubung?link-orig={}", url_encode(&orig)),
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
            link_login_only: ctx.link_login_only.clone(),
        }),
        redirect,
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
#[endpoint(tags("auth"), status_codes(201, 409, 422))]
async fn register(
    body: JsonBody<RegisterBody>,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<MessageResponse>, ApiError> {
    let svc = service(depot)?;
    let lang = Lang::of_request(req);
    svc.register(&body.phone_number, &body.full_name)
        .await
        .map_err(|e| api_error(&e))?;
    res.status_code(StatusCode::CREATED);
    Ok(Json(MessageResponse {
        success: true,
        message: REGISTERED.get(lang).to_owned(),
    }))
}

/// Ends the session and removes the user's devices from the router (best effort; always 200).
#[endpoint(tags("auth"))]
async fn logout(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<MessageResponse>, ApiError> {
    let svc = service(depot)?;
    svc.logout(req, depot).await;
    session::Sessions::clear_cookies(res, is_https(depot));
    Ok(Json(MessageResponse {
        success: true,
        message: "Logged out".to_owned(),
    }))
}

/// Removes the user's devices from the router but keeps the session (the original's reset-login).
#[endpoint(tags("auth"), status_codes(200, 401))]
async fn reset_login(depot: &mut Depot) -> Result<Json<MessageResponse>, ApiError> {
    let svc = service(depot)?;
    let user = current_user(depot).ok_or_else(|| api_error(&AuthError::Unauthorized))?;
    let failures = svc
        .captive
        .release_router_state(user)
        .await
        .map_err(|e| api_error(&e))?;
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

// ---------------------------------------------------------------------------------------------
// Service glue used by both pages and API

/// A verify request from a form or JSON.
#[derive(Debug, Clone)]
pub struct VerifyInput {
    pub phone_number: String,
    pub otp: String,
    pub confirm_device_takeover: bool,
    pub ctx: CaptiveContext,
}

impl Service {
    async fn request_code(
        &self,
        raw_phone: &str,
        ip: Option<IpAddr>,
        lang: Lang,
    ) -> Result<(Phone, crate::otp::OtpSent), AuthError> {
        let phone = Phone::parse(raw_phone)?;
        let user = self
            .users
            .find(&phone)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        crate::captive::ensure_may_log_in(&user)?;
        let sent = self.otp.request(&phone, ip, lang).await?;
        Ok((phone, sent))
    }

    async fn verify(
        &self,
        input: VerifyInput,
        req: &Request,
        depot: &Depot,
    ) -> Result<LoginOutcome, AuthError> {
        let phone = Phone::parse(&input.phone_number)?;
        self.captive
            .login(LoginRequest {
                phone,
                code: input.otp,
                client_ip: input.ctx.ip,
                client_mac: input.ctx.mac,
                confirm_takeover: input.confirm_device_takeover,
                request_ip: client_ip(depot),
                user_agent: user_agent(req),
            })
            .await
    }

    async fn register(&self, raw_phone: &str, name: &str) -> Result<UserFacts, AuthError> {
        let phone = Phone::parse(raw_phone)?;
        self.users.create(&phone, name, false, Role::User).await
    }

    /// Ends the session family of the refresh cookie and releases the router (best effort).
    async fn logout(&self, req: &Request, depot: &Depot) {
        if let Some(token) = req
            .cookie(session::REFRESH_COOKIE)
            .map(|c| c.value().to_owned())
            && let Err(e) = self.sessions.end(&token).await
        {
            tracing::warn!(error = %e, "logout: could not revoke the session");
        }
        if let Some(user) = current_user(depot)
            && let Err(e) = self.captive.release_router_state(user).await
        {
            tracing::warn!(error = %e, "logout: router clean-up failed");
        }
    }
}

fn localized(lang: Lang, e: &AuthError) -> String {
    use lpsaring_kernel::Text;
    let text = match e {
        AuthError::InvalidPhone(_) => Text::new(
            "Nomor telepon tidak valid. Contoh: 0812 3456 7890.",
            "Invalid phone number. Example: 0812 3456 7890.",
        ),
        AuthError::UserNotFound => Text::new(
            "Nomor ini belum terdaftar. Silakan daftar dulu.",
            "This number is not registered. Please register first.",
        ),
        AuthError::UserExists => Text::new(
            "Nomor ini sudah terdaftar.",
            "This number is already registered.",
        ),
        AuthError::UserUnapproved => Text::new(
            "Akun Anda menunggu persetujuan operator.",
            "Your account is waiting for the operator's approval.",
        ),
        AuthError::UserInactive => Text::new(
            "Akun Anda dinonaktifkan. Hubungi operator.",
            "Your account is deactivated. Contact the operator.",
        ),
        AuthError::UserBlocked => Text::new(
            "Akun Anda diblokir. Hubungi operator.",
            "Your account is blocked. Contact the operator.",
        ),
        AuthError::OtpCooldown { .. } => Text::new(
            "Kode sudah dikirim. Tunggu sebentar sebelum meminta lagi.",
            "A code was sent. Wait a moment before asking again.",
        ),
        AuthError::RateLimited { .. } => Text::new(
            "Terlalu banyak permintaan. Coba lagi nanti.",
            "Too many requests. Try again later.",
        ),
        AuthError::OtpInvalid { .. } => Text::new("Kode salah.", "Wrong code."),
        AuthError::OtpExpired => Text::new(
            "Kode kedaluwarsa atau sudah dipakai. Minta kode baru.",
            "The code expired or was used. Ask for a new one.",
        ),
        AuthError::OtpTooManyAttempts => Text::new(
            "Terlalu banyak kode salah. Minta kode baru.",
            "Too many wrong codes. Ask for a new one.",
        ),
        AuthError::MessengerFailed(_) => Text::new(
            "Kode tidak dapat dikirim saat ini. Coba lagi sebentar lagi.",
            "The code could not be sent right now. Try again shortly.",
        ),
        AuthError::RouterUnavailable(_) => Text::new(
            "Router hotspot tidak dapat dihubungi. Kode Anda masih berlaku, coba lagi.",
            "The hotspot router cannot be reached. Your code is still valid, try again.",
        ),
        AuthError::MacMismatch => Text::new(
            "Perangkat tidak cocok dengan yang terlihat di hotspot.",
            "This device does not match the one the hotspot sees.",
        ),
        AuthError::Device(lpsaring_devices::DeviceError::TakeoverNeedsConfirmation) => Text::new(
            "Perangkat ini terdaftar di akun lain. Centang kotak di bawah untuk memindahkannya.",
            "This device is registered to another account. Tick the box below to move it.",
        ),
        AuthError::Device(lpsaring_devices::DeviceError::OwnedByActiveUser) => Text::new(
            "Perangkat ini sedang dipakai akun lain.",
            "This device is in use by another account.",
        ),
        AuthError::Device(lpsaring_devices::DeviceError::LimitReached { .. }) => Text::new(
            "Batas perangkat tercapai dan semua perangkat sedang online.",
            "The device limit is reached and all devices are online.",
        ),
        _ => return lpsaring_kernel::ErrorCode::public_message(e),
    };
    let mut out = text.get(lang).to_owned();
    if let AuthError::OtpInvalid { remaining } = e {
        out.push_str(&format!(
            " ({}: {remaining})",
            Text::new("sisa percobaan", "attempts left").get(lang)
        ));
    }
    out
}

fn form_expired(lang: Lang) -> String {
    lpsaring_kernel::Text::new(
        "Formulir kedaluwarsa. Muat ulang halaman dan coba lagi.",
        "The form expired. Reload the page and try again.",
    )
    .get(lang)
    .to_owned()
}

fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every route of auth's login half.
pub fn router() -> Router {
    Router::new()
        .push(Router::with_path("captive").get(ShowLogin(Flow::Captive)))
        .push(Router::with_path("captive/request").post(RequestCodeForm(Flow::Captive)))
        .push(Router::with_path("captive/verify").post(VerifyCodeForm(Flow::Captive)))
        .push(Router::with_path("captive/terhubung").get(connected))
        .push(Router::with_path("login").get(ShowLogin(Flow::Login)))
        .push(Router::with_path("login/request").post(RequestCodeForm(Flow::Login)))
        .push(Router::with_path("login/verify").post(VerifyCodeForm(Flow::Login)))
        .push(
            Router::with_path("logout")
                .hoop(session::require_same_origin)
                .post(logout_form),
        )
        .push(
            Router::with_path("register")
                .get(RegisterPage)
                .post(RegisterPage),
        )
        .push(Router::with_path("policy/{status}").get(policy))
        .push(Router::with_path("api/auth/request-otp").post(request_otp))
        .push(Router::with_path("api/auth/verify-otp").post(verify_otp))
        .push(Router::with_path("api/auth/register").post(register))
        .push(
            Router::with_path("api/auth/logout")
                .hoop(session::require_same_origin)
                .post(logout),
        )
        .push(
            Router::with_path("api/auth/reset-login")
                .hoop(session::require_same_origin)
                .post(reset_login),
        )
}
