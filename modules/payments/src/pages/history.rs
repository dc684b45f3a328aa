//! `/akun/riwayat`: the user's orders, newest first (status, method, amount, date, and the links
//! to each order's status page and, once paid, its invoice). The same list as
//! `GET /api/users/me/transactions`.

use lpsaring_kernel::ui::{Page, PortalTab, format};
use lpsaring_kernel::web::{CurrentUser, encode_component};
use lpsaring_kernel::{Lang, Text};
use sailfish::TemplateSimple;
use salvo::prelude::*;

use super::views::{METHODS, status_code, status_word};
use super::{internal, service};
use crate::api::{OrderSource, OrderStatus, OrderView};
use crate::events::rupiah;

pub(crate) struct HistoryTexts {
    pub title: &'static str,
    pub none: &'static str,
    pub buy: &'static str,
    pub method: &'static str,
    pub details: &'static str,
    pub invoice: &'static str,
}

impl HistoryTexts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(Text::new("Riwayat pembelian", "Purchase history")),
            none: t(Text::new("Belum ada pembelian.", "No purchases yet.")),
            buy: t(Text::new("Beli paket", "Buy a package")),
            method: t(Text::new("Metode", "Method")),
            details: t(Text::new("Detail", "Details")),
            invoice: t(Text::new("Invoice", "Invoice")),
        }
    }
}

/// One order as listed, every figure formatted.
pub(crate) struct HistoryLine {
    pub order_id: String,
    pub package: String,
    pub amount: String,
    pub date: String,
    pub method: String,
    pub status_code: &'static str,
    pub status_word: &'static str,
    pub badge: &'static str,
    pub status_url: String,
    /// Only a paid order has an invoice worth printing.
    pub invoice_url: Option<String>,
}

/// How an order was paid, in the buyer's words.
fn method_text(lang: Lang, o: &OrderView) -> String {
    match o.source {
        OrderSource::Voucher => return "Voucher".to_owned(),
        OrderSource::Manual => {
            return Text::new("Tunai / transfer", "Cash / transfer")
                .get(lang)
                .to_owned();
        }
        OrderSource::Gateway => {}
    }
    let method = o.payment_method.as_deref().unwrap_or_default();
    METHODS
        .iter()
        .find(|(value, _)| !value.is_empty() && *value == method)
        .map(|(_, label)| label.get(lang).to_owned())
        .or_else(|| o.payment_method.clone())
        .or_else(|| o.provider.clone())
        .unwrap_or_else(|| "-".to_owned())
}

impl HistoryLine {
    pub(crate) fn new(lang: Lang, o: &OrderView) -> Self {
        let status_url = format!("/bayar/{}", encode_component(&o.order_id));
        Self {
            order_id: o.order_id.clone(),
            package: o.package_name.clone(),
            amount: rupiah(o.amount),
            date: format::datetime(lang, o.created_at),
            method: method_text(lang, o),
            status_code: status_code(o.status),
            status_word: status_word(lang, o.status),
            badge: match o.status {
                OrderStatus::Paid => "ok",
                OrderStatus::Pending => "fup",
                _ => "expired",
            },
            invoice_url: (o.status == OrderStatus::Paid).then(|| format!("{status_url}/invoice")),
            status_url,
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "riwayat.stpl")]
pub(crate) struct HistoryView {
    pub t: HistoryTexts,
    pub lines: Vec<HistoryLine>,
}

/// The page for `orders`.
pub(crate) fn render(lang: Lang, orders: &[OrderView]) -> Page {
    let view = HistoryView {
        t: HistoryTexts::new(lang),
        lines: orders.iter().map(|o| HistoryLine::new(lang, o)).collect(),
    };
    let title = view.t.title;
    super::render(lang, title, view.render_once()).portal(PortalTab::Purchases)
}

/// `GET /akun/riwayat` (logged in).
#[handler]
pub(crate) async fn riwayat(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let (Ok(user), Some(svc)) = (CurrentUser::of(depot), service(depot)) else {
        return internal(lang);
    };
    match svc.my_orders(user.id).await {
        Ok(orders) => render(lang, &orders),
        Err(e) => {
            tracing::warn!(error = %e, "purchase history failed");
            internal(lang)
        }
    }
}
