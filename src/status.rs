//! Failure tracking across runs: `status.json` at the archive root remembers which
//! documents are failing, since when, and when they were last reported, so that a
//! document that keeps failing is reported when it starts, reminded at an interval, and
//! reported again when it recovers — never on every run.
//!
//! The file changes only on those transitions, so a run in which nothing started,
//! was reminded or recovered commits nothing (DESIGN: no junk commits when a site is
//! down). That is also why it keeps no per-run counters: counting every failing run
//! would need a commit on every run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::track::{Status, TrackReport};

/// Where the state lives, relative to the archive folder.
pub const STATUS_FILE: &str = "status.json";

/// The largest `status.json` read: a few hundred bytes per failing document, so even
/// thousands fit many times over; a larger one (a blob a hostile repository committed
/// there) is never loaded.
pub const MAX_STATUS_BYTES: u64 = 16 << 20;

/// The remind interval when none is configured.
pub const DEFAULT_REMIND_AFTER: Duration = Duration::days(7);

/// The contents of `status.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusFile {
    pub schema: u32,
    /// The failing documents by `service/type`; a document that works has no entry.
    #[serde(default)]
    pub failing: BTreeMap<String, FailingDocument>,
}

impl Default for StatusFile {
    fn default() -> StatusFile {
        StatusFile {
            schema: 1,
            failing: BTreeMap::new(),
        }
    }
}

/// What is known about one failing document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingDocument {
    /// The failure category when it was last reported (start or reminder).
    pub category: String,
    /// The failure message when it was last reported.
    pub message: String,
    /// The run that first saw it fail.
    pub failing_since: DateTime<Utc>,
    /// The fetch time of the newest recorded version: the last success the archive can
    /// prove without a commit per run. `None` when it was never recorded.
    pub last_success: Option<DateTime<Utc>>,
    /// The last reminder, `None` before the first.
    pub last_reminded: Option<DateTime<Utc>>,
    /// How many reminders were sent.
    #[serde(default)]
    pub reminders: u32,
    /// The GitHub issue that tracks it, with `--github-issues`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<u64>,
}

/// `status.json` cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{STATUS_FILE} is not valid")]
pub struct StatusError(#[from] serde_json::Error);

impl StatusFile {
    pub fn parse(bytes: &[u8]) -> Result<StatusFile, StatusError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Pretty JSON with a final newline, keys in a stable order, so diffs stay small.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// What happened to a document's failure state in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransitionKind {
    /// It failed, and had not been failing.
    Started,
    /// It keeps failing, and the remind interval has passed since the last report.
    Reminder,
    /// It worked again.
    Recovered,
    /// It was failing and is no longer declared.
    Dropped,
}

impl TransitionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionKind::Started => "started",
            TransitionKind::Reminder => "reminder",
            TransitionKind::Recovered => "recovered",
            TransitionKind::Dropped => "dropped",
        }
    }
}

/// One document's transition, with the state it refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub service: String,
    pub document: String,
    #[serde(rename = "transition")]
    pub kind: TransitionKind,
    pub category: String,
    pub message: String,
    pub failing_since: DateTime<Utc>,
    pub last_success: Option<DateTime<Utc>>,
    pub reminders: u32,
    /// The GitHub issue, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<u64>,
}

impl Transition {
    pub fn key(&self) -> String {
        key(&self.service, &self.document)
    }

    fn new(service: &str, document: &str, kind: TransitionKind, state: &FailingDocument) -> Transition {
        Transition {
            service: service.to_string(),
            document: document.to_string(),
            kind,
            category: state.category.clone(),
            message: state.message.clone(),
            failing_since: state.failing_since,
            last_success: state.last_success,
            reminders: state.reminders,
            issue: state.issue,
        }
    }
}

/// The key of a document in `status.json`.
pub fn key(service: &str, document: &str) -> String {
    format!("{service}/{document}")
}

/// The next state and the transitions that lead to it.
#[derive(Debug, Clone)]
pub struct Advance {
    pub status: StatusFile,
    pub transitions: Vec<Transition>,
}

/// Moves the state on by one run. Documents the run did not track keep their state;
/// entries of documents that are no longer declared are dropped. `remind_after` of
/// `None` turns reminders off; `last_success` gives a newly failing document's newest
/// version time.
pub fn advance(
    previous: &StatusFile,
    report: &TrackReport,
    is_declared: impl Fn(&str, &str) -> bool,
    remind_after: Option<Duration>,
    now: DateTime<Utc>,
    last_success: impl Fn(&str, &str) -> Option<DateTime<Utc>>,
) -> Advance {
    let mut next = previous.clone();
    next.schema = 1;
    let mut transitions = Vec::new();
    for outcome in &report.documents {
        let id = key(&outcome.service, &outcome.document);
        // An outage says nothing about the document: its state stays as it was.
        if outcome.outage && matches!(outcome.status, Status::Failed { .. }) {
            continue;
        }
        match &outcome.status {
            Status::Failed { category, message } => match next.failing.get_mut(&id) {
                Some(state) => {
                    let reported = state.last_reminded.unwrap_or(state.failing_since);
                    if remind_after.is_some_and(|interval| now - reported >= interval) {
                        state.reminders += 1;
                        state.last_reminded = Some(now);
                        state.category = category.to_string();
                        state.message = message.clone();
                        transitions.push(Transition::new(
                            &outcome.service,
                            &outcome.document,
                            TransitionKind::Reminder,
                            state,
                        ));
                    }
                }
                None => {
                    let state = FailingDocument {
                        category: category.to_string(),
                        message: message.clone(),
                        failing_since: now,
                        last_success: last_success(&outcome.service, &outcome.document),
                        last_reminded: None,
                        reminders: 0,
                        issue: None,
                    };
                    transitions.push(Transition::new(
                        &outcome.service,
                        &outcome.document,
                        TransitionKind::Started,
                        &state,
                    ));
                    next.failing.insert(id, state);
                }
            },
            Status::Recorded { .. } | Status::Unchanged => {
                if let Some(state) = next.failing.remove(&id) {
                    transitions.push(Transition::new(
                        &outcome.service,
                        &outcome.document,
                        TransitionKind::Recovered,
                        &state,
                    ));
                }
            }
        }
    }
    let undeclared: Vec<String> = next
        .failing
        .keys()
        .filter(|id| {
            let (service, document) = id.split_once('/').unwrap_or((id, ""));
            !is_declared(service, document)
        })
        .cloned()
        .collect();
    for id in undeclared {
        if let Some(state) = next.failing.remove(&id) {
            let (service, document) = id.split_once('/').unwrap_or((&id, ""));
            transitions.push(Transition::new(service, document, TransitionKind::Dropped, &state));
        }
    }
    Advance {
        status: next,
        transitions,
    }
}

/// The status commit's message: `status: 2 failing (1 started), 1 recovered`, then one
/// line per transition. Its subject starts with `status:` and it carries no version
/// trailers, so history readers never take it for a version.
pub fn commit_message(status: &StatusFile, transitions: &[Transition]) -> String {
    let count = |kind: TransitionKind| transitions.iter().filter(|t| t.kind == kind).count();
    let failing = status.failing.len();
    let mut head = if failing > 0 {
        format!("{failing} failing")
    } else {
        "none failing".to_string()
    };
    let detail: Vec<String> = [
        (count(TransitionKind::Started), "started"),
        (count(TransitionKind::Reminder), "reminded"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !detail.is_empty() {
        let _ = write!(head, " ({})", detail.join(", "));
    }
    let mut parts = vec![head];
    if count(TransitionKind::Recovered) > 0 {
        parts.push(format!("{} recovered", count(TransitionKind::Recovered)));
    }
    if count(TransitionKind::Dropped) > 0 {
        parts.push(format!("{} no longer declared", count(TransitionKind::Dropped)));
    }
    let mut message = format!("status: {}\n\n", parts.join(", "));
    for t in transitions {
        let since = t.failing_since.to_rfc3339_opts(SecondsFormat::Secs, true);
        let _ = match t.kind {
            TransitionKind::Started => writeln!(message, "started failing: {} ({})", t.key(), t.category),
            TransitionKind::Reminder => writeln!(message, "still failing: {} ({}, since {since})", t.key(), t.category),
            TransitionKind::Recovered => writeln!(message, "recovered: {} (failing since {since})", t.key()),
            TransitionKind::Dropped => writeln!(message, "no longer declared: {} (failing since {since})", t.key()),
        };
    }
    message
}

/// A remind interval that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("remind_after {value:?}: give a span such as 7d, 36h, 2w or 90m, a number of hours, or \"never\"")]
pub struct IntervalError {
    pub value: String,
}

/// `7d`, `36h`, `2w`, `90m`, a plain number of hours, or `never`/`off` (`None`).
pub fn parse_interval(value: &str) -> Result<Option<Duration>, IntervalError> {
    let text = value.trim().to_ascii_lowercase();
    let error = || IntervalError {
        value: value.to_string(),
    };
    if matches!(text.as_str(), "never" | "off" | "none") {
        return Ok(None);
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| error())?;
    let interval = match unit.trim() {
        "" | "h" | "hour" | "hours" => Duration::try_hours(number),
        "m" | "min" | "minutes" => Duration::try_minutes(number),
        "d" | "day" | "days" => Duration::try_days(number),
        "w" | "week" | "weeks" => Duration::try_weeks(number),
        _ => None,
    }
    .ok_or_else(error)?;
    if interval <= Duration::zero() {
        return Err(error());
    }
    Ok(Some(interval))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::FailureKind;
    use crate::track::DocumentOutcome;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn report(failed: bool) -> TrackReport {
        TrackReport {
            documents: vec![DocumentOutcome {
                service: "acme".into(),
                document: "privacy-policy".into(),
                url: "https://acme.example/privacy".into(),
                outage: false,
                status: if failed {
                    Status::Failed {
                        category: FailureKind::NotFound,
                        message: "answered HTTP 404".into(),
                    }
                } else {
                    Status::Unchanged
                },
            }],
            ..TrackReport::default()
        }
    }

    fn run(previous: &StatusFile, failed: bool, now: &str) -> Advance {
        advance(
            previous,
            &report(failed),
            |_, _| true,
            Some(DEFAULT_REMIND_AFTER),
            at(now),
            |_, _| Some(at("2026-03-01T00:00:00Z")),
        )
    }

    #[test]
    fn start_quiet_remind_recover() {
        let first = run(&StatusFile::default(), true, "2026-03-02T00:00:00Z");
        assert_eq!(first.transitions.len(), 1);
        assert_eq!(first.transitions[0].kind, TransitionKind::Started);
        let state = &first.status.failing["acme/privacy-policy"];
        assert_eq!(state.category, "not-found");
        assert_eq!(state.failing_since, at("2026-03-02T00:00:00Z"));
        assert_eq!(state.last_success, Some(at("2026-03-01T00:00:00Z")));

        // Still failing, within the interval: nothing to say, nothing to commit.
        let second = run(&first.status, true, "2026-03-08T23:59:59Z");
        assert!(second.transitions.is_empty());
        assert_eq!(second.status, first.status);

        let third = run(&second.status, true, "2026-03-09T00:00:00Z");
        assert_eq!(third.transitions[0].kind, TransitionKind::Reminder);
        assert_eq!(third.status.failing["acme/privacy-policy"].reminders, 1);

        // The next reminder counts from the last one, not from the start.
        assert!(run(&third.status, true, "2026-03-15T00:00:00Z").transitions.is_empty());
        assert_eq!(
            run(&third.status, true, "2026-03-16T00:00:00Z").transitions[0].kind,
            TransitionKind::Reminder
        );

        let fourth = run(&third.status, false, "2026-03-10T00:00:00Z");
        assert_eq!(fourth.transitions[0].kind, TransitionKind::Recovered);
        assert_eq!(fourth.transitions[0].failing_since, at("2026-03-02T00:00:00Z"));
        assert!(fourth.status.failing.is_empty());
    }

    #[test]
    fn reminders_can_be_turned_off() {
        let first = run(&StatusFile::default(), true, "2026-03-02T00:00:00Z");
        let later = advance(
            &first.status,
            &report(true),
            |_, _| true,
            None,
            at("2027-03-02T00:00:00Z"),
            |_, _| None,
        );
        assert!(later.transitions.is_empty());
    }

    #[test]
    fn untracked_documents_keep_their_state_undeclared_ones_are_dropped() {
        let first = run(&StatusFile::default(), true, "2026-03-02T00:00:00Z");
        let empty = TrackReport::default();
        let kept = advance(
            &first.status,
            &empty,
            |_, _| true,
            None,
            at("2026-03-03T00:00:00Z"),
            |_, _| None,
        );
        assert_eq!(kept.status, first.status);
        let dropped = advance(
            &first.status,
            &empty,
            |_, _| false,
            None,
            at("2026-03-03T00:00:00Z"),
            |_, _| None,
        );
        assert_eq!(dropped.transitions[0].kind, TransitionKind::Dropped);
        assert!(dropped.status.failing.is_empty());
    }

    #[test]
    fn commit_messages_count_transitions() {
        let first = run(&StatusFile::default(), true, "2026-03-02T00:00:00Z");
        assert_eq!(
            commit_message(&first.status, &first.transitions),
            "status: 1 failing (1 started)\n\nstarted failing: acme/privacy-policy (not-found)\n"
        );
        let recovered = run(&first.status, false, "2026-03-03T00:00:00Z");
        assert_eq!(
            commit_message(&recovered.status, &recovered.transitions).lines().next(),
            Some("status: none failing, 1 recovered")
        );
    }

    #[test]
    fn json_round_trips() {
        let first = run(&StatusFile::default(), true, "2026-03-02T00:00:00Z");
        let json = first.status.to_json();
        assert!(json.contains("\"failing_since\": \"2026-03-02T00:00:00Z\""), "{json}");
        assert_eq!(StatusFile::parse(json.as_bytes()).unwrap(), first.status);
        assert!(StatusFile::parse(b"{").is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("7d").unwrap(), Some(Duration::days(7)));
        assert_eq!(parse_interval("36h").unwrap(), Some(Duration::hours(36)));
        assert_eq!(parse_interval("36").unwrap(), Some(Duration::hours(36)));
        assert_eq!(parse_interval("2w").unwrap(), Some(Duration::weeks(2)));
        assert_eq!(parse_interval("90m").unwrap(), Some(Duration::minutes(90)));
        assert_eq!(parse_interval("never").unwrap(), None);
        for bad in ["", "0", "7x", "-1d", "d"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
