//! Reversals: what one grant gave taken back (a refunded order), exactly once per key, as a
//! ledger row of its own. Never more bytes than are unused, validity never into the past: see
//! [`crate::period::reversed`] and [`crate::period::bytes_taken`].

use sea_orm::ConnectionTrait;

use crate::api::Reversal;
use crate::error::QuotaError;
use crate::grant::{Change, check_key};
use crate::period;
use crate::service::Service;

impl Service {
    /// Applies `reversal` on `conn` (the caller's open transaction, e.g. the one that marks an
    /// order refunded). Returns false, changing nothing, when its key was applied before. The
    /// router is not touched: the caller applies the user's state after the commit.
    pub async fn reverse_in(
        &self,
        conn: &impl ConnectionTrait,
        reversal: &Reversal,
    ) -> Result<bool, QuotaError> {
        if reversal.bytes < 0 || reversal.validity_hours < 0 {
            return Err(QuotaError::InvalidGrant(
                "bytes and validity must not be negative".into(),
            ));
        }
        let key = check_key(&reversal.idempotency_key)?;
        let _accounts = self.accounts.lock().await;
        let Some(before) = self.unless_applied(conn, reversal.user, key).await? else {
            return Ok(false);
        };
        let now = self.clock.now();
        let taken = period::bytes_taken(before.purchased, before.used, reversal.bytes);
        let after = period::reversed(
            &before.period(),
            reversal.validity_hours,
            reversal.unlimited,
            now,
        );
        self.write_change(
            conn,
            Change {
                user: reversal.user,
                before: &before,
                bytes: -taken,
                period: after,
                profile: before.profile.clone(),
                rearm: false,
                source: reversal.source,
                key,
                actor: &reversal.actor,
                note: reversal.note.clone(),
            },
        )
        .await?;
        Ok(true)
    }
}
