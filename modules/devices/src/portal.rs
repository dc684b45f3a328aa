//! What the devices page and its JSON do for the logged-in user: list their devices with the
//! one they are using marked, rename, remove (router rows too), bind the current one. The
//! handlers in [`crate::routes`] stay thin; this is where the rules are.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lpsaring_kernel::ports::router::Router;
use lpsaring_kernel::{ApiError, Mac, UserId};
use salvo::http::StatusCode;
use serde::Serialize;

use crate::api::{Binder, Device};
use crate::error::DeviceError;
use crate::release::release_from_router;
use crate::service::Service;

/// The devices portal, wired by `app`.
pub struct Portal {
    pub devices: Arc<Service>,
    /// Says which MAC is behind the caller's IP, and takes removed devices off.
    pub router: Arc<dyn Router>,
    /// Every status list an address may be on (cleaned when a device goes).
    pub status_lists: Vec<String>,
    pub binder: Arc<dyn Binder>,
}

/// A MAC as the portal shows it: only the last four hex digits.
pub fn mask_mac(mac: Mac) -> String {
    let [.., a, b] = mac.0;
    format!("••:••:••:••:{a:02X}:{b:02X}")
}

/// One device in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceItem {
    pub id: i64,
    pub label: Option<String>,
    pub mac_masked: String,
    pub last_seen_at: DateTime<Utc>,
    /// Seen by the router within the online window (at the last sync or login).
    pub online: bool,
    /// The device this request comes from.
    pub this_device: bool,
}

/// The device the request comes from, as the router sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThisDevice {
    pub mac_masked: String,
    /// Already one of the user's devices.
    pub bound: bool,
    /// Not bound and a slot is free: "bind this device" is offered.
    pub can_bind: bool,
    #[serde(skip)]
    pub mac: Mac,
    #[serde(skip)]
    pub ip: Ipv4Addr,
}

/// `GET /api/users/me/devices`, and what the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    pub devices: Vec<DeviceItem>,
    /// Devices one user may have.
    pub limit: usize,
    /// `null` when the request does not come through the hotspot.
    pub this_device: Option<ThisDevice>,
}

/// The answer of a rename, a removal or a binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub device: DeviceItem,
    /// Router clean-up steps that failed (removal only; logged, retried by the next sync).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router_failures: Option<usize>,
}

fn not_on_hotspot() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "DEVICE_NOT_ON_HOTSPOT",
        "This device is not connected through the hotspot, or is already bound.",
    )
}

impl Portal {
    fn item(&self, device: &Device, this: Option<Mac>) -> DeviceItem {
        DeviceItem {
            id: device.id,
            label: device.label.clone(),
            mac_masked: mask_mac(device.mac),
            last_seen_at: device.last_seen_at,
            online: self.devices.is_online(device),
            this_device: this == Some(device.mac),
        }
    }

    /// The MAC and IP behind the caller, when the caller is a hotspot client the router knows.
    /// A router error counts as "not known": the page still shows the list.
    async fn caller(&self, client: Option<IpAddr>) -> Option<(Mac, Ipv4Addr)> {
        let Some(IpAddr::V4(ip)) = client else {
            return None;
        };
        match self.router.mac_for_ip(ip).await {
            Ok(mac) => mac.map(|m| (m, ip)),
            Err(e) => {
                tracing::warn!(%ip, error = %e, "devices page: the router did not say who is calling");
                None
            }
        }
    }

    /// The user's devices, most recently seen first, and the calling device.
    pub async fn listing(
        &self,
        user: UserId,
        client: Option<IpAddr>,
    ) -> Result<Listing, DeviceError> {
        let mine = self.devices.devices_of(user).await?;
        let caller = self.caller(client).await;
        let limit = self.devices.policy().max_per_user;
        let this_device = caller.map(|(mac, ip)| {
            let bound = mine.iter().any(|d| d.mac == mac);
            ThisDevice {
                mac_masked: mask_mac(mac),
                bound,
                can_bind: !bound && mine.len() < limit,
                mac,
                ip,
            }
        });
        Ok(Listing {
            devices: mine
                .iter()
                .map(|d| self.item(d, caller.map(|c| c.0)))
                .collect(),
            limit,
            this_device,
        })
    }

    pub async fn rename(&self, user: UserId, id: i64, label: &str) -> Result<Changed, DeviceError> {
        let device = self.devices.rename(user, id, label).await?;
        Ok(Changed {
            device: self.item(&device, None),
            router_failures: None,
        })
    }

    /// Removes the device from the database, then from the router (best effort: the row is
    /// what grants access; a router row left behind is logged).
    pub async fn remove(&self, user: UserId, id: i64) -> Result<Changed, DeviceError> {
        let device = self.devices.remove_owned(user, id).await?;
        let failures = release_from_router(self.router.as_ref(), &self.status_lists, &device).await;
        Ok(Changed {
            device: self.item(&device, None),
            router_failures: Some(failures),
        })
    }

    /// Binds the calling device when it is not bound and a slot is free.
    pub async fn bind_current(
        &self,
        user: UserId,
        client: Option<IpAddr>,
    ) -> Result<Changed, ApiError> {
        let listing = self.listing(user, client).await?;
        let this = listing
            .this_device
            .filter(|t| !t.bound)
            .ok_or_else(not_on_hotspot)?;
        if !this.can_bind {
            return Err(DeviceError::LimitReached {
                limit: listing.limit,
            }
            .into());
        }
        self.binder.bind_current(user, this.mac, this.ip).await?;
        let device = self
            .devices
            .find_by_mac(this.mac)
            .await?
            .filter(|d| d.user_id == user)
            .ok_or(DeviceError::NotFound)?;
        Ok(Changed {
            device: self.item(&device, Some(this.mac)),
            router_failures: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_shows_only_its_last_four_digits() {
        let mac = Mac::parse("AA:BB:CC:DD:1E:F2").unwrap();
        assert_eq!(mask_mac(mac), "••:••:••:••:1E:F2");
    }
}
