//! The voucher login in a real headless Chromium with JavaScript off, as in a captive
//! mini-browser on a phone without WhatsApp: "Saya punya voucher" unfolds (a plain `<details>`),
//! a wrong code is shown in place with the code kept, the right one logs in and the router lets
//! the phone online. Skips (or fails under `LPSARING_REQUIRE_PEERS=1`) without chromedriver.

use serde_json::json;

use crate::browser::{
    Browser, ONE_BROWSER, assert_online, captive_path, driver_binary, screenshot_dir,
};
use crate::payments::{app, create_package};
use crate::quota::admin_token;
use crate::vouchers::{codes_of, create_batch};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_without_whatsapp_logs_in_with_a_voucher_in_the_mini_browser() {
    let Some(driver) = driver_binary() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let app = app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB voucher").await;
    let (_, batch) =
        create_batch(&app, &admin, json!({"package_id": package_id, "count": 1})).await;
    let code = codes_of(&batch).remove(0);
    let (mac, ip) = ("02:00:00:00:00:41", "10.5.50.41");
    app.phone_on_hotspot(mac, ip);
    let shots = screenshot_dir(&app, "voucher");
    let browser = Browser::open(&driver, false).await;

    browser.goto(&app.url(&captive_path(ip, mac, ""))).await;
    browser.tap("#voucher summary").await;
    browser.type_into("#voucher_code", "V-AAAAA-AAAAA").await;
    browser
        .tap("form[action$='/voucher'] button[type=submit]")
        .await;
    browser
        .text_containing("[role=alert]", "Kode voucher tidak dikenal")
        .await;
    browser.screenshot(&shots, "voucher-wrong.png").await;

    browser.type_into("#voucher_code", &code).await;
    browser
        .tap("form[action$='/voucher'] button[type=submit]")
        .await;
    browser.text_containing("h1", "Terhubung").await;
    browser.screenshot(&shots, "voucher-connected.png").await;
    assert_online(&app, &browser, mac, ip).await;
    browser.quit().await;
    app.stop().await;
}
