//! Packages and orders brought over from another system (`lpsaring import-lpsaring`), on the
//! caller's connection or transaction. Idempotent by package name and by order id.
//!
//! An imported paid order is marked applied: its quota arrives with the imported account, so
//! the sweep must never grant it a second time. An imported pending order is due for a check at
//! once: the reconciliation job asks its provider (the same order id there), and expires it when
//! its window has passed.

use chrono::{DateTime, Utc};
use lpsaring_kernel::ports::UserFacts;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::api::{EventKind, OrderSource, OrderStatus, Package, PackageInput};
use crate::entity::{order, package};
use crate::error::PaymentsError;
use crate::orders::{append_event, new_order};
use crate::packages::{clean, insert_package, to_api};

/// Longest order id stored (`transactions.order_id`).
const ORDER_ID_MAX: usize = 64;

/// What importing one package did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageImport {
    Created(Package),
    /// A package of that name was here already: nothing changed.
    Existing(Package),
}

/// Creates the package unless one of its name exists. The input is checked as the admin's
/// would be; the error names the field.
pub async fn import_package_in(
    conn: &impl ConnectionTrait,
    input: &PackageInput,
    now: DateTime<Utc>,
) -> Result<PackageImport, PaymentsError> {
    let input = clean(input)?;
    if let Some(row) = package::Entity::find()
        .filter(package::Column::Name.eq(input.name.as_str()))
        .one(conn)
        .await?
    {
        return Ok(PackageImport::Existing(to_api(row)));
    }
    Ok(PackageImport::Created(
        insert_package(conn, &input, now).await?,
    ))
}

/// An order as another system kept it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedOrder {
    /// The provider's order id (kept: the provider knows the order by it).
    pub order_id: String,
    pub buyer: UserFacts,
    pub package_id: i64,
    pub amount: i64,
    pub status: OrderStatus,
    /// The payment plugin that answers for it (`payment-midtrans`).
    pub provider: String,
    pub provider_ref: Option<String>,
    pub payment_method: Option<String>,
    pub va_number: Option<String>,
    pub bill_key: Option<String>,
    pub biller_code: Option<String>,
    pub redirect_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Kept on the order's `imported` event (the source row's id and status).
    pub origin: serde_json::Value,
}

/// What importing one order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderImport {
    Created,
    /// An order with this id was here already: nothing changed.
    Existing,
}

/// Creates the order (and its `imported` event) unless its id exists.
pub async fn import_order_in(
    conn: &impl ConnectionTrait,
    o: &ImportedOrder,
    now: DateTime<Utc>,
) -> Result<OrderImport, PaymentsError> {
    let order_id = o.order_id.trim();
    if order_id.is_empty() || order_id.len() > ORDER_ID_MAX {
        return Err(PaymentsError::Invalid(format!(
            "order id: 1 to {ORDER_ID_MAX} characters"
        )));
    }
    if order::Entity::find()
        .filter(order::Column::OrderId.eq(order_id))
        .one(conn)
        .await?
        .is_some()
    {
        return Ok(OrderImport::Existing);
    }
    let package = package::Entity::find_by_id(o.package_id)
        .one(conn)
        .await?
        .ok_or(PaymentsError::PackageNotFound)?;
    let mut row = new_order(&o.buyer, &package, OrderSource::Gateway, "", o.created_at);
    let paid = o.status == OrderStatus::Paid;
    let paid_at = paid.then(|| o.paid_at.unwrap_or(o.updated_at));
    let short = |v: &Option<String>, max: usize| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(max).collect::<String>())
    };
    row.order_id = Set(order_id.to_owned());
    row.amount = Set(o.amount);
    row.status = Set(o.status);
    row.provider = Set(Some(o.provider.clone()));
    row.provider_ref = Set(short(&o.provider_ref, 100));
    row.payment_method = Set(short(&o.payment_method, 50));
    row.va_bank = Set(short(&o.payment_method, 50)
        .as_deref()
        .and_then(|m| m.strip_suffix("_va"))
        .map(|b| b.chars().take(20).collect()));
    row.va_number = Set(short(&o.va_number, 50));
    row.bill_key = Set(short(&o.bill_key, 50));
    row.biller_code = Set(short(&o.biller_code, 20));
    row.redirect_url = Set(short(&o.redirect_url, 2048));
    row.provider_expires_at = Set(o.expires_at);
    row.expires_at = Set(o.expires_at.unwrap_or(o.created_at));
    row.next_check_at = Set((o.status == OrderStatus::Pending).then_some(now));
    row.paid_at = Set(paid_at);
    // The quota of a paid order came with the imported account.
    row.applied_at = Set(paid_at);
    row.updated_at = Set(o.updated_at);
    let saved = row.insert(conn).await?;
    append_event(
        conn,
        saved.id,
        EventKind::Imported,
        "import",
        Some(o.status),
        Some(o.origin.to_string()),
        now,
    )
    .await?;
    Ok(OrderImport::Created)
}
