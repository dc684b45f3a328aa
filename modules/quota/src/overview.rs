//! quota's part of the admin overview: bytes used per local day (today, this month, the last
//! 30 days), the accounts whose validity ends in the next 3 days, and the latest sync run.

use async_trait::async_trait;
use chrono::NaiveDate;
use chrono_tz::Tz;
use lpsaring_kernel::ApiError;
use lpsaring_kernel::ports::overview::{
    DayValue, Expiring, SyncFigures, UsageFigures, UsageOverview, last_30_days, month_start,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::{account, sync_run, usage_daily};
use crate::service::Service;

/// How far ahead "expiring soon" looks.
pub const EXPIRING_DAYS: i64 = 3;
/// The most expiring accounts listed.
const EXPIRING_LIMIT: u64 = 50;

impl Service {
    /// Bytes per local day from `from` on, summed over every user.
    async fn daily_bytes(&self, from: NaiveDate) -> Result<Vec<(NaiveDate, i64)>, ApiError> {
        usage_daily::Entity::find()
            .select_only()
            .column(usage_daily::Column::Day)
            .column_as(Expr::cust("CAST(SUM(bytes) AS BIGINT)"), "total")
            .filter(usage_daily::Column::Day.gte(from))
            .group_by(usage_daily::Column::Day)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(|e| ApiError::internal(&e))
    }

    async fn expiring_soon(&self) -> Result<Vec<Expiring>, ApiError> {
        let now = self.clock.now();
        let rows = account::Entity::find()
            .filter(account::Column::ExpiresAt.gte(now))
            .filter(account::Column::ExpiresAt.lt(now + chrono::Duration::days(EXPIRING_DAYS)))
            .order_by_asc(account::Column::ExpiresAt)
            .limit(EXPIRING_LIMIT)
            .all(&self.db)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        Ok(rows
            .into_iter()
            .filter_map(|a| {
                a.expires_at.map(|expires_at| Expiring {
                    user_id: a.user_id,
                    expires_at,
                })
            })
            .collect())
    }

    async fn last_sync(&self) -> Result<Option<SyncFigures>, ApiError> {
        let run = sync_run::Entity::find()
            .order_by_desc(sync_run::Column::StartedAt)
            .one(&self.db)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        Ok(run.map(|r| SyncFigures {
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.finished_at.map(|f| (f - r.started_at).num_milliseconds()),
            bytes_counted: r.bytes_counted,
            router_writes: r.router_writes,
            errors: r.errors,
            status: r.status,
        }))
    }
}

#[async_trait]
impl UsageOverview for Service {
    async fn usage_figures(&self, today: NaiveDate, _tz: Tz) -> Result<UsageFigures, ApiError> {
        let days = last_30_days(today);
        let month = month_start(today);
        let from = days.first().copied().unwrap_or(today).min(month);
        let daily = self.daily_bytes(from).await?;
        let on = |day: NaiveDate| {
            daily
                .iter()
                .filter(|(d, _)| *d == day)
                .map(|(_, b)| *b)
                .sum::<i64>()
        };
        Ok(UsageFigures {
            today_bytes: on(today),
            month_bytes: daily
                .iter()
                .filter(|(d, _)| *d >= month && *d <= today)
                .map(|(_, b)| *b)
                .sum(),
            by_day: days
                .into_iter()
                .map(|day| DayValue {
                    day,
                    value: on(day),
                })
                .collect(),
            expiring: self.expiring_soon().await?,
            last_sync: self.last_sync().await?,
        })
    }
}
