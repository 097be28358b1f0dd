//! Replaying an Open Terms Archive repository's history of one service.
//!
//! OTA keeps its versions and snapshots in git repositories laid out as
//! `<Service>/<Terms Type>.md` (versions: its extracted Markdown) and
//! `<Service>/<Terms Type>.html` or `.pdf` (snapshots: the fetched page), one commit per
//! new version or snapshot, dated at the fetch. `ota-versions` turns each version's
//! Markdown into our canonical text; `ota-snapshots` runs each snapshot through our own
//! canonicalizer with our declaration of the document. Commits whose subject says
//! "Refilter" or "Apply technical or declaration upgrade" re-extracted an unchanged page
//! upstream and are recorded as `reextract`.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use git2::{Oid, Repository, Sort};

use super::{DocumentReplay, DocumentTally, Entry, EntryOutcome, ImportOptions};
use crate::archive::history::MAX_VERSION_TEXT_BYTES;
use crate::archive::{Archive, ArchiveError};
use crate::declaration::ota::{slugify, type_slug};
use crate::declaration::{Service, is_slug};
use crate::failure::{Failure, FailureKind};

/// Which kind of OTA repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtaKind {
    Versions,
    Snapshots,
}

impl OtaKind {
    pub fn source(self) -> &'static str {
        match self {
            OtaKind::Versions => "ota-versions",
            OtaKind::Snapshots => "ota-snapshots",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OtaError {
    #[error(
        "{path} is not a git repository ({message}); pass a clone of an Open Terms Archive versions or snapshots repository"
    )]
    NotARepository { path: String, message: String },
    #[error(
        "{repository} has no folder for service {name:?} at its HEAD (OTA folders are named after the service, e.g. \"TikTok\"; {hint})"
    )]
    NoService {
        repository: String,
        name: String,
        hint: String,
    },
    #[error("{0}")]
    Usage(String),
    #[error("reading {repository}")]
    Git { repository: String, source: git2::Error },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// What to import.
#[derive(Debug, Clone)]
pub struct OtaRequest<'a> {
    pub kind: OtaKind,
    pub repository: &'a Path,
    /// The OTA service folder name ("TikTok"), or its slug.
    pub service: &'a str,
    /// Our slug for it [default: the folder name, slugified].
    pub slug: Option<&'a str>,
    /// Only these document types (our slugs); all when empty.
    pub documents: &'a [String],
}

/// One file version in the OTA history, not yet read.
#[derive(Debug, Clone)]
struct Planned {
    date: DateTime<Utc>,
    order: usize,
    commit: Oid,
    subject: String,
    doc_type: String,
    path: String,
    ext: String,
    blob: Oid,
}

/// What an OTA import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OtaReport {
    pub service: String,
    pub folder: String,
    pub documents: Vec<DocumentTally>,
    /// Files of the folder that were not imported, with why.
    pub ignored: Vec<String>,
}

impl OtaReport {
    pub fn refused(&self) -> usize {
        self.documents.iter().filter(|d| d.refused.is_some()).count()
    }
}

/// Whether an OTA commit re-extracted an unchanged page rather than recording a change.
pub fn is_reextraction(subject: &str) -> bool {
    let lower = subject.to_ascii_lowercase();
    lower.starts_with("refilter") || lower.contains("technical upgrade") || lower.contains("declaration upgrade")
}

/// Finds the service's folder: its exact name, or a folder whose name slugifies to it.
fn service_folder(repo: &Repository, shown: &str, name: &str) -> Result<String, OtaError> {
    let git = |source| OtaError::Git {
        repository: shown.to_string(),
        source,
    };
    let tree = repo.head().and_then(|h| h.peel_to_tree()).map_err(git)?;
    let folders: Vec<String> = tree
        .iter()
        .filter(|e| e.kind() == Some(git2::ObjectType::Tree))
        .filter_map(|e| e.name().ok().map(str::to_string))
        .collect();
    if let Some(exact) = folders.iter().find(|f| *f == name) {
        return Ok(exact.clone());
    }
    let wanted = slugify(name);
    let matching: Vec<&String> = folders.iter().filter(|f| slugify(f) == wanted).collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let similar: Vec<&str> = folders
                .iter()
                .filter(|f| {
                    let slug = slugify(f);
                    !wanted.is_empty() && (slug.contains(&wanted) || wanted.contains(&slug))
                })
                .map(String::as_str)
                .take(8)
                .collect();
            Err(OtaError::NoService {
                repository: shown.to_string(),
                name: name.to_string(),
                hint: if similar.is_empty() {
                    format!("it has {} service folders", folders.len())
                } else {
                    format!("similar: {}", similar.join(", "))
                },
            })
        }
        many => Err(OtaError::Usage(format!(
            "{name:?} matches several folders of {shown} ({}); give the exact folder name",
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Every change to a file of the folder, in history order.
fn plan(repo: &Repository, shown: &str, folder: &str, kind: OtaKind) -> Result<(Vec<Planned>, Vec<String>), OtaError> {
    let git = |source| OtaError::Git {
        repository: shown.to_string(),
        source,
    };
    let mut walk = repo.revwalk().map_err(git)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE).map_err(git)?;
    walk.push_head().map_err(git)?;
    let mut planned = Vec::new();
    let mut ignored: BTreeMap<String, String> = BTreeMap::new();
    let mut previous: BTreeMap<String, Oid> = BTreeMap::new();
    for (order, oid) in walk.enumerate() {
        let commit = repo.find_commit(oid.map_err(git)?).map_err(git)?;
        let tree = commit.tree().map_err(git)?;
        let Ok(entry) = tree.get_path(Path::new(folder)) else {
            continue;
        };
        let Ok(files) = repo.find_tree(entry.id()) else {
            continue;
        };
        let date = DateTime::from_timestamp(commit.author().when().seconds(), 0).unwrap_or_default();
        let subject = commit.summary().ok().flatten().unwrap_or_default().to_string();
        for file in files.iter() {
            let Ok(name) = file.name() else { continue };
            if file.kind() != Some(git2::ObjectType::Blob) {
                continue;
            }
            if previous.get(name) == Some(&file.id()) {
                continue;
            }
            previous.insert(name.to_string(), file.id());
            let Some((stem, ext)) = name.rsplit_once('.') else {
                ignored.insert(name.to_string(), "no file extension".into());
                continue;
            };
            let ext = ext.to_ascii_lowercase();
            let wanted = match kind {
                OtaKind::Versions => ext == "md",
                OtaKind::Snapshots => matches!(ext.as_str(), "html" | "htm" | "pdf"),
            };
            if !wanted {
                ignored.insert(
                    name.to_string(),
                    format!(
                        "not a {} file",
                        match kind {
                            OtaKind::Versions => "version (.md)",
                            OtaKind::Snapshots => "snapshot (.html, .pdf)",
                        }
                    ),
                );
                continue;
            }
            if stem.contains(" #") {
                ignored.insert(
                    name.to_string(),
                    "one page of a document combined from several; combined documents are not replayed".into(),
                );
                continue;
            }
            let doc_type = type_slug(stem);
            if !is_slug(&doc_type) {
                ignored.insert(name.to_string(), "its name makes no document type slug".into());
                continue;
            }
            planned.push(Planned {
                date,
                order,
                commit: commit.id(),
                subject: subject.clone(),
                doc_type,
                path: format!("{folder}/{name}"),
                ext,
                blob: file.id(),
            });
        }
    }
    // Oldest first by date; history order among equal dates.
    planned.sort_by(|a, b| a.date.cmp(&b.date).then(a.order.cmp(&b.order)));
    Ok((
        planned,
        ignored
            .into_iter()
            .map(|(name, why)| format!("{folder}/{name}: {why}"))
            .collect(),
    ))
}

/// Replays the service's history into the archive. `services` are the archive's
/// declarations (required for snapshots, used for names and URLs otherwise);
/// `progress` is told (done, total) as candidates are processed.
pub fn import(
    archive: &Archive,
    services: &[Service],
    request: &OtaRequest<'_>,
    options: &ImportOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<OtaReport, OtaError> {
    let shown = request.repository.display().to_string();
    let repo = Repository::open(request.repository).map_err(|e| OtaError::NotARepository {
        path: shown.clone(),
        message: e.message().to_string(),
    })?;
    let folder = service_folder(&repo, &shown, request.service)?;
    let slug = match request.slug {
        Some(slug) => slug.to_string(),
        None => slugify(&folder),
    };
    if !is_slug(&slug) {
        return Err(OtaError::Usage(format!(
            "{folder:?} makes no service slug ({slug:?}); name one with --as SLUG"
        )));
    }
    let declared = services.iter().find(|s| s.slug == slug);
    if request.kind == OtaKind::Snapshots && declared.is_none() {
        return Err(OtaError::Usage(format!(
            "import ota-snapshots runs each snapshot through our declaration of the document, and services/{slug}.toml does not exist; \
             convert OTA's declaration first (`clausewatch import ota-declarations DECLARATION.json`), or write one"
        )));
    }
    let service_name = declared.map_or_else(|| folder.clone(), |s| s.name.clone());
    let repository_label = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(str::to_string))
        .unwrap_or_else(|| {
            request
                .repository
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| shown.clone())
        });

    let (planned, mut ignored) = plan(&repo, &shown, &folder, request.kind)?;
    for wanted in request.documents {
        if !planned.iter().any(|p| &p.doc_type == wanted) {
            let found: std::collections::BTreeSet<&str> = planned.iter().map(|p| p.doc_type.as_str()).collect();
            return Err(OtaError::Usage(format!(
                "{folder} in {shown} has no document of type {wanted:?} (it has: {})",
                found.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let planned: Vec<Planned> = planned
        .into_iter()
        .filter(|p| request.documents.is_empty() || request.documents.contains(&p.doc_type))
        .filter(|p| {
            if request.kind == OtaKind::Snapshots && declared.and_then(|s| s.document(&p.doc_type)).is_none() {
                ignored.push(format!(
                    "{}: services/{slug}.toml declares no {:?} document to canonicalize it with",
                    p.path, p.doc_type
                ));
                false
            } else {
                true
            }
        })
        .collect();
    ignored.sort();
    ignored.dedup();

    let _lock = archive.lock()?;
    let mut replays: BTreeMap<String, (DocumentReplay<'_>, DocumentTally)> = BTreeMap::new();
    let total = planned.len();
    for (done, p) in planned.iter().enumerate() {
        progress(done, total);
        if !replays.contains_key(&p.doc_type) {
            let replay = DocumentReplay::new(archive, options, &slug, &service_name, &p.doc_type)?;
            replays.insert(p.doc_type.clone(), (replay, DocumentTally::new(&slug, &p.doc_type)));
        }
        let (replay, tally) = replays.get_mut(&p.doc_type).expect("inserted above");
        if tally.refused.is_some() {
            continue;
        }
        let label = format!("OTA commit {} ({})", &p.commit.to_string()[..12], p.subject);
        let git = |source| OtaError::Git {
            repository: shown.clone(),
            source,
        };
        // Its size first: an upstream repository can hold a huge, well-compressed blob,
        // which is skipped, like a fetch over the body cap, without being loaded.
        let (size, _) = repo.odb().and_then(|odb| odb.read_header(p.blob)).map_err(git)?;
        if size as u64 > MAX_VERSION_TEXT_BYTES {
            // Worded as the archive's own readers refuse such a blob.
            let refusal = ArchiveError::TooLarge {
                path: p.path.clone(),
                size: size as u64,
                limit: MAX_VERSION_TEXT_BYTES,
            };
            let failure = Failure::new(FailureKind::TooLarge, refusal.to_string());
            tally.count(&label, &EntryOutcome::Skipped(failure));
            continue;
        }
        let bytes = repo.find_blob(p.blob).map_err(git)?.content().to_vec();
        let document = declared.and_then(|s| s.document(&p.doc_type));
        let urls: Vec<String> = document
            .map(|d| d.parts.iter().map(|part| part.url.to_string()).collect())
            .unwrap_or_default();
        let extracted: Result<(String, &'static str), Failure> = match request.kind {
            OtaKind::Versions => {
                crate::canon::canonicalize(&bytes, Some("text/markdown"), &Default::default()).map(|text| (text, "md"))
            }
            OtaKind::Snapshots => {
                let content_type = if p.ext == "pdf" { "application/pdf" } else { "text/html" };
                let document = document.expect("undeclared documents were filtered out");
                super::extract(&bytes, Some(content_type), document, &p.path)
            }
        };
        let outcome = match extracted {
            Err(failure) => EntryOutcome::Skipped(failure),
            Ok((text, snapshot_ext)) => {
                let entry = Entry {
                    date: p.date,
                    text,
                    snapshot: bytes,
                    snapshot_ext,
                    urls,
                    fetcher: "ota".into(),
                    source: request.kind.source().into(),
                    extra: vec![
                        ("OTA-Repository".into(), repository_label.clone()),
                        ("OTA-Commit".into(), p.commit.to_string()),
                    ],
                    reextract: is_reextraction(&p.subject),
                    label: label.clone(),
                };
                match replay.offer(entry)? {
                    Ok(outcome) => outcome,
                    Err(conflict) => {
                        tally.refused = Some(conflict.to_string());
                        continue;
                    }
                }
            }
        };
        tally.count(&label, &outcome);
    }
    progress(total, total);
    Ok(OtaReport {
        service: slug,
        folder,
        documents: replays.into_values().map(|(_, tally)| tally).collect(),
        ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reextractions_are_told_from_changes() {
        assert!(is_reextraction("Refilter TikTok Privacy Policy"));
        assert!(is_reextraction(
            "Apply technical or declaration upgrade on TikTok Terms of Service"
        ));
        assert!(!is_reextraction("Record new changes of TikTok Terms of Service"));
        assert!(!is_reextraction("Update TikTok Privacy Policy"));
        assert!(!is_reextraction("Start tracking TikTok Privacy Policy"));
    }
}
