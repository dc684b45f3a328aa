//! The captive journey in a real headless Chromium driven over WebDriver (chromedriver), on a
//! phone-sized screen, with JavaScript disabled and enabled.
//!
//! Runs only when `LPSARING_CHROMEDRIVER` names a chromedriver binary (CI sets it; `.ci/run`
//! installs Debian's `chromium` and `chromium-driver`); otherwise each test prints
//! `SKIP <test>: <reason>` on stderr, or fails under `LPSARING_REQUIRE_PEERS=1`.
//! `LPSARING_CHROMIUM` overrides the browser binary (default `/usr/bin/chromium`), and
//! `LPSARING_SCREENSHOT_DIR` keeps the screenshots somewhere that outlives the test.
//! All traffic stays on 127.0.0.1: the app, the RouterOS simulator and chromedriver.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers stop a test loudly on a failed step, like the tests themselves"
)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;
use lpsaring_quota::api::{Grant, GrantSource};
use lpsaring_routeros_sim::{Menu, Row};
use lpsaring_tests::{TestApp, spawn_app};

pub(crate) use crate::webdriver::{Browser, ONE_BROWSER, driver_binary};
use crate::webdriver::{POLL, WAIT};

const SCREENSHOT_ENV: &str = "LPSARING_SCREENSHOT_DIR";
pub(crate) const PHONE: &str = "081234567890";

/// An approved user with 5 GiB for 30 days (one without quota is `habis`, bound `regular`).
async fn approved_user(app: &TestApp) -> Phone {
    let phone = Phone::parse(PHONE).unwrap();
    let user = app
        .app
        .users
        .create(&phone, "Budi", true, Role::User)
        .await
        .unwrap();
    app.app
        .quota
        .grant(&Grant {
            user: user.id,
            bytes: 5 << 30,
            validity_hours: 30 * 24,
            mode: Default::default(),
            profile: None,
            unlimited: false,
            source: GrantSource::Admin,
            idempotency_key: format!("browser-test:{}", user.id.0),
            actor: "test".to_owned(),
            note: None,
        })
        .await
        .unwrap();
    phone
}

/// The redirect MikroTik sends a caught phone to.
pub(crate) fn captive_path(ip: &str, mac: &str, extra: &str) -> String {
    format!("/captive?ip={ip}&mac={mac}&link-orig=http%3A%2F%2Fexample.invalid%2F{extra}")
}

/// The newest code sent to the user, waiting briefly for the messenger to write it.
pub(crate) async fn code_for(app: &TestApp, phone: &Phone) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(code) = app.last_code(&phone.to_string()) {
            return code;
        }
        assert!(
            Instant::now() < deadline,
            "no code in the outbox: {:?}",
            app.outbox()
        );
        tokio::time::sleep(POLL).await;
    }
}

fn wrong(code: &str) -> String {
    let first = if code.starts_with('9') { '0' } else { '9' };
    format!("{first}{}", &code[1..])
}

pub(crate) fn screenshot_dir(app: &TestApp, test: &str) -> PathBuf {
    let dir = match std::env::var_os(SCREENSHOT_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join(test),
        _ => app.data_dir.path().join("screenshots"),
    };
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Phone step → code step; returns the code that was sent.
pub(crate) async fn ask_for_a_code(
    browser: &Browser,
    app: &TestApp,
    phone: &Phone,
    path: &str,
) -> String {
    browser.goto(&app.url(path)).await;
    browser.type_into("#phone_number", PHONE).await;
    browser
        .tap("form[action$='/request'] button[type=submit]")
        .await;
    browser.element("#otp").await;
    code_for(app, phone).await
}

pub(crate) async fn submit_code(browser: &Browser, code: &str) {
    browser.type_into("#otp", code).await;
    browser
        .tap("form[action$='/verify'] button[type=submit]")
        .await;
}

/// The router holds a bypassed binding for the MAC and one `active` entry for the IP, and the
/// browser holds the session cookie.
pub(crate) async fn assert_online(app: &TestApp, browser: &Browser, mac: &str, ip: &str) {
    let bindings: Vec<Row> = app
        .router_rows(Menu::IpBinding)
        .into_iter()
        .filter(|r| r.get("mac-address") == Some(mac))
        .collect();
    assert_eq!(bindings.len(), 1, "one ip-binding for {mac}: {bindings:?}");
    assert_eq!(
        bindings[0].get("type"),
        Some("bypassed"),
        "{:?}",
        bindings[0]
    );
    let lists: Vec<Row> = app
        .router_rows(Menu::AddressList)
        .into_iter()
        .filter(|r| r.get("address") == Some(ip))
        .collect();
    assert_eq!(
        lists.len(),
        1,
        "exactly one status list entry for {ip}: {lists:?}"
    );
    assert_eq!(lists[0].get("list"), Some("active"));
    let cookie = browser
        .client()
        .get_named_cookie("auth_token")
        .await
        .expect("an auth_token cookie");
    assert!(!cookie.value().is_empty());
}

/// The whole journey; `javascript` says whether the browser runs scripts.
async fn journey(driver: &Path, javascript: bool) {
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app().await;
    let phone = approved_user(&app).await;
    let (mac, ip) = if javascript {
        ("02:00:00:00:00:21", "10.5.50.21")
    } else {
        ("02:00:00:00:00:20", "10.5.50.20")
    };
    app.phone_on_hotspot(mac, ip);
    let shots = screenshot_dir(&app, if javascript { "js" } else { "nojs" });
    let browser = Browser::open(driver, javascript).await;

    browser.goto(&app.url(&captive_path(ip, mac, ""))).await;
    browser.text_containing("h1", "Masuk ke Wi-Fi").await;
    browser.element("#phone_number").await;
    let shot = browser.screenshot(&shots, "phone-form.png").await;
    println!("phone form: {}", shot.display());
    if javascript {
        let (fits, measured) = browser.fits_the_width().await;
        assert!(fits, "the phone form scrolls sideways: {measured}");
    }

    browser.type_into("#phone_number", PHONE).await;
    browser
        .tap("form[action$='/request'] button[type=submit]")
        .await;
    browser.element("#otp").await;
    browser.text_containing(".card", "Kode dikirim ke").await;
    // The resend button waits out the cooldown: the server says how long, the script (when it
    // runs) disables the button and counts down.
    browser.enabled("#resend", !javascript).await;
    if javascript {
        let (fits, measured) = browser.fits_the_width().await;
        assert!(fits, "the code form scrolls sideways: {measured}");
    }
    let code = code_for(&app, &phone).await;

    submit_code(&browser, &code).await;
    browser.text_containing("h1", "Terhubung").await;
    browser.text_containing(".card", "sudah terhubung").await;
    let shot = browser.screenshot(&shots, "connected.png").await;
    println!("connected page: {}", shot.display());
    if javascript {
        let (fits, measured) = browser.fits_the_width().await;
        assert!(fits, "the connected page scrolls sideways: {measured}");
    }
    // The continue link leads back to where the phone was going (not followed: it is off-box).
    let next = browser.element("a.btn").await;
    assert_eq!(
        next.attr("href").await.unwrap().as_deref(),
        Some("http://example.invalid/")
    );
    assert_online(&app, &browser, mac, ip).await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captive_journey_without_javascript() {
    let Some(driver) = driver_binary() else {
        return;
    };
    journey(&driver, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captive_journey_with_javascript() {
    let Some(driver) = driver_binary() else {
        return;
    };
    journey(&driver, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_is_shown_in_place_with_the_attempts_left() {
    let Some(driver) = driver_binary() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app().await;
    let phone = approved_user(&app).await;
    let (mac, ip) = ("02:00:00:00:00:22", "10.5.50.22");
    app.phone_on_hotspot(mac, ip);
    let browser = Browser::open(&driver, false).await;
    let code = ask_for_a_code(&browser, &app, &phone, &captive_path(ip, mac, "")).await;

    submit_code(&browser, &wrong(&code)).await;
    let error = browser
        .text_containing(".error[role=alert]", "Kode salah")
        .await;
    assert!(error.contains("sisa percobaan: 4"), "{error}");
    // Still the code form on an HTML page, ready for another try, saying the attempts once.
    let card = browser.text_containing(".card", "Kode dikirim ke").await;
    assert_eq!(
        card.to_lowercase().matches("sisa percobaan").count(),
        1,
        "{card}"
    );
    browser.element("#otp").await;
    // The resend button still counts down the cooldown of the code already sent (without
    // JavaScript the server prints the seconds left).
    browser.text_containing("#resend", "(tunggu").await;
    browser
        .screenshot(&screenshot_dir(&app, "wrong-code"), "code-form-error.png")
        .await;
    let source = browser.source().await;
    assert!(
        source.contains("<form") && !source.trim_start().starts_with('{'),
        "{source}"
    );
    assert!(
        app.router_rows(Menu::IpBinding).is_empty(),
        "no binding after a wrong code"
    );

    // The right code still works afterwards.
    submit_code(&browser, &code).await;
    browser.text_containing("h1", "Terhubung").await;
    assert_online(&app, &browser, mac, ip).await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_on_request() {
    let Some(driver) = driver_binary() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app().await;
    let phone = approved_user(&app).await;
    let (mac, ip) = ("02:00:00:00:00:23", "10.5.50.23");
    app.phone_on_hotspot(mac, ip);
    let browser = Browser::open(&driver, true).await;

    browser
        .goto(&app.url(&captive_path(ip, mac, "&lang=en")))
        .await;
    browser.text_containing("h1", "Connect to the Wi-Fi").await;
    browser.text_containing("form", "WhatsApp number").await;
    browser
        .text_containing("form button[type=submit]", "Send code")
        .await;
    let (fits, measured) = browser.fits_the_width().await;
    assert!(fits, "the English phone form scrolls sideways: {measured}");
    browser.element("html[lang=en]").await;

    // The choice is remembered in the `lang` cookie, so every later step stays English.
    browser.type_into("#phone_number", PHONE).await;
    browser
        .tap("form[action$='/request'] button[type=submit]")
        .await;
    browser.element("#otp").await;
    browser.text_containing("form", "Code sent to").await;
    let code = code_for(&app, &phone).await;
    submit_code(&browser, &wrong(&code)).await;
    browser
        .text_containing(".error[role=alert]", "Wrong code")
        .await;
    submit_code(&browser, &code).await;
    browser.text_containing("h1", "Connected").await;
    browser
        .element("a.btn[href='http://example.invalid/']")
        .await;
    assert_online(&app, &browser, mac, ip).await;
    browser.quit().await;
}
