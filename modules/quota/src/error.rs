use lpsaring_kernel::ErrorCode;
use lpsaring_kernel::ports::router::RouterError;
use salvo::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum QuotaError {
    #[error("user not found")]
    UserNotFound,
    /// Only a super admin changes an admin's account.
    #[error("only a super admin may change an admin's quota")]
    Forbidden,
    #[error("invalid grant: {0}")]
    InvalidGrant(String),
    #[error("the router could not be reached; nothing was counted or changed: {0}")]
    RouterUnavailable(RouterError),
    #[error("a sync run is already in progress")]
    SyncBusy,
    /// The run's journal could not be encoded (nothing was written or committed).
    #[error("sync journal encoding failed: {0}")]
    Journal(#[source] serde_json::Error),
    #[error("state store failure: {0}")]
    Store(#[from] lpsaring_kernel::StoreError),
    #[error("user directory failure: {0}")]
    Directory(#[from] lpsaring_kernel::ports::users::DirectoryError),
    #[error("device registry failure: {0}")]
    Devices(#[from] lpsaring_devices::DeviceError),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl ErrorCode for QuotaError {
    fn code(&self) -> &'static str {
        match self {
            QuotaError::UserNotFound => "QUOTA_USER_NOT_FOUND",
            QuotaError::Forbidden => "QUOTA_FORBIDDEN",
            QuotaError::InvalidGrant(_) => "QUOTA_INVALID_GRANT",
            QuotaError::RouterUnavailable(_) => "QUOTA_ROUTER_UNAVAILABLE",
            QuotaError::SyncBusy => "QUOTA_SYNC_BUSY",
            QuotaError::Journal(_)
            | QuotaError::Store(_)
            | QuotaError::Directory(_)
            | QuotaError::Devices(_)
            | QuotaError::Database(_) => "INTERNAL_ERROR",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            QuotaError::UserNotFound => StatusCode::NOT_FOUND,
            QuotaError::Forbidden => StatusCode::FORBIDDEN,
            QuotaError::InvalidGrant(_) => StatusCode::UNPROCESSABLE_ENTITY,
            QuotaError::RouterUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            QuotaError::SyncBusy => StatusCode::CONFLICT,
            QuotaError::Journal(_)
            | QuotaError::Store(_)
            | QuotaError::Directory(_)
            | QuotaError::Devices(_)
            | QuotaError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn public_message(&self) -> String {
        match self {
            QuotaError::UserNotFound
            | QuotaError::Forbidden
            | QuotaError::InvalidGrant(_)
            | QuotaError::SyncBusy => self.to_string(),
            QuotaError::RouterUnavailable(_) => {
                "The router could not be reached; try again shortly.".to_owned()
            }
            _ => "Internal server error.".to_owned(),
        }
    }
}

/// Why [`crate::Service::new`] refused to build: the settings key at fault and what is wrong
/// with it, so `app` reports `config key `quota.templates_path`: cannot read …` or
/// `config key `quota.notify_lang`: …` rather than one key for every cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config key `{key}`: {message}")]
pub struct ConfigError {
    pub key: &'static str,
    pub message: String,
}
