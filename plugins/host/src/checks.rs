//! File checks done before a library is opened: opening runs its code, so a file anyone could have
//! replaced must never get that far.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::report::RefuseReason;

/// The effective uid of this process, read from `/proc/self` (owned by the process's euid), which
/// avoids a libc call and so another `unsafe` block.
pub(crate) fn service_uid() -> Option<u32> {
    fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// A plugin directory must not let anyone drop or replace files (sticky world-writable is
/// tolerated: others may add files there, but those fail the owner check).
pub(crate) fn check_plugin_dir(dir: &Path) -> Result<(), RefuseReason> {
    let meta = fs::metadata(dir).map_err(|e| RefuseReason::Unreadable(e.to_string()))?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o002 != 0 && mode & 0o1000 == 0 {
        return Err(RefuseReason::DirectoryWorldWritable { mode });
    }
    Ok(())
}

/// A plugin file must be a regular file, not world-writable, owned by root or the service user.
pub(crate) fn check_plugin_file(file: &Path) -> Result<(), RefuseReason> {
    let meta = fs::metadata(file).map_err(|e| RefuseReason::Unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(RefuseReason::NotAFile);
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o002 != 0 {
        return Err(RefuseReason::WorldWritable { mode });
    }
    let service = service_uid().unwrap_or(0);
    if meta.uid() != 0 && meta.uid() != service {
        return Err(RefuseReason::BadOwner {
            owner: meta.uid(),
            service,
        });
    }
    Ok(())
}
