//! Backfilling history from elsewhere: Open Terms Archive repositories (their versions,
//! or their snapshots run through our canonicalizer) and the Wayback Machine.
//!
//! Every source hands its candidates to a [`DocumentReplay`] in chronological order,
//! which records them with the same commit builder as `track`
//! ([`crate::track::new_version`]), dated at their fetch or capture time.
//!
//! **The chronology rule.** History is appended, never rewritten: commits already
//! recorded (and cited, and pushed) keep their ids. So for each document, a candidate
//! dated after the document's latest recorded version is recorded when its text differs
//! from the current one (nothing otherwise). A candidate dated before that latest
//! version must already be there — the version in force at its date, or one recorded at
//! that very second, has the same text (a re-import, or an import resumed) — and is then
//! skipped as `already recorded`. Candidates dated in the same second as the latest
//! version (OTA records several commits in one second) come after it in the source's
//! commit order, so one that is not already there is appended, as a later candidate.
//! Otherwise it would have to go *before* recorded history: the document is refused,
//! with a message, before anything of it is recorded (every such candidate comes before
//! every recordable one), unless `--skip-older` asks to import only what comes after
//! the latest version. Other documents of the same import go on.

pub mod ota;
pub mod wayback;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::archive::history::{DocumentFilter, VersionRecord};
use crate::archive::{Archive, ArchiveError, ChangeKind, Identity};
use crate::declaration::Document;
use crate::failure::{Failure, FailureKind};
use crate::fetch::decode::{self, BodyKind};
use crate::fetch::wall;
use crate::provision::Taxonomy;
use crate::report::classify;
use crate::track::{Candidate, ShrinkAcceptance, new_version, not_the_document, shrink_failure};

/// Options every import shares.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub identity: Identity,
    /// Commit time (the author date is each version's own time).
    pub now: DateTime<Utc>,
    pub taxonomy: Taxonomy,
    /// Import only candidates after a document's latest version instead of refusing a
    /// document whose candidates would go before it.
    pub skip_older: bool,
    /// Documents that may record texts that lost more than half their length.
    pub accept_shrink: ShrinkAcceptance,
}

/// One candidate version, ready to be offered.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Fetch or capture time: the author date of the version it may become.
    pub date: DateTime<Utc>,
    pub text: String,
    pub snapshot: Vec<u8>,
    pub snapshot_ext: &'static str,
    pub urls: Vec<String>,
    pub fetcher: String,
    pub source: String,
    pub extra: Vec<(String, String)>,
    /// A re-extraction upstream (OTA's "Refilter"): recorded as `reextract`.
    pub reextract: bool,
    /// What the user would call this candidate ("OTA commit 1a2b3c4d", "capture 2022...").
    pub label: String,
}

/// What became of one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    Recorded {
        commit: String,
        change: ChangeKind,
        summary: String,
    },
    /// Same text as the current version.
    Unchanged,
    /// At or before the latest version, and the archive already says the same.
    AlreadyRecorded,
    /// At or before the latest version with another text; `--skip-older` skips it.
    SkippedOlder,
    /// Not recordable (a wall, an empty or shrunken text): counted and reported.
    Skipped(Failure),
}

/// The document cannot take a candidate without rewriting history.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{document}: {label} ({date}) would go before the latest recorded version ({latest}), and recorded history is never rewritten; \
     {imported}. Import into an archive where {document} has no versions yet, or pass --skip-older to import only what comes after {latest}"
)]
pub struct Conflict {
    pub document: String,
    pub label: String,
    pub date: String,
    pub latest: String,
    /// What this import recorded of the document before it stopped, in words.
    pub imported: String,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Replays candidates of one document, oldest first, into the archive.
pub struct DocumentReplay<'a> {
    archive: &'a Archive,
    options: &'a ImportOptions,
    pub service: String,
    pub service_name: String,
    pub doc_type: String,
    /// Recorded versions, newest first.
    versions: Vec<VersionRecord>,
    current: Option<String>,
    /// Versions this replay recorded (the conflict message says so).
    recorded_now: usize,
    /// The version the last candidate matched or became: later candidates cannot match
    /// anything older.
    matched: Option<git2::Oid>,
}

impl<'a> DocumentReplay<'a> {
    pub fn new(
        archive: &'a Archive,
        options: &'a ImportOptions,
        service: &str,
        service_name: &str,
        doc_type: &str,
    ) -> Result<DocumentReplay<'a>, ArchiveError> {
        let filter = DocumentFilter {
            service: Some(service.to_string()),
            doc_type: Some(doc_type.to_string()),
        };
        Ok(DocumentReplay {
            archive,
            options,
            service: service.to_string(),
            service_name: service_name.to_string(),
            doc_type: doc_type.to_string(),
            versions: archive.versions(&filter, None, None)?,
            current: archive.current_text(service, doc_type)?,
            recorded_now: 0,
            matched: None,
        })
    }

    pub fn document(&self) -> String {
        format!("{}/{}", self.service, self.doc_type)
    }

    /// The values a source-specific trailer has across the recorded versions (the
    /// `Capture-Digest` of every capture already recorded).
    pub fn recorded_extra(&self, key: &str) -> std::collections::HashSet<String> {
        self.versions
            .iter()
            .filter_map(|v| v.message.extra(key).map(str::to_string))
            .collect()
    }

    /// The author date of the latest recorded version.
    pub fn latest(&self) -> Option<DateTime<Utc>> {
        self.versions.first().map(|v| v.date)
    }

    /// Whether a candidate of this date falls at or before the recorded history, where
    /// it is first checked against what is recorded.
    pub fn is_before_latest(&self, date: DateTime<Utc>) -> bool {
        self.latest().is_some_and(|latest| date <= latest)
    }

    /// The recorded version in force at `date`, newest first search.
    fn in_force(&self, date: DateTime<Utc>) -> Option<&VersionRecord> {
        self.versions.iter().find(|v| v.date <= date)
    }

    /// The recorded version that already says what `entry` says at its date: the
    /// version in force just before that second, or one recorded in that very second
    /// (several upstream commits can share a second), never one older than the version
    /// the previous candidate matched, so a same-second revert is not mistaken for the
    /// version it returns to. Returns its index in `versions`.
    fn covering(&self, entry: &Entry) -> Result<Option<usize>, ArchiveError> {
        let floor = self
            .matched
            .and_then(|commit| self.versions.iter().position(|v| v.commit == commit));
        let before_second = self.versions.iter().position(|v| v.date < entry.date);
        // Oldest first, as the candidates come.
        let eligible = (0..self.versions.len())
            .rev()
            .filter(|&i| self.versions[i].date == entry.date || Some(i) == before_second)
            .filter(|&i| floor.is_none_or(|floor| i <= floor));
        for i in eligible {
            if self.archive.blob_text(self.versions[i].blob)? == entry.text {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// Why `entry` is not the document next to `old`, the text of the version it would
    /// follow (see [`crate::track::continuity::judge`]). The old snapshot is not read:
    /// this is for telling a candidate skipped before from a conflict, and a candidate
    /// refused only by the closing tags its page lost is then called a conflict.
    fn against(&self, old: &str, entry: &Entry) -> Result<Option<Failure>, ArchiveError> {
        let document = self.document();
        crate::track::continuity::judge(&self.arrival(entry, &document), old, || Ok(None))
    }

    /// A candidate as the checks against the version before weigh it (an import knows
    /// of no redirect).
    fn arrival<'e>(&self, entry: &'e Entry, document: &'e str) -> crate::track::continuity::Arrival<'e> {
        crate::track::continuity::Arrival {
            text: &entry.text,
            snapshot: &entry.snapshot,
            snapshot_ext: entry.snapshot_ext,
            redirects: &[],
            accept_shrink: self.shrink_accepted(),
            document,
            source: &entry.label,
        }
    }

    fn shrink_accepted(&self) -> bool {
        self.options.accept_shrink.accepts(&self.service, &self.doc_type)
    }

    /// The conflict of a candidate that would go before recorded history.
    pub fn conflict(&self, label: &str, date: DateTime<Utc>) -> Conflict {
        Conflict {
            document: self.document(),
            label: label.to_string(),
            date: rfc3339(date),
            latest: self.latest().map(rfc3339).unwrap_or_default(),
            imported: match self.recorded_now {
                0 => format!("nothing of {} was imported", self.document()),
                1 => "1 version was recorded before that, and nothing after".to_string(),
                n => format!("{n} versions were recorded before that, and nothing after"),
            },
        }
    }

    /// Offers the next candidate (candidates must come oldest first).
    pub fn offer(&mut self, entry: Entry) -> Result<Result<EntryOutcome, Conflict>, ArchiveError> {
        // Before the chronology rule: an error page skipped once is skipped again on a
        // re-import, not taken for a conflicting version.
        if let Some(failure) = not_the_document(&entry.text, &entry.snapshot, entry.snapshot_ext, &entry.label) {
            return Ok(Ok(EntryOutcome::Skipped(failure)));
        }
        if self.is_before_latest(entry.date) {
            if let Some(i) = self.covering(&entry)? {
                self.matched = Some(self.versions[i].commit);
                return Ok(Ok(EntryOutcome::AlreadyRecorded));
            }
            // In the latest version's own second and not recorded yet: it comes after
            // that version in the source's order, so it is appended like a newer one.
            let same_second = self.latest() == Some(entry.date);
            if same_second {
                return self.append(entry);
            }
            // A candidate the first import skipped as shrunken is skipped again, not a
            // conflict: it was never going to be recorded.
            if let Some(version) = self.in_force(entry.date)
                && let Some(old) = self.archive.text_at(version.commit, &self.service, &self.doc_type)?
                && let Some(failure) = shrink_failure(&old, &entry.text, &self.document(), self.shrink_accepted())
                    .map_or_else(|| self.against(&old, &entry), |failure| Ok(Some(failure)))?
            {
                return Ok(Ok(EntryOutcome::Skipped(failure)));
            }
            if self.options.skip_older {
                return Ok(Ok(EntryOutcome::SkippedOlder));
            }
            return Ok(Err(self.conflict(&entry.label, entry.date)));
        }
        self.append(entry)
    }

    /// Records a candidate after the latest version (when its text is new and whole).
    fn append(&mut self, entry: Entry) -> Result<Result<EntryOutcome, Conflict>, ArchiveError> {
        let kind = match &self.current {
            Some(old) if *old == entry.text => return Ok(Ok(EntryOutcome::Unchanged)),
            Some(old) => {
                let document = self.document();
                if let Some(failure) = crate::track::continuity::replaced(&self.arrival(&entry, &document), old) {
                    return Ok(Ok(EntryOutcome::Skipped(failure)));
                }
                if let Some(failure) = shrink_failure(old, &entry.text, &self.document(), self.shrink_accepted()) {
                    return Ok(Ok(EntryOutcome::Skipped(failure)));
                }
                if entry.reextract {
                    ChangeKind::Reextract
                } else {
                    classify(old, &entry.text)
                }
            }
            None => ChangeKind::First,
        };
        let recorded = new_version(
            self.archive,
            Candidate {
                service: &self.service,
                service_name: &self.service_name,
                doc_type: &self.doc_type,
                urls: entry.urls.clone(),
                text: &entry.text,
                snapshot: &entry.snapshot,
                snapshot_ext: entry.snapshot_ext,
                fetcher: &entry.fetcher,
                fetched_at: entry.date,
                source: Some(entry.source.clone()),
                extra: entry.extra.clone(),
                provisions: None,
                redirects: Vec::new(),
                accept_shrink: self.shrink_accepted(),
            },
            self.current.as_deref().map(|old| (old, kind)),
            &self.options.taxonomy,
        )?;
        let (mut version, counts) = match recorded {
            Ok(recorded) => recorded,
            Err(failure) => return Ok(Ok(EntryOutcome::Skipped(failure))),
        };
        // Our canonicalizer did not change: the source re-extracted its page, so say what
        // that changed (a language switch, sentences) rather than "re-extracted with
        // canonicalizer N".
        if kind == ChangeKind::Reextract
            && let Some(old) = &self.current
        {
            let title = format!(
                "{} {}",
                self.service_name,
                crate::declaration::title_from_slug(&self.doc_type)
            );
            version.message.subject = crate::report::summary::upstream_reextraction(&title, old, &entry.text, &counts);
        }
        let commit = self
            .archive
            .record_at(&version, &self.options.identity, entry.date, self.options.now)?;
        // Newest first: the version this one replaces is at the front.
        let previous_blob = self.versions.first().map(|v| v.blob);
        self.versions.insert(
            0,
            VersionRecord {
                commit,
                date: entry.date,
                message: version.message.clone(),
                blob: version.text_blob,
                previous_blob,
            },
        );
        self.current = Some(entry.text);
        self.recorded_now += 1;
        self.matched = Some(commit);
        Ok(Ok(EntryOutcome::Recorded {
            commit: commit.to_string(),
            change: version.message.change,
            summary: version.message.subject,
        }))
    }
}

/// What an import did to one document.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DocumentTally {
    pub service: String,
    pub document: String,
    pub recorded: usize,
    pub unchanged: usize,
    pub already_recorded: usize,
    pub skipped_older: usize,
    pub skipped: usize,
    /// Why candidates were skipped (walls, error pages, shrunken texts), one line each.
    pub skip_reasons: Vec<String>,
    /// Set when the document was refused by the chronology rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// The recorded commits, oldest first.
    pub commits: Vec<String>,
}

impl DocumentTally {
    pub fn new(service: &str, document: &str) -> DocumentTally {
        DocumentTally {
            service: service.to_string(),
            document: document.to_string(),
            ..DocumentTally::default()
        }
    }

    pub fn count(&mut self, label: &str, outcome: &EntryOutcome) {
        match outcome {
            EntryOutcome::Recorded { commit, .. } => {
                self.recorded += 1;
                self.commits.push(commit.clone());
            }
            EntryOutcome::Unchanged => self.unchanged += 1,
            EntryOutcome::AlreadyRecorded => self.already_recorded += 1,
            EntryOutcome::SkippedOlder => self.skipped_older += 1,
            EntryOutcome::Skipped(failure) => {
                self.skipped += 1;
                self.skip_reasons
                    .push(format!("{label}: {}: {}", failure.kind, failure.message));
            }
        }
    }

    /// `3 recorded, 1 unchanged, 2 already recorded, 1 skipped`.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("{} recorded", self.recorded)];
        for (n, what) in [
            (self.unchanged, "unchanged"),
            (self.already_recorded, "already recorded"),
            (self.skipped_older, "older than the archive's latest version (skipped)"),
            (self.skipped, "skipped"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }
}

/// The canonical text of archived bytes under a document's declaration, refusing bot
/// walls and error pages as `track` would.
pub fn extract(
    bytes: &[u8],
    content_type: Option<&str>,
    document: &Document,
    url: &str,
) -> Result<(String, &'static str), Failure> {
    if document.parts.len() != 1 {
        return Err(Failure::new(
            FailureKind::UnsupportedContent,
            "documents combined from several pages cannot be replayed from single captures",
        ));
    }
    let kind = decode::body_kind(content_type, bytes);
    let ext = match kind {
        BodyKind::Pdf => "pdf",
        BodyKind::PlainText => "txt",
        BodyKind::Html => "html",
        BodyKind::Other => {
            return Err(Failure::new(
                FailureKind::UnsupportedContent,
                format!(
                    "the body is not text (content type {})",
                    content_type.unwrap_or("not given")
                ),
            ));
        }
    };
    if kind == BodyKind::Html {
        let html = decode::decode(bytes, content_type, BodyKind::Html);
        if let Some(verdict) = wall::inspect(&html) {
            return Err(verdict.into_failure(url));
        }
    }
    let part = &document.parts[0];
    let selection = crate::canon::Selection::new(&part.select, &part.remove)?;
    let text = crate::canon::canonicalize(bytes, content_type, &selection)?;
    Ok((text, ext))
}
