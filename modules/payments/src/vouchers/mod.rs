//! Vouchers: printed codes an operator sells for cash, each worth one package. A batch is the
//! codes created together (one package, one prefix); a redeemed code becomes one paid order
//! (source `voucher`) through the same exactly-once apply as a gateway order.
//!
//! - [`code`]: the pure part (alphabet, normalising, keyed hash, sealed copy, CSV field);
//! - this file: batches (create, list, revoke, codes, CSV) and redeeming;
//! - [`routes`]: admin JSON, the printable sheet, `POST /api/vouchers/redeem` and `/voucher`.

mod admin_pages;
pub mod api;
pub mod code;
mod entity;
mod login;
pub(crate) mod routes;
mod sheet;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use lpsaring_kernel::UserId;
use lpsaring_kernel::ports::UserFacts;
use lpsaring_kernel::ports::audit::AuditEntry;
use lpsaring_kernel::sql::begin_write;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::json;

use self::api::{Batch, CreateBatch, CreatedBatch, VoucherCode, VoucherStatus};
use self::code::CodeKeys;
use crate::api::{OrderSource, OrderView};
use crate::entity::{order, package};
use crate::error::PaymentsError;
use crate::manual::Recorded;
use crate::orders::to_view;
use crate::service::Service;

/// Most codes one batch may hold.
pub const MAX_BATCH: u32 = 10_000;
/// Codes written per INSERT.
const INSERT_CHUNK: usize = 500;
/// Wrong codes allowed per user and per IP in [`WRONG_WINDOW`].
const WRONG_BUDGET: i64 = 10;
const WRONG_WINDOW: StdDuration = StdDuration::from_secs(15 * 60);

/// The wrong-code budget of one client IP, shared by redeeming and logging in with a code.
pub(crate) fn wrong_ip_key(ip: IpAddr) -> String {
    format!("voucher:wrong:ip:{ip}")
}

/// One batch's rows, summed.
#[derive(Debug, sea_orm::FromQueryResult)]
struct BatchRow {
    batch_id: String,
    package_id: i64,
    prefix: String,
    count: i64,
    used: i64,
    revoked: i64,
    created_at: DateTime<Utc>,
}

impl Service {
    pub(crate) fn code_keys(&self) -> &CodeKeys {
        &self.voucher_keys
    }

    /// Creates `input.count` codes for a package on sale; `progress(done, total)` is called after
    /// each chunk is written (the CLI prints it for big batches). All codes commit together.
    pub async fn create_vouchers(
        &self,
        input: &CreateBatch,
        actor: Option<UserId>,
        mut progress: impl FnMut(usize, usize) + Send,
    ) -> Result<CreatedBatch, PaymentsError> {
        if input.count == 0 || input.count > MAX_BATCH {
            return Err(PaymentsError::Invalid(format!(
                "count: 1 to {MAX_BATCH} codes per batch"
            )));
        }
        let prefix = code::clean_prefix(input.prefix.as_deref())
            .map_err(|e| PaymentsError::Invalid(e.to_owned()))?;
        let package = self.package_row(input.package_id).await?;
        if !package.is_active {
            return Err(PaymentsError::PackageInactive);
        }
        let now = self.clock.now();
        let batch_id = uuid::Uuid::new_v4().to_string();
        let total = input.count as usize;
        let codes: Vec<String> = {
            let mut rng = rand::rng();
            (0..total)
                .map(|_| code::generate(&prefix, &mut rng))
                .collect()
        };
        let keys = self.code_keys();
        let txn = self.db.begin().await?;
        for (i, chunk) in codes.chunks(INSERT_CHUNK).enumerate() {
            let rows = chunk.iter().map(|c| entity::ActiveModel {
                id: NotSet,
                batch_id: Set(batch_id.clone()),
                package_id: Set(package.id),
                prefix: Set(prefix.clone()),
                code_hash: Set(keys.hash(c)),
                code_encrypted: Set(keys.seal(c)),
                status: Set(VoucherStatus::Active),
                transaction_id: Set(None),
                redeemed_by: Set(None),
                redeemed_at: Set(None),
                revoked_at: Set(None),
                created_at: Set(now),
            });
            entity::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
            progress((i * INSERT_CHUNK + chunk.len()).min(total), total);
        }
        txn.commit().await?;
        let mut entry = AuditEntry::new("voucher.batch_created")
            .target(format!("voucher_batch:{batch_id}"))
            .details(json!({"package_id": package.id, "count": total, "prefix": prefix}));
        if let Some(actor) = actor {
            entry = entry.actor(actor);
        }
        self.audit(entry).await;
        Ok(CreatedBatch {
            batch: Batch {
                batch_id,
                package_id: package.id,
                package_name: package.name,
                price: package.price,
                prefix: prefix.clone(),
                count: codes.len() as i64,
                used: 0,
                revoked: 0,
                created_at: now,
            },
            codes: codes
                .iter()
                .map(|c| code::display(c, prefix.len()))
                .collect(),
        })
    }

    async fn batch_rows(&self, batch: Option<&str>) -> Result<Vec<Batch>, PaymentsError> {
        let mut query = entity::Entity::find()
            .select_only()
            .column(entity::Column::BatchId)
            .column(entity::Column::PackageId)
            .column(entity::Column::Prefix)
            .column_as(entity::Column::Id.count(), "count")
            .column_as(entity::Column::RedeemedAt.count(), "used")
            .column_as(entity::Column::RevokedAt.count(), "revoked")
            .column_as(entity::Column::CreatedAt.min(), "created_at")
            .group_by(entity::Column::BatchId)
            .group_by(entity::Column::PackageId)
            .group_by(entity::Column::Prefix);
        if let Some(batch) = batch {
            query = query.filter(entity::Column::BatchId.eq(batch));
        }
        let rows: Vec<BatchRow> = query
            .order_by_desc(entity::Column::CreatedAt.min())
            .into_model()
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.package_id).collect();
        let packages: BTreeMap<i64, package::Model> = package::Entity::find()
            .filter(package::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        Ok(rows
            .into_iter()
            .map(|r| {
                let p = packages.get(&r.package_id);
                Batch {
                    batch_id: r.batch_id,
                    package_id: r.package_id,
                    package_name: p.map(|p| p.name.clone()).unwrap_or_default(),
                    price: p.map_or(0, |p| p.price),
                    prefix: r.prefix,
                    count: r.count,
                    used: r.used,
                    revoked: r.revoked,
                    created_at: r.created_at,
                }
            })
            .collect())
    }

    /// Every batch, newest first.
    pub async fn voucher_batches(&self) -> Result<Vec<Batch>, PaymentsError> {
        self.batch_rows(None).await
    }

    /// One batch's summary.
    pub async fn voucher_batch(&self, batch_id: &str) -> Result<Batch, PaymentsError> {
        self.batch_rows(Some(batch_id))
            .await?
            .into_iter()
            .next()
            .ok_or(PaymentsError::VoucherBatchNotFound)
    }

    /// Revokes the batch's unused codes (used ones stay as they are); returns the batch after.
    pub async fn revoke_batch(
        &self,
        batch_id: &str,
        actor: Option<UserId>,
    ) -> Result<Batch, PaymentsError> {
        self.voucher_batch(batch_id).await?;
        let now = self.clock.now();
        let revoked = entity::Entity::update_many()
            .col_expr(entity::Column::Status, Expr::value(VoucherStatus::Revoked))
            .col_expr(entity::Column::RevokedAt, Expr::value(now))
            .filter(entity::Column::BatchId.eq(batch_id))
            .filter(entity::Column::Status.eq(VoucherStatus::Active))
            .exec(&self.db)
            .await?
            .rows_affected;
        let mut entry = AuditEntry::new("voucher.batch_revoked")
            .target(format!("voucher_batch:{batch_id}"))
            .details(json!({"revoked": revoked}));
        if let Some(actor) = actor {
            entry = entry.actor(actor);
        }
        self.audit(entry).await;
        self.voucher_batch(batch_id).await
    }

    /// The batch's codes in creation order, decrypted (admins only: reprint and export).
    pub async fn batch_codes(&self, batch_id: &str) -> Result<Vec<VoucherCode>, PaymentsError> {
        let rows = entity::Entity::find()
            .filter(entity::Column::BatchId.eq(batch_id))
            .order_by_asc(entity::Column::Id)
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            return Err(PaymentsError::VoucherBatchNotFound);
        }
        let order_ids: BTreeMap<i64, String> = order::Entity::find()
            .filter(order::Column::Id.is_in(rows.iter().filter_map(|r| r.transaction_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.order_id))
            .collect();
        let keys = self.code_keys();
        Ok(rows
            .into_iter()
            .map(|r| VoucherCode {
                code: keys
                    .open(&r.code_encrypted)
                    .map_or_else(|| "?".to_owned(), |c| code::display(&c, r.prefix.len())),
                status: r.status,
                redeemed_at: r.redeemed_at,
                order_id: r.transaction_id.and_then(|id| order_ids.get(&id).cloned()),
            })
            .collect())
    }

    /// The batch as CSV (`code,status,redeemed_at,order_id`), every field neutralised against
    /// spreadsheet formulas.
    pub async fn batch_csv(&self, batch_id: &str) -> Result<String, PaymentsError> {
        let codes = self.batch_codes(batch_id).await?;
        let mut out = String::from("code,status,redeemed_at,order_id\r\n");
        for c in codes {
            let status = match c.status {
                VoucherStatus::Active => "active",
                VoucherStatus::Redeemed => "redeemed",
                VoucherStatus::Revoked => "revoked",
            };
            let fields = [
                c.code,
                status.to_owned(),
                c.redeemed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                c.order_id.unwrap_or_default(),
            ];
            let line: Vec<String> = fields.iter().map(|f| code::csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        Ok(out)
    }

    /// Refuses while `key` has used up its wrong-code budget.
    async fn check_wrong_budget(&self, key: &str) -> Result<(), PaymentsError> {
        let used = self
            .store
            .get(key)
            .await?
            .and_then(|v| String::from_utf8(v).ok()?.parse::<i64>().ok())
            .unwrap_or(0);
        if used >= WRONG_BUDGET {
            let left = self.store.ttl(key).await?;
            return Err(PaymentsError::RateLimited {
                retry_after_secs: left.map_or(1, |d| d.as_secs().max(1)),
            });
        }
        Ok(())
    }

    /// The voucher `typed` names, after `wrong_keys`' budgets allow a look-up; a miss (a code
    /// that cannot exist or is not ours) spends one of each budget.
    pub(crate) async fn find_code(
        &self,
        typed: &str,
        wrong_keys: &[String],
    ) -> Result<entity::Model, PaymentsError> {
        for key in wrong_keys {
            self.check_wrong_budget(key).await?;
        }
        let found = match code::normalize(typed) {
            Some(c) => {
                entity::Entity::find()
                    .filter(entity::Column::CodeHash.eq(self.code_keys().hash(&c)))
                    .one(&self.db)
                    .await?
            }
            None => None,
        };
        let Some(voucher) = found else {
            for key in wrong_keys {
                self.store.incr(key, 1, Some(WRONG_WINDOW)).await?;
            }
            return Err(PaymentsError::VoucherInvalid);
        };
        Ok(voucher)
    }

    /// Claims an active `voucher` for `facts`' user and records its paid order and quota grant,
    /// all in one SQL transaction. The claim is a guarded UPDATE (`status = 'active'`), so of
    /// two claims racing for one code exactly one wins; the loser gets `None` and nothing is
    /// written. The router is updated after the commit.
    pub(crate) async fn claim_voucher(
        &self,
        voucher: &entity::Model,
        facts: &UserFacts,
        by: &str,
    ) -> Result<Option<order::Model>, PaymentsError> {
        let package = self.package_row(voucher.package_id).await?;
        let now = self.clock.now();
        let txn = begin_write(&self.db).await?;
        let claimed = entity::Entity::update_many()
            .col_expr(entity::Column::Status, Expr::value(VoucherStatus::Redeemed))
            .col_expr(entity::Column::RedeemedBy, Expr::value(facts.id.0))
            .col_expr(entity::Column::RedeemedAt, Expr::value(now))
            .filter(entity::Column::Id.eq(voucher.id))
            .filter(entity::Column::Status.eq(VoucherStatus::Active))
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        let paid = self
            .record_paid(
                &txn,
                Recorded {
                    facts,
                    package: &package,
                    source: OrderSource::Voucher,
                    method: "voucher",
                    note: None,
                    by,
                    payload: json!({"voucher_batch": voucher.batch_id}),
                },
                now,
            )
            .await?;
        entity::Entity::update_many()
            .col_expr(entity::Column::TransactionId, Expr::value(paid.id))
            .filter(entity::Column::Id.eq(voucher.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.apply_on_router(facts.id).await;
        Ok(Some(paid))
    }

    /// `user` redeems `typed`: one voucher becomes one paid order (source `voucher`), its quota
    /// grant written in the same SQL transaction that claims the code (see
    /// [`Self::claim_voucher`]). Wrong codes count against the user and the IP (10 per 15
    /// minutes).
    pub async fn redeem_voucher(
        &self,
        user: UserId,
        typed: &str,
        ip: Option<IpAddr>,
    ) -> Result<OrderView, PaymentsError> {
        let mut wrong_keys = vec![format!("voucher:wrong:user:{}", user.0)];
        if let Some(ip) = ip {
            wrong_keys.push(wrong_ip_key(ip));
        }
        let voucher = self.find_code(typed, &wrong_keys).await?;
        match voucher.status {
            VoucherStatus::Active => {}
            VoucherStatus::Redeemed => return Err(PaymentsError::VoucherUsed),
            VoucherStatus::Revoked => return Err(PaymentsError::VoucherRevoked),
        }
        let facts = self
            .users
            .get(user)
            .await?
            .ok_or(PaymentsError::UserNotFound)?;
        if !facts.active || facts.blocked {
            return Err(PaymentsError::UserNotAllowed);
        }
        let paid = self
            .claim_voucher(&voucher, &facts, "voucher")
            .await?
            .ok_or(PaymentsError::VoucherUsed)?;
        Ok(to_view(&paid))
    }
}
