//! What the payments module's admin pages share: the frame they render into, the sentence an
//! admin reads when an action is refused, and the expired-form notice.

use lpsaring_kernel::admin_shell::admin_page;
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::{Lang, Text};
use salvo::http::StatusCode;

use crate::error::PaymentsError;

pub(crate) const FORM_EXPIRED: Text = Text::new(
    "Formulir kedaluwarsa. Muat ulang halaman lalu coba lagi.",
    "The form expired. Reload the page and try again.",
);

/// What an admin is told when an action is refused.
pub(crate) fn refusal(lang: Lang, e: &PaymentsError) -> String {
    let t = match e {
        PaymentsError::UserNotFound => Text::new(
            "Tidak ada pengguna dengan nomor itu.",
            "No user has that number.",
        ),
        PaymentsError::UserNotAllowed => Text::new(
            "Akun itu diblokir atau belum aktif.",
            "That account is blocked or not active.",
        ),
        PaymentsError::PackageNotFound | PaymentsError::PackageInactive => {
            Text::new("Paket itu tidak dijual.", "That package is not on sale.")
        }
        PaymentsError::PackageNameTaken(_) => Text::new(
            "Sudah ada paket dengan nama itu.",
            "A package with that name exists already.",
        ),
        PaymentsError::OrderNotFound => Text::new("Pesanan tidak ditemukan.", "Order not found."),
        PaymentsError::OrderNotPaid => Text::new(
            "Hanya pesanan lunas yang bisa dikembalikan.",
            "Only a paid order can be refunded.",
        ),
        PaymentsError::OrderAlreadyRefunded => Text::new(
            "Pesanan ini sudah dikembalikan.",
            "This order has been refunded already.",
        ),
        PaymentsError::Invalid(why) => {
            let lead = Text::new("Isian tidak valid", "Input not valid").get(lang);
            return format!("{lead}: {why}");
        }
        _ if !e.is_internal() => return e.to_string(),
        _ => Text::new(
            "Terjadi kesalahan. Silakan coba lagi.",
            "Something went wrong. Please try again.",
        ),
    };
    t.get(lang).to_owned()
}

/// A view rendered into the admin frame at `area`; a template error is logged and a 500.
pub(crate) fn frame(
    lang: Lang,
    area: &str,
    title: &str,
    body: Result<String, sailfish::RenderError>,
) -> Page {
    match body {
        Ok(html) => admin_page(lang, area, title, &html),
        Err(e) => {
            tracing::error!(error = %e, "payments admin template failed");
            admin_page(lang, area, title, "<p class=\"error\">Internal error.</p>")
                .with_status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// A sentence in the frame at `area` with `status`.
pub(crate) fn message(lang: Lang, area: &str, title: &str, text: &str, status: StatusCode) -> Page {
    let html = format!(
        "<p class=\"error\">{}</p>",
        lpsaring_kernel::ui::escape(text)
    );
    admin_page(lang, area, title, &html).with_status(status)
}

/// A failure the admin cannot fix: logged, a 500 in the frame.
pub(crate) fn internal(lang: Lang, area: &str, what: &str, e: &dyn std::fmt::Display) -> Page {
    tracing::error!(error = %e, "{what}");
    let text = Text::new("Terjadi kesalahan.", "Something went wrong.").get(lang);
    message(lang, area, "", text, StatusCode::INTERNAL_SERVER_ERROR)
}
