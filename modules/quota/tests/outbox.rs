//! The kernel outbox on the real schema: a gateway that fails, then recovers, delivers every
//! message exactly once; permanent failures stop retrying; duplicates are skipped at enqueue.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Duration;
use lpsaring_kernel::outbox::{self, Outbox, OutboxMessage};
use lpsaring_kernel::ports::messenger::{
    GatewayError, GatewayErrorKind, MessageReceipt, Messenger,
};
use lpsaring_kernel::testing::TestDatabase;
use lpsaring_kernel::{Clock, FakeClock, Phone};
use lpsaring_migrations::{Migrator, MigratorTrait};

/// Fails while `down` is set; records every delivered text.
#[derive(Default)]
struct FlakyGateway {
    down: Mutex<bool>,
    delivered: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl Messenger for FlakyGateway {
    fn name(&self) -> &str {
        "flaky"
    }

    async fn send_text(&self, to: &Phone, text: &str) -> Result<MessageReceipt, GatewayError> {
        if text.contains("reject me") {
            return Err(GatewayError::new(
                GatewayErrorKind::Permanent,
                "BAD",
                "rejected",
            ));
        }
        if *self.down.lock().unwrap() {
            return Err(GatewayError::new(
                GatewayErrorKind::Retryable,
                "503",
                "gateway down",
            ));
        }
        self.delivered
            .lock()
            .unwrap()
            .push((to.as_str().to_owned(), text.to_owned()));
        Ok(MessageReceipt { provider_id: None })
    }

    async fn send_document(
        &self,
        _to: &Phone,
        _caption: &str,
        _url: &str,
        _filename: &str,
    ) -> Result<MessageReceipt, GatewayError> {
        unreachable!("not used")
    }
}

#[tokio::test]
async fn a_failing_then_recovering_gateway_delivers_each_message_once() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    Migrator::up(&db, None).await.unwrap();
    let clock = Arc::new(FakeClock::at_epoch_2026());
    let gateway = Arc::new(FlakyGateway::default());
    let phone = Phone::parse("081234567890").unwrap();
    let messages: Vec<OutboxMessage> = (0..3)
        .map(|i| OutboxMessage {
            dedup_key: format!("k{i}"),
            recipient: phone.clone(),
            body: format!("message {i}"),
        })
        .collect();
    assert_eq!(
        outbox::enqueue_many(&db, &messages, clock.now())
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        outbox::enqueue_many(&db, &messages, clock.now())
            .await
            .unwrap(),
        0,
        "deduplicated"
    );
    assert!(
        outbox::enqueue(&db, "bad", &phone, "reject me", clock.now())
            .await
            .unwrap()
    );

    let ob = Outbox::new(db.clone(), clock.clone(), gateway.clone());
    *gateway.down.lock().unwrap() = true;
    let r = ob.deliver_due().await.unwrap();
    assert_eq!((r.sent, r.retried, r.dead), (0, 3, 1));
    // Backing off: nothing is due again until the delay passed.
    let r = ob.deliver_due().await.unwrap();
    assert_eq!((r.sent, r.retried), (0, 0));
    clock.advance(Duration::seconds(11));
    let r = ob.deliver_due().await.unwrap();
    assert_eq!(r.retried, 3, "second attempt, still down");
    *gateway.down.lock().unwrap() = false;
    clock.advance(Duration::seconds(21));
    let r = ob.deliver_due().await.unwrap();
    assert_eq!(r.sent, 3);
    clock.advance(Duration::hours(2));
    assert_eq!(
        ob.deliver_due().await.unwrap().sent,
        0,
        "nothing sent twice"
    );

    let delivered = gateway.delivered.lock().unwrap().clone();
    let mut bodies: Vec<&str> = delivered.iter().map(|(_, b)| b.as_str()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, vec!["message 0", "message 1", "message 2"]);
    let rows = outbox::list(&db).await.unwrap();
    for row in &rows {
        match row.dedup_key.as_str() {
            "bad" => {
                assert_eq!((row.status.as_str(), row.attempts), ("dead", 1));
                assert!(row.last_error.as_deref().unwrap_or("").contains("rejected"));
            }
            _ => {
                assert_eq!((row.status.as_str(), row.attempts), ("sent", 3));
                assert_eq!(row.last_error, None);
            }
        }
    }
    assert_eq!(outbox::backoff(1), Duration::seconds(10));
    assert_eq!(outbox::backoff(30), Duration::hours(1));
}
