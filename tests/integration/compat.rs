//! The original system's clients keep working: its request shapes on the paths we implement
//! (`hotspot_login_context` as a flag, `username` on the admin login, camelCase hints, partial
//! profile updates) and the fields its clients read from the answers. One table: each row a
//! request as the original's frontend sends it, the status it must get, and the fields the
//! answer must carry.

use lpsaring_auth::session::password::hash_password;
use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::Role;
use lpsaring_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

const USER: &str = "081299997001";
const ADMIN: &str = "081299997002";
const PASSWORD: &str = "kopi-susu-2026!";
const MAC: &str = "02:00:00:00:70:01";
const IP: &str = "10.5.50.71";

/// Who sends a row: nobody, or the user logged in by the table's own verify-otp rows.
#[derive(Clone, Copy)]
enum As {
    Anonymous,
    User,
}

/// A body field that is only known at run time.
enum Code {
    /// A fresh one-time code for `USER`, asked for just before the row.
    Fresh,
    No,
}

struct Case {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    who: As,
    code: Code,
    body: Value,
    status: u16,
    /// Fields the answer must have (a dotted path), with the value when it is fixed.
    fields: &'static [(&'static str, Option<&'static str>)],
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

async fn run(app: &TestApp, case: &Case, bearer: Option<&str>) -> Value {
    let mut body = case.body.clone();
    if let Code::Fresh = case.code {
        // Past the resend cooldown of the previous row's code.
        app.clock.advance(chrono::Duration::seconds(61));
        body["otp"] = app.request_code(USER).await.into();
    }
    let mut req = crate::web::client()
        .request(case.method.parse().unwrap(), app.url(case.path))
        .header("origin", app.base_url.as_str());
    if let (As::User, Some(token)) = (case.who, bearer) {
        req = req.bearer_auth(token);
    }
    if !body.is_null() {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let answer: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, case.status, "{}: {answer}", case.what);
    for (field, want) in case.fields {
        let got =
            at(&answer, field).unwrap_or_else(|| panic!("{}: no `{field}` in {answer}", case.what));
        if let Some(want) = want {
            let got = got.as_str().map_or_else(|| got.to_string(), str::to_owned);
            assert_eq!(&got, want, "{}: `{field}` in {answer}", case.what);
        }
    }
    answer
}

#[tokio::test]
async fn the_originals_requests_get_the_answers_its_clients_read() {
    let app = spawn_app().await;
    app.user_with_quota(USER, true).await;
    app.phone_on_hotspot(MAC, IP);
    let admin = Phone::parse(ADMIN).unwrap();
    app.app
        .users
        .create(&admin, "Operator", true, Role::Admin)
        .await
        .unwrap();
    app.app
        .users
        .set_admin_password(&admin, hash_password(PASSWORD).unwrap(), Role::Admin)
        .await
        .unwrap();

    let cases = [
        Case {
            what: "verify-otp with the original's flag and camelCase hints",
            method: "POST",
            path: "/api/auth/verify-otp",
            who: As::Anonymous,
            code: Code::Fresh,
            body: json!({
                "phone_number": USER,
                "clientIp": IP,
                "clientMac": MAC,
                "hotspot_login_context": true,
            }),
            status: 200,
            fields: &[
                ("access_token", None),
                ("token_type", Some("bearer")),
                ("hotspot_login_required", Some("false")),
                ("hotspot_binding_active", Some("true")),
                ("session_token", None),
                ("session_url", None),
                ("access_status", Some("ok")),
            ],
        },
        Case {
            what: "the flag false is a login outside the hotspot",
            method: "POST",
            path: "/api/auth/verify-otp",
            who: As::Anonymous,
            code: Code::Fresh,
            body: json!({"phone_number": USER, "hotspot_login_context": false}),
            status: 200,
            fields: &[("hotspot_binding_active", Some("false"))],
        },
        Case {
            what: "the flag true without the device is refused",
            method: "POST",
            path: "/api/auth/verify-otp",
            who: As::Anonymous,
            code: Code::Fresh,
            body: json!({"phone_number": USER, "hotspot_login_context": true}),
            status: 403,
            fields: &[("code", Some("HOTSPOT_CONTEXT_MISSING"))],
        },
        Case {
            what: "our own context object still works",
            method: "POST",
            path: "/api/auth/verify-otp",
            who: As::Anonymous,
            code: Code::Fresh,
            body: json!({
                "phone_number": USER,
                "client_ip": IP,
                "client_mac": MAC,
                "hotspot_login_context": {"link_orig": "http://example.invalid/"},
            }),
            status: 200,
            fields: &[("redirect", None), ("access_token", None)],
        },
        Case {
            what: "a context of another type is a 422 naming the field",
            method: "POST",
            path: "/api/auth/verify-otp",
            who: As::Anonymous,
            code: Code::Fresh,
            body: json!({"phone_number": USER, "hotspot_login_context": 7}),
            status: 422,
            fields: &[("code", Some("VALIDATION_ERROR"))],
        },
        Case {
            what: "admin login with `username`",
            method: "POST",
            path: "/api/auth/admin/login",
            who: As::Anonymous,
            code: Code::No,
            body: json!({"username": ADMIN, "password": PASSWORD}),
            status: 200,
            fields: &[
                ("access_token", None),
                ("user.role", Some("ADMIN")),
                ("user.approval_status", Some("APPROVED")),
            ],
        },
        Case {
            what: "admin login with `phone_number` as before",
            method: "POST",
            path: "/api/auth/admin/login",
            who: As::Anonymous,
            code: Code::No,
            body: json!({"phone_number": ADMIN, "password": PASSWORD}),
            status: 200,
            fields: &[("access_token", None)],
        },
        Case {
            what: "admin login with a wrong password",
            method: "POST",
            path: "/api/auth/admin/login",
            who: As::Anonymous,
            code: Code::No,
            body: json!({"username": ADMIN, "password": "not-the-password"}),
            status: 401,
            fields: &[("code", Some("AUTH_INVALID_CREDENTIALS"))],
        },
        Case {
            what: "me carries what the original's clients read",
            method: "GET",
            path: "/api/auth/me",
            who: As::User,
            code: Code::No,
            body: Value::Null,
            status: 200,
            fields: &[
                ("id", None),
                ("phone_number", Some("+6281299997001")),
                ("full_name", None),
                ("role", Some("USER")),
                ("approval_status", Some("APPROVED")),
                ("is_active", Some("true")),
                ("access_status", Some("ok")),
                // 5 GiB in the original's MiB.
                ("total_quota_purchased_mb", Some("5120.0")),
                ("total_quota_used_mb", Some("0.0")),
                ("is_unlimited_user", Some("false")),
                ("quota_expiry_date", None),
            ],
        },
        Case {
            what: "a profile update with the original's extra fields",
            method: "PUT",
            path: "/api/users/me/profile",
            who: As::User,
            code: Code::No,
            body: json!({"full_name": "Budi Santoso", "blok": "A", "kamar": "12"}),
            status: 200,
            fields: &[("full_name", Some("Budi Santoso"))],
        },
        Case {
            what: "the profile read under the /users namespace",
            method: "GET",
            path: "/api/users/me/profile",
            who: As::User,
            code: Code::No,
            body: Value::Null,
            status: 200,
            fields: &[("full_name", Some("Budi Santoso")), ("phone_number", None)],
        },
        Case {
            what: "the devices list",
            method: "GET",
            path: "/api/users/me/devices",
            who: As::User,
            code: Code::No,
            body: Value::Null,
            status: 200,
            fields: &[("devices", None)],
        },
        Case {
            what: "hand-off consume of an unknown token",
            method: "POST",
            path: "/api/auth/session/consume",
            who: As::Anonymous,
            code: Code::No,
            body: json!({"token": "no-such-token"}),
            status: 410,
            fields: &[("code", Some("SESSION_TOKEN_INVALID"))],
        },
    ];

    let mut bearer: Option<String> = None;
    for case in &cases {
        let answer = run(&app, case, bearer.as_deref()).await;
        if case.path == "/api/auth/verify-otp" && case.status == 200 {
            bearer = answer["access_token"].as_str().map(str::to_owned);
        }
    }
    // The flagged login bound the device on the router, as the original's captive page expects.
    let bindings = app
        .router_rows(lpsaring_routeros_sim::Menu::IpBinding)
        .into_iter()
        .filter(|r| r.get("mac-address") == Some(MAC))
        .count();
    assert_eq!(bindings, 1);
}

/// The original's web app posts its login as a form (`new URLSearchParams(...)`), its hotspot
/// flag as the word `true`: request-otp and verify-otp take that as they take JSON, and a form
/// that does not fit is a 422 naming the field, like JSON.
#[tokio::test]
async fn the_originals_form_encoded_login_works() {
    const PHONE: &str = "081299997011";
    const FORM_MAC: &str = "02:00:00:00:70:11";
    const FORM_IP: &str = "10.5.50.81";
    let app = spawn_app().await;
    app.user_with_quota(PHONE, true).await;
    app.phone_on_hotspot(FORM_MAC, FORM_IP);
    let post_form = |path: &str, body: String| {
        crate::web::client()
            .post(app.url(path))
            .header("origin", app.base_url.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };

    let res = post_form("/api/auth/request-otp", format!("phone_number={PHONE}"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let e164 = Phone::parse(PHONE).unwrap().to_string();
    let code = app.last_code(&e164).expect("a code was sent");

    let res = post_form(
        "/api/auth/verify-otp",
        format!("phone_number={PHONE}&otp=not-a-number&hotspot_login_context=7"),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(
        answer["details"]["field"], "hotspot_login_context",
        "{answer}"
    );

    let mac = FORM_MAC.replace(':', "%3A");
    let res = post_form(
        "/api/auth/verify-otp",
        format!(
            "phone_number={PHONE}&otp={code}&client_ip={FORM_IP}&client_mac={mac}&hotspot_login_context=true"
        ),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert!(answer["access_token"].is_string(), "{answer}");
    assert_eq!(answer["hotspot_binding_active"], true, "{answer}");
    assert_eq!(answer["device"]["mac"], FORM_MAC, "{answer}");

    // Anything else is still refused as before.
    let res = crate::web::client()
        .post(app.url("/api/auth/request-otp"))
        .header("origin", app.base_url.as_str())
        .header("content-type", "text/plain")
        .body(format!("phone_number={PHONE}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    app.stop().await;
}
