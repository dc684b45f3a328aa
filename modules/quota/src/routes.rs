//! HTTP surface: `GET /api/users/me/quota` and `POST /api/admin/sync`. Handlers read the
//! authenticated user that auth's session middleware put in the depot, call one service method
//! and render. They check the user themselves too, so a mounting mistake cannot open them.

use std::sync::Arc;

use lpsaring_kernel::ApiError;
use lpsaring_kernel::web::{current_role, current_user};
use salvo::affix_state;
use salvo::http::StatusCode;
use salvo::prelude::*;

use crate::error::QuotaError;
use crate::service::Service;

fn service(depot: &Depot) -> Result<Arc<Service>, ApiError> {
    depot
        .get_typed::<Arc<Service>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"quota service missing from the depot"))
}

fn api_error(e: &QuotaError) -> ApiError {
    if e.code() == "INTERNAL_ERROR" {
        tracing::error!(error = %e, "quota internal error");
    }
    ApiError::from(e)
}

use lpsaring_kernel::ErrorCode;

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "AUTH_REQUIRED",
        "Log in to see this.",
    )
}

/// The caller's quota: purchased, used, remaining, unlimited, status, expires_at, and daily
/// usage for the last 30 local days.
#[handler]
async fn my_quota(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let user = current_user(depot).ok_or_else(unauthenticated)?;
    let svc = service(depot)?;
    let view = svc.view(user).await.map_err(|e| api_error(&e))?;
    res.render(Json(view));
    Ok(())
}

/// Runs a sync now (waiting for one in progress) and returns its summary. Admins only.
#[handler]
async fn admin_sync(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    current_user(depot).ok_or_else(unauthenticated)?;
    if !current_role(depot).is_some_and(|r| r.is_admin()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "AUTH_ADMIN_REQUIRED",
            "Administrators only.",
        ));
    }
    let svc = service(depot)?;
    let summary = svc.sync_once().await.map_err(|e| api_error(&e))?;
    res.render(Json(summary));
    Ok(())
}

/// Every quota route, with the service injected.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .hoop(affix_state::inject(service))
        .push(Router::with_path("api/users/me/quota").get(my_quota))
        .push(Router::with_path("api/admin/sync").post(admin_sync))
}
