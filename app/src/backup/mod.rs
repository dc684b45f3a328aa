//! `lpsaring backup` and `lpsaring restore`: one archive `lpsaring-backup-<UTC time>.tar`
//! (plain tar, mode 0600) holding everything an instance needs to come back: the SQL database (SQLite through `VACUUM INTO`,
//! an online and consistent copy; Postgres through `pg_dump`), a snapshot of the state store,
//! the secret key, the settings file, and a `manifest.json` saying what is there.
//!
//! The state store is held by the running service: [`endpoint`] has it write the snapshot; the
//! CLI copies the store itself only when nothing holds it. A restore refuses to run while a
//! service holds the data it would overwrite.

mod archive;
pub mod daily;
pub mod endpoint;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use lpsaring_auth::secrets::SECRET_FILE;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};

use crate::db;
use crate::settings::Settings;

const MANIFEST: &str = "manifest.json";
/// Backup archives are named `lpsaring-backup-<UTC time>.tar`.
const PREFIX: &str = "lpsaring-backup-";
const SQLITE_FILE: &str = "lpsaring.db";
const PG_DUMP_FILE: &str = "lpsaring.pgdump";
const STATE_FILE: &str = "state.redb";
const CONFIG_FILE: &str = "lpsaring.toml";

/// What a backup archive holds (its `manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: String,
    pub created_at: DateTime<Utc>,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub state_entries: u64,
    /// The state store was snapshotted by the running service (else copied by the CLI).
    pub state_from_service: bool,
    pub secret_key: bool,
    pub config: bool,
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> String {
    let path = path.display().to_string();
    let what = what.to_owned();
    move |e| format!("{what} {path}: {e}")
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Writes a backup archive into `to`; returns its path. `store`: the state store
/// when the caller holds it (the service's daily job); else the running service is asked.
pub async fn create(
    settings: &Settings,
    conn: &DatabaseConnection,
    config: Option<&Path>,
    to: &Path,
    now: DateTime<Utc>,
    store: Option<&lpsaring_store::Store>,
) -> Result<PathBuf, String> {
    create_private_dir(to)?;
    // Everything is gathered in a private folder beside the archive, then packed.
    let staging = tempfile::Builder::new()
        .prefix(".lpsaring-backup-")
        .tempdir_in(to)
        .map_err(io("cannot create a folder in", to))?;
    let dir = staging.path();
    let url = settings.database_url();
    let database = if is_postgres(&url) {
        pg(
            "pg_dump",
            &["--format=custom", "--no-owner", "--file"],
            &dir.join(PG_DUMP_FILE),
            &url,
        )?;
        "postgres"
    } else {
        let file = dir.join(SQLITE_FILE);
        let quoted = file.display().to_string().replace('\'', "''");
        conn.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
            .await
            .map_err(|e| format!("SQLite backup into {}: {e}", file.display()))?;
        "sqlite"
    };

    let state = dir.join(STATE_FILE);
    let (state_entries, state_from_service) = match store {
        Some(store) => (
            store.snapshot(&state).await.map_err(|e| e.to_string())?,
            true,
        ),
        None => state_snapshot(settings, &state).await?,
    };
    let secret = settings.data_dir.join(SECRET_FILE);
    let secret_key = copy_if_present(&secret, &dir.join(SECRET_FILE))?;
    let config = match config
        .map(Path::to_path_buf)
        .or_else(Settings::default_path)
    {
        Some(path) => copy_if_present(&path, &dir.join(CONFIG_FILE))?,
        None => false,
    };
    let manifest = Manifest {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: now,
        database: database.to_owned(),
        state_entries,
        state_from_service,
        secret_key,
        config,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(MANIFEST), text).map_err(io("cannot write", &dir.join(MANIFEST)))?;
    let name = format!("{PREFIX}{}.tar", now.format("%Y%m%dT%H%M%SZ"));
    // Written under a hidden name, then renamed: never a half archive that looks like a backup.
    let partial = to.join(format!(".{name}.partial"));
    let mtime = u64::try_from(now.timestamp()).unwrap_or(0);
    archive::pack(dir, &partial, mtime)?;
    set_private(&partial)?;
    let archive = to.join(&name);
    std::fs::rename(&partial, &archive).map_err(io("cannot write", &archive))?;
    Ok(archive)
}

/// The manifest of the backup archive at `path`.
pub fn manifest(path: &Path) -> Result<Manifest, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    archive::unpack(path, dir.path())?;
    read_manifest(dir.path())
}

fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let text = std::fs::read_to_string(dir.join(MANIFEST))
        .map_err(io("not a backup: cannot read", &dir.join(MANIFEST)))?;
    serde_json::from_str(&text).map_err(|e| format!("{MANIFEST}: {e}"))
}

/// The state store into `to`: from the running service when one answers, else copied here.
async fn state_snapshot(settings: &Settings, to: &Path) -> Result<(u64, bool), String> {
    let keys = lpsaring_auth::secrets::Keys::load_or_create(
        settings.auth.secret.as_ref().map(|s| s.expose().as_str()),
        &settings.data_dir,
    )
    .map_err(|e| e.to_string())?;
    let token = endpoint::token(&keys.derive(endpoint::TOKEN_PURPOSE));
    if let Some(entries) = endpoint::ask(&settings.http.listen, &token).await? {
        let written = settings.data_dir.join(endpoint::SNAPSHOT_FILE);
        std::fs::copy(&written, to).map_err(io("cannot copy", &written))?;
        let _ = std::fs::remove_file(&written);
        return Ok((entries, true));
    }
    let from = settings.state_path();
    if !from.exists() {
        return Ok((0, false));
    }
    lpsaring_store::snapshot_file(&from, to)
        .map(|n| (n, false))
        .map_err(|e| match e {
            lpsaring_kernel::StoreError::Locked { .. } => format!(
                "{e}; the service holds it but does not answer at http.listen = {:?}",
                settings.http.listen
            ),
            other => other.to_string(),
        })
}

/// Puts the backup in `dir` back: refuses while a service holds this data dir's state store.
/// The settings file is not replaced (the one in the backup is left for comparison).
pub async fn restore(settings: &Settings, archive: &Path) -> Result<Manifest, String> {
    lpsaring_store::ensure_free(&settings.state_path())
        .map_err(|e| format!("refusing to restore over a running instance: {e}"))?;
    std::fs::create_dir_all(&settings.data_dir).map_err(io("cannot create", &settings.data_dir))?;
    // Unpacked beside the data (same disk, private folder), removed when done.
    let unpacked = tempfile::Builder::new()
        .prefix(".restore-")
        .tempdir_in(&settings.data_dir)
        .map_err(io("cannot create a folder in", &settings.data_dir))?;
    archive::unpack(archive, unpacked.path())?;
    let dir = unpacked.path();
    let manifest = read_manifest(dir)?;
    let url = settings.database_url();
    match (manifest.database.as_str(), is_postgres(&url)) {
        ("postgres", true) => pg(
            "pg_restore",
            &[
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
            ],
            &dir.join(PG_DUMP_FILE),
            &url,
        )?,
        ("sqlite", false) => {
            let target = db::sqlite_file(&url)
                .map(PathBuf::from)
                .ok_or_else(|| format!("cannot restore SQLite into {}", db::redact_url(&url)))?;
            for stale in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{stale}", target.display()));
            }
            std::fs::copy(dir.join(SQLITE_FILE), &target).map_err(io("cannot write", &target))?;
        }
        (kind, _) => {
            return Err(format!(
                "the backup holds a {kind} database but this instance uses {}",
                db::redact_url(&url)
            ));
        }
    }
    let state = dir.join(STATE_FILE);
    if state.exists() {
        std::fs::copy(&state, settings.state_path())
            .map_err(io("cannot write", &settings.state_path()))?;
    }
    if manifest.secret_key {
        let to = settings.data_dir.join(SECRET_FILE);
        std::fs::copy(dir.join(SECRET_FILE), &to).map_err(io("cannot write", &to))?;
        set_private(&to)?;
    }
    Ok(manifest)
}

/// Runs `pg_dump`/`pg_restore` with `args`, `file` and the URL as the database, or says how to
/// get the tool.
fn pg(tool: &str, args: &[&str], file: &Path, url: &str) -> Result<(), String> {
    let mut cmd = Command::new(tool);
    cmd.args(args);
    // The password goes in the environment: a command line is readable by every local user.
    let (url, password) = split_password(url);
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    if tool == "pg_dump" {
        cmd.arg(file).arg(&url);
    } else {
        cmd.arg("--dbname").arg(&url).arg(file);
    }
    let out = cmd.output().map_err(|e| {
        format!(
            "cannot run {tool} ({e}): install the PostgreSQL client (apt install postgresql-client, dnf install postgresql), or run `{tool}` against {} yourself",
            db::redact_url(&url)
        )
    })?;
    if !out.status.success() {
        return Err(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// `postgres://user:pass@host/db` as the URL without its password, and the password decoded.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return (url.to_owned(), None);
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_owned(), None);
    };
    (
        format!("{scheme}://{user}@{host}"),
        Some(percent_decode(password)),
    )
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn copy_if_present(from: &Path, to: &Path) -> Result<bool, String> {
    match std::fs::copy(from, to) {
        Ok(_) => set_private(to).map(|()| true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io("cannot copy", from)(e)),
    }
}

/// A folder only the owner can read: it holds the secret key and every user's data.
fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("cannot create", dir))
}

fn set_private(file: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
        .map_err(io("cannot restrict", file))
}

#[cfg(test)]
mod tests {
    use super::split_password;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://app:p%40ss%3Aw@db:5432/x?sslmode=require"),
            (
                "postgres://app@db:5432/x?sslmode=require".to_owned(),
                Some("p@ss:w".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://app@db/x"),
            ("postgres://app@db/x".to_owned(), None)
        );
    }
}
