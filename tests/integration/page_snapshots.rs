//! The rendered pages in both languages, checked against stored snapshots (insta), so an
//! accidental change to a page shows in review as a diff of its HTML. The clock is fixed and
//! what differs between runs by design is masked: the CSRF token, the hashed asset names, the
//! hand-off token and the server's port.
//!
//! After an intended change: `INSTA_UPDATE=always cargo test -p lpsaring-tests --test
//! integration page_snapshots`, then review and commit the `.snap` files. CI (`CI=true`) fails
//! on a missing or different snapshot.

use chrono::{TimeZone, Utc};
use lpsaring_tests::TestApp;

use crate::payments::{create_package, initiate, sandbox_app};
use crate::portal::{cookies_of, get_as};
use crate::quota::admin_token;

const PHONE: &str = "081299997201";
const MAC: &str = "02:00:00:00:72:01";
const IP: &str = "10.5.50.72";

/// The masks: (pattern, replacement).
const FILTERS: &[(&str, &str)] = &[
    (r#"(name="csrf" value=")[^"]+"#, "${1}[csrf]"),
    (r#"(name="csrf-token" content=")[^"]+"#, "${1}[csrf]"),
    (
        r"/assets/([a-z]+)\.[0-9a-f]{6,}\.(css|js|svg|png)",
        "/assets/${1}.[hash].${2}",
    ),
    (r"token=[A-Za-z0-9_\-]{20,}", "token=[token]"),
    (r"([?&]t=)[A-Za-z0-9_\-]{16,}", "${1}[link]"),
    (r"-[0-9A-F]{12}\b", "-[order]"),
    (r"127\.0\.0\.1:\d+", "[addr]"),
    (r#"(nonce=")[^"]+"#, "${1}[nonce]"),
];

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    for (pattern, replacement) in FILTERS {
        s.add_filter(pattern, *replacement);
    }
    s.set_prepend_module_to_snapshot(false);
    s.set_snapshot_path("snapshots");
    s
}

/// `path` with `?lang=` (or `&lang=`) added.
fn in_lang(path: &str, lang: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={lang}")
}

/// The snapshot name of a page: its path without the query, `/` as `-`.
fn name_of(path: &str, lang: &str) -> String {
    let path = path.split('?').next().unwrap_or(path).trim_matches('/');
    let path = if path.is_empty() { "home" } else { path };
    format!("{}-{lang}", path.replace('/', "-"))
}

async fn snapshot_pages(app: &TestApp, cookie: &str, paths: &[&str]) {
    for path in paths {
        for lang in ["id", "en"] {
            let res = get_as(app, cookie, &in_lang(path, lang)).await;
            assert!(
                res.status().is_success(),
                "{path} ({lang}): {}",
                res.status()
            );
            let html = res.text().await.unwrap();
            settings().bind(|| insta::assert_snapshot!(name_of(path, lang), html));
        }
    }
}

#[tokio::test]
async fn the_pages_match_their_snapshots_in_both_languages() {
    let app = sandbox_app().await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0).unwrap());
    snapshot_pages(
        &app,
        "",
        &[
            &format!("/captive?ip={IP}&mac={MAC}"),
            "/login",
            "/register",
            "/policy/blocked",
        ],
    )
    .await;

    app.user_with_quota(PHONE, true).await;
    app.phone_on_hotspot(MAC, IP);
    let login = app.login_by_code(PHONE, Some((IP, MAC))).await;
    assert_eq!(login.status(), 200);
    let cookie = cookies_of(&login);
    // One order waiting for payment, for the purchases list.
    let token = login.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = admin_token(&app).await;
    let package = create_package(&app, &admin, "5 GB 30 hari").await;
    initiate(&app, &token, package).await;
    snapshot_pages(
        &app,
        &cookie,
        &[
            "/captive/terhubung",
            "/akun",
            "/akun/perangkat",
            "/akun/riwayat",
            "/akun/profil",
        ],
    )
    .await;
}
