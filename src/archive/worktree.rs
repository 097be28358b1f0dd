//! Writing into the working tree without ever following a symbolic link.
//!
//! `track` runs on scheduled CI against a repository that anyone with push access can
//! change, so every path under the archive is untrusted: a folder or a file committed as
//! a link could send a write anywhere on the runner. Each folder on the way is checked
//! from the work tree's root down (and created one at a time, never with
//! `create_dir_all`, which follows links); files are written to a fresh temporary name
//! opened with `O_CREAT | O_EXCL | O_NOFOLLOW`, then renamed over the target, which must
//! not be a link itself.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use super::ArchiveError;

/// The folder of `repo_dir` (a `/`-separated path relative to `workdir`), each component
/// checked not to be a symbolic link. Missing folders are created when `create`, one
/// component at a time; otherwise `None` says the folder does not exist.
pub(super) fn checked_dir(workdir: &Path, repo_dir: &str, create: bool) -> Result<Option<PathBuf>, ArchiveError> {
    let mut path = workdir.to_path_buf();
    let mut shown = String::new();
    for part in repo_dir.split('/').filter(|p| !p.is_empty()) {
        if part == "." || part == ".." || part.contains('\\') {
            return Err(ArchiveError::Escapes {
                path: repo_dir.to_string(),
            });
        }
        path.push(part);
        if !shown.is_empty() {
            shown.push('/');
        }
        shown.push_str(part);
        match fs::symlink_metadata(&path) {
            Ok(meta) => check_folder(&meta, &shown)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !create {
                    return Ok(None);
                }
                match fs::create_dir(&path) {
                    Ok(()) => {}
                    // Created meanwhile by someone else: check what it is.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        let meta = fs::symlink_metadata(&path).map_err(super::io(format!("cannot read {shown}")))?;
                        check_folder(&meta, &shown)?;
                    }
                    Err(source) => {
                        return Err(ArchiveError::Io {
                            context: format!("cannot create the folder {shown}"),
                            source,
                        });
                    }
                }
            }
            Err(source) => {
                return Err(ArchiveError::Io {
                    context: format!("cannot read {shown}"),
                    source,
                });
            }
        }
    }
    Ok(Some(path))
}

fn check_folder(meta: &fs::Metadata, shown: &str) -> Result<(), ArchiveError> {
    if meta.file_type().is_symlink() {
        return Err(ArchiveError::Symlink {
            path: shown.to_string(),
            kind: "folder",
        });
    }
    if !meta.is_dir() {
        return Err(ArchiveError::NotAFolder {
            path: shown.to_string(),
        });
    }
    Ok(())
}

/// Refuses a file path (`repo_path`, at `path`) that is a symbolic link: renaming over
/// it would silently replace a committed link, and writing into it would follow it.
pub(super) fn check_file(path: &Path, repo_path: &str) -> Result<(), ArchiveError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(ArchiveError::Symlink {
            path: repo_path.to_string(),
            kind: "file",
        }),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `repo_path` under `workdir` atomically (a fresh temporary file,
/// then a rename) so a crash never leaves half a version. Returns where it wrote.
pub(super) fn write_file(workdir: &Path, repo_path: &str, bytes: &[u8]) -> Result<PathBuf, ArchiveError> {
    let (parent, name) = repo_path.rsplit_once('/').unwrap_or(("", repo_path));
    let dir = checked_dir(workdir, parent, true)?.unwrap_or_else(|| workdir.to_path_buf());
    let path = dir.join(name);
    check_file(&path, repo_path)?;
    let (mut file, temp) =
        create_temp(&dir, name).map_err(super::io(format!("cannot create a temporary file next to {repo_path}")))?;
    let written = file.write_all(bytes).and_then(|()| file.flush());
    drop(file);
    if let Err(source) = written {
        // A full disk must not leave the partial file behind.
        let _ = fs::remove_file(&temp);
        return Err(ArchiveError::Io {
            context: format!("cannot write {repo_path}"),
            source,
        });
    }
    if let Err(source) = fs::rename(&temp, &path) {
        let _ = fs::remove_file(&temp);
        return Err(ArchiveError::Io {
            context: format!("cannot write {repo_path}"),
            source,
        });
    }
    Ok(path)
}

/// Opens a new file that did not exist, never through a link.
fn open_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Reads a regular file without following a link at its name.
pub(super) fn read_nofollow(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    crate::regular_file::open_nofollow(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A fresh temporary file in `dir` for `name`: `.name.clausewatch-tmp`, or a numbered
/// variant when something else holds that name (a link committed there is left alone).
fn create_temp(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    let base = format!(".{name}.clausewatch-tmp");
    for attempt in 0..16u32 {
        let candidate = if attempt == 0 {
            base.clone()
        } else {
            format!("{base}.{attempt}")
        };
        let path = dir.join(candidate);
        match open_new(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // A regular file there is what a killed run left behind: replace it
                // (unlinking never follows a link). Anything else is not ours.
                if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
                    fs::remove_file(&path)?;
                    if let Ok(file) = open_new(&path) {
                        return Ok((file, path));
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("every temporary name for {name} is taken"),
    ))
}
