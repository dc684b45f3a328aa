//! Auth's metrics: one-time codes asked for and checked, and logins, each by outcome (`sent`,
//! `verified`, `ok`, or the stable error code such as `RATE_LIMITED`, `OTP_COOLDOWN`,
//! `OTP_INVALID`: a bounded set, never a phone).

use lpsaring_kernel::ErrorCode;

use crate::error::AuthError;

pub const CODE_REQUESTS: &str = "lpsaring_auth_code_requests_total";
pub const CODE_CHECKS: &str = "lpsaring_auth_code_checks_total";
pub const LOGINS: &str = "lpsaring_auth_logins_total";

pub fn describe() {
    metrics::describe_counter!(
        CODE_REQUESTS,
        "One-time code requests by outcome: sent, or the error code (RATE_LIMITED, OTP_COOLDOWN, OTP_SEND_FAILED, ...)."
    );
    metrics::describe_counter!(
        CODE_CHECKS,
        "One-time codes checked by outcome: verified, or OTP_INVALID, OTP_EXPIRED, OTP_TOO_MANY_ATTEMPTS."
    );
    metrics::describe_counter!(
        LOGINS,
        "Captive logins by outcome: ok, or the error code that refused them."
    );
}

pub(crate) fn count<T>(name: &'static str, success: &'static str, result: &Result<T, AuthError>) {
    let outcome = match result {
        Ok(_) => success,
        Err(e) => e.code(),
    };
    metrics::counter!(name, "outcome" => outcome).increment(1);
}
