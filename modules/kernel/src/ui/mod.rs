//! The design system and the shared page layout. Sailfish has no template inheritance, so
//! modules render their body fragment with their own template and wrap it here.
//!
//! Pages stay small because captive mini-browsers on cheap phones are slow: one stylesheet and
//! one deferred script of our own ([`assets`], served from the binary under hashed names and
//! cached for a year), the operator's brand from [`site`], bytes and dates through [`format`],
//! charts as inline SVG from [`chart`]. Every page works without JavaScript.
//!
//! The CSS classes modules use: `card`, `btn` (`secondary`, `danger`, `small`), `error` / `ok` /
//! `warn` / `info` notices, `badge` (`ok`, `fup`, `habis`, `expired`, `blocked`, `inactive`),
//! `muted`, `row`, `stats` + `stat`, `grid two`, `nav.tabs` (current link `aria-current="page"`),
//! tables (`num` for figures, wrapped in `scroll`), `ul.list`, `sr-only`; [`Page::wide`] for
//! dashboards and admin pages. Progressive enhancement in `app.js`: `form[data-confirm]`,
//! `[data-copy]`, `select[data-autosubmit]`.
//!
//! Templates write plain `<script>` and `<style>` elements; the layout stamps this response's CSP
//! nonce on them and on its own `<style>` (see [`crate::web::security`]), so no template handles
//! the nonce.

pub mod assets;
pub mod chart;
pub mod format;
pub mod site;

use sailfish::TemplateSimple;
use salvo::prelude::*;

use crate::i18n::{Lang, Text};
use crate::web::security::{CspNonce, FormTarget, url_origin};
pub use site::Site;

const SUPPORT: Text = Text::new("Bantuan:", "Help:");
const PORTAL_NAV: Text = Text::new("Akun", "Account");

/// The user's portal pages, each owned by its module, shown as tabs above every one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalTab {
    Dashboard,
    Devices,
    Purchases,
    Profile,
}

const PORTAL_TABS: [(PortalTab, &str, Text); 4] = [
    (
        PortalTab::Dashboard,
        "/akun",
        Text::new("Ringkasan", "Overview"),
    ),
    (
        PortalTab::Devices,
        "/akun/perangkat",
        Text::new("Perangkat", "Devices"),
    ),
    (
        PortalTab::Purchases,
        "/akun/riwayat",
        Text::new("Pembelian", "Purchases"),
    ),
    (
        PortalTab::Profile,
        "/akun/profil",
        Text::new("Profil", "Profile"),
    ),
];

/// The portal's tabs, `current` marked for assistive technology and the stylesheet.
fn portal_nav(lang: Lang, current: PortalTab) -> String {
    let mut html = format!(
        "<nav class=\"tabs\" aria-label=\"{}\">",
        PORTAL_NAV.get(lang)
    );
    for (tab, path, name) in PORTAL_TABS {
        let mark = if tab == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        html.push_str(&format!("<a href=\"{path}\"{mark}>{}</a>", name.get(lang)));
    }
    html.push_str("</nav>");
    html
}

#[derive(TemplateSimple)]
#[template(path = "layout.stpl")]
struct Layout<'a> {
    lang: &'a str,
    title: &'a str,
    body: &'a str,
    nonce: &'a str,
    site: &'a Site,
    wide: bool,
    nav: String,
    stylesheet: String,
    script: String,
    support: &'a str,
}

/// A rendered page: a title and a body fragment produced by one of our own templates.
#[derive(Debug, Clone)]
pub struct Page {
    pub lang: Lang,
    pub title: String,
    /// Trusted HTML from our templates; inserted unescaped.
    pub body_html: String,
    pub status: StatusCode,
    /// The origin (besides our own) this page's forms may post to.
    pub form_target: Option<String>,
    /// A wide main column (dashboards, tables) instead of the phone-form column.
    pub wide: bool,
    /// The portal tab this page is, when it is one (the tabs show above the body).
    pub tab: Option<PortalTab>,
}

impl Page {
    pub fn new(lang: Lang, title: impl Into<String>, body_html: String) -> Self {
        Self {
            lang,
            title: title.into(),
            body_html,
            status: StatusCode::OK,
            form_target: None,
            wide: false,
            tab: None,
        }
    }

    /// Lays the page out in the wide column (dashboards, tables, admin).
    pub fn wide(mut self) -> Self {
        self.wide = true;
        self
    }

    /// One of the user's portal pages: the wide column with the portal's tabs above.
    pub fn portal(mut self, tab: PortalTab) -> Self {
        self.tab = Some(tab);
        self.wide()
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Lets this page's forms post to the origin of `url` (the router's hotspot login) as well;
    /// a URL without a plain host allows nothing more.
    pub fn allow_form_action(mut self, url: &str) -> Self {
        self.form_target = url_origin(url);
        self
    }

    /// The whole document, its inline `<style>` and `<script>` elements carrying `nonce`.
    pub fn to_html(&self, nonce: &CspNonce) -> String {
        let body = self
            .body_html
            .replace("<script>", &format!("<script nonce=\"{}\">", nonce.0))
            .replace("<style>", &format!("<style nonce=\"{}\">", nonce.0));
        let site = Site::current();
        Layout {
            lang: self.lang.code(),
            title: &self.title,
            body: &body,
            nonce: &nonce.0,
            site: &site,
            wide: self.wide,
            nav: self
                .tab
                .map(|tab| portal_nav(self.lang, tab))
                .unwrap_or_default(),
            stylesheet: assets::STYLESHEET.url(),
            script: assets::SCRIPT.url(),
            support: SUPPORT.get(self.lang),
        }
        .render_once()
        .unwrap_or_else(|e| format!("<!doctype html><p>template error: {e}</p>"))
    }
}

impl Scribe for Page {
    fn render(self, res: &mut Response) {
        let nonce = CspNonce::fresh();
        res.status_code(self.status);
        res.render(salvo::writing::Text::Html(self.to_html(&nonce)));
        res.extensions.insert(nonce);
        if let Some(origin) = self.form_target {
            res.extensions.insert(FormTarget(origin));
        }
    }
}

/// Escapes text for HTML element content and quoted attributes, for the few places that build
/// fragments without a template.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_escapes_title_but_not_body() {
        let page = Page::new(Lang::En, "<x>", "<p>hi</p>".to_owned());
        let html = page.to_html(&CspNonce("n".to_owned()));
        assert!(html.contains("<title>&lt;x&gt; · lpsaring</title>"));
        assert!(html.contains("<p>hi</p>"));
        assert!(html.contains("lang=\"en\""));
    }

    #[test]
    fn layout_stamps_the_nonce_on_inline_code() {
        let page = Page::new(
            Lang::En,
            "t",
            "<style>p{}</style><script>go()</script>".to_owned(),
        );
        let html = page.to_html(&CspNonce("n0nce".to_owned()));
        assert!(html.contains("<style nonce=\"n0nce\">p{}</style>"));
        assert!(html.contains("<script nonce=\"n0nce\">go()</script>"));
        assert!(!html.contains("<script>"));
        assert!(html.contains(&format!("href=\"{}\"", assets::STYLESHEET.url())));
        assert!(html.contains(&format!("src=\"{}\" defer", assets::SCRIPT.url())));
    }

    #[tokio::test]
    async fn layout_shows_the_scoped_brand() {
        let site = std::sync::Arc::new(Site {
            name: "Warung <Wifi>".into(),
            tagline: Some("Cepat".into()),
            primary_color: Some("#aa0000".into()),
            support_whatsapp: Some("6281234".into()),
            support_hours: Some("08-22".into()),
            logo: site::Logo::new("png", vec![1, 2, 3]),
            ..Site::default()
        });
        let html = Site::scope(site.clone(), async {
            Page::new(Lang::Id, "Akun", String::new())
                .wide()
                .to_html(&CspNonce("n".to_owned()))
        })
        .await;
        assert!(
            html.contains("<title>Akun · Warung &lt;Wifi&gt;</title>"),
            "{html}"
        );
        assert!(html.contains("<style nonce=\"n\">:root{--primary:#aa0000}</style>"));
        assert!(html.contains("https://wa.me/6281234") && html.contains("08-22"));
        assert!(html.contains(&site.logo.as_ref().unwrap().url()));
        assert!(html.contains("<main class=\"wide\">"));
        assert!(!html.contains("lpsaring"));
    }

    #[test]
    fn portal_pages_share_tabs_with_the_current_one_marked() {
        let html = Page::new(Lang::En, "t", String::new())
            .portal(PortalTab::Devices)
            .to_html(&CspNonce("n".to_owned()));
        assert!(html.contains("<a href=\"/akun/perangkat\" aria-current=\"page\">Devices</a>"));
        assert!(html.contains("<a href=\"/akun\">Overview</a>"));
        assert!(html.contains("<main class=\"wide\">"));
        let plain = Page::new(Lang::En, "t", String::new()).to_html(&CspNonce("n".to_owned()));
        assert!(!plain.contains("nav class=\"tabs\""));
    }

    #[test]
    fn escape_covers_attribute_breakers() {
        assert_eq!(
            escape(r#"<a href="x">'&"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
