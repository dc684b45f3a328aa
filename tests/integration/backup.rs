//! `lpsaring backup` while the real service runs (it snapshots its state store when asked),
//! `restore` refused while it runs, then wipe and restore: users, quota, orders, sessions and
//! state-store entries are all back. On SQLite, and on Postgres (`pg_dump`) when set.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use lpsaring::Settings;
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{EphemeralStore, Phone};
use lpsaring_payments::api::PackageInput;
use lpsaring_payments::manual::{ManualMethod, ManualSale};
use lpsaring_quota::api::{Grant, GrantSource};
use lpsaring_tests::{Running, lpsaring_command, stderr, succeeded, test_settings};
use sea_orm::ConnectionTrait;

const PHONE: &str = "081234567890";
const STATE_KEY: &str = "backup-test:entry";

/// `lpsaring <args>` against `settings`' data dir, database and listen address.
async fn cli(settings: &Settings, args: &[&str]) -> Output {
    let mut cmd = command(settings);
    cmd.args(args);
    tokio::task::spawn_blocking(move || cmd.output().expect("run lpsaring"))
        .await
        .expect("the CLI ran")
}

fn command(settings: &Settings) -> std::process::Command {
    let mut cmd = lpsaring_command(&settings.data_dir);
    cmd.env("LPSARING_DATA_DIR", &settings.data_dir)
        .env("LPSARING_HTTP__LISTEN", &settings.http.listen)
        .env("LPSARING_PLUGINS__DIR", &settings.plugins.dir)
        .env("LPSARING_LOG__LEVEL", "warn");
    if let Some(url) = &settings.database.url {
        cmd.env("LPSARING_DATABASE__URL", url.expose());
    }
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// What the backup must bring back.
struct Made {
    user: lpsaring_kernel::UserId,
    access_token: String,
    refresh_token: String,
    order_id: String,
    bytes: i64,
}

async fn make_data(settings: &Settings) -> Made {
    let app = lpsaring::build(settings.clone()).await.expect("app builds");
    let phone = Phone::parse(PHONE).unwrap();
    let admin = app
        .users
        .create(
            &Phone::parse("081234567000").unwrap(),
            "Admin",
            true,
            Role::Admin,
        )
        .await
        .unwrap();
    let user = app
        .users
        .create(&phone, "Budi", true, Role::User)
        .await
        .unwrap();
    app.quota
        .grant(&Grant::new(
            user.id,
            1 << 30,
            24,
            GrantSource::Admin,
            "backup-test",
            "test",
        ))
        .await
        .unwrap();
    let package = app
        .payments
        .create_package(&PackageInput {
            name: "Paket 5 GB".into(),
            description: None,
            price: 25_000,
            quota_bytes: 5 << 30,
            unlimited: false,
            validity_hours: 720,
            hotspot_profile: None,
            sort_order: 0,
            is_active: true,
        })
        .await
        .unwrap();
    let order = app
        .payments
        .record_manual_sale(
            admin.id,
            &ManualSale {
                phone: PHONE.into(),
                package_id: package.id,
                method: ManualMethod::Cash,
                note: None,
            },
        )
        .await
        .unwrap();
    let session = app
        .sessions
        .issue(&user, None, Some("backup"))
        .await
        .unwrap();
    app.store
        .set(STATE_KEY, b"kept".to_vec(), None)
        .await
        .unwrap();
    let bytes = app.quota.show(user.id).await.unwrap().purchased_bytes;
    assert_eq!(bytes, (1 << 30) + (5 << 30));
    Made {
        user: user.id,
        access_token: session.access_token.expose().clone(),
        refresh_token: session.refresh_token.unwrap().expose().clone(),
        order_id: order.order_id,
        bytes,
    }
}

/// Starts `lpsaring serve` and waits until it accepts connections.
fn serve(settings: &Settings) -> Running {
    let child = command(settings)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lpsaring serve");
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(&settings.http.listen).is_err() {
        assert!(Instant::now() < deadline, "the service did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    running
}

/// Everything the instance had is gone: the data dir's files, or the Postgres schema.
async fn wipe(settings: &Settings) {
    for entry in std::fs::read_dir(&settings.data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::remove_file(&path).unwrap();
        }
    }
    if let Some(url) = &settings.database.url {
        let db = sea_orm::Database::connect(url.expose()).await.unwrap();
        db.execute_unprepared("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            .await
            .unwrap();
        let _ = db.close().await;
    }
}

#[tokio::test]
async fn backup_while_serving_then_wipe_and_restore_brings_everything_back() {
    let data_dir = tempfile::tempdir().unwrap();
    let (mut settings, _database) = test_settings(&data_dir).await;
    settings.http.listen = format!("127.0.0.1:{}", free_port());
    settings.plugins.dir = data_dir.path().join("plugins");
    std::fs::create_dir_all(&settings.plugins.dir).unwrap();
    let made = make_data(&settings).await;

    let service = serve(&settings);
    let backups = tempfile::tempdir().unwrap();
    let out = cli(
        &settings,
        &["backup", "--to", backups.path().to_str().unwrap()],
    )
    .await;
    let stdout = succeeded(&out);
    let archive = stdout
        .trim()
        .strip_prefix("Backup written to ")
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned();
    assert!(archive.ends_with(".tar"), "{archive}");
    let manifest = lpsaring::backup::manifest(std::path::Path::new(&archive)).unwrap();
    assert!(
        manifest.state_from_service,
        "the running service wrote the snapshot"
    );
    assert!(
        manifest.secret_key && manifest.state_entries >= 1,
        "{manifest:?}"
    );

    // The snapshot endpoint answers only the local CLI: a wrong token or a proxied request is a 404.
    let keys = lpsaring_auth::secrets::Keys::load_or_create(None, &settings.data_dir).unwrap();
    let token =
        lpsaring::backup::endpoint::token(&keys.derive(lpsaring::backup::endpoint::TOKEN_PURPOSE));
    let url = format!("http://{}/system/state-snapshot", settings.http.listen);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for (bearer, forwarded) in [("wrong", false), (token.as_str(), true), ("", false)] {
        let mut req = http.post(&url).bearer_auth(bearer);
        if forwarded {
            req = req.header("x-forwarded-for", "203.0.113.9");
        }
        assert_eq!(
            req.send().await.unwrap().status(),
            404,
            "{bearer} {forwarded}"
        );
    }
    assert_eq!(
        http.post(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let out = cli(&settings, &["restore", &archive]).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("refusing to restore over a running instance"),
        "{}",
        stderr(&out)
    );

    drop(service);
    wipe(&settings).await;
    succeeded(&cli(&settings, &["restore", &archive]).await);

    let app = lpsaring::build(settings.clone())
        .await
        .expect("the restored app builds");
    let user = app
        .users
        .find(&Phone::parse(PHONE).unwrap())
        .await
        .unwrap()
        .expect("the user");
    assert_eq!(user.id, made.user);
    assert_eq!(
        app.quota.show(made.user).await.unwrap().purchased_bytes,
        made.bytes
    );
    let orders = app.payments.my_orders(made.user).await.unwrap();
    assert!(
        orders.iter().any(|o| o.order_id == made.order_id),
        "{orders:?}"
    );
    // The session: the access token verifies (the secret key came back) and the refresh token
    // rotates (its row came back).
    assert_eq!(
        app.sessions.verify_access(&made.access_token).unwrap().user,
        made.user
    );
    app.sessions
        .rotate(&made.refresh_token, None, Some("backup"))
        .await
        .expect("the refresh token still works");
    assert_eq!(
        app.store.get(STATE_KEY).await.unwrap().as_deref(),
        Some(&b"kept"[..])
    );
}

#[tokio::test]
async fn the_daily_job_writes_a_backup_at_its_hour_and_keeps_the_newest() {
    use chrono::Timelike;
    let app = lpsaring_tests::spawn_app_with(
        |s| {
            let now = lpsaring_kernel::Clock::now(&lpsaring_kernel::SystemClock);
            let hour = now.with_timezone(&s.tz()).hour();
            s.backup.hour = Some(u8::try_from(hour).unwrap());
            s.backup.keep = 2;
            let dir = s.data_dir.join("backups");
            std::fs::create_dir_all(&dir).unwrap();
            for old in [
                "lpsaring-backup-20000101T030000Z.tar",
                "lpsaring-backup-20000102T030000Z.tar",
            ] {
                std::fs::write(dir.join(old), "old").unwrap();
            }
        },
        salvo::Router::new(),
    )
    .await;
    let backups = app.app.settings.data_dir.join("backups");
    let deadline = Instant::now() + Duration::from_secs(60);
    let names = loop {
        let mut names: Vec<String> = std::fs::read_dir(&backups)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.retain(|n| !n.starts_with('.'));
        names.sort();
        if names.len() == 2
            && names[1].starts_with("lpsaring-backup-20")
            && !names[1].starts_with("lpsaring-backup-2000")
        {
            break names;
        }
        assert!(Instant::now() < deadline, "no daily backup: {names:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        names[0], "lpsaring-backup-20000102T030000Z.tar",
        "the oldest went"
    );
    let manifest = lpsaring::backup::manifest(&backups.join(&names[1])).unwrap();
    assert!(manifest.state_from_service);
    assert_eq!(manifest.database, app.backend());
}
