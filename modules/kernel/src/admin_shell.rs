//! The admin panel's frame: every `/admin/<area>` page, whichever module renders it, sits in
//! the same navigation to every area, so the panel reads as one application. Plain links, no
//! JavaScript: on a phone the navigation wraps above the content.

use sailfish::TemplateSimple;

use crate::i18n::{Lang, Text};
use crate::ui::Page;

/// One area of the panel: its page and its name in the navigation.
#[derive(Debug, Clone, Copy)]
pub struct Area {
    pub path: &'static str,
    pub name: Text,
}

/// Every area, in the navigation's order. A module that mounts a new `/admin/<area>` page adds
/// it here.
pub const AREAS: &[Area] = &[
    Area {
        path: "/admin",
        name: Text::new("Ringkasan", "Overview"),
    },
    Area {
        path: "/admin/users",
        name: Text::new("Pengguna", "Users"),
    },
    Area {
        path: "/admin/packages",
        name: Text::new("Paket", "Packages"),
    },
    Area {
        path: "/admin/sales",
        name: Text::new("Penjualan", "Sales"),
    },
    Area {
        path: "/admin/vouchers",
        name: Text::new("Voucher", "Vouchers"),
    },
    Area {
        path: "/admin/devices",
        name: Text::new("Perangkat", "Devices"),
    },
    Area {
        path: "/admin/router",
        name: Text::new("Router", "Router"),
    },
    Area {
        path: "/admin/messages",
        name: Text::new("Pesan", "Messages"),
    },
    Area {
        path: "/admin/settings",
        name: Text::new("Pengaturan", "Settings"),
    },
    Area {
        path: "/admin/audit",
        name: Text::new("Log audit", "Audit log"),
    },
    Area {
        path: "/admin/security",
        name: Text::new("Keamanan akun", "Account security"),
    },
];

const PANEL: Text = Text::new("Panel admin", "Admin panel");

struct NavItem {
    path: &'static str,
    name: &'static str,
    current: bool,
}

#[derive(TemplateSimple)]
#[template(path = "admin_shell.stpl")]
struct Shell<'a> {
    panel: &'a str,
    nav: Vec<NavItem>,
    body: &'a str,
}

/// An admin page: `body` (trusted HTML from one of our templates) inside the panel's frame, the
/// area at `current` marked as the one open.
pub fn admin_page(lang: Lang, current: &str, title: &str, body: &str) -> Page {
    let nav = AREAS
        .iter()
        .map(|a| NavItem {
            path: a.path,
            name: a.name.get(lang),
            current: a.path == current,
        })
        .collect();
    let html = Shell {
        panel: PANEL.get(lang),
        nav,
        body,
    }
    .render_once()
    .unwrap_or_else(|e| format!("<p>template error: {e}</p>"));
    Page::new(lang, title, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_area_is_linked_and_the_open_one_marked() {
        let page = admin_page(Lang::Id, "/admin/audit", "Log audit", "<p>isi</p>");
        for area in AREAS {
            assert!(page.body_html.contains(&format!("href=\"{}\"", area.path)));
        }
        assert!(
            page.body_html
                .contains("<a href=\"/admin/audit\" aria-current=\"page\">Log audit</a>")
        );
        assert!(page.body_html.contains("<p>isi</p>"));
    }
}
