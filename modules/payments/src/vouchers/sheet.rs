//! The printable sheet of a batch: A4, cards in a grid, each with the site, the package, its
//! price, the code and a QR code of the redeem link (an inline SVG from `kernel::qr`). A document
//! of its own (print CSS differs from the app's layout), with this response's CSP nonce on its
//! `<style>` like every page of ours.

use lpsaring_kernel::ui::escape;
use lpsaring_kernel::web::encode_component;
use lpsaring_kernel::web::security::CspNonce;
use lpsaring_kernel::{Lang, Text};
use salvo::prelude::*;

use super::api::{Batch, VoucherCode, VoucherStatus};
use crate::events::rupiah;

const TITLE: Text = Text::new("Lembar voucher", "Voucher sheet");
const HOW: Text = Text::new(
    "Pindai kode QR atau buka halaman voucher dan masukkan kodenya.",
    "Scan the QR code or open the voucher page and type the code.",
);
const USED: Text = Text::new("terpakai", "used");
const REVOKED: Text = Text::new("dibatalkan", "revoked");

const CSS: &str = "@page{size:A4;margin:10mm}*{box-sizing:border-box}\
body{margin:0;font:11pt/1.3 system-ui,sans-serif;color:#000}\
header{margin-bottom:4mm}header h1{font-size:13pt;margin:0}header p{margin:1mm 0;font-size:9pt;color:#444}\
.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:3mm}\
.v{border:1px dashed #777;border-radius:2mm;padding:3mm;display:flex;gap:3mm;align-items:center;break-inside:avoid;page-break-inside:avoid}\
.v svg{width:24mm;height:24mm;flex:none}.v .site{font-weight:700;font-size:10pt}.v .pkg{font-size:9pt}\
.v .price{font-size:9pt;color:#333}.v .code{font:700 11pt ui-monospace,monospace;letter-spacing:.5px;margin-top:1mm}\
.v .mark{font-size:8pt;color:#a00}.v.off{opacity:.45}\
@media print{header p.how{display:none}}";

/// The sheet as a response: the document and the nonce its `<style>` carries.
pub(crate) struct Sheet {
    html: String,
    nonce: CspNonce,
}

impl Scribe for Sheet {
    fn render(self, res: &mut Response) {
        res.render(salvo::writing::Text::Html(self.html));
        res.extensions.insert(self.nonce);
    }
}

pub(crate) fn render(
    lang: Lang,
    site: &str,
    redeem_url: &str,
    batch: &Batch,
    codes: &[VoucherCode],
) -> Sheet {
    let nonce = CspNonce::fresh();
    let mut cards = String::new();
    for c in codes {
        let link = format!("{redeem_url}{}", encode_component(&c.code));
        let qr = lpsaring_kernel::qr::svg(&link).unwrap_or_default();
        let (class, mark) = match c.status {
            VoucherStatus::Active => ("v", String::new()),
            VoucherStatus::Redeemed => (
                "v off",
                format!("<div class=\"mark\">{}</div>", USED.get(lang)),
            ),
            VoucherStatus::Revoked => (
                "v off",
                format!("<div class=\"mark\">{}</div>", REVOKED.get(lang)),
            ),
        };
        cards.push_str(&format!(
            "<div class=\"{class}\">{qr}<div><div class=\"site\">{site}</div><div class=\"pkg\">{pkg}</div>\
             <div class=\"price\">{price}</div><div class=\"code\">{code}</div>{mark}</div></div>",
            site = escape(site),
            pkg = escape(&batch.package_name),
            price = rupiah(batch.price),
            code = escape(&c.code),
        ));
    }
    let html = format!(
        "<!doctype html><html lang=\"{lang_code}\"><head><meta charset=\"utf-8\">\
         <title>{title} · {site}</title><style nonce=\"{nonce}\">{CSS}</style></head><body>\
         <header><h1>{title}: {pkg} · {count}</h1><p class=\"how\">{how}</p></header>\
         <div class=\"grid\">{cards}</div></body></html>",
        lang_code = lang.code(),
        title = TITLE.get(lang),
        site = escape(site),
        nonce = nonce.0,
        pkg = escape(&batch.package_name),
        count = batch.count,
        how = HOW.get(lang),
    );
    Sheet { html, nonce }
}
