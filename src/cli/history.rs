//! Reading commands: `log`, `diff`, `report`, `feed` and `blame`, all from git history.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::args::{self, DocumentSpec, KnownDocuments, When};
use super::{CliError, runtime, usage, write_json};
use crate::archive::history::VersionRecord;
use crate::archive::reference::{ReferenceError, VersionSpec};
use crate::archive::{Archive, ChangeKind, ProvisionShift};
use crate::clock::Clock;
use crate::printable::{Printable, Terminal};
use crate::report::model::{self, Change};
use crate::report::summary::parse_counts;
use crate::report::words::WordPiece;
use crate::report::{Counts, atom, blame, markdown};

#[derive(Debug, Args)]
pub struct LogArgs {
    /// SERVICE or SERVICE/TYPE (default: every document).
    #[arg(value_name = "SERVICE[/TYPE]")]
    pub document: Option<DocumentSpec>,
    /// Only versions fetched on or after DATE (YYYY-MM-DD, RFC 3339, or 7d / 2w ago).
    #[arg(long, value_name = "DATE")]
    pub since: Option<When>,
    /// Only versions fetched before the end of DATE.
    #[arg(long, value_name = "DATE")]
    pub until: Option<When>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// SERVICE/TYPE.
    #[arg(value_name = "SERVICE/TYPE", value_parser = args::document)]
    pub document: DocumentSpec,
    /// A version: a commit id (or prefix), a date (the version in force at its end), an
    /// RFC 3339 time, 7d / 2w ago, latest, or ~N (N versions before the latest); REF~N
    /// and REF^ step back from it. Alone, it shows the change that version made (against
    /// the version before it), as `git show` does [default: latest].
    #[arg(value_name = "OLD|REF")]
    pub old: Option<String>,
    /// The newer version, in the same forms: given two versions, the diff runs from OLD
    /// to NEW.
    pub new: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Html,
    Json,
    Atom,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The first day of the period (YYYY-MM-DD, RFC 3339, or 7d / 2w ago).
    #[arg(long, value_name = "DATE")]
    pub since: When,
    /// The last day of the period, included [default: now].
    #[arg(long, value_name = "DATE")]
    pub until: Option<When>,
    /// Only this SERVICE or SERVICE/TYPE.
    #[arg(long, value_name = "SERVICE[/TYPE]")]
    pub document: Option<DocumentSpec>,
    /// Only changes that touch this provision (repeatable).
    #[arg(long, value_name = "ID")]
    pub provision: Vec<String>,
    /// The output: Markdown to paste into an article, an HTML page, JSON for scripts,
    /// or an Atom feed.
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FeedArgs {
    /// SERVICE or SERVICE/TYPE (default: every document).
    #[arg(value_name = "SERVICE[/TYPE]")]
    pub document: Option<DocumentSpec>,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How many changes, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Only changes that touch this provision ("the AI-training clause changed anywhere").
    #[arg(long, value_name = "ID")]
    pub provision: Option<String>,
}

#[derive(Debug, Args)]
pub struct BlameArgs {
    /// SERVICE/TYPE.
    #[arg(value_name = "SERVICE/TYPE", value_parser = args::document)]
    pub document: DocumentSpec,
    /// Blame the version in force at the end of DATE instead of the latest.
    #[arg(long, value_name = "DATE")]
    pub at: Option<When>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Ok when every id names a provision of the archive's taxonomy.
fn check_provisions<'a>(archive: &Archive, ids: impl IntoIterator<Item = &'a String>) -> Result<(), CliError> {
    let mut ids = ids.into_iter().peekable();
    if ids.peek().is_none() {
        return Ok(());
    }
    let taxonomy = super::provisions::taxonomy(archive)?;
    ids.try_for_each(|id| super::provisions::check_id(&taxonomy, id))
}

/// Ok when the archive declares or has recorded every named document.
pub(super) fn check_known<'a>(
    archive: &Archive,
    specs: impl IntoIterator<Item = &'a DocumentSpec>,
) -> Result<(), CliError> {
    let specs: Vec<&DocumentSpec> = specs.into_iter().collect();
    if specs.is_empty() {
        return Ok(());
    }
    KnownDocuments::with_history(archive)?.check_all(specs)
}

pub(super) fn write_output(out: Option<&Path>, text: &str) -> Result<(), CliError> {
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))
            .map_err(runtime),
        None => Ok(io::stdout().lock().write_all(text.as_bytes())?),
    }
}

#[derive(Serialize)]
struct LogEntry<'a> {
    commit: String,
    date: DateTime<Utc>,
    service: &'a str,
    document: &'a str,
    change: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<Counts>,
    summary: &'a str,
    provisions: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    provisions_changed: &'a [ProvisionShift],
    #[serde(skip_serializing_if = "Option::is_none")]
    untagged_language: Option<&'a str>,
    source_urls: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    declared_date: Option<NaiveDate>,
}

pub fn log(archive_dir: &Path, args: LogArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    check_known(&archive, &args.document)?;
    let now = clock.now();
    let since = args.since.map(|s| s.resolve(now, false));
    let until = args.until.map(|s| s.resolve(now, true));
    let filter = args.document.as_ref().map(DocumentSpec::filter).unwrap_or_default();
    let versions = archive.versions(&filter, since, until)?;
    let entries: Vec<LogEntry> = versions
        .iter()
        .map(|v| {
            Ok(LogEntry {
                commit: v.commit.to_string(),
                date: v.date,
                service: &v.message.service,
                document: &v.message.document,
                change: v.message.change,
                counts: counts_of(&archive, v)?,
                summary: &v.message.subject,
                provisions: &v.message.provisions,
                provisions_changed: &v.message.provisions_changed,
                untagged_language: v.message.untagged_language.as_deref(),
                source_urls: &v.message.source_urls,
                declared_date: v.message.declared_date,
            })
        })
        .collect::<Result<_, CliError>>()?;
    if args.json {
        write_json(&mut io::stdout().lock(), &entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Terminal::stdout(false);
    for entry in &entries {
        let counts = entry.counts.map_or_else(String::new, |c| {
            format!(
                "+{} -{} ~{}{}",
                c.added,
                c.removed,
                c.changed,
                if c.moved > 0 {
                    format!(" >{}", c.moved)
                } else {
                    String::new()
                }
            )
        });
        let provisions = if entry.provisions.is_empty() {
            String::new()
        } else {
            format!("  [{}]", entry.provisions.join(", "))
        };
        writeln!(
            out,
            "{}  {}  {}/{}  {:<11}  {:<14}  {}{provisions}",
            entry.date.format("%Y-%m-%d %H:%M"),
            &entry.commit[..12],
            entry.service,
            entry.document,
            entry.change.as_str(),
            counts,
            entry.summary
        )?;
        if let Some(language) = entry.untagged_language {
            writeln!(
                out,
                "    provisions not tagged: the text is in {} (not a language the tagger reads)",
                Printable(language)
            )?;
        }
        // Indented under the version: what it did to each provision.
        for shift in entry.provisions_changed {
            let flipped = if shift.flipped() { "  (stance flipped)" } else { "" };
            writeln!(out, "    {}{flipped}", Printable(&shift.to_string()))?;
        }
    }
    if entries.is_empty() {
        writeln!(
            out,
            "no versions recorded{}",
            args.document.map(|d| format!(" for {d}")).unwrap_or_default()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A version's sentence counts as `diff REF` shows them. A subject says them exactly,
/// except a cosmetic version's ("cosmetic changes in 2 sentences" is a total): those
/// come from the diff with the text the version replaced.
fn counts_of(archive: &Archive, version: &VersionRecord) -> Result<Option<Counts>, CliError> {
    match (version.message.change, version.previous_blob) {
        (ChangeKind::Cosmetic, Some(previous)) => {
            let old = archive.blob_text(previous)?;
            let new = archive.blob_text(version.blob)?;
            Ok(Some(crate::report::diff::diff_texts(&old, &new).counts))
        }
        _ => Ok(parse_counts(&version.message.subject)),
    }
}

/// One end of a diff: a version's commit and date.
#[derive(Serialize)]
pub struct Endpoint {
    pub commit: String,
    pub date: DateTime<Utc>,
}

impl Endpoint {
    fn of(record: &VersionRecord) -> Endpoint {
        Endpoint {
            commit: record.commit.to_string(),
            date: record.date,
        }
    }
}

/// What `diff --json` prints: the change's model with both endpoints named.
#[derive(Serialize)]
struct DiffJson<'a> {
    /// None when NEW is the document's first version.
    old: Option<Endpoint>,
    new: Endpoint,
    /// OLD was recorded after NEW: the diff reads backwards in time.
    old_is_newer: bool,
    #[serde(flatten)]
    change: &'a Change,
}

fn version_at(versions: &[VersionRecord], spec: &str, document: &str, now: DateTime<Utc>) -> Result<usize, CliError> {
    let reference_error = |e: ReferenceError| match e {
        ReferenceError::Archive(e) => CliError::from(e),
        other => usage(other),
    };
    VersionSpec::parse(spec, now)
        .and_then(|v| v.position(versions, document, spec))
        .map_err(reference_error)
}

/// The version that the version at `index` replaced, as its commit recorded it (the
/// blob it replaced): what `git show` compares with, and what `log` and reports count.
/// Normally the next older version; None for a first version.
fn replaced_by(versions: &[VersionRecord], index: usize) -> Option<usize> {
    let blob = versions[index].previous_blob?;
    let older = index + 1..versions.len();
    older
        .clone()
        .find(|&i| versions[i].blob == blob)
        .or_else(|| older.min())
}

/// `diff DOC` shows the latest change, `diff DOC REF` the change REF made (REF against
/// the version before it, as `git show`), `diff DOC OLD NEW` from OLD to NEW.
pub fn diff(archive_dir: &Path, args: DiffArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    check_known(&archive, [&args.document])?;
    let document = args.document.to_string();
    // Newest first.
    let versions = archive.versions(&args.document.filter(), None, None)?;
    if versions.is_empty() {
        return Err(usage(anyhow!("{} has no recorded versions", args.document)));
    }
    let now = clock.now();
    let (old_index, new_index) = match (&args.old, &args.new) {
        (Some(old), Some(new)) => (
            Some(version_at(&versions, old, &document, now)?),
            version_at(&versions, new, &document, now)?,
        ),
        (Some(one), None) | (None, Some(one)) => {
            let new = version_at(&versions, one, &document, now)?;
            (replaced_by(&versions, new), new)
        }
        (None, None) => (replaced_by(&versions, 0), 0),
    };
    let new = &versions[new_index];
    let old = old_index.map(|i| &versions[i]);
    let old_text = old.map(|v| archive.blob_text(v.blob)).transpose()?.unwrap_or_default();
    let new_text = archive.blob_text(new.blob)?;
    let change = model::change_between(new, &old_text, &new_text, archive.commit_url_base().as_deref());
    let endpoints = DiffEnds {
        old: old.map(Endpoint::of),
        new: Endpoint::of(new),
        // Newest first: a smaller index is a later version.
        old_is_newer: old_index.is_some_and(|i| i < new_index),
        same_text: old.is_some_and(|old| old.blob == new.blob),
    };

    if args.json {
        let json = DiffJson {
            old: endpoints.old,
            new: endpoints.new,
            old_is_newer: endpoints.old_is_newer,
            change: &change,
        };
        write_json(&mut io::stdout().lock(), &json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    render_diff(&mut Terminal::stdout(color), &document, &endpoints, &change)?;
    Ok(ExitCode::SUCCESS)
}

/// The two versions a diff compares.
pub struct DiffEnds {
    /// None when NEW is the document's first version.
    pub old: Option<Endpoint>,
    pub new: Endpoint,
    pub old_is_newer: bool,
    /// Two versions whose texts are byte for byte the same (a revert, and the version it
    /// went back to).
    pub same_text: bool,
}

/// A line of a diff, in the document's order.
enum DiffLine<'a> {
    Removed(&'a str),
    Added(&'a str),
    Changed(&'a [WordPiece]),
    Moved(&'a str),
}

/// The terminal rendering of a diff: a header naming both versions, then the sentences
/// grouped under section headings, `+` added, `-` removed, `~` changed with
/// `[-old-]{+new+}` words, `>` moved. Policy text reaches the terminal escaped: it is
/// written through a [`Terminal`].
pub fn render_diff<W: io::Write>(
    out: &mut Terminal<W>,
    document: &str,
    ends: &DiffEnds,
    change: &Change,
) -> io::Result<()> {
    let endpoint = |e: &Endpoint| format!("{}  {}", e.date.format("%Y-%m-%d %H:%M UTC"), &e.commit[..12]);
    writeln!(out, "{document}")?;
    match &ends.old {
        Some(old) => writeln!(out, "old  {}", endpoint(old))?,
        None => writeln!(out, "old  none: new is the document's first version")?,
    }
    writeln!(out, "new  {}", endpoint(&ends.new))?;
    if ends.old_is_newer {
        writeln!(out, "note: old is newer than new: this diff reads backwards in time")?;
    }
    if ends.old.as_ref().is_some_and(|old| old.commit == ends.new.commit) {
        return writeln!(out, "old and new are the same version");
    }
    if ends.same_text {
        return writeln!(out, "no change in text: old and new have the same text");
    }
    writeln!(out, "{}", crate::report::summary::describe(&change.counts))?;
    let mut lines: Vec<(usize, Option<&str>, DiffLine)> = Vec::new();
    for s in &change.removed {
        lines.push((s.position, s.heading.as_deref(), DiffLine::Removed(&s.text)));
    }
    for s in &change.added {
        lines.push((s.position, s.heading.as_deref(), DiffLine::Added(&s.text)));
    }
    for c in &change.changed {
        lines.push((c.position, c.heading.as_deref(), DiffLine::Changed(&c.words)));
    }
    for s in &change.moved {
        lines.push((s.position, s.heading.as_deref(), DiffLine::Moved(&s.text)));
    }
    // Document order, with a section heading printed where the section changes.
    lines.sort_by_key(|(position, _, _)| *position);
    let mut section: Option<Option<&str>> = None;
    for (_, heading, line) in &lines {
        if section != Some(*heading) {
            writeln!(out)?;
            if let Some(h) = heading {
                out.paint("1", format_args!("## {h}"))?;
                writeln!(out)?;
            }
            section = Some(*heading);
        }
        match line {
            DiffLine::Removed(text) => out.paint("31", format_args!("- {text}"))?,
            DiffLine::Added(text) => out.paint("32", format_args!("+ {text}"))?,
            DiffLine::Moved(text) => out.paint("36", format_args!("> {text}"))?,
            DiffLine::Changed(words) => {
                out.paint("33", "~")?;
                write!(out, " ")?;
                for piece in *words {
                    match piece {
                        WordPiece::Same(t) => write!(out, "{t}")?,
                        WordPiece::Removed(t) if out.color() => out.paint("31;9", t)?,
                        WordPiece::Added(t) if out.color() => out.paint("32;4", t)?,
                        WordPiece::Removed(t) => write!(out, "[-{t}-]")?,
                        WordPiece::Added(t) => write!(out, "{{+{t}+}}")?,
                    }
                }
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

pub fn report(archive_dir: &Path, args: ReportArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    check_known(&archive, &args.document)?;
    check_provisions(&archive, &args.provision)?;
    let now = clock.now();
    let since = args.since.resolve(now, false);
    let until = args.until.map_or(now, |u| u.resolve(now, true));
    if until <= since {
        return Err(usage(anyhow!("--until must come after --since")));
    }
    let filter = args.document.as_ref().map(DocumentSpec::filter).unwrap_or_default();
    let mut report = model::build_report(&archive, &filter, since, until, now)?;
    let taxonomy = super::provisions::taxonomy(&archive)?;
    if args.provision.is_empty() {
        // Each sentence says which provision it states, next to the change's summary of
        // what happened to the provisions.
        report.mark_provisions(&taxonomy);
    } else {
        report.focus_on_provisions(&taxonomy, &args.provision);
    }
    let text = match args.format {
        ReportFormat::Markdown => markdown::render(&report),
        ReportFormat::Html => crate::report::html::render(&report),
        ReportFormat::Json => serde_json::to_string_pretty(&report).map_err(runtime)? + "\n",
        ReportFormat::Atom => {
            let changes: Vec<&Change> = report.documents.iter().flat_map(|d| &d.changes).collect();
            let mut changes = changes;
            // Stable: the report's order (newest commit first) breaks ties.
            changes.sort_by_key(|c| std::cmp::Reverse(c.date));
            atom::render("Policy changes", "tag:clausewatch,2026:report", now, &changes)
        }
    };
    write_output(args.out.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn feed(archive_dir: &Path, args: FeedArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    check_known(&archive, &args.document)?;
    check_provisions(&archive, &args.provision)?;
    let filter = args.document.as_ref().map(DocumentSpec::filter).unwrap_or_default();
    let url_base = archive.commit_url_base();
    let versions = archive.versions(&filter, None, None)?;
    let changes: Vec<Change> = versions
        .iter()
        .filter(|v| v.message.change.is_reported())
        .filter(|v| {
            args.provision
                .as_ref()
                .is_none_or(|id| v.message.provisions.contains(id))
        })
        .take(args.limit)
        .map(|v| model::describe_change(&archive, v, url_base.as_deref()))
        .collect::<Result<_, _>>()?;
    let document = args.document.as_ref().map(DocumentSpec::to_string);
    let mut scope = document.clone().unwrap_or_else(|| "all documents".into());
    let mut id = format!("tag:clausewatch,2026:feed/{}", document.as_deref().unwrap_or("all"));
    if let Some(provision) = &args.provision {
        scope = format!("{scope}, provision {provision}");
        id = format!("{id}/provision/{provision}");
    }
    let refs: Vec<&Change> = changes.iter().collect();
    let text = atom::render(&format!("Policy changes: {scope}"), &id, clock.now(), &refs);
    write_output(args.out.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn blame_cmd(archive_dir: &Path, args: BlameArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    check_known(&archive, [&args.document])?;
    let (service, doc_type) = (&args.document.service, args.document.doc_type());
    let now = clock.now();
    let at = args.at.map(|a| a.last_instant(now));
    let Some(lines) = blame::blame(&archive, service, doc_type, at.map(args::until_after), now)? else {
        return Err(usage(anyhow!(
            "{} has no recorded version{}",
            args.document,
            at.map(|a| format!(" at {}", crate::report::provisions::moment_label(a)))
                .unwrap_or_default()
        )));
    };
    if args.json {
        write_json(&mut io::stdout().lock(), &lines)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Terminal::stdout(false);
    // A sentence of the first record was there when recording began, for how long before
    // is unknown: its age is marked as a lower bound, and a line above says why.
    if let Some(first) = lines.iter().find(|l| l.since_first_record) {
        let declared = archive
            .versions(&args.document.filter(), None, None)?
            .last()
            .and_then(|v| v.message.declared_date)
            .map(|d| format!(", declared date {d}"))
            .unwrap_or_default();
        writeln!(
            out,
            "# first record: {} ({}{declared}); its sentences were there when recording began, \
             so their ages (>=) are lower bounds",
            first.date.format("%Y-%m-%d"),
            &first.commit[..12],
        )?;
    }
    for line in &lines {
        let age = if line.since_first_record {
            format!(">={}", line.age_days)
        } else {
            line.age_days.to_string()
        };
        writeln!(
            out,
            "{}  {}  {:>6}d  {}",
            line.date.format("%Y-%m-%d"),
            &line.commit[..12],
            age,
            line.text
        )?;
        // A sentence that was away for a while keeps its date; the gap is said below it.
        if !line.absences.is_empty() {
            let spans: Vec<String> = line.absences.iter().map(|a| a.span()).collect();
            writeln!(out, "{:34}absent {}", "", spans.join(", "))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
