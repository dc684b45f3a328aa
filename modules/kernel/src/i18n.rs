//! Two languages: Indonesian (the default; the users are Indonesian) and English.
//!
//! Texts are plain constants next to the code that shows them, so a missing translation is a
//! compile error rather than a blank on a page.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Id,
    En,
}

/// A text in both languages.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub id: &'static str,
    pub en: &'static str,
}

impl Text {
    pub const fn new(id: &'static str, en: &'static str) -> Self {
        Self { id, en }
    }

    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Id => self.id,
            Lang::En => self.en,
        }
    }
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// The `lang` cookie that remembers this language for a year (pages read it first after
    /// an explicit `?lang=`).
    pub fn cookie(self) -> salvo::http::cookie::Cookie<'static> {
        salvo::http::cookie::Cookie::build(("lang", self.code()))
            .path("/")
            .same_site(salvo::http::cookie::SameSite::Lax)
            .max_age(salvo::http::cookie::time::Duration::days(365))
            .build()
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "id" | "in" | "id-id" => Some(Lang::Id),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the language: an explicit `?lang=`, then the `lang` cookie, then `Accept-Language`
    /// (English only when the browser prefers it over Indonesian), else Indonesian.
    pub fn negotiate(
        query: Option<&str>,
        cookie: Option<&str>,
        accept_language: Option<&str>,
    ) -> Self {
        if let Some(lang) = query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
        {
            return lang;
        }
        let Some(header) = accept_language else {
            return Lang::Id;
        };
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("id") || tag.starts_with("in") {
                return Lang::Id;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Id
    }

    /// Language of the current request, as negotiated from query, cookie and header.
    pub fn of_request(req: &salvo::Request) -> Self {
        let query = req.query::<String>("lang");
        let cookie = req.cookie("lang").map(|c| c.value().to_owned());
        let header = req
            .headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Lang::negotiate(query.as_deref(), cookie.as_deref(), header.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indonesian_unless_asked_otherwise() {
        assert_eq!(Lang::negotiate(None, None, None), Lang::Id);
        assert_eq!(
            Lang::negotiate(None, None, Some("en-US,en;q=0.9")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("id-ID,id;q=0.9,en;q=0.8")),
            Lang::Id
        );
        assert_eq!(Lang::negotiate(None, Some("en"), Some("id")), Lang::En);
        assert_eq!(Lang::negotiate(Some("id"), Some("en"), None), Lang::Id);
        assert_eq!(Lang::negotiate(Some("xx"), None, Some("fr")), Lang::Id);
    }
}
