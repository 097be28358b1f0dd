//! Rebuilding texts from the stored snapshots, after a canonicalizer change or a fix to a
//! declaration's selectors (docs/architecture.md#canonical-text). Each rebuilt text is one commit marked
//! `Change: reextract`, so reports and blame can tell rebuilds from real changes.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::history::{DocumentFilter, MAX_VERSION_TEXT_BYTES};
use crate::archive::{Archive, ArchiveError, ChangeKind, Identity, NewVersion, VersionMessage, snapshot};
use crate::canon::{self, CANONICALIZER_VERSION, Selection};
use crate::declaration::{Document, Service, title_from_slug};
use crate::failure::{Failure, FailureKind};
use crate::fetch::MAX_BODY_MB_CEILING;
use crate::provision::Taxonomy;
use crate::report::{diff_texts, summary};

/// What happened to one document.
#[derive(Debug, Clone, Serialize)]
pub struct ReextractOutcome {
    pub service: String,
    pub document: String,
    #[serde(flatten)]
    pub status: ReextractStatus,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ReextractStatus {
    Rebuilt { commit: String, summary: String },
    Unchanged,
    NoSnapshot,
    Failed { category: FailureKind, message: String },
}

/// Rebuilds every declared document of `services` that has a snapshot. `body_cap` is the
/// fetch body cap in force (`FetchOptions::max_body_bytes`): snapshot pages up to it,
/// or up to the default where it is lower, are read ([`snapshot_limit`]).
pub fn reextract(
    archive: &Archive,
    services: &[Service],
    identity: &Identity,
    now: DateTime<Utc>,
    taxonomy: &Taxonomy,
    body_cap: u64,
) -> Result<Vec<ReextractOutcome>, ArchiveError> {
    let mut outcomes = Vec::new();
    for service in services {
        for document in &service.documents {
            let status = rebuild(archive, service, document, identity, now, taxonomy, body_cap)?;
            outcomes.push(ReextractOutcome {
                service: service.slug.clone(),
                document: document.doc_type.clone(),
                status,
            });
        }
    }
    Ok(outcomes)
}

fn rebuild(
    archive: &Archive,
    service: &Service,
    document: &Document,
    identity: &Identity,
    now: DateTime<Utc>,
    taxonomy: &Taxonomy,
    body_cap: u64,
) -> Result<ReextractStatus, ArchiveError> {
    let doc_type = &document.doc_type;
    let limit = snapshot_limit(document.parts.len(), body_cap);
    let Some((bytes, ext)) = archive.head_snapshot(&service.slug, doc_type, limit)? else {
        return Ok(ReextractStatus::NoSnapshot);
    };
    let current = archive.current_text(&service.slug, doc_type)?.unwrap_or_default();
    let text = match canonicalize_snapshot(&bytes, &ext, document) {
        Ok(text) => text,
        Err(failure) => {
            return Ok(ReextractStatus::Failed {
                category: failure.kind,
                message: failure.message,
            });
        }
    };
    if text == current {
        return Ok(ReextractStatus::Unchanged);
    }
    // A rebuilt text is recorded like a fetched one: never an error or login page, nor
    // one wrapped in prose (the snapshot is the same, so no cut or redirect can differ).
    let source = format!("the snapshot of {}/{doc_type}", service.slug);
    let refused = match crate::fetch::wall::judge_text(&text, &bytes, &ext) {
        Some(verdict) => Some(verdict.into_failure(&source)),
        None if !current.is_empty() => crate::track::continuity::wrapped_wall(&current, &text, &bytes, &ext, &source),
        None => None,
    };
    if let Some(failure) = refused {
        return Ok(ReextractStatus::Failed {
            category: failure.kind,
            message: failure.message,
        });
    }
    // Provenance stays that of the version whose snapshot was rebuilt.
    let filter = DocumentFilter {
        service: Some(service.slug.clone()),
        doc_type: Some(doc_type.clone()),
    };
    let Some(last) = archive.versions(&filter, None, None)?.into_iter().next() else {
        return Ok(ReextractStatus::NoSnapshot);
    };
    // The rebuild is dated now (see below); like `track`, it is never appended before the
    // document's latest version, which would break the rule that dates name versions.
    if now < last.date {
        let secs = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        return Ok(ReextractStatus::Failed {
            category: FailureKind::ClockBehind,
            message: format!(
                "the re-extraction time ({}) would go before the latest recorded version ({}), and recorded \
                 history is never rewritten: this machine's clock seems to be behind; set it right and run again \
                 (the rebuilt text was not recorded)",
                secs(now),
                secs(last.date)
            ),
        });
    }
    let title = format!("{} {}", service.name, title_from_slug(doc_type));
    let diff = diff_texts(&current, &text);
    let counts = diff.counts;
    let untagged_language = crate::track::untagged_language(&text, taxonomy);
    let provisions = match untagged_language {
        Some(_) => Vec::new(),
        None => crate::report::provisions::ids_in_lines(crate::track::changed_lines(&diff), taxonomy),
    };
    let extra = crate::track::with_tagger(
        last.message.extra.clone(),
        &crate::track::provisions_tagger(&provisions, taxonomy),
    );
    let message = VersionMessage {
        subject: summary::subject(&title, ChangeKind::Reextract, &counts, CANONICALIZER_VERSION),
        change: ChangeKind::Reextract,
        reverts_to: None,
        provisions,
        extra,
        // A re-extraction changes how the text is cut, not what the document says.
        provisions_changed: Vec::new(),
        untagged_language,
        declared_date: crate::report::dates::declared_date(&text),
        canonicalizer: CANONICALIZER_VERSION,
        clausewatch_version: env!("CARGO_PKG_VERSION").to_string(),
        ..last.message
    };
    let version = NewVersion {
        service: service.slug.clone(),
        doc_type: doc_type.clone(),
        text_blob: archive.write_blob(text.as_bytes())?,
        snapshot_blob: archive.write_blob(&bytes)?,
        snapshot_ext: match ext.as_str() {
            "pdf" => "pdf",
            "txt" => "txt",
            "md" => "md",
            _ => "html",
        },
        message,
    };
    // The rebuild happens now, so that is its author date; Fetched-At keeps the
    // snapshot's own fetch time.
    let commit = archive.record_at(&version, identity, now, now)?;
    Ok(ReextractStatus::Rebuilt {
        commit: commit.to_string(),
        summary: version.message.subject,
    })
}

/// The most a document's stored snapshot may hold to be read: for each of its pages
/// (`parts`), the fetch body cap in force or its default ([`MAX_VERSION_TEXT_BYTES`]),
/// whichever is larger, so that what `track --max-body-mb` recorded reads back under the
/// same value; with room for the marker line that introduces each page of a combined
/// document. The cap is bounded by [`MAX_BODY_MB_CEILING`] (settings refuse more), here
/// too, since the archive's own settings can set it.
pub fn snapshot_limit(parts: usize, body_cap: u64) -> u64 {
    const MARKER_ROOM: u64 = 64 * 1024;
    let page = body_cap.clamp(MAX_VERSION_TEXT_BYTES, MAX_BODY_MB_CEILING << 20);
    (page + MARKER_ROOM).saturating_mul(parts.max(1) as u64)
}

/// The pages of a stored snapshot: a combined document's snapshot holds its parts one
/// after another.
fn pages_of<'a>(bytes: &'a [u8], document: &Document) -> Vec<&'a [u8]> {
    if document.parts.len() > 1 {
        snapshot::split(bytes)
    } else {
        vec![bytes]
    }
}

/// The canonical text of a stored snapshot under the document's current declaration.
pub fn canonicalize_snapshot(bytes: &[u8], ext: &str, document: &Document) -> Result<String, Failure> {
    let content_type = match ext {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        // An Open Terms Archive version imported by `import ota-versions`.
        "md" => "text/markdown",
        _ => "text/html",
    };
    let pages = pages_of(bytes, document);
    if pages.len() != document.parts.len() {
        return Err(Failure::new(
            FailureKind::Empty,
            format!(
                "the snapshot holds {} pages but the declaration now has {}; track the document again instead",
                pages.len(),
                document.parts.len()
            ),
        ));
    }
    let mut texts = Vec::with_capacity(pages.len());
    for (page, part) in pages.iter().zip(&document.parts) {
        let selection = Selection::new(&part.select, &part.remove)?;
        texts.push(canon::canonicalize(page, Some(content_type), &selection)?);
    }
    Ok(canon::join_parts(&texts))
}

/// How a document's latest snapshot reads under its current declaration: the offline
/// drift check of `check --snapshots`. Nothing is recorded.
#[derive(Debug, Clone, Serialize)]
pub struct DriftOutcome {
    pub service: String,
    pub document: String,
    #[serde(flatten)]
    pub drift: Drift,
    /// Selectors that match the stored page in a way the declaration likely did not mean.
    pub problems: Vec<crate::canon::regions::RegionProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Drift {
    /// The declaration still gives the recorded text.
    Same,
    /// The text would change: the lines only in the recorded text and only in the new one
    /// (at most [`DRIFT_LINES`] of each).
    Changed {
        removed: Vec<String>,
        added: Vec<String>,
    },
    /// The declaration no longer gives a text (no match, empty).
    Failed {
        category: FailureKind,
        message: String,
    },
    NoSnapshot,
}

/// How many differing lines a drift report quotes on each side.
pub const DRIFT_LINES: usize = 20;

/// Re-extracts the latest stored snapshot of every document of `services` with its
/// current declaration and compares the text with the recorded one (`body_cap` as for
/// [`reextract`]).
pub fn drift(archive: &Archive, services: &[Service], body_cap: u64) -> Result<Vec<DriftOutcome>, ArchiveError> {
    let mut outcomes = Vec::new();
    for service in services {
        for document in &service.documents {
            let doc_type = &document.doc_type;
            let mut problems = Vec::new();
            let drift =
                match archive.head_snapshot(&service.slug, doc_type, snapshot_limit(document.parts.len(), body_cap))? {
                    None => Drift::NoSnapshot,
                    Some((bytes, ext)) => {
                        if ext == "html" {
                            for (page, part) in pages_of(&bytes, document).iter().zip(&document.parts) {
                                let html = String::from_utf8_lossy(page);
                                problems.extend(crate::canon::regions::region_problems(&html, &part.select));
                            }
                        }
                        let current = archive.current_text(&service.slug, doc_type)?.unwrap_or_default();
                        match canonicalize_snapshot(&bytes, &ext, document) {
                            Err(failure) => Drift::Failed {
                                category: failure.kind,
                                message: failure.message,
                            },
                            Ok(text) if text == current => Drift::Same,
                            Ok(text) => {
                                let old: std::collections::HashSet<&str> = current.lines().collect();
                                let new: std::collections::HashSet<&str> = text.lines().collect();
                                let only = |lines: &str, other: &std::collections::HashSet<&str>| -> Vec<String> {
                                    lines
                                        .lines()
                                        .filter(|l| !l.trim().is_empty() && !other.contains(l))
                                        .take(DRIFT_LINES)
                                        .map(str::to_string)
                                        .collect()
                                };
                                Drift::Changed {
                                    removed: only(&current, &new),
                                    added: only(&text, &old),
                                }
                            }
                        }
                    }
                };
            outcomes.push(DriftOutcome {
                service: service.slug.clone(),
                document: doc_type.clone(),
                drift,
                problems,
            });
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(parts: usize) -> Document {
        let mut toml = String::from("name = \"Acme\"\n[[documents]]\ntype = \"terms\"\n");
        if parts == 1 {
            toml.push_str("url = \"https://acme.example/terms\"\n");
        } else {
            let urls: Vec<String> = (0..parts)
                .map(|i| format!("{{ url = \"https://acme.example/{i}\" }}"))
                .collect();
            toml.push_str(&format!("combine = [{}]\n", urls.join(", ")));
        }
        crate::declaration::parse("acme", &toml).unwrap().documents.remove(0)
    }

    #[test]
    fn the_snapshot_limit_follows_the_body_cap_within_its_bounds() {
        const MIB: u64 = 1 << 20;
        let room = 64 * 1024;
        let one = document(1).parts.len();
        // Never under the default, whatever the cap.
        assert_eq!(snapshot_limit(one, MIB), 20 * MIB + room);
        assert_eq!(snapshot_limit(one, 20 * MIB), 20 * MIB + room);
        // A larger cap is followed, up to the ceiling and no further.
        assert_eq!(snapshot_limit(one, 30 * MIB), 30 * MIB + room);
        assert_eq!(snapshot_limit(one, 64 * MIB), 64 * MIB + room);
        assert_eq!(snapshot_limit(one, u64::MAX), 64 * MIB + room);
        // Per page of a combined document.
        assert_eq!(snapshot_limit(document(3).parts.len(), 30 * MIB), 3 * (30 * MIB + room));
    }
}
