//! Recording many versions in one pass.
//!
//! A version is one commit (docs/architecture.md#commits-and-trailers), but the work around a commit need not be repeated
//! for each: the recorder keeps the tip's tree in memory instead of reading HEAD again,
//! gives the index the blob ids it already knows instead of having it hash the files
//! again, and writes the index and moves the branch once per batch, not once per commit.
//! With thousands of documents that is the difference between linear and quadratic: the
//! index has two entries per document and used to be rewritten whole after every commit.
//!
//! The order of writes keeps a killed run safe: the working-tree files of a batch are
//! written first, then the commit objects, then the index, and the branch moves last.
//! A kill before the branch moves leaves the new texts as uncommitted changes, which the
//! next run records again (their snapshots differ from HEAD's); HEAD never names a commit
//! whose files the checkout lacks.

use std::fs;
use std::path::Path;

use chrono::{DateTime, Utc};
use git2::{FileMode, IndexEntry, IndexTime, Oid, Tree};

use super::{Archive, ArchiveError, Identity, NewVersion, signature};

/// How many commits a batch holds before the index is written and the branch moved: a
/// bound on the work a kill can undo, and on the memory of pending index entries.
const BATCH: usize = 256;

/// Records versions on the current branch, in batches. Call [`finish`](Self::finish) at
/// the end: dropping a recorder without it leaves the last batch uncommitted (its files
/// are in the working tree; the next run records them again).
pub struct Recorder<'a> {
    archive: &'a Archive,
    /// The reference that HEAD points at (`refs/heads/main`); a detached HEAD is refused.
    branch: String,
    /// Where the branch was when this recorder last moved it (or found it).
    branch_at: Option<Oid>,
    /// The last commit made, and its tree: the parent and baseline of the next.
    tip: Option<Oid>,
    tree: Tree<'a>,
    /// Index changes of the batch, applied at the next flush.
    entries: Vec<IndexEntry>,
    removed: Vec<String>,
    unflushed: usize,
}

impl<'a> Recorder<'a> {
    pub(super) fn new(archive: &'a Archive) -> Result<Recorder<'a>, ArchiveError> {
        let repo = &archive.repo;
        let branch = archive.branch()?;
        let tip = archive.head_commit()?;
        let tree = match &tip {
            Some(commit) => commit.tree()?,
            None => repo.find_tree(repo.treebuilder(None)?.write()?)?,
        };
        let tip = tip.map(|c| c.id());
        Ok(Recorder {
            archive,
            branch,
            branch_at: tip,
            tip,
            tree,
            entries: Vec::new(),
            removed: Vec::new(),
            unflushed: 0,
        })
    }

    /// Records one version as one commit, authored at `authored`, committed at `now`.
    /// Returns the commit id; the branch reaches it at the next flush.
    pub fn record(
        &mut self,
        version: &NewVersion,
        identity: &Identity,
        authored: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Oid, ArchiveError> {
        let archive = self.archive;
        let repo = &archive.repo;
        let version_path = archive.version_path(&version.service, &version.doc_type);
        let snapshot_dir = archive.snapshot_dir(&version.service);
        let snapshot_path = format!("{snapshot_dir}/{}.{}", version.doc_type, version.snapshot_ext);

        let mut update = git2::build::TreeUpdateBuilder::new();
        update.upsert(version_path.as_str(), version.text_blob, FileMode::Blob);
        update.upsert(snapshot_path.as_str(), version.snapshot_blob, FileMode::Blob);
        // A document that moved from HTML to PDF keeps one snapshot, not two.
        let stale = self.stale_snapshots(&snapshot_dir, &version.doc_type, version.snapshot_ext)?;
        for path in &stale {
            update.remove(path.as_str());
            // Unlinking never follows a link at the name; the folders on the way are checked.
            let _ = fs::remove_file(archive.checked_file(path)?);
            self.removed.push(path.clone());
        }

        for (path, blob) in [
            (&version_path, version.text_blob),
            (&snapshot_path, version.snapshot_blob),
        ] {
            let file = archive.write_worktree_file(path, repo.find_blob(blob)?.content())?;
            let meta = fs::metadata(&file).map_err(super::io(format!("cannot read {}", file.display())))?;
            self.entries.push(index_entry(path, blob, &meta));
        }

        let tree = repo.find_tree(update.create_updated(repo, &self.tree)?)?;
        let parent = self.tip.map(|id| repo.find_commit(id)).transpose()?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let oid = repo
            .commit(
                None,
                &signature(identity, authored)?,
                &signature(identity, now)?,
                &version.message.render(),
                &tree,
                &parents,
            )
            .map_err(super::git("cannot write the commit"))?;
        self.tip = Some(oid);
        self.tree = tree;
        self.unflushed += 1;
        if self.unflushed >= BATCH {
            self.flush()?;
        }
        Ok(oid)
    }

    /// Writes the batch's index changes and moves the branch to the last commit.
    pub fn finish(mut self) -> Result<(), ArchiveError> {
        self.flush()
    }

    fn flush(&mut self) -> Result<(), ArchiveError> {
        if self.unflushed == 0 {
            return Ok(());
        }
        let repo = &self.archive.repo;
        // Read again (a no-op unless the file changed): what the user staged meanwhile
        // stays staged.
        let mut index = repo.index()?;
        index.read(false)?;
        for path in self.removed.drain(..) {
            let _ = index.remove_path(Path::new(&path));
        }
        for entry in self.entries.drain(..) {
            index.add(&entry)?;
        }
        index.write().map_err(super::git("cannot write the git index"))?;

        let tip = self.tip.expect("a batch has commits");
        let message = format!("clausewatch: {} version(s)", self.unflushed);
        // Compare and swap: another process that moved the branch meanwhile is not
        // overwritten; this run stops and the next records its versions again.
        let moved = match self.branch_at {
            Some(current) => repo.reference_matching(&self.branch, tip, true, current, &message),
            None => repo.reference(&self.branch, tip, false, &message),
        };
        match moved {
            Ok(_) => {}
            Err(e) if matches!(e.code(), git2::ErrorCode::Modified | git2::ErrorCode::Exists) => {
                return Err(ArchiveError::Raced);
            }
            Err(e) => return Err(e.into()),
        }
        self.branch_at = Some(tip);
        self.unflushed = 0;
        Ok(())
    }

    /// The other snapshots of `doc_type` in the tip's tree (`terms.pdf` when `terms.html`
    /// is recorded).
    fn stale_snapshots(&self, snapshot_dir: &str, doc_type: &str, ext: &str) -> Result<Vec<String>, ArchiveError> {
        let Ok(entry) = self.tree.get_path(Path::new(snapshot_dir)) else {
            return Ok(Vec::new());
        };
        let Ok(dir) = self.archive.repo.find_tree(entry.id()) else {
            return Ok(Vec::new());
        };
        let keep = format!("{doc_type}.{ext}");
        Ok(dir
            .iter()
            .filter_map(|e| e.name().ok().map(str::to_string))
            .filter(|name| {
                name != &keep
                    && name
                        .strip_prefix(doc_type)
                        .is_some_and(|rest| rest.starts_with('.') && !rest[1..].contains('.'))
            })
            .map(|name| format!("{snapshot_dir}/{name}"))
            .collect())
    }
}

/// The index entry of a file just written with a known blob id: with the file's stat
/// data, git sees it as clean without hashing it again.
fn index_entry(path: &str, id: Oid, meta: &fs::Metadata) -> IndexEntry {
    #[cfg(unix)]
    let (ctime, mtime, dev, ino, uid, gid) = {
        use std::os::unix::fs::MetadataExt as _;
        // The index stores 32-bit fields; git truncates the same way.
        (
            IndexTime::new(meta.ctime() as i32, meta.ctime_nsec() as u32),
            IndexTime::new(meta.mtime() as i32, meta.mtime_nsec() as u32),
            meta.dev() as u32,
            meta.ino() as u32,
            meta.uid(),
            meta.gid(),
        )
    };
    #[cfg(not(unix))]
    let (ctime, mtime, dev, ino, uid, gid) = (IndexTime::new(0, 0), IndexTime::new(0, 0), 0, 0, 0, 0);
    IndexEntry {
        ctime,
        mtime,
        dev,
        ino,
        mode: 0o100_644,
        uid,
        gid,
        file_size: meta.len() as u32,
        id,
        // The low 12 bits hold the path length (0xFFF when longer).
        flags: path.len().min(0xFFF) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}
