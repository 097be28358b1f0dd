//! The main job: fetch every declared document, canonicalize it, and record each new
//! version as one commit.
//!
//! Fetching and canonicalizing run concurrently (one request at a time per host, several
//! hosts at once); the calling thread owns the repository, stores each result's blobs
//! as it arrives, and commits at the end in (service, type) order, so the same inputs
//! always give the same commits whatever order the network answered in.

pub mod continuity;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use git2::Oid;
use serde::Serialize;
use tokio::sync::mpsc;
use url::Url;

use crate::archive::history::MAX_VERSION_TEXT_BYTES;
use crate::archive::{Archive, ArchiveError, ChangeKind, Identity, NewVersion, VersionMessage, snapshot};
use crate::canon::{self, CANONICALIZER_VERSION, Selection};
use crate::declaration::{Document, FetcherKind, Service};
use crate::failure::{Failure, FailureKind};
use crate::fetch::browser::{Browser, BrowserOptions, RenderedPage};
use crate::fetch::decode::{self, BodyKind};
use crate::fetch::{Conditional, FetchOptions, HttpFetcher, Validators, wall};
use crate::provision::Taxonomy;
use crate::report::{Counts, SentenceChange, classify, diff_texts, provision_changes, provisions, summary};
use continuity::{REDIRECTED_TO_TRAILER, Redirect};

/// Options of one `track` run.
#[derive(Debug, Clone)]
pub struct TrackOptions {
    pub fetch: FetchOptions,
    pub jobs: usize,
    pub host_delay: Duration,
    /// Documents that may record a text that lost more than half its length.
    pub accept_shrink: ShrinkAcceptance,
    pub identity: Identity,
    /// Fetch time and commit time.
    pub now: DateTime<Utc>,
    /// Tags the sentences a version changes, for its `Provisions:` trailer.
    pub taxonomy: Taxonomy,
    /// For documents declared `fetcher = "browser"`, and `auto` ones HTTP cannot get.
    pub browser: BrowserOptions,
    /// A recorded version older than this is re-fetched without a conditional request,
    /// so a server that keeps answering 304 cannot hide a change for longer (`None`:
    /// validators are sent back however old).
    pub revalidate_after: Option<chrono::Duration>,
}

/// What happened to one document.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentOutcome {
    pub service: String,
    pub document: String,
    pub url: String,
    #[serde(flatten)]
    pub status: Status,
    /// The document failed as part of an outage (see [`Outage`]): its failure says
    /// nothing about the document, and failure tracking leaves its state as it was.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub outage: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status {
    Recorded {
        commit: String,
        change: ChangeKind,
        counts: Counts,
        summary: String,
        /// Where the fetch ended when it was redirected (the `Redirected-To:` trailers).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        redirected_to: Vec<String>,
    },
    Unchanged,
    Failed {
        category: FailureKind,
        message: String,
    },
}

/// The outcome of a run, in (service, type) order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrackReport {
    pub documents: Vec<DocumentOutcome>,
    /// Documents that failed together at the network level, when some did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage: Option<Outage>,
    pub timings: Timings,
}

/// Failures of the network rather than of documents (issue 15): with DNS down on a
/// runner, every document fails with `dns`, and tracking them as failing documents would
/// commit a status for each, open an issue for each, and close them all on the next run.
///
/// - A **run outage**: every document of the run (at least two) failed before reaching
///   a server (dns, connection, timeout, tls). Nothing is recorded or committed, no
///   issue is opened and no alert sent; `track` exits 4.
/// - A **host outage**: every document of one host (at least two) failed with the same
///   network-level category while documents of other hosts reached theirs. Those
///   documents keep their failure state (none starts failing, none is reminded); the
///   rest of the run goes on as usual. A single failing document is tracked as failing:
///   alone, a host that is down and a document that is gone look the same.
#[derive(Debug, Clone, Serialize)]
pub struct Outage {
    /// `run` or `hosts`.
    pub scope: OutageScope,
    /// The hosts out, in the order of the run's first documents.
    pub hosts: Vec<HostOutage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutageScope {
    Run,
    Hosts,
}

/// One host whose documents all failed at the network level.
#[derive(Debug, Clone, Serialize)]
pub struct HostOutage {
    /// `example.com`, or `example.com:8080` with a port of its own.
    pub host: String,
    /// The category of its first document's failure.
    pub category: FailureKind,
    pub documents: usize,
    /// Its first document's failure message.
    pub message: String,
}

impl Outage {
    pub fn is_run(&self) -> bool {
        self.scope == OutageScope::Run
    }

    /// `no network? every document failed with dns: ...`, or one line per host out.
    pub fn message(&self) -> String {
        let first = self.hosts.first().map_or("", |h| h.message.as_str());
        if self.is_run() {
            let mut counts: Vec<(FailureKind, usize)> = Vec::new();
            for host in &self.hosts {
                match counts.iter_mut().find(|(kind, _)| *kind == host.category) {
                    Some((_, n)) => *n += host.documents,
                    None => counts.push((host.category, host.documents)),
                }
            }
            let total: usize = counts.iter().map(|(_, n)| n).sum();
            match counts.as_slice() {
                [(kind, _)] => format!("no network? every document ({total}) failed with {kind}: {first}"),
                _ => {
                    let each: Vec<String> = counts.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
                    format!(
                        "no network? every document ({total}) failed before reaching a server ({}): {first}",
                        each.join(", ")
                    )
                }
            }
        } else {
            self.hosts
                .iter()
                .map(|h| {
                    format!(
                        "host {} is out: all {} of its documents failed with {}",
                        h.host, h.documents, h.category
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

/// Whether a failure happened before any server answered.
fn is_network_failure(status: &Status) -> Option<FailureKind> {
    match status {
        Status::Failed { category, .. }
            if matches!(
                category,
                FailureKind::Dns | FailureKind::Connection | FailureKind::Timeout | FailureKind::Tls
            ) =>
        {
            Some(*category)
        }
        _ => None,
    }
}

/// Finds a run or host outage (see [`Outage`]) and marks its documents.
pub fn find_outage(outcomes: &mut [DocumentOutcome]) -> Option<Outage> {
    let host_of = |outcome: &DocumentOutcome| -> (String, String) {
        let first = outcome.url.split(' ').next().unwrap_or_default();
        match Url::parse(first) {
            Ok(url) => {
                let shown = match url.port() {
                    Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                    None => url.host_str().unwrap_or_default().to_string(),
                };
                (host_key(&url), shown)
            }
            Err(_) => (first.to_string(), first.to_string()),
        }
    };
    // Per host: its shown name, documents, and the one network category they share.
    let mut hosts: Vec<(String, HostOutage, bool)> = Vec::new();
    for outcome in outcomes.iter() {
        let (key, shown) = host_of(outcome);
        let category = is_network_failure(&outcome.status);
        let message = match &outcome.status {
            Status::Failed { message, .. } => message.clone(),
            _ => String::new(),
        };
        match hosts.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, host, same)) => {
                host.documents += 1;
                *same &= category == Some(host.category);
            }
            None => hosts.push((
                key,
                HostOutage {
                    host: shown,
                    category: category.unwrap_or(FailureKind::Dns),
                    documents: 1,
                    message,
                },
                category.is_some(),
            )),
        }
    }
    let everything = outcomes.len() >= 2 && outcomes.iter().all(|o| is_network_failure(&o.status).is_some());
    let (scope, out): (OutageScope, Vec<HostOutage>) = if everything {
        (OutageScope::Run, hosts.into_iter().map(|(_, host, _)| host).collect())
    } else {
        let out: Vec<HostOutage> = hosts
            .into_iter()
            .filter(|(_, host, same)| *same && host.documents >= 2)
            .map(|(_, host, _)| host)
            .collect();
        (OutageScope::Hosts, out)
    };
    if out.is_empty() {
        return None;
    }
    for outcome in outcomes.iter_mut() {
        let (_, shown) = host_of(outcome);
        outcome.outage = everything || out.iter().any(|h| h.host == shown);
    }
    Some(Outage { scope, hosts: out })
}

/// Where a run's time went, in seconds. Fetching and canonicalizing are summed over the
/// documents, which are processed several at once, so they can add up to more than the
/// wall time; comparing (diffs, storing blobs) overlaps the fetches on the recording
/// thread; committing comes after the last fetch.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    pub wall_s: f64,
    pub fetch_s: f64,
    pub canonicalize_s: f64,
    pub compare_s: f64,
    pub commit_s: f64,
}

/// Time spent by the fetch tasks, added up across them.
#[derive(Default)]
struct BusyTime {
    fetch_ns: AtomicU64,
    canonicalize_ns: AtomicU64,
}

impl BusyTime {
    fn add(counter: &AtomicU64, since: Instant) {
        let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        counter.fetch_add(ns, Ordering::Relaxed);
    }

    fn seconds(counter: &AtomicU64) -> f64 {
        counter.load(Ordering::Relaxed) as f64 / 1e9
    }
}

impl TrackReport {
    pub fn recorded(&self) -> usize {
        self.documents
            .iter()
            .filter(|d| matches!(d.status, Status::Recorded { .. }))
            .count()
    }
    pub fn unchanged(&self) -> usize {
        self.documents
            .iter()
            .filter(|d| matches!(d.status, Status::Unchanged))
            .count()
    }
    pub fn failed(&self) -> usize {
        self.documents
            .iter()
            .filter(|d| matches!(d.status, Status::Failed { .. }))
            .count()
    }
}

/// One document to fetch.
struct Job {
    service: String,
    service_name: String,
    document: Document,
    previous_snapshot: Option<Oid>,
    /// The validators the recorded snapshot was served with, for a conditional request
    /// (single-page documents only: a 304 for one part of several says nothing of the
    /// others' bytes).
    known: Validators,
    /// An `auto` document the browser was needed for last time (see [`remember_fetchers`]).
    browser_first: bool,
}

/// What a fetch worker hands back to the recording thread.
struct Fetched {
    service: String,
    service_name: String,
    doc_type: String,
    urls: Vec<String>,
    result: Result<Extracted, Failure>,
    /// For an `auto` document, the hash of its declaration (see [`DECLARATION_TRAILER`]).
    declaration: Option<String>,
}

enum Extracted {
    /// The bytes are those of the recorded snapshot: the text cannot have changed.
    SameSnapshot,
    New {
        text: String,
        snapshot: Vec<u8>,
        ext: &'static str,
        fetcher: &'static str,
        /// For a document with no recorded snapshot, the provisions its text touches:
        /// tagging every sentence is the costliest step of a first record, so it is
        /// done here, in parallel, rather than on the recording thread.
        first_provisions: Option<Vec<String>>,
        /// The validators of a single-page document's response.
        validators: Validators,
        /// The parts whose fetch ended elsewhere than their declared URL.
        redirects: Vec<Redirect>,
    },
}

/// Tracks `services` (already filtered) into `archive`, reporting each document to
/// `observe` as soon as its outcome is known; commits are made after all fetches.
pub fn track(
    archive: &Archive,
    services: &[Service],
    options: &TrackOptions,
    mut observe: impl FnMut(&DocumentOutcome),
) -> Result<TrackReport, ArchiveError> {
    let started = Instant::now();
    // Refused before fetching: commits on a detached HEAD would belong to no branch.
    archive.branch()?;
    let snapshots = archive.snapshot_ids()?;
    let validators = recorded_validators(archive, &snapshots)?;
    let mut jobs = jobs_of(services, |service, document| {
        let id = (service.to_string(), document.doc_type.clone());
        let known = validators
            .get(&id)
            .and_then(|recorded| recorded.usable(document, options))
            .unwrap_or_default();
        snapshots.get(&id).map(|&oid| (oid, known))
    });
    remember_fetchers(&mut jobs, &archive.snapshot_messages(&snapshots, VALIDATOR_LOOKBACK)?);
    let busy = Arc::new(BusyTime::default());
    let (runtime, mut receiver, fetch_all) = start_fetching(jobs, options, Arc::clone(&busy))?;
    let mut compare = Duration::ZERO;

    let mut outcomes: Vec<DocumentOutcome> = Vec::new();
    let mut pending: Vec<(usize, NewVersion)> = Vec::new();
    for fetched in std::iter::from_fn(|| receiver.blocking_recv()) {
        let url = fetched.urls.join(" ");
        let deciding = Instant::now();
        let decision = decide(archive, &fetched, options)?;
        compare += deciding.elapsed();
        let status = match decision {
            Decision::Unchanged => Status::Unchanged,
            Decision::Failed(failure) => Status::Failed {
                category: failure.kind,
                message: failure.message,
            },
            Decision::Record(version, counts) => {
                let status = Status::Recorded {
                    commit: String::new(),
                    change: version.message.change,
                    counts,
                    summary: version.message.subject.clone(),
                    redirected_to: version
                        .message
                        .extra
                        .iter()
                        .filter(|(key, _)| key == REDIRECTED_TO_TRAILER)
                        .map(|(_, value)| value.clone())
                        .collect(),
                };
                pending.push((outcomes.len(), *version));
                status
            }
        };
        let outcome = DocumentOutcome {
            service: fetched.service,
            document: fetched.doc_type,
            url,
            status,
            outage: false,
        };
        if !matches!(outcome.status, Status::Recorded { .. }) {
            observe(&outcome);
        }
        outcomes.push(outcome);
    }
    finish_fetching(&runtime, fetch_all)?;

    pending.sort_by(|a, b| (&a.1.service, &a.1.doc_type).cmp(&(&b.1.service, &b.1.doc_type)));
    let committing = Instant::now();
    let mut decided = refuse_versions_before_latest(archive, &mut pending, &mut outcomes)?;
    decided.extend(commit_versions(archive, pending, &mut outcomes, options)?);
    let commit = committing.elapsed();
    // Reported once on the branch: a commit id shown before would not exist after a kill.
    for index in decided {
        observe(&outcomes[index]);
    }

    outcomes.sort_by(|a, b| (&a.service, &a.document).cmp(&(&b.service, &b.document)));
    let outage = find_outage(&mut outcomes);
    let timings = Timings {
        wall_s: started.elapsed().as_secs_f64(),
        fetch_s: BusyTime::seconds(&busy.fetch_ns),
        canonicalize_s: BusyTime::seconds(&busy.canonicalize_ns),
        compare_s: compare.as_secs_f64(),
        commit_s: commit.as_secs_f64(),
    };
    Ok(TrackReport {
        documents: outcomes,
        outage,
        timings,
    })
}

/// Keeps the chronology rule imports keep: a version is only appended after its
/// document's latest one (the same second is after it, in commit order). A fetch time
/// before it means this machine's clock is behind (or an import brought versions dated
/// after it): such a document fails as `clock-behind` and nothing is committed for it.
/// Returns the indexes of the outcomes refused, and leaves the others in `pending`.
fn refuse_versions_before_latest(
    archive: &Archive,
    pending: &mut Vec<(usize, NewVersion)>,
    outcomes: &mut [DocumentOutcome],
) -> Result<Vec<usize>, ArchiveError> {
    // A first record has nothing to go before; asking for it would walk all history.
    let recorded: Vec<(String, String)> = pending
        .iter()
        .filter(|(_, version)| version.message.change != ChangeKind::First)
        .map(|(_, version)| (version.service.clone(), version.doc_type.clone()))
        .collect();
    let latest = archive.latest_version_dates(&recorded)?;
    let secs = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut refused = Vec::new();
    pending.retain(|(index, version)| {
        let fetched_at = version.message.fetched_at;
        match latest.get(&(version.service.clone(), version.doc_type.clone())) {
            Some(&latest) if fetched_at < latest => {
                outcomes[*index].status = Status::Failed {
                    category: FailureKind::ClockBehind,
                    message: format!(
                        "the fetch time ({}) would go before the latest recorded version ({}), and recorded history \
                         is never rewritten: this machine's clock seems to be behind; set it right and run again \
                         (the new version was not recorded)",
                        secs(fetched_at),
                        secs(latest)
                    ),
                };
                refused.push(*index);
                false
            }
            _ => true,
        }
    });
    Ok(refused)
}

/// Commits the pending versions (in the order given), fills in their commit ids, and
/// returns the indexes of the outcomes decided here: those recorded, and those refused
/// because their files hold uncommitted changes (the user's edit is kept).
fn commit_versions(
    archive: &Archive,
    pending: Vec<(usize, NewVersion)>,
    outcomes: &mut [DocumentOutcome],
    options: &TrackOptions,
) -> Result<Vec<usize>, ArchiveError> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    // Every path is checked before the first is written: a symbolic link anywhere
    // refuses the run with nothing written.
    let versions: Vec<&NewVersion> = pending.iter().map(|(_, version)| version).collect();
    let changed = archive.uncommitted_changes(&versions)?;
    let mut recorded = Vec::with_capacity(pending.len());
    let mut writable = Vec::with_capacity(pending.len());
    for ((index, version), changed) in pending.into_iter().zip(changed) {
        match changed {
            Some(path) => {
                outcomes[index].status = Status::Failed {
                    category: FailureKind::UncommittedChanges,
                    message: format!(
                        "{path} has uncommitted changes: commit or discard them, and run again (the new version was not recorded)"
                    ),
                };
                recorded.push(index);
            }
            None => writable.push((index, version)),
        }
    }
    if writable.is_empty() {
        return Ok(recorded);
    }
    let mut recorder = archive.recorder()?;
    for (index, version) in writable {
        let oid = recorder.record(&version, &options.identity, version.message.fetched_at, options.now)?;
        if let Status::Recorded { commit, .. } = &mut outcomes[index].status {
            *commit = oid.to_string();
        }
        recorded.push(index);
    }
    recorder.finish()?;
    Ok(recorded)
}

/// One job per declared document; `previous` gives the recorded snapshot's blob id.
fn jobs_of(services: &[Service], previous: impl Fn(&str, &Document) -> Option<(Oid, Validators)>) -> Vec<Job> {
    services
        .iter()
        .flat_map(|service| {
            service.documents.iter().map(|document| {
                let (previous_snapshot, known) = previous(&service.slug, document)
                    .map_or((None, Validators::default()), |(oid, known)| (Some(oid), known));
                Job {
                    service: service.slug.clone(),
                    service_name: service.name.clone(),
                    previous_snapshot,
                    known: if document.parts.len() == 1 {
                        known
                    } else {
                        Validators::default()
                    },
                    document: document.clone(),
                    browser_first: false,
                }
            })
        })
        .collect()
}

/// How far back `track` looks for the validators of the recorded snapshots: a
/// document unchanged for longer is fetched without a conditional request.
const VALIDATOR_LOOKBACK: usize = 20_000;

/// The trailers that keep a version's validators.
const ETAG_TRAILER: &str = "ETag";
const LAST_MODIFIED_TRAILER: &str = "Last-Modified";

/// The trailers that keep a response's validators in its version's commit.
fn validator_trailers(validators: &Validators) -> Vec<(String, String)> {
    [
        (ETAG_TRAILER, &validators.etag),
        (LAST_MODIFIED_TRAILER, &validators.last_modified),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_string(), value.clone()?)))
    .collect()
}

/// The validators a recorded snapshot was served with, and what they are valid for.
struct RecordedValidators {
    validators: Validators,
    /// The URLs the version was fetched from: validators belong to a URL.
    urls: Vec<String>,
    /// When the version was fetched: the last fetch made without validators that the
    /// history proves (see [`RecordedValidators::usable`]).
    fetched_at: DateTime<Utc>,
}

impl RecordedValidators {
    /// The validators to send for `document` in this run, if any: none when the
    /// declaration now points elsewhere (the old page's tags say nothing of the new
    /// one), and none once the version is older than `revalidate_after`. A run that gets
    /// a 304 commits nothing, so on a fresh clone the only proof of the last unconditional
    /// fetch is the version's `Fetched-At`: past the interval, every run fetches the
    /// whole body until a new version is recorded (an unchanged body is still caught by
    /// its snapshot hash, so it costs a download, not a canonicalization).
    fn usable(&self, document: &Document, options: &TrackOptions) -> Option<Validators> {
        let same_urls = self.urls.len() == document.parts.len()
            && self
                .urls
                .iter()
                .zip(&document.parts)
                .all(|(url, part)| *url == part.url.as_str());
        let fresh = options
            .revalidate_after
            .is_none_or(|interval| options.now - self.fetched_at < interval);
        (same_urls && fresh).then(|| self.validators.clone())
    }
}

/// The validators each recorded snapshot was served with, from its version's trailers
/// (see [`validator_trailers`]).
fn recorded_validators(
    archive: &Archive,
    snapshots: &HashMap<(String, String), Oid>,
) -> Result<HashMap<(String, String), RecordedValidators>, ArchiveError> {
    Ok(archive
        .snapshot_messages(snapshots, VALIDATOR_LOOKBACK)?
        .into_iter()
        .map(|(id, message)| {
            let validators = Validators {
                etag: message.extra(ETAG_TRAILER).map(str::to_string),
                last_modified: message.extra(LAST_MODIFIED_TRAILER).map(str::to_string),
                served_at: None,
            };
            let recorded = RecordedValidators {
                validators,
                urls: message.source_urls,
                fetched_at: message.fetched_at,
            };
            (id, recorded)
        })
        .filter(|(_, recorded)| !recorded.validators.is_empty())
        .collect())
}

/// Ties a version that an `auto` document recorded with the browser to the declaration it
/// was fetched under: the SHA-256 of [`declaration_text`].
const DECLARATION_TRAILER: &str = "Declaration-SHA256";

/// What a document's declaration says about fetching it, as text to hash: a change to its
/// URLs, selectors or fetcher changes the hash.
fn declaration_text(document: &Document) -> String {
    let mut text = format!("{}\n{:?}\n", document.doc_type, document.fetcher);
    for part in &document.parts {
        text.push_str(&format!("{}\n{:?}\n{:?}\n", part.url, part.select, part.remove));
    }
    text
}

/// Fetcher memory: an `auto` document whose latest version the browser produced, under
/// the declaration it has now, goes straight to the browser (HTTP fell short last time and
/// would again, at the cost of a request and a canonicalization). Any declaration change
/// resets it, and so does a version HTTP produced; documents HTTP serves escalate as before.
fn remember_fetchers(jobs: &mut [Job], messages: &HashMap<(String, String), VersionMessage>) {
    for job in jobs.iter_mut().filter(|job| job.document.fetcher == FetcherKind::Auto) {
        let id = (job.service.clone(), job.document.doc_type.clone());
        job.browser_first = messages.get(&id).is_some_and(|message| {
            message.fetcher == "browser"
                && message.extra(DECLARATION_TRAILER)
                    == Some(sha256_hex(declaration_text(&job.document).as_bytes()).as_str())
        });
    }
}

/// Starts fetching `jobs` on a runtime of its own; results arrive on the channel as
/// they complete, and the channel closes when every job is done.
fn start_fetching(
    jobs: Vec<Job>,
    options: &TrackOptions,
    busy: Arc<BusyTime>,
) -> Result<
    (
        tokio::runtime::Runtime,
        mpsc::Receiver<Fetched>,
        tokio::task::JoinHandle<()>,
    ),
    ArchiveError,
> {
    let fetcher = HttpFetcher::new(options.fetch.clone()).map_err(|f| ArchiveError::Io {
        context: "cannot start the HTTP client".into(),
        source: std::io::Error::other(f.message),
    })?;
    // Bounded: when the recording thread falls behind, fetches wait instead of piling
    // pages up in memory.
    let (sender, receiver) = mpsc::channel::<Fetched>(options.jobs.max(1));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| ArchiveError::Io {
            context: "cannot start the async runtime".into(),
            source,
        })?;
    let fetchers = Fetchers {
        http: fetcher,
        browser: BrowserSlot {
            options: options.browser.clone(),
            browser: std::sync::OnceLock::new(),
        },
        gates: HostGates::new(options.host_delay),
        busy,
        taxonomy: Arc::new(options.taxonomy.clone()),
        cpus: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
    };
    let handle = runtime.spawn(fetch_all(jobs, fetchers, options.jobs, sender));
    Ok((runtime, receiver, handle))
}

fn finish_fetching(runtime: &tokio::runtime::Runtime, handle: tokio::task::JoinHandle<()>) -> Result<(), ArchiveError> {
    runtime.block_on(handle).map_err(|e| ArchiveError::Io {
        context: "the fetch task failed".into(),
        source: std::io::Error::other(e.to_string()),
    })
}

/// How stable a document's text is between two fetches.
#[derive(Debug, Clone, Serialize)]
pub struct StabilityOutcome {
    pub service: String,
    pub document: String,
    #[serde(flatten)]
    pub status: Stability,
    /// What the first fetch extracted, when it could (declaration health judges it
    /// against the recorded version as `track` would).
    #[serde(skip)]
    pub fetched: Option<FetchedText>,
}

/// A document's text as a fetch extracted it, with what `track` weighs it by.
#[derive(Debug, Clone)]
pub struct FetchedText {
    pub text: String,
    pub snapshot: Vec<u8>,
    pub snapshot_ext: &'static str,
    /// The parts whose fetch ended elsewhere than their declared URL.
    pub redirects: Vec<Redirect>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Stability {
    Stable,
    /// The two fetches gave different texts: the lines only the first and only the
    /// second had.
    Unstable {
        first_only: Vec<String>,
        second_only: Vec<String>,
    },
    Failed {
        category: FailureKind,
        message: String,
    },
}

/// Fetches every document twice and compares the texts: a declaration whose text moves
/// between two loads (dates, rotating content, A/B tests) would record noise.
pub fn check_stability(services: &[Service], options: &TrackOptions) -> Result<Vec<StabilityOutcome>, ArchiveError> {
    let mut rounds: Vec<HashMap<(String, String), Result<FetchedText, Failure>>> = Vec::new();
    for _ in 0..2 {
        let (runtime, receiver, handle) = start_fetching(jobs_of(services, |_, _| None), options, Arc::default())?;
        let mut receiver = receiver;
        let texts = std::iter::from_fn(|| receiver.blocking_recv())
            .map(|f| {
                let fetched = f.result.map(|e| match e {
                    Extracted::New {
                        text,
                        snapshot,
                        ext,
                        redirects,
                        ..
                    } => FetchedText {
                        text,
                        snapshot,
                        snapshot_ext: ext,
                        redirects,
                    },
                    // Never sent: these jobs are given no recorded snapshot to match.
                    Extracted::SameSnapshot => FetchedText {
                        text: String::new(),
                        snapshot: Vec::new(),
                        snapshot_ext: "html",
                        redirects: Vec::new(),
                    },
                });
                ((f.service, f.doc_type), fetched)
            })
            .collect();
        finish_fetching(&runtime, handle)?;
        rounds.push(texts);
    }
    let (mut first, mut second) = (rounds.remove(0), rounds.remove(0));
    let mut outcomes: Vec<StabilityOutcome> = first
        .drain()
        .map(|((service, document), a)| {
            let b = second.remove(&(service.clone(), document.clone()));
            let status = match (&a, &b) {
                (Err(f), _) | (_, Some(Err(f))) => Stability::Failed {
                    category: f.kind,
                    message: f.message.clone(),
                },
                (Ok(a), Some(Ok(b))) if a.text == b.text => Stability::Stable,
                (Ok(a), Some(Ok(b))) => {
                    let (first_only, second_only) = differing_lines(&a.text, &b.text);
                    Stability::Unstable {
                        first_only,
                        second_only,
                    }
                }
                (Ok(_), None) => Stability::Failed {
                    category: FailureKind::Empty,
                    message: "the second fetch did not finish".into(),
                },
            };
            StabilityOutcome {
                service,
                document,
                status,
                fetched: a.ok(),
            }
        })
        .collect();
    outcomes.sort_by(|a, b| (&a.service, &a.document).cmp(&(&b.service, &b.document)));
    Ok(outcomes)
}

enum Decision {
    Unchanged,
    Failed(Failure),
    Record(Box<NewVersion>, Counts),
}

/// Compares a fetch with the recorded version and decides what to do with it.
fn decide(archive: &Archive, fetched: &Fetched, options: &TrackOptions) -> Result<Decision, ArchiveError> {
    let (text, snapshot, ext, fetcher, first_provisions, validators, redirects) = match &fetched.result {
        Err(failure) => return Ok(Decision::Failed(failure.clone())),
        Ok(Extracted::SameSnapshot) => return Ok(Decision::Unchanged),
        Ok(Extracted::New {
            text,
            snapshot,
            ext,
            fetcher,
            first_provisions,
            validators,
            redirects,
        }) => (text, snapshot, *ext, *fetcher, first_provisions, validators, redirects),
    };
    if let Some(failure) = not_the_document(text, snapshot, ext, &fetched.urls.join(" ")) {
        return Ok(Decision::Failed(failure));
    }
    let previous = archive.current_text(&fetched.service, &fetched.doc_type)?;
    let accepted = options.accept_shrink.accepts(&fetched.service, &fetched.doc_type);
    let change = match &previous {
        Some(old) if old == text => return Ok(Decision::Unchanged),
        Some(old) => {
            let document = format!("{}/{}", fetched.service, fetched.doc_type);
            let arrival = continuity::Arrival {
                text,
                snapshot,
                snapshot_ext: ext,
                redirects,
                accept_shrink: accepted,
                document: &document,
                source: &fetched.urls.join(" "),
            };
            let parts = fetched.urls.len();
            if let Some(failure) = refusal_against(archive, &fetched.service, &fetched.doc_type, parts, &arrival, old)?
            {
                return Ok(Decision::Failed(failure));
            }
            classify(old, text)
        }
        None => ChangeKind::First,
    };
    let mut extra = validator_trailers(&validators.reusable(options.now));
    if fetcher == "browser"
        && let Some(declaration) = &fetched.declaration
    {
        extra.push((DECLARATION_TRAILER.to_string(), declaration.clone()));
    }
    let recorded = new_version(
        archive,
        Candidate {
            service: &fetched.service,
            service_name: &fetched.service_name,
            doc_type: &fetched.doc_type,
            urls: fetched.urls.clone(),
            text,
            snapshot,
            snapshot_ext: ext,
            fetcher,
            fetched_at: options.now,
            source: None,
            extra,
            provisions: first_provisions.clone().filter(|_| previous.is_none()),
            redirects: redirects.clone(),
            accept_shrink: accepted,
        },
        previous.as_deref().map(|old| (old, change)),
        &options.taxonomy,
    )?;
    Ok(match recorded {
        Ok((version, counts)) => Decision::Record(Box::new(version), counts),
        Err(failure) => Decision::Failed(failure),
    })
}

/// Why `track` refuses `arrival` next to `old`, the recorded text it would replace
/// (`None`: it would be recorded, as far as the version before can tell): another page
/// ([`continuity::replaced`]: an error or login page wrapped in prose, a redirect to
/// another page), then a text that lost more than half ([`shrink_failure`]), then a
/// transfer cut short ([`continuity::cut`]), each unless `--accept-shrink` covers it.
/// [`decide`] asks it before recording and `check --fetch` of a steady text, so that
/// the declaration health check calls healthy only what `track` would record.
pub fn refusal_against(
    archive: &Archive,
    service: &str,
    doc_type: &str,
    parts: usize,
    arrival: &continuity::Arrival<'_>,
    old: &str,
) -> Result<Option<Failure>, ArchiveError> {
    if let Some(failure) = continuity::replaced(arrival, old) {
        return Ok(Some(failure));
    }
    if let Some(failure) = shrink_failure(old, arrival.text, arrival.document, arrival.accept_shrink) {
        return Ok(Some(failure));
    }
    continuity::cut(arrival, old, || last_snapshot(archive, service, doc_type, parts))
}

/// Why a text is not the document but an error, maintenance, login or consent page
/// (see [`wall::judge_text`]), or `None`. [`new_version`] refuses such a text whatever
/// the path; callers ask first so that the reason given is this one, not a shrink.
pub fn not_the_document(text: &str, snapshot: &[u8], snapshot_ext: &str, source: &str) -> Option<Failure> {
    wall::judge_text(text, snapshot, snapshot_ext).map(|verdict| verdict.into_failure(source))
}

/// Which documents may record a text that lost more than half its length
/// (`--accept-shrink`, `--accept-shrink=SERVICE[/TYPE]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ShrinkAcceptance {
    #[default]
    None,
    /// Every document of the run.
    All,
    /// These `service` or `service/type` names.
    Only(Vec<String>),
}

impl ShrinkAcceptance {
    /// From the flag's values: an empty value (the bare flag) accepts every document.
    pub fn from_values(values: &[String]) -> ShrinkAcceptance {
        if values.is_empty() {
            ShrinkAcceptance::None
        } else if values.iter().any(|v| v.trim_matches('/').is_empty()) {
            ShrinkAcceptance::All
        } else {
            ShrinkAcceptance::Only(values.iter().map(|v| v.trim_matches('/').to_string()).collect())
        }
    }

    pub fn accepts(&self, service: &str, doc_type: &str) -> bool {
        match self {
            ShrinkAcceptance::None => false,
            ShrinkAcceptance::All => true,
            ShrinkAcceptance::Only(names) => names
                .iter()
                .any(|n| n == service || n.split_once('/') == Some((service, doc_type))),
        }
    }
}

/// A text that lost more than half its length is most often a broken page (a
/// truncation keeps a prefix and loses the rest), not a new version: refused unless the
/// user accepts it, or unless what was lost was a second copy (see [`copy_went_away`]).
pub fn shrink_failure(old: &str, new: &str, document: &str, accepted: bool) -> Option<Failure> {
    if accepted || new.len() * 2 >= old.len() || copy_went_away(old, new) {
        return None;
    }
    Some(Failure::new(
        FailureKind::Shrunk,
        format!(
            "the text shrank from {} to {} bytes (more than half lost); if the change is real, run again with \
             --accept-shrink={document} (or --accept-shrink for every document)",
            old.len(),
            new.len()
        ),
    ))
}

/// Whether a shrunken text is the old one without a duplicated copy: nearly every
/// sentence of the new text was in the old (at least 90%), and most of what was lost
/// (at least half) is still there, as the copy kept. A page that showed the upcoming
/// policy above the current one and went back to one policy is like that; a truncated
/// page keeps its beginning but the sentences it lost are gone.
pub fn copy_went_away(old: &str, new: &str) -> bool {
    use std::collections::HashMap;
    let count = |text: &str| -> HashMap<String, usize> {
        let mut keys = HashMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            *keys.entry(crate::report::since::key(line)).or_insert(0) += 1;
        }
        keys
    };
    let (old_keys, new_keys) = (count(old), count(new));
    let new_total: usize = new_keys.values().sum();
    if new_total == 0 {
        return false;
    }
    let kept: usize = new_keys
        .iter()
        .map(|(k, n)| (*n).min(old_keys.get(k).copied().unwrap_or(0)))
        .sum();
    let (mut lost, mut lost_still_there) = (0, 0);
    for (k, n) in &old_keys {
        let gone = n.saturating_sub(new_keys.get(k).copied().unwrap_or(0));
        lost += gone;
        if new_keys.contains_key(k) {
            lost_still_there += gone;
        }
    }
    kept * 10 >= new_total * 9 && lost > 0 && lost_still_there * 2 >= lost
}

/// A new text of a document, from any source (a fetch, a Wayback capture, an imported
/// version), ready to be turned into a version.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub service: &'a str,
    /// The service's display name, for the commit subject.
    pub service_name: &'a str,
    pub doc_type: &'a str,
    pub urls: Vec<String>,
    pub text: &'a str,
    pub snapshot: &'a [u8],
    /// `html`, `pdf`, `txt` or `md`.
    pub snapshot_ext: &'static str,
    pub fetcher: &'a str,
    /// When the bytes were fetched or captured: the author date of the version.
    pub fetched_at: DateTime<Utc>,
    /// The `Source:` trailer (`None` for `track`).
    pub source: Option<String>,
    /// Source-specific provenance trailers.
    pub extra: Vec<(String, String)>,
    /// The provisions of a first record, when already tagged (see [`first_provisions`]).
    pub provisions: Option<Vec<String>>,
    /// The parts whose fetch ended elsewhere than their declared URL (`track` only):
    /// each becomes a `Redirected-To:` trailer, and one to another page that shares
    /// almost nothing with the last version is refused.
    pub redirects: Vec<Redirect>,
    /// `--accept-shrink` names this document: a text that is the last version's
    /// beginning, cut short, is recorded all the same.
    pub accept_shrink: bool,
}

/// The version a candidate makes: the subject, the counts, the `Change:` kind and the
/// provisions touched come from the diff against `previous` (the text it replaces and
/// the kind of change, see [`classify`]); `None` makes a first record. Every source of
/// versions goes through here, so a commit says the same whatever produced it, and no
/// source can record a page that is not the document: such a text is refused (the
/// inner error) before anything is written.
/// The `Tagger:` trailer's value when a version names provisions: which tagger (and
/// version) decided them, `learned-minilm-static/…` or `rules/…`.
pub fn provisions_tagger(provisions: &[String], taxonomy: &Taxonomy) -> Option<String> {
    (!provisions.is_empty()).then(|| taxonomy.tagger().to_string())
}

/// Provenance trailers with the `Tagger:` one replaced (a rebuilt version is tagged anew).
pub fn with_tagger(mut extra: Vec<(String, String)>, tagger: &Option<String>) -> Vec<(String, String)> {
    extra.retain(|(key, _)| key != "Tagger");
    if let Some(tagger) = tagger {
        extra.push(("Tagger".to_string(), tagger.clone()));
    }
    extra
}

pub fn new_version(
    archive: &Archive,
    candidate: Candidate<'_>,
    previous: Option<(&str, ChangeKind)>,
    taxonomy: &Taxonomy,
) -> Result<Result<(NewVersion, Counts), Failure>, ArchiveError> {
    let source = match candidate.urls.first() {
        Some(url) => url.clone(),
        None => format!("{}/{}", candidate.service, candidate.doc_type),
    };
    if let Some(failure) = not_the_document(candidate.text, candidate.snapshot, candidate.snapshot_ext, &source) {
        return Ok(Err(failure));
    }
    if let Some((old, _)) = previous
        && let Some(failure) = against_previous(archive, &candidate, old, &source)?
    {
        return Ok(Err(failure));
    }
    // Readers refuse a longer text from history (a blob bomb), so it is never recorded.
    if candidate.text.len() as u64 > MAX_VERSION_TEXT_BYTES {
        return Ok(Err(Failure::new(
            FailureKind::TooLarge,
            format!(
                "the text is {} bytes, more than the {MAX_VERSION_TEXT_BYTES} a version may hold",
                candidate.text.len()
            ),
        )));
    }
    let (mut change, diff) = match previous {
        Some((old, change)) => (change, diff_texts(old, candidate.text)),
        None => (ChangeKind::First, diff_texts("", candidate.text)),
    };
    // A text the document had before (not the one it replaces: that is no version) is
    // a revert to the newest version that had it.
    let mut reverts_to = None;
    if matches!(change, ChangeKind::Substantive | ChangeKind::Cosmetic)
        && let Some(earlier) = archive.version_with_text(candidate.service, candidate.doc_type, candidate.text)?
    {
        change = ChangeKind::Revert;
        reverts_to = Some(earlier);
    }
    // A text the tagger cannot read states no provision we know of: say so instead.
    let untagged_language = untagged_language(candidate.text, taxonomy);
    let provisions = match (previous, candidate.provisions) {
        _ if untagged_language.is_some() => Vec::new(),
        (None, Some(known)) => known,
        _ => provisions::ids_in_lines(changed_lines(&diff), taxonomy),
    };
    // Only a change of wording can move a provision; the whole texts are tagged (not
    // just the changed sentences) so that "added" means the document did not state it.
    let provisions_changed = match previous {
        Some((old, _)) if !provisions.is_empty() && matches!(change, ChangeKind::Substantive | ChangeKind::Revert) => {
            provision_changes::shifts(&provision_changes::provision_changes(old, candidate.text, taxonomy))
        }
        _ => Vec::new(),
    };
    let mut extra = candidate.extra;
    extra.extend(
        candidate
            .redirects
            .iter()
            .map(|redirect| (REDIRECTED_TO_TRAILER.to_string(), redirect.trailer_value())),
    );
    let extra = with_tagger(extra, &provisions_tagger(&provisions, taxonomy));
    let counts = diff.counts;
    // Declarations refuse control characters; escaped again here because every source
    // of versions passes through, and the subject is printed as well as committed.
    let title = format!(
        "{} {}",
        crate::printable::Printable(candidate.service_name),
        crate::declaration::title_from_slug(candidate.doc_type)
    );
    let mut subject = summary::subject(&title, change, &counts, CANONICALIZER_VERSION);
    if let Some(earlier) = &reverts_to {
        subject.push_str(&format!(
            " (back to the version of {}, {})",
            earlier.date.format("%Y-%m-%d"),
            earlier.short_id()
        ));
    }
    let message = VersionMessage {
        subject,
        service: candidate.service.to_string(),
        document: candidate.doc_type.to_string(),
        source_urls: candidate.urls,
        fetched_at: candidate.fetched_at,
        snapshot_sha256: sha256_hex(candidate.snapshot),
        fetcher: candidate.fetcher.to_string(),
        change,
        reverts_to: reverts_to.map(|v| v.commit.to_string()),
        provisions,
        provisions_changed,
        untagged_language,
        declared_date: crate::report::dates::declared_date(candidate.text),
        canonicalizer: CANONICALIZER_VERSION,
        clausewatch_version: env!("CARGO_PKG_VERSION").to_string(),
        source: candidate.source,
        extra,
    };
    let version = NewVersion {
        service: candidate.service.to_string(),
        doc_type: candidate.doc_type.to_string(),
        text_blob: archive.write_blob(candidate.text.as_bytes())?,
        snapshot_blob: archive.write_blob(candidate.snapshot)?,
        snapshot_ext: candidate.snapshot_ext,
        message,
    };
    Ok(Ok((version, counts)))
}

/// Why a candidate is not the document next to the text it would replace, `old` (see
/// [`continuity::judge`]); the old snapshot is read only when the judgment needs it.
fn against_previous(
    archive: &Archive,
    candidate: &Candidate<'_>,
    old: &str,
    source: &str,
) -> Result<Option<Failure>, ArchiveError> {
    let document = format!("{}/{}", candidate.service, candidate.doc_type);
    let arrival = continuity::Arrival {
        text: candidate.text,
        snapshot: candidate.snapshot,
        snapshot_ext: candidate.snapshot_ext,
        redirects: &candidate.redirects,
        accept_shrink: candidate.accept_shrink,
        document: &document,
        source,
    };
    continuity::judge(&arrival, old, || {
        last_snapshot(archive, candidate.service, candidate.doc_type, candidate.urls.len())
    })
}

/// The document's last recorded snapshot and its extension, for the cut check.
fn last_snapshot(
    archive: &Archive,
    service: &str,
    doc_type: &str,
    parts: usize,
) -> Result<Option<(Vec<u8>, String)>, ArchiveError> {
    // The last snapshot was recorded under the body cap of its run, which this one
    // need not know: read up to the ceiling any cap may have, and a snapshot larger
    // still (recorded by no setting clausewatch accepts) is no evidence either way.
    let limit = crate::reextract::snapshot_limit(parts, u64::MAX);
    match archive.head_snapshot(service, doc_type, limit) {
        Err(ArchiveError::SnapshotTooLarge { .. }) => Ok(None),
        read => read,
    }
}

/// The language of `text` (ISO 639-1) when the tagger does not read it.
pub fn untagged_language(text: &str, taxonomy: &Taxonomy) -> Option<String> {
    match provisions::Coverage::of(text, taxonomy) {
        provisions::Coverage::NotCovered(language) => Some(language.code().to_string()),
        provisions::Coverage::Covered => None,
    }
}

/// The provisions a first record of `text` touches: those of every sentence, as
/// [`new_version`] would find them in the diff against nothing.
pub fn first_provisions(text: &str, taxonomy: &Taxonomy) -> Vec<String> {
    provisions::ids_in_lines(changed_lines(&diff_texts("", text)), taxonomy)
}

/// The non-blank lines only `a` has and only `b` has, each in its text's order.
pub fn differing_lines(a: &str, b: &str) -> (Vec<String>, Vec<String>) {
    let only = |x: &str, y: &str| -> Vec<String> {
        let others: std::collections::HashSet<&str> = y.lines().collect();
        x.lines()
            .filter(|l| !l.trim().is_empty() && !others.contains(l))
            .map(str::to_string)
            .collect()
    };
    (only(a, b), only(b, a))
}

/// Every line a diff touches, in its old and its new form, as every reader tags it
/// (`report::provisions::tag_line`).
pub fn changed_lines(diff: &crate::report::TextDiff) -> impl Iterator<Item = &str> {
    diff.changes
        .iter()
        .flat_map(|change| match change {
            SentenceChange::Added { text, .. } | SentenceChange::Removed { text, .. } => [Some(text.as_str()), None],
            SentenceChange::Changed { old, new, .. } => [Some(old.as_str()), Some(new.as_str())],
            SentenceChange::Moved { .. } => [None, None],
        })
        .flatten()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Fetches every job: hosts in parallel (up to `jobs` documents at once), one request
/// at a time per host with `host_delay` between them.
async fn fetch_all(jobs: Vec<Job>, fetchers: Fetchers, parallel: usize, sender: mpsc::Sender<Fetched>) {
    // Group by the host of a document's first page, so one slow host occupies one slot.
    let mut by_host: Vec<(String, Vec<Job>)> = Vec::new();
    for job in jobs {
        let host = job.document.parts.first().map(|p| host_key(&p.url)).unwrap_or_default();
        match by_host.iter_mut().find(|(h, _)| *h == host) {
            Some((_, list)) => list.push(job),
            None => by_host.push((host, vec![job])),
        }
    }
    let fetchers = Arc::new(fetchers);
    futures_util::stream::iter(by_host)
        .map(|(_, jobs)| {
            let fetchers = Arc::clone(&fetchers);
            let sender = sender.clone();
            async move {
                for job in jobs {
                    let fetched = fetch_document(&fetchers, job).await;
                    if sender.send(fetched).await.is_err() {
                        return; // the recorder stopped; nothing left to report to
                    }
                }
            }
        })
        .buffer_unordered(parallel.max(1))
        .collect::<()>()
        .await;
}

fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// What a run fetches with: HTTP, a browser started on first need, and per-host gates.
struct Fetchers {
    http: HttpFetcher,
    browser: BrowserSlot,
    gates: HostGates,
    busy: Arc<BusyTime>,
    taxonomy: Arc<Taxonomy>,
    /// One permit per CPU for canonicalizing: more at once would not go faster, and
    /// each holds a parsed page (several times its size) in memory.
    cpus: tokio::sync::Semaphore,
}

/// One request at a time per host, with a pause between requests.
pub struct HostGates {
    delay: Duration,
    hosts: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
}

impl HostGates {
    pub fn new(delay: Duration) -> HostGates {
        HostGates {
            delay,
            hosts: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Runs `request` when the host of `url` is free and has rested.
    pub async fn pass<T>(&self, url: &Url, request: impl Future<Output = T>) -> T {
        let gate = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(hosts.entry(host_key(url)).or_default())
        };
        let mut last = gate.lock().await;
        if let Some(last) = *last {
            tokio::time::sleep_until((last + self.delay).into()).await;
        }
        let result = request.await;
        *last = Some(Instant::now());
        result
    }
}

/// The run's browser: launched the first time a document needs one, then shared.
struct BrowserSlot {
    options: BrowserOptions,
    browser: std::sync::OnceLock<Result<Arc<Browser>, Failure>>,
}

impl BrowserSlot {
    /// Whether a browser can be used at all, without launching one.
    fn installed(&self) -> bool {
        Browser::find_executable(self.options.executable.as_deref()).is_some()
    }

    /// The browser, launched on first use (a blocking call: run it off the async threads).
    fn get(&self) -> Result<Arc<Browser>, Failure> {
        self.browser
            .get_or_init(|| Browser::launch(self.options.clone()).map(Arc::new))
            .clone()
    }
}

async fn fetch_document(fetchers: &Fetchers, job: Job) -> Fetched {
    let urls: Vec<String> = job.document.parts.iter().map(|p| p.url.to_string()).collect();
    let result = extract(fetchers, &job).await;
    let declaration =
        (job.document.fetcher == FetcherKind::Auto).then(|| sha256_hex(declaration_text(&job.document).as_bytes()));
    Fetched {
        service: job.service,
        service_name: job.service_name,
        doc_type: job.document.doc_type,
        urls,
        result,
        declaration,
    }
}

/// Whether an HTTP failure is worth a browser's try under `fetcher = "auto"`: a bot wall,
/// a refusal, or a page whose content plainly needs scripts.
fn wants_browser(failure: &Failure) -> bool {
    matches!(
        failure.kind,
        FailureKind::BotWall
            | FailureKind::Forbidden
            | FailureKind::RateLimited
            | FailureKind::SelectorNoMatch
            | FailureKind::Empty
    )
}

async fn extract(fetchers: &Fetchers, job: &Job) -> Result<Extracted, Failure> {
    match job.document.fetcher {
        FetcherKind::Http => extract_http(fetchers, job).await,
        FetcherKind::Browser => extract_browser(fetchers, job).await,
        FetcherKind::Auto if job.browser_first && fetchers.browser.installed() => extract_browser(fetchers, job).await,
        FetcherKind::Auto => match extract_http(fetchers, job).await {
            Err(failure) if wants_browser(&failure) => {
                if fetchers.browser.installed() {
                    tracing::info!(service = %job.service, document = %job.document.doc_type, reason = %failure, "retrying with the browser");
                    extract_browser(fetchers, job).await
                } else {
                    Err(Failure::new(
                        failure.kind,
                        format!(
                            "{}; no browser is installed to render it (install Chromium, or set CLAUSEWATCH_CHROMIUM)",
                            failure.message
                        ),
                    ))
                }
            }
            other => other,
        },
    }
}

async fn extract_http(fetchers: &Fetchers, job: &Job) -> Result<Extracted, Failure> {
    let mut pages = Vec::with_capacity(job.document.parts.len());
    for part in &job.document.parts {
        let answer = fetchers
            .gates
            .pass(&part.url, async {
                let fetching = Instant::now();
                let answer = fetchers.http.fetch_if_changed(&part.url, &job.known).await;
                BusyTime::add(&fetchers.busy.fetch_ns, fetching);
                answer
            })
            .await?;
        let page = match answer {
            Conditional::Page(page) => *page,
            // Asked only for single-page documents with a recorded snapshot.
            Conditional::NotModified => return Ok(Extracted::SameSnapshot),
        };
        refuse_walls(&page, &part.url, false)?;
        pages.push(page);
    }
    finish(fetchers, pages, job, "http").await
}

async fn extract_browser(fetchers: &Fetchers, job: &Job) -> Result<Extracted, Failure> {
    let mut pages = Vec::with_capacity(job.document.parts.len());
    for part in &job.document.parts {
        // Wait for the CSS selectors only: a range boundary may have no text of its own.
        let wait_for: Vec<String> = part
            .select
            .iter()
            .filter_map(|t| match t {
                crate::declaration::Target::Css(css) => Some(css.clone()),
                crate::declaration::Target::Range(_) => None,
            })
            .collect();
        let rendered = render_page(fetchers, &part.url, wait_for).await?;
        if let Some(status) = rendered.status.filter(|s| *s >= 400) {
            let status = reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
            return Err(crate::fetch::status_failure(status, &rendered.final_url));
        }
        let page = crate::fetch::FetchedPage {
            final_url: rendered.final_url,
            status: rendered.status.unwrap_or(200),
            // The browser serializes its DOM as UTF-8, whatever the page declared.
            content_type: Some("text/html; charset=utf-8".into()),
            body: rendered.html.into_bytes(),
            validators: Validators::default(),
        };
        refuse_walls(&page, &part.url, true)?;
        pages.push(page);
    }
    finish(fetchers, pages, job, "browser").await
}

/// Renders a page in the run's browser, launching it on first need.
async fn render_page(fetchers: &Fetchers, url: &Url, wait_for: Vec<String>) -> Result<RenderedPage, Failure> {
    // Launching blocks once, for a moment; block_in_place keeps the other tasks running.
    let browser = tokio::task::block_in_place(|| fetchers.browser.get())?;
    let target = url.clone();
    fetchers
        .gates
        .pass(
            url,
            tokio::task::spawn_blocking(move || browser.render(&target, &wait_for)),
        )
        .await
        .map_err(|e| Failure::new(FailureKind::Browser, format!("the browser task failed: {e}")))?
}

/// A challenge or error page, or the home page a declared URL was redirected to, is
/// never the document. A page the browser already ran cannot be a script shell waiting
/// to run, so `rendered` skips that verdict.
fn refuse_walls(page: &crate::fetch::FetchedPage, requested: &Url, rendered: bool) -> Result<(), Failure> {
    if let Some(failure) = crate::fetch::redirected_home(requested, &page.final_url) {
        return Err(failure);
    }
    if decode::body_kind(page.content_type.as_deref(), &page.body) == BodyKind::Html {
        let html = decode::decode(&page.body, page.content_type.as_deref(), BodyKind::Html);
        match wall::inspect(&html) {
            Some(wall::Verdict::NeedsScripts) if rendered => {}
            Some(verdict) => return Err(verdict.into_failure(page.final_url.as_str())),
            None => {}
        }
    }
    Ok(())
}

/// Snapshot and canonical text of a document's fetched pages.
async fn finish(
    fetchers: &Fetchers,
    pages: Vec<crate::fetch::FetchedPage>,
    job: &Job,
    fetcher: &'static str,
) -> Result<Extracted, Failure> {
    let (snapshot, ext) = snapshot_of(&pages);
    let validators = match pages.as_slice() {
        [page] => page.validators.clone(),
        _ => Validators::default(),
    };
    let redirects: Vec<Redirect> = pages
        .iter()
        .zip(&job.document.parts)
        .enumerate()
        .filter_map(|(i, (page, part))| Redirect::of(i, pages.len(), &part.url, &page.final_url))
        .collect();
    if job.previous_snapshot == Some(crate::archive::blob_id(&snapshot)) {
        return Ok(Extracted::SameSnapshot);
    }
    // Canonicalization is CPU work: keep it off the threads that drive the network.
    let parts = job.document.parts.clone();
    let busy = Arc::clone(&fetchers.busy);
    let taxonomy = job.previous_snapshot.is_none().then(|| Arc::clone(&fetchers.taxonomy));
    let _cpu = fetchers
        .cpus
        .acquire()
        .await
        .map_err(|e| Failure::new(FailureKind::Empty, format!("canonicalization failed: {e}")))?;
    let (text, first_provisions) = tokio::task::spawn_blocking(move || -> Result<_, Failure> {
        let canonicalizing = Instant::now();
        let texts: Result<Vec<String>, Failure> = pages
            .iter()
            .zip(&parts)
            .map(|(page, part)| {
                let selection = Selection::new(&part.select, &part.remove)?;
                canon::canonicalize(&page.body, page.content_type.as_deref(), &selection)
            })
            .collect();
        BusyTime::add(&busy.canonicalize_ns, canonicalizing);
        let text = canon::join_parts(&texts?);
        let first_provisions = taxonomy.map(|taxonomy| first_provisions(&text, &taxonomy));
        Ok((text, first_provisions))
    })
    .await
    .map_err(|e| Failure::new(FailureKind::Empty, format!("canonicalization failed: {e}")))??;
    Ok(Extracted::New {
        text,
        snapshot,
        ext,
        fetcher,
        first_provisions,
        validators,
        redirects,
    })
}

/// The snapshot of a document and its extension (see [`snapshot::join`]).
fn snapshot_of(pages: &[crate::fetch::FetchedPage]) -> (Vec<u8>, &'static str) {
    let ext = match pages {
        [page] => match decode::body_kind(page.content_type.as_deref(), &page.body) {
            BodyKind::Pdf => "pdf",
            BodyKind::PlainText => "txt",
            _ => "html",
        },
        _ => "html",
    };
    let parts: Vec<(&str, &[u8])> = pages
        .iter()
        .map(|p| (p.final_url.as_str(), p.body.as_slice()))
        .collect();
    (snapshot::join(&parts), ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(service: &str, url: &str, failure: Option<FailureKind>) -> DocumentOutcome {
        DocumentOutcome {
            service: service.into(),
            document: "terms".into(),
            url: url.into(),
            status: match failure {
                Some(category) => Status::Failed {
                    category,
                    message: format!("{url}: {category}"),
                },
                None => Status::Unchanged,
            },
            outage: false,
        }
    }

    #[test]
    fn outages_need_every_document_of_the_run_or_of_a_host() {
        use FailureKind::{Connection, Dns, NotFound, Timeout};
        // Mixed network categories, every document: a run outage.
        let mut run = vec![
            outcome("a", "https://a.example/t", Some(Dns)),
            outcome("b", "https://b.example:8443/t", Some(Timeout)),
            outcome("c", "https://c.example/t", Some(Dns)),
        ];
        let outage = find_outage(&mut run).unwrap();
        assert!(outage.is_run());
        assert_eq!(
            outage.message(),
            "no network? every document (3) failed before reaching a server (2 dns, 1 timeout): https://a.example/t: dns"
        );
        assert_eq!(outage.hosts[1].host, "b.example:8443");
        assert!(run.iter().all(|o| o.outage));

        // One document alone is not an outage, nor is a host whose failures differ.
        assert!(find_outage(&mut [outcome("a", "https://a.example/t", Some(Dns))]).is_none());
        let mut mixed = vec![
            outcome("a", "https://a.example/1", Some(Dns)),
            outcome("a", "https://a.example/2", Some(NotFound)),
            outcome("b", "https://b.example/t", None),
        ];
        assert!(find_outage(&mut mixed).is_none());

        let mut host = vec![
            outcome("a", "https://a.example/1", Some(Connection)),
            outcome("a", "https://a.example/2 https://z.example/2", Some(Connection)),
            outcome("b", "https://b.example/t", None),
            outcome("c", "https://c.example/t", Some(Connection)),
        ];
        let outage = find_outage(&mut host).unwrap();
        assert!(!outage.is_run());
        assert_eq!(
            outage.message(),
            "host a.example is out: all 2 of its documents failed with connection"
        );
        let marked: Vec<bool> = host.iter().map(|o| o.outage).collect();
        assert_eq!(marked, [true, true, false, false]);
    }
}

#[cfg(test)]
mod shrink_tests {
    use super::*;

    fn policy(n: std::ops::Range<usize>, prefix: &str) -> String {
        n.map(|i| format!("{prefix}Clause {i} says what we do with data number {i}.\n"))
            .collect()
    }

    #[test]
    fn a_copy_going_away_is_a_version_and_a_truncation_is_not() {
        let current = policy(0..40, "");
        let upcoming: String = policy(0..36, "") + &policy(100..104, "");
        let doubled = format!("# Upcoming\n{upcoming}# Current\n{current}");
        assert!(copy_went_away(&doubled, &current));
        assert_eq!(shrink_failure(&doubled, &current, "x/privacy-policy", false), None);

        let truncated = policy(0..15, "");
        assert!(!copy_went_away(&current, &truncated));
        let failure = shrink_failure(&current, &truncated, "x/privacy-policy", false).unwrap();
        assert!(
            failure.message.contains("--accept-shrink=x/privacy-policy"),
            "{}",
            failure.message
        );
        // Truncating the doubled page to its first part loses the second copy and more.
        let half_of_upcoming = format!("# Upcoming\n{}", policy(0..10, ""));
        assert!(!copy_went_away(&doubled, &half_of_upcoming));
        // An error page in place of the policy shares nothing with it.
        assert!(!copy_went_away(&doubled, "Something went wrong.\nTry again later.\n"));
        assert_eq!(shrink_failure(&current, &truncated, "x/privacy-policy", true), None);
    }

    #[test]
    fn acceptance_is_per_run_service_or_document() {
        let none = ShrinkAcceptance::from_values(&[]);
        assert!(!none.accepts("x", "privacy-policy"));
        let all = ShrinkAcceptance::from_values(&[String::new()]);
        assert!(all.accepts("x", "privacy-policy"));
        let one = ShrinkAcceptance::from_values(&["x/privacy-policy".into(), "acme".into()]);
        assert!(one.accepts("x", "privacy-policy"));
        assert!(!one.accepts("x", "terms-of-service"));
        assert!(one.accepts("acme", "terms-of-service"));
        assert!(!one.accepts("acme2", "terms-of-service"));
    }
}
