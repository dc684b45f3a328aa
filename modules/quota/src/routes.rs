//! HTTP surface: the dashboard page `/akun`, `GET /api/users/me/quota`,
//! `GET /api/users/me/quota-history` and `POST /api/admin/sync`. The kernel's guards admit
//! the caller; handlers take the `CurrentUser`, call one service method and render. Taking the
//! caller as an argument means a mounting mistake cannot open them.

use std::sync::Arc;

use lpsaring_kernel::web::{CurrentUser, JsonIn, client_ip, require_admin, require_user};
use lpsaring_kernel::{ApiError, Lang, UserId};
use salvo::affix_state;
use salvo::prelude::*;

use crate::adjust::{AdjustIn, Adjusted, Adjustments};
use crate::api::{QuotaHistory, QuotaView, SyncSummary};
use crate::portal::{self, DashboardView};
use crate::service::Service;

fn service(depot: &Depot) -> Result<Arc<Service>, ApiError> {
    depot
        .get_typed::<Arc<Service>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"quota service missing from the depot"))
}

/// The caller's quota: purchased, used, remaining, unlimited, status, expires_at, and daily
/// usage for the last 30 local days.
#[endpoint(tags("quota"), status_codes(200, 401))]
async fn my_quota(user: CurrentUser, depot: &mut Depot) -> Result<Json<QuotaView>, ApiError> {
    Ok(Json(service(depot)?.view(user.id).await?))
}

/// The caller's ledger (purchases, grants; newest first) and usage by day over 30 local days.
#[endpoint(tags("quota"), status_codes(200, 401))]
async fn my_quota_history(
    user: CurrentUser,
    depot: &mut Depot,
) -> Result<Json<QuotaHistory>, ApiError> {
    Ok(Json(service(depot)?.history(user.id).await?))
}

/// `/akun`: the caller's status, quota, validity and usage. A failure is logged and left to the
/// error catcher's readable page (never the JSON envelope on a page).
#[handler]
async fn dashboard(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let built = async {
        let user = CurrentUser::of(depot).map_err(|e| ApiError::from(&e))?;
        let service = service(depot)?;
        let view = service.view(user.id).await?;
        let name = service.user_name(user.id).await?;
        let profile = service.profile_for(view.summary.status).to_owned();
        let now = service.clock.now();
        Ok::<_, ApiError>(DashboardView::build(
            lang,
            &name,
            &view.summary,
            &view.daily,
            &profile,
            now,
        ))
    }
    .await;
    match built {
        Ok(view) => res.render(portal::render(lang, &view)),
        Err(e) => {
            tracing::error!(request_id = %lpsaring_kernel::web::request_id(depot), code = %e.code, "dashboard failed");
            res.status_code(e.status);
        }
    }
}

/// Runs a sync now (waiting for one in progress) and returns its summary. Admins only.
#[endpoint(tags("quota"), status_codes(200, 401, 403))]
async fn admin_sync(depot: &mut Depot) -> Result<Json<SyncSummary>, ApiError> {
    CurrentUser::admin(depot)?;
    Ok(Json(service(depot)?.sync_once().await?))
}

/// Adds bytes and days to a user's account, or takes them back when negative (never more
/// bytes than are unused, never a validity in the past), with a required `reason` kept in the
/// ledger and the audit log. Only a super admin adjusts an admin's account.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 404, 422), parameters(("id" = i64, Path, description = "The user id")))]
async fn admin_quota_adjust(
    req: &mut Request,
    depot: &mut Depot,
    body: JsonIn<AdjustIn>,
) -> Result<Json<Adjusted>, ApiError> {
    let caller = CurrentUser::admin(depot)?;
    let target = req
        .param::<i64>("id")
        .map(UserId)
        .ok_or(crate::QuotaError::UserNotFound)?;
    let ip = client_ip(depot).map(|ip| ip.to_string());
    let svc = depot
        .get_typed::<Arc<Adjustments>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"quota adjustments missing from the depot"))?;
    let done = svc
        .adjust((caller.id, caller.role), target, &body, ip)
        .await?;
    Ok(Json(done))
}

/// Quota's admin JSON under `/api/admin/users/{id}` (auth owns the rest of that path) and its
/// form on the users page, `/admin/users/{id}/quota`.
pub fn admin_router(adjustments: Arc<Adjustments>) -> Router {
    Router::new()
        .hoop(affix_state::inject(adjustments))
        .hoop(require_admin)
        .push(Router::with_path("api/admin/users/{id}/quota-adjust").post(admin_quota_adjust))
        .push(Router::with_path("admin/users/{id}/quota").post(crate::admin_form::adjust_form))
}

/// Every quota route, with the service injected.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .hoop(affix_state::inject(service))
        .push(
            Router::with_path("api/users/me/quota")
                .hoop(require_user)
                .get(my_quota),
        )
        .push(
            Router::with_path("api/users/me/quota-history")
                .hoop(require_user)
                .get(my_quota_history),
        )
        .push(Router::with_path("akun").hoop(require_user).get(dashboard))
        .push(
            Router::with_path("api/admin/sync")
                .hoop(require_admin)
                .post(admin_sync),
        )
}
