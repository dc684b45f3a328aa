//! Loading the plugin directory, binding plugins to roles, and the CLI's `list` and `check`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lpsaring_kernel::health::{Check, Health};
use lpsaring_kernel::ports::{Messenger, PaymentGateway};
use lpsaring_kernel::{Clock, SystemClock};
use lpsaring_plugin_api::{HostInfo, Manifest, PROTOCOL_VERSION, PluginKind, Step, ops};
use serde_json::{Map, Value};

use crate::checks::{check_plugin_dir, check_plugin_file};
use crate::library::PluginLibrary;
use crate::policy::{Breaker, HostPolicy};
use crate::ports::{PluginMessenger, PluginPaymentGateway};
use crate::report::{LoadReport, RefuseReason};
use crate::runtime::{LoadedPlugin, PluginRuntime, call_plugin_step, envelope};
use crate::settings::{HostEnv, PluginsSettings};

/// Why a plugin could not be bound to a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("no plugin named `{name}` is loaded (loaded: {loaded}); see `lpsaring plugins list`")]
    NotLoaded { name: String, loaded: String },
    #[error("plugin `{name}` is a {found} plugin, not a {expected} plugin")]
    WrongKind {
        name: String,
        expected: PluginKind,
        found: PluginKind,
    },
    #[error("[plugins.{plugin}] must set `{key}`")]
    MissingConfig { plugin: String, key: String },
    #[error("[plugins.{plugin}] must be a table")]
    ConfigNotATable { plugin: String },
    #[error("plugin `{plugin}` could not describe itself with its config: {reason}")]
    Manifest { plugin: String, reason: String },
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
}

/// The loaded plugins of one process. Cheap to share behind an `Arc`; libraries stay loaded for
/// the life of the process.
#[derive(Debug)]
pub struct PluginHost {
    plugins: BTreeMap<String, Arc<LoadedPlugin>>,
    config: BTreeMap<String, Value>,
    host_info: HostInfo,
    policy: HostPolicy,
    clock: Arc<dyn Clock>,
    client: Result<reqwest::Client, String>,
    /// Files of the plugin directory that were not loaded (for `/readyz`).
    refused: usize,
}

impl PluginHost {
    /// Loads every `*.so` in `settings.dir` once. Refused files are logged (one line each, with
    /// the file and the reason) and reported; the others load. Never fails as a whole.
    pub fn load_dir(
        settings: &PluginsSettings,
        env: &HostEnv,
        clock: Arc<dyn Clock>,
    ) -> (PluginHost, Vec<LoadReport>) {
        Self::load_dir_with_policy(settings, env, clock, settings.policy())
    }

    /// [`load_dir`](Self::load_dir) with explicit tunables (tests shorten backoff and cooldown).
    pub fn load_dir_with_policy(
        settings: &PluginsSettings,
        env: &HostEnv,
        clock: Arc<dyn Clock>,
        policy: HostPolicy,
    ) -> (PluginHost, Vec<LoadReport>) {
        let host_info = env.host_info();
        let (loaded, reports) = load_plugins(&settings.dir, clock.as_ref(), &host_info);
        for report in &reports {
            match &report.refused {
                None => {
                    tracing::info!(file = %report.file.display(), plugin = report.manifest.as_ref().map(|m| m.name.as_str()).unwrap_or(""), "plugin loaded");
                }
                Some(reason) => {
                    tracing::error!(file = %report.file.display(), reason = %reason, "plugin refused");
                }
            }
        }
        let client = reqwest::Client::builder()
            // A redirect could lead a request off the plugin's allow-list; plugins see 3xx instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string());
        let host = PluginHost {
            plugins: loaded,
            config: settings.plugin_config.clone(),
            host_info,
            policy,
            clock,
            client,
            refused: reports.iter().filter(|r| !r.is_loaded()).count(),
        };
        (host, reports)
    }

    /// The manifests of the loaded plugins, by name.
    pub fn manifests(&self) -> impl Iterator<Item = &Manifest> {
        self.plugins.values().map(|p| &p.manifest)
    }

    /// Every loaded plugin's `walled_garden_hosts`, sorted, each once: what a phone that is not
    /// logged in must reach (checkout pages, bank apps, WhatsApp), for the router's set-up.
    pub fn walled_garden_hosts(&self) -> Vec<String> {
        let hosts: std::collections::BTreeSet<String> = self
            .manifests()
            .flat_map(|m| m.walled_garden_hosts.iter())
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        hosts.into_iter().collect()
    }

    /// The messaging plugin `name` with its `[plugins.<name>]` config, as the kernel port.
    pub fn messenger(&self, name: &str) -> Result<Arc<dyn Messenger>, HostError> {
        let runtime = self.bind(name, PluginKind::Messaging)?;
        Ok(Arc::new(PluginMessenger { runtime }))
    }

    /// The payment plugin `name` with its `[plugins.<name>]` config, as the kernel port.
    pub fn payment_gateway(&self, name: &str) -> Result<Arc<dyn PaymentGateway>, HostError> {
        let runtime = self.bind(name, PluginKind::Payment)?;
        Ok(Arc::new(PluginPaymentGateway { runtime }))
    }

    fn bind(&self, name: &str, expected: PluginKind) -> Result<PluginRuntime, HostError> {
        let plugin = self.plugins.get(name).ok_or_else(|| HostError::NotLoaded {
            name: name.to_owned(),
            loaded: self.plugins.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
        if plugin.manifest.kind != expected {
            return Err(HostError::WrongKind {
                name: name.to_owned(),
                expected,
                found: plugin.manifest.kind,
            });
        }
        let config = match self.config.get(name) {
            None => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(_) => {
                return Err(HostError::ConfigNotATable {
                    plugin: name.to_owned(),
                });
            }
        };
        // Ask again with the config: allowed hosts may follow configured base URLs.
        let manifest = describe(
            &plugin.library,
            self.clock.as_ref(),
            &config,
            &self.host_info,
        )
        .map_err(|reason| HostError::Manifest {
            plugin: name.to_owned(),
            reason: reason.to_string(),
        })?;
        if manifest.name != plugin.manifest.name || manifest.kind != plugin.manifest.kind {
            return Err(HostError::Manifest {
                plugin: name.to_owned(),
                reason: "name or kind changed with the config".to_owned(),
            });
        }
        for key in manifest.config_keys.iter().filter(|k| k.required) {
            let present = match config.get(&key.name) {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => !s.is_empty(),
                Some(_) => true,
            };
            if !present {
                return Err(HostError::MissingConfig {
                    plugin: name.to_owned(),
                    key: key.name.clone(),
                });
            }
        }
        let client = self.client.clone().map_err(HostError::HttpClient)?;
        Ok(PluginRuntime::new(
            plugin.clone(),
            manifest,
            config,
            self.host_info.clone(),
            client,
            self.policy.clone(),
            self.clock.clone(),
        ))
    }
}

/// `/readyz`'s `plugins`: the loaded plugins by name, degraded while a plugin's circuit breaker
/// is open (its provider keeps failing) or when a file of the directory was refused (the reasons
/// are in the start-up log and `lpsaring plugins list`, not on the wire).
#[async_trait::async_trait]
impl Health for PluginHost {
    fn name(&self) -> &'static str {
        "plugins"
    }

    async fn check(&self) -> Check {
        let now = self.clock.now();
        let mut problems = Vec::new();
        let open: Vec<&str> = self
            .plugins
            .iter()
            .filter(|(_, p)| p.breaker.open_until(now).is_some())
            .map(|(name, _)| name.as_str())
            .collect();
        if !open.is_empty() {
            problems.push(format!("circuit open: {}", open.join(", ")));
        }
        if self.refused > 0 {
            problems.push(format!(
                "{} refused (see `lpsaring plugins list`)",
                self.refused
            ));
        }
        let loaded = if self.plugins.is_empty() {
            "none loaded".to_owned()
        } else {
            let names: Vec<&str> = self.plugins.keys().map(String::as_str).collect();
            format!("loaded: {}", names.join(", "))
        };
        if problems.is_empty() {
            Check::ok(loaded)
        } else {
            Check::degraded(format!("{loaded}; {}", problems.join("; ")))
        }
    }
}

/// What `lpsaring plugins list` prints: one report per `*.so` file of `dir`.
pub fn list(dir: &Path) -> Vec<LoadReport> {
    load_plugins(dir, &SystemClock, &HostInfo::default()).1
}

/// What `lpsaring plugins check FILE` decides: the manifest if the file would load.
pub fn check(file: &Path) -> Result<Manifest, RefuseReason> {
    open_plugin(file, &SystemClock, &HostInfo::default()).map(|(_, manifest)| manifest)
}

fn open_plugin(
    file: &Path,
    clock: &dyn Clock,
    host: &HostInfo,
) -> Result<(PluginLibrary, Manifest), RefuseReason> {
    check_plugin_file(file)?;
    let library = PluginLibrary::open(file)?;
    let manifest = describe(&library, clock, &Map::new(), host)?;
    Ok((library, manifest))
}

/// Calls `manifest` and validates the answer.
fn describe(
    library: &PluginLibrary,
    clock: &dyn Clock,
    config: &Map<String, Value>,
    host: &HostInfo,
) -> Result<Manifest, RefuseReason> {
    let call = envelope(clock, config, host, Value::Null, None);
    let step =
        call_plugin_step(library, ops::MANIFEST, &call).map_err(|e| match e.code.as_str() {
            "PLUGIN_PANICKED" => RefuseReason::ManifestPanicked(e.message),
            _ => RefuseReason::BadManifest(e.message),
        })?;
    let value = match step {
        Step::Done(value) => value,
        Step::Error(e) => {
            return Err(RefuseReason::BadManifest(format!(
                "the plugin answered an error: {e}"
            )));
        }
        Step::Http { .. } => {
            return Err(RefuseReason::BadManifest(
                "the manifest must not need HTTP".to_owned(),
            ));
        }
    };
    let manifest: Manifest =
        serde_json::from_value(value).map_err(|e| RefuseReason::BadManifest(e.to_string()))?;
    let name_ok = !manifest.name.is_empty()
        && manifest.name.len() <= 64
        && manifest
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !name_ok {
        return Err(RefuseReason::BadManifest(format!(
            "name {:?} must be 1-64 characters of a-z, 0-9, - and _",
            manifest.name
        )));
    }
    if manifest.protocol_version == 0 || manifest.protocol_version > PROTOCOL_VERSION {
        return Err(RefuseReason::ProtocolVersion {
            found: manifest.protocol_version,
            supported: PROTOCOL_VERSION,
        });
    }
    Ok(manifest)
}

/// Loads the `*.so` files of `dir` in file-name order; the first of two plugins with one name wins.
fn load_plugins(
    dir: &Path,
    clock: &dyn Clock,
    host: &HostInfo,
) -> (BTreeMap<String, Arc<LoadedPlugin>>, Vec<LoadReport>) {
    let mut loaded: BTreeMap<String, Arc<LoadedPlugin>> = BTreeMap::new();
    let mut reports = Vec::new();
    let refuse_dir = |reason| {
        vec![LoadReport {
            file: dir.to_path_buf(),
            manifest: None,
            refused: Some(reason),
        }]
    };
    if let Err(reason) = check_plugin_dir(dir) {
        return (loaded, refuse_dir(reason));
    }
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "so"))
            .collect(),
        Err(e) => return (loaded, refuse_dir(RefuseReason::Unreadable(e.to_string()))),
    };
    files.sort();
    for file in files {
        match open_plugin(&file, clock, host) {
            Err(reason) => reports.push(LoadReport {
                file,
                manifest: None,
                refused: Some(reason),
            }),
            Ok((library, manifest)) => {
                if let Some(first) = loaded.get(&manifest.name) {
                    let reason = RefuseReason::DuplicateName {
                        name: manifest.name.clone(),
                        first: first.file.display().to_string(),
                    };
                    reports.push(LoadReport {
                        file,
                        manifest: Some(manifest),
                        refused: Some(reason),
                    });
                    continue;
                }
                reports.push(LoadReport {
                    file: file.clone(),
                    manifest: Some(manifest.clone()),
                    refused: None,
                });
                let plugin = LoadedPlugin {
                    library,
                    manifest: manifest.clone(),
                    file,
                    breaker: Breaker::default(),
                };
                loaded.insert(manifest.name, Arc::new(plugin));
            }
        }
    }
    (loaded, reports)
}
