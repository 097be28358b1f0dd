//! Alerts: webhook messages for substantive changes and for failure transitions, and
//! GitHub issues for failing documents.
//!
//! Alerts are built after the run's commits (a version is never held back by a
//! webhook), as plain data ([`Alert`]); [`payload`] turns them into each format's JSON
//! with pure functions; [`deliver`] posts them with bounded retries. A delivery that
//! fails is reported, never fatal. Webhook URLs are secrets: see [`target`].

pub mod issues;
pub mod payload;
mod send;
pub mod target;

use chrono::{DateTime, Utc};
use git2::Oid;
use serde::Serialize;

use crate::archive::{Archive, ArchiveError, ChangeKind, ProvisionShift, VersionMessage};
use crate::provision::Taxonomy;
use crate::report::{Counts, SentenceChange, TextDiff, diff_texts};
use crate::status::{Transition, TransitionKind};
use crate::track::{Status, TrackReport};

pub use send::{SendError, SendOptions, Sender};
pub use target::{Format, Target, TargetError};

/// How many changed sentences an alert quotes; the rest are counted in `more`.
const SAMPLE_SENTENCES: usize = 5;
/// Longest quoted sentence, in characters.
const SENTENCE_CHARS: usize = 280;

/// Substantive changes and reverts alert: a first record says nothing changed (and a
/// new archive's first run would post one message per document), cosmetic changes and
/// re-extractions change no wording. A document that keeps going back and forth alerts
/// once as flapping, not at every toggle (see [`FLAPPING_WINDOW_DAYS`]).
pub fn alerts_on(change: ChangeKind) -> bool {
    matches!(change, ChangeKind::Substantive | ChangeKind::Revert)
}

/// A revert alerts when the document had no other revert in this many days before it;
/// the second one within the window alerts once more, as flapping; later ones are quiet
/// until the document has gone this long without a revert.
pub const FLAPPING_WINDOW_DAYS: i64 = 30;

/// A substantive change, with what a reader needs to judge it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeAlert {
    pub service: String,
    pub service_name: String,
    pub document: String,
    /// `Acme Privacy Policy`.
    pub title: String,
    /// The commit subject: `Acme Privacy Policy: 1 sentence added, 1 changed`.
    pub summary: String,
    pub change: ChangeKind,
    /// The document keeps toggling between versions: this is the one alert about it
    /// until it settles.
    pub flapping: bool,
    pub counts: Counts,
    pub sentences: SampleSentences,
    pub provisions: Vec<ProvisionRef>,
    /// What the change did to each provision (the `Provisions-Changed:` trailer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provisions_changed: Vec<ProvisionShift>,
    pub commit: String,
    pub commit_url: Option<String>,
    pub source_urls: Vec<String>,
    pub fetched_at: DateTime<Utc>,
}

/// A few of the changed sentences, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SampleSentences {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<ChangedSentence>,
    /// Added, removed and changed sentences left out.
    pub more: usize,
    /// The order in which they appear, for renderers that interleave them.
    #[serde(skip)]
    pub ordered: Vec<SampleLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedSentence {
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SampleLine {
    Added(String),
    Removed(String),
    Changed { old: String, new: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionRef {
    pub id: String,
    pub title: String,
}

/// A document started failing, is still failing (a reminder), or works again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureAlert {
    #[serde(skip)]
    pub kind: TransitionKind,
    pub service: String,
    pub service_name: String,
    pub document: String,
    pub title: String,
    pub category: String,
    pub message: String,
    pub failing_since: DateTime<Utc>,
    pub last_success: Option<DateTime<Utc>>,
    pub reminders: u32,
    pub source_urls: Vec<String>,
    /// The GitHub issue that tracks the failure, with `--github-issues`.
    pub issue_url: Option<String>,
    /// When this alert was made (the run's time).
    pub at: DateTime<Utc>,
}

/// One message to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    Change(ChangeAlert),
    Failure(FailureAlert),
}

impl Alert {
    /// The `event` of the generic payload and of the delivery report.
    pub fn event(&self) -> &'static str {
        match self {
            Alert::Change(_) => "change",
            Alert::Failure(f) => match f.kind {
                TransitionKind::Started => "failure-started",
                TransitionKind::Reminder => "failure-reminder",
                TransitionKind::Recovered => "recovered",
                TransitionKind::Dropped => "dropped",
            },
        }
    }

    pub fn service(&self) -> &str {
        match self {
            Alert::Change(c) => &c.service,
            Alert::Failure(f) => &f.service,
        }
    }

    pub fn document(&self) -> &str {
        match self {
            Alert::Change(c) => &c.document,
            Alert::Failure(f) => &f.document,
        }
    }
}

/// Picks a few changed sentences (moves are only counted: their wording is the same).
pub fn sample(diff: &TextDiff) -> SampleSentences {
    let mut sample = SampleSentences::default();
    for change in &diff.changes {
        let line = match change {
            SentenceChange::Added { text, .. } => SampleLine::Added(clip(text, SENTENCE_CHARS)),
            SentenceChange::Removed { text, .. } => SampleLine::Removed(clip(text, SENTENCE_CHARS)),
            SentenceChange::Changed { old, new, .. } => SampleLine::Changed {
                old: clip(old, SENTENCE_CHARS),
                new: clip(new, SENTENCE_CHARS),
            },
            SentenceChange::Moved { .. } => continue,
        };
        if sample.ordered.len() == SAMPLE_SENTENCES {
            sample.more += 1;
            continue;
        }
        match &line {
            SampleLine::Added(text) => sample.added.push(text.clone()),
            SampleLine::Removed(text) => sample.removed.push(text.clone()),
            SampleLine::Changed { old, new } => sample.changed.push(ChangedSentence {
                old: old.clone(),
                new: new.clone(),
            }),
        }
        sample.ordered.push(line);
    }
    sample
}

/// At most `max` characters, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The title of a document: `Acme Privacy Policy`.
pub fn document_title(service_name: &str, document: &str) -> String {
    format!("{service_name} {}", crate::declaration::title_from_slug(document))
}

/// One alert per substantive version the run recorded, read back from its commit.
/// `service_name` maps a slug to its display name; `commit_url_base` + commit id is a
/// web link to the commit.
pub fn change_alerts(
    archive: &Archive,
    report: &TrackReport,
    service_name: impl Fn(&str) -> String,
    taxonomy: &Taxonomy,
    commit_url_base: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<ChangeAlert>, ArchiveError> {
    let mut alerts = Vec::new();
    for outcome in &report.documents {
        let Status::Recorded {
            commit,
            change,
            counts,
            summary,
            ..
        } = &outcome.status
        else {
            continue;
        };
        if !alerts_on(*change) {
            continue;
        }
        let oid = Oid::from_str(commit)?;
        let message = archive
            .repo()
            .find_commit(oid)?
            .message()
            .ok()
            .and_then(VersionMessage::parse);
        let mut summary = summary.clone();
        let mut flapping = false;
        if *change == ChangeKind::Revert {
            let at = message.as_ref().map_or(now, |m| m.fetched_at);
            let earlier = earlier_reverts(archive, &outcome.service, &outcome.document, oid, at)?;
            match earlier.len() {
                0 => {}
                1 => {
                    flapping = true;
                    summary = format!(
                        "{} keeps switching between versions (2 reverts since {}); no more alerts until it settles. {summary}",
                        document_title(&service_name(&outcome.service), &outcome.document),
                        earlier[0].format("%Y-%m-%d")
                    );
                }
                _ => continue,
            }
        }
        let old = archive
            .text_before(oid, &outcome.service, &outcome.document)?
            .unwrap_or_default();
        let new = archive
            .text_at(oid, &outcome.service, &outcome.document)?
            .unwrap_or_default();
        let provisions = message
            .as_ref()
            .map(|m| m.provisions.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|id| ProvisionRef {
                title: taxonomy.get(&id).map(|p| p.title.clone()).unwrap_or_else(|| id.clone()),
                id,
            })
            .collect();
        let name = service_name(&outcome.service);
        alerts.push(ChangeAlert {
            title: document_title(&name, &outcome.document),
            service: outcome.service.clone(),
            service_name: name,
            document: outcome.document.clone(),
            summary,
            change: *change,
            flapping,
            counts: *counts,
            sentences: sample(&diff_texts(&old, &new)),
            provisions,
            provisions_changed: message
                .as_ref()
                .map(|m| m.provisions_changed.clone())
                .unwrap_or_default(),
            commit: commit.clone(),
            commit_url: commit_url_base.map(|base| format!("{base}{commit}")),
            source_urls: message
                .as_ref()
                .map(|m| m.source_urls.clone())
                .unwrap_or_else(|| outcome.url.split(' ').map(str::to_string).collect()),
            fetched_at: message.as_ref().map_or(now, |m| m.fetched_at),
        });
    }
    Ok(alerts)
}

/// The dates of the document's other reverts in the flapping window before `at`.
fn earlier_reverts(
    archive: &Archive,
    service: &str,
    document: &str,
    this: Oid,
    at: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, ArchiveError> {
    let filter = crate::archive::history::DocumentFilter {
        service: Some(service.to_string()),
        doc_type: Some(document.to_string()),
    };
    let since = at - chrono::Duration::days(FLAPPING_WINDOW_DAYS);
    let mut dates: Vec<DateTime<Utc>> = archive
        .versions(&filter, Some(since), None)?
        .into_iter()
        .filter(|v| v.commit != this && v.date <= at && v.message.change == ChangeKind::Revert)
        .map(|v| v.date)
        .collect();
    dates.sort();
    Ok(dates)
}

/// One alert per start, reminder and recovery (a document that is no longer declared
/// is not news). `issue_url` gives the web link of a GitHub issue number.
pub fn failure_alerts(
    transitions: &[Transition],
    report: &TrackReport,
    service_name: impl Fn(&str) -> String,
    issue_url: impl Fn(u64) -> Option<String>,
    now: DateTime<Utc>,
) -> Vec<FailureAlert> {
    transitions
        .iter()
        .filter(|t| t.kind != TransitionKind::Dropped)
        .map(|t| {
            let name = service_name(&t.service);
            let source_urls = report
                .documents
                .iter()
                .find(|d| d.service == t.service && d.document == t.document)
                .map(|d| d.url.split(' ').map(str::to_string).collect())
                .unwrap_or_default();
            FailureAlert {
                kind: t.kind,
                title: document_title(&name, &t.document),
                service: t.service.clone(),
                service_name: name,
                document: t.document.clone(),
                category: t.category.clone(),
                message: t.message.clone(),
                failing_since: t.failing_since,
                last_success: t.last_success,
                reminders: t.reminders,
                source_urls,
                issue_url: t.issue.and_then(&issue_url),
                at: now,
            }
        })
        .collect()
}

/// How one alert fared at one target. `target` is redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub event: &'static str,
    pub service: String,
    pub document: String,
    pub target: String,
    pub delivered: bool,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Posts every alert to every target, in order; failures are returned, not raised.
pub fn deliver(sender: &Sender, targets: &[Target], alerts: &[Alert]) -> Vec<Delivery> {
    let mut deliveries = Vec::new();
    for alert in alerts {
        for target in targets {
            let body = payload::build(target.format(), alert);
            let result = sender.send(reqwest::Method::POST, target.url(), &[], Some(&body));
            let (delivered, attempts, error) = match result {
                Ok(reply) => (true, reply.attempts, None),
                Err(e) => (false, e.attempts, Some(e.to_string())),
            };
            // The caller reports failures once; this is for -vv.
            tracing::debug!(event = alert.event(), %target, ?error, "alert posted");
            deliveries.push(Delivery {
                event: alert.event(),
                service: alert.service().to_string(),
                document: alert.document().to_string(),
                target: target.redacted(),
                delivered,
                attempts,
                error,
            });
        }
    }
    deliveries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_substantive_changes_alert() {
        assert!(alerts_on(ChangeKind::Substantive));
        for quiet in [ChangeKind::First, ChangeKind::Cosmetic, ChangeKind::Reextract] {
            assert!(!alerts_on(quiet), "{quiet}");
        }
    }

    #[test]
    fn samples_a_few_sentences_in_order_and_counts_the_rest() {
        let old = "# Policy\n\nWe collect your name.\nWe never sell data.\nKeep this.\n";
        let mut new = String::from("# Policy\n\nWe collect your name and e-mail address.\nKeep this.\n");
        for i in 0..6 {
            new.push_str(&format!("New rule number {i} applies.\n"));
        }
        let sample = sample(&diff_texts(old, &new));
        assert_eq!(sample.ordered.len(), SAMPLE_SENTENCES);
        assert_eq!(
            sample.changed,
            vec![ChangedSentence {
                old: "We collect your name.".into(),
                new: "We collect your name and e-mail address.".into()
            }]
        );
        assert_eq!(sample.removed, vec!["We never sell data."]);
        assert_eq!(sample.added.len(), 3);
        assert_eq!(sample.more, 3);
    }

    #[test]
    fn clips_long_sentences() {
        assert_eq!(clip("short", 10), "short");
        let long = "é".repeat(400);
        let clipped = clip(&long, SENTENCE_CHARS);
        assert_eq!(clipped.chars().count(), SENTENCE_CHARS);
        assert!(clipped.ends_with('…'));
    }
}
