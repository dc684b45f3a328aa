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
}

impl GrantSource {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantSource::Purchase => "purchase",
            GrantSource::Admin => "admin",
            GrantSource::Promo => "promo",
        }
    }
}

/// "Give this user bytes and/or days", applied exactly once per `idempotency_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub user: UserId,
    /// Bytes added to the purchased total (0 = none).
    pub bytes: i64,
    /// Validity: expiry becomes now + days (non-accumulating, as the original); 0 = unchanged.
    pub days: i64,
    /// Makes the account unlimited (bytes are then informational).
    pub unlimited: bool,
    pub source: GrantSource,
    /// Unique across all ledger entries, e.g. `order:BD-LPSR-123`. At most 100 characters.
    pub idempotency_key: String,
    /// Who did it (admin phone, `payments`, `cli`).
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
    pub unlimited: bool,
    pub status: AccessStatus,
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<DateTime<Utc>>,
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
