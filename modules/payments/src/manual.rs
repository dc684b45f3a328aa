//! Paid orders that no gateway confirms: a redeemed voucher, and an admin's cash or transfer
//! sale; plus the admin's bill, a gateway order opened for a user whose payment link reaches
//! them through the outbox. All take the same exactly-once apply as a gateway order: the quota
//! grant commits with the paid order.

use chrono::{DateTime, Utc};
use lpsaring_kernel::outbox::{OutboxMessage, enqueue_many};
use lpsaring_kernel::ports::UserFacts;
use lpsaring_kernel::ports::audit::AuditEntry;
use lpsaring_kernel::sql::begin_write;
use lpsaring_kernel::{Phone, UserId};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, TransactionTrait};
use serde::Deserialize;
use serde_json::json;

use crate::api::{EventKind, InitiateRequest, Initiated, OrderSource, OrderStatus, OrderView};
use crate::entity::{order, package};
use crate::error::PaymentsError;
use crate::events::rupiah;
use crate::orders::{append_event, new_order, to_view};
use crate::service::Service;

/// How an admin was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, salvo::oapi::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ManualMethod {
    Cash,
    Transfer,
}

impl ManualMethod {
    fn as_str(self) -> &'static str {
        match self {
            ManualMethod::Cash => "cash",
            ManualMethod::Transfer => "transfer",
        }
    }
}

/// `POST /api/admin/transactions/manual`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, salvo::oapi::ToSchema)]
pub struct ManualSale {
    pub phone: String,
    pub package_id: i64,
    pub method: ManualMethod,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/admin/transactions/bill`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, salvo::oapi::ToSchema)]
pub struct BillRequest {
    pub phone: String,
    pub package_id: i64,
}

/// A paid order recorded now, in `txn`.
pub(crate) struct Recorded<'a> {
    pub facts: &'a UserFacts,
    pub package: &'a package::Model,
    pub source: OrderSource,
    pub method: &'a str,
    pub note: Option<String>,
    /// Who recorded it (`voucher`, `admin`), for the event.
    pub by: &'a str,
    pub payload: serde_json::Value,
}

impl Service {
    /// Inserts the paid order, its `recorded` event and its quota grant in `txn`; the caller
    /// commits, then calls [`Service::apply_on_router`].
    pub(crate) async fn record_paid(
        &self,
        txn: &impl ConnectionTrait,
        r: Recorded<'_>,
        now: DateTime<Utc>,
    ) -> Result<order::Model, PaymentsError> {
        let mut row = new_order(
            r.facts,
            r.package,
            r.source,
            &self.settings.order_prefix,
            now,
        );
        row.status = Set(OrderStatus::Paid);
        row.payment_method = Set(Some(r.method.to_owned()));
        row.note = Set(r.note);
        row.paid_at = Set(Some(now));
        let paid = row.insert(txn).await?;
        append_event(
            txn,
            paid.id,
            EventKind::Recorded,
            r.by,
            Some(OrderStatus::Paid),
            Some(r.payload.to_string()),
            now,
        )
        .await?;
        self.write_grant(txn, &paid, now).await?;
        Ok(paid)
    }

    /// The user behind an admin's phone field and a package on sale.
    async fn customer(
        &self,
        phone: &str,
        package_id: i64,
    ) -> Result<(UserFacts, package::Model), PaymentsError> {
        let phone =
            Phone::parse(phone).map_err(|e| PaymentsError::Invalid(format!("phone: {e}")))?;
        let facts = self
            .users
            .by_phone(&phone)
            .await?
            .ok_or(PaymentsError::UserNotFound)?;
        if !facts.active || facts.blocked {
            return Err(PaymentsError::UserNotAllowed);
        }
        let package = self.package_row(package_id).await?;
        if !package.is_active {
            return Err(PaymentsError::PackageInactive);
        }
        Ok((facts, package))
    }

    /// An admin records a cash or transfer sale: a paid order (source `manual`) with its grant,
    /// and an audit entry.
    pub async fn record_manual_sale(
        &self,
        admin: UserId,
        sale: &ManualSale,
    ) -> Result<OrderView, PaymentsError> {
        let note = sale
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            return Err(PaymentsError::Invalid(
                "note: at most 500 characters".to_owned(),
            ));
        }
        let (facts, package) = self.customer(&sale.phone, sale.package_id).await?;
        let now = self.clock.now();
        let txn = begin_write(&self.db).await?;
        let paid = self
            .record_paid(
                &txn,
                Recorded {
                    facts: &facts,
                    package: &package,
                    source: OrderSource::Manual,
                    method: sale.method.as_str(),
                    note,
                    by: "admin",
                    payload: json!({"admin": admin.0, "method": sale.method.as_str()}),
                },
                now,
            )
            .await?;
        txn.commit().await?;
        self.apply_on_router(facts.id).await;
        self.audit(
            AuditEntry::new("payment.manual_sale")
                .actor(admin)
                .target(format!("order:{}", paid.order_id))
                .details(json!({
                    "user": facts.id.0, "package_id": package.id,
                    "amount": paid.amount, "method": sale.method.as_str(),
                })),
        )
        .await;
        Ok(to_view(&paid))
    }

    /// An admin bills a user: a gateway order opened on their behalf; its payment link goes to
    /// them through the outbox (WhatsApp), and it applies like any other order when paid.
    pub async fn bill(
        &self,
        admin: UserId,
        bill: &BillRequest,
    ) -> Result<Initiated, PaymentsError> {
        let (facts, package) = self.customer(&bill.phone, bill.package_id).await?;
        // Found by its phone, so it has one; checked before any order is opened.
        let recipient = facts.phone.clone().ok_or(PaymentsError::UserNotFound)?;
        let request = InitiateRequest {
            package_id: package.id,
            payment_method: None,
            va_bank: None,
        };
        let initiated = self.open_order(&facts, &package, &request).await?;
        let link = initiated
            .order
            .redirect_url
            .clone()
            .or_else(|| initiated.status_url.clone())
            .unwrap_or_default();
        let body = format!(
            "Tagihan paket {} ({}). Bayar di: {link}",
            package.name,
            rupiah(package.price)
        );
        let message = OutboxMessage {
            dedup_key: format!("payment:bill:{}", initiated.order.order_id),
            recipient,
            body,
        };
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        enqueue_many(&txn, &[message], now).await?;
        txn.commit().await?;
        self.audit(
            AuditEntry::new("payment.bill")
                .actor(admin)
                .target(format!("order:{}", initiated.order.order_id))
                .details(json!({"user": facts.id.0, "package_id": package.id})),
        )
        .await;
        Ok(initiated)
    }
}
