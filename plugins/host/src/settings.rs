//! Settings the app passes in: the `[plugins]` table and facts about the installation.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use lpsaring_plugin_api::HostInfo;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::policy::HostPolicy;

/// The `[plugins]` settings table:
///
/// ```toml
/// [plugins]
/// dir = "/usr/lib/lpsaring/plugins"   # default
/// timeout_secs = 15                   # per HTTP request, default 15
/// max_attempts = 3                    # per operation, default 3
///
/// [plugins.payment-midtrans]          # one table per plugin, handed to it on every call
/// server_key = "SB-Mid-server-…"
/// production = false
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginsSettings {
    #[serde(default = "default_dir")]
    pub dir: PathBuf,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// `[plugins.<name>]` tables, by plugin name.
    #[serde(flatten)]
    pub plugin_config: BTreeMap<String, Value>,
}

fn default_dir() -> PathBuf {
    PathBuf::from("/usr/lib/lpsaring/plugins")
}
fn default_timeout_secs() -> u64 {
    15
}
fn default_max_attempts() -> u32 {
    3
}

impl Default for PluginsSettings {
    fn default() -> Self {
        Self {
            dir: default_dir(),
            timeout_secs: default_timeout_secs(),
            max_attempts: default_max_attempts(),
            plugin_config: BTreeMap::new(),
        }
    }
}

impl PluginsSettings {
    /// The host policy these settings ask for (other tunables keep their defaults).
    pub fn policy(&self) -> HostPolicy {
        HostPolicy {
            call_timeout: Duration::from_secs(self.timeout_secs.max(1)),
            max_attempts: self.max_attempts.max(1),
            ..HostPolicy::default()
        }
    }
}

/// Facts about the installation handed to plugins with each call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostEnv {
    /// The data directory (the console plugin's default outbox lives there).
    pub data_dir: Option<PathBuf>,
    /// The public base URL, e.g. `https://portal.example` (the sandbox checkout page is on it).
    pub public_url: Option<String>,
}

impl HostEnv {
    pub(crate) fn host_info(&self) -> HostInfo {
        HostInfo {
            data_dir: self.data_dir.as_ref().map(|d| d.display().to_string()),
            public_url: self
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_shape_parses_with_per_plugin_tables() {
        let text = r#"
            dir = "/opt/plugins"
            timeout_secs = 5

            [console]
            outbox = "/tmp/outbox.jsonl"

            [payment-midtrans]
            server_key = "SB-Mid-server-x"
            production = false
        "#;
        let settings: PluginsSettings = toml::from_str(text).unwrap();
        assert_eq!(settings.dir, PathBuf::from("/opt/plugins"));
        assert_eq!(settings.policy().call_timeout, Duration::from_secs(5));
        assert_eq!(settings.max_attempts, 3);
        assert_eq!(
            settings.plugin_config["console"]["outbox"],
            "/tmp/outbox.jsonl"
        );
        assert_eq!(
            settings.plugin_config["payment-midtrans"]["production"],
            false
        );
        assert_eq!(
            toml::from_str::<PluginsSettings>("").unwrap(),
            PluginsSettings::default()
        );
    }
}
