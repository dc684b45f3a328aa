//! HTTP surface: the panel's own pages (`/admin`, `/admin/audit`) and `GET /api/admin/audit`
//! (`?format=csv` exports). Handlers parse the query into plain inputs, call one service method
//! and render. The kernel's guards admit admins only (and `app`'s admin-area hoop as well).

use std::sync::Arc;

use chrono::NaiveDate;
use lpsaring_kernel::web::{CurrentUser, query_param as param, require_admin, wants_csv};
use lpsaring_kernel::{ApiError, Lang, UserId};
use salvo::affix_state;
use salvo::prelude::*;

use crate::audit::{AuditFilter, AuditPage};
use crate::overview::{Overview, OverviewReport};
use crate::service::Service;
use crate::{figures, pages};

fn service(depot: &Depot) -> Result<Arc<Service>, ApiError> {
    depot
        .get_typed::<Arc<Service>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"admin service missing from the depot"))
}

/// The audit list's query: filters, page and page size.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditQuery {
    pub filter: AuditFilter,
    pub page: u64,
    pub per_page: u64,
}

pub(crate) const PER_PAGE: u64 = 50;

impl AuditQuery {
    fn parse(req: &Request) -> Result<Self, ApiError> {
        let text = |name: &'static str| param::<String>(req, name);
        let filter = AuditFilter {
            actor: param::<i64>(req, "actor")?.map(UserId),
            action: text("action")?,
            target: text("target")?,
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

/// The audit log, newest first: filters `actor` (user id), `action` (a dotted name, or a prefix
/// ending in `.`), `target`, `from` / `to` (UTC dates, inclusive); `page`, `per_page` (≤ 500).
/// `?format=csv` returns every match as CSV instead.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 422))]
async fn api_audit(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    CurrentUser::admin(depot)?;
    let query = AuditQuery::parse(req)?;
    let svc = service(depot)?;
    if wants_csv(req) {
        svc.audit_csv(&query.filter).await?.render(res, "audit.csv");
    } else {
        let page: AuditPage = svc
            .audit_page(&query.filter, query.page, query.per_page)
            .await?;
        res.render(Json(page));
    }
    Ok(())
}

/// The service for a page handler; a wiring mistake is a logged 500.
fn page_service(depot: &Depot, res: &mut Response) -> Option<Arc<Service>> {
    let svc = service(depot).ok();
    if svc.is_none() {
        tracing::error!("admin service missing from the depot");
        res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
    }
    svc
}

fn overview(depot: &Depot) -> Result<Arc<Overview>, ApiError> {
    depot
        .get_typed::<Arc<Overview>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"admin overview missing from the depot"))
}

/// The overview's figures: users by status, devices online, usage and revenue today, this
/// month and per day for 30 days, best-selling packages, accounts expiring in 3 days, the last
/// sync, the router's connection and breaker, the router's and plugins' readiness checks and
/// the outbox's depth.
#[endpoint(tags("admin"), status_codes(200, 401, 403))]
async fn api_overview(depot: &mut Depot) -> Result<Json<OverviewReport>, ApiError> {
    CurrentUser::admin(depot)?;
    Ok(Json(overview(depot)?.report().await?))
}

/// `/admin`: the panel's front page, the overview's figures and the recent audit entries.
#[handler]
async fn overview_page(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let Some(svc) = page_service(depot, res) else {
        return;
    };
    let figures = match overview(depot) {
        Ok(o) => o
            .report()
            .await
            .map(|r| figures::figures(lang, o.timezone(), &r)),
        Err(e) => Err(e),
    };
    let recent = svc.audit_page(&AuditFilter::default(), 1, 10).await;
    match (figures, recent) {
        (Ok(figures), Ok(recent)) => res.render(pages::overview(lang, figures, &recent.items)),
        (Err(e), _) => {
            tracing::error!(
                cause = e.cause.as_deref().unwrap_or(&e.message),
                "admin overview figures failed"
            );
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        }
        (_, Err(e)) => {
            tracing::error!(error = %e, "admin overview failed");
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}

/// `/admin/audit`: the audit log with its filters, pages and CSV link.
#[handler]
async fn audit_page(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let query = match AuditQuery::parse(req) {
        Ok(q) => q,
        Err(e) => {
            res.render(pages::audit_invalid(lang, &e.message));
            return;
        }
    };
    let Some(svc) = page_service(depot, res) else {
        return;
    };
    match svc
        .audit_page(&query.filter, query.page, query.per_page)
        .await
    {
        Ok(page) => res.render(pages::audit(lang, &query, &page)),
        Err(e) => {
            tracing::error!(error = %e, "admin audit page failed");
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}

/// Every admin route, with the service and the overview injected.
pub fn router(service: Arc<Service>, overview: Arc<Overview>) -> Router {
    Router::new()
        .hoop(affix_state::inject(service))
        .hoop(affix_state::inject(overview))
        .push(
            Router::with_path("api/admin/overview")
                .hoop(require_admin)
                .get(api_overview),
        )
        .push(
            Router::with_path("api/admin/audit")
                .hoop(require_admin)
                .get(api_audit),
        )
        .push(
            Router::with_path("admin")
                .hoop(require_admin)
                .get(overview_page)
                .push(Router::with_path("audit").get(audit_page)),
        )
}
