//! The kernel's `AccessPolicy` port, answered from quota accounts: auth asks it at login so the
//! device is placed exactly as the next sync would place it.

use async_trait::async_trait;
use lpsaring_kernel::ports::access::{
    AccessPolicy, AccessStatus, QuotaFigures, RouterPlacement, Standing,
};
use lpsaring_kernel::ports::users::UserFacts;
use lpsaring_kernel::{Mac, UserId};

use crate::service::Service;
use crate::status;

#[async_trait]
impl AccessPolicy for Service {
    async fn status_of(&self, user: &UserFacts) -> Result<AccessStatus, String> {
        self.status_for(user).await.map_err(|e| e.to_string())
    }

    async fn standing_of(&self, user: &UserFacts) -> Result<Standing, String> {
        let summary = self.summary_for(user).await.map_err(|e| e.to_string())?;
        Ok(Standing {
            status: summary.status,
            quota: Some(QuotaFigures {
                purchased_bytes: summary.purchased_bytes,
                used_bytes: summary.used_bytes,
                unlimited: summary.unlimited,
                expires_at: summary.expires_at,
            }),
        })
    }

    async fn meter_from_now(&self, user: UserId, mac: Mac) -> Result<(), String> {
        Service::meter_from_now(self, user, mac)
            .await
            .map_err(|e| e.to_string())
    }

    fn placement(&self, status: AccessStatus) -> RouterPlacement {
        let s = self.settings();
        let want = status::desired(status, s);
        RouterPlacement {
            binding: want.binding,
            address_list: want.list.to_owned(),
            all_lists: s.address_lists.all(),
            profile: want.profile.to_owned(),
        }
    }
}
