//! Device rules: a MAC belongs to one user; a user has at most `max_per_user` devices; making
//! room evicts stale devices first, then the oldest offline one; moving a MAC between users is
//! an explicit, confirmed takeover.

use std::net::Ipv4Addr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lpsaring_kernel::{Clock, Mac, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

use crate::api::{Device, DevicePolicy, Registration};
use crate::entity::device;
use crate::error::DeviceError;

pub struct Deps {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub policy: DevicePolicy,
}

pub struct Service {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
    policy: DevicePolicy,
}

/// How the caller judged a takeover of a MAC registered to someone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Takeover {
    /// The user explicitly agreed to move the device to their account.
    pub confirmed: bool,
    /// The router shows the device online under its current owner right now.
    pub owner_online: bool,
}

/// The longest device label, in characters (the column holds 100 bytes; 40 characters of
/// Indonesian text or a few emoji fit).
pub const LABEL_MAX_CHARS: usize = 40;

/// A label as stored: trimmed, at most [`LABEL_MAX_CHARS`], no control characters; empty is none.
pub fn clean_label(raw: &str) -> Result<Option<String>, DeviceError> {
    let label = raw.trim();
    if label.chars().any(char::is_control) {
        return Err(DeviceError::InvalidLabel);
    }
    if label.chars().count() > LABEL_MAX_CHARS || label.len() > 100 {
        return Err(DeviceError::InvalidLabel);
    }
    Ok((!label.is_empty()).then(|| label.to_owned()))
}

fn to_device(m: device::Model) -> Option<Device> {
    Some(Device {
        id: m.id,
        user_id: UserId(m.user_id),
        mac: Mac::parse(&m.mac).ok()?,
        ip: m.ip.as_deref().and_then(|ip| ip.parse().ok()),
        label: m.label,
        first_seen_at: m.first_seen_at,
        last_seen_at: m.last_seen_at,
        last_login_at: m.last_login_at,
    })
}

impl Service {
    pub fn new(deps: Deps) -> Self {
        Self {
            db: deps.db,
            clock: deps.clock,
            policy: deps.policy,
        }
    }

    /// The connection, for the operator's listing in [`crate::admin`].
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn policy(&self) -> DevicePolicy {
        self.policy
    }

    /// The current time, from the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Deletes every device last seen before `cutoff`, whoever owns it; returns them so the
    /// caller can clean the router.
    pub async fn remove_unseen_since(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Device>, DeviceError> {
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        let rows = device::Entity::find()
            .filter(device::Column::LastSeenAt.lt(cutoff))
            .all(&txn)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
        if !ids.is_empty() {
            device::Entity::delete_many()
                .filter(device::Column::Id.is_in(ids))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(rows.into_iter().filter_map(to_device).collect())
    }

    /// Whether the router saw the device (at the last sync or login) within the online window.
    pub fn is_online(&self, device: &Device) -> bool {
        self.clock.now() - device.last_seen_at < Duration::seconds(self.policy.online_window_secs)
    }

    /// The device registered under `mac`, whoever owns it.
    pub async fn find_by_mac(&self, mac: Mac) -> Result<Option<Device>, DeviceError> {
        let row = device::Entity::find()
            .filter(device::Column::Mac.eq(mac.to_string()))
            .one(&self.db)
            .await?;
        Ok(row.and_then(to_device))
    }

    /// A user's devices, most recently seen first.
    pub async fn devices_of(&self, user: UserId) -> Result<Vec<Device>, DeviceError> {
        let rows = device::Entity::find()
            .filter(device::Column::UserId.eq(user.0))
            .order_by_desc(device::Column::LastSeenAt)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().filter_map(to_device).collect())
    }

    /// Every registered device (the quota sync maps router hosts to users with it), by owner
    /// then age: the sync numbers users in one pass, and creates router rows in this order, so
    /// the next run finds them in the same order.
    pub async fn all(&self) -> Result<Vec<Device>, DeviceError> {
        let rows = device::Entity::find()
            .order_by_asc(device::Column::UserId)
            .order_by_asc(device::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().filter_map(to_device).collect())
    }

    /// Binds `mac` to `user` at a successful login, applying the limit and takeover rules in one
    /// transaction.
    pub async fn register_for_login(
        &self,
        user: UserId,
        mac: Mac,
        ip: Option<Ipv4Addr>,
        takeover: Takeover,
    ) -> Result<Registration, DeviceError> {
        let now = self.clock.now();
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        let existing = device::Entity::find()
            .filter(device::Column::Mac.eq(mac.to_string()))
            .one(&txn)
            .await?;
        let mut taken_from = None;
        if let Some(row) = existing {
            if row.user_id == user.0 {
                let mut active = row.into_active_model();
                active.ip = Set(ip.map(|i| i.to_string()));
                active.last_seen_at = Set(now);
                active.last_login_at = Set(Some(now));
                active.is_authorized = Set(true);
                let updated = active.update(&txn).await?;
                txn.commit().await?;
                let device = to_device(updated).ok_or(DeviceError::NotFound)?;
                return Ok(Registration {
                    device,
                    newly_added: false,
                    evicted: vec![],
                    taken_from: None,
                });
            }
            if takeover.owner_online {
                return Err(DeviceError::OwnedByActiveUser);
            }
            if !takeover.confirmed {
                return Err(DeviceError::TakeoverNeedsConfirmation);
            }
            taken_from = Some(UserId(row.user_id));
            device::Entity::delete_by_id(row.id).exec(&txn).await?;
        }

        let evicted = self.make_room(&txn, user, now).await?;
        let inserted = device::ActiveModel {
            user_id: Set(user.0),
            mac: Set(mac.to_string()),
            ip: Set(ip.map(|i| i.to_string())),
            label: Set(None),
            is_authorized: Set(true),
            first_seen_at: Set(now),
            last_seen_at: Set(now),
            last_login_at: Set(Some(now)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        let device = to_device(inserted).ok_or(DeviceError::NotFound)?;
        Ok(Registration {
            device,
            newly_added: true,
            evicted,
            taken_from,
        })
    }

    /// Frees one slot when the user is at the limit: the stalest stale device, else the oldest
    /// offline one. Online devices are never evicted.
    async fn make_room(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Device>, DeviceError> {
        let mine = device::Entity::find()
            .filter(device::Column::UserId.eq(user.0))
            .order_by_asc(device::Column::LastSeenAt)
            .all(txn)
            .await?;
        if mine.len() < self.policy.max_per_user {
            return Ok(vec![]);
        }
        let online_since = now - Duration::seconds(self.policy.online_window_secs);
        let stale_before = now - Duration::days(self.policy.stale_after_days);
        let excess = mine.len() + 1 - self.policy.max_per_user;
        // Oldest first; stale devices are by definition the oldest, so they go first.
        let victims: Vec<device::Model> = mine
            .into_iter()
            .filter(|d| d.last_seen_at < online_since || d.last_seen_at < stale_before)
            .take(excess)
            .collect();
        if victims.len() < excess {
            return Err(DeviceError::LimitReached {
                limit: self.policy.max_per_user,
            });
        }
        let ids: Vec<i64> = victims.iter().map(|d| d.id).collect();
        device::Entity::delete_many()
            .filter(device::Column::Id.is_in(ids))
            .exec(txn)
            .await?;
        Ok(victims.into_iter().filter_map(to_device).collect())
    }

    /// Removes one of the user's devices; returns it so the caller can clean the router.
    pub async fn remove(&self, user: UserId, mac: Mac) -> Result<Device, DeviceError> {
        let row = device::Entity::find()
            .filter(device::Column::UserId.eq(user.0))
            .filter(device::Column::Mac.eq(mac.to_string()))
            .one(&self.db)
            .await?
            .ok_or(DeviceError::NotFound)?;
        device::Entity::delete_by_id(row.id).exec(&self.db).await?;
        to_device(row).ok_or(DeviceError::NotFound)
    }

    /// One of the user's devices by id; another user's id is [`DeviceError::NotFound`], as if it
    /// did not exist.
    pub async fn owned(&self, user: UserId, id: i64) -> Result<Device, DeviceError> {
        self.owned_row(user, id)
            .await
            .and_then(|row| to_device(row).ok_or(DeviceError::NotFound))
    }

    async fn owned_row(&self, user: UserId, id: i64) -> Result<device::Model, DeviceError> {
        device::Entity::find_by_id(id)
            .filter(device::Column::UserId.eq(user.0))
            .one(&self.db)
            .await?
            .ok_or(DeviceError::NotFound)
    }

    /// Names one of the user's devices (an empty label clears it).
    pub async fn rename(&self, user: UserId, id: i64, label: &str) -> Result<Device, DeviceError> {
        let label = clean_label(label)?;
        let mut active = self.owned_row(user, id).await?.into_active_model();
        active.label = Set(label);
        let updated = active.update(&self.db).await?;
        to_device(updated).ok_or(DeviceError::NotFound)
    }

    /// Removes one of the user's devices by id; returns it so the caller can clean the router.
    pub async fn remove_owned(&self, user: UserId, id: i64) -> Result<Device, DeviceError> {
        let row = self.owned_row(user, id).await?;
        device::Entity::delete_by_id(row.id).exec(&self.db).await?;
        to_device(row).ok_or(DeviceError::NotFound)
    }

    /// Records that the router saw these devices; unknown MACs are ignored. One statement per
    /// device: callers batch by passing many.
    pub async fn record_sightings(
        &self,
        sightings: &[crate::api::Sighting],
    ) -> Result<u64, DeviceError> {
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        let mut touched = 0;
        for s in sightings {
            let mut update = device::Entity::update_many()
                .col_expr(device::Column::LastSeenAt, Expr::value(s.at))
                .filter(device::Column::Mac.eq(s.mac.to_string()));
            if let Some(ip) = s.ip {
                update = update.col_expr(device::Column::Ip, Expr::value(ip.to_string()));
            }
            touched += update.exec(&txn).await?.rows_affected;
        }
        txn.commit().await?;
        Ok(touched)
    }
}
