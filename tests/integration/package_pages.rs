//! `/admin/packages` without JavaScript: create, edit and take off sale through forms carrying
//! the CSRF token, each change audited; the profile field offers the simulator's hotspot
//! profiles read live, and turns into free text with a notice while the router does not answer;
//! `/api/admin/packages?format=csv` exports the list with formulas neutralised.

use lpsaring_kernel::ports::users::Role;
use lpsaring_routeros_sim::Faults;
use lpsaring_tests::{TestApp, count_rows, spawn_app};
use serde_json::{Value, json};

use crate::admin_forms::{FormPage, csv_of, form_page, post_form as post};
use crate::quota::{admin_token, send};
use crate::web::client;

async fn packages(app: &TestApp, admin: &str) -> Vec<Value> {
    let (status, list) = send(app.http.get(app.url("/api/admin/packages")), Some(admin)).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().clone()
}

async fn audited(app: &TestApp, action: &str) -> u64 {
    let filter = lpsaring_admin::AuditFilter {
        action: Some(action.to_owned()),
        ..Default::default()
    };
    app.app
        .admin
        .audit_page(&filter, 1, 10)
        .await
        .unwrap()
        .total
}

#[tokio::test]
async fn admins_create_edit_and_take_packages_off_sale_from_the_page() {
    let app = spawn_app().await;
    app.sim.ensure_profiles(["paket-5gb", "paket-10gb"]);
    let admin_json = admin_token(&app).await;
    let (_, admin) = app.logged_in("081100000601", Role::Admin).await;
    let FormPage {
        html,
        cookies,
        token,
        ..
    } = form_page(&app, "/admin/packages", &admin).await;
    assert!(html.contains("aria-current=\"page\">Paket</a>"), "{html}");
    assert!(html.contains("<select id=\"hotspot_profile\""), "{html}");
    assert!(
        html.contains("<option value=\"paket-10gb\">paket-10gb</option>"),
        "{html}"
    );
    assert!(!html.contains("profiles-down"));

    let good = [
        ("csrf", token.as_str()),
        ("name", "5 GB mingguan"),
        ("price", "25.000"),
        ("quota_gb", "5"),
        ("validity", "7"),
        ("validity_unit", "days"),
        ("hotspot_profile", "paket-5gb"),
        ("sort_order", "1"),
        ("is_active", "1"),
    ];
    // A forged token and a field that does not parse write nothing; the form keeps what was typed.
    let mut forged = good;
    forged[0].1 = "forged";
    let (status, _, _) = post(&app, "/admin/packages", &cookies, &forged).await;
    assert_eq!(status, 403);
    let mut bad = good;
    bad[2].1 = "dua puluh";
    let (status, _, html) = post(&app, "/admin/packages?lang=en", &cookies, &bad).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("Input not valid: price") && html.contains("value=\"5 GB mingguan\""),
        "{html}"
    );
    assert_eq!(count_rows(&app.app.db, "packages").await, 0);

    let (status, to, _) = post(&app, "/admin/packages", &cookies, &good).await;
    assert_eq!((status, to.as_str()), (303, "/admin/packages?done=created"));
    let list = packages(&app, &admin_json).await;
    assert_eq!(list.len(), 1);
    let p = &list[0];
    assert_eq!(
        (p["price"].as_i64(), p["quota_bytes"].as_i64()),
        (Some(25_000), Some(5 << 30))
    );
    assert_eq!(
        (p["validity_hours"].as_i64(), p["hotspot_profile"].as_str()),
        (Some(168), Some("paket-5gb"))
    );
    assert_eq!(audited(&app, "package.create").await, 1);
    let id = p["id"].as_i64().unwrap();

    // The same name again: refused with the reason.
    let (status, _, html) = post(&app, "/admin/packages", &cookies, &good).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("Sudah ada paket dengan nama itu."), "{html}");

    // Edit: the form holds the stored values; an unlimited 3-hour package saved.
    let (status, html) = {
        let res = client()
            .get(app.url(&format!("/admin/packages/{id}")))
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    };
    assert_eq!(status, 200);
    assert!(
        html.contains("value=\"25000\"") && html.contains("<option value=\"paket-5gb\" selected>"),
        "{html}"
    );
    let id_path = format!("/admin/packages/{id}");
    let edit = [
        ("csrf", token.as_str()),
        ("name", "Malam tanpa batas"),
        ("price", "10000"),
        ("unlimited", "1"),
        ("validity", "3"),
        ("validity_unit", "hours"),
        ("hotspot_profile", ""),
        ("is_active", "1"),
    ];
    let (status, to, _) = post(&app, &id_path, &cookies, &edit).await;
    assert_eq!((status, to.as_str()), (303, "/admin/packages?done=updated"));
    let p = &packages(&app, &admin_json).await[0];
    assert_eq!(
        (
            p["name"].as_str(),
            p["unlimited"].as_bool(),
            p["validity_hours"].as_i64()
        ),
        (Some("Malam tanpa batas"), Some(true), Some(3))
    );
    assert!(p["hotspot_profile"].is_null(), "{p}");
    assert_eq!(audited(&app, "package.update").await, 1);

    // Off sale.
    let (status, to, _) = post(
        &app,
        &format!("{id_path}/deactivate"),
        &cookies,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/admin/packages?done=deactivated")
    );
    assert_eq!(packages(&app, &admin_json).await[0]["is_active"], false);
    assert_eq!(audited(&app, "package.deactivate").await, 1);
    let (status, _, _) = post(
        &app,
        "/admin/packages/999999/deactivate",
        &cookies,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(status, 404);

    // The JSON CRUD is audited too, and the CSV neutralises a formula name.
    let body =
        json!({"name": "=SUM(A1)", "price": 1000, "quota_bytes": 1 << 30, "validity_hours": 24});
    let (status, _) = send(
        app.http.post(app.url("/api/admin/packages")).json(&body),
        Some(&admin_json),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(audited(&app, "package.create").await, 2);
    let (header, rows) = csv_of(&app, "/api/admin/packages?format=csv", &admin_json).await;
    assert_eq!(header[1], "name");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|r| &r[1] == "'=SUM(A1)"), "{rows:?}");

    // A router that does not answer: the field is free text, with a notice.
    app.sim.set_fault(Faults {
        silent: true,
        ..Faults::default()
    });
    let res = client()
        .get(app.url("/admin/packages?lang=en"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"profiles-down\"") && html.contains("type the profile"),
        "{html}"
    );
    assert!(html.contains("<input id=\"hotspot_profile\""), "{html}");
    app.sim.set_fault(Faults::default());
    app.stop().await;
}
