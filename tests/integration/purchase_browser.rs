//! The purchase journey in a real headless Chromium with JavaScript off, as in a captive
//! mini-browser: a user out of quota logs in on the hotspot, follows "Beli paket" to the shop,
//! buys, pays on the sandbox checkout, lands on a paid status page, and the router lets them
//! back online. Skips (or fails under `LPSARING_REQUIRE_PEERS=1`) without chromedriver.

use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;
use lpsaring_routeros_sim::Menu;

use crate::browser::{
    Browser, ONE_BROWSER, PHONE, captive_path, code_for, driver_binary, screenshot_dir,
};
use crate::payments::{create_package, sandbox_app};
use crate::quota::admin_token;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_habis_user_buys_a_package_in_the_mini_browser_and_is_back_online() {
    let Some(driver) = driver_binary() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB 30 hari").await;
    let phone = Phone::parse(PHONE).unwrap();
    let user = app
        .app
        .users
        .create(&phone, "Budi", true, Role::User)
        .await
        .unwrap();
    let (mac, ip) = ("02:00:00:00:00:31", "10.5.50.31");
    app.phone_on_hotspot(mac, ip);
    let shots = screenshot_dir(&app, "purchase");
    let browser = Browser::open(&driver, false).await;

    // Log in on the hotspot: no quota, so the connected page says so and offers the shop.
    browser.goto(&app.url(&captive_path(ip, mac, ""))).await;
    browser.type_into("#phone_number", PHONE).await;
    browser
        .tap("form[action$='/request'] button[type=submit]")
        .await;
    browser.element("#otp").await;
    let code = code_for(&app, &phone).await;
    browser.type_into("#otp", &code).await;
    browser
        .tap("form[action$='/verify'] button[type=submit]")
        .await;
    browser.text_containing("h1", "Kuota habis").await;
    let binding = |app: &lpsaring_tests::TestApp| {
        app.router_rows(Menu::IpBinding)
            .iter()
            .find(|r| r.get("mac-address") == Some(mac))
            .and_then(|r| r.get("type").map(str::to_owned))
    };
    assert_eq!(binding(&app).as_deref(), Some("regular"));

    // The shop, the package, how to pay.
    browser.tap("a#buy").await;
    browser.text_containing("h1", "Beli paket").await;
    browser.screenshot(&shots, "paket.png").await;
    browser.tap(&format!("#package-{package_id} a.btn")).await;
    browser.text_containing(".card", "Rp 50.000").await;
    browser.screenshot(&shots, "beli.png").await;
    browser.tap("button#pay").await;

    // The status page goes on to the sandbox checkout by itself; Pay there.
    browser.text_containing("h1", "Checkout sandbox").await;
    browser.tap("form button[type=submit]").await;

    // Back on the status page: paid.
    browser.text_containing("#status", "Lunas").await;
    browser
        .text_containing(".card", "Kuota sudah ditambahkan")
        .await;
    browser.screenshot(&shots, "bayar-lunas.png").await;
    assert_eq!(
        app.app.quota.show(user.id).await.unwrap().purchased_bytes,
        5 << 30
    );
    assert_eq!(binding(&app).as_deref(), Some("bypassed"));
    browser.quit().await;
    app.stop().await;
}
