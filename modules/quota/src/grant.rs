//! Grants: bytes and/or validity added exactly once per idempotency key, each one a
//! `quota_ledger` row (the key is unique, e.g. `order:<id>` for a paid order).
//!
//! [`Service::grant_in`] writes on the caller's connection or transaction, so payments can
//! mark an order paid and add its quota in one SQL transaction (as `kernel::outbox::enqueue_many`
//! queues messages in the caller's); [`Service::grant`] wraps it in a transaction of its own.
//! Neither touches the router: [`Service::grant_and_apply`] applies the user's state after the
//! commit, and a router failure there never undoes a grant (the next sync enforces it).

use lpsaring_kernel::UserId;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::api::{Grant, GrantOutcome, GrantSource};
use crate::entity::{account, ledger};
use crate::error::QuotaError;
use crate::period::{self, Period};
use crate::service::{AccountRow, Service};

/// Refuses grants that add nothing, take something away, or carry a key the sync reserves.
fn check(grant: &Grant) -> Result<&str, QuotaError> {
    if grant.bytes < 0 || grant.validity_hours < 0 {
        return Err(QuotaError::InvalidGrant(
            "bytes and validity must not be negative".into(),
        ));
    }
    if grant.bytes == 0 && grant.validity_hours == 0 && !grant.unlimited {
        return Err(QuotaError::InvalidGrant("nothing to grant".into()));
    }
    if let Some(profile) = &grant.profile
        && (profile.trim().is_empty() || profile.len() > 64 || profile.trim() != profile)
    {
        return Err(QuotaError::InvalidGrant(
            "a profile name is 1 to 64 characters without surrounding spaces".into(),
        ));
    }
    check_key(&grant.idempotency_key)
}

/// An idempotency key of 1 to 100 characters that is not the sync's.
pub(crate) fn check_key(key: &str) -> Result<&str, QuotaError> {
    let key = key.trim();
    if key.is_empty() || key.len() > 100 || key.starts_with("sync:") {
        return Err(QuotaError::InvalidGrant(
            "idempotency key must be 1 to 100 characters and not start with `sync:`".into(),
        ));
    }
    Ok(key)
}

/// One ledger-recorded change of an account (a grant or its reversal), decided under the
/// accounts lock from the account as read (`before`).
pub(crate) struct Change<'a> {
    pub(crate) user: UserId,
    pub(crate) before: &'a AccountRow,
    /// Bytes added to purchased (negative: taken back), added in SQL.
    pub(crate) bytes: i64,
    pub(crate) period: Period,
    pub(crate) profile: Option<String>,
    /// Re-arm the low-quota and expiry notices (a grant does, a reversal does not).
    pub(crate) rearm: bool,
    pub(crate) source: GrantSource,
    pub(crate) key: &'a str,
    pub(crate) actor: &'a str,
    pub(crate) note: Option<String>,
}

impl Service {
    /// Applies `grant` on `conn` (a connection or the caller's open transaction): the account
    /// row and its ledger row, and the notices re-armed. Returns false, changing nothing, when
    /// the key was applied before. The user must exist (the caller checked; the foreign key
    /// refuses anyone else). A concurrent grant with the same key makes the ledger insert fail
    /// on the unique key, which aborts the caller's transaction: the caller rolls back and the
    /// other grant stands.
    ///
    /// The accounts lock is held only while these statements run, not until the caller
    /// commits: a sync run that read the account just before the commit may write back the
    /// notice levels it read, so the re-armed low-quota notice of this grant can be skipped once.
    pub async fn grant_in(
        &self,
        conn: &impl ConnectionTrait,
        grant: &Grant,
    ) -> Result<bool, QuotaError> {
        let key = check(grant)?;
        let _accounts = self.accounts.lock().await;
        self.write_grant(conn, grant, key).await
    }

    /// The account as `conn` sees it, or None when `key` was applied before.
    pub(crate) async fn unless_applied(
        &self,
        conn: &impl ConnectionTrait,
        user: UserId,
        key: &str,
    ) -> Result<Option<AccountRow>, QuotaError> {
        let done = ledger::Entity::find()
            .filter(ledger::Column::IdempotencyKey.eq(key))
            .one(conn)
            .await?;
        if done.is_some() {
            return Ok(None);
        }
        Ok(Some(
            account::Entity::find_by_id(user.0)
                .one(conn)
                .await?
                .map(|m| AccountRow::from_model(&m))
                .unwrap_or_else(AccountRow::empty),
        ))
    }

    /// The statements of a grant, on `conn`; the caller holds the accounts lock.
    async fn write_grant(
        &self,
        conn: &impl ConnectionTrait,
        grant: &Grant,
        key: &str,
    ) -> Result<bool, QuotaError> {
        let Some(before) = self.unless_applied(conn, grant.user, key).await? else {
            return Ok(false);
        };
        let now = self.clock.now();
        let period = period::granted(
            &before.period(),
            grant.validity_hours,
            grant.unlimited,
            grant.mode,
            now,
        );
        // The latest purchase's profile wins (none included); others only name one.
        let profile = match (&grant.profile, grant.source) {
            (Some(p), _) => Some(p.clone()),
            (None, GrantSource::Purchase) => None,
            (None, _) => before.profile.clone(),
        };
        self.write_change(
            conn,
            Change {
                user: grant.user,
                before: &before,
                bytes: grant.bytes,
                period,
                profile,
                rearm: true,
                source: grant.source,
                key,
                actor: &grant.actor,
                note: grant.note.clone(),
            },
        )
        .await?;
        Ok(true)
    }

    /// Writes one change: the account (purchased added in SQL, so the addition stays right
    /// whatever committed between our read and this write) and its ledger row.
    pub(crate) async fn write_change(
        &self,
        conn: &impl ConnectionTrait,
        change: Change<'_>,
    ) -> Result<(), QuotaError> {
        let now = self.clock.now();
        let before = change.before;
        let purchased = before.purchased.saturating_add(change.bytes);
        // Re-armed: every notice level may be announced again. Otherwise left as they are.
        fn rearmed<T: Into<sea_orm::Value>>(rearm: bool) -> sea_orm::ActiveValue<Option<T>>
        where
            Option<T>: Into<sea_orm::Value>,
        {
            if rearm { Set(None) } else { sea_orm::NotSet }
        }
        let row = account::ActiveModel {
            user_id: Set(change.user.0),
            purchased_bytes: Set(purchased),
            used_bytes: Set(0),
            unlimited: Set(change.period.unlimited),
            expires_at: Set(change.period.expires_at),
            fup_threshold_bytes: sea_orm::NotSet,
            low_quota_notified_bytes: rearmed(change.rearm),
            expiry_notified_days: rearmed(change.rearm),
            last_status: sea_orm::NotSet,
            updated_at: Set(now),
            profile: Set(change.profile.clone()),
            unlimited_until: Set(change.period.unlimited_until),
        };
        let mut updates = vec![
            account::Column::Unlimited,
            account::Column::ExpiresAt,
            account::Column::UnlimitedUntil,
            account::Column::Profile,
            account::Column::UpdatedAt,
        ];
        if change.rearm {
            updates.extend([
                account::Column::LowQuotaNotifiedBytes,
                account::Column::ExpiryNotifiedDays,
            ]);
        }
        account::Entity::insert(row)
            .on_conflict(
                OnConflict::column(account::Column::UserId)
                    .value(
                        account::Column::PurchasedBytes,
                        Expr::col((account::Entity, account::Column::PurchasedBytes))
                            .add(change.bytes),
                    )
                    .update_columns(updates)
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        let entry = ledger::ActiveModel {
            id: sea_orm::NotSet,
            user_id: Set(change.user.0),
            source: Set(change.source.as_str().to_owned()),
            idempotency_key: Set(change.key.to_owned()),
            purchased_before: Set(before.purchased),
            purchased_after: Set(purchased),
            used_before: Set(before.used),
            used_after: Set(before.used),
            expires_before: Set(before.expires_at),
            expires_after: Set(change.period.expires_at),
            actor: Set(Some(change.actor.chars().take(100).collect())),
            note: Set(change.note),
            created_at: Set(now),
        };
        ledger::Entity::insert(entry)
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// Adds bytes and/or validity exactly once per idempotency key, in a transaction of its
    /// own ([`Service::grant_in`] inside one). Does not touch the router: see
    /// [`Service::grant_and_apply`].
    pub async fn grant(&self, grant: &Grant) -> Result<GrantOutcome, QuotaError> {
        let key = check(grant)?;
        let facts = self
            .users
            .get(grant.user)
            .await?
            .ok_or(QuotaError::UserNotFound)?;
        let guard = self.accounts.lock().await;
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        let applied = match self.write_grant(&txn, grant, key).await {
            Ok(applied) => applied,
            Err(e) => {
                // A concurrent grant with the same key won the unique index: that one applied.
                txn.rollback().await?;
                drop(guard);
                let exists = ledger::Entity::find()
                    .filter(ledger::Column::IdempotencyKey.eq(key))
                    .one(&self.db)
                    .await?
                    .is_some();
                if exists {
                    return Ok(GrantOutcome {
                        applied: false,
                        summary: self.summary_for(&facts).await?,
                    });
                }
                return Err(e);
            }
        };
        if applied {
            txn.commit().await?;
        } else {
            txn.rollback().await?;
        }
        drop(guard);
        Ok(GrantOutcome {
            applied,
            summary: self.summary_for(&facts).await?,
        })
    }

    /// [`Service::grant`], then the user's router state applied at once (best effort: when the
    /// router is down the next sync enforces it).
    pub async fn grant_and_apply(&self, grant: &Grant) -> Result<GrantOutcome, QuotaError> {
        let outcome = self.grant(grant).await?;
        if let Err(e) = self.apply_user(grant.user).await {
            tracing::warn!(user = grant.user.0, error = %e, "granted, but the router update waits for the next sync");
        }
        Ok(outcome)
    }
}
