//! The hotspot user profiles the portal assigns ([`Router::require_profiles`]): checked by the
//! supervisor on every new connection (at start and after each reconnect, since a reset router
//! loses them), created with our comment when allowed, reported otherwise.
//!
//! [`Router::require_profiles`]: lpsaring_kernel::ports::Router::require_profiles

use lpsaring_kernel::ports::router::{OwnedComment, ProfileCheck, RouterError};

use crate::client::{Cmd, Link, lock};

pub(crate) const PROFILE_MENU: &str = "/ip/hotspot/user/profile";

/// [`Router::require_profiles`](lpsaring_kernel::ports::Router::require_profiles) state.
#[derive(Debug, Default)]
pub(crate) struct Profiles {
    required: Vec<String>,
    create: bool,
    /// The connection generation the last check ran on (0: none yet).
    checked_on: u64,
    last: ProfileCheck,
}

impl Link {
    /// See [`Router::require_profiles`](lpsaring_kernel::ports::Router::require_profiles).
    pub(crate) fn require_profiles(&self, mut names: Vec<String>, create: bool) {
        names.retain(|n| !n.trim().is_empty());
        names.sort_unstable();
        names.dedup();
        *lock(&self.profiles) = Profiles {
            required: names,
            create,
            ..Profiles::default()
        };
        // The supervisor checks at once when connected, else right after it connects.
        self.lost.notify_one();
    }

    pub(crate) fn profile_check(&self) -> ProfileCheck {
        lock(&self.profiles).last.clone()
    }

    /// Checks the required profiles on connection `generation` unless that was done: creates
    /// the missing ones (when allowed) with our comment, never touching an existing profile,
    /// and records and logs what is still missing. A connectivity failure leaves the check to
    /// the next connection.
    pub(crate) async fn check_profiles(&self, generation: u64) {
        let (required, create) = {
            let p = lock(&self.profiles);
            if p.required.is_empty() || p.checked_on == generation {
                return;
            }
            (p.required.clone(), p.create)
        };
        let check = match self.create_missing(&required, create).await {
            Ok(check) => check,
            Err(error) => {
                tracing::warn!(%error, "could not check the router's hotspot user profiles");
                if !error.is_connectivity() {
                    lock(&self.profiles).checked_on = generation;
                }
                return;
            }
        };
        if !check.missing.is_empty() {
            tracing::warn!(
                profiles = ?check.missing,
                create,
                "hotspot user profiles the portal assigns are missing on the router; logins of \
                 those statuses get the `default` profile until they exist (quota.manage_profiles \
                 creates them)"
            );
        }
        let mut p = lock(&self.profiles);
        if p.required == required {
            p.checked_on = generation;
            p.last = check;
        }
    }

    /// See [`Router::ensure_profiles`](lpsaring_kernel::ports::Router::ensure_profiles): the
    /// names join the required ones (re-checked after every reconnect) and are checked now.
    pub(crate) async fn ensure_profiles(
        &self,
        names: &[String],
    ) -> Result<Vec<String>, RouterError> {
        let create = {
            let mut p = lock(&self.profiles);
            for name in names {
                if !name.trim().is_empty() && !p.required.contains(name) {
                    p.required.push(name.clone());
                }
            }
            p.required.sort_unstable();
            p.create
        };
        Ok(self.create_missing(names, create).await?.missing)
    }

    /// Reads the router's profiles and, with `create`, adds those of `required` it lacks (with
    /// our comment; an existing profile is never touched). Says what was created and what is
    /// still missing.
    async fn create_missing(
        &self,
        required: &[String],
        create: bool,
    ) -> Result<ProfileCheck, RouterError> {
        let print = Cmd::new(&format!("{PROFILE_MENU}/print")).proplist(&["name"]);
        let rows = self.run(&print).await?;
        let missing: Vec<String> = required
            .iter()
            .filter(|name| !rows.iter().any(|r| r.get("name") == Some(*name)))
            .cloned()
            .collect();
        let mut check = ProfileCheck {
            checked: true,
            missing: Vec::new(),
            created: Vec::new(),
        };
        if !create || missing.is_empty() {
            check.missing = missing;
            return Ok(check);
        }
        let comment = OwnedComment::default()
            .with("kind", "status-profile")
            .render();
        let adds: Vec<Cmd> = missing
            .iter()
            .map(|name| {
                Cmd::new(&format!("{PROFILE_MENU}/add"))
                    .attr("name", name.clone())
                    .attr("comment", comment.clone())
            })
            .collect();
        let results = self.run_many(&adds).await?;
        for (name, result) in missing.into_iter().zip(results) {
            match result {
                Ok(_) => check.created.push(name),
                Err(error) => {
                    tracing::warn!(profile = %name, %error, "could not create a hotspot user profile");
                    check.missing.push(name);
                }
            }
        }
        if !check.created.is_empty() {
            tracing::info!(profiles = ?check.created, "created the missing hotspot user profiles");
        }
        Ok(check)
    }
}
