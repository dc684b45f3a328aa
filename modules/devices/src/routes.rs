//! HTTP surface of the devices portal: the page `/akun/perangkat` with its forms (POST, then a
//! redirect back; no JavaScript needed) and the JSON under `/api/users/me/devices`. Handlers
//! read the caller, call one [`Portal`] method and answer; another user's device id is a 404.

use std::sync::Arc;

use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, client_ip, csrf_token, json, require_user, verify_form_token,
};
use lpsaring_kernel::{ApiError, Lang};
use salvo::affix_state;
use salvo::http::StatusCode;
use salvo::prelude::*;
use serde::Deserialize;

use crate::page::{self, Banner};
use crate::portal::Portal;

fn portal(depot: &Depot) -> Result<Arc<Portal>, ApiError> {
    depot
        .get_typed::<Arc<Portal>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"devices portal missing from the depot"))
}

fn path_id(req: &Request) -> Result<i64, ApiError> {
    req.param::<i64>("id")
        .ok_or_else(|| ApiError::validation("The device id in the path must be a number."))
}

/// The caller's devices, the limit, and the device this request comes from (`null` off the
/// hotspot) with whether it can be bound.
#[endpoint(tags("devices"), status_codes(200, 401))]
async fn my_devices(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let user = CurrentUser::of(depot)?.id;
    let listing = portal(depot)?.listing(user, client_ip(depot)).await?;
    res.render(Json(listing));
    Ok(())
}

#[derive(Debug, Deserialize)]
struct LabelIn {
    label: String,
}

/// Names one of the caller's devices (at most 40 characters; empty clears the name).
#[endpoint(tags("devices"), status_codes(200, 401, 404, 422), parameters(("id" = i64, Path, description = "The device id")))]
async fn set_label(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let user = CurrentUser::of(depot)?.id;
    let id = path_id(req)?;
    let bytes = req
        .payload()
        .await
        .map_err(|_| ApiError::bad_request("The request body could not be read."))?;
    let body: LabelIn = json::parse(bytes)?;
    let changed = portal(depot)?.rename(user, id, &body.label).await?;
    res.render(Json(changed));
    Ok(())
}

/// Removes one of the caller's devices, and its rows on the router.
#[endpoint(tags("devices"), status_codes(200, 401, 404), parameters(("id" = i64, Path, description = "The device id")))]
async fn remove(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let user = CurrentUser::of(depot)?.id;
    let id = path_id(req)?;
    let changed = portal(depot)?.remove(user, id).await?;
    res.render(Json(changed));
    Ok(())
}

/// Binds the device this request comes from, when it is not bound and a slot is free.
#[endpoint(tags("devices"), status_codes(200, 401, 409))]
async fn bind_current(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let user = CurrentUser::of(depot)?.id;
    let changed = portal(depot)?.bind_current(user, client_ip(depot)).await?;
    res.render(Json(changed));
    Ok(())
}

/// Renders the page (with a notice or a refusal); a failure is logged and left to the error
/// catcher's readable page.
async fn show(
    lang: Lang,
    depot: &Depot,
    res: &mut Response,
    banner: Banner<'_>,
    status: StatusCode,
) {
    let listed = match (CurrentUser::of(depot), portal(depot)) {
        (Ok(user), Ok(portal)) => portal
            .listing(user.id, client_ip(depot))
            .await
            .map_err(ApiError::from),
        (Err(e), _) => Err(ApiError::from(&e)),
        (_, Err(e)) => Err(e),
    };
    match listed {
        Ok(listing) => {
            let csrf = csrf_token(depot);
            res.render(page::render(lang, &listing, &csrf, banner).with_status(status));
        }
        Err(e) => {
            tracing::error!(request_id = %lpsaring_kernel::web::request_id(depot), code = %e.code, "devices page failed");
            res.status_code(e.status);
        }
    }
}

/// `GET /akun/perangkat`, with `?ok=…` after an action.
#[handler]
async fn devices_page(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let ok = req.query::<String>("ok").unwrap_or_default();
    let banner = page::done_notice(lang, &ok).map_or(Banner::None, Banner::Done);
    show(lang, depot, res, banner, StatusCode::OK).await;
}

/// A form's action on the devices page.
enum Action {
    Rename(i64, String),
    Remove(i64),
    Bind,
}

/// Checks the form token, applies `action`, and redirects back with what was done; a refusal
/// shows the page again saying why, with the refusal's status.
async fn submit(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
    action: Result<Action, ApiError>,
) {
    let lang = Lang::of_request(req);
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let done = if verify_form_token(depot, &token) {
        apply(depot, action).await
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORM_EXPIRED",
            "The form expired.",
        ))
    };
    match done {
        Ok(ok) => res.render(Redirect::other(format!("/akun/perangkat?ok={ok}"))),
        Err(e) => {
            if e.status.is_server_error() {
                tracing::warn!(code = %e.code, cause = ?e.cause, "devices form failed");
            }
            let why = page::refusal(lang, &e.code);
            show(lang, depot, res, Banner::Refused(why), e.status).await;
        }
    }
}

async fn apply(depot: &Depot, action: Result<Action, ApiError>) -> Result<&'static str, ApiError> {
    let user = CurrentUser::of(depot)?.id;
    let portal = portal(depot)?;
    Ok(match action? {
        Action::Rename(id, label) => {
            portal.rename(user, id, &label).await?;
            "renamed"
        }
        Action::Remove(id) => {
            portal.remove(user, id).await?;
            "removed"
        }
        Action::Bind => {
            portal.bind_current(user, client_ip(depot)).await?;
            "bound"
        }
    })
}

/// `POST /akun/perangkat/{id}/nama` (form: `label`).
#[handler]
async fn rename_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let label = req.form::<String>("label").await.unwrap_or_default();
    let action = path_id(req).map(|id| Action::Rename(id, label));
    submit(req, depot, res, action).await;
}

/// `POST /akun/perangkat/{id}/hapus`.
#[handler]
async fn remove_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let action = path_id(req).map(Action::Remove);
    submit(req, depot, res, action).await;
}

/// `POST /akun/perangkat/ikat`: bind the device this request comes from.
#[handler]
async fn bind_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    submit(req, depot, res, Ok(Action::Bind)).await;
}

/// Every devices route, with the portal injected.
pub fn router(portal: Arc<Portal>) -> Router {
    Router::new()
        .hoop(affix_state::inject(portal))
        .push(
            Router::with_path("api/users/me/devices")
                .hoop(require_user)
                .get(my_devices)
                .push(Router::with_path("bind-current").post(bind_current))
                .push(Router::with_path("{id}").delete(remove))
                .push(Router::with_path("{id}/label").put(set_label)),
        )
        .push(
            Router::with_path("akun/perangkat")
                .hoop(require_user)
                .get(devices_page)
                .push(Router::with_path("ikat").post(bind_form))
                .push(Router::with_path("{id}/nama").post(rename_form))
                .push(Router::with_path("{id}/hapus").post(remove_form)),
        )
}
