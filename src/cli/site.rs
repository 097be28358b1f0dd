//! `clausewatch site`: the archive as a static website.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use super::{CliError, runtime, usage};
use crate::archive::Archive;
use crate::clock::Clock;
use crate::declaration;
use crate::report::html::plural;
use crate::site::{self, SiteError, SiteInput, SiteWriter};

#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The folder to write the site into: new, empty, or written by an earlier run.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into a folder that holds other files (they are kept, never removed).
    #[arg(long)]
    pub force: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

impl From<SiteError> for CliError {
    fn from(error: SiteError) -> CliError {
        match error {
            SiteError::Archive(e) => e.into(),
            SiteError::ForeignFolder { .. } | SiteError::NotAFolder { .. } => usage(error),
            _ => runtime(error),
        }
    }
}

pub fn site(archive_dir: &Path, args: SiteArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let started = Instant::now();
    let archive = Archive::open(archive_dir)?;
    let taxonomy = super::provisions::taxonomy(&archive)?;
    // Declarations only lend names and list documents not recorded yet; the site is
    // made from history, so broken declarations do not stop it.
    let services = declaration::load_all(&archive.services_dir()).unwrap_or_else(|errors| {
        eprintln!(
            "warning: {} problem(s) in the declarations (`clausewatch check` lists them): \
             service names come from their slugs",
            errors.len()
        );
        Vec::new()
    });
    let writer = SiteWriter::open(&args.out, args.force)?;

    let progress = if args.no_progress || !io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} documents")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    };
    let input = SiteInput {
        archive: &archive,
        services: &services,
        taxonomy: &taxonomy,
        now: clock.now(),
    };
    let summary = site::build(&input, writer, |done, total| {
        progress.set_length(total as u64);
        progress.set_position(done as u64);
    })?;
    progress.finish_and_clear();

    let files = summary.files;
    writeln!(
        io::stdout().lock(),
        "site of {} ({}) in {}: {} written, {} unchanged, {} removed ({:.1} s)",
        plural(summary.documents, "document"),
        plural(summary.versions, "version"),
        args.out.display(),
        plural(files.written, "file"),
        files.unchanged,
        files.removed,
        started.elapsed().as_secs_f64()
    )?;
    Ok(ExitCode::SUCCESS)
}
