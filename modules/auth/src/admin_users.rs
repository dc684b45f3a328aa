//! The operator's side of users (auth owns the `users` table, so its admin JSON lives here):
//! search and list with paging and CSV, and approve / reject / block / unblock. Each change
//! commits together with its WhatsApp notice in the outbox, and is written to the audit log
//! (actor, action, target, details without the phone number).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lpsaring_kernel::csv::CsvWriter;
use lpsaring_kernel::outbox;
use lpsaring_kernel::ports::audit::{AuditEntry, AuditSink};
use lpsaring_kernel::ports::users::Role;
use lpsaring_kernel::{Clock, Phone, UserId};
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set, TransactionTrait,
};
use serde::Serialize;

use crate::entity::user;
use crate::error::AuthError;
use crate::users::{APPROVED, PENDING, Users};

pub const REJECTED: &str = "REJECTED";

/// Most users one page (or one CSV export) returns.
pub const MAX_PER_PAGE: u64 = 500;
const MAX_EXPORT: u64 = 100_000;
/// Longest block or reject reason kept.
const REASON_MAX_CHARS: usize = 200;

/// A user as the admin panel sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct AdminUser {
    pub id: i64,
    /// `None` for a voucher account without a phone.
    pub phone_number: Option<String>,
    pub full_name: String,
    pub role: String,
    /// `APPROVED`, `PENDING_APPROVAL` or `REJECTED`.
    pub approval_status: String,
    pub is_active: bool,
    pub is_blocked: bool,
    pub blocked_reason: Option<String>,
    #[salvo(schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    #[salvo(schema(value_type = Option<String>, format = DateTime))]
    pub last_login_at: Option<DateTime<Utc>>,
}

impl AdminUser {
    pub(crate) fn of(m: user::Model) -> Self {
        Self {
            id: m.id,
            phone_number: m.phone_number,
            full_name: m.full_name,
            role: m.role,
            approval_status: m.approval_status,
            is_active: m.is_active,
            is_blocked: m.is_blocked,
            blocked_reason: m.blocked_reason,
            created_at: m.created_at,
            last_login_at: m.last_login_at,
        }
    }
}

/// The `?status=` filter of the user list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Pending,
    Approved,
    Rejected,
    Blocked,
    Inactive,
}

impl StatusFilter {
    /// `pending`, `approved`, `rejected`, `blocked`, `inactive` (any case; the original's
    /// `PENDING_APPROVAL` too).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "pending" | "pending_approval" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "rejected" => Some(Self::Rejected),
            "blocked" => Some(Self::Blocked),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }

    fn condition(self) -> Condition {
        let c = Condition::all();
        match self {
            Self::Pending => c.add(user::Column::ApprovalStatus.eq(PENDING)),
            Self::Approved => c.add(user::Column::ApprovalStatus.eq(APPROVED)),
            Self::Rejected => c.add(user::Column::ApprovalStatus.eq(REJECTED)),
            Self::Blocked => c.add(user::Column::IsBlocked.eq(true)),
            Self::Inactive => c.add(user::Column::IsActive.eq(false)),
        }
    }
}

impl std::str::FromStr for StatusFilter {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        Self::parse(text).ok_or(())
    }
}

/// Which users to list: `q` matches a phone number (any accepted spelling, or digits within
/// it) or a name (case-insensitive, within it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub q: Option<String>,
    pub status: Option<StatusFilter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, salvo::oapi::ToSchema)]
pub struct UserPage {
    pub items: Vec<AdminUser>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// What an admin does to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Approve,
    Reject,
    Block,
    Unblock,
}

impl UserAction {
    /// The audit action name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Approve => "user.approve",
            Self::Reject => "user.reject",
            Self::Block => "user.block",
            Self::Unblock => "user.unblock",
        }
    }

    /// The WhatsApp notice the user gets (Indonesian, as the hotspot's users read it).
    fn notice(self, reason: Option<&str>) -> String {
        match (self, reason) {
            (Self::Approve, _) => {
                "Akun hotspot Anda sudah disetujui. Silakan masuk lewat halaman login Wi-Fi."
                    .to_owned()
            }
            (Self::Reject, Some(r)) => format!("Pendaftaran hotspot Anda ditolak: {r}"),
            (Self::Reject, None) => "Pendaftaran hotspot Anda ditolak.".to_owned(),
            (Self::Block, Some(r)) => format!("Akun hotspot Anda diblokir: {r}"),
            (Self::Block, None) => "Akun hotspot Anda diblokir. Hubungi operator.".to_owned(),
            (Self::Unblock, _) => "Blokir akun hotspot Anda sudah dibuka.".to_owned(),
        }
    }
}

pub struct UserAdminDeps {
    pub users: Arc<Users>,
    pub audit: Arc<dyn AuditSink>,
    pub clock: Arc<dyn Clock>,
    /// The login half: sessions to revoke, router state to release, the one-time code store.
    pub auth: Arc<crate::Service>,
    /// A new account's starting quota (quota's adjustment, wired by `app`).
    pub grants: Arc<dyn lpsaring_kernel::ports::grants::AdminGrants>,
}

pub struct UserAdmin {
    pub(crate) db: DatabaseConnection,
    audit: Arc<dyn AuditSink>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) auth: Arc<crate::Service>,
    pub(crate) grants: Arc<dyn lpsaring_kernel::ports::grants::AdminGrants>,
}

/// The user list's CSV columns.
const COLUMNS: &[&str] = &[
    "id",
    "phone_number",
    "full_name",
    "role",
    "approval_status",
    "is_active",
    "is_blocked",
    "blocked_reason",
    "created_at",
    "last_login_at",
];

/// `%text%` for LIKE, with the pattern characters in `text` escaped (`\` is the escape).
fn contains_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn clean_reason(reason: Option<&str>) -> Option<String> {
    reason
        .map(|r| {
            r.chars()
                .filter(|c| !c.is_control())
                .take(REASON_MAX_CHARS)
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .filter(|r| !r.is_empty())
}

impl UserQuery {
    fn select(&self) -> Select<user::Entity> {
        use sea_orm::sea_query::ExprTrait as _;
        let mut c = Condition::all();
        if let Some(status) = self.status {
            c = c.add(status.condition());
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let mut any = Condition::any().add(
                Expr::expr(Func::lower(Expr::col(user::Column::FullName)))
                    .like(LikeExpr::new(contains_pattern(&q.to_lowercase())).escape('\\')),
            );
            if let Ok(phone) = Phone::parse(q) {
                any = any.add(user::Column::PhoneNumber.eq(phone.as_str()));
            }
            let digits: String = q.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 3 {
                // `0812…` is stored as `+62812…`: search without the national prefix.
                let core = digits
                    .strip_prefix("62")
                    .or_else(|| digits.strip_prefix('0'))
                    .unwrap_or(&digits);
                any = any.add(user::Column::PhoneNumber.contains(core));
            }
            c = c.add(any);
        }
        user::Entity::find()
            .filter(c)
            .order_by_desc(user::Column::CreatedAt)
            .order_by_desc(user::Column::Id)
    }
}

impl UserAdmin {
    pub fn new(deps: UserAdminDeps) -> Self {
        Self {
            db: deps.users.db().clone(),
            audit: deps.audit,
            clock: deps.clock,
            auth: deps.auth,
            grants: deps.grants,
        }
    }

    /// The user `target` as stored, when `actor` may act on them: only a super admin acts on
    /// an admin.
    pub(crate) async fn target(
        &self,
        actor: (UserId, Role),
        target: UserId,
    ) -> Result<user::Model, AuthError> {
        let model = user::Entity::find_by_id(target.0)
            .one(&self.db)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let target_role = Role::parse(&model.role).unwrap_or(Role::User);
        if target_role.is_admin() && actor.1 != Role::SuperAdmin {
            return Err(AuthError::Forbidden);
        }
        Ok(model)
    }

    /// Writes the audit entry of `action` by `actor` about user `target`. A failure is logged:
    /// the change it records has committed.
    pub(crate) async fn audit(
        &self,
        actor: UserId,
        action: &str,
        target: UserId,
        details: serde_json::Value,
        ip: Option<String>,
    ) {
        let entry = AuditEntry::new(action)
            .actor(actor)
            .target(format!("user:{}", target.0))
            .details(details)
            .ip(ip);
        if let Err(e) = self.audit.record(entry).await {
            tracing::error!(error = %e, action, "audit entry not written");
        }
    }

    pub async fn list(
        &self,
        query: &UserQuery,
        page: u64,
        per_page: u64,
    ) -> Result<UserPage, AuthError> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let total = query.select().count(&self.db).await?;
        let rows = query
            .select()
            .offset((page - 1).saturating_mul(per_page))
            .limit(per_page)
            .all(&self.db)
            .await?;
        Ok(UserPage {
            items: rows.into_iter().map(AdminUser::of).collect(),
            total,
            page,
            per_page,
        })
    }

    /// Every matching user (at most 100 000) as CSV.
    pub async fn export(&self, query: &UserQuery) -> Result<CsvWriter, AuthError> {
        let rows = query.select().limit(MAX_EXPORT).all(&self.db).await?;
        let mut csv = CsvWriter::with_header(COLUMNS);
        let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        for m in rows {
            csv.row([
                m.id.to_string(),
                m.phone_number.unwrap_or_default(),
                m.full_name,
                m.role,
                m.approval_status,
                m.is_active.to_string(),
                m.is_blocked.to_string(),
                m.blocked_reason.unwrap_or_default(),
                time(Some(m.created_at)),
                time(m.last_login_at),
            ]);
        }
        Ok(csv)
    }

    /// Applies `action` to user `target` for admin `actor` (whose role is `actor_role`): the
    /// change and the user's notice commit together, then the audit entry is written. Only a
    /// super admin acts on an admin, and nobody rejects or blocks themselves.
    pub async fn act(
        &self,
        actor: (UserId, Role),
        target: UserId,
        action: UserAction,
        reason: Option<&str>,
        ip: Option<String>,
    ) -> Result<AdminUser, AuthError> {
        let reason = clean_reason(reason);
        if actor.0 == target && matches!(action, UserAction::Reject | UserAction::Block) {
            return Err(AuthError::Validation(
                "you cannot reject or block your own account".to_owned(),
            ));
        }
        let model = self.target(actor, target).await?;
        let now = self.clock.now();
        // A voucher account without a phone gets no notice.
        let recipient = model
            .phone_number
            .as_deref()
            .and_then(|p| Phone::parse(p).ok());
        let mut row = model.into_active_model();
        match action {
            UserAction::Approve => {
                row.approval_status = Set(APPROVED.to_owned());
                row.approved_at = Set(Some(now));
            }
            UserAction::Reject => row.approval_status = Set(REJECTED.to_owned()),
            UserAction::Block => {
                row.is_blocked = Set(true);
                row.blocked_reason = Set(reason.clone());
            }
            UserAction::Unblock => {
                row.is_blocked = Set(false);
                row.blocked_reason = Set(None);
            }
        }
        row.updated_at = Set(now);
        let txn = self.db.begin().await?;
        let updated = row.update(&txn).await?;
        if let Some(phone) = &recipient {
            let key = format!("{}:{}:{}", action.name(), target.0, now.timestamp_millis());
            outbox::enqueue(&txn, &key, phone, &action.notice(reason.as_deref()), now).await?;
        }
        txn.commit().await?;
        let mut details = serde_json::json!({ "approval_status": updated.approval_status,
            "is_blocked": updated.is_blocked });
        if let Some(r) = &reason {
            details["reason"] = r.clone().into();
        }
        self.audit(actor.0, action.name(), target, details, ip)
            .await;
        Ok(AdminUser::of(updated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filters_parse_both_spellings() {
        assert_eq!(StatusFilter::parse("Pending"), Some(StatusFilter::Pending));
        assert_eq!(
            StatusFilter::parse("PENDING_APPROVAL"),
            Some(StatusFilter::Pending)
        );
        assert_eq!(StatusFilter::parse("blocked"), Some(StatusFilter::Blocked));
        assert_eq!(StatusFilter::parse("x"), None);
    }

    #[test]
    fn like_patterns_escape_wildcards_and_reasons_are_cleaned() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
        assert_eq!(clean_reason(Some("  spam\r\n ")), Some("spam".to_owned()));
        assert_eq!(clean_reason(Some("   ")), None);
        assert_eq!(
            clean_reason(Some(&"x".repeat(500))).unwrap().len(),
            REASON_MAX_CHARS
        );
    }
}
