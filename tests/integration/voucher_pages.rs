//! `/admin/vouchers` without JavaScript: a batch created from the form (audited), redeeming one
//! code shows in the batch's `used` column, revoking the rest in `revoked`; the batch list and
//! the codes export as CSV.

use lpsaring_kernel::ports::users::Role;
use lpsaring_tests::TestApp;
use serde_json::Value;

use crate::admin_forms::{FormPage, csv_of, form_page, post_form as post};
use crate::quota::{admin_token, send};
use crate::sales::package;
use crate::vouchers::redeem;

async fn page(app: &TestApp, path: &str, cookies: &str) -> (u16, String) {
    let p = form_page(app, path, cookies).await;
    (p.status, p.html)
}

fn field(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn cell(html: &str, batch: &str, class: &str) -> String {
    let row = &html[html.find(&format!("id=\"batch-{batch}\"")).unwrap()..];
    field(row, &format!("<td class=\"num {class}\">"))
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn admins_create_print_export_and_revoke_voucher_batches_from_the_page() {
    let app = lpsaring_tests::spawn_app().await;
    let admin_json = admin_token(&app).await;
    let (_, admin) = app.logged_in("081100000701", Role::Admin).await;
    let (status, html) = page(&app, "/admin/vouchers", &admin).await;
    assert_eq!(status, 200);
    assert!(html.contains("Belum ada paket yang dijual"), "{html}");
    let package_id = package(&app, &admin_json, "Voucher 1 GB", 5_000)
        .await
        .to_string();

    let FormPage {
        status,
        html,
        cookies,
        token,
    } = form_page(&app, "/admin/vouchers?lang=en", &admin).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("aria-current=\"page\">Vouchers</a>"),
        "{html}"
    );

    let (status, _, html) = post(
        &app,
        "/admin/vouchers?lang=en",
        &cookies,
        &[
            ("csrf", token.as_str()),
            ("package_id", package_id.as_str()),
            ("count", "0"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("Input not valid: count"), "{html}");
    let (status, _, _) = post(
        &app,
        "/admin/vouchers",
        &cookies,
        &[
            ("csrf", "forged"),
            ("package_id", package_id.as_str()),
            ("count", "3"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let (status, to, _) = post(
        &app,
        "/admin/vouchers",
        &cookies,
        &[
            ("csrf", token.as_str()),
            ("package_id", package_id.as_str()),
            ("count", "3"),
            ("prefix", "rt5"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(
        to.starts_with("/admin/vouchers?done=created#batch-"),
        "{to}"
    );
    let batch = to.rsplit("#batch-").next().unwrap().to_owned();

    let (_, html) = page(&app, "/admin/vouchers", &admin).await;
    assert!(
        html.contains(&format!("href=\"/admin/vouchers/{batch}/print\"")),
        "{html}"
    );
    assert_eq!(
        (cell(&html, &batch, "used"), cell(&html, &batch, "revoked")),
        ("0".into(), "0".into())
    );

    // One code redeemed by a user: the batch shows it used.
    let (status, codes) = send(
        app.http
            .get(app.url(&format!("/api/admin/vouchers/{batch}/codes"))),
        Some(&admin_json),
    )
    .await;
    assert_eq!(status, 200, "{codes}");
    let first = codes[0]["code"].as_str().unwrap().to_owned();
    assert!(first.starts_with("RT5"), "{first}");
    let (_, user) = app.bearer_session("081234567701", "Budi", Role::User).await;
    let (status, answer) = redeem(&app, &user, &first).await;
    assert_eq!(status, 200, "{answer}");
    let (_, html) = page(&app, "/admin/vouchers", &admin).await;
    assert_eq!(cell(&html, &batch, "used"), "1");

    // Revoke the rest: audited, counted, and the button gone.
    let (status, to, _) = post(
        &app,
        &format!("/admin/vouchers/{batch}/revoke"),
        &cookies,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!((status, to.as_str()), (303, "/admin/vouchers?done=revoked"));
    let (_, html) = page(&app, "/admin/vouchers", &admin).await;
    assert_eq!(cell(&html, &batch, "revoked"), "2");
    assert!(
        !html.contains(&format!("/admin/vouchers/{batch}/revoke")),
        "{html}"
    );
    let (status, _, _) = post(
        &app,
        "/admin/vouchers/nope/revoke",
        &cookies,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(status, 404);
    for action in ["voucher.batch_created", "voucher.batch_revoked"] {
        let filter = lpsaring_admin::AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        };
        let found = app.app.admin.audit_page(&filter, 1, 10).await.unwrap();
        assert_eq!(found.total, 1, "{action}");
        assert!(found.items[0].actor.is_some(), "{action}");
    }

    // The exports: the batch list and the batch's codes.
    let (header, rows) = csv_of(&app, "/api/admin/vouchers?format=csv", &admin_json).await;
    assert_eq!(header[0], "batch_id");
    assert_eq!(rows.len(), 1);
    assert_eq!((&rows[0][5], &rows[0][6], &rows[0][7]), ("3", "1", "2"));
    let codes = format!("/api/admin/vouchers/{batch}/codes?format=csv");
    assert_eq!(csv_of(&app, &codes, &admin_json).await.1.len(), 3);
    let list: Value = send(
        app.http.get(app.url("/api/admin/vouchers")),
        Some(&admin_json),
    )
    .await
    .1;
    assert_eq!(list[0]["used"], 1);
    app.stop().await;
}
