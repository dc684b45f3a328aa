//! What an access token still stands for. For an admin token (or any token on an admin route)
//! the users table decides, on every request: a role change, block or deletion holds at once, not
//! when the token expires. An admin session ends after [`ADMIN_IDLE`] without a request
//! (sliding): its last request time is kept per session (refresh-token family) in the ephemeral
//! store, read against the `Clock`.

use std::time::Duration as StdDuration;

use chrono::Duration;
use lpsaring_kernel::UserId;
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::web::TokenProblem;

use super::service::{Sessions, reason};
use crate::error::AuthError;

/// An admin session unused this long is over.
pub const ADMIN_IDLE: StdDuration = StdDuration::from_secs(8 * 60 * 60);
/// The last-seen mark is rewritten at most this often (not on every request).
const TOUCH_EVERY_SECS: i64 = 60;

fn seen_key(family: &str) -> String {
    format!("auth:admin_seen:{family}")
}

/// What a token may do on this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// Acts with `role`; `enrol_first` when `admin.require_totp` wants a second factor first.
    Acts { role: Role, enrol_first: bool },
    /// Not a session any more.
    Gone(TokenProblem),
}

impl Sessions {
    /// Starts (or restarts) the idle clock of admin session `family`.
    pub(super) async fn mark_admin_active(&self, family: &str) -> Result<(), AuthError> {
        let now = self.clock.now().timestamp();
        self.store
            .set(
                &seen_key(family),
                now.to_be_bytes().to_vec(),
                Some(ADMIN_IDLE),
            )
            .await?;
        Ok(())
    }

    /// Whether admin session `family` was used within [`ADMIN_IDLE`]; slides the window.
    async fn admin_session_alive(&self, family: &str) -> Result<bool, AuthError> {
        if family.is_empty() {
            return Ok(false);
        }
        let Some(bytes) = self.store.get(&seen_key(family)).await? else {
            return Ok(false);
        };
        let Ok(raw) = <[u8; 8]>::try_from(bytes.as_slice()) else {
            return Ok(false);
        };
        let last = i64::from_be_bytes(raw);
        let now = self.clock.now().timestamp();
        let idle = Duration::from_std(ADMIN_IDLE).unwrap_or_else(|_| Duration::hours(8));
        if now - last > idle.num_seconds() {
            return Ok(false);
        }
        if now - last >= TOUCH_EVERY_SECS {
            self.mark_admin_active(family).await?;
        }
        Ok(true)
    }

    /// What the token of `user` (minted with `token_role` in session `family`) may do now.
    /// Plain users' tokens off the admin routes are taken as they are (no lookup).
    pub(super) async fn standing(
        &self,
        user: UserId,
        token_role: Role,
        family: &str,
        admin_route: bool,
    ) -> Result<Standing, AuthError> {
        if !token_role.is_admin() && !admin_route {
            return Ok(Standing::Acts {
                role: token_role,
                enrol_first: false,
            });
        }
        let Some(facts) = self.users.get(user).await? else {
            return Ok(Standing::Gone(TokenProblem::Invalid));
        };
        if facts.blocked || !facts.active {
            // An admin's token stops at once; a plain user's on an admin route is refused there
            // as any plain user's is (its own routes keep their rules).
            return Ok(if token_role.is_admin() {
                Standing::Gone(TokenProblem::Invalid)
            } else {
                Standing::Acts {
                    role: Role::User,
                    enrol_first: false,
                }
            });
        }
        if !facts.role.is_admin() {
            return Ok(Standing::Acts {
                role: facts.role,
                enrol_first: false,
            });
        }
        if self.admin_session_alive(family).await? {
            return Ok(Standing::Acts {
                role: facts.role,
                enrol_first: self.totp_enrolment_required(&facts).await?,
            });
        }
        if token_role.is_admin() {
            // Idle too long: the whole session ends (its refresh token too).
            if !family.is_empty() {
                self.revoke_family(family, reason::IDLE, self.clock.now())
                    .await?;
            }
            return Ok(Standing::Gone(TokenProblem::Expired));
        }
        // A session begun before a promotion stays a plain user's until an admin login.
        Ok(Standing::Acts {
            role: Role::User,
            enrol_first: false,
        })
    }
}
