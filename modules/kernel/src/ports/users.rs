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
    /// `None` for a voucher account (made by a voucher login) until a phone is attached: such
    /// a user gets no WhatsApp notices.
    pub phone: Option<Phone>,
    pub name: String,
    pub role: Role,
    /// Approved by an operator (self-registered users start unapproved).
    pub approved: bool,
    /// Not deactivated.
    pub active: bool,
    /// Hard-blocked by an operator.
    pub blocked: bool,
    /// The language the user chose on their profile (pages and WhatsApp messages); `None`
    /// until they choose (the browser's language, and the configured one for messages).
    #[serde(default)]
    pub language: Option<crate::Lang>,
}

impl UserFacts {
    /// The phone as lists and terminals show it; `-` for a voucher account without one.
    pub fn phone_label(&self) -> String {
        self.phone
            .as_ref()
            .map_or_else(|| "-".to_owned(), ToString::to_string)
    }

    /// The name of the user's hotspot user on the router: the phone's local form, or `v<id>`
    /// for a voucher account without a phone (a name no local phone number can take).
    pub fn hotspot_name(&self) -> String {
        match &self.phone {
            Some(phone) => phone.local_form(),
            None => format!("v{}", self.id.0),
        }
    }
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

/// Accounts other modules may create through auth, the owner of users. payments uses it for a
/// voucher login's account: one per voucher, found again by the voucher's reference.
#[async_trait]
pub trait VoucherAccounts: Send + Sync {
    /// The account of `voucher_ref` (e.g. `voucher:42`), created on first call: approved,
    /// active, without a phone, named `name`. Idempotent: concurrent callers get one account.
    async fn voucher_account(
        &self,
        voucher_ref: &str,
        name: &str,
    ) -> Result<UserFacts, DirectoryError>;
    /// The account of `voucher_ref`, if one was made.
    async fn find_voucher_account(
        &self,
        voucher_ref: &str,
    ) -> Result<Option<UserFacts>, DirectoryError>;
}
