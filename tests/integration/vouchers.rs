//! Vouchers over HTTP on the whole app (issue 12, "Vouchers and cash"): batches by the admin JSON
//! and the CLI, codes kept so a batch prints again (sheet, CSV), revocation, and redeeming one
//! code into exactly one paid order with its quota grant, under concurrency and rate limits.

use futures_util::future::join_all;
use lpsaring_tests::{TestApp, count_rows};
use serde_json::{Value, json};

use crate::payments::{app, buyer, create_package};
use crate::quota::{admin_token, assert_envelope, send};

const GIB: i64 = 1 << 30;

pub(crate) async fn create_batch(app: &TestApp, admin: &str, body: Value) -> (u16, Value) {
    send(
        app.http.post(app.url("/api/admin/vouchers")).json(&body),
        Some(admin),
    )
    .await
}

pub(crate) async fn redeem(app: &TestApp, token: &str, code: &str) -> (u16, Value) {
    send(
        app.http
            .post(app.url("/api/vouchers/redeem"))
            .json(&json!({ "code": code })),
        Some(token),
    )
    .await
}

pub(crate) fn codes_of(created: &Value) -> Vec<String> {
    created["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_create_list_print_export_and_revoke_batches() {
    let app = app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB voucher").await;
    let (_, user_token) = buyer(&app, "081234567301").await;

    // Admins only, with the envelope; bad input names the problem.
    let body = json!({"package_id": package_id, "count": 3, "prefix": "rt5"});
    let (status, answer) = create_batch(&app, &user_token, body.clone()).await;
    assert_eq!(status, 403, "{answer}");
    assert_envelope(&answer, 403);
    for bad in [
        json!({"package_id": package_id, "count": 0}),
        json!({"package_id": package_id, "count": 10_001}),
        json!({"package_id": package_id, "count": 2, "prefix": "A-B"}),
        json!({"package_id": package_id, "count": "many"}),
    ] {
        let (status, answer) = create_batch(&app, &admin, bad.clone()).await;
        assert_eq!(status, 422, "{bad} -> {answer}");
        assert_envelope(&answer, 422);
    }
    let (status, answer) =
        create_batch(&app, &admin, json!({"package_id": 999_999, "count": 1})).await;
    assert_eq!(status, 404, "{answer}");

    let (status, created) = create_batch(&app, &admin, body).await;
    assert_eq!(status, 201, "{created}");
    let batch = created["batch_id"].as_str().unwrap().to_owned();
    let codes = codes_of(&created);
    assert_eq!(codes.len(), 3);
    for code in &codes {
        // RT5-XXXXX-XXXXX from the unambiguous alphabet.
        assert_eq!(code.len(), 3 + 1 + 5 + 1 + 5, "{code}");
        assert!(code.starts_with("RT5-"), "{code}");
        assert!(!code[4..].contains(['0', 'O', '1', 'I']), "{code}");
    }
    assert_eq!(created["count"], 3);
    assert_eq!(created["package_name"], "5 GB voucher");

    // Stored as a keyed hash and a sealed copy: no code in the table in clear.
    let raw = count_rows(&app.app.db, "vouchers").await;
    assert_eq!(raw, 3);

    // The codes come back for the admin (reprint), and only for the admin.
    let codes_url = app.url(&format!("/api/admin/vouchers/{batch}/codes"));
    let (status, _) = send(app.http.get(&codes_url), Some(&user_token)).await;
    assert_eq!(status, 403);
    let (status, listed) = send(app.http.get(&codes_url), Some(&admin)).await;
    assert_eq!(status, 200, "{listed}");
    let again: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(again, codes.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "active")
    );

    // One is used; the CSV and the sheet show it.
    let (status, order) = redeem(&app, &user_token, &codes[0].to_lowercase()).await;
    assert_eq!(status, 200, "{order}");
    let res = app
        .http
        .get(format!("{codes_url}?format=csv"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "code,status,redeemed_at,order_id");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].starts_with(&format!("\"{}\",\"redeemed\",", codes[0])),
        "{csv}"
    );
    assert!(
        lines[1].contains(order["order_id"].as_str().unwrap()),
        "{csv}"
    );
    assert_eq!(lines[2], format!("\"{}\",\"active\",\"\",\"\"", codes[1]));

    let res = app
        .http
        .get(app.url(&format!("/admin/vouchers/{batch}/print")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let sheet = res.text().await.unwrap();
    assert_eq!(sheet.matches("<svg").count(), 3, "one QR per card");
    for code in &codes {
        assert!(sheet.contains(code.as_str()), "{code}");
    }
    assert!(sheet.contains("Rp 50.000"));
    assert!(sheet.contains("@page{size:A4"));
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        sheet.contains(&format!("<style nonce=\"{nonce}\">")),
        "{csp}"
    );
    let res = app
        .http
        .get(app.url(&format!("/admin/vouchers/{batch}/print")))
        .bearer_auth(&user_token)
        .send()
        .await
        .unwrap();
    // A user is sent to the admin login (or refused): never the sheet.
    let status = res.status();
    let page = res.text().await.unwrap();
    assert!(
        !page.contains(codes[1].as_str()) && !page.contains("<svg"),
        "{status}"
    );

    // Revoke: the unused two stop working, the used one stays used.
    let (status, after) = send(
        app.http
            .post(app.url(&format!("/api/admin/vouchers/{batch}/revoke"))),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(
        (
            after["count"].as_i64(),
            after["used"].as_i64(),
            after["revoked"].as_i64()
        ),
        (Some(3), Some(1), Some(2))
    );
    let (status, answer) = redeem(&app, &user_token, &codes[1]).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (409, Some("VOUCHER_REVOKED")),
        "{answer}"
    );
    let (status, list) = send(app.http.get(app.url("/api/admin/vouchers")), Some(&admin)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["batch_id"], batch.as_str());
    let (status, _) = send(
        app.http
            .post(app.url("/api/admin/vouchers/no-such-batch/revoke")),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_redeemed_voucher_is_one_paid_order_even_when_fifty_race_for_it() {
    let app = app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    let (user, token) = buyer(&app, "081234567302").await;
    let (_, created) =
        create_batch(&app, &admin, json!({"package_id": package_id, "count": 2})).await;
    let codes = codes_of(&created);

    let answers = join_all((0..50).map(|_| redeem(&app, &token, &codes[0]))).await;
    let won: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .filter(|(s, _)| *s != 200)
            .all(|(s, b)| *s == 409 && b["code"] == "VOUCHER_USED"),
        "{answers:?}"
    );
    let order = won[0];
    assert_eq!(order["status"], "SUCCESS", "{order}");
    assert_eq!(order["source"], "voucher");
    assert_eq!(order["payment_method"], "voucher");
    assert_eq!(order["amount"], 50_000);
    assert_eq!(count_rows(&app.app.db, "transactions").await, 1);
    assert_eq!(count_rows(&app.app.db, "quota_ledger").await, 1);
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        5 * GIB
    );
    // The order is the user's like any other, and the confirmation is queued once.
    let (_, mine) = send(
        app.http.get(app.url("/api/users/me/transactions")),
        Some(&token),
    )
    .await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let order_id = order["order_id"].as_str().unwrap();
    let confirmations = lpsaring_kernel::outbox::list(&app.app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.body.contains(order_id))
        .count();
    assert_eq!(confirmations, 1);

    // Spaces, dashes and case do not matter; the second code is a second order.
    let typed = format!(" {} ", codes[1].replace('-', " ").to_lowercase());
    let (status, second) = redeem(&app, &token, &typed).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        app.app.quota.show(user).await.unwrap().purchased_bytes,
        10 * GIB
    );
    // Nobody logged in: 401.
    let (status, answer) = send(
        app.http
            .post(app.url("/api/vouchers/redeem"))
            .json(&json!({"code": codes[0]})),
        None,
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn wrong_codes_are_rate_limited_per_user_and_per_ip() {
    let app = app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    let (_, token) = buyer(&app, "081234567303").await;
    let (_, created) =
        create_batch(&app, &admin, json!({"package_id": package_id, "count": 1})).await;
    let good = codes_of(&created).remove(0);

    for wrong in (0..10).map(|i| format!("V-AAAAA-AAAA{}", (b'A' + i) as char)) {
        let (status, answer) = redeem(&app, &token, &wrong).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (400, Some("VOUCHER_INVALID")),
            "{answer}"
        );
        assert_envelope(&answer, 400);
    }
    // Budget spent: even the right code waits.
    let (status, answer) = redeem(&app, &token, &good).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{answer}"
    );
    assert!(answer["details"]["retry_after_secs"].as_u64().unwrap() > 0);
    // The budget is per IP as well: another user on the same address waits too.
    let (_, other) = buyer(&app, "081234567304").await;
    let (status, answer) = redeem(&app, &other, "V-BBBBB-BBBBB").await;
    assert_eq!(status, 429, "{answer}");
    // After the window: garbage is a wrong code too, never a 500; a malformed body is a 422.
    app.clock.advance(chrono::Duration::minutes(16));
    let (_, other) = buyer(&app, "081234567306").await;
    let (status, answer) = redeem(&app, &other, "<script>").await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = send(
        app.http
            .post(app.url("/api/vouchers/redeem"))
            .json(&json!({"kode": 1})),
        Some(&other),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    // Another user can still use the right code.
    let (status, answer) = redeem(&app, &other, &good).await;
    assert_eq!(status, 200, "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn the_voucher_cli_creates_lists_and_revokes_codes_the_service_reads() {
    let app = app().await;
    let admin = admin_token(&app).await;
    let package_id = create_package(&app, &admin, "5 GB").await;
    let out = app
        .run_cli(&[
            "voucher",
            "create",
            "--package",
            &package_id.to_string(),
            "--count",
            "1200",
            "--prefix",
            "KAS",
        ])
        .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("1200/1200"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    let batch = lines.next().unwrap().to_owned();
    let codes: Vec<&str> = lines.collect();
    assert_eq!(codes.len(), 1200);
    assert!(codes.iter().all(|c| c.starts_with("KAS-")));

    // The running service reads what the CLI wrote (same key from the server secret).
    let (status, listed) = send(
        app.http
            .get(app.url(&format!("/api/admin/vouchers/{batch}/codes"))),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed[1199]["code"], codes[1199]);
    let (_, token) = buyer(&app, "081234567305").await;
    let (status, answer) = redeem(&app, &token, codes[7]).await;
    assert_eq!(status, 200, "{answer}");

    let out = app.run_cli(&["voucher", "list"]).await;
    assert!(out.status.success());
    let row: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(
        (row["count"].as_i64(), row["used"].as_i64()),
        (Some(1200), Some(1))
    );

    let out = app.run_cli(&["voucher", "revoke", &batch]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(row["revoked"], 1199);
    let (status, _) = redeem(&app, &token, codes[8]).await;
    assert_eq!(status, 409);

    // Bad input: a clear failure, nothing written.
    let out = app
        .run_cli(&["voucher", "create", "--package", "999999", "--count", "2"])
        .await;
    assert!(!out.status.success());
    let out = app.run_cli(&["voucher", "revoke", "nope"]).await;
    assert!(!out.status.success());
    assert_eq!(count_rows(&app.app.db, "vouchers").await, 1200);
    app.stop().await;
}
