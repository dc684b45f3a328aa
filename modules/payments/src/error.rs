use lpsaring_kernel::ErrorCode;
use salvo::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("package not found")]
    PackageNotFound,
    #[error("this package is not on sale")]
    PackageInactive,
    #[error("a package named {0:?} exists already")]
    PackageNameTaken(String),
    #[error("{0}")]
    Invalid(String),
    #[error("order not found")]
    OrderNotFound,
    #[error("this order can no longer be cancelled")]
    OrderNotPending,
    #[error("only a paid order can be refunded")]
    OrderNotPaid,
    #[error("this order has been refunded already")]
    OrderAlreadyRefunded,
    #[error("user not found")]
    UserNotFound,
    #[error("your account cannot buy packages now")]
    UserNotAllowed,
    #[error("too many orders; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("online payment is not available right now: {0}")]
    GatewayUnavailable(String),
    #[error("the payment provider refused the order: {0}")]
    GatewayRejected(String),
    #[error("Kode voucher tidak dikenal. / The voucher code is not valid.")]
    VoucherInvalid,
    #[error("Voucher ini sudah dipakai. / This voucher has been used already.")]
    VoucherUsed,
    #[error("Voucher ini sudah dibatalkan. / This voucher has been revoked.")]
    VoucherRevoked,
    #[error("voucher batch not found")]
    VoucherBatchNotFound,
    #[error("unknown payment plugin {0:?}")]
    UnknownPlugin(String),
    #[error("quota failure: {0}")]
    Quota(#[from] lpsaring_quota::QuotaError),
    #[error("state store failure: {0}")]
    Store(#[from] lpsaring_kernel::StoreError),
    #[error("user directory failure: {0}")]
    Directory(#[from] lpsaring_kernel::ports::users::DirectoryError),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl PaymentsError {
    pub fn is_internal(&self) -> bool {
        self.code() == "INTERNAL_ERROR"
    }
}

impl ErrorCode for PaymentsError {
    fn code(&self) -> &'static str {
        use PaymentsError::*;
        match self {
            PackageNotFound => "PACKAGE_NOT_FOUND",
            PackageInactive => "PACKAGE_INACTIVE",
            PackageNameTaken(_) => "PACKAGE_NAME_TAKEN",
            Invalid(_) => "VALIDATION_ERROR",
            OrderNotFound => "ORDER_NOT_FOUND",
            OrderNotPending => "ORDER_NOT_PENDING",
            OrderNotPaid => "ORDER_NOT_PAID",
            OrderAlreadyRefunded => "ORDER_ALREADY_REFUNDED",
            UserNotFound => "USER_NOT_FOUND",
            UserNotAllowed => "USER_NOT_ALLOWED",
            RateLimited { .. } => "RATE_LIMITED",
            GatewayUnavailable(_) => "PAYMENT_GATEWAY_UNAVAILABLE",
            GatewayRejected(_) => "PAYMENT_GATEWAY_REJECTED",
            UnknownPlugin(_) => "PAYMENT_PLUGIN_UNKNOWN",
            VoucherInvalid => "VOUCHER_INVALID",
            VoucherUsed => "VOUCHER_USED",
            VoucherRevoked => "VOUCHER_REVOKED",
            VoucherBatchNotFound => "VOUCHER_BATCH_NOT_FOUND",
            Database(e) if lpsaring_kernel::sql::is_busy(e) => "SERVICE_BUSY",
            Quota(_) | Store(_) | Directory(_) | Database(_) => "INTERNAL_ERROR",
        }
    }

    fn status(&self) -> StatusCode {
        use PaymentsError::*;
        match self {
            PackageNotFound | OrderNotFound | UserNotFound | UnknownPlugin(_)
            | VoucherBatchNotFound => StatusCode::NOT_FOUND,
            PackageInactive | VoucherInvalid => StatusCode::BAD_REQUEST,
            VoucherUsed | VoucherRevoked => StatusCode::CONFLICT,
            PackageNameTaken(_) | OrderNotPending | OrderNotPaid | OrderAlreadyRefunded => {
                StatusCode::CONFLICT
            }
            Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            UserNotAllowed => StatusCode::FORBIDDEN,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            GatewayUnavailable(_) | GatewayRejected(_) => StatusCode::SERVICE_UNAVAILABLE,
            // Overloaded, not broken: a provider retries a webhook that got 503.
            Database(e) if lpsaring_kernel::sql::is_busy(e) => StatusCode::SERVICE_UNAVAILABLE,
            Quota(_) | Store(_) | Directory(_) | Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn public_message(&self) -> String {
        match self {
            PaymentsError::GatewayUnavailable(_) => {
                "Pembayaran online sedang tidak tersedia. Silakan coba lagi nanti. / Online payment is not available right now; please try again later.".to_owned()
            }
            PaymentsError::GatewayRejected(_) => {
                "Penyedia pembayaran menolak pesanan ini. / The payment provider refused this order.".to_owned()
            }
            PaymentsError::Database(_) if self.code() == "SERVICE_BUSY" => {
                "Server sedang sibuk. Silakan coba lagi sebentar lagi. / The server is busy; please try again shortly.".to_owned()
            }
            e if e.is_internal() => "Internal server error.".to_owned(),
            e => e.to_string(),
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            PaymentsError::RateLimited { retry_after_secs } => {
                Some(serde_json::json!({ "retry_after_secs": retry_after_secs }))
            }
            _ => None,
        }
    }
}
