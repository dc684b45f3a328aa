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
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, PointerAction, TouchActions};
use fantoccini::{Client, ClientBuilder, Locator};
use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;
use lpsaring_quota::api::{Grant, GrantSource};
use lpsaring_routeros_sim::{Menu, Row};
use lpsaring_tests::{TestApp, spawn_app};
use serde_json::{Value, json};
use tempfile::TempDir;

const DRIVER_ENV: &str = "LPSARING_CHROMEDRIVER";
const CHROMIUM_ENV: &str = "LPSARING_CHROMIUM";
const SCREENSHOT_ENV: &str = "LPSARING_SCREENSHOT_DIR";
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);
const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;
const MOBILE_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                         Chrome/126.0 Mobile Safari/537.36";
pub(crate) const PHONE: &str = "081234567890";

/// One browser at a time: Chromium is heavy on two cores, and the suite runs tests in parallel.
pub(crate) static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The chromedriver binary to use, or `None` after `SKIP <test>` was printed (a failure instead
/// under `LPSARING_REQUIRE_PEERS=1`).
pub(crate) fn driver_binary() -> Option<PathBuf> {
    lpsaring_kernel::testing::peer_env(DRIVER_ENV, "a chromedriver binary (/usr/bin/chromedriver)")
        .map(PathBuf::from)
}

/// A chromedriver child process and the browser it starts. Dropping it kills chromedriver and every
/// Chromium process still using this run's profile directory.
struct Driver {
    child: Child,
    profile: TempDir,
    port: u16,
}

impl Driver {
    async fn start(binary: &Path) -> Driver {
        let profile = tempfile::tempdir().expect("profile dir");
        let log_path = profile.path().join("chromedriver.log");
        let log = std::fs::File::create(&log_path).expect("driver log");
        // Port 0: chromedriver picks a free port itself and names it in its first lines (a port
        // found by binding and releasing it could be taken again before chromedriver binds it).
        let mut child = Command::new(binary)
            .arg("--port=0")
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        const STARTED: &str = "started successfully on port ";
        let deadline = Instant::now() + WAIT;
        let port = loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(at) = text.find(STARTED) {
                let digits: String = text[at + STARTED.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(port) = digits.parse::<u16>() {
                    break port;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("chromedriver exited ({status}) before it listened:\n{text}");
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                panic!("chromedriver named no port within {WAIT:?}:\n{text}");
            }
            tokio::time::sleep(POLL).await;
        };
        let driver = Driver {
            child,
            profile,
            port,
        };
        // Ready when /status answers.
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client");
        loop {
            let ready = http
                .get(format!("{}/status", driver.url()))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())
                .is_some();
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not come up on port {port}"
            );
            tokio::time::sleep(POLL).await;
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Opens a Chromium session: headless, phone-sized, with or without JavaScript.
    async fn session(&self, javascript: bool) -> Client {
        self.session_sized(javascript, None).await
    }

    /// [`Self::session`], or a desktop window of `size` (width, height) without the phone's
    /// emulation when given.
    async fn session_sized(&self, javascript: bool, size: Option<(u32, u32)>) -> Client {
        let chromium =
            std::env::var(CHROMIUM_ENV).unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let user_data = self.profile.path().join("chromium");
        let mut prefs = json!({
            // Indonesian first, as on the users' phones: the English run must come from ?lang=en.
            "intl.accept_languages": "id-ID,id",
        });
        if !javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let capabilities = json!({
            "browserName": "chrome",
            // A page that never loads fails the test instead of hanging it.
            "timeouts": {"pageLoad": 20_000, "script": 10_000},
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--no-proxy-server",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-extensions",
                    "--disable-crash-reporter",
                    "--disable-breakpad",
                    "--disable-default-apps",
                    "--password-store=basic",
                    format!("--window-size={PHONE_WIDTH},{PHONE_HEIGHT}"),
                    format!("--user-data-dir={}", user_data.display()),
                ],
                "prefs": prefs,
                "mobileEmulation": {
                    "deviceMetrics": {"width": PHONE_WIDTH, "height": PHONE_HEIGHT, "pixelRatio": 2.0},
                    "userAgent": MOBILE_UA,
                },
            },
        });
        let mut capabilities = capabilities;
        if let Some((width, height)) = size {
            let options = &mut capabilities["goog:chromeOptions"];
            options.as_object_mut().map(|o| o.remove("mobileEmulation"));
            if let Some(args) = options["args"].as_array_mut() {
                args.retain(|a| !a.as_str().is_some_and(|a| a.starts_with("--window-size=")));
                args.push(json!(format!("--window-size={width},{height}")));
            }
        }
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        ClientBuilder::rustls()
            .expect("webdriver connector")
            .capabilities(capabilities)
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "open a Chromium session: {e}; see {}",
                    self.log_path().display()
                )
            })
    }

    fn log_path(&self) -> PathBuf {
        self.profile.path().join("chromedriver.log")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Chromium outlives its driver: end every process started with this run's profile (a
        // second pass catches a child forked while the first one ran).
        let marker = self.profile.path().to_string_lossy().into_owned();
        for _ in 0..2 {
            let pids: Vec<String> = processes_mentioning(&marker)
                .iter()
                .map(u32::to_string)
                .collect();
            if pids.is_empty() {
                break;
            }
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(&pids)
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Ids of processes (other than this one) whose command line contains `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// A browser session for one test; `quit` ends it cleanly, dropping it kills everything.
pub(crate) struct Browser {
    client: Client,
    driver: Driver,
}

impl Browser {
    pub(crate) async fn open(binary: &Path, javascript: bool) -> Browser {
        let driver = Driver::start(binary).await;
        let client = driver.session(javascript).await;
        Browser { client, driver }
    }

    /// A desktop-sized browser (`width` × `height`, no phone emulation).
    pub(crate) async fn open_desktop(
        binary: &Path,
        javascript: bool,
        width: u32,
        height: u32,
    ) -> Browser {
        let driver = Driver::start(binary).await;
        let client = driver
            .session_sized(javascript, Some((width, height)))
            .await;
        Browser { client, driver }
    }

    pub(crate) async fn quit(self) {
        let Browser { client, driver } = self;
        let _ = tokio::time::timeout(WAIT, client.close()).await;
        drop(driver);
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Waits (bounded) for an element matching `css`.
    pub(crate) async fn element(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => panic!(
                "no `{css}` within {WAIT:?}: {e}\npage:\n{}",
                self.source().await
            ),
        }
    }

    /// Waits (bounded) until the text of the first `css` element contains `needle`; returns it.
    pub(crate) async fn text_containing(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = el.text().await
            {
                if text.contains(needle) {
                    return text;
                }
                last = text;
            }
            if Instant::now() >= deadline {
                panic!(
                    "`{css}` never contained {needle:?} (last: {last:?})\npage:\n{}",
                    self.source().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn source(&self) -> String {
        self.client.source().await.unwrap_or_default()
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let input = self.element(css).await;
        input.clear().await.expect("clear input");
        input.send_keys(text).await.expect("type");
    }

    /// Taps the element with a finger, as on a phone. (WebDriver's element click waits for
    /// page scripts to settle, which never happens with JavaScript off.) Returns at once: wait
    /// for what the next page shows.
    pub(crate) async fn tap(&self, css: &str) {
        let element = self.element(css).await;
        let finger = TouchActions::new("finger".to_owned())
            .then(PointerAction::MoveToElement {
                element,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client
            .perform_actions(finger)
            .await
            .unwrap_or_else(|e| panic!("tap `{css}`: {e}"));
    }

    /// Waits (bounded) until the `css` element is enabled (or disabled).
    async fn enabled(&self, css: &str, want: bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && el.is_enabled().await.ok() == Some(want)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never became enabled={want}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    pub(crate) async fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = dir.join(name);
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Whether the page is no wider than the screen (needs JavaScript).
    async fn fits_the_width(&self) -> (bool, Value) {
        let v = self
            .client
            .execute(
                "return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth};",
                Vec::new(),
            )
            .await
            .expect("measure the page");
        let fits = v["scroll"]
            .as_u64()
            .zip(v["inner"].as_u64())
            .is_some_and(|(s, i)| s <= i);
        (fits, v)
    }
}

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
async fn ask_for_a_code(browser: &Browser, app: &TestApp, phone: &Phone, path: &str) -> String {
    browser.goto(&app.url(path)).await;
    browser.type_into("#phone_number", PHONE).await;
    browser
        .tap("form[action$='/request'] button[type=submit]")
        .await;
    browser.element("#otp").await;
    code_for(app, phone).await
}

async fn submit_code(browser: &Browser, code: &str) {
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
        .client
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
