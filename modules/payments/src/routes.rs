//! HTTP surface: packages (public list, admin CRUD), orders (initiate, cancel, views), the
//! payment availability, and the webhooks. Handlers parse, call one service method, render.

use std::sync::Arc;

use lpsaring_kernel::web::{client_ip, current_role, current_user};
use lpsaring_kernel::{ApiError, UserId};
use salvo::affix_state;
use salvo::http::StatusCode;
use salvo::prelude::*;
use serde::de::DeserializeOwned;

use crate::api::{InitiateRequest, PackageInput};
use crate::error::PaymentsError;
use crate::service::Service;

fn service(depot: &Depot) -> Result<Arc<Service>, ApiError> {
    depot
        .get_typed::<Arc<Service>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"payments service missing from the depot"))
}

fn api_error(e: &PaymentsError) -> ApiError {
    if e.is_internal() {
        tracing::error!(error = %e, "payments internal error");
    }
    ApiError::from(e)
}

/// The logged-in caller (401 in the envelope otherwise).
fn caller(depot: &Depot) -> Result<UserId, ApiError> {
    current_user(depot).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
            "Log in to see this.",
        )
    })
}

fn is_admin(depot: &Depot) -> bool {
    current_role(depot).is_some_and(|r| r.is_admin())
}

/// The caller, who must be an admin (401 / 403 `AUTH_ADMIN_REQUIRED`).
fn admin(depot: &Depot) -> Result<UserId, ApiError> {
    let user = caller(depot)?;
    if !is_admin(depot) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "AUTH_ADMIN_REQUIRED",
            "Administrators only.",
        ));
    }
    Ok(user)
}

/// A JSON body, or a 422 that names what is wrong with it.
async fn json_body<T: DeserializeOwned>(req: &mut Request) -> Result<T, ApiError> {
    let bytes = req
        .payload()
        .await
        .map_err(|_| ApiError::bad_request("The request body could not be read."))?;
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::validation(format!("The body is not the expected JSON: {e}.")))
}

fn path_id(req: &Request) -> Result<i64, ApiError> {
    req.param::<i64>("id")
        .ok_or_else(|| ApiError::validation("The id in the path must be a number."))
}

fn order_id_param(req: &Request) -> Result<String, ApiError> {
    req.param::<String>("order_id")
        .filter(|o| !o.is_empty() && o.len() <= 64)
        .ok_or_else(|| ApiError::validation("The order id in the path is not valid."))
}

// ---------------------------------------------------------------------------------------------
// Packages

/// Packages on sale, sorted.
#[handler]
async fn packages(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let list = service(depot)?
        .active_packages()
        .await
        .map_err(|e| api_error(&e))?;
    res.render(Json(list));
    Ok(())
}

#[handler]
async fn admin_packages(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    admin(depot)?;
    let list = service(depot)?
        .all_packages()
        .await
        .map_err(|e| api_error(&e))?;
    res.render(Json(list));
    Ok(())
}

#[handler]
async fn admin_create_package(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    admin(depot)?;
    let input: PackageInput = json_body(req).await?;
    let created = service(depot)?
        .create_package(&input)
        .await
        .map_err(|e| api_error(&e))?;
    res.status_code(StatusCode::CREATED);
    res.render(Json(created));
    Ok(())
}

#[handler]
async fn admin_update_package(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    admin(depot)?;
    let id = path_id(req)?;
    let input: PackageInput = json_body(req).await?;
    let updated = service(depot)?
        .update_package(id, &input)
        .await
        .map_err(|e| api_error(&e))?;
    res.render(Json(updated));
    Ok(())
}

/// Deletes a package nobody bought; one with orders is taken off sale (`{"result": "deactivated"}`).
#[handler]
async fn admin_delete_package(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    admin(depot)?;
    let id = path_id(req)?;
    let removed = service(depot)?
        .remove_package(id)
        .await
        .map_err(|e| api_error(&e))?;
    res.render(Json(serde_json::json!({ "result": removed })));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Orders

#[handler]
async fn initiate(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let user = caller(depot)?;
    let input: InitiateRequest = json_body(req).await?;
    let initiated = service(depot)?
        .initiate(user, &input, client_ip(depot))
        .await
        .map_err(|e| api_error(&e))?;
    res.render(Json(initiated));
    Ok(())
}

#[handler]
async fn cancel(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let user = caller(depot)?;
    let order_id = order_id_param(req)?;
    let view = service(depot)?
        .cancel(user, &order_id)
        .await
        .map_err(|e| api_error(&e))?;
    res.render(Json(view));
    Ok(())
}

/// An order, for its owner or an admin.
#[handler]
async fn by_order_id(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let user = caller(depot)?;
    let order_id = order_id_param(req)?;
    let view = service(depot)?
        .order_for(user, is_admin(depot), &order_id)
        .await
        .map_err(|e| api_error(&e))?;
    res.render(Json(view));
    Ok(())
}

/// An order opened by its status link (`?t=`), without a login.
#[handler]
async fn public_by_order_id(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let order_id = order_id_param(req)?;
    let token = req.query::<String>("t").unwrap_or_default();
    let view = service(depot)?
        .order_by_link(&order_id, &token)
        .await
        .map_err(|e| api_error(&e))?;
    res.render(Json(view));
    Ok(())
}

#[handler]
async fn my_transactions(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let user = caller(depot)?;
    let list = service(depot)?
        .my_orders(user)
        .await
        .map_err(|e| api_error(&e))?;
    res.render(Json(list));
    Ok(())
}

#[handler]
async fn payment_availability(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    res.render(Json(service(depot)?.availability()));
    Ok(())
}

/// Every payments route, with the service injected.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .hoop(affix_state::inject(service))
        .push(Router::with_path("api/packages").get(packages))
        .push(
            Router::with_path("api/admin/packages")
                .get(admin_packages)
                .post(admin_create_package)
                .push(
                    Router::with_path("{id}")
                        .put(admin_update_package)
                        .delete(admin_delete_package),
                ),
        )
        .push(Router::with_path("api/transactions/initiate").post(initiate))
        .push(Router::with_path("api/transactions/{order_id}/cancel").post(cancel))
        .push(Router::with_path("api/transactions/by-order-id/{order_id}").get(by_order_id))
        .push(
            Router::with_path("api/transactions/public/by-order-id/{order_id}")
                .get(public_by_order_id),
        )
        .push(Router::with_path("api/users/me/transactions").get(my_transactions))
        .push(Router::with_path("api/settings/payment-availability").get(payment_availability))
}
