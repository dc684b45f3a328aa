//! The audit log: an append-only record of security events and admin actions, newest first when
//! read. Other modules write through the kernel's `AuditSink` port, which [`Audit`] implements.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lpsaring_kernel::ports::audit::{AuditEntry, AuditError, AuditSink};
use lpsaring_kernel::{Clock, UserId};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DbErr, EntityTrait, QueryOrder, QuerySelect, Set,
};

use crate::entity::audit_log;

/// Column limits of `audit_log` (frozen DDL): longer values are cut, never refused, because
/// losing an audit entry to a long user agent would be worse than truncating it.
const ACTION_MAX: usize = 60;
const TARGET_MAX: usize = 100;
const IP_MAX: usize = 45;

/// One stored entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub action: String,
    pub target: Option<String>,
    pub details: Option<serde_json::Value>,
    pub ip: Option<String>,
}

pub struct Audit {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

impl Audit {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Appends an entry stamped with the current time.
    pub async fn record(
        &self,
        actor: Option<UserId>,
        action: &str,
        target: Option<&str>,
        details: Option<&serde_json::Value>,
        ip: Option<&str>,
    ) -> Result<i64, DbErr> {
        let row = audit_log::ActiveModel {
            at: Set(self.clock.now()),
            actor_user_id: Set(actor.map(|a| a.0)),
            action: Set(cut(action, ACTION_MAX)),
            target: Set(target.map(|t| cut(t, TARGET_MAX))),
            details: Set(details.map(serde_json::Value::to_string)),
            ip: Set(ip.map(|i| cut(i, IP_MAX))),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(row.id)
    }

    /// The newest `n` entries, newest first.
    pub async fn recent(&self, n: u64) -> Result<Vec<AuditRecord>, DbErr> {
        let rows = audit_log::Entity::find()
            .order_by_desc(audit_log::Column::At)
            .order_by_desc(audit_log::Column::Id)
            .limit(n)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|m| AuditRecord {
                id: m.id,
                at: m.at,
                actor: m.actor_user_id.map(UserId),
                action: m.action,
                target: m.target,
                details: m
                    .details
                    .as_deref()
                    .and_then(|d| serde_json::from_str(d).ok()),
                ip: m.ip,
            })
            .collect())
    }
}

#[async_trait]
impl AuditSink for Audit {
    async fn record(&self, entry: AuditEntry) -> Result<(), AuditError> {
        Audit::record(
            self,
            entry.actor,
            &entry.action,
            entry.target.as_deref(),
            entry.details.as_ref(),
            entry.ip.as_deref(),
        )
        .await
        .map(|_| ())
        .map_err(|e| AuditError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use lpsaring_kernel::FakeClock;
    use lpsaring_migrations::{Migrator, MigratorTrait};
    use sea_orm::Database;
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn records_and_reads_newest_first() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let audit = Audit::new(db, clock.clone());
        audit.record(None, "first", None, None, None).await.unwrap();
        clock.advance(Duration::seconds(5));
        let sink: &dyn AuditSink = &audit;
        sink.record(
            AuditEntry::new("session.refresh_reuse")
                .actor(UserId(7))
                .target("family:abc")
                .details(json!({"revoked": 3}))
                .ip(Some("10.0.0.9".to_owned())),
        )
        .await
        .unwrap();
        audit
            .record(None, &"x".repeat(200), Some(&"t".repeat(300)), None, None)
            .await
            .unwrap();

        let recent = audit.recent(2).await.unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].action.len(), ACTION_MAX);
        assert_eq!(recent[0].target.as_ref().unwrap().len(), TARGET_MAX);
        assert_eq!(recent[1].action, "session.refresh_reuse");
        assert_eq!(recent[1].actor, Some(UserId(7)));
        assert_eq!(recent[1].details, Some(json!({"revoked": 3})));
        assert_eq!(recent[1].ip.as_deref(), Some("10.0.0.9"));
        assert_eq!(audit.recent(10).await.unwrap().len(), 3);
    }
}
