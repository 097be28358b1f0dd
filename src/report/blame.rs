//! "Since when has this sentence been here?": each line of a version with the version
//! that first recorded it.
//!
//! This is git blame over the document's version file, computed version by version so
//! that re-extraction commits can be looked through: a sentence a rebuild only
//! re-wrapped or re-split is as old as the substantive version that introduced it.

use chrono::{DateTime, Utc};
use git2::Oid;
use serde::Serialize;
use similar::{Algorithm, DiffOp};

use super::diff::words;
use crate::archive::history::{DocumentFilter, VersionRecord};
use crate::archive::{Archive, ArchiveError, ChangeKind};

/// A line of the version and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlameLine {
    /// 1-based line number in the version.
    pub line: usize,
    pub text: String,
    pub commit: String,
    pub date: DateTime<Utc>,
    /// Whole days between `date` and the blamed version's time (or now).
    pub age_days: i64,
}

#[derive(Debug, Clone, Copy)]
struct Origin {
    commit: Oid,
    date: DateTime<Utc>,
}

/// Blames the version of `service/doc_type` in force before `until` (the latest when
/// `None`). `Ok(None)` when the document has no version then.
pub fn blame(
    archive: &Archive,
    service: &str,
    doc_type: &str,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<Vec<BlameLine>>, ArchiveError> {
    let filter = DocumentFilter {
        service: Some(service.into()),
        doc_type: Some(doc_type.into()),
    };
    let mut versions = archive.versions(&filter, None, until)?;
    versions.reverse();
    let Some(last) = versions.last() else { return Ok(None) };
    let reference_time = until.map_or(now, |_| last.date);
    let mut blamer = Blamer::default();
    for version in &versions {
        let text = archive.blob_text(version.blob)?;
        blamer.push(version, text);
    }
    Ok(Some(blamer.lines(reference_time)))
}

/// Blame built up in one pass over a document's versions, oldest first: push each
/// version's text, then read the lines of the last. Callers that read every version
/// anyway (the site) blame a document without walking its history twice.
#[derive(Debug, Default)]
pub struct Blamer {
    text: String,
    origins: Vec<Origin>,
}

impl Blamer {
    /// Takes the next version (newer than every one pushed before) and its text.
    pub fn push(&mut self, version: &VersionRecord, text: String) {
        let here = Origin {
            commit: version.commit,
            date: version.date,
        };
        self.origins = carry(
            &self.text,
            &text,
            &self.origins,
            here,
            version.message.change == ChangeKind::Reextract,
        );
        self.text = text;
    }

    /// The text of the last version pushed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The non-blank lines of the last version, with ages counted to `reference_time`.
    pub fn lines(&self, reference_time: DateTime<Utc>) -> Vec<BlameLine> {
        self.text
            .lines()
            .zip(&self.origins)
            .enumerate()
            .filter(|(_, (line, _))| !line.trim().is_empty())
            .map(|(i, (line, origin))| BlameLine {
                line: i + 1,
                text: line.to_string(),
                commit: origin.commit.to_string(),
                date: origin.date,
                age_days: (reference_time - origin.date).num_days(),
            })
            .collect()
    }
}

/// The origins of the new text's lines: unchanged lines keep theirs, new lines get
/// `here` — except in a re-extraction, where a new line inherits the origin of the old
/// line of its hunk it shares most words with.
fn carry(old: &str, new: &str, old_origins: &[Origin], here: Origin, look_through: bool) -> Vec<Origin> {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut out = Vec::with_capacity(new_lines.len());
    for op in similar::capture_diff_slices(Algorithm::Patience, &old_lines, &new_lines) {
        match op {
            DiffOp::Equal { old_index, len, .. } => out.extend_from_slice(&old_origins[old_index..old_index + len]),
            DiffOp::Delete { .. } => {}
            DiffOp::Insert { new_len, .. } => out.extend(std::iter::repeat_n(here, new_len)),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                for line in &new_lines[new_index..new_index + new_len] {
                    let inherited = look_through
                        .then(|| best_match(line, &old_lines[old_index..old_index + old_len]))
                        .flatten()
                        .map(|i| old_origins[old_index + i]);
                    out.push(inherited.unwrap_or(here));
                }
            }
        }
    }
    out
}

/// The old line sharing the largest part of `line`'s words, if any shares most of them.
fn best_match(line: &str, candidates: &[&str]) -> Option<usize> {
    let wanted = words(line);
    if wanted.is_empty() {
        return None;
    }
    candidates
        .iter()
        .enumerate()
        .map(|(i, candidate)| {
            let have = words(candidate);
            let shared = wanted.iter().filter(|w| have.contains(w)).count();
            (i, shared as f64 / wanted.len() as f64)
        })
        .filter(|(_, share)| *share >= 0.6)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(n: u8) -> Origin {
        Origin {
            commit: Oid::from_bytes(&[n; 20]).unwrap(),
            date: DateTime::from_timestamp(i64::from(n) * 86_400, 0).unwrap(),
        }
    }

    #[test]
    fn unchanged_lines_keep_their_origin_and_new_ones_get_the_version() {
        let first = carry("", "A is one.\nB is two.\n", &[], origin(1), false);
        let second = carry(
            "A is one.\nB is two.\n",
            "A is one.\nC is new.\nB is two.\n",
            &first,
            origin(2),
            false,
        );
        let commits: Vec<Oid> = second.iter().map(|o| o.commit).collect();
        assert_eq!(commits, vec![origin(1).commit, origin(2).commit, origin(1).commit]);
    }

    #[test]
    fn reextraction_is_looked_through() {
        let first = carry(
            "",
            "We collect data. We share it with partners.\n",
            &[],
            origin(1),
            false,
        );
        let rebuilt = carry(
            "We collect data. We share it with partners.\n",
            "We collect data.\nWe share it with partners.\n",
            &first,
            origin(2),
            true,
        );
        assert!(rebuilt.iter().all(|o| o.commit == origin(1).commit));
        let changed = carry(
            "We collect data. We share it with partners.\n",
            "We collect data.\nWe share it with partners.\n",
            &first,
            origin(2),
            false,
        );
        assert!(changed.iter().all(|o| o.commit == origin(2).commit));
    }
}
