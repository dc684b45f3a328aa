//! The notification outbox (kernel owns the `outbox` table): modules enqueue messages, inside
//! their own SQL transaction when the message must exist exactly when their change does; one
//! delivery job sends them through the [`Messenger`] port with retries and backoff, keeping the
//! attempt count and the last error. Nothing is dropped while a gateway is down, and a
//! de-duplication key makes enqueueing the same message twice a no-op.
//!
//! Plain SQL over sea-orm's connection traits: no entity, so the kernel stays free of any
//! module's schema and a caller's transaction can be passed straight in.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, InsertStatement, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};

use crate::clock::Clock;
use crate::ids::Phone;
use crate::jobs::Job;
use crate::ports::messenger::{GatewayErrorKind, Messenger};

const TABLE: &str = "outbox";
/// Messages sent per delivery pass (a pass ends early when a send fails retryably).
const BATCH: u64 = 50;
/// After this many failed attempts a message is given up on (`dead`), with its last error kept.
pub const MAX_ATTEMPTS: i32 = 12;

/// One message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Unique per logical message (`quota:low:42:1073741824:…`); at most 128 characters.
    pub dedup_key: String,
    pub recipient: Phone,
    pub body: String,
}

/// A row as tests and admin pages see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub dedup_key: String,
    pub recipient: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

fn insert_stmt(messages: &[OutboxMessage], now: DateTime<Utc>) -> InsertStatement {
    let mut insert = Query::insert();
    insert.into_table(TABLE).columns([
        "dedup_key",
        "channel",
        "recipient",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]);
    for m in messages {
        insert.values_panic([
            m.dedup_key.clone().into(),
            "whatsapp".into(),
            m.recipient.as_str().to_owned().into(),
            m.body.clone().into(),
            "pending".into(),
            0i32.into(),
            now.into(),
            now.into(),
        ]);
    }
    insert.on_conflict(OnConflict::column("dedup_key").do_nothing().to_owned());
    insert
}

/// Queues messages on `conn` (a connection or the caller's transaction); a key already queued
/// is skipped. Returns how many rows were new.
pub async fn enqueue_many<C: ConnectionTrait>(
    conn: &C,
    messages: &[OutboxMessage],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut added = 0;
    // Chunks keep each statement well under any driver's size limits.
    for chunk in messages.chunks(500) {
        added += conn
            .execute(&insert_stmt(chunk, now))
            .await?
            .rows_affected();
    }
    Ok(added)
}

/// Queues one message; false when its key was already queued.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    dedup_key: &str,
    recipient: &Phone,
    body: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let message = OutboxMessage {
        dedup_key: dedup_key.to_owned(),
        recipient: recipient.clone(),
        body: body.to_owned(),
    };
    Ok(enqueue_many(conn, &[message], now).await? == 1)
}

/// Rows by id, for tests and admin pages.
pub async fn list<C: ConnectionTrait>(conn: &C) -> Result<Vec<OutboxRow>, DbErr> {
    let select = Query::select()
        .columns([
            "id",
            "dedup_key",
            "recipient",
            "body",
            "status",
            "attempts",
            "last_error",
        ])
        .from(TABLE)
        .order_by("id", sea_orm::Order::Asc)
        .to_owned();
    let rows = conn.query_all(&select).await?;
    rows.into_iter()
        .map(|r| {
            Ok(OutboxRow {
                id: r.try_get("", "id")?,
                dedup_key: r.try_get("", "dedup_key")?,
                recipient: r.try_get("", "recipient")?,
                body: r.try_get("", "body")?,
                status: r.try_get("", "status")?,
                attempts: r.try_get("", "attempts")?,
                last_error: r.try_get("", "last_error")?,
            })
        })
        .collect()
}

/// Wait before retry `attempts` (1-based): 10 s doubling up to one hour.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exp = attempts.clamp(1, 20) - 1;
    let secs = 10i64.saturating_mul(1i64 << exp.min(12));
    chrono::Duration::seconds(secs.min(3_600))
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
}

/// Delivers due messages through the messenger.
pub struct Outbox {
    db: sea_orm::DatabaseConnection,
    clock: Arc<dyn Clock>,
    messenger: Arc<dyn Messenger>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("messenger", &self.messenger.name())
            .finish_non_exhaustive()
    }
}

impl Outbox {
    pub fn new(
        db: sea_orm::DatabaseConnection,
        clock: Arc<dyn Clock>,
        messenger: Arc<dyn Messenger>,
    ) -> Self {
        Self {
            db,
            clock,
            messenger,
        }
    }

    /// Sends every due message once (oldest first). A retryable failure reschedules the message
    /// with backoff; a permanent one (bad number, bad input) marks it `dead` at once.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, DbErr> {
        use sea_orm::sea_query::ExprTrait;
        let now = self.clock.now();
        let select = Query::select()
            .columns(["id", "recipient", "body", "attempts"])
            .from(TABLE)
            .and_where(Expr::col("status").eq("pending"))
            .and_where(Expr::col("next_attempt_at").lte(now))
            .order_by("id", sea_orm::Order::Asc)
            .limit(BATCH)
            .to_owned();
        let due = self.db.query_all(&select).await?;
        let mut report = DeliveryReport::default();
        for row in due {
            let id: i64 = row.try_get("", "id")?;
            let recipient: String = row.try_get("", "recipient")?;
            let body: String = row.try_get("", "body")?;
            let attempts: i32 = row.try_get::<i32>("", "attempts")? + 1;
            let result = match Phone::parse(&recipient) {
                Ok(phone) => self.messenger.send_text(&phone, &body).await,
                Err(e) => Err(crate::ports::GatewayError::new(
                    GatewayErrorKind::InvalidInput,
                    "BAD_RECIPIENT",
                    e.to_string(),
                )),
            };
            let now = self.clock.now();
            let mut update = Query::update();
            update
                .table(TABLE)
                .value("attempts", attempts)
                .and_where(Expr::col("id").eq(id));
            match result {
                Ok(_) => {
                    update
                        .value("status", "sent")
                        .value("sent_at", now)
                        .value("last_error", Option::<String>::None);
                    report.sent += 1;
                    metrics::counter!(crate::metrics::OUTBOX_DELIVERIES, "outcome" => "sent")
                        .increment(1);
                }
                Err(e) => {
                    let permanent = matches!(
                        e.kind,
                        GatewayErrorKind::Permanent | GatewayErrorKind::InvalidInput
                    );
                    tracing::warn!(outbox_id = id, attempts, error = %e, "outbox delivery failed");
                    update.value("last_error", e.to_string());
                    if permanent || attempts >= MAX_ATTEMPTS {
                        update.value("status", "dead");
                        report.dead += 1;
                        metrics::counter!(crate::metrics::OUTBOX_DELIVERIES, "outcome" => "dead")
                            .increment(1);
                    } else {
                        update.value("next_attempt_at", now + backoff(attempts));
                        report.retried += 1;
                        metrics::counter!(crate::metrics::OUTBOX_DELIVERIES, "outcome" => "retried")
                            .increment(1);
                    }
                }
            }
            self.db.execute(&update).await?;
        }
        Ok(report)
    }

    /// The delivery pass as a background job every `every` (`app` spawns it with the others).
    pub fn job(self: Arc<Self>, every: Duration) -> Job {
        Job::new("outbox.deliver", every, self, |outbox| async move {
            if let Err(e) = outbox.deliver_due().await {
                tracing::error!(error = %e, "outbox pass failed");
            }
        })
    }
}

/// How many messages are in each state: `pending` (waiting), `sent`, `dead` (gave up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, salvo::oapi::ToSchema)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub dead: i64,
}

/// The outbox's depth by state, for `/metrics` and the admin overview.
pub async fn counts<C: ConnectionTrait>(conn: &C) -> Result<OutboxCounts, DbErr> {
    let count = Query::select()
        .column("status")
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .from(TABLE)
        .group_by_col("status")
        .to_owned();
    let mut depth = OutboxCounts::default();
    for row in conn.query_all(&count).await? {
        let (Ok(status), Ok(n)) = (
            row.try_get::<String>("", "status"),
            row.try_get::<i64>("", "n"),
        ) else {
            continue;
        };
        match status.as_str() {
            "pending" => depth.pending = n,
            "sent" => depth.sent = n,
            "dead" => depth.dead = n,
            _ => {}
        }
    }
    Ok(depth)
}

/// The outbox's depth by state (`pending`, `sent`, `dead`) for `/metrics`.
#[derive(Debug, Clone)]
pub struct OutboxDepth(pub sea_orm::DatabaseConnection);

#[async_trait::async_trait]
impl crate::metrics::Sampled for OutboxDepth {
    async fn sample(&self) {
        let depth = match counts(&self.0).await {
            Ok(depth) => depth,
            Err(e) => {
                tracing::warn!(error = %e, "outbox depth not sampled");
                return;
            }
        };
        for (state, n) in [
            ("pending", depth.pending),
            ("sent", depth.sent),
            ("dead", depth.dead),
        ] {
            metrics::gauge!(crate::metrics::OUTBOX_MESSAGES, "state" => state).set(n as f64);
        }
    }
}
