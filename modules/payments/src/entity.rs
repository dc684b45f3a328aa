//! The payments tables (owned by this module; nobody else reads them).

pub mod package {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "packages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub name: String,
        pub description: Option<String>,
        pub price: i64,
        pub quota_bytes: i64,
        pub unlimited: bool,
        pub validity_hours: i32,
        pub hotspot_profile: Option<String>,
        pub sort_order: i32,
        pub is_active: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order {
    use sea_orm::entity::prelude::*;

    use crate::api::{OrderSource, OrderStatus};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "transactions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub order_id: String,
        pub user_id: i64,
        pub package_id: i64,
        pub source: OrderSource,
        pub amount: i64,
        pub status: OrderStatus,
        /// E.164 at the time of the order (None for voucher accounts).
        pub buyer_phone: Option<String>,
        pub buyer_name: String,
        /// The package as bought: a later edit of the package never changes a paid order.
        pub package_name: String,
        pub quota_bytes: i64,
        pub unlimited: bool,
        pub validity_hours: i32,
        pub hotspot_profile: Option<String>,
        /// The payment plugin's name (gateway orders).
        pub provider: Option<String>,
        pub provider_ref: Option<String>,
        pub payment_method: Option<String>,
        pub va_bank: Option<String>,
        pub va_number: Option<String>,
        pub bill_key: Option<String>,
        pub biller_code: Option<String>,
        pub qr_string: Option<String>,
        pub deeplink: Option<String>,
        pub redirect_url: Option<String>,
        pub provider_expires_at: Option<DateTimeUtc>,
        /// Our end of the pending window: past it the order is expired.
        pub expires_at: DateTimeUtc,
        pub reconcile_attempts: i32,
        pub next_check_at: Option<DateTimeUtc>,
        /// Needs an operator's look (late payment, amount mismatch).
        pub flagged: bool,
        pub flag_reason: Option<String>,
        pub note: Option<String>,
        pub paid_at: Option<DateTimeUtc>,
        /// Set in the SQL transaction that wrote the quota grant.
        pub applied_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod event {
    use sea_orm::entity::prelude::*;

    use crate::api::{EventKind, OrderStatus};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "transaction_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub transaction_id: i64,
        pub kind: EventKind,
        /// The plugin, `user`, `admin` or `system`.
        pub source: String,
        /// The status the input reported (or the order moved to).
        pub status: Option<OrderStatus>,
        /// Duplicates of one webhook share it (unique); other inputs have none.
        #[sea_orm(unique)]
        pub dedup_key: Option<String>,
        pub payload: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
