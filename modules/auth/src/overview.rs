//! auth's part of the admin overview: users (role `user`) by status.

use async_trait::async_trait;
use lpsaring_kernel::ApiError;
use lpsaring_kernel::ports::overview::{Tally, UserFigures, UserOverview};
use lpsaring_kernel::ports::users::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::admin_users::REJECTED;
use crate::entity::user;
use crate::users::{APPROVED, Directory};

/// The statuses the overview lists, in its order: a blocked or deactivated account counts as
/// that, whatever its approval; every other by its approval.
pub const STATUSES: [&str; 5] = ["pending", "approved", "rejected", "blocked", "inactive"];

fn status_of(approval: &str, active: bool, blocked: bool) -> &'static str {
    if blocked {
        "blocked"
    } else if !active {
        "inactive"
    } else {
        match approval {
            APPROVED => "approved",
            REJECTED => "rejected",
            _ => "pending",
        }
    }
}

#[async_trait]
impl UserOverview for Directory {
    async fn user_figures(&self) -> Result<UserFigures, ApiError> {
        let rows: Vec<(String, bool, bool)> = user::Entity::find()
            .select_only()
            .column(user::Column::ApprovalStatus)
            .column(user::Column::IsActive)
            .column(user::Column::IsBlocked)
            .filter(user::Column::Role.eq(Role::User.as_str()))
            .into_tuple()
            .all(&self.0.db)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        let mut by_status: Vec<Tally> = STATUSES
            .iter()
            .map(|s| Tally {
                key: (*s).to_owned(),
                count: 0,
                amount: 0,
            })
            .collect();
        for (approval, active, blocked) in rows {
            let key = status_of(&approval, active, blocked);
            if let Some(t) = by_status.iter_mut().find(|t| t.key == key) {
                t.count += 1;
            }
        }
        Ok(UserFigures { by_status })
    }
}

#[cfg(test)]
mod tests {
    use super::status_of;

    #[test]
    fn blocked_and_inactive_win_over_the_approval() {
        assert_eq!(status_of("APPROVED", true, true), "blocked");
        assert_eq!(status_of("APPROVED", false, false), "inactive");
        assert_eq!(status_of("PENDING_APPROVAL", true, false), "pending");
        assert_eq!(status_of("APPROVED", true, false), "approved");
        assert_eq!(status_of("REJECTED", true, false), "rejected");
    }
}
