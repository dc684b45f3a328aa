//! The server secret: from settings, or generated once into `<data_dir>/secret.key` (mode 0600).
//! Purpose-specific keys are derived from it (HMAC with a label), so rotating one secret rotates
//! everything and no two uses share a key.

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac as _};
use rand::RngCore;
use sha2::Sha256;

pub const SECRET_FILE: &str = "secret.key";

/// Purpose-derived keys.
#[derive(Clone)]
pub struct Keys {
    master: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or create the secret key file {path}: {message}")]
    Io { path: String, message: String },
    #[error("the configured auth.secret is shorter than 32 characters")]
    TooShort,
}

impl Keys {
    pub fn from_master(master: [u8; 32]) -> Self {
        Self { master }
    }

    /// Uses `configured` when set, else the key file in `data_dir`, creating it on first start.
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> Result<Self, SecretError> {
        if let Some(text) = configured {
            if text.len() < 32 {
                return Err(SecretError::TooShort);
            }
            return Ok(Self::from_master(derive(
                text.as_bytes(),
                b"lpsaring/master",
            )));
        }
        let path = data_dir.join(SECRET_FILE);
        let io = |e: std::io::Error| SecretError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 64 => {
                let mut master = [0u8; 32];
                hex::decode_to_slice(&bytes, &mut master).map_err(|e| SecretError::Io {
                    path: path.display().to_string(),
                    message: format!("not a hex key: {e}"),
                })?;
                Ok(Self::from_master(master))
            }
            Ok(_) => Err(SecretError::Io {
                path: path.display().to_string(),
                message: "unexpected length".to_owned(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut master = [0u8; 32];
                rand::rng().fill_bytes(&mut master);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(&path).map_err(io)?;
                file.write_all(hex::encode(master).as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(Self::from_master(master))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The key for one purpose (`"jwt"`, `"otp"`, `"csrf"`, …).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        derive(&self.master, purpose.as_bytes())
    }
}

fn derive(key: &[u8], label: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0u8; 32];
    };
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 of `message` under `key`, hex encoded: how OTPs and other short secrets are stored.
pub fn keyed_hash(key: &[u8; 32], message: &[u8]) -> String {
    hex::encode(derive(key, message))
}

/// SHA-256 hex; for high-entropy tokens (refresh tokens) that need no key.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(data))
}

/// Constant-time equality of two strings (secret comparisons).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let a = Keys::load_or_create(None, dir.path()).unwrap();
        let b = Keys::load_or_create(None, dir.path()).unwrap();
        assert_eq!(a.derive("jwt"), b.derive("jwt"));
        assert_ne!(a.derive("jwt"), a.derive("otp"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn configured_secret_must_be_long() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Keys::load_or_create(Some("short"), dir.path()),
            Err(SecretError::TooShort)
        ));
        assert!(Keys::load_or_create(Some(&"x".repeat(40)), dir.path()).is_ok());
    }

    #[test]
    fn comparisons() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
