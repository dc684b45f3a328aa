//! `/admin/packages`: the list, the create form, `/admin/packages/{id}` to edit one, and
//! "take off sale". Forms carry the CSRF token and answer with a redirect (303) to the list; a
//! refused form is shown again as typed with the reason. The profile field offers the router's
//! hotspot profiles, read live; a router that does not answer leaves it free text with a notice.

use std::sync::Arc;

use lpsaring_kernel::ui::Page;
use lpsaring_kernel::web::{CSRF_FIELD, CurrentUser, csrf_token, require_admin, verify_form_token};
use lpsaring_kernel::{ErrorCode, Lang, Text};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::prelude::*;

use super::views::{EDIT_TITLE, EditView, Fields, Line, ListView, ProfileField, TITLE, Texts};
use crate::admin_ui::{self, FORM_EXPIRED, refusal};
use crate::api::PackageInput;
use crate::error::PaymentsError;
use crate::service::Service;

const AREA: &str = "/admin/packages";

fn service(depot: &Depot) -> Option<Arc<Service>> {
    depot.get_typed::<Arc<Service>>().ok().cloned()
}

fn notice(lang: Lang, done: Option<&str>) -> Option<String> {
    let t = match done? {
        "created" => Text::new("Paket dibuat.", "The package was created."),
        "updated" => Text::new("Paket disimpan.", "The package was saved."),
        "deactivated" => Text::new("Paket tidak dijual lagi.", "The package is off sale."),
        _ => return None,
    };
    Some(t.get(lang).to_owned())
}

/// The list page with the create form (`f`, as typed after a refusal) and a message.
async fn list(
    lang: Lang,
    svc: &Service,
    depot: &Depot,
    f: Fields,
    notice: Option<String>,
    error: Option<String>,
) -> Page {
    let packages = match svc.all_packages().await {
        Ok(p) => p,
        Err(e) => return admin_ui::internal(lang, AREA, "package page failed", &e),
    };
    let profiles = ProfileField::new(&svc.router_profiles().await, &f.profile);
    let v = ListView {
        t: Texts::new(lang),
        notice,
        error,
        rows: packages.iter().map(|p| Line::of(lang, p)).collect(),
        f,
        profiles,
        csrf: csrf_token(depot),
    };
    admin_ui::frame(lang, AREA, TITLE.get(lang), v.render_once())
}

async fn edit_form(
    lang: Lang,
    svc: &Service,
    depot: &Depot,
    id: i64,
    f: Fields,
    error: Option<String>,
) -> Page {
    let profiles = ProfileField::new(&svc.router_profiles().await, &f.profile);
    let v = EditView {
        t: Texts::new(lang),
        title: EDIT_TITLE.get(lang),
        id,
        error,
        f,
        profiles,
        csrf: csrf_token(depot),
    };
    admin_ui::frame(lang, AREA, EDIT_TITLE.get(lang), v.render_once())
}

/// The form's fields and its CSRF token.
async fn read_form(req: &mut Request) -> (Fields, String) {
    let mut text = Vec::new();
    for name in [
        CSRF_FIELD,
        "name",
        "description",
        "price",
        "quota_gb",
        "validity",
        "validity_unit",
        "hotspot_profile",
        "sort_order",
        "unlimited",
        "is_active",
    ] {
        text.push(req.form::<String>(name).await);
    }
    let mut it = text.into_iter();
    let mut next = || it.next().flatten();
    let token = next().unwrap_or_default();
    let f = Fields {
        name: next().unwrap_or_default(),
        description: next().unwrap_or_default(),
        price: next().unwrap_or_default(),
        quota_gb: next().unwrap_or_default(),
        validity: next().unwrap_or_default(),
        in_days: next().as_deref() != Some("hours"),
        profile: next().unwrap_or_default(),
        sort_order: next().unwrap_or_default(),
        unlimited: next().is_some(),
        is_active: next().is_some(),
    };
    (f, token)
}

/// Why the form cannot be used: an expired token, a field that does not parse, or `None`.
fn check(
    lang: Lang,
    depot: &Depot,
    f: &Fields,
    token: &str,
) -> Result<PackageInput, (StatusCode, String)> {
    if !verify_form_token(depot, token) {
        return Err((StatusCode::FORBIDDEN, FORM_EXPIRED.get(lang).to_owned()));
    }
    f.input().map_err(|field| {
        let lead = Text::new("Isian tidak valid", "Input not valid").get(lang);
        (StatusCode::UNPROCESSABLE_ENTITY, format!("{lead}: {field}"))
    })
}

fn refused(lang: Lang, e: &PaymentsError) -> (StatusCode, String) {
    (e.status(), refusal(lang, e))
}

fn to_list(res: &mut Response, done: &str) {
    res.render(Redirect::other(format!("{AREA}?done={done}")));
}

/// `GET /admin/packages`.
#[handler]
async fn list_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let Some(svc) = service(depot) else {
        return admin_ui::internal(lang, AREA, "payments service missing", &"depot");
    };
    let done = notice(lang, req.query::<String>("done").as_deref());
    list(lang, &svc, depot, Fields::blank(), done, None).await
}

/// `POST /admin/packages`: create, audited.
#[handler]
async fn create_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let (Some(svc), Ok(admin)) = (service(depot), CurrentUser::admin(depot)) else {
        res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        return;
    };
    let (f, token) = read_form(req).await;
    let (status, error) = match check(lang, depot, &f, &token) {
        Ok(input) => match svc.create_package_by(admin.id, &input).await {
            Ok(_) => return to_list(res, "created"),
            Err(e) => refused(lang, &e),
        },
        Err(bad) => bad,
    };
    res.render(
        list(lang, &svc, depot, f, None, Some(error))
            .await
            .with_status(status),
    );
}

fn path_id(req: &Request) -> Option<i64> {
    req.param::<i64>("id")
}

/// `GET /admin/packages/{id}`.
#[handler]
async fn edit_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let Some(svc) = service(depot) else {
        return admin_ui::internal(lang, AREA, "payments service missing", &"depot");
    };
    let found = match path_id(req) {
        Some(id) => svc.package(id).await,
        None => Err(PaymentsError::PackageNotFound),
    };
    match found {
        Ok(p) => edit_form(lang, &svc, depot, p.id, Fields::of(&p), None).await,
        Err(e) if !e.is_internal() => {
            admin_ui::message(lang, AREA, TITLE.get(lang), &refusal(lang, &e), e.status())
        }
        Err(e) => admin_ui::internal(lang, AREA, "package page failed", &e),
    }
}

/// `POST /admin/packages/{id}`: save, audited.
#[handler]
async fn edit_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let (Some(svc), Ok(admin), Some(id)) =
        (service(depot), CurrentUser::admin(depot), path_id(req))
    else {
        res.status_code(StatusCode::NOT_FOUND);
        return;
    };
    let (f, token) = read_form(req).await;
    let (status, error) = match check(lang, depot, &f, &token) {
        Ok(input) => match svc.update_package_by(admin.id, id, &input).await {
            Ok(_) => return to_list(res, "updated"),
            Err(e) => refused(lang, &e),
        },
        Err(bad) => bad,
    };
    res.render(
        edit_form(lang, &svc, depot, id, f, Some(error))
            .await
            .with_status(status),
    );
}

/// `POST /admin/packages/{id}/deactivate`: off sale, audited (orders keep their package).
#[handler]
async fn deactivate_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let (Some(svc), Ok(admin), Some(id)) =
        (service(depot), CurrentUser::admin(depot), path_id(req))
    else {
        res.status_code(StatusCode::NOT_FOUND);
        return;
    };
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let (status, error) = if !verify_form_token(depot, &token) {
        (StatusCode::FORBIDDEN, FORM_EXPIRED.get(lang).to_owned())
    } else {
        match svc.deactivate_package_by(admin.id, id).await {
            Ok(_) => return to_list(res, "deactivated"),
            Err(e) => refused(lang, &e),
        }
    };
    res.render(
        list(lang, &svc, depot, Fields::blank(), None, Some(error))
            .await
            .with_status(status),
    );
}

/// The package pages, mounted inside the payments router (the service is in the depot).
pub(crate) fn router() -> Router {
    Router::with_path("admin/packages")
        .hoop(require_admin)
        .get(list_page)
        .post(create_submit)
        .push(
            Router::with_path("{id}")
                .get(edit_page)
                .post(edit_submit)
                .push(Router::with_path("deactivate").post(deactivate_submit)),
        )
}
