//! The quota adjustment as a form of the users area (`POST /admin/users/{id}/quota`, from the
//! rows of auth's `/admin/users`): GiB and days added (negative: taken back) with a reason, the
//! same [`Adjustments::adjust`] as the JSON. Success goes back to the list with a notice; a
//! refusal is a readable page in the panel's frame with the way back.

use std::sync::Arc;

use lpsaring_kernel::admin_shell::admin_page;
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
/// More than a million GiB at once is a typo.
const MAX_GIB: f64 = 1_048_576.0;

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

/// Whole GiB (or a fraction) typed by an admin, as bytes; `None` when not a number or too big.
pub(crate) fn gib_to_bytes(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let gib: f64 = if text.is_empty() {
        0.0
    } else {
        text.parse().ok()?
    };
    (gib.is_finite() && gib.abs() <= MAX_GIB).then(|| (gib * (1u64 << 30) as f64).round() as i64)
}

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
    let (Some(bytes), Some(days)) = (gib_to_bytes(&gib), days) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gib_as_typed_becomes_bytes() {
        assert_eq!(gib_to_bytes("5"), Some(5 << 30));
        assert_eq!(gib_to_bytes("-1,5"), Some(-(3 << 29)));
        assert_eq!(gib_to_bytes(""), Some(0));
        assert_eq!(gib_to_bytes("lima"), None);
        assert_eq!(gib_to_bytes("1e300"), None);
        assert_eq!(gib_to_bytes("NaN"), None);
    }
}
