//! Citable references to versions: `service/type@date`, `service/type@commit-prefix`
//! and `service/type@latest`, and the version each resolves to.
//!
//! A date names the version **in force at the end of that day (UTC)**: the last version
//! whose author date (fetch or capture time) is on or before 23:59:59 of that day. A
//! time (RFC 3339) names the last version at or before it. Versions are only appended
//! after a document's latest one (imports included), so a citation of a day that is
//! over keeps resolving to the same version.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use super::history::{DocumentFilter, VersionRecord, github_web_url};
use super::{Archive, ArchiveError};

/// The version part of a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    Latest,
    /// In force at the end of this day (UTC).
    Day(NaiveDate),
    /// In force at this moment.
    Time(DateTime<Utc>),
    /// A prefix (at least 4 hex digits) of the version's commit id.
    Commit(String),
}

/// `service/type@...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub service: String,
    pub doc_type: String,
    pub at: At,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}@", self.service, self.doc_type)?;
        match &self.at {
            At::Latest => f.write_str("latest"),
            At::Day(day) => write!(f, "{day}"),
            At::Time(t) => f.write_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            At::Commit(prefix) => f.write_str(prefix),
        }
    }
}

/// Why a reference does not name a version.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error(
        "{0:?} is not a reference: write SERVICE/TYPE@DATE (YYYY-MM-DD), SERVICE/TYPE@COMMIT (at least 4 hex digits) or SERVICE/TYPE@latest, e.g. tiktok/privacy-policy@2026-03-01"
    )]
    Syntax(String),
    #[error("{document} has no recorded versions (see `clausewatch log`)")]
    NoVersions { document: String },
    #[error(
        "{document} has no version in force at {at}: its first version was recorded on {first} (commit {commit}); cite a date on or after it"
    )]
    BeforeFirst {
        document: String,
        at: String,
        first: String,
        commit: String,
    },
    #[error("no version of {document} has a commit id starting with {prefix} (see `clausewatch log {document}`)")]
    NoCommit { document: String, prefix: String },
    #[error("{prefix} starts the commit ids of {count} versions of {document}: give more digits")]
    Ambiguous {
        document: String,
        prefix: String,
        count: usize,
    },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        let syntax = || ReferenceError::Syntax(text.to_string());
        let (document, at) = text.trim().split_once('@').ok_or_else(syntax)?;
        let (service, doc_type) = document.split_once('/').ok_or_else(syntax)?;
        if !crate::declaration::is_slug(service) || !crate::declaration::is_slug(doc_type) {
            return Err(syntax());
        }
        let at = match at.trim() {
            "latest" | "" => At::Latest,
            at => {
                if let Ok(day) = NaiveDate::parse_from_str(at, "%Y-%m-%d") {
                    At::Day(day)
                } else if let Ok(t) = DateTime::parse_from_rfc3339(at) {
                    At::Time(t.with_timezone(&Utc))
                } else if at.len() >= 4 && at.len() <= 40 && at.bytes().all(|b| b.is_ascii_hexdigit()) {
                    At::Commit(at.to_ascii_lowercase())
                } else {
                    return Err(syntax());
                }
            }
        };
        Ok(Reference {
            service: service.to_string(),
            doc_type: doc_type.to_string(),
            at,
        })
    }

    pub fn document(&self) -> String {
        format!("{}/{}", self.service, self.doc_type)
    }
}

/// A resolved reference: the version, and the one that replaced it (if any).
#[derive(Debug, Clone)]
pub struct Resolved {
    pub version: VersionRecord,
    /// The next version of the document, which ended this one's time in force.
    pub next: Option<VersionRecord>,
    /// Whether another version of the document has the same author day, so a date
    /// alone would not name this one.
    pub shares_day: bool,
}

impl Archive {
    /// The version a reference names (see the module documentation for the rule).
    pub fn resolve(&self, reference: &Reference) -> Result<Resolved, ReferenceError> {
        let filter = DocumentFilter {
            service: Some(reference.service.clone()),
            doc_type: Some(reference.doc_type.clone()),
        };
        // Newest first.
        let versions = self.versions(&filter, None, None)?;
        let document = reference.document();
        let Some(first) = versions.last() else {
            return Err(ReferenceError::NoVersions { document });
        };
        let before_first = |at: String| ReferenceError::BeforeFirst {
            document: document.clone(),
            at,
            first: first.date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            commit: first.short_id(),
        };
        let index = match &reference.at {
            At::Latest => 0,
            At::Day(day) => {
                let end = day
                    .succ_opt()
                    .unwrap_or(*day)
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight exists")
                    .and_utc();
                versions
                    .iter()
                    .position(|v| v.date < end)
                    .ok_or_else(|| before_first(format!("the end of {day}")))?
            }
            At::Time(t) => versions
                .iter()
                .position(|v| v.date <= *t)
                .ok_or_else(|| before_first(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))?,
            At::Commit(prefix) => {
                let found: Vec<usize> = versions
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.commit.to_string().starts_with(prefix.as_str()))
                    .map(|(i, _)| i)
                    .collect();
                match found.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(ReferenceError::NoCommit {
                            document,
                            prefix: prefix.clone(),
                        });
                    }
                    many => {
                        return Err(ReferenceError::Ambiguous {
                            document,
                            prefix: prefix.clone(),
                            count: many.len(),
                        });
                    }
                }
            }
        };
        let version = versions[index].clone();
        let day = version.date.date_naive();
        let shares_day = versions
            .iter()
            .enumerate()
            .any(|(i, v)| i != index && v.date.date_naive() == day);
        Ok(Resolved {
            next: index.checked_sub(1).map(|i| versions[i].clone()),
            version,
            shares_day,
        })
    }

    /// The snapshot file of a document at a commit: its repository path and bytes.
    pub fn snapshot_at(
        &self,
        commit: git2::Oid,
        service: &str,
        doc_type: &str,
    ) -> Result<Option<(String, Vec<u8>)>, ArchiveError> {
        let tree = self.repo.find_commit(commit)?.tree()?;
        let dir = self.snapshot_dir(service);
        let Ok(entry) = tree.get_path(Path::new(&dir)) else {
            return Ok(None);
        };
        let Ok(folder) = self.repo.find_tree(entry.id()) else {
            return Ok(None);
        };
        for file in folder.iter() {
            if let Ok(name) = file.name()
                && name.rsplit_once('.').is_some_and(|(stem, _)| stem == doc_type)
            {
                let blob = self.repo.find_blob(file.id())?;
                return Ok(Some((format!("{dir}/{name}"), blob.content().to_vec())));
            }
        }
        Ok(None)
    }

    /// `https://github.com/owner/repo` when the repository's `origin` is on GitHub.
    pub fn github_base(&self) -> Option<String> {
        let remote = self.repo.find_remote("origin").ok()?;
        github_web_url(remote.url().ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        let r = Reference::parse("tiktok/privacy-policy@2026-03-01").unwrap();
        assert_eq!(r.at, At::Day(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()));
        assert_eq!(r.to_string(), "tiktok/privacy-policy@2026-03-01");
        assert_eq!(
            Reference::parse("tiktok/privacy-policy@9F2C41A0").unwrap().at,
            At::Commit("9f2c41a0".into())
        );
        assert_eq!(Reference::parse("tiktok/privacy-policy@latest").unwrap().at, At::Latest);
        assert!(matches!(
            Reference::parse("tiktok/privacy-policy@2026-03-01T12:00:00Z")
                .unwrap()
                .at,
            At::Time(_)
        ));
        for bad in [
            "tiktok/privacy-policy",
            "tiktok@2026-03-01",
            "tiktok/privacy-policy@yesterday",
            "tiktok/privacy-policy@abc",
            "../x/y@latest",
        ] {
            assert!(matches!(Reference::parse(bad), Err(ReferenceError::Syntax(_))), "{bad}");
        }
    }
}
