//! The audit log: an append-only record of security events and admin actions, newest first when
//! read. Other modules write through the kernel's `AuditSink` port, which [`Audit`] implements.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use lpsaring_kernel::ports::audit::{AuditEntry, AuditError, AuditSink};
use lpsaring_kernel::{Clock, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};

use crate::entity::audit_log;

/// Column limits of `audit_log` (frozen DDL): longer values are cut, never refused, because
/// losing an audit entry to a long user agent would be worse than truncating it.
const ACTION_MAX: usize = 60;
const TARGET_MAX: usize = 100;
const IP_MAX: usize = 45;

/// One stored entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize, salvo::oapi::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[salvo(schema(value_type = Option<i64>))]
    pub actor: Option<UserId>,
    pub action: String,
    pub target: Option<String>,
    #[salvo(schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
    pub ip: Option<String>,
}

impl AuditRecord {
    fn of(m: audit_log::Model) -> Self {
        Self {
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
        }
    }
}

/// Which entries to read: every filter optional. `action` matches a whole dotted name or a
/// prefix ending in `.` (`user.` is every user action); days are UTC dates, both inclusive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub actor: Option<UserId>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One page of entries, newest first, with the number of all that match.
#[derive(Debug, Clone, PartialEq, serde::Serialize, salvo::oapi::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// Most entries one page (or one CSV export) returns.
pub const MAX_PER_PAGE: u64 = 500;
pub const MAX_EXPORT: u64 = 100_000;

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

impl AuditFilter {
    fn condition(&self) -> Condition {
        let mut c = Condition::all();
        if let Some(actor) = self.actor {
            c = c.add(audit_log::Column::ActorUserId.eq(actor.0));
        }
        if let Some(action) = self.action.as_deref().filter(|a| !a.is_empty()) {
            c = c.add(if action.ends_with('.') {
                audit_log::Column::Action.starts_with(action)
            } else {
                audit_log::Column::Action.eq(action)
            });
        }
        if let Some(target) = self.target.as_deref().filter(|t| !t.is_empty()) {
            c = c.add(audit_log::Column::Target.eq(target));
        }
        if let Some(from) = self.from {
            c = c.add(audit_log::Column::At.gte(midnight(from)));
        }
        if let Some(to) = self.to {
            c = c.add(audit_log::Column::At.lt(midnight(to) + Duration::days(1)));
        }
        c
    }

    fn select(&self) -> Select<audit_log::Entity> {
        audit_log::Entity::find()
            .filter(self.condition())
            .order_by_desc(audit_log::Column::At)
            .order_by_desc(audit_log::Column::Id)
    }
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
        Ok(self.page(&AuditFilter::default(), 1, n).await?.items)
    }

    /// Page `page` (from 1) of the entries matching `filter`, `per_page` (1..=500) at a time.
    pub async fn page(
        &self,
        filter: &AuditFilter,
        page: u64,
        per_page: u64,
    ) -> Result<AuditPage, DbErr> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let total = filter.select().count(&self.db).await?;
        let rows = filter
            .select()
            .offset((page - 1).saturating_mul(per_page))
            .limit(per_page)
            .all(&self.db)
            .await?;
        Ok(AuditPage {
            items: rows.into_iter().map(AuditRecord::of).collect(),
            total,
            page,
            per_page,
        })
    }

    /// Every entry matching `filter` (at most [`MAX_EXPORT`]), newest first, for the CSV export.
    pub async fn export(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, DbErr> {
        let rows = filter.select().limit(MAX_EXPORT).all(&self.db).await?;
        Ok(rows.into_iter().map(AuditRecord::of).collect())
    }

    /// Deletes entries older than `days` days (0 keeps everything). Returns how many went.
    pub async fn purge_older_than(&self, days: u32) -> Result<u64, DbErr> {
        if days == 0 {
            return Ok(0);
        }
        let cutoff = self.clock.now() - Duration::days(i64::from(days));
        Ok(audit_log::Entity::delete_many()
            .filter(audit_log::Column::At.lt(cutoff))
            .exec(&self.db)
            .await?
            .rows_affected)
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

    #[tokio::test]
    async fn filters_page_and_purge() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let audit = Audit::new(db, clock.clone());
        let day1 = clock.now().date_naive();
        for i in 0..5 {
            audit
                .record(
                    Some(UserId(1)),
                    "user.approve",
                    Some(&format!("user:{i}")),
                    None,
                    None,
                )
                .await
                .unwrap();
        }
        clock.advance(Duration::days(2));
        audit
            .record(Some(UserId(2)), "user.block", Some("user:3"), None, None)
            .await
            .unwrap();
        audit
            .record(None, "session.refresh_reuse", None, None, None)
            .await
            .unwrap();

        let all = AuditFilter::default();
        let p = audit.page(&all, 2, 3).await.unwrap();
        assert_eq!((p.total, p.items.len()), (7, 3));
        let users = AuditFilter {
            action: Some("user.".into()),
            ..Default::default()
        };
        assert_eq!(audit.page(&users, 1, 50).await.unwrap().total, 6);
        let exact = AuditFilter {
            action: Some("user".into()),
            ..Default::default()
        };
        assert_eq!(audit.page(&exact, 1, 50).await.unwrap().total, 0);
        let by_actor = AuditFilter {
            actor: Some(UserId(2)),
            target: Some("user:3".into()),
            ..Default::default()
        };
        let p = audit.page(&by_actor, 1, 50).await.unwrap();
        assert_eq!(p.items[0].action, "user.block");
        let first_day = AuditFilter {
            from: Some(day1),
            to: Some(day1),
            ..Default::default()
        };
        assert_eq!(audit.export(&first_day).await.unwrap().len(), 5);

        clock.advance(Duration::days(365));
        assert_eq!(audit.purge_older_than(0).await.unwrap(), 0);
        assert_eq!(audit.purge_older_than(365).await.unwrap(), 5);
        assert_eq!(audit.recent(10).await.unwrap().len(), 2);
    }
}
