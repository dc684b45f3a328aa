//! Public types of the quota module, for `app`, auth (status at login) and payments (grants).

use chrono::{DateTime, NaiveDate, Utc};
use lpsaring_kernel::UserId;
use salvo::oapi::ToSchema;
use serde::{Deserialize, Serialize};

/// A user's access status: the kernel's vocabulary (auth shows it, quota decides it).
/// Priority when several hold: blocked, inactive, expired, unlimited, habis, fup, ok.
pub use lpsaring_kernel::ports::access::AccessStatus;

/// Where a ledger entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GrantSource {
    /// A paid order (payments module).
    Purchase,
    /// An operator (admin page or CLI).
    Admin,
    /// A promotion or registration bonus.
    Promo,
    /// A refunded order taken back (payments module).
    Refund,
    /// An account brought over from another system (`lpsaring import-lpsaring`).
    Import,
}

impl GrantSource {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantSource::Purchase => "purchase",
            GrantSource::Admin => "admin",
            GrantSource::Promo => "promo",
            GrantSource::Refund => "refund",
            GrantSource::Import => "import",
        }
    }
}

/// How a grant's validity counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidityMode {
    /// From the later of now and the current end: time left is kept.
    #[default]
    Extend,
    /// From now, as the original: time left is dropped.
    Reset,
}

/// "Give this user bytes, validity and/or an unlimited period", applied exactly once per
/// `idempotency_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub user: UserId,
    /// Bytes added to the purchased total (0 = none).
    pub bytes: i64,
    /// Validity in hours (hotspot packages are sold as "3 jam" as well as "30 hari"), counted
    /// per `mode`; 0 = expiry unchanged.
    pub validity_hours: i64,
    pub mode: ValidityMode,
    /// An unlimited period as long as the validity (counted per `mode` from the end of a
    /// running one); with no validity, unlimited with no end of its own (admin grants). When
    /// the period ends the account falls back to its bytes.
    pub unlimited: bool,
    /// The package's hotspot profile (speed) for the account while its status is `ok`. A
    /// purchase always sets it (the latest purchase wins, none = the `active` status profile);
    /// other sources change it only when they name one.
    pub profile: Option<String>,
    pub source: GrantSource,
    /// Unique across all ledger entries, e.g. `order:BD-LPSR-123`. At most 100 characters.
    pub idempotency_key: String,
    /// Who did it (admin phone, `payments`, `cli`).
    pub actor: String,
    pub note: Option<String>,
}

impl Grant {
    /// A grant of `bytes` for `validity_hours` (extending), nothing else; set the other
    /// fields with struct update syntax.
    pub fn new(
        user: UserId,
        bytes: i64,
        validity_hours: i64,
        source: GrantSource,
        idempotency_key: impl Into<String>,
        actor: impl Into<String>,
    ) -> Self {
        Self {
            user,
            bytes,
            validity_hours,
            mode: ValidityMode::Extend,
            unlimited: false,
            profile: None,
            source,
            idempotency_key: idempotency_key.into(),
            actor: actor.into(),
            note: None,
        }
    }
}

/// Takes back what one grant gave (a refund), exactly once per `idempotency_key`: never more
/// bytes than are unused (purchased never falls below used), and validity and an unlimited
/// period shortened by the grant's hours, never into the past.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reversal {
    pub user: UserId,
    pub bytes: i64,
    pub validity_hours: i64,
    /// The grant was an unlimited period: it is shortened too.
    pub unlimited: bool,
    pub source: GrantSource,
    /// E.g. `refund:BD-LPSR-123`.
    pub idempotency_key: String,
    pub actor: String,
    pub note: Option<String>,
}

/// What a grant did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantOutcome {
    /// False when the key was already applied (nothing changed this time).
    pub applied: bool,
    pub summary: QuotaSummary,
}

/// A user's quota as pages, the API and the CLI show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuotaSummary {
    pub user_id: UserId,
    pub purchased_bytes: i64,
    pub used_bytes: i64,
    /// `max(0, purchased − used)`.
    pub remaining_bytes: i64,
    /// Unlimited now (an unlimited period that ended is not).
    pub unlimited: bool,
    pub status: AccessStatus,
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<DateTime<Utc>>,
    /// End of the running unlimited period (none: no end of its own, or not unlimited).
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub unlimited_until: Option<DateTime<Utc>>,
    /// The hotspot profile of the latest purchase, used while the status is `ok`.
    pub profile: Option<String>,
}

/// Bytes used on one local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DailyUsage {
    #[salvo(schema(value_type = String, format = Date))]
    pub day: NaiveDate,
    pub bytes: i64,
}

/// `GET /api/users/me/quota`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuotaView {
    #[serde(flatten)]
    pub summary: QuotaSummary,
    /// The last 30 local days, oldest first, zero days included.
    pub daily: Vec<DailyUsage>,
}

/// What one sync run did (stored in `sync_runs`, returned by `POST /api/admin/sync`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SyncSummary {
    pub run_id: String,
    pub hosts_seen: usize,
    pub devices_matched: usize,
    pub unknown_macs: usize,
    /// Host entries counted from zero because they were recreated (timeout, reboot).
    pub recreated_hosts: usize,
    pub users_charged: usize,
    pub bytes_counted: i64,
    pub router_writes: usize,
    /// Writes the router refused (one user's trap does not stop the others).
    pub router_errors: usize,
    /// Our rows matching no device (removed only with `remove_foreign_rows`).
    pub orphan_rows: usize,
    pub notifications_queued: usize,
    /// A journal of a crashed run was found and promoted (its SQL had committed) or discarded.
    pub recovered: Option<String>,
    /// Where the run's time went, so a slow run points at the router, the database or us.
    pub timings: SyncTimings,
}

/// Wall-clock milliseconds per phase of a sync run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SyncTimings {
    /// Reading hosts, bindings, address-list and hotspot users from the router (devices and
    /// their owners are read from the database at the same time).
    pub snapshot_ms: u64,
    /// Reading accounts; counting and deciding statuses and notices.
    pub accounts_ms: u64,
    /// Journal, the one SQL transaction, and promoting the baselines.
    pub commit_ms: u64,
    /// Diffing against the router rows and writing the differences.
    pub enforce_ms: u64,
    pub total_ms: u64,
}

/// One entry of a user's quota ledger: what a purchase, voucher or operator gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LedgerEntry {
    #[salvo(schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
    /// `purchase`, `admin` or `promo`.
    pub source: String,
    /// Bytes added to the purchased total by this entry.
    pub bytes_added: i64,
    /// Validity after this entry.
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub expires_after: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// `GET /api/users/me/quota-history`: grants and purchases (newest first) and usage by day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuotaHistory {
    /// At most the 50 newest entries.
    pub ledger: Vec<LedgerEntry>,
    /// The last 30 local days, oldest first, zero days included.
    pub daily: Vec<DailyUsage>,
}
