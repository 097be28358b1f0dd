//! Opening, reading and replacing files without ever following a symbolic link at their
//! name.
//!
//! The archive, a kept site folder and an export folder can all come from someone else
//! (a repository anyone with push access changes, an export received to continue), so a
//! link committed at a file's name, or at the temporary name beside it, could send a
//! write anywhere on the machine. Every file is opened with `O_NOFOLLOW`; new contents go
//! to a fresh temporary name opened with `O_CREAT | O_EXCL`, then are renamed over the
//! target, which the caller has checked is not a link.
//!
//! A file read whole from such a place (the archive's settings and taxonomy, an imported
//! declaration) is also read as what it claims to be, a regular file of bounded size
//! ([`read_capped`]): a link to `/dev/zero` would otherwise be read until memory runs
//! out. Reads open with `O_NONBLOCK` too, so a FIFO at the name does not hang the open.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

/// `options` with `O_NOFOLLOW` where the platform has it.
fn no_follow(mut options: OpenOptions) -> OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Whether an open failed because the name is a symbolic link (`O_NOFOLLOW` says `ELOOP`).
pub fn is_link_error(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        error.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// Whether `path` is a symbolic link (a missing path is not).
pub fn is_symlink(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) => Ok(meta.file_type().is_symlink()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Opens a new file that did not exist, never through a link.
pub fn open_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    no_follow(options).open(path)
}

/// Opens a file for reading, never through a link, and without blocking on a FIFO.
pub fn open_read(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    let options = no_follow(options);
    options.open(path)
}

/// Opens a file to append to, creating it when missing, never through a link.
pub fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    no_follow(options).open(path)
}

/// Opens an existing file for writing without truncating it, never through a link.
pub fn open_write(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    no_follow(options).open(path)
}

/// Reads a file without following a link at its name.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_read(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("is a symbolic link; it must be a regular file (a link could point anywhere on this machine)")]
    Symlink,
    #[error("is not a regular file")]
    NotAFile,
    #[error("is larger than {max} bytes, the most accepted for this file")]
    TooLarge { max: u64 },
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

/// The regular file at `path`, opened for reading, and its metadata (read from the open
/// file, so it describes what will be read), if it holds at most `max` bytes: for a
/// caller that streams the file rather than holding it whole ([`read_capped`] reads
/// it). Read it through `take(max + 1)`: the file may grow after the look at its size.
pub fn open_regular(path: &Path, max: u64) -> Result<(File, fs::Metadata), ReadError> {
    let file = match open_read(path) {
        Ok(file) => file,
        Err(e) if is_link_error(&e) => return Err(ReadError::Symlink),
        Err(e) => return Err(e.into()),
    };
    #[cfg(not(unix))]
    if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(ReadError::Symlink);
    }
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(ReadError::NotAFile);
    }
    if metadata.len() > max {
        return Err(ReadError::TooLarge { max });
    }
    Ok((file, metadata))
}

/// The bytes of the regular file at `path`, at most `max` of them.
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let (file, metadata) = open_regular(path, max)?;
    // The file may grow after the look at its size: one byte past the cap tells.
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge { max });
    }
    Ok(bytes)
}

/// [`read_capped`], as UTF-8 text.
pub fn read_capped_text(path: &Path, max: u64) -> Result<String, ReadError> {
    String::from_utf8(read_capped(path, max)?).map_err(|_| {
        ReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// A fresh temporary file in `dir` for `name`: `.name.clausewatch-tmp`, or a numbered
/// variant when something else holds that name (a link found there is left alone and
/// never written through).
pub fn create_temp(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
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

/// Writes `bytes` to a fresh temporary file beside `dir/name` and flushes it to disk;
/// returns its path for the caller to rename over the target once that is checked. A
/// failed write removes the partial file.
pub fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let (mut file, temp) = create_temp(dir, name)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    Ok(temp)
}

/// Replaces `path` with `bytes`: written to a fresh temporary file beside it (see
/// [`write_temp`]), then renamed over it, so a reader never sees half a file and no
/// write goes through a link. The rename replaces a link at `path` itself, so a caller
/// that must refuse one there checks first.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => (
            if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            },
            name,
        ),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} names no file", path.display()),
            ));
        }
    };
    let temp = write_temp(dir, &name.to_string_lossy(), bytes)?;
    fs::rename(&temp, path).inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_link_at_a_name_is_never_opened_through() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        fs::write(&outside, "keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        for result in [open_append(&link), open_write(&link), open_read(&link), open_new(&link)] {
            let error = result.unwrap_err();
            assert!(
                is_link_error(&error) || error.kind() == io::ErrorKind::AlreadyExists,
                "{error}"
            );
        }
        assert!(is_symlink(&link).unwrap());
        assert!(!is_symlink(&dir.path().join("missing")).unwrap());
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
    }

    #[test]
    fn replace_swaps_the_whole_file_and_never_writes_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        fs::write(&outside, "keep").unwrap();
        std::os::unix::fs::symlink(&outside, dir.path().join(".page.html.clausewatch-tmp")).unwrap();
        let page = dir.path().join("page.html");
        fs::write(&page, "old").unwrap();
        replace(&page, b"new").unwrap();
        assert_eq!(fs::read_to_string(&page).unwrap(), "new");
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
        assert!(
            !dir.path().join(".page.html.clausewatch-tmp.1").exists(),
            "renamed away"
        );
    }

    #[test]
    fn a_link_at_the_temporary_name_is_stepped_around() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        fs::write(&outside, "keep").unwrap();
        std::os::unix::fs::symlink(&outside, dir.path().join(".a.csv.clausewatch-tmp")).unwrap();
        // What a killed run left behind is replaced.
        fs::write(dir.path().join(".a.csv.clausewatch-tmp.1"), "stale").unwrap();
        let temp = write_temp(dir.path(), "a.csv", b"new").unwrap();
        assert_eq!(temp, dir.path().join(".a.csv.clausewatch-tmp.1"));
        assert_eq!(fs::read_to_string(&temp).unwrap(), "new");
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
    }

    #[test]
    fn reads_a_small_regular_file_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settings.toml");
        std::fs::write(&file, "abc").unwrap();
        assert_eq!(read_capped(&file, 3).unwrap(), b"abc");
        assert!(matches!(read_capped(&file, 2), Err(ReadError::TooLarge { max: 2 })));
        assert!(read_capped(&dir.path().join("absent"), 3).unwrap_err().is_not_found());
        assert!(matches!(read_capped(dir.path(), 3), Err(ReadError::NotAFile)));
        #[cfg(unix)]
        {
            let link = dir.path().join("link.toml");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert!(matches!(read_capped(&link, 3), Err(ReadError::Symlink)));
            let zero = dir.path().join("zero.toml");
            std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
            assert!(matches!(read_capped(&zero, 3), Err(ReadError::Symlink)));
        }
        #[cfg(target_os = "linux")]
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 3),
            Err(ReadError::NotAFile)
        ));
    }
}
