//! Cost of the plugin boundary: a `send_text` round trip through the host and the real console
//! plugin `.so` (JSON envelope out, C call, JSON Step back, outbox append), with no network.
//! For comparison, the same call through the plugin's JSON dispatcher in-process (no C ABI, no
//! file write), which isolates the serialisation share.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use lpsaring_kernel::{Phone, SystemClock};
use lpsaring_plugin_api::{
    CallContext, CallEnvelope, HostInfo, Messaging, PROTOCOL_VERSION, dispatch, ops,
};
use lpsaring_plugin_host::{HostEnv, PluginHost, PluginsSettings};
use serde_json::json;

/// The console plugin's cdylib, built next to this bench executable (it is a dev-dependency).
fn console_so() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [
        deps.join("liblpsaring_plugin_console.so"),
        deps.parent().unwrap().join("liblpsaring_plugin_console.so"),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .expect("liblpsaring_plugin_console.so next to the bench executable")
}

fn plugin_abi(c: &mut Criterion) {
    let plugins = tempfile::tempdir().unwrap();
    std::fs::copy(
        console_so(),
        plugins.path().join("liblpsaring_plugin_console.so"),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let settings = PluginsSettings {
        dir: plugins.path().to_path_buf(),
        ..PluginsSettings::default()
    };
    let env = HostEnv {
        data_dir: Some(data.path().to_path_buf()),
        public_url: None,
    };
    let (host, reports) = PluginHost::load_dir(&settings, &env, Arc::new(SystemClock));
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:?}");
    let messenger = host.messenger("console").unwrap();
    let phone = Phone::parse("081234567890").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    c.bench_function("plugin_abi/send_text_console_roundtrip", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                messenger
                    .send_text(black_box(&phone), black_box("Kode OTP Anda: 123456"))
                    .await
                    .unwrap(),
            );
        });
    });

    let in_process = Messaging(ConsoleNoWrite);
    let envelope = CallEnvelope {
        protocol: PROTOCOL_VERSION,
        context: CallContext {
            now: "2026-01-01T00:00:00Z".into(),
            host: HostInfo::default(),
            ..Default::default()
        },
        input: json!({"to": "+6281234567890", "text": "Kode OTP Anda: 123456"}),
    };
    c.bench_function("plugin_abi/json_dispatch_in_process", |b| {
        b.iter(|| black_box(dispatch(&in_process, ops::SEND_TEXT, black_box(&envelope))));
    });
}

/// A messaging plugin that does nothing but answer: the JSON cost without the C call or I/O.
#[derive(Default)]
struct ConsoleNoWrite;

impl lpsaring_plugin_api::MessagingPlugin for ConsoleNoWrite {
    fn manifest(&self, _ctx: &CallContext) -> lpsaring_plugin_api::Manifest {
        lpsaring_plugin_api::Manifest {
            name: "bench".into(),
            kind: lpsaring_plugin_api::PluginKind::Messaging,
            version: "0".into(),
            protocol_version: PROTOCOL_VERSION,
            description: String::new(),
            config_keys: vec![],
            allowed_hosts: vec![],
            development_only: true,
            walled_garden_hosts: Vec::new(),
        }
    }
    fn send_text(
        &self,
        _ctx: &CallContext,
        _input: &lpsaring_plugin_api::SendText,
    ) -> lpsaring_plugin_api::Step<lpsaring_plugin_api::MessageSent> {
        lpsaring_plugin_api::Step::Done(lpsaring_plugin_api::MessageSent::default())
    }
    fn send_document(
        &self,
        _ctx: &CallContext,
        _input: &lpsaring_plugin_api::SendDocument,
    ) -> lpsaring_plugin_api::Step<lpsaring_plugin_api::MessageSent> {
        lpsaring_plugin_api::Step::Done(lpsaring_plugin_api::MessageSent::default())
    }
}

criterion_group!(benches, plugin_abi);
criterion_main!(benches);
