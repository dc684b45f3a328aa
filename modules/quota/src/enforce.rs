//! Enforcement on the router: the desired state of devices and hotspot users diffed against
//! the rows read from the router, and only the differences written. Shared by the full run
//! (after its commit) and the per-user apply (after a grant or an admin change).

use std::net::Ipv4Addr;

use lpsaring_kernel::ports::router::{AddressListEntry, Snapshot};
use lpsaring_kernel::ports::users::UserFacts;
use lpsaring_kernel::{Mac, UserId};

use crate::api::{AccessStatus, SyncSummary};
use crate::core::{self, DesiredDevice, DesiredProfile, FastMap, FastSet, Fleet, RouterRows};
use crate::error::QuotaError;
use crate::service::{AccountRow, Service, fleet_of, status_input};
use crate::status;

/// Users with the status this run gave them (`statuses[i]` is `users[i]`'s), their facts and
/// their accounts (an `ok` user's package profile).
#[derive(Clone, Copy)]
pub(crate) struct UserStates<'a> {
    pub(crate) users: &'a [UserId],
    pub(crate) facts: &'a FastMap<UserId, UserFacts>,
    pub(crate) statuses: &'a [Option<AccessStatus>],
    pub(crate) accounts: &'a FastMap<UserId, AccountRow>,
}

impl<'a> UserStates<'a> {
    /// The package profile user `i` should have, when their status is `ok` and they have one.
    fn package_profile(&self, i: usize) -> Option<&'a str> {
        if self.statuses.get(i).copied().flatten() != Some(AccessStatus::Ok) {
            return None;
        }
        self.accounts.get(self.users.get(i)?)?.profile.as_deref()
    }
}

impl Service {
    /// Makes sure the package profiles `users` need exist on the router, once per name per
    /// process (the router client re-checks them after every reconnect). Names the router
    /// still lacks are not remembered: their users get the `active` profile meanwhile and
    /// the next run asks again.
    async fn ensure_package_profiles(&self, users: &UserStates<'_>) {
        let unknown: Vec<String> = {
            let ready = self
                .ready_profiles
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let mut names: Vec<&str> = (0..users.users.len())
                .filter_map(|i| users.package_profile(i))
                .filter(|p| !ready.contains(*p))
                .collect();
            names.sort_unstable();
            names.dedup();
            names.into_iter().map(str::to_owned).collect()
        };
        if unknown.is_empty() {
            return;
        }
        let missing = match self.router.ensure_profiles(&unknown).await {
            Ok(missing) => missing,
            Err(e) => {
                tracing::warn!(error = %e, profiles = ?unknown, "could not check the package profiles on the router");
                return;
            }
        };
        if !missing.is_empty() {
            tracing::warn!(profiles = ?missing, "package profiles missing on the router; their users get the active profile until they exist");
        }
        let mut ready = self
            .ready_profiles
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        ready.extend(unknown.into_iter().filter(|p| !missing.contains(p)));
    }

    /// The profile each user should have: an `ok` user's package profile when the router has
    /// it, else the profile of their status.
    fn desired_profiles<'a>(&'a self, users: &UserStates<'a>) -> Vec<DesiredProfile<'a>> {
        let ready = self
            .ready_profiles
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        users
            .users
            .iter()
            .zip(users.statuses)
            .enumerate()
            .filter_map(|(i, (user, st))| {
                let profile = match users.package_profile(i) {
                    Some(p) if ready.contains(p) => p,
                    _ => self.settings.profiles.for_status((*st)?),
                };
                Some(DesiredProfile {
                    user: *user,
                    name: users.facts.get(user)?.hotspot_name(),
                    profile,
                })
            })
            .collect()
    }

    /// Diffs the desired devices and the users' hotspot profiles against the router rows read
    /// in the snapshot, and writes only the differences. Returns (orphan rows, writes, failed).
    pub(crate) async fn enforce(
        &self,
        (fleet, desired): (&Fleet, &[Option<DesiredDevice<'_>>]),
        users: UserStates<'_>,
        rows: RouterRows<'_>,
        remove_foreign: bool,
    ) -> (usize, usize, usize) {
        let profiles = if self.settings.manage_profiles {
            self.ensure_package_profiles(&users).await;
            self.desired_profiles(&users)
        } else {
            Vec::new()
        };
        let plan = core::plan(
            fleet,
            desired,
            rows,
            &self.settings.address_lists.all(),
            &profiles,
            remove_foreign,
        );
        let orphan_rows = plan.orphan_rows;
        let (writes, errors) = self.apply_plan(plan).await;
        (orphan_rows, writes, errors)
    }

    /// Applies the plan pipelined; one user's trap is logged and counted, the rest go on.
    /// Returns (writes sent, writes failed).
    async fn apply_plan(&self, plan: core::Plan) -> (usize, usize) {
        if plan.writes.is_empty() {
            return (0, 0);
        }
        let count = plan.writes.len();
        let results = match self.router.apply(plan.writes).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, writes = count, "router writes failed; the next run retries");
                return (count, count);
            }
        };
        let mut errors = 0;
        for (i, r) in results.iter().enumerate() {
            if let Err(e) = r {
                errors += 1;
                tracing::warn!(user = ?plan.owners.get(i).copied().flatten(), error = %e, "router refused a write");
            }
        }
        (count, errors)
    }

    /// Applies one user's router state now (after a grant or an admin change), without counting
    /// usage: the next run does that.
    pub async fn apply_user(&self, user: UserId) -> Result<SyncSummary, QuotaError> {
        // Held so a run's writes and this one never interleave; baselines are not needed here.
        let _run = self.run.lock().await;
        let facts = self
            .users
            .get(user)
            .await?
            .ok_or(QuotaError::UserNotFound)?;
        let devices = self.devices.devices_of(user).await?;
        // Only this user's rows, filtered on the router: constant work however big the site.
        let macs: Vec<Mac> = devices.iter().map(|d| d.mac).collect();
        let known_ips: Vec<Ipv4Addr> = devices.iter().filter_map(|d| d.ip).collect();
        let name = facts.hotspot_name();
        let Snapshot {
            hosts,
            bindings,
            entries,
            users: hotspot_users,
        } = self
            .router
            .rows_for(
                &macs,
                &known_ips,
                self.settings.manage_profiles.then_some(name.as_str()),
            )
            .await
            .map_err(QuotaError::RouterUnavailable)?;
        let acc = self
            .load_accounts(&[user])
            .await?
            .remove(&user)
            .unwrap_or_else(AccountRow::empty);
        let st = status::resolve(
            &status_input(&facts, &acc, self.settings.fup_threshold_bytes),
            self.clock.now(),
        );
        let accounts: FastMap<UserId, AccountRow> = [(user, acc)].into_iter().collect();
        let fleet = fleet_of(&devices);
        let statuses = [Some(st)];
        let seen = core::presence(&hosts, &fleet);
        let desired = core::desired_devices(&fleet, &seen, &hosts, &statuses, &self.settings);
        // An IP the registry remembers but another host holds now is not this user's to touch.
        let ips: FastSet<Ipv4Addr> = desired.iter().flatten().filter_map(|d| d.ip).collect();
        let entries: Vec<AddressListEntry> = entries
            .into_iter()
            .filter(|e| ips.contains(&e.address))
            .collect();
        let facts_map: FastMap<UserId, UserFacts> = [(user, facts)].into_iter().collect();
        let rows = RouterRows {
            bindings: &bindings,
            entries: &entries,
            users: &hotspot_users,
        };
        // The user's profile is set even without a device (a hotspot user logs in by name).
        let users = UserStates {
            users: &[user],
            facts: &facts_map,
            statuses: &statuses,
            accounts: &accounts,
        };
        let (_, writes, errors) = self.enforce((&fleet, &desired), users, rows, false).await;
        Ok(SyncSummary {
            run_id: format!("user:{}", user.0),
            devices_matched: devices.len(),
            router_writes: writes,
            router_errors: errors,
            ..SyncSummary::default()
        })
    }
}
