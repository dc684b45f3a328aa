//! The sales pages in the admin frame, usable without JavaScript: `/admin/sales` (the list and
//! its filters), `/admin/sales/{order_id}` (one order, its events, "reconcile now" and a super
//! admin's refund), `/admin/sales/new` (a cash or transfer sale) and `/admin/sales/revenue`.
//! Every form carries the CSRF token; the actions answer with a redirect (303) to the order.

use std::sync::Arc;

use lpsaring_kernel::admin_shell::admin_page;
use lpsaring_kernel::ui::{Page, Site};
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, csrf_token, encode_component, query_string, require_admin,
    verify_form_token,
};
use lpsaring_kernel::{ErrorCode, Lang, Text};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::prelude::*;

use super::routes::SalesQuery;
use super::views::{DetailView, ListView, NEW_TITLE, NewView, RevenueView, TITLE, package_choices};
use super::{PER_PAGE, SalesPage};
use crate::admin_ui::{self, FORM_EXPIRED, refusal};
use crate::manual::{ManualMethod, ManualSale};
use crate::routes::order_id_param;
use crate::service::Service;

const AREA: &str = "/admin/sales";
const RECONCILED: Text = Text::new(
    "Pesanan sudah dicek ke penyedia.",
    "The order was reconciled.",
);
const REFUNDED: Text = Text::new("Dana pesanan dikembalikan.", "The order was refunded.");
const RECORDED: Text = Text::new(
    "Penjualan dicatat dan paket diberikan.",
    "The sale was recorded and the package granted.",
);
const SUPER_ONLY: Text = Text::new(
    "Hanya super admin yang boleh mengembalikan dana.",
    "Only a super admin may refund.",
);

fn frame(lang: Lang, title: &str, body: Result<String, sailfish::RenderError>) -> Page {
    admin_ui::frame(lang, AREA, title, body)
}

fn internal(lang: Lang, what: &str, e: &dyn std::fmt::Display) -> Page {
    admin_ui::internal(lang, AREA, what, e)
}

fn service(depot: &Depot) -> Option<Arc<Service>> {
    depot.get_typed::<Arc<Service>>().ok().cloned()
}

/// The filters as a query string (`status=paid&package=3`), for the pager and the CSV link.
fn filters_query(q: &SalesQuery) -> String {
    let f = &q.filter;
    let pairs = [
        ("q", f.q.clone()),
        ("status", f.status.map(|s| super::status_name(s).to_owned())),
        ("source", f.source.map(|s| super::source_name(s).to_owned())),
        ("method", f.method.clone()),
        ("package", f.package_id.map(|p| p.to_string())),
        ("from", f.from.map(|d| d.to_string())),
        ("to", f.to.map(|d| d.to_string())),
        (
            "per_page",
            (q.per_page != PER_PAGE).then(|| q.per_page.to_string()),
        ),
    ];
    query_string(&pairs)
}

fn list_view(
    lang: Lang,
    q: &SalesQuery,
    packages: &[crate::api::Package],
    page: Option<&SalesPage>,
) -> ListView {
    let query = filters_query(q);
    let mut v = ListView::new(
        lang,
        &q.filter,
        packages,
        format!("/api/admin/transactions?format=csv&{query}"),
    );
    if let Some(page) = page {
        let link = |n: u64| format!("{AREA}?page={n}&{query}");
        v.rows = page
            .items
            .iter()
            .map(|r| super::views::Line::of(lang, r))
            .collect();
        v.total = page.total;
        v.prev = (page.page > 1).then(|| link(page.page - 1));
        v.next =
            (page.page.saturating_mul(page.per_page) < page.total).then(|| link(page.page + 1));
    }
    v
}

/// `GET /admin/sales`.
#[handler]
async fn list_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let Some(svc) = service(depot) else {
        return internal(lang, "payments service missing", &"depot");
    };
    let packages = match svc.all_packages().await {
        Ok(p) => p,
        Err(e) => return internal(lang, "sales page failed", &e),
    };
    let query = match SalesQuery::parse(req) {
        Ok(q) => q,
        Err(e) => {
            let mut v = list_view(lang, &SalesQuery::default(), &packages, None);
            v.error = Some(e.message);
            return frame(lang, TITLE.get(lang), v.render_once())
                .with_status(StatusCode::BAD_REQUEST);
        }
    };
    let tz = Site::current().timezone;
    match svc
        .sales_page(&query.filter, tz, query.page, query.per_page)
        .await
    {
        Ok(page) => frame(
            lang,
            TITLE.get(lang),
            list_view(lang, &query, &packages, Some(&page)).render_once(),
        ),
        Err(e) => internal(lang, "sales page failed", &e),
    }
}

/// The detail page of `order_id`, with a notice or an error.
async fn detail(
    lang: Lang,
    svc: &Service,
    depot: &Depot,
    order_id: &str,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Page {
    let super_admin = CurrentUser::super_admin(depot).is_ok();
    match svc.sale_detail(order_id).await {
        Ok(d) => {
            let mut v = DetailView::new(lang, &d, csrf_token(depot), super_admin);
            v.notice = notice;
            let status = error.as_ref().map(|(s, _)| *s);
            v.error = error.map(|(_, m)| m);
            let page = frame(lang, &d.order.order_id, v.render_once());
            match status {
                Some(s) => page.with_status(s),
                None => page,
            }
        }
        Err(e) if !e.is_internal() => {
            admin_ui::message(lang, AREA, TITLE.get(lang), &refusal(lang, &e), e.status())
        }
        Err(e) => internal(lang, "sale detail failed", &e),
    }
}

/// `GET /admin/sales/{order_id}` (`?done=reconciled|refunded|recorded` after an action).
#[handler]
async fn detail_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let Some(svc) = service(depot) else {
        return internal(lang, "payments service missing", &"depot");
    };
    let Ok(order_id) = order_id_param(req) else {
        return admin_page(lang, AREA, TITLE.get(lang), "").with_status(StatusCode::NOT_FOUND);
    };
    let notice = match req.query::<String>("done").as_deref() {
        Some("reconciled") => Some(RECONCILED),
        Some("refunded") => Some(REFUNDED),
        Some("recorded") => Some(RECORDED),
        _ => None,
    }
    .map(|t| t.get(lang).to_owned());
    detail(lang, &svc, depot, &order_id, notice, None).await
}

fn to_order(res: &mut Response, order_id: &str, done: &str) {
    res.render(Redirect::other(format!(
        "{AREA}/{}?done={done}",
        encode_component(order_id)
    )));
}

/// `POST /admin/sales/{order_id}/reconcile`: "reconcile now".
#[handler]
async fn reconcile_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let (Some(svc), Ok(admin), Ok(order_id)) = (
        service(depot),
        CurrentUser::admin(depot),
        order_id_param(req),
    ) else {
        res.status_code(StatusCode::NOT_FOUND);
        return;
    };
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let error = if !verify_form_token(depot, &token) {
        (StatusCode::FORBIDDEN, FORM_EXPIRED.get(lang).to_owned())
    } else {
        match svc.reconcile_by(admin.id, &order_id).await {
            Ok(_) => return to_order(res, &order_id, "reconciled"),
            Err(e) => (e.status(), refusal(lang, &e)),
        }
    };
    res.render(detail(lang, &svc, depot, &order_id, None, Some(error)).await);
}

/// `POST /admin/sales/{order_id}/refund` (super admins): the order refunded with a reason.
#[handler]
async fn refund_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let (Some(svc), Ok(order_id)) = (service(depot), order_id_param(req)) else {
        res.status_code(StatusCode::NOT_FOUND);
        return;
    };
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let reason = req.form::<String>("reason").await.unwrap_or_default();
    let error = match CurrentUser::super_admin(depot) {
        Err(_) => (StatusCode::FORBIDDEN, SUPER_ONLY.get(lang).to_owned()),
        Ok(_) if !verify_form_token(depot, &token) => {
            (StatusCode::FORBIDDEN, FORM_EXPIRED.get(lang).to_owned())
        }
        Ok(admin) => match svc.refund(&order_id, admin.id, &reason).await {
            Ok(_) => return to_order(res, &order_id, "refunded"),
            Err(e) => (e.status(), refusal(lang, &e)),
        },
    };
    res.render(detail(lang, &svc, depot, &order_id, None, Some(error)).await);
}

/// The cash-sale form, filled with what was typed.
async fn new_form(
    lang: Lang,
    svc: &Service,
    depot: &Depot,
    typed: Option<(&ManualSale, String)>,
) -> Page {
    let packages = match svc.active_packages().await {
        Ok(p) => p,
        Err(e) => return internal(lang, "sale form failed", &e),
    };
    let v = NewView {
        t: super::views::Texts::new(lang),
        title: NEW_TITLE.get(lang),
        error: typed.as_ref().map(|(_, e)| e.clone()),
        phone: typed
            .as_ref()
            .map(|(s, _)| s.phone.clone())
            .unwrap_or_default(),
        note: typed
            .as_ref()
            .and_then(|(s, _)| s.note.clone())
            .unwrap_or_default(),
        transfer: typed
            .as_ref()
            .is_some_and(|(s, _)| s.method == ManualMethod::Transfer),
        packages: package_choices(&packages, typed.as_ref().map(|(s, _)| s.package_id)),
        csrf: csrf_token(depot),
    };
    frame(lang, NEW_TITLE.get(lang), v.render_once())
}

/// `GET /admin/sales/new`.
#[handler]
async fn new_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    match service(depot) {
        Some(svc) => new_form(lang, &svc, depot, None).await,
        None => internal(lang, "payments service missing", &"depot"),
    }
}

/// `POST /admin/sales/new`: the sale recorded (paid, granted, audited), then its page.
#[handler]
async fn new_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let (Some(svc), Ok(admin)) = (service(depot), CurrentUser::admin(depot)) else {
        res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        return;
    };
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let package_id = req.form::<String>("package_id").await;
    let phone = req.form::<String>("phone").await.unwrap_or_default();
    let transfer = req.form::<String>("method").await.as_deref() == Some("transfer");
    let note = req.form::<String>("note").await;
    let sale = ManualSale {
        phone,
        package_id: package_id.and_then(|p| p.trim().parse().ok()).unwrap_or(0),
        method: if transfer {
            ManualMethod::Transfer
        } else {
            ManualMethod::Cash
        },
        note,
    };
    let (status, error) = if !verify_form_token(depot, &token) {
        (StatusCode::FORBIDDEN, FORM_EXPIRED.get(lang).to_owned())
    } else {
        match svc.record_manual_sale(admin.id, &sale).await {
            Ok(order) => return to_order(res, &order.order_id, "recorded"),
            Err(e) => (e.status(), refusal(lang, &e)),
        }
    };
    res.render(
        new_form(lang, &svc, depot, Some((&sale, error)))
            .await
            .with_status(status),
    );
}

/// `GET /admin/sales/revenue`.
#[handler]
async fn revenue_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let Some(svc) = service(depot) else {
        return internal(lang, "payments service missing", &"depot");
    };
    let tz = Site::current().timezone;
    let parsed = (
        lpsaring_kernel::web::query_param::<chrono::NaiveDate>(req, "from"),
        lpsaring_kernel::web::query_param::<chrono::NaiveDate>(req, "to"),
    );
    let (from, to, error) = match parsed {
        (Ok(from), Ok(to)) => (from, to, None),
        (Err(e), _) | (_, Err(e)) => (None, None, Some(e.message)),
    };
    let (report, error) = match (svc.revenue(from, to, tz).await, error) {
        (Ok(r), error) => (r, error),
        (Err(e), _) if !e.is_internal() => match svc.revenue(None, None, tz).await {
            Ok(r) => (r, Some(refusal(lang, &e))),
            Err(e) => return internal(lang, "revenue page failed", &e),
        },
        (Err(e), _) => return internal(lang, "revenue page failed", &e),
    };
    let csv = format!(
        "/api/admin/transactions/revenue?format=csv&from={}&to={}",
        report.from, report.to
    );
    let bad = error.is_some();
    let mut v = RevenueView::new(lang, &report, csv);
    v.error = error;
    let page = frame(lang, v.title, v.render_once());
    if bad {
        page.with_status(StatusCode::BAD_REQUEST)
    } else {
        page
    }
}

/// The sales pages, mounted inside the payments router (the service is in the depot).
pub(crate) fn router() -> Router {
    Router::with_path("admin/sales")
        .hoop(require_admin)
        .get(list_page)
        .push(Router::with_path("new").get(new_page).post(new_submit))
        .push(Router::with_path("revenue").get(revenue_page))
        .push(
            Router::with_path("{order_id}")
                .get(detail_page)
                .push(Router::with_path("reconcile").post(reconcile_submit))
                .push(Router::with_path("refund").post(refund_submit)),
        )
}
