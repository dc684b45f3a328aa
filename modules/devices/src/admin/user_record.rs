//! Devices' side of the kernel's `UserDevices` port: one user's devices for the admin panel's
//! user page (auth's), read from this module's table.

use async_trait::async_trait;
use lpsaring_kernel::ports::user_record::{UserDevice, UserDevices};
use lpsaring_kernel::{ApiError, UserId};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::AdminDevices;
use crate::entity::device;

#[async_trait]
impl UserDevices for AdminDevices {
    async fn devices_of(&self, user: UserId) -> Result<Vec<UserDevice>, ApiError> {
        let rows = device::Entity::find()
            .filter(device::Column::UserId.eq(user.0))
            .order_by_desc(device::Column::LastSeenAt)
            .order_by_desc(device::Column::Id)
            .all(self.devices.db())
            .await
            .map_err(|e| ApiError::internal(&e))?;
        let since = self.online_since();
        Ok(rows
            .into_iter()
            .map(|r| UserDevice {
                id: r.id,
                mac: r.mac,
                ip: r.ip,
                label: r.label,
                online: r.last_seen_at > since,
                last_seen_at: r.last_seen_at,
            })
            .collect())
    }
}
