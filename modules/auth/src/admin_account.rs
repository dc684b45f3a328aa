//! The operator's changes to one account beyond approval and blocking: reset its login (every
//! session revoked, the devices' router rows removed), hand over a one-time login code when
//! WhatsApp is down (kept in auth's one-time code store, so the captive page takes it like a sent
//! one), delete it (soft: anonymised and disabled; ledger and payments stay) and change its role
//! (super admin only; the last super admin stays). Each is written to the audit log (never the
//! code itself, nor the phone or name).

use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Phone, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde::Serialize;
use serde_json::json;

use crate::admin_users::{AdminUser, UserAdmin};
use crate::captive;
use crate::entity::{login_history, user};
use crate::error::AuthError;
use crate::users::facts;

/// The name a deleted account keeps (it is shown in old orders and the ledger's pages).
fn deleted_name(id: i64) -> String {
    format!("Pengguna terhapus #{id}")
}

/// What a login reset did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct LoginReset {
    /// Refresh tokens revoked (each signed-in browser or app).
    pub sessions_revoked: u64,
    /// Router steps that failed (the next sync removes what is left).
    pub router_failures: usize,
}

/// A one-time login code for the admin to pass on; shown once, never stored in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct LoginCode {
    pub phone_number: String,
    pub code: String,
    pub expires_in_secs: u64,
}

impl UserAdmin {
    /// Signs `target` out everywhere and removes their devices from the router (bindings,
    /// hosts, active sessions, status lists); they log in again on the captive page.
    pub async fn reset_login(
        &self,
        actor: (UserId, Role),
        target: UserId,
        ip: Option<String>,
    ) -> Result<LoginReset, AuthError> {
        self.target(actor, target).await?;
        let done = self.release(target).await?;
        self.audit(actor.0, "user.reset_login", target, json!(done), ip)
            .await;
        Ok(done)
    }

    /// A one-time login code for `target`'s phone, valid as long as a sent code. Refused for a
    /// user who may not log in (pending, blocked, inactive) or has no phone.
    pub async fn login_code(
        &self,
        actor: (UserId, Role),
        target: UserId,
        ip: Option<String>,
    ) -> Result<LoginCode, AuthError> {
        let model = self.target(actor, target).await?;
        let no_phone = || AuthError::Validation("this user has no phone number".to_owned());
        let user = facts(&model).ok_or_else(no_phone)?;
        captive::ensure_may_log_in(&user)
            .map_err(|e| AuthError::Validation(format!("this user cannot log in: {e}")))?;
        let phone: &Phone = user.phone.as_ref().ok_or_else(no_phone)?;
        let (code, expires_in_secs) = self.auth.otp.issue_by_operator(phone).await?;
        self.audit(
            actor.0,
            "user.login_code",
            target,
            json!({ "expires_in_secs": expires_in_secs }),
            ip,
        )
        .await;
        Ok(LoginCode {
            phone_number: phone.to_string(),
            code,
            expires_in_secs,
        })
    }
}

impl UserAdmin {
    /// Soft-deletes `target`: name replaced, phone removed, password and login history removed, the
    /// account disabled and made a plain user, every session revoked and the devices' router
    /// rows removed. The ledger, orders and payments keep pointing at the id. Nobody deletes
    /// themselves; only a super admin deletes an admin.
    pub async fn delete(
        &self,
        actor: (UserId, Role),
        target: UserId,
        ip: Option<String>,
    ) -> Result<AdminUser, AuthError> {
        if actor.0 == target {
            return Err(AuthError::Validation(
                "you cannot delete your own account".to_owned(),
            ));
        }
        let model = self.target(actor, target).await?;
        let reset = self.release(target).await?;
        let mut row = model.into_active_model();
        row.full_name = Set(deleted_name(target.0));
        row.phone_number = Set(None);
        row.password_hash = Set(None);
        row.blocked_reason = Set(None);
        row.role = Set(Role::User.as_str().to_owned());
        row.is_active = Set(false);
        row.updated_at = Set(self.clock.now());
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        let updated = row.update(&txn).await?;
        login_history::Entity::delete_many()
            .filter(login_history::Column::UserId.eq(target.0))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.audit(actor.0, "user.delete", target, json!(reset), ip)
            .await;
        Ok(AdminUser::of(updated))
    }

    /// Every session of `target` revoked and their devices' router rows removed.
    async fn release(&self, target: UserId) -> Result<LoginReset, AuthError> {
        Ok(LoginReset {
            sessions_revoked: self.auth.sessions.end_all(target).await?,
            router_failures: self.auth.captive.release_router_state(target).await?,
        })
    }

    /// Gives `target` the role `role`; a super admin's to do. The last active super admin keeps
    /// the role. The user's sessions are revoked so the new role holds from their next login.
    pub async fn set_role(
        &self,
        actor: (UserId, Role),
        target: UserId,
        role: Role,
        ip: Option<String>,
    ) -> Result<AdminUser, AuthError> {
        if actor.1 != Role::SuperAdmin {
            return Err(AuthError::Forbidden);
        }
        let model = self.target(actor, target).await?;
        let before = Role::parse(&model.role).unwrap_or(Role::User);
        if before == role {
            return Ok(AdminUser::of(model));
        }
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        if before == Role::SuperAdmin {
            let super_admins = user::Entity::find()
                .filter(user::Column::Role.eq(Role::SuperAdmin.as_str()))
                .filter(user::Column::IsActive.eq(true))
                .count(&txn)
                .await?;
            if super_admins <= 1 {
                return Err(AuthError::Validation(
                    "the last super admin keeps the role".to_owned(),
                ));
            }
        }
        let mut row = model.into_active_model();
        row.role = Set(role.as_str().to_owned());
        row.updated_at = Set(self.clock.now());
        let updated = row.update(&txn).await?;
        txn.commit().await?;
        let sessions_revoked = self.auth.sessions.end_all(target).await?;
        self.audit(
            actor.0,
            "user.role",
            target,
            json!({ "from": before.as_str(), "to": role.as_str(),
                "sessions_revoked": sessions_revoked }),
            ip,
        )
        .await;
        Ok(AdminUser::of(updated))
    }
}
