//! `[devices]` settings. Every field has a default; the app embeds [`DeviceSettings`] as
//! `devices` and calls [`DeviceSettings::validate`] at start.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceSettings {
    /// Days a device may go unseen before the daily job removes it from the router and the
    /// database. 0 keeps devices forever.
    pub remove_after_days: u32,
}

impl Default for DeviceSettings {
    fn default() -> Self {
        Self {
            remove_after_days: 60,
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

impl DeviceSettings {
    /// Longest wait accepted (10 years): a typo of extra digits is refused at start.
    pub const MAX_REMOVE_AFTER_DAYS: u32 = 3_650;

    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.remove_after_days > Self::MAX_REMOVE_AFTER_DAYS {
            return Err(SettingsError {
                key: "devices.remove_after_days",
                message: format!(
                    "must be at most {} (0 keeps devices forever)",
                    Self::MAX_REMOVE_AFTER_DAYS
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
    fn removal_defaults_to_sixty_days_and_refuses_typos() {
        let s = DeviceSettings::default();
        assert_eq!(s.remove_after_days, 60);
        assert!(s.validate().is_ok());
        assert!(
            DeviceSettings {
                remove_after_days: 0
            }
            .validate()
            .is_ok()
        );
        let bad = DeviceSettings {
            remove_after_days: 60_000,
        };
        assert_eq!(bad.validate().unwrap_err().key, "devices.remove_after_days");
    }
}
