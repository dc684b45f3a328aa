use lpsaring_kernel::ErrorCode;
use salvo::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("this device is registered to another account; confirm the takeover to move it")]
    TakeoverNeedsConfirmation,
    #[error("this device is in use by another account right now and cannot be moved")]
    OwnedByActiveUser,
    #[error("the device limit of {limit} is reached and every device is online; log out one first")]
    LimitReached { limit: usize },
    #[error("a device name has at most 40 characters and no control characters")]
    InvalidLabel,
    #[error("device not found")]
    NotFound,
    #[error("query parameter `{0}` is not valid")]
    InvalidFilter(&'static str),
    #[error("user directory failure: {0}")]
    Directory(String),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl ErrorCode for DeviceError {
    fn code(&self) -> &'static str {
        match self {
            DeviceError::TakeoverNeedsConfirmation => "DEVICE_TAKEOVER_CONFIRM_REQUIRED",
            DeviceError::OwnedByActiveUser => "DEVICE_OWNED_BY_ACTIVE_USER",
            DeviceError::LimitReached { .. } => "DEVICE_LIMIT_REACHED",
            DeviceError::InvalidLabel => "VALIDATION_ERROR",
            DeviceError::NotFound => "DEVICE_NOT_FOUND",
            DeviceError::InvalidFilter(_) => "VALIDATION_ERROR",
            DeviceError::Database(_) | DeviceError::Directory(_) => "INTERNAL_ERROR",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            DeviceError::TakeoverNeedsConfirmation | DeviceError::OwnedByActiveUser => {
                StatusCode::CONFLICT
            }
            DeviceError::LimitReached { .. } => StatusCode::CONFLICT,
            DeviceError::InvalidLabel | DeviceError::InvalidFilter(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            DeviceError::NotFound => StatusCode::NOT_FOUND,
            DeviceError::Database(_) | DeviceError::Directory(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn public_message(&self) -> String {
        match self {
            DeviceError::Database(_) | DeviceError::Directory(_) => {
                "Internal server error.".to_owned()
            }
            other => other.to_string(),
        }
    }
}
