//! Writing the site into its folder without harming anything else there.
//!
//! The folder keeps a marker file listing what the last run wrote. A run writes each
//! file atomically (a fresh temporary file beside it, opened without following links,
//! then a rename), leaves files whose bytes did not change untouched, and at the end
//! removes the files the last run wrote and this one did not. Nothing else is ever
//! removed: not files someone added (a `CNAME`), not anything outside the folder, and a
//! symbolic link inside it is never followed: one where a file or folder of the site
//! goes refuses the run, one at a temporary name is stepped around.
//!
//! A folder that is neither new, empty nor marked is refused unless forced, so a typo in
//! `--out` cannot scatter pages into a home directory.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::SiteError;
use crate::nofollow;

/// The marker file: its presence says the folder is a clausewatch site; its lines list
/// the files the last run wrote.
pub const MARKER: &str = ".clausewatch-site";

const MARKER_HEADER: &str = "\
# Written by `clausewatch site`. The files listed below are its output: a later run
# removes those it no longer writes. Files not listed here are never touched.
";

/// What a finished run did to the folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Files written because they were new or their bytes changed.
    pub written: usize,
    /// Files whose bytes were already there.
    pub unchanged: usize,
    /// Files of the last run that this run did not write, now removed.
    pub removed: usize,
}

/// Writes a site's files into one folder.
#[derive(Debug)]
pub struct SiteWriter {
    root: PathBuf,
    previous: BTreeSet<String>,
    files: BTreeSet<String>,
    /// Folders known to exist below the root and to be real folders, not links.
    checked_dirs: HashSet<PathBuf>,
    summary: WriteSummary,
}

impl SiteWriter {
    /// Opens (or creates) `root`. A folder that has files but no marker is refused
    /// unless `force`.
    pub fn open(root: &Path, force: bool) -> Result<SiteWriter, SiteError> {
        let io_error = |source| SiteError::Io {
            path: root.to_path_buf(),
            source,
        };
        let mut previous = BTreeSet::new();
        match fs::metadata(root) {
            Ok(meta) if !meta.is_dir() => {
                return Err(SiteError::NotAFolder {
                    path: root.to_path_buf(),
                });
            }
            Ok(_) => {
                let marker = root.join(MARKER);
                match fs::symlink_metadata(&marker) {
                    // Never read through it, and never replace it: the folder is not
                    // ours to repair.
                    Ok(meta) if meta.file_type().is_symlink() => return Err(SiteError::InTheWay { path: marker }),
                    Ok(meta) if meta.is_file() => {
                        let listing = nofollow::read(&marker)
                            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                            .map_err(|source| SiteError::Io {
                                path: marker.clone(),
                                source,
                            })?;
                        previous = listing
                            .lines()
                            .filter(|l| !l.is_empty() && !l.starts_with('#'))
                            .filter(|l| is_safe_relative(l))
                            .map(str::to_string)
                            .collect();
                    }
                    _ => {
                        let empty = fs::read_dir(root).map_err(io_error)?.next().is_none();
                        if !empty && !force {
                            return Err(SiteError::ForeignFolder {
                                dir: root.to_path_buf(),
                            });
                        }
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir_all(root).map_err(io_error)?,
            Err(e) => return Err(io_error(e)),
        }
        Ok(SiteWriter {
            root: root.to_path_buf(),
            previous,
            files: BTreeSet::new(),
            checked_dirs: HashSet::new(),
            summary: WriteSummary::default(),
        })
    }

    /// Writes one file; `relative` uses `/` and names a path inside the folder.
    pub fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<(), SiteError> {
        assert!(
            is_safe_relative(relative),
            "site path {relative:?} is not a plain relative path"
        );
        assert!(
            self.files.insert(relative.to_string()),
            "site path {relative:?} written twice"
        );
        let path = self.root.join(relative);
        if let Some(parent) = Path::new(relative).parent() {
            self.ensure_dir(parent)?;
        }
        let io_error = |source| SiteError::Io {
            path: path.clone(),
            source,
        };
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {
                if meta.len() == bytes.len() as u64 && nofollow::read(&path).map_err(io_error)? == bytes {
                    self.summary.unchanged += 1;
                    return Ok(());
                }
            }
            Ok(_) => return Err(SiteError::InTheWay { path }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(e)),
        }
        replace_file(&path, bytes)?;
        self.summary.written += 1;
        Ok(())
    }

    /// Creates the folders of `relative` below the root, refusing to pass through a
    /// symbolic link or a file.
    fn ensure_dir(&mut self, relative: &Path) -> Result<(), SiteError> {
        let mut current = PathBuf::new();
        for component in relative.components() {
            current.push(component);
            if self.checked_dirs.contains(&current) {
                continue;
            }
            let path = self.root.join(&current);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(SiteError::InTheWay { path }),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir(&path).map_err(|source| SiteError::Io { path, source })?;
                }
                Err(source) => return Err(SiteError::Io { path, source }),
            }
            self.checked_dirs.insert(current.clone());
        }
        Ok(())
    }

    /// Records what this run wrote and removes what only the last run wrote.
    pub fn finish(mut self) -> Result<WriteSummary, SiteError> {
        let stale: Vec<String> = self.previous.difference(&self.files).cloned().collect();
        // List both runs' files until the stale ones are gone, so an interrupted run
        // leaves nothing behind that a later run would not clean up.
        let both: BTreeSet<String> = self.previous.union(&self.files).cloned().collect();
        self.write_marker(&both)?;
        for relative in &stale {
            if self.remove_stale(relative)? {
                self.summary.removed += 1;
            }
        }
        let files = std::mem::take(&mut self.files);
        self.write_marker(&files)?;
        Ok(self.summary)
    }

    fn write_marker(&self, files: &BTreeSet<String>) -> Result<(), SiteError> {
        let mut listing = String::from(MARKER_HEADER);
        for file in files {
            listing.push_str(file);
            listing.push('\n');
        }
        let path = self.root.join(MARKER);
        if nofollow::is_symlink(&path).map_err(|source| SiteError::Io {
            path: path.clone(),
            source,
        })? {
            return Err(SiteError::InTheWay { path });
        }
        replace_file(&path, listing.as_bytes())
    }

    /// Removes a file an earlier run wrote, and the folders that leaves empty. Only
    /// plain files below real folders: a link there now was put by someone else, and is
    /// left alone (never followed, never deleted).
    fn remove_stale(&self, relative: &str) -> Result<bool, SiteError> {
        let mut dir = self.root.clone();
        let parents: Vec<&str> = relative.split('/').collect();
        for part in &parents[..parents.len() - 1] {
            dir.push(part);
            match fs::symlink_metadata(&dir) {
                Ok(meta) if meta.is_dir() => {}
                // A link or file where a folder was: the file is not ours to chase.
                _ => return Ok(false),
            }
        }
        let path = self.root.join(relative);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {
                fs::remove_file(&path).map_err(|source| SiteError::Io {
                    path: path.clone(),
                    source,
                })?;
            }
            _ => return Ok(false),
        }
        // Folders left empty go too, up to (not including) the root.
        let mut parent = Path::new(relative).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            if fs::remove_dir(self.root.join(p)).is_err() {
                break;
            }
            parent = p.parent();
        }
        Ok(true)
    }
}

/// Replaces `path` (checked not to be a link) through a fresh temporary file beside it,
/// so a reader never sees half a page and a link at the temporary name is never written
/// through.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), SiteError> {
    nofollow::replace(path, bytes).map_err(|source| SiteError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A relative path of plain names (`a/b.html`): no root, `..`, `.` or empty parts.
fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && path.split('/').all(|part| !part.is_empty())
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_safe() {
        assert!(is_safe_relative("index.html"));
        assert!(is_safe_relative("documents/acme/privacy-policy/index.html"));
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "a\\b"] {
            assert!(!is_safe_relative(bad), "{bad:?}");
        }
    }

    #[test]
    fn stale_files_go_and_foreign_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        let mut writer = SiteWriter::open(&root, false).unwrap();
        writer.write("index.html", b"one").unwrap();
        writer.write("a/b/old.html", b"old").unwrap();
        assert_eq!(writer.finish().unwrap().written, 2);
        fs::write(root.join("CNAME"), "example.org").unwrap();

        let mut writer = SiteWriter::open(&root, false).unwrap();
        writer.write("index.html", b"one").unwrap();
        let summary = writer.finish().unwrap();
        assert_eq!(
            summary,
            WriteSummary {
                written: 0,
                unchanged: 1,
                removed: 1
            }
        );
        assert!(!root.join("a").exists(), "emptied folders are removed");
        assert!(root.join("CNAME").exists(), "a file we did not write stays");
        let marker = fs::read_to_string(root.join(MARKER)).unwrap();
        assert!(marker.ends_with("\nindex.html\n"), "{marker}");
    }

    #[test]
    fn a_foreign_folder_is_refused_unless_forced_and_never_emptied() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            SiteWriter::open(dir.path(), false),
            Err(SiteError::ForeignFolder { .. })
        ));
        let mut writer = SiteWriter::open(dir.path(), true).unwrap();
        writer.write("index.html", b"x").unwrap();
        writer.finish().unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "mine");
        // Marked now: no force needed, and the listing cannot reach outside.
        fs::write(
            dir.path().join(MARKER),
            "index.html\n../outside.txt\n/etc/hostname\nnotes/../../x\n",
        )
        .unwrap();
        let writer = SiteWriter::open(dir.path(), false).unwrap();
        assert_eq!(writer.previous, BTreeSet::from(["index.html".to_string()]));
    }

    #[cfg(unix)]
    #[test]
    fn links_inside_the_folder_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("page.html"), "keep").unwrap();
        let root = dir.path().join("site");
        let mut writer = SiteWriter::open(&root, false).unwrap();
        writer.write("docs/page.html", b"ours").unwrap();
        writer.finish().unwrap();
        fs::remove_dir_all(root.join("docs")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("docs")).unwrap();

        let mut writer = SiteWriter::open(&root, false).unwrap();
        assert!(matches!(
            writer.write("docs/page.html", b"ours"),
            Err(SiteError::InTheWay { .. })
        ));
        let writer = SiteWriter::open(&root, false).unwrap();
        assert_eq!(writer.finish().unwrap().removed, 0);
        assert_eq!(fs::read_to_string(outside.join("page.html")).unwrap(), "keep");

        // A stale file of the last run that is a link now is neither followed nor removed.
        let mut writer = SiteWriter::open(&root, false).unwrap();
        writer.write("old.html", b"ours").unwrap();
        writer.finish().unwrap();
        fs::remove_file(root.join("old.html")).unwrap();
        std::os::unix::fs::symlink(outside.join("page.html"), root.join("old.html")).unwrap();
        let writer = SiteWriter::open(&root, false).unwrap();
        assert_eq!(writer.finish().unwrap().removed, 0);
        assert!(root.join("old.html").is_symlink());
        assert_eq!(fs::read_to_string(outside.join("page.html")).unwrap(), "keep");
    }
}
