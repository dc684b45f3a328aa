//! The second step of an admin login, for admins with an authenticator app: the page that asks
//! for the code (shown by `POST /admin/login` when the password was right) and its JSON twin
//! `POST /api/auth/admin/login/totp`. A code from the app or a recovery code both work.

use lpsaring_kernel::client::user_agent;
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::web::csrf::{self, OriginVerdict};
use lpsaring_kernel::web::{
    CSRF_FIELD, JsonIn, client_ip, csrf_token, is_https, verify_form_token,
};
use lpsaring_kernel::{ApiError, Lang, Text};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::oapi::ToSchema;
use salvo::prelude::*;
use salvo::writing::Redirect;
use serde::Deserialize;

use super::routes::{AdminLoginOut, login_out, safe_next, sessions};
use crate::error::AuthError;

pub(super) struct CodeTexts {
    title: &'static str,
    ask: &'static str,
    code: &'static str,
    submit: &'static str,
    hint: &'static str,
}

impl CodeTexts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(Text::new("Kode autentikator", "Authenticator code")),
            ask: t(Text::new(
                "Masukkan kode 6 angka dari aplikasi autentikator Anda.",
                "Enter the 6-digit code from your authenticator app.",
            )),
            code: t(Text::new("Kode", "Code")),
            submit: t(Text::new("Verifikasi", "Verify")),
            hint: t(Text::new(
                "Ponsel hilang? Pakai salah satu kode pemulihan (sekali pakai).",
                "Lost your phone? Use one of your recovery codes (each works once).",
            )),
        }
    }
}

const WRONG_CODE: Text = Text::new(
    "Kode salah atau sudah dipakai.",
    "The code is wrong or was already used.",
);
const STEP_EXPIRED: Text = Text::new(
    "Langkah masuk kedaluwarsa. Silakan masuk lagi.",
    "The login step has expired. Please log in again.",
);

#[derive(TemplateSimple)]
#[template(path = "session/admin_login_code.stpl")]
struct CodeTemplate<'a> {
    t: CodeTexts,
    error: Option<&'a str>,
    csrf: &'a str,
    next: &'a str,
    challenge: &'a str,
}

/// The page asking for the code of login `challenge`.
pub(super) fn code_page(
    lang: Lang,
    depot: &Depot,
    next: &str,
    challenge: &str,
    error: Option<&str>,
) -> Page {
    let t = CodeTexts::new(lang);
    let title = t.title;
    let csrf = csrf_token(depot);
    let body = CodeTemplate {
        t,
        error,
        csrf: &csrf,
        next,
        challenge,
    }
    .render_once()
    .unwrap_or_else(|e| format!("<p class=\"error\">template error: {e}</p>"));
    Page::new(lang, title, body)
}

/// `POST /admin/login/totp`: the code form. Right → the session and on to `next`; wrong → the
/// form again (the challenge keeps its remaining tries); expired → back to the login page.
#[handler]
pub(super) async fn admin_code_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let challenge = req.form::<String>("challenge").await.unwrap_or_default();
    let code = req.form::<String>("code").await.unwrap_or_default();
    let submitted = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let next = safe_next(req.form::<String>("next").await.as_deref());
    let Ok(sessions) = sessions(depot) else {
        res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        return;
    };
    let foreign = csrf::origin(depot) == OriginVerdict::Foreign;
    if foreign || !verify_form_token(depot, &submitted) {
        res.render(Redirect::other("/admin/login"));
        return;
    }
    match sessions
        .admin_login_code(
            &challenge,
            &code,
            client_ip(depot),
            user_agent(req).as_deref(),
        )
        .await
    {
        Ok((_, session)) => {
            sessions.set_cookies(res, &session, is_https(depot));
            res.render(Redirect::other(next));
        }
        Err(AuthError::TotpInvalid) => {
            let page = code_page(lang, depot, &next, &challenge, Some(WRONG_CODE.get(lang)));
            res.render(page.with_status(StatusCode::UNAUTHORIZED));
        }
        Err(e) => {
            if matches!(
                e,
                AuthError::Database(_) | AuthError::Store(_) | AuthError::Internal(_)
            ) {
                tracing::error!(error = %e, "admin login code failed");
            }
            let page = super::routes::login_page(
                lang,
                depot,
                &next,
                "",
                Some(STEP_EXPIRED.get(lang).to_owned()),
            );
            res.render(page.with_status(lpsaring_kernel::ErrorCode::status(&e)));
        }
    }
}

/// The second step of an admin login.
#[derive(Deserialize, ToSchema)]
pub struct AdminCodeIn {
    /// `details.challenge` of the `AUTH_TOTP_REQUIRED` answer.
    pub challenge: String,
    /// A code from the authenticator app, or a recovery code.
    pub code: String,
}

/// Exchanges the challenge of an `AUTH_TOTP_REQUIRED` login and a TOTP (or recovery) code for
/// the session. 401 `AUTH_TOTP_INVALID` for a wrong or reused code, 401
/// `AUTH_TOTP_CHALLENGE_EXPIRED` after 5 minutes or 5 wrong codes.
#[endpoint(tags("auth"), status_codes(200, 401, 422, 429))]
pub(super) async fn admin_code_api(
    body: JsonIn<AdminCodeIn>,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<AdminLoginOut>, ApiError> {
    let sessions = sessions(depot)?;
    let body = body.into_inner();
    let done = sessions
        .admin_login_code(
            &body.challenge,
            &body.code,
            client_ip(depot),
            user_agent(req).as_deref(),
        )
        .await?;
    login_out(&sessions, done, depot, res).await
}
