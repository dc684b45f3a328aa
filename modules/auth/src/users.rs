//! Users: creation (operator or self-registration), approval, blocking, lookups, login history.
//! Also the `UserDirectory` port other modules use to learn a user's access facts.

use std::sync::Arc;

use async_trait::async_trait;
use lpsaring_kernel::ports::users::{
    DirectoryError, Role, UserDirectory, UserFacts, VoucherAccounts,
};
use lpsaring_kernel::{Clock, Lang, Mac, Phone, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, SqlErr,
};

use crate::entity::{login_history, user};
use crate::error::AuthError;

pub const APPROVED: &str = "APPROVED";
pub const PENDING: &str = "PENDING_APPROVAL";

/// How a user logged in, for login history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    Captive,
    Otp,
    Admin,
    /// A voucher code on the captive page.
    Voucher,
}

impl LoginMethod {
    fn as_str(self) -> &'static str {
        match self {
            LoginMethod::Captive => "captive_otp",
            LoginMethod::Otp => "otp",
            LoginMethod::Admin => "admin_password",
            LoginMethod::Voucher => "voucher",
        }
    }
}

/// Longest accepted name, in characters.
pub const NAME_MAX_CHARS: usize = 100;

/// Bidirectional-text controls: they reorder what a terminal or page shows (U+202E makes
/// `gnp.exe` look like `exe.png`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no visible room: a name made only of them looks empty.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// A person's name as stored: trimmed, 1 to [`NAME_MAX_CHARS`] characters, at least one visible
/// character, and no control (NUL, CR, LF, ESC…) or bidi-override characters, which would let a
/// name forge rows in `lpsaring user list` or turn text around on a page.
pub fn clean_name(raw: &str) -> Result<String, AuthError> {
    let name = raw.trim();
    if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(AuthError::Validation(
            "the name must not contain control or text-direction characters".to_owned(),
        ));
    }
    if !name.chars().any(|c| !is_invisible(c)) || name.chars().count() > NAME_MAX_CHARS {
        return Err(AuthError::Validation(format!(
            "the name must have 1 to {NAME_MAX_CHARS} characters and a visible one"
        )));
    }
    Ok(name.to_owned())
}

/// `text` safe to print on a terminal: control, bidi and invisible characters (other than a
/// plain space) are shown as `\u{…}` escapes, so a stored name can neither move the cursor nor
/// fake a row. Rows stored before names were checked may still hold such characters.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_bidi_control(c) || (c != ' ' && is_invisible(c)) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

pub struct Users {
    pub(crate) db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

pub(crate) fn facts(m: &user::Model) -> Option<UserFacts> {
    Some(UserFacts {
        id: UserId(m.id),
        // A stored phone that no longer parses hides the row, as before phones were optional.
        phone: match &m.phone_number {
            Some(p) => Some(Phone::parse(p).ok()?),
            None => None,
        },
        name: m.full_name.clone(),
        role: Role::parse(&m.role).unwrap_or(Role::User),
        approved: m.approval_status == APPROVED,
        active: m.is_active,
        blocked: m.is_blocked,
        language: m.language.as_deref().and_then(Lang::parse),
    })
}

/// [`facts`] of a row just read or written, where a phone that does not parse is a fault.
fn stored_facts(m: &user::Model) -> Result<UserFacts, AuthError> {
    facts(m).ok_or_else(|| AuthError::Internal("stored phone does not parse".to_owned()))
}

impl Users {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// The database this service writes to (operator tools build other services on it).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub(crate) async fn model_by_phone(
        &self,
        phone: &Phone,
    ) -> Result<Option<user::Model>, AuthError> {
        Ok(user::Entity::find()
            .filter(user::Column::PhoneNumber.eq(phone.as_str()))
            .one(&self.db)
            .await?)
    }

    pub(crate) async fn model(&self, id: UserId) -> Result<Option<user::Model>, AuthError> {
        Ok(user::Entity::find_by_id(id.0).one(&self.db).await?)
    }

    /// A new, active, unblocked user row.
    fn new_row(
        &self,
        phone: Option<String>,
        name: String,
        approved: bool,
        role: Role,
    ) -> user::ActiveModel {
        let now = self.clock.now();
        user::ActiveModel {
            phone_number: Set(phone),
            full_name: Set(name),
            role: Set(role.as_str().to_owned()),
            approval_status: Set(if approved { APPROVED } else { PENDING }.to_owned()),
            is_active: Set(true),
            is_blocked: Set(false),
            blocked_reason: Set(None),
            password_hash: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            approved_at: Set(approved.then_some(now)),
            last_login_at: Set(None),
            ..Default::default()
        }
    }

    /// Creates a user. `approved` users may log in at once; self-registered ones wait.
    pub async fn create(
        &self,
        phone: &Phone,
        name: &str,
        approved: bool,
        role: Role,
    ) -> Result<UserFacts, AuthError> {
        let name = clean_name(name)?;
        let inserted = self
            .new_row(Some(phone.as_str().to_owned()), name, approved, role)
            .insert(&self.db)
            .await
            .map_err(|e| match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => AuthError::UserExists,
                _ => AuthError::Database(e),
            })?;
        stored_facts(&inserted)
    }

    async fn update_by_phone(
        &self,
        phone: &Phone,
        change: impl FnOnce(&mut user::ActiveModel),
    ) -> Result<UserFacts, AuthError> {
        let model = self
            .model_by_phone(phone)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let mut active = model.into_active_model();
        change(&mut active);
        active.updated_at = Set(self.clock.now());
        let updated = active.update(&self.db).await?;
        stored_facts(&updated)
    }

    pub async fn approve(&self, phone: &Phone) -> Result<UserFacts, AuthError> {
        let now = self.clock.now();
        self.update_by_phone(phone, |u| {
            u.approval_status = Set(APPROVED.to_owned());
            u.approved_at = Set(Some(now));
        })
        .await
    }

    pub async fn block(&self, phone: &Phone, reason: &str) -> Result<UserFacts, AuthError> {
        let reason = reason.trim().to_owned();
        self.update_by_phone(phone, |u| {
            u.is_blocked = Set(true);
            u.blocked_reason = Set(Some(reason));
        })
        .await
    }

    pub async fn unblock(&self, phone: &Phone) -> Result<UserFacts, AuthError> {
        self.update_by_phone(phone, |u| {
            u.is_blocked = Set(false);
            u.blocked_reason = Set(None);
        })
        .await
    }

    /// Stores an argon2 hash (PHC string) as the user's admin password and sets the role.
    pub async fn set_admin_password(
        &self,
        phone: &Phone,
        phc_hash: String,
        role: Role,
    ) -> Result<UserFacts, AuthError> {
        self.update_by_phone(phone, |u| {
            u.password_hash = Set(Some(phc_hash));
            u.role = Set(role.as_str().to_owned());
        })
        .await
    }

    async fn by_voucher_ref(&self, voucher_ref: &str) -> Result<Option<user::Model>, AuthError> {
        Ok(user::Entity::find()
            .filter(user::Column::VoucherRef.eq(voucher_ref))
            .one(&self.db)
            .await?)
    }

    /// The account of a voucher login, created on first use: approved, active, no phone. The
    /// unique `voucher_ref` makes concurrent first uses end with one account.
    pub async fn voucher_account(
        &self,
        voucher_ref: &str,
        name: &str,
    ) -> Result<UserFacts, AuthError> {
        if let Some(found) = self.by_voucher_ref(voucher_ref).await? {
            return stored_facts(&found);
        }
        let mut row = self.new_row(None, clean_name(name)?, true, Role::User);
        row.voucher_ref = Set(Some(voucher_ref.to_owned()));
        let inserted = row.insert(&self.db).await;
        let model = match inserted {
            Ok(m) => m,
            // Another first use of the same code won the insert: its account is the one.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => self
                .by_voucher_ref(voucher_ref)
                .await?
                .ok_or(AuthError::Database(e))?,
            Err(e) => return Err(AuthError::Database(e)),
        };
        stored_facts(&model)
    }

    /// Attaches `phone` to an account that has none (a voucher account), for notices and code
    /// logins. The caller proved the phone is the user's (a code sent to it).
    pub async fn attach_phone(&self, id: UserId, phone: &Phone) -> Result<UserFacts, AuthError> {
        let model = self.model(id).await?.ok_or(AuthError::UserNotFound)?;
        if model.phone_number.is_some() {
            return Err(AuthError::Validation(
                "this account has a phone number already".to_owned(),
            ));
        }
        let mut active = model.into_active_model();
        active.phone_number = Set(Some(phone.as_str().to_owned()));
        active.updated_at = Set(self.clock.now());
        let updated = active
            .update(&self.db)
            .await
            .map_err(|e| match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => AuthError::UserExists,
                _ => AuthError::Database(e),
            })?;
        stored_facts(&updated)
    }

    pub async fn list(&self) -> Result<Vec<UserFacts>, AuthError> {
        let rows = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.iter().filter_map(facts).collect())
    }

    pub async fn find(&self, phone: &Phone) -> Result<Option<UserFacts>, AuthError> {
        Ok(self.model_by_phone(phone).await?.as_ref().and_then(facts))
    }

    pub async fn get(&self, id: UserId) -> Result<Option<UserFacts>, AuthError> {
        Ok(self.model(id).await?.as_ref().and_then(facts))
    }

    /// Changes a user's own name (the registration's rules).
    pub async fn rename(&self, id: UserId, raw: &str) -> Result<UserFacts, AuthError> {
        let name = clean_name(raw)?;
        let mut active = self
            .model(id)
            .await?
            .ok_or(AuthError::UserNotFound)?
            .into_active_model();
        active.full_name = Set(name);
        active.updated_at = Set(self.clock.now());
        let updated = active.update(&self.db).await?;
        facts(&updated).ok_or(AuthError::UserNotFound)
    }

    /// Remembers the language the user chose (pages and WhatsApp messages).
    pub async fn set_language(&self, id: UserId, lang: Lang) -> Result<UserFacts, AuthError> {
        let mut active = self
            .model(id)
            .await?
            .ok_or(AuthError::UserNotFound)?
            .into_active_model();
        active.language = Set(Some(lang.code().to_owned()));
        active.updated_at = Set(self.clock.now());
        let updated = active.update(&self.db).await?;
        facts(&updated).ok_or(AuthError::UserNotFound)
    }

    /// The user's most recent logins, newest first.
    pub async fn login_history(
        &self,
        id: UserId,
        limit: u64,
    ) -> Result<Vec<LoginEntry>, AuthError> {
        use sea_orm::QuerySelect;
        let rows = login_history::Entity::find()
            .filter(login_history::Column::UserId.eq(id.0))
            .order_by_desc(login_history::Column::At)
            .order_by_desc(login_history::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| LoginEntry {
                at: r.at,
                method: r.method,
                ip: r.ip,
                device: r
                    .mac
                    .as_deref()
                    .and_then(|m| Mac::parse(m).ok())
                    .map(lpsaring_devices::mask_mac),
                user_agent: r.user_agent,
            })
            .collect())
    }

    /// Writes a login-history row and the user's last login time.
    pub async fn record_login(
        &self,
        id: UserId,
        method: LoginMethod,
        ip: Option<String>,
        mac: Option<Mac>,
        user_agent: Option<String>,
    ) -> Result<(), AuthError> {
        let now = self.clock.now();
        login_history::ActiveModel {
            user_id: Set(id.0),
            at: Set(now),
            method: Set(method.as_str().to_owned()),
            ip: Set(ip),
            mac: Set(mac.map(|m| m.to_string())),
            user_agent: Set(user_agent.map(|ua| {
                ua.chars()
                    .take(lpsaring_kernel::client::USER_AGENT_MAX)
                    .collect()
            })),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        user::Entity::update_many()
            .col_expr(
                user::Column::LastLoginAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(user::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// One login of a user, as they may see it (the device's MAC masked).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoginEntry {
    pub at: chrono::DateTime<chrono::Utc>,
    /// How they logged in (`captive_otp`, `otp`, `admin_password`, …).
    pub method: String,
    pub ip: Option<String>,
    /// The device's MAC, all but its last four digits masked.
    pub device: Option<String>,
    pub user_agent: Option<String>,
}

/// The port other modules use; backed by the `users` table.
pub struct Directory(pub Arc<Users>);

fn dir_err(e: impl std::fmt::Display) -> DirectoryError {
    DirectoryError(e.to_string())
}

#[async_trait]
impl UserDirectory for Directory {
    async fn get(&self, id: UserId) -> Result<Option<UserFacts>, DirectoryError> {
        self.0.get(id).await.map_err(dir_err)
    }

    async fn by_phone(&self, phone: &Phone) -> Result<Option<UserFacts>, DirectoryError> {
        self.0.find(phone).await.map_err(dir_err)
    }

    async fn many(&self, ids: &[UserId]) -> Result<Vec<UserFacts>, DirectoryError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let raw: Vec<i64> = chunk.iter().map(|u| u.0).collect();
            let rows = user::Entity::find()
                .filter(user::Column::Id.is_in(raw))
                .all(&self.0.db)
                .await
                .map_err(dir_err)?;
            out.extend(rows.iter().filter_map(facts));
        }
        Ok(out)
    }
}

#[async_trait]
impl VoucherAccounts for Directory {
    async fn voucher_account(
        &self,
        voucher_ref: &str,
        name: &str,
    ) -> Result<UserFacts, DirectoryError> {
        self.0
            .voucher_account(voucher_ref, name)
            .await
            .map_err(dir_err)
    }

    async fn find_voucher_account(
        &self,
        voucher_ref: &str,
    ) -> Result<Option<UserFacts>, DirectoryError> {
        Ok(self
            .0
            .by_voucher_ref(voucher_ref)
            .await
            .map_err(dir_err)?
            .as_ref()
            .and_then(facts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_need_a_visible_character() {
        assert_eq!(clean_name("  Budi Santoso ").unwrap(), "Budi Santoso");
        assert_eq!(clean_name("Ni Luh Putu Ayu").unwrap(), "Ni Luh Putu Ayu");
        assert_eq!(clean_name("Anak\u{200D}ku").unwrap(), "Anak\u{200D}ku");
        for bad in [
            "",
            "   ",
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            "Budi\0",
            "Budi\r\nADMIN",
            "Budi\u{1b}[2J",
            "Budi\u{202E}gnp.exe",
            "Budi\u{2066}x",
            &"x".repeat(NAME_MAX_CHARS + 1),
        ] {
            assert!(clean_name(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn printable_escapes_what_a_terminal_would_obey() {
        assert_eq!(printable("Budi Santoso"), "Budi Santoso");
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("x\r\ny"), "x\\u{d}\\u{a}y");
        assert_eq!(printable("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(printable("\u{200b}"), "\\u{200b}");
    }
}
