//! The daily backup (`[backup] hour`): the service writes a backup archive once a day at that
//! local hour (it holds the state store, so it snapshots it directly), then deletes the oldest
//! archives beyond `[backup] keep`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{NaiveDate, Timelike};
use lpsaring_kernel::Clock;
use lpsaring_kernel::jobs::Job;
use lpsaring_store::Store;
use sea_orm::DatabaseConnection;

use crate::App;
use crate::settings::Settings;

/// How often the job looks at the clock.
const CHECK_EVERY: Duration = Duration::from_secs(300);

struct Daily {
    settings: Arc<Settings>,
    db: DatabaseConnection,
    /// Weak: the job never keeps the store (and its file lock) alive.
    store: Weak<Store>,
    clock: Arc<dyn Clock>,
    /// The local day of the last backup this process wrote.
    last: Mutex<Option<NaiveDate>>,
}

/// The job, when `[backup] hour` is set.
pub fn job(app: &App) -> Option<Job> {
    app.settings.backup.hour?;
    let daily = Arc::new(Daily {
        settings: app.settings.clone(),
        db: app.db.clone(),
        store: Arc::downgrade(&app.store),
        clock: app.clock.clone(),
        last: Mutex::new(None),
    });
    Some(Job::new(
        "backup.daily",
        CHECK_EVERY,
        daily,
        |d| async move {
            d.tick().await;
        },
    ))
}

/// Whether a backup is due: at the configured hour, once per local day.
pub fn due(hour_now: u32, hour: u8, today: NaiveDate, last: Option<NaiveDate>) -> bool {
    hour_now == u32::from(hour) && last != Some(today)
}

impl Daily {
    async fn tick(&self) {
        let Some(hour) = self.settings.backup.hour else {
            return;
        };
        let now = self.clock.now();
        let local = now.with_timezone(&self.settings.tz());
        let today = local.date_naive();
        let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
        if !due(local.hour(), hour, today, last) {
            return;
        }
        let Some(store) = self.store.upgrade() else {
            return;
        };
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(today);
        let to = self.settings.backup.dir_in(&self.settings.data_dir);
        match super::create(&self.settings, &self.db, None, &to, now, Some(&store)).await {
            Ok(dir) => {
                tracing::info!(dir = %dir.display(), "daily backup written");
                match prune(&to, self.settings.backup.keep) {
                    Ok(removed) if !removed.is_empty() => {
                        tracing::info!(removed = removed.len(), "old backups deleted");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "deleting old backups failed"),
                }
            }
            Err(error) => tracing::error!(%error, "daily backup failed"),
        }
    }
}

/// Deletes the oldest backup archives in `dir` beyond `keep` (0 keeps all). Only files named as
/// this code names them count (`lpsaring-backup-<time>.tar`). Returns what went.
pub fn prune(dir: &Path, keep: u32) -> Result<Vec<PathBuf>, String> {
    if keep == 0 {
        return Ok(Vec::new());
    }
    let mut archives: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(super::PREFIX) && n.ends_with(".tar"))
        })
        .collect();
    // The names carry a sortable UTC time: oldest first.
    archives.sort();
    let excess = archives.len().saturating_sub(keep as usize);
    let old: Vec<PathBuf> = archives.into_iter().take(excess).collect();
    for archive in &old {
        std::fs::remove_file(archive)
            .map_err(|e| format!("cannot delete {}: {e}", archive.display()))?;
    }
    Ok(old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_once_a_day_at_the_hour() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let yesterday = today.pred_opt().unwrap();
        assert!(due(3, 3, today, None));
        assert!(due(3, 3, today, Some(yesterday)));
        assert!(!due(3, 3, today, Some(today)), "twice the same day");
        assert!(!due(4, 3, today, None), "another hour");
    }

    #[test]
    fn prune_keeps_the_newest_backups_only() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "lpsaring-backup-20261128T030000Z.tar",
            "lpsaring-backup-20261129T030000Z.tar",
            "lpsaring-backup-20261130T030000Z.tar",
            "lpsaring-backup-20261201T030000Z.tar",
            // Not ours: another name, a partial archive.
            "photos.tar",
            ".lpsaring-backup-20261202T030000Z.tar.partial",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let removed = prune(dir.path(), 2).unwrap();
        let names: Vec<_> = removed
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "lpsaring-backup-20261128T030000Z.tar",
                "lpsaring-backup-20261129T030000Z.tar"
            ]
        );
        for kept in [
            "lpsaring-backup-20261130T030000Z.tar",
            "lpsaring-backup-20261201T030000Z.tar",
            "photos.tar",
            ".lpsaring-backup-20261202T030000Z.tar.partial",
        ] {
            assert!(dir.path().join(kept).is_file(), "{kept}");
        }
        assert!(prune(dir.path(), 0).unwrap().is_empty(), "0 keeps all");
    }
}
