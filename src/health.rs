//! Declaration health (`check --fetch`, docs/declarations.md#declaration-health): is each
//! declaration still cutting its document out of the live page?
//!
//! A document is fetched twice ([`track::check_stability`]); it is unhealthy when a fetch
//! fails, when the two texts differ (the declaration takes in something that moves), or
//! when `track` would refuse the text: alone (an error page, [`track::not_the_document`])
//! or against the recorded version ([`track::refusal_against`]: a shrink, the selector
//! now holding a fragment of what it held; another page behind a redirect; an error page
//! wrapped in prose; a transfer cut short). For an unhealthy document with a recorded text,
//! its page is fetched once more and searched for the selector whose text is nearest the
//! recorded one ([`canon::suggest`]): the suggested fix.
//!
//! A network outage (see [`track::Outage`]) says nothing of the declarations: its
//! documents are marked, and nothing is judged of them.

use serde::Serialize;
use url::Url;

use crate::archive::{Archive, ArchiveError};
use crate::canon::suggest::{self, SelectorSearch, Suggestion};
use crate::declaration::{Document, FetcherKind, Service};
use crate::failure::FailureKind;
use crate::fetch::HttpFetcher;
use crate::fetch::decode::{self, BodyKind};
use crate::track::continuity::Arrival;
use crate::track::{self, DocumentOutcome, FetchedText, Outage, Stability, StabilityOutcome, TrackOptions};

/// The health of every document of a run, in (service, type) order.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    pub documents: Vec<DocumentHealth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage: Option<Outage>,
}

/// One document's health.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentHealth {
    pub service: String,
    pub document: String,
    pub urls: Vec<String>,
    #[serde(flatten)]
    pub status: Health,
    /// For an unhealthy document: the selector to declare instead, or why there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// The document failed as part of a network outage: nothing is said of it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub outage: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Health {
    /// Both fetches gave the same text, and the recorded version would accept it.
    Stable,
    /// The two fetches gave different texts: the lines only the first and only the
    /// second had.
    Unstable {
        first_only: Vec<String>,
        second_only: Vec<String>,
    },
    /// A fetch failed, or the declaration extracted nothing.
    Failed { category: FailureKind, message: String },
    /// The text is steady but `track` would refuse it against the recorded version:
    /// the lines only the recorded text and only the fetched text have.
    Drifted {
        category: FailureKind,
        message: String,
        recorded_only: Vec<String>,
        fetched_only: Vec<String>,
    },
}

impl Health {
    pub fn is_healthy(&self) -> bool {
        matches!(self, Health::Stable)
    }

    /// A failure that may pass on its own (a timeout, a 503): it says nothing yet of the
    /// declaration, so an issue is neither opened nor closed for it. A drifted text never
    /// is, whatever its category: two fetches gave that same text, so `track` will go on
    /// refusing it. A `truncated` transfer is transient to `track` (the next run may get
    /// the whole page), but one that repeats here is a document stuck until someone looks.
    pub fn is_transient(&self) -> bool {
        matches!(self, Health::Failed { category, .. } if category.is_transient())
    }

    /// The failure's category (`failed` and `drifted`).
    pub fn category(&self) -> Option<FailureKind> {
        match self {
            Health::Failed { category, .. } | Health::Drifted { category, .. } => Some(*category),
            Health::Stable | Health::Unstable { .. } => None,
        }
    }

    /// `stable`, `unstable`, `failed` or `drifted`.
    pub fn name(&self) -> &'static str {
        match self {
            Health::Stable => "stable",
            Health::Unstable { .. } => "unstable",
            Health::Failed { .. } => "failed",
            Health::Drifted { .. } => "drifted",
        }
    }
}

/// The suggested fix of an unhealthy declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Fix {
    /// Declare this selector in place of the part's `select`.
    Selector {
        #[serde(flatten)]
        suggestion: Suggestion,
        /// How well the current declaration does on the same page (`None`: it
        /// extracts nothing).
        #[serde(skip_serializing_if = "Option::is_none")]
        current_f1: Option<f64>,
    },
    /// Why no selector is suggested.
    NoSuggestion { reason: String },
}

/// Judges the declarations of `services` (already filtered) against their live pages
/// and the archive's recorded versions.
pub fn check(archive: &Archive, services: &[Service], options: &TrackOptions) -> Result<HealthReport, ArchiveError> {
    let stability = track::check_stability(services, options)?;
    // The outage rules of `track`, on the first fetch's failures.
    let mut as_tracked: Vec<DocumentOutcome> = stability
        .iter()
        .map(|o| DocumentOutcome {
            service: o.service.clone(),
            document: o.document.clone(),
            url: declared(services, o).map(urls_of).unwrap_or_default().join(" "),
            status: match &o.status {
                Stability::Failed { category, message } => track::Status::Failed {
                    category: *category,
                    message: message.clone(),
                },
                _ => track::Status::Unchanged,
            },
            outage: false,
        })
        .collect();
    let outage = track::find_outage(&mut as_tracked);

    let mut documents = Vec::with_capacity(stability.len());
    for (outcome, tracked) in stability.into_iter().zip(as_tracked) {
        let document = declared(services, &outcome);
        let urls = document.map(urls_of).unwrap_or_default();
        if tracked.outage {
            documents.push(DocumentHealth {
                service: outcome.service,
                document: outcome.document,
                urls,
                status: health_of(outcome.status),
                fix: None,
                outage: true,
            });
            continue;
        }
        let recorded = archive.current_text(&outcome.service, &outcome.document)?;
        let status = match (outcome.status, &outcome.fetched) {
            (Stability::Stable, Some(fetched)) => judge_steady(
                archive,
                &outcome.service,
                &outcome.document,
                &urls,
                fetched,
                recorded.as_deref(),
                options,
            )?,
            (status, _) => health_of(status),
        };
        let no = |reason: &str| Fix::NoSuggestion { reason: reason.into() };
        let fix = if status.is_healthy() || status.is_transient() {
            None
        } else if let Some(reason) = status.category().and_then(beyond_a_selector) {
            Some(no(reason))
        } else {
            Some(match (document, &recorded) {
                (Some(document), Some(old)) => suggest_fix(document, old, options),
                (_, None) => no("no version is recorded yet to compare the page with"),
                (None, _) => no("the document is not declared"),
            })
        };
        documents.push(DocumentHealth {
            service: outcome.service,
            document: outcome.document,
            urls,
            status,
            fix,
            outage: false,
        });
    }
    Ok(HealthReport { documents, outage })
}

/// The health of a document whose two fetches gave the same text, judged as `track`
/// would judge that text: a page that is not the document fails, as its fetch would
/// have; a text `track` would refuse against the recorded version has drifted.
fn judge_steady(
    archive: &Archive,
    service: &str,
    doc_type: &str,
    urls: &[String],
    fetched: &FetchedText,
    recorded: Option<&str>,
    options: &TrackOptions,
) -> Result<Health, ArchiveError> {
    let source = urls.join(" ");
    if let Some(failure) = track::not_the_document(&fetched.text, &fetched.snapshot, fetched.snapshot_ext, &source) {
        return Ok(Health::Failed {
            category: failure.kind,
            message: failure.message,
        });
    }
    let Some(old) = recorded.filter(|old| *old != fetched.text) else {
        return Ok(Health::Stable);
    };
    let document = format!("{service}/{doc_type}");
    let arrival = Arrival {
        text: &fetched.text,
        snapshot: &fetched.snapshot,
        snapshot_ext: fetched.snapshot_ext,
        redirects: &fetched.redirects,
        accept_shrink: options.accept_shrink.accepts(service, doc_type),
        document: &document,
        source: &source,
    };
    let parts = urls.len().max(1);
    Ok(
        match track::refusal_against(archive, service, doc_type, parts, &arrival, old)? {
            Some(failure) => {
                let (recorded_only, fetched_only) = track::differing_lines(old, &fetched.text);
                Health::Drifted {
                    category: failure.kind,
                    message: failure.message,
                    recorded_only,
                    fetched_only,
                }
            }
            None => Health::Stable,
        },
    )
}

fn declared<'a>(services: &'a [Service], outcome: &StabilityOutcome) -> Option<&'a Document> {
    services
        .iter()
        .find(|s| s.slug == outcome.service)
        .and_then(|s| s.document(&outcome.document))
}

fn urls_of(document: &Document) -> Vec<String> {
    document.parts.iter().map(|p| p.url.to_string()).collect()
}

fn health_of(status: Stability) -> Health {
    match status {
        Stability::Stable => Health::Stable,
        Stability::Unstable {
            first_only,
            second_only,
        } => Health::Unstable {
            first_only,
            second_only,
        },
        Stability::Failed { category, message } => Health::Failed { category, message },
    }
}

/// Why a different selector cannot mend a failure of this category, or `None` when it
/// may (the selector matches nothing, or a fragment of what it held).
fn beyond_a_selector(category: FailureKind) -> Option<&'static str> {
    match category {
        FailureKind::SelectorNoMatch | FailureKind::Empty | FailureKind::Shrunk => None,
        FailureKind::Redirect => Some(
            "the declared URL does not lead to the document (a redirect to another page, or one that goes \
             nowhere); a selector cannot mend that: if the document moved, declare its new URL",
        ),
        FailureKind::Truncated => Some("the page arrived cut short; a selector cannot mend that"),
        _ => Some("the page itself could not be fetched; a selector cannot mend that"),
    }
}

/// Fetches the page of a single-page document over HTTP and searches it for the
/// selector nearest the recorded text.
fn suggest_fix(document: &Document, recorded: &str, options: &TrackOptions) -> Fix {
    let no = |reason: &str| Fix::NoSuggestion { reason: reason.into() };
    let [part] = document.parts.as_slice() else {
        return no("the document is made of several pages");
    };
    if document.fetcher == FetcherKind::Browser {
        return no("the page is rendered in a browser, and suggestions are searched in the HTTP page only");
    }
    let page = match fetch_html(&part.url, options) {
        Ok(page) => page,
        Err(reason) => return Fix::NoSuggestion { reason },
    };
    match suggest::nearest_selector(&page, &part.select, &part.remove, recorded) {
        Ok(SelectorSearch {
            suggestion: Some(suggestion),
            current,
        }) => Fix::Selector {
            suggestion,
            current_f1: current.map(|c| c.f1()),
        },
        Ok(SelectorSearch { suggestion: None, .. }) => {
            no("no element named by an id, a class or a landmark holds the recorded text better than the declaration")
        }
        Err(failure) => Fix::NoSuggestion {
            reason: format!("the page could not be parsed: {failure}"),
        },
    }
}

/// The page at `url` as HTML text, or why not.
fn fetch_html(url: &Url, options: &TrackOptions) -> Result<String, String> {
    let fetcher = HttpFetcher::new(options.fetch.clone()).map_err(|f| f.message)?;
    // Documents are searched one after another: the host's rest between two requests
    // is kept by waiting it out before each.
    std::thread::sleep(options.host_delay);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let page = runtime
        .block_on(fetcher.fetch(url))
        .map_err(|f| format!("the page could not be fetched again: {f}"))?;
    match decode::body_kind(page.content_type.as_deref(), &page.body) {
        BodyKind::Html => Ok(decode::decode(&page.body, page.content_type.as_deref(), BodyKind::Html)),
        _ => Err("the page is not HTML: selectors do not apply to it".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_lines_keep_each_texts_order() {
        let (a, b) = track::differing_lines("one\ntwo\n\nthree\n", "three\nfour\none\n");
        assert_eq!(a, ["two"]);
        assert_eq!(b, ["four"]);
    }

    #[test]
    fn only_extraction_failures_get_a_selector_search() {
        assert_eq!(beyond_a_selector(FailureKind::SelectorNoMatch), None);
        assert_eq!(beyond_a_selector(FailureKind::Empty), None);
        assert_eq!(beyond_a_selector(FailureKind::Shrunk), None);
        for category in [
            FailureKind::NotFound,
            FailureKind::BotWall,
            FailureKind::Redirect,
            FailureKind::Truncated,
        ] {
            assert!(beyond_a_selector(category).is_some(), "{category}");
        }
    }
}
