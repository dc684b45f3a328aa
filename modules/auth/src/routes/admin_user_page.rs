//! One user's page in the admin panel, `/admin/users/{id}`, and its JSON twin
//! `GET /api/admin/users/{id}`: account, devices (remove posts to devices' own form), sessions
//! (revoke, a form with the form token posting here), orders, quota ledger with the 30-day usage
//! chart, login history and the audit entries about the user. Works without JS.

use std::sync::Arc;

use lpsaring_kernel::admin_shell::admin_page;
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::ui::chart::{Bar, bar_chart};
use lpsaring_kernel::ui::format::{bytes, datetime, day_label};
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, client_ip, csrf_token, require_admin, verify_form_token,
};
use lpsaring_kernel::{ApiError, Lang, Text, UserId};
use sailfish::TemplateSimple;
use salvo::affix_state;
use salvo::http::StatusCode;
use salvo::prelude::*;
use salvo::writing::Redirect;

use crate::admin_users::AdminUser;
use crate::error::AuthError;
use crate::user_record::{UserRecord, UserRecords};
use crate::users::{APPROVED, PENDING};

fn records(depot: &Depot) -> Result<Arc<UserRecords>, ApiError> {
    depot
        .get_typed::<Arc<UserRecords>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"user records missing from the depot"))
}

fn target(req: &Request) -> Result<UserId, ApiError> {
    req.param::<i64>("id")
        .map(UserId)
        .ok_or_else(|| ApiError::from(AuthError::UserNotFound))
}

/// One user with their devices, sessions, orders, quota (ledger and 30-day usage), logins and
/// the audit entries about them.
#[endpoint(
    tags("admin"),
    status_codes(200, 401, 403, 404),
    parameters(("id" = i64, Path, description = "The user id"))
)]
async fn user_json(req: &mut Request, depot: &mut Depot) -> Result<Json<UserRecord>, ApiError> {
    CurrentUser::admin(depot)?;
    let id = target(req)?;
    Ok(Json(records(depot)?.record(id).await?))
}

struct Texts {
    back: &'static str,
    account: &'static str,
    phone: &'static str,
    role: &'static str,
    state: &'static str,
    approval: &'static str,
    created: &'static str,
    last_login: &'static str,
    quota: &'static str,
    purchased: &'static str,
    used: &'static str,
    remaining: &'static str,
    access: &'static str,
    expires: &'static str,
    usage: &'static str,
    ledger: &'static str,
    none: &'static str,
    when: &'static str,
    source: &'static str,
    bytes: &'static str,
    note: &'static str,
    devices: &'static str,
    label: &'static str,
    last_seen: &'static str,
    online: &'static str,
    actions: &'static str,
    remove: &'static str,
    sessions: &'static str,
    since: &'static str,
    until: &'static str,
    device: &'static str,
    revoke: &'static str,
    orders: &'static str,
    order: &'static str,
    package: &'static str,
    amount: &'static str,
    status: &'static str,
    logins: &'static str,
    method: &'static str,
    audit: &'static str,
    action: &'static str,
    actor: &'static str,
    details: &'static str,
}

impl Texts {
    fn new(lang: Lang) -> Self {
        let t = |id: &'static str, en: &'static str| Text::new(id, en).get(lang);
        Self {
            back: t("Semua pengguna", "All users"),
            account: t("Akun", "Account"),
            phone: t("Nomor", "Phone"),
            role: t("Peran", "Role"),
            state: t("Keadaan", "State"),
            approval: t("Persetujuan", "Approval"),
            created: t("Terdaftar", "Registered"),
            last_login: t("Login terakhir", "Last login"),
            quota: t("Kuota", "Quota"),
            purchased: t("Dibeli", "Purchased"),
            used: t("Terpakai", "Used"),
            remaining: t("Sisa", "Remaining"),
            access: t("Status akses", "Access status"),
            expires: t("Berlaku sampai", "Valid until"),
            usage: t("Pemakaian 30 hari", "Usage over 30 days"),
            ledger: t("Riwayat kuota", "Quota ledger"),
            none: t("Belum ada.", "None yet."),
            when: t("Waktu", "When"),
            source: t("Sumber", "Source"),
            bytes: t("Ditambahkan", "Added"),
            note: t("Catatan", "Note"),
            devices: t("Perangkat", "Devices"),
            label: t("Nama", "Label"),
            last_seen: t("Terakhir terlihat", "Last seen"),
            online: t("daring", "online"),
            actions: t("Tindakan", "Actions"),
            remove: t("Hapus", "Remove"),
            sessions: t("Sesi", "Sessions"),
            since: t("Dimulai", "Started"),
            until: t("Berakhir", "Ends"),
            device: t("Peramban", "Browser"),
            revoke: t("Cabut", "Revoke"),
            orders: t("Pesanan", "Orders"),
            order: t("Pesanan", "Order"),
            package: t("Paket", "Package"),
            amount: t("Jumlah", "Amount"),
            status: t("Status", "Status"),
            logins: t("Riwayat login", "Login history"),
            method: t("Cara", "Method"),
            audit: t("Log audit", "Audit log"),
            action: t("Tindakan", "Action"),
            actor: t("Oleh", "By"),
            details: t("Rincian", "Details"),
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "admin/user.stpl")]
struct UserTemplate<'a> {
    t: Texts,
    r: &'a UserRecord,
    u: &'a AdminUser,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    phone: &'a str,
    state: &'static str,
    created: String,
    last_login: String,
    purchased: String,
    used: String,
    remaining: String,
    expires: String,
    chart: String,
    ledger: Vec<[String; 5]>,
    device_seen: Vec<String>,
    session_times: Vec<(String, String)>,
    orders: Vec<[String; 5]>,
    logins: Vec<[String; 4]>,
    audit: Vec<[String; 4]>,
    csrf: &'a str,
    back: String,
}

fn state(u: &AdminUser, lang: Lang) -> &'static str {
    let text = if u.is_blocked {
        Text::new("Diblokir", "Blocked")
    } else if !u.is_active {
        Text::new("Nonaktif", "Inactive")
    } else if u.approval_status == PENDING {
        Text::new("Menunggu persetujuan", "Waiting for approval")
    } else if u.approval_status == APPROVED {
        Text::new("Aktif", "Active")
    } else {
        Text::new("Ditolak", "Rejected")
    };
    text.get(lang)
}

fn render(
    lang: Lang,
    r: &UserRecord,
    csrf: &str,
    shown: (Option<&str>, Option<&str>),
) -> Result<Page, ApiError> {
    let dash = || "—".to_owned();
    let when =
        |at: Option<chrono::DateTime<chrono::Utc>>| at.map_or_else(dash, |a| datetime(lang, a));
    let u = &r.user;
    let q = &r.quota;
    let bars: Vec<Bar> = q
        .daily
        .iter()
        .map(|d| Bar {
            label: day_label(d.day),
            value: d.bytes,
            title: format!("{}: {}", d.day, bytes(lang, d.bytes)),
        })
        .collect();
    let body = UserTemplate {
        t: Texts::new(lang),
        r,
        u,
        error: shown.1,
        notice: shown.0,
        phone: u.phone_number.as_deref().unwrap_or("—"),
        state: state(u, lang),
        created: datetime(lang, u.created_at),
        last_login: when(u.last_login_at),
        purchased: bytes(lang, q.purchased_bytes),
        used: bytes(lang, q.used_bytes),
        remaining: bytes(lang, q.remaining_bytes),
        expires: when(q.expires_at),
        chart: bar_chart(
            &bars,
            Text::new("Pemakaian per hari", "Usage per day").get(lang),
        ),
        ledger: q
            .ledger
            .iter()
            .map(|l| {
                [
                    datetime(lang, l.at),
                    l.source.clone(),
                    bytes(lang, l.bytes_added),
                    when(l.expires_after),
                    l.note.clone().unwrap_or_else(dash),
                ]
            })
            .collect(),
        device_seen: r
            .devices
            .iter()
            .map(|d| datetime(lang, d.last_seen_at))
            .collect(),
        session_times: r
            .sessions
            .iter()
            .map(|s| (datetime(lang, s.issued_at), datetime(lang, s.expires_at)))
            .collect(),
        orders: r
            .orders
            .iter()
            .map(|o| {
                [
                    o.order_id.clone(),
                    o.package_name.clone(),
                    format!("Rp{}", o.amount),
                    o.status.clone(),
                    datetime(lang, o.created_at),
                ]
            })
            .collect(),
        logins: r
            .logins
            .iter()
            .map(|l| {
                [
                    datetime(lang, l.at),
                    l.method.clone(),
                    l.ip.clone().unwrap_or_else(dash),
                    l.mac.clone().unwrap_or_else(dash),
                ]
            })
            .collect(),
        audit: r
            .audit
            .iter()
            .map(|a| {
                [
                    datetime(lang, a.at),
                    a.action.clone(),
                    a.actor.map_or_else(dash, |x| format!("#{}", x.0)),
                    a.details.as_ref().map_or_else(dash, ToString::to_string),
                ]
            })
            .collect(),
        csrf,
        back: format!("/admin/users/{}", u.id),
    };
    let html = body.render_once().map_err(|e| ApiError::internal(&e))?;
    Ok(admin_page(lang, "/admin/users", &u.full_name, &html))
}

const DONE: &[(&str, Text)] = &[
    (
        "removed",
        Text::new("Perangkat dihapus.", "Device removed."),
    ),
    ("revoked", Text::new("Sesi dicabut.", "Session revoked.")),
];

const NOT_FOUND: Text = Text::new("Pengguna tidak ditemukan.", "No such user.");

/// The page of user `id`, or the readable page of why not (404 for an unknown id).
async fn show(
    res: &mut Response,
    lang: Lang,
    depot: &Depot,
    id: Option<UserId>,
    shown: (Option<&str>, Option<&str>),
    status: StatusCode,
) {
    let page = match (records(depot), id) {
        (Ok(svc), Some(id)) => match svc.record(id).await {
            Ok(r) => render(lang, &r, &csrf_token(depot), shown),
            Err(e) => Err(e),
        },
        (Err(e), _) => Err(e),
        (_, None) => Err(ApiError::from(AuthError::UserNotFound)),
    };
    match page {
        Ok(page) => res.render(page.with_status(status)),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            let body = format!(
                "<h1>{}</h1><p><a href=\"/admin/users\">← {}</a></p>",
                NOT_FOUND.get(lang),
                Texts::new(lang).back
            );
            let title = NOT_FOUND.get(lang);
            res.render(admin_page(lang, "/admin/users", title, &body).with_status(e.status));
        }
        Err(e) => {
            tracing::error!(code = %e.code, cause = ?e.cause, "user page failed");
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}

/// `GET /admin/users/{id}` (`?done=` after a removal or revocation).
#[handler]
async fn user_page(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let done = req.query::<String>("done").unwrap_or_default();
    let notice = DONE
        .iter()
        .find(|(key, _)| *key == done)
        .map(|(_, text)| text.get(lang));
    let id = req.param::<i64>("id").map(UserId);
    show(res, lang, depot, id, (notice, None), StatusCode::OK).await;
}

const FORM_EXPIRED: Text = Text::new(
    "Formulir kedaluwarsa. Silakan coba lagi.",
    "The form has expired. Please try again.",
);

/// `POST /admin/users/{id}/sessions/{family}/revoke`: ends that session, then back to the page.
#[handler]
async fn revoke_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let Some(id) = req.param::<i64>("id").map(UserId) else {
        return show(res, lang, depot, None, (None, None), StatusCode::NOT_FOUND).await;
    };
    let family = req.param::<String>("family").unwrap_or_default();
    if !verify_form_token(depot, &token) {
        let error = Some(FORM_EXPIRED.get(lang));
        return show(
            res,
            lang,
            depot,
            Some(id),
            (None, error),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let done = match (CurrentUser::admin(depot), records(depot)) {
        (Ok(caller), Ok(svc)) => {
            let ip = client_ip(depot).map(|i| i.to_string());
            svc.revoke_session((caller.id, caller.role), id, &family, ip)
                .await
        }
        (Err(e), _) => Err(ApiError::from(e)),
        (_, Err(e)) => Err(e),
    };
    match done {
        Ok(()) => res.render(Redirect::other(format!(
            "/admin/users/{}?done=revoked",
            id.0
        ))),
        Err(e) if e.status.is_server_error() => {
            tracing::error!(code = %e.code, cause = ?e.cause, "session revoke failed");
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Err(e) => {
            let shown = (None, Some(e.message.as_str()));
            show(res, lang, depot, Some(id), shown, e.status).await;
        }
    }
}

/// The user page routes and the JSON twin, with [`UserRecords`] injected.
pub fn router(records: Arc<UserRecords>) -> Router {
    Router::new()
        .hoop(affix_state::inject(records))
        .push(
            Router::with_path("api/admin/users/{id}")
                .hoop(require_admin)
                .get(user_json),
        )
        .push(
            Router::with_path("admin/users/{id}")
                .hoop(require_admin)
                .get(user_page)
                .push(Router::with_path("sessions/{family}/revoke").post(revoke_form)),
        )
}
