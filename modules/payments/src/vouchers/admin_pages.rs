//! `/admin/vouchers`: the batches (package, count, used, revoked) with their print sheet, CSV
//! export and revoke button, and the form that creates a batch. Forms carry the CSRF token;
//! creating and revoking are audited by the service. `GET /api/admin/vouchers?format=csv`
//! exports the batch list.

use std::sync::Arc;

use lpsaring_kernel::ui::Page;
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, csrf_token, encode_component, require_admin, verify_form_token,
};
use lpsaring_kernel::{ErrorCode, Lang, Text};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::prelude::*;

use super::MAX_BATCH;
use super::api::{Batch, CreateBatch};
use crate::admin_ui::{self, FORM_EXPIRED, refusal};
use crate::events::rupiah;
use crate::sales::views::{Choice, package_choices};
use crate::service::Service;

const AREA: &str = "/admin/vouchers";
const TITLE: Text = Text::new("Voucher", "Vouchers");

struct Texts {
    title: &'static str,
    package: &'static str,
    created: &'static str,
    count: &'static str,
    used: &'static str,
    revoked: &'static str,
    print: &'static str,
    csv: &'static str,
    csv_all: &'static str,
    revoke: &'static str,
    none: &'static str,
    create_title: &'static str,
    prefix: &'static str,
    create: &'static str,
    no_packages: &'static str,
}

impl Texts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(TITLE),
            package: t(Text::new("Paket", "Package")),
            created: t(Text::new("Dibuat", "Created")),
            count: t(Text::new("Jumlah", "Count")),
            used: t(Text::new("Terpakai", "Used")),
            revoked: t(Text::new("Dibatalkan", "Revoked")),
            print: t(Text::new("Cetak", "Print")),
            csv: t(Text::new("CSV", "CSV")),
            csv_all: t(Text::new("Unduh daftar (CSV)", "Download the list (CSV)")),
            revoke: t(Text::new("Batalkan sisa", "Revoke the rest")),
            none: t(Text::new("Belum ada voucher.", "No vouchers yet.")),
            create_title: t(Text::new("Buat voucher", "Create vouchers")),
            prefix: t(Text::new(
                "Awalan kode (boleh kosong)",
                "Code prefix (optional)",
            )),
            create: t(Text::new("Buat", "Create")),
            no_packages: t(Text::new(
                "Belum ada paket yang dijual: buat paket dulu.",
                "No package is on sale: create one first.",
            )),
        }
    }
}

struct Line {
    batch_id: String,
    package: String,
    created: String,
    count: i64,
    used: i64,
    revoked: i64,
    open: bool,
}

impl Line {
    fn of(lang: Lang, b: &Batch) -> Self {
        let tz = lpsaring_kernel::ui::Site::current().timezone;
        Self {
            batch_id: b.batch_id.clone(),
            package: format!("{} · {}", b.package_name, rupiah(b.price)),
            created: lpsaring_kernel::ui::format::datetime_in(lang, b.created_at, tz),
            count: b.count,
            used: b.used,
            revoked: b.revoked,
            open: b.count > b.used + b.revoked,
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "admin_vouchers.stpl")]
struct View {
    t: Texts,
    notice: Option<String>,
    error: Option<String>,
    rows: Vec<Line>,
    packages: Vec<Choice>,
    count: String,
    prefix: String,
    max: u32,
    csrf: String,
}

fn service(depot: &Depot) -> Option<Arc<Service>> {
    depot.get_typed::<Arc<Service>>().ok().cloned()
}

/// The page, with the create form holding `typed` (package, count, prefix) and a message.
async fn page(
    lang: Lang,
    svc: &Service,
    depot: &Depot,
    typed: Option<&CreateBatch>,
    notice: Option<String>,
    error: Option<String>,
) -> Page {
    let (batches, packages) = match (svc.voucher_batches().await, svc.active_packages().await) {
        (Ok(b), Ok(p)) => (b, p),
        (Err(e), _) | (_, Err(e)) => {
            return admin_ui::internal(lang, AREA, "voucher page failed", &e);
        }
    };
    let v = View {
        t: Texts::new(lang),
        notice,
        error,
        rows: batches.iter().map(|b| Line::of(lang, b)).collect(),
        packages: package_choices(&packages, typed.map(|c| c.package_id)),
        count: typed.map_or_else(|| "50".to_owned(), |c| c.count.to_string()),
        prefix: typed.and_then(|c| c.prefix.clone()).unwrap_or_default(),
        max: MAX_BATCH,
        csrf: csrf_token(depot),
    };
    admin_ui::frame(lang, AREA, TITLE.get(lang), v.render_once())
}

/// `GET /admin/vouchers` (`?done=created|revoked` after an action).
#[handler]
async fn list_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let Some(svc) = service(depot) else {
        return admin_ui::internal(lang, AREA, "payments service missing", &"depot");
    };
    let notice = match req.query::<String>("done").as_deref() {
        Some("created") => Some(Text::new("Voucher dibuat.", "The vouchers were created.")),
        Some("revoked") => Some(Text::new(
            "Voucher yang belum terpakai dibatalkan.",
            "The unused vouchers were revoked.",
        )),
        _ => None,
    }
    .map(|t| t.get(lang).to_owned());
    page(lang, &svc, depot, None, notice, None).await
}

/// `POST /admin/vouchers`: a batch created (audited), then its print sheet.
#[handler]
async fn create_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let (Some(svc), Ok(admin)) = (service(depot), CurrentUser::admin(depot)) else {
        res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        return;
    };
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let package = req.form::<String>("package_id").await;
    let count = req.form::<String>("count").await;
    let typed = CreateBatch {
        package_id: package.and_then(|p| p.trim().parse().ok()).unwrap_or(0),
        count: count.and_then(|c| c.trim().parse().ok()).unwrap_or(0),
        prefix: req
            .form::<String>("prefix")
            .await
            .filter(|p| !p.trim().is_empty()),
    };
    let (status, error) = if !verify_form_token(depot, &token) {
        (StatusCode::FORBIDDEN, FORM_EXPIRED.get(lang).to_owned())
    } else {
        match svc.create_vouchers(&typed, Some(admin.id), |_, _| {}).await {
            Ok(created) => {
                let batch = encode_component(&created.batch.batch_id);
                res.render(Redirect::other(format!(
                    "{AREA}?done=created#batch-{batch}"
                )));
                return;
            }
            Err(e) => (e.status(), refusal(lang, &e)),
        }
    };
    res.render(
        page(lang, &svc, depot, Some(&typed), None, Some(error))
            .await
            .with_status(status),
    );
}

/// `POST /admin/vouchers/{batch}/revoke`: the batch's unused codes revoked (audited).
#[handler]
async fn revoke_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let (Some(svc), Ok(admin)) = (service(depot), CurrentUser::admin(depot)) else {
        res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        return;
    };
    let batch = req.param::<String>("batch").unwrap_or_default();
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let (status, error) = if !verify_form_token(depot, &token) {
        (StatusCode::FORBIDDEN, FORM_EXPIRED.get(lang).to_owned())
    } else {
        match svc.revoke_batch(&batch, Some(admin.id)).await {
            Ok(_) => {
                res.render(Redirect::other(format!("{AREA}?done=revoked")));
                return;
            }
            Err(e) => (e.status(), refusal(lang, &e)),
        }
    };
    res.render(
        page(lang, &svc, depot, None, None, Some(error))
            .await
            .with_status(status),
    );
}

/// The voucher admin pages, mounted inside the payments router (the service is in the depot).
pub(crate) fn router() -> Router {
    Router::with_path("admin/vouchers")
        .hoop(require_admin)
        .get(list_page)
        .post(create_submit)
        .push(Router::with_path("{batch}/revoke").post(revoke_submit))
}

/// The batch list CSV's columns.
const BATCH_COLUMNS: &[&str] = &[
    "batch_id",
    "package_id",
    "package",
    "price",
    "prefix",
    "count",
    "used",
    "revoked",
    "created_at",
];

impl Service {
    /// Every batch as CSV (formulas neutralised by the kernel's writer).
    pub async fn batches_csv(
        &self,
    ) -> Result<lpsaring_kernel::csv::CsvWriter, crate::PaymentsError> {
        let mut csv = lpsaring_kernel::csv::CsvWriter::with_header(BATCH_COLUMNS);
        for b in self.voucher_batches().await? {
            csv.row([
                b.batch_id,
                b.package_id.to_string(),
                b.package_name,
                b.price.to_string(),
                b.prefix,
                b.count.to_string(),
                b.used.to_string(),
                b.revoked.to_string(),
                b.created_at.to_rfc3339(),
            ]);
        }
        Ok(csv)
    }
}
