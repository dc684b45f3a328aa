//! How numbers and dates read on every page and in every message: one rule for bytes
//! (`1,5 GB` in Indonesian, `1.5 GB` in English), dates and times in the site's time zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::site::Site;
use crate::i18n::Lang;

const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];

/// A byte count the way people read it: binary steps (1 GB = 1024 MB, as the router counts),
/// one decimal below 100 (dropped when it is zero), the language's decimal mark.
/// `1_610_612_736` → `1,5 GB` (id) / `1.5 GB` (en); `512` → `512 B`; negatives keep their sign.
/// GiB as an admin types them in a form ("5", "-1,5", empty for none), as bytes; `None` when
/// not a number or more than a million GiB either way (a typo).
pub fn parse_gib(text: &str) -> Option<i64> {
    const MAX_GIB: f64 = 1_048_576.0;
    let text = text.trim().replace(',', ".");
    let gib: f64 = if text.is_empty() {
        0.0
    } else {
        text.parse().ok()?
    };
    (gib.is_finite() && gib.abs() <= MAX_GIB).then(|| (gib * (1u64 << 30) as f64).round() as i64)
}

pub fn bytes(lang: Lang, count: i64) -> String {
    let sign = if count < 0 { "-" } else { "" };
    let abs = count.unsigned_abs();
    if abs < 1024 {
        return format!("{sign}{abs} B");
    }
    #[allow(
        clippy::cast_precision_loss,
        reason = "display only: a byte count shown with one decimal"
    )]
    let mut value = abs as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = if value >= 100.0 {
        format!("{value:.0}")
    } else {
        let one = format!("{value:.1}");
        one.strip_suffix(".0").map(str::to_owned).unwrap_or(one)
    };
    let text = match lang {
        Lang::Id => text.replace('.', ","),
        Lang::En => text,
    };
    format!("{sign}{text} {}", UNITS[unit])
}

const MONTHS_ID: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
];
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(lang: Lang, m: u32) -> &'static str {
    let names = match lang {
        Lang::Id => &MONTHS_ID,
        Lang::En => &MONTHS_EN,
    };
    names[(m.clamp(1, 12) - 1) as usize]
}

/// `5 Des 2026` / `5 Dec 2026` in `tz`.
pub fn date_in(lang: Lang, at: DateTime<Utc>, tz: Tz) -> String {
    use chrono::Datelike;
    let local = at.with_timezone(&tz);
    format!(
        "{} {} {}",
        local.day(),
        month(lang, local.month()),
        local.year()
    )
}

/// `5 Des 2026 14.05 WITA` / `5 Dec 2026 14:05 WITA` in `tz` (Indonesian writes times with a dot).
pub fn datetime_in(lang: Lang, at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    let time = match lang {
        Lang::Id => local.format("%H.%M"),
        Lang::En => local.format("%H:%M"),
    };
    format!("{} {time} {}", date_in(lang, at, tz), local.format("%Z"))
}

/// [`date_in`] the current site's time zone.
pub fn date(lang: Lang, at: DateTime<Utc>) -> String {
    date_in(lang, at, Site::current().timezone)
}

/// [`datetime_in`] the current site's time zone.
pub fn datetime(lang: Lang, at: DateTime<Utc>) -> String {
    datetime_in(lang, at, Site::current().timezone)
}

/// A short day label for chart axes: `5/12`.
pub fn day_label(day: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}/{}", day.day(), day.month())
}

/// `Rp 50.000`: rupiah with dots between thousands.
pub fn rupiah(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("Rp {}{out}", if amount < 0 { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn one_rule_for_bytes() {
        assert_eq!(bytes(Lang::Id, 1_610_612_736), "1,5 GB");
        assert_eq!(bytes(Lang::En, 1_610_612_736), "1.5 GB");
        assert_eq!(bytes(Lang::En, 5 * 1024 * 1024 * 1024), "5 GB");
        assert_eq!(bytes(Lang::Id, 512), "512 B");
        assert_eq!(bytes(Lang::En, 1024), "1 KB");
        assert_eq!(bytes(Lang::En, 150 * 1024 * 1024), "150 MB");
        assert_eq!(bytes(Lang::En, -2048), "-2 KB");
        assert_eq!(bytes(Lang::En, 0), "0 B");
        assert!(bytes(Lang::En, i64::MAX).ends_with("PB"));
        assert!(bytes(Lang::En, i64::MIN).starts_with('-'));
    }

    #[test]
    fn dates_in_the_time_zone() {
        // 16:30 UTC on 31 Dec is already 1 Jan in Makassar (UTC+8).
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 16, 30, 0).unwrap();
        let tz = chrono_tz::Asia::Makassar;
        assert_eq!(date_in(Lang::Id, at, tz), "1 Jan 2027");
        assert_eq!(datetime_in(Lang::Id, at, tz), "1 Jan 2027 00.30 WITA");
        assert_eq!(datetime_in(Lang::En, at, tz), "1 Jan 2027 00:30 WITA");
        let dec = Utc.with_ymd_and_hms(2026, 12, 5, 1, 0, 0).unwrap();
        assert_eq!(date_in(Lang::Id, dec, tz), "5 Des 2026");
        assert_eq!(date_in(Lang::En, dec, tz), "5 Dec 2026");
    }

    #[test]
    fn gib_as_typed_becomes_bytes() {
        assert_eq!(parse_gib("5"), Some(5 << 30));
        assert_eq!(parse_gib("-1,5"), Some(-(3 << 29)));
        assert_eq!(parse_gib(""), Some(0));
        assert_eq!(parse_gib("lima"), None);
        assert_eq!(parse_gib("1e300"), None);
        assert_eq!(parse_gib("NaN"), None);
    }
}
