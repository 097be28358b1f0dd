//! Research export: the archive's history as four tables — documents, versions,
//! sentence changes and provision occurrences — in SQLite (with indexes and FTS5),
//! CSV (a folder of one file per table) or JSON Lines (likewise).
//!
//! Export is incremental. The store remembers the last commit it exported; a second run
//! walks only the commits after it, appends their versions and sentence changes, and
//! updates the two tables whose rows evolve (a document's last version, an occurrence's
//! last sighting). The rows a run computes are the same whichever store receives them,
//! so the three formats always hold the same data.

mod csv_cells;
mod files;
pub mod metadata;
mod sqlite;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use git2::Oid;
use serde::{Deserialize, Serialize};

use crate::archive::history::VersionRecord;
use crate::archive::{Archive, ArchiveError};
use crate::provision::Taxonomy;
use crate::report::provisions::{sentence_of, tag_line};
use crate::report::{SentenceChange, diff_texts, since};

pub use files::FileStore;
pub use sqlite::SqliteStore;

/// Version of the tables' layout; a store written by another schema is refused.
pub const SCHEMA: u32 = 1;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Sqlite,
    Csv,
    Jsonl,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Sqlite => "sqlite",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// One document: where it lives and when it was first and last recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRow {
    pub service: String,
    pub document: String,
    /// The source URL(s) of the latest version, space-separated.
    pub url: String,
    /// Author date of the first version (RFC 3339, UTC).
    pub first_seen: String,
    /// Author date of the latest version.
    pub last_seen: String,
    /// How many versions the document has.
    pub versions: i64,
}

/// One version of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRow {
    pub commit_id: String,
    pub service: String,
    pub document: String,
    /// Author date: when the version was fetched or captured.
    pub date: String,
    /// `first`, `substantive`, `cosmetic`, `revert` or `reextract`.
    pub change: String,
    pub added: i64,
    pub removed: i64,
    pub changed: i64,
    pub moved: i64,
    pub subject: String,
    /// Provision ids the change touched, comma-separated.
    pub provisions: String,
    /// The date the document gives itself (YYYY-MM-DD), when it gives one.
    pub declared_date: Option<String>,
    /// `track`, `wayback`, `ota-versions` or `ota-snapshots`.
    pub source: String,
    /// Space-separated.
    pub source_urls: String,
    pub fetched_at: String,
    pub snapshot_sha256: String,
    pub fetcher: String,
    pub canonicalizer: i64,
    /// The canonical text of the version.
    pub text: String,
}

/// One sentence a version added, removed, changed or moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentenceChangeRow {
    pub commit_id: String,
    pub service: String,
    pub document: String,
    pub date: String,
    /// Order among the version's changes, from 1.
    pub position: i64,
    /// `added`, `removed`, `changed` or `moved`.
    pub kind: String,
    pub old_sentence: Option<String>,
    pub new_sentence: Option<String>,
    pub old_line: Option<i64>,
    pub new_line: Option<i64>,
    /// Provision ids the old or new sentence expresses, comma-separated.
    pub provisions: String,
}

/// A sentence expressing a provision, over the run of consecutive versions that had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OccurrenceRow {
    pub id: i64,
    pub service: String,
    pub document: String,
    pub provision: String,
    /// `grants`, `restricts`, `conditional` or `neutral`.
    pub stance: String,
    pub sentence: String,
    /// Date and commit of the version in which the sentence appeared.
    pub first_seen: String,
    pub first_commit: String,
    /// Date and commit of the last version that still had it.
    pub last_seen: String,
    pub last_commit: String,
    /// 1 while the latest version still has the sentence, else 0.
    pub in_force: i64,
}

/// What a store remembers between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportState {
    pub schema: u32,
    /// The HEAD commit of the last export; `None` before the first.
    pub last_commit: Option<String>,
    pub exported_at: Option<String>,
    /// A fingerprint of the provision taxonomy the occurrences were tagged with.
    pub taxonomy: String,
    pub clausewatch_version: String,
}

/// What one run adds and updates.
#[derive(Debug, Default)]
pub struct Delta {
    /// Every document a new version touched, in full (inserted or replaced).
    pub documents: Vec<DocumentRow>,
    pub versions: Vec<VersionRow>,
    pub sentence_changes: Vec<SentenceChangeRow>,
    /// New occurrences and those whose last sighting or state changed (by `id`).
    pub occurrences: Vec<OccurrenceRow>,
}

/// Where an export is kept.
pub trait Store {
    fn state(&self) -> &ExportState;
    /// Every document row.
    fn documents(&self) -> Result<Vec<DocumentRow>, ExportError>;
    /// The occurrences still in force.
    fn open_occurrences(&self) -> Result<Vec<OccurrenceRow>, ExportError>;
    fn max_occurrence_id(&self) -> Result<i64, ExportError>;
    /// Writes the delta and the new state, all or nothing as far as the format allows.
    fn apply(&mut self, delta: &Delta, state: &ExportState) -> Result<(), ExportError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("{path}: {message}")]
    Store { path: String, message: String },
    /// A file of a CSV or JSON Lines export is a symbolic link: the folder may come from
    /// someone else, and a link could send a read or write anywhere on the machine.
    #[error(
        "{path} is a symbolic link; clausewatch never reads or writes through a link in an export folder \
         (it could point anywhere, even outside it): replace it with a regular file, or export to a new folder"
    )]
    Link { path: String },
    /// The store cannot be continued from this archive; the message says why and what to do.
    #[error("{0}")]
    Mismatch(String),
}

impl ExportError {
    pub fn store(path: &std::path::Path, message: impl std::fmt::Display) -> ExportError {
        ExportError::Store {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportSummary {
    pub format: String,
    pub documents: usize,
    pub versions: usize,
    pub sentence_changes: usize,
    /// Provision occurrences that began in the versions of this run.
    pub occurrences: usize,
    /// The commit exported up to.
    pub head: Option<String>,
    /// Whether this run continued an earlier export.
    pub incremental: bool,
}

/// The tagger that tagged an export's provision occurrences (its name and version: the
/// taxonomy's matching rules and, when attached, the learned model): occurrences tagged
/// by another would not be comparable with new ones. Editing a provision's title or
/// phrases changes nothing here.
pub fn taxonomy_fingerprint(taxonomy: &Taxonomy) -> String {
    taxonomy.tagger().to_string()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Exports what `store` has not seen yet. `progress` is called once per version
/// processed with (done, total).
pub fn export(
    archive: &Archive,
    store: &mut dyn Store,
    taxonomy: &Taxonomy,
    now: DateTime<Utc>,
    format: Format,
    mut progress: impl FnMut(usize, usize),
) -> Result<ExportSummary, ExportError> {
    let fingerprint = taxonomy_fingerprint(taxonomy);
    let previous = store.state().clone();
    if previous.last_commit.is_some() && previous.taxonomy != fingerprint {
        return Err(ExportError::Mismatch(
            "the provision taxonomy (provisions.toml) changed since this export was made, so its \
             provision occurrences would mix two sets of rules; export to a new path (or delete this one) to rebuild it"
                .into(),
        ));
    }
    let after = match &previous.last_commit {
        Some(id) => {
            let oid = Oid::from_str(id).map_err(|_| {
                ExportError::Mismatch(format!(
                    "the export names commit {id:?}, which is not a commit id; export to a new path"
                ))
            })?;
            if !archive.in_history(oid)? {
                return Err(ExportError::Mismatch(format!(
                    "this export was made up to commit {}, which is not in the current branch's history \
                     (another archive, or history was rewritten); export to a new path (or delete this one) to start afresh",
                    &id[..id.len().min(12)]
                )));
            }
            Some(oid)
        }
        None => None,
    };
    let head = archive.head_commit()?.map(|c| c.id().to_string());
    let mut records: Vec<VersionRecord> = archive.versions_after(after)?;
    records.reverse();

    let mut documents: HashMap<(String, String), DocumentRow> = store
        .documents()?
        .into_iter()
        .map(|d| ((d.service.clone(), d.document.clone()), d))
        .collect();
    // Open occurrences by document, then by sentence.
    let mut open: HashMap<(String, String), BTreeMap<String, Vec<OccurrenceRow>>> = HashMap::new();
    for occurrence in store.open_occurrences()? {
        open.entry((occurrence.service.clone(), occurrence.document.clone()))
            .or_default()
            .entry(since::key(&occurrence.sentence))
            .or_default()
            .push(occurrence);
    }
    let mut next_id = store.max_occurrence_id()? + 1;
    let mut delta = Delta::default();
    let mut touched_documents: Vec<(String, String)> = Vec::new();
    let mut changed_occurrences: BTreeMap<i64, OccurrenceRow> = BTreeMap::new();
    let mut opened = 0;

    // The since key of every sentence seen: versions share most of their sentences.
    let mut keys: HashMap<String, String> = HashMap::new();
    let total = records.len();
    for (done, record) in records.iter().enumerate() {
        let m = &record.message;
        let key = (m.service.clone(), m.document.clone());
        let commit = record.commit.to_string();
        let date = rfc3339(record.date);
        let new_text = archive
            .text_at(record.commit, &m.service, &m.document)?
            .unwrap_or_default();
        let old_text = archive
            .text_before(record.commit, &m.service, &m.document)?
            .unwrap_or_default();
        let diff = diff_texts(&old_text, &new_text);

        delta.versions.push(VersionRow {
            commit_id: commit.clone(),
            service: m.service.clone(),
            document: m.document.clone(),
            date: date.clone(),
            change: m.change.as_str().to_string(),
            added: diff.counts.added as i64,
            removed: diff.counts.removed as i64,
            changed: diff.counts.changed as i64,
            moved: diff.counts.moved as i64,
            subject: m.subject.clone(),
            provisions: m.provisions.join(", "),
            declared_date: m.declared_date.map(|d| d.to_string()),
            source: m.source_name().to_string(),
            source_urls: m.source_urls.join(" "),
            fetched_at: rfc3339(m.fetched_at),
            snapshot_sha256: m.snapshot_sha256.clone(),
            fetcher: m.fetcher.clone(),
            canonicalizer: i64::from(m.canonicalizer),
            text: new_text.clone(),
        });

        let ids = |line: &str| -> Vec<String> {
            let mut ids: Vec<String> = tag_line(line, taxonomy).into_iter().map(|t| t.provision).collect();
            ids.dedup();
            ids
        };
        for (i, change) in diff.changes.iter().enumerate() {
            let (kind, old, new, old_line, new_line) = match change {
                SentenceChange::Added { new_line, text } => ("added", None, Some(text), None, Some(*new_line)),
                SentenceChange::Removed { old_line, text } => ("removed", Some(text), None, Some(*old_line), None),
                SentenceChange::Changed {
                    old_line,
                    new_line,
                    old,
                    new,
                } => ("changed", Some(old), Some(new), Some(*old_line), Some(*new_line)),
                SentenceChange::Moved {
                    old_line,
                    new_line,
                    text,
                } => ("moved", Some(text), Some(text), Some(*old_line), Some(*new_line)),
            };
            let mut provisions: Vec<String> = old.map(|s| ids(s)).unwrap_or_default();
            for id in new.map(|s| ids(s)).unwrap_or_default() {
                if !provisions.contains(&id) {
                    provisions.push(id);
                }
            }
            provisions.sort();
            delta.sentence_changes.push(SentenceChangeRow {
                commit_id: commit.clone(),
                service: m.service.clone(),
                document: m.document.clone(),
                date: date.clone(),
                position: i as i64 + 1,
                kind: kind.to_string(),
                old_sentence: old.cloned(),
                new_sentence: new.cloned(),
                old_line: old_line.map(|l| l as i64),
                new_line: new_line.map(|l| l as i64),
                provisions: provisions.join(", "),
            });
        }

        // Occurrences: a sentence that left the text closes its occurrences; one that
        // arrived opens new ones; the rest were seen once more. Sentences are compared
        // by their `since` key (report::since), so a cosmetic edit, a move or a second
        // copy neither closes nor opens one: an occurrence is a run of presence, and a
        // sentence's first occurrence starts at its since.
        let mut sentences = |text: &str| -> HashMap<String, String> {
            let mut out = HashMap::new();
            // Keyed by sentence; the line is kept, as its heading marker decides its tags.
            for line in text.lines().filter(|l| !sentence_of(l).is_empty()) {
                let sentence = sentence_of(line);
                let key = keys
                    .entry(sentence.to_string())
                    .or_insert_with(|| since::key(sentence))
                    .clone();
                out.entry(key).or_insert_with(|| line.to_string());
            }
            out
        };
        let (before, after_set) = (sentences(&old_text), sentences(&new_text));
        let doc_open = open.entry(key.clone()).or_default();
        let gone: Vec<String> = doc_open
            .keys()
            .filter(|s| !after_set.contains_key(*s))
            .cloned()
            .collect();
        for sentence in gone {
            for mut occurrence in doc_open.remove(&sentence).unwrap_or_default() {
                occurrence.in_force = 0;
                changed_occurrences.insert(occurrence.id, occurrence);
            }
        }
        for occurrences in doc_open.values_mut() {
            for occurrence in occurrences {
                occurrence.last_seen = date.clone();
                occurrence.last_commit = commit.clone();
                changed_occurrences.insert(occurrence.id, occurrence.clone());
            }
        }
        let mut arrived: Vec<(&String, &String)> = after_set
            .iter()
            .filter(|(k, _)| !before.contains_key(*k) && !doc_open.contains_key(*k))
            .collect();
        // In sentence order, as ids were given before lines were kept.
        arrived.sort_by(|a, b| sentence_of(a.1).cmp(sentence_of(b.1)));
        for (sentence_key, line) in arrived {
            let tags = tag_line(line, taxonomy);
            let sentence = sentence_of(line).to_string();
            if tags.is_empty() {
                continue;
            }
            let rows = doc_open.entry(sentence_key.clone()).or_default();
            for tag in tags {
                let row = OccurrenceRow {
                    id: next_id,
                    service: m.service.clone(),
                    document: m.document.clone(),
                    provision: tag.provision,
                    stance: tag.stance.as_str().to_string(),
                    sentence: sentence.clone(),
                    first_seen: date.clone(),
                    first_commit: commit.clone(),
                    last_seen: date.clone(),
                    last_commit: commit.clone(),
                    in_force: 1,
                };
                next_id += 1;
                opened += 1;
                changed_occurrences.insert(row.id, row.clone());
                rows.push(row);
            }
        }

        let url = m.source_urls.join(" ");
        documents
            .entry(key.clone())
            .and_modify(|d| {
                d.last_seen = date.clone();
                d.url = url.clone();
                d.versions += 1;
            })
            .or_insert_with(|| DocumentRow {
                service: m.service.clone(),
                document: m.document.clone(),
                url: url.clone(),
                first_seen: date.clone(),
                last_seen: date.clone(),
                versions: 1,
            });
        if !touched_documents.contains(&key) {
            touched_documents.push(key);
        }
        progress(done + 1, total);
    }

    touched_documents.sort();
    delta.documents = touched_documents
        .iter()
        .filter_map(|key| documents.get(key).cloned())
        .collect();
    delta.occurrences = changed_occurrences.into_values().collect();
    let summary = ExportSummary {
        format: format.as_str().to_string(),
        documents: delta.documents.len(),
        versions: delta.versions.len(),
        sentence_changes: delta.sentence_changes.len(),
        occurrences: opened,
        head: head.clone(),
        incremental: previous.last_commit.is_some(),
    };
    let state = ExportState {
        schema: SCHEMA,
        last_commit: head.or(previous.last_commit),
        exported_at: Some(rfc3339(now)),
        taxonomy: fingerprint,
        clausewatch_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    store.apply(&delta, &state)?;
    Ok(summary)
}
