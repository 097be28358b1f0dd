//! `clausewatch site`: the archive as a static website, for GitHub Pages or any folder.
//!
//! ```text
//! index.html                                   services and documents, each with its last change
//! feed.xml                                     Atom: the latest changes of every document
//! documents/<service>/<type>/index.html        current text with sentence ages, timeline, versions
//! documents/<service>/<type>/<commit12>.html   one version: its diff against the one before
//! documents/<service>/<type>/feed.xml          Atom: that document's changes
//! reports/index.html                           the period reports
//! reports/last-7-days.html, last-30-days.html  rolling reports, ending now
//! reports/<YYYY-MM>.html                       one per month of history
//! provisions/index.html                        the provision × platform matrix
//! provisions/<id>.html                         how every platform states one provision
//! ```
//!
//! Pages link to each other with relative URLs only and load nothing from elsewhere, so
//! the folder works from `file://` and under any path prefix. The output is a function of
//! the archive and the clock (`CLAUSEWATCH_NOW`): two runs write the same bytes.
//!
//! Each document's history is read once, oldest version first: every version is diffed
//! against the text it replaced and fed to one incremental blame, so the cost grows with
//! the number of versions, not with its square.

pub mod output;
mod pages;
mod text;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::archive::history::{DocumentFilter, VersionRecord};
use crate::archive::{Archive, ArchiveError};
use crate::declaration::{self, Service};
use crate::provision::Taxonomy;
use crate::report::blame::{BlameLine, Blamer};
use crate::report::model::{self, Change, Report};
use crate::report::provisions::{self, BlamedDocument};

pub use output::{MARKER, SiteWriter, WriteSummary};

/// Changes per Atom feed: the newest, as `clausewatch feed` gives by default.
const FEED_LIMIT: usize = 50;
/// Changes listed on the front page.
const RECENT_LIMIT: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(
        "{} has files that `clausewatch site` did not write (it has no {MARKER} file): \
         choose a new or empty folder, or pass --force to write into it anyway \
         (files clausewatch did not write are never removed)",
        dir.display()
    )]
    ForeignFolder { dir: PathBuf },
    #[error("{} is not a folder", path.display())]
    NotAFolder { path: PathBuf },
    #[error("{} is in the way: the site needs a plain file or folder there, and does not follow links", path.display())]
    InTheWay { path: PathBuf },
    #[error("cannot write {}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// A document of the site and what its pages say about it.
#[derive(Debug, Clone)]
pub struct DocumentEntry {
    pub service: String,
    pub document: String,
    /// `None` for a declared document with no recorded version yet.
    pub history: Option<DocumentHistory>,
}

/// What the front page shows of a recorded document.
#[derive(Debug, Clone)]
pub struct DocumentHistory {
    pub versions: usize,
    pub first_date: DateTime<Utc>,
    /// The newest version, whatever its kind.
    pub last: Change,
}

/// What a site run did.
#[derive(Debug, Clone, Copy)]
pub struct SiteSummary {
    pub documents: usize,
    pub versions: usize,
    pub files: WriteSummary,
}

/// Everything a site is made from.
pub struct SiteInput<'a> {
    pub archive: &'a Archive,
    /// The declared services: their names, and documents not recorded yet.
    pub services: &'a [Service],
    pub taxonomy: &'a Taxonomy,
    pub now: DateTime<Utc>,
}

/// Writes the whole site through `writer`, calling `progress(done, total)` as documents
/// are rendered.
pub fn build(
    input: &SiteInput,
    mut writer: SiteWriter,
    mut progress: impl FnMut(usize, usize),
) -> Result<SiteSummary, SiteError> {
    let SiteInput {
        archive,
        services,
        taxonomy,
        now,
    } = *input;
    let url_base = archive.commit_url_base();
    let names = ServiceNames::new(services);

    // One walk over the whole history, grouped by document, oldest version first.
    let mut histories: BTreeMap<(String, String), Vec<VersionRecord>> = BTreeMap::new();
    let mut skipped = 0;
    for record in archive.versions(&DocumentFilter::default(), None, None)? {
        let (service, document) = (&record.message.service, &record.message.document);
        // Slugs become file names: a commit that names anything else is not followed.
        if !declaration::is_slug(service) || !declaration::is_slug(document) {
            skipped += 1;
            continue;
        }
        histories
            .entry((service.clone(), document.clone()))
            .or_default()
            .push(record);
    }
    if skipped > 0 {
        tracing::warn!("{skipped} version commits name a service or document that is not a slug; left out");
    }

    let mut entries: BTreeMap<(String, String), DocumentEntry> = BTreeMap::new();
    for service in services {
        for document in &service.documents {
            entries.insert(
                (service.slug.clone(), document.doc_type.clone()),
                DocumentEntry {
                    service: service.slug.clone(),
                    document: document.doc_type.clone(),
                    history: None,
                },
            );
        }
    }

    let total = histories.len();
    let mut reported: Vec<Change> = Vec::new();
    let mut blamed: Vec<(String, String, Vec<BlameLine>)> = Vec::new();
    let mut version_count = 0;
    for (done, ((service, document), mut versions)) in histories.into_iter().enumerate() {
        versions.reverse();
        version_count += versions.len();
        let mut blamer = Blamer::default();
        let mut changes: Vec<Change> = Vec::with_capacity(versions.len());
        for version in &versions {
            let new = archive.blob_text(version.blob)?;
            let old = match version.previous_blob {
                Some(blob) => archive.blob_text(blob)?,
                None => String::new(),
            };
            changes.push(model::change_between(version, &old, &new, url_base.as_deref()));
            blamer.push(version, new);
        }
        let lines = blamer.lines(now);
        let page = pages::DocumentPage {
            service: &service,
            document: &document,
            names: &names,
            changes: &changes,
            text: blamer.text(),
            blame: &lines,
            taxonomy,
            now,
        };
        page.write(&mut writer)?;
        let feed_changes: Vec<&Change> = changes
            .iter()
            .rev()
            .filter(|c| c.change.is_reported())
            .take(FEED_LIMIT)
            .collect();
        writer.write(
            &format!("documents/{service}/{document}/feed.xml"),
            pages::feed(&format!("{service}/{document}"), now, &feed_changes).as_bytes(),
        )?;

        let history = DocumentHistory {
            versions: changes.len(),
            first_date: changes[0].date,
            last: changes[changes.len() - 1].clone(),
        };
        entries.insert(
            (service.clone(), document.clone()),
            DocumentEntry {
                service: service.clone(),
                document: document.clone(),
                history: Some(history),
            },
        );
        reported.extend(changes.into_iter().filter(|c| c.change.is_reported()));
        blamed.push((service, document, lines));
        progress(done + 1, total);
    }

    // Newest first everywhere below; changes of the same second by document, then by
    // commit id, so order never wavers and does not hang on the ids' chance.
    reported.sort_by(|a, b| {
        b.date
            .cmp(&a.date)
            .then_with(|| (&a.service, &a.document).cmp(&(&b.service, &b.document)))
            .then_with(|| a.commit.cmp(&b.commit))
    });
    let entries: Vec<DocumentEntry> = entries.into_values().collect();

    let recent: Vec<&Change> = reported.iter().take(RECENT_LIMIT).collect();
    writer.write(
        "index.html",
        pages::index(&entries, &names, &recent, version_count, now).as_bytes(),
    )?;
    let feed_changes: Vec<&Change> = reported.iter().take(FEED_LIMIT).collect();
    writer.write("feed.xml", pages::feed("all", now, &feed_changes).as_bytes())?;

    write_reports(&mut writer, &reported, now)?;

    let documents = BlamedDocument::all(&blamed);
    let ids: Vec<String> = taxonomy.provisions.iter().map(|p| p.id.clone()).collect();
    let comparisons = provisions::compare_blamed(taxonomy, &ids, now, &documents);
    let mut services_seen: Vec<String> = blamed.iter().map(|(s, _, _)| s.clone()).collect();
    services_seen.dedup();
    let matrix = provisions::matrix_of(&comparisons, services_seen, now);
    writer.write(
        "provisions/index.html",
        pages::matrix(&matrix, taxonomy, now).as_bytes(),
    )?;
    for comparison in &comparisons {
        writer.write(
            &format!("provisions/{}.html", comparison.provision),
            pages::comparison(comparison).as_bytes(),
        )?;
    }

    let files = writer.finish()?;
    Ok(SiteSummary {
        documents: total,
        versions: version_count,
        files,
    })
}

/// A period report's page.
pub struct Period {
    /// The file name under `reports/`, without `.html`.
    pub slug: String,
    pub label: String,
    pub report: Report,
}

/// The rolling reports (last 7 and 30 days) and one per calendar month from the month
/// of the first change to the month of `now`, newest first.
fn periods(reported: &[Change], now: DateTime<Utc>) -> Vec<Period> {
    let window = |since: DateTime<Utc>, until: DateTime<Utc>| {
        let changes = reported.iter().filter(|c| c.date >= since && c.date < until).cloned();
        Report::from_changes(changes, since, until, now)
    };
    let mut out = vec![
        Period {
            slug: "last-7-days".into(),
            label: "Last 7 days".into(),
            report: window(now - Duration::days(7), now),
        },
        Period {
            slug: "last-30-days".into(),
            label: "Last 30 days".into(),
            report: window(now - Duration::days(30), now),
        },
    ];
    let Some(oldest) = reported.iter().map(|c| c.date).min() else {
        return out;
    };
    let newest = reported.iter().map(|c| c.date).max().unwrap_or(now).max(now);
    let mut month = first_of_month(newest.date_naive());
    let stop = first_of_month(oldest.date_naive());
    // Bucket once, so each month's report costs its own changes only.
    let mut by_month: BTreeMap<NaiveDate, Vec<Change>> = BTreeMap::new();
    for change in reported {
        by_month
            .entry(first_of_month(change.date.date_naive()))
            .or_default()
            .push(change.clone());
    }
    while month >= stop {
        let next = month.checked_add_months(chrono::Months::new(1)).unwrap_or(month);
        let since = month.and_time(chrono::NaiveTime::MIN).and_utc();
        let until = next.and_time(chrono::NaiveTime::MIN).and_utc();
        out.push(Period {
            slug: month.format("%Y-%m").to_string(),
            label: month.format("%B %Y").to_string(),
            report: Report::from_changes(by_month.remove(&month).unwrap_or_default(), since, until, now),
        });
        let Some(previous) = month.checked_sub_months(chrono::Months::new(1)) else {
            break;
        };
        month = previous;
    }
    out
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn write_reports(writer: &mut SiteWriter, reported: &[Change], now: DateTime<Utc>) -> Result<(), SiteError> {
    let periods = periods(reported, now);
    for period in &periods {
        writer.write(
            &format!("reports/{}.html", period.slug),
            pages::report(&period.report).as_bytes(),
        )?;
    }
    writer.write("reports/index.html", pages::reports_index(&periods, now).as_bytes())
}

/// Display names: the declared ones, or a title made from the slug.
pub struct ServiceNames {
    names: BTreeMap<String, String>,
}

impl ServiceNames {
    fn new(services: &[Service]) -> ServiceNames {
        ServiceNames {
            names: services.iter().map(|s| (s.slug.clone(), s.name.clone())).collect(),
        }
    }

    pub fn service(&self, slug: &str) -> String {
        self.names
            .get(slug)
            .cloned()
            .unwrap_or_else(|| declaration::title_from_slug(slug))
    }

    /// `Acme Privacy Policy`.
    pub fn document(&self, service: &str, document: &str) -> String {
        format!("{} {}", self.service(service), declaration::title_from_slug(document))
    }
}
