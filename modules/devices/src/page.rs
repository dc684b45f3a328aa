//! The devices page `/akun/perangkat`: built by a pure function from a [`Listing`], so its texts
//! are testable without HTTP. Every action is a plain form (POST, then a redirect back).

use lpsaring_kernel::ui::{Page, PortalTab, format};
use lpsaring_kernel::{Lang, Text};
use sailfish::TemplateSimple;

use crate::portal::Listing;
use crate::service::LABEL_MAX_CHARS;

/// Fixed texts of the page, resolved for one language.
pub struct Texts {
    pub title: &'static str,
    pub intro: &'static str,
    pub online: &'static str,
    pub this_device: &'static str,
    pub last_seen: &'static str,
    pub name: &'static str,
    pub rename: &'static str,
    pub remove: &'static str,
    pub confirm_remove: &'static str,
    pub none: &'static str,
    pub bind_title: &'static str,
    pub bind_text: &'static str,
    pub bind: &'static str,
    pub full: &'static str,
}

impl Texts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(Text::new("Perangkat saya", "My devices")),
            intro: t(Text::new(
                "Perangkat yang terhubung dengan akun Anda. Maksimal {n} perangkat.",
                "Devices bound to your account. At most {n} devices.",
            )),
            online: t(Text::new("Online", "Online")),
            this_device: t(Text::new("Perangkat ini", "This device")),
            last_seen: t(Text::new("Terakhir terlihat", "Last seen")),
            name: t(Text::new("Nama perangkat", "Device name")),
            rename: t(Text::new("Simpan nama", "Save name")),
            remove: t(Text::new("Hapus", "Remove")),
            confirm_remove: t(Text::new(
                "Hapus perangkat ini? Perangkat akan terputus dari internet.",
                "Remove this device? It will be disconnected from the internet.",
            )),
            none: t(Text::new(
                "Belum ada perangkat. Masuk lewat hotspot untuk menambahkan perangkat.",
                "No devices yet. Log in through the hotspot to add one.",
            )),
            bind_title: t(Text::new(
                "Perangkat ini belum terdaftar",
                "This device is not bound",
            )),
            bind_text: t(Text::new(
                "Daftarkan perangkat yang sedang Anda pakai agar bisa terhubung ke internet.",
                "Bind the device you are using so it can go online.",
            )),
            bind: t(Text::new("Daftarkan perangkat ini", "Bind this device")),
            full: t(Text::new(
                "Batas perangkat tercapai. Hapus satu perangkat untuk mendaftarkan yang ini.",
                "The device limit is reached. Remove one to bind this device.",
            )),
        }
    }
}

/// What an action did, for the notice after the redirect (`?ok=…`).
pub fn done_notice(lang: Lang, ok: &str) -> Option<&'static str> {
    let text = match ok {
        "renamed" => Text::new("Nama perangkat disimpan.", "Device name saved."),
        "removed" => Text::new(
            "Perangkat dihapus dan diputus dari hotspot.",
            "Device removed and disconnected from the hotspot.",
        ),
        "bound" => Text::new(
            "Perangkat ini sudah terdaftar dan terhubung.",
            "This device is bound and online.",
        ),
        _ => return None,
    };
    Some(text.get(lang))
}

/// Why an action was refused, in the user's language.
pub fn refusal(lang: Lang, code: &str) -> &'static str {
    let text = match code {
        "VALIDATION_ERROR" => Text::new(
            "Nama perangkat paling banyak 40 karakter, tanpa karakter khusus.",
            "A device name has at most 40 characters and no control characters.",
        ),
        "DEVICE_NOT_FOUND" => Text::new("Perangkat tidak ditemukan.", "Device not found."),
        "DEVICE_LIMIT_REACHED" => Text::new(
            "Batas perangkat tercapai. Hapus satu perangkat dulu.",
            "The device limit is reached. Remove a device first.",
        ),
        "DEVICE_NOT_ON_HOTSPOT" => Text::new(
            "Perangkat ini tidak terhubung lewat hotspot atau sudah terdaftar.",
            "This device is not connected through the hotspot, or is already bound.",
        ),
        "FORM_EXPIRED" => Text::new(
            "Formulir kedaluwarsa. Silakan coba lagi.",
            "The form expired. Please try again.",
        ),
        _ => Text::new(
            "Tidak bisa sekarang. Silakan coba lagi sebentar lagi.",
            "Not possible right now. Please try again in a moment.",
        ),
    };
    text.get(lang)
}

/// One device as shown, every figure already formatted.
pub struct Line {
    pub id: i64,
    pub name: String,
    pub label: String,
    pub mac: String,
    pub last_seen: String,
    pub online: bool,
    pub this_device: bool,
}

/// The calling device's offer: bind it, or why not.
pub enum Offer {
    None,
    Bind,
    Full,
}

#[derive(TemplateSimple)]
#[template(path = "devices.stpl")]
struct DevicesPage<'a> {
    t: &'a Texts,
    intro: String,
    lines: Vec<Line>,
    offer: Offer,
    csrf: &'a str,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    max_chars: usize,
}

/// What the page shows above the list: a notice after an action, or a refusal.
#[derive(Debug, Clone, Copy)]
pub enum Banner<'a> {
    None,
    Done(&'a str),
    Refused(&'a str),
}

/// The devices page for `listing`.
pub fn render(lang: Lang, listing: &Listing, csrf: &str, banner: Banner<'_>) -> Page {
    let t = Texts::new(lang);
    let lines = listing
        .devices
        .iter()
        .map(|d| Line {
            id: d.id,
            name: d.label.clone().unwrap_or_else(|| d.mac_masked.clone()),
            label: d.label.clone().unwrap_or_default(),
            mac: d.mac_masked.clone(),
            last_seen: format::datetime(lang, d.last_seen_at),
            online: d.online,
            this_device: d.this_device,
        })
        .collect();
    let offer = match &listing.this_device {
        Some(this) if this.can_bind => Offer::Bind,
        Some(this) if !this.bound => Offer::Full,
        _ => Offer::None,
    };
    let (notice, error) = match banner {
        Banner::None => (None, None),
        Banner::Done(text) => (Some(text), None),
        Banner::Refused(text) => (None, Some(text)),
    };
    let page = DevicesPage {
        intro: t.intro.replace("{n}", &listing.limit.to_string()),
        t: &t,
        lines,
        offer,
        csrf,
        notice,
        error,
        max_chars: LABEL_MAX_CHARS,
    };
    let body = page.render_once().unwrap_or_else(|e| {
        tracing::error!(error = %e, "devices template failed");
        "<p class=\"error\">Internal error.</p>".to_owned()
    });
    Page::new(lang, t.title, body).portal(PortalTab::Devices)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use lpsaring_kernel::Mac;

    use super::*;
    use crate::portal::{DeviceItem, ThisDevice};

    fn listing(this_bound: bool) -> Listing {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap();
        Listing {
            devices: vec![DeviceItem {
                id: 7,
                label: Some("HP <Budi>".into()),
                mac_masked: "••:••:••:••:00:07".into(),
                last_seen_at: at,
                online: true,
                this_device: this_bound,
            }],
            limit: 2,
            this_device: Some(ThisDevice {
                mac_masked: "••:••:••:••:00:09".into(),
                bound: this_bound,
                can_bind: !this_bound,
                mac: Mac([2, 0, 0, 0, 0, 9]),
                ip: "10.5.50.9".parse().unwrap(),
            }),
        }
    }

    #[test]
    fn the_page_marks_the_device_escapes_its_name_and_offers_binding() {
        let html = render(Lang::En, &listing(false), "tok", Banner::None).body_html;
        assert!(html.contains("HP &lt;Budi&gt;"), "{html}");
        assert!(html.contains("••:••:••:••:00:07"));
        assert!(html.contains("action=\"/akun/perangkat/7/nama\""));
        assert!(html.contains("action=\"/akun/perangkat/7/hapus\""));
        assert!(html.contains("action=\"/akun/perangkat/ikat\""));
        assert!(html.contains("name=\"csrf\" value=\"tok\""));
        assert!(html.contains("At most 2 devices"));
        let bound = render(Lang::Id, &listing(true), "tok", Banner::Done("ok!")).body_html;
        assert!(bound.contains("Perangkat ini") && bound.contains("ok!"));
        assert!(!bound.contains("/akun/perangkat/ikat"));
    }
}
