//! devices' part of the admin overview: the devices seen on the hotspot in the last minutes
//! (the sync and every login refresh `last_seen_at`).

use async_trait::async_trait;
use lpsaring_kernel::ApiError;
use lpsaring_kernel::ports::overview::{DeviceFigures, DeviceOverview};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::entity::device;
use crate::service::Service;

/// A device seen this recently counts as online.
pub const ONLINE_WINDOW_MINUTES: i64 = 10;

#[async_trait]
impl DeviceOverview for Service {
    async fn device_figures(&self) -> Result<DeviceFigures, ApiError> {
        let since = self.clock.now() - chrono::Duration::minutes(ONLINE_WINDOW_MINUTES);
        let online = device::Entity::find()
            .filter(device::Column::LastSeenAt.gte(since))
            .count(&self.db)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        Ok(DeviceFigures {
            online_now: i64::try_from(online).unwrap_or(i64::MAX),
            window_minutes: ONLINE_WINDOW_MINUTES,
        })
    }
}
