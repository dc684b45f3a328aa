//! An operator creates an account from the users area: approved at once, with an optional
//! starting quota (bytes and days through the [`AdminGrants`] port, quota's audited adjustment).
//! Both written to the audit log.

use lpsaring_kernel::ports::users::{Role, UserFacts};
use lpsaring_kernel::{ApiError, Phone, UserId};
use serde_json::json;

use crate::admin_users::UserAdmin;

/// The reason written in the ledger for a new account's quota.
pub const STARTING_QUOTA_REASON: &str = "kuota awal akun baru";

/// What the operator typed: the phone (any accepted spelling), a name, and what to grant.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub phone: String,
    pub name: String,
    pub bytes: i64,
    pub days: i64,
}

impl UserAdmin {
    /// Creates `new` as an approved plain user for admin `actor`, then grants the starting
    /// quota when any. A refused grant leaves the account (it is created and audited) and
    /// answers the refusal.
    pub async fn create_user(
        &self,
        actor: (UserId, Role),
        new: &NewUser,
        ip: Option<String>,
    ) -> Result<UserFacts, ApiError> {
        let phone =
            Phone::parse(&new.phone).map_err(|e| ApiError::from(&crate::AuthError::from(e)))?;
        let user = self
            .auth
            .users
            .create(&phone, &new.name, true, Role::User)
            .await
            .map_err(|e| ApiError::from(&e))?;
        self.audit(
            actor.0,
            "user.create",
            user.id,
            json!({ "phone": phone.as_str(), "bytes": new.bytes, "days": new.days }),
            ip.clone(),
        )
        .await;
        if new.bytes != 0 || new.days != 0 {
            self.grants
                .grant(
                    actor,
                    user.id,
                    new.bytes,
                    new.days,
                    STARTING_QUOTA_REASON,
                    ip,
                )
                .await?;
        }
        Ok(user)
    }
}
