//! The quota tables (owned by this module; nobody else reads them).

pub mod account {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "quota_accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub purchased_bytes: i64,
        pub used_bytes: i64,
        pub unlimited: bool,
        pub expires_at: Option<DateTimeUtc>,
        /// Per-account override of the FUP threshold.
        pub fup_threshold_bytes: Option<i64>,
        /// Smallest low-quota level already announced (None: armed for every level).
        pub low_quota_notified_bytes: Option<i64>,
        /// Smallest expiry level (days) already announced.
        pub expiry_notified_days: Option<i32>,
        /// Status seen by the last sync (a change queues a notice).
        pub last_status: Option<String>,
        pub updated_at: DateTimeUtc,
        /// The hotspot profile of the latest purchase (the sync gives it to `ok` users).
        pub profile: Option<String>,
        /// End of the unlimited period; `None` with `unlimited`: no end of its own.
        pub unlimited_until: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "quota_ledger")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub source: String,
        #[sea_orm(unique)]
        pub idempotency_key: String,
        pub purchased_before: i64,
        pub purchased_after: i64,
        pub used_before: i64,
        pub used_after: i64,
        pub expires_before: Option<DateTimeUtc>,
        pub expires_after: Option<DateTimeUtc>,
        pub actor: Option<String>,
        pub note: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod usage_daily {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "usage_daily")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: Date,
        pub bytes: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sync_run {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sync_runs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub run_id: String,
        pub started_at: DateTimeUtc,
        pub finished_at: Option<DateTimeUtc>,
        pub hosts_seen: i32,
        pub devices_matched: i32,
        pub unknown_macs: i32,
        pub bytes_counted: i64,
        pub router_writes: i32,
        pub errors: i32,
        pub status: String,
        pub error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
