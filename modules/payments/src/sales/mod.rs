//! Sales, the admin's view of every order (issue 18, "Sales"): the list with its filters and
//! server paging (`GET /api/admin/transactions`, `/admin/sales`), one order with every event and
//! the provider's raw payload with secrets redacted (`.../{order_id}/detail`), the revenue
//! report ([`revenue`]) and their CSV exports. Reads only; the moves (reconcile, refund, a cash
//! sale) stay in their own rooms and are only called from here.

pub(crate) mod pages;
pub(crate) mod redact;
pub mod revenue;
pub(crate) mod routes;
pub(crate) mod views;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use lpsaring_kernel::UserId;
use lpsaring_kernel::csv::CsvWriter;
use lpsaring_kernel::ports::audit::AuditEntry;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use serde::Serialize;
use serde_json::json;

use crate::api::{EventKind, OrderSource, OrderStatus};
use crate::entity::{event, order};
use crate::error::PaymentsError;
use crate::events::status_word as status_name;
use crate::reconcile::ReconcileOne;
use crate::service::Service;

/// Most orders one page returns, and one CSV export.
pub const MAX_PER_PAGE: u64 = 500;
pub const MAX_EXPORT: u64 = 100_000;
/// Orders a page shows unless asked otherwise.
pub const PER_PAGE: u64 = 50;

/// Which orders to list: every filter optional. Days are local dates in the site's time zone
/// (both inclusive) and match the order's creation time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SalesFilter {
    pub status: Option<OrderStatus>,
    pub source: Option<OrderSource>,
    /// The payment method as stored (`qris`, `bca_va`, `cash`, `transfer`, `sandbox`, …).
    pub method: Option<String>,
    pub package_id: Option<i64>,
    /// An order id, or a buyer's phone (E.164 digits, a part of it matches).
    pub q: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The status named in a query: ours (`paid`) or the original's (`SUCCESS`), any case.
pub fn parse_status(text: &str) -> Option<OrderStatus> {
    Some(match text.trim().to_ascii_lowercase().as_str() {
        "pending" => OrderStatus::Pending,
        "paid" | "success" | "settlement" => OrderStatus::Paid,
        "failed" | "failure" => OrderStatus::Failed,
        "expired" | "expire" => OrderStatus::Expired,
        "cancelled" | "canceled" | "cancel" => OrderStatus::Cancelled,
        "refunded" | "refund" => OrderStatus::Refunded,
        _ => return None,
    })
}

/// The source named in a query.
pub fn parse_source(text: &str) -> Option<OrderSource> {
    Some(match text.trim().to_ascii_lowercase().as_str() {
        "gateway" => OrderSource::Gateway,
        "voucher" => OrderSource::Voucher,
        "manual" => OrderSource::Manual,
        _ => return None,
    })
}

/// The first instant of local `day` in `tz`, in UTC (the earliest one on a DST jump).
pub(crate) fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| naive.and_utc())
}

impl SalesFilter {
    fn condition(&self, tz: Tz) -> Condition {
        let mut c = Condition::all();
        if let Some(status) = self.status {
            c = c.add(order::Column::Status.eq(status));
        }
        if let Some(source) = self.source {
            c = c.add(order::Column::Source.eq(source));
        }
        if let Some(method) = self
            .method
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            c = c.add(order::Column::PaymentMethod.eq(method.to_ascii_lowercase()));
        }
        if let Some(package) = self.package_id {
            c = c.add(order::Column::PackageId.eq(package));
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let digits: String = q.chars().filter(char::is_ascii_digit).collect();
            let mut any = Condition::any().add(order::Column::OrderId.eq(q.to_ascii_uppercase()));
            let phone_like = q
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if phone_like && digits.len() >= 4 {
                let national = digits.trim_start_matches('0').trim_start_matches("62");
                any = any.add(order::Column::BuyerPhone.contains(national));
            }
            c = c.add(any);
        }
        if let Some(from) = self.from {
            c = c.add(order::Column::CreatedAt.gte(local_midnight(from, tz)));
        }
        if let Some(to) = self.to {
            c = c.add(order::Column::CreatedAt.lt(local_midnight(to + Duration::days(1), tz)));
        }
        c
    }

    fn select(&self, tz: Tz) -> Select<order::Entity> {
        order::Entity::find()
            .filter(self.condition(tz))
            .order_by_desc(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
    }
}

/// One order in the admin's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct SaleRow {
    pub order_id: String,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    #[salvo(schema(value_type = String))]
    pub status: OrderStatus,
    #[salvo(schema(value_type = String))]
    pub source: OrderSource,
    pub payment_method: Option<String>,
    pub provider: Option<String>,
    pub package_id: i64,
    pub package_name: String,
    pub amount: i64,
    pub user_id: i64,
    pub buyer_phone: Option<String>,
    pub buyer_name: String,
    /// Needs an operator's look (late payment, amount mismatch).
    pub flagged: bool,
    pub flag_reason: Option<String>,
}

impl SaleRow {
    pub(crate) fn of(m: &order::Model) -> Self {
        Self {
            order_id: m.order_id.clone(),
            created_at: m.created_at,
            paid_at: m.paid_at,
            status: m.status,
            source: m.source,
            payment_method: m.payment_method.clone(),
            provider: m.provider.clone(),
            package_id: m.package_id,
            package_name: m.package_name.clone(),
            amount: m.amount,
            user_id: m.user_id,
            buyer_phone: m.buyer_phone.clone(),
            buyer_name: m.buyer_name.clone(),
            flagged: m.flagged,
            flag_reason: m.flag_reason.clone(),
        }
    }
}

/// One page of orders, newest first, with the count and the amount of all that match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct SalesPage {
    pub items: Vec<SaleRow>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// One event of an order, its payload with secrets redacted.
#[derive(Debug, Clone, PartialEq, Serialize, salvo::oapi::ToSchema)]
pub struct SaleEvent {
    pub at: DateTime<Utc>,
    #[salvo(schema(value_type = String))]
    pub kind: EventKind,
    /// The plugin, `user`, `admin` or `system`.
    pub source: String,
    #[salvo(schema(value_type = Option<String>))]
    pub status: Option<OrderStatus>,
    #[salvo(schema(value_type = Option<Object>))]
    pub payload: Option<serde_json::Value>,
}

/// `GET /api/admin/transactions/{order_id}/detail`: the order and every event, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, salvo::oapi::ToSchema)]
pub struct SaleDetail {
    #[serde(flatten)]
    pub order: SaleRow,
    pub provider_ref: Option<String>,
    pub note: Option<String>,
    pub quota_bytes: i64,
    pub unlimited: bool,
    pub validity_hours: i32,
    pub expires_at: DateTime<Utc>,
    pub applied_at: Option<DateTime<Utc>>,
    pub reconcile_attempts: i32,
    pub events: Vec<SaleEvent>,
}

/// The list CSV's columns.
const SALES_COLUMNS: &[&str] = &[
    "order_id",
    "created_at",
    "paid_at",
    "status",
    "source",
    "payment_method",
    "package",
    "amount",
    "user_id",
    "buyer_phone",
    "buyer_name",
    "flagged",
];

fn source_name(source: OrderSource) -> &'static str {
    match source {
        OrderSource::Gateway => "gateway",
        OrderSource::Voucher => "voucher",
        OrderSource::Manual => "manual",
    }
}

fn sale_cells(r: &SaleRow) -> [String; 12] {
    [
        r.order_id.clone(),
        r.created_at.to_rfc3339(),
        r.paid_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        status_name(r.status).to_owned(),
        source_name(r.source).to_owned(),
        r.payment_method.clone().unwrap_or_default(),
        r.package_name.clone(),
        r.amount.to_string(),
        r.user_id.to_string(),
        r.buyer_phone.clone().unwrap_or_default(),
        r.buyer_name.clone(),
        r.flagged.to_string(),
    ]
}

impl Service {
    /// Page `page` (from 1) of the orders matching `filter`, `per_page` (1..=500) at a time.
    pub async fn sales_page(
        &self,
        filter: &SalesFilter,
        tz: Tz,
        page: u64,
        per_page: u64,
    ) -> Result<SalesPage, PaymentsError> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let total = filter.select(tz).count(&self.db).await?;
        let rows = filter
            .select(tz)
            .offset((page - 1).saturating_mul(per_page))
            .limit(per_page)
            .all(&self.db)
            .await?;
        Ok(SalesPage {
            items: rows.iter().map(SaleRow::of).collect(),
            total,
            page,
            per_page,
        })
    }

    /// Every order matching `filter` (at most [`MAX_EXPORT`]) as CSV, newest first.
    pub async fn sales_csv(
        &self,
        filter: &SalesFilter,
        tz: Tz,
    ) -> Result<CsvWriter, PaymentsError> {
        let rows = filter.select(tz).limit(MAX_EXPORT).all(&self.db).await?;
        let mut csv = CsvWriter::with_header(SALES_COLUMNS);
        for m in &rows {
            csv.row(sale_cells(&SaleRow::of(m)));
        }
        Ok(csv)
    }

    /// One order with every event, oldest first, payloads redacted.
    pub async fn sale_detail(&self, order_id: &str) -> Result<SaleDetail, PaymentsError> {
        let m = self.order_row(order_id).await?;
        let events = event::Entity::find()
            .filter(event::Column::TransactionId.eq(m.id))
            .order_by_asc(event::Column::CreatedAt)
            .order_by_asc(event::Column::Id)
            .all(&self.db)
            .await?;
        Ok(SaleDetail {
            order: SaleRow::of(&m),
            provider_ref: m.provider_ref.clone(),
            note: m.note.clone(),
            quota_bytes: m.quota_bytes,
            unlimited: m.unlimited,
            validity_hours: m.validity_hours,
            expires_at: m.expires_at,
            applied_at: m.applied_at,
            reconcile_attempts: m.reconcile_attempts,
            events: events
                .into_iter()
                .map(|e| SaleEvent {
                    at: e.created_at,
                    kind: e.kind,
                    source: e.source,
                    status: e.status,
                    payload: e.payload.as_deref().map(redact::payload),
                })
                .collect(),
        })
    }

    /// "Reconcile now" by an admin: [`Service::reconcile_order`] and an audit entry.
    pub async fn reconcile_by(
        &self,
        admin: UserId,
        order_id: &str,
    ) -> Result<ReconcileOne, PaymentsError> {
        let done = self.reconcile_order(order_id).await?;
        self.audit(
            AuditEntry::new("payment.reconcile")
                .actor(admin)
                .target(format!("order:{order_id}"))
                .details(json!({
                    "checked": done.checked.is_some(),
                    "status": status_name(done.order.status),
                })),
        )
        .await;
        Ok(done)
    }
}
