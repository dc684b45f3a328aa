//! The revenue report: paid orders (refunded ones no longer count) by local day, by package and
//! by payment method over a range of days in the site's time zone; `?format=csv` exports it.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use lpsaring_kernel::csv::CsvWriter;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::local_midnight;
use crate::api::{OrderSource, OrderStatus};
use crate::entity::order;
use crate::error::PaymentsError;
use crate::service::Service;

/// Days the report covers unless told otherwise (ending today).
pub const DEFAULT_DAYS: i64 = 30;
/// The longest range one report covers.
pub const MAX_DAYS: i64 = 366;

/// One line of a breakdown: orders and rupiah.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct RevenueLine {
    /// The day (`2026-12-01`), the package's name or the method.
    pub key: String,
    pub orders: u64,
    pub amount: i64,
}

/// `GET /api/admin/transactions/revenue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct RevenueReport {
    #[salvo(schema(value_type = String))]
    pub from: NaiveDate,
    #[salvo(schema(value_type = String))]
    pub to: NaiveDate,
    /// The time zone the days are in.
    pub timezone: String,
    pub orders: u64,
    pub amount: i64,
    /// Every day of the range, oldest first (days without a sale say 0).
    pub by_day: Vec<RevenueLine>,
    /// Highest amount first.
    pub by_package: Vec<RevenueLine>,
    pub by_method: Vec<RevenueLine>,
}

/// The range asked for, completed and checked: `to` defaults to today, `from` to 29 days
/// before `to`; `from` after `to` or a range over [`MAX_DAYS`] is refused.
pub fn range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), PaymentsError> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(PaymentsError::Invalid(
            "from: must not be after `to`".to_owned(),
        ));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(PaymentsError::Invalid(format!(
            "from: the range covers at most {MAX_DAYS} days"
        )));
    }
    Ok((from, to))
}

/// How a paid order was paid, as the report groups it: its method, else its source.
fn method_of(m: &order::Model) -> String {
    m.payment_method.clone().unwrap_or_else(|| {
        match m.source {
            OrderSource::Gateway => "gateway",
            OrderSource::Voucher => "voucher",
            OrderSource::Manual => "manual",
        }
        .to_owned()
    })
}

fn add(map: &mut BTreeMap<String, (u64, i64)>, key: String, amount: i64) {
    let e = map.entry(key).or_default();
    e.0 += 1;
    e.1 += amount;
}

fn lines(map: BTreeMap<String, (u64, i64)>) -> Vec<RevenueLine> {
    let mut v: Vec<_> = map
        .into_iter()
        .map(|(key, (orders, amount))| RevenueLine {
            key,
            orders,
            amount,
        })
        .collect();
    v.sort_by(|a, b| b.amount.cmp(&a.amount).then_with(|| a.key.cmp(&b.key)));
    v
}

/// The paid orders of `rows` grouped into the report over `from..=to` in `tz`.
fn report(rows: &[order::Model], from: NaiveDate, to: NaiveDate, tz: Tz) -> RevenueReport {
    let mut days: BTreeMap<NaiveDate, (u64, i64)> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| (d, (0, 0)))
        .collect();
    let (mut packages, mut methods) = (BTreeMap::new(), BTreeMap::new());
    let (mut orders, mut amount) = (0, 0);
    for m in rows {
        let Some(paid) = m.paid_at else { continue };
        let Some(day) = days.get_mut(&paid.with_timezone(&tz).date_naive()) else {
            continue;
        };
        day.0 += 1;
        day.1 += m.amount;
        orders += 1;
        amount += m.amount;
        add(&mut packages, m.package_name.clone(), m.amount);
        add(&mut methods, method_of(m), m.amount);
    }
    RevenueReport {
        from,
        to,
        timezone: tz.name().to_owned(),
        orders,
        amount,
        by_day: days
            .into_iter()
            .map(|(d, (orders, amount))| RevenueLine {
                key: d.to_string(),
                orders,
                amount,
            })
            .collect(),
        by_package: lines(packages),
        by_method: lines(methods),
    }
}

impl RevenueReport {
    /// The report as one CSV: `group,key,orders,amount`, the days, then packages, then methods.
    pub fn csv(&self) -> CsvWriter {
        let mut csv = CsvWriter::with_header(&["group", "key", "orders", "amount"]);
        for (group, list) in [
            ("day", &self.by_day),
            ("package", &self.by_package),
            ("method", &self.by_method),
        ] {
            for l in list {
                csv.row([group, &l.key, &l.orders.to_string(), &l.amount.to_string()]);
            }
        }
        csv
    }
}

impl Service {
    /// The revenue of paid orders paid on local days `from..=to` (see [`range`]) in `tz`.
    pub async fn revenue(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        tz: Tz,
    ) -> Result<RevenueReport, PaymentsError> {
        let today = self.clock.now().with_timezone(&tz).date_naive();
        let (from, to) = range(from, to, today)?;
        let rows = order::Entity::find()
            .filter(order::Column::Status.eq(OrderStatus::Paid))
            .filter(order::Column::PaidAt.gte(local_midnight(from, tz)))
            .filter(order::Column::PaidAt.lt(local_midnight(to + Duration::days(1), tz)))
            .limit(super::MAX_EXPORT)
            .all(&self.db)
            .await?;
        Ok(report(&rows, from, to, tz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_range_defaults_to_thirty_days_and_refuses_nonsense() {
        let today = day("2026-12-01");
        assert_eq!(
            range(None, None, today).unwrap(),
            (day("2026-11-02"), today)
        );
        assert!(range(Some(day("2026-12-02")), None, today).is_err());
        assert!(range(Some(day("2025-01-01")), None, today).is_err());
        assert_eq!(
            range(Some(day("2026-12-01")), Some(day("2026-12-01")), today).unwrap(),
            (today, today)
        );
    }
}
