//! The session service: issues access + refresh token pairs, rotates refresh tokens (single use,
//! with a short grace window for parallel requests and family revocation on reuse), ends
//! sessions, and cleans up old rows.

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use lpsaring_kernel::client::USER_AGENT_MAX;
use lpsaring_kernel::ports::access::{AccessPolicy, AccessStatus, Standing};
use lpsaring_kernel::ports::audit::{AuditEntry, AuditSink};
use lpsaring_kernel::ports::users::{Role, UserFacts};
use lpsaring_kernel::web::Origins;
use lpsaring_kernel::{Clock, EphemeralStore, Secret, UserId};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, Set,
};
use serde_json::json;

use super::jwt::{AccessSubject, AccessTokens};
use crate::entity::refresh_token;
use crate::error::AuthError;
use crate::secrets::{Keys, sha256_hex};
use crate::settings::AuthSettings;
use crate::users::Users;

/// Why a refresh token stopped working (`refresh_tokens.revoked_reason`).
pub mod reason {
    pub const ROTATED: &str = "rotated";
    pub const REUSE_DETECTED: &str = "reuse_detected";
    pub const LOGOUT: &str = "logout";
    pub const LOGOUT_ALL: &str = "logout_all";
    /// An admin session unused for [`crate::session::ADMIN_IDLE`].
    pub const IDLE: &str = "idle";
    /// The operator removed the user's second factor (`lpsaring admin reset-totp`).
    pub const TOTP_RESET: &str = "totp_reset";
}

/// Revoked rows are kept this long (for the reuse check and forensics), then deleted.
pub const REVOKED_RETENTION_DAYS: i64 = 7;
/// A refresh cookie longer than this cannot be ours; refused before any lookup.
pub(super) const REFRESH_MAX_LEN: usize = 128;

/// `[http]` values the origin check needs.
#[derive(Debug, Clone, Default)]
pub struct OriginSettings {
    /// `http.public_url`.
    pub public_url: Option<String>,
    /// `http.allowed_origins`.
    pub allowed_origins: Vec<String>,
}

pub struct Deps {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub keys: Keys,
    pub settings: AuthSettings,
    pub audit: Arc<dyn AuditSink>,
    pub origins: OriginSettings,
    pub users: Arc<Users>,
    /// Rate-limit counters for admin login.
    pub store: Arc<dyn EphemeralStore>,
    /// The one answer to "what may this user do on the network" (quota's, in the app), so
    /// `/api/auth/me` says what the connected page and `/api/users/me/quota` say.
    pub access: Arc<dyn AccessPolicy>,
    /// `admin.require_totp`: super admins must enrol a second factor before using the panel.
    pub admin_require_totp: bool,
}

/// A session handed to a client: always a fresh access token; a refresh token only when one was
/// minted (a grace-window replay keeps the successor's cookie the browser already has).
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub user: UserId,
    pub role: Role,
    /// The session (refresh-token family) this belongs to.
    pub family: String,
    pub access_token: Secret<String>,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: Option<Secret<String>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The user's chosen language, set as the `lang` cookie with a new session (a login or a
    /// hand-off), so their pages speak it in any browser; `None` on a refresh.
    pub language: Option<lpsaring_kernel::Lang>,
}

pub struct Sessions {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: AuthSettings,
    pub(crate) audit: Arc<dyn AuditSink>,
    pub(crate) users: Arc<Users>,
    pub(crate) store: Arc<dyn EphemeralStore>,
    pub(crate) origins: Origins,
    access_policy: Arc<dyn AccessPolicy>,
    pub(crate) csrf_key: [u8; 32],
    /// Seals the admins' TOTP secrets.
    pub(super) totp_key: [u8; 32],
    pub(super) require_totp: bool,
    access: AccessTokens,
    /// SQLite has one writer at a time; queueing our own writers here is far cheaper than
    /// letting them collide and back off in SQLite's busy handler. Unused on Postgres.
    sqlite_writer: Option<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

fn cut_user_agent(ua: Option<&str>) -> Option<String> {
    ua.map(|ua| ua.chars().take(USER_AGENT_MAX).collect())
}

/// A live (unrevoked) row for refresh token `plain` of `family`: a new family at login, the
/// same family on rotation. Only the hash of `plain` is stored.
fn live_row(
    user_id: i64,
    family: String,
    plain: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
    ip: Option<IpAddr>,
    user_agent: Option<&str>,
) -> refresh_token::ActiveModel {
    refresh_token::ActiveModel {
        user_id: Set(user_id),
        family_id: Set(family),
        token_hash: Set(sha256_hex(plain.as_bytes())),
        issued_at: Set(now),
        expires_at: Set(expires),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        replaced_by: Set(None),
        ip: Set(ip.map(|i| i.to_string())),
        user_agent: Set(cut_user_agent(user_agent)),
        ..Default::default()
    }
}

/// 256 random bits, URL-safe: refresh tokens and login challenges.
/// Revokes every live refresh token of `user` (every session) for `why`.
pub(super) async fn revoke_all(
    db: &DatabaseConnection,
    user: UserId,
    now: DateTime<Utc>,
    why: &str,
) -> Result<u64, AuthError> {
    let res = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .col_expr(refresh_token::Column::RevokedReason, Expr::value(why))
        .filter(refresh_token::Column::UserId.eq(user.0))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

pub(super) fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Sessions {
    pub fn new(deps: Deps) -> Self {
        let access = AccessTokens::new(
            &deps.keys.derive("jwt"),
            deps.settings.access_token_ttl_secs,
        );
        let sqlite_writer = (deps.db.get_database_backend() == DbBackend::Sqlite)
            .then(|| tokio::sync::Mutex::new(()));
        Self {
            sqlite_writer,
            origins: Origins::new(
                deps.origins
                    .public_url
                    .iter()
                    .chain(&deps.origins.allowed_origins)
                    .map(String::as_str),
            ),
            csrf_key: deps.keys.derive("csrf"),
            totp_key: deps.keys.derive("admin-totp"),
            require_totp: deps.admin_require_totp,
            db: deps.db,
            clock: deps.clock,
            settings: deps.settings,
            audit: deps.audit,
            users: deps.users,
            store: deps.store,
            access_policy: deps.access,
            access,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access.ttl()
    }

    async fn write_gate(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.sqlite_writer {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    fn refresh_ttl(&self) -> Duration {
        Duration::days(self.settings.refresh_token_ttl_days.max(1))
    }

    /// The user's network access status now, from the access policy (quota's in the app).
    pub async fn status_of(&self, user: &UserFacts) -> Result<AccessStatus, AuthError> {
        self.access_policy
            .status_of(user)
            .await
            .map_err(AuthError::Internal)
    }

    /// The user's status with their quota figures (see [`AccessPolicy::standing_of`]).
    pub async fn standing_of(&self, user: &UserFacts) -> Result<Standing, AuthError> {
        self.access_policy
            .standing_of(user)
            .await
            .map_err(AuthError::Internal)
    }

    /// Checks an access token (cookie or bearer) against the current time.
    pub fn verify_access(&self, token: &str) -> Result<AccessSubject, AuthError> {
        self.access.verify(token, self.clock.now())
    }

    /// Starts a new session family for a user who just proved who they are.
    pub async fn issue(
        &self,
        user: &UserFacts,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<IssuedSession, AuthError> {
        let now = self.clock.now();
        let plain = new_refresh_token();
        let expires = now + self.refresh_ttl();
        let family = uuid::Uuid::new_v4().to_string();
        {
            let _writer = self.write_gate().await;
            live_row(
                user.id.0,
                family.clone(),
                &plain,
                now,
                expires,
                ip,
                user_agent,
            )
            .insert(&self.db)
            .await?;
        }
        if user.role.is_admin() {
            self.mark_admin_active(&family).await?;
        }
        let mut session =
            self.session_for(user.id, user.role, &family, now, Some((plain, expires)))?;
        session.language = user.language;
        Ok(session)
    }

    fn session_for(
        &self,
        user: UserId,
        role: Role,
        family: &str,
        now: DateTime<Utc>,
        refresh: Option<(String, DateTime<Utc>)>,
    ) -> Result<IssuedSession, AuthError> {
        let (access, access_expires_at) = self.access.mint(user, role, family, now)?;
        let (refresh_token, refresh_expires_at) = match refresh {
            Some((plain, at)) => (Some(Secret::new(plain)), Some(at)),
            None => (None, None),
        };
        Ok(IssuedSession {
            user,
            role,
            family: family.to_owned(),
            access_token: Secret::new(access),
            access_expires_at,
            refresh_token,
            refresh_expires_at,
            language: None,
        })
    }

    async fn find_by_plain(&self, plain: &str) -> Result<Option<refresh_token::Model>, AuthError> {
        if plain.is_empty() || plain.len() > REFRESH_MAX_LEN {
            return Ok(None);
        }
        Ok(refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(sha256_hex(plain.as_bytes())))
            .one(&self.db)
            .await?)
    }

    /// The user a refresh token may still act for: exists, active, not blocked.
    pub(super) async fn live_user(&self, id: i64) -> Result<UserFacts, AuthError> {
        let user = self
            .users
            .get(UserId(id))
            .await?
            .ok_or(AuthError::Unauthorized)?;
        if user.blocked {
            return Err(AuthError::UserBlocked);
        }
        if !user.active {
            return Err(AuthError::UserInactive);
        }
        Ok(user)
    }

    /// Exchanges a refresh token for a new pair. Single use: the old row is revoked and the new
    /// one stored in one transaction, guarded so that of two concurrent rotations only one wins;
    /// the loser is treated as a replay (grace window or theft).
    pub async fn rotate(
        &self,
        plain: &str,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<IssuedSession, AuthError> {
        let now = self.clock.now();
        let mut row = self
            .find_by_plain(plain)
            .await?
            .ok_or(AuthError::Unauthorized)?;
        if row.revoked_at.is_none() {
            if row.expires_at <= now {
                return Err(AuthError::TokenExpired);
            }
            let user = self.live_user(row.user_id).await?;
            let new_plain = new_refresh_token();
            let expires = now + self.refresh_ttl();
            if self
                .try_rotate(&row, &new_plain, expires, now, ip, user_agent)
                .await?
            {
                return self.session_for(
                    user.id,
                    user.role,
                    &row.family_id,
                    now,
                    Some((new_plain, expires)),
                );
            }
            // Another request rotated it between our read and our write.
            row = refresh_token::Entity::find_by_id(row.id)
                .one(&self.db)
                .await?
                .ok_or(AuthError::Unauthorized)?;
        }
        self.replay(row, now, ip, user_agent).await
    }

    async fn try_rotate(
        &self,
        old: &refresh_token::Model,
        new_plain: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<bool, AuthError> {
        let _writer = self.write_gate().await;
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        // Writing first takes the write lock at once (SQLite), so the read-then-upgrade
        // deadlock between two rotations cannot happen.
        let successor = live_row(
            old.user_id,
            old.family_id.clone(),
            new_plain,
            now,
            expires,
            ip,
            user_agent,
        )
        .insert(&txn)
        .await?;
        let updated = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .col_expr(
                refresh_token::Column::RevokedReason,
                Expr::value(reason::ROTATED),
            )
            .col_expr(refresh_token::Column::ReplacedBy, Expr::value(successor.id))
            .filter(refresh_token::Column::Id.eq(old.id))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(false);
        }
        txn.commit().await?;
        Ok(true)
    }

    /// A revoked token came back. Within the grace window, from the same user agent, while its
    /// successor is live: the caller gets the successor's session (a new access token only).
    /// Any other replay of a rotated token is theft: the whole family is revoked and audited.
    async fn replay(
        &self,
        row: refresh_token::Model,
        now: DateTime<Utc>,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<IssuedSession, AuthError> {
        if row.revoked_reason.as_deref() != Some(reason::ROTATED) {
            // Logged out or already revoked for reuse: just not a session.
            return Err(AuthError::Unauthorized);
        }
        let grace = Duration::seconds(self.settings.refresh_reuse_grace_secs.max(0));
        let within_window = row.revoked_at.is_some_and(|at| now - at <= grace);
        if within_window && let Some(successor_id) = row.replaced_by {
            let successor = refresh_token::Entity::find_by_id(successor_id)
                .one(&self.db)
                .await?;
            if let Some(successor) = successor
                && successor.revoked_at.is_none()
                && successor.expires_at > now
                && successor.user_agent == cut_user_agent(user_agent)
            {
                let user = self.live_user(successor.user_id).await?;
                return self.session_for(user.id, user.role, &successor.family_id, now, None);
            }
        }
        let revoked = self
            .revoke_family(&row.family_id, reason::REUSE_DETECTED, now)
            .await?;
        tracing::warn!(
            user = row.user_id,
            family = %row.family_id,
            revoked,
            "refresh token reused outside the grace window: family revoked"
        );
        let entry = AuditEntry::new("session.refresh_reuse")
            .actor(UserId(row.user_id))
            .target(format!("family:{}", row.family_id))
            .details(json!({
                "token_id": row.id,
                "rotated_at": row.revoked_at,
                "revoked_tokens": revoked,
                "user_agent": cut_user_agent(user_agent),
            }))
            .ip(ip.map(|i| i.to_string()));
        if let Err(e) = self.audit.record(entry).await {
            tracing::error!(error = %e, "cannot write the audit entry for a refresh-token reuse");
        }
        Err(AuthError::Unauthorized)
    }

    pub(super) async fn revoke_family(
        &self,
        family: &str,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, AuthError> {
        let res = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .col_expr(refresh_token::Column::RevokedReason, Expr::value(why))
            .filter(refresh_token::Column::FamilyId.eq(family))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    /// Logout: revokes the family of this refresh token (every device of the session chain).
    /// Unknown tokens are fine: logging out twice is not an error.
    pub async fn end(&self, refresh_plain: &str) -> Result<u64, AuthError> {
        match self.find_by_plain(refresh_plain).await? {
            Some(row) => {
                self.revoke_family(&row.family_id, reason::LOGOUT, self.clock.now())
                    .await
            }
            None => Ok(0),
        }
    }

    /// "Log out everywhere": revokes every live refresh token of the user.
    pub async fn end_all(&self, user: UserId) -> Result<u64, AuthError> {
        revoke_all(&self.db, user, self.clock.now(), reason::LOGOUT_ALL).await
    }

    /// Daily job: deletes expired tokens and tokens revoked more than
    /// [`REVOKED_RETENTION_DAYS`] ago. Returns how many rows went.
    pub async fn cleanup_expired(&self, now: DateTime<Utc>) -> Result<u64, AuthError> {
        let keep_since = now - Duration::days(REVOKED_RETENTION_DAYS);
        let res = refresh_token::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(refresh_token::Column::ExpiresAt.lte(now))
                    .add(refresh_token::Column::RevokedAt.lt(keep_since)),
            )
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}
