//! Payments over HTTP on the whole app (issue 12): packages (public list, admin CRUD, the CLI),
//! gateway orders through the real sandbox plugin, verified webhooks applied exactly once, and
//! reconciliation.

use lpsaring_tests::{TestApp, spawn_app_with};
use serde_json::{Value, json};

use crate::quota::{admin_token, assert_envelope, send};

const GIB: i64 = 1 << 30;

async fn app() -> TestApp {
    spawn_app_with(|s| s.quota.sync_interval_secs = 3_600, salvo::Router::new()).await
}

fn package(name: &str, price: i64, sort: i32) -> Value {
    json!({
        "name": name, "price": price, "quota_bytes": 5 * GIB,
        "validity_hours": 720, "hotspot_profile": "paket-5gb", "sort_order": sort
    })
}

#[tokio::test]
async fn admins_manage_packages_and_everyone_sees_the_active_ones_sorted() {
    let app = app().await;
    let admin = admin_token(&app).await;
    let url = app.url("/api/admin/packages");

    // Guards: nobody and non-admins get the envelope.
    let (status, body) = send(app.http.post(&url).json(&package("x", 1, 0)), None).await;
    assert_eq!(status, 401, "{body}");
    assert_envelope(&body, 401);

    let mut ids = Vec::new();
    for (name, price, sort) in [
        ("30 hari", 50_000, 2),
        ("3 jam", 3_000, 0),
        ("7 hari", 20_000, 1),
    ] {
        let (status, body) = send(
            app.http.post(&url).json(&package(name, price, sort)),
            Some(&admin),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["name"], name);
        ids.push(body["id"].as_i64().unwrap());
    }
    // Names are unique; bad input names the problem.
    let (status, body) = send(
        app.http.post(&url).json(&package("3 jam", 1, 0)),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("PACKAGE_NAME_TAKEN")),
        "{body}"
    );
    for bad in [
        json!({"name": "", "price": 1, "quota_bytes": 1, "validity_hours": 1}),
        json!({"name": "n", "price": 0, "quota_bytes": 1, "validity_hours": 1}),
        json!({"name": "n", "price": 1, "quota_bytes": 0, "validity_hours": 1}),
        json!({"name": "n", "price": 1, "unlimited": true, "validity_hours": 0}),
        json!({"name": "n", "price": "lots"}),
    ] {
        let (status, body) = send(app.http.post(&url).json(&bad), Some(&admin)).await;
        assert_eq!(status, 422, "{bad} -> {body}");
        assert_envelope(&body, 422);
    }

    // Public list: active only, by sort order.
    let update = json!({"name": "7 hari", "price": 20_000, "quota_bytes": GIB, "validity_hours": 168,
        "sort_order": 1, "is_active": false});
    let (status, body) = send(
        app.http
            .put(app.url(&format!("/api/admin/packages/{}", ids[2])))
            .json(&update),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, list) = send(app.http.get(app.url("/api/packages")), None).await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["3 jam", "30 hari"]);
    assert_eq!(list[0]["validity_hours"], 720);
    assert_eq!(list[0]["hotspot_profile"], "paket-5gb");

    // Nobody bought it: deleted.
    let (status, body) = send(
        app.http
            .delete(app.url(&format!("/api/admin/packages/{}", ids[2]))),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("deleted")),
        "{body}"
    );
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/admin/packages/{}", ids[2]))),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_package_cli_adds_lists_and_disables() {
    let app = app().await;
    let out = app
        .run_cli(&[
            "package",
            "add",
            "--name",
            "3 jam",
            "--price",
            "3000",
            "--quota-bytes",
            "1073741824",
            "--hours",
            "3",
            "--profile",
            "cepat",
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: i64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the new id");
    let out = app
        .run_cli(&[
            "package",
            "add",
            "--name",
            "Bulanan",
            "--price",
            "100000",
            "--unlimited",
            "--days",
            "30",
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Neither a quota nor unlimited, or both validities: refused before anything is written.
    let out = app
        .run_cli(&[
            "package", "add", "--name", "x", "--price", "1", "--days", "1",
        ])
        .await;
    assert!(!out.status.success());
    let out = app
        .run_cli(&[
            "package",
            "add",
            "--name",
            "x",
            "--price",
            "1",
            "--unlimited",
            "--days",
            "1",
            "--hours",
            "2",
        ])
        .await;
    assert!(!out.status.success());

    let out = app.run_cli(&["package", "disable", &id.to_string()]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = app.run_cli(&["package", "list"]).await;
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let three = rows.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(
        (
            three["validity_hours"].as_i64(),
            three["is_active"].as_bool()
        ),
        (Some(3), Some(false))
    );
    assert_eq!(three["hotspot_profile"], "cepat");
    let monthly = rows.iter().find(|r| r["name"] == "Bulanan").unwrap();
    assert_eq!(
        (
            monthly["unlimited"].as_bool(),
            monthly["validity_hours"].as_i64()
        ),
        (Some(true), Some(720))
    );

    // The running service sees the CLI's list.
    let (_, list) = send(app.http.get(app.url("/api/packages")), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    app.stop().await;
}
