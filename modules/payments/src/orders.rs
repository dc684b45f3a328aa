//! Orders from a gateway: initiate (or reuse), cancel, and the views of an order.

use std::net::IpAddr;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use lpsaring_kernel::UserId;
use lpsaring_kernel::ports::GatewayErrorKind;
use lpsaring_kernel::ports::payment::{CreatePayment, Customer, PaymentItem};
use rand::RngCore;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::api::{
    Availability, EventKind, InitiateRequest, Initiated, OrderSource, OrderStatus, OrderView,
};
use crate::entity::{event, order, package};
use crate::error::PaymentsError;
use crate::link;
use crate::service::Service;

/// Window of the per-user and per-IP initiate limits.
const INITIATE_WINDOW: StdDuration = StdDuration::from_secs(600);
/// Orders a user's list shows.
const MY_ORDERS_LIMIT: u64 = 100;
/// First reconciliation check of a new pending order.
pub(crate) const FIRST_CHECK_AFTER_SECS: i64 = 60;

pub(crate) fn to_view(m: &order::Model) -> OrderView {
    OrderView {
        order_id: m.order_id.clone(),
        status: m.status,
        amount: m.amount,
        package_id: m.package_id,
        package_name: m.package_name.clone(),
        quota_bytes: m.quota_bytes,
        unlimited: m.unlimited,
        validity_hours: m.validity_hours,
        source: m.source,
        provider: m.provider.clone(),
        payment_method: m.payment_method.clone(),
        redirect_url: m.redirect_url.clone(),
        qr_string: m.qr_string.clone(),
        va_bank: m.va_bank.clone(),
        va_number: m.va_number.clone(),
        bill_key: m.bill_key.clone(),
        biller_code: m.biller_code.clone(),
        deeplink: m.deeplink.clone(),
        expiry_time: m.provider_expires_at.unwrap_or(m.expires_at),
        paid_at: m.paid_at,
        created_at: m.created_at,
    }
}

/// `payment_method` + `va_bank` as one provider method hint (`qris`, `bca_va`, …); the
/// original's clients send `payment_method: "va", va_bank: "bca"`.
fn method_hint(req: &InitiateRequest) -> Result<Option<String>, PaymentsError> {
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
    };
    let method = match (clean(&req.payment_method), clean(&req.va_bank)) {
        (Some(m), Some(bank)) if m == "va" || m == "bank_transfer" => Some(format!("{bank}_va")),
        (None, Some(bank)) => Some(format!("{bank}_va")),
        (m, _) => m,
    };
    if let Some(m) = &method
        && (m.len() > 30 || !m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err(PaymentsError::Invalid(
            "payment_method: letters, digits and `_` only".to_owned(),
        ));
    }
    Ok(method)
}

/// `<prefix>-<12 upper-case hex>`, as the original.
fn new_order_id(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}-{}", hex::encode_upper(bytes))
}

/// A new pending order of `facts`' user for `package`, as bought now (a later edit of the
/// package never changes it); the caller sets what its source adds (provider, paid, note).
pub(crate) fn new_order(
    facts: &lpsaring_kernel::ports::UserFacts,
    package: &package::Model,
    source: OrderSource,
    prefix: &str,
    now: DateTime<Utc>,
) -> order::ActiveModel {
    order::ActiveModel {
        id: NotSet,
        order_id: Set(new_order_id(prefix)),
        user_id: Set(facts.id.0),
        package_id: Set(package.id),
        source: Set(source),
        amount: Set(package.price),
        status: Set(OrderStatus::Pending),
        buyer_phone: Set(facts.phone.as_ref().map(|p| p.as_str().to_owned())),
        buyer_name: Set(facts.name.chars().take(100).collect()),
        package_name: Set(package.name.clone()),
        quota_bytes: Set(package.quota_bytes),
        unlimited: Set(package.unlimited),
        validity_hours: Set(package.validity_hours),
        hotspot_profile: Set(package.hotspot_profile.clone()),
        provider: Set(None),
        provider_ref: Set(None),
        payment_method: Set(None),
        va_bank: Set(None),
        va_number: Set(None),
        bill_key: Set(None),
        biller_code: Set(None),
        qr_string: Set(None),
        deeplink: Set(None),
        redirect_url: Set(None),
        provider_expires_at: Set(None),
        expires_at: Set(now),
        reconcile_attempts: Set(0),
        next_check_at: Set(None),
        flagged: Set(false),
        flag_reason: Set(None),
        note: Set(None),
        paid_at: Set(None),
        applied_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Moves a still-pending order to a final `status` (cancelled, expired) inside `txn`; 0 when
/// something else (a payment, another close) moved it first.
pub(crate) async fn close_pending(
    txn: &impl ConnectionTrait,
    id: i64,
    status: OrderStatus,
    now: DateTime<Utc>,
) -> Result<u64, PaymentsError> {
    Ok(order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(status))
        .col_expr(
            order::Column::NextCheckAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .exec(txn)
        .await?
        .rows_affected)
}

/// Appends an event (no de-duplication key) on `conn`.
pub(crate) async fn append_event(
    conn: &impl ConnectionTrait,
    transaction_id: i64,
    kind: EventKind,
    source: &str,
    status: Option<OrderStatus>,
    payload: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    event::Entity::insert(event::ActiveModel {
        id: NotSet,
        transaction_id: Set(transaction_id),
        kind: Set(kind),
        source: Set(source.chars().take(50).collect()),
        status: Set(status),
        dedup_key: Set(None),
        payload: Set(payload),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

impl Service {
    /// Whether pages may offer online payment, and a sentence for them when not.
    pub fn availability(&self) -> Availability {
        match self.active_gateway() {
            Some(g) => Availability {
                available: true,
                provider: Some(g.port.name().to_owned()),
                message: None,
            },
            None => Availability {
                available: false,
                provider: None,
                message: Some(
                    "Pembayaran online belum tersedia. Hubungi pengelola hotspot untuk membeli paket. / Online payment is not available; ask the hotspot operator to buy a package."
                        .to_owned(),
                ),
            },
        }
    }

    /// A status link for `order_id`: its `/bayar` page, opening without a login (relative when
    /// no public URL is configured).
    pub fn status_link(&self, order_id: &str) -> (String, String) {
        let until = self.clock.now() + Duration::days(i64::from(self.settings.status_link_days));
        let token = link::issue(&self.link_key, order_id, until);
        let url = format!("{}/bayar/{order_id}?t={token}", self.public_url);
        (token, url)
    }

    /// Counts one attempt under `key`; `RateLimited` once the window's budget is spent.
    async fn limit(&self, key: &str, budget: u32) -> Result<(), PaymentsError> {
        let n = self.store.incr(key, 1, Some(INITIATE_WINDOW)).await?;
        if n > i64::from(budget) {
            return Err(PaymentsError::RateLimited {
                retry_after_secs: INITIATE_WINDOW.as_secs(),
            });
        }
        Ok(())
    }

    /// Starts (or reuses) a gateway order for `user`. The order and its `initiated` event are
    /// committed before the provider is asked, so a webhook that beats our answer finds it.
    pub async fn initiate(
        &self,
        user: UserId,
        req: &InitiateRequest,
        ip: Option<IpAddr>,
    ) -> Result<Initiated, PaymentsError> {
        self.active_gateway()
            .ok_or_else(|| PaymentsError::GatewayUnavailable("no payment plugin".to_owned()))?;
        method_hint(req)?;
        let budget = self.settings.initiate_per_10_min;
        self.limit(&format!("pay:init:user:{}", user.0), budget)
            .await?;
        if let Some(ip) = ip {
            self.limit(&format!("pay:init:ip:{ip}"), budget.saturating_mul(2))
                .await?;
        }
        let facts = self
            .users
            .get(user)
            .await?
            .ok_or(PaymentsError::UserNotFound)?;
        if !facts.active || facts.blocked || !facts.approved {
            return Err(PaymentsError::UserNotAllowed);
        }
        let package = self.package_row(req.package_id).await?;
        if !package.is_active {
            return Err(PaymentsError::PackageInactive);
        }
        self.open_order(&facts, &package, req).await
    }

    /// The gateway order itself (or the unexpired pending one it reuses), for a user already
    /// checked: the user's initiate and the admin's bill.
    pub(crate) async fn open_order(
        &self,
        facts: &lpsaring_kernel::ports::UserFacts,
        package: &package::Model,
        req: &InitiateRequest,
    ) -> Result<Initiated, PaymentsError> {
        let gateway = self
            .active_gateway()
            .cloned()
            .ok_or_else(|| PaymentsError::GatewayUnavailable("no payment plugin".to_owned()))?;
        let method = method_hint(req)?;
        let now = self.clock.now();
        let provider = gateway.port.name().to_owned();

        let mut reusable = order::Entity::find()
            .filter(order::Column::UserId.eq(facts.id.0))
            .filter(order::Column::PackageId.eq(package.id))
            .filter(order::Column::Status.eq(OrderStatus::Pending))
            .filter(order::Column::Provider.eq(provider.clone()))
            .filter(order::Column::ProviderExpiresAt.gt(now))
            .filter(order::Column::Amount.eq(package.price));
        reusable = match &method {
            Some(m) => reusable.filter(order::Column::PaymentMethod.eq(m.clone())),
            None => reusable.filter(order::Column::PaymentMethod.is_null()),
        };
        if let Some(existing) = reusable
            .order_by_desc(order::Column::CreatedAt)
            .one(&self.db)
            .await?
            && (existing.redirect_url.is_some()
                || existing.qr_string.is_some()
                || existing.va_number.is_some()
                || existing.bill_key.is_some())
        {
            return Ok(self.initiated(&existing, true));
        }

        let expiry_minutes = self.settings.payment_expiry_minutes;
        let pending = self
            .insert_pending(facts, package, &provider, method.clone(), now)
            .await?;
        let (token, _) = self.status_link(&pending.order_id);
        let request = CreatePayment {
            order_id: pending.order_id.clone(),
            amount: package.price,
            item: PaymentItem {
                id: package.id.to_string(),
                name: package.name.chars().take(50).collect(),
                price: package.price,
                quantity: 1,
            },
            customer: Customer {
                name: facts.name.clone(),
                // A voucher account has no phone; providers take the order without one.
                phone: facts
                    .phone
                    .as_ref()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
                email: None,
            },
            method,
            // The provider sends the payer back to the status page (it opens by the link).
            return_url: format!("{}/bayar/{}?t={token}", self.public_url, pending.order_id),
            expiry_minutes,
        };
        match gateway.port.create_payment(&request).await {
            Ok(created) => {
                let mut row: order::ActiveModel = pending.into();
                row.provider_ref = Set(created.provider_ref);
                row.redirect_url = Set(created.redirect_url);
                row.qr_string = Set(created.qr_string);
                row.va_number = Set(created.va_number);
                row.va_bank = Set(created.bank);
                row.updated_at = Set(self.clock.now());
                let saved = row.update(&self.db).await?;
                Ok(self.initiated(&saved, false))
            }
            Err(e) => {
                // Cancelled, not failed: should the provider have taken the order after all (a
                // timeout after it answered), a paid notification is still applied, flagged.
                self.close_unanswered(&pending, &e.to_string()).await?;
                tracing::warn!(order = %pending.order_id, error = %e, "payment provider refused or did not answer");
                Err(match e.kind {
                    GatewayErrorKind::Retryable | GatewayErrorKind::Auth => {
                        PaymentsError::GatewayUnavailable(e.to_string())
                    }
                    GatewayErrorKind::Permanent | GatewayErrorKind::InvalidInput => {
                        PaymentsError::GatewayRejected(e.to_string())
                    }
                })
            }
        }
    }

    fn initiated(&self, m: &order::Model, reused: bool) -> Initiated {
        let (token, url) = self.status_link(&m.order_id);
        Initiated {
            order: to_view(m),
            status_token: Some(token),
            status_url: Some(url),
            reused,
        }
    }

    async fn insert_pending(
        &self,
        facts: &lpsaring_kernel::ports::UserFacts,
        package: &package::Model,
        provider: &str,
        method: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<order::Model, PaymentsError> {
        let txn = self.db.begin().await?;
        let mut row = new_order(
            facts,
            package,
            OrderSource::Gateway,
            &self.settings.order_prefix,
            now,
        );
        row.provider = Set(Some(provider.to_owned()));
        row.payment_method = Set(method);
        row.provider_expires_at = Set(Some(
            now + Duration::minutes(i64::from(self.settings.payment_expiry_minutes)),
        ));
        row.expires_at = Set(now + Duration::hours(i64::from(self.settings.pending_window_hours)));
        row.next_check_at = Set(Some(now + Duration::seconds(FIRST_CHECK_AFTER_SECS)));
        let saved = row.insert(&txn).await?;
        append_event(
            &txn,
            saved.id,
            EventKind::Initiated,
            provider,
            Some(OrderStatus::Pending),
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// The provider never gave a way to pay: the order is cancelled, the reason kept.
    async fn close_unanswered(&self, m: &order::Model, why: &str) -> Result<(), PaymentsError> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        close_pending(&txn, m.id, OrderStatus::Cancelled, now).await?;
        let payload = serde_json::json!({ "create_payment_error": why }).to_string();
        append_event(
            &txn,
            m.id,
            EventKind::Cancelled,
            "system",
            Some(OrderStatus::Cancelled),
            Some(payload),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    pub(crate) async fn order_row(&self, order_id: &str) -> Result<order::Model, PaymentsError> {
        order::Entity::find()
            .filter(order::Column::OrderId.eq(order_id))
            .one(&self.db)
            .await?
            .ok_or(PaymentsError::OrderNotFound)
    }

    /// The owner cancels a pending order.
    pub async fn cancel(&self, user: UserId, order_id: &str) -> Result<OrderView, PaymentsError> {
        let m = self.order_row(order_id).await?;
        if m.user_id != user.0 {
            return Err(PaymentsError::OrderNotFound);
        }
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let moved = close_pending(&txn, m.id, OrderStatus::Cancelled, now).await?;
        if moved == 0 {
            txn.rollback().await?;
            return Err(PaymentsError::OrderNotPending);
        }
        append_event(
            &txn,
            m.id,
            EventKind::Cancelled,
            "user",
            Some(OrderStatus::Cancelled),
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        self.order_row(order_id).await.map(|m| to_view(&m))
    }

    /// An order for its owner or an admin (anyone else: not found).
    pub async fn order_for(
        &self,
        user: UserId,
        admin: bool,
        order_id: &str,
    ) -> Result<OrderView, PaymentsError> {
        let m = self.order_row(order_id).await?;
        if m.user_id != user.0 && !admin {
            return Err(PaymentsError::OrderNotFound);
        }
        Ok(to_view(&m))
    }

    /// An order opened by its status link; a wrong or expired token is "not found".
    pub async fn order_by_link(
        &self,
        order_id: &str,
        token: &str,
    ) -> Result<OrderView, PaymentsError> {
        if !link::verify(&self.link_key, order_id, token, self.clock.now()) {
            return Err(PaymentsError::OrderNotFound);
        }
        self.order_row(order_id).await.map(|m| to_view(&m))
    }

    /// The user's orders, newest first.
    pub async fn my_orders(&self, user: UserId) -> Result<Vec<OrderView>, PaymentsError> {
        let rows = order::Entity::find()
            .filter(order::Column::UserId.eq(user.0))
            .order_by_desc(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
            .limit(MY_ORDERS_LIMIT)
            .all(&self.db)
            .await?;
        Ok(rows.iter().map(to_view).collect())
    }
}
