//! Errors of the auth module, each with a stable code and a message a user can act on.

use lpsaring_devices::DeviceError;
use lpsaring_kernel::ports::router::RouterError;
use lpsaring_kernel::ports::voucher::VoucherLoginError;
use lpsaring_kernel::{ErrorCode, PhoneError, StoreError};
use salvo::http::StatusCode;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid phone number: {0}")]
    InvalidPhone(#[from] PhoneError),
    #[error("{0}")]
    Validation(String),
    #[error("no account uses this phone number; register first")]
    UserNotFound,
    #[error("an account with this phone number already exists")]
    UserExists,
    #[error("your account is waiting for the operator's approval")]
    UserUnapproved,
    #[error("your account has been deactivated; contact the operator")]
    UserInactive,
    #[error("your account is blocked; contact the operator")]
    UserBlocked,
    #[error("please wait {retry_after_secs} s before asking for another code")]
    OtpCooldown { retry_after_secs: u64 },
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the code is wrong; {remaining} attempt(s) left")]
    OtpInvalid { remaining: u32 },
    #[error("the code has expired or was already used; ask for a new one")]
    OtpExpired,
    #[error("too many wrong codes; ask for a new one")]
    OtpTooManyAttempts,
    #[error("the code could not be sent right now; try again in a moment")]
    MessengerFailed(String),
    #[error("the hotspot router cannot be reached right now; your code stays valid, try again")]
    RouterUnavailable(String),
    #[error("the router reported an error: {0}")]
    Router(String),
    #[error("this device does not match the one the hotspot sees")]
    MacMismatch,
    #[error("the voucher code is not valid")]
    VoucherInvalid,
    #[error("this voucher was redeemed as a purchase and cannot be used to log in")]
    VoucherUsed,
    #[error("this voucher has been revoked")]
    VoucherRevoked,
    /// The cause (a database failure) goes to the log, not to the user.
    #[error("voucher login is not available right now; try again shortly")]
    VoucherUnavailable(String),
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("please log in")]
    Unauthorized,
    #[error("your session has expired; please log in again")]
    TokenExpired,
    #[error("invalid session token")]
    TokenInvalid,
    #[error("you do not have permission for this")]
    Forbidden,
    #[error("the request came from an untrusted origin")]
    OriginInvalid,
    #[error("this link to open your account has expired or was already used; log in again")]
    HandoffInvalid,
    #[error("invalid phone number or password")]
    InvalidCredentials,
    #[error("enter the code from your authenticator app")]
    TotpRequired { challenge: String },
    #[error("the authenticator code is wrong or was already used")]
    TotpInvalid,
    #[error("the login step has expired; log in again")]
    TotpChallengeExpired,
    #[error("a second factor is already set up; turn it off first")]
    TotpAlreadyEnabled,
    #[error("start setting up the authenticator first")]
    TotpNotStarted,
    #[error("password too weak: {0}")]
    WeakPassword(String),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("state store error: {0}")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<RouterError> for AuthError {
    fn from(e: RouterError) -> Self {
        if e.is_connectivity() {
            AuthError::RouterUnavailable(e.to_string())
        } else {
            AuthError::Router(e.to_string())
        }
    }
}

impl From<VoucherLoginError> for AuthError {
    fn from(e: VoucherLoginError) -> Self {
        match e {
            VoucherLoginError::Invalid => AuthError::VoucherInvalid,
            VoucherLoginError::Used => AuthError::VoucherUsed,
            VoucherLoginError::Revoked => AuthError::VoucherRevoked,
            VoucherLoginError::RateLimited { retry_after_secs } => {
                AuthError::RateLimited { retry_after_secs }
            }
            VoucherLoginError::Unavailable(why) => AuthError::VoucherUnavailable(why),
        }
    }
}

impl ErrorCode for AuthError {
    fn code(&self) -> &'static str {
        use AuthError::*;
        match self {
            InvalidPhone(_) => "PHONE_INVALID",
            Validation(_) => "VALIDATION_ERROR",
            UserNotFound => "AUTH_USER_NOT_FOUND",
            UserExists => "USER_EXISTS",
            UserUnapproved => "AUTH_USER_UNAPPROVED",
            UserInactive => "AUTH_USER_INACTIVE",
            UserBlocked => "AUTH_USER_BLOCKED",
            OtpCooldown { .. } => "OTP_COOLDOWN",
            RateLimited { .. } => "RATE_LIMITED",
            OtpInvalid { .. } => "OTP_INVALID",
            OtpExpired => "OTP_EXPIRED",
            OtpTooManyAttempts => "OTP_TOO_MANY_ATTEMPTS",
            MessengerFailed(_) => "OTP_SEND_FAILED",
            RouterUnavailable(_) => "ROUTER_UNAVAILABLE",
            Router(_) => "ROUTER_ERROR",
            MacMismatch => "CLIENT_MAC_MISMATCH",
            VoucherInvalid => "VOUCHER_INVALID",
            VoucherUsed => "VOUCHER_USED",
            VoucherRevoked => "VOUCHER_REVOKED",
            VoucherUnavailable(_) => "VOUCHER_LOGIN_UNAVAILABLE",
            Device(e) => e.code(),
            Unauthorized => "AUTH_UNAUTHORIZED",
            TokenExpired => "AUTH_TOKEN_EXPIRED",
            TokenInvalid => "AUTH_TOKEN_INVALID",
            Forbidden => "AUTH_ADMIN_REQUIRED",
            OriginInvalid => "AUTH_ORIGIN_INVALID",
            HandoffInvalid => "SESSION_TOKEN_INVALID",
            InvalidCredentials => "AUTH_INVALID_CREDENTIALS",
            WeakPassword(_) => "PASSWORD_WEAK",
            TotpRequired { .. } => "AUTH_TOTP_REQUIRED",
            TotpInvalid => "AUTH_TOTP_INVALID",
            TotpChallengeExpired => "AUTH_TOTP_CHALLENGE_EXPIRED",
            TotpAlreadyEnabled => "TOTP_ALREADY_ENABLED",
            TotpNotStarted => "TOTP_NOT_STARTED",
            Database(_) | Store(_) | Internal(_) => "INTERNAL_ERROR",
        }
    }

    fn status(&self) -> StatusCode {
        use AuthError::*;
        match self {
            InvalidPhone(_) | Validation(_) | WeakPassword(_) => StatusCode::UNPROCESSABLE_ENTITY,
            UserNotFound => StatusCode::NOT_FOUND,
            UserExists => StatusCode::CONFLICT,
            UserUnapproved | UserInactive | UserBlocked | MacMismatch | Forbidden
            | OriginInvalid => StatusCode::FORBIDDEN,
            OtpCooldown { .. } | RateLimited { .. } | OtpTooManyAttempts => {
                StatusCode::TOO_MANY_REQUESTS
            }
            OtpInvalid { .. } | Unauthorized | TokenExpired | TokenInvalid | InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            TotpRequired { .. } | TotpInvalid | TotpChallengeExpired => StatusCode::UNAUTHORIZED,
            TotpAlreadyEnabled | TotpNotStarted => StatusCode::CONFLICT,
            OtpExpired | HandoffInvalid => StatusCode::GONE,
            VoucherInvalid => StatusCode::BAD_REQUEST,
            VoucherUsed | VoucherRevoked => StatusCode::CONFLICT,
            MessengerFailed(_) | RouterUnavailable(_) | VoucherUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Router(_) => StatusCode::BAD_GATEWAY,
            Device(e) => e.status(),
            Database(_) | Store(_) | Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn public_message(&self) -> String {
        match self {
            AuthError::Database(_) | AuthError::Store(_) | AuthError::Internal(_) => {
                "Internal server error.".to_owned()
            }
            AuthError::Device(e) => e.public_message(),
            // The trap text names router internals; it goes to the log (the 5xx cause), never
            // to the user.
            AuthError::Router(_) => crate::messages::ROUTER_ERROR
                .get(lpsaring_kernel::Lang::En)
                .to_owned(),
            other => other.to_string(),
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            AuthError::OtpCooldown { retry_after_secs }
            | AuthError::RateLimited { retry_after_secs } => {
                Some(json!({ "retry_after_secs": retry_after_secs }))
            }
            AuthError::OtpInvalid { remaining } => Some(json!({ "attempts_remaining": remaining })),
            AuthError::TotpRequired { challenge } => Some(json!({ "challenge": challenge })),
            _ => None,
        }
    }
}
