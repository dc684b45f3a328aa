//! The host with the real plugin `.so` files: loading and refusing, faults, the allow-list, the
//! step limit. Vendor round trips against a local mock server are in `vendors.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value
)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use lpsaring_kernel::health::{Check, Health};
use lpsaring_kernel::ports::GatewayErrorKind;
use lpsaring_kernel::{FakeClock, Phone};
use lpsaring_plugin_host::{
    HostEnv, HostError, HostPolicy, PluginHost, PluginKind, PluginsSettings, RefuseReason, check,
    list,
};
use serde_json::json;
use support::*;

fn phone() -> Phone {
    Phone::parse("081234567890").unwrap()
}

fn fast_policy() -> HostPolicy {
    HostPolicy {
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(5),
        call_timeout: Duration::from_secs(5),
        ..HostPolicy::default()
    }
}

fn load(
    dir: &std::path::Path,
    config: serde_json::Value,
    env: HostEnv,
) -> (PluginHost, Vec<lpsaring_plugin_host::LoadReport>) {
    let mut settings = PluginsSettings {
        dir: dir.to_path_buf(),
        ..PluginsSettings::default()
    };
    if let serde_json::Value::Object(map) = config {
        settings.plugin_config = map.into_iter().collect();
    }
    PluginHost::load_dir_with_policy(
        &settings,
        &env,
        Arc::new(FakeClock::at_epoch_2026()),
        fast_policy(),
    )
}

#[tokio::test]
async fn loads_good_plugins_and_refuses_another_abi_version() {
    let dir = plugin_dir(&[CONSOLE, FAULTY, WRONG_ABI]);
    let (host, reports) = load(dir.path(), json!({}), HostEnv::default());
    let loaded: Vec<_> = reports
        .iter()
        .filter(|r| r.is_loaded())
        .map(|r| r.manifest.as_ref().unwrap().name.clone())
        .collect();
    assert_eq!(loaded, vec!["console".to_owned(), "faulty".to_owned()]);
    let refused: Vec<_> = reports.iter().filter(|r| !r.is_loaded()).collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0].refused,
        Some(RefuseReason::AbiVersion {
            found: 999,
            expected: 1
        })
    );
    assert!(
        refused[0]
            .to_string()
            .contains("liblpsaring_test_plugin_wrong_abi.so: built for plugin ABI version 999"),
        "{}",
        refused[0]
    );
    assert_eq!(host.manifests().count(), 2);
    // `/readyz` shows the refusal; the reason stays in the log and `plugins list`.
    assert_eq!(
        host.check().await,
        Check::degraded("loaded: console, faulty; 1 refused (see `lpsaring plugins list`)")
    );

    // The CLI functions say the same.
    assert_eq!(list(dir.path()), reports);
    let console = check(&plugin_file(CONSOLE)).unwrap();
    assert_eq!(
        (console.name.as_str(), console.kind),
        ("console", PluginKind::Messaging)
    );
    assert_eq!(
        check(&plugin_file(WRONG_ABI)),
        Err(RefuseReason::AbiVersion {
            found: 999,
            expected: 1
        })
    );
}

#[test]
fn the_walled_garden_is_every_loaded_plugins_hosts_once() {
    let dir = plugin_dir(&[CONSOLE, MIDTRANS, TRIPAY, FONNTE, CLOUD]);
    let (host, reports) = load(dir.path(), json!({}), HostEnv::default());
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:?}");
    let hosts = host.walled_garden_hosts();
    for needed in [
        "app.midtrans.com",
        "app.sandbox.midtrans.com",
        "tripay.co.id",
        "*.whatsapp.net",
        "wa.me",
    ] {
        assert!(hosts.iter().any(|h| h == needed), "{needed} in {hosts:?}");
    }
    // Sorted, each once (both WhatsApp plugins name the same hosts), never what the server calls.
    let mut sorted = hosts.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(hosts, sorted);
    assert!(!hosts.iter().any(|h| h == "api.fonnte.com"), "{hosts:?}");
    // The console names none: alone, the garden stays empty.
    let dir = plugin_dir(&[CONSOLE]);
    let (host, _) = load(dir.path(), json!({}), HostEnv::default());
    assert!(host.walled_garden_hosts().is_empty());
}

#[test]
fn unsafe_files_and_non_plugins_are_refused_before_loading() {
    let dir = tempfile::tempdir().unwrap();
    let file = copy_plugin(CONSOLE, dir.path());
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(
        check(&file),
        Err(RefuseReason::WorldWritable { mode: 0o666 })
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(check(&file).is_ok());

    // Owned by someone else (only testable as root, where chown works).
    if std::os::unix::fs::chown(&file, Some(65534), None).is_ok() {
        assert!(matches!(
            check(&file),
            Err(RefuseReason::BadOwner { owner: 65534, .. })
        ));
    }

    let not_a_plugin = dir.path().join("libnot_a_plugin.so");
    std::fs::write(&not_a_plugin, b"\x7fELF but not really").unwrap();
    assert!(matches!(check(&not_a_plugin), Err(RefuseReason::Open(_))));

    // A directory anyone can write to refuses everything in it.
    let open_dir = plugin_dir(&[CONSOLE]);
    std::fs::set_permissions(open_dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let reports = list(open_dir.path());
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].refused,
        Some(RefuseReason::DirectoryWorldWritable { mode: 0o777 })
    );
}

#[test]
fn missing_directory_is_a_report_not_a_crash() {
    let reports = list(std::path::Path::new("/nonexistent/lpsaring/plugins"));
    assert_eq!(reports.len(), 1);
    assert!(matches!(
        reports[0].refused,
        Some(RefuseReason::Unreadable(_))
    ));
}

#[tokio::test]
async fn console_send_goes_through_the_real_library_to_the_outbox() {
    let dir = plugin_dir(&[CONSOLE]);
    let data = tempfile::tempdir().unwrap();
    let env = HostEnv {
        data_dir: Some(data.path().to_path_buf()),
        public_url: None,
    };
    let (host, _) = load(dir.path(), json!({}), env);
    let messenger = host.messenger("console").unwrap();
    assert_eq!(messenger.name(), "console");
    messenger
        .send_text(&phone(), "Kode OTP Anda: 123456")
        .await
        .unwrap();
    messenger
        .send_document(
            &phone(),
            "Invoice",
            "https://portal.example/i/1.pdf",
            "1.pdf",
        )
        .await
        .unwrap();
    let outbox = std::fs::read_to_string(data.path().join("outbox.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = outbox
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        json!({"to": "+6281234567890", "text": "Kode OTP Anda: 123456", "at": "2026-01-01T00:00:00Z"})
    );
    assert_eq!(lines[1]["url"], "https://portal.example/i/1.pdf");
}

#[tokio::test]
async fn a_panicking_plugin_is_an_error_and_the_host_keeps_working() {
    let dir = plugin_dir(&[CONSOLE, FAULTY]);
    let data = tempfile::tempdir().unwrap();
    let (host, _) = load(
        dir.path(),
        json!({}),
        HostEnv {
            data_dir: Some(data.path().into()),
            public_url: None,
        },
    );
    let faulty = host.messenger("faulty").unwrap();
    let error = faulty.send_text(&phone(), "panic").await.unwrap_err();
    assert_eq!(error.code, "PLUGIN_PANICKED");
    assert_eq!(error.kind, GatewayErrorKind::Permanent);
    assert!(
        error.message.contains("faulty plugin panics on purpose"),
        "{error}"
    );
    // Same plugin, next call: fine. Other plugins: fine.
    assert_eq!(
        faulty
            .send_text(&phone(), "hello")
            .await
            .unwrap()
            .provider_id
            .as_deref(),
        Some("ok")
    );
    host.messenger("console")
        .unwrap()
        .send_text(&phone(), "still here")
        .await
        .unwrap();
}

#[tokio::test]
async fn garbage_answers_are_errors_not_crashes() {
    let dir = plugin_dir(&[FAULTY]);
    let (host, _) = load(dir.path(), json!({}), HostEnv::default());
    let faulty = host.messenger("faulty").unwrap();
    for text in ["garbage", "wrong-shape"] {
        let error = faulty.send_text(&phone(), text).await.unwrap_err();
        assert_eq!(error.code, "PLUGIN_BAD_OUTPUT", "{text}: {error}");
    }
}

#[tokio::test]
async fn requests_outside_allowed_hosts_are_refused_and_never_sent() {
    let mock = MockServer::start(|_| (200, "{}".to_owned())).await;
    let dir = plugin_dir(&[FAULTY]);
    let (host, _) = load(
        dir.path(),
        json!({"faulty": {"allow": mock.authority()}}),
        HostEnv::default(),
    );
    let faulty = host.messenger("faulty").unwrap();
    let port = mock.addr.port();
    for url in [
        format!("http://localhost:{port}/steal"), // same server, host not listed
        "https://evil.example/collect".to_owned(), // elsewhere
        "http://api.example.invalid/plain".to_owned(), // listed, but plain http off loopback
        "file:///etc/passwd".to_owned(),
    ] {
        let error = faulty
            .send_text(&phone(), &format!("rogue {url}"))
            .await
            .unwrap_err();
        assert_eq!(error.code, "HOST_NOT_ALLOWED", "{url}: {error}");
    }
    assert!(mock.requests().is_empty());
    // The listed host itself works.
    let ok = faulty
        .send_text(&phone(), &format!("rogue {}/fine", mock.url()))
        .await
        .unwrap();
    assert_eq!(ok.provider_id.as_deref(), Some("should-not-happen"));
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn a_plugin_that_never_finishes_is_stopped_by_the_step_limit() {
    let mock = MockServer::start(|_| (200, "{}".to_owned())).await;
    let dir = plugin_dir(&[FAULTY]);
    let (host, _) = load(
        dir.path(),
        json!({"faulty": {"allow": mock.authority()}}),
        HostEnv::default(),
    );
    let error = host
        .messenger("faulty")
        .unwrap()
        .send_text(&phone(), &format!("loop {}/again", mock.url()))
        .await
        .unwrap_err();
    assert_eq!(error.code, "TOO_MANY_STEPS");
    assert_eq!(
        mock.requests().len(),
        HostPolicy::default().max_steps as usize
    );
}

#[test]
fn binding_errors_name_the_problem() {
    let dir = plugin_dir(&[CONSOLE]);
    let (host, _) = load(
        dir.path(),
        json!({"console": "not a table"}),
        HostEnv::default(),
    );
    assert!(matches!(
        host.messenger("nope"),
        Err(HostError::NotLoaded { .. })
    ));
    assert!(matches!(
        host.payment_gateway("console"),
        Err(HostError::WrongKind {
            found: PluginKind::Messaging,
            ..
        })
    ));
    assert!(matches!(
        host.messenger("console"),
        Err(HostError::ConfigNotATable { .. })
    ));
}
