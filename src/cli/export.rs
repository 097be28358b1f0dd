//! `export`: the history as research tables in SQLite, CSV or JSON Lines.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{CliError, runtime, usage, write_json};
use crate::archive::Archive;
use crate::clock::Clock;
use crate::export::{self, ExportError, FileStore, Format, SqliteStore, Store, metadata};
use crate::report::html::plural;

pub const EXPORT_HELP: &str = "\
Tables (docs/export.md lists every column):
  documents              one row per document: URL, first and last version date, count
  versions               one row per version: commit, date, change kind, counts,
                         declared date, source, provenance and the full text
  sentence_changes       one row per sentence a version added, removed, changed or moved
  provision_occurrences  a sentence expressing a provision, with its stance, from the
                         version it appeared in to the last version that had it

Export is incremental: run it again on the same --out and it adds only the versions
recorded since (the last exported commit is kept in the `meta` table, or in
export.json in a CSV/JSONL folder).

Examples:
  clausewatch export --out policies.sqlite
  sqlite3 policies.sqlite \"SELECT v.service, v.document, v.date FROM versions_fts
      JOIN versions v ON v.rowid = versions_fts.rowid
      WHERE versions_fts MATCH 'train' ORDER BY v.date\"
  datasette policies.sqlite --metadata metadata.json   (written beside the file)
  clausewatch export --format csv --out export/
  clausewatch export --format jsonl --out export-jsonl/ --json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One SQLite file with indexes and FTS5 full-text search.
    Sqlite,
    /// A folder with one CSV file per table.
    Csv,
    /// A folder with one JSON Lines file per table.
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Sqlite)]
    pub format: ExportFormat,
    /// The SQLite file, or the folder for CSV and JSON Lines (created when absent).
    #[arg(long, short, value_name = "PATH")]
    pub out: PathBuf,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

fn export_error(error: ExportError) -> CliError {
    match error {
        ExportError::Mismatch(_) => usage(error),
        ExportError::Archive(e) => e.into(),
        ExportError::Store { .. } | ExportError::Link { .. } => runtime(error),
    }
}

pub fn export(archive_dir: &Path, args: ExportArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    let taxonomy = super::provisions::taxonomy(&archive)?;
    let format = match args.format {
        ExportFormat::Sqlite => Format::Sqlite,
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Jsonl => Format::Jsonl,
    };
    // Datasette reads `metadata.json` beside the database; never replace one that an
    // earlier export did not write.
    let datasette_metadata = (format == Format::Sqlite).then(|| metadata::path_beside(&args.out));
    if let Some(path) = &datasette_metadata
        && !metadata::may_replace(path).map_err(|e| runtime(anyhow::anyhow!("cannot read {}: {e}", path.display())))?
    {
        return Err(usage(anyhow::anyhow!(
            "{} exists and was not written by clausewatch: move it away, or export into another folder",
            path.display()
        )));
    }
    let mut store: Box<dyn Store> = match format {
        Format::Sqlite => {
            if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| runtime(anyhow::anyhow!("cannot create {}: {e}", parent.display())))?;
            }
            Box::new(SqliteStore::open(&args.out).map_err(export_error)?)
        }
        _ => Box::new(FileStore::open(&args.out, format).map_err(export_error)?),
    };
    let progress = if args.no_progress || args.json || !io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} versions")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    };
    let summary = export::export(
        &archive,
        store.as_mut(),
        &taxonomy,
        clock.now(),
        format,
        |done, total| {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        },
    )
    .map_err(export_error)?;
    progress.finish_and_clear();
    if let Some(path) = &datasette_metadata {
        let source_url = archive
            .commit_url_base()
            .map(|base| base.trim_end_matches("/commit/").to_string());
        let json = metadata::datasette_metadata(&args.out, source_url.as_deref());
        crate::nofollow::replace(path, format!("{json:#}\n").as_bytes())
            .map_err(|e| runtime(anyhow::anyhow!("cannot write {}: {e}", path.display())))?;
    }
    let mut out = io::stdout().lock();
    if args.json {
        write_json(&mut out, &summary)?;
    } else if summary.versions == 0 {
        writeln!(
            out,
            "{} is up to date: no versions recorded since the last export",
            args.out.display()
        )?;
    } else {
        writeln!(
            out,
            "{} {}: {} of {}, {}, {}{}",
            if summary.incremental { "added to" } else { "exported to" },
            args.out.display(),
            plural(summary.versions, "version"),
            plural(summary.documents, "document"),
            plural(summary.sentence_changes, "sentence change"),
            plural(summary.occurrences, "provision occurrence"),
            summary
                .head
                .as_deref()
                .map(|h| format!(" (up to {})", &h[..12]))
                .unwrap_or_default()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
