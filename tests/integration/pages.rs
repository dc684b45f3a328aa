//! The server-rendered pages without a browser: the captive and login forms posted as a phone
//! without JavaScript would post them (form fields, the form token, cookies), registration by
//! page and by API, `reset-login`, the policy pages and the form logout. The browser tests cover
//! the same pages in Chromium when a chromedriver is there; these run on every `cargo test`.

use std::collections::BTreeMap;

use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;
use lpsaring_routeros_sim::{Menu, Row};
use lpsaring_tests::{TestApp, spawn_app};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

const PHONE: &str = "081234567890";
const MAC: &str = "02:00:00:00:00:31";
const IP: &str = "10.5.50.31";

/// One visitor: a client that follows no redirects and keeps the cookies it is given, as a
/// browser would, so each step posts what the page before it handed out.
pub(crate) struct Visitor<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

impl<'a> Visitor<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Visitor {
            app,
            http: crate::web::client(),
            jar: BTreeMap::new(),
        }
    }

    pub(crate) fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let req = if cookies.is_empty() {
            req
        } else {
            req.header(COOKIE, cookies.join("; "))
        };
        let res = req.send().await.unwrap();
        for line in res.headers().get_all(SET_COOKIE) {
            let line = line.to_str().unwrap();
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if line.contains("Max-Age=0") || value.is_empty() {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        Answer {
            status: res.status().as_u16(),
            location: res
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: res.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Answer {
        let req = self.http.get(self.app.url(path));
        self.send(req).await
    }

    /// Submits the form of `page` whose action is `action`: its hidden fields plus `typed`.
    pub(crate) async fn submit(
        &mut self,
        page: &str,
        action: &str,
        typed: &[(&str, &str)],
    ) -> Answer {
        let mut fields = hidden_fields(page, action);
        for (k, v) in typed {
            fields.retain(|(name, _)| name != k);
            fields.push(((*k).to_owned(), (*v).to_owned()));
        }
        let req = self.http.post(self.app.url(action)).form(&fields);
        self.send(req).await
    }
}

/// The hidden inputs of the form posting to `action` in `html`.
fn hidden_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action} in:\n{html}"));
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    form.split("<input ")
        .skip(1)
        .filter(|tag| tag.contains("type=\"hidden\""))
        .map(|tag| (attribute(tag, "name"), unescape(&attribute(tag, "value"))))
        .collect()
}

fn attribute(tag: &str, name: &str) -> String {
    let marker = format!("{name}=\"");
    let at = tag.find(&marker).unwrap() + marker.len();
    tag[at..].split('"').next().unwrap().to_owned()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// An approved user with 5 GiB for 30 days.
async fn user(app: &TestApp, phone: &str) -> i64 {
    app.user_with_quota(phone, true).await
}

pub(crate) fn bindings_for(app: &TestApp, mac: &str) -> Vec<Row> {
    app.router_rows(Menu::IpBinding)
        .into_iter()
        .filter(|r| r.get("mac-address") == Some(mac))
        .collect()
}

fn code_for(app: &TestApp, phone: &str) -> String {
    let e164 = Phone::parse(phone).unwrap().to_string();
    app.last_code(&e164).expect("a code in the outbox")
}

#[tokio::test]
async fn the_captive_forms_log_a_phone_in_and_the_form_logout_lets_it_go() {
    let app = spawn_app().await;
    user(&app, PHONE).await;
    app.phone_on_hotspot(MAC, IP);
    let mut phone = Visitor::new(&app);

    // The router's redirect: the context rides along in hidden fields.
    let page = phone
        .get(&format!(
            "/captive?ip={IP}&mac={MAC}&link-orig=http%3A%2F%2Fexample.com%2F"
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(phone.cookie("csrf").is_some(), "{:?}", phone.jar);
    let carried = hidden_fields(&page.body, "/captive/request");
    for (name, value) in [
        ("ip", IP),
        ("mac", MAC),
        ("link-orig", "http://example.com/"),
    ] {
        assert!(
            carried.iter().any(|(k, v)| k == name && v == value),
            "{name} not carried: {carried:?}"
        );
    }

    // A forged form token: refused, and no code is sent.
    let forged = phone
        .submit(
            &page.body,
            "/captive/request",
            &[("phone_number", PHONE), ("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(app.outbox().is_empty());

    let code_step = phone
        .submit(&page.body, "/captive/request", &[("phone_number", PHONE)])
        .await;
    assert_eq!(code_step.status, 200, "{}", code_step.body);
    assert!(
        code_step.body.contains("name=\"otp\""),
        "{}",
        code_step.body
    );
    let code = code_for(&app, PHONE);

    // A wrong code keeps the code form, with the error and the phone still in it.
    let wrong = if code.starts_with('9') {
        "000000"
    } else {
        "999999"
    };
    let again = phone
        .submit(&code_step.body, "/captive/verify", &[("otp", wrong)])
        .await;
    assert_eq!(again.status, 401, "{}", again.body);
    assert!(again.body.contains("role=\"alert\""), "{}", again.body);
    assert!(again.body.contains("name=\"otp\""), "{}", again.body);
    assert!(bindings_for(&app, MAC).is_empty());

    let connected = phone
        .submit(&again.body, "/captive/verify", &[("otp", &code)])
        .await;
    assert_eq!(connected.status, 200, "{}", connected.body);
    assert!(phone.cookie("auth_token").is_some(), "{:?}", phone.jar);
    assert!(phone.cookie("refresh_token").is_some(), "{:?}", phone.jar);
    assert!(
        connected.body.contains("http://example.com/"),
        "the page offers the way back to link-orig: {}",
        connected.body
    );
    let binding = bindings_for(&app, MAC);
    assert_eq!(binding.len(), 1, "{binding:?}");
    assert_eq!(binding[0].get("type"), Some("bypassed"));

    // The connected page answers on its own too (a reload, a bookmark).
    let reload = phone.get("/captive/terhubung").await;
    assert_eq!(reload.status, 200);

    // The form logout: our Origin, cookies cleared, back to /login, router access removed.
    let req = phone
        .http
        .post(app.url("/logout"))
        .header("origin", app.base_url.clone())
        .form(&[("csrf", phone.cookie("csrf").unwrap_or_default().to_owned())]);
    let out = phone.send(req).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(out.location.as_deref(), Some("/login"));
    assert!(phone.cookie("auth_token").is_none(), "{:?}", phone.jar);
    assert!(phone.cookie("refresh_token").is_none(), "{:?}", phone.jar);
    assert!(bindings_for(&app, MAC).is_empty(), "access removed");
}

#[tokio::test]
async fn a_foreign_origin_cannot_log_a_phone_out_by_form() {
    let app = spawn_app().await;
    user(&app, PHONE).await;
    app.phone_on_hotspot(MAC, IP);
    let mut phone = Visitor::new(&app);
    let page = phone.get(&format!("/captive?ip={IP}&mac={MAC}")).await;
    let step = phone
        .submit(&page.body, "/captive/request", &[("phone_number", PHONE)])
        .await;
    let code = code_for(&app, PHONE);
    let done = phone
        .submit(&step.body, "/captive/verify", &[("otp", &code)])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let req = phone
        .http
        .post(app.url("/logout"))
        .header("origin", "https://evil.example");
    let out = phone.send(req).await;
    assert_eq!(out.status, 403, "{}", out.body);
    assert!(phone.cookie("refresh_token").is_some());
    assert_eq!(bindings_for(&app, MAC).len(), 1, "access kept");
}

#[tokio::test]
async fn the_login_forms_log_in_outside_the_hotspot_without_binding() {
    let app = spawn_app().await;
    user(&app, PHONE).await;
    let mut person = Visitor::new(&app);
    let page = person.get("/login").await;
    assert_eq!(page.status, 200);
    assert!(
        hidden_fields(&page.body, "/login/request")
            .iter()
            .all(|(k, _)| k == "csrf")
    );

    // An unknown number stays on the phone step with the reason.
    let unknown = person
        .submit(
            &page.body,
            "/login/request",
            &[("phone_number", "081299999999")],
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.body.contains("name=\"phone_number\""));
    assert!(!unknown.body.contains("name=\"otp\""));

    let step = person
        .submit(&page.body, "/login/request", &[("phone_number", PHONE)])
        .await;
    assert_eq!(step.status, 200, "{}", step.body);
    let code = code_for(&app, PHONE);
    let done = person
        .submit(&step.body, "/login/verify", &[("otp", &code)])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(person.cookie("auth_token").is_some());
    assert!(app.router_rows(Menu::IpBinding).is_empty());

    // The connected page hands the login on to a real browser: its link opens the account
    // there once, without the first browser's cookies.
    let link = unescape(&attribute(
        &done.body[done
            .body
            .find("id=\"open-account\"")
            .expect("the open-account link")..],
        "href",
    ));
    assert!(link.starts_with("/session/consume?token=") && link.ends_with("&next=/akun"));
    let mut browser = Visitor::new(&app);
    let opened = browser.get(&link).await;
    assert_eq!(
        (opened.status, opened.location.as_deref()),
        (303, Some("/akun"))
    );
    let account = browser.get("/akun").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("Halo, "), "{}", account.body);
    let again = Visitor::new(&app).get(&link).await;
    assert_eq!(again.status, 410);
    assert!(
        again.body.contains("Tautan sudah tidak berlaku")
            && again.body.contains("href=\"/login?next=/akun\"")
    );

    // The session works for the JSON API too.
    let me = person.get("/api/auth/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    let me: Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["phone_number"], "+6281234567890");
}

#[tokio::test]
async fn registering_by_page_and_by_api_makes_accounts_that_wait_for_approval() {
    let app = spawn_app().await;
    let mut person = Visitor::new(&app);
    let page = person.get("/register").await;
    assert_eq!(page.status, 200);

    let forged = person
        .submit(
            &page.body,
            "/register",
            &[
                ("full_name", "Siti"),
                ("phone_number", "081311111111"),
                ("csrf", "forged"),
            ],
        )
        .await;
    // Refused like the login forms' forged posts: 403.
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("role=\"alert\""), "{}", forged.body);
    let none = app
        .app
        .users
        .find(&Phone::parse("081311111111").unwrap())
        .await
        .unwrap();
    assert!(none.is_none(), "a forged form registers nobody");

    let fields = [("full_name", "Siti"), ("phone_number", "081311111111")];
    let done = person.submit(&page.body, "/register", &fields).await;
    assert_eq!(done.status, 201, "{}", done.body);
    assert!(done.body.contains("role=\"status\""), "{}", done.body);
    let twice = person.submit(&page.body, "/register", &fields).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    let bad = person
        .submit(
            &page.body,
            "/register",
            &[("full_name", "Siti"), ("phone_number", "12ab")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("role=\"alert\""), "{}", bad.body);

    let api = |body: Value| {
        app.http
            .post(app.url("/api/auth/register"))
            .json(&body)
            .send()
    };
    let res = api(json!({"phone_number": "081322222222", "full_name": "Dewi"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], true);
    let res = api(json!({"phone_number": "081322222222", "full_name": "Dewi"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let res = api(json!({"phone_number": "nope", "full_name": "Dewi"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], false);

    // Both accounts wait for the operator: no code is sent to them yet.
    for phone in ["081311111111", "081322222222"] {
        let res = app
            .http
            .post(app.url("/api/auth/request-otp"))
            .json(&json!({ "phone_number": phone }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "AUTH_USER_UNAPPROVED");
    }
}

#[tokio::test]
async fn reset_login_removes_router_access_but_keeps_the_session() {
    let app = spawn_app().await;
    user(&app, PHONE).await;
    app.phone_on_hotspot(MAC, IP);
    let mut phone = Visitor::new(&app);
    let page = phone.get(&format!("/captive?ip={IP}&mac={MAC}")).await;
    let step = phone
        .submit(&page.body, "/captive/request", &[("phone_number", PHONE)])
        .await;
    let code = code_for(&app, PHONE);
    phone
        .submit(&step.body, "/captive/verify", &[("otp", &code)])
        .await;
    assert_eq!(bindings_for(&app, MAC).len(), 1);

    // Without a session: 401 in the envelope.
    let res = app
        .http
        .post(app.url("/api/auth/reset-login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let req = phone
        .http
        .post(app.url("/api/auth/reset-login"))
        .header("origin", app.base_url.clone());
    let out = phone.send(req).await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(bindings_for(&app, MAC).is_empty(), "router access removed");
    let me = phone.get("/api/auth/me").await;
    assert_eq!(me.status, 200, "the session stays: {}", me.body);
}

#[tokio::test]
async fn each_policy_page_explains_its_status_and_others_are_404() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    for status in ["blocked", "inactive", "expired", "habis", "fup"] {
        let res = app.get(&format!("/policy/{status}")).await;
        assert_eq!(res.status(), 200, "{status}");
        let html = res.text().await.unwrap();
        assert!(html.contains("<h1>"), "{status}: {html}");
        seen.push(html);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "each status has its own page");
    for other in ["ok", "unlimited", "nonsense"] {
        let res = app.get(&format!("/policy/{other}")).await;
        assert_eq!(res.status(), 404, "{other}");
    }
}

/// Issue 15 item 4: the connected page auto-posts the hotspot credentials only to the router's
/// own hotspot (its profile's `hotspot-address` here); a foreign `link-login-only` is dropped.
#[tokio::test]
async fn the_connected_page_posts_hotspot_credentials_only_to_the_routers_hotspot() {
    let app = spawn_app().await;
    // No quota: `habis`, a regular binding, hotspot credentials on the connected page.
    app.app
        .users
        .create(&Phone::parse(PHONE).unwrap(), "Budi", true, Role::User)
        .await
        .unwrap();
    app.phone_on_hotspot(MAC, IP);
    for (link, kept) in [
        ("http://evil.example/steal", false),
        ("http://10.5.54.254@evil.example/steal", false),
        ("http://10.5.54.254/login", true),
    ] {
        let mut phone = Visitor::new(&app);
        let page = phone
            .get(&format!(
                "/captive?ip={IP}&mac={MAC}&link-login-only={}",
                lpsaring_kernel::web::encode_component(link)
            ))
            .await;
        let step = phone
            .submit(&page.body, "/captive/request", &[("phone_number", PHONE)])
            .await;
        let done = phone
            .submit(
                &step.body,
                "/captive/verify",
                &[("otp", &code_for(&app, PHONE))],
            )
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
        let password = app
            .router_rows(Menu::User)
            .into_iter()
            .find_map(|r| r.get("password").map(str::to_owned))
            .expect("a hotspot user");
        assert!(!done.body.contains("evil.example"), "{}", done.body);
        assert_eq!(done.body.contains(&password), kept, "{link}: {}", done.body);
        assert_eq!(
            done.body.contains("10.5.54.254/login"),
            kept,
            "{}",
            done.body
        );
        app.clock.advance(chrono::Duration::seconds(61));
    }
}

/// Issue 15 item 13: a router trap during the captive form login shows a plain sentence in the
/// page's language (Indonesian by default), never the trap's text.
#[tokio::test]
async fn a_router_trap_on_the_captive_form_shows_a_plain_sentence() {
    let app = spawn_app().await;
    user(&app, PHONE).await;
    app.phone_on_hotspot(MAC, IP);
    let mut phone = Visitor::new(&app);
    let page = phone.get(&format!("/captive?ip={IP}&mac={MAC}")).await;
    let step = phone
        .submit(&page.body, "/captive/request", &[("phone_number", PHONE)])
        .await;
    app.sim.set_fault(lpsaring_routeros_sim::Faults {
        trap_next: Some((None, "failure: secret trap text".to_owned())),
        ..Default::default()
    });
    let done = phone
        .submit(
            &step.body,
            "/captive/verify",
            &[("otp", &code_for(&app, PHONE))],
        )
        .await;
    app.sim.set_fault(Default::default());
    assert_eq!(done.status, 502, "{}", done.body);
    assert!(
        done.body
            .contains("Router hotspot gagal memproses permintaan Anda"),
        "{}",
        done.body
    );
    assert!(!done.body.contains("secret trap"), "{}", done.body);
    assert!(!done.body.contains("router trap"), "{}", done.body);
}
