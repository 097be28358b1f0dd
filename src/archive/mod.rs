//! The git store (docs/architecture.md#the-archive-layout, #commits-and-trailers): where an archive lives, reading its current versions,
//! and recording new ones as one commit each.
//!
//! Commits are built from HEAD's tree, never from the index, so whatever the user has
//! staged or changed elsewhere in the repository is neither committed nor lost; only the
//! recorded paths are then updated in the index and the working tree.

pub mod history;
mod lock;
pub mod message;
mod recorder;
pub mod reference;
pub mod snapshot;
mod worktree;

use std::fs;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use git2::{FileMode, Oid, Repository, Signature, Time};

pub use lock::ArchiveLock;
pub use message::{ChangeKind, ProvisionShift, ShiftKind, VersionMessage};
pub use recorder::Recorder;

/// What can go wrong with the archive itself (not with one document).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path} is not inside a git repository: run `clausewatch init {path}` first")]
    NotARepository { path: String },
    #[error("no archive at {path}: run `clausewatch init` to create one, or pass --archive DIR")]
    NoArchive { path: String },
    #[error("the repository at {path} is bare; an archive needs a working tree")]
    Bare { path: String },
    #[error("{path} resolves outside the archive folder (a symbolic link?); refusing to write there")]
    Escapes { path: String },
    /// A path under the archive is a link: the repository's content is untrusted, and a
    /// link could send a write anywhere on the machine.
    #[error(
        "{path} is a symbolic link; clausewatch never writes through a link inside the repository \
         (it could point anywhere, even outside it): replace it with a regular {kind}, commit that, and run again"
    )]
    Symlink { path: String, kind: &'static str },
    #[error("{path} is not a folder; clausewatch needs a folder there: move it away and run again")]
    NotAFolder { path: String },
    #[error("{path} holds {size} bytes, more than the {limit} clausewatch reads")]
    TooLarge { path: String, size: u64, limit: u64 },
    /// A stored snapshot over the reader's cap, which follows the fetch body cap.
    #[error(
        "{path} holds {size} bytes, more than the {limit} clausewatch reads; a snapshot \
         recorded under a larger body cap is read under the same one: pass the --max-body-mb \
         it was recorded with (or set [fetch] max_body_mb), at most {ceiling}",
        ceiling = crate::fetch::MAX_BODY_MB_CEILING
    )]
    SnapshotTooLarge { path: String, size: u64, limit: u64 },
    #[error(
        "HEAD is detached (at {commit}): clausewatch commits versions on a branch; \
         check one out (`git switch main`) and run again"
    )]
    DetachedHead { commit: String },
    #[error("another clausewatch run holds the archive lock ({path}){holder}; wait for it to finish")]
    Locked { path: String, holder: String },
    #[error("the current branch moved while recording (another process committed); run again")]
    Raced,
    // The message says libgit2's reason its own way (describe_git), so the git2 error is
    // not this error's source(): the printer, which walks the chain, would say it twice.
    #[error("{}", describe_git(context.as_deref(), error, os.as_ref()))]
    Git {
        /// What was being done, when the caller knows.
        context: Option<String>,
        error: git2::Error,
        /// The system's last error, kept when libgit2 failed without a message of its
        /// own (it does so when a write fails on a full disk).
        os: Option<std::io::Error>,
    },
    #[error("{context}")]
    Io { context: String, source: std::io::Error },
}

impl From<git2::Error> for ArchiveError {
    fn from(source: git2::Error) -> ArchiveError {
        git_error(None, source)
    }
}

/// An [`ArchiveError::Git`]; read right after the failing call, so that the system's
/// error is still the one libgit2 saw.
fn git_error(context: Option<String>, source: git2::Error) -> ArchiveError {
    let os = has_no_message(&source)
        .then(std::io::Error::last_os_error)
        .filter(|e| e.raw_os_error().is_some_and(|code| code != 0));
    ArchiveError::Git {
        context,
        error: source,
        os,
    }
}

/// Context for a git call: `git("cannot write the git index")`.
fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> ArchiveError {
    let context = context.into();
    move |source| git_error(Some(context), source)
}

/// The id git gives a blob of these bytes, computed with the CPU's SHA instructions.
///
/// `track` hashes every fetched page (megabytes per run) to see whether it is the
/// snapshot it recorded last; libgit2's collision-detecting SHA-1 made that the
/// largest cost of an unchanged run. Collision detection guards nothing here: only the
/// site serves the page, and a site that wants a change unseen can simply answer
/// `304 Not Modified`. Objects written to the repository still go through libgit2.
pub fn blob_id(bytes: &[u8]) -> Oid {
    use sha1::Digest as _;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    Oid::from_bytes(&hasher.finalize()).expect("a SHA-1 digest is 20 bytes")
}

/// "archive/versions/acme/privacy-policy.md at commit 1a2b3c4d5e6f": where a file that
/// is refused is.
fn at_commit(path: &str, commit: Oid) -> String {
    format!("{path} at commit {}", &commit.to_string()[..12])
}

/// libgit2 sometimes fails without setting a message; git2 then reports its placeholder.
fn has_no_message(error: &git2::Error) -> bool {
    let message = error.message().trim();
    message.is_empty() || message == "no error" || message == "an unknown git error occurred"
}

/// `git: cannot write the git index: No space left on device (os error 28)`: what
/// failed and why, never libgit2's placeholder `no error`.
pub fn describe_git(context: Option<&str>, error: &git2::Error, os: Option<&std::io::Error>) -> String {
    let reason = if has_no_message(error) {
        match os {
            Some(os) => os.to_string(),
            None => format!(
                "libgit2 failed without saying why ({:?} error, code {:?})",
                error.class(),
                error.code()
            ),
        }
    } else {
        error.message().to_string()
    };
    match context {
        Some(context) => format!("git: {context}: {reason}"),
        None => format!("git: {reason}"),
    }
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ArchiveError {
    let context = context.into();
    move |source| ArchiveError::Io { context, source }
}

/// Who commits versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

impl Default for Identity {
    fn default() -> Identity {
        Identity {
            name: "clausewatch".into(),
            email: "clausewatch@users.noreply.github.com".into(),
        }
    }
}

/// A new version of one document, its text and snapshot already stored as blobs (see
/// [`Archive::write_blob`]), ready to be committed.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub service: String,
    pub doc_type: String,
    pub text_blob: Oid,
    pub snapshot_blob: Oid,
    /// `html`, `pdf` or `txt`.
    pub snapshot_ext: &'static str,
    pub message: VersionMessage,
}

/// An archive folder inside a git repository.
pub struct Archive {
    repo: Repository,
    /// The archive folder, absolute and canonical.
    root: PathBuf,
    /// The archive folder relative to the work tree, `/`-separated, `""` at the top.
    prefix: String,
    /// The repository's work tree, absolute and canonical: where path checks start.
    workdir: PathBuf,
}

impl Archive {
    /// Opens the archive in `dir` (which must exist and have a `services/` folder).
    pub fn open(dir: &Path) -> Result<Archive, ArchiveError> {
        let shown = dir.display().to_string();
        if !dir.join("services").is_dir() {
            return Err(ArchiveError::NoArchive { path: shown });
        }
        let root = dir.canonicalize().map_err(io(format!("cannot resolve {shown}")))?;
        let repo = Repository::discover(&root).map_err(|_| ArchiveError::NotARepository { path: shown.clone() })?;
        Archive::with_repo(repo, root)
    }

    fn with_repo(repo: Repository, root: PathBuf) -> Result<Archive, ArchiveError> {
        // libgit2 re-hashes every object it reads; history commands read thousands of
        // trees and blobs, and that check was a tenth of a one-week report. Integrity
        // is what `git fsck` is for; packs still check their own checksums.
        git2::opts::strict_hash_verification(false);
        let workdir = repo
            .workdir()
            .ok_or_else(|| ArchiveError::Bare {
                path: repo.path().display().to_string(),
            })?
            .canonicalize()
            .map_err(io("cannot resolve the repository's work tree"))?;
        let relative = root.strip_prefix(&workdir).map_err(|_| ArchiveError::Escapes {
            path: root.display().to_string(),
        })?;
        let prefix = relative
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => part.to_str().map(str::to_string),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        Ok(Archive {
            repo,
            root,
            prefix,
            workdir,
        })
    }

    /// Creates the archive folders in `dir`, inside the enclosing repository or a new one
    /// (branch `main`). `files` are written relative to the archive when absent; nothing
    /// existing is overwritten. Returns the archive and the files it created.
    pub fn init(dir: &Path, files: &[(&str, &str)]) -> Result<(Archive, Vec<String>), ArchiveError> {
        fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        let root = dir
            .canonicalize()
            .map_err(io(format!("cannot resolve {}", dir.display())))?;
        let repo = match Repository::discover(&root) {
            Ok(repo) => repo,
            Err(_) => {
                let mut options = git2::RepositoryInitOptions::new();
                options.initial_head("main");
                Repository::init_opts(&root, &options)?
            }
        };
        let archive = Archive::with_repo(repo, root)?;
        let mut created = Vec::new();
        // An existing repository's folders may be links: created and written without
        // following one, like everything `track` writes.
        for folder in ["services", "versions", "snapshots"] {
            let repo_dir = archive.repo_path(folder);
            let path =
                worktree::checked_dir(&archive.workdir, &repo_dir, true)?.unwrap_or_else(|| archive.root.clone());
            // git does not track empty folders; a keep-file makes the layout visible.
            if fs::read_dir(&path).map(|mut d| d.next().is_none()).unwrap_or(false) {
                archive.write_worktree_file(&format!("{repo_dir}/.gitkeep"), b"")?;
                created.push(format!("{folder}/.gitkeep"));
            }
        }
        for (relative, contents) in files {
            let repo_path = archive.repo_path(relative);
            if fs::symlink_metadata(archive.workdir.join(&repo_path)).is_ok() {
                continue;
            }
            archive.write_worktree_file(&repo_path, contents.as_bytes())?;
            created.push((*relative).to_string());
        }
        Ok((archive, created))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    pub fn services_dir(&self) -> PathBuf {
        self.root.join("services")
    }

    /// A path inside the archive as the repository names it.
    pub fn repo_path(&self, inside: &str) -> String {
        if self.prefix.is_empty() {
            inside.to_string()
        } else {
            format!("{}/{inside}", self.prefix)
        }
    }

    pub fn version_path(&self, service: &str, doc_type: &str) -> String {
        self.repo_path(&format!("versions/{service}/{doc_type}.md"))
    }

    fn snapshot_dir(&self, service: &str) -> String {
        self.repo_path(&format!("snapshots/{service}"))
    }

    /// Commits `paths` (archive-relative) as they are in the working tree, plus any
    /// deletions among them, in one commit; used by `init` for its files.
    pub fn commit_files(
        &self,
        paths: &[String],
        message: &str,
        identity: &Identity,
        now: DateTime<Utc>,
    ) -> Result<Option<Oid>, ArchiveError> {
        if paths.is_empty() {
            return Ok(None);
        }
        let mut index = self.repo.index()?;
        let mut tree = git2::build::TreeUpdateBuilder::new();
        for path in paths {
            let repo_path = self.repo_path(path);
            let file = self.checked_file(&repo_path)?;
            let bytes = worktree::read_nofollow(&file).map_err(io(format!("cannot read {repo_path}")))?;
            tree.upsert(repo_path.as_str(), self.repo.blob(&bytes)?, FileMode::Blob);
            index.add_path(Path::new(&repo_path))?;
        }
        let oid = self.commit_tree(&mut tree, message, identity, now, now)?;
        index.write().map_err(git("cannot write the git index"))?;
        Ok(Some(oid))
    }

    /// The HEAD commit, or `None` on an unborn branch.
    pub fn head_commit(&self) -> Result<Option<git2::Commit<'_>>, ArchiveError> {
        match self.repo.head() {
            Ok(head) => Ok(Some(head.peel_to_commit()?)),
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch || e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The bytes of a file of the archive (an archive-relative path) in the HEAD commit,
    /// if it holds at most `limit` bytes: its size is read first, so a file too large to
    /// use is never loaded. A link there is not the file (its blob is the path it names).
    pub fn head_file_at_most(&self, inside: &str, limit: u64) -> Result<Option<Vec<u8>>, ArchiveError> {
        let repo_path = self.repo_path(inside);
        let Some((_, entry)) = self.head_entry(&repo_path)? else {
            return Ok(None);
        };
        if entry.kind() != Some(git2::ObjectType::Blob) || entry.filemode() == i32::from(FileMode::Link) {
            return Ok(None);
        }
        let blob = self.blob_at_most(entry.id(), limit, || Ok(repo_path))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// The HEAD commit's id and its tree's entry at `repo_path` (a repository-relative
    /// path), if there is a HEAD and the entry.
    fn head_entry(&self, repo_path: &str) -> Result<Option<(Oid, git2::TreeEntry<'static>)>, ArchiveError> {
        let Some(commit) = self.head_commit()? else {
            return Ok(None);
        };
        match commit.tree()?.get_path(Path::new(repo_path)) {
            Ok(entry) => Ok(Some((commit.id(), entry))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A blob, if it holds at most `limit` bytes: its size is read from the object header
    /// first, so a blob too large to use is never loaded. `place` names it in the refusal.
    pub(crate) fn blob_at_most(
        &self,
        blob: Oid,
        limit: u64,
        place: impl FnOnce() -> Result<String, ArchiveError>,
    ) -> Result<git2::Blob<'_>, ArchiveError> {
        let (size, _) = self.repo.odb()?.read_header(blob)?;
        if size as u64 > limit {
            return Err(ArchiveError::TooLarge {
                path: place()?,
                size: size as u64,
                limit,
            });
        }
        Ok(self.repo.find_blob(blob)?)
    }

    /// Commits one archive file (an archive-relative path) with `bytes` as one commit of
    /// its own, and brings its index entry and working-tree copy up to date. Used for
    /// `status.json`, which never rides along in a version's commit.
    ///
    /// The working-tree file is written first, like a version's: a path that cannot be
    /// written (a symbolic link, a full disk) fails before HEAD moves, so HEAD is never
    /// ahead of the index and the checkout.
    pub fn commit_file(
        &self,
        inside: &str,
        bytes: &[u8],
        message: &str,
        identity: &Identity,
        now: DateTime<Utc>,
    ) -> Result<Oid, ArchiveError> {
        let repo_path = self.repo_path(inside);
        self.branch()?;
        let blob = self
            .repo
            .blob(bytes)
            .map_err(git("cannot store a file in the object database"))?;
        self.write_worktree_file(&repo_path, bytes)?;
        let mut tree = git2::build::TreeUpdateBuilder::new();
        tree.upsert(repo_path.as_str(), blob, FileMode::Blob);
        let oid = self.commit_tree(&mut tree, message, identity, now, now)?;
        let mut index = self.repo.index()?;
        index.add_path(Path::new(&repo_path))?;
        index.write().map_err(git("cannot write the git index"))?;
        Ok(oid)
    }

    /// Refuses, before anything is written, an archive file (an archive-relative path)
    /// that could not be written without following a symbolic link.
    pub fn check_writable(&self, inside: &str) -> Result<(), ArchiveError> {
        self.checked_file(&self.repo_path(inside)).map(|_| ())
    }

    /// The branch HEAD points at (`refs/heads/main`). A detached HEAD is refused: commits
    /// made there belong to no branch, and the next checkout would lose them.
    pub fn branch(&self) -> Result<String, ArchiveError> {
        let head = self.repo.find_reference("HEAD")?;
        match head.symbolic_target()? {
            Some(target) => Ok(target.to_string()),
            None => Err(ArchiveError::DetachedHead {
                commit: head.target().map_or_else(
                    || "an unknown commit".to_string(),
                    |id| id.to_string()[..12].to_string(),
                ),
            }),
        }
    }

    /// The snapshot of a document at HEAD: its bytes and file extension. One over `limit`
    /// bytes is refused before it is loaded, naming its path and commit: a hostile
    /// repository can commit a huge, well-compressed blob there.
    pub fn head_snapshot(
        &self,
        service: &str,
        doc_type: &str,
        limit: u64,
    ) -> Result<Option<(Vec<u8>, String)>, ArchiveError> {
        let Some(commit) = self.head_commit()? else {
            return Ok(None);
        };
        let tree = commit.tree()?;
        let Ok(entry) = tree.get_path(Path::new(&self.snapshot_dir(service))) else {
            return Ok(None);
        };
        let Ok(dir) = self.repo.find_tree(entry.id()) else {
            return Ok(None);
        };
        for file in dir.iter() {
            if let Ok(name) = file.name()
                && let Some((stem, ext)) = name.rsplit_once('.')
                && stem == doc_type
            {
                let path = format!("{}/{name}", self.snapshot_dir(service));
                let blob = self
                    .blob_at_most(file.id(), limit, || Ok(at_commit(&path, commit.id())))
                    .map_err(|e| match e {
                        ArchiveError::TooLarge { path, size, limit } => {
                            ArchiveError::SnapshotTooLarge { path, size, limit }
                        }
                        e => e,
                    })?;
                return Ok(Some((blob.content().to_vec(), ext.to_string())));
            }
        }
        Ok(None)
    }

    /// The recorded text of a document at HEAD. One over
    /// [`history::MAX_VERSION_TEXT_BYTES`] is refused before it is loaded, naming its path
    /// and commit, as history's readers refuse it.
    pub fn current_text(&self, service: &str, doc_type: &str) -> Result<Option<String>, ArchiveError> {
        let path = self.version_path(service, doc_type);
        let Some((commit, entry)) = self.head_entry(&path)? else {
            return Ok(None);
        };
        let blob = self.blob_at_most(entry.id(), history::MAX_VERSION_TEXT_BYTES, || {
            Ok(at_commit(&path, commit))
        })?;
        Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
    }

    /// Stores bytes in the object database. Blobs are content-addressed, so storing
    /// them as fetches arrive, in any order, keeps commits deterministic and memory flat.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<Oid, ArchiveError> {
        self.repo
            .blob(bytes)
            .map_err(git("cannot store a file in the object database"))
    }

    /// The snapshot blob of every document at HEAD, by (service, type): a fetch whose
    /// bytes hash to the same blob cannot have changed the text.
    pub fn snapshot_ids(&self) -> Result<std::collections::HashMap<(String, String), Oid>, ArchiveError> {
        let mut ids = std::collections::HashMap::new();
        let Some(commit) = self.head_commit()? else {
            return Ok(ids);
        };
        let tree = commit.tree()?;
        let Ok(entry) = tree.get_path(Path::new(&self.repo_path("snapshots"))) else {
            return Ok(ids);
        };
        let Ok(snapshots) = self.repo.find_tree(entry.id()) else {
            return Ok(ids);
        };
        for service in snapshots.iter() {
            let (Ok(service_name), Ok(files)) = (service.name(), self.repo.find_tree(service.id())) else {
                continue;
            };
            for file in files.iter() {
                if let Some((doc_type, _ext)) = file.name().ok().and_then(|n| n.rsplit_once('.')) {
                    ids.insert((service_name.to_string(), doc_type.to_string()), file.id());
                }
            }
        }
        Ok(ids)
    }

    /// Records one version as one commit on the current branch and brings the index and
    /// working tree of its two paths up to date. To record many, use a [`Recorder`].
    pub fn record(&self, version: &NewVersion, identity: &Identity, now: DateTime<Utc>) -> Result<Oid, ArchiveError> {
        self.record_at(version, identity, version.message.fetched_at, now)
    }

    /// [`record`](Self::record) with an explicit author date (a rebuild's is its own time).
    pub fn record_at(
        &self,
        version: &NewVersion,
        identity: &Identity,
        authored: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Oid, ArchiveError> {
        let mut recorder = self.recorder()?;
        let oid = recorder.record(version, identity, authored, now)?;
        recorder.finish()?;
        Ok(oid)
    }

    /// A recorder of many versions on the current branch, from HEAD.
    pub fn recorder(&self) -> Result<Recorder<'_>, ArchiveError> {
        Recorder::new(self)
    }

    /// Applies `tree` to HEAD's tree and commits it on HEAD's branch. The update fails,
    /// instead of overwriting, when another process moved the branch meanwhile.
    fn commit_tree(
        &self,
        tree: &mut git2::build::TreeUpdateBuilder,
        message: &str,
        identity: &Identity,
        authored: DateTime<Utc>,
        committed: DateTime<Utc>,
    ) -> Result<Oid, ArchiveError> {
        self.branch()?;
        let parent = self.head_commit()?;
        let baseline = match &parent {
            Some(commit) => commit.tree()?,
            None => self.repo.find_tree(self.repo.treebuilder(None)?.write()?)?,
        };
        let tree = self.repo.find_tree(tree.create_updated(&self.repo, &baseline)?)?;
        let author = signature(identity, authored)?;
        let committer = signature(identity, committed)?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        match self
            .repo
            .commit(Some("HEAD"), &author, &committer, message, &tree, &parents)
        {
            Ok(oid) => Ok(oid),
            Err(e) if e.code() == git2::ErrorCode::Modified => Err(ArchiveError::Raced),
            Err(e) => Err(git_error(Some("cannot write the commit".into()), e)),
        }
    }

    /// The working-tree path of a file (a repository path), every folder on the way
    /// checked not to be a symbolic link, and the file not to be one either. The folders
    /// need not exist.
    fn checked_file(&self, repo_path: &str) -> Result<PathBuf, ArchiveError> {
        let (parent, name) = repo_path.rsplit_once('/').unwrap_or(("", repo_path));
        let path = match worktree::checked_dir(&self.workdir, parent, false)? {
            Some(dir) => dir.join(name),
            None => return Ok(self.workdir.join(repo_path)),
        };
        worktree::check_file(&path, repo_path)?;
        Ok(path)
    }

    /// Writes a file (a repository path) atomically, never through a symbolic link (see
    /// [`worktree`]), so a crash never leaves half a version in the working tree.
    /// Returns where it wrote.
    fn write_worktree_file(&self, repo_path: &str, bytes: &[u8]) -> Result<PathBuf, ArchiveError> {
        worktree::write_file(&self.workdir, repo_path, bytes)
    }

    /// For each version, the first of its two files whose working-tree copy or staged
    /// entry holds changes that are not committed, which writing the version would
    /// lose. A copy git already stores (a text a killed run wrote, an older version
    /// checked out) loses nothing and is not counted. Fails, before anything is
    /// written, when a path is a symbolic link.
    pub fn uncommitted_changes(&self, versions: &[&NewVersion]) -> Result<Vec<Option<String>>, ArchiveError> {
        let head = self.head_commit()?.map(|c| c.tree()).transpose()?;
        let index = self.repo.index()?;
        let odb = self.repo.odb()?;
        let mut found = Vec::with_capacity(versions.len());
        for version in versions {
            let version_path = self.version_path(&version.service, &version.doc_type);
            let snapshot_path = format!(
                "{}/{}.{}",
                self.snapshot_dir(&version.service),
                version.doc_type,
                version.snapshot_ext
            );
            let mut changed = None;
            for (path, new) in [
                (version_path, version.text_blob),
                (snapshot_path, version.snapshot_blob),
            ] {
                let committed = head
                    .as_ref()
                    .and_then(|tree| tree.get_path(Path::new(&path)).ok())
                    .map(|entry| entry.id());
                let file = self.checked_file(&path)?;
                let is_kept = |id: Oid| Some(id) == committed || id == new;
                let staged = index
                    .get_path(Path::new(&path), 0)
                    .is_some_and(|entry| !is_kept(entry.id));
                let edited = match fs::symlink_metadata(&file) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                    Err(source) => {
                        return Err(ArchiveError::Io {
                            context: format!("cannot read {path}"),
                            source,
                        });
                    }
                    Ok(meta) if !meta.is_file() => true,
                    Ok(_) => {
                        let bytes = worktree::read_nofollow(&file).map_err(io(format!("cannot read {path}")))?;
                        let id = Oid::hash_object(git2::ObjectType::Blob, &bytes)?;
                        !is_kept(id) && !odb.exists(id)
                    }
                };
                if staged || edited {
                    changed = Some(path);
                    break;
                }
            }
            found.push(changed);
        }
        Ok(found)
    }

    /// Takes the archive's lock for the duration of a run (see [`ArchiveLock`]).
    pub fn lock(&self) -> Result<ArchiveLock, ArchiveError> {
        ArchiveLock::acquire(self.repo.path(), &self.root)
    }
}

fn signature(identity: &Identity, at: DateTime<Utc>) -> Result<Signature<'static>, git2::Error> {
    Signature::new(&identity.name, &identity.email, &Time::new(at.timestamp(), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_id_is_gits() {
        for bytes in [&b""[..], b"x", &[0xffu8; 70_000][..], "é\n<p>policy</p>".as_bytes()] {
            assert_eq!(blob_id(bytes), Oid::hash_object(git2::ObjectType::Blob, bytes).unwrap());
        }
    }

    #[test]
    fn a_git_error_without_a_message_says_what_failed_and_the_system_error() {
        // libgit2 returns -1 without a message when a write fails on a full disk; git2
        // then reports libgit2's placeholder "no error".
        let silent = git2::Error::from_str("no error");
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(
            describe_git(Some("cannot write the git index"), &silent, Some(&full)),
            "git: cannot write the git index: No space left on device (os error 28)"
        );
        assert_eq!(
            describe_git(None, &silent, None),
            "git: libgit2 failed without saying why (None error, code GenericError)"
        );
        let plain = git2::Error::from_str("failed to write out file");
        assert_eq!(
            describe_git(Some("cannot write the commit"), &plain, Some(&full)),
            "git: cannot write the commit: failed to write out file"
        );
        let error = ArchiveError::Git {
            context: Some("cannot write the git index".into()),
            error: silent,
            os: Some(full),
        };
        assert_eq!(
            error.to_string(),
            "git: cannot write the git index: No space left on device (os error 28)"
        );
    }
}
