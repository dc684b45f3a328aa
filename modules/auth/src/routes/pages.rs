//! The server-rendered login flows: `/captive` (behind the hotspot, binds the device) and
//! `/login` (anywhere), the connected page, the policy pages, registration and the form logout.

use std::collections::HashMap;

use lpsaring_kernel::ports::access::AccessStatus;
use lpsaring_kernel::web::{CSRF_FIELD, csrf_token, current_user, is_https, verify_form_token};
use lpsaring_kernel::{ApiError, ClientHints, Lang, Phone};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::prelude::*;

use super::{refresh_cookie, service};
use crate::context::CaptiveContext;
use crate::error::AuthError;
use crate::messages::{form_expired, localized};
use crate::pages::{
    ConnectedTexts, ConnectedView, HotspotForm, LoginTexts, LoginView, REGISTERED, RegisterTexts,
    RegisterView, page, policy_page,
};
use crate::service::{LoggedIn, VerifyInput, VoucherInput};
use crate::session;

/// Which page family a form belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
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

/// The hotspot context a form of `flow` carries (none outside the captive flow).
fn flow_context(flow: Flow, fields: &HashMap<String, String>) -> CaptiveContext {
    match flow {
        Flow::Captive => CaptiveContext::from_fields(|k| fields.get(k).cloned()),
        Flow::Login => CaptiveContext::default(),
    }
}

/// Whether the form's takeover box is ticked.
fn takeover_confirmed(fields: &HashMap<String, String>) -> bool {
    fields
        .get("confirm_device_takeover")
        .is_some_and(|v| v == "true" || v == "on")
}

/// Whether a refusal asks the user to confirm moving the device from another account.
fn asks_takeover(e: &AuthError) -> bool {
    matches!(
        e,
        AuthError::Device(lpsaring_devices::DeviceError::TakeoverNeedsConfirmation)
    )
}

/// A login went through: session cookies, no caching, the connected page.
fn render_logged_in(
    res: &mut Response,
    svc: &crate::Service,
    lang: Lang,
    ctx: &CaptiveContext,
    done: &LoggedIn,
    https: bool,
) {
    svc.sessions.set_cookies(res, &done.session, https);
    super::no_store(res);
    res.render(connected_page(lang, ctx, done));
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
    voucher_code: &'a str,
    voucher_open: bool,
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
        voucher_code: step.voucher_code,
        voucher_open: step.voucher_open,
    };
    page(lang, title, view.render_once()).with_status(status)
}

/// `GET /captive` and `GET /login`: the phone step.
pub(super) struct ShowLogin(pub(super) Flow);

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
        let csrf = csrf_token(depot);
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
            voucher_code: "",
            voucher_open: false,
        };
        res.render(render_login(lang, &csrf, step, StatusCode::OK));
    }
}

/// `POST …/request`: sends a code and shows the code step, or the phone step with the error.
pub(super) struct RequestCodeForm(pub(super) Flow);

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
        let csrf = csrf_token(depot);
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
            voucher_code: "",
            voucher_open: false,
        };
        if !verify_form_token(
            depot,
            fields.get(CSRF_FIELD).map(String::as_str).unwrap_or(""),
        ) {
            step.error = Some(form_expired(lang));
            res.render(render_login(lang, &csrf, step, StatusCode::FORBIDDEN));
            return;
        }
        match svc
            .request_code(&raw_phone, &ClientHints::of(req, depot), lang)
            .await
        {
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
pub(super) struct VerifyCodeForm(pub(super) Flow);

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
        let ctx = flow_context(self.0, &fields);
        let raw_phone = fields.get("phone_number").cloned().unwrap_or_default();
        let csrf = csrf_token(depot);
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
            voucher_code: "",
            voucher_open: false,
        };
        if !verify_form_token(
            depot,
            fields.get(CSRF_FIELD).map(String::as_str).unwrap_or(""),
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
            confirm_device_takeover: takeover_confirmed(&fields),
            ctx: ctx.clone(),
        };
        let client = ClientHints::of(req, depot);
        match svc.login(input, &client).await {
            Ok(done) => render_logged_in(res, &svc, lang, &ctx, &done, client.https),
            Err(refused) => {
                let takeover = asks_takeover(&refused.error);
                let status = ApiError::from(&refused.error).status;
                if status.is_server_error() {
                    // The page shows a plain sentence; the detail (a trap's text) is for the
                    // operator, found by the request id.
                    tracing::warn!(
                        request_id = %lpsaring_kernel::web::request_id(depot),
                        error = %refused.error,
                        "captive login failed"
                    );
                }
                let message = Some(localized(lang, &refused.error));
                let step = if refused.code_is_spent() {
                    LoginStep {
                        code_step: false,
                        ..code_step(message, None, false)
                    }
                } else {
                    // Still on the code form: the resend button keeps counting down the cooldown
                    // of the code already sent. Attempts left are in the error text itself.
                    LoginStep {
                        resend_after_secs: refused.resend_after_secs,
                        ..code_step(message, None, takeover)
                    }
                };
                res.render(render_login(lang, &csrf, step, status));
            }
        }
    }
}

/// `POST …/voucher`: logs in with a voucher code alone and goes to the connected page; an error
/// shows the phone step with the voucher form unfolded and the code kept.
pub(super) struct VoucherForm(pub(super) Flow);

#[async_trait]
impl Handler for VoucherForm {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let lang = Lang::of_request(req);
        let fields = form_fields(req).await;
        let ctx = flow_context(self.0, &fields);
        let code: String = fields
            .get("code")
            .map(|c| c.chars().take(40).collect())
            .unwrap_or_default();
        let csrf = csrf_token(depot);
        let Ok(svc) = service(depot) else {
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
            return;
        };
        let step = |error: String, takeover: bool| LoginStep {
            flow: self.0,
            ctx: &ctx,
            phone: "",
            code_step: false,
            sent_to: String::new(),
            info: None,
            error: Some(error),
            resend_after_secs: 0,
            attempts_left: None,
            ask_takeover: takeover,
            voucher_code: &code,
            voucher_open: true,
        };
        if !verify_form_token(
            depot,
            fields.get(CSRF_FIELD).map(String::as_str).unwrap_or(""),
        ) {
            let page = render_login(
                lang,
                &csrf,
                step(form_expired(lang), false),
                StatusCode::FORBIDDEN,
            );
            res.render(page);
            return;
        }
        let input = VoucherInput {
            code: code.clone(),
            confirm_device_takeover: takeover_confirmed(&fields),
            ctx: ctx.clone(),
        };
        let client = ClientHints::of(req, depot);
        match svc.voucher_login(input, &client).await {
            Ok(done) => render_logged_in(res, &svc, lang, &ctx, &done, client.https),
            Err(e) => {
                let takeover = asks_takeover(&e);
                let status = ApiError::from(&e).status;
                let page = render_login(lang, &csrf, step(localized(lang, &e), takeover), status);
                res.render(page);
            }
        }
    }
}

fn connected_page(lang: Lang, ctx: &CaptiveContext, done: &LoggedIn) -> lpsaring_kernel::ui::Page {
    let outcome = &done.outcome;
    let hotspot = match (&outcome.hotspot_login, &done.link_login_only) {
        (Some(creds), Some(action)) => Some(HotspotForm {
            action: action.clone(),
            username: creds.username.clone(),
            password: creds.password.clone(),
            dst: ctx.link_orig.clone(),
        }),
        _ => None,
    };
    // The auto-post goes to the router: this response alone may post there.
    let action = hotspot.as_ref().map(|h| h.action.clone());
    let page = render_connected(
        lang,
        Some(outcome.status),
        hotspot,
        ctx.link_orig.clone(),
        done.session_url(),
    );
    match action {
        Some(action) => page.allow_form_action(&action),
        None => page,
    }
}

/// The connected page for a user in `status` (`None`: nobody logged in on this browser).
fn render_connected(
    lang: Lang,
    status: Option<AccessStatus>,
    hotspot: Option<HotspotForm>,
    continue_to: Option<String>,
    account_url: Option<String>,
) -> lpsaring_kernel::ui::Page {
    let t = ConnectedTexts::new(lang, status);
    let title = t.title;
    let status_path = status
        .filter(|s| !matches!(s, AccessStatus::Ok | AccessStatus::Unlimited))
        .map(|s| format!("/policy/{}", s.as_str()));
    let buy_path = status
        .filter(|s| crate::pages::purchase_helps(*s))
        .map(|_| crate::pages::SHOP_PATH);
    let view = ConnectedView {
        t,
        hotspot,
        continue_to,
        status_path,
        buy_path,
        account_url,
    };
    page(lang, title, view.render_once())
}

/// `GET /captive/terhubung`: the connected page (also reachable directly after a login). It says
/// what the logged-in user's status allows, never "connected" to a user who is out of quota.
#[handler]
pub(super) async fn connected(req: &mut Request, depot: &mut Depot) -> lpsaring_kernel::ui::Page {
    let lang = Lang::of_request(req);
    let ctx = CaptiveContext::from_fields(|k| req.query::<String>(k));
    let status = match (current_user(depot), service(depot)) {
        (Some(user), Ok(svc)) => svc.status_of(user).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "connected page: status unknown");
            None
        }),
        _ => None,
    };
    render_connected(lang, status, None, ctx.link_orig, None)
}

/// `GET /policy/{status}`: what the state means and what to do.
#[handler]
pub(super) async fn policy(req: &mut Request, res: &mut Response) {
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

pub(super) struct RegisterPage;

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
        let csrf = csrf_token(depot);
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
            let outcome = if verify_form_token(
                depot,
                fields.get(CSRF_FIELD).map(String::as_str).unwrap_or(""),
            ) {
                match service(depot) {
                    Ok(svc) => {
                        svc.register(&phone, &name, &ClientHints::of(req, depot))
                            .await
                    }
                    Err(_) => Err(AuthError::Internal("auth service missing".to_owned())),
                }
            } else {
                // A forged or stale form is refused like any other cross-site post: 403.
                Err(AuthError::OriginInvalid)
            };
            match outcome {
                Ok(_) => {
                    view.info = Some(REGISTERED.get(lang).to_owned());
                    view.done = true;
                    status = StatusCode::CREATED;
                }
                Err(e) => {
                    status = ApiError::from(&e).status;
                    view.error = Some(match e {
                        AuthError::OriginInvalid => form_expired(lang),
                        e => localized(lang, &e),
                    });
                }
            }
        }
        let title = view.t.title;
        res.render(page(lang, title, view.render_once()).with_status(status));
    }
}

/// `POST /logout` (form): ends the session and the router access, then back to the login page.
#[handler]
pub(super) async fn logout_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    if let Ok(svc) = service(depot) {
        svc.logout(refresh_cookie(req).as_deref(), current_user(depot))
            .await;
    }
    session::Sessions::clear_cookies(res, is_https(depot));
    res.render(Redirect::other("/login"));
}
