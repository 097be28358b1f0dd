//! One run at a time per archive.
//!
//! The lock is an OS file lock (`flock`) on a file in the repository's git folder, so it
//! is invisible to `git status` and released by the kernel when the process dies: a
//! killed run can never leave a lock that blocks the next one.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::ArchiveError;

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct ArchiveLock {
    _file: File,
    path: PathBuf,
}

impl ArchiveLock {
    pub(super) fn acquire(git_dir: &Path, archive_root: &Path) -> Result<ArchiveLock, ArchiveError> {
        // One lock per archive folder: two archives in one repository may run side by
        // side, but their commits still serialize through git's own ref locking.
        let digest = Sha256::digest(archive_root.to_string_lossy().as_bytes());
        let path = git_dir.join(format!("clausewatch-{}.lock", &hex::encode(digest)[..16]));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| ArchiveError::Io {
                context: format!("cannot open {}", path.display()),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    String::new()
                } else {
                    format!(", held by {holder}")
                };
                return Err(ArchiveError::Locked {
                    path: path.display().to_string(),
                    holder,
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(ArchiveError::Io {
                    context: format!("cannot lock {}", path.display()),
                    source,
                });
            }
        }
        // Who holds it, for the message another run shows; informative only.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "process {}", std::process::id());
        Ok(ArchiveLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
