//! Devices as the operator sees them (issue 18, "Devices"): every registered device with its
//! owner, MAC, IP, last sighting and whether it is online; filtered by the owner's phone or a
//! MAC, paged on the server, exported as CSV; and removed (the row, then the router's rows
//! through [`release_from_router`]), each removal audited. `/admin/devices` and
//! `GET /api/admin/devices` are in [`routes`]. Owners come through the kernel's
//! `UserDirectory` port: this module never reads the users table.

pub mod routes;
mod user_record;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lpsaring_kernel::csv::CsvWriter;
use lpsaring_kernel::ports::audit::{AuditEntry, AuditSink};
use lpsaring_kernel::ports::router::Router;
use lpsaring_kernel::ports::users::UserDirectory;
use lpsaring_kernel::{Clock, Phone, UserId};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use serde::Serialize;

use crate::entity::device;
use crate::error::DeviceError;
use crate::release::release_from_router;
use crate::service::Service;

/// Most devices one page returns, and one CSV export.
pub const MAX_PER_PAGE: u64 = 500;
pub const MAX_EXPORT: u64 = 100_000;
pub const PER_PAGE: u64 = 50;

/// The operator's side of the registry, wired by `app`.
pub struct AdminDevices {
    pub devices: Arc<Service>,
    pub router: Arc<dyn Router>,
    /// Every status list an address may be on (cleaned when a device goes).
    pub status_lists: Vec<String>,
    pub users: Arc<dyn UserDirectory>,
    pub audit: Arc<dyn AuditSink>,
    pub clock: Arc<dyn Clock>,
}

/// Which devices to list: `owner` is a phone in any accepted form, `mac` a whole MAC or a part
/// of one (`AA:BB`, `aa-bb`, `aabb`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    pub owner: Option<String>,
    pub mac: Option<String>,
}

/// One device in the admin's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct AdminDevice {
    pub id: i64,
    pub user_id: i64,
    pub owner_phone: Option<String>,
    pub owner_name: Option<String>,
    pub mac: String,
    pub ip: Option<String>,
    pub label: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Seen by the router within the online window.
    pub online: bool,
}

/// One page of devices, most recently seen first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct DevicesPage {
    pub items: Vec<AdminDevice>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// What removing a device did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct Removed {
    pub device: AdminDevice,
    /// Router clean-up steps that failed (logged; the next sync enforces the rest).
    pub router_failures: usize,
}

/// The MAC filter as stored text: upper-case hex pairs joined by `:`; `None` when it holds
/// anything but hex digits and separators, or no digit at all.
pub fn mac_fragment(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if hex.is_empty() || hex.len() > 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let upper = hex.to_ascii_uppercase();
    // Paired from its start: `1201` finds `…:12:01`, as typed from a MAC's end.
    let pairs: Vec<String> = upper
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    Some(pairs.join(":"))
}

const COLUMNS: &[&str] = &[
    "id",
    "user_id",
    "owner_phone",
    "owner_name",
    "mac",
    "ip",
    "label",
    "first_seen_at",
    "last_seen_at",
    "online",
];

impl AdminDevices {
    fn online_since(&self) -> DateTime<Utc> {
        self.clock.now() - Duration::seconds(self.devices.policy().online_window_secs)
    }

    /// The query for `filter`, or `None` when it cannot match anything (an unknown owner).
    async fn select(
        &self,
        filter: &DeviceFilter,
    ) -> Result<Option<Select<device::Entity>>, DeviceError> {
        let mut c = Condition::all();
        if let Some(owner) = filter
            .owner
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            let phone = Phone::parse(owner).map_err(|_| DeviceError::InvalidFilter("owner"))?;
            match self
                .users
                .by_phone(&phone)
                .await
                .map_err(|e| DeviceError::Directory(e.to_string()))?
            {
                Some(user) => c = c.add(device::Column::UserId.eq(user.id.0)),
                None => return Ok(None),
            }
        }
        if let Some(mac) = filter
            .mac
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            let fragment = mac_fragment(mac).ok_or(DeviceError::InvalidFilter("mac"))?;
            c = c.add(device::Column::Mac.contains(fragment));
        }
        Ok(Some(
            device::Entity::find()
                .filter(c)
                .order_by_desc(device::Column::LastSeenAt)
                .order_by_desc(device::Column::Id),
        ))
    }

    /// The rows with their owners (one directory call for the page).
    async fn rows(&self, rows: Vec<device::Model>) -> Result<Vec<AdminDevice>, DeviceError> {
        let mut ids: Vec<UserId> = rows.iter().map(|r| UserId(r.user_id)).collect();
        ids.sort_by_key(|u| u.0);
        ids.dedup();
        let owners: BTreeMap<i64, (Option<String>, String)> = self
            .users
            .many(&ids)
            .await
            .map_err(|e| DeviceError::Directory(e.to_string()))?
            .into_iter()
            .map(|f| (f.id.0, (f.phone.map(|p| p.as_str().to_owned()), f.name)))
            .collect();
        let since = self.online_since();
        Ok(rows
            .into_iter()
            .map(|r| {
                let owner = owners.get(&r.user_id);
                AdminDevice {
                    id: r.id,
                    user_id: r.user_id,
                    owner_phone: owner.and_then(|o| o.0.clone()),
                    owner_name: owner.map(|o| o.1.clone()),
                    mac: r.mac,
                    ip: r.ip,
                    label: r.label,
                    first_seen_at: r.first_seen_at,
                    online: r.last_seen_at > since,
                    last_seen_at: r.last_seen_at,
                }
            })
            .collect())
    }

    /// Page `page` (from 1) of the devices matching `filter`, `per_page` (1..=500) at a time.
    pub async fn page(
        &self,
        filter: &DeviceFilter,
        page: u64,
        per_page: u64,
    ) -> Result<DevicesPage, DeviceError> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let Some(select) = self.select(filter).await? else {
            return Ok(DevicesPage {
                items: Vec::new(),
                total: 0,
                page,
                per_page,
            });
        };
        let total = select.clone().count(self.devices.db()).await?;
        let rows = select
            .offset((page - 1).saturating_mul(per_page))
            .limit(per_page)
            .all(self.devices.db())
            .await?;
        Ok(DevicesPage {
            items: self.rows(rows).await?,
            total,
            page,
            per_page,
        })
    }

    /// Every device matching `filter` (at most [`MAX_EXPORT`]) as CSV.
    pub async fn csv(&self, filter: &DeviceFilter) -> Result<CsvWriter, DeviceError> {
        let mut csv = CsvWriter::with_header(COLUMNS);
        let Some(select) = self.select(filter).await? else {
            return Ok(csv);
        };
        let rows = select.limit(MAX_EXPORT).all(self.devices.db()).await?;
        for d in self.rows(rows).await? {
            csv.row([
                d.id.to_string(),
                d.user_id.to_string(),
                d.owner_phone.unwrap_or_default(),
                d.owner_name.unwrap_or_default(),
                d.mac,
                d.ip.unwrap_or_default(),
                d.label.unwrap_or_default(),
                d.first_seen_at.to_rfc3339(),
                d.last_seen_at.to_rfc3339(),
                d.online.to_string(),
            ]);
        }
        Ok(csv)
    }

    /// Removes device `id` for admin `actor`: the row, then its router rows (best effort), and
    /// an audit entry naming the owner and what the router clean-up left.
    pub async fn remove(
        &self,
        actor: UserId,
        id: i64,
        ip: Option<String>,
    ) -> Result<Removed, DeviceError> {
        let row = device::Entity::find_by_id(id)
            .one(self.devices.db())
            .await?
            .ok_or(DeviceError::NotFound)?;
        let owner = UserId(row.user_id);
        let removed = self.devices.remove_owned(owner, id).await?;
        let failures =
            release_from_router(self.router.as_ref(), &self.status_lists, &removed).await;
        let shown = self.rows(vec![row]).await?.remove(0);
        let entry = AuditEntry::new("device.remove")
            .actor(actor)
            .target(format!("device:{id}"))
            .details(serde_json::json!({
                "user": owner.0, "mac": shown.mac, "router_failures": failures,
            }))
            .ip(ip);
        if let Err(e) = self.audit.record(entry).await {
            tracing::warn!(error = %e, "audit entry not recorded");
        }
        Ok(Removed {
            device: shown,
            router_failures: failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_filters_take_any_separator_and_refuse_anything_else() {
        assert_eq!(mac_fragment("aa-bb-cc").as_deref(), Some("AA:BB:CC"));
        assert_eq!(
            mac_fragment("02:00:00:00:12:01").as_deref(),
            Some("02:00:00:00:12:01")
        );
        assert_eq!(mac_fragment("1201").as_deref(), Some("12:01"));
        assert_eq!(mac_fragment("zz"), None);
        assert_eq!(mac_fragment("::"), None);
        assert_eq!(mac_fragment("0123456789abcd"), None);
    }
}
