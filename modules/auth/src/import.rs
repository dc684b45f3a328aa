//! Users brought over from another system (`lpsaring import-lpsaring`): written on the caller's
//! connection or transaction, so a whole import commits (or a dry run rolls back) as one.
//! Idempotent by phone number: a phone already here is left exactly as it is.

use chrono::{DateTime, Utc};
use lpsaring_kernel::Phone;
use lpsaring_kernel::ports::users::{Role, UserFacts};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::admin_users::REJECTED;
use crate::entity::user;
use crate::error::AuthError;
use crate::users::{APPROVED, PENDING, clean_name, facts};

/// Longest block reason kept (the original's is free text).
const BLOCK_REASON_MAX_CHARS: usize = 500;

/// Where the user stands with the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Pending,
    Approved,
    Rejected,
}

impl Approval {
    /// The original's `approval_status` values (`PENDING_APPROVAL`, `APPROVED`, `REJECTED`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            PENDING => Some(Self::Pending),
            APPROVED => Some(Self::Approved),
            REJECTED => Some(Self::Rejected),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => PENDING,
            Self::Approved => APPROVED,
            Self::Rejected => REJECTED,
        }
    }
}

/// A user as another system kept them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedUser {
    pub phone: Phone,
    pub name: String,
    pub role: Role,
    pub approval: Approval,
    pub active: bool,
    /// The block reason when blocked (a blocked user without one gets "blocked").
    pub blocked: Option<String>,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// What importing one user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserImport {
    Created(UserFacts),
    /// The phone was here already: nothing changed.
    Existing(UserFacts),
}

/// The user with `phone` on `conn` (a transaction sees its own writes).
pub async fn find_in(
    conn: &impl ConnectionTrait,
    phone: &Phone,
) -> Result<Option<UserFacts>, AuthError> {
    let row = user::Entity::find()
        .filter(user::Column::PhoneNumber.eq(phone.as_str()))
        .one(conn)
        .await?;
    Ok(row.as_ref().and_then(facts))
}

/// Every user's phone on `conn` (the importer refuses to mix into a database of other users);
/// a voucher account, which has none, is named `voucher account #<id>` so it counts as another.
pub async fn phones_in(conn: &impl ConnectionTrait) -> Result<Vec<String>, AuthError> {
    Ok(user::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| {
            u.phone_number
                .unwrap_or_else(|| format!("voucher account #{}", u.id))
        })
        .collect())
}

/// Creates `u` unless its phone exists; `now` stamps `updated_at`. A name that fails
/// [`clean_name`] is refused (the caller reports the row as skipped).
pub async fn import_user_in(
    conn: &impl ConnectionTrait,
    u: &ImportedUser,
    now: DateTime<Utc>,
) -> Result<UserImport, AuthError> {
    let name = clean_name(&u.name)?;
    if let Some(existing) = find_in(conn, &u.phone).await? {
        return Ok(UserImport::Existing(existing));
    }
    let reason = u.blocked.as_deref().map(|r| {
        let r: String = r.trim().chars().take(BLOCK_REASON_MAX_CHARS).collect();
        if r.is_empty() {
            "blocked".to_owned()
        } else {
            r
        }
    });
    let approved_at = match u.approval {
        Approval::Approved => u.approved_at.or(Some(u.created_at)),
        _ => None,
    };
    let inserted = user::ActiveModel {
        phone_number: Set(Some(u.phone.as_str().to_owned())),
        full_name: Set(name),
        role: Set(u.role.as_str().to_owned()),
        approval_status: Set(u.approval.as_str().to_owned()),
        is_active: Set(u.active),
        is_blocked: Set(reason.is_some()),
        blocked_reason: Set(reason),
        // Passwords are never carried over: the original's hashes are not ours to verify.
        password_hash: Set(None),
        created_at: Set(u.created_at),
        updated_at: Set(now),
        approved_at: Set(approved_at),
        last_login_at: Set(u.last_login_at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    facts(&inserted)
        .map(UserImport::Created)
        .ok_or_else(|| AuthError::Internal("stored phone does not parse".to_owned()))
}
