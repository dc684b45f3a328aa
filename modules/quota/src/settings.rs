//! `[quota]` settings. Every field has a default so a partial table works; the app embeds
//! [`QuotaSettings`] as `quota` in its settings and calls [`QuotaSettings::validate`] at start.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::api::AccessStatus;

pub const GIB: i64 = 1024 * 1024 * 1024;
pub const MIB: i64 = 1024 * 1024;

/// Router names per access status (address-lists or hotspot profiles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusNames {
    pub active: String,
    pub unlimited: String,
    pub fup: String,
    pub habis: String,
    pub expired: String,
    pub blocked: String,
    pub inactive: String,
}

impl StatusNames {
    /// Every name, once each (for checking or creating them on the router).
    pub fn distinct(&self) -> Vec<&str> {
        let mut names = vec![
            self.active.as_str(),
            self.unlimited.as_str(),
            self.fup.as_str(),
            self.habis.as_str(),
            self.expired.as_str(),
            self.blocked.as_str(),
            self.inactive.as_str(),
        ];
        names.sort_unstable();
        names.dedup();
        names
    }

    pub fn for_status(&self, status: AccessStatus) -> &str {
        match status {
            AccessStatus::Ok => &self.active,
            AccessStatus::Unlimited => &self.unlimited,
            AccessStatus::Fup => &self.fup,
            AccessStatus::Habis => &self.habis,
            AccessStatus::Expired => &self.expired,
            AccessStatus::Blocked => &self.blocked,
            AccessStatus::Inactive => &self.inactive,
        }
    }

    /// Every distinct name, in a stable order.
    pub fn all(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in [
            &self.active,
            &self.unlimited,
            &self.fup,
            &self.habis,
            &self.expired,
            &self.blocked,
            &self.inactive,
        ] {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }

    fn lists() -> Self {
        Self {
            active: "active".into(),
            // Unlimited users share the active list (the firewall treats them alike).
            unlimited: "active".into(),
            fup: "fup".into(),
            habis: "habis".into(),
            expired: "expired".into(),
            blocked: "blocked".into(),
            inactive: "inactive".into(),
        }
    }

    fn profiles() -> Self {
        Self {
            active: "default".into(),
            unlimited: "unlimited".into(),
            fup: "fup".into(),
            habis: "habis".into(),
            expired: "expired".into(),
            blocked: "inactive".into(),
            inactive: "inactive".into(),
        }
    }
}

impl Default for StatusNames {
    fn default() -> Self {
        Self::lists()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaSettings {
    /// Seconds between sync runs (at least 5).
    pub sync_interval_secs: u64,
    /// Users who bought more than this are moved to `fup` once their remaining bytes fall to it.
    pub fup_threshold_bytes: i64,
    /// Status address-list names; each device IP is on exactly one of them.
    pub address_lists: StatusNames,
    /// Hotspot user profile per status (applied where a hotspot user exists).
    pub profiles: StatusNames,
    /// Set hotspot user profiles by status. Off when the site uses only ip-bindings.
    pub manage_profiles: bool,
    /// Remaining-bytes levels that trigger a low-quota notice (each once until the next grant).
    pub low_quota_thresholds_bytes: Vec<i64>,
    /// Days-before-expiry levels that trigger an expiry notice.
    pub expiry_notice_days: Vec<i64>,
    /// Remove router rows carrying our comment that match no device (else only report them).
    pub remove_foreign_rows: bool,
    /// Message templates (TOML); the built-in Indonesian and English texts when unset.
    pub templates_path: Option<PathBuf>,
    /// Language of notices: `id` or `en`.
    pub notify_lang: String,
    /// Days the per-run history is kept: sync ledger rows and `sync_runs` older than this are
    /// deleted daily (daily usage, purchases and admin grants are kept). 0 keeps everything.
    pub history_retention_days: u32,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self {
            sync_interval_secs: 30,
            fup_threshold_bytes: 3 * GIB,
            address_lists: StatusNames::lists(),
            profiles: StatusNames::profiles(),
            manage_profiles: true,
            low_quota_thresholds_bytes: vec![GIB, 200 * MIB],
            expiry_notice_days: vec![3, 1],
            remove_foreign_rows: false,
            templates_path: None,
            notify_lang: "id".into(),
            history_retention_days: 90,
        }
    }
}

impl QuotaSettings {
    pub const MIN_INTERVAL_SECS: u64 = 5;

    /// Checks values serde cannot; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.sync_interval_secs < Self::MIN_INTERVAL_SECS {
            return Err((
                "quota.sync_interval_secs".into(),
                format!(
                    "{} is below the minimum of {}",
                    self.sync_interval_secs,
                    Self::MIN_INTERVAL_SECS
                ),
            ));
        }
        if self.fup_threshold_bytes < 0 {
            return Err((
                "quota.fup_threshold_bytes".into(),
                "must not be negative".into(),
            ));
        }
        if self.low_quota_thresholds_bytes.iter().any(|t| *t <= 0) {
            return Err((
                "quota.low_quota_thresholds_bytes".into(),
                "levels must be positive".into(),
            ));
        }
        if self.expiry_notice_days.iter().any(|d| *d <= 0) {
            return Err((
                "quota.expiry_notice_days".into(),
                "days must be positive".into(),
            ));
        }
        if !matches!(self.notify_lang.as_str(), "id" | "en") {
            return Err((
                "quota.notify_lang".into(),
                format!("{:?} is not `id` or `en`", self.notify_lang),
            ));
        }
        let names = self.address_lists.all();
        if names.iter().any(|n| n.is_empty()) {
            return Err((
                "quota.address_lists".into(),
                "list names must not be empty".into(),
            ));
        }
        Ok(())
    }

    /// Low-quota levels, largest first (crossing goes from big to small).
    pub fn low_levels(&self) -> Vec<i64> {
        let mut v = self.low_quota_thresholds_bytes.clone();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.dedup();
        v
    }

    /// Expiry levels, largest first.
    pub fn expiry_levels(&self) -> Vec<i64> {
        let mut v = self.expiry_notice_days.clone();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_table_keeps_defaults_and_bad_interval_is_named() {
        let s: QuotaSettings =
            toml::from_str("sync_interval_secs = 10\n[address_lists]\nfup = \"klient_fup\"\n")
                .unwrap();
        assert_eq!(s.sync_interval_secs, 10);
        assert_eq!(s.address_lists.fup, "klient_fup");
        assert_eq!(s.address_lists.habis, "habis");
        assert_eq!(s.low_quota_thresholds_bytes, vec![GIB, 200 * MIB]);
        assert!(s.validate().is_ok());
        let bad = QuotaSettings {
            sync_interval_secs: 4,
            ..QuotaSettings::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "quota.sync_interval_secs");
        assert!(toml::from_str::<QuotaSettings>("sync_intervall = 3").is_err());
    }
}
