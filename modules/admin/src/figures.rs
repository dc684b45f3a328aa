//! The overview's figures as HTML for `/admin`: tiles, two 30-day bar charts (server-rendered
//! SVG), the best sellers, the accounts expiring soon, the last sync, the router, the readiness
//! checks and the outbox. Every word through [`Text`]; no script.

use chrono_tz::Tz;
use lpsaring_kernel::health::Status;
use lpsaring_kernel::ports::overview::DayValue;
use lpsaring_kernel::ui::chart::{Bar, bar_chart};
use lpsaring_kernel::ui::format::{bytes, datetime_in, day_label, rupiah};
use lpsaring_kernel::{Lang, Text};
use sailfish::TemplateSimple;

use crate::overview::OverviewReport;

pub struct FigureTexts {
    pub users: &'static str,
    pub online: &'static str,
    pub usage_today: &'static str,
    pub usage_month: &'static str,
    pub revenue_today: &'static str,
    pub revenue_month: &'static str,
    pub orders: &'static str,
    pub usage_chart: &'static str,
    pub revenue_chart: &'static str,
    pub best: &'static str,
    pub package: &'static str,
    pub amount: &'static str,
    pub expiring: &'static str,
    pub user: &'static str,
    pub expires: &'static str,
    pub nothing: &'static str,
    pub sync: &'static str,
    pub never: &'static str,
    pub at: &'static str,
    pub duration: &'static str,
    pub counted: &'static str,
    pub writes: &'static str,
    pub errors: &'static str,
    pub router: &'static str,
    pub breaker: &'static str,
    pub health: &'static str,
    pub outbox: &'static str,
    pub waiting: &'static str,
    pub dead: &'static str,
}

impl FigureTexts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            users: t(Text::new("Pengguna per status", "Users by status")),
            online: t(Text::new("Perangkat online", "Devices online")),
            usage_today: t(Text::new("Pemakaian hari ini", "Usage today")),
            usage_month: t(Text::new("Pemakaian bulan ini", "Usage this month")),
            revenue_today: t(Text::new("Pendapatan hari ini", "Revenue today")),
            revenue_month: t(Text::new("Pendapatan bulan ini", "Revenue this month")),
            orders: t(Text::new("pesanan", "orders")),
            usage_chart: t(Text::new(
                "Pemakaian per hari, 30 hari",
                "Usage per day, 30 days",
            )),
            revenue_chart: t(Text::new(
                "Pendapatan per hari, 30 hari",
                "Revenue per day, 30 days",
            )),
            best: t(Text::new(
                "Paket terlaris (30 hari)",
                "Best-selling packages (30 days)",
            )),
            package: t(Text::new("Paket", "Package")),
            amount: t(Text::new("Jumlah", "Amount")),
            expiring: t(Text::new(
                "Berakhir dalam 3 hari",
                "Expiring in the next 3 days",
            )),
            user: t(Text::new("Pengguna", "User")),
            expires: t(Text::new("Berakhir", "Expires")),
            nothing: t(Text::new("Tidak ada.", "None.")),
            sync: t(Text::new("Sinkronisasi terakhir", "Last sync")),
            never: t(Text::new("Belum pernah berjalan.", "Has not run yet.")),
            at: t(Text::new("Waktu", "Time")),
            duration: t(Text::new("Durasi", "Duration")),
            counted: t(Text::new("Data dihitung", "Bytes counted")),
            writes: t(Text::new("Tulis ke router", "Router writes")),
            errors: t(Text::new("Galat", "Errors")),
            router: t(Text::new("Router", "Router")),
            breaker: t(Text::new("Pemutus sirkuit", "Circuit breaker")),
            health: t(Text::new(
                "Kesehatan router & plugin",
                "Router & plugin health",
            )),
            outbox: t(Text::new("Kotak keluar pesan", "Message outbox")),
            waiting: t(Text::new("Menunggu", "Waiting")),
            dead: t(Text::new("Gagal (mati)", "Dead")),
        }
    }
}

fn status_label(lang: Lang, key: &str) -> String {
    let text = match key {
        "pending" => Text::new("Menunggu", "Pending"),
        "approved" => Text::new("Disetujui", "Approved"),
        "rejected" => Text::new("Ditolak", "Rejected"),
        "blocked" => Text::new("Diblokir", "Blocked"),
        "inactive" => Text::new("Nonaktif", "Inactive"),
        other => return other.to_owned(),
    };
    text.get(lang).to_owned()
}

fn health_label(lang: Lang, status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Ok => ("ok", Text::new("Baik", "OK").get(lang)),
        Status::Degraded => ("warn", Text::new("Terganggu", "Degraded").get(lang)),
        Status::Down => ("error", Text::new("Mati", "Down").get(lang)),
    }
}

/// One line of a small table: its cells, already formatted.
pub struct Line {
    pub cells: Vec<String>,
    pub href: Option<String>,
}

pub struct SyncLine {
    pub at: String,
    pub duration: String,
    pub counted: String,
    pub writes: i32,
    pub errors: i32,
    pub status: String,
}

pub struct CheckLine {
    pub name: String,
    pub class: &'static str,
    pub label: &'static str,
    pub detail: String,
}

#[derive(TemplateSimple)]
#[template(path = "figures.stpl")]
struct FiguresView {
    t: FigureTexts,
    users: Vec<(String, String, i64)>,
    online: i64,
    usage_today: String,
    usage_month: String,
    revenue_today: String,
    revenue_month: String,
    today_orders: i64,
    month_orders: i64,
    usage_chart: String,
    revenue_chart: String,
    best: Vec<Line>,
    expiring: Vec<Line>,
    sync: Option<SyncLine>,
    router_up: bool,
    router_class: &'static str,
    router_label: &'static str,
    breaker_label: &'static str,
    checks: Vec<CheckLine>,
    waiting: i64,
    dead: i64,
}

fn chart(days: &[DayValue], label: &str, show: impl Fn(i64) -> String) -> String {
    let bars: Vec<Bar> = days
        .iter()
        .map(|d| Bar {
            label: day_label(d.day),
            value: d.value,
            title: format!("{}: {}", d.day, show(d.value)),
        })
        .collect();
    bar_chart(&bars, label)
}

/// The overview's figures as one HTML fragment in `lang`, times in `tz`.
pub fn figures(lang: Lang, tz: Tz, r: &OverviewReport) -> String {
    let t = FigureTexts::new(lang);
    let when = |at| datetime_in(lang, at, tz);
    let router_up = r.router.reachable;
    let (router_class, router_label) =
        health_label(lang, if router_up { Status::Ok } else { Status::Down });
    let breaker_label = if r.router.breaker_open {
        Text::new("Terbuka", "Open")
    } else {
        Text::new("Tertutup", "Closed")
    }
    .get(lang);
    FiguresView {
        users: r
            .users
            .by_status
            .iter()
            .map(|s| (s.key.clone(), status_label(lang, &s.key), s.count))
            .collect(),
        online: r.devices.online_now,
        usage_today: bytes(lang, r.usage.today_bytes),
        usage_month: bytes(lang, r.usage.month_bytes),
        revenue_today: rupiah(r.sales.today_amount),
        revenue_month: rupiah(r.sales.month_amount),
        today_orders: r.sales.today_orders,
        month_orders: r.sales.month_orders,
        usage_chart: chart(&r.usage.by_day, t.usage_chart, |b| bytes(lang, b)),
        revenue_chart: chart(&r.sales.by_day, t.revenue_chart, rupiah),
        best: r
            .sales
            .best_sellers
            .iter()
            .map(|p| Line {
                cells: vec![p.key.clone(), p.count.to_string(), rupiah(p.amount)],
                href: None,
            })
            .collect(),
        expiring: r
            .usage
            .expiring
            .iter()
            .map(|e| Line {
                cells: vec![format!("#{}", e.user_id), when(e.expires_at)],
                href: Some(format!("/admin/users/{}", e.user_id)),
            })
            .collect(),
        sync: r.usage.last_sync.as_ref().map(|s| SyncLine {
            at: when(s.started_at),
            duration: s
                .duration_ms
                .map(|ms| format!("{} ms", ms))
                .unwrap_or_else(|| "–".to_owned()),
            counted: bytes(lang, s.bytes_counted),
            writes: s.router_writes,
            errors: s.errors,
            status: s.status.clone(),
        }),
        router_up,
        router_class,
        router_label,
        breaker_label,
        checks: r
            .checks
            .iter()
            .map(|c| {
                let (class, label) = health_label(lang, c.status);
                CheckLine {
                    name: c.name.clone(),
                    class,
                    label,
                    detail: c.detail.clone(),
                }
            })
            .collect(),
        waiting: r.outbox.pending,
        dead: r.outbox.dead,
        t,
    }
    .render_once()
    .unwrap_or_default()
}
