//! One user as the admin panel shows them (`/admin/users/{id}` and `GET /api/admin/users/{id}`):
//! the account, sessions and login history from auth's own tables, and — through the kernel's
//! read ports that `app` wires — devices (devices), orders (payments), quota ledger and 30-day
//! usage (quota) and the audit entries about them (admin). Revoking a session is auth's own
//! change, audited as `session.revoke` about the user.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lpsaring_kernel::ports::user_record::{
    AuditReader, UserAuditEntry, UserDevice, UserDevices, UserOrder, UserOrders, UserQuota,
    UserQuotas,
};
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{ApiError, UserId};
use salvo::http::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::admin_users::{AdminUser, UserAdmin};
use crate::entity::{login_history, refresh_token, user};
use crate::error::AuthError;

/// Most orders, logins and audit entries the page shows.
pub const RECENT: u64 = 50;

/// The revocation reason an operator's revoke leaves on the refresh tokens.
const REVOKED_BY_ADMIN: &str = "admin_revoke";

/// One live session (a refresh-token family with an unrevoked, unexpired token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct UserSession {
    /// The family id: what the revoke form posts.
    pub id: String,
    #[salvo(schema(value_type = String, format = DateTime))]
    pub issued_at: DateTime<Utc>,
    #[salvo(schema(value_type = String, format = DateTime))]
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct UserLogin {
    #[salvo(schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
    /// `otp`, `voucher`, `password`, …
    pub method: String,
    pub ip: Option<String>,
    pub mac: Option<String>,
    pub user_agent: Option<String>,
}

/// Everything the user's page shows.
#[derive(Debug, Clone, PartialEq, Serialize, salvo::oapi::ToSchema)]
pub struct UserRecord {
    pub user: AdminUser,
    pub devices: Vec<UserDevice>,
    pub sessions: Vec<UserSession>,
    pub orders: Vec<UserOrder>,
    pub quota: UserQuota,
    pub logins: Vec<UserLogin>,
    pub audit: Vec<UserAuditEntry>,
}

/// The other modules' read ports, wired by `app`.
pub struct UserRecordDeps {
    pub admin: Arc<UserAdmin>,
    pub devices: Arc<dyn UserDevices>,
    pub orders: Arc<dyn UserOrders>,
    pub quotas: Arc<dyn UserQuotas>,
    pub audit: Arc<dyn AuditReader>,
}

pub struct UserRecords {
    deps: UserRecordDeps,
}

fn db_error(e: sea_orm::DbErr) -> ApiError {
    ApiError::from(AuthError::from(e))
}

impl UserRecords {
    pub fn new(deps: UserRecordDeps) -> Self {
        Self { deps }
    }

    /// User `id` with everything about them; 404 (`AUTH_USER_NOT_FOUND`) for an unknown id.
    pub async fn record(&self, id: UserId) -> Result<UserRecord, ApiError> {
        let admin = &self.deps.admin;
        let model = user::Entity::find_by_id(id.0)
            .one(&admin.db)
            .await
            .map_err(db_error)?
            .ok_or(AuthError::UserNotFound)?;
        let about = format!("user:{}", id.0);
        let (devices, orders, quota, audit) = tokio::try_join!(
            self.deps.devices.devices_of(id),
            self.deps.orders.orders_of(id, RECENT),
            self.deps.quotas.quota_of(id),
            self.deps.audit.about(&about, RECENT),
        )?;
        Ok(UserRecord {
            user: AdminUser::of(model),
            devices,
            sessions: self.sessions(id).await?,
            orders,
            quota,
            logins: self.logins(id).await?,
            audit,
        })
    }

    async fn sessions(&self, id: UserId) -> Result<Vec<UserSession>, ApiError> {
        let admin = &self.deps.admin;
        let rows = refresh_token::Entity::find()
            .filter(refresh_token::Column::UserId.eq(id.0))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .filter(refresh_token::Column::ExpiresAt.gt(admin.clock.now()))
            .order_by_desc(refresh_token::Column::IssuedAt)
            .order_by_desc(refresh_token::Column::Id)
            .limit(RECENT)
            .all(&admin.db)
            .await
            .map_err(db_error)?;
        let mut out: Vec<UserSession> = Vec::new();
        for r in rows {
            // The newest live token stands for its family (a grace-window twin is skipped).
            if out.iter().any(|s| s.id == r.family_id) {
                continue;
            }
            out.push(UserSession {
                id: r.family_id,
                issued_at: r.issued_at,
                expires_at: r.expires_at,
                ip: r.ip,
                user_agent: r.user_agent,
            });
        }
        Ok(out)
    }

    async fn logins(&self, id: UserId) -> Result<Vec<UserLogin>, ApiError> {
        let rows = login_history::Entity::find()
            .filter(login_history::Column::UserId.eq(id.0))
            .order_by_desc(login_history::Column::At)
            .order_by_desc(login_history::Column::Id)
            .limit(RECENT)
            .all(&self.deps.admin.db)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| UserLogin {
                at: r.at,
                method: r.method,
                ip: r.ip,
                mac: r.mac,
                user_agent: r.user_agent,
            })
            .collect())
    }

    /// Ends session `family` of user `target` for admin `actor` (only a super admin ends an
    /// admin's): every token of the family is revoked, and the audit log says so. 404 when the
    /// user has no live session of that id.
    pub async fn revoke_session(
        &self,
        actor: (UserId, Role),
        target: UserId,
        family: &str,
        ip: Option<String>,
    ) -> Result<(), ApiError> {
        let admin = &self.deps.admin;
        admin.target(actor, target).await?;
        let done = refresh_token::Entity::update_many()
            .col_expr(
                refresh_token::Column::RevokedAt,
                Expr::value(admin.clock.now()),
            )
            .col_expr(
                refresh_token::Column::RevokedReason,
                Expr::value(REVOKED_BY_ADMIN),
            )
            .filter(refresh_token::Column::UserId.eq(target.0))
            .filter(refresh_token::Column::FamilyId.eq(family))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&admin.db)
            .await
            .map_err(db_error)?;
        if done.rows_affected == 0 {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "AUTH_SESSION_NOT_FOUND",
                "No such live session.",
            ));
        }
        admin
            .audit(
                actor.0,
                "session.revoke",
                target,
                serde_json::json!({ "family": family, "tokens": done.rows_affected }),
                ip,
            )
            .await;
        Ok(())
    }
}
