//! The plugin against responses recorded from the gateway (`tests/recorded/*.json`: the HTTP
//! status and the body it answered). No network: the plugin only builds requests and reads
//! responses, so a recorded response is all a test needs.

use lpsaring_plugin_api::testing::{context, resumed};
use lpsaring_plugin_api::{
    CallContext, ErrorKind, MessageSent, MessagingPlugin, SendDocument, SendText, Step,
};
use lpsaring_plugin_example_whatsapp::{ExamplePlugin, NAME};
use serde_json::{Value, json};

fn ctx() -> CallContext {
    context("2026-01-01T00:00:00Z", 0, [("api_key", json!("key-123"))])
}

fn text() -> SendText {
    SendText {
        to: "+6281234567890".into(),
        text: "Kode masuk Anda: 123456".into(),
    }
}

/// The plugin's answer to a recorded response, as the portal would call it the second time.
fn answer_to(recording: &str) -> Step<MessageSent> {
    let path = format!(
        "{}/tests/recorded/{recording}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let status = u16::try_from(recorded["status"].as_u64().unwrap()).unwrap();
    let body = recorded["body"].to_string();
    ExamplePlugin.send_text(&resumed(&ctx(), Value::Null, status, &body), &text())
}

fn error_kind(step: Step<MessageSent>) -> ErrorKind {
    match step {
        Step::Error(e) => e.kind,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn the_first_call_asks_for_the_documented_request() {
    let Step::Http { request, .. } = ExamplePlugin.send_text(&ctx(), &text()) else {
        panic!("expected an HTTP step")
    };
    assert_eq!(request.method, "POST");
    assert_eq!(request.url, "https://api.contoh-wa.example/v1/messages");
    assert_eq!(
        request.header_value("authorization"),
        Some("Bearer key-123")
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"to": "6281234567890", "text": "Kode masuk Anda: 123456"})
    );

    let doc = SendDocument {
        to: "+6281234567890".into(),
        caption: "Invoice".into(),
        url: "https://wifi.example.id/invoice/1.pdf".into(),
        filename: "1.pdf".into(),
    };
    let Step::Http { request, .. } = ExamplePlugin.send_document(&ctx(), &doc) else {
        panic!("expected an HTTP step")
    };
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body["document_url"],
        "https://wifi.example.id/invoice/1.pdf"
    );
    assert_eq!(body["filename"], "1.pdf");
}

#[test]
fn a_sent_message_gives_its_id() {
    assert_eq!(
        answer_to("sent"),
        Step::Done(MessageSent {
            provider_id: Some("wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ1".into())
        })
    );
}

#[test]
fn each_refusal_is_classified() {
    assert_eq!(error_kind(answer_to("unauthorized")), ErrorKind::Auth);
    assert_eq!(
        error_kind(answer_to("bad_recipient")),
        ErrorKind::InvalidInput
    );
    assert_eq!(error_kind(answer_to("unavailable")), ErrorKind::Retryable);
}

#[test]
fn without_an_api_key_nothing_is_sent() {
    let empty = context("2026-01-01T00:00:00Z", 0, []);
    assert!(matches!(
        ExamplePlugin.send_text(&empty, &text()),
        Step::Error(_)
    ));
}

#[test]
fn the_manifest_names_the_plugin_its_secret_and_the_hosts_it_calls() {
    let ctx = context(
        "2026-01-01T00:00:00Z",
        0,
        [("base_url", json!("http://127.0.0.1:9999"))],
    );
    let manifest = ExamplePlugin.manifest(&ctx);
    assert_eq!(manifest.name, NAME);
    assert!(
        manifest
            .config_keys
            .iter()
            .any(|k| k.name == "api_key" && k.secret && k.required)
    );
    assert!(
        manifest
            .allowed_hosts
            .contains(&"api.contoh-wa.example".to_owned())
    );
    assert!(
        manifest
            .allowed_hosts
            .contains(&"127.0.0.1:9999".to_owned())
    );
}
