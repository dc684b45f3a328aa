//! The operator's sales journey in a real headless Chromium with JavaScript off, on a laptop
//! (1280×800) and on a phone (390×844): the admin creates a package on `/admin/packages`, a
//! user buys it through the shop and pays on the sandbox checkout, and the sale shows in
//! `/admin/sales` and the revenue report; the admin creates a voucher batch on
//! `/admin/vouchers`, a phone redeems one code on the captive page, and the batch shows it
//! used. Skips (or fails under `LPSARING_REQUIRE_PEERS=1`) without chromedriver.

use lpsaring_kernel::ports::users::Role;
use lpsaring_tests::TestApp;
use serde_json::Value;

use crate::browser::{Browser, ONE_BROWSER, captive_path, driver_binary, screenshot_dir};
use crate::payments::sandbox_app;
use crate::quota::{admin_token, send};

const SCREENS: [(&str, (u32, u32), &str); 2] =
    [("laptop", (1280, 800), "1"), ("phone", (390, 844), "2")];

/// The id of the package named `name`, as the admin JSON lists it.
async fn package_id(app: &TestApp, admin: &str, name: &str) -> i64 {
    let (_, list) = send(app.http.get(app.url("/api/admin/packages")), Some(admin)).await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {list}"))["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sells_a_package_and_a_voucher_batch_on_a_laptop_and_a_phone() {
    let Some(driver) = driver_binary() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let app = sandbox_app().await;
    let admin_json = admin_token(&app).await;
    let (_, admin) = app.logged_in("081100000901", Role::Admin).await;
    let shots = screenshot_dir(&app, "admin");
    for (screen, size, n) in SCREENS {
        let browser = Browser::open_sized(&driver, false, size).await;
        let name = format!("Paket {screen}");
        browser.goto(&app.url("/admin/packages")).await;
        browser.use_cookies(&admin).await;

        // The admin creates the package.
        browser.goto(&app.url("/admin/packages")).await;
        browser.type_into("#name", &name).await;
        browser.type_into("#price", "20000").await;
        browser.type_into("#quota_gb", "2").await;
        browser.type_into("#validity", "7").await;
        browser.tap("#new-package button[type=submit]").await;
        browser.text_containing("#notice", "Paket dibuat").await;
        browser.text_containing("#packages", &name).await;
        browser
            .screenshot(&shots, &format!("{screen}-packages.png"))
            .await;
        let id = package_id(&app, &admin_json, &name).await;

        // A user buys it in the shop and pays on the sandbox checkout.
        let (_, buyer) = app.logged_in(&format!("08123456790{n}"), Role::User).await;
        browser.use_cookies(&buyer).await;
        browser.goto(&app.url("/paket")).await;
        browser.tap(&format!("#package-{id} a.btn")).await;
        browser.text_containing(".card", "Rp 20.000").await;
        browser.tap("button#pay").await;
        browser.text_containing("h1", "Checkout sandbox").await;
        browser.tap("form button[type=submit]").await;
        browser.text_containing("#status", "Lunas").await;

        // The sale in the admin's list and in the revenue report.
        browser.use_cookies(&admin).await;
        browser
            .goto(&app.url(&format!("/admin/sales?package={id}")))
            .await;
        browser.text_containing("#sales-total", "1").await;
        browser.text_containing("#sales", &name).await;
        browser.text_containing("#sales", "Lunas").await;
        browser
            .screenshot(&shots, &format!("{screen}-sales.png"))
            .await;
        browser.goto(&app.url("/admin/sales/revenue")).await;
        browser.text_containing("#by-package", &name).await;
        browser
            .screenshot(&shots, &format!("{screen}-revenue.png"))
            .await;

        // A voucher batch of that package, one code redeemed on the captive page.
        browser.goto(&app.url("/admin/vouchers")).await;
        browser
            .element("#package_id")
            .await
            .select_by_value(&id.to_string())
            .await
            .expect("choose the package");
        browser.type_into("#count", "2").await;
        browser.type_into("#prefix", &format!("V{n}")).await;
        browser.tap("#new-batch button[type=submit]").await;
        browser.text_containing("#notice", "Voucher dibuat").await;
        let (_, batches) = send(
            app.http.get(app.url("/api/admin/vouchers")),
            Some(&admin_json),
        )
        .await;
        let ours = batches
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["prefix"] == format!("V{n}"))
            .unwrap_or_else(|| panic!("batch V{n} in {batches}"));
        assert_eq!(ours["package_id"], id, "{batches}");
        let batch = ours["batch_id"].as_str().unwrap().to_owned();
        let (_, codes) = send(
            app.http
                .get(app.url(&format!("/api/admin/vouchers/{batch}/codes"))),
            Some(&admin_json),
        )
        .await;
        let code = codes[0]["code"].as_str().unwrap().to_owned();
        let (mac, ip) = (format!("02:00:00:00:09:0{n}"), format!("10.5.50.9{n}"));
        app.phone_on_hotspot(&mac, &ip);
        browser.use_cookies("").await;
        browser.goto(&app.url(&captive_path(&ip, &mac, ""))).await;
        browser.tap("#voucher summary").await;
        browser.type_into("#voucher_code", &code).await;
        browser
            .tap("form[action$='/voucher'] button[type=submit]")
            .await;
        browser.text_containing("h1", "Terhubung").await;

        browser.use_cookies(&admin).await;
        browser.goto(&app.url("/admin/vouchers")).await;
        browser
            .text_containing(&format!("#batch-{batch} td.used"), "1")
            .await;
        browser
            .screenshot(&shots, &format!("{screen}-vouchers.png"))
            .await;
        let list: Value = send(
            app.http.get(app.url("/api/admin/vouchers")),
            Some(&admin_json),
        )
        .await
        .1;
        let used = list
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["batch_id"] == batch.as_str());
        assert_eq!(used.unwrap()["used"], 1, "{list}");
        browser.quit().await;
    }
    app.stop().await;
}
