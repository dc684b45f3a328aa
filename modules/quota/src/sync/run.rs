//! One sync run, step by step: recover, snapshot the router and read the registry, count,
//! charge the accounts, journal, commit, promote, enforce, record sightings.

use chrono::{DateTime, Duration, Utc};
use lpsaring_devices::api::{Device, Sighting};
use lpsaring_kernel::UserId;
use lpsaring_kernel::outbox::OutboxMessage;
use lpsaring_kernel::ports::router::{RouterError, Snapshot};
use lpsaring_kernel::ports::users::UserFacts;

use super::RunState;
use super::commit::{Charges, RunCommit};
use super::journal::Journal;
use crate::api::{AccessStatus, SyncSummary, SyncTimings};
use crate::core::{self, FastMap, Fleet, Presence, RouterRows, Usage};
use crate::enforce::UserStates;
use crate::error::QuotaError;
use crate::notify::{self, NoticeContext, NoticeFacts};
use crate::service::{AccountRow, Service, fleet_of, status_input};
use crate::status;

/// A device's `last_seen_at` is refreshed at most this often (its online window is minutes).
const SIGHTING_REFRESH_SECS: i64 = 240;

/// Milliseconds per phase, from a monotonic clock (durations only; dates come from `Clock`).
struct Lap {
    first: std::time::Instant,
    last: std::time::Instant,
}

impl Lap {
    fn start() -> Self {
        let now = std::time::Instant::now();
        Self {
            first: now,
            last: now,
        }
    }

    /// Milliseconds since the previous lap.
    fn next(&mut self) -> u64 {
        let now = std::time::Instant::now();
        let ms = now.duration_since(self.last).as_millis();
        self.last = now;
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    fn total(&self) -> u64 {
        u64::try_from(self.first.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// What one run reads from the database about who owns which device.
struct Registry {
    /// Ordered by owner; `fleet` numbers them in this order.
    devices: Vec<Device>,
    fleet: Fleet,
    facts: FastMap<UserId, UserFacts>,
}

impl Service {
    pub(super) async fn run_locked(&self, state: &mut RunState) -> Result<SyncSummary, QuotaError> {
        let recovered = self.recover(state).await?;
        self.load_state(state).await?;
        let run_id = uuid::Uuid::new_v4().to_string();
        let started = self.clock.now();
        let mut lap = Lap::start();
        let mut timings = SyncTimings::default();

        // 1. One snapshot of the router, while the registry (devices, users) is read from the
        //    database alongside. Router unreachable: nothing is counted or changed, and the
        //    baselines stay, so the next good run counts everything since the last one.
        let (snapshot, registry) = tokio::join!(self.snapshot(), self.registry());
        let Snapshot {
            hosts,
            bindings,
            entries,
            users: hotspot_users,
        } = match snapshot {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "sync run failed: router unavailable");
                self.record_failed_run(&run_id, started, &e).await;
                return Err(QuotaError::RouterUnavailable(e));
            }
        };
        let Registry {
            devices,
            fleet,
            facts,
        } = registry?;
        timings.snapshot_ms = lap.next();
        let baselines = state.baselines.take().unwrap_or_default();
        let usage = core::usage(&hosts, &fleet, &baselines);
        let now = self.clock.now();

        // 2. Accounts: read, add usage, decide status and notices, write; all under the
        //    accounts lock and, for the writes, one transaction.
        let guard = self.accounts.lock().await;
        let accounts = self.load_accounts(fleet.users()).await?;
        let (statuses, charges) = self.charge(&run_id, &fleet, &facts, &usage, &accounts, now);
        timings.accounts_ms = lap.next();
        let journal = Journal::of(&run_id, &usage);
        self.write_journal(&journal).await?;
        let summary_base = SyncSummary {
            run_id: run_id.clone(),
            hosts_seen: usage.hosts_seen,
            devices_matched: usage.devices_matched,
            unknown_macs: usage.unknown_macs,
            recreated_hosts: usage.recreated,
            users_charged: usage.users_charged,
            bytes_counted: usage.bytes_counted,
            notifications_queued: charges.messages.len(),
            recovered,
            ..SyncSummary::default()
        };
        let commit = self
            .commit_run(&RunCommit {
                summary: &summary_base,
                started,
                today: self.local_day(now),
                now,
                charges: &charges,
            })
            .await;
        drop(guard);
        if let Err(e) = commit {
            // Nothing committed: the journal must not be promoted. Baselines stay as they were.
            state.baselines = Some(baselines);
            self.discard_journal(&journal).await;
            return Err(e.into());
        }

        // 3. Promote: the run is committed, its baselines become the truth.
        if journal.is_empty() {
            // Nothing changed, but the new order is the one the next snapshot will have.
            state.baselines = Some(usage.next);
        } else {
            match self.promote(&journal).await {
                Ok(()) => state.baselines = Some(usage.next),
                Err(e) => {
                    // The journal stays; the next run's recovery promotes it.
                    tracing::error!(error = %e, "could not promote the sync journal");
                    state.baselines = None;
                }
            }
        }
        timings.commit_ms = lap.next();

        // 4. Enforce: diff against the rows read at the start, write only the differences.
        let mut summary = summary_base;
        let desired =
            core::desired_devices(&fleet, &usage.presence, &hosts, &statuses, &self.settings);
        let rows = RouterRows {
            bindings: &bindings,
            entries: &entries,
            users: &hotspot_users,
        };
        let (orphan_rows, writes, errors) = self
            .enforce(
                (&fleet, &desired),
                UserStates {
                    users: fleet.users(),
                    facts: &facts,
                    statuses: &statuses,
                    accounts: &accounts,
                },
                rows,
                self.settings.remove_foreign_rows,
            )
            .await;
        summary.orphan_rows = orphan_rows;
        timings.enforce_ms = lap.next();
        timings.total_ms = lap.total();
        summary.timings = timings;
        summary.router_writes = writes;
        summary.router_errors = errors;
        self.finish_run(&run_id, writes, errors).await;
        self.record_sightings(&devices, &usage.presence, now).await;
        tracing::debug!(?summary, "sync run done");
        Ok(summary)
    }

    /// Adds each owner's bytes to their account and decides their status and the notices it
    /// is due. Returns the statuses (by position in `fleet.users()`) and what to commit.
    fn charge(
        &self,
        run_id: &str,
        fleet: &Fleet,
        facts: &FastMap<UserId, UserFacts>,
        usage: &Usage,
        accounts: &FastMap<UserId, AccountRow>,
        now: DateTime<Utc>,
    ) -> (Vec<Option<AccessStatus>>, Charges) {
        let low_levels = self.settings.low_levels();
        let expiry_levels = self.settings.expiry_levels();
        let mut statuses: Vec<Option<AccessStatus>> = vec![None; fleet.users().len()];
        let mut out = Charges::default();
        for (ui, user) in fleet.users().iter().enumerate() {
            let Some(f) = facts.get(user) else { continue };
            let before = accounts
                .get(user)
                .cloned()
                .unwrap_or_else(AccountRow::empty);
            let delta = usage.per_user[ui];
            let mut after = before.clone();
            after.used = after.used.saturating_add(delta);
            let st = status::resolve(
                &status_input(f, &after, self.settings.fup_threshold_bytes),
                now,
            );
            statuses[ui] = Some(st);
            let remaining = status::remaining(after.purchased, after.used);
            let (notices, memory) = notify::due(
                &NoticeFacts {
                    status: st,
                    purchased: after.purchased,
                    remaining,
                    expires_at: after.expires_at,
                    now,
                },
                before.memory,
                &low_levels,
                &expiry_levels,
            );
            after.memory = memory;
            let ctx = NoticeContext {
                name: &f.name,
                purchased: after.purchased,
                used: after.used,
                remaining,
                expires_at: after.expires_at,
                lang: f.language,
            };
            // A voucher account without a phone has nowhere to be told: no message, no error.
            if let Some(recipient) = &f.phone {
                for n in notices {
                    if let Some(body) = self.templates.render(n, &ctx) {
                        let kind = match n {
                            notify::Notice::LowQuota { level } => format!("low:{level}"),
                            notify::Notice::ExpirySoon { days } => format!("expiry:{days}"),
                            notify::Notice::Status(s) => format!("status:{}", s.as_str()),
                        };
                        out.messages.push(OutboxMessage {
                            dedup_key: format!("quota:{}:{kind}:{run_id}", user.0),
                            recipient: recipient.clone(),
                            body,
                        });
                    }
                }
            }
            if delta > 0 {
                out.ledger.push((*user, before.clone(), delta));
            }
            if delta > 0 || !before.exists || after.memory != before.memory {
                out.accounts.push((*user, delta, after));
            }
        }
        (statuses, out)
    }

    /// The router's rows, the four prints pipelined on the one connection.
    async fn snapshot(&self) -> Result<Snapshot, RouterError> {
        let users = async {
            if self.settings.manage_profiles {
                self.router.hotspot_users().await
            } else {
                Ok(Vec::new())
            }
        };
        let (hosts, bindings, entries, users) = tokio::try_join!(
            self.router.hosts(),
            self.router.ip_bindings(),
            self.router.address_list(),
            users
        )?;
        Ok(Snapshot {
            hosts,
            bindings,
            entries,
            users,
        })
    }

    /// Every registered device and the facts of their owners.
    async fn registry(&self) -> Result<Registry, QuotaError> {
        let devices = self.devices.all().await?;
        let fleet = fleet_of(&devices);
        let facts = self
            .users
            .many(fleet.users())
            .await?
            .into_iter()
            .map(|f| (f.id, f))
            .collect();
        Ok(Registry {
            devices,
            fleet,
            facts,
        })
    }

    async fn record_sightings(
        &self,
        devices: &[Device],
        presence: &[Presence],
        now: DateTime<Utc>,
    ) {
        let stale = now - Duration::seconds(SIGHTING_REFRESH_SECS);
        let sightings: Vec<Sighting> = devices
            .iter()
            .zip(presence)
            .filter_map(|(d, seen)| {
                let Presence::Online { ip, .. } = *seen else {
                    return None;
                };
                (d.last_seen_at < stale || (ip.is_some() && ip != d.ip)).then_some(Sighting {
                    mac: d.mac,
                    ip,
                    at: now,
                })
            })
            .collect();
        if !sightings.is_empty()
            && let Err(e) = self.devices.record_sightings(&sightings).await
        {
            tracing::warn!(error = %e, "could not record device sightings");
        }
    }
}
