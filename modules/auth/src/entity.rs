//! Tables owned by auth: users, refresh_tokens, login_history, admin_totp.

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// E.164; `None` for a voucher account until a phone is attached.
        #[sea_orm(unique)]
        pub phone_number: Option<String>,
        pub full_name: String,
        pub role: String,
        pub approval_status: String,
        pub is_active: bool,
        pub is_blocked: bool,
        pub blocked_reason: Option<String>,
        pub password_hash: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub approved_at: Option<DateTimeUtc>,
        pub last_login_at: Option<DateTimeUtc>,
        /// The voucher whose login account this is (`voucher:<id>`, migration 000010).
        #[sea_orm(unique)]
        pub voucher_ref: Option<String>,
        /// `id` or `en`, chosen on the profile (migration 000011); `None` until then.
        pub language: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refresh_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub family_id: String,
        /// SHA-256 hex of the token; the token itself is never stored.
        #[sea_orm(unique)]
        pub token_hash: String,
        pub issued_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
        pub revoked_reason: Option<String>,
        pub replaced_by: Option<i64>,
        pub ip: Option<String>,
        pub user_agent: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod login_history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_history")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub at: DateTimeUtc,
        pub method: String,
        pub ip: Option<String>,
        pub mac: Option<String>,
        pub user_agent: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod admin_totp {
    use sea_orm::entity::prelude::*;

    /// An admin's second factor (migration 000012).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "admin_totp")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        /// Base64 of nonce ‖ AES-256-GCM ciphertext of the TOTP secret.
        pub secret_enc: String,
        /// `None` while enrolment waits for the first code.
        pub enabled_at: Option<DateTimeUtc>,
        /// The last step accepted: a code is never taken twice.
        pub last_step: Option<i64>,
        /// JSON array of the SHA-256 hex of each unused recovery code.
        pub recovery_hashes: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
