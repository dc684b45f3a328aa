//! `/api/admin/users`: the user list (`?q=`, `?status=`, paging, `?format=csv`), the
//! approve / reject / block / unblock actions (POST, and PATCH as the original), reset-login,
//! login-code, the role (`PUT`) and the soft delete (`DELETE`). Admins only: the kernel's guard
//! here and `app`'s admin-area hoop for every `/api/admin` route.

use std::sync::Arc;

use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::web::{
    CurrentUser, JsonIn, client_ip, json, query_param as param, require_admin, wants_csv,
};
use lpsaring_kernel::{ApiError, UserId};
use salvo::affix_state;
use salvo::oapi::ToSchema;
use salvo::prelude::*;
use serde::Deserialize;

use crate::admin_account::{LoginCode, LoginReset};
use crate::admin_users::{AdminUser, StatusFilter, UserAction, UserAdmin, UserPage, UserQuery};
use crate::error::AuthError;

fn admin(depot: &Depot) -> Result<Arc<UserAdmin>, ApiError> {
    depot
        .get_typed::<Arc<UserAdmin>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"user admin missing from the depot"))
}

/// Users, newest first: `q` (phone in any spelling, or part of a name), `status` (`pending`,
/// `approved`, `rejected`, `blocked`, `inactive`), `page`, `per_page` (≤ 500);
/// `?format=csv` exports every match.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 422))]
async fn list_users(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    CurrentUser::admin(depot)?;
    let query = UserQuery {
        q: param(req, "q")?,
        status: param::<StatusFilter>(req, "status")?,
    };
    let svc = admin(depot)?;
    if wants_csv(req) {
        svc.export(&query).await?.render(res, "users.csv");
    } else {
        let page: UserPage = svc
            .list(
                &query,
                param(req, "page")?.unwrap_or(1),
                param(req, "per_page")?.unwrap_or(50),
            )
            .await?;
        res.render(Json(page));
    }
    Ok(())
}

/// The optional body of an action: why (shown to the user in the notice for block and reject).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
struct ActionIn {
    reason: Option<String>,
}

/// The `{id}` of the path.
fn target(req: &Request) -> Result<UserId, AuthError> {
    req.param::<i64>("id")
        .map(UserId)
        .ok_or(AuthError::UserNotFound)
}

async fn act(
    req: &mut Request,
    depot: &mut Depot,
    action: UserAction,
) -> Result<Json<AdminUser>, ApiError> {
    let caller = CurrentUser::admin(depot)?;
    let target = target(req)?;
    let bytes = req
        .payload()
        .await
        .map_err(|_| ApiError::bad_request("The body could not be read."))?;
    let body: ActionIn = if bytes.iter().all(u8::is_ascii_whitespace) {
        ActionIn::default()
    } else {
        json::parse(bytes)?
    };
    let ip = client_ip(depot).map(|ip| ip.to_string());
    let svc = admin(depot)?;
    let user = svc
        .act(
            (caller.id, caller.role),
            target,
            action,
            body.reason.as_deref(),
            ip,
        )
        .await?;
    Ok(Json(user))
}

/// Approves a pending user (a WhatsApp notice is queued).
#[endpoint(
    tags("admin"),
    status_codes(200, 401, 403, 404, 422),
    parameters(("id" = i64, Path, description = "The user id"))
)]
async fn approve(req: &mut Request, depot: &mut Depot) -> Result<Json<AdminUser>, ApiError> {
    act(req, depot, UserAction::Approve).await
}

/// Rejects a registration, with an optional `reason` (a notice is queued).
#[endpoint(
    tags("admin"),
    status_codes(200, 401, 403, 404, 422),
    parameters(("id" = i64, Path, description = "The user id"))
)]
async fn reject(req: &mut Request, depot: &mut Depot) -> Result<Json<AdminUser>, ApiError> {
    act(req, depot, UserAction::Reject).await
}

/// Blocks a user, with an optional `reason` (a notice is queued; the next sync enforces it).
#[endpoint(
    tags("admin"),
    status_codes(200, 401, 403, 404, 422),
    parameters(("id" = i64, Path, description = "The user id"))
)]
async fn block(req: &mut Request, depot: &mut Depot) -> Result<Json<AdminUser>, ApiError> {
    act(req, depot, UserAction::Block).await
}

/// Lifts a block (a notice is queued).
#[endpoint(
    tags("admin"),
    status_codes(200, 401, 403, 404, 422),
    parameters(("id" = i64, Path, description = "The user id"))
)]
async fn unblock(req: &mut Request, depot: &mut Depot) -> Result<Json<AdminUser>, ApiError> {
    act(req, depot, UserAction::Unblock).await
}

/// Signs the user out everywhere and removes their devices from the router; they log in again
/// on the captive page.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 404), parameters(("id" = i64, Path, description = "The user id")))]
async fn reset_login(req: &mut Request, depot: &mut Depot) -> Result<Json<LoginReset>, ApiError> {
    let caller = CurrentUser::admin(depot)?;
    let ip = client_ip(depot).map(|ip| ip.to_string());
    let done = admin(depot)?
        .reset_login((caller.id, caller.role), target(req)?, ip)
        .await?;
    Ok(Json(done))
}

/// A one-time login code for the user's phone, shown once (for when WhatsApp is down): the user
/// types it on the captive page like a sent code.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 404, 422), parameters(("id" = i64, Path, description = "The user id")))]
async fn login_code(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<Json<LoginCode>, ApiError> {
    let caller = CurrentUser::admin(depot)?;
    let ip = client_ip(depot).map(|ip| ip.to_string());
    let code = admin(depot)?
        .login_code((caller.id, caller.role), target(req)?, ip)
        .await?;
    res.headers_mut().insert(
        salvo::http::header::CACHE_CONTROL,
        salvo::http::HeaderValue::from_static("no-store"),
    );
    Ok(Json(code))
}

/// Soft-deletes the user: anonymised and disabled, signed out, router rows removed; their
/// ledger and payments stay. Nobody deletes themselves; only a super admin deletes an admin.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 404, 422), parameters(("id" = i64, Path, description = "The user id")))]
async fn delete_user(req: &mut Request, depot: &mut Depot) -> Result<Json<AdminUser>, ApiError> {
    let caller = CurrentUser::admin(depot)?;
    let ip = client_ip(depot).map(|ip| ip.to_string());
    let done = admin(depot)?
        .delete((caller.id, caller.role), target(req)?, ip)
        .await?;
    Ok(Json(done))
}

/// The body of `PUT /api/admin/users/{id}`: the new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateIn {
    /// `USER`, `ADMIN` or `SUPER_ADMIN`.
    #[salvo(schema(value_type = String))]
    role: Role,
}

/// Changes the user's role (super admin only; the last super admin keeps the role). The
/// user's sessions are revoked so the new role holds from their next login.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 404, 422), parameters(("id" = i64, Path, description = "The user id")))]
async fn update_user(
    req: &mut Request,
    depot: &mut Depot,
    body: JsonIn<UpdateIn>,
) -> Result<Json<AdminUser>, ApiError> {
    let caller = CurrentUser::admin(depot)?;
    let ip = client_ip(depot).map(|ip| ip.to_string());
    let done = admin(depot)?
        .set_role((caller.id, caller.role), target(req)?, body.role, ip)
        .await?;
    Ok(Json(done))
}

/// The user admin routes (the JSON and the `/admin/users` pages), with the service injected.
pub fn router(admin: Arc<UserAdmin>) -> Router {
    Router::new()
        .hoop(affix_state::inject(admin))
        .push(
            Router::with_path("api/admin/users")
                .hoop(require_admin)
                .get(list_users)
                .push(
                    Router::with_path("{id}")
                        .put(update_user)
                        .delete(delete_user)
                        .push(Router::with_path("approve").post(approve).patch(approve))
                        .push(Router::with_path("reject").post(reject).patch(reject))
                        .push(Router::with_path("block").post(block).patch(block))
                        .push(Router::with_path("unblock").post(unblock).patch(unblock))
                        .push(Router::with_path("reset-login").post(reset_login))
                        .push(Router::with_path("login-code").post(login_code)),
                ),
        )
        .push(super::admin_pages::router())
}
