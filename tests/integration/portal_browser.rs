//! The user's portal in a real headless Chromium, on a phone (390×844) and a laptop
//! (1280×800): the captive login hands the session to a second browser through the connected
//! page's "open in browser" link, and that browser's dashboard shows what the first one sees;
//! a device is renamed and removed (its router rows go); a sandbox purchase shows in the
//! purchases list; every portal page switches language; dark mode renders. On every page: no
//! console error, no failed request, no sideways scrolling. One chromedriver for it all.
//! Skips (or fails under `LPSARING_REQUIRE_PEERS=1`) without chromedriver.

use std::path::PathBuf;
use std::sync::Arc;

use lpsaring_kernel::Phone;
use lpsaring_routeros_sim::Menu;
use lpsaring_tests::TestApp;

use crate::browser::{PHONE, ask_for_a_code, captive_path, submit_code};
use crate::payments::{create_package, sandbox_app};
use crate::quota::admin_token;
use crate::webdriver::{Browser, Driver, ONE_BROWSER, Screen, driver_binary};

const PAGES: [&str; 4] = ["/akun", "/akun/perangkat", "/akun/riwayat", "/akun/profil"];
/// `--body` background in the light and the dark scheme (`app.css`).
const LIGHT_BG: &str = "rgb(244, 246, 248)";
const DARK_BG: &str = "rgb(16, 20, 24)";

/// Where the screenshots go: `LPSARING_SCREENSHOT_DIR`, else a folder under the system's temp.
fn shots_dir(screen: Screen) -> PathBuf {
    let base = std::env::var_os("LPSARING_SCREENSHOT_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(
            || std::env::temp_dir().join("lpsaring-portal"),
            PathBuf::from,
        );
    let dir = base.join(format!("{}x{}", screen.width, screen.height));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// The page now shown has no console error, no failed request and no sideways scroll.
async fn page_is_clean(browser: &Browser, what: &str) {
    let problems = browser.problems().await;
    assert!(problems.is_empty(), "{what}: {problems:#?}");
    let (fits, measured) = browser.fits_the_width().await;
    assert!(fits, "{what} scrolls sideways: {measured}");
}

async fn visit(browser: &Browser, app: &TestApp, path: &str) {
    browser.goto(&app.url(path)).await;
    browser.element("main, body").await;
    page_is_clean(browser, path).await;
}

/// `(status, purchased, used)` as the dashboard shows them.
async fn dashboard_figures(browser: &Browser) -> (String, String, String) {
    let status = browser
        .element("#status")
        .await
        .attr("data-status")
        .await
        .unwrap()
        .unwrap_or_default();
    let purchased = browser.element("#purchased").await.text().await.unwrap();
    let used = browser.element("#used").await.text().await.unwrap();
    (status, purchased, used)
}

async fn computed_background(browser: &Browser) -> String {
    browser
        .client()
        .execute(
            "return getComputedStyle(document.body).backgroundColor;",
            Vec::new(),
        )
        .await
        .expect("computed style")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn binding_rows(app: &TestApp, mac: &str) -> usize {
    app.router_rows(Menu::IpBinding)
        .iter()
        .filter(|r| r.get("mac-address") == Some(mac))
        .count()
}

/// Taps a form's submit button whose form asks `confirm()` first, and accepts the dialog.
async fn tap_and_confirm(browser: &Browser, css: &str) {
    browser.tap(css).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while browser.client().accept_alert().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "no confirm dialog after `{css}`"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn journeys(driver: &Arc<Driver>, screen: Screen, mac: &str, ip: &str) {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB 30 hari").await;
    app.user_with_quota(PHONE, true).await;
    let phone = Phone::parse(PHONE).unwrap();
    app.phone_on_hotspot(mac, ip);
    let shots = shots_dir(screen);

    // The captive mini-browser: log in, land on the connected page.
    let captive = Browser::open_on(driver, true, screen).await;
    let code = ask_for_a_code(&captive, &app, &phone, &captive_path(ip, mac, "")).await;
    page_is_clean(&captive, "the code form").await;
    submit_code(&captive, &code).await;
    captive.text_containing("h1", "Terhubung").await;
    page_is_clean(&captive, "the connected page").await;
    let shot = captive.screenshot(&shots, "connected.png").await;
    println!("connected page: {}", shot.display());
    let handoff = captive
        .element("#open-account")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("the open-in-browser link");
    assert!(handoff.starts_with("/session/consume?token="), "{handoff}");

    // The real browser opens the link: a session of its own, on the dashboard.
    let real = Browser::open_on(driver, true, screen).await;
    visit(&real, &app, &handoff).await;
    real.element("#status").await;
    let shot = real.screenshot(&shots, "dashboard.png").await;
    println!("dashboard: {}", shot.display());
    let seen_by_real = dashboard_figures(&real).await;
    visit(&captive, &app, "/akun").await;
    assert_eq!(dashboard_figures(&captive).await, seen_by_real);
    assert_eq!(seen_by_real.0, "ok");
    assert!(seen_by_real.1.contains("5 GB"), "{seen_by_real:?}");
    captive.quit().await;

    // Devices: rename, then remove; the router rows go with it.
    visit(&real, &app, "/akun/perangkat").await;
    real.type_into("#devices input[name=label]", "HP Budi")
        .await;
    real.tap("#devices form[action$='/nama'] button[type=submit]")
        .await;
    real.text_containing("#devices", "HP Budi").await;
    page_is_clean(&real, "the devices page after a rename").await;
    assert_eq!(binding_rows(&app, mac), 1);
    tap_and_confirm(&real, "#devices form[action$='/hapus'] button[type=submit]").await;
    real.text_containing("main", "Perangkat dihapus").await;
    page_is_clean(&real, "the devices page after a removal").await;
    assert_eq!(binding_rows(&app, mac), 0, "the ip-binding is gone");
    assert!(
        app.app.devices.all().await.unwrap().is_empty(),
        "the device is gone"
    );

    // A sandbox purchase, then the purchases list.
    visit(&real, &app, "/paket").await;
    real.tap(&format!("#package-{package_id} a.btn")).await;
    real.text_containing(".card", "Rp 50.000").await;
    real.tap("button#pay").await;
    real.text_containing("h1", "Checkout sandbox").await;
    real.tap("form button[type=submit]").await;
    real.text_containing("#status", "Lunas").await;
    visit(&real, &app, "/akun/riwayat").await;
    let orders = real.text_containing("#orders", "Lunas").await;
    assert!(orders.contains("5 GB 30 hari"), "{orders}");
    assert!(orders.contains("Rp 50.000"), "{orders}");

    // Every portal page switches language and back.
    for page in PAGES {
        visit(&real, &app, page).await;
        real.element("html[lang=id]").await;
        real.tap("a[href='/lang/en']").await;
        real.element("html[lang=en]").await;
        page_is_clean(&real, &format!("{page} in English")).await;
        assert!(
            real.client().current_url().await.unwrap().path() == page,
            "the switch stays on {page}"
        );
        real.tap("a[href='/lang/id']").await;
        real.element("html[lang=id]").await;
    }
    assert_eq!(computed_background(&real).await, LIGHT_BG);
    real.quit().await;

    // Dark mode: the same pages on a browser that prefers dark.
    let dark = Browser::open_on(driver, true, screen.dark()).await;
    visit(&dark, &app, "/login").await;
    let prefers_dark = dark
        .client()
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(prefers_dark, true, "the browser prefers dark");
    assert_eq!(computed_background(&dark).await, DARK_BG);
    dark.screenshot(&shots, "login-dark.png").await;
    dark.quit().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_journeys_on_a_phone_and_a_laptop() {
    let Some(binary) = driver_binary() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let driver = Arc::new(Driver::start(&binary).await);
    journeys(&driver, Screen::PHONE, "02:00:00:00:80:01", "10.5.50.81").await;
    journeys(&driver, Screen::DESKTOP, "02:00:00:00:80:02", "10.5.50.82").await;
}
