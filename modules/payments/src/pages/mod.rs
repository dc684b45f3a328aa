//! The purchase pages, server-rendered and usable without JavaScript in a captive mini-browser:
//! `/paket` (packages on sale), `/paket/{id}/beli` (choose how to pay, then the provider's page,
//! the QR or the VA number), `/bayar/{order_id}` (the status, refreshing itself until final; also
//! the provider's return URL), `/bayar/{order_id}/invoice` (printable) and the buyer's history
//! `/akun/riwayat`. The status page and
//! the invoice open for the owner, an admin, or anyone holding the order's signed link (`?t=`),
//! because WhatsApp and the phone's real browser carry no cookie.

mod history;
pub(crate) mod views;

use std::sync::Arc;

use lpsaring_kernel::ui::Page;
use lpsaring_kernel::web::security::CspNonce;
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, client_ip, csrf_token, encode_component, require_user,
    verify_form_token,
};
use lpsaring_kernel::{ErrorCode, Lang, Text as I18n, UserId};
use sailfish::TemplateSimple;
use salvo::http::StatusCode;
use salvo::prelude::*;

use crate::api::{InitiateRequest, OrderStatus};
use crate::entity::order;
use crate::error::PaymentsError;
use crate::service::Service;
use views::{
    BayarView, BeliTexts, BeliView, FORM_EXPIRED, InvoiceTexts, InvoiceView, METHODS, NOT_FOUND,
    NOT_FOUND_BODY, PACKAGE_GONE, PackageLine, PaketTexts, PaketView, quota_text, refusal,
    status_code, status_word, time_text, validity_text,
};

/// Who may open an order's pages: its owner or an admin by session, or anyone by its link.
pub(crate) struct Viewer<'a> {
    pub user: Option<CurrentUser>,
    pub token: Option<&'a str>,
}

impl Service {
    /// The order behind a status page or invoice, if this viewer may see it.
    pub(crate) async fn order_for_viewer(
        &self,
        order_id: &str,
        viewer: &Viewer<'_>,
    ) -> Result<order::Model, PaymentsError> {
        let by_link = viewer
            .token
            .is_some_and(|t| crate::link::verify(&self.link_key, order_id, t, self.clock.now()));
        let m = self.order_row(order_id).await?;
        let by_session = viewer
            .user
            .is_some_and(|u| u.id == UserId(m.user_id) || u.role.is_admin());
        if by_link || by_session {
            Ok(m)
        } else {
            Err(PaymentsError::OrderNotFound)
        }
    }
}

fn service(depot: &Depot) -> Option<Arc<Service>> {
    depot.get_typed::<Arc<Service>>().ok().cloned()
}

/// Renders a fragment into the shared layout; a template error is logged and shown plainly.
fn render(lang: Lang, title: &str, fragment: Result<String, sailfish::RenderError>) -> Page {
    match fragment {
        Ok(body) => Page::new(lang, title, body),
        Err(e) => {
            tracing::error!(error = %e, "payments template failed");
            Page::new(
                lang,
                title,
                "<p class=\"error\">Internal error.</p>".to_owned(),
            )
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// A plain card with a title and a sentence.
fn message_page(lang: Lang, title: I18n, body: &str, status: StatusCode) -> Page {
    let html = format!(
        "<div class=\"card\"><h1>{}</h1><p>{}</p><a class=\"btn secondary\" href=\"/paket\">{}</a></div>",
        lpsaring_kernel::ui::escape(title.get(lang)),
        lpsaring_kernel::ui::escape(body),
        I18n::new("Lihat paket", "See the packages").get(lang),
    );
    Page::new(lang, title.get(lang), html).with_status(status)
}

fn internal(lang: Lang) -> Page {
    message_page(
        lang,
        I18n::new("Terjadi kesalahan", "Something went wrong"),
        I18n::new(
            "Silakan coba lagi sebentar lagi.",
            "Please try again in a moment.",
        )
        .get(lang),
        StatusCode::INTERNAL_SERVER_ERROR,
    )
}

/// `GET /paket`: the packages on sale, and whether they can be paid online now.
#[handler]
async fn paket(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let Some(svc) = service(depot) else {
        return internal(lang);
    };
    let packages = match svc.active_packages().await {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(error = %e, "package list failed");
            return internal(lang);
        }
    };
    let availability = svc.availability();
    let t = PaketTexts::new(lang);
    let title = t.title;
    let view = PaketView {
        t,
        packages: packages.iter().map(|p| PackageLine::new(lang, p)).collect(),
        unavailable: (!availability.available).then(|| unavailable_text(lang)),
    };
    render(lang, title, view.render_once())
}

fn unavailable_text(lang: Lang) -> String {
    I18n::new(
        "Pembayaran online belum tersedia. Hubungi pengelola hotspot untuk membeli paket.",
        "Online payment is not available. Ask the hotspot operator to buy a package.",
    )
    .get(lang)
    .to_owned()
}

fn package_param(req: &Request) -> Option<i64> {
    req.param::<i64>("id")
}

/// The buy page for a package, with an error to show and the method to keep checked.
async fn beli_page(
    svc: &Service,
    lang: Lang,
    id: i64,
    csrf: &str,
    error: Option<&'static str>,
    chosen: &str,
    status: StatusCode,
) -> Page {
    let package = match svc.package(id).await {
        Ok(p) if p.is_active => p,
        Ok(_) | Err(PaymentsError::PackageNotFound) => {
            return message_page(
                lang,
                PACKAGE_GONE,
                refusal(lang, &PaymentsError::PackageInactive),
                StatusCode::NOT_FOUND,
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "package lookup failed");
            return internal(lang);
        }
    };
    let development = svc.active_gateway().is_some_and(|g| g.development_only);
    // A development provider has one checkout page: only "choose on the payment page".
    let methods = METHODS
        .iter()
        .filter(|(value, _)| !development || value.is_empty())
        .map(|(value, label)| (*value, label.get(lang), *value == chosen))
        .collect();
    let availability = svc.availability();
    let t = BeliTexts::new(lang);
    let title = t.title;
    let view = BeliView {
        t,
        package: PackageLine::new(lang, &package),
        csrf,
        methods,
        error,
        unavailable: (!availability.available).then(|| unavailable_text(lang)),
    };
    render(lang, title, view.render_once()).with_status(status)
}

/// `GET /paket/{id}/beli` (logged in): the package and the ways to pay.
#[handler]
async fn beli(req: &mut Request, depot: &mut Depot) -> Page {
    let lang = Lang::of_request(req);
    let (Some(svc), Some(id)) = (service(depot), package_param(req)) else {
        return message_page(lang, PACKAGE_GONE, "", StatusCode::NOT_FOUND);
    };
    let csrf = csrf_token(depot);
    beli_page(&svc, lang, id, &csrf, None, "", StatusCode::OK).await
}

/// `POST /paket/{id}/beli`: places the order, then its status page, which shows the QR or the
/// VA number, or goes on to the provider's page.
#[handler]
async fn beli_submit(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let (Some(svc), Some(id)) = (service(depot), package_param(req)) else {
        res.render(message_page(lang, PACKAGE_GONE, "", StatusCode::NOT_FOUND));
        return;
    };
    let Ok(user) = CurrentUser::of(depot) else {
        res.render(Redirect::other(format!("/paket/{id}/beli")));
        return;
    };
    let submitted = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let method = req.form::<String>("method").await.unwrap_or_default();
    let csrf = csrf_token(depot);
    if !verify_form_token(depot, &submitted) {
        let page = beli_page(
            &svc,
            lang,
            id,
            &csrf,
            Some(FORM_EXPIRED.get(lang)),
            &method,
            StatusCode::FORBIDDEN,
        )
        .await;
        res.render(page);
        return;
    }
    let input = InitiateRequest {
        package_id: id,
        payment_method: Some(method.clone()).filter(|m| !m.is_empty()),
        va_bank: None,
    };
    match svc.initiate(user.id, &input, client_ip(depot)).await {
        Ok(done) => {
            let token = done.status_token.unwrap_or_default();
            res.render(Redirect::other(format!(
                "/bayar/{}?t={}&go=1",
                encode_component(&done.order.order_id),
                encode_component(&token)
            )));
        }
        Err(e) => {
            if e.is_internal() {
                tracing::warn!(error = %e, "purchase failed");
            }
            let page = beli_page(
                &svc,
                lang,
                id,
                &csrf,
                Some(refusal(lang, &e)),
                &method,
                e.status(),
            )
            .await;
            res.render(page);
        }
    }
}

fn order_param(req: &Request) -> Option<String> {
    req.param::<String>("order_id")
        .filter(|o| !o.is_empty() && o.len() <= 64)
}

/// The viewer's order for a page, or the page to show instead (log in, or not found).
async fn viewed_order(
    req: &mut Request,
    depot: &Depot,
    res: &mut Response,
) -> Option<(order::Model, Option<String>)> {
    let lang = Lang::of_request(req);
    let token = req.query::<String>("t").filter(|t| !t.is_empty());
    let user = CurrentUser::of(depot).ok();
    let (Some(svc), Some(order_id)) = (service(depot), order_param(req)) else {
        res.render(message_page(
            lang,
            NOT_FOUND,
            NOT_FOUND_BODY.get(lang),
            StatusCode::NOT_FOUND,
        ));
        return None;
    };
    let viewer = Viewer {
        user,
        token: token.as_deref(),
    };
    match svc.order_for_viewer(&order_id, &viewer).await {
        Ok(m) => Some((m, token)),
        Err(PaymentsError::OrderNotFound) if user.is_none() && token.is_none() => {
            let here = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default();
            res.render(Redirect::found(format!(
                "/login?next={}",
                encode_component(&here)
            )));
            None
        }
        Err(PaymentsError::OrderNotFound) => {
            res.render(message_page(
                lang,
                NOT_FOUND,
                NOT_FOUND_BODY.get(lang),
                StatusCode::NOT_FOUND,
            ));
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "order page failed");
            res.render(internal(lang));
            None
        }
    }
}

/// `?t=<token>` or nothing.
fn token_query(token: Option<&str>) -> String {
    token
        .map(|t| format!("?t={}", encode_component(t)))
        .unwrap_or_default()
}

/// `GET /bayar/{order_id}`: the order's state; while pending, how to pay, refreshing itself.
#[handler]
async fn bayar(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let go = req.query::<String>("go").is_some_and(|g| g == "1");
    let Some((m, token)) = viewed_order(req, depot, res).await else {
        return;
    };
    let base = format!("/bayar/{}", encode_component(&m.order_id));
    let query = token_query(token.as_deref());
    let mut view = BayarView::new(
        lang,
        &m,
        format!("{base}{query}"),
        format!("{base}/invoice{query}"),
    );
    // Straight on to the provider's page when it is the only way to pay (after "Pay").
    if go
        && m.status == OrderStatus::Pending
        && m.qr_string.is_none()
        && m.va_number.is_none()
        && m.bill_key.is_none()
    {
        view.go_to_provider = m.redirect_url;
    }
    let title = view.t.title;
    res.render(render(lang, title, view.render_once()));
}

/// `GET /bayar/{order_id}/invoice`: a printable invoice (its own document, with print CSS).
#[handler]
async fn invoice(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let Some((m, _)) = viewed_order(req, depot, res).await else {
        return;
    };
    let nonce = CspNonce::fresh();
    let paid = m.status == OrderStatus::Paid;
    let view = InvoiceView {
        t: InvoiceTexts::new(lang),
        lang: lang.code(),
        nonce: &nonce.0,
        site: "lpsaring",
        order_id: m.order_id.clone(),
        created: time_text(m.created_at),
        paid_at: m.paid_at.map(time_text),
        buyer: m.buyer_name.clone(),
        buyer_phone: m.buyer_phone.clone(),
        item: m.package_name.clone(),
        detail: format!(
            "{} · {}",
            quota_text(lang, m.quota_bytes, m.unlimited),
            validity_text(lang, m.validity_hours)
        ),
        amount: crate::events::rupiah(m.amount),
        method: m.payment_method.clone().or_else(|| m.provider.clone()),
        paid,
        status_word: status_word(lang, m.status),
        status_code: status_code(m.status),
    };
    match view.render_once() {
        Ok(html) => {
            res.render(Text::Html(html));
            res.extensions.insert(nonce);
        }
        Err(e) => {
            tracing::error!(error = %e, "invoice template failed");
            res.render(internal(lang));
        }
    }
}

/// The purchase pages (the service is injected by [`crate::router`]).
pub(crate) fn router() -> Router {
    Router::new()
        .push(Router::with_path("paket").get(paket))
        .push(
            Router::with_path("akun/riwayat")
                .hoop(require_user)
                .get(history::riwayat),
        )
        .push(
            Router::with_path("paket/{id}/beli")
                .hoop(require_user)
                .get(beli)
                .post(beli_submit),
        )
        .push(Router::with_path("bayar/{order_id}").get(bayar))
        .push(Router::with_path("bayar/{order_id}/invoice").get(invoice))
}
