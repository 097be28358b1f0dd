//! Reading the archive's history: the versions of documents, newest first, and the text
//! of a version at any commit.

use std::path::Path;

use chrono::{DateTime, Utc};
use git2::{Oid, Sort};

use super::{Archive, ArchiveError, VersionMessage};

/// The most a version text read from history may hold: the fetch body cap's default
/// (20 MiB), which a text canonicalized from such a body does not exceed. `track` and the
/// imports refuse to record a longer text, so only a crafted commit holds one.
pub const MAX_VERSION_TEXT_BYTES: u64 = 20 * 1024 * 1024;

/// One recorded version, as its commit describes it.
#[derive(Debug, Clone)]
pub struct VersionRecord {
    pub commit: Oid,
    /// The author date: when the version was fetched (or captured).
    pub date: DateTime<Utc>,
    pub message: VersionMessage,
    /// The version file's blob, and the blob it replaced (None for a first version), so
    /// readers of many versions need not walk the trees again.
    pub blob: Oid,
    pub previous_blob: Option<Oid>,
}

impl VersionRecord {
    pub fn short_id(&self) -> String {
        self.commit.to_string()[..12].to_string()
    }
}

/// Which documents a history query is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    pub service: Option<String>,
    pub doc_type: Option<String>,
}

impl DocumentFilter {
    /// `SERVICE` or `SERVICE/TYPE`; an empty filter matches everything.
    pub fn parse(spec: Option<&str>) -> DocumentFilter {
        match spec.map(|s| s.trim_matches('/')) {
            None | Some("") => DocumentFilter::default(),
            Some(spec) => match spec.split_once('/') {
                Some((s, t)) => DocumentFilter {
                    service: Some(s.to_string()),
                    doc_type: Some(t.to_string()),
                },
                None => DocumentFilter {
                    service: Some(spec.to_string()),
                    doc_type: None,
                },
            },
        }
    }

    pub fn matches(&self, service: &str, doc_type: &str) -> bool {
        self.service.as_deref().is_none_or(|s| s == service) && self.doc_type.as_deref().is_none_or(|t| t == doc_type)
    }
}

impl Archive {
    /// Versions matching `filter`, newest first by their date (the author date: when
    /// the version was fetched), commit order breaking ties, with dates in `[since, until)`.
    /// Imports record old versions after newer ones of other documents, so commit order
    /// is not date order across documents; within one document the two agree.
    ///
    /// Commits are walked newest first by commit time and the walk stops at the first
    /// commit older than `since`, so a report over last week reads last week's commits,
    /// not the whole history.
    pub fn versions(
        &self,
        filter: &DocumentFilter,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<VersionRecord>, ArchiveError> {
        self.walk_versions(filter, since, until, None)
    }

    /// The newest version of a document whose text is exactly `text`, if any: what a
    /// new version with that text reverts to. Cheap when there is none, as for most
    /// new texts: a text never stored has no blob in the repository.
    pub fn version_with_text(
        &self,
        service: &str,
        doc_type: &str,
        text: &str,
    ) -> Result<Option<VersionRecord>, ArchiveError> {
        let blob = Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())?;
        if !self.repo.odb()?.exists(blob) {
            return Ok(None);
        }
        let filter = DocumentFilter {
            service: Some(service.to_string()),
            doc_type: Some(doc_type.to_string()),
        };
        Ok(self.versions(&filter, None, None)?.into_iter().find(|v| v.blob == blob))
    }

    /// Every version recorded after commit `after` (all of them for `None`), newest
    /// first: what an incremental export has not seen yet. `after` must be in the
    /// current branch's history.
    pub fn versions_after(&self, after: Option<Oid>) -> Result<Vec<VersionRecord>, ArchiveError> {
        self.walk_versions(&DocumentFilter::default(), None, None, after)
    }

    /// Whether `commit` is HEAD or one of its ancestors.
    pub fn in_history(&self, commit: Oid) -> Result<bool, ArchiveError> {
        let Some(head) = self.head_commit()? else {
            return Ok(false);
        };
        Ok(head.id() == commit || self.repo.graph_descendant_of(head.id(), commit).unwrap_or(false))
    }

    fn walk_versions(
        &self,
        filter: &DocumentFilter,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        after: Option<Oid>,
    ) -> Result<Vec<VersionRecord>, ArchiveError> {
        let mut out = Vec::new();
        let Some(mut walk) = self.walk_from_head()? else {
            return Ok(out);
        };
        if let Some(after) = after {
            walk.hide(after)?;
        }
        // Only version commits that touch this archive's folder count: a repository
        // may hold other archives or other work.
        let versions_prefix = self.repo_path("versions/");
        for oid in walk {
            let commit = self.repo.find_commit(oid?)?;
            let committed = DateTime::from_timestamp(commit.time().seconds(), 0).unwrap_or_default();
            if since.is_some_and(|since| committed < since) {
                break;
            }
            let Some(message) = commit.message().ok().and_then(VersionMessage::parse) else {
                continue;
            };
            if !filter.matches(&message.service, &message.document) {
                continue;
            }
            let date = DateTime::from_timestamp(commit.author().when().seconds(), 0).unwrap_or_default();
            if since.is_some_and(|s| date < s) || until.is_some_and(|u| date >= u) {
                continue;
            }
            let path = format!("{versions_prefix}{}/{}.md", message.service, message.document);
            let Some((blob, previous_blob)) = self.change_of(&commit, &path)? else {
                continue;
            };
            out.push(VersionRecord {
                commit: commit.id(),
                date,
                message,
                blob,
                previous_blob,
            });
        }
        // Stable: the walk's order (newest commit first) breaks ties.
        out.sort_by_key(|v| std::cmp::Reverse(v.date));
        Ok(out)
    }

    /// The author date (fetch time) of the newest version of each wanted document, in
    /// one walk that stops once all are found; documents never recorded are absent.
    pub fn latest_version_dates(
        &self,
        wanted: &[(String, String)],
    ) -> Result<std::collections::HashMap<(String, String), DateTime<Utc>>, ArchiveError> {
        let mut found = std::collections::HashMap::new();
        let Some(walk) = self.walk_from_head()?.filter(|_| !wanted.is_empty()) else {
            return Ok(found);
        };
        let versions_prefix = self.repo_path("versions/");
        for oid in walk {
            let commit = self.repo.find_commit(oid?)?;
            let Some(message) = commit.message().ok().and_then(VersionMessage::parse) else {
                continue;
            };
            let id = (message.service, message.document);
            if !wanted.contains(&id) || found.contains_key(&id) {
                continue;
            }
            if self
                .change_of(&commit, &format!("{versions_prefix}{}/{}.md", id.0, id.1))?
                .is_none()
            {
                continue;
            }
            let date = DateTime::from_timestamp(commit.author().when().seconds(), 0).unwrap_or_default();
            found.insert(id, date);
            if found.len() == wanted.len() {
                break;
            }
        }
        Ok(found)
    }

    /// The message of the commit that recorded each current snapshot (`current`: the
    /// snapshot blob of each document at HEAD, see [`Archive::snapshot_ids`]), looking
    /// at most `limit` commits back: a document whose snapshot is older is left out.
    /// A document whose newest version commit holds another snapshot (a rebuild, a
    /// hand edit) is left out too.
    pub fn snapshot_messages(
        &self,
        current: &std::collections::HashMap<(String, String), Oid>,
        limit: usize,
    ) -> Result<std::collections::HashMap<(String, String), VersionMessage>, ArchiveError> {
        let mut found = std::collections::HashMap::new();
        let mut settled = std::collections::HashSet::new();
        let Some(walk) = self.walk_from_head()?.filter(|_| !current.is_empty()) else {
            return Ok(found);
        };
        for oid in walk.take(limit) {
            let commit = self.repo.find_commit(oid?)?;
            let Some(message) = commit.message().ok().and_then(VersionMessage::parse) else {
                continue;
            };
            let id = (message.service.clone(), message.document.clone());
            let Some(&snapshot) = current.get(&id) else { continue };
            if !settled.insert(id.clone()) {
                continue;
            }
            let dir = self.snapshot_dir(&id.0);
            let holds_it = commit
                .tree()?
                .get_path(Path::new(&dir))
                .ok()
                .and_then(|entry| self.repo.find_tree(entry.id()).ok())
                .is_some_and(|files| {
                    files.iter().any(|file| {
                        file.id() == snapshot
                            && file
                                .name()
                                .is_ok_and(|n| n.rsplit_once('.').is_some_and(|(stem, _)| stem == id.1))
                    })
                });
            if holds_it {
                found.insert(id, message);
            }
            if settled.len() == current.len() {
                break;
            }
        }
        Ok(found)
    }

    /// A walk of the history from HEAD, newest first (`None` on an unborn branch). Git's
    /// default order is lazy; `Sort::TIME` sorts the whole history first, which made a
    /// one-week report pay for every commit.
    fn walk_from_head(&self) -> Result<Option<git2::Revwalk<'_>>, ArchiveError> {
        if self.head_commit()?.is_none() {
            return Ok(None);
        }
        let mut walk = self.repo.revwalk()?;
        walk.set_sorting(Sort::NONE)?;
        walk.push_head()?;
        Ok(Some(walk))
    }

    /// The blob of a path at a commit and at its first parent, when the commit changed it.
    fn change_of(&self, commit: &git2::Commit, path: &str) -> Result<Option<(Oid, Option<Oid>)>, ArchiveError> {
        let Some(now) = commit.tree()?.get_path(Path::new(path)).ok().map(|e| e.id()) else {
            return Ok(None);
        };
        let before = match commit.parent(0) {
            Ok(parent) => parent.tree()?.get_path(Path::new(path)).ok().map(|e| e.id()),
            Err(_) => None,
        };
        Ok((before != Some(now)).then_some((now, before)))
    }

    /// The text of a document's version file at a commit.
    pub fn text_at(&self, commit: Oid, service: &str, doc_type: &str) -> Result<Option<String>, ArchiveError> {
        let tree = self.repo.find_commit(commit)?.tree()?;
        match tree.get_path(Path::new(&self.version_path(service, doc_type))) {
            Ok(entry) => Ok(Some(self.blob_text(entry.id())?)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The text a version replaced: the document at the commit's first parent.
    pub fn text_before(&self, commit: Oid, service: &str, doc_type: &str) -> Result<Option<String>, ArchiveError> {
        match self.repo.find_commit(commit)?.parent_id(0) {
            Ok(parent) => self.text_at(parent, service, doc_type),
            Err(_) => Ok(None),
        }
    }

    /// The text of a version file's blob. One over [`MAX_VERSION_TEXT_BYTES`] is refused
    /// before it is loaded, with the commit and path that hold it: a small repository can
    /// hide a huge, well-compressed blob in an old commit, which a checkout never shows.
    pub fn blob_text(&self, blob: Oid) -> Result<String, ArchiveError> {
        self.blob_text_at_most(blob, MAX_VERSION_TEXT_BYTES)
    }

    fn blob_text_at_most(&self, blob: Oid, limit: u64) -> Result<String, ArchiveError> {
        let content = self.blob_at_most(blob, limit, || self.where_blob_is(blob))?;
        Ok(String::from_utf8_lossy(content.content()).into_owned())
    }

    /// "archive/versions/acme/privacy-policy.md at commit 1a2b3c4d5e6f", for the first
    /// version commit (newest first) that recorded `blob`; the blob id if none did. Only
    /// asked when a read is refused, so walking the history is affordable.
    fn where_blob_is(&self, blob: Oid) -> Result<String, ArchiveError> {
        if let Some(walk) = self.walk_from_head()? {
            let versions_prefix = self.repo_path("versions/");
            for oid in walk {
                let commit = self.repo.find_commit(oid?)?;
                let Some(message) = commit.message().ok().and_then(VersionMessage::parse) else {
                    continue;
                };
                let path = format!("{versions_prefix}{}/{}.md", message.service, message.document);
                if self.change_of(&commit, &path)?.is_some_and(|(now, _)| now == blob) {
                    return Ok(super::at_commit(&path, commit.id()));
                }
            }
        }
        Ok(format!("the version file {blob}"))
    }

    /// A web URL for a commit when the repository's `origin` is on GitHub.
    pub fn commit_url_base(&self) -> Option<String> {
        let remote = self.repo.find_remote("origin").ok()?;
        github_web_url(remote.url().ok()?).map(|base| format!("{base}/commit/"))
    }
}

/// `git@github.com:owner/repo.git` or `https://github.com/owner/repo(.git)` ->
/// `https://github.com/owner/repo`.
pub fn github_web_url(remote: &str) -> Option<String> {
    let path = remote
        .strip_prefix("git@github.com:")
        .or_else(|| remote.strip_prefix("https://github.com/"))
        .or_else(|| remote.strip_prefix("ssh://git@github.com/"))?;
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    (path.split('/').count() == 2).then(|| format!("https://github.com/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_urls() {
        assert_eq!(
            github_web_url("git@github.com:acme/archive.git").as_deref(),
            Some("https://github.com/acme/archive")
        );
        assert_eq!(
            github_web_url("https://github.com/acme/archive").as_deref(),
            Some("https://github.com/acme/archive")
        );
        assert_eq!(github_web_url("https://gitlab.com/acme/archive"), None);
    }

    #[test]
    fn filters() {
        let f = DocumentFilter::parse(Some("tiktok/privacy-policy"));
        assert!(f.matches("tiktok", "privacy-policy"));
        assert!(!f.matches("tiktok", "terms-of-service"));
        assert!(DocumentFilter::parse(Some("tiktok")).matches("tiktok", "x"));
        assert!(DocumentFilter::parse(None).matches("a", "b"));
    }
}
