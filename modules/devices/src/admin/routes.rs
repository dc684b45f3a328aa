//! `GET /api/admin/devices` (filters `owner`, `mac`; paging; `?format=csv`),
//! `DELETE /api/admin/devices/{id}`, and the page `/admin/devices` with its remove buttons
//! (a form with the CSRF token each, then a redirect back; no JavaScript needed).

use std::sync::Arc;

use lpsaring_kernel::admin_shell::admin_page;
use lpsaring_kernel::ui::{Page, Site};
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, client_ip, csrf_token, query_param as param, query_string,
    require_admin, verify_form_token, wants_csv,
};
use lpsaring_kernel::{ApiError, ErrorCode, Lang, Text};
use sailfish::TemplateSimple;
use salvo::affix_state;
use salvo::http::StatusCode;
use salvo::prelude::*;

use super::{AdminDevices, DeviceFilter, DevicesPage, PER_PAGE};
use crate::error::DeviceError;

const AREA: &str = "/admin/devices";
const TITLE: Text = Text::new("Perangkat", "Devices");

fn admin(depot: &Depot) -> Result<Arc<AdminDevices>, ApiError> {
    depot
        .get_typed::<Arc<AdminDevices>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"admin devices missing from the depot"))
}

/// The list's query: filters, page and page size.
#[derive(Debug, Clone, Default)]
struct Query {
    filter: DeviceFilter,
    page: u64,
    per_page: u64,
}

impl Query {
    fn parse(req: &Request) -> Result<Self, ApiError> {
        Ok(Self {
            filter: DeviceFilter {
                owner: param::<String>(req, "owner")?,
                mac: param::<String>(req, "mac")?,
            },
            page: param(req, "page")?.unwrap_or(1),
            per_page: param(req, "per_page")?.unwrap_or(PER_PAGE),
        })
    }

    fn string(&self) -> String {
        let pairs = [
            ("owner", self.filter.owner.clone()),
            ("mac", self.filter.mac.clone()),
            (
                "per_page",
                (self.per_page != PER_PAGE).then(|| self.per_page.to_string()),
            ),
        ];
        query_string(&pairs)
    }
}

fn invalid(e: DeviceError) -> ApiError {
    match e {
        DeviceError::InvalidFilter(field) => {
            ApiError::from(e).with_details(serde_json::json!({ "field": field }))
        }
        other => other.into(),
    }
}

/// Every registered device, most recently seen first: filters `owner` (a phone) and `mac`
/// (whole or a part); `page`, `per_page` (≤ 500). `?format=csv` returns every match as CSV.
#[endpoint(tags("admin"), status_codes(200, 401, 403, 422))]
async fn list(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    CurrentUser::admin(depot)?;
    let query = Query::parse(req)?;
    let svc = admin(depot)?;
    if wants_csv(req) {
        svc.csv(&query.filter)
            .await
            .map_err(invalid)?
            .render(res, "devices.csv");
    } else {
        let page = svc
            .page(&query.filter, query.page, query.per_page)
            .await
            .map_err(invalid)?;
        res.render(Json(page));
    }
    Ok(())
}

/// Removes a device (any owner's) and its router rows; audited.
#[endpoint(
    tags("admin"),
    status_codes(200, 401, 403, 404),
    parameters(("id" = i64, Path, description = "The device id"))
)]
async fn remove(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let caller = CurrentUser::admin(depot)?;
    let id = req
        .param::<i64>("id")
        .ok_or_else(|| ApiError::validation("The device id in the path must be a number."))?;
    let ip = client_ip(depot).map(|ip| ip.to_string());
    res.render(Json(admin(depot)?.remove(caller.id, id, ip).await?));
    Ok(())
}

struct Texts {
    title: &'static str,
    owner: &'static str,
    mac: &'static str,
    ip: &'static str,
    label: &'static str,
    last_seen: &'static str,
    online: &'static str,
    offline: &'static str,
    filter: &'static str,
    found: &'static str,
    none: &'static str,
    csv: &'static str,
    prev: &'static str,
    next: &'static str,
    remove: &'static str,
}

impl Texts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(TITLE),
            owner: t(Text::new("Nomor pemilik", "Owner's phone")),
            mac: t(Text::new("MAC", "MAC")),
            ip: t(Text::new("IP", "IP")),
            label: t(Text::new("Nama", "Name")),
            last_seen: t(Text::new("Terakhir terlihat", "Last seen")),
            online: t(Text::new("Daring", "Online")),
            offline: t(Text::new("Luring", "Offline")),
            filter: t(Text::new("Saring", "Filter")),
            found: t(Text::new("perangkat", "devices")),
            none: t(Text::new("Tidak ada perangkat.", "No devices.")),
            csv: t(Text::new("Unduh CSV", "Download CSV")),
            prev: t(Text::new("← Sebelumnya", "← Previous")),
            next: t(Text::new("Berikutnya →", "Next →")),
            remove: t(Text::new("Hapus", "Remove")),
        }
    }
}

struct Line {
    id: i64,
    owner: String,
    mac: String,
    ip: String,
    label: String,
    last_seen: String,
    online: bool,
}

#[derive(TemplateSimple)]
#[template(path = "admin_devices.stpl")]
struct View {
    t: Texts,
    notice: Option<String>,
    error: Option<String>,
    owner: String,
    mac: String,
    rows: Vec<Line>,
    total: u64,
    prev: Option<String>,
    next: Option<String>,
    csv: String,
    csrf: String,
    back: String,
}

fn view(lang: Lang, q: &Query, page: Option<&DevicesPage>, csrf: String) -> View {
    let query = q.string();
    let tz = Site::current().timezone;
    let link = |n: u64| format!("{AREA}?page={n}&{query}");
    let rows = page.map_or_else(Vec::new, |p| {
        p.items
            .iter()
            .map(|d| Line {
                id: d.id,
                owner: match (&d.owner_phone, &d.owner_name) {
                    (Some(p), Some(n)) => format!("{n} ({p})"),
                    (None, Some(n)) => n.clone(),
                    (p, None) => p.clone().unwrap_or_else(|| format!("#{}", d.user_id)),
                },
                mac: d.mac.clone(),
                ip: d.ip.clone().unwrap_or_default(),
                label: d.label.clone().unwrap_or_default(),
                last_seen: lpsaring_kernel::ui::format::datetime_in(lang, d.last_seen_at, tz),
                online: d.online,
            })
            .collect()
    });
    View {
        t: Texts::new(lang),
        notice: None,
        error: None,
        owner: q.filter.owner.clone().unwrap_or_default(),
        mac: q.filter.mac.clone().unwrap_or_default(),
        rows,
        total: page.map_or(0, |p| p.total),
        prev: page.filter(|p| p.page > 1).map(|p| link(p.page - 1)),
        next: page
            .filter(|p| p.page.saturating_mul(p.per_page) < p.total)
            .map(|p| link(p.page + 1)),
        csv: format!("/api/admin/devices?format=csv&{query}"),
        csrf,
        back: format!("{AREA}?{query}"),
    }
}

fn render(lang: Lang, v: View, status: StatusCode) -> Page {
    match v.render_once() {
        Ok(body) => admin_page(lang, AREA, TITLE.get(lang), &body).with_status(status),
        Err(e) => {
            tracing::error!(error = %e, "devices admin template failed");
            admin_page(
                lang,
                AREA,
                TITLE.get(lang),
                "<p class=\"error\">Internal error.</p>",
            )
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The page for `q` with a notice or an error.
async fn page(
    lang: Lang,
    depot: &Depot,
    q: Query,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Page {
    let csrf = csrf_token(depot);
    let Ok(svc) = admin(depot) else {
        return admin_page(lang, AREA, TITLE.get(lang), "")
            .with_status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    match svc.page(&q.filter, q.page, q.per_page).await {
        Ok(found) => {
            let mut v = view(lang, &q, Some(&found), csrf);
            v.notice = notice;
            v.error = error;
            render(lang, v, status)
        }
        Err(e) if e.code() != "INTERNAL_ERROR" => {
            let mut v = view(lang, &q, None, csrf);
            v.error = Some(e.to_string());
            render(lang, v, e.status())
        }
        Err(e) => {
            tracing::error!(error = %e, "devices admin page failed");
            let v = view(lang, &q, None, csrf);
            render(lang, v, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// `GET /admin/devices` (`?done=removed` after a removal).
#[handler]
async fn devices_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let notice = (req.query::<String>("done").as_deref() == Some("removed")).then(|| {
        Text::new("Perangkat dihapus.", "The device was removed.")
            .get(lang)
            .to_owned()
    });
    match Query::parse(req) {
        Ok(q) => page(lang, depot, q, notice, None).await,
        Err(e) => {
            page(
                lang,
                depot,
                Query::default(),
                None,
                Some((StatusCode::BAD_REQUEST, e.message.clone())),
            )
            .await
        }
    }
}

/// `POST /admin/devices/{id}/remove`: the device and its router rows removed, audited.
#[handler]
async fn remove_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let back = req
        .form::<String>("back")
        .await
        .filter(|b| {
            (b.starts_with(AREA) || b.starts_with("/admin/users/"))
                && lpsaring_kernel::web::is_local_path(b)
        })
        .unwrap_or_else(|| AREA.to_owned());
    let error = match (
        CurrentUser::admin(depot),
        admin(depot),
        req.param::<i64>("id"),
    ) {
        _ if !verify_form_token(depot, &token) => (
            StatusCode::FORBIDDEN,
            Text::new(
                "Formulir kedaluwarsa. Muat ulang halaman lalu coba lagi.",
                "The form expired. Reload the page and try again.",
            )
            .get(lang)
            .to_owned(),
        ),
        (Ok(caller), Ok(svc), Some(id)) => {
            let ip = client_ip(depot).map(|ip| ip.to_string());
            match svc.remove(caller.id, id, ip).await {
                Ok(_) => {
                    let sep = if back.contains('?') { '&' } else { '?' };
                    res.render(Redirect::other(format!("{back}{sep}done=removed")));
                    return;
                }
                Err(e) => (e.status(), e.public_message()),
            }
        }
        _ => (StatusCode::NOT_FOUND, DeviceError::NotFound.to_string()),
    };
    res.render(page(lang, depot, Query::default(), None, Some(error)).await);
}

/// The operator's device routes, with [`AdminDevices`] injected; `app` mounts it.
pub fn router(admin: Arc<AdminDevices>) -> Router {
    Router::new()
        .hoop(affix_state::inject(admin))
        .push(
            Router::with_path("api/admin/devices")
                .hoop(require_admin)
                .get(list)
                .push(Router::with_path("{id}").delete(remove)),
        )
        .push(
            Router::with_path("admin/devices")
                .hoop(require_admin)
                .get(devices_page)
                .push(Router::with_path("{id}/remove").post(remove_form)),
        )
}
