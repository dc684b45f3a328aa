//! What the package pages show: texts in both languages, the form's fields (as typed, or as
//! stored) and the sailfish views.

use lpsaring_kernel::{Lang, Text};
use sailfish::TemplateSimple;

use super::Profiles;
use crate::api::{Package, PackageInput};
use crate::events::rupiah;
use crate::pages::views::{quota_text, validity_text};

pub(crate) const TITLE: Text = Text::new("Paket", "Packages");
pub(crate) const EDIT_TITLE: Text = Text::new("Ubah paket", "Edit package");
const GIB: f64 = (1u64 << 30) as f64;

pub(crate) struct Texts {
    pub title: &'static str,
    pub back: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub price: &'static str,
    pub quota: &'static str,
    pub quota_gb: &'static str,
    pub unlimited: &'static str,
    pub validity: &'static str,
    pub hours: &'static str,
    pub days: &'static str,
    pub profile: &'static str,
    pub profile_none: &'static str,
    pub profile_down: &'static str,
    pub sort_order: &'static str,
    pub active: &'static str,
    pub on_sale: &'static str,
    pub off_sale: &'static str,
    pub create: &'static str,
    pub create_title: &'static str,
    pub save: &'static str,
    pub edit: &'static str,
    pub deactivate: &'static str,
    pub none: &'static str,
    pub csv: &'static str,
    pub status: &'static str,
}

impl Texts {
    pub(crate) fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(TITLE),
            back: t(Text::new("← Semua paket", "← All packages")),
            name: t(Text::new("Nama", "Name")),
            description: t(Text::new("Keterangan", "Description")),
            price: t(Text::new("Harga (Rp)", "Price (Rp)")),
            quota: t(Text::new("Kuota", "Quota")),
            quota_gb: t(Text::new("Kuota (GB)", "Quota (GB)")),
            unlimited: t(Text::new("Tanpa batas kuota", "Unlimited data")),
            validity: t(Text::new("Masa aktif", "Validity")),
            hours: t(Text::new("jam", "hours")),
            days: t(Text::new("hari", "days")),
            profile: t(Text::new(
                "Profil hotspot (kecepatan)",
                "Hotspot profile (speed)",
            )),
            profile_none: t(Text::new(
                "— tanpa profil khusus —",
                "— no special profile —",
            )),
            profile_down: t(Text::new(
                "Router tidak bisa dibaca sekarang: ketik nama profil.",
                "The router cannot be read now: type the profile's name.",
            )),
            sort_order: t(Text::new("Urutan", "Sort order")),
            active: t(Text::new("Dijual", "On sale")),
            on_sale: t(Text::new("Dijual", "On sale")),
            off_sale: t(Text::new("Tidak dijual", "Off sale")),
            create: t(Text::new("Buat paket", "Create package")),
            create_title: t(Text::new("Paket baru", "New package")),
            save: t(Text::new("Simpan", "Save")),
            edit: t(Text::new("Ubah", "Edit")),
            deactivate: t(Text::new("Hentikan penjualan", "Take off sale")),
            none: t(Text::new("Belum ada paket.", "No packages yet.")),
            csv: t(Text::new("Unduh CSV", "Download CSV")),
            status: t(Text::new("Status", "Status")),
        }
    }
}

/// The form's fields as text, ready for `value="…"`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fields {
    pub name: String,
    pub description: String,
    pub price: String,
    pub quota_gb: String,
    pub unlimited: bool,
    pub validity: String,
    pub in_days: bool,
    pub profile: String,
    pub sort_order: String,
    pub is_active: bool,
}

impl Fields {
    pub(crate) fn blank() -> Self {
        Self {
            validity: "30".to_owned(),
            in_days: true,
            sort_order: "0".to_owned(),
            is_active: true,
            ..Default::default()
        }
    }

    pub(crate) fn of(p: &Package) -> Self {
        let in_days = p.validity_hours % 24 == 0;
        Self {
            name: p.name.clone(),
            description: p.description.clone().unwrap_or_default(),
            price: p.price.to_string(),
            quota_gb: if p.unlimited {
                String::new()
            } else {
                let gb = p.quota_bytes as f64 / GIB;
                format!("{}", (gb * 1000.0).round() / 1000.0)
            },
            unlimited: p.unlimited,
            validity: if in_days {
                (p.validity_hours / 24).to_string()
            } else {
                p.validity_hours.to_string()
            },
            in_days,
            profile: p.hotspot_profile.clone().unwrap_or_default(),
            sort_order: p.sort_order.to_string(),
            is_active: p.is_active,
        }
    }

    /// The package these fields describe; the error names the field (the service checks the
    /// rest: a positive price, a quota or unlimited, the profile's characters).
    pub(crate) fn input(&self) -> Result<PackageInput, &'static str> {
        let price = self.price.trim().replace(['.', ','], "");
        let price: i64 = price.parse().map_err(|_| "price")?;
        let quota_bytes = if self.unlimited || self.quota_gb.trim().is_empty() {
            0
        } else {
            let gb: f64 = self
                .quota_gb
                .trim()
                .replace(',', ".")
                .parse()
                .map_err(|_| "quota_gb")?;
            if !gb.is_finite() || !(0.0..=1_000_000.0).contains(&gb) {
                return Err("quota_gb");
            }
            (gb * GIB).round() as i64
        };
        let validity: i32 = self.validity.trim().parse().map_err(|_| "validity")?;
        let validity_hours = if self.in_days {
            validity.checked_mul(24).ok_or("validity")?
        } else {
            validity
        };
        let sort_order = match self.sort_order.trim() {
            "" => 0,
            s => s.parse().map_err(|_| "sort_order")?,
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(PackageInput {
            name: self.name.clone(),
            description: text(&self.description),
            price,
            quota_bytes,
            unlimited: self.unlimited,
            validity_hours,
            hotspot_profile: text(&self.profile),
            sort_order,
            is_active: self.is_active,
        })
    }
}

/// The profile field: a choice among the router's profiles, or free text when it is down.
pub(crate) struct ProfileField {
    /// `None`: the router could not be read.
    pub choices: Option<Vec<(String, bool)>>,
}

impl ProfileField {
    pub(crate) fn new(profiles: &Profiles, current: &str) -> Self {
        let choices = match profiles {
            Profiles::Live(names) => {
                let mut list: Vec<(String, bool)> =
                    names.iter().map(|n| (n.clone(), n == current)).collect();
                // A profile the router lost stays choosable, so an edit does not drop it silently.
                if !current.is_empty() && !names.iter().any(|n| n == current) {
                    list.push((current.to_owned(), true));
                }
                Some(list)
            }
            Profiles::Unavailable => None,
        };
        Self { choices }
    }
}

/// One package in the list.
pub(crate) struct Line {
    pub id: i64,
    pub name: String,
    pub price: String,
    pub quota: String,
    pub validity: String,
    pub profile: String,
    pub is_active: bool,
}

impl Line {
    pub(crate) fn of(lang: Lang, p: &Package) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            price: rupiah(p.price),
            quota: quota_text(lang, p.quota_bytes, p.unlimited),
            validity: validity_text(lang, p.validity_hours),
            profile: p.hotspot_profile.clone().unwrap_or_default(),
            is_active: p.is_active,
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "admin_packages.stpl")]
pub(crate) struct ListView {
    pub t: Texts,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub rows: Vec<Line>,
    pub f: Fields,
    pub profiles: ProfileField,
    pub csrf: String,
}

#[derive(TemplateSimple)]
#[template(path = "admin_package.stpl")]
pub(crate) struct EditView {
    pub t: Texts,
    pub title: &'static str,
    pub id: i64,
    pub error: Option<String>,
    pub f: Fields,
    pub profiles: ProfileField,
    pub csrf: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_a_package_and_name_the_bad_field() {
        let p = Package {
            id: 3,
            name: "5 GB".into(),
            description: None,
            price: 50_000,
            quota_bytes: 5 << 30,
            unlimited: false,
            validity_hours: 720,
            hotspot_profile: Some("paket-5gb".into()),
            sort_order: 2,
            is_active: true,
        };
        let f = Fields::of(&p);
        assert_eq!(
            (f.quota_gb.as_str(), f.validity.as_str(), f.in_days),
            ("5", "30", true)
        );
        let back = f.input().unwrap();
        assert_eq!(back.quota_bytes, 5 << 30);
        assert_eq!(back.validity_hours, 720);
        assert_eq!(back.hotspot_profile.as_deref(), Some("paket-5gb"));
        let hourly = Fields {
            validity: "3".into(),
            in_days: false,
            quota_gb: "1,5".into(),
            ..f.clone()
        };
        let back = hourly.input().unwrap();
        assert_eq!((back.validity_hours, back.quota_bytes), (3, 3 << 29));
        for (bad, field) in [
            (
                Fields {
                    price: "lima".into(),
                    ..f.clone()
                },
                "price",
            ),
            (
                Fields {
                    quota_gb: "-1".into(),
                    ..f.clone()
                },
                "quota_gb",
            ),
            (
                Fields {
                    validity: "x".into(),
                    ..f.clone()
                },
                "validity",
            ),
            (
                Fields {
                    validity: "999999999".into(),
                    ..f
                },
                "validity",
            ),
        ] {
            assert_eq!(bad.input().unwrap_err(), field);
        }
    }
}
