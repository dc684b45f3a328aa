//! Devices brought over from another system (`lpsaring import-lpsaring`), on the caller's
//! connection or transaction. A MAC belongs to one user here: a MAC already registered is left
//! as it is, and the caller learns whose it is. The per-user limit is not applied: the devices
//! were bound under the other system's rules, and the next login applies ours.

use chrono::{DateTime, Utc};
use lpsaring_kernel::{Mac, UserId};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entity::device;
use crate::error::DeviceError;

/// Longest label kept, in characters.
const LABEL_MAX_CHARS: usize = 100;

/// A device as another system kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedDevice {
    pub user: UserId,
    pub mac: Mac,
    pub label: Option<String>,
    pub ip: Option<String>,
    pub authorized: bool,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// What importing one device did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceImport {
    Created,
    /// Already registered to this user: nothing changed.
    Existing,
    /// Registered to another user: nothing changed.
    OwnedBy(UserId),
}

/// Registers `d` unless its MAC is registered already.
pub async fn import_device_in(
    conn: &impl ConnectionTrait,
    d: &ImportedDevice,
) -> Result<DeviceImport, DeviceError> {
    let mac = d.mac.to_string();
    if let Some(row) = device::Entity::find()
        .filter(device::Column::Mac.eq(mac.as_str()))
        .one(conn)
        .await?
    {
        return Ok(if row.user_id == d.user.0 {
            DeviceImport::Existing
        } else {
            DeviceImport::OwnedBy(UserId(row.user_id))
        });
    }
    let label = d
        .label
        .as_deref()
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_control())
                .take(LABEL_MAX_CHARS)
                .collect::<String>()
        })
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    let ip =
        d.ip.as_deref()
            .and_then(|ip| ip.trim().parse::<std::net::Ipv4Addr>().ok())
            .map(|ip| ip.to_string());
    device::ActiveModel {
        user_id: Set(d.user.0),
        mac: Set(mac),
        ip: Set(ip),
        label: Set(label),
        is_authorized: Set(d.authorized),
        first_seen_at: Set(d.first_seen_at),
        last_seen_at: Set(d.last_seen_at),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(DeviceImport::Created)
}
