//! An operator's grant of bytes and validity days to one account, for modules that start an
//! account and want it to have quota without depending on quota: the users area's "create a
//! user with a starting quota" (auth's). Quota implements it with its audited adjustment; `app`
//! wires it.

use async_trait::async_trait;

use crate::ports::users::Role;
use crate::{ApiError, UserId};

#[async_trait]
pub trait AdminGrants: Send + Sync {
    /// Adds `bytes` and `days` to `user`'s account for admin `actor` with `reason` (a ledger
    /// row and an audit entry). The refusal is the API envelope's error (4xx for bad input).
    async fn grant(
        &self,
        actor: (UserId, Role),
        user: UserId,
        bytes: i64,
        days: i64,
        reason: &str,
        ip: Option<String>,
    ) -> Result<(), ApiError>;
}
