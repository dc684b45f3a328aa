//! The purchase pages over HTTP, without a browser (issue 12): `/paket`, `/paket/{id}/beli`,
//! `/bayar/{order_id}` and its invoice, with the real sandbox plugin taking the orders.

use lpsaring_tests::set_cookie;
use reqwest::header::{COOKIE, LOCATION};

use crate::payments::{BUYER, buyer, create_package, initiate, sandbox_app};
use crate::quota::admin_token;
use crate::web::client;

/// The value of `name="…" value="…"` in a form.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let rest = html.split(&marker).nth(1).expect("the hidden field");
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The sandbox checkout's Pay button, as the buyer's browser posts it (redirects not followed).
pub(crate) async fn pay_in_sandbox(
    app: &lpsaring_tests::TestApp,
    order_id: &str,
) -> reqwest::Response {
    client()
        .post(app.url(&format!("/pay/sandbox/{order_id}")))
        .header("Origin", app.base_url.as_str())
        .form(&[("outcome", "paid")])
        .send()
        .await
        .unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()[LOCATION].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_shop_lists_packages_in_both_languages_and_says_when_it_cannot_sell() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    create_package(&app, &admin, "30 hari").await;
    let html = app.get("/paket").await.text().await.unwrap();
    assert!(
        html.contains("Beli paket") && html.contains("30 hari"),
        "{html}"
    );
    assert!(
        html.contains("5 GB") && html.contains("Rp 50.000"),
        "{html}"
    );
    assert!(html.contains("href=\"/paket/"), "{html}");
    // The habis and expired pages lead here.
    for status in ["habis", "expired"] {
        let html = app
            .get(&format!("/policy/{status}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("id=\"buy\" href=\"/paket\""),
            "{status}: {html}"
        );
    }
    let html = app.get("/paket?lang=en").await.text().await.unwrap();
    assert!(
        html.contains("Buy a package") && html.contains("30 days"),
        "{html}"
    );
    app.stop().await;

    // Without a payment plugin the list still shows, with the sentence instead of a dead end.
    let app = crate::payments::app().await;
    let html = app.get("/paket").await.text().await.unwrap();
    assert!(html.contains("Pembayaran online belum tersedia"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn buying_on_the_pages_goes_to_the_checkout_and_back_to_a_paid_status_and_invoice() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB 30 hari").await;
    let (user, token) = buyer(&app, BUYER).await;
    let http = client();
    let beli = app.url(&format!("/paket/{package_id}/beli"));

    // Not logged in: to the login page, coming back here afterwards.
    let res = http.get(&beli).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(
        location(&res),
        format!("/login?next=/paket/{package_id}/beli")
    );

    // Logged in (the session cookie): the form, carrying the CSRF token.
    let session = format!("auth_token={token}");
    let res = http
        .get(&beli)
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csrf_cookie = set_cookie(&res, "csrf").expect("a csrf cookie");
    let html = res.text().await.unwrap();
    assert!(
        html.contains("5 GB 30 hari") && html.contains("Rp 50.000"),
        "{html}"
    );
    let csrf = hidden(&html, "csrf");
    let cookies = format!("{session}; csrf={csrf_cookie}");

    // A form without its token is refused in place, nothing ordered.
    let res = http
        .post(&beli)
        .header(COOKIE, &cookies)
        .header("Origin", app.base_url.as_str())
        .form(&[("method", ""), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Formulir kedaluwarsa"));
    assert!(app.app.payments.my_orders(user).await.unwrap().is_empty());

    // Pay: the order's status page, which goes straight on to the checkout.
    let res = http
        .post(&beli)
        .header(COOKIE, &cookies)
        .header("Origin", app.base_url.as_str())
        .form(&[("method", ""), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let status_path = location(&res);
    assert!(
        status_path.starts_with("/bayar/") && status_path.ends_with("&go=1"),
        "{status_path}"
    );
    let order_id = status_path["/bayar/".len()..status_path.find('?').unwrap()].to_owned();
    let link = status_path.trim_end_matches("&go=1").to_owned();
    let html = app.get(&status_path).await.text().await.unwrap();
    assert!(
        html.contains(&format!("content=\"0;url=/pay/sandbox/{order_id}\"")),
        "{html}"
    );
    // Opened again (the provider's return, or the link in WhatsApp): pending, refreshing itself.
    let html = app.get(&link).await.text().await.unwrap();
    assert!(html.contains("data-status=\"PENDING\""), "{html}");
    assert!(
        html.contains("http-equiv=\"refresh\" content=\"5;url=/bayar/"),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/pay/sandbox/{order_id}\"")),
        "{html}"
    );

    // The sandbox's Pay button, then back on the status page: paid, no more refreshing.
    let res = pay_in_sandbox(&app, &order_id).await;
    assert_eq!(res.status(), 303);
    let back = location(&res);
    assert!(back.starts_with(&format!("/bayar/{order_id}?t=")), "{back}");
    let html = app.get(&back).await.text().await.unwrap();
    assert!(html.contains("data-status=\"SUCCESS\""), "{html}");
    assert!(html.contains("Kuota sudah ditambahkan"), "{html}");
    assert!(!html.contains("http-equiv=\"refresh\""), "{html}");
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        5 << 30
    );

    // The invoice opens from the link without a login, and for the owner by the session.
    let invoice = format!(
        "/bayar/{order_id}/invoice{}",
        &link[link.find('?').unwrap()..]
    );
    let res = app.get(&invoice).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("@media print") && html.contains("Rp 50.000"),
        "{html}"
    );
    assert!(
        html.contains("data-status=\"SUCCESS\"") && html.contains("Budi"),
        "{html}"
    );
    let res = http
        .get(app.url(&format!("/bayar/{order_id}/invoice?lang=en")))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Invoice"));

    // Nobody else: no link and no session → log in; a wrong link or another user → not found.
    let res = http
        .get(app.url(&format!("/bayar/{order_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert!(location(&res).starts_with("/login?next="));
    let res = app.get(&format!("/bayar/{order_id}/invoice?t=1.abc")).await;
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Pesanan tidak ditemukan")
    );
    let (_, other) = buyer(&app, "081234567999").await;
    let res = http
        .get(app.url(&format!("/bayar/{order_id}")))
        .header(COOKIE, format!("auth_token={other}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // An unknown package is a readable page, not a panic.
    let res = http
        .get(app.url("/paket/999999/beli"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Paket tidak tersedia"));
    app.stop().await;
}

#[tokio::test]
async fn the_purchase_history_lists_orders_with_status_method_amount_and_invoice_links() {
    let app = sandbox_app().await;
    let admin = admin_token(&app).await;
    let first = create_package(&app, &admin, "5 GB 30 hari").await;
    let second = create_package(&app, &admin, "Paket malam").await;
    let (_, token) = buyer(&app, BUYER).await;
    let session = format!("auth_token={token}");
    let http = client();
    let history = |cookie: &str, lang: &str| {
        http.get(app.url(&format!("/akun/riwayat?lang={lang}")))
            .header(COOKIE, cookie.to_owned())
            .send()
    };

    // Logged out: the login, coming back here.
    let res = http.get(app.url("/akun/riwayat")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/login?next=/akun/riwayat");
    let html = history(&session, "id").await.unwrap().text().await.unwrap();
    assert!(html.contains("Belum ada pembelian") && html.contains("href=\"/paket\""));

    // One paid through the sandbox, one left pending.
    let paid = initiate(&app, &token, first).await["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = pay_in_sandbox(&app, &paid).await;
    assert_eq!(res.status(), 303);
    let pending = initiate(&app, &token, second).await["order_id"]
        .as_str()
        .unwrap()
        .to_owned();

    for (lang, words) in [
        (
            "id",
            [
                "Riwayat pembelian",
                "Lunas",
                "Menunggu pembayaran",
                "Rp 50.000",
            ],
        ),
        (
            "en",
            [
                "Purchase history",
                "Paid",
                "Waiting for payment",
                "Rp 50.000",
            ],
        ),
    ] {
        let res = history(&session, lang).await.unwrap();
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        for word in words {
            assert!(html.contains(word), "{lang}: {word} missing in {html}");
        }
        assert!(
            html.contains("data-status=\"SUCCESS\"") && html.contains("data-status=\"PENDING\"")
        );
        // Newest first; the invoice only for the paid one; the portal's tabs.
        assert!(html.find(&pending).unwrap() < html.find(&paid).unwrap());
        assert!(html.contains(&format!("href=\"/bayar/{paid}/invoice\"")));
        assert!(!html.contains(&format!("/bayar/{pending}/invoice")));
        assert!(html.contains(&format!("href=\"/bayar/{pending}\"")));
        assert!(html.contains("href=\"/akun/riwayat\" aria-current=\"page\""));
    }
    // The invoice link opens for the owner by the session.
    let res = http
        .get(app.url(&format!("/bayar/{paid}/invoice")))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Another user sees none of it.
    let (_, other) = buyer(&app, "081234567998").await;
    let html = history(&format!("auth_token={other}"), "en")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("No purchases yet") && !html.contains(&paid),
        "{html}"
    );
}
