//! The operator's brand (`[site]` in the settings): name, tagline, logo, primary colour and how to
//! reach support. It replaces the product name on every page and in every message.
//!
//! `app` builds one [`Site`] at start and installs [`SiteHoop`], which runs each request inside
//! [`Site::scope`]; [`Site::current`] then answers anywhere during that request (the page layout,
//! the message texts) without every handler passing it along. Outside a request (a job, a test
//! without the hoop) it is [`Site::default`] unless the caller scopes one itself.

use std::sync::Arc;

use chrono_tz::Tz;
use salvo::prelude::*;

tokio::task_local! {
    static CURRENT: Arc<Site>;
}

/// The product name, used when the operator names nothing.
pub const DEFAULT_NAME: &str = "lpsaring";

/// The operator's logo, read once at start, served at `/assets/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    /// `logo.<hash>.<ext>`.
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Arc<[u8]>,
}

impl Logo {
    /// A logo from a file's bytes and extension (`png`, `jpg`/`jpeg`, `svg`, `webp`), or `None`
    /// for an extension browsers may not show as an image.
    pub fn new(ext: &str, bytes: Vec<u8>) -> Option<Self> {
        let ext = ext.to_ascii_lowercase();
        let content_type = match ext.as_str() {
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "svg" => "image/svg+xml",
            "webp" => "image/webp",
            _ => return None,
        };
        Some(Self {
            name: format!("logo.{}.{ext}", super::assets::content_hash(&bytes)),
            content_type,
            bytes: bytes.into(),
        })
    }

    pub fn url(&self) -> String {
        format!("/assets/{}", self.name)
    }
}

/// The brand every page and message shows, and the time zone dates are shown in.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub name: String,
    pub tagline: Option<String>,
    pub logo: Option<Logo>,
    /// `#rrggbb`, validated by `app` at start.
    pub primary_color: Option<String>,
    /// E.164 digits without `+` (`6281234567890`), for a `wa.me` link.
    pub support_whatsapp: Option<String>,
    /// Free text, e.g. `08.00–22.00 WITA`.
    pub support_hours: Option<String>,
    pub timezone: Tz,
}

impl Default for Site {
    fn default() -> Self {
        Self {
            name: DEFAULT_NAME.to_owned(),
            tagline: None,
            logo: None,
            primary_color: None,
            support_whatsapp: None,
            support_hours: None,
            timezone: chrono_tz::Asia::Makassar,
        }
    }
}

impl Site {
    /// The site of the request being handled, or the default outside one.
    pub fn current() -> Arc<Site> {
        CURRENT
            .try_with(Arc::clone)
            .unwrap_or_else(|_| Arc::new(Site::default()))
    }

    /// Runs `fut` with `site` as [`Site::current`].
    pub async fn scope<F: Future>(site: Arc<Site>, fut: F) -> F::Output {
        CURRENT.scope(site, fut).await
    }

    /// `https://wa.me/<digits>` when a support number is set.
    pub fn whatsapp_link(&self) -> Option<String> {
        self.support_whatsapp
            .as_ref()
            .map(|n| format!("https://wa.me/{n}"))
    }
}

/// Whether `color` is a `#rgb` or `#rrggbb` hex colour (the only form put into a stylesheet).
pub fn is_hex_color(color: &str) -> bool {
    color
        .strip_prefix('#')
        .is_some_and(|h| matches!(h.len(), 3 | 6) && h.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Runs every request inside [`Site::scope`] of one site.
pub struct SiteHoop(pub Arc<Site>);

#[async_trait]
impl Handler for SiteHoop {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        ctrl: &mut FlowCtrl,
    ) {
        Site::scope(self.0.clone(), ctrl.call_next(req, depot, res)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn current_is_the_scoped_site_or_the_default() {
        assert_eq!(Site::current().name, DEFAULT_NAME);
        let site = Arc::new(Site {
            name: "Warung Wifi".into(),
            ..Site::default()
        });
        let name = Site::scope(site, async { Site::current().name.clone() }).await;
        assert_eq!(name, "Warung Wifi");
    }

    #[test]
    fn colours_and_logos_are_checked() {
        assert!(is_hex_color("#0b6bcb") && is_hex_color("#abc"));
        assert!(!is_hex_color("red") && !is_hex_color("#12345g") && !is_hex_color("#1234"));
        assert!(Logo::new("PNG", vec![1, 2]).is_some_and(|l| l.name.ends_with(".png")));
        assert!(Logo::new("exe", vec![1]).is_none());
    }
}
