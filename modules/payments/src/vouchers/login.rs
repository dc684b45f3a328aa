//! A voucher as a login (issue 12), for phones without WhatsApp and for when the messenger is
//! down: the code's first use makes a voucher account through auth's [`VoucherAccounts`] port
//! (no phone, named after the batch prefix) and redeems the code to it, exactly like a purchase;
//! later uses find the same account. A code already redeemed as a purchase by someone else is
//! theirs and logs nobody in. auth calls this through the kernel's [`VoucherLogin`] port.
//!
//! [`VoucherAccounts`]: lpsaring_kernel::ports::VoucherAccounts

use std::net::IpAddr;

use async_trait::async_trait;
use lpsaring_kernel::ports::audit::AuditEntry;
use lpsaring_kernel::ports::voucher::{VoucherAccount, VoucherLogin, VoucherLoginError};
use sea_orm::EntityTrait;
use serde_json::json;

use super::api::VoucherStatus;
use super::{entity, wrong_ip_key};
use crate::error::PaymentsError;
use crate::service::Service;

/// The account reference auth keeps for a voucher's login account.
fn voucher_ref(voucher: &entity::Model) -> String {
    format!("voucher:{}", voucher.id)
}

impl Service {
    /// The account `typed` logs in to; see the module doc. Wrong codes spend the IP's budget
    /// (the one redeeming spends too: 10 per 15 minutes).
    pub async fn voucher_login_account(
        &self,
        typed: &str,
        ip: Option<IpAddr>,
    ) -> Result<VoucherAccount, PaymentsError> {
        let wrong_keys: Vec<String> = ip.map(wrong_ip_key).into_iter().collect();
        let voucher = self.find_code(typed, &wrong_keys).await?;
        match voucher.status {
            VoucherStatus::Revoked => Err(PaymentsError::VoucherRevoked),
            VoucherStatus::Redeemed => self.existing_account(&voucher).await,
            VoucherStatus::Active => {
                // Made (or found) before the claim: two first uses racing get one account, and
                // the claim below decides whether the code went to it.
                let name = format!("Voucher {} #{}", voucher.prefix, voucher.id);
                let facts = self
                    .accounts
                    .voucher_account(&voucher_ref(&voucher), &name)
                    .await?;
                match self
                    .claim_voucher(&voucher, &facts, "voucher_login")
                    .await?
                {
                    Some(order) => {
                        self.audit(
                            AuditEntry::new("voucher.login_account")
                                .target(format!("user:{}", facts.id.0))
                                .details(json!({
                                    "voucher_batch": voucher.batch_id,
                                    "order_id": order.order_id,
                                })),
                        )
                        .await;
                        Ok(VoucherAccount {
                            user: facts.id,
                            first_use: true,
                        })
                    }
                    // Someone claimed it meanwhile: the same account logging in twice at once,
                    // or a purchase, which keeps the code.
                    None => {
                        let now = entity::Entity::find_by_id(voucher.id)
                            .one(&self.db)
                            .await?
                            .ok_or(PaymentsError::VoucherInvalid)?;
                        self.existing_account(&now).await
                    }
                }
            }
        }
    }

    /// A redeemed code logs in to its voucher account, and only when the code went to it.
    async fn existing_account(
        &self,
        voucher: &entity::Model,
    ) -> Result<VoucherAccount, PaymentsError> {
        if voucher.status == VoucherStatus::Revoked {
            return Err(PaymentsError::VoucherRevoked);
        }
        let account = self
            .accounts
            .find_voucher_account(&voucher_ref(voucher))
            .await?;
        match account {
            Some(facts) if voucher.redeemed_by == Some(facts.id.0) => Ok(VoucherAccount {
                user: facts.id,
                first_use: false,
            }),
            _ => Err(PaymentsError::VoucherUsed),
        }
    }
}

#[async_trait]
impl VoucherLogin for Service {
    async fn account_for(
        &self,
        code: &str,
        ip: Option<IpAddr>,
    ) -> Result<VoucherAccount, VoucherLoginError> {
        self.voucher_login_account(code, ip)
            .await
            .map_err(|e| match e {
                PaymentsError::VoucherInvalid => VoucherLoginError::Invalid,
                PaymentsError::VoucherUsed => VoucherLoginError::Used,
                PaymentsError::VoucherRevoked => VoucherLoginError::Revoked,
                PaymentsError::RateLimited { retry_after_secs } => {
                    VoucherLoginError::RateLimited { retry_after_secs }
                }
                other => VoucherLoginError::Unavailable(other.to_string()),
            })
    }
}
