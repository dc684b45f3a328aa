//! Sync runs, grants and summaries.
//!
//! Exactly-once across the two stores: a run writes its new baselines to a journal in the state
//! store, commits all SQL (accounts, daily usage, ledger, outbox, the `sync_runs` row) in one
//! transaction, then promotes the journal to baselines in one atomic batch. Before each run a
//! leftover journal is promoted if its run id is in `sync_runs` (the SQL committed) and
//! discarded otherwise. Whatever instant the process dies at, every byte is counted once.

use std::net::Ipv4Addr;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use lpsaring_devices::api::{Device, Sighting};
use lpsaring_kernel::outbox::{self, OutboxMessage};
use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::router::{AddressListEntry, RouterError, Snapshot};
use lpsaring_kernel::ports::users::{UserDirectory, UserFacts};
use lpsaring_kernel::{BatchOp, Clock, EphemeralStore, Mac, UserId};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::api::{
    AccessStatus, DailyUsage, Grant, GrantOutcome, QuotaSummary, QuotaView, SyncSummary,
    SyncTimings,
};
use crate::core::{
    self, Baseline, Baselines, DesiredDevice, DesiredProfile, FastMap, FastSet, Fleet, FleetDevice,
    Presence, RouterRows,
};
use crate::entity::{account, ledger, sync_run, usage_daily};
use crate::error::{ConfigError, QuotaError};
use crate::notify::{self, NoticeContext, NoticeFacts, NoticeMemory, Templates};
use crate::settings::QuotaSettings;
use crate::status::{self, StatusInput};

const BASELINE_PREFIX: &str = "quota:base:";
const JOURNAL_KEY: &str = "quota:journal";
/// Rows per multi-row INSERT: keeps bound parameters far below SQLite's and Postgres' limits.
const CHUNK: usize = 500;
/// A device's `last_seen_at` is refreshed at most this often (its online window is minutes).
const SIGHTING_REFRESH_SECS: i64 = 240;

pub struct Deps {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub store: Arc<dyn EphemeralStore>,
    pub router: Arc<dyn Router>,
    pub devices: Arc<lpsaring_devices::Service>,
    pub users: Arc<dyn UserDirectory>,
    pub settings: QuotaSettings,
    /// Decides local days for daily usage and dates in notices.
    pub timezone: Tz,
}

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

/// Users with the status this run gave them (`statuses[i]` is `users[i]`'s) and their facts.
#[derive(Clone, Copy)]
struct UserStates<'a> {
    users: &'a [UserId],
    facts: &'a FastMap<UserId, UserFacts>,
    statuses: &'a [Option<AccessStatus>],
}

/// What one run reads from the database about who owns which device.
struct Registry {
    /// Ordered by owner; `fleet` numbers them in this order.
    devices: Vec<Device>,
    fleet: Fleet,
    facts: FastMap<UserId, UserFacts>,
}

/// State only a sync run touches; the mutex around it is what makes runs one at a time.
#[derive(Default)]
struct RunState {
    /// Baselines as promoted; `None` = (re)load from the store.
    baselines: Option<Baselines>,
}

pub struct Service {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    store: Arc<dyn EphemeralStore>,
    router: Arc<dyn Router>,
    devices: Arc<lpsaring_devices::Service>,
    users: Arc<dyn UserDirectory>,
    settings: QuotaSettings,
    tz: Tz,
    templates: Templates,
    run: Mutex<RunState>,
    /// Held while accounts are read and written, so a grant never interleaves with a run's
    /// read-modify-write of the same rows (router I/O happens outside it).
    accounts: Mutex<()>,
}

/// The journal of a run whose SQL may or may not have committed.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    run_id: String,
    put: Vec<(String, String)>,
    delete: Vec<String>,
}

/// One user's account as a run sees it.
#[derive(Debug, Clone)]
struct AccountRow {
    purchased: i64,
    used: i64,
    unlimited: bool,
    expires_at: Option<DateTime<Utc>>,
    fup: Option<i64>,
    memory: NoticeMemory,
    exists: bool,
}

impl AccountRow {
    fn from_model(m: &account::Model) -> Self {
        Self {
            purchased: m.purchased_bytes,
            used: m.used_bytes,
            unlimited: m.unlimited,
            expires_at: m.expires_at,
            fup: m.fup_threshold_bytes,
            memory: NoticeMemory {
                low_notified: m.low_quota_notified_bytes,
                expiry_notified: m.expiry_notified_days.map(i64::from),
                last_status: m.last_status.as_deref().and_then(status::parse_status),
            },
            exists: true,
        }
    }

    fn empty() -> Self {
        Self {
            purchased: 0,
            used: 0,
            unlimited: false,
            expires_at: None,
            fup: None,
            memory: NoticeMemory::default(),
            exists: false,
        }
    }
}

fn status_input(facts: &UserFacts, acc: &AccountRow, fup_default: i64) -> StatusInput {
    StatusInput {
        blocked: facts.blocked,
        approved: facts.approved,
        active: facts.active,
        unlimited: acc.unlimited,
        purchased: acc.purchased,
        used: acc.used,
        expires_at: acc.expires_at,
        fup_threshold: acc.fup.unwrap_or(fup_default),
    }
}

fn store_err(e: lpsaring_kernel::StoreError) -> QuotaError {
    QuotaError::Store(e)
}

impl Service {
    /// The one constructor: `app`, the CLI, the benches and the tests all build the service
    /// here. Fails, naming the settings key at fault, when the message templates cannot be read
    /// or do not pass their check.
    pub fn new(deps: Deps) -> Result<Self, ConfigError> {
        let text = match &deps.settings.templates_path {
            Some(path) => std::fs::read_to_string(path).map_err(|e| ConfigError {
                key: "quota.templates_path",
                message: format!("cannot read {}: {e}", path.display()),
            })?,
            None => notify::DEFAULT_TEMPLATES.to_owned(),
        };
        let templates = Templates::parse(&text, &deps.settings.notify_lang, deps.timezone)?;
        Ok(Self {
            db: deps.db,
            clock: deps.clock,
            store: deps.store,
            router: deps.router,
            devices: deps.devices,
            users: deps.users,
            settings: deps.settings,
            tz: deps.timezone,
            templates,
            run: Mutex::new(RunState::default()),
            accounts: Mutex::new(()),
        })
    }

    pub fn settings(&self) -> &QuotaSettings {
        &self.settings
    }

    fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// Runs one sync, waiting for a run in progress to finish first.
    pub async fn sync_once(&self) -> Result<SyncSummary, QuotaError> {
        let mut state = self.run.lock().await;
        self.run_locked(&mut state).await
    }

    /// Runs one sync unless one is in progress (the periodic job skips a beat instead of queueing).
    pub async fn try_sync(&self) -> Result<Option<SyncSummary>, QuotaError> {
        let Ok(mut state) = self.run.try_lock() else {
            return Ok(None);
        };
        self.run_locked(&mut state).await.map(Some)
    }

    /// Finishes or discards a crashed run's journal: promoted when its run id is in `sync_runs`
    /// (its SQL committed), discarded otherwise. Returns what happened.
    async fn recover(&self, state: &mut RunState) -> Result<Option<String>, QuotaError> {
        let Some(raw) = self.store.get(JOURNAL_KEY).await.map_err(store_err)? else {
            return Ok(None);
        };
        state.baselines = None;
        let journal: Option<Journal> = serde_json::from_slice(&raw).ok();
        let Some(journal) = journal else {
            tracing::error!("unreadable sync journal discarded");
            self.store.delete(JOURNAL_KEY).await.map_err(store_err)?;
            return Ok(Some("discarded unreadable journal".into()));
        };
        let committed = sync_run::Entity::find_by_id(journal.run_id.clone())
            .one(&self.db)
            .await?
            .is_some_and(|r| r.status == "ok");
        if committed {
            self.promote(&journal).await?;
            tracing::info!(run_id = %journal.run_id, "promoted the journal of a committed sync run");
            Ok(Some(format!("promoted {}", journal.run_id)))
        } else {
            self.store.delete(JOURNAL_KEY).await.map_err(store_err)?;
            tracing::info!(run_id = %journal.run_id, "discarded the journal of an uncommitted sync run");
            Ok(Some(format!("discarded {}", journal.run_id)))
        }
    }

    /// Baselines ← journal, and the journal removed, in one atomic batch.
    async fn promote(&self, journal: &Journal) -> Result<(), QuotaError> {
        let mut ops = Vec::with_capacity(journal.put.len() + journal.delete.len() + 1);
        for (mac, enc) in &journal.put {
            ops.push(BatchOp::Put {
                key: format!("{BASELINE_PREFIX}{mac}"),
                value: enc.clone().into_bytes(),
                ttl: None,
            });
        }
        for mac in &journal.delete {
            ops.push(BatchOp::Delete {
                key: format!("{BASELINE_PREFIX}{mac}"),
            });
        }
        ops.push(BatchOp::Delete {
            key: JOURNAL_KEY.to_owned(),
        });
        self.store.write_batch(ops).await.map_err(store_err)
    }

    async fn load_state(&self, state: &mut RunState) -> Result<(), QuotaError> {
        if state.baselines.is_none() {
            let rows = self
                .store
                .scan_prefix(BASELINE_PREFIX)
                .await
                .map_err(store_err)?;
            let parsed = rows.into_iter().filter_map(|(key, value)| {
                let mac = key
                    .strip_prefix(BASELINE_PREFIX)
                    .and_then(|m| Mac::parse(m).ok())?;
                let base = std::str::from_utf8(&value)
                    .ok()
                    .and_then(Baseline::decode)?;
                Some((mac, base))
            });
            state.baselines = Some(Baselines::from_rows(parsed));
        }
        Ok(())
    }

    async fn record_failed_run(&self, run_id: &str, started: DateTime<Utc>, error: &RouterError) {
        let row = sync_run::ActiveModel {
            run_id: sea_orm::Set(run_id.to_owned()),
            started_at: sea_orm::Set(started),
            finished_at: sea_orm::Set(Some(self.clock.now())),
            hosts_seen: sea_orm::Set(0),
            devices_matched: sea_orm::Set(0),
            unknown_macs: sea_orm::Set(0),
            bytes_counted: sea_orm::Set(0),
            router_writes: sea_orm::Set(0),
            errors: sea_orm::Set(1),
            status: sea_orm::Set("failed".into()),
            error: sea_orm::Set(Some(error.to_string())),
        };
        if let Err(e) = sync_run::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
        {
            tracing::warn!(error = %e, "could not record the failed sync run");
        }
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

    async fn load_accounts(&self, users: &[UserId]) -> Result<FastMap<UserId, AccountRow>, DbErr> {
        let mut out = FastMap::default();
        out.reserve(users.len());
        if users.len() > CHUNK * 4 {
            // A full run wants nearly every account: one scan beats many `IN` lists.
            let wanted: FastSet<UserId> = users.iter().copied().collect();
            for m in account::Entity::find().all(&self.db).await? {
                let user = UserId(m.user_id);
                if wanted.contains(&user) {
                    out.insert(user, AccountRow::from_model(&m));
                }
            }
            return Ok(out);
        }
        for chunk in users.chunks(CHUNK * 4) {
            let rows = account::Entity::find()
                .filter(account::Column::UserId.is_in(chunk.iter().map(|u| u.0)))
                .all(&self.db)
                .await?;
            for m in rows {
                out.insert(UserId(m.user_id), AccountRow::from_model(&m));
            }
        }
        Ok(out)
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

    async fn run_locked(&self, state: &mut RunState) -> Result<SyncSummary, QuotaError> {
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
        let today = self.local_day(now);
        let low_levels = self.settings.low_levels();
        let expiry_levels = self.settings.expiry_levels();

        // 2. Accounts: read, add usage, decide status and notices, write; all under the
        //    accounts lock and, for the writes, one transaction.
        let guard = self.accounts.lock().await;
        let accounts = self.load_accounts(fleet.users()).await?;
        let mut statuses: Vec<Option<AccessStatus>> = vec![None; fleet.users().len()];
        let mut account_rows: Vec<(UserId, i64, AccountRow)> = Vec::new();
        let mut ledger_rows: Vec<(UserId, AccountRow, i64)> = Vec::new();
        let mut messages: Vec<OutboxMessage> = Vec::new();
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
            };
            for n in notices {
                if let Some(body) = self.templates.render(n, &ctx) {
                    let kind = match n {
                        notify::Notice::LowQuota { level } => format!("low:{level}"),
                        notify::Notice::ExpirySoon { days } => format!("expiry:{days}"),
                        notify::Notice::Status(s) => format!("status:{}", s.as_str()),
                    };
                    messages.push(OutboxMessage {
                        dedup_key: format!("quota:{}:{kind}:{run_id}", user.0),
                        recipient: f.phone.clone(),
                        body,
                    });
                }
            }
            if delta > 0 {
                ledger_rows.push((*user, before.clone(), delta));
            }
            if delta > 0 || !before.exists || after.memory != before.memory {
                account_rows.push((*user, delta, after));
            }
        }

        timings.accounts_ms = lap.next();
        let journal = Journal {
            run_id: run_id.clone(),
            put: usage
                .changed()
                .map(|(m, b)| (m.to_string(), b.encode()))
                .collect(),
            delete: usage.delete.iter().map(Mac::to_string).collect(),
        };
        let has_journal = !journal.put.is_empty() || !journal.delete.is_empty();
        if has_journal {
            let bytes = serde_json::to_vec(&journal).map_err(QuotaError::Journal)?;
            self.store
                .set(JOURNAL_KEY, bytes, None)
                .await
                .map_err(store_err)?;
        }

        let summary_base = SyncSummary {
            run_id: run_id.clone(),
            hosts_seen: usage.hosts_seen,
            devices_matched: usage.devices_matched,
            unknown_macs: usage.unknown_macs,
            recreated_hosts: usage.recreated,
            users_charged: usage.users_charged,
            bytes_counted: usage.bytes_counted,
            notifications_queued: messages.len(),
            recovered,
            ..SyncSummary::default()
        };
        let commit = self
            .commit_run(
                &summary_base,
                started,
                today,
                now,
                &account_rows,
                &ledger_rows,
                &messages,
            )
            .await;
        drop(guard);
        if let Err(e) = commit {
            // Nothing committed: the journal must not be promoted. Baselines stay as they were.
            state.baselines = Some(baselines);
            if has_journal && let Err(se) = self.store.delete(JOURNAL_KEY).await {
                tracing::error!(error = %se, "could not discard the journal; the next run will");
            }
            return Err(e.into());
        }

        // 3. Promote: the run is committed, its baselines become the truth.
        if has_journal {
            match self.promote(&journal).await {
                Ok(()) => state.baselines = Some(usage.next),
                Err(e) => {
                    // The journal stays; the next run's recovery promotes it.
                    tracing::error!(error = %e, "could not promote the sync journal");
                    state.baselines = None;
                }
            }
        } else {
            // Nothing changed, but the new order is the one the next snapshot will have.
            state.baselines = Some(usage.next);
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

        use sea_orm::sea_query::ExprTrait;
        let update = Query::update()
            .table("sync_runs")
            .value("finished_at", self.clock.now())
            .value("router_writes", i32::try_from(writes).unwrap_or(i32::MAX))
            .value("errors", i32::try_from(errors).unwrap_or(i32::MAX))
            .and_where(Expr::col("run_id").eq(run_id.as_str()))
            .to_owned();
        if let Err(e) = self.db.execute(&update).await {
            tracing::warn!(error = %e, "could not finish the sync_runs row");
        }
        self.record_sightings(&devices, &usage.presence, now).await;
        tracing::debug!(?summary, "sync run done");
        Ok(summary)
    }

    #[allow(clippy::too_many_arguments)]
    async fn commit_run(
        &self,
        summary: &SyncSummary,
        started: DateTime<Utc>,
        today: NaiveDate,
        now: DateTime<Utc>,
        accounts: &[(UserId, i64, AccountRow)],
        ledger_rows: &[(UserId, AccountRow, i64)],
        messages: &[OutboxMessage],
    ) -> Result<(), DbErr> {
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        for chunk in accounts.chunks(CHUNK) {
            let mut insert = Query::insert();
            insert.into_table("quota_accounts").columns([
                "user_id",
                "purchased_bytes",
                "used_bytes",
                "unlimited",
                "low_quota_notified_bytes",
                "expiry_notified_days",
                "last_status",
                "updated_at",
            ]);
            for (user, delta, after) in chunk {
                insert.values_panic([
                    user.0.into(),
                    0i64.into(),
                    (*delta).into(),
                    false.into(),
                    after.memory.low_notified.into(),
                    after
                        .memory
                        .expiry_notified
                        .and_then(|d| i32::try_from(d).ok())
                        .into(),
                    after
                        .memory
                        .last_status
                        .map(|s| s.as_str().to_owned())
                        .into(),
                    now.into(),
                ]);
            }
            insert.on_conflict(
                OnConflict::column("user_id")
                    .value(
                        "used_bytes",
                        Expr::cust("quota_accounts.used_bytes + excluded.used_bytes"),
                    )
                    .update_columns([
                        "low_quota_notified_bytes",
                        "expiry_notified_days",
                        "last_status",
                        "updated_at",
                    ])
                    .to_owned(),
            );
            txn.execute(&insert).await?;
        }
        let charged: Vec<&(UserId, i64, AccountRow)> =
            accounts.iter().filter(|(_, d, _)| *d > 0).collect();
        for chunk in charged.chunks(CHUNK) {
            let mut insert = Query::insert();
            insert
                .into_table("usage_daily")
                .columns(["user_id", "day", "bytes"]);
            for (user, delta, _) in chunk {
                insert.values_panic([user.0.into(), today.into(), (*delta).into()]);
            }
            insert.on_conflict(
                OnConflict::columns(["user_id", "day"])
                    .value("bytes", Expr::cust("usage_daily.bytes + excluded.bytes"))
                    .to_owned(),
            );
            txn.execute(&insert).await?;
        }
        for chunk in ledger_rows.chunks(CHUNK) {
            let mut insert = Query::insert();
            insert.into_table("quota_ledger").columns([
                "user_id",
                "source",
                "idempotency_key",
                "purchased_before",
                "purchased_after",
                "used_before",
                "used_after",
                "expires_before",
                "expires_after",
                "actor",
                "created_at",
            ]);
            for (user, before, delta) in chunk {
                insert.values_panic([
                    user.0.into(),
                    "sync".into(),
                    format!("sync:{}:{}", summary.run_id, user.0).into(),
                    before.purchased.into(),
                    before.purchased.into(),
                    before.used.into(),
                    before.used.saturating_add(*delta).into(),
                    before.expires_at.into(),
                    before.expires_at.into(),
                    "sync".into(),
                    now.into(),
                ]);
            }
            txn.execute(&insert).await?;
        }
        outbox::enqueue_many(&txn, messages, now).await?;
        let run = sync_run::ActiveModel {
            run_id: sea_orm::Set(summary.run_id.clone()),
            started_at: sea_orm::Set(started),
            finished_at: sea_orm::Set(None),
            hosts_seen: sea_orm::Set(clamp(summary.hosts_seen)),
            devices_matched: sea_orm::Set(clamp(summary.devices_matched)),
            unknown_macs: sea_orm::Set(clamp(summary.unknown_macs)),
            bytes_counted: sea_orm::Set(summary.bytes_counted),
            router_writes: sea_orm::Set(0),
            errors: sea_orm::Set(0),
            status: sea_orm::Set("ok".into()),
            error: sea_orm::Set(None),
        };
        sync_run::Entity::insert(run)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await
    }

    /// The profile each user's status wants; `statuses[i]` is `users[i]`'s.
    fn desired_profiles<'a>(
        &'a self,
        users: &[UserId],
        facts: &FastMap<UserId, UserFacts>,
        statuses: &[Option<AccessStatus>],
    ) -> Vec<DesiredProfile<'a>> {
        if !self.settings.manage_profiles {
            return Vec::new();
        }
        users
            .iter()
            .zip(statuses)
            .filter_map(|(user, st)| {
                Some(DesiredProfile {
                    user: *user,
                    name: facts.get(user)?.phone.local_form(),
                    profile: self.settings.profiles.for_status((*st)?),
                })
            })
            .collect()
    }

    /// Diffs the desired devices and the users' hotspot profiles against the router rows read
    /// in the snapshot, and writes only the differences. Returns (orphan rows, writes, failed).
    async fn enforce(
        &self,
        (fleet, desired): (&Fleet, &[Option<DesiredDevice<'_>>]),
        users: UserStates<'_>,
        rows: RouterRows<'_>,
        remove_foreign: bool,
    ) -> (usize, usize, usize) {
        let profiles = self.desired_profiles(users.users, users.facts, users.statuses);
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
        let name = facts.phone.local_form();
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

    /// Deletes per-run history older than `history_retention_days`: sync ledger rows and
    /// `sync_runs`. Purchases, admin grants, daily usage and accounts are never touched. Deletes in
    /// batches so SQLite's one writer is never held for long. Returns (ledger rows, runs) deleted.
    pub async fn purge_history(&self) -> Result<(u64, u64), DbErr> {
        use sea_orm::sea_query::ExprTrait;
        let days = self.settings.history_retention_days;
        if days == 0 {
            return Ok((0, 0));
        }
        let cutoff = self.clock.now() - Duration::days(i64::from(days));
        let ledger_rows = self
            .delete_in_batches("quota_ledger", "id", |q| {
                q.and_where(Expr::col("source").eq("sync"))
                    .and_where(Expr::col("created_at").lt(cutoff));
            })
            .await?;
        let runs = self
            .delete_in_batches("sync_runs", "run_id", |q| {
                q.and_where(Expr::col("started_at").lt(cutoff));
            })
            .await?;
        Ok((ledger_rows, runs))
    }

    async fn delete_in_batches(
        &self,
        table: &'static str,
        key: &'static str,
        filter: impl Fn(&mut sea_orm::sea_query::SelectStatement),
    ) -> Result<u64, DbErr> {
        use sea_orm::sea_query::ExprTrait;
        const BATCH: u64 = 5_000;
        let mut deleted = 0;
        loop {
            let mut pick = Query::select();
            pick.column(key).from(table).limit(BATCH);
            filter(&mut pick);
            let stmt = Query::delete()
                .from_table(table)
                .and_where(Expr::col(key).in_subquery(pick))
                .to_owned();
            let n = self.db.execute(&stmt).await?.rows_affected();
            deleted += n;
            if n < BATCH {
                return Ok(deleted);
            }
        }
    }

    /// Adds bytes and/or validity exactly once per idempotency key (a ledger row), and re-arms
    /// the notices. Does not touch the router: see [`Service::grant_and_apply`].
    pub async fn grant(&self, grant: &Grant) -> Result<GrantOutcome, QuotaError> {
        if grant.bytes < 0 || grant.days < 0 {
            return Err(QuotaError::InvalidGrant(
                "bytes and days must not be negative".into(),
            ));
        }
        if grant.bytes == 0 && grant.days == 0 && !grant.unlimited {
            return Err(QuotaError::InvalidGrant("nothing to grant".into()));
        }
        let key = grant.idempotency_key.trim();
        if key.is_empty() || key.len() > 100 || key.starts_with("sync:") {
            return Err(QuotaError::InvalidGrant(
                "idempotency key must be 1 to 100 characters and not start with `sync:`".into(),
            ));
        }
        let facts = self
            .users
            .get(grant.user)
            .await?
            .ok_or(QuotaError::UserNotFound)?;
        let now = self.clock.now();
        let guard = self.accounts.lock().await;
        let txn = lpsaring_kernel::sql::begin_write(&self.db).await?;
        let done = ledger::Entity::find()
            .filter(ledger::Column::IdempotencyKey.eq(key))
            .one(&txn)
            .await?;
        if done.is_some() {
            txn.rollback().await?;
            drop(guard);
            return Ok(GrantOutcome {
                applied: false,
                summary: self.summary_for(&facts).await?,
            });
        }
        let before = account::Entity::find_by_id(grant.user.0)
            .one(&txn)
            .await?
            .map(|m| AccountRow::from_model(&m))
            .unwrap_or_else(AccountRow::empty);
        let purchased = before.purchased.saturating_add(grant.bytes);
        let expires = if grant.days > 0 {
            Some(now + Duration::days(grant.days))
        } else {
            before.expires_at
        };
        let unlimited = before.unlimited || grant.unlimited;
        use sea_orm::sea_query::ExprTrait;
        let mut insert = Query::insert();
        insert
            .into_table("quota_accounts")
            .columns([
                "user_id",
                "purchased_bytes",
                "used_bytes",
                "unlimited",
                "expires_at",
                "low_quota_notified_bytes",
                "expiry_notified_days",
                "updated_at",
            ])
            .values_panic([
                grant.user.0.into(),
                purchased.into(),
                0i64.into(),
                unlimited.into(),
                expires.into(),
                Option::<i64>::None.into(),
                Option::<i32>::None.into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::column("user_id")
                    .value(
                        "purchased_bytes",
                        // A typed expression: `cust_with_values`' `?` placeholder is not
                        // rewritten to `$n` for Postgres.
                        Expr::col(("quota_accounts", "purchased_bytes")).add(grant.bytes),
                    )
                    .update_columns([
                        "unlimited",
                        "expires_at",
                        "low_quota_notified_bytes",
                        "expiry_notified_days",
                        "updated_at",
                    ])
                    .to_owned(),
            );
        txn.execute(&insert).await?;
        let row = ledger::ActiveModel {
            id: sea_orm::NotSet,
            user_id: sea_orm::Set(grant.user.0),
            source: sea_orm::Set(grant.source.as_str().to_owned()),
            idempotency_key: sea_orm::Set(key.to_owned()),
            purchased_before: sea_orm::Set(before.purchased),
            purchased_after: sea_orm::Set(purchased),
            used_before: sea_orm::Set(before.used),
            used_after: sea_orm::Set(before.used),
            expires_before: sea_orm::Set(before.expires_at),
            expires_after: sea_orm::Set(expires),
            actor: sea_orm::Set(Some(grant.actor.chars().take(100).collect())),
            note: sea_orm::Set(grant.note.clone()),
            created_at: sea_orm::Set(now),
        };
        let inserted = ledger::Entity::insert(row)
            .exec_without_returning(&txn)
            .await;
        if let Err(e) = inserted {
            // A concurrent grant with the same key won the unique index: that one applied.
            txn.rollback().await?;
            drop(guard);
            let exists = ledger::Entity::find()
                .filter(ledger::Column::IdempotencyKey.eq(key))
                .one(&self.db)
                .await?
                .is_some();
            if exists {
                return Ok(GrantOutcome {
                    applied: false,
                    summary: self.summary_for(&facts).await?,
                });
            }
            return Err(e.into());
        }
        txn.commit().await?;
        drop(guard);
        Ok(GrantOutcome {
            applied: true,
            summary: self.summary_for(&facts).await?,
        })
    }

    /// [`Service::grant`], then the user's router state applied at once (best effort: when the
    /// router is down the next sync enforces it).
    pub async fn grant_and_apply(&self, grant: &Grant) -> Result<GrantOutcome, QuotaError> {
        let outcome = self.grant(grant).await?;
        if let Err(e) = self.apply_user(grant.user).await {
            tracing::warn!(user = grant.user.0, error = %e, "granted, but the router update waits for the next sync");
        }
        Ok(outcome)
    }

    async fn summary_for(&self, facts: &UserFacts) -> Result<QuotaSummary, QuotaError> {
        let acc = account::Entity::find_by_id(facts.id.0)
            .one(&self.db)
            .await?
            .map(|m| AccountRow::from_model(&m))
            .unwrap_or_else(AccountRow::empty);
        let st = status::resolve(
            &status_input(facts, &acc, self.settings.fup_threshold_bytes),
            self.clock.now(),
        );
        Ok(QuotaSummary {
            user_id: facts.id,
            purchased_bytes: acc.purchased,
            used_bytes: acc.used,
            remaining_bytes: status::remaining(acc.purchased, acc.used),
            unlimited: acc.unlimited,
            status: st,
            expires_at: acc.expires_at,
        })
    }

    /// The user's access status now (the `AccessPolicy` port).
    pub async fn status_for(&self, facts: &UserFacts) -> Result<AccessStatus, QuotaError> {
        Ok(self.summary_for(facts).await?.status)
    }

    /// The user's quota now.
    pub async fn show(&self, user: UserId) -> Result<QuotaSummary, QuotaError> {
        let facts = self
            .users
            .get(user)
            .await?
            .ok_or(QuotaError::UserNotFound)?;
        self.summary_for(&facts).await
    }

    /// The user's quota and daily usage over the last 30 local days (oldest first).
    pub async fn view(&self, user: UserId) -> Result<QuotaView, QuotaError> {
        let summary = self.show(user).await?;
        let daily = self.daily(user, 30).await?;
        Ok(QuotaView { summary, daily })
    }

    pub async fn daily(&self, user: UserId, days: i64) -> Result<Vec<DailyUsage>, QuotaError> {
        let today = self.local_day(self.clock.now());
        let first = today - Duration::days(days.max(1) - 1);
        let rows = usage_daily::Entity::find()
            .filter(usage_daily::Column::UserId.eq(user.0))
            .filter(usage_daily::Column::Day.gte(first))
            .order_by_asc(usage_daily::Column::Day)
            .all(&self.db)
            .await?;
        let by_day: FastMap<NaiveDate, i64> = rows.into_iter().map(|r| (r.day, r.bytes)).collect();
        Ok(first
            .iter_days()
            .take_while(|d| *d <= today)
            .map(|day| DailyUsage {
                day,
                bytes: by_day.get(&day).copied().unwrap_or(0),
            })
            .collect())
    }

    /// Sum of `used_bytes` over every account (the crash test's ground truth check).
    pub async fn total_used(&self) -> Result<i64, QuotaError> {
        let rows = account::Entity::find().all(&self.db).await?;
        Ok(rows.iter().map(|r| r.used_bytes).sum())
    }
}

/// The run's view of the registry: devices numbered in the order they were read.
fn fleet_of(devices: &[Device]) -> Fleet {
    Fleet::new(devices.iter().map(|d| FleetDevice {
        user: d.user_id,
        mac: d.mac,
        ip: d.ip,
    }))
}

fn clamp(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
