//! The design system's files, embedded in the binary and served under content-hashed names
//! (`/assets/app.<hash>.css`) with `Cache-Control: public, max-age=31536000, immutable`: a browser
//! fetches each once per release and never asks again; a new release has new names.
//!
//! The operator's logo (see [`super::site`]) is served the same way from the site context.

use std::sync::LazyLock;

use salvo::http::HeaderValue;
use salvo::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use salvo::prelude::*;
use sha2::{Digest, Sha256};

use super::site::Site;

/// Cache header of every hashed asset.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One embedded file and its public, content-hashed name.
#[derive(Debug)]
pub struct Asset {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, bytes: &'static [u8]) -> Self {
        Self {
            name: format!("{stem}.{}.{ext}", content_hash(bytes)),
            content_type,
            bytes,
        }
    }

    /// The path pages link to: `/assets/<name>`.
    pub fn url(&self) -> String {
        format!("/assets/{}", self.name)
    }
}

/// The first 10 hex digits of the SHA-256 of `bytes`: enough to tell releases apart.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..5])
}

/// The stylesheet every page links.
pub static STYLESHEET: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "app",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    )
});

/// The progressive-enhancement script every page loads (deferred; pages work without it).
pub static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "app",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    )
});

/// `GET /assets/{name}`: an embedded file or the site's logo by its hashed name; 404 otherwise
/// (an old name after an upgrade is gone, not served stale).
#[handler]
async fn serve(req: &mut Request, res: &mut Response) {
    let name = req.param::<String>("name").unwrap_or_default();
    let site = Site::current();
    let found: Option<(&str, Vec<u8>)> = [&*STYLESHEET, &*SCRIPT]
        .into_iter()
        .find(|a| a.name == name)
        .map(|a| (a.content_type, a.bytes.to_vec()))
        .or_else(|| {
            site.logo
                .as_ref()
                .filter(|logo| logo.name == name)
                .map(|logo| (logo.content_type, logo.bytes.to_vec()))
        });
    let Some((content_type, bytes)) = found else {
        res.status_code(StatusCode::NOT_FOUND);
        return;
    };
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    res.write_body(bytes).ok();
}

/// The routes serving the design system's files; `app` mounts it.
pub fn router() -> Router {
    Router::with_path("assets/{name}").get(serve)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        assert!(STYLESHEET.name.starts_with("app.") && STYLESHEET.name.ends_with(".css"));
        assert_eq!(STYLESHEET.name.len(), "app.0123456789.css".len());
        assert_ne!(content_hash(b"a"), content_hash(b"b"));
        assert_eq!(SCRIPT.url(), format!("/assets/{}", SCRIPT.name));
    }
}
