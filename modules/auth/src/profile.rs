//! The user's account page `/akun/profil` (name, language, the last 20 logins, log out, log out
//! everywhere) and its JSON: `GET/PUT /api/users/me/profile`, `GET /api/users/me/login-history`.
//! Mounted inside the sessions router, which injects [`Sessions`].

use std::sync::Arc;

use lpsaring_kernel::ui::{Page, PortalTab, format};
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, JsonIn, csrf_token, is_https, require_user, verify_form_token,
};
use lpsaring_kernel::{ApiError, Lang, Text};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::oapi::ToSchema;
use salvo::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::session::Sessions;
use crate::users::LoginEntry;

/// Logins the account page and `login-history` show.
pub const LOGIN_HISTORY_LIMIT: u64 = 20;

fn sessions(depot: &Depot) -> Result<Arc<Sessions>, ApiError> {
    depot
        .get_typed::<Arc<Sessions>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"sessions are not wired"))
}

#[derive(Debug, Serialize, ToSchema)]
struct ProfileOut {
    id: i64,
    full_name: String,
    /// None for a voucher account that has not attached a phone.
    phone_number: Option<String>,
    role: String,
    /// The language the user chose (`id` or `en`); until they choose, the one this request's
    /// pages are shown in (the `lang` cookie, else the browser's).
    language: &'static str,
}

async fn profile_of(
    user: CurrentUser,
    req: &Request,
    depot: &Depot,
) -> Result<ProfileOut, ApiError> {
    let facts = sessions(depot)?
        .users
        .get(user.id)
        .await?
        .ok_or(AuthError::Unauthorized)?;
    Ok(ProfileOut {
        id: facts.id.0,
        full_name: facts.name,
        phone_number: facts.phone.as_ref().map(ToString::to_string),
        role: facts.role.as_str().to_owned(),
        language: facts
            .language
            .unwrap_or_else(|| Lang::of_request(req))
            .code(),
    })
}

/// The caller's profile.
#[endpoint(tags("users"), status_codes(200, 401))]
async fn get_profile(
    user: CurrentUser,
    req: &mut Request,
    depot: &mut Depot,
) -> Result<Json<ProfileOut>, ApiError> {
    Ok(Json(profile_of(user, req, depot).await?))
}

/// Either field may be left out; the original's other profile fields are accepted and ignored.
#[derive(Debug, Deserialize, ToSchema)]
struct ProfileIn {
    #[serde(default)]
    full_name: Option<String>,
    /// `id` or `en`: the language of the user's pages and WhatsApp messages.
    #[serde(default)]
    language: Option<String>,
}

/// A language code as the profile accepts it, or the 422 that names the field.
fn parse_language(raw: &str) -> Result<Lang, ApiError> {
    match raw.trim() {
        "id" => Ok(Lang::Id),
        "en" => Ok(Lang::En),
        _ => Err(
            ApiError::validation("Field `language`: must be `id` or `en`.".to_owned())
                .with_details(serde_json::json!({ "field": "language" })),
        ),
    }
}

/// Changes the caller's name (the registration's rules: 422 with the reason) and language;
/// a new language is also remembered in this browser (the `lang` cookie).
#[endpoint(tags("users"), status_codes(200, 401, 422))]
async fn put_profile(
    user: CurrentUser,
    body: JsonIn<ProfileIn>,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<ProfileOut>, ApiError> {
    let body = body.into_inner();
    // Both checked before anything is written: a bad language never leaves a new name behind.
    let lang = body.language.as_deref().map(parse_language).transpose()?;
    if let Some(name) = &body.full_name {
        crate::users::clean_name(name)?;
    }
    let sessions = sessions(depot)?;
    let users = &sessions.users;
    if let Some(name) = &body.full_name {
        users.rename(user.id, name).await?;
    }
    if let Some(lang) = lang {
        users.set_language(user.id, lang).await?;
        res.add_cookie(lang.cookie());
    }
    Ok(Json(profile_of(user, req, depot).await?))
}

/// The caller's last 20 logins, newest first.
#[endpoint(tags("users"), status_codes(200, 401))]
async fn login_history(
    user: CurrentUser,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let list = sessions(depot)?
        .users
        .login_history(user.id, LOGIN_HISTORY_LIMIT)
        .await?;
    res.render(Json(list));
    Ok(())
}

struct Texts {
    title: &'static str,
    phone: &'static str,
    name: &'static str,
    save: &'static str,
    language: &'static str,
    language_hint: &'static str,
    history: &'static str,
    when: &'static str,
    device: &'static str,
    logout: &'static str,
    logout_all: &'static str,
    confirm_all: &'static str,
}

impl Texts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(Text::new("Profil", "Profile")),
            phone: t(crate::messages::PHONE_NUMBER),
            name: t(Text::new("Nama lengkap", "Full name")),
            save: t(Text::new("Simpan nama", "Save name")),
            language: t(Text::new("Bahasa", "Language")),
            language_hint: t(Text::new(
                "Untuk halaman ini dan pesan WhatsApp Anda.",
                "For these pages and your WhatsApp messages.",
            )),
            history: t(Text::new("Riwayat masuk", "Login history")),
            when: t(Text::new("Waktu", "Time")),
            device: t(Text::new("Perangkat", "Device")),
            logout: t(Text::new("Keluar", "Log out")),
            logout_all: t(Text::new(
                "Keluar dari semua perangkat",
                "Log out everywhere",
            )),
            confirm_all: t(Text::new(
                "Keluar dari semua browser dan perangkat?",
                "Log out of every browser and device?",
            )),
        }
    }
}

const SAVED: Text = Text::new("Nama disimpan.", "Name saved.");
const LANGUAGE_SAVED: Text = Text::new("Bahasa disimpan.", "Language saved.");
const LANGUAGE_INVALID: Text = Text::new(
    "Pilih Bahasa Indonesia atau English.",
    "Choose Bahasa Indonesia or English.",
);
const NAME_INVALID: Text = Text::new(
    "Nama harus 1 sampai 100 karakter, tanpa karakter khusus.",
    "A name has 1 to 100 characters, without special characters.",
);

#[derive(TemplateSimple)]
#[template(path = "profile.stpl")]
struct ProfilePage<'a> {
    t: Texts,
    phone: String,
    name: String,
    /// The code of the language the page is in (its button is pressed).
    language: &'static str,
    csrf: &'a str,
    logins: Vec<(String, String, String)>,
    notice: Option<&'static str>,
    error: Option<&'a str>,
}

fn login_line(lang: Lang, e: &LoginEntry) -> (String, String, String) {
    let device = e
        .device
        .clone()
        .or_else(|| e.user_agent.clone())
        .unwrap_or_else(|| "-".to_owned());
    (
        format::datetime(lang, e.at),
        device,
        e.ip.clone().unwrap_or_else(|| "-".to_owned()),
    )
}

/// Renders the page, or leaves the status for the error catcher's page.
async fn show(
    lang: Lang,
    depot: &Depot,
    res: &mut Response,
    notice: Option<&'static str>,
    error: Option<&str>,
    status: StatusCode,
) {
    let built = async {
        let user = CurrentUser::of(depot).map_err(|e| ApiError::from(&e))?;
        let sessions = sessions(depot)?;
        let facts = sessions
            .users
            .get(user.id)
            .await?
            .ok_or(AuthError::Unauthorized)?;
        let logins = sessions
            .users
            .login_history(user.id, LOGIN_HISTORY_LIMIT)
            .await?;
        Ok::<_, ApiError>((facts, logins))
    }
    .await;
    match built {
        Ok((facts, logins)) => {
            let csrf = csrf_token(depot);
            let page = ProfilePage {
                t: Texts::new(lang),
                // A voucher account has no phone until one is attached.
                phone: facts
                    .phone
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), ToString::to_string),
                name: facts.name,
                language: lang.code(),
                csrf: &csrf,
                logins: logins.iter().map(|e| login_line(lang, e)).collect(),
                notice,
                error,
            };
            let title = page.t.title;
            let body = page.render_once().unwrap_or_else(|e| {
                tracing::error!(error = %e, "profile template failed");
                "<p class=\"error\">Internal error.</p>".to_owned()
            });
            res.render(
                Page::new(lang, title, body)
                    .portal(PortalTab::Profile)
                    .with_status(status),
            );
        }
        Err(e) => {
            tracing::error!(code = %e.code, cause = ?e.cause, "profile page failed");
            res.status_code(e.status);
        }
    }
}

/// `GET /akun/profil` (`?ok=1` after a saved name).
#[handler]
async fn profile_page(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let notice = req.query::<String>("ok").map(|ok| match ok.as_str() {
        "bahasa" => LANGUAGE_SAVED.get(lang),
        _ => SAVED.get(lang),
    });
    show(lang, depot, res, notice, None, StatusCode::OK).await;
}

/// Whether the form carries this browser's token; if not, the page again saying the form expired.
async fn form_token_ok(req: &mut Request, depot: &Depot, res: &mut Response, lang: Lang) -> bool {
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let ok = verify_form_token(depot, &token);
    if !ok {
        let expired = crate::messages::form_expired(lang);
        show(
            lang,
            depot,
            res,
            None,
            Some(&expired),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    ok
}

/// `POST /akun/profil/nama`: saves the name, then back to the page.
#[handler]
async fn rename_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let name = req.form::<String>("full_name").await.unwrap_or_default();
    if !form_token_ok(req, depot, res, lang).await {
        return;
    }
    let renamed = match (CurrentUser::of(depot), sessions(depot)) {
        (Ok(user), Ok(sessions)) => sessions
            .users
            .rename(user.id, &name)
            .await
            .map_err(ApiError::from),
        (Err(e), _) => Err(ApiError::from(&e)),
        (_, Err(e)) => Err(e),
    };
    match renamed {
        Ok(_) => res.render(Redirect::other("/akun/profil?ok=1")),
        Err(e) => {
            let why = Some(NAME_INVALID.get(lang));
            show(lang, depot, res, None, why, e.status).await;
        }
    }
}

/// `POST /akun/profil/bahasa`: remembers the language on the account and in this browser, then
/// back to the page (in the new language).
#[handler]
async fn language_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let chosen = req.form::<String>("language").await.unwrap_or_default();
    if !form_token_ok(req, depot, res, lang).await {
        return;
    }
    let saved = match (
        parse_language(&chosen),
        CurrentUser::of(depot),
        sessions(depot),
    ) {
        (Ok(chosen), Ok(user), Ok(sessions)) => sessions
            .users
            .set_language(user.id, chosen)
            .await
            .map(|_| chosen)
            .map_err(ApiError::from),
        (Err(e), _, _) | (_, _, Err(e)) => Err(e),
        (_, Err(e), _) => Err(ApiError::from(&e)),
    };
    match saved {
        Ok(chosen) => {
            res.add_cookie(chosen.cookie());
            res.render(Redirect::other("/akun/profil?ok=bahasa"));
        }
        Err(e) => {
            let why = Some(LANGUAGE_INVALID.get(lang));
            show(lang, depot, res, None, why, e.status).await;
        }
    }
}

/// `POST /akun/profil/keluar-semua`: ends every session of the user, then the login page.
#[handler]
async fn logout_all_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    if !form_token_ok(req, depot, res, lang).await {
        return;
    }
    if let (Ok(user), Ok(sessions)) = (CurrentUser::of(depot), sessions(depot)) {
        if let Err(e) = sessions.end_all(user.id).await {
            tracing::warn!(error = %e, "log out everywhere failed");
            return show(
                lang,
                depot,
                res,
                None,
                None,
                StatusCode::INTERNAL_SERVER_ERROR,
            )
            .await;
        }
        Sessions::clear_cookies(res, is_https(depot));
    }
    res.render(Redirect::other("/login"));
}

/// The profile routes; the sessions router around them injects [`Sessions`].
pub(crate) fn router() -> Router {
    Router::new()
        .push(
            Router::with_path("api/users/me/profile")
                .hoop(require_user)
                .get(get_profile)
                .put(put_profile),
        )
        .push(
            Router::with_path("api/users/me/login-history")
                .hoop(require_user)
                .get(login_history),
        )
        .push(
            Router::with_path("akun/profil")
                .hoop(require_user)
                .get(profile_page)
                .push(Router::with_path("nama").post(rename_form))
                .push(Router::with_path("bahasa").post(language_form))
                .push(Router::with_path("keluar-semua").post(logout_all_form)),
        )
}
