//! The admin second factor: TOTP (RFC 6238, [`super::totp`]) enrolled from a QR code, with 10
//! one-time recovery codes kept only as hashes. The secret is stored sealed (AES-256-GCM under a
//! key derived from the server secret), so a copy of the database alone cannot mint codes. A
//! code is accepted once (the last step used is kept); a recovery code is crossed off when used.
//! Every change is audited. `lpsaring admin reset-totp PHONE` calls [`reset_totp`].

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::{DateTime, Utc};
use lpsaring_kernel::UserId;
use lpsaring_kernel::ports::audit::{AuditEntry, AuditSink};
use lpsaring_kernel::ports::users::UserFacts;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::service::{Sessions, reason, revoke_all};
use super::totp;
use crate::entity::admin_totp;
use crate::error::AuthError;
use crate::secrets::sha256_hex;

/// Recovery codes handed out at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (shown in two groups of five).
const RECOVERY_LEN: usize = 10;
/// The issuer an authenticator app shows beside the account.
const TOTP_ISSUER: &str = "lpsaring";
const RECOVERY_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// What the enrolment page shows: the QR code and the secret for typing in by hand.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// An admin's second factor as the security page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpStatus {
    pub enabled: bool,
    /// Enrolment started and waiting for the first code.
    pub pending: bool,
    pub recovery_left: usize,
    /// `admin.require_totp` applies to this admin (a super admin).
    pub required: bool,
}

fn recovery_hash(user: UserId, code: &str) -> String {
    sha256_hex(format!("lpsaring-recovery:{}:{code}", user.0).as_bytes())
}

/// Upper case, no dashes or spaces: how a recovery code is compared.
fn normalise_recovery(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn new_recovery_code() -> String {
    let mut bytes = [0u8; RECOVERY_LEN];
    rand::rng().fill_bytes(&mut bytes);
    let code: String = bytes
        .iter()
        .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]))
        .collect();
    format!("{}-{}", &code[..5], &code[5..])
}

fn hashes_of(row: &admin_totp::Model) -> Vec<String> {
    serde_json::from_str(&row.recovery_hashes).unwrap_or_default()
}

impl Sessions {
    fn seal_secret(&self, secret: &[u8]) -> Result<String, AuthError> {
        let cipher = Aes256Gcm::new(&self.totp_key.into());
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), secret)
            .map_err(|_| AuthError::Internal("cannot seal a TOTP secret".to_owned()))?;
        Ok(STANDARD_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
    }

    fn open_secret(&self, sealed: &str) -> Result<Vec<u8>, AuthError> {
        let bytes = STANDARD_NO_PAD
            .decode(sealed)
            .ok()
            .filter(|b| b.len() > 12 + 16)
            .ok_or_else(|| AuthError::Internal("a stored TOTP secret is malformed".to_owned()))?;
        let (nonce, body) = bytes.split_at(12);
        Aes256Gcm::new(&self.totp_key.into())
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| {
                AuthError::Internal(
                    "a stored TOTP secret does not open (server secret changed?)".to_owned(),
                )
            })
    }

    async fn totp_row(&self, user: UserId) -> Result<Option<admin_totp::Model>, AuthError> {
        Ok(admin_totp::Entity::find_by_id(user.0).one(&self.db).await?)
    }

    /// Whether `user` has a confirmed second factor (their login then asks for a code).
    pub async fn totp_enabled(&self, user: UserId) -> Result<bool, AuthError> {
        Ok(self
            .totp_row(user)
            .await?
            .is_some_and(|r| r.enabled_at.is_some()))
    }

    /// True when `admin.require_totp` applies to `user` and they have not enrolled yet.
    pub async fn totp_enrolment_required(&self, user: &UserFacts) -> Result<bool, AuthError> {
        Ok(self.totp_required_for(user) && !self.totp_enabled(user.id).await?)
    }

    fn totp_required_for(&self, user: &UserFacts) -> bool {
        self.require_totp && user.role == lpsaring_kernel::ports::users::Role::SuperAdmin
    }

    pub async fn totp_status(&self, user: &UserFacts) -> Result<TotpStatus, AuthError> {
        let row = self.totp_row(user.id).await?;
        Ok(TotpStatus {
            enabled: row.as_ref().is_some_and(|r| r.enabled_at.is_some()),
            pending: row.as_ref().is_some_and(|r| r.enabled_at.is_none()),
            recovery_left: row
                .as_ref()
                .filter(|r| r.enabled_at.is_some())
                .map_or(0, |r| hashes_of(r).len()),
            required: self.totp_required_for(user),
        })
    }

    /// Starts (or restarts) enrolment: a new secret, shown once as a QR code. Refused while a
    /// confirmed factor exists (disable it first).
    pub async fn totp_start(&self, user: &UserFacts) -> Result<Enrolment, AuthError> {
        let existing = self.totp_row(user.id).await?;
        if existing.as_ref().is_some_and(|r| r.enabled_at.is_some()) {
            return Err(AuthError::TotpAlreadyEnabled);
        }
        let mut secret = [0u8; 20];
        rand::rng().fill_bytes(&mut secret);
        let row = admin_totp::ActiveModel {
            user_id: Set(user.id.0),
            secret_enc: Set(self.seal_secret(&secret)?),
            enabled_at: Set(None),
            last_step: Set(None),
            recovery_hashes: Set("[]".to_owned()),
            updated_at: Set(self.clock.now()),
        };
        if existing.is_some() {
            row.update(&self.db).await?;
        } else {
            row.insert(&self.db).await?;
        }
        let account = user.phone_label();
        let otpauth_uri = totp::otpauth_uri(TOTP_ISSUER, &account, &secret);
        let qr_svg = lpsaring_kernel::qr::svg(&otpauth_uri)
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        Ok(Enrolment {
            secret_base32: totp::base32(&secret),
            otpauth_uri,
            qr_svg,
        })
    }

    /// Confirms enrolment with the first code from the app and answers the 10 recovery codes
    /// (shown once; only their hashes are kept).
    pub async fn totp_confirm(
        &self,
        user: &UserFacts,
        code: &str,
        ip: Option<String>,
    ) -> Result<Vec<String>, AuthError> {
        let row = self
            .totp_row(user.id)
            .await?
            .filter(|r| r.enabled_at.is_none())
            .ok_or(AuthError::TotpNotStarted)?;
        let secret = self.open_secret(&row.secret_enc)?;
        let step = totp::matching_step(&secret, code, self.clock.now().timestamp())
            .ok_or(AuthError::TotpInvalid)?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| recovery_hash(user.id, &normalise_recovery(c)))
            .collect();
        let now = self.clock.now();
        admin_totp::ActiveModel {
            user_id: Set(user.id.0),
            enabled_at: Set(Some(now)),
            last_step: Set(Some(step)),
            recovery_hashes: Set(json!(hashes).to_string()),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        self.audit_totp("admin.totp_enabled", user.id, user.id, ip)
            .await;
        Ok(codes)
    }

    /// Turns the second factor off; the admin proves it with a current code or a recovery code.
    pub async fn totp_disable(
        &self,
        user: &UserFacts,
        code: &str,
        ip: Option<String>,
    ) -> Result<(), AuthError> {
        if !self.check_second_factor(user.id, code).await? {
            return Err(AuthError::TotpInvalid);
        }
        admin_totp::Entity::delete_by_id(user.id.0)
            .exec(&self.db)
            .await?;
        self.audit_totp("admin.totp_disabled", user.id, user.id, ip)
            .await;
        Ok(())
    }

    async fn audit_totp(&self, action: &str, actor: UserId, target: UserId, ip: Option<String>) {
        let entry = AuditEntry::new(action)
            .actor(actor)
            .target(format!("user:{}", target.0))
            .ip(ip);
        if let Err(e) = self.audit.record(entry).await {
            tracing::error!(error = %e, action, "cannot write an audit entry");
        }
    }

    /// Checks a TOTP code (never the same step twice) or a recovery code (crossed off). False
    /// when neither matches or the user has no confirmed factor.
    pub(super) async fn check_second_factor(
        &self,
        user: UserId,
        typed: &str,
    ) -> Result<bool, AuthError> {
        let Some(row) = self
            .totp_row(user)
            .await?
            .filter(|r| r.enabled_at.is_some())
        else {
            return Ok(false);
        };
        let secret = self.open_secret(&row.secret_enc)?;
        if let Some(step) = totp::matching_step(&secret, typed, self.clock.now().timestamp()) {
            // Only a step after the last one used: a code seen over a shoulder is spent.
            let taken = admin_totp::Entity::update_many()
                .col_expr(admin_totp::Column::LastStep, Expr::value(step))
                .filter(admin_totp::Column::UserId.eq(user.0))
                .filter(
                    sea_orm::Condition::any()
                        .add(admin_totp::Column::LastStep.is_null())
                        .add(admin_totp::Column::LastStep.lt(step)),
                )
                .exec(&self.db)
                .await?;
            return Ok(taken.rows_affected == 1);
        }
        let typed = normalise_recovery(typed);
        if typed.len() != RECOVERY_LEN {
            return Ok(false);
        }
        let wanted = recovery_hash(user, &typed);
        let mut hashes = hashes_of(&row);
        let Some(at) = hashes.iter().position(|h| *h == wanted) else {
            return Ok(false);
        };
        hashes.remove(at);
        // Guarded by the old list: two requests spending the same code cannot both win.
        let spent = admin_totp::Entity::update_many()
            .col_expr(
                admin_totp::Column::RecoveryHashes,
                Expr::value(json!(hashes).to_string()),
            )
            .filter(admin_totp::Column::UserId.eq(user.0))
            .filter(admin_totp::Column::RecoveryHashes.eq(row.recovery_hashes.clone()))
            .exec(&self.db)
            .await?;
        if spent.rows_affected == 1 {
            self.audit_totp("admin.recovery_code_used", user, user, None)
                .await;
        }
        Ok(spent.rows_affected == 1)
    }
}

/// The operator's way back in (`lpsaring admin reset-totp PHONE`, which works while the service
/// runs: SQL only): the user's second factor is removed and every session of theirs ends.
/// True when there was one.
pub async fn reset_totp(
    db: &DatabaseConnection,
    audit: &dyn AuditSink,
    now: DateTime<Utc>,
    user: UserId,
) -> Result<bool, AuthError> {
    let gone = admin_totp::Entity::delete_by_id(user.0)
        .exec(db)
        .await?
        .rows_affected
        > 0;
    let sessions = revoke_all(db, user, now, reason::TOTP_RESET).await?;
    let entry = AuditEntry::new("admin.totp_reset")
        .target(format!("user:{}", user.0))
        .details(json!({ "had_second_factor": gone, "sessions_revoked": sessions, "via": "cli" }));
    audit
        .record(entry)
        .await
        .map_err(|e| AuthError::Internal(format!("audit: {e}")))?;
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_two_groups_of_five_and_compare_loosely() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        assert_eq!(normalise_recovery(&code.to_lowercase()).len(), RECOVERY_LEN);
        assert_eq!(
            recovery_hash(UserId(1), &normalise_recovery(" abcde-fghjk ")),
            recovery_hash(UserId(1), "ABCDEFGHJK")
        );
        assert_ne!(
            recovery_hash(UserId(1), "ABCDEFGHJK"),
            recovery_hash(UserId(2), "ABCDEFGHJK")
        );
    }
}
