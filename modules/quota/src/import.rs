//! Accounts brought over from another system (`lpsaring import-lpsaring`), on the caller's
//! connection or transaction. Each is one `quota_ledger` row (source `import`) beside the
//! account, under the caller's idempotency key: a second run finds the key and changes nothing.
//! An account that exists without that key (a user who was here before the import) is never
//! overwritten: the caller reports it, and an operator grants the difference by hand.

use chrono::{DateTime, Utc};
use lpsaring_kernel::UserId;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::api::GrantSource;
use crate::entity::{account, ledger};
use crate::error::QuotaError;
use crate::grant::check_key;

/// An account as another system kept it, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedAccount {
    pub user: UserId,
    pub purchased_bytes: i64,
    pub used_bytes: i64,
    pub expires_at: Option<DateTime<Utc>>,
    /// Unlimited with no end of its own (the expiry still ends it).
    pub unlimited: bool,
    /// The hotspot profile of the latest purchase.
    pub profile: Option<String>,
    /// Unique per source account, e.g. `import:lpsaring:<uuid>`; at most 100 characters.
    pub idempotency_key: String,
    pub note: Option<String>,
}

/// What importing one account did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountImport {
    Created,
    /// This key was imported before: nothing changed.
    AlreadyImported,
    /// The user has an account that did not come from this key: not overwritten.
    HasAccount,
}

/// Writes the account and its ledger row unless the key or an account exists.
pub async fn import_account_in(
    conn: &impl ConnectionTrait,
    a: &ImportedAccount,
    now: DateTime<Utc>,
) -> Result<AccountImport, QuotaError> {
    let key = check_key(&a.idempotency_key)?;
    if a.purchased_bytes < 0 || a.used_bytes < 0 {
        return Err(QuotaError::InvalidGrant(
            "bytes must not be negative".into(),
        ));
    }
    let done = ledger::Entity::find()
        .filter(ledger::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?;
    if done.is_some() {
        return Ok(AccountImport::AlreadyImported);
    }
    if account::Entity::find_by_id(a.user.0)
        .one(conn)
        .await?
        .is_some()
    {
        return Ok(AccountImport::HasAccount);
    }
    account::Entity::insert(account::ActiveModel {
        user_id: Set(a.user.0),
        purchased_bytes: Set(a.purchased_bytes),
        used_bytes: Set(a.used_bytes),
        unlimited: Set(a.unlimited),
        expires_at: Set(a.expires_at),
        fup_threshold_bytes: Set(None),
        low_quota_notified_bytes: Set(None),
        expiry_notified_days: Set(None),
        last_status: Set(None),
        updated_at: Set(now),
        profile: Set(a.profile.clone()),
        unlimited_until: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    ledger::Entity::insert(ledger::ActiveModel {
        id: NotSet,
        user_id: Set(a.user.0),
        source: Set(GrantSource::Import.as_str().to_owned()),
        idempotency_key: Set(key.to_owned()),
        purchased_before: Set(0),
        purchased_after: Set(a.purchased_bytes),
        used_before: Set(0),
        used_after: Set(a.used_bytes),
        expires_before: Set(None),
        expires_after: Set(a.expires_at),
        actor: Set(Some("import".to_owned())),
        note: Set(a.note.clone()),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(AccountImport::Created)
}
