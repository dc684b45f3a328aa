//! The admin's own security page, `/admin/security`: set up an authenticator app (QR code, then
//! the first code, then the 10 recovery codes shown once) or turn it off with a code. JSON twins
//! under `/api/admin/security`. The only admin routes open to a super admin whom
//! `admin.require_totp` makes enrol first (`kernel::web::admin_area`).

use lpsaring_kernel::admin_shell::admin_page;
use lpsaring_kernel::ports::users::UserFacts;
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, JsonIn, SECOND_FACTOR_PAGE, client_ip, csrf_token, require_admin,
    verify_form_token,
};
use lpsaring_kernel::{ApiError, Lang, Text};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::oapi::ToSchema;
use salvo::prelude::*;
use serde::{Deserialize, Serialize};

use super::routes::sessions;
use super::second_factor::{Enrolment, TotpStatus};
use crate::error::AuthError;

pub(super) fn router() -> Router {
    Router::new()
        .push(
            Router::with_path("api/admin/security")
                .hoop(require_admin)
                .get(status_api)
                .push(Router::with_path("totp/start").post(start_api))
                .push(Router::with_path("totp/confirm").post(confirm_api))
                .push(Router::with_path("totp/disable").post(disable_api)),
        )
        .push(
            Router::with_path("admin/security")
                .hoop(require_admin)
                .get(security_page)
                .push(Router::with_path("totp/start").post(start_form))
                .push(Router::with_path("totp/confirm").post(confirm_form))
                .push(Router::with_path("totp/disable").post(disable_form)),
        )
}

/// The caller's own account (an admin: the guard ran).
async fn me(depot: &Depot) -> Result<UserFacts, ApiError> {
    let caller = CurrentUser::admin(depot).map_err(|e| ApiError::from(&e))?;
    sessions(depot)?
        .users
        .get(caller.id)
        .await?
        .ok_or_else(|| ApiError::from(&AuthError::Unauthorized))
}

fn ip(depot: &Depot) -> Option<String> {
    client_ip(depot).map(|i| i.to_string())
}

// ---- JSON ----

/// The caller's second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityOut {
    pub totp_enabled: bool,
    /// Enrolment started, waiting for the first code.
    pub totp_pending: bool,
    pub recovery_codes_left: usize,
    /// `admin.require_totp` applies to the caller (a super admin).
    pub totp_required: bool,
    /// Seconds without a request after which an admin session ends.
    pub idle_timeout_secs: u64,
}

impl SecurityOut {
    fn of(s: TotpStatus) -> Self {
        Self {
            totp_enabled: s.enabled,
            totp_pending: s.pending,
            recovery_codes_left: s.recovery_left,
            totp_required: s.required,
            idle_timeout_secs: super::ADMIN_IDLE.as_secs(),
        }
    }
}

/// The caller's second factor and session rules.
#[endpoint(tags("admin"), status_codes(200, 401, 403))]
async fn status_api(depot: &mut Depot) -> Result<Json<SecurityOut>, ApiError> {
    let user = me(depot).await?;
    let status = sessions(depot)?.totp_status(&user).await?;
    Ok(Json(SecurityOut::of(status)))
}

/// A new authenticator secret for the caller: the `otpauth://` URI, the same as a QR code (SVG)
/// and as base32 for typing in. 409 `TOTP_ALREADY_ENABLED` when one is set up.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentOut {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// Starts setting up an authenticator app (a new secret; a pending one is replaced).
#[endpoint(tags("admin"), status_codes(200, 401, 403, 409))]
async fn start_api(depot: &mut Depot) -> Result<Json<EnrolmentOut>, ApiError> {
    let user = me(depot).await?;
    let e = sessions(depot)?.totp_start(&user).await?;
    Ok(Json(EnrolmentOut {
        secret: e.secret_base32,
        otpauth_uri: e.otpauth_uri,
        qr_svg: e.qr_svg,
    }))
}

/// A code from the authenticator app (or, to turn it off, a recovery code).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeIn {
    pub code: String,
}

/// The recovery codes: shown this once, each works once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryOut {
    pub recovery_codes: Vec<String>,
}

/// Confirms the set-up with the app's first code; answers the 10 recovery codes. 401
/// `AUTH_TOTP_INVALID` for a wrong code, 409 `TOTP_NOT_STARTED` without a started set-up.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 409, 422))]
async fn confirm_api(
    body: JsonIn<CodeIn>,
    depot: &mut Depot,
) -> Result<Json<RecoveryOut>, ApiError> {
    let user = me(depot).await?;
    let codes = sessions(depot)?
        .totp_confirm(&user, &body.code, ip(depot))
        .await?;
    Ok(Json(RecoveryOut {
        recovery_codes: codes,
    }))
}

/// Turns the caller's second factor off; needs a current code or a recovery code.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 422))]
async fn disable_api(
    body: JsonIn<CodeIn>,
    depot: &mut Depot,
) -> Result<Json<SecurityOut>, ApiError> {
    let user = me(depot).await?;
    let sessions = sessions(depot)?;
    sessions.totp_disable(&user, &body.code, ip(depot)).await?;
    Ok(Json(SecurityOut::of(sessions.totp_status(&user).await?)))
}

// ---- pages ----

struct Texts {
    title: &'static str,
    required: &'static str,
    recovery_title: &'static str,
    recovery_once: &'static str,
    done: &'static str,
    scan: &'static str,
    manual: &'static str,
    code: &'static str,
    confirm: &'static str,
    on: &'static str,
    turn_off: &'static str,
    code_or_recovery: &'static str,
    off: &'static str,
    start: &'static str,
    idle: &'static str,
}

const TITLE: Text = Text::new("Keamanan akun", "Account security");

impl Texts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(TITLE),
            required: t(Text::new(
                "Super admin wajib memakai aplikasi autentikator sebelum membuka panel.",
                "Super admins must set up an authenticator app before using the panel.",
            )),
            recovery_title: t(Text::new("Kode pemulihan", "Recovery codes")),
            recovery_once: t(Text::new(
                "Simpan kode ini di tempat aman. Kode hanya ditampilkan sekali, dan tiap kode hanya berlaku sekali.",
                "Keep these codes somewhere safe. They are shown only now, and each works once.",
            )),
            done: t(Text::new("Selesai", "Done")),
            scan: t(Text::new(
                "Pindai kode QR ini dengan aplikasi autentikator",
                "Scan this QR code with your authenticator app",
            )),
            manual: t(Text::new("Atau ketik kunci ini:", "Or type this key:")),
            code: t(Text::new("Kode 6 angka", "6-digit code")),
            confirm: t(Text::new("Aktifkan", "Turn on")),
            on: t(Text::new(
                "Aplikasi autentikator aktif. Kode pemulihan tersisa:",
                "Authenticator app is on. Recovery codes left:",
            )),
            turn_off: t(Text::new(
                "Matikan autentikator",
                "Turn off the authenticator",
            )),
            code_or_recovery: t(Text::new(
                "Kode autentikator atau kode pemulihan",
                "Authenticator code or recovery code",
            )),
            off: t(Text::new(
                "Aplikasi autentikator belum aktif. Dengan autentikator, masuk admin meminta kode dari ponsel Anda.",
                "No authenticator app yet. With one, an admin login asks for a code from your phone.",
            )),
            start: t(Text::new("Pasang autentikator", "Set up an authenticator")),
            idle: t(Text::new(
                "Sesi admin berakhir setelah 8 jam tanpa aktivitas.",
                "An admin session ends after 8 hours without activity.",
            )),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "session/admin_security.stpl")]
struct SecurityTemplate<'a> {
    t: Texts,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    required: bool,
    enabled: bool,
    recovery_left: usize,
    recovery: Option<&'a [String]>,
    enrolment: Option<&'a Enrolment>,
    csrf: &'a str,
}

/// What one render of the page shows besides the status.
#[derive(Default)]
struct Shown<'a> {
    error: Option<&'a str>,
    notice: Option<&'a str>,
    recovery: Option<&'a [String]>,
    enrolment: Option<&'a Enrolment>,
}

async fn render(lang: Lang, depot: &Depot, shown: Shown<'_>) -> Result<Page, ApiError> {
    let user = me(depot).await?;
    let status = sessions(depot)?.totp_status(&user).await?;
    let csrf = csrf_token(depot);
    let body = SecurityTemplate {
        t: Texts::new(lang),
        error: shown.error,
        notice: shown.notice,
        required: status.required,
        enabled: status.enabled,
        recovery_left: status.recovery_left,
        recovery: shown.recovery,
        enrolment: shown.enrolment,
        csrf: &csrf,
    }
    .render_once()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(admin_page(lang, SECOND_FACTOR_PAGE, TITLE.get(lang), &body))
}

async fn answer(res: &mut Response, page: Result<Page, ApiError>, status: StatusCode) {
    match page {
        Ok(page) => res.render(page.with_status(status)),
        Err(e) => {
            tracing::error!(code = %e.code, cause = ?e.cause, "security page failed");
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}

/// `GET /admin/security`.
#[handler]
async fn security_page(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let page = render(lang, depot, Shown::default()).await;
    answer(res, page, StatusCode::OK).await;
}

const FORM_EXPIRED: Text = Text::new(
    "Formulir kedaluwarsa. Silakan coba lagi.",
    "The form has expired. Please try again.",
);
const WRONG_CODE: Text = Text::new(
    "Kode salah atau sudah dipakai. Coba kode berikutnya.",
    "The code is wrong or was already used. Try the next one.",
);
const TURNED_OFF: Text = Text::new("Autentikator dimatikan.", "The authenticator is off.");
const FAILED: Text = Text::new(
    "Tidak dapat disimpan sekarang. Silakan coba lagi.",
    "Cannot save right now. Please try again.",
);

/// The form's token checked; if not, the page again saying the form expired.
async fn form_ok(req: &mut Request, depot: &Depot, res: &mut Response, lang: Lang) -> bool {
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    if verify_form_token(depot, &token) {
        return true;
    }
    let shown = Shown {
        error: Some(FORM_EXPIRED.get(lang)),
        ..Shown::default()
    };
    answer(res, render(lang, depot, shown).await, StatusCode::FORBIDDEN).await;
    false
}

/// The message and status of a refused form.
fn refusal(e: &AuthError, lang: Lang) -> (&'static str, StatusCode) {
    match e {
        AuthError::TotpInvalid | AuthError::TotpNotStarted | AuthError::TotpAlreadyEnabled => {
            (WRONG_CODE.get(lang), lpsaring_kernel::ErrorCode::status(e))
        }
        other => {
            tracing::error!(error = %other, "second factor change failed");
            (FAILED.get(lang), StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// `POST /admin/security/totp/start`: the QR code and the form for the first code.
#[handler]
async fn start_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    if !form_ok(req, depot, res, lang).await {
        return;
    }
    let started = match (me(depot).await, sessions(depot)) {
        (Ok(user), Ok(s)) => s.totp_start(&user).await,
        _ => Err(AuthError::Unauthorized),
    };
    match started {
        Ok(enrolment) => {
            let shown = Shown {
                enrolment: Some(&enrolment),
                ..Shown::default()
            };
            answer(res, render(lang, depot, shown).await, StatusCode::OK).await;
        }
        Err(e) => refuse(res, depot, lang, &e).await,
    }
}

/// `POST /admin/security/totp/confirm`: the recovery codes, once.
#[handler]
async fn confirm_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let code = req.form::<String>("code").await.unwrap_or_default();
    if !form_ok(req, depot, res, lang).await {
        return;
    }
    let confirmed = match (me(depot).await, sessions(depot)) {
        (Ok(user), Ok(s)) => s.totp_confirm(&user, &code, ip(depot)).await,
        _ => Err(AuthError::Unauthorized),
    };
    match confirmed {
        Ok(codes) => {
            let shown = Shown {
                recovery: Some(&codes),
                ..Shown::default()
            };
            answer(res, render(lang, depot, shown).await, StatusCode::OK).await;
        }
        Err(e) => refuse(res, depot, lang, &e).await,
    }
}

/// `POST /admin/security/totp/disable`.
#[handler]
async fn disable_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let code = req.form::<String>("code").await.unwrap_or_default();
    if !form_ok(req, depot, res, lang).await {
        return;
    }
    let turned_off = match (me(depot).await, sessions(depot)) {
        (Ok(user), Ok(s)) => s.totp_disable(&user, &code, ip(depot)).await,
        _ => Err(AuthError::Unauthorized),
    };
    match turned_off {
        Ok(()) => {
            let shown = Shown {
                notice: Some(TURNED_OFF.get(lang)),
                ..Shown::default()
            };
            answer(res, render(lang, depot, shown).await, StatusCode::OK).await;
        }
        Err(e) => refuse(res, depot, lang, &e).await,
    }
}

/// The page again, saying why `e` refused the step.
async fn refuse(res: &mut Response, depot: &Depot, lang: Lang, e: &AuthError) {
    let (message, status) = refusal(e, lang);
    let shown = Shown {
        error: Some(message),
        ..Shown::default()
    };
    answer(res, render(lang, depot, shown).await, status).await;
}
