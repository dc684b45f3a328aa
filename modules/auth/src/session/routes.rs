//! HTTP surface of sessions: refresh, me, logout-all, admin login (JSON and page). Plain logout
//! (`/api/auth/logout`, `/logout`) lives with the captive routes: it also cleans up the router.
//! Handlers parse, call one `Sessions` method, and render.

use std::sync::Arc;

use lpsaring_kernel::client::user_agent;
use lpsaring_kernel::ports::access::{AccessStatus, Standing};
use lpsaring_kernel::ports::users::UserFacts;
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::web::csrf::{self, OriginVerdict};
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, JsonIn, client_ip, csrf_token, encode_component, is_https,
    is_local_path, require_admin, require_user, verify_form_token,
};
use lpsaring_kernel::{ApiError, Lang, Text};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::oapi::ToSchema;
use salvo::prelude::*;
use salvo::writing::Redirect;
use serde::{Deserialize, Serialize};

use super::cookies::REFRESH_COOKIE;
use super::hoop::session_state;
use super::service::{IssuedSession, Sessions};
use crate::error::AuthError;
use crate::users::{APPROVED, PENDING};

/// The session endpoints and the admin login page. Mount beside the other routers; the
/// [`super::SessionHoop`] must run before them (service-level hoop).
pub fn router(sessions: Arc<Sessions>) -> Router {
    Router::new()
        .hoop(affix_state::inject(sessions))
        .push(
            Router::with_path("api/auth")
                .push(Router::with_path("refresh").post(refresh))
                .push(Router::with_path("me").hoop(require_user).get(me))
                .push(
                    Router::with_path("logout-all")
                        .hoop(require_user)
                        .post(logout_all),
                )
                .push(Router::with_path("session/consume").post(consume_api))
                .push(Router::with_path("admin/login").post(admin_login_api))
                .push(Router::with_path("admin/login/totp").post(super::login_code::admin_code_api))
                .push(
                    Router::with_path("admin/check")
                        .hoop(require_admin)
                        .get(admin_check),
                ),
        )
        .push(Router::with_path("session/consume").get(consume_page))
        .push(crate::profile::router())
        .push(
            Router::with_path("admin/login")
                .get(admin_login_page)
                .post(admin_login_submit),
        )
        .push(Router::with_path("admin/login/totp").post(super::login_code::admin_code_submit))
        .push(super::security_routes::router())
}

#[derive(Debug, Deserialize, ToSchema)]
struct ConsumeIn {
    token: String,
}

/// Redeems a hand-off token (from verify-otp's `session_token`) for a session of this client:
/// cookies set, the access token answered. 410 `SESSION_TOKEN_INVALID` when it expired or was
/// used.
#[endpoint(tags("auth"), status_codes(200, 410, 422))]
async fn consume_api(
    body: JsonIn<ConsumeIn>,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<TokenOut>, ApiError> {
    let sessions = sessions(depot)?;
    let session = sessions
        .redeem_handoff(&body.token, client_ip(depot), user_agent(req).as_deref())
        .await?;
    sessions.set_cookies(res, &session, is_https(depot));
    crate::routes::no_store(res);
    Ok(Json(TokenOut::of(&session, &sessions)))
}

const HANDOFF_GONE: Text = Text::new("Tautan sudah tidak berlaku", "This link no longer works");
const HANDOFF_GONE_BODY: Text = Text::new(
    "Tautan untuk membuka akun hanya berlaku 2 menit dan sekali pakai. Silakan masuk lagi.",
    "The link to open your account works once, for 2 minutes. Please log in again.",
);
const HANDOFF_FAILED_BODY: Text = Text::new(
    "Akun tidak bisa dibuka sekarang. Silakan masuk lagi sebentar lagi.",
    "Your account cannot be opened right now. Please log in again in a moment.",
);
const LOG_IN: Text = Text::new("Masuk", "Log in");

/// `GET /session/consume?token=…&next=/akun`: the link on the connected page. Starts a session
/// in whichever browser opens it and goes on to `next` (a path on this site, else `/akun`);
/// an expired or used link is a page with the way to log in.
#[handler]
async fn consume_page(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let token = req.query::<String>("token").unwrap_or_default();
    let next = req
        .query::<String>("next")
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/akun".to_owned());
    crate::routes::no_store(res);
    let redeemed = match sessions(depot) {
        Ok(sessions) => sessions
            .redeem_handoff(&token, client_ip(depot), user_agent(req).as_deref())
            .await
            .map(|session| (sessions, session))
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match redeemed {
        Ok((sessions, session)) => {
            sessions.set_cookies(res, &session, is_https(depot));
            res.render(Redirect::other(next));
        }
        Err(e) => {
            let body = if e.status.is_server_error() {
                tracing::warn!(code = %e.code, cause = ?e.cause, "hand-off failed");
                HANDOFF_FAILED_BODY
            } else {
                HANDOFF_GONE_BODY
            };
            let html = format!(
                "<div class=\"card\"><h1>{}</h1><p class=\"error\" role=\"alert\">{}</p><a class=\"btn\" id=\"login\" href=\"/login?next={}\">{}</a></div>",
                HANDOFF_GONE.get(lang),
                body.get(lang),
                encode_component(&next),
                LOG_IN.get(lang)
            );
            res.render(Page::new(lang, HANDOFF_GONE.get(lang), html).with_status(e.status));
        }
    }
}

pub(super) fn sessions(depot: &Depot) -> Result<Arc<Sessions>, ApiError> {
    depot
        .get_typed::<Arc<Sessions>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"sessions are not wired"))
}

/// A fresh access token (also set as the `auth_token` cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl TokenOut {
    pub(super) fn of(session: &IssuedSession, sessions: &Sessions) -> Self {
        Self {
            access_token: session.access_token.expose().clone(),
            token_type: "Bearer",
            expires_in: sessions.access_ttl().num_seconds(),
        }
    }
}

/// Rotates the refresh cookie: new `auth_token` and `refresh_token` cookies. 401 without a valid
/// refresh cookie.
#[endpoint(tags("auth"), status_codes(200, 401, 403))]
async fn refresh(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<TokenOut>, ApiError> {
    let sessions = sessions(depot)?;
    // The session hoop may already have rotated this request's refresh cookie.
    if let Some(state) = session_state(depot) {
        if let Some(done) = &state.rotated {
            return Ok(Json(TokenOut::of(done, &sessions)));
        }
        if let Some(refused) = &state.refresh_refused {
            return Err(refused.clone());
        }
    }
    let plain = req
        .cookie(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or(AuthError::Unauthorized)?;
    let secure = is_https(depot);
    match sessions
        .rotate(&plain, client_ip(depot), user_agent(req).as_deref())
        .await
    {
        Ok(session) => {
            sessions.set_cookies(res, &session, secure);
            Ok(Json(TokenOut::of(&session, &sessions)))
        }
        Err(e) => {
            Sessions::clear_cookies(res, secure);
            Err(e.into())
        }
    }
}

/// The logged-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    pub id: i64,
    /// `None` for a voucher account until a phone is attached.
    pub phone_number: Option<String>,
    pub full_name: String,
    /// USER, ADMIN or SUPER_ADMIN.
    pub role: String,
    /// APPROVED or PENDING_APPROVAL.
    pub approval_status: String,
    pub is_active: bool,
    pub is_blocked: bool,
    /// Network access now (ok, unlimited, fup, habis, expired, inactive, blocked): the access
    /// policy's answer, the same as the connected page and `/api/users/me/quota` give.
    pub access_status: String,
    /// The original's quota fields, which its clients read here: megabytes (MiB, as the
    /// original counted), the end of the validity, and whether the user is unlimited.
    /// Absent when the answer carries no quota figures (an admin login).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_quota_purchased_mb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_quota_used_mb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_expiry_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_unlimited_user: Option<bool>,
}

/// Bytes as the original's megabytes (MiB), to two decimals.
fn megabytes(bytes: i64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 100.0).round() / 100.0
}

impl MeOut {
    /// With the original's quota fields filled from `standing`.
    pub(super) fn with_standing(u: &UserFacts, standing: Standing) -> Self {
        let mut out = Self::new(u, standing.status);
        if let Some(q) = standing.quota {
            out.total_quota_purchased_mb = Some(megabytes(q.purchased_bytes));
            out.total_quota_used_mb = Some(megabytes(q.used_bytes));
            out.quota_expiry_date = q.expires_at.map(|t| t.to_rfc3339());
            out.is_unlimited_user = Some(q.unlimited);
        }
        out
    }

    pub(super) fn new(u: &UserFacts, status: AccessStatus) -> Self {
        Self {
            id: u.id.0,
            phone_number: u.phone.as_ref().map(|p| p.as_str().to_owned()),
            full_name: u.name.clone(),
            role: u.role.as_str().to_owned(),
            approval_status: if u.approved { APPROVED } else { PENDING }.to_owned(),
            is_active: u.active,
            is_blocked: u.blocked,
            access_status: status.as_str().to_owned(),
            total_quota_purchased_mb: None,
            total_quota_used_mb: None,
            quota_expiry_date: None,
            is_unlimited_user: None,
        }
    }
}

/// Who is logged in. An expired access token with a valid refresh cookie is refreshed on this
/// same response.
#[endpoint(tags("auth"), status_codes(200, 401))]
async fn me(user: CurrentUser, depot: &mut Depot) -> Result<Json<MeOut>, ApiError> {
    me_inner(user, depot).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogoutOut {
    pub message: &'static str,
    /// Refresh tokens revoked by this call.
    pub revoked: u64,
}

/// Logs the user out everywhere: revokes every refresh token of the user.
#[endpoint(tags("auth"), status_codes(200, 401, 403))]
async fn logout_all(
    user: CurrentUser,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<LogoutOut>, ApiError> {
    let sessions = sessions(depot)?;
    let revoked = sessions.end_all(user.id).await?;
    Sessions::clear_cookies(res, is_https(depot));
    Ok(Json(LogoutOut {
        message: "Logged out on every device.",
        revoked,
    }))
}

/// Whether the caller is an admin (200) — a cheap probe for admin pages and clients.
#[endpoint(tags("auth"), status_codes(200, 401, 403))]
async fn admin_check(user: CurrentUser, depot: &mut Depot) -> Result<Json<MeOut>, ApiError> {
    me_inner(user, depot).await
}

async fn me_inner(user: CurrentUser, depot: &mut Depot) -> Result<Json<MeOut>, ApiError> {
    let sessions = sessions(depot)?;
    let user = sessions
        .users
        .get(user.id)
        .await?
        .ok_or(AuthError::Unauthorized)?;
    let standing = sessions.standing_of(&user).await?;
    Ok(Json(MeOut::with_standing(&user, standing)))
}

/// Admin credentials. The password is never logged.
#[derive(Deserialize, ToSchema)]
pub struct AdminLoginIn {
    /// The admin's phone number (the original's clients send it as `username`).
    #[serde(alias = "username")]
    pub phone_number: String,
    pub password: String,
    /// For an admin with an authenticator app: its code (or a recovery code), sparing the
    /// second call to `/api/auth/admin/login/totp`.
    #[serde(default)]
    pub totp_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminLoginOut {
    #[serde(flatten)]
    pub token: TokenOut,
    pub user: MeOut,
}

/// Admin password login. Any failure is one uniform 401 `AUTH_INVALID_CREDENTIALS`; 429 with
/// `retry_after_secs` when rate limited per IP or phone. An admin with an authenticator app and
/// no `totp_code` gets 401 `AUTH_TOTP_REQUIRED` with `details.challenge` for
/// `/api/auth/admin/login/totp`.
#[endpoint(tags("auth"), status_codes(200, 401, 429))]
async fn admin_login_api(
    body: JsonIn<AdminLoginIn>,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<AdminLoginOut>, ApiError> {
    let sessions = sessions(depot)?;
    let body = body.into_inner();
    let ip = client_ip(depot);
    let ua = user_agent(req);
    let done = match sessions
        .admin_login(&body.phone_number, &body.password, ip, ua.as_deref())
        .await
    {
        Err(AuthError::TotpRequired { challenge }) if body.totp_code.is_some() => {
            let code = body.totp_code.as_deref().unwrap_or_default();
            sessions
                .admin_login_code(&challenge, code, ip, ua.as_deref())
                .await?
        }
        other => other?,
    };
    login_out(&sessions, done, depot, res).await
}

/// The answer of a finished admin login: cookies set, the token and the admin in the body.
pub(super) async fn login_out(
    sessions: &Sessions,
    (user, session): (UserFacts, IssuedSession),
    depot: &Depot,
    res: &mut Response,
) -> Result<Json<AdminLoginOut>, ApiError> {
    let status = sessions.status_of(&user).await?;
    sessions.set_cookies(res, &session, is_https(depot));
    Ok(Json(AdminLoginOut {
        token: TokenOut::of(&session, sessions),
        user: MeOut::new(&user, status),
    }))
}

struct AdminLoginTexts {
    title: &'static str,
    phone: &'static str,
    password: &'static str,
    submit: &'static str,
    hint: &'static str,
}

impl AdminLoginTexts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(Text::new("Masuk admin", "Admin login")),
            phone: t(crate::messages::PHONE_NUMBER),
            password: t(Text::new("Kata sandi", "Password")),
            submit: t(Text::new("Masuk", "Log in")),
            hint: t(Text::new(
                "Khusus operator. Pengguna hotspot masuk lewat kode WhatsApp.",
                "Operators only. Hotspot users log in with a WhatsApp code.",
            )),
        }
    }
}

const BAD_CREDENTIALS: Text = Text::new(
    "Nomor telepon atau kata sandi salah.",
    "Wrong phone number or password.",
);
const TOO_MANY: Text = Text::new(
    "Terlalu banyak percobaan. Coba lagi dalam {} detik.",
    "Too many attempts. Try again in {} seconds.",
);
const FORM_EXPIRED: Text = Text::new(
    "Formulir kedaluwarsa. Silakan coba lagi.",
    "The form has expired. Please try again.",
);
const FAILED: Text = Text::new(
    "Tidak dapat masuk saat ini. Silakan coba lagi.",
    "Cannot log in right now. Please try again.",
);

#[derive(TemplateSimple)]
#[template(path = "session/admin_login.stpl")]
struct AdminLoginTemplate<'a> {
    t: AdminLoginTexts,
    error: Option<String>,
    csrf: &'a str,
    next: &'a str,
    phone: &'a str,
}

/// Only same-site relative paths are followed after login (no open redirect).
pub(super) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_owned(),
        _ => "/admin".to_owned(),
    }
}

pub(super) fn login_page(
    lang: Lang,
    depot: &Depot,
    next: &str,
    phone: &str,
    error: Option<String>,
) -> Page {
    let t = AdminLoginTexts::new(lang);
    let title = t.title;
    let csrf = csrf_token(depot);
    let body = AdminLoginTemplate {
        t,
        error,
        csrf: &csrf,
        next,
        phone,
    }
    .render_once()
    .unwrap_or_else(|e| format!("<p class=\"error\">template error: {e}</p>"));
    Page::new(lang, title, body)
}

#[handler]
async fn admin_login_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let next = safe_next(req.query::<String>("next").as_deref());
    login_page(lang, depot, &next, "", None)
}

#[handler]
async fn admin_login_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let phone = req.form::<String>("phone_number").await.unwrap_or_default();
    let password = req.form::<String>("password").await.unwrap_or_default();
    let submitted = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let next = safe_next(req.form::<String>("next").await.as_deref());
    let Ok(sessions) = sessions(depot) else {
        res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        return;
    };
    // Login CSRF: the form token is always required here, and a foreign origin is refused.
    let foreign = csrf::origin(depot) == OriginVerdict::Foreign;
    if foreign || !verify_form_token(depot, &submitted) {
        let page = login_page(
            lang,
            depot,
            &next,
            &phone,
            Some(FORM_EXPIRED.get(lang).to_owned()),
        );
        res.render(page.with_status(StatusCode::FORBIDDEN));
        return;
    }
    match sessions
        .admin_login(
            &phone,
            &password,
            client_ip(depot),
            user_agent(req).as_deref(),
        )
        .await
    {
        Ok((_, session)) => {
            sessions.set_cookies(res, &session, is_https(depot));
            res.render(Redirect::other(next));
        }
        Err(AuthError::TotpRequired { challenge }) => {
            res.render(super::login_code::code_page(
                lang, depot, &next, &challenge, None,
            ));
        }
        Err(e) => {
            let message = match &e {
                AuthError::InvalidCredentials => BAD_CREDENTIALS.get(lang).to_owned(),
                AuthError::RateLimited { retry_after_secs } => TOO_MANY
                    .get(lang)
                    .replace("{}", &retry_after_secs.to_string()),
                other => {
                    tracing::error!(error = %other, "admin login failed");
                    FAILED.get(lang).to_owned()
                }
            };
            let status = lpsaring_kernel::ErrorCode::status(&e);
            let page = login_page(lang, depot, &next, &phone, Some(message));
            res.render(page.with_status(status));
        }
    }
}
