//! HTTP surface: `GET /api/users/me/quota` and `POST /api/admin/sync`. The kernel's guards admit
//! the caller; handlers take the `CurrentUser`, call one service method and render. Taking the
//! caller as an argument means a mounting mistake cannot open them.

use std::sync::Arc;

use lpsaring_kernel::ApiError;
use lpsaring_kernel::web::{CurrentUser, require_admin, require_user};
use salvo::affix_state;
use salvo::prelude::*;

use crate::api::{QuotaView, SyncSummary};
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

/// Runs a sync now (waiting for one in progress) and returns its summary. Admins only.
#[endpoint(tags("quota"), status_codes(200, 401, 403))]
async fn admin_sync(depot: &mut Depot) -> Result<Json<SyncSummary>, ApiError> {
    CurrentUser::admin(depot)?;
    Ok(Json(service(depot)?.sync_once().await?))
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
            Router::with_path("api/admin/sync")
                .hoop(require_admin)
                .post(admin_sync),
        )
}
