//! Access status: the one answer to "what may this user do on the network right now", and the
//! router state it implies. The quota module decides it from quota and validity; until it is
//! wired, [`basic_status`] decides from the account alone (no quota account = ok).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::router::BindingType;
use super::users::UserFacts;
use crate::{Mac, UserId};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, salvo::oapi::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AccessStatus {
    Ok,
    Unlimited,
    Fup,
    Habis,
    Expired,
    Inactive,
    Blocked,
}

impl AccessStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessStatus::Ok => "ok",
            AccessStatus::Unlimited => "unlimited",
            AccessStatus::Fup => "fup",
            AccessStatus::Habis => "habis",
            AccessStatus::Expired => "expired",
            AccessStatus::Inactive => "inactive",
            AccessStatus::Blocked => "blocked",
        }
    }

    /// Bypassed for statuses that may browse, regular (the router asks for a hotspot login and
    /// shows our policy page) otherwise, blocked only for hard blocks.
    pub fn binding_type(self) -> BindingType {
        match self {
            AccessStatus::Ok | AccessStatus::Unlimited | AccessStatus::Fup => BindingType::Bypassed,
            AccessStatus::Blocked => BindingType::Blocked,
            AccessStatus::Habis | AccessStatus::Expired | AccessStatus::Inactive => {
                BindingType::Regular
            }
        }
    }
}

/// A user's access status and, where quota accounts exist, their figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub status: AccessStatus,
    pub quota: Option<QuotaFigures>,
}

/// What a user bought and used, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaFigures {
    pub purchased_bytes: i64,
    pub used_bytes: i64,
    pub unlimited: bool,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Status from the account alone: blocked > inactive (unapproved or deactivated) > ok.
pub fn basic_status(user: &UserFacts) -> AccessStatus {
    if user.blocked {
        AccessStatus::Blocked
    } else if !user.approved || !user.active {
        AccessStatus::Inactive
    } else {
        AccessStatus::Ok
    }
}

/// Where a status puts a device on the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterPlacement {
    pub binding: BindingType,
    /// The one status address-list the device IP belongs on.
    pub address_list: String,
    /// Every status list (so the IP can be removed from the others).
    pub all_lists: Vec<String>,
    /// Hotspot user profile for this status.
    pub profile: String,
}

#[async_trait]
pub trait AccessPolicy: Send + Sync {
    /// The user's status now.
    async fn status_of(&self, user: &UserFacts) -> Result<AccessStatus, String>;
    /// The status with the user's quota figures, from one read (`/api/auth/me` shows both, as the
    /// original did). A policy without quota accounts answers the status alone.
    async fn standing_of(&self, user: &UserFacts) -> Result<Standing, String> {
        Ok(Standing {
            status: self.status_of(user).await?,
            quota: None,
        })
    }
    /// Router state for a status (names come from settings).
    fn placement(&self, status: AccessStatus) -> RouterPlacement;
    /// Called before a login registers `mac` to `user`: only bytes the router counts from now
    /// on may be charged to them (quota records the host entry's counters as the device's
    /// baseline). Without quota nothing is metered.
    async fn meter_from_now(&self, _user: UserId, _mac: Mac) -> Result<(), String> {
        Ok(())
    }
}

/// The policy before quota exists: account facts only, default list and profile names.
#[derive(Debug, Default, Clone, Copy)]
pub struct BasicAccessPolicy;

/// Default status list names (`active`, `fup`, `habis`, `expired`, `blocked`, `inactive`).
pub fn default_list(status: AccessStatus) -> &'static str {
    match status {
        AccessStatus::Ok | AccessStatus::Unlimited => "active",
        AccessStatus::Fup => "fup",
        AccessStatus::Habis => "habis",
        AccessStatus::Expired => "expired",
        AccessStatus::Blocked => "blocked",
        AccessStatus::Inactive => "inactive",
    }
}

#[async_trait]
impl AccessPolicy for BasicAccessPolicy {
    async fn status_of(&self, user: &UserFacts) -> Result<AccessStatus, String> {
        Ok(basic_status(user))
    }

    fn placement(&self, status: AccessStatus) -> RouterPlacement {
        let all = ["active", "fup", "habis", "expired", "blocked", "inactive"];
        RouterPlacement {
            binding: status.binding_type(),
            address_list: default_list(status).to_owned(),
            all_lists: all.iter().map(|s| (*s).to_owned()).collect(),
            profile: match status {
                AccessStatus::Ok | AccessStatus::Unlimited => "default".to_owned(),
                other => other.as_str().to_owned(),
            },
        }
    }
}
