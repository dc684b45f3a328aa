//! The quota adjustment as a form of the users area (`POST /admin/users/{id}/quota`, from the
//! rows of auth's `/admin/users`): GiB and days added (negative: taken back) with a reason, the
//! same [`Adjustments::adjust`] as the JSON. Success goes back to the list with a notice; a
//! refusal is a readable page in the panel's frame with the way back.

use std::sync::Arc;

use lpsaring_kernel::admin_shell::admin_page;
use lpsaring_kernel::ui::format::parse_gib;
use lpsaring_kernel::web::{
    CSRF_FIELD, CurrentUser, area_back, client_ip, return_path, verify_form_token,
};
use lpsaring_kernel::{ApiError, Lang, Text, UserId};
use salvo::http::StatusCode;
use salvo::prelude::*;
use salvo::writing::Redirect;

use crate::adjust::{AdjustIn, Adjustments};
use crate::error::QuotaError;

const AREA: &str = "/admin/users";

const TITLE: Text = Text::new("Sesuaikan kuota", "Adjust quota");
const BACK: Text = Text::new("Kembali ke daftar pengguna", "Back to the users");
const BAD_NUMBER: Text = Text::new(
    "GiB dan hari harus berupa angka.",
    "GiB and days must be numbers.",
);
const FORM_EXPIRED: Text = Text::new(
    "Formulir kedaluwarsa. Silakan coba lagi.",
    "The form has expired. Please try again.",
);
const FAILED: Text = Text::new("Tidak dapat disimpan sekarang.", "Cannot save right now.");

fn refused(res: &mut Response, lang: Lang, message: &str, back: &str, status: StatusCode) {
    let body = format!(
        "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p><a class=\"btn\" href=\"{}\">{}</a>",
        TITLE.get(lang),
        lpsaring_kernel::ui::escape(message),
        lpsaring_kernel::ui::escape(back),
        BACK.get(lang)
    );
    res.render(admin_page(lang, AREA, TITLE.get(lang), &body).with_status(status));
}

/// `POST /admin/users/{id}/quota`.
#[handler]
pub(crate) async fn adjust_form(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let lang = Lang::of_request(req);
    let token = req.form::<String>(CSRF_FIELD).await.unwrap_or_default();
    let gib = req.form::<String>("gib").await.unwrap_or_default();
    let days = req.form::<String>("days").await.unwrap_or_default();
    let reason = req.form::<String>("reason").await.unwrap_or_default();
    let back = req.form::<String>("back").await;
    let list = area_back(back.as_deref(), AREA).to_owned();
    if !verify_form_token(depot, &token) {
        return refused(
            res,
            lang,
            FORM_EXPIRED.get(lang),
            &list,
            StatusCode::FORBIDDEN,
        );
    }
    let days = if days.trim().is_empty() {
        Some(0)
    } else {
        days.trim().parse::<i64>().ok()
    };
    let (Some(bytes), Some(days)) = (parse_gib(&gib), days) else {
        return refused(
            res,
            lang,
            BAD_NUMBER.get(lang),
            &list,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let input = AdjustIn {
        bytes,
        days,
        reason,
    };
    let done = async {
        let caller = CurrentUser::admin(depot).map_err(|e| ApiError::from(&e))?;
        let target = req
            .param::<i64>("id")
            .map(UserId)
            .ok_or_else(|| ApiError::from(&QuotaError::UserNotFound))?;
        let svc = depot
            .get_typed::<Arc<Adjustments>>()
            .cloned()
            .map_err(|_| ApiError::internal(&"quota adjustments missing from the depot"))?;
        let ip = client_ip(depot).map(|ip| ip.to_string());
        svc.adjust((caller.id, caller.role), target, &input, ip)
            .await
            .map_err(|e| ApiError::from(&e))
    }
    .await;
    match done {
        Ok(_) => res.render(Redirect::other(return_path(back.as_deref(), AREA, "quota"))),
        Err(e) if e.status.is_server_error() => {
            tracing::error!(code = %e.code, cause = ?e.cause, "quota adjustment failed");
            refused(res, lang, FAILED.get(lang), &list, e.status);
        }
        Err(e) => refused(res, lang, &e.message, &list, e.status),
    }
}

/// Quota's side of [`lpsaring_kernel::ports::grants::AdminGrants`]: the same audited adjustment.
#[async_trait]
impl lpsaring_kernel::ports::grants::AdminGrants for Adjustments {
    async fn grant(
        &self,
        actor: (UserId, lpsaring_kernel::ports::users::Role),
        user: UserId,
        bytes: i64,
        days: i64,
        reason: &str,
        ip: Option<String>,
    ) -> Result<(), ApiError> {
        let input = AdjustIn {
            bytes,
            days,
            reason: reason.to_owned(),
        };
        self.adjust(actor, user, &input, ip)
            .await
            .map(|_| ())
            .map_err(|e| ApiError::from(&e))
    }
}
