//! What a report says, independent of its format: each change with its sentences, word
//! differences and flags. Markdown, HTML, JSON and Atom render this one model, so
//! every format says the same thing. The JSON schema is this model, serialized.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::diff::{Counts, SentenceChange, diff_texts};
use super::words::{WordPiece, word_diff};
use crate::archive::history::{DocumentFilter, VersionRecord};
use crate::archive::{Archive, ArchiveError, ChangeKind, ProvisionShift};
use crate::provision::Taxonomy;

/// A sentence with the section heading it sits under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sentence {
    /// Where the change stands among the version's changes, in document order.
    pub position: usize,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// The provisions the sentence states, when the report was asked to mark them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provisions: Vec<String>,
}

/// A sentence whose wording changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedSentence {
    pub position: usize,
    pub old: String,
    pub new: String,
    pub words: Vec<WordPiece>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// The provisions either wording states, when the report was asked to mark them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provisions: Vec<String>,
}

/// Something a reader should know about a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flag {
    /// The wording changed but the document's own "last updated" date did not.
    DeclaredDateUnchanged,
    /// The declared date moved, but nothing else in the text changed.
    DeclaredDateOnly,
}

impl Flag {
    pub fn describe(self) -> &'static str {
        match self {
            Flag::DeclaredDateUnchanged => "the text changed but its declared date did not",
            Flag::DeclaredDateOnly => "only the declared date changed",
        }
    }
}

/// The title of a change's list of added sentences: a first record adds nothing, it is
/// the text as recording found it, so its sentences are not called new.
pub fn added_title(change: ChangeKind) -> &'static str {
    match change {
        ChangeKind::First => "Text at the first record",
        _ => "Added",
    }
}

/// One version and how it differs from the one before.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub service: String,
    pub document: String,
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_url: Option<String>,
    pub date: DateTime<Utc>,
    pub change: ChangeKind,
    /// For a revert, the commit of the earlier version the document went back to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverts_to: Option<String>,
    pub summary: String,
    pub source_urls: Vec<String>,
    pub counts: Counts,
    pub provisions: Vec<String>,
    /// What the change did to each provision the document states, from the commit's
    /// `Provisions-Changed:` trailer: added, removed, reworded, stance flipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provisions_changed: Vec<ProvisionShift>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_declared_date: Option<NaiveDate>,
    pub flags: Vec<Flag>,
    pub added: Vec<Sentence>,
    pub removed: Vec<Sentence>,
    pub changed: Vec<ChangedSentence>,
    pub moved: Vec<Sentence>,
    /// Sentence changes left out because they state none of the provisions a report
    /// was asked about (`report --provision`): shown as a count.
    #[serde(skip_serializing_if = "is_zero")]
    pub other_sentence_changes: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Change {
    /// Marks each sentence with the provisions it states; a changed sentence with those
    /// of its old and its new wording. Only the provisions the commit says the change
    /// touched are looked for (its `Provisions:` trailer, which `report --provision`
    /// selects changes by): most changes touch none, and tagging costs.
    pub fn mark_provisions(&mut self, taxonomy: &Taxonomy) {
        let only = &self.provisions;
        for s in self.added.iter_mut().chain(&mut self.removed).chain(&mut self.moved) {
            s.provisions = taxonomy.ids_among([s.text.as_str()], only);
        }
        for c in &mut self.changed {
            c.provisions = taxonomy.ids_among([c.old.as_str(), c.new.as_str()], only);
        }
    }

    /// Keeps the sentences (already marked) that state one of `ids`; the others are
    /// counted in `other_sentence_changes`.
    pub fn keep_provisions(&mut self, ids: &[String]) {
        let wanted = |provisions: &[String]| provisions.iter().any(|p| ids.contains(p));
        let before = self.sentence_change_count();
        self.added.retain(|s| wanted(&s.provisions));
        self.removed.retain(|s| wanted(&s.provisions));
        self.moved.retain(|s| wanted(&s.provisions));
        self.changed.retain(|c| wanted(&c.provisions));
        self.other_sentence_changes += before - self.sentence_change_count();
    }

    /// The sentence changes the change lists.
    pub fn sentence_change_count(&self) -> usize {
        self.added.len() + self.removed.len() + self.changed.len() + self.moved.len()
    }
}

/// A document's changes in the report's window, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentChanges {
    pub service: String,
    pub document: String,
    pub changes: Vec<Change>,
}

/// Every substantive change in a period, grouped by document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Version of this JSON schema; bumped when a field changes meaning or goes away.
    pub schema: u32,
    pub generated_at: DateTime<Utc>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub documents: Vec<DocumentChanges>,
}

impl Report {
    /// The last day the period covers: `until` is exclusive, so a period ending at
    /// midnight ends the day before.
    pub fn last_day(&self) -> NaiveDate {
        last_day(self.until)
    }

    pub fn change_count(&self) -> usize {
        self.documents.iter().map(|d| d.changes.len()).sum()
    }

    /// Marks every sentence with the provisions it states (see [`Change::mark_provisions`]).
    pub fn mark_provisions(&mut self, taxonomy: &Taxonomy) {
        for change in self.documents.iter_mut().flat_map(|d| &mut d.changes) {
            change.mark_provisions(taxonomy);
        }
    }

    /// Narrows the report to provisions `ids` (`report --provision`): the changes that
    /// touch one of them and, in each, the sentences that state one, marked; the other
    /// sentence changes are only counted, so a 194-sentence rewrite shows the clause.
    pub fn focus_on_provisions(&mut self, taxonomy: &Taxonomy, ids: &[String]) {
        for document in &mut self.documents {
            document
                .changes
                .retain(|c| c.provisions.iter().any(|p| ids.contains(p)));
            for change in &mut document.changes {
                change.mark_provisions(taxonomy);
                change.keep_provisions(ids);
            }
        }
        self.documents.retain(|d| !d.changes.is_empty());
    }
}

/// The last day a window ending at `until` (exclusive) covers: one ending at midnight
/// ends the day before.
pub fn last_day(until: DateTime<Utc>) -> NaiveDate {
    let day = until.date_naive();
    if until.time() == chrono::NaiveTime::MIN {
        day.pred_opt().unwrap_or(day)
    } else {
        day
    }
}

/// The headings in force at each line of a text (1-based line numbers).
fn heading_at(text: &str) -> Vec<Option<String>> {
    let mut current = None;
    let mut out = vec![None];
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix('#') {
            current = Some(heading.trim_start_matches('#').trim().to_string());
        }
        out.push(current.clone());
    }
    out
}

/// Describes one version against its predecessor.
pub fn describe_change(
    archive: &Archive,
    record: &VersionRecord,
    url_base: Option<&str>,
) -> Result<Change, ArchiveError> {
    let new = archive.blob_text(record.blob)?;
    let old = match record.previous_blob {
        Some(blob) => archive.blob_text(blob)?,
        None => String::new(),
    };
    Ok(change_between(record, &old, &new, url_base))
}

/// Describes a version given the texts before and after it.
pub fn change_between(record: &VersionRecord, old: &str, new: &str, url_base: Option<&str>) -> Change {
    let m = &record.message;
    let diff = diff_texts(old, new);
    let old_headings = heading_at(old);
    let new_headings = heading_at(new);
    let at = |headings: &[Option<String>], line: usize| headings.get(line).cloned().flatten();
    let (mut added, mut removed, mut changed, mut moved) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (position, change) in diff.changes.iter().enumerate() {
        match change {
            SentenceChange::Added { new_line, text } => added.push(Sentence {
                position,
                text: text.trim().to_string(),
                heading: at(&new_headings, *new_line),
                provisions: Vec::new(),
            }),
            SentenceChange::Removed { old_line, text } => removed.push(Sentence {
                position,
                text: text.trim().to_string(),
                heading: at(&old_headings, *old_line),
                provisions: Vec::new(),
            }),
            SentenceChange::Changed { new_line, old, new, .. } => changed.push(ChangedSentence {
                position,
                words: word_diff(old.trim(), new.trim()),
                old: old.trim().to_string(),
                new: new.trim().to_string(),
                heading: at(&new_headings, *new_line),
                provisions: Vec::new(),
            }),
            SentenceChange::Moved { new_line, text, .. } => moved.push(Sentence {
                position,
                text: text.trim().to_string(),
                heading: at(&new_headings, *new_line),
                provisions: Vec::new(),
            }),
        }
    }

    let previous_declared_date = super::dates::declared_date(old);
    let declared_date = m.declared_date.or_else(|| super::dates::declared_date(new));
    let mut flags = Vec::new();
    if m.change == ChangeKind::Substantive && previous_declared_date.is_some() {
        let only_dates = diff.changes.iter().all(|c| match c {
            SentenceChange::Changed { old, new, .. } => {
                super::dates::declared_date(old).is_some() && super::dates::declared_date(new).is_some()
            }
            _ => false,
        });
        if declared_date == previous_declared_date {
            flags.push(Flag::DeclaredDateUnchanged);
        } else if only_dates {
            flags.push(Flag::DeclaredDateOnly);
        }
    }

    Change {
        service: m.service.clone(),
        document: m.document.clone(),
        commit: record.commit.to_string(),
        commit_url: url_base.map(|base| format!("{base}{}", record.commit)),
        date: record.date,
        change: m.change,
        reverts_to: m.reverts_to.clone(),
        summary: m.subject.clone(),
        source_urls: m.source_urls.clone(),
        counts: diff.counts,
        provisions: m.provisions.clone(),
        provisions_changed: m.provisions_changed.clone(),
        declared_date,
        previous_declared_date,
        flags,
        added,
        removed,
        changed,
        moved,
        other_sentence_changes: 0,
    }
}

/// Builds the report of substantive changes (and first records) in `[since, until)`.
/// Cosmetic changes and re-extractions are not changes a reader needs to see.
pub fn build_report(
    archive: &Archive,
    filter: &DocumentFilter,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Report, ArchiveError> {
    let url_base = archive.commit_url_base();
    let mut changes = Vec::new();
    for record in archive.versions(filter, Some(since), Some(until))? {
        if !record.message.change.is_reported() {
            continue;
        }
        changes.push(describe_change(archive, &record, url_base.as_deref())?);
    }
    Ok(Report::from_changes(changes, since, until, now))
}

impl Report {
    /// A report of `changes` (already chosen for the period), grouped by document in
    /// (service, document) order; each document keeps the order its changes come in.
    pub fn from_changes(
        changes: impl IntoIterator<Item = Change>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Report {
        let mut by_document: BTreeMap<(String, String), Vec<Change>> = BTreeMap::new();
        for change in changes {
            by_document
                .entry((change.service.clone(), change.document.clone()))
                .or_default()
                .push(change);
        }
        let documents = by_document
            .into_iter()
            .map(|((service, document), changes)| DocumentChanges {
                service,
                document,
                changes,
            })
            .collect();
        Report {
            schema: 1,
            generated_at: now,
            since,
            until,
            documents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::VersionMessage;

    fn record(change: ChangeKind, declared: Option<NaiveDate>) -> VersionRecord {
        VersionRecord {
            commit: git2::Oid::from_str("1234567890abcdef1234567890abcdef12345678").unwrap(),
            date: DateTime::from_timestamp(1_772_409_600, 0).unwrap(),
            message: VersionMessage {
                subject: "Acme Privacy Policy: 1 sentence changed".into(),
                service: "acme".into(),
                document: "privacy-policy".into(),
                source_urls: vec![],
                fetched_at: DateTime::from_timestamp(1_772_409_600, 0).unwrap(),
                snapshot_sha256: String::new(),
                fetcher: "http".into(),
                change,
                reverts_to: None,
                provisions: vec![],
                provisions_changed: vec![],
                untagged_language: None,
                declared_date: declared,
                canonicalizer: 1,
                clausewatch_version: "0.1.0".into(),
                source: None,
                extra: vec![],
            },
            blob: git2::Oid::ZERO_SHA1,
            previous_blob: None,
        }
    }

    #[test]
    fn sentences_carry_their_heading_and_word_differences() {
        let old = "# Data\n\nWe keep data for 30 days.\n\n# Sharing\n\nWe never sell data.\n";
        let new = "# Data\n\nWe keep data for 90 days.\n\n# Sharing\n\nWe may share data with partners.\nWe never sell data.\n";
        let change = change_between(
            &record(ChangeKind::Substantive, None),
            old,
            new,
            Some("https://github.com/a/b/commit/"),
        );
        assert_eq!(change.changed.len(), 1);
        assert_eq!(change.changed[0].heading.as_deref(), Some("Data"));
        assert_eq!(
            super::super::words::render_plain(&change.changed[0].words),
            "We keep data for [-30-]{+90+} days."
        );
        assert_eq!(
            change.added,
            vec![Sentence {
                position: 1,
                text: "We may share data with partners.".into(),
                heading: Some("Sharing".into()),
                provisions: vec![],
            }]
        );
        assert!(
            change
                .commit_url
                .unwrap()
                .ends_with("/commit/1234567890abcdef1234567890abcdef12345678")
        );
    }

    #[test]
    fn declared_date_flags() {
        let old = "Last updated: January 1, 2026\n\nWe keep data for 30 days.\n";
        let same_date = "Last updated: January 1, 2026\n\nWe keep data for 90 days.\n";
        let date_only = "Last updated: March 1, 2026\n\nWe keep data for 30 days.\n";
        let both = "Last updated: March 1, 2026\n\nWe keep data for 90 days.\n";
        let flags = |new: &str| change_between(&record(ChangeKind::Substantive, None), old, new, None).flags;
        assert_eq!(flags(same_date), vec![Flag::DeclaredDateUnchanged]);
        assert_eq!(flags(date_only), vec![Flag::DeclaredDateOnly]);
        assert_eq!(flags(both), vec![]);
    }
}
