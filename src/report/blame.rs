//! "Since when has this sentence been here?": each line of a version with the version
//! in which it first appeared, as [`super::since`] defines it (over the document's whole
//! history, looking through duplicated copies, moves, cosmetic edits and
//! re-extractions), and the spans it was absent.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::since::{Absence, SentenceHistory};
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
    /// `date` is the document's first recorded version: the sentence was already there
    /// when recording began, so `date` and `age_days` are bounds, not when it appeared.
    pub since_first_record: bool,
    /// Whole days between `date` and the blamed version's time (or now).
    pub age_days: i64,
    /// Spans in which the sentence was not in the document, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absences: Vec<Absence>,
}

impl BlameLine {
    /// `since 2024-03-22`, `since the first record (2024-02-21)`, and the spans it was
    /// absent (`, absent 2025-03-01..2025-04-02`).
    pub fn since(&self) -> String {
        super::since::describe(self.date, self.since_first_record, &self.absences)
    }
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
    history: SentenceHistory,
}

impl Blamer {
    /// Takes the next version (newer than every one pushed before) and its text.
    pub fn push(&mut self, version: &VersionRecord, text: String) {
        self.history.push(
            version.commit,
            version.date,
            version.message.change == ChangeKind::Reextract,
            text,
        );
    }

    /// The text of the last version pushed.
    pub fn text(&self) -> &str {
        self.history.text()
    }

    /// The non-blank lines of the last version, with ages counted to `reference_time`.
    pub fn lines(&self, reference_time: DateTime<Utc>) -> Vec<BlameLine> {
        self.history
            .lines()
            .into_iter()
            .map(|line| BlameLine {
                line: line.line,
                text: line.text,
                commit: line.first.commit.to_string(),
                date: line.first.date,
                since_first_record: line.first_record,
                age_days: (reference_time - line.first.date).num_days(),
                absences: line.absences,
            })
            .collect()
    }
}
