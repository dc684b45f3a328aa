//! What the sales pages show: their texts in both languages and the sailfish views.

use lpsaring_kernel::{Lang, Text};
use sailfish::TemplateSimple;
use sea_orm::Iterable;

use super::{SaleDetail, SaleRow, SalesFilter, revenue::RevenueReport, status_name};
use crate::api::{OrderSource, OrderStatus, Package};
use crate::events::rupiah;
use crate::pages::views::status_word;

pub(crate) const TITLE: Text = Text::new("Penjualan", "Sales");
pub(crate) const REVENUE_TITLE: Text = Text::new("Laporan pendapatan", "Revenue report");
pub(crate) const NEW_TITLE: Text = Text::new("Penjualan tunai / transfer", "Cash / transfer sale");

pub(crate) struct Texts {
    pub title: &'static str,
    pub back: &'static str,
    pub q: &'static str,
    pub status: &'static str,
    pub source: &'static str,
    pub method: &'static str,
    pub package: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub all: &'static str,
    pub filter: &'static str,
    pub found: &'static str,
    pub none: &'static str,
    pub csv: &'static str,
    pub prev: &'static str,
    pub next: &'static str,
    pub created: &'static str,
    pub order: &'static str,
    pub buyer: &'static str,
    pub amount: &'static str,
    pub paid_at: &'static str,
    pub new_sale: &'static str,
    pub revenue: &'static str,
    pub flagged: &'static str,
    pub events: &'static str,
    pub at: &'static str,
    pub kind: &'static str,
    pub payload: &'static str,
    pub reconcile: &'static str,
    pub refund: &'static str,
    pub reason: &'static str,
    pub refund_note: &'static str,
    pub note: &'static str,
    pub provider_ref: &'static str,
    pub applied_at: &'static str,
    pub expires_at: &'static str,
    pub phone: &'static str,
    pub cash: &'static str,
    pub transfer: &'static str,
    pub record: &'static str,
    pub orders: &'static str,
    pub total: &'static str,
    pub by_day: &'static str,
    pub by_package: &'static str,
    pub by_method: &'static str,
    pub day: &'static str,
    pub timezone: &'static str,
}

impl Texts {
    pub(crate) fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(TITLE),
            back: t(Text::new("← Semua penjualan", "← All sales")),
            q: t(Text::new("ID pesanan atau nomor", "Order id or phone")),
            status: t(Text::new("Status", "Status")),
            source: t(Text::new("Asal", "Source")),
            method: t(Text::new("Cara bayar", "Method")),
            package: t(Text::new("Paket", "Package")),
            from: t(Text::new("Dari tanggal", "From")),
            to: t(Text::new("Sampai tanggal", "To")),
            all: t(Text::new("Semua", "All")),
            filter: t(Text::new("Saring", "Filter")),
            found: t(Text::new("pesanan", "orders")),
            none: t(Text::new("Belum ada pesanan.", "No orders.")),
            csv: t(Text::new("Unduh CSV", "Download CSV")),
            prev: t(Text::new("← Sebelumnya", "← Previous")),
            next: t(Text::new("Berikutnya →", "Next →")),
            created: t(Text::new("Dibuat", "Created")),
            order: t(Text::new("Pesanan", "Order")),
            buyer: t(Text::new("Pembeli", "Buyer")),
            amount: t(Text::new("Jumlah", "Amount")),
            paid_at: t(Text::new("Dibayar", "Paid")),
            new_sale: t(Text::new("Catat penjualan tunai", "Record a cash sale")),
            revenue: t(REVENUE_TITLE),
            flagged: t(Text::new("Perlu dicek", "Needs a look")),
            events: t(Text::new("Riwayat kejadian", "Events")),
            at: t(Text::new("Waktu", "Time")),
            kind: t(Text::new("Kejadian", "Event")),
            payload: t(Text::new("Data penyedia", "Provider data")),
            reconcile: t(Text::new("Cek ke penyedia sekarang", "Reconcile now")),
            refund: t(Text::new("Kembalikan dana", "Refund")),
            reason: t(Text::new("Alasan", "Reason")),
            refund_note: t(Text::new(
                "Kuota yang belum terpakai ditarik kembali. Hanya super admin.",
                "The unused quota is taken back. Super admins only.",
            )),
            note: t(Text::new("Catatan", "Note")),
            provider_ref: t(Text::new("Referensi penyedia", "Provider reference")),
            applied_at: t(Text::new("Kuota diberikan", "Quota granted")),
            expires_at: t(Text::new("Batas bayar", "Pay before")),
            phone: t(Text::new(
                "Nomor WhatsApp pembeli",
                "Buyer's WhatsApp number",
            )),
            cash: t(Text::new("Tunai", "Cash")),
            transfer: t(Text::new("Transfer bank", "Bank transfer")),
            record: t(Text::new(
                "Catat dan berikan paket",
                "Record and grant the package",
            )),
            orders: t(Text::new("Pesanan", "Orders")),
            total: t(Text::new("Total", "Total")),
            by_day: t(Text::new("Per hari", "By day")),
            by_package: t(Text::new("Per paket", "By package")),
            by_method: t(Text::new("Per cara bayar", "By method")),
            day: t(Text::new("Tanggal", "Day")),
            timezone: t(Text::new("Zona waktu", "Time zone")),
        }
    }
}

/// A choice of a `<select>`: its value, its label, whether chosen.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(crate) fn source_word(lang: Lang, source: OrderSource) -> &'static str {
    match source {
        OrderSource::Gateway => Text::new("Pembayaran online", "Online payment"),
        OrderSource::Voucher => Text::new("Voucher", "Voucher"),
        OrderSource::Manual => Text::new("Tunai / transfer", "Cash / transfer"),
    }
    .get(lang)
}

/// One order as the list and the detail show it.
pub(crate) struct Line {
    pub order_id: String,
    pub created: String,
    pub paid: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub source: &'static str,
    pub method: String,
    pub package: String,
    pub amount: String,
    pub buyer: String,
    pub flag: Option<String>,
}

fn time(at: chrono::DateTime<chrono::Utc>, lang: Lang) -> String {
    let tz = lpsaring_kernel::ui::Site::current().timezone;
    lpsaring_kernel::ui::format::datetime_in(lang, at, tz)
}

impl Line {
    pub(crate) fn of(lang: Lang, r: &SaleRow) -> Self {
        Self {
            order_id: r.order_id.clone(),
            created: time(r.created_at, lang),
            paid: r.paid_at.map(|t| time(t, lang)).unwrap_or_default(),
            status: status_word(lang, r.status),
            status_class: match r.status {
                OrderStatus::Paid => "ok",
                OrderStatus::Pending => "warn",
                OrderStatus::Refunded => "",
                _ => "error",
            },
            source: source_word(lang, r.source),
            method: r.payment_method.clone().unwrap_or_default(),
            package: r.package_name.clone(),
            amount: rupiah(r.amount),
            buyer: match &r.buyer_phone {
                Some(p) => format!("{} ({p})", r.buyer_name),
                None => r.buyer_name.clone(),
            },
            flag: r.flagged.then(|| r.flag_reason.clone().unwrap_or_default()),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "admin_sales.stpl")]
pub(crate) struct ListView {
    pub t: Texts,
    pub error: Option<String>,
    pub q: String,
    pub method: String,
    pub from: String,
    pub to: String,
    pub statuses: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub packages: Vec<Choice>,
    pub rows: Vec<Line>,
    pub total: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub csv: String,
}

impl ListView {
    pub(crate) fn new(lang: Lang, f: &SalesFilter, packages: &[Package], csv: String) -> Self {
        let statuses = OrderStatus::iter()
            .map(|s| Choice {
                value: status_name(s).to_owned(),
                label: status_word(lang, s).to_owned(),
                selected: f.status == Some(s),
            })
            .collect();
        let sources = [
            OrderSource::Gateway,
            OrderSource::Voucher,
            OrderSource::Manual,
        ]
        .iter()
        .map(|s| Choice {
            value: super::source_name(*s).to_owned(),
            label: source_word(lang, *s).to_owned(),
            selected: f.source == Some(*s),
        })
        .collect();
        Self {
            t: Texts::new(lang),
            error: None,
            q: f.q.clone().unwrap_or_default(),
            method: f.method.clone().unwrap_or_default(),
            from: f.from.map(|d| d.to_string()).unwrap_or_default(),
            to: f.to.map(|d| d.to_string()).unwrap_or_default(),
            statuses,
            sources,
            packages: package_choices(packages, f.package_id),
            rows: Vec::new(),
            total: 0,
            prev: None,
            next: None,
            csv,
        }
    }
}

pub(crate) fn package_choices(packages: &[Package], chosen: Option<i64>) -> Vec<Choice> {
    packages
        .iter()
        .map(|p| Choice {
            value: p.id.to_string(),
            label: format!("{} · {}", p.name, rupiah(p.price)),
            selected: chosen == Some(p.id),
        })
        .collect()
}

/// One event row of the detail page.
pub(crate) struct EventLine {
    pub at: String,
    pub kind: String,
    pub source: String,
    pub status: String,
    pub payload: String,
}

#[derive(TemplateSimple)]
#[template(path = "admin_sale.stpl")]
pub(crate) struct DetailView {
    pub t: Texts,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub line: Line,
    pub quota: String,
    pub validity: String,
    pub provider: String,
    pub provider_ref: String,
    pub note: String,
    pub applied: String,
    pub expires: String,
    pub events: Vec<EventLine>,
    pub csrf: String,
    pub can_refund: bool,
}

impl DetailView {
    pub(crate) fn new(lang: Lang, d: &SaleDetail, csrf: String, super_admin: bool) -> Self {
        let events = d
            .events
            .iter()
            .map(|e| EventLine {
                at: time(e.at, lang),
                kind: serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                source: e.source.clone(),
                status: e.status.map(status_name).unwrap_or_default().to_owned(),
                payload: e
                    .payload
                    .as_ref()
                    .and_then(|p| serde_json::to_string_pretty(p).ok())
                    .unwrap_or_default(),
            })
            .collect();
        Self {
            t: Texts::new(lang),
            notice: None,
            error: None,
            line: Line::of(lang, &d.order),
            quota: crate::pages::views::quota_text(lang, d.quota_bytes, d.unlimited),
            validity: crate::pages::views::validity_text(lang, d.validity_hours),
            provider: d.order.provider.clone().unwrap_or_default(),
            provider_ref: d.provider_ref.clone().unwrap_or_default(),
            note: d.note.clone().unwrap_or_default(),
            applied: d.applied_at.map(|t| time(t, lang)).unwrap_or_default(),
            expires: time(d.expires_at, lang),
            events,
            csrf,
            can_refund: super_admin && d.order.status == OrderStatus::Paid,
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "admin_sale_new.stpl")]
pub(crate) struct NewView {
    pub t: Texts,
    pub title: &'static str,
    pub error: Option<String>,
    pub phone: String,
    pub note: String,
    pub transfer: bool,
    pub packages: Vec<Choice>,
    pub csrf: String,
}

/// One line of a revenue table.
pub(crate) struct RevenueRow {
    pub key: String,
    pub orders: u64,
    pub amount: String,
}

#[derive(TemplateSimple)]
#[template(path = "admin_revenue.stpl")]
pub(crate) struct RevenueView {
    pub t: Texts,
    pub title: &'static str,
    pub error: Option<String>,
    pub from: String,
    pub to: String,
    pub timezone: String,
    pub orders: u64,
    pub amount: String,
    pub chart: String,
    pub by_day: Vec<RevenueRow>,
    pub by_package: Vec<RevenueRow>,
    pub by_method: Vec<RevenueRow>,
    pub csv: String,
}

fn rows(lines: &[super::revenue::RevenueLine]) -> Vec<RevenueRow> {
    lines
        .iter()
        .map(|l| RevenueRow {
            key: l.key.clone(),
            orders: l.orders,
            amount: rupiah(l.amount),
        })
        .collect()
}

impl RevenueView {
    pub(crate) fn new(lang: Lang, r: &RevenueReport, csv: String) -> Self {
        let t = Texts::new(lang);
        let bars: Vec<_> = r
            .by_day
            .iter()
            .map(|l| lpsaring_kernel::ui::chart::Bar {
                label: l.key.get(5..).unwrap_or(&l.key).to_owned(),
                value: l.amount,
                title: format!("{}: {}", l.key, rupiah(l.amount)),
            })
            .collect();
        Self {
            chart: lpsaring_kernel::ui::chart::bar_chart(&bars, t.by_day),
            title: REVENUE_TITLE.get(lang),
            error: None,
            from: r.from.to_string(),
            to: r.to.to_string(),
            timezone: r.timezone.clone(),
            orders: r.orders,
            amount: rupiah(r.amount),
            by_day: rows(&r.by_day),
            by_package: rows(&r.by_package),
            by_method: rows(&r.by_method),
            csv,
            t,
        }
    }
}
