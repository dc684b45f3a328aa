//! What other modules may know about a user, without reading auth's tables. auth implements it;
//! `app` wires it into quota and payments.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::{Phone, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    User,
    Admin,
    SuperAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "USER",
            Role::Admin => "ADMIN",
            Role::SuperAdmin => "SUPER_ADMIN",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "USER" => Some(Role::User),
            "ADMIN" => Some(Role::Admin),
            "SUPER_ADMIN" => Some(Role::SuperAdmin),
            _ => None,
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin | Role::SuperAdmin)
    }
}

/// The facts about a user that decide their access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFacts {
    pub id: UserId,
    pub phone: Phone,
    pub name: String,
    pub role: Role,
    /// Approved by an operator (self-registered users start unapproved).
    pub approved: bool,
    /// Not deactivated.
    pub active: bool,
    /// Hard-blocked by an operator.
    pub blocked: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("user directory unavailable: {0}")]
pub struct DirectoryError(pub String);

#[async_trait]
pub trait UserDirectory: Send + Sync {
    async fn get(&self, id: UserId) -> Result<Option<UserFacts>, DirectoryError>;
    async fn by_phone(&self, phone: &Phone) -> Result<Option<UserFacts>, DirectoryError>;
    /// Facts for many users at once (the sync asks for everyone with a device).
    async fn many(&self, ids: &[UserId]) -> Result<Vec<UserFacts>, DirectoryError>;
}
