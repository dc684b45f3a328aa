//! A printed voucher as a login (issue 12): auth takes the code on the captive page, payments
//! knows the codes. payments implements the port, `app` injects it into auth, so auth never
//! depends on payments.

use std::net::IpAddr;

use async_trait::async_trait;

use crate::ids::UserId;

/// The account a voucher logs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoucherAccount {
    pub user: UserId,
    /// This call redeemed the code: the account was given the package just now.
    pub first_use: bool,
}

/// Why a code does not log in. The sentences are for logs; pages localise by variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoucherLoginError {
    #[error("the voucher code is not valid")]
    Invalid,
    /// Redeemed as a purchase by a phone user: it is theirs, not a login.
    #[error("this voucher has been used already")]
    Used,
    #[error("this voucher has been revoked")]
    Revoked,
    #[error("too many wrong voucher codes; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("voucher login unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait VoucherLogin: Send + Sync {
    /// The account `code` logs in to, creating it (holding the voucher's package) on the code's
    /// first use. Wrong codes count against `ip`'s budget.
    async fn account_for(
        &self,
        code: &str,
        ip: Option<IpAddr>,
    ) -> Result<VoucherAccount, VoucherLoginError>;
}
