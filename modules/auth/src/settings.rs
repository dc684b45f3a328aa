//! `[auth]` settings.

use lpsaring_kernel::Secret;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// Server secret (≥ 32 chars). Default: generated once into `<data_dir>/secret.key`.
    pub secret: Option<Secret<String>>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    /// A just-rotated refresh token presented again within this window (parallel requests from
    /// the same browser) gets its successor's session instead of revoking the family.
    pub refresh_reuse_grace_secs: i64,
    pub otp_ttl_secs: u64,
    pub otp_cooldown_secs: u64,
    pub otp_max_attempts: u32,
    /// One-time-code requests per client IP per minute.
    pub otp_requests_per_ip_per_minute: i64,
    /// One-time-code requests per IP + phone per hour.
    pub otp_requests_per_ip_phone_per_hour: i64,
    /// Code checks (`verify-otp`, the code forms) per client IP per minute, counted before the
    /// phone is looked up.
    pub otp_verifications_per_ip_per_minute: i64,
    /// Self-registrations per client IP per hour.
    pub registrations_per_ip_per_hour: i64,
    /// Admin login attempts per IP (and per phone from one IP) per 15 minutes.
    pub admin_login_attempts_per_window: i64,
    /// Devices one user may have.
    pub max_devices_per_user: usize,
    /// Days after which an unseen device is evicted first.
    pub device_stale_days: i64,
    /// Hotspot server name used for ip-bindings (`all` = every server).
    pub hotspot_server: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            secret: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            refresh_reuse_grace_secs: 5,
            otp_ttl_secs: 300,
            otp_cooldown_secs: 60,
            otp_max_attempts: 5,
            otp_requests_per_ip_per_minute: 10,
            otp_requests_per_ip_phone_per_hour: 20,
            otp_verifications_per_ip_per_minute: 20,
            registrations_per_ip_per_hour: 10,
            admin_login_attempts_per_window: 10,
            max_devices_per_user: 3,
            device_stale_days: 30,
            hotspot_server: "all".to_owned(),
        }
    }
}
