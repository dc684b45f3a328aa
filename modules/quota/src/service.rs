//! The quota service: what it is built from ([`Deps`]), its one constructor, and the reads
//! (summary, status, daily usage). The rest of its methods live beside it, one room each:
//! sync runs in [`crate::sync`], router enforcement in [`crate::enforce`], grants in
//! [`crate::grant`], history retention in [`crate::retention`], the periodic job in
//! [`crate::jobs`].

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use lpsaring_devices::api::Device;
use lpsaring_kernel::ports::Router;
use lpsaring_kernel::ports::users::{UserDirectory, UserFacts};
use lpsaring_kernel::{Clock, EphemeralStore, UserId};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::Mutex;

use crate::api::{AccessStatus, DailyUsage, LedgerEntry, QuotaHistory, QuotaSummary, QuotaView};
use crate::core::{FastMap, FastSet, Fleet, FleetDevice};
use crate::entity::{account, ledger, usage_daily};
use crate::error::{ConfigError, QuotaError};
use crate::notify::{self, NoticeMemory, Templates};
use crate::period::Period;
use crate::settings::QuotaSettings;
use crate::status::{self, StatusInput};
use crate::sync::RunState;

/// Rows per multi-row INSERT: keeps bound parameters far below SQLite's and Postgres' limits.
pub(crate) const CHUNK: usize = 500;

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

pub struct Service {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) store: Arc<dyn EphemeralStore>,
    pub(crate) router: Arc<dyn Router>,
    pub(crate) devices: Arc<lpsaring_devices::Service>,
    pub(crate) users: Arc<dyn UserDirectory>,
    pub(crate) settings: QuotaSettings,
    tz: Tz,
    pub(crate) templates: Templates,
    /// State only a sync run touches; holding it is what makes runs one at a time.
    pub(crate) run: Mutex<RunState>,
    /// Held while accounts are read and written, so a grant never interleaves with a run's
    /// read-modify-write of the same rows (router I/O happens outside it).
    pub(crate) accounts: Mutex<()>,
    /// Package profiles known to exist on the router (see `enforce`).
    pub(crate) ready_profiles: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// One user's account as a run sees it.
#[derive(Debug, Clone)]
pub(crate) struct AccountRow {
    pub(crate) purchased: i64,
    pub(crate) used: i64,
    pub(crate) unlimited: bool,
    pub(crate) unlimited_until: Option<DateTime<Utc>>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    /// The latest purchase's hotspot profile.
    pub(crate) profile: Option<String>,
    pub(crate) fup: Option<i64>,
    pub(crate) memory: NoticeMemory,
    pub(crate) exists: bool,
}

impl AccountRow {
    pub(crate) fn from_model(m: &account::Model) -> Self {
        Self {
            purchased: m.purchased_bytes,
            used: m.used_bytes,
            unlimited: m.unlimited,
            unlimited_until: m.unlimited_until,
            expires_at: m.expires_at,
            profile: m.profile.clone(),
            fup: m.fup_threshold_bytes,
            memory: NoticeMemory {
                low_notified: m.low_quota_notified_bytes,
                expiry_notified: m.expiry_notified_days.map(i64::from),
                last_status: m.last_status.as_deref().and_then(status::parse_status),
            },
            exists: true,
        }
    }

    pub(crate) fn empty() -> Self {
        Self {
            purchased: 0,
            used: 0,
            unlimited: false,
            unlimited_until: None,
            expires_at: None,
            profile: None,
            fup: None,
            memory: NoticeMemory::default(),
            exists: false,
        }
    }

    pub(crate) fn period(&self) -> Period {
        Period {
            expires_at: self.expires_at,
            unlimited: self.unlimited,
            unlimited_until: self.unlimited_until,
        }
    }
}

pub(crate) fn status_input(facts: &UserFacts, acc: &AccountRow, fup_default: i64) -> StatusInput {
    StatusInput {
        blocked: facts.blocked,
        approved: facts.approved,
        active: facts.active,
        unlimited: acc.unlimited,
        unlimited_until: acc.unlimited_until,
        purchased: acc.purchased,
        used: acc.used,
        expires_at: acc.expires_at,
        fup_threshold: acc.fup.unwrap_or(fup_default),
    }
}

/// The run's view of the registry: devices numbered in the order they were read.
pub(crate) fn fleet_of(devices: &[Device]) -> Fleet {
    Fleet::new(devices.iter().map(|d| FleetDevice {
        user: d.user_id,
        mac: d.mac,
        ip: d.ip,
    }))
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
            ready_profiles: std::sync::Mutex::default(),
        })
    }

    pub fn settings(&self) -> &QuotaSettings {
        &self.settings
    }

    pub(crate) fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    pub(crate) async fn load_accounts(
        &self,
        users: &[UserId],
    ) -> Result<FastMap<UserId, AccountRow>, DbErr> {
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

    pub(crate) async fn summary_for(&self, facts: &UserFacts) -> Result<QuotaSummary, QuotaError> {
        let acc = account::Entity::find_by_id(facts.id.0)
            .one(&self.db)
            .await?
            .map(|m| AccountRow::from_model(&m))
            .unwrap_or_else(AccountRow::empty);
        let now = self.clock.now();
        let st = status::resolve(
            &status_input(facts, &acc, self.settings.fup_threshold_bytes),
            now,
        );
        let period = acc.period();
        Ok(QuotaSummary {
            user_id: facts.id,
            purchased_bytes: acc.purchased,
            used_bytes: acc.used,
            remaining_bytes: status::remaining(acc.purchased, acc.used),
            unlimited: period.unlimited_at(now),
            status: st,
            expires_at: acc.expires_at,
            unlimited_until: period.running_unlimited_until(now),
            profile: acc.profile,
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

    /// The user's ledger (the 50 newest entries) and daily usage over the last 30 local days.
    pub async fn history(&self, user: UserId) -> Result<QuotaHistory, QuotaError> {
        let rows = ledger::Entity::find()
            .filter(ledger::Column::UserId.eq(user.0))
            .order_by_desc(ledger::Column::CreatedAt)
            .order_by_desc(ledger::Column::Id)
            .limit(50)
            .all(&self.db)
            .await?;
        let ledger = rows
            .into_iter()
            .map(|r| LedgerEntry {
                at: r.created_at,
                source: r.source,
                bytes_added: r.purchased_after.saturating_sub(r.purchased_before),
                expires_after: r.expires_after,
                note: r.note,
            })
            .collect();
        Ok(QuotaHistory {
            ledger,
            daily: self.daily(user, 30).await?,
        })
    }

    /// The hotspot profile a user in `status` gets (their speed).
    pub fn profile_for(&self, status: AccessStatus) -> &str {
        self.settings.profiles.for_status(status)
    }

    /// The user's name as the directory knows it.
    pub async fn user_name(&self, user: UserId) -> Result<String, QuotaError> {
        Ok(self
            .users
            .get(user)
            .await?
            .ok_or(QuotaError::UserNotFound)?
            .name)
    }

    /// Sum of `used_bytes` over every account (the crash test's ground truth check).
    pub async fn total_used(&self) -> Result<i64, QuotaError> {
        let rows = account::Entity::find().all(&self.db).await?;
        Ok(rows.iter().map(|r| r.used_bytes).sum())
    }
}
