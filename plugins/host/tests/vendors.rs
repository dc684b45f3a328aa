//! Vendor plugins through the host, with their real `.so` files and a local mock server standing
//! in for the vendor's cloud: full round trips, retries, the breaker, redaction.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value
)]

mod support;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lpsaring_kernel::health::{Check, Health, Status};
use lpsaring_kernel::ports::GatewayErrorKind;
use lpsaring_kernel::ports::payment::{
    CreatePayment, Customer, PaymentItem, PaymentStatus, RawWebhook,
};
use lpsaring_kernel::{FakeClock, Phone};
use lpsaring_plugin_host::{HostEnv, HostError, HostPolicy, PluginHost, PluginsSettings};
use serde_json::{Value, json};
use sha2::Digest;
use support::*;

fn phone() -> Phone {
    Phone::parse("081234567890").unwrap()
}

fn policy() -> HostPolicy {
    HostPolicy {
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(5),
        call_timeout: Duration::from_secs(5),
        max_attempts: 3,
        breaker_failures: 2,
        breaker_cooldown: chrono::Duration::seconds(30),
        ..HostPolicy::default()
    }
}

fn host_with(
    libs: &[&str],
    config: Value,
    clock: Arc<FakeClock>,
) -> (PluginHost, tempfile::TempDir) {
    let dir = plugin_dir(libs);
    let mut settings = PluginsSettings {
        dir: dir.path().to_path_buf(),
        ..PluginsSettings::default()
    };
    if let Value::Object(map) = config {
        settings.plugin_config = map.into_iter().collect();
    }
    let env = HostEnv {
        data_dir: None,
        public_url: Some("https://portal.example/".into()),
    };
    let (host, reports) = PluginHost::load_dir_with_policy(&settings, &env, clock, policy());
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:?}");
    (host, dir)
}

fn fonnte_host(mock: &MockServer, clock: Arc<FakeClock>) -> (PluginHost, tempfile::TempDir) {
    host_with(
        &[FONNTE],
        json!({"whatsapp-fonnte": {"token": "fonnte-secret-token", "base_url": mock.url()}}),
        clock,
    )
}

fn order() -> CreatePayment {
    CreatePayment {
        order_id: "V-20260101-0001".into(),
        amount: 10000,
        item: PaymentItem {
            id: "plan-1d".into(),
            name: "1 hari".into(),
            price: 10000,
            quantity: 1,
        },
        customer: Customer {
            name: "Budi".into(),
            phone: "+6281234567890".into(),
            email: None,
        },
        method: Some("qris".into()),
        return_url: "https://portal.example/pay/finish".into(),
        expiry_minutes: 30,
    }
}

const FONNTE_OK: &str = r#"{"detail":"success! message in queue","id":[142223099],"process":"pending","status":true,"target":["6281234567890"]}"#;

#[tokio::test]
async fn fonnte_full_send_through_the_host() {
    let mock = MockServer::start(|_| (200, FONNTE_OK.to_owned())).await;
    let (host, _dir) = fonnte_host(&mock, Arc::new(FakeClock::at_epoch_2026()));
    let receipt = host
        .messenger("whatsapp-fonnte")
        .unwrap()
        .send_text(&phone(), "Kode OTP: 123456")
        .await
        .unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("142223099"));
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].target.as_str()),
        ("POST", "/send")
    );
    assert_eq!(
        requests[0].header("authorization"),
        Some("fonnte-secret-token")
    );
    assert_eq!(
        requests[0].body_text(),
        "target=6281234567890&message=Kode+OTP%3A+123456&countryCode=0"
    );
}

#[tokio::test]
async fn retries_on_5xx_until_success() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let mock = MockServer::start(move |_| match counter.fetch_add(1, Ordering::SeqCst) {
        0 | 1 => (503, "<html>Service Unavailable</html>".to_owned()),
        _ => (200, FONNTE_OK.to_owned()),
    })
    .await;
    let (host, _dir) = fonnte_host(&mock, Arc::new(FakeClock::at_epoch_2026()));
    let receipt = host
        .messenger("whatsapp-fonnte")
        .unwrap()
        .send_text(&phone(), "hi")
        .await
        .unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("142223099"));
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn gives_up_after_max_attempts_on_5xx() {
    let mock = MockServer::start(|_| (502, "bad gateway".to_owned())).await;
    let (host, _dir) = fonnte_host(&mock, Arc::new(FakeClock::at_epoch_2026()));
    let error = host
        .messenger("whatsapp-fonnte")
        .unwrap()
        .send_text(&phone(), "hi")
        .await
        .unwrap_err();
    assert_eq!(error.kind, GatewayErrorKind::Retryable);
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn no_retry_on_4xx() {
    let mock = MockServer::start(|_| {
        (
            401,
            r#"{"status":false,"reason":"invalid token"}"#.to_owned(),
        )
    })
    .await;
    let (host, _dir) = fonnte_host(&mock, Arc::new(FakeClock::at_epoch_2026()));
    let error = host
        .messenger("whatsapp-fonnte")
        .unwrap()
        .send_text(&phone(), "hi")
        .await
        .unwrap_err();
    assert_eq!(error.kind, GatewayErrorKind::Auth);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_and_recovers_after_the_cooldown() {
    let healthy = Arc::new(AtomicUsize::new(0));
    let flag = healthy.clone();
    let mock = MockServer::start(move |_| {
        if flag.load(Ordering::SeqCst) == 1 {
            (200, FONNTE_OK.to_owned())
        } else {
            (503, "down".to_owned())
        }
    })
    .await;
    let clock = Arc::new(FakeClock::at_epoch_2026());
    let (host, _dir) = fonnte_host(&mock, clock.clone());
    let messenger = host.messenger("whatsapp-fonnte").unwrap();
    // Two failed operations (3 attempts each) open the breaker (breaker_failures = 2).
    for _ in 0..2 {
        assert_eq!(
            messenger.send_text(&phone(), "hi").await.unwrap_err().code,
            "PROVIDER_UNAVAILABLE"
        );
    }
    assert_eq!(mock.requests().len(), 6);
    let error = messenger.send_text(&phone(), "hi").await.unwrap_err();
    assert_eq!(
        (error.kind, error.code.as_str()),
        (GatewayErrorKind::Retryable, "CIRCUIT_OPEN")
    );
    assert_eq!(mock.requests().len(), 6, "an open breaker sends nothing");
    // `/readyz` shows it.
    let health = host.check().await;
    assert_eq!(health.status, Status::Degraded);
    assert_eq!(
        health.detail,
        "loaded: whatsapp-fonnte; circuit open: whatsapp-fonnte"
    );
    // The breaker is per plugin: a second binding of the same plugin sees it open too.
    let again = host
        .messenger("whatsapp-fonnte")
        .unwrap()
        .send_text(&phone(), "hi")
        .await
        .unwrap_err();
    assert_eq!(again.code, "CIRCUIT_OPEN");
    // After the cooldown, calls go through again and a success closes it.
    healthy.store(1, Ordering::SeqCst);
    clock.advance(chrono::Duration::seconds(31));
    messenger.send_text(&phone(), "hi").await.unwrap();
    assert_eq!(mock.requests().len(), 7);
    assert_eq!(host.check().await, Check::ok("loaded: whatsapp-fonnte"));
}

#[tokio::test]
async fn whatsapp_cloud_send_through_the_host() {
    let mock = MockServer::start(|_| (200, r#"{"messaging_product":"whatsapp","contacts":[{"input":"6281234567890","wa_id":"6281234567890"}],"messages":[{"id":"wamid.ABC"}]}"#.to_owned())).await;
    let config = json!({"whatsapp-cloud": {"access_token": "EAAG-secret", "phone_number_id": "1065", "base_url": mock.url(), "otp_template": "otp_login"}});
    let (host, _dir) = host_with(&[CLOUD], config, Arc::new(FakeClock::at_epoch_2026()));
    let receipt = host
        .messenger("whatsapp-cloud")
        .unwrap()
        .send_text(&phone(), "Kode Anda 482913")
        .await
        .unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("wamid.ABC"));
    let request = &mock.requests()[0];
    assert_eq!(request.target, "/v21.0/1065/messages");
    assert_eq!(request.header("authorization"), Some("Bearer EAAG-secret"));
    assert_eq!(
        request.json()["template"]["components"][0]["parameters"][0]["text"],
        "482913"
    );
}

#[tokio::test]
async fn midtrans_create_status_and_webhook_cycle() {
    let server_key = "SB-Mid-server-CYCLE";
    let mock = MockServer::start(|request| match (request.method.as_str(), request.target.as_str()) {
        ("POST", "/v2/charge") => (200, r#"{"status_code":"201","status_message":"QRIS transaction is created","transaction_id":"tx-1","order_id":"V-20260101-0001","gross_amount":"10000.00","payment_type":"qris","transaction_status":"pending","qr_string":"00020101021226620014COM.GO-JEK.WWW"}"#.to_owned()),
        ("GET", "/v2/V-20260101-0001/status") => (200, r#"{"status_code":"200","transaction_id":"tx-1","order_id":"V-20260101-0001","gross_amount":"10000.00","payment_type":"qris","transaction_status":"settlement","fraud_status":"accept"}"#.to_owned()),
        _ => (404, r#"{"status_code":"404","status_message":"not found"}"#.to_owned()),
    })
    .await;
    let config = json!({"payment-midtrans": {"server_key": server_key, "api_base_url": mock.url(), "snap_base_url": mock.url()}});
    let (host, _dir) = host_with(&[MIDTRANS], config, Arc::new(FakeClock::at_epoch_2026()));
    let gateway = host.payment_gateway("payment-midtrans").unwrap();

    let created = gateway.create_payment(&order()).await.unwrap();
    assert_eq!(
        created.qr_string.as_deref(),
        Some("00020101021226620014COM.GO-JEK.WWW")
    );
    assert_eq!(created.provider_ref.as_deref(), Some("tx-1"));
    let charge = &mock.requests()[0];
    let basic = format!(
        "Basic {}",
        lpsaring_plugin_api::encoding::base64_encode(format!("{server_key}:").as_bytes())
    );
    assert_eq!(charge.header("authorization"), Some(basic.as_str()));
    assert_eq!(charge.json()["transaction_details"]["gross_amount"], 10000);

    let event = gateway.payment_status("V-20260101-0001").await.unwrap();
    assert_eq!(
        (
            event.status,
            event.gross_amount,
            event.provider_ref.as_deref()
        ),
        (PaymentStatus::Paid, 10000, Some("tx-1"))
    );

    // A notification signed with the server key verifies; the same with another key does not.
    let signed = |key: &str| {
        // Computed here independently of the plugin: hex(sha512(order_id + status_code + gross_amount + key)).
        let signature = hex::encode(sha2::Sha512::digest(
            format!("V-20260101-000120010000.00{key}").as_bytes(),
        ));
        let body = json!({"transaction_status": "settlement", "status_code": "200", "order_id": "V-20260101-0001", "gross_amount": "10000.00", "payment_type": "qris", "transaction_id": "tx-1", "signature_key": signature});
        RawWebhook {
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(&body).unwrap(),
        }
    };
    let parsed = gateway.parse_webhook(&signed(server_key)).await.unwrap();
    assert_eq!(parsed.event.status, PaymentStatus::Paid);
    // The plugin's answer for Midtrans comes back through the host.
    let reply = parsed.reply.expect("Midtrans' reply");
    assert_eq!(
        (reply.body.as_str(), reply.content_type.as_str()),
        ("OK", "text/plain; charset=utf-8")
    );
    let error = gateway
        .parse_webhook(&signed("SB-Mid-server-FORGED"))
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind, error.code.as_str()),
        (GatewayErrorKind::InvalidInput, "BAD_SIGNATURE")
    );
    // Real providers never simulate.
    assert_eq!(
        gateway
            .simulate_webhook("V-20260101-0001", PaymentStatus::Paid, 10000)
            .await
            .unwrap_err()
            .code,
        "NOT_SUPPORTED"
    );
}

#[tokio::test]
async fn tripay_create_and_status_through_the_host() {
    let mock = MockServer::start(|request| match request.method.as_str() {
        "POST" => (200, r#"{"success":true,"message":"","data":{"reference":"T0001000000000000006","merchant_ref":"V-20260101-0001","payment_method":"QRIS","amount":10000,"fee_customer":0,"pay_code":null,"checkout_url":"https://tripay.co.id/checkout/T0001000000000000006","status":"UNPAID","qr_string":"00020101021226670016COM.NOBUBANK.WWW"}}"#.to_owned()),
        _ => (200, r#"{"success":true,"message":"","data":[{"reference":"T0001000000000000006","merchant_ref":"V-20260101-0001","payment_method":"QRIS","amount":10000,"fee_customer":0,"status":"PAID"}]}"#.to_owned()),
    })
    .await;
    let config = json!({"payment-tripay": {"api_key": "DEV-key-12345", "private_key": "private-12345", "merchant_code": "T0001", "base_url": mock.url()}});
    let (host, _dir) = host_with(&[TRIPAY], config, Arc::new(FakeClock::at_epoch_2026()));
    let gateway = host.payment_gateway("payment-tripay").unwrap();
    let created = gateway.create_payment(&order()).await.unwrap();
    assert_eq!(
        created.qr_string.as_deref(),
        Some("00020101021226670016COM.NOBUBANK.WWW")
    );
    let event = gateway.payment_status("V-20260101-0001").await.unwrap();
    assert_eq!(
        (event.status, event.gross_amount),
        (PaymentStatus::Paid, 10000)
    );
    let requests = mock.requests();
    assert_eq!(
        requests[0].json()["signature"],
        lpsaring_plugin_payment_tripay::hmac_hex("private-12345", b"T0001V-20260101-000110000")
    );
    assert_eq!(
        requests[1].target,
        "/merchant/transactions?merchant_ref=V-20260101-0001"
    );
}

#[tokio::test]
async fn sandbox_checkout_simulate_and_verify_through_the_host() {
    let (host, _dir) = host_with(&[SANDBOX], json!({}), Arc::new(FakeClock::at_epoch_2026()));
    let gateway = host.payment_gateway("payment-sandbox").unwrap();
    let created = gateway.create_payment(&order()).await.unwrap();
    assert_eq!(
        created.redirect_url.as_deref(),
        Some("https://portal.example/pay/sandbox/V-20260101-0001")
    );
    let webhook = gateway
        .simulate_webhook("V-20260101-0001", PaymentStatus::Paid, 10000)
        .await
        .unwrap();
    let parsed = gateway.parse_webhook(&webhook).await.unwrap();
    let event = &parsed.event;
    assert_eq!(
        (event.order_id.as_str(), event.status, event.gross_amount),
        ("V-20260101-0001", PaymentStatus::Paid, 10000)
    );
    let reply: Value = serde_json::from_str(&parsed.reply.unwrap().body).unwrap();
    assert_eq!(
        reply,
        json!({"received": true, "order_id": "V-20260101-0001"})
    );
    let mut forged = webhook.clone();
    forged.body = String::from_utf8(forged.body)
        .unwrap()
        .replace("10000", "99999")
        .into_bytes();
    assert_eq!(
        gateway.parse_webhook(&forged).await.unwrap_err().code,
        "BAD_SIGNATURE"
    );
}

#[test]
fn required_config_is_checked_when_a_role_is_bound() {
    let (host, _dir) = host_with(&[FONNTE], json!({}), Arc::new(FakeClock::at_epoch_2026()));
    let error = host.messenger("whatsapp-fonnte").err().unwrap();
    assert_eq!(
        error,
        HostError::MissingConfig {
            plugin: "whatsapp-fonnte".into(),
            key: "token".into()
        }
    );
}

/// Captures log output for the redaction test.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_logs_or_errors() {
    let token = "fonnte-very-secret-token";
    // A provider that echoes the credential back in its error and a URL carrying it.
    let mock = MockServer::start(move |_| {
        (
            503,
            format!(r#"{{"status":false,"reason":"token {token} is disabled"}}"#),
        )
    })
    .await;
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // Global, not `set_default`: a thread-local subscriber misses events whose callsite another
    // test thread registered first (tracing caches callsite interest process-wide), which made
    // this test flaky. Only this test installs a subscriber in this binary.
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    let (host, _dir) = host_with(
        &[FONNTE],
        json!({"whatsapp-fonnte": {"token": token, "base_url": format!("{}/?t={token}", mock.url())}}),
        Arc::new(FakeClock::at_epoch_2026()),
    );
    let error = host
        .messenger("whatsapp-fonnte")
        .unwrap()
        .send_text(&phone(), "hi")
        .await
        .unwrap_err();
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("plugin http step"),
        "debug lines were captured: {logged}"
    );
    assert!(logged.contains("[REDACTED]"), "{logged}");
    assert!(!logged.contains(token), "secret leaked into logs: {logged}");
    assert!(
        !error.message.contains(token),
        "secret leaked into the error: {error}"
    );
}
