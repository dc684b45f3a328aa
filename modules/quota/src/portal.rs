//! The user's dashboard, `/akun` (what quota knows: status, remaining quota, validity, usage),
//! and its JSON companion `GET /api/users/me/quota-history`. The view is built by a pure
//! function from the service's answers, so its texts and figures are testable without HTTP.

use chrono::{DateTime, Utc};
use lpsaring_kernel::ui::{Page, PortalTab, chart, format};
use lpsaring_kernel::{Lang, Text};
use sailfish::TemplateSimple;

use crate::api::{AccessStatus, DailyUsage, QuotaSummary};

/// Fixed texts of the dashboard, resolved for one language.
pub struct DashboardTexts {
    pub title: &'static str,
    pub profile: &'static str,
    pub buy: &'static str,
    pub history: &'static str,
    pub remaining: &'static str,
    pub purchased: &'static str,
    pub used: &'static str,
    pub validity: &'static str,
    pub usage_30: &'static str,
    pub usage_7: &'static str,
    pub day: &'static str,
}

impl DashboardTexts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(Text::new("Akun saya", "My account")),
            profile: t(Text::new("Profil", "Profile")),
            buy: t(Text::new("Beli paket", "Buy a package")),
            history: t(Text::new("Riwayat pembelian", "Purchase history")),
            remaining: t(Text::new("Sisa kuota", "Quota left")),
            purchased: t(Text::new("Dibeli", "Purchased")),
            used: t(Text::new("Terpakai", "Used")),
            validity: t(Text::new("Masa aktif", "Valid until")),
            usage_30: t(Text::new("Pemakaian 30 hari", "Usage, last 30 days")),
            usage_7: t(Text::new("7 hari terakhir", "Last 7 days")),
            day: t(Text::new("Hari", "Day")),
        }
    }
}

/// The badge and the next step for each status.
fn status_texts(status: AccessStatus) -> (Text, Text) {
    match status {
        AccessStatus::Ok => (
            Text::new("Aktif", "Active"),
            Text::new(
                "Internet Anda aktif. Beli paket sebelum kuota atau masa aktif habis.",
                "Your internet is on. Buy a package before the quota or validity runs out.",
            ),
        ),
        AccessStatus::Unlimited => (
            Text::new("Tanpa batas", "Unlimited"),
            Text::new(
                "Paket tanpa batas kuota Anda aktif.",
                "Your unlimited package is on.",
            ),
        ),
        AccessStatus::Fup => (
            Text::new("FUP", "FUP"),
            Text::new(
                "Pemakaian melewati batas wajar, kecepatan diturunkan. Beli paket untuk kecepatan penuh.",
                "Fair-use limit passed, speed is reduced. Buy a package for full speed.",
            ),
        ),
        AccessStatus::Habis => (
            Text::new("Kuota habis", "Quota used up"),
            Text::new(
                "Kuota Anda habis. Beli paket untuk terhubung lagi.",
                "Your quota is used up. Buy a package to get back online.",
            ),
        ),
        AccessStatus::Expired => (
            Text::new("Kedaluwarsa", "Expired"),
            Text::new(
                "Masa aktif Anda berakhir. Beli paket untuk terhubung lagi.",
                "Your validity ended. Buy a package to get back online.",
            ),
        ),
        AccessStatus::Blocked => (
            Text::new("Diblokir", "Blocked"),
            Text::new(
                "Akun Anda diblokir. Hubungi operator.",
                "Your account is blocked. Contact the operator.",
            ),
        ),
        AccessStatus::Inactive => (
            Text::new("Belum aktif", "Not active"),
            Text::new(
                "Akun Anda menunggu persetujuan atau dinonaktifkan. Hubungi operator.",
                "Your account awaits approval or is deactivated. Contact the operator.",
            ),
        ),
    }
}

const GREETING: Text = Text::new("Halo", "Hello");
const UNLIMITED: Text = Text::new("Tanpa batas", "Unlimited");
const NO_EXPIRY: Text = Text::new("Tanpa batas waktu", "No end date");
const LEFT: Text = Text::new("tersisa", "left");
const OF: Text = Text::new("dari", "of");
const DAYS_LEFT: Text = Text::new("{n} hari lagi", "{n} days left");
const ENDED: Text = Text::new("Sudah berakhir", "Already ended");
const CHART_LABEL: Text = Text::new(
    "Pemakaian harian 30 hari terakhir",
    "Daily usage over the last 30 days",
);

/// What the dashboard shows, every figure already formatted.
pub struct DashboardView {
    pub greeting: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub badge_class: &'static str,
    pub next_step: &'static str,
    pub notice_class: &'static str,
    pub can_buy: bool,
    pub profile: Option<String>,
    pub gauge: String,
    pub purchased: String,
    pub used: String,
    pub valid_until: String,
    pub days_left: Option<String>,
    pub chart: String,
    /// The last 7 days, newest first: (day, bytes).
    pub week: Vec<(String, String)>,
}

/// Whole days from `now` until `end`, counting a started day (an expiry in 3 hours is "1 day").
pub fn days_left(now: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let secs = (end - now).num_seconds();
    if secs <= 0 {
        0
    } else {
        (secs + 86_399) / 86_400
    }
}

impl DashboardView {
    pub fn build(
        lang: Lang,
        name: &str,
        summary: &QuotaSummary,
        daily: &[DailyUsage],
        profile: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let (label, next) = status_texts(summary.status);
        let status = summary.status;
        let good = matches!(status, AccessStatus::Ok | AccessStatus::Unlimited);
        let b = |n: i64| format::bytes(lang, n);
        let (gauge, low) = if summary.unlimited {
            (
                chart::gauge(1000, UNLIMITED.get(lang), "", UNLIMITED.get(lang), false),
                false,
            )
        } else {
            let permille = if summary.purchased_bytes > 0 {
                let share = i128::from(summary.remaining_bytes.max(0)) * 1000
                    / i128::from(summary.purchased_bytes);
                u32::try_from(share.clamp(0, 1000)).unwrap_or(0)
            } else {
                0
            };
            let low = permille < 100;
            let caption = format!("{} {}", OF.get(lang), b(summary.purchased_bytes));
            let value = b(summary.remaining_bytes);
            let aria = format!("{value} {} {caption}", LEFT.get(lang));
            (chart::gauge(permille, &value, &caption, &aria, low), low)
        };
        let (valid_until, days) = match summary.expires_at {
            Some(end) => {
                let n = days_left(now, end);
                let text = if n == 0 {
                    ENDED.get(lang).to_owned()
                } else {
                    DAYS_LEFT.get(lang).replace("{n}", &n.to_string())
                };
                (format::datetime(lang, end), Some(text))
            }
            None => (NO_EXPIRY.get(lang).to_owned(), None),
        };
        let bars: Vec<chart::Bar> = daily
            .iter()
            .map(|d| chart::Bar {
                label: format::day_label(d.day),
                value: d.bytes,
                title: format!("{}: {}", format::day_label(d.day), b(d.bytes)),
            })
            .collect();
        let week = daily
            .iter()
            .rev()
            .take(7)
            .map(|d| (format::day_label(d.day), b(d.bytes)))
            .collect();
        Self {
            greeting: format!("{}, {name}", GREETING.get(lang)),
            status: status.as_str(),
            status_label: label.get(lang),
            badge_class: if good { "ok" } else { status.as_str() },
            next_step: next.get(lang),
            notice_class: if good && !low { "ok" } else { "warn" },
            can_buy: !matches!(status, AccessStatus::Blocked | AccessStatus::Inactive),
            profile: (!profile.is_empty()).then(|| profile.to_owned()),
            gauge,
            purchased: if summary.unlimited {
                UNLIMITED.get(lang).to_owned()
            } else {
                b(summary.purchased_bytes)
            },
            used: b(summary.used_bytes),
            valid_until,
            days_left: days,
            chart: chart::bar_chart(&bars, CHART_LABEL.get(lang)),
            week,
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "dashboard.stpl")]
struct DashboardPage<'a> {
    t: &'a DashboardTexts,
    v: &'a DashboardView,
}

/// The dashboard as the first of the portal's pages.
pub fn render(lang: Lang, view: &DashboardView) -> Page {
    let t = DashboardTexts::new(lang);
    let body = DashboardPage { t: &t, v: view }
        .render_once()
        .unwrap_or_else(|e| format!("<p class=\"error\">template error: {e}</p>"));
    Page::new(lang, t.title, body).portal(PortalTab::Dashboard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate, TimeZone};
    use lpsaring_kernel::UserId;

    const GIB: i64 = 1024 * 1024 * 1024;

    fn summary(status: AccessStatus) -> QuotaSummary {
        QuotaSummary {
            user_id: UserId(1),
            purchased_bytes: 10 * GIB,
            used_bytes: GIB * 3 / 2,
            remaining_bytes: 10 * GIB - GIB * 3 / 2,
            unlimited: false,
            status,
            expires_at: None,
            unlimited_until: None,
            profile: None,
        }
    }

    #[test]
    fn days_left_counts_started_days() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        assert_eq!(days_left(now, now + Duration::hours(3)), 1);
        assert_eq!(days_left(now, now + Duration::days(30)), 30);
        assert_eq!(days_left(now, now - Duration::days(1)), 0);
    }

    #[test]
    fn every_status_says_what_to_do_in_both_languages() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let daily = vec![DailyUsage { day, bytes: GIB }];
        for status in [
            AccessStatus::Ok,
            AccessStatus::Unlimited,
            AccessStatus::Fup,
            AccessStatus::Habis,
            AccessStatus::Expired,
            AccessStatus::Blocked,
            AccessStatus::Inactive,
        ] {
            let id = DashboardView::build(Lang::Id, "Budi", &summary(status), &daily, "p", now);
            let en = DashboardView::build(Lang::En, "Budi", &summary(status), &daily, "p", now);
            assert_ne!(id.next_step, en.next_step, "{status:?}");
            assert_eq!(id.status, status.as_str());
            assert_eq!(
                id.can_buy,
                !matches!(status, AccessStatus::Blocked | AccessStatus::Inactive)
            );
        }
        let v = DashboardView::build(
            Lang::Id,
            "Budi",
            &summary(AccessStatus::Ok),
            &daily,
            "",
            now,
        );
        assert_eq!(v.used, "1,5 GB");
        assert_eq!(v.week, vec![("1/12".to_owned(), "1 GB".to_owned())]);
        assert!(v.profile.is_none());
        let html = render(Lang::Id, &v).body_html;
        assert!(html.contains("data-status=\"ok\"") && html.contains("href=\"/paket\""));
        assert!(html.contains("<svg class=\"chart\""));
    }
}
