//! payments' part of the admin overview: revenue today, this month and per day over the last
//! 30 days, and the best-selling packages of those 30 days, from the revenue report.

use async_trait::async_trait;
use chrono::NaiveDate;
use chrono_tz::Tz;
use lpsaring_kernel::ApiError;
use lpsaring_kernel::ports::overview::{
    DayValue, SalesFigures, SalesOverview, Tally, last_30_days, month_start,
};

use crate::sales::revenue::RevenueLine;
use crate::service::Service;

fn count(orders: u64) -> i64 {
    i64::try_from(orders).unwrap_or(i64::MAX)
}

fn day_of(line: &RevenueLine) -> Option<NaiveDate> {
    line.key.parse().ok()
}

#[async_trait]
impl SalesOverview for Service {
    async fn sales_figures(&self, today: NaiveDate, tz: Tz) -> Result<SalesFigures, ApiError> {
        let from = last_30_days(today).first().copied().unwrap_or(today);
        let recent = self.revenue(Some(from), Some(today), tz).await?;
        let month = self
            .revenue(Some(month_start(today)), Some(today), tz)
            .await?;
        let today_line = recent.by_day.iter().find(|l| day_of(l) == Some(today));
        Ok(SalesFigures {
            today_orders: today_line.map_or(0, |l| count(l.orders)),
            today_amount: today_line.map_or(0, |l| l.amount),
            month_orders: count(month.orders),
            month_amount: month.amount,
            by_day: recent
                .by_day
                .iter()
                .filter_map(|l| {
                    day_of(l).map(|day| DayValue {
                        day,
                        value: l.amount,
                    })
                })
                .collect(),
            best_sellers: recent
                .by_package
                .iter()
                .map(|l| Tally {
                    key: l.key.clone(),
                    count: count(l.orders),
                    amount: l.amount,
                })
                .collect(),
        })
    }
}
