//! The sales JSON: `GET /api/admin/transactions` (filters, paging, `?format=csv`),
//! `GET /api/admin/transactions/{order_id}/detail` and `GET /api/admin/transactions/revenue`
//! (`?format=csv`). Handlers parse, call one service method, render.

use chrono::NaiveDate;
use lpsaring_kernel::ApiError;
use lpsaring_kernel::ui::Site;
use lpsaring_kernel::web::{CurrentUser, query_param as param, wants_csv};
use salvo::prelude::*;

use super::{PER_PAGE, SalesFilter, parse_source, parse_status};
use crate::routes::{order_id_param, service};

/// The list's query: filters, page and page size.
#[derive(Debug, Clone, Default)]
pub(crate) struct SalesQuery {
    pub filter: SalesFilter,
    pub page: u64,
    pub per_page: u64,
}

fn invalid(name: &str) -> ApiError {
    ApiError::validation(format!("Query parameter `{name}` is not valid."))
        .with_details(serde_json::json!({ "field": name }))
}

impl SalesQuery {
    pub(crate) fn parse(req: &Request) -> Result<Self, ApiError> {
        let text = |name: &'static str| param::<String>(req, name);
        let status = match text("status")? {
            Some(s) => Some(parse_status(&s).ok_or_else(|| invalid("status"))?),
            None => None,
        };
        let source = match text("source")? {
            Some(s) => Some(parse_source(&s).ok_or_else(|| invalid("source"))?),
            None => None,
        };
        let method = text("method")?;
        if method.as_ref().is_some_and(|m| m.len() > 30) {
            return Err(invalid("method"));
        }
        let q = text("q")?;
        if q.as_ref().is_some_and(|q| q.chars().count() > 64) {
            return Err(invalid("q"));
        }
        let filter = SalesFilter {
            status,
            source,
            method,
            package_id: param::<i64>(req, "package")?,
            q,
            from: param::<NaiveDate>(req, "from")?,
            to: param::<NaiveDate>(req, "to")?,
        };
        Ok(Self {
            filter,
            page: param(req, "page")?.unwrap_or(1),
            per_page: param(req, "per_page")?.unwrap_or(PER_PAGE),
        })
    }
}

/// Every order, newest first: filters `status` (`pending`, `paid` or the original's `SUCCESS`,
/// …), `source` (`gateway`, `voucher`, `manual`), `method`, `package` (id), `q` (order id or
/// phone), `from` / `to` (local dates, inclusive, on the creation time); `page`, `per_page`
/// (≤ 500). `?format=csv` returns every match as CSV instead.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 422))]
async fn list(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    CurrentUser::admin(depot)?;
    let query = SalesQuery::parse(req)?;
    let svc = service(depot)?;
    let tz = Site::current().timezone;
    if wants_csv(req) {
        svc.sales_csv(&query.filter, tz)
            .await?
            .render(res, "sales.csv");
    } else {
        let page = svc
            .sales_page(&query.filter, tz, query.page, query.per_page)
            .await?;
        res.render(Json(page));
    }
    Ok(())
}

/// One order with every event (oldest first) and the provider's raw payloads, secrets redacted.
#[endpoint(
    tags("admin"),
    status_codes(200, 401, 403, 404),
    parameters(("order_id" = String, Path, description = "The order id"))
)]
async fn detail(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    CurrentUser::admin(depot)?;
    let order_id = order_id_param(req)?;
    res.render(Json(service(depot)?.sale_detail(&order_id).await?));
    Ok(())
}

/// Revenue of paid orders by local day, package and method over `from`..=`to` (default the
/// last 30 days, at most 366). `?format=csv` returns it as `group,key,orders,amount`.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 422))]
async fn revenue(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    CurrentUser::admin(depot)?;
    let from = param::<NaiveDate>(req, "from")?;
    let to = param::<NaiveDate>(req, "to")?;
    let report = service(depot)?
        .revenue(from, to, Site::current().timezone)
        .await?;
    if wants_csv(req) {
        report.csv().render(res, "revenue.csv");
    } else {
        res.render(Json(report));
    }
    Ok(())
}

/// The sales JSON routes, mounted inside the payments router (the service is in the depot).
pub(crate) fn router() -> Router {
    Router::with_path("api/admin/transactions")
        .get(list)
        .push(Router::with_path("revenue").get(revenue))
        .push(Router::with_path("{order_id}/detail").get(detail))
}
