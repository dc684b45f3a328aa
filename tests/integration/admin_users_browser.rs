//! The operator's day in the panel, in a real headless Chromium with JavaScript off, at a
//! laptop's 1280×800 and a phone's 390×844: log in with the password and the authenticator code
//! → approve a pending user on `/admin/users` → adjust their quota from the same row → the audit
//! log page shows both. Skips (or fails under `LPSARING_REQUIRE_PEERS=1`) without chromedriver.
//! Also the users page over plain HTTP (filters, pages, the form token).

use chrono::Duration;
use lpsaring_auth::session::password::hash_password;
use lpsaring_auth::session::totp;
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Clock, Phone};
use lpsaring_tests::{TestApp, spawn_app};

use crate::browser::{Browser, ONE_BROWSER, driver_binary, screenshot_dir};

const ADMIN_PHONE: &str = "081100000701";
const PASSWORD: &str = "kopi-susu-2026!";

/// An admin with a password and a confirmed authenticator; answers its base32 secret.
async fn admin_with_authenticator(app: &TestApp) -> String {
    let phone = Phone::parse(ADMIN_PHONE).unwrap();
    let admin = app
        .app
        .users
        .create(&phone, "Operator", true, Role::Admin)
        .await
        .unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    app.app
        .users
        .set_admin_password(&phone, hash, Role::Admin)
        .await
        .unwrap();
    let enrolment = app.app.sessions.totp_start(&admin).await.unwrap();
    let secret = enrolment.secret_base32;
    app.app
        .sessions
        .totp_confirm(&admin, &code_now(app, &secret), None)
        .await
        .unwrap();
    secret
}

fn code_now(app: &TestApp, secret: &str) -> String {
    let bytes = totp::base32_decode(secret).unwrap();
    format!(
        "{:06}",
        totp::code_at(&bytes, totp::step_of(app.clock.now().timestamp()))
    )
}

async fn journey(app: &TestApp, browser: &Browser, secret: &str, pending_phone: &str, label: &str) {
    let shots = screenshot_dir(app, "admin");
    let pending = app
        .app
        .users
        .create(
            &Phone::parse(pending_phone).unwrap(),
            "Calon Pelanggan",
            false,
            Role::User,
        )
        .await
        .unwrap()
        .id;
    // Each login takes a code of a step not used before.
    app.clock.advance(Duration::seconds(30));

    browser
        .goto(&app.url("/admin/login?next=/admin/users"))
        .await;
    browser.type_into("#phone_number", ADMIN_PHONE).await;
    browser.type_into("#password", PASSWORD).await;
    browser
        .tap("form[action='/admin/login'] button[type=submit]")
        .await;
    browser.text_containing("h1", "Kode autentikator").await;
    browser
        .screenshot(&shots, &format!("{label}-code.png"))
        .await;
    browser.type_into("#code", &code_now(app, secret)).await;
    browser.tap("#verify").await;
    browser.text_containing("h1", "Pengguna").await;

    browser.goto(&app.url("/admin/users?status=pending")).await;
    browser
        .text_containing(&format!("#user-{}", pending.0), "Menunggu persetujuan")
        .await;
    browser.tap(&format!("#approve-{}", pending.0)).await;
    browser
        .text_containing("#users-notice", "Pengguna disetujui")
        .await;
    assert!(app.app.users.get(pending).await.unwrap().unwrap().approved);

    browser
        .goto(&app.url(&format!("/admin/users?q={pending_phone}")))
        .await;
    browser.tap(&format!("#user-{} summary", pending.0)).await;
    browser.type_into(&format!("#gib-{}", pending.0), "5").await;
    browser
        .type_into(&format!("#days-{}", pending.0), "30")
        .await;
    browser
        .type_into(&format!("#why-{}", pending.0), "bonus pendaftaran")
        .await;
    browser
        .screenshot(&shots, &format!("{label}-users.png"))
        .await;
    browser.tap(&format!("#adjust-{}", pending.0)).await;
    browser
        .text_containing("#users-notice", "Kuota disesuaikan")
        .await;
    assert_eq!(
        app.app.quota.show(pending).await.unwrap().purchased_bytes,
        5 << 30
    );

    browser
        .goto(&app.url(&format!("/admin/audit?target=user:{}", pending.0)))
        .await;
    browser.text_containing("#audit", "user.approve").await;
    browser.text_containing("#audit", "quota.adjust").await;
    browser
        .screenshot(&shots, &format!("{label}-audit.png"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_logs_in_with_a_code_approves_adjusts_and_sees_both_in_the_audit_log() {
    let Some(driver) = driver_binary() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app().await;
    let secret = admin_with_authenticator(&app).await;

    let laptop = Browser::open_sized(&driver, false, (1280, 800)).await;
    journey(&app, &laptop, &secret, "081234500701", "laptop").await;
    laptop.quit().await;

    let phone = Browser::open(&driver, false).await;
    journey(&app, &phone, &secret, "081234500702", "phone").await;
    phone.quit().await;
    app.stop().await;
}

/// The users page over plain HTTP: search, status filter, server-side pages with links, the CSV
/// link; a form without this browser's token changes nothing.
#[tokio::test]
async fn the_users_page_searches_filters_and_pages_on_the_server() {
    use crate::web::client;
    let app = spawn_app().await;
    let (_, admin) = app.logged_in("081100000711", Role::Admin).await;
    for i in 0..30 {
        let phone = Phone::parse(&format!("0812345007{i:02}")).unwrap();
        app.app
            .users
            .create(&phone, &format!("Warga {i:02}"), i % 3 != 0, Role::User)
            .await
            .unwrap();
    }
    let page = |path: String| {
        let req = client().get(app.url(&path)).header("cookie", &admin).send();
        async move {
            let res = req.await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            res.text().await.unwrap()
        }
    };
    let html = page("/admin/users".to_owned()).await;
    assert!(
        html.contains("id=\"users-total\">31<"),
        "30 users and the admin"
    );
    assert!(
        html.contains("href=\"/admin/users?q=&amp;status=&amp;page=2\""),
        "{html}"
    );
    assert!(html.contains("/api/admin/users?format=csv"));
    let html = page("/admin/users?status=pending".to_owned()).await;
    assert!(html.contains("id=\"users-total\">10<"), "{html}");
    assert!(html.contains("Setujui"));
    let html = page("/admin/users?q=warga%2007&lang=en".to_owned()).await;
    assert!(html.contains("id=\"users-total\">1<"), "{html}");
    let html = page("/admin/users?q=0812-3450-0705".to_owned()).await;
    assert!(html.contains("Warga 05"), "{html}");

    let pending = app
        .app
        .users
        .find(&Phone::parse("081234500700").unwrap())
        .await
        .unwrap()
        .unwrap();
    let res = client()
        .post(app.url(&format!("/admin/users/{}/approve", pending.id.0)))
        .header("cookie", &admin)
        .header("origin", &app.base_url)
        .form(&[("csrf", "forged"), ("back", "/admin/users")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        !app.app
            .users
            .get(pending.id)
            .await
            .unwrap()
            .unwrap()
            .approved
    );
}

/// "Add a user" on the users page: approved at once, with the starting quota in the ledger, both
/// audited; a phone already in use is refused on the page.
#[tokio::test]
async fn an_admin_adds_a_user_with_a_starting_quota() {
    use crate::web::client;
    let app = spawn_app().await;
    let (_, admin) = app.logged_in("081100000721", Role::Admin).await;
    let res = client()
        .get(app.url("/admin/users"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    let csrf_cookie = lpsaring_tests::set_cookie(&res, "csrf").unwrap();
    let html = res.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    let token = html[at..at + html[at..].find('"').unwrap()].to_owned();
    let create = |phone: &'static str, gib: &'static str| {
        client()
            .post(app.url("/admin/users/create"))
            .header("cookie", format!("{admin}; csrf={csrf_cookie}"))
            .header("origin", &app.base_url)
            .form(&[
                ("csrf", token.as_str()),
                ("phone", phone),
                ("name", "Bu Warung"),
                ("gib", gib),
                ("days", "30"),
            ])
            .send()
    };
    let res = create("0812-3450-0721", "2,5").await.unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.starts_with("/admin/users?q=") && to.ends_with("done=create"),
        "{to}"
    );
    let user = app
        .app
        .users
        .find(&Phone::parse("081234500721").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(user.approved);
    assert_eq!(
        app.app.quota.show(user.id).await.unwrap().purchased_bytes,
        5 << 29
    );
    let log = crate::admin_users::audit_of(&app, user.id.0).await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"user.create") && actions.contains(&"quota.adjust"),
        "{actions:?}"
    );

    let res = create("081234500721", "0").await.unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("role=\"alert\""));
    let res = create("081234500722", "banyak").await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        app.app
            .users
            .find(&Phone::parse("081234500722").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}
