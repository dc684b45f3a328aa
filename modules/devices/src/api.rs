//! Public types of the devices module, for the modules allowed to use it (auth, quota).

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use lpsaring_kernel::{Mac, UserId};
use serde::Serialize;

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub id: i64,
    pub user_id: UserId,
    pub mac: Mac,
    pub ip: Option<Ipv4Addr>,
    pub label: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Device rules an operator can tune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevicePolicy {
    /// Devices one user may have bound at once.
    pub max_per_user: usize,
    /// A device not seen for this many days is stale and is evicted first when the limit is hit.
    pub stale_after_days: i64,
    /// A device seen within this many seconds counts as online: it is never replaced or taken
    /// over.
    pub online_window_secs: i64,
}

impl Default for DevicePolicy {
    fn default() -> Self {
        Self {
            max_per_user: 3,
            stale_after_days: 30,
            online_window_secs: 600,
        }
    }
}

/// What registering a device at login did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub device: Device,
    /// True when the MAC was new for this user.
    pub newly_added: bool,
    /// Devices removed to make room (stale first, else the oldest offline one).
    pub evicted: Vec<Device>,
    /// The user the MAC was taken from, when it was a takeover.
    pub taken_from: Option<UserId>,
}

/// A sighting of a device on the router (from the quota sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sighting {
    pub mac: Mac,
    pub ip: Option<Ipv4Addr>,
    pub at: DateTime<Utc>,
}

/// Puts a logged-in user's device on the router as a login would (auth implements it; the
/// devices pages call it for "bind this device"). The session stands in for the login code.
#[async_trait::async_trait]
pub trait Binder: Send + Sync {
    /// Registers `mac` at `ip` to `user` and binds it on the router; a refusal carries the code
    /// and message the user sees.
    async fn bind_current(
        &self,
        user: UserId,
        mac: Mac,
        ip: Ipv4Addr,
    ) -> Result<(), lpsaring_kernel::ApiError>;
}
