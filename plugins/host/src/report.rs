//! What loading a plugin file came to: the lines `lpsaring plugins list` prints and the reason
//! `lpsaring plugins check` exits non-zero with.

use std::fmt;
use std::path::PathBuf;

use lpsaring_plugin_api::Manifest;

/// Why a plugin file was not loaded. Each variant reads as one clear log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefuseReason {
    #[error("cannot read the file or directory: {0}")]
    Unreadable(String),
    #[error("not a regular file")]
    NotAFile,
    #[error("the file is world-writable (mode {mode:o}); run `chmod o-w` on it")]
    WorldWritable { mode: u32 },
    #[error("the directory is world-writable without the sticky bit (mode {mode:o})")]
    DirectoryWorldWritable { mode: u32 },
    #[error(
        "the file is owned by uid {owner}; only root or the service user (uid {service}) may own plugins"
    )]
    BadOwner { owner: u32, service: u32 },
    #[error("the library could not be opened: {0}")]
    Open(String),
    #[error("the library does not export `lpsaring_plugin_v1`; it is not an lpsaring plugin")]
    MissingSymbol,
    #[error("`lpsaring_plugin_v1` returned a null table")]
    NullTable,
    #[error(
        "built for plugin ABI version {found}, this host speaks version {expected}; rebuild the plugin against lpsaring-plugin-api"
    )]
    AbiVersion { found: u32, expected: u32 },
    #[error("the plugin table is {found} bytes, smaller than the {expected} this host needs")]
    TableTooSmall { found: u32, expected: u32 },
    #[error("the plugin panicked while describing itself: {0}")]
    ManifestPanicked(String),
    #[error("the manifest is not valid: {0}")]
    BadManifest(String),
    #[error("the plugin speaks protocol version {found}; this host speaks up to {supported}")]
    ProtocolVersion { found: u32, supported: u32 },
    #[error("another plugin named `{name}` was already loaded from {first}")]
    DuplicateName { name: String, first: String },
}

/// The outcome for one file of the plugin directory.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadReport {
    pub file: PathBuf,
    /// Present whenever the plugin got as far as describing itself.
    pub manifest: Option<Manifest>,
    /// `None` when the plugin was loaded.
    pub refused: Option<RefuseReason>,
}

impl LoadReport {
    pub fn is_loaded(&self) -> bool {
        self.refused.is_none()
    }
}

impl fmt::Display for LoadReport {
    /// `loaded  console  messaging  0.1.0  /usr/lib/lpsaring/plugins/libconsole.so` or
    /// `refused  /path/x.so: <reason>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.refused, &self.manifest) {
            (None, Some(m)) => {
                write!(
                    f,
                    "loaded   {:<18} {:<10} {:<8} {}",
                    m.name,
                    m.kind,
                    m.version,
                    self.file.display()
                )
            }
            (Some(reason), _) => write!(f, "refused  {}: {reason}", self.file.display()),
            (None, None) => write!(f, "loaded   {}", self.file.display()),
        }
    }
}
