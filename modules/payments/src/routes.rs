//! HTTP surface: packages (public list, admin CRUD), orders (initiate, cancel, views), the
//! payment availability, and the webhooks. Handlers parse, call one service method, render.

use std::sync::Arc;

use lpsaring_kernel::ports::payment::RawWebhook;
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::web::{CurrentUser, client_ip, json};
use lpsaring_kernel::{ApiError, Lang};
use salvo::affix_state;
use salvo::http::StatusCode;
use salvo::http::header::{CONTENT_TYPE, HeaderValue};
use salvo::prelude::*;
use serde::de::DeserializeOwned;

use crate::api::{InitiateRequest, PackageInput};
use crate::service::Service;

pub(crate) fn service(depot: &Depot) -> Result<Arc<Service>, ApiError> {
    depot
        .get_typed::<Arc<Service>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"payments service missing from the depot"))
}

/// A JSON body, or a 422 that names the field at fault (the kernel's one parser).
pub(crate) async fn json_body<T: DeserializeOwned>(req: &mut Request) -> Result<T, ApiError> {
    let bytes = req
        .payload()
        .await
        .map_err(|_| ApiError::bad_request("The request body could not be read."))?;
    json::parse(bytes)
}

fn path_id(req: &Request) -> Result<i64, ApiError> {
    req.param::<i64>("id")
        .ok_or_else(|| ApiError::validation("The id in the path must be a number."))
}

pub(crate) fn order_id_param(req: &Request) -> Result<String, ApiError> {
    req.param::<String>("order_id")
        .filter(|o| !o.is_empty() && o.len() <= 64)
        .ok_or_else(|| ApiError::validation("The order id in the path is not valid."))
}

// ---------------------------------------------------------------------------------------------
// Packages

/// Packages on sale, sorted.
#[endpoint(tags("payments"))]
async fn packages(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let list = service(depot)?.active_packages().await?;
    res.render(Json(list));
    Ok(())
}

/// Every package, on sale or not; `?format=csv` exports them.
#[endpoint(tags("payments"))]
async fn admin_packages(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    CurrentUser::admin(depot)?;
    let svc = service(depot)?;
    if lpsaring_kernel::web::wants_csv(req) {
        svc.packages_csv().await?.render(res, "packages.csv");
    } else {
        res.render(Json(svc.all_packages().await?));
    }
    Ok(())
}

#[endpoint(tags("payments"))]
async fn admin_create_package(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let admin = CurrentUser::admin(depot)?;
    let input: PackageInput = json_body(req).await?;
    let created = service(depot)?.create_package_by(admin.id, &input).await?;
    res.status_code(StatusCode::CREATED);
    res.render(Json(created));
    Ok(())
}

#[endpoint(tags("payments"), parameters(("id" = i64, Path, description = "The package id")))]
async fn admin_update_package(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let admin = CurrentUser::admin(depot)?;
    let id = path_id(req)?;
    let input: PackageInput = json_body(req).await?;
    let updated = service(depot)?
        .update_package_by(admin.id, id, &input)
        .await?;
    res.render(Json(updated));
    Ok(())
}

/// Deletes a package nobody bought; one with orders is taken off sale (`{"result": "deactivated"}`).
#[endpoint(tags("payments"), parameters(("id" = i64, Path, description = "The package id")))]
async fn admin_delete_package(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let admin = CurrentUser::admin(depot)?;
    let id = path_id(req)?;
    let removed = service(depot)?.remove_package_by(admin.id, id).await?;
    res.render(Json(serde_json::json!({ "result": removed })));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Orders

#[endpoint(tags("payments"))]
async fn initiate(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let user = CurrentUser::of(depot)?.id;
    let input: InitiateRequest = json_body(req).await?;
    let initiated = service(depot)?
        .initiate(user, &input, client_ip(depot))
        .await?;
    res.render(Json(initiated));
    Ok(())
}

#[endpoint(tags("payments"), parameters(("order_id" = String, Path, description = "The order id")))]
async fn cancel(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let user = CurrentUser::of(depot)?.id;
    let order_id = order_id_param(req)?;
    let view = service(depot)?.cancel(user, &order_id).await?;
    res.render(Json(view));
    Ok(())
}

/// An order, for its owner or an admin.
#[endpoint(tags("payments"), parameters(("order_id" = String, Path, description = "The order id")))]
async fn by_order_id(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let caller = CurrentUser::of(depot)?;
    let order_id = order_id_param(req)?;
    let view = service(depot)?
        .order_for(caller.id, caller.role.is_admin(), &order_id)
        .await?;
    res.render(Json(view));
    Ok(())
}

/// An order opened by its status link (`?t=`), without a login.
#[endpoint(tags("payments"), parameters(("order_id" = String, Path, description = "The order id")))]
async fn public_by_order_id(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let order_id = order_id_param(req)?;
    let token = req.query::<String>("t").unwrap_or_default();
    let view = service(depot)?.order_by_link(&order_id, &token).await?;
    res.render(Json(view));
    Ok(())
}

/// "Reconcile now": the reconciliation job's check of this one order, answering its new state.
#[endpoint(tags("payments"), parameters(("order_id" = String, Path, description = "The order id")))]
async fn admin_reconcile(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let admin = CurrentUser::admin(depot)?;
    let order_id = order_id_param(req)?;
    let done = service(depot)?.reconcile_by(admin.id, &order_id).await?;
    res.render(Json(done));
    Ok(())
}

#[endpoint(tags("payments"))]
async fn my_transactions(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let user = CurrentUser::of(depot)?.id;
    let list = service(depot)?.my_orders(user).await?;
    res.render(Json(list));
    Ok(())
}

/// A cash or transfer sale recorded by an admin: a paid order with its grant.
#[endpoint(tags("payments"))]
async fn admin_manual_sale(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let admin = CurrentUser::admin(depot)?;
    let sale: crate::manual::ManualSale = json_body(req).await?;
    let order = service(depot)?.record_manual_sale(admin.id, &sale).await?;
    res.status_code(StatusCode::CREATED);
    res.render(Json(order));
    Ok(())
}

/// An admin bills a user: a gateway order whose payment link goes to them by message.
#[endpoint(tags("payments"))]
async fn admin_bill(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let admin = CurrentUser::admin(depot)?;
    let bill: crate::manual::BillRequest = json_body(req).await?;
    let initiated = service(depot)?.bill(admin.id, &bill).await?;
    res.status_code(StatusCode::CREATED);
    res.render(Json(initiated));
    Ok(())
}

/// A super admin refunds a paid order: its quota grant is reversed (never below what was used).
#[endpoint(tags("payments"), parameters(("order_id" = String, Path, description = "The order id")))]
async fn admin_refund(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let admin = CurrentUser::super_admin(depot)?;
    let order_id = order_id_param(req)?;
    let body: crate::refund::RefundRequest = json_body(req).await?;
    let refunded = service(depot)?
        .refund(&order_id, admin.id, &body.reason)
        .await?;
    res.render(Json(refunded));
    Ok(())
}

#[endpoint(tags("payments"))]
async fn payment_availability(depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    res.render(Json(service(depot)?.availability()));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Webhooks and the sandbox checkout

/// The legacy Midtrans notification path of the original.
const MIDTRANS: &str = "payment-midtrans";

async fn webhook_for(
    plugin: &str,
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let headers = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = req
        .payload()
        .await
        .map_err(|_| ApiError::bad_request("The request body could not be read."))?
        .to_vec();
    let ip = client_ip(depot).map(|ip| ip.to_string());
    let reply = service(depot)?
        .handle_webhook(plugin, RawWebhook { headers, body }, ip)
        .await?;
    res.status_code(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK));
    // A content type a plugin got wrong must not cost the provider its answer.
    let content_type = HeaderValue::from_str(&reply.content_type)
        .unwrap_or(HeaderValue::from_static("text/plain; charset=utf-8"));
    res.headers_mut().insert(CONTENT_TYPE, content_type);
    res.write_body(reply.body)
        .map_err(|_| ApiError::internal(&"the webhook answer could not be written"))?;
    Ok(())
}

/// A payment plugin's notification: verified and parsed by the plugin, applied exactly once.
#[endpoint(
    tags("payments"),
    parameters(("plugin" = String, Path, description = "The payment plugin's name"))
)]
async fn webhook(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let plugin = req.param::<String>("plugin").unwrap_or_default();
    webhook_for(&plugin, req, depot, res).await
}

#[endpoint(tags("payments"))]
async fn midtrans_notification(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    webhook_for(MIDTRANS, req, depot, res).await
}

#[handler]
async fn sandbox_page(req: &mut Request, depot: &mut Depot) -> Result<Page, StatusCode> {
    let lang = Lang::of_request(req);
    let order_id = order_id_param(req).map_err(|_| StatusCode::NOT_FOUND)?;
    let svc = service(depot).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let order = svc.sandbox_checkout(&order_id).await.map_err(|e| {
        if e.is_internal() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::NOT_FOUND
        }
    })?;
    Ok(Page::new(
        lang,
        crate::sandbox::title(lang),
        crate::sandbox::checkout_html(lang, &order),
    ))
}

/// Pay or Fail: the sandbox signs a notification, the webhook pipeline applies it; back to the page.
#[handler]
async fn sandbox_submit(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), StatusCode> {
    let order_id = order_id_param(req).map_err(|_| StatusCode::NOT_FOUND)?;
    let paid = match req.form::<String>("outcome").await.as_deref() {
        Some("paid") => true,
        Some("failed") => false,
        _ => return Err(StatusCode::BAD_REQUEST),
    };
    let svc = service(depot).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    svc.sandbox_outcome(&order_id, paid).await.map_err(|e| {
        if e.is_internal() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::NOT_FOUND
        }
    })?;
    // Back to the shop's status page, as a real provider's finish redirect does.
    let (token, _) = svc.status_link(&order_id);
    res.render(Redirect::other(format!(
        "/bayar/{order_id}?t={}",
        lpsaring_kernel::web::encode_component(&token)
    )));
    Ok(())
}

/// Every payments route, with the service injected.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .hoop(affix_state::inject(service))
        .push(crate::pages::router())
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
        .push(Router::with_path("api/admin/transactions/manual").post(admin_manual_sale))
        .push(Router::with_path("api/admin/transactions/bill").post(admin_bill))
        .push(Router::with_path("api/transactions/{order_id}/cancel").post(cancel))
        .push(Router::with_path("api/transactions/by-order-id/{order_id}").get(by_order_id))
        .push(
            Router::with_path("api/transactions/public/by-order-id/{order_id}")
                .get(public_by_order_id),
        )
        .push(
            Router::with_path("api/admin/transactions/{order_id}/reconcile").post(admin_reconcile),
        )
        .push(Router::with_path("api/admin/transactions/{order_id}/refund").post(admin_refund))
        .push(Router::with_path("api/users/me/transactions").get(my_transactions))
        .push(Router::with_path("api/settings/payment-availability").get(payment_availability))
        .push(Router::with_path("api/payments/webhook/{plugin}").post(webhook))
        .push(Router::with_path("api/transactions/notification").post(midtrans_notification))
        .push(crate::sales::routes::router())
        .push(crate::sales::pages::router())
        .push(crate::package_admin::pages::router())
        .push(crate::vouchers::routes::router())
        .push(
            Router::with_path("pay/sandbox/{order_id}")
                .get(sandbox_page)
                .post(sandbox_submit),
        )
}
