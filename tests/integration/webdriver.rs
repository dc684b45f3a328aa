//! Headless Chromium over WebDriver for the browser tests: one chromedriver child per
//! [`Driver`], any number of [`Browser`] sessions on it (each a browser of its own: its own
//! profile and cookies), phone- or laptop-sized, light or dark, and what a page did wrong
//! (console errors, failed requests, sideways scrolling).
//!
//! Runs only when `LPSARING_CHROMEDRIVER` names a chromedriver binary (CI sets it; `.ci/run`
//! installs Debian's `chromium` and `chromium-driver`); otherwise each test prints
//! `SKIP <test>: <reason>` on stderr, or fails under `LPSARING_REQUIRE_PEERS=1`.
//! `LPSARING_CHROMIUM` overrides the browser binary (default `/usr/bin/chromium`).
//! All traffic stays on 127.0.0.1: the app, the RouterOS simulator and chromedriver.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers stop a test loudly on a failed step, like the tests themselves"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, PointerAction, TouchActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tempfile::TempDir;

const DRIVER_ENV: &str = "LPSARING_CHROMEDRIVER";
const CHROMIUM_ENV: &str = "LPSARING_CHROMIUM";
pub(crate) const WAIT: Duration = Duration::from_secs(10);
pub(crate) const POLL: Duration = Duration::from_millis(50);
const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;
const MOBILE_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                         Chrome/126.0 Mobile Safari/537.36";

/// The size of the window a session opens, and whether it prefers a dark colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Screen {
    pub width: u32,
    pub height: u32,
    pub dark: bool,
}

impl Screen {
    /// A phone, emulated as Chrome's mobile mode (touch, a phone's user agent).
    pub(crate) const PHONE: Screen = Screen {
        width: PHONE_WIDTH,
        height: PHONE_HEIGHT,
        dark: false,
    };
    /// A laptop.
    pub(crate) const DESKTOP: Screen = Screen {
        width: 1280,
        height: 800,
        dark: false,
    };

    fn is_phone(self) -> bool {
        self.width < 800
    }

    pub(crate) fn dark(self) -> Screen {
        Screen { dark: true, ..self }
    }
}

/// One browser at a time: Chromium is heavy on two cores, and the suite runs tests in parallel.
pub(crate) static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The chromedriver binary to use, or `None` after `SKIP <test>` was printed (a failure instead
/// under `LPSARING_REQUIRE_PEERS=1`).
pub(crate) fn driver_binary() -> Option<PathBuf> {
    lpsaring_kernel::testing::peer_env(DRIVER_ENV, "a chromedriver binary (/usr/bin/chromedriver)")
        .map(PathBuf::from)
}

/// A chromedriver child process and the browsers it starts. Dropping it kills chromedriver and
/// every Chromium process still using this run's profile directory.
pub(crate) struct Driver {
    child: Child,
    profile: TempDir,
    port: u16,
}

impl Driver {
    pub(crate) async fn start(binary: &Path) -> Driver {
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

    /// Opens a Chromium session: headless, `screen`-sized, with or without JavaScript. Each
    /// session has a profile of its own (its own cookies), as a second browser would.
    async fn session(&self, javascript: bool, screen: Screen) -> Client {
        let chromium =
            std::env::var(CHROMIUM_ENV).unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let user_data = self.profile.path().join(format!("chromium-{n}"));
        let mut prefs = json!({
            // Indonesian first, as on the users' phones: the English run must come from ?lang=en.
            "intl.accept_languages": "id-ID,id",
        });
        if !javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let mut args: Vec<String> = [
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
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        args.push(format!("--window-size={},{}", screen.width, screen.height));
        args.push(format!("--user-data-dir={}", user_data.display()));
        if screen.dark {
            // `prefers-color-scheme: dark`, as a phone in dark mode reports it.
            args.push("--force-dark-mode".to_owned());
            args.push("--blink-settings=preferredColorScheme=0".to_owned());
        }
        let mut options = json!({"binary": chromium, "args": args, "prefs": prefs});
        if screen.is_phone() {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {"width": screen.width, "height": screen.height, "pixelRatio": 2.0},
                "userAgent": MOBILE_UA,
            });
        }
        let capabilities = json!({
            "browserName": "chrome",
            // A page that never loads fails the test instead of hanging it.
            "timeouts": {"pageLoad": 20_000, "script": 10_000},
            // The console and failed loads, read back by `Browser::console_problems`.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": options,
        });
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

/// A browser session for one test; `quit` ends it cleanly, dropping the last session of a
/// driver kills everything.
pub(crate) struct Browser {
    client: Client,
    driver: Arc<Driver>,
}

impl Browser {
    /// A phone-sized session on a chromedriver of its own.
    pub(crate) async fn open(binary: &Path, javascript: bool) -> Browser {
        let driver = Arc::new(Driver::start(binary).await);
        Browser::open_on(&driver, javascript, Screen::PHONE).await
    }

    /// A `(width, height)` session (a laptop's 1280×800, say) on a chromedriver of its own.
    pub(crate) async fn open_sized(
        binary: &Path,
        javascript: bool,
        (width, height): (u32, u32),
    ) -> Browser {
        let driver = Arc::new(Driver::start(binary).await);
        let screen = Screen {
            width,
            height,
            dark: false,
        };
        Browser::open_on(&driver, javascript, screen).await
    }

    /// Replaces the browser's cookies for the site open now with those of a `Cookie` header
    /// (`a=1; b=2`): a session issued by the test, as if its login had happened here.
    pub(crate) async fn use_cookies(&self, header: &str) {
        self.client
            .delete_all_cookies()
            .await
            .expect("delete cookies");
        let url = self.client.current_url().await.expect("the current URL");
        let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
        for pair in header.split(';') {
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            // fantoccini sends `SameSite=None` unless told, which Chromium refuses without Secure.
            let mut cookie =
                fantoccini::cookies::Cookie::parse(format!("{name}={value}; Path=/; SameSite=Lax"))
                    .expect("a cookie");
            cookie.set_domain(host.clone());
            self.client.add_cookie(cookie).await.expect("add a cookie");
        }
    }

    /// Another session (another browser, with its own cookies) on a running chromedriver.
    pub(crate) async fn open_on(driver: &Arc<Driver>, javascript: bool, screen: Screen) -> Browser {
        let client = driver.session(javascript, screen).await;
        Browser {
            client,
            driver: driver.clone(),
        }
    }

    pub(crate) async fn quit(self) {
        let Browser { client, driver } = self;
        let _ = tokio::time::timeout(WAIT, client.close()).await;
        drop(driver);
    }

    /// The WebDriver client, for what the helpers here do not cover.
    pub(crate) fn client(&self) -> &Client {
        &self.client
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

    pub(crate) async fn source(&self) -> String {
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
    pub(crate) async fn enabled(&self, css: &str, want: bool) {
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
    pub(crate) async fn fits_the_width(&self) -> (bool, Value) {
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

/// WebDriver's log endpoint (chromedriver keeps the legacy `se/log`): the browser's console
/// messages and failed loads since the last read.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &reqwest::Url,
        session_id: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(r#"{"type":"browser"}"#.to_owned()),
        )
    }
}

impl Browser {
    /// What went wrong on the pages since the last call: console errors (uncaught exceptions,
    /// `console.error`, failed loads as Chromium reports them) and resources of the current page
    /// answered with an error status. Empty when all is well.
    pub(crate) async fn problems(&self) -> Vec<String> {
        let log = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .unwrap_or_else(|e| panic!("read the browser log: {e}"));
        let mut out: Vec<String> = log
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| format!("console: {}", e["message"]))
            .collect();
        let failed = self
            .client
            .execute(
                "return performance.getEntriesByType('navigation')\
                 .concat(performance.getEntriesByType('resource'))\
                 .filter(e => (e.responseStatus || 0) >= 400)\
                 .map(e => e.name + ' ' + e.responseStatus);",
                Vec::new(),
            )
            .await
            .expect("read the page's resource timings");
        out.extend(
            failed
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| format!("failed request: {f}")),
        );
        out
    }
}
