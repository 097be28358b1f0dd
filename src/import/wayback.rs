//! Backfilling one document from the Wayback Machine.
//!
//! The CDX API lists the captures of the document's URL (status 200, consecutive
//! duplicates collapsed by digest); they are thinned to one per day, week or month (the
//! first of each), and each is fetched raw (`/web/<timestamp>id_/<url>`, the bytes as
//! captured, without the Wayback toolbar), canonicalized with the document's
//! declaration, and offered to the replay in chronological order, dated at the capture.
//!
//! Fetching is polite: one request at a time, the fetcher's retries with backoff and
//! `Retry-After`, and the per-host delay between requests. A capture that is a bot wall,
//! an error page or otherwise not the document is skipped and counted. A capture the
//! Wayback Machine fails to serve after the retries (timeout, 5xx, 429, connection)
//! stops the import there, so history stays in order; the next run continues from it.
//!
//! Progress is kept in the repository's git folder
//! (`.git/clausewatch-wayback/<service>__<type>.json`: every capture already dealt
//! with), so an interrupted import continues where it stopped, and a finished one
//! fetches nothing when run again. Without that file (another clone), a re-run fetches
//! the captures again and records nothing new (see the chronology rule in
//! [`super`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Datelike as _, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{DocumentReplay, DocumentTally, Entry, EntryOutcome, ImportOptions};
use crate::archive::{Archive, ArchiveError};
use crate::declaration::{Document, Service};
use crate::failure::{Failure, FailureKind};
use crate::fetch::{FetchOptions, HttpFetcher};
use crate::track::HostGates;

pub const DEFAULT_CDX: &str = "https://web.archive.org/cdx/search/cdx";
pub const DEFAULT_BASE: &str = "https://web.archive.org/web/";

/// How far apart the kept captures are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    Day,
    Week,
    Month,
}

/// Where and what to ask the Wayback Machine.
#[derive(Debug, Clone)]
pub struct WaybackRequest {
    /// The CDX API endpoint.
    pub cdx: Url,
    /// The capture base: `<base><timestamp>id_/<url>`.
    pub base: String,
    /// CDX `from` / `to`: a year, or a longer timestamp prefix (`202203`).
    pub from: Option<String>,
    pub to: Option<String>,
    pub every: Every,
    /// Fetch at most this many captures in this run (the rest is left for the next).
    pub max_captures: Option<usize>,
    pub fetch: FetchOptions,
    pub host_delay: Duration,
}

/// One capture listed by the CDX API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// `YYYYMMDDhhmmss`, UTC.
    pub timestamp: String,
    pub date: DateTime<Utc>,
    pub original: String,
    pub digest: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WaybackError {
    #[error("{0}")]
    Usage(String),
    #[error("the Wayback Machine's capture list ({url}) failed: {failure}")]
    Listing { url: String, failure: Failure },
    #[error("{path}")]
    State { path: String, source: std::io::Error },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// What the import did.
#[derive(Debug, Clone, Serialize)]
pub struct WaybackReport {
    pub service: String,
    pub document: String,
    pub url: String,
    /// Captures the CDX API listed, and those kept after thinning.
    pub listed: usize,
    pub kept: usize,
    pub every: Every,
    /// Kept captures an earlier run already dealt with.
    pub resumed: usize,
    /// Kept captures left for the next run (after a stop).
    pub remaining: usize,
    #[serde(flatten)]
    pub tally: DocumentTally,
    /// Why the run stopped before the end (a capture the Wayback Machine would not
    /// serve, or --max-captures); run again to continue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Whether the stop was a capture the Wayback Machine would not serve (not a limit).
    pub interrupted: bool,
}

/// The CDX query for a URL.
pub fn cdx_query(cdx: &Url, url: &str, from: Option<&str>, to: Option<&str>) -> Url {
    let mut query = cdx.clone();
    {
        let mut pairs = query.query_pairs_mut();
        pairs
            .append_pair("url", url)
            .append_pair("output", "json")
            .append_pair("filter", "statuscode:200")
            .append_pair("collapse", "digest");
        if let Some(from) = from {
            pairs.append_pair("from", from);
        }
        if let Some(to) = to {
            pairs.append_pair("to", to);
        }
    }
    query
}

/// The raw capture: `<base><timestamp>id_/<original>`.
pub fn capture_url(base: &str, capture: &Capture) -> String {
    format!(
        "{}/{}id_/{}",
        base.trim_end_matches('/'),
        capture.timestamp,
        capture.original
    )
}

/// Reads the CDX API's JSON output: a header row naming the columns, then one row per
/// capture. An empty body or `[]` is no capture.
pub fn parse_cdx(body: &str) -> Result<Vec<Capture>, String> {
    if body.trim().is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Vec<String>> =
        serde_json::from_str(body).map_err(|e| format!("the answer is not the CDX JSON output ({e})"))?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("the CDX answer has no {name:?} column"))
    };
    let (ts, original, digest) = (column("timestamp")?, column("original")?, column("digest")?);
    let mut captures = Vec::new();
    for row in rows {
        let (Some(timestamp), Some(original), Some(digest)) = (row.get(ts), row.get(original), row.get(digest)) else {
            continue;
        };
        let Ok(date) = NaiveDateTime::parse_from_str(timestamp, "%Y%m%d%H%M%S") else {
            continue;
        };
        captures.push(Capture {
            timestamp: timestamp.clone(),
            date: date.and_utc(),
            original: original.clone(),
            digest: digest.clone(),
        });
    }
    captures.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    captures.dedup_by(|a, b| a.timestamp == b.timestamp);
    Ok(captures)
}

/// The first capture of each day, ISO week or month (UTC).
pub fn thin(captures: &[Capture], every: Every) -> Vec<Capture> {
    let period = |c: &Capture| -> (i32, u32, u32) {
        let d = c.date.date_naive();
        match every {
            Every::Day => (d.year(), d.ordinal(), 0),
            Every::Week => {
                let week = d.iso_week();
                (week.year(), week.week(), 0)
            }
            Every::Month => (d.year(), d.month(), 0),
        }
    };
    let mut kept: Vec<Capture> = Vec::new();
    for capture in captures {
        if kept.last().is_none_or(|last| period(last) != period(capture)) {
            kept.push(capture.clone());
        }
    }
    kept
}

/// Whether the Wayback Machine may serve a capture on another try.
fn transient(failure: &Failure) -> bool {
    matches!(
        failure.kind,
        FailureKind::Timeout
            | FailureKind::Connection
            | FailureKind::ServerError
            | FailureKind::RateLimited
            | FailureKind::Dns
            | FailureKind::Tls
    )
}

/// The progress file of an import.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// The document URL the captures are of.
    url: String,
    /// Capture timestamp -> what became of it.
    done: BTreeMap<String, String>,
}

fn state_path(archive: &Archive, service: &str, doc_type: &str) -> PathBuf {
    archive
        .repo()
        .path()
        .join("clausewatch-wayback")
        .join(format!("{service}__{doc_type}.json"))
}

fn load_state(path: &Path, url: &str) -> State {
    match std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<State>(&text).ok())
    {
        Some(state) if state.url == url => state,
        _ => State {
            url: url.to_string(),
            done: BTreeMap::new(),
        },
    }
}

fn save_state(path: &Path, state: &State) -> Result<(), WaybackError> {
    let err = |source| WaybackError::State {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let temp = path.with_extension("json.tmp");
    let json = serde_json::to_string_pretty(state).unwrap_or_default();
    std::fs::write(&temp, json).map_err(err)?;
    std::fs::rename(&temp, path).map_err(err)
}

fn outcome_name(outcome: &EntryOutcome) -> String {
    match outcome {
        EntryOutcome::Recorded { commit, .. } => format!("recorded {}", &commit[..12]),
        EntryOutcome::Unchanged => "unchanged".into(),
        EntryOutcome::AlreadyRecorded => "already recorded".into(),
        EntryOutcome::SkippedOlder => "older than the latest version".into(),
        EntryOutcome::Skipped(failure) => format!("skipped: {}", failure.kind),
    }
}

/// Backfills one document. `progress` is told (done, total) over the kept captures.
pub fn import(
    archive: &Archive,
    service: &Service,
    document: &Document,
    options: &ImportOptions,
    request: &WaybackRequest,
    mut progress: impl FnMut(usize, usize),
) -> Result<WaybackReport, WaybackError> {
    let name = format!("{}/{}", service.slug, document.doc_type);
    let [part] = document.parts.as_slice() else {
        return Err(WaybackError::Usage(format!(
            "{name} is combined from {} pages; the Wayback Machine has captures of single pages, so it cannot be backfilled",
            document.parts.len()
        )));
    };
    let url = part.url.to_string();
    let fetcher = HttpFetcher::new(request.fetch.clone())
        .map_err(|f| WaybackError::Usage(format!("cannot start the HTTP client: {f}")))?;
    let gates = HostGates::new(request.host_delay);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| WaybackError::State {
            path: "the async runtime".into(),
            source,
        })?;
    let fetch = |target: &Url| runtime.block_on(gates.pass(target, fetcher.fetch(target)));

    let query = cdx_query(&request.cdx, &url, request.from.as_deref(), request.to.as_deref());
    let listing = fetch(&query).map_err(|failure| WaybackError::Listing {
        url: query.to_string(),
        failure,
    })?;
    let body = String::from_utf8_lossy(&listing.body);
    let listed = parse_cdx(&body).map_err(|message| WaybackError::Listing {
        url: query.to_string(),
        failure: Failure::new(FailureKind::HttpError, message),
    })?;
    let kept = thin(&listed, request.every);

    let _lock = archive.lock()?;
    let path = state_path(archive, &service.slug, &document.doc_type);
    let mut state = load_state(&path, &url);
    let mut replay = DocumentReplay::new(archive, options, &service.slug, &service.name, &document.doc_type)?;
    let recorded_digests: HashSet<String> = replay.recorded_extra("Capture-Digest");
    let mut tally = DocumentTally::new(&service.slug, &document.doc_type);
    let (mut resumed, mut fetched, mut remaining) = (0, 0, 0);
    let mut stopped = None;
    let mut interrupted = false;
    for (i, capture) in kept.iter().enumerate() {
        progress(i, kept.len());
        if state.done.contains_key(&capture.timestamp) {
            resumed += 1;
            continue;
        }
        let label = format!("capture {}", capture.timestamp);
        // Known without fetching: the archive has this capture, or it is older than the
        // archive's history and --skip-older leaves it.
        let known = if replay.is_before_latest(capture.date) {
            if recorded_digests.contains(&capture.digest) {
                Some(EntryOutcome::AlreadyRecorded)
            } else if options.skip_older {
                Some(EntryOutcome::SkippedOlder)
            } else {
                None
            }
        } else {
            None
        };
        let outcome = match known {
            Some(outcome) => outcome,
            None => {
                if request.max_captures.is_some_and(|max| fetched >= max) {
                    remaining = kept.len() - i;
                    stopped = Some(format!(
                        "stopped after {fetched} captures (--max-captures); run again to continue"
                    ));
                    break;
                }
                fetched += 1;
                let target = capture_url(&request.base, capture);
                let page = Url::parse(&target)
                    .map_err(|e| Failure::new(FailureKind::HttpError, format!("{target} is not a URL: {e}")))
                    .and_then(|target_url| fetch(&target_url));
                let page = match page {
                    Err(failure) if transient(&failure) => {
                        remaining = kept.len() - i;
                        interrupted = true;
                        stopped = Some(format!(
                            "the Wayback Machine did not serve {label} ({}: {}); stopped there so history stays in order, run again to continue",
                            failure.kind, failure.message
                        ));
                        break;
                    }
                    other => other,
                };
                match page.and_then(|page| {
                    super::extract(&page.body, page.content_type.as_deref(), document, &target)
                        .map(|(text, ext)| (page, text, ext))
                }) {
                    Err(failure) => EntryOutcome::Skipped(failure),
                    Ok((page, text, snapshot_ext)) => {
                        let entry = Entry {
                            date: capture.date,
                            text,
                            snapshot: page.body,
                            snapshot_ext,
                            urls: vec![url.clone()],
                            fetcher: "http".into(),
                            source: "wayback".into(),
                            extra: vec![
                                ("Capture-URL".into(), target.clone()),
                                ("Capture-Digest".into(), capture.digest.clone()),
                            ],
                            reextract: false,
                            label: label.clone(),
                        };
                        match replay.offer(entry)? {
                            Ok(outcome) => outcome,
                            Err(conflict) => {
                                tally.refused = Some(conflict.to_string());
                                break;
                            }
                        }
                    }
                }
            }
        };
        tally.count(&label, &outcome);
        state.done.insert(capture.timestamp.clone(), outcome_name(&outcome));
        save_state(&path, &state)?;
    }
    progress(kept.len(), kept.len());
    Ok(WaybackReport {
        service: service.slug.clone(),
        document: document.doc_type.clone(),
        url,
        listed: listed.len(),
        kept: kept.len(),
        every: request.every,
        resumed,
        remaining,
        tally,
        stopped,
        interrupted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(timestamp: &str) -> Capture {
        Capture {
            timestamp: timestamp.into(),
            date: NaiveDateTime::parse_from_str(timestamp, "%Y%m%d%H%M%S")
                .unwrap()
                .and_utc(),
            original: "https://a.example/".into(),
            digest: timestamp.into(),
        }
    }

    #[test]
    fn cdx_output_is_read_by_its_header() {
        let body = r#"[["urlkey","timestamp","original","mimetype","statuscode","digest","length"],
            ["example,a)/","20220301000000","https://a.example/","text/html","200","BBB","10"],
            ["example,a)/","20220101120000","https://a.example/","text/html","200","AAA","10"],
            ["example,a)/","not-a-date","https://a.example/","text/html","200","CCC","10"]]"#;
        let captures = parse_cdx(body).unwrap();
        assert_eq!(captures.len(), 2);
        assert_eq!(captures[0].timestamp, "20220101120000");
        assert_eq!(captures[0].digest, "AAA");
        assert_eq!(captures[0].date.to_rfc3339(), "2022-01-01T12:00:00+00:00");
        assert!(parse_cdx("").unwrap().is_empty());
        assert!(parse_cdx("[]").unwrap().is_empty());
        assert!(parse_cdx("<html>").is_err());
        assert_eq!(
            capture_url("https://web.archive.org/web/", &captures[0]),
            "https://web.archive.org/web/20220101120000id_/https://a.example/"
        );
        let query = cdx_query(
            &Url::parse(DEFAULT_CDX).unwrap(),
            "https://a.example/x?y=1",
            Some("2020"),
            None,
        );
        assert_eq!(
            query.as_str(),
            "https://web.archive.org/cdx/search/cdx?url=https%3A%2F%2Fa.example%2Fx%3Fy%3D1&output=json&filter=statuscode%3A200&collapse=digest&from=2020"
        );
    }

    #[test]
    fn thinning_keeps_the_first_capture_of_each_period() {
        let all: Vec<Capture> = [
            "20220103080000", // Monday, week 1
            "20220103200000",
            "20220105000000", // same week
            "20220110000000", // week 2
            "20220131000000", // week 5, January
            "20220201000000", // February, week 5
        ]
        .iter()
        .map(|t| capture(t))
        .collect();
        let stamps = |every| thin(&all, every).into_iter().map(|c| c.timestamp).collect::<Vec<_>>();
        assert_eq!(
            stamps(Every::Day),
            [
                "20220103080000",
                "20220105000000",
                "20220110000000",
                "20220131000000",
                "20220201000000"
            ]
        );
        assert_eq!(
            stamps(Every::Week),
            ["20220103080000", "20220110000000", "20220131000000"]
        );
        assert_eq!(stamps(Every::Month), ["20220103080000", "20220201000000"]);
    }
}
