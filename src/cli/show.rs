//! `show REF`: one version's text with its provenance, for citing.

use std::io;
use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clap::Args;
use serde::Serialize;

use super::{CliError, DocumentSpec, usage, write_json};
use crate::archive::reference::{Reference, ReferenceError};
use crate::archive::{Archive, ArchiveError, ChangeKind};
use crate::printable::Terminal;

pub const SHOW_HELP: &str = "\
References:
  SERVICE/TYPE@YYYY-MM-DD   the version in force at the end of that day (UTC): the last
                            version whose fetch or capture time is on or before 23:59:59
  SERVICE/TYPE@TIME         the last version at or before an RFC 3339 time
  SERVICE/TYPE@COMMIT       the version whose commit id starts with these hex digits (4+)
  SERVICE/TYPE@latest       the latest version

Versions are only ever appended, after the latest one, so a date whose day is over
keeps naming the same version: it is safe to cite. When two versions share a day,
`show` suggests the commit form instead (\"Cite as\").

Examples:
  clausewatch show tiktok/privacy-policy@2026-03-01
  clausewatch show tiktok/privacy-policy@9f2c41a0
  clausewatch show tiktok/privacy-policy@latest --json
  clausewatch show openai/terms-of-use@2025-01-01 --no-text";

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// SERVICE/TYPE@DATE, SERVICE/TYPE@COMMIT or SERVICE/TYPE@latest.
    #[arg(value_name = "REF", value_parser = parse_reference)]
    pub reference: Reference,
    /// Print JSON (the text included).
    #[arg(long)]
    pub json: bool,
    /// Print the provenance only.
    #[arg(long)]
    pub no_text: bool,
}

/// The most `show` reads of a snapshot to check its SHA-256: four pages at the largest
/// body cap; no real document's pages come near it.
const MAX_SHOWN_SNAPSHOT_BYTES: u64 = 256 << 20;

#[derive(Debug, Serialize)]
struct Snapshot {
    path: String,
    sha256: String,
    /// Whether the stored snapshot's SHA-256 is the one the commit records.
    verified: bool,
    /// Why it was not checked: a stored file larger than `show` reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    unchecked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permalink: Option<String>,
}

#[derive(Debug, Serialize)]
struct Shown {
    reference: String,
    /// The reference to cite: by date, or by commit when a date would be ambiguous.
    cite_as: String,
    service: String,
    document: String,
    commit: String,
    /// Author date: when the version was fetched or captured.
    date: DateTime<Utc>,
    /// When the next version replaced it; absent while it is in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<DateTime<Utc>>,
    change: ChangeKind,
    summary: String,
    source: String,
    source_urls: Vec<String>,
    fetched_at: DateTime<Utc>,
    fetcher: String,
    canonicalizer: u32,
    clausewatch_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    declared_date: Option<NaiveDate>,
    /// Source-specific trailers (Capture-URL, OTA-Commit, ...).
    provenance: std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<Snapshot>,
    /// The version file at this commit on GitHub, when `origin` is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    permalink: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_url: Option<String>,
    text: String,
}

fn parse_reference(text: &str) -> Result<Reference, ReferenceError> {
    Reference::parse(text)
}

fn reference_error(error: ReferenceError) -> CliError {
    match error {
        ReferenceError::Archive(e) => e.into(),
        other => usage(other),
    }
}

pub fn show(archive_dir: &Path, args: ShowArgs) -> Result<ExitCode, CliError> {
    let reference = args.reference;
    let archive = Archive::open(archive_dir)?;
    let document = DocumentSpec {
        service: reference.service.clone(),
        doc_type: Some(reference.doc_type.clone()),
    };
    super::history::check_known(&archive, [&document])?;
    let resolved = archive.resolve(&reference).map_err(reference_error)?;
    let version = &resolved.version;
    let m = &version.message;
    let text = archive
        .text_at(version.commit, &m.service, &m.document)?
        .ok_or_else(|| {
            usage(anyhow!(
                "{} has no text at {}",
                reference.document(),
                version.short_id()
            ))
        })?;
    let commit = version.commit.to_string();
    let github = archive.github_base();
    let blob_url = |path: &str| github.as_ref().map(|base| format!("{base}/blob/{commit}/{path}"));
    // Read up to the largest page any body cap records, per page the version names, and
    // never more than MAX_SHOWN_SNAPSHOT_BYTES in all: the commit message saying how many
    // pages there are is the archive's too. A larger stored file, such as a blob bomb in a
    // cloned archive, is not read.
    let parts = m.source_urls.len().min(crate::declaration::MAX_PARTS_PER_DOCUMENT);
    let limit = crate::reextract::snapshot_limit(parts, u64::MAX).min(MAX_SHOWN_SNAPSHOT_BYTES);
    let snapshot = match archive.snapshot_at(version.commit, &m.service, &m.document, limit) {
        Ok(found) => found.map(|(path, bytes)| Snapshot {
            verified: crate::track::sha256_hex(&bytes) == m.snapshot_sha256,
            unchecked: None,
            sha256: m.snapshot_sha256.clone(),
            permalink: blob_url(&path),
            path,
        }),
        Err(ArchiveError::SnapshotTooLarge { path, size, limit }) => Some(Snapshot {
            verified: false,
            unchecked: Some(format!(
                "the stored file is {size} bytes, more than the {limit} show reads"
            )),
            sha256: m.snapshot_sha256.clone(),
            permalink: blob_url(&path),
            path,
        }),
        Err(e) => return Err(e.into()),
    };
    let cite_as = if resolved.shares_day {
        format!("{}@{}", reference.document(), version.short_id())
    } else {
        format!("{}@{}", reference.document(), version.date.date_naive())
    };
    let shown = Shown {
        reference: reference.to_string(),
        cite_as,
        service: m.service.clone(),
        document: m.document.clone(),
        commit: commit.clone(),
        date: version.date,
        valid_until: resolved.next.as_ref().map(|n| n.date),
        change: m.change,
        summary: m.subject.clone(),
        source: m.source_name().to_string(),
        source_urls: m.source_urls.clone(),
        fetched_at: m.fetched_at,
        fetcher: m.fetcher.clone(),
        canonicalizer: m.canonicalizer,
        clausewatch_version: m.clausewatch_version.clone(),
        declared_date: m.declared_date,
        provenance: m.extra.iter().cloned().collect(),
        snapshot,
        permalink: blob_url(&archive.version_path(&m.service, &m.document)),
        commit_url: github.as_ref().map(|base| format!("{base}/commit/{commit}")),
        text,
    };
    if args.json {
        write_json(&mut io::stdout().lock(), &shown)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The text and every trailer come from the archive: written escaped.
    let mut out = Terminal::stdout(false);
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut lines: Vec<(&str, String)> = vec![
        ("Cite as", shown.cite_as.clone()),
        ("Commit", shown.commit.clone()),
        (
            "In force",
            match shown.valid_until {
                Some(until) => format!("{} until {}", time(shown.date), time(until)),
                None => format!("{} until now (the latest version)", time(shown.date)),
            },
        ),
        ("Change", format!("{} ({})", shown.change, shown.summary)),
        ("Source", shown.source.clone()),
    ];
    for url in &shown.source_urls {
        lines.push(("Source-URL", url.clone()));
    }
    lines.push((
        if shown.source == "track" {
            "Fetched-At"
        } else {
            "Captured-At"
        },
        time(shown.fetched_at),
    ));
    for (key, value) in &m.extra {
        lines.push((key.as_str(), value.clone()));
    }
    if let Some(snapshot) = &shown.snapshot {
        lines.push((
            "Snapshot",
            format!(
                "{} (SHA-256 {}{})",
                snapshot.path,
                snapshot.sha256,
                match (&snapshot.unchecked, snapshot.verified) {
                    (Some(why), _) => format!(", not checked: {why}"),
                    (None, true) => ", verified".to_string(),
                    (None, false) => ", DOES NOT MATCH the stored file".to_string(),
                }
            ),
        ));
    }
    lines.push(("Fetcher", shown.fetcher.clone()));
    lines.push((
        "Canonicalizer",
        format!("{} (clausewatch {})", shown.canonicalizer, shown.clausewatch_version),
    ));
    if let Some(date) = shown.declared_date {
        lines.push(("Declared-Date", date.to_string()));
    }
    if let Some(link) = &shown.permalink {
        lines.push(("Permalink", link.clone()));
    }
    if let Some(link) = shown.snapshot.as_ref().and_then(|s| s.permalink.clone()) {
        lines.push(("Snapshot-Link", link));
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    for (key, value) in &lines {
        writeln!(out, "{:<width$} {value}", format!("{key}:"))?;
    }
    if !args.no_text {
        writeln!(out)?;
        write!(out, "{}", shown.text)?;
    }
    Ok(ExitCode::SUCCESS)
}
