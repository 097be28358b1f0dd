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
    #[error(
        "{0:?} names no version: write a commit id (at least 4 hex digits), a date (YYYY-MM-DD: the version in force at its end), an RFC 3339 time, 7d / 2w / 12h ago, latest, or ~N (N versions before the latest); add ~N or ^ to step back from it, e.g. 9f2c41a0~1"
    )]
    VersionSyntax(String),
    #[error("{spec} goes back past the first version: {document} has only {count} versions")]
    PastFirst {
        spec: String,
        document: String,
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
        let index = position(&versions, &reference.at, &document)?;
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

    /// The snapshot file of a document at a commit: its repository path and bytes, when
    /// it holds at most `limit` bytes (`SnapshotTooLarge` otherwise).
    pub fn snapshot_at(
        &self,
        commit: git2::Oid,
        service: &str,
        doc_type: &str,
        limit: u64,
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
                let path = format!("{dir}/{name}");
                // A blob is inflated whole: its size is checked first (a blob bomb).
                let blob = self
                    .blob_at_most(file.id(), limit, || Ok(path.clone()))
                    .map_err(|e| match e {
                        ArchiveError::TooLarge { path, size, limit } => {
                            ArchiveError::SnapshotTooLarge { path, size, limit }
                        }
                        e => e,
                    })?;
                return Ok(Some((path, blob.content().to_vec())));
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

/// Where the version `at` names stands among a document's versions (newest first).
fn position(versions: &[VersionRecord], at: &At, document: &str) -> Result<usize, ReferenceError> {
    let Some(first) = versions.last() else {
        return Err(ReferenceError::NoVersions {
            document: document.to_string(),
        });
    };
    let before_first = |at: String| ReferenceError::BeforeFirst {
        document: document.to_string(),
        at,
        first: first.date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        commit: first.short_id(),
    };
    let index = match at {
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
                        document: document.to_string(),
                        prefix: prefix.clone(),
                    });
                }
                many => {
                    return Err(ReferenceError::Ambiguous {
                        document: document.to_string(),
                        prefix: prefix.clone(),
                        count: many.len(),
                    });
                }
            }
        }
    };
    Ok(index)
}

/// A version of one document as `diff` names it: a starting point and how many of the
/// document's versions to step back from it, as git's `REF~N` and `REF^` do (`~N` alone
/// is N versions before the latest). Stepping back counts this document's versions, so
/// `REF~1` is the version REF replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSpec {
    pub at: At,
    pub back: usize,
}

impl VersionSpec {
    /// Parses `latest`, a date, an RFC 3339 time, `7d` / `2w` / `12h` (ago from `now`), a
    /// commit prefix, or `~N`, each optionally followed by `~`, `~N` or `^` steps.
    pub fn parse(text: &str, now: DateTime<Utc>) -> Result<VersionSpec, ReferenceError> {
        let syntax = || ReferenceError::VersionSyntax(text.to_string());
        let text = text.trim();
        let base_end = text.find(['~', '^']).unwrap_or(text.len());
        let (base, mut steps) = text.split_at(base_end);
        let mut back = 0usize;
        while !steps.is_empty() {
            if !steps.starts_with(['~', '^']) {
                return Err(syntax());
            }
            let rest = &steps[1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let n = if steps.starts_with('~') && digits > 0 {
                rest[..digits].parse::<usize>().map_err(|_| syntax())?
            } else {
                1
            };
            let used = if steps.starts_with('~') { digits } else { 0 };
            back = back.checked_add(n).ok_or_else(syntax)?;
            steps = &rest[used..];
        }
        let at = match base {
            "" if back > 0 => At::Latest,
            "latest" => At::Latest,
            _ => {
                if let Ok(day) = NaiveDate::parse_from_str(base, "%Y-%m-%d") {
                    At::Day(day)
                } else if let Ok(t) = DateTime::parse_from_rfc3339(base) {
                    At::Time(t.with_timezone(&Utc))
                } else if base.len() >= 4 && base.len() <= 40 && base.bytes().all(|b| b.is_ascii_hexdigit()) {
                    At::Commit(base.to_ascii_lowercase())
                } else if let Some(ago) = relative(base) {
                    At::Time(now - ago)
                } else {
                    return Err(syntax());
                }
            }
        };
        Ok(VersionSpec { at, back })
    }

    /// Where the version this names stands among a document's versions (newest first).
    pub fn position(&self, versions: &[VersionRecord], document: &str, spec: &str) -> Result<usize, ReferenceError> {
        let index = position(versions, &self.at, document)? + self.back;
        if index >= versions.len() {
            return Err(ReferenceError::PastFirst {
                spec: spec.to_string(),
                document: document.to_string(),
                count: versions.len(),
            });
        }
        Ok(index)
    }
}

/// `7d`, `2w`, `12h`: a span back from now.
fn relative(text: &str) -> Option<chrono::Duration> {
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = number.parse().ok()?;
    match unit {
        "d" => chrono::Duration::try_days(n),
        "w" => chrono::Duration::try_weeks(n),
        "h" => chrono::Duration::try_hours(n),
        _ => None,
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

    #[test]
    fn version_specs_step_back_like_git() {
        let now = DateTime::parse_from_rfc3339("2026-03-10T00:00:00Z").unwrap().to_utc();
        let parse = |text: &str| VersionSpec::parse(text, now).unwrap();
        let commit = |prefix: &str, back| VersionSpec {
            at: At::Commit(prefix.into()),
            back,
        };
        assert_eq!(parse("9F2C41A0"), commit("9f2c41a0", 0));
        assert_eq!(parse("9f2c41a0~1"), commit("9f2c41a0", 1));
        assert_eq!(parse("9f2c41a0~"), commit("9f2c41a0", 1));
        assert_eq!(parse("9f2c41a0^"), commit("9f2c41a0", 1));
        assert_eq!(parse("9f2c41a0^^"), commit("9f2c41a0", 2));
        assert_eq!(parse("9f2c41a0~2^"), commit("9f2c41a0", 3));
        assert_eq!(
            parse("~3"),
            VersionSpec {
                at: At::Latest,
                back: 3
            }
        );
        assert_eq!(
            parse("latest^"),
            VersionSpec {
                at: At::Latest,
                back: 1
            }
        );
        assert_eq!(
            parse("2026-03-01~1"),
            VersionSpec {
                at: At::Day(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
                back: 1
            }
        );
        assert_eq!(
            parse("2d"),
            VersionSpec {
                at: At::Time(now - chrono::Duration::days(2)),
                back: 0
            }
        );
        for bad in ["", "yesterday", "abc", "9f2c41a0~x", "9f2c41a0^é", "~-1", "9f2c/x"] {
            assert!(
                matches!(VersionSpec::parse(bad, now), Err(ReferenceError::VersionSyntax(_))),
                "{bad}"
            );
        }
    }
}
