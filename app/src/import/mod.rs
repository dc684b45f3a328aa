//! `lpsaring import-lpsaring`: moving over from the original lpsaring (Flask + Postgres).
//!
//! Reads the original in one snapshot ([`source`]), converts its values ([`convert`]), and
//! writes through each owning module's import function (auth: users, payments: packages and
//! orders, devices, quota: accounts) inside one transaction on our database: the whole import
//! commits or nothing does, and `--dry-run` is the same run rolled back. Every row is keyed (a
//! phone, a package name, a MAC, the account's ledger key, an order id), so a second run
//! changes nothing. Rows that cannot come over are reported with the reason, never guessed at.

pub mod convert;
mod report;
pub mod source;

use std::collections::{HashMap, HashSet};

use lpsaring_auth::AuthError;
use lpsaring_auth::import::{Approval, ImportedUser, UserImport};
use lpsaring_devices::import::{DeviceImport, ImportedDevice};
use lpsaring_kernel::ports::users::UserFacts;
use lpsaring_kernel::{Clock, Mac, Phone, UserId};
use lpsaring_payments::PaymentsError;
use lpsaring_payments::api::PackageInput;
use lpsaring_payments::import::{ImportedOrder, OrderImport, PackageImport};
use lpsaring_quota::QuotaError;
use lpsaring_quota::import::{AccountImport, ImportedAccount};
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::json;

pub use report::{Counts, Kind, Report, Skipped};

/// The payment plugin that answers for the original's orders (it sold through Midtrans).
pub const PROVIDER: &str = "payment-midtrans";

/// Rows between two progress calls.
const PROGRESS_EVERY: usize = 500;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Run everything, then roll back.
    pub dry_run: bool,
    /// Import beside users who are not in the original.
    pub merge: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the original database: {0}")]
    Source(DbErr),
    #[error(
        "this database already has {count} user(s) who are not in the original (for example {sample}); run again with --merge to import beside them"
    )]
    OtherUsers { count: usize, sample: String },
    #[error("writing failed, nothing was imported: {0}")]
    Target(String),
}

fn target(e: impl std::fmt::Display) -> ImportError {
    ImportError::Target(e.to_string())
}

/// Called with the kind, rows done and rows in all, every [`PROGRESS_EVERY`] rows and at the end
/// of each kind.
pub type Progress<'a> = &'a mut dyn FnMut(Kind, usize, usize);

/// A user read from the original that may come over, with what the later kinds need.
struct Candidate<'a> {
    row: &'a source::User,
    user: ImportedUser,
}

/// Imports the original at `source` into `db`.
pub async fn run(
    source: &DatabaseConnection,
    db: &DatabaseConnection,
    clock: &dyn Clock,
    options: Options,
    progress: Progress<'_>,
) -> Result<Report, ImportError> {
    let snapshot = source::read(source).await.map_err(ImportError::Source)?;
    let mut report = Report::new(options.dry_run);
    let candidates = candidates(&snapshot.users, &mut report);

    let ours: HashSet<&str> = candidates.iter().map(|c| c.user.phone.as_str()).collect();
    let others: Vec<String> = lpsaring_auth::import::phones_in(db)
        .await
        .map_err(target)?
        .into_iter()
        .filter(|p| !ours.contains(p.as_str()))
        .collect();
    if !others.is_empty() && !options.merge {
        return Err(ImportError::OtherUsers {
            count: others.len(),
            sample: others
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        });
    }

    let now = clock.now();
    let txn = lpsaring_kernel::sql::begin_write(db)
        .await
        .map_err(target)?;
    let users = import_users(&txn, &candidates, &mut report, now, progress).await?;
    let packages = import_packages(&txn, &snapshot.packages, &mut report, now, progress).await?;
    import_devices(&txn, &snapshot.devices, &users, &mut report, progress).await?;
    import_accounts(&txn, &candidates, &users, &mut report, now, progress).await?;
    import_orders(
        &txn,
        &snapshot.transactions,
        &users,
        &packages,
        &mut report,
        now,
        progress,
    )
    .await?;
    if options.dry_run {
        txn.rollback().await.map_err(target)?;
    } else {
        txn.commit().await.map_err(target)?;
    }
    Ok(report)
}

/// The users that may come over: phone, role, approval and name understood, phone not taken by
/// an earlier row of the original (its phones were normalised late, so two rows can meet).
fn candidates<'a>(rows: &'a [source::User], report: &mut Report) -> Vec<Candidate<'a>> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut komandan = 0;
    for row in rows {
        report.read(Kind::Users);
        let skip = |report: &mut Report, reason: String| {
            report.skip(Kind::Users, &row.id, &row.phone_number, reason);
        };
        let phone = match Phone::parse(&row.phone_number) {
            Ok(p) => p,
            Err(e) => {
                skip(report, format!("bad phone: {e}"));
                continue;
            }
        };
        if let Some(first) = seen.get(phone.as_str()) {
            skip(report, format!("same phone as user {first}"));
            continue;
        }
        let Some((role, was_komandan)) = convert::role(&row.role) else {
            skip(report, format!("unknown role {:?}", row.role));
            continue;
        };
        let Some(approval) = Approval::parse(&row.approval_status) else {
            skip(
                report,
                format!("unknown approval status {:?}", row.approval_status),
            );
            continue;
        };
        if let Err(e) = lpsaring_auth::users::clean_name(&row.full_name) {
            skip(report, format!("bad name: {e}"));
            continue;
        }
        komandan += usize::from(was_komandan);
        seen.insert(phone.as_str().to_owned(), &row.id);
        out.push(Candidate {
            row,
            user: ImportedUser {
                phone,
                name: row.full_name.clone(),
                role,
                approval,
                active: row.is_active,
                blocked: row
                    .is_blocked
                    .then(|| row.blocked_reason.clone().unwrap_or_default()),
                created_at: row.created_at,
                approved_at: row.approved_at,
                last_login_at: row.last_login_at,
            },
        });
    }
    if komandan > 0 {
        report.note(format!(
            "{komandan} KOMANDAN user(s) come over as plain users (this portal has no such role)"
        ));
    }
    out
}

/// Source user id → our user.
type Users = HashMap<String, UserFacts>;
/// Source package id → our package id.
type Packages = HashMap<String, i64>;

fn tick(progress: Progress<'_>, kind: Kind, done: usize, all: usize) {
    if done.is_multiple_of(PROGRESS_EVERY) || done == all {
        progress(kind, done, all);
    }
}

async fn import_users(
    txn: &impl sea_orm::ConnectionTrait,
    candidates: &[Candidate<'_>],
    report: &mut Report,
    now: chrono::DateTime<chrono::Utc>,
    progress: Progress<'_>,
) -> Result<Users, ImportError> {
    let mut users = Users::new();
    let mut admins = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        match lpsaring_auth::import::import_user_in(txn, &c.user, now).await {
            Ok(UserImport::Created(facts)) => {
                report.created(Kind::Users);
                if facts.role.is_admin()
                    && let Some(phone) = &facts.phone
                {
                    admins.push(phone.as_str().to_owned());
                }
                users.insert(c.row.id.clone(), facts);
            }
            Ok(UserImport::Existing(facts)) => {
                report.existing(Kind::Users);
                users.insert(c.row.id.clone(), facts);
            }
            Err(AuthError::Validation(reason)) => {
                report.skip(Kind::Users, &c.row.id, &c.row.phone_number, reason);
            }
            Err(e) => return Err(target(e)),
        }
        tick(progress, Kind::Users, i + 1, candidates.len());
    }
    if !admins.is_empty() {
        report.note(format!(
            "passwords do not come over: give each admin one with `lpsaring admin create --phone <phone> --name <name>` ({})",
            admins.join(", ")
        ));
    }
    Ok(users)
}

async fn import_packages(
    txn: &impl sea_orm::ConnectionTrait,
    rows: &[source::Package],
    report: &mut Report,
    now: chrono::DateTime<chrono::Utc>,
    progress: Progress<'_>,
) -> Result<Packages, ImportError> {
    let mut packages = Packages::new();
    for (i, row) in rows.iter().enumerate() {
        report.read(Kind::Packages);
        let input = convert::package_gb_to_bytes(&row.quota_gb).and_then(|quota| {
            Ok(PackageInput {
                name: row.name.clone(),
                description: row.description.clone(),
                price: row.price,
                quota_bytes: quota.unwrap_or(0),
                unlimited: quota.is_none(),
                validity_hours: convert::days_to_hours(row.duration_days)?,
                hotspot_profile: row.profile.clone(),
                sort_order: 0,
                is_active: row.is_active,
            })
        });
        let outcome = match input {
            Ok(input) => lpsaring_payments::import::import_package_in(txn, &input, now).await,
            Err(reason) => Err(PaymentsError::Invalid(reason)),
        };
        match outcome {
            Ok(PackageImport::Created(p)) => {
                report.created(Kind::Packages);
                packages.insert(row.id.clone(), p.id);
            }
            Ok(PackageImport::Existing(p)) => {
                report.existing(Kind::Packages);
                packages.insert(row.id.clone(), p.id);
            }
            Err(PaymentsError::Invalid(reason)) => {
                report.skip(Kind::Packages, &row.id, &row.name, reason);
            }
            Err(e) => return Err(target(e)),
        }
        tick(progress, Kind::Packages, i + 1, rows.len());
    }
    Ok(packages)
}

async fn import_devices(
    txn: &impl sea_orm::ConnectionTrait,
    rows: &[source::Device],
    users: &Users,
    report: &mut Report,
    progress: Progress<'_>,
) -> Result<(), ImportError> {
    // Imported users all have a phone (the original required one).
    let phones: HashMap<UserId, &str> = users
        .values()
        .filter_map(|u| Some((u.id, u.phone.as_ref()?.as_str())))
        .collect();
    for (i, row) in rows.iter().enumerate() {
        report.read(Kind::Devices);
        let skip = |report: &mut Report, reason: String| {
            report.skip(Kind::Devices, &row.id, &row.mac_address, reason);
        };
        tick(progress, Kind::Devices, i + 1, rows.len());
        let Some(owner) = users.get(&row.user_id) else {
            skip(report, format!("its user {} was skipped", row.user_id));
            continue;
        };
        let mac = match Mac::parse(&row.mac_address) {
            Ok(mac) => mac,
            Err(e) => {
                skip(report, format!("bad MAC: {e}"));
                continue;
            }
        };
        let device = ImportedDevice {
            user: owner.id,
            mac,
            label: row.label.clone(),
            ip: row.ip_address.clone(),
            authorized: row.is_authorized,
            first_seen_at: row.first_seen_at,
            last_seen_at: row.last_seen_at,
        };
        match lpsaring_devices::import::import_device_in(txn, &device)
            .await
            .map_err(target)?
        {
            DeviceImport::Created => report.created(Kind::Devices),
            DeviceImport::Existing => report.existing(Kind::Devices),
            DeviceImport::OwnedBy(other) => {
                let whose = phones
                    .get(&other)
                    .map_or_else(|| format!("user #{}", other.0), |p| (*p).to_owned());
                skip(
                    report,
                    format!("duplicate MAC: it already belongs to {whose}"),
                );
            }
        }
    }
    Ok(())
}

async fn import_accounts(
    txn: &impl sea_orm::ConnectionTrait,
    candidates: &[Candidate<'_>],
    users: &Users,
    report: &mut Report,
    now: chrono::DateTime<chrono::Utc>,
    progress: Progress<'_>,
) -> Result<(), ImportError> {
    for (i, c) in candidates.iter().enumerate() {
        tick(progress, Kind::Quota, i + 1, candidates.len());
        let Some(user) = users.get(&c.row.id) else {
            continue;
        };
        report.read(Kind::Quota);
        let row = c.row;
        let skip = |report: &mut Report, reason: String| {
            report.skip(Kind::Quota, &row.id, &row.phone_number, reason);
        };
        let bytes = convert::mb_to_bytes(row.purchased_mb)
            .and_then(|p| Ok((p, convert::decimal_mb_to_bytes(&row.used_mb)?)));
        let (purchased, used) = match bytes {
            Ok(b) => b,
            Err(reason) => {
                skip(report, reason);
                continue;
            }
        };
        let account = ImportedAccount {
            user: user.id,
            purchased_bytes: purchased,
            used_bytes: used,
            expires_at: row.quota_expiry_date,
            unlimited: row.is_unlimited_user,
            profile: row.profile.clone(),
            idempotency_key: format!("import:lpsaring:{}", row.id),
            note: Some(format!(
                "lpsaring: {} MB bought, {} MB used",
                row.purchased_mb, row.used_mb
            )),
        };
        match lpsaring_quota::import::import_account_in(txn, &account, now).await {
            Ok(AccountImport::Created) => report.created(Kind::Quota),
            Ok(AccountImport::AlreadyImported) => report.existing(Kind::Quota),
            Ok(AccountImport::HasAccount) => skip(
                report,
                "the user already has quota here; not overwritten (grant the difference with `lpsaring quota grant`)".to_owned(),
            ),
            Err(QuotaError::InvalidGrant(reason)) => skip(report, reason),
            Err(e) => return Err(target(e)),
        }
    }
    Ok(())
}

async fn import_orders(
    txn: &impl sea_orm::ConnectionTrait,
    rows: &[source::Transaction],
    users: &Users,
    packages: &Packages,
    report: &mut Report,
    now: chrono::DateTime<chrono::Utc>,
    progress: Progress<'_>,
) -> Result<(), ImportError> {
    for (i, row) in rows.iter().enumerate() {
        report.read(Kind::Transactions);
        tick(progress, Kind::Transactions, i + 1, rows.len());
        let skip = |report: &mut Report, reason: String| {
            report.skip(Kind::Transactions, &row.id, &row.order_id, reason);
        };
        let Some(user_id) = &row.user_id else {
            skip(report, "no user (deleted in the original)".to_owned());
            continue;
        };
        let Some(buyer) = users.get(user_id) else {
            skip(report, format!("its user {user_id} was skipped"));
            continue;
        };
        let Some(package_id) = &row.package_id else {
            skip(
                report,
                "no package (a debt payment; debts do not come over)".to_owned(),
            );
            continue;
        };
        let Some(&package) = packages.get(package_id) else {
            skip(report, format!("unknown package {package_id}"));
            continue;
        };
        let Some(status) = convert::order_status(&row.status) else {
            skip(report, format!("unknown status {:?}", row.status));
            continue;
        };
        let order = ImportedOrder {
            order_id: row.order_id.clone(),
            buyer: buyer.clone(),
            package_id: package,
            amount: row.amount,
            status,
            provider: PROVIDER.to_owned(),
            provider_ref: row.provider_ref.clone(),
            payment_method: row.payment_method.clone(),
            va_number: row.va_number.clone(),
            bill_key: row.payment_code.clone(),
            biller_code: row.biller_code.clone(),
            redirect_url: row.redirect_url.clone(),
            expires_at: row.expiry_time,
            paid_at: row.payment_time,
            created_at: row.created_at,
            updated_at: row.updated_at,
            origin: json!({"from": "lpsaring", "id": row.id, "status": row.status}),
        };
        match lpsaring_payments::import::import_order_in(txn, &order, now).await {
            Ok(OrderImport::Created) => report.created(Kind::Transactions),
            Ok(OrderImport::Existing) => report.existing(Kind::Transactions),
            Err(PaymentsError::Invalid(reason)) => skip(report, reason),
            Err(e) => return Err(target(e)),
        }
    }
    Ok(())
}

/// Accepts the URL forms the original's `DATABASE_URL` uses (`postgresql+psycopg2://…`);
/// anything but Postgres is refused.
pub fn source_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "--from must be a postgres:// URL".to_owned())?;
    match scheme.split('+').next() {
        Some("postgres" | "postgresql") => Ok(format!("postgres://{rest}")),
        _ => Err(format!(
            "--from must be the original's Postgres database (postgres://…), not {scheme}://"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::source_url;

    #[test]
    fn source_urls_of_the_original() {
        assert_eq!(
            source_url("postgresql+psycopg2://app:x@db:5432/hotspot").as_deref(),
            Ok("postgres://app:x@db:5432/hotspot")
        );
        assert!(source_url("sqlite://x.db").is_err());
        assert!(source_url("db:5432").is_err());
    }
}
