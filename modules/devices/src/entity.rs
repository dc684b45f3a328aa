//! The `devices` table (owned by this module; nobody else reads it).

pub mod device {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "devices")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        /// `AA:BB:CC:DD:EE:FF`, unique: a MAC belongs to at most one user.
        #[sea_orm(unique)]
        pub mac: String,
        pub ip: Option<String>,
        pub label: Option<String>,
        pub is_authorized: bool,
        pub first_seen_at: DateTimeUtc,
        pub last_seen_at: DateTimeUtc,
        pub last_login_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
