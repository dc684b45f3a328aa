//! The panel's own pages, rendered in the kernel's admin frame.

use lpsaring_kernel::admin_shell::admin_page;
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::web::encode_component;
use lpsaring_kernel::{Lang, Text};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;

use crate::audit::{AuditPage, AuditRecord};
use crate::routes::{AuditQuery, PER_PAGE};

/// One audit entry as the pages show it.
pub struct Row {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub ip: String,
}

impl Row {
    fn of(r: &AuditRecord) -> Self {
        Self {
            at: r.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: r.actor.map(|a| a.0.to_string()).unwrap_or_default(),
            action: r.action.clone(),
            target: r.target.clone().unwrap_or_default(),
            details: r
                .details
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            ip: r.ip.clone().unwrap_or_default(),
        }
    }
}

pub struct Texts {
    pub title: &'static str,
    pub actor: &'static str,
    pub action: &'static str,
    pub target: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub filter: &'static str,
    pub at: &'static str,
    pub details: &'static str,
    pub ip: &'static str,
    pub none: &'static str,
    pub found: &'static str,
    pub csv: &'static str,
    pub prev: &'static str,
    pub next: &'static str,
    pub recent: &'static str,
    pub all: &'static str,
}

impl Texts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(Text::new("Log audit", "Audit log")),
            actor: t(Text::new("Pelaku (ID)", "Actor (ID)")),
            action: t(Text::new("Tindakan", "Action")),
            target: t(Text::new("Sasaran", "Target")),
            from: t(Text::new("Dari tanggal", "From")),
            to: t(Text::new("Sampai tanggal", "To")),
            filter: t(Text::new("Saring", "Filter")),
            at: t(Text::new("Waktu", "Time")),
            details: t(Text::new("Rincian", "Details")),
            ip: t(Text::new("IP", "IP")),
            none: t(Text::new("Belum ada catatan.", "No entries.")),
            found: t(Text::new("catatan", "entries")),
            csv: t(Text::new("Unduh CSV", "Download CSV")),
            prev: t(Text::new("← Sebelumnya", "← Previous")),
            next: t(Text::new("Berikutnya →", "Next →")),
            recent: t(Text::new("Aktivitas terbaru", "Recent activity")),
            all: t(Text::new("Lihat semua", "See all")),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "overview.stpl")]
struct OverviewView {
    t: Texts,
    title: &'static str,
    figures: String,
    rows: Vec<Row>,
}

const OVERVIEW: Text = Text::new("Ringkasan", "Overview");

/// `/admin`: the overview's `figures` (HTML) above the recent audit entries.
pub fn overview(lang: Lang, figures: String, recent: &[AuditRecord]) -> Page {
    let title = OVERVIEW.get(lang);
    let body = OverviewView {
        t: Texts::new(lang),
        title,
        figures,
        rows: recent.iter().map(Row::of).collect(),
    }
    .render_once()
    .unwrap_or_default();
    admin_page(lang, "/admin", title, &body)
}

#[derive(TemplateSimple)]
#[template(path = "audit.stpl")]
struct AuditView {
    t: Texts,
    error: Option<String>,
    actor: String,
    action: String,
    target: String,
    from: String,
    to: String,
    rows: Vec<Row>,
    total: u64,
    prev: Option<String>,
    next: Option<String>,
    csv: String,
}

/// The filters as a query string (`actor=1&action=user.`), for the pager and the CSV link.
fn query_string(q: &AuditQuery) -> String {
    let f = &q.filter;
    let pairs = [
        ("actor", f.actor.map(|a| a.0.to_string())),
        ("action", f.action.clone()),
        ("target", f.target.clone()),
        ("from", f.from.map(|d| d.to_string())),
        ("to", f.to.map(|d| d.to_string())),
        (
            "per_page",
            (q.per_page != PER_PAGE).then(|| q.per_page.to_string()),
        ),
    ];
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode_component(&v))))
        .collect::<Vec<_>>()
        .join("&")
}

fn view(lang: Lang, q: &AuditQuery) -> AuditView {
    let f = &q.filter;
    let query = query_string(q);
    AuditView {
        t: Texts::new(lang),
        error: None,
        actor: f.actor.map(|a| a.0.to_string()).unwrap_or_default(),
        action: f.action.clone().unwrap_or_default(),
        target: f.target.clone().unwrap_or_default(),
        from: f.from.map(|d| d.to_string()).unwrap_or_default(),
        to: f.to.map(|d| d.to_string()).unwrap_or_default(),
        rows: Vec::new(),
        total: 0,
        prev: None,
        next: None,
        csv: format!("/api/admin/audit?format=csv&{query}"),
    }
}

fn render(lang: Lang, v: AuditView) -> Page {
    let title = v.t.title;
    let body = v.render_once().unwrap_or_default();
    admin_page(lang, "/admin/audit", title, &body)
}

pub fn audit(lang: Lang, q: &AuditQuery, page: &AuditPage) -> Page {
    let mut v = view(lang, q);
    let query = query_string(q);
    let link = |n: u64| format!("/admin/audit?page={n}&{query}");
    v.rows = page.items.iter().map(Row::of).collect();
    v.total = page.total;
    v.prev = (page.page > 1).then(|| link(page.page - 1));
    v.next = (page.page.saturating_mul(page.per_page) < page.total).then(|| link(page.page + 1));
    render(lang, v)
}

/// The audit page with its filters emptied and the reason the query was refused.
pub fn audit_invalid(lang: Lang, reason: &str) -> Page {
    let mut v = view(lang, &AuditQuery::default());
    v.error = Some(reason.to_owned());
    render(lang, v).with_status(StatusCode::BAD_REQUEST)
}
