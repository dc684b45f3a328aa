//! Settings: one TOML file, overridden by `LPSARING_<SECTION>__<KEY>` environment variables.
//!
//! Where the file comes from: `--config FILE`, else `./lpsaring.toml`, else
//! `/etc/lpsaring/lpsaring.toml`, else built-in defaults. Unknown keys are errors (a typo must not
//! silently fall back to a default), and every error names the key it is about.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use lpsaring_kernel::Secret;
use serde::{Deserialize, Serialize};

/// Why settings could not be loaded; printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("config key `{key}`: {message}")]
    Key { key: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where the SQLite database, the state store and generated keys live.
    pub data_dir: PathBuf,
    /// IANA zone deciding local days for daily usage and expiry display.
    pub timezone: String,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    /// The MikroTik router's API service.
    pub router: lpsaring_routeros::RouterSettings,
    /// Where plugins live and their per-plugin configuration (`[plugins.<name>]`).
    pub plugins: lpsaring_plugin_host::PluginsSettings,
    pub messaging: MessagingSettings,
    pub payments: lpsaring_payments::PaymentsSettings,
    pub auth: lpsaring_auth::AuthSettings,
    pub quota: lpsaring_quota::QuotaSettings,
    /// The operator's brand on every page and message.
    pub site: crate::site::SiteSettings,
    /// The admin panel (audit retention).
    pub admin: lpsaring_admin::AdminSettings,
    /// The device registry (stale-device removal).
    pub devices: lpsaring_devices::DeviceSettings,
    pub metrics: MetricsSettings,
    pub backup: BackupSettings,
}

/// The daily backup job (`lpsaring backup` by hand works whatever these say).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupSettings {
    /// Where backup archives go; default `<data_dir>/backups`.
    pub dir: Option<PathBuf>,
    /// Backup archives kept (the oldest are deleted after each daily backup); 0 keeps all.
    pub keep: u32,
    /// Local hour (0 to 23, in `timezone`) of the daily backup; unset = no daily backup.
    pub hour: Option<u8>,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            dir: None,
            keep: 7,
            hour: None,
        }
    }
}

impl BackupSettings {
    /// The folder backups go to by default.
    pub fn dir_in(&self, data_dir: &Path) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| data_dir.join("backups"))
    }
}

/// `GET /metrics` (Prometheus text format).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Off by default: the counters say how busy the portal is, which is nobody's business on
    /// the hotspot side.
    pub enabled: bool,
    /// When set, a scrape must send `Authorization: Bearer <token>` (compared in constant time).
    pub token: Option<Secret<String>>,
    /// Serve `/metrics` on this address alone (say `127.0.0.1:9464`) instead of the main
    /// listener.
    pub listen: Option<String>,
}

/// Which plugin sends messages (one-time codes, notices).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessagingSettings {
    /// Plugin name, e.g. `whatsapp-fonnte`; unset = messages cannot be sent (logins fail with a
    /// clear "could not send" until configured).
    pub plugin: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            timezone: "Asia/Makassar".to_owned(),
            http: HttpSettings::default(),
            database: DatabaseSettings::default(),
            log: LogSettings::default(),
            router: lpsaring_routeros::RouterSettings::default(),
            plugins: lpsaring_plugin_host::PluginsSettings::default(),
            messaging: MessagingSettings::default(),
            payments: lpsaring_payments::PaymentsSettings::default(),
            auth: lpsaring_auth::AuthSettings::default(),
            quota: lpsaring_quota::QuotaSettings::default(),
            admin: lpsaring_admin::AdminSettings::default(),
            devices: lpsaring_devices::DeviceSettings::default(),
            metrics: MetricsSettings::default(),
            backup: BackupSettings::default(),
            site: crate::site::SiteSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    pub listen: String,
    /// The address users reach us at (`https://wifi.example.id`); used for links, CSRF origin
    /// checks and payment return URLs.
    pub public_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` / `CF-Connecting-IP` / `X-Forwarded-Proto` we believe.
    pub trusted_proxies: Vec<IpNet>,
    /// Extra origins accepted for cookie-authenticated state changes.
    pub allowed_origins: Vec<String>,
    /// Request bodies above this get 413.
    pub max_body_bytes: u64,
    /// Seconds a client may take to send a request body; a stalled one gets 408 and is closed.
    pub body_read_timeout_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            public_url: None,
            trusted_proxies: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: 1024 * 1024,
            body_read_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`; default `sqlite://<data_dir>/lpsaring.db`. May hold a
    /// password, hence secret.
    pub url: Option<Secret<String>>,
    pub auto_migrate: bool,
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            auto_migrate: true,
            max_connections: 8,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter (`info`, `lpsaring=debug,sqlx=warn`); `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info,sea_orm_migration=warn".to_owned(),
        }
    }
}

/// Keys allowed as top-level `LPSARING_<KEY>` variables (no `__`). Other single-segment
/// `LPSARING_*` variables belong to tools (e.g. `LPSARING_ADMIN_PASSWORD`) and are ignored here.
const TOP_LEVEL_ENV_KEYS: &[&str] = &["data_dir", "timezone"];

impl Settings {
    /// The file to read when none is given: `./lpsaring.toml`, then `/etc/lpsaring/lpsaring.toml`.
    pub fn default_path() -> Option<PathBuf> {
        ["./lpsaring.toml", "/etc/lpsaring/lpsaring.toml"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    }

    /// Reads the file (if any) and applies the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let path = file.map(Path::to_path_buf).or_else(Self::default_path);
        let text = match &path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| SettingsError::Read {
                path: p.clone(),
                source,
            })?,
            None => String::new(),
        };
        Self::from_sources(&text, path.as_deref(), &env)
    }

    /// Builds settings from TOML text and `(name, value)` environment pairs; pure, for tests.
    pub fn from_sources(
        toml_text: &str,
        path: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Self, SettingsError> {
        let mut root: toml::Table =
            toml_text
                .parse()
                .map_err(|e: toml::de::Error| SettingsError::Syntax {
                    path: path
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| PathBuf::from("<text>")),
                    message: e.message().to_owned(),
                })?;
        apply_env(&mut root, env)?;
        let settings: Settings = serde_path_to_error::deserialize(toml::Value::Table(root))
            .map_err(|e| SettingsError::Key {
                key: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let key_err = |key: &str, message: String| SettingsError::Key {
            key: key.to_owned(),
            message,
        };
        self.timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| key_err("timezone", format!("unknown time zone {:?}", self.timezone)))?;
        self.http
            .listen
            .parse::<std::net::SocketAddr>()
            .map_err(|_| {
                key_err(
                    "http.listen",
                    format!(
                        "{:?} is not an address like 127.0.0.1:8080",
                        self.http.listen
                    ),
                )
            })?;
        if let Some(url) = &self.http.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(key_err(
                "http.public_url",
                format!("{url:?} must start with http:// or https://"),
            ));
        }
        if let Some(hour) = self.backup.hour
            && hour > 23
        {
            return Err(key_err(
                "backup.hour",
                format!("{hour} is not an hour of the day (0 to 23)"),
            ));
        }
        if self.http.body_read_timeout_secs == 0 {
            return Err(key_err(
                "http.body_read_timeout_secs",
                "must be at least 1 (0 would refuse every request body)".to_owned(),
            ));
        }
        if let Some(url) = &self.database.url {
            let url = url.expose();
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                return Err(key_err(
                    "database.url",
                    "must start with sqlite: or postgres://".to_owned(),
                ));
            }
        }
        if let Some(listen) = &self.metrics.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(key_err(
                "metrics.listen",
                format!("{listen:?} is not an address like 127.0.0.1:9464"),
            ));
        }
        if self
            .metrics
            .token
            .as_ref()
            .is_some_and(|t| t.expose().trim().is_empty())
        {
            return Err(key_err(
                "metrics.token",
                "must not be empty (leave it out for no token)".to_owned(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(key_err(
                "database.max_connections",
                "must be at least 1".to_owned(),
            ));
        }
        self.quota
            .validate()
            .map_err(|(key, message)| key_err(&key, message))?;
        self.payments
            .validate()
            .map_err(|(key, message)| key_err(&key, message))?;
        self.site
            .validate()
            .map_err(|(key, message)| key_err(&key, message))?;
        self.admin
            .validate()
            .map_err(|e| key_err(e.key, e.message))?;
        self.devices
            .validate()
            .map_err(|e| key_err(e.key, e.message))?;
        Ok(())
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Asia::Makassar)
    }

    /// The database URL, defaulting to a SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.expose().clone(),
            None => format!("sqlite://{}/lpsaring.db?mode=rwc", self.data_dir.display()),
        }
    }

    pub fn state_path(&self) -> PathBuf {
        self.data_dir.join("state.redb")
    }
}

/// Writes every `LPSARING_SECTION__KEY=value` into the TOML tree. Values are read as TOML when
/// they parse (`true`, `30`, `["10.0.0.0/8"]`), else as plain strings.
fn apply_env(root: &mut toml::Table, env: &[(String, String)]) -> Result<(), SettingsError> {
    let mut sorted: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, value) in env {
        if let Some(rest) = name.strip_prefix("LPSARING_") {
            sorted.insert(rest, value);
        }
    }
    for (rest, value) in sorted {
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.len() == 1 && !TOP_LEVEL_ENV_KEYS.contains(&path[0].as_str()) {
            continue;
        }
        if path.iter().any(String::is_empty) {
            return Err(SettingsError::Env {
                var: format!("LPSARING_{rest}"),
                message: "empty key segment".to_owned(),
            });
        }
        let parsed = parse_env_value(value);
        let (last, parents) = path.split_last().unwrap_or((&path[0], &[]));
        let mut table = &mut *root;
        for key in parents {
            let entry = table
                .entry(key.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            table = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(SettingsError::Env {
                        var: format!("LPSARING_{rest}"),
                        message: format!("`{key}` is not a section"),
                    });
                }
            };
        }
        table.insert(last.clone(), parsed);
    }
    Ok(())
}

fn parse_env_value(value: &str) -> toml::Value {
    let probe = format!("v = {value}");
    match probe.parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(value.to_owned())),
        Err(_) => toml::Value::String(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_without_file_or_env() {
        let s = Settings::from_sources("", None, &[]).unwrap();
        assert_eq!(s.http.listen, "127.0.0.1:8080");
        assert_eq!(s.timezone, "Asia/Makassar");
        assert_eq!(s.database_url(), "sqlite://./data/lpsaring.db?mode=rwc");
        assert!(s.database.auto_migrate);
    }

    #[test]
    fn the_packaged_config_is_valid() {
        let text = include_str!("../../packaging/lpsaring.toml");
        let s = Settings::from_sources(text, None, &[]).expect("packaging/lpsaring.toml");
        assert_eq!(s.quota.history_retention_days, 90);
        assert_eq!(s.router.username, "lpsaring");
        assert_eq!(
            s.plugins.dir,
            PathBuf::from("/usr/lib/lpsaring/plugins"),
            "the package installs the vendor plugins there"
        );
    }

    /// The packaged file documents keys as commented-out `# key = value` lines (and `# [table]`
    /// headers): each must still be a key the portal accepts, with a value of the right type.
    #[test]
    fn the_packaged_configs_commented_keys_are_valid() {
        let text = include_str!("../../packaging/lpsaring.toml");
        let mut uncommented = 0;
        let lines: Vec<String> = text
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if is_key_or_table(rest) => {
                    uncommented += 1;
                    rest.to_owned()
                }
                _ => line.to_owned(),
            })
            .collect();
        assert!(uncommented > 40, "only {uncommented} commented keys found");
        let s = Settings::from_sources(&lines.join("\n"), None, &[])
            .unwrap_or_else(|e| panic!("a documented key is not accepted: {e}"));
        assert_eq!(s.payments.plugin.as_deref(), Some("payment-midtrans"));
        assert_eq!(s.quota.profiles.blocked, "inactive");
        assert!(s.plugins.plugin_config.contains_key("payment-tripay"));
    }

    fn is_key_or_table(text: &str) -> bool {
        let head = text.split(" = ").next().unwrap_or_default();
        let is_name = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
        };
        (text.starts_with('[') && text.ends_with(']') && is_name(&text[1..text.len() - 1]))
            || (text.contains(" = ") && is_name(head))
    }

    #[test]
    fn env_overrides_file() {
        let file = "[http]\nlisten = \"127.0.0.1:9000\"\n[database]\nauto_migrate = true\n";
        let s = Settings::from_sources(
            file,
            None,
            &env(&[
                ("LPSARING_HTTP__LISTEN", "127.0.0.1:9100"),
                ("LPSARING_DATABASE__AUTO_MIGRATE", "false"),
                ("LPSARING_HTTP__TRUSTED_PROXIES", "[\"10.0.0.0/8\"]"),
                ("LPSARING_DATA_DIR", "/tmp/x"),
                ("LPSARING_ADMIN_PASSWORD", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(s.http.listen, "127.0.0.1:9100");
        assert!(!s.database.auto_migrate);
        assert_eq!(
            s.http.trusted_proxies,
            vec!["10.0.0.0/8".parse::<IpNet>().unwrap()]
        );
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Settings::from_sources("[http]\nlisten_addr = \"x\"\n", None, &[]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("http") && text.contains("listen_addr"),
            "{text}"
        );
        let err =
            Settings::from_sources("", None, &env(&[("LPSARING_HTTP__NOPE", "1")])).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let err =
            Settings::from_sources("[http]\nlisten = \"not an address\"\n", None, &[]).unwrap_err();
        assert!(
            err.to_string().starts_with("config key `http.listen`"),
            "{err}"
        );
        let err = Settings::from_sources("timezone = \"Mars/Olympus\"\n", None, &[]).unwrap_err();
        assert!(err.to_string().contains("timezone"), "{err}");
        let err =
            Settings::from_sources("[database]\nauto_migrate = \"yes\"\n", None, &[]).unwrap_err();
        assert!(err.to_string().contains("database.auto_migrate"), "{err}");
        let err = Settings::from_sources("[http\n", None, &[]).unwrap_err();
        assert!(matches!(err, SettingsError::Syntax { .. }));
        let err = Settings::from_sources("[backup]\nhour = 24\n", None, &[]).unwrap_err();
        assert!(
            err.to_string().starts_with("config key `backup.hour`"),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_the_database_url() {
        let s = Settings::from_sources(
            "[database]\nurl = \"postgres://app:hunter2@db/lpsaring\"\n",
            None,
            &[],
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
