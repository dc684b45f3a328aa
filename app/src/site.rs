//! `[site]`: the operator's brand, validated with the other settings and turned into the kernel's
//! [`Site`] at start. The logo file is copied into the data dir (`<data_dir>/site/logo.<ext>`),
//! so the portal keeps showing it if the original file is moved, and served from memory under
//! a content-hashed name.

use std::path::{Path, PathBuf};

use lpsaring_kernel::ui::site::{Logo, Site, is_hex_color};
use serde::{Deserialize, Serialize};

/// The largest logo we accept: it is on every page, so it must stay small.
pub const MAX_LOGO_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteSettings {
    /// Shown on every page and in every message instead of "lpsaring".
    pub name: String,
    pub tagline: Option<String>,
    /// A PNG, JPEG, SVG or WebP file of at most 256 KB.
    pub logo: Option<PathBuf>,
    /// `#rrggbb`: buttons, links and charts.
    pub primary_color: Option<String>,
    /// A phone number for help (any Indonesian form); shown as a WhatsApp link.
    pub support_whatsapp: Option<String>,
    /// Free text, e.g. "08.00–22.00 WITA".
    pub support_hours: Option<String>,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            name: lpsaring_kernel::ui::site::DEFAULT_NAME.to_owned(),
            tagline: None,
            logo: None,
            primary_color: None,
            support_whatsapp: None,
            support_hours: None,
        }
    }
}

fn short_text(key: &str, text: &str, max: usize) -> Result<(), (String, String)> {
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err((
            key.to_owned(),
            format!("must be at most {max} characters on one line"),
        ));
    }
    Ok(())
}

impl SiteSettings {
    /// Checks every key without touching files; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.name.trim().is_empty() {
            return Err(("site.name".into(), "must not be empty".into()));
        }
        short_text("site.name", &self.name, 60)?;
        if let Some(tagline) = &self.tagline {
            short_text("site.tagline", tagline, 120)?;
        }
        if let Some(hours) = &self.support_hours {
            short_text("site.support_hours", hours, 60)?;
        }
        if let Some(color) = &self.primary_color
            && !is_hex_color(color)
        {
            return Err((
                "site.primary_color".into(),
                format!("{color:?} is not a colour like #0b6bcb"),
            ));
        }
        if let Some(number) = &self.support_whatsapp {
            lpsaring_kernel::Phone::parse(number).map_err(|_| {
                (
                    "site.support_whatsapp".into(),
                    format!("{number:?} is not a phone number like 0812 3456 7890"),
                )
            })?;
        }
        if let Some(logo) = &self.logo {
            logo_ext(logo)?;
        }
        Ok(())
    }

    /// The kernel's [`Site`]: the logo read, checked and copied into `data_dir`.
    pub fn build(
        &self,
        data_dir: &Path,
        timezone: chrono_tz::Tz,
    ) -> Result<Site, (String, String)> {
        let logo = match &self.logo {
            Some(path) => Some(copy_logo(path, data_dir)?),
            None => None,
        };
        Ok(Site {
            name: self.name.trim().to_owned(),
            tagline: self.tagline.clone().filter(|t| !t.trim().is_empty()),
            logo,
            primary_color: self.primary_color.clone(),
            support_whatsapp: self
                .support_whatsapp
                .as_deref()
                .and_then(|n| lpsaring_kernel::Phone::parse(n).ok())
                .map(|p| p.as_str().trim_start_matches('+').to_owned()),
            support_hours: self.support_hours.clone(),
            timezone,
        })
    }
}

fn logo_ext(path: &Path) -> Result<String, (String, String)> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if Logo::new(&ext, Vec::new()).is_none() {
        return Err((
            "site.logo".into(),
            format!(
                "{} must be a .png, .jpg, .svg or .webp file",
                path.display()
            ),
        ));
    }
    Ok(ext)
}

fn copy_logo(path: &Path, data_dir: &Path) -> Result<Logo, (String, String)> {
    let ext = logo_ext(path)?;
    let err = |message: String| ("site.logo".to_owned(), message);
    let meta =
        std::fs::metadata(path).map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
    if meta.len() > MAX_LOGO_BYTES {
        return Err(err(format!(
            "{} is {} bytes; at most {MAX_LOGO_BYTES} are allowed",
            path.display(),
            meta.len()
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
    let dir = data_dir.join("site");
    let copy = dir.join(format!("logo.{ext}"));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&copy, &bytes))
        .map_err(|e| err(format!("cannot copy the logo to {}: {e}", copy.display())))?;
    Logo::new(&ext, bytes).ok_or_else(|| err("unsupported logo type".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_checked() {
        let ok = SiteSettings {
            name: "Warung Wifi".into(),
            primary_color: Some("#aa0000".into()),
            support_whatsapp: Some("0812 3456 7890".into()),
            ..SiteSettings::default()
        };
        assert!(ok.validate().is_ok());
        for (bad, key) in [
            (
                SiteSettings {
                    name: " ".into(),
                    ..ok.clone()
                },
                "site.name",
            ),
            (
                SiteSettings {
                    primary_color: Some("red".into()),
                    ..ok.clone()
                },
                "site.primary_color",
            ),
            (
                SiteSettings {
                    support_whatsapp: Some("hello".into()),
                    ..ok.clone()
                },
                "site.support_whatsapp",
            ),
            (
                SiteSettings {
                    logo: Some("logo.exe".into()),
                    ..ok.clone()
                },
                "site.logo",
            ),
            (
                SiteSettings {
                    tagline: Some("a\nb".into()),
                    ..ok
                },
                "site.tagline",
            ),
        ] {
            assert_eq!(bad.validate().unwrap_err().0, key);
        }
    }

    #[test]
    fn the_logo_is_copied_into_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("brand.png");
        std::fs::write(&source, b"png bytes").unwrap();
        let settings = SiteSettings {
            logo: Some(source),
            support_whatsapp: Some("0812 3456 7890".into()),
            ..SiteSettings::default()
        };
        let data = dir.path().join("data");
        let site = settings.build(&data, chrono_tz::Asia::Jakarta).unwrap();
        assert_eq!(
            std::fs::read(data.join("site/logo.png")).unwrap(),
            b"png bytes"
        );
        assert!(site.logo.unwrap().name.starts_with("logo."));
        assert_eq!(site.support_whatsapp.as_deref(), Some("6281234567890"));
        let missing = SiteSettings {
            logo: Some(dir.path().join("none.png")),
            ..SiteSettings::default()
        };
        assert_eq!(
            missing
                .build(&data, chrono_tz::Asia::Jakarta)
                .unwrap_err()
                .0,
            "site.logo"
        );
    }
}
