//! Reading a file that may come from someone else (the archive's settings and taxonomy,
//! an imported declaration) as what it claims to be: a regular file of bounded size.
//!
//! Archive contents are untrusted (docs/architecture.md): a file committed as a symbolic
//! link could make clausewatch read anything on the machine, and a link to `/dev/zero`
//! would make it allocate until memory runs out. The name is opened with `O_NOFOLLOW`
//! (a link there fails the open) and `O_NONBLOCK` (a FIFO does not hang the open), then
//! the open file must be a regular file, and no more than the cap is ever read.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _};
use std::path::Path;

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

/// Opens `path` for reading, failing when its last component is a symbolic link.
pub fn open_nofollow(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The bytes of the regular file at `path`, at most `max` of them.
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let file = match open_nofollow(path) {
        Ok(file) => file,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(ReadError::Symlink),
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
    // The file may grow after the look at its size: one byte past the cap tells.
    let mut bytes = Vec::new();
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

#[cfg(test)]
mod tests {
    use super::*;

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
