//! `[admin]` settings. Every field has a default; the app embeds [`AdminSettings`] as `admin`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// Days audit entries are kept; a daily job deletes older ones. 0 keeps everything.
    pub audit_retention_days: u32,
    /// Super admins must set up an authenticator app (TOTP) before using the panel.
    pub require_totp: bool,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            audit_retention_days: 365,
            require_totp: false,
        }
    }
}

/// A setting that cannot be used, named by its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config key `{key}`: {message}")]
pub struct SettingsError {
    pub key: &'static str,
    pub message: String,
}

impl AdminSettings {
    /// Longest retention accepted (100 years): a typo of extra digits is refused at start.
    pub const MAX_RETENTION_DAYS: u32 = 36_500;

    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.audit_retention_days > Self::MAX_RETENTION_DAYS {
            return Err(SettingsError {
                key: "admin.audit_retention_days",
                message: format!(
                    "must be at most {} (0 keeps everything)",
                    Self::MAX_RETENTION_DAYS
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_defaults_to_a_year_and_refuses_typos() {
        let s = AdminSettings::default();
        assert_eq!(s.audit_retention_days, 365);
        assert!(s.validate().is_ok());
        let bad = AdminSettings {
            audit_retention_days: 365_000,
            ..AdminSettings::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().key,
            "admin.audit_retention_days"
        );
    }
}
