//! `import ota-versions`, `import ota-snapshots` and `import wayback`: history from
//! elsewhere, replayed into the archive.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::{CliError, NetArgs, load_services, settings, usage, write_json};
use crate::archive::Archive;
use crate::clock::Clock;
use crate::import::ota::{self, OtaError, OtaKind, OtaReport, OtaRequest};
use crate::import::{DocumentTally, ImportOptions};
use crate::provision::Taxonomy;

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
}

/// Options of every history import.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Import only what comes after each document's latest version, instead of refusing
    /// a document whose history would go before it.
    #[arg(long)]
    pub skip_older: bool,
    /// Record texts that lost more than half their length against the version before.
    #[arg(long)]
    pub accept_shrink: bool,
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
    net: &NetArgs,
    common: &ImportArgs,
    allow_private: bool,
    clock: Clock,
) -> Result<(ImportOptions, crate::config::Settings), CliError> {
    let settings = settings(archive.root(), net, allow_private)?;
    Ok((
        ImportOptions {
            identity: settings.identity.clone(),
            now: clock.now(),
            taxonomy: Taxonomy::load(archive.root()).map_err(usage)?,
            skip_older: common.skip_older,
            accept_shrink: common.accept_shrink,
        },
        settings,
    ))
}

/// One line per document, its skip reasons and refusal indented below.
pub(super) fn write_tallies(out: &mut impl io::Write, tallies: &[DocumentTally]) -> io::Result<()> {
    for tally in tallies {
        let name = format!("{}/{}", tally.service, tally.document);
        match &tally.refused {
            Some(reason) => writeln!(out, "refused    {name}  {reason}")?,
            None => writeln!(out, "imported   {name}  {}", tally.describe())?,
        }
        for reason in &tally.skip_reasons {
            writeln!(out, "    skipped {reason}")?;
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
    let (options, _) = import_options(&archive, &NetArgs::default(), &args.common, false, clock)?;
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
    let mut out = io::stdout().lock();
    if args.common.json {
        write_json(&mut out, &report)?;
    } else {
        write_tallies(&mut out, &report.documents)?;
        for ignored in &report.ignored {
            writeln!(out, "ignored    {ignored}")?;
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
