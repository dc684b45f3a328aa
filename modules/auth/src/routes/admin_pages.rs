//! The users area of the admin panel, `/admin/users`: search by phone or name, filter by status
//! and approval, server-side pages, the CSV export link, and each user's actions as plain forms
//! (with the form token) posting to the same services as the JSON: approve, reject, block,
//! unblock here; the quota adjustment to quota's `/admin/users/{id}/quota`. Works without JS.

use std::sync::Arc;

use lpsaring_kernel::admin_shell::admin_page;
use lpsaring_kernel::ui::Page;
use lpsaring_kernel::ui::format::parse_gib;
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, client_ip, csrf_token, encode_component, require_admin, return_path,
    verify_form_token,
};
use lpsaring_kernel::{ApiError, Lang, Text, UserId};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::prelude::*;
use salvo::writing::Redirect;

use crate::admin_create::NewUser;
use crate::admin_users::{AdminUser, StatusFilter, UserAction, UserAdmin, UserQuery};
use crate::error::AuthError;
use crate::users::{APPROVED, PENDING};

const PER_PAGE: u64 = 25;
const PATH: &str = "/admin/users";

pub(super) fn router() -> Router {
    let action =
        |name: &'static str, handler: UserActionForm| Router::with_path(name).post(handler);
    Router::with_path("admin/users")
        .hoop(require_admin)
        .get(users_page)
        .push(Router::with_path("create").post(create_form))
        .push(
            Router::with_path("{id}")
                .push(action("approve", UserActionForm(UserAction::Approve)))
                .push(action("reject", UserActionForm(UserAction::Reject)))
                .push(action("block", UserActionForm(UserAction::Block)))
                .push(action("unblock", UserActionForm(UserAction::Unblock))),
        )
}

fn admin(depot: &Depot) -> Result<Arc<UserAdmin>, ApiError> {
    depot
        .get_typed::<Arc<UserAdmin>>()
        .cloned()
        .map_err(|_| ApiError::internal(&"user admin missing from the depot"))
}

pub(super) struct Texts {
    title: &'static str,
    search: &'static str,
    status: &'static str,
    filter: &'static str,
    found: &'static str,
    csv: &'static str,
    none: &'static str,
    phone: &'static str,
    name: &'static str,
    state: &'static str,
    actions: &'static str,
    reason: &'static str,
    adjust: &'static str,
    gib: &'static str,
    days: &'static str,
    why: &'static str,
    save: &'static str,
    create: &'static str,
    prev: &'static str,
    next: &'static str,
}

const TITLE: Text = Text::new("Pengguna", "Users");

impl Texts {
    fn new(lang: Lang) -> Self {
        let t = |text: Text| text.get(lang);
        Self {
            title: t(TITLE),
            search: t(Text::new("Cari nomor atau nama", "Search phone or name")),
            status: t(Text::new("Status", "Status")),
            filter: t(Text::new("Tampilkan", "Show")),
            found: t(Text::new("pengguna", "users")),
            csv: t(Text::new("Unduh CSV", "Download CSV")),
            none: t(Text::new(
                "Tidak ada pengguna yang cocok.",
                "No user matches.",
            )),
            phone: t(Text::new("Nomor", "Phone")),
            name: t(Text::new("Nama", "Name")),
            state: t(Text::new("Keadaan", "State")),
            actions: t(Text::new("Tindakan", "Actions")),
            reason: t(Text::new("Alasan", "Reason")),
            adjust: t(Text::new("Sesuaikan kuota", "Adjust quota")),
            gib: t(Text::new("GiB (+/−)", "GiB (+/−)")),
            days: t(Text::new("Hari (+/−)", "Days (+/−)")),
            why: t(Text::new("Alasan", "Reason")),
            save: t(Text::new("Simpan", "Save")),
            create: t(Text::new("Tambah pengguna", "Add a user")),
            prev: t(Text::new("← Sebelumnya", "← Previous")),
            next: t(Text::new("Berikutnya →", "Next →")),
        }
    }
}

/// One user as a row: what it shows and the actions that apply.
struct Row {
    id: i64,
    phone: String,
    name: String,
    role: String,
    state: &'static str,
    actions: Vec<(&'static str, &'static str)>,
}

const STATE_PENDING: Text = Text::new("Menunggu persetujuan", "Waiting for approval");
const STATE_REJECTED: Text = Text::new("Ditolak", "Rejected");
const STATE_BLOCKED: Text = Text::new("Diblokir", "Blocked");
const STATE_INACTIVE: Text = Text::new("Nonaktif", "Inactive");
const STATE_OK: Text = Text::new("Aktif", "Active");
const APPROVE: Text = Text::new("Setujui", "Approve");
const REJECT: Text = Text::new("Tolak", "Reject");
const BLOCK: Text = Text::new("Blokir", "Block");
const UNBLOCK: Text = Text::new("Buka blokir", "Unblock");

impl Row {
    fn of(u: &AdminUser, lang: Lang) -> Self {
        let state = if u.is_blocked {
            STATE_BLOCKED
        } else if !u.is_active {
            STATE_INACTIVE
        } else if u.approval_status == PENDING {
            STATE_PENDING
        } else if u.approval_status == APPROVED {
            STATE_OK
        } else {
            STATE_REJECTED
        };
        let mut actions = Vec::new();
        if u.approval_status == PENDING {
            actions.push(("approve", APPROVE.get(lang)));
            actions.push(("reject", REJECT.get(lang)));
        }
        if u.is_blocked {
            actions.push(("unblock", UNBLOCK.get(lang)));
        } else {
            actions.push(("block", BLOCK.get(lang)));
        }
        Self {
            id: u.id,
            phone: u.phone_number.clone().unwrap_or_else(|| "—".to_owned()),
            name: u.full_name.clone(),
            role: u.role.clone(),
            state: state.get(lang),
            actions,
        }
    }
}

#[derive(TemplateSimple)]
#[template(path = "admin/users.stpl")]
struct UsersTemplate<'a> {
    t: Texts,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    /// The error is the create form's: keep it open.
    creating: bool,
    q: &'a str,
    status: &'a str,
    statuses: Vec<(&'static str, &'static str)>,
    total: u64,
    csv: String,
    rows: Vec<Row>,
    csrf: &'a str,
    back: &'a str,
    prev: Option<String>,
    next: Option<String>,
}

/// The list's filters as read from the query.
#[derive(Debug, Default)]
struct Filters {
    q: String,
    status: String,
    page: u64,
}

impl Filters {
    fn of(req: &Request) -> Self {
        let text = |name: &str| {
            req.query::<String>(name)
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let status = text("status");
        Self {
            q: text("q"),
            status: StatusFilter::parse(&status).map_or(String::new(), |_| status.to_lowercase()),
            page: req.query::<u64>("page").unwrap_or(1).max(1),
        }
    }

    fn query(&self) -> UserQuery {
        UserQuery {
            q: Some(self.q.clone()).filter(|q| !q.is_empty()),
            status: StatusFilter::parse(&self.status),
        }
    }

    /// The query string of these filters on `page`.
    fn link(&self, page: u64) -> String {
        format!(
            "{PATH}?q={}&status={}&page={page}",
            encode_component(&self.q),
            encode_component(&self.status)
        )
    }
}

fn statuses(lang: Lang) -> Vec<(&'static str, &'static str)> {
    vec![
        ("", Text::new("Semua", "All").get(lang)),
        ("pending", STATE_PENDING.get(lang)),
        ("approved", Text::new("Disetujui", "Approved").get(lang)),
        ("rejected", STATE_REJECTED.get(lang)),
        ("blocked", STATE_BLOCKED.get(lang)),
        ("inactive", STATE_INACTIVE.get(lang)),
    ]
}

/// What one render shows besides the list.
#[derive(Default, Clone, Copy)]
struct Shown<'a> {
    notice: Option<&'a str>,
    error: Option<&'a str>,
    creating: bool,
}

async fn render(
    lang: Lang,
    depot: &Depot,
    filters: &Filters,
    shown: Shown<'_>,
) -> Result<Page, ApiError> {
    let page = admin(depot)?
        .list(&filters.query(), filters.page, PER_PAGE)
        .await?;
    let csrf = csrf_token(depot);
    let back = filters.link(filters.page);
    let last = page.total.div_ceil(PER_PAGE).max(1);
    let body = UsersTemplate {
        t: Texts::new(lang),
        error: shown.error,
        notice: shown.notice,
        creating: shown.creating,
        q: &filters.q,
        status: &filters.status,
        statuses: statuses(lang),
        total: page.total,
        csv: format!(
            "/api/admin/users?format=csv&q={}&status={}",
            encode_component(&filters.q),
            encode_component(&filters.status)
        ),
        rows: page.items.iter().map(|u| Row::of(u, lang)).collect(),
        csrf: &csrf,
        back: &back,
        prev: (filters.page > 1).then(|| filters.link(filters.page - 1)),
        next: (filters.page < last).then(|| filters.link(filters.page + 1)),
    }
    .render_once()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(admin_page(lang, PATH, TITLE.get(lang), &body))
}

async fn answer(res: &mut Response, page: Result<Page, ApiError>, status: StatusCode) {
    match page {
        Ok(page) => res.render(page.with_status(status)),
        Err(e) => {
            tracing::error!(code = %e.code, cause = ?e.cause, "users page failed");
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}

const DONE: &[(&str, Text)] = &[
    (
        "approve",
        Text::new("Pengguna disetujui.", "User approved."),
    ),
    (
        "reject",
        Text::new("Pendaftaran ditolak.", "Registration rejected."),
    ),
    ("block", Text::new("Pengguna diblokir.", "User blocked.")),
    ("unblock", Text::new("Blokir dibuka.", "User unblocked.")),
    ("quota", Text::new("Kuota disesuaikan.", "Quota adjusted.")),
    ("create", Text::new("Pengguna ditambahkan.", "User added.")),
];

/// `GET /admin/users?q=&status=&page=` (`&done=` after an action).
#[handler]
async fn users_page(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let filters = Filters::of(req);
    let done = req.query::<String>("done").unwrap_or_default();
    let notice = DONE
        .iter()
        .find(|(key, _)| *key == done)
        .map(|(_, text)| text.get(lang));
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    let page = render(lang, depot, &filters, shown).await;
    answer(res, page, StatusCode::OK).await;
}

const FORM_EXPIRED: Text = Text::new(
    "Formulir kedaluwarsa. Silakan coba lagi.",
    "The form has expired. Please try again.",
);

/// A POST form of one user action.
struct UserActionForm(UserAction);

#[async_trait]
impl Handler for UserActionForm {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let lang = Lang::of_request(req);
        let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
        let reason = req
            .form::<String>("reason")
            .await
            .filter(|r| !r.trim().is_empty());
        let back = req.form::<String>("back").await;
        let filters = Filters::default();
        if !verify_form_token(depot, &token) {
            let shown = Shown {
                error: Some(FORM_EXPIRED.get(lang)),
                ..Shown::default()
            };
            let page = render(lang, depot, &filters, shown).await;
            return answer(res, page, StatusCode::FORBIDDEN).await;
        }
        let target = req.param::<i64>("id").map(UserId);
        let done = match (CurrentUser::admin(depot), admin(depot), target) {
            (Ok(caller), Ok(svc), Some(target)) => svc
                .act(
                    (caller.id, caller.role),
                    target,
                    self.0,
                    reason.as_deref(),
                    client_ip(depot).map(|i| i.to_string()),
                )
                .await
                .map_err(|e| ApiError::from(&e)),
            (_, _, None) => Err(ApiError::from(&AuthError::UserNotFound)),
            (Err(e), _, _) => Err(ApiError::from(&e)),
            (_, Err(e), _) => Err(e),
        };
        match done {
            Ok(_) => {
                let name = self.0.name().trim_start_matches("user.");
                res.render(Redirect::other(return_path(back.as_deref(), PATH, name)));
            }
            Err(e) => {
                if e.status.is_server_error() {
                    tracing::error!(code = %e.code, cause = ?e.cause, "user action failed");
                }
                refuse(res, lang, depot, &e, false).await;
            }
        }
    }
}

/// The list again with why `e` refused the form (a 5xx's cause goes to the log, not the page).
async fn refuse(res: &mut Response, lang: Lang, depot: &Depot, e: &ApiError, creating: bool) {
    let message = if e.status.is_server_error() {
        tracing::error!(code = %e.code, cause = ?e.cause, "users form failed");
        Text::new("Tidak dapat disimpan sekarang.", "Cannot save right now.")
            .get(lang)
            .to_owned()
    } else {
        e.message.clone()
    };
    let shown = Shown {
        error: Some(&message),
        creating,
        ..Shown::default()
    };
    let page = render(lang, depot, &Filters::default(), shown).await;
    answer(res, page, e.status).await;
}

const BAD_NUMBER: Text = Text::new(
    "GiB dan hari harus berupa angka.",
    "GiB and days must be numbers.",
);

/// `POST /admin/users/create`: an approved account with an optional starting quota.
#[handler]
async fn create_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let field = |v: Option<String>| v.unwrap_or_default().trim().to_owned();
    let phone = field(req.form::<String>("phone").await);
    let name = field(req.form::<String>("name").await);
    let gib = field(req.form::<String>("gib").await);
    let days = field(req.form::<String>("days").await);
    if !verify_form_token(depot, &token) {
        let e = ApiError::from(&AuthError::OriginInvalid);
        let e = ApiError {
            message: FORM_EXPIRED.get(lang).to_owned(),
            ..e
        };
        return refuse(res, lang, depot, &e, true).await;
    }
    let days = if days.is_empty() {
        Some(0)
    } else {
        days.parse::<i64>().ok()
    };
    let (Some(bytes), Some(days)) = (parse_gib(&gib), days) else {
        let e = ApiError::validation(BAD_NUMBER.get(lang));
        return refuse(res, lang, depot, &e, true).await;
    };
    let created = match (CurrentUser::admin(depot), admin(depot)) {
        (Ok(caller), Ok(svc)) => {
            let new = NewUser {
                phone,
                name,
                bytes,
                days,
            };
            let ip = client_ip(depot).map(|i| i.to_string());
            svc.create_user((caller.id, caller.role), &new, ip).await
        }
        (Err(e), _) => Err(ApiError::from(&e)),
        (_, Err(e)) => Err(e),
    };
    match created {
        Ok(user) => {
            let back = format!("{PATH}?q={}", encode_component(&user.phone_label()));
            res.render(Redirect::other(return_path(Some(&back), PATH, "create")));
        }
        Err(e) => refuse(res, lang, depot, &e, true).await,
    }
}
