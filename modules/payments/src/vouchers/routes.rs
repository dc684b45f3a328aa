//! Vouchers over HTTP: the admin's batches (`/api/admin/vouchers`), the printable sheet
//! (`/admin/vouchers/{batch}/print`), `POST /api/vouchers/redeem` and the small `/voucher` page.
//! Handlers parse, call one service method, render.

use lpsaring_kernel::ui::{Page, escape};
use lpsaring_kernel::web::{CSRF_FIELD, CurrentUser, client_ip, csrf_token, current_user};
use lpsaring_kernel::{ApiError, Lang, Text};
use salvo::http::StatusCode;
use salvo::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use salvo::prelude::*;

use super::api::{CreateBatch, RedeemRequest};
use crate::events::rupiah;
use crate::routes::{json_body, service};
use crate::service::Service;

fn batch_param(req: &Request) -> Result<String, ApiError> {
    req.param::<String>("batch")
        .filter(|b| !b.is_empty() && b.len() <= 36)
        .ok_or_else(|| ApiError::validation("The batch id in the path is not valid."))
}

/// Every batch, newest first; `?format=csv` exports them.
#[endpoint(tags("vouchers"))]
async fn batches(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    CurrentUser::admin(depot)?;
    let svc = service(depot)?;
    if lpsaring_kernel::web::wants_csv(req) {
        svc.batches_csv().await?.render(res, "voucher-batches.csv");
    } else {
        res.render(Json(svc.voucher_batches().await?));
    }
    Ok(())
}

#[endpoint(tags("vouchers"))]
async fn create(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let admin = CurrentUser::admin(depot)?;
    let input: CreateBatch = json_body(req).await?;
    let created = service(depot)?
        .create_vouchers(&input, Some(admin.id), |_, _| {})
        .await?;
    res.status_code(StatusCode::CREATED);
    res.render(Json(created));
    Ok(())
}

#[endpoint(tags("vouchers"), parameters(("batch" = String, Path, description = "The voucher batch id")))]
async fn revoke(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let admin = CurrentUser::admin(depot)?;
    let batch = batch_param(req)?;
    res.render(Json(
        service(depot)?.revoke_batch(&batch, Some(admin.id)).await?,
    ));
    Ok(())
}

/// The batch's codes (admins only); `?format=csv` downloads them as a spreadsheet-safe CSV.
#[endpoint(tags("vouchers"), parameters(("batch" = String, Path, description = "The voucher batch id")))]
async fn codes(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    CurrentUser::admin(depot)?;
    let batch = batch_param(req)?;
    let svc = service(depot)?;
    if req.query::<String>("format").as_deref() == Some("csv") {
        let csv = svc.batch_csv(&batch).await?;
        let headers = res.headers_mut();
        if let Ok(v) = "text/csv; charset=utf-8".parse() {
            headers.insert(CONTENT_TYPE, v);
        }
        if let Ok(v) = format!("attachment; filename=\"voucher-{batch}.csv\"").parse() {
            headers.insert(CONTENT_DISPOSITION, v);
        }
        res.write_body(csv).ok();
    } else {
        res.render(Json(svc.batch_codes(&batch).await?));
    }
    Ok(())
}

/// The A4 sheet of cards for a batch (admins only).
#[handler]
async fn print(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let outcome = async {
        CurrentUser::admin(depot).map_err(ApiError::from)?;
        let batch = batch_param(req)?;
        let svc = service(depot)?;
        let summary = svc.voucher_batch(&batch).await?;
        let list = svc.batch_codes(&batch).await?;
        Ok::<_, ApiError>(super::sheet::render(
            lang,
            &svc.site_label(),
            &svc.redeem_url(),
            &summary,
            &list,
        ))
    }
    .await;
    match outcome {
        Ok(sheet) => res.render(sheet),
        Err(e) => res.render(
            Page::new(
                lang,
                ERROR_TITLE.get(lang),
                format!(
                    "<div class=\"card\"><p class=\"error\">{}</p></div>",
                    escape(&e.message)
                ),
            )
            .with_status(e.status),
        ),
    }
}

#[endpoint(tags("vouchers"))]
async fn redeem(req: &mut Request, depot: &mut Depot, res: &mut Response) -> Result<(), ApiError> {
    let user = CurrentUser::of(depot)?.id;
    let input: RedeemRequest = json_body(req).await?;
    let order = service(depot)?
        .redeem_voucher(user, &input.code, client_ip(depot))
        .await?;
    res.render(Json(order));
    Ok(())
}

const ERROR_TITLE: Text = Text::new("Tidak bisa ditampilkan", "Cannot be shown");
const PAGE_TITLE: Text = Text::new("Tukar voucher", "Redeem a voucher");
const CODE_LABEL: Text = Text::new("Kode voucher", "Voucher code");
const SUBMIT: Text = Text::new("Tukar", "Redeem");
const LOGIN_FIRST: Text = Text::new(
    "Masuk dulu untuk menukar voucher ke akun Anda.",
    "Log in first to redeem a voucher to your account.",
);
const LOGIN: Text = Text::new("Masuk", "Log in");
const REDEEMED: Text = Text::new(
    "Voucher diterima. Paket ini sudah aktif:",
    "Voucher accepted. This package is now active:",
);

/// A form posting one voucher code to `action` (the redeem, or auth's voucher login).
fn code_form(lang: Lang, action: &str, csrf: &str, code: &str, submit: Text) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{csrf}\">\
         <label for=\"code\">{label}</label>\
         <input id=\"code\" name=\"code\" value=\"{code}\" autocomplete=\"off\" autocapitalize=\"characters\" maxlength=\"40\" required>\
         <button type=\"submit\">{submit}</button></form>",
        csrf = escape(csrf),
        code = escape(code),
        label = CODE_LABEL.get(lang),
        submit = submit.get(lang),
    )
}

fn form_html(lang: Lang, csrf: &str, code: &str, message: Option<(&str, String)>) -> String {
    let note = message
        .map(|(class, text)| format!("<p class=\"{class}\">{}</p>", escape(&text)))
        .unwrap_or_default();
    format!(
        "<div class=\"card\"><h1>{title}</h1>{note}{form}</div>",
        title = PAGE_TITLE.get(lang),
        form = code_form(lang, "/voucher", csrf, code, SUBMIT),
    )
}

const OR_VOUCHER_LOGIN: Text = Text::new(
    "Belum punya akun atau tanpa WhatsApp? Masuk dengan voucher ini saja:",
    "No account, or no WhatsApp? Log in with this voucher alone:",
);
const VOUCHER_LOGIN: Text = Text::new("Masuk dengan voucher", "Log in with the voucher");

/// For a visitor without a session (a printed card's QR opens `/voucher?code=…` in any
/// browser): log in first, or log in with the code itself (auth's voucher login form).
fn login_first(lang: Lang, csrf: &str, code: &str) -> Page {
    Page::new(
        lang,
        PAGE_TITLE.get(lang),
        format!(
            "<div class=\"card\"><h1>{title}</h1><p>{first}</p><a class=\"btn\" href=\"/login\">{login}</a>\
             <p>{or}</p>{form}</div>",
            title = PAGE_TITLE.get(lang),
            first = LOGIN_FIRST.get(lang),
            login = LOGIN.get(lang),
            or = OR_VOUCHER_LOGIN.get(lang),
            form = code_form(lang, "/login/voucher", csrf, code, VOUCHER_LOGIN),
        ),
    )
}

/// `/voucher`: the redeem form (a code from the query, e.g. a printed card's QR, is filled in).
#[handler]
async fn voucher_page(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let code = req.query::<String>("code").unwrap_or_default();
    let code: String = code.chars().take(40).collect();
    if current_user(depot).is_none() {
        return login_first(lang, &csrf_token(depot), &code);
    }
    Page::new(
        lang,
        PAGE_TITLE.get(lang),
        form_html(lang, &csrf_token(depot), &code, None),
    )
}

/// The form's post: the same redeem as the JSON route, the answer as a page.
#[handler]
async fn voucher_submit(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let Some(user) = current_user(depot) else {
        return login_first(lang, &csrf_token(depot), "");
    };
    let code: String = req
        .form::<String>("code")
        .await
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect();
    let csrf = csrf_token(depot);
    let svc = match service(depot) {
        Ok(s) => s,
        Err(e) => {
            return Page::new(lang, ERROR_TITLE.get(lang), escape(&e.message))
                .with_status(e.status);
        }
    };
    let (status, message) = match svc.redeem_voucher(user, &code, client_ip(depot)).await {
        Ok(order) => (
            StatusCode::OK,
            (
                "ok",
                format!(
                    "{} {} ({})",
                    REDEEMED.get(lang),
                    order.package_name,
                    rupiah(order.amount)
                ),
            ),
        ),
        Err(e) => {
            let e = ApiError::from(e);
            (e.status, ("error", e.message))
        }
    };
    let shown = if status == StatusCode::OK {
        ""
    } else {
        code.as_str()
    };
    Page::new(
        lang,
        PAGE_TITLE.get(lang),
        form_html(lang, &csrf, shown, Some(message)),
    )
    .with_status(status)
}

/// The voucher routes, mounted inside the payments router (the service is in the depot).
pub(crate) fn router() -> Router {
    Router::new()
        .push(
            Router::with_path("api/admin/vouchers")
                .get(batches)
                .post(create)
                .push(Router::with_path("{batch}/revoke").post(revoke))
                .push(Router::with_path("{batch}/codes").get(codes)),
        )
        .push(Router::with_path("admin/vouchers/{batch}/print").get(print))
        .push(super::admin_pages::router())
        .push(Router::with_path("api/vouchers/redeem").post(redeem))
        .push(
            Router::with_path("voucher")
                .get(voucher_page)
                .post(voucher_submit),
        )
}

impl Service {
    /// What the printed cards call the hotspot: the public URL's host, or a plain word.
    pub(crate) fn site_label(&self) -> String {
        let host = self
            .public_url
            .split_once("://")
            .map_or("", |(_, rest)| rest.split(['/', ':']).next().unwrap_or(""));
        if host.is_empty() {
            "Hotspot".to_owned()
        } else {
            host.to_owned()
        }
    }

    /// The link a card's QR code opens (the code is appended).
    pub(crate) fn redeem_url(&self) -> String {
        format!("{}/voucher?code=", self.public_url)
    }
}
