//! The language a user chooses on their profile (`PUT /api/users/me/profile`, the form on
//! `/akun/profil`): stored on the account, remembered by the browser, brought along by the next
//! login in any browser, and used for their WhatsApp messages.

use lpsaring_kernel::Phone;
use lpsaring_tests::{TestApp, set_cookie, spawn_app};
use serde_json::{Value, json};

use crate::portal::{cookies_of, get_as};
use crate::purchase::hidden;
use crate::web::client;

const PHONE: &str = "081299997101";

/// The answer's body, with its status as `_status` and its cookies as `_cookies`.
async fn put_profile(app: &TestApp, cookie: &str, body: Value) -> Value {
    let res = client()
        .put(app.url("/api/users/me/profile"))
        .header("cookie", cookie)
        .header("origin", app.base_url.as_str())
        .json(&body)
        .send()
        .await
        .unwrap();
    let cookies = cookies_of(&res);
    let status = res.status();
    let mut body: Value = res.json().await.unwrap_or(Value::Null);
    body["_status"] = status.as_u16().into();
    body["_cookies"] = cookies.into();
    body
}

#[tokio::test]
async fn the_chosen_language_is_stored_and_used_for_pages_logins_and_messages() {
    let app = spawn_app().await;
    app.user_with_quota(PHONE, true).await;
    let login = app.login_by_code(PHONE, None).await;
    assert_eq!(login.status(), 200);
    assert_eq!(set_cookie(&login, "lang"), None, "no choice yet, no cookie");
    let session = cookies_of(&login);

    // JSON: a bad language is a 422 naming the field, and the name given with it is not kept.
    let body = put_profile(
        &app,
        &session,
        json!({"full_name": "Nama Baru", "language": "fr"}),
    )
    .await;
    assert_eq!(body["_status"], 422, "{body}");
    assert_eq!(body["details"]["field"], "language", "{body}");
    let body = put_profile(&app, &session, json!({"language": "en"})).await;
    assert_eq!(body["_status"], 200, "{body}");
    assert_eq!(body["language"], "en");
    assert_ne!(body["full_name"], "Nama Baru");
    assert!(
        body["_cookies"].as_str().unwrap().contains("lang=en"),
        "{body}"
    );
    let user = app
        .app
        .users
        .find(&Phone::parse(PHONE).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.language, Some(lpsaring_kernel::Lang::En));

    // Pages: a browser without the cookie (an Indonesian phone) gets English after logging in.
    app.clock.advance(chrono::Duration::seconds(61));
    let login = app.login_by_code(PHONE, None).await;
    assert_eq!(set_cookie(&login, "lang").as_deref(), Some("en"));
    let fresh = cookies_of(&login);
    let html = get_as(&app, &fresh, "/akun/profil")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<h1>Profile</h1>"), "{html}");
    assert!(html.contains("aria-pressed=\"true\">English"), "{html}");

    // WhatsApp: the next code goes out in English although the request says Indonesian.
    app.clock.advance(chrono::Duration::seconds(61));
    let res = client()
        .post(app.url("/api/auth/request-otp"))
        .header("accept-language", "id-ID,id")
        .json(&json!({"phone_number": PHONE}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, text) = app.outbox().pop().unwrap();
    assert!(text.contains("your hotspot login code"), "{text}");

    // The page's form switches back, with its token; the page then speaks Indonesian.
    let res = get_as(&app, &fresh, "/akun/profil").await;
    let csrf_cookie = set_cookie(&res, "csrf").unwrap();
    let csrf = hidden(&res.text().await.unwrap(), "csrf");
    let form_cookies = format!("{fresh}; csrf={csrf_cookie}");
    let res = client()
        .post(app.url("/akun/profil/bahasa"))
        .header("cookie", &form_cookies)
        .form(&[("csrf", csrf.as_str()), ("language", "id")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(set_cookie(&res, "lang").as_deref(), Some("id"));
    let html = get_as(&app, &form_cookies, "/akun/profil?ok=bahasa&lang=id")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Bahasa disimpan."), "{html}");
    // A made-up language through the form is the page again with the reason (in the language
    // of this request's cookie, still English), nothing stored.
    let res = client()
        .post(app.url("/akun/profil/bahasa"))
        .header("cookie", &form_cookies)
        .form(&[("csrf", csrf.as_str()), ("language", "xx")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose Bahasa Indonesia or English.")
    );
    let user = app.app.users.get(user.id).await.unwrap().unwrap();
    assert_eq!(user.language, Some(lpsaring_kernel::Lang::Id));
}
