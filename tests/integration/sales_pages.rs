//! The sales pages (`/admin/sales`, one order, the cash-sale form, the revenue report) without
//! JavaScript: filters and CSV links, the CSRF token on every form, "reconcile now" for admins,
//! the refund for super admins only, and both languages.

use lpsaring_kernel::ports::users::Role;
use lpsaring_tests::{TestApp, count_rows};

use crate::admin_forms::{FormPage, form_page, post_form};
use crate::payments::sandbox_app;
use crate::quota::admin_token;
use crate::sales::{CUSTOMER, FORMULA, FORMULA_BUYER, package, sale};

async fn page(app: &TestApp, path: &str, cookies: &str) -> (u16, String) {
    let p = form_page(app, path, cookies).await;
    (p.status, p.html)
}

#[tokio::test]
async fn the_sales_pages_list_show_and_act_without_javascript() {
    let app = sandbox_app().await;
    let admin_json = admin_token(&app).await;
    let small = package(&app, &admin_json, "1 GB harian", 5_000).await;
    app.bearer_session(CUSTOMER, "Budi", Role::User).await;
    app.bearer_session(FORMULA_BUYER, FORMULA, Role::User).await;
    let first = sale(&app, &admin_json, FORMULA_BUYER, small, "cash").await;
    let first_id = first["order_id"].as_str().unwrap().to_owned();
    let (_, admin) = app.logged_in("081100000501", Role::Admin).await;
    let (_, owner) = app.logged_in("081100000502", Role::SuperAdmin).await;

    // The list: filters kept in the pager and the CSV link; the formula name escaped.
    let (status, html) = page(&app, "/admin/sales?status=paid&per_page=1", &admin).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<strong id=\"sales-total\">1</strong>"),
        "{html}"
    );
    assert!(
        html.contains("/api/admin/transactions?format=csv&amp;status=paid&amp;per_page=1"),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"/admin/sales/{first_id}\"")));
    assert!(html.contains("=HYPERLINK(&quot;"), "{html}");
    assert!(html.contains("aria-current=\"page\">Penjualan</a>"));
    assert!(html.contains("<option value=\"paid\" selected>"), "{html}");
    let (status, html) = page(&app, "/admin/sales?status=nope", &admin).await;
    assert_eq!(status, 400);
    assert!(html.contains("class=\"error\""), "{html}");

    // The cash-sale form: the token is required, bad input is re-shown, a good one recorded.
    let FormPage {
        html,
        cookies,
        token,
        ..
    } = form_page(&app, "/admin/sales/new?lang=en", &admin).await;
    assert!(html.contains("Record and grant the package"), "{html}");
    let sold_before = count_rows(&app.app.db, "transactions").await;
    let small_id = small.to_string();
    let (status, _, _) = post_form(
        &app,
        "/admin/sales/new",
        &cookies,
        &[
            ("csrf", "forged"),
            ("phone", CUSTOMER),
            ("package_id", small_id.as_str()),
            ("method", "cash"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, html) = post_form(
        &app,
        "/admin/sales/new?lang=en",
        &cookies,
        &[
            ("csrf", token.as_str()),
            ("phone", "081299999999"),
            ("package_id", small_id.as_str()),
            ("method", "cash"),
        ],
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        html.contains("No user has that number.") && html.contains("value=\"081299999999\""),
        "{html}"
    );
    assert_eq!(count_rows(&app.app.db, "transactions").await, sold_before);
    let (status, to, _) = post_form(
        &app,
        "/admin/sales/new",
        &cookies,
        &[
            ("csrf", token.as_str()),
            ("phone", CUSTOMER),
            ("package_id", small_id.as_str()),
            ("method", "transfer"),
            ("note", "BRI"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(
        to.starts_with("/admin/sales/") && to.ends_with("?done=recorded"),
        "{to}"
    );
    let (status, html) = page(&app, &to, &admin).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"notice\"") && html.contains("transfer") && html.contains("BRI"),
        "{html}"
    );
    assert!(html.contains("<td>recorded</td>"), "{html}");
    assert!(
        !html.contains("/refund\""),
        "a plain admin gets no refund form"
    );
    let order_id = to
        .trim_start_matches("/admin/sales/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();

    // Reconcile now: audited, back on the order's page.
    let audit_before = count_rows(&app.app.db, "audit_log").await;
    let (status, _, _) = post_form(
        &app,
        &format!("/admin/sales/{order_id}/reconcile"),
        &cookies,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(count_rows(&app.app.db, "audit_log").await, audit_before + 1);

    // The refund: a plain admin is refused; the super admin's form refunds.
    let (status, _, _) = post_form(
        &app,
        &format!("/admin/sales/{order_id}/refund"),
        &cookies,
        &[("csrf", token.as_str()), ("reason", "salah")],
    )
    .await;
    assert_eq!(status, 403);
    let FormPage {
        html,
        cookies: owner_cookies,
        token: owner_token,
        ..
    } = form_page(&app, &format!("/admin/sales/{order_id}"), &owner).await;
    assert!(
        html.contains(&format!("action=\"/admin/sales/{order_id}/refund\"")),
        "{html}"
    );
    let (status, _, _) = post_form(
        &app,
        &format!("/admin/sales/{order_id}/refund"),
        &owner_cookies,
        &[("csrf", owner_token.as_str()), ("reason", "")],
    )
    .await;
    assert_eq!(status, 422);
    let (status, _, _) = post_form(
        &app,
        &format!("/admin/sales/{order_id}/refund"),
        &owner_cookies,
        &[("csrf", owner_token.as_str()), ("reason", "salah paket")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &format!("/admin/sales/{order_id}?lang=en"), &owner).await;
    assert!(
        html.contains("id=\"order-status\">Refunded</span>"),
        "{html}"
    );
    assert!(
        html.contains("The order was refunded.") || html.contains("<td>refunded</td>"),
        "{html}"
    );
    let (status, _) = page(&app, "/admin/sales/LPS-000000000000", &admin).await;
    assert_eq!(status, 404);

    // The revenue report in both languages, and a range it refuses.
    let (status, html) = page(&app, "/admin/sales/revenue", &admin).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Laporan pendapatan") && html.contains("<b id=\"revenue-orders\">1</b>"),
        "{html}"
    );
    assert!(
        html.contains("/api/admin/transactions/revenue?format=csv&amp;from="),
        "{html}"
    );
    assert!(html.contains("<svg"), "the chart: {html}");
    let (status, html) = page(
        &app,
        "/admin/sales/revenue?lang=en&from=2026-02-01&to=2026-01-01",
        &admin,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Revenue report") && html.contains("class=\"error\""),
        "{html}"
    );
    app.stop().await;
}
