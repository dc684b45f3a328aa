//! Payments' side of the kernel's `UserOrders` port: one user's orders for the admin panel's
//! user page (auth's), read from this module's table.

use async_trait::async_trait;
use lpsaring_kernel::ports::user_record::{UserOrder, UserOrders};
use lpsaring_kernel::{ApiError, UserId};
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::order;
use crate::service::Service;

/// Most orders one call returns.
const MAX_ORDERS: u64 = 200;

/// A value's name in the JSON API (`SUCCESS` for a paid order, as the user's own endpoints say).
fn serde_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[async_trait]
impl UserOrders for Service {
    async fn orders_of(&self, user: UserId, limit: u64) -> Result<Vec<UserOrder>, ApiError> {
        let rows = order::Entity::find()
            .filter(order::Column::UserId.eq(user.0))
            .order_by_desc(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
            .limit(limit.clamp(1, MAX_ORDERS))
            .all(&self.db)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        Ok(rows
            .into_iter()
            .map(|m| UserOrder {
                status: serde_name(&m.status),
                source: m.source.to_value(),
                order_id: m.order_id,
                amount: m.amount,
                package_name: m.package_name,
                payment_method: m.payment_method,
                created_at: m.created_at,
                paid_at: m.paid_at,
            })
            .collect())
    }
}
