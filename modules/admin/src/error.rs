use lpsaring_kernel::ErrorCode;
use salvo::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl ErrorCode for AdminError {
    fn code(&self) -> &'static str {
        match self {
            AdminError::Database(_) => "INTERNAL_ERROR",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AdminError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn public_message(&self) -> String {
        match self {
            AdminError::Database(_) => "Internal server error.".to_owned(),
        }
    }
}
