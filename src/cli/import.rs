//! `import ota-versions`, `import ota-snapshots` and `import wayback`: history from
//! elsewhere, replayed into the archive.

use std::io::{self, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::args::{DocumentSpec, TimestampPrefix};
use super::{AuthorArgs, CliError, FetchArgs, RunArgs, load_services, settings, usage, write_json};
use crate::archive::Archive;
use crate::clock::Clock;
use crate::import::ota::{self, OtaError, OtaKind, OtaReport, OtaRequest};
use crate::import::wayback::{self, Every, WaybackError, WaybackRequest};
use crate::import::{DocumentTally, ImportOptions};
use crate::printable::{Printable, Terminal};

pub const CHRONOLOGY_HELP: &str = "\
History is appended, never rewritten. For each document, versions dated after its
latest recorded version are recorded (when their text differs); those at or before it
must already be in the archive (a re-import, a resumed import) and are skipped.
Otherwise the document is refused before anything of it is recorded, unless
--skip-older imports only what comes after the latest version. Backfill first, then
track. Running the same import twice records nothing the second time.";

pub const OTA_VERSIONS_HELP: &str = "\
Each commit of <Service>/<Terms Type>.md becomes a version dated at the commit's author
date (OTA's fetch time); its Markdown is turned into our canonical text (one sentence
per line) and kept as the snapshot (snapshots/<service>/<type>.md). Commits named
\"Refilter ...\" or \"Apply technical or declaration upgrade ...\" are recorded as
Change: reextract. Trailers: Source: ota-versions, OTA-Repository, OTA-Commit.

Examples:
  git clone https://github.com/OpenTermsArchive/pga-versions
  clausewatch import ota-versions pga-versions --service TikTok
  clausewatch import ota-versions pga-versions --service tiktok --document privacy-policy";

pub const OTA_SNAPSHOTS_HELP: &str = "\
Each commit of <Service>/<Terms Type>.html (or .pdf) is canonicalized with our
declaration of the document (services/<service>.toml, e.g. from `import
ota-declarations`), so the texts are exactly what `track` would have recorded. Bot
walls and error pages are skipped and counted. Trailers: Source: ota-snapshots,
OTA-Repository, OTA-Commit.

Examples:
  clausewatch import ota-declarations declarations/TikTok.json
  clausewatch import ota-snapshots pga-snapshots --service TikTok";

#[derive(Debug, Args)]
pub struct OtaHistoryArgs {
    /// A local clone of an Open Terms Archive versions (or snapshots) repository.
    pub repository: PathBuf,
    /// The service: OTA's folder name ("TikTok") or its slug ("tiktok").
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// Our slug for the service [default: the folder name, slugified].
    #[arg(long = "as", value_name = "SLUG")]
    pub slug: Option<String>,
    /// Only this document type, as our slug (repeatable).
    #[arg(long = "document", value_name = "TYPE")]
    pub documents: Vec<String>,
    #[command(flatten)]
    pub common: ImportArgs,
    #[command(flatten)]
    pub author: AuthorArgs,
}

/// Options of every history import.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Import only what comes after each document's latest version, instead of refusing
    /// a document whose history would go before it.
    #[arg(long)]
    pub skip_older: bool,
    /// Record texts that lost more than half their length against the version before,
    /// or that are its beginning cut short (`truncated`): of every document (bare flag)
    /// or of SERVICE[/TYPE] (repeatable, --accept-shrink=x/privacy-policy). A text that
    /// only lost a duplicated copy is recorded without it.
    #[arg(long, value_name = "SERVICE[/TYPE]", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub accept_shrink: Vec<String>,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

pub(super) fn progress_bar(hidden: bool, what: &str) -> indicatif::ProgressBar {
    if hidden || !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {what}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

pub(super) fn import_options(
    archive: &Archive,
    (fetch, run, author): (&FetchArgs, &RunArgs, &AuthorArgs),
    common: &ImportArgs,
    clock: Clock,
) -> Result<(ImportOptions, crate::config::Settings), CliError> {
    let settings = settings(archive.root(), fetch, run, author)?;
    Ok((
        ImportOptions {
            identity: settings.identity.clone(),
            now: clock.now(),
            taxonomy: {
                let taxonomy = super::provisions::taxonomy(archive)?;
                super::provisions::check_tag_cache_writable(archive, &taxonomy)?;
                taxonomy
            },
            skip_older: common.skip_older,
            accept_shrink: crate::track::ShrinkAcceptance::from_values(&common.accept_shrink),
        },
        settings,
    ))
}

/// One line per document, its skip reasons and refusal indented below. A reason can
/// quote the source (an upstream commit's subject): it stays on its line.
pub(super) fn write_tallies(out: &mut Terminal<impl io::Write>, tallies: &[DocumentTally]) -> io::Result<()> {
    for tally in tallies {
        let name = format!("{}/{}", tally.service, tally.document);
        match tally.refused.as_deref().map(Printable) {
            Some(reason) if tally.recorded == 0 => writeln!(out, "refused    {name}  {reason}")?,
            // Part of the history went in before the conflict: say what, then why it stopped.
            Some(reason) => writeln!(out, "stopped    {name}  {}; then refused: {reason}", tally.describe())?,
            None => writeln!(out, "imported   {name}  {}", tally.describe())?,
        }
        for reason in &tally.skip_reasons {
            writeln!(out, "    skipped {}", Printable(reason))?;
        }
    }
    Ok(())
}

fn ota_error(error: OtaError) -> CliError {
    match error {
        OtaError::Archive(e) => e.into(),
        OtaError::Git { .. } => super::runtime(error),
        other => usage(other),
    }
}

pub fn ota_history(
    archive_dir: &Path,
    kind: OtaKind,
    args: OtaHistoryArgs,
    clock: Clock,
) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    let services = load_services(&archive)?;
    let no_fetch = (&FetchArgs::default(), &RunArgs::default(), &args.author);
    let (options, _) = import_options(&archive, no_fetch, &args.common, clock)?;
    let request = OtaRequest {
        kind,
        repository: &args.repository,
        service: &args.service,
        slug: args.slug.as_deref(),
        documents: &args.documents,
    };
    let bar = progress_bar(args.common.no_progress || args.common.json, "versions");
    let report: OtaReport = ota::import(&archive, &services, &request, &options, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .map_err(ota_error)?;
    bar.finish_and_clear();
    let tag_cache = super::provisions::save_tag_cache(&archive, &options.taxonomy, &options.identity, options.now)?;
    if args.common.json {
        write_json(&mut io::stdout().lock(), &report)?;
    } else {
        // Upstream subjects and file names come from a repository we do not control.
        let mut out = Terminal::stdout(false);
        write_tallies(&mut out, &report.documents)?;
        for ignored in &report.ignored {
            writeln!(out, "ignored    {}", Printable(ignored))?;
        }
        if let Some(line) = tag_cache.as_ref().and_then(super::provisions::TagCacheReport::line) {
            writeln!(out, "{line}")?;
        }
        let recorded: usize = report.documents.iter().map(|d| d.recorded).sum();
        writeln!(
            out,
            "{recorded} versions recorded from {} ({} documents{})",
            report.folder,
            report.documents.len(),
            match report.refused() {
                0 => String::new(),
                n => format!(", {n} refused"),
            }
        )?;
    }
    Ok(if report.refused() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub const WAYBACK_HELP: &str = "\
Lists the captures of the document's URL with the Wayback Machine's CDX API (status 200,
consecutive duplicates collapsed), keeps the first of each day, week or month, fetches
each raw capture (/web/<timestamp>id_/<url>) and canonicalizes it with the document's
declaration. A capture whose text is unchanged records nothing; bot walls and error
pages are skipped and counted. Each version is dated at its capture, with trailers
Source: wayback, Capture-URL and Capture-Digest.

Polite: one request at a time, --host-delay seconds apart, with the fetcher's retries.
A capture the Wayback Machine will not serve (timeout, 5xx, 429) stops the import there;
progress is kept in .git/clausewatch-wayback/, so running the command again continues
where it stopped, and a finished import fetches nothing the second time.

Where to ask: --cdx-url / CLAUSEWATCH_WAYBACK_CDX, --capture-base /
CLAUSEWATCH_WAYBACK_BASE, or [wayback] cdx and base in clausewatch.toml (a mirror).

Examples:
  clausewatch import wayback tiktok/privacy-policy --from 2019 --every month
  clausewatch import wayback openai/terms-of-use --from 2022 --to 2023 --every week
  clausewatch import wayback x/privacy-policy --max-captures 50   # then run it again";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EveryArg {
    Day,
    Week,
    Month,
}

#[derive(Debug, Args)]
pub struct WaybackArgs {
    /// SERVICE/TYPE of a declared document.
    #[arg(value_name = "SERVICE/TYPE", value_parser = super::args::document)]
    pub document: DocumentSpec,
    /// The first year of captures (or a longer prefix: 202203, 20220315).
    #[arg(long, value_name = "YEAR")]
    pub from: Option<TimestampPrefix>,
    /// The last year of captures, included (or a longer prefix).
    #[arg(long, value_name = "YEAR")]
    pub to: Option<TimestampPrefix>,
    /// Keep the first capture of each day, week or month.
    #[arg(long, value_enum, default_value_t = EveryArg::Week)]
    pub every: EveryArg,
    /// Fetch at most N captures in this run; run again to continue.
    #[arg(long, value_name = "N")]
    pub max_captures: Option<usize>,
    /// The CDX API endpoint [default: https://web.archive.org/cdx/search/cdx].
    #[arg(long, env = "CLAUSEWATCH_WAYBACK_CDX", value_name = "URL")]
    pub cdx_url: Option<String>,
    /// Where raw captures are fetched, before `<timestamp>id_/<url>` [default: https://web.archive.org/web/].
    #[arg(long, env = "CLAUSEWATCH_WAYBACK_BASE", value_name = "URL")]
    pub capture_base: Option<String>,
    /// Seconds between two requests to the Wayback Machine [default: 1].
    #[arg(long, env = "CLAUSEWATCH_HOST_DELAY", value_name = "SECONDS")]
    pub host_delay: Option<f64>,
    #[command(flatten)]
    pub common: ImportArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub author: AuthorArgs,
}

fn wayback_error(error: WaybackError) -> CliError {
    match error {
        WaybackError::Archive(e) => e.into(),
        WaybackError::Usage(_) => usage(error),
        WaybackError::Listing { .. } => CliError {
            code: 1,
            error: error.into(),
        },
        WaybackError::State { .. } => super::runtime(error),
    }
}

pub fn wayback(archive_dir: &Path, args: WaybackArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    let (slug, doc_type) = (args.document.service.clone(), args.document.doc_type().to_string());
    let services = load_services(&archive)?;
    let service = services
        .iter()
        .find(|s| s.slug == slug)
        .ok_or_else(|| usage(anyhow::anyhow!("no service {slug:?} is declared in services/; declare it first (its URL and selectors say what to backfill)")))?;
    let document = service.document(&doc_type).ok_or_else(|| {
        let known: Vec<&str> = service.documents.iter().map(|d| d.doc_type.as_str()).collect();
        usage(anyhow::anyhow!(
            "{slug} declares no document {doc_type:?} (it has: {})",
            known.join(", ")
        ))
    })?;
    let from = args.from.map(|p| p.0);
    let to = args.to.map(|p| p.0);
    if let (Some(from), Some(to)) = (&from, &to)
        && from[..4] > to[..4]
    {
        return Err(usage(anyhow::anyhow!("--from {from} comes after --to {to}")));
    }
    let run = RunArgs {
        host_delay: args.host_delay,
        ..RunArgs::default()
    };
    let (options, settings) = import_options(&archive, (&args.fetch, &run, &args.author), &args.common, clock)?;
    let file = crate::config::FileConfig::load(archive.root()).map_err(usage)?;
    let cdx = args
        .cdx_url
        .clone()
        .or(file.wayback.cdx)
        .unwrap_or_else(|| wayback::DEFAULT_CDX.to_string());
    let cdx = url::Url::parse(&cdx).map_err(|e| {
        usage(anyhow::anyhow!(
            "the CDX URL {cdx:?} is not a URL ({e}); check --cdx-url, CLAUSEWATCH_WAYBACK_CDX or [wayback] cdx"
        ))
    })?;
    let base = args
        .capture_base
        .clone()
        .or(file.wayback.base)
        .unwrap_or_else(|| wayback::DEFAULT_BASE.to_string());
    if url::Url::parse(&base).is_err() {
        return Err(usage(anyhow::anyhow!(
            "the capture base {base:?} is not a URL; check --capture-base, CLAUSEWATCH_WAYBACK_BASE or [wayback] base"
        )));
    }
    let request = WaybackRequest {
        cdx,
        base,
        from,
        to,
        every: match args.every {
            EveryArg::Day => Every::Day,
            EveryArg::Week => Every::Week,
            EveryArg::Month => Every::Month,
        },
        max_captures: args.max_captures,
        fetch: settings.fetch.clone(),
        host_delay: settings.host_delay,
    };
    let bar = progress_bar(args.common.no_progress || args.common.json, "captures");
    let report = wayback::import(&archive, service, document, &options, &request, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .map_err(wayback_error)?;
    bar.finish_and_clear();
    let tag_cache = super::provisions::save_tag_cache(&archive, &options.taxonomy, &options.identity, options.now)?;
    if args.common.json {
        write_json(&mut io::stdout().lock(), &report)?;
    } else {
        let mut out = Terminal::stdout(false);
        write_tallies(&mut out, std::slice::from_ref(&report.tally))?;
        if let Some(line) = tag_cache.as_ref().and_then(super::provisions::TagCacheReport::line) {
            writeln!(out, "{line}")?;
        }
        let every = match report.every {
            Every::Day => "day",
            Every::Week => "week",
            Every::Month => "month",
        };
        let mut line = format!(
            "{} captures listed, {} kept (the first of each {every})",
            report.listed, report.kept
        );
        if report.resumed > 0 {
            line.push_str(&format!(", {} done by an earlier run", report.resumed));
        }
        writeln!(out, "{line}")?;
        if let Some(stopped) = &report.stopped {
            writeln!(out, "{stopped} ({} captures left)", report.remaining)?;
        }
    }
    Ok(if report.interrupted || report.tally.refused.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
