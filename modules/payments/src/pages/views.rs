//! What the purchase pages say and show: texts (Indonesian first, English), the formatting of
//! amounts, quotas, validity and times, and the sailfish views.

use chrono::{DateTime, Utc};
use lpsaring_kernel::{Lang, Text};
use sailfish::TemplateSimple;

use crate::api::{OrderStatus, Package};
use crate::entity::order;
use crate::error::PaymentsError;
use crate::events::rupiah;

const GIB: i64 = 1 << 30;
const MIB: i64 = 1 << 20;

/// `5 GB`, `1,5 GB`, `500 MB` (binary units, as the router counts), or "unlimited".
pub(crate) fn quota_text(lang: Lang, bytes: i64, unlimited: bool) -> String {
    if unlimited {
        return Text::new("Tanpa batas kuota", "Unlimited data")
            .get(lang)
            .to_owned();
    }
    let comma = |s: String| match lang {
        Lang::Id => s.replace('.', ","),
        Lang::En => s,
    };
    if bytes >= GIB {
        let tenths = (bytes * 10 + GIB / 2) / GIB;
        if tenths % 10 == 0 {
            format!("{} GB", tenths / 10)
        } else {
            comma(format!("{}.{} GB", tenths / 10, tenths % 10))
        }
    } else {
        format!("{} MB", (bytes + MIB / 2) / MIB)
    }
}

/// `3 jam` / `30 hari` (`3 hours` / `30 days`).
pub(crate) fn validity_text(lang: Lang, hours: i32) -> String {
    let (n, one, many) = if hours % 24 == 0 {
        (
            hours / 24,
            Text::new("hari", "day"),
            Text::new("hari", "days"),
        )
    } else {
        (hours, Text::new("jam", "hour"), Text::new("jam", "hours"))
    };
    let unit = if n == 1 { one } else { many };
    format!("{n} {}", unit.get(lang))
}

/// `01-12-2026 13:05 UTC`.
pub(crate) fn time_text(at: DateTime<Utc>) -> String {
    at.format("%d-%m-%Y %H:%M UTC").to_string()
}

/// The word for an order's state.
pub(crate) fn status_word(lang: Lang, status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => Text::new("Menunggu pembayaran", "Waiting for payment"),
        OrderStatus::Paid => Text::new("Lunas", "Paid"),
        OrderStatus::Failed => Text::new("Gagal", "Failed"),
        OrderStatus::Expired => Text::new("Kedaluwarsa", "Expired"),
        OrderStatus::Cancelled => Text::new("Dibatalkan", "Cancelled"),
        OrderStatus::Refunded => Text::new("Dikembalikan", "Refunded"),
    }
    .get(lang)
}

/// What a final state means for the buyer.
fn status_sentence(lang: Lang, status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => Text::new(
            "Halaman ini diperbarui sendiri sampai pembayaran selesai.",
            "This page updates itself until the payment is done.",
        ),
        OrderStatus::Paid => Text::new(
            "Pembayaran diterima. Kuota sudah ditambahkan ke akun Anda.",
            "Payment received. The quota has been added to your account.",
        ),
        OrderStatus::Failed => Text::new(
            "Pembayaran gagal. Tidak ada kuota yang ditambahkan; silakan coba lagi.",
            "The payment failed. No quota was added; please try again.",
        ),
        OrderStatus::Expired => Text::new(
            "Waktu pembayaran habis. Silakan buat pesanan baru.",
            "The time to pay has run out. Please place a new order.",
        ),
        OrderStatus::Cancelled => Text::new(
            "Pesanan dibatalkan. Silakan buat pesanan baru.",
            "The order was cancelled. Please place a new order.",
        ),
        OrderStatus::Refunded => Text::new(
            "Pembayaran ini sudah dikembalikan.",
            "This payment has been refunded.",
        ),
    }
    .get(lang)
}

/// A refused purchase in the buyer's words.
pub(crate) fn refusal(lang: Lang, error: &PaymentsError) -> &'static str {
    match error {
        PaymentsError::GatewayUnavailable(_) => Text::new(
            "Pembayaran online sedang tidak tersedia. Silakan coba lagi nanti atau hubungi pengelola hotspot.",
            "Online payment is not available right now. Please try again later or ask the hotspot operator.",
        ),
        PaymentsError::GatewayRejected(_) => Text::new(
            "Penyedia pembayaran menolak pesanan ini. Coba cara bayar lain.",
            "The payment provider refused this order. Try another way to pay.",
        ),
        PaymentsError::RateLimited { .. } => Text::new(
            "Terlalu banyak pesanan. Tunggu beberapa menit lalu coba lagi.",
            "Too many orders. Wait a few minutes and try again.",
        ),
        PaymentsError::PackageInactive | PaymentsError::PackageNotFound => Text::new(
            "Paket ini tidak dijual lagi.",
            "This package is no longer on sale.",
        ),
        PaymentsError::UserNotAllowed | PaymentsError::UserNotFound => Text::new(
            "Akun Anda tidak bisa membeli paket saat ini. Hubungi pengelola hotspot.",
            "Your account cannot buy packages now. Ask the hotspot operator.",
        ),
        PaymentsError::Invalid(_) => Text::new(
            "Cara bayar itu tidak dikenal.",
            "That way to pay is not known.",
        ),
        _ => Text::new(
            "Terjadi kesalahan. Silakan coba lagi.",
            "Something went wrong. Please try again.",
        ),
    }
    .get(lang)
}

pub(crate) const FORM_EXPIRED: Text = Text::new(
    "Formulir kedaluwarsa. Silakan coba lagi.",
    "The form has expired. Please try again.",
);
pub(crate) const NOT_FOUND: Text = Text::new("Pesanan tidak ditemukan", "Order not found");
pub(crate) const NOT_FOUND_BODY: Text = Text::new(
    "Pesanan ini tidak ada, atau tautannya sudah kedaluwarsa. Masuk untuk melihat pesanan Anda.",
    "This order does not exist, or its link has expired. Log in to see your orders.",
);
pub(crate) const PACKAGE_GONE: Text = Text::new("Paket tidak tersedia", "Package not available");

/// One package as the list and the buy page show it.
pub(crate) struct PackageLine {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub price: String,
    pub quota: String,
    pub validity: String,
}

impl PackageLine {
    pub(crate) fn new(lang: Lang, p: &Package) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            description: p.description.clone().filter(|d| !d.trim().is_empty()),
            price: rupiah(p.price),
            quota: quota_text(lang, p.quota_bytes, p.unlimited),
            validity: validity_text(lang, p.validity_hours),
        }
    }
}

pub(crate) struct PaketTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub buy: &'static str,
    pub valid_for: &'static str,
    pub empty: &'static str,
}

impl PaketTexts {
    pub(crate) fn new(lang: Lang) -> Self {
        let t = |x: Text| x.get(lang);
        Self {
            title: t(Text::new("Beli paket", "Buy a package")),
            intro: t(Text::new(
                "Pilih paket internet. Kuota dan masa aktif ditambahkan begitu pembayaran diterima.",
                "Choose an internet package. Quota and validity are added as soon as the payment is received.",
            )),
            buy: t(Text::new("Beli", "Buy")),
            valid_for: t(Text::new("berlaku", "valid for")),
            empty: t(Text::new(
                "Belum ada paket yang dijual. Hubungi pengelola hotspot.",
                "No packages are on sale yet. Ask the hotspot operator.",
            )),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "paket.stpl")]
pub(crate) struct PaketView {
    pub t: PaketTexts,
    pub packages: Vec<PackageLine>,
    /// Why online payment is off, when it is.
    pub unavailable: Option<String>,
}

/// The ways to pay a buyer may pick (`""`: the provider's own page decides).
pub(crate) const METHODS: [(&str, Text); 6] = [
    (
        "",
        Text::new("Pilih di halaman pembayaran", "Choose on the payment page"),
    ),
    (
        "qris",
        Text::new(
            "QRIS (e-wallet, m-banking)",
            "QRIS (e-wallet, mobile banking)",
        ),
    ),
    (
        "bca_va",
        Text::new("Virtual Account BCA", "BCA virtual account"),
    ),
    (
        "bni_va",
        Text::new("Virtual Account BNI", "BNI virtual account"),
    ),
    (
        "bri_va",
        Text::new("Virtual Account BRI", "BRI virtual account"),
    ),
    (
        "permata_va",
        Text::new("Virtual Account Permata", "Permata virtual account"),
    ),
];

pub(crate) struct BeliTexts {
    pub title: &'static str,
    pub method: &'static str,
    pub pay: &'static str,
    pub back: &'static str,
    pub valid_for: &'static str,
}

impl BeliTexts {
    pub(crate) fn new(lang: Lang) -> Self {
        let t = |x: Text| x.get(lang);
        Self {
            title: t(Text::new("Beli paket", "Buy a package")),
            method: t(Text::new("Cara bayar", "How to pay")),
            pay: t(Text::new("Bayar", "Pay")),
            back: t(Text::new("Paket lain", "Other packages")),
            valid_for: t(Text::new("berlaku", "valid for")),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "beli.stpl")]
pub(crate) struct BeliView<'a> {
    pub t: BeliTexts,
    pub package: PackageLine,
    pub csrf: &'a str,
    /// `(value, label, checked)`.
    pub methods: Vec<(&'static str, &'static str, bool)>,
    pub error: Option<&'static str>,
    pub unavailable: Option<String>,
}

pub(crate) struct BayarTexts {
    pub title: &'static str,
    pub status: &'static str,
    pub order: &'static str,
    pub amount: &'static str,
    pub pay_before: &'static str,
    pub go_pay: &'static str,
    pub open_app: &'static str,
    pub scan: &'static str,
    pub va_number: &'static str,
    pub bill_key: &'static str,
    pub biller_code: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub steps_title: &'static str,
    pub steps: [&'static str; 4],
    pub invoice: &'static str,
    pub more: &'static str,
    pub refresh: &'static str,
}

impl BayarTexts {
    pub(crate) fn new(lang: Lang) -> Self {
        let t = |x: Text| x.get(lang);
        Self {
            title: t(Text::new("Pembayaran", "Payment")),
            status: t(Text::new("Status", "Status")),
            order: t(Text::new("No. pesanan", "Order no.")),
            amount: t(Text::new("Jumlah", "Amount")),
            pay_before: t(Text::new("Bayar sebelum", "Pay before")),
            go_pay: t(Text::new("Lanjut ke pembayaran", "Continue to payment")),
            open_app: t(Text::new(
                "Buka aplikasi pembayaran",
                "Open the payment app",
            )),
            scan: t(Text::new(
                "Pindai kode QRIS ini dengan aplikasi e-wallet atau m-banking.",
                "Scan this QRIS code with an e-wallet or mobile banking app.",
            )),
            va_number: t(Text::new("Nomor Virtual Account", "Virtual account number")),
            bill_key: t(Text::new("Kode bayar (bill key)", "Bill key")),
            biller_code: t(Text::new("Kode perusahaan (biller code)", "Biller code")),
            copy: t(Text::new("Salin", "Copy")),
            copied: t(Text::new("Tersalin", "Copied")),
            steps_title: t(Text::new("Cara bayar", "How to pay")),
            steps: [
                t(Text::new(
                    "Buka aplikasi m-banking, internet banking, atau ATM bank Anda.",
                    "Open your bank's mobile banking app, internet banking or an ATM.",
                )),
                t(Text::new(
                    "Pilih Transfer, lalu Virtual Account (atau Bayar/Multipayment).",
                    "Choose Transfer, then Virtual Account (or Pay/Multipayment).",
                )),
                t(Text::new(
                    "Masukkan nomor di atas dan periksa nama serta jumlahnya.",
                    "Enter the number above and check the name and the amount.",
                )),
                t(Text::new(
                    "Konfirmasi. Halaman ini berubah sendiri setelah pembayaran diterima.",
                    "Confirm. This page changes by itself once the payment is received.",
                )),
            ],
            invoice: t(Text::new("Lihat invoice", "View the invoice")),
            more: t(Text::new("Beli paket lain", "Buy another package")),
            refresh: t(Text::new("Perbarui status", "Refresh the status")),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "bayar.stpl")]
pub(crate) struct BayarView {
    pub t: BayarTexts,
    pub order_id: String,
    pub package: String,
    pub amount: String,
    pub status: OrderStatus,
    pub status_code: &'static str,
    pub status_word: &'static str,
    pub sentence: &'static str,
    pub pay_before: String,
    pub redirect_url: Option<String>,
    pub deeplink: Option<String>,
    /// Trusted SVG markup from `kernel::qr`.
    pub qr_svg: Option<String>,
    pub qr_string: Option<String>,
    pub va_bank: Option<String>,
    pub va_number: Option<String>,
    pub bill_key: Option<String>,
    pub biller_code: Option<String>,
    /// This page's own address (with its `?t=`), for the refresh.
    pub self_url: String,
    pub invoice_url: String,
    /// Seconds between refreshes while pending; go to the provider at once instead when set.
    pub refresh_secs: u32,
    pub go_to_provider: Option<String>,
}

impl BayarView {
    pub(crate) fn new(lang: Lang, m: &order::Model, self_url: String, invoice_url: String) -> Self {
        let qr_svg = m
            .qr_string
            .as_deref()
            .and_then(|q| lpsaring_kernel::qr::svg(q).ok())
            .map(|svg| svg.replacen("<svg ", "<svg width=\"240\" height=\"240\" ", 1));
        Self {
            t: BayarTexts::new(lang),
            order_id: m.order_id.clone(),
            package: m.package_name.clone(),
            amount: rupiah(m.amount),
            status: m.status,
            status_code: status_code(m.status),
            status_word: status_word(lang, m.status),
            sentence: status_sentence(lang, m.status),
            pay_before: time_text(m.provider_expires_at.unwrap_or(m.expires_at)),
            redirect_url: m.redirect_url.clone(),
            deeplink: m.deeplink.clone(),
            qr_svg,
            qr_string: m.qr_string.clone(),
            va_bank: m.va_bank.as_deref().map(str::to_ascii_uppercase),
            va_number: m.va_number.clone(),
            bill_key: m.bill_key.clone(),
            biller_code: m.biller_code.clone(),
            self_url,
            invoice_url,
            refresh_secs: 5,
            go_to_provider: None,
        }
    }
}

/// The JSON name of a state (`PENDING`, `SUCCESS`, …), also on the page for scripts and tests.
pub(crate) fn status_code(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "PENDING",
        OrderStatus::Paid => "SUCCESS",
        OrderStatus::Failed => "FAILED",
        OrderStatus::Expired => "EXPIRED",
        OrderStatus::Cancelled => "CANCELLED",
        OrderStatus::Refunded => "REFUNDED",
    }
}

pub(crate) struct InvoiceTexts {
    pub title: &'static str,
    pub order: &'static str,
    pub date: &'static str,
    pub paid_at: &'static str,
    pub buyer: &'static str,
    pub item: &'static str,
    pub amount: &'static str,
    pub total: &'static str,
    pub method: &'static str,
    pub status: &'static str,
    pub print: &'static str,
    pub not_paid: &'static str,
}

impl InvoiceTexts {
    pub(crate) fn new(lang: Lang) -> Self {
        let t = |x: Text| x.get(lang);
        Self {
            title: t(Text::new("Invoice", "Invoice")),
            order: t(Text::new("No. pesanan", "Order no.")),
            date: t(Text::new("Tanggal", "Date")),
            paid_at: t(Text::new("Dibayar", "Paid")),
            buyer: t(Text::new("Pembeli", "Buyer")),
            item: t(Text::new("Paket", "Package")),
            amount: t(Text::new("Harga", "Price")),
            total: t(Text::new("Total", "Total")),
            method: t(Text::new("Cara bayar", "Paid with")),
            status: t(Text::new("Status", "Status")),
            print: t(Text::new("Cetak", "Print")),
            not_paid: t(Text::new(
                "Pesanan ini belum dibayar; ini bukan bukti pembayaran.",
                "This order is not paid; this is not a receipt.",
            )),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "invoice.stpl")]
pub(crate) struct InvoiceView<'a> {
    pub t: InvoiceTexts,
    pub lang: &'static str,
    pub nonce: &'a str,
    pub site: &'a str,
    pub order_id: String,
    pub created: String,
    pub paid_at: Option<String>,
    pub buyer: String,
    pub buyer_phone: Option<String>,
    pub item: String,
    pub detail: String,
    pub amount: String,
    pub method: Option<String>,
    pub paid: bool,
    pub status_word: &'static str,
    pub status_code: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(qr: Option<&str>, va: Option<&str>) -> order::Model {
        let at = lpsaring_kernel::Clock::now(&lpsaring_kernel::FakeClock::at_epoch_2026());
        order::Model {
            id: 1,
            order_id: "LPS-ABC".into(),
            user_id: 1,
            package_id: 1,
            source: crate::api::OrderSource::Gateway,
            amount: 50_000,
            status: OrderStatus::Pending,
            buyer_phone: Some("+6281234567890".into()),
            buyer_name: "Budi".into(),
            package_name: "30 hari".into(),
            quota_bytes: 5 * GIB,
            unlimited: false,
            validity_hours: 720,
            hotspot_profile: None,
            provider: Some("payment-midtrans".into()),
            provider_ref: None,
            payment_method: None,
            va_bank: va.map(|_| "bca".into()),
            va_number: va.map(str::to_owned),
            bill_key: None,
            biller_code: None,
            qr_string: qr.map(str::to_owned),
            deeplink: None,
            redirect_url: None,
            provider_expires_at: None,
            expires_at: at,
            reconcile_attempts: 0,
            next_check_at: None,
            flagged: false,
            flag_reason: None,
            note: None,
            paid_at: None,
            applied_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn render(m: &order::Model) -> String {
        BayarView::new(Lang::Id, m, "/bayar/LPS-ABC?t=x".into(), "/i".into())
            .render_once()
            .unwrap()
    }

    #[test]
    fn a_qris_order_shows_its_qr_drawn_on_the_server() {
        let html = render(&pending(Some("00020101021226620014COM.GO-JEK.WWW"), None));
        assert!(html.contains("<svg width=\"240\" height=\"240\""), "{html}");
        assert!(html.contains("Pindai kode QRIS"), "{html}");
        assert!(
            html.contains("content=\"5;url=/bayar/LPS-ABC?t=x\""),
            "{html}"
        );
        assert!(!html.contains("id=\"va-number\""));
    }

    #[test]
    fn a_va_order_shows_the_number_a_copy_button_and_the_steps() {
        let html = render(&pending(None, Some("12345678901")));
        assert!(html.contains("id=\"va-number\">12345678901<"), "{html}");
        assert!(html.contains("data-copy=\"12345678901\""), "{html}");
        assert!(html.contains("Nomor Virtual Account BCA"), "{html}");
        assert!(html.contains("<ol><li>"), "{html}");
        assert!(!html.contains("<svg"));
    }

    #[test]
    fn quotas_and_validity_read_as_sold() {
        assert_eq!(quota_text(Lang::Id, 5 * GIB, false), "5 GB");
        assert_eq!(quota_text(Lang::Id, 3 * GIB / 2, false), "1,5 GB");
        assert_eq!(quota_text(Lang::En, 3 * GIB / 2, false), "1.5 GB");
        assert_eq!(quota_text(Lang::En, 500 * MIB, false), "500 MB");
        assert_eq!(quota_text(Lang::Id, 0, true), "Tanpa batas kuota");
        assert_eq!(validity_text(Lang::Id, 3), "3 jam");
        assert_eq!(validity_text(Lang::Id, 720), "30 hari");
        assert_eq!(validity_text(Lang::En, 24), "1 day");
        assert_eq!(validity_text(Lang::En, 1), "1 hour");
        assert_eq!(validity_text(Lang::En, 36), "36 hours");
    }
}
