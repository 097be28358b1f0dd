//! The command line: clap definitions, dispatch, output, and exit codes.
//!
//! Errors are values until here; this is the one place that prints them, once, with
//! their context, and turns them into an exit code:
//! 0 success, 1 some documents failed (or `check` found problems), 2 usage or
//! configuration error, 3 the run could not proceed (archive locked, git or I/O error),
//! 4 `track` found an outage: every document failed before reaching a server.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

mod alerts;
pub mod args;
mod export;
mod github;
mod history;
mod import;
mod provisions;
pub mod reference;
mod show;
mod site;

pub use args::{DocumentSpec, Interval, When};

use crate::archive::{Archive, ArchiveError};
use crate::canon::{self, Selection};
use crate::clock::Clock;
use crate::config::{AlertOverrides, AlertSettings, FileConfig, Overrides, Settings};
use crate::declaration::{self, Service};
use crate::fetch::HttpFetcher;
use crate::report::html::plural;
use crate::track::{self, DocumentOutcome, Status, TrackOptions};

const AFTER_HELP: &str = "\
Environment:
  CLAUSEWATCH_NOW=2026-03-02T00:00:00Z  replace the clock (fetch times, commit dates)
  CLAUSEWATCH_ALLOW_PRIVATE=1           same as --allow-private
  CLAUSEWATCH_LOG=debug                 log detail on stderr
  CLAUSEWATCH_NOTIFY=URL[,URL...]       track: webhooks for alerts (same as --notify)

Exit codes: 0 success; 1 some documents failed, or check found problems;
2 usage or configuration error; 3 the run could not proceed (archive locked, git or I/O).";

/// Keeps a version-controlled archive of platform terms, privacy and AI policies.
#[derive(Debug, Parser)]
#[command(name = "clausewatch", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// The archive folder (inside a git repository, or a repository of its own).
    #[arg(
        long,
        global = true,
        env = "CLAUSEWATCH_ARCHIVE",
        default_value = "archive",
        value_name = "DIR"
    )]
    pub archive: PathBuf,

    /// More log detail on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an archive with the default services, and commit it.
    ///
    /// Inside a git repository the archive becomes a folder of it; elsewhere a new
    /// repository (branch `main`) is created. Existing files are never overwritten.
    Init(InitArgs),
    /// Fetch every declared document and record each new version as one commit.
    ///
    /// A document whose text did not change records nothing. A failed document (HTTP
    /// error, selector without a match, a text that shrank by more than half) is
    /// reported and never recorded; the others still are. Exit code 1 when any failed.
    Track(TrackArgs),
    /// Validate every declaration and warn about fragile selectors (class names generated
    /// by a front-end build, ranges that start and end at the same element); with
    /// --fetch, also fetch each document twice and report those whose text differs
    /// between the two fetches, fails, or would be refused against the recorded version,
    /// with a suggested selector; with --snapshots, re-extract each latest stored
    /// snapshot with the current declaration and report texts that would change (offline).
    ///
    /// An unstable text (a date that moves, rotating content, an A/B test) would record
    /// noise as versions: fix the declaration's select/remove before tracking it. With
    /// --github-issues, --fetch keeps one GitHub issue open per unhealthy declaration.
    Check(CheckArgs),
    /// Print the canonical text of one page, to write and debug declarations.
    ///
    /// A file is read as fetched bytes (charset rules included); a URL is fetched.
    Extract(ExtractArgs),
    /// The versions, newest first: date, commit, document, change kind, counts
    /// (+added -removed ~changed >moved) and summary.
    Log(history::LogArgs),
    /// Sentence-level diff between two versions, with word-level detail.
    ///
    /// Sentences added (+), removed (-), changed (~, with [-old-]{+new+} words) and moved
    /// (>), grouped under their section headings.
    Diff(history::DiffArgs),
    /// Every substantive change in a period: Markdown, HTML, JSON or Atom.
    ///
    /// Cosmetic changes and re-extractions are left out; first records are included.
    Report(history::ReportArgs),
    /// An Atom feed of the substantive changes of one document, a service, or all.
    Feed(history::FeedArgs),
    /// Each sentence of a version with the date and commit it first appeared, and its age.
    ///
    /// Re-extraction commits are looked through: a sentence is as old as the version
    /// that introduced its wording. A sentence of the document's first record was there
    /// when recording began: its age is a lower bound (>=), and JSON says
    /// `since_first_record: true`.
    Blame(history::BlameArgs),
    /// Rebuild texts from the stored snapshots with the current canonicalizer and
    /// declarations; each rebuilt text is a commit marked `Change: reextract`.
    Reextract(ReextractArgs),
    /// The sentences of a version tagged with the provisions they express, and the
    /// stance each takes (grants, restricts, conditional, neutral).
    Provisions(provisions::ProvisionsArgs),
    /// For each provision of a document: when it appeared, each version in which its
    /// sentences changed (old and new wording), and when it disappeared.
    ///
    /// A provision the first recorded version states is "present at the first record",
    /// not new; versions in a language the tagger does not read are listed as not
    /// tagged, and the first event after them says so.
    Timeline(provisions::TimelineArgs),
    /// How every platform states a provision, and since when: each platform's position
    /// in a few words from its strongest sentence, then every sentence; several ids or
    /// --all give a provision × platform matrix of positions.
    ///
    /// A since-date that is the document's first record reads "first record (DATE)":
    /// the sentence was already there when recording began.
    Compare(provisions::CompareArgs),
    /// Render the archive as a static website (for GitHub Pages): every document with
    /// its current text and sentence ages, its versions and their diffs, period reports,
    /// provision comparisons and Atom feeds.
    ///
    /// Links are relative and nothing is loaded from elsewhere, so the folder works from
    /// file:// and under any path. A rerun updates the folder in place and removes only
    /// files an earlier run wrote.
    Site(site::SiteArgs),
    /// One version's text with its provenance, for citing: SERVICE/TYPE@DATE (the version
    /// in force at the end of that day), SERVICE/TYPE@COMMIT or SERVICE/TYPE@latest.
    ///
    /// Prints the source URLs, fetch or capture time, snapshot hash (checked against the
    /// stored file), fetcher, canonicalizer version, commit id, and GitHub permalinks
    /// when the repository's origin is on GitHub; then the text.
    #[command(after_help = show::SHOW_HELP)]
    Show(show::ShowArgs),
    /// The history as research tables: SQLite (indexes, full-text search), CSV or JSON
    /// Lines; incremental.
    ///
    /// Four tables: documents, versions (with their texts), sentence changes, and
    /// provision occurrences. A second run on the same --out adds only what is new.
    #[command(after_help = export::EXPORT_HELP)]
    Export(export::ExportArgs),
    /// Bring declarations or history in from elsewhere.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of clausewatch, or of one command.
    #[command(
        after_help = "Examples:\n  clausewatch man > ~/.local/share/man/man1/clausewatch.1\n  clausewatch man track > ~/.local/share/man/man1/clausewatch-track.1"
    )]
    Man {
        /// A command (`track`, `import wayback`): its own page, clausewatch-COMMAND(1).
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
    },
}

const COMPLETIONS_HELP: &str = "\
Examples:
  clausewatch completions bash > ~/.local/share/bash-completion/completions/clausewatch
  clausewatch completions zsh > ~/.zfunc/_clausewatch     # with fpath+=~/.zfunc
  clausewatch completions fish > ~/.config/fish/completions/clausewatch.fish
  clausewatch completions powershell >> $PROFILE
  clausewatch completions elvish > ~/.config/elvish/lib/clausewatch.elv";

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Convert Open Terms Archive JSON declarations (a file or a folder of them) into
    /// services/*.toml, saying what could not be converted (named JavaScript filters).
    ///
    /// History files (*.history.json) are skipped. Where several files declare the same
    /// service (tiktok.json, tiktok.pga.json), the first in name order is kept.
    OtaDeclarations(ImportOtaArgs),
    /// Replay an Open Terms Archive versions repository's history of one service: each
    /// version's Markdown becomes our canonical text, dated at OTA's commit.
    #[command(after_help = format!("{}\n\n{}", import::OTA_VERSIONS_HELP, import::CHRONOLOGY_HELP))]
    OtaVersions(import::OtaHistoryArgs),
    /// Replay an Open Terms Archive snapshots repository's history of one service through
    /// our own canonicalizer and declarations.
    #[command(after_help = format!("{}\n\n{}", import::OTA_SNAPSHOTS_HELP, import::CHRONOLOGY_HELP))]
    OtaSnapshots(import::OtaHistoryArgs),
    /// Backfill one document from the Wayback Machine: list its captures, keep one per
    /// day, week or month, and record each changed text dated at its capture.
    #[command(after_help = format!("{}\n\n{}", import::WAYBACK_HELP, import::CHRONOLOGY_HELP))]
    Wayback(import::WaybackArgs),
}

#[derive(Debug, Args)]
pub struct ImportOtaArgs {
    /// An OTA declaration file, or a folder of them.
    pub source: PathBuf,
    /// Overwrite declarations that already exist.
    #[arg(long)]
    pub force: bool,
    /// Show what would be written without writing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ReextractArgs {
    /// Only this service or SERVICE/TYPE (repeatable).
    #[arg(long = "service", short = 's', value_name = "SERVICE[/TYPE]")]
    pub services: Vec<DocumentSpec>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Read stored snapshot pages up to this size: the body cap `track` fetched them
    /// under, 1 to 64 [default: 20].
    #[arg(long, env = "CLAUSEWATCH_MAX_BODY_MB", value_name = "MB")]
    pub max_body_mb: Option<u64>,
    #[command(flatten)]
    pub author: AuthorArgs,
}

/// Who commits: every command that records versions.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Commit options")]
pub struct AuthorArgs {
    /// Commit author name [default: clausewatch].
    #[arg(long, env = "CLAUSEWATCH_AUTHOR_NAME")]
    pub author_name: Option<String>,
    /// Commit author e-mail.
    #[arg(long, env = "CLAUSEWATCH_AUTHOR_EMAIL")]
    pub author_email: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to create the archive (default: --archive).
    pub dir: Option<PathBuf>,
    /// Create only the folders, without the default services.
    #[arg(long)]
    pub empty: bool,
    /// Leave the new files uncommitted.
    #[arg(long)]
    pub no_commit: bool,
}

#[derive(Debug, Args)]
pub struct TrackArgs {
    /// Track only this service or SERVICE/TYPE (repeatable).
    #[arg(long = "service", short = 's', value_name = "SERVICE[/TYPE]")]
    pub services: Vec<DocumentSpec>,
    /// Print a JSON summary instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Record texts that lost more than half their length, or that are the last
    /// version's beginning cut short (`truncated`): of every document (bare flag) or of
    /// SERVICE[/TYPE] (repeatable, --accept-shrink=x/privacy-policy). A text that only
    /// lost a duplicated copy is recorded without it.
    #[arg(long, value_name = "SERVICE[/TYPE]", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub accept_shrink: Vec<String>,
    /// Hide the progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Post an alert for each substantive change and failure transition to this webhook
    /// (repeatable). Slack and Discord webhook URLs get their own payloads; prefix
    /// slack+, discord+ or json+ to choose. URLs hold secrets: prefer CLAUSEWATCH_NOTIFY.
    #[arg(long = "notify", value_name = "URL")]
    pub notify: Vec<String>,
    /// Remind of a document that keeps failing after this long: 7d, 36h, 2w, a number
    /// of hours, or never [default: 7d].
    #[arg(long, env = "CLAUSEWATCH_REMIND_AFTER", value_name = "INTERVAL")]
    pub remind_after: Option<Interval>,
    /// Open a GitHub issue per failing document, comment on reminders, close it on
    /// recovery (needs GITHUB_TOKEN and GITHUB_REPOSITORY; GITHUB_API_URL optional).
    #[arg(long, env = "CLAUSEWATCH_GITHUB_ISSUES", value_parser = clap::builder::FalseyValueParser::new())]
    pub github_issues: bool,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub author: AuthorArgs,
}

/// How a run over many documents paces itself: `track` and `check --fetch`.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Run options")]
pub struct RunArgs {
    /// Documents fetched at once (one request at a time per host) [default: 32].
    #[arg(long, short = 'j', env = "CLAUSEWATCH_JOBS")]
    pub jobs: Option<usize>,
    /// Seconds between two requests to the same host [default: 1].
    #[arg(long, env = "CLAUSEWATCH_HOST_DELAY", value_name = "SECONDS")]
    pub host_delay: Option<f64>,
    /// Seconds a page may take to render in the browser fetcher [default: 30].
    #[arg(long, env = "CLAUSEWATCH_BROWSER_TIMEOUT", value_name = "SECONDS")]
    pub browser_timeout: Option<f64>,
    /// Fetch without validators (so no 304) once the recorded version is this old:
    /// 24h, 2d, a number of hours, or never [default: 24h].
    #[arg(long, env = "CLAUSEWATCH_REVALIDATE_AFTER", value_name = "INTERVAL")]
    pub revalidate_after: Option<Interval>,
}

/// How one page is fetched: every command that fetches. Each also reads the environment
/// and `clausewatch.toml`.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Fetch options")]
pub struct FetchArgs {
    /// Seconds a whole request may take, body included [default: 60].
    #[arg(long, env = "CLAUSEWATCH_TIMEOUT", value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Retries of a transient failure (timeout, reset, 5xx, 429) [default: 2].
    #[arg(long, env = "CLAUSEWATCH_RETRIES")]
    pub retries: Option<u32>,
    /// Seconds before the first retry, doubling after [default: 2].
    #[arg(long, env = "CLAUSEWATCH_RETRY_DELAY", value_name = "SECONDS")]
    pub retry_delay: Option<f64>,
    /// Largest accepted body, after decompression, 1 to 64 [default: 20].
    #[arg(long, env = "CLAUSEWATCH_MAX_BODY_MB", value_name = "MB")]
    pub max_body_mb: Option<u64>,
    /// A contact (e-mail or URL) added to the User-Agent.
    #[arg(long, env = "CLAUSEWATCH_CONTACT")]
    pub contact: Option<String>,
    /// Allow fetching loopback and private-network addresses (also after redirects), and
    /// sending `track`'s webhook alerts to them.
    #[arg(long, env = "CLAUSEWATCH_ALLOW_PRIVATE", value_parser = clap::builder::FalseyValueParser::new())]
    pub allow_private: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Fetch each document twice and compare the texts.
    #[arg(long, conflicts_with = "snapshots")]
    pub fetch: bool,
    /// Offline drift check: re-extract each document's latest stored snapshot with its
    /// current declaration and report texts that would change or become empty, and
    /// selectors that match several separate parts of the page.
    #[arg(long)]
    pub snapshots: bool,
    /// Only these services or SERVICE/TYPE documents.
    #[arg(value_name = "SERVICE[/TYPE]")]
    pub services: Vec<DocumentSpec>,
    /// With --fetch or --snapshots: print JSON.
    #[arg(long)]
    pub json: bool,
    /// With --fetch: open, update and close one GitHub issue per unhealthy declaration,
    /// with the differing lines and a suggested selector (reads GITHUB_TOKEN and
    /// GITHUB_REPOSITORY, as a GitHub Actions run sets them).
    #[arg(long, requires = "fetch")]
    pub github_issues: bool,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub fetch_options: FetchArgs,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// A saved page (HTML or text) or an http(s) URL.
    pub source: String,
    /// CSS selector whose content is kept (repeatable).
    #[arg(long)]
    pub select: Vec<String>,
    /// CSS selector removed first (repeatable).
    #[arg(long)]
    pub remove: Vec<String>,
    /// The content type of a file, when its extension does not tell.
    #[arg(long)]
    pub content_type: Option<String>,
    #[command(flatten)]
    pub fetch: FetchArgs,
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub error: anyhow::Error,
}

fn usage(error: impl Into<anyhow::Error>) -> CliError {
    CliError {
        code: 2,
        error: error.into(),
    }
}

fn runtime(error: impl Into<anyhow::Error>) -> CliError {
    CliError {
        code: 3,
        error: error.into(),
    }
}

impl From<io::Error> for CliError {
    fn from(error: io::Error) -> CliError {
        runtime(error)
    }
}

impl From<ArchiveError> for CliError {
    fn from(error: ArchiveError) -> CliError {
        match error {
            ArchiveError::NoArchive { path } => usage(no_archive(&path)),
            ArchiveError::NotARepository { .. } | ArchiveError::Bare { .. } => usage(error),
            _ => runtime(error),
        }
    }
}

/// What to do where there is no archive at `path`: pass the archive this folder is in,
/// or create one there, never an `init` that would make an archive inside an archive.
fn no_archive(path: &str) -> anyhow::Error {
    let cwd = std::env::current_dir().unwrap_or_default();
    let enclosing = cwd.ancestors().enumerate().find(|(_, dir)| is_archive(dir));
    if let Some((depth, _)) = enclosing {
        let shown = if depth == 0 {
            ".".to_string()
        } else {
            vec![".."; depth].join("/")
        };
        return anyhow::anyhow!(
            "no archive at {path}; this folder is inside the archive {shown}: pass --archive {shown}"
        );
    }
    let init = if path == "archive" {
        "clausewatch init".to_string()
    } else {
        format!("clausewatch init {path}")
    };
    anyhow::anyhow!("no archive at {path}: run `{init}` to create one, or pass --archive DIR")
}

/// Parses the command line, runs it, and prints any error once.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Neither --archive nor CLAUSEWATCH_ARCHIVE: look for the archive around here.
    if matches.value_source("archive") == Some(ValueSource::DefaultValue) {
        let wants_new = matches!(&cli.command, Command::Init(InitArgs { dir: Some(_), .. }));
        if !wants_new && let Ok(cwd) = std::env::current_dir() {
            cli.archive = locate_archive(&cwd, &cli.archive);
        }
    }
    init_logging(cli.verbose);
    // A panic is a bug, but the user still gets one clear line and exit code 3, not a
    // backtrace (RUST_BACKTRACE=1 shows it for a bug report).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error, please report it: {info}");
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
    }));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli)));
    let Ok(outcome) = outcome else { return ExitCode::from(3) };
    match outcome {
        Ok(code) => code,
        Err(CliError { code, error }) => {
            // A closed pipe (`clausewatch log | head`) is the reader's choice, not an error.
            if error.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {error:#}");
            ExitCode::from(code)
        }
    }
}

/// Whether `dir` is an archive folder: `clausewatch init` makes `services/` and
/// `versions/`.
fn is_archive(dir: &Path) -> bool {
    dir.join("services").is_dir() && dir.join("versions").is_dir()
}

/// The archive to use when none was named: `default` (`archive`) under the current
/// folder; else the current folder itself or the nearest folder above it that is an
/// archive or holds one in `archive/` (after `clausewatch init DIR && cd DIR`, or from
/// `DIR/services`); the search stops at the top of the git repository. Returned as a
/// path relative to `cwd`, as messages show it; `default` when nothing is found, so the
/// error names what was looked for.
pub fn locate_archive(cwd: &Path, default: &Path) -> PathBuf {
    if cwd.join(default).join("services").is_dir() {
        return default.to_path_buf();
    }
    let mut up = PathBuf::new();
    for dir in cwd.ancestors() {
        let here = if up.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            up.clone()
        };
        if is_archive(dir) {
            return here;
        }
        if is_archive(&dir.join(default)) {
            return here.join(default);
        }
        if dir.join(".git").exists() {
            break;
        }
        up.push("..");
    }
    default.to_path_buf()
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        // PDF parsing libraries warn about every odd glyph name; a user cannot act on that.
        0 => "warn,pdf_extract=error,lopdf=error",
        1 => "clausewatch=info",
        _ => "clausewatch=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLAUSEWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_target(false)
        .try_init();
}

pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let clock = Clock::from_env().map_err(usage)?;
    match cli.command {
        Command::Init(args) => init(&cli.archive, args, clock),
        Command::Track(args) => track(&cli.archive, args, clock),
        Command::Check(args) if args.fetch => check_fetch(&cli.archive, args, clock),
        Command::Check(args) if args.snapshots => check_snapshots(&cli.archive, args),
        Command::Check(args) => check(&cli.archive, args),
        Command::Extract(args) => extract(args),
        Command::Log(args) => history::log(&cli.archive, args, clock),
        Command::Diff(args) => history::diff(&cli.archive, args, clock),
        Command::Report(args) => history::report(&cli.archive, args, clock),
        Command::Feed(args) => history::feed(&cli.archive, args, clock),
        Command::Blame(args) => history::blame_cmd(&cli.archive, args, clock),
        Command::Reextract(args) => reextract(&cli.archive, args, clock),
        Command::Provisions(args) => provisions::provisions(&cli.archive, args, clock),
        Command::Timeline(args) => provisions::timeline(&cli.archive, args),
        Command::Compare(args) => provisions::compare(&cli.archive, args, clock),
        Command::Site(args) => site::site(&cli.archive, args, clock),
        Command::Import(ImportCommand::OtaDeclarations(args)) => import_ota(&cli.archive, args),
        Command::Import(ImportCommand::OtaVersions(args)) => {
            import::ota_history(&cli.archive, crate::import::ota::OtaKind::Versions, args, clock)
        }
        Command::Import(ImportCommand::OtaSnapshots(args)) => {
            import::ota_history(&cli.archive, crate::import::ota::OtaKind::Snapshots, args, clock)
        }
        Command::Import(ImportCommand::Wayback(args)) => import::wayback(&cli.archive, args, clock),
        Command::Export(args) => export::export(&cli.archive, args, clock),
        Command::Show(args) => show::show(&cli.archive, args),
        Command::Completions { shell } => {
            let mut out = io::stdout().lock();
            reference::completions(shell, &mut out);
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { command } => {
            let mut out = io::stdout().lock();
            match reference::man(&command, &mut out) {
                Some(written) => written?,
                None => {
                    return Err(usage(anyhow::anyhow!(
                        "no command {:?}: see `clausewatch help`",
                        command.join(" ")
                    )));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init(archive_dir: &Path, args: InitArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let dir = args.dir.unwrap_or_else(|| archive_dir.to_path_buf());
    let files: &[(&str, &str)] = if args.empty {
        &[]
    } else {
        crate::defaults::DEFAULT_ARCHIVE
    };
    let (archive, created) = Archive::init(&dir, files)?;
    let mut out = io::stdout().lock();
    if created.is_empty() {
        writeln!(out, "{} already has an archive; nothing to create", dir.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    let services = created
        .iter()
        .filter(|f| f.starts_with("services/") && f.ends_with(".toml"))
        .count();
    writeln!(
        out,
        "created an archive in {} ({} files, {services} service declarations)",
        dir.display(),
        created.len()
    )?;
    if !args.no_commit {
        let identity = crate::archive::Identity::default();
        if let Some(oid) =
            archive.commit_files(&created, "Initialize the clausewatch archive", &identity, clock.now())?
        {
            writeln!(out, "committed as {}", &oid.to_string()[..12])?;
        }
    }
    writeln!(out, "next: `clausewatch --archive {} track`", dir.display())?;
    Ok(ExitCode::SUCCESS)
}

/// Loads and validates the declarations, printing every problem.
fn load_services(archive: &Archive) -> Result<Vec<Service>, CliError> {
    declaration::load_all(&archive.services_dir()).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        usage(anyhow::anyhow!("invalid declarations:\n{}", list.join("\n")))
    })
}

/// The settings of a run: defaults, `clausewatch.toml`, then the environment and flags a
/// command has (those it has not are left to the file and the defaults).
fn settings(archive_root: &Path, fetch: &FetchArgs, run: &RunArgs, author: &AuthorArgs) -> Result<Settings, CliError> {
    let file = FileConfig::load(archive_root).map_err(usage)?;
    let overrides = Overrides {
        contact: fetch.contact.clone(),
        jobs: run.jobs,
        host_delay: run.host_delay,
        timeout: fetch.timeout,
        retries: fetch.retries,
        retry_delay: fetch.retry_delay,
        max_body_mb: fetch.max_body_mb,
        browser_timeout: run.browser_timeout,
        author_name: author.author_name.clone(),
        author_email: author.author_email.clone(),
        allow_private: fetch.allow_private,
        revalidate_after: run.revalidate_after.map(|i| i.0),
    };
    Settings::resolve(&file, &overrides).map_err(usage)
}

fn track_options(
    settings: Settings,
    accept_shrink: crate::track::ShrinkAcceptance,
    clock: Clock,
    archive: &Archive,
) -> Result<TrackOptions, CliError> {
    Ok(TrackOptions {
        fetch: settings.fetch,
        jobs: settings.jobs,
        host_delay: settings.host_delay,
        accept_shrink,
        identity: settings.identity,
        now: clock.now(),
        taxonomy: provisions::taxonomy(archive)?,
        browser: settings.browser,
        revalidate_after: settings.revalidate_after,
    })
}

/// Keeps the services and documents named by `--service` filters.
fn filter_services(services: Vec<Service>, filters: &[DocumentSpec]) -> Result<Vec<Service>, CliError> {
    if filters.is_empty() {
        return Ok(services);
    }
    let mut kept: Vec<Service> = Vec::new();
    for filter in filters {
        let (slug, doc_type) = (filter.service.as_str(), filter.doc_type.as_deref());
        let Some(service) = services.iter().find(|s| s.slug == slug) else {
            let known: Vec<&str> = services.iter().map(|s| s.slug.as_str()).collect();
            return Err(usage(anyhow::anyhow!(
                "no service {slug:?} is declared (known: {})",
                known.join(", ")
            )));
        };
        let documents = match doc_type {
            None => service.documents.clone(),
            Some(t) => match service.document(t) {
                Some(d) => vec![d.clone()],
                None => {
                    let known: Vec<&str> = service.documents.iter().map(|d| d.doc_type.as_str()).collect();
                    return Err(usage(anyhow::anyhow!(
                        "{slug} declares no document {t:?} (it has: {})",
                        known.join(", ")
                    )));
                }
            },
        };
        match kept.iter_mut().find(|s| s.slug == slug) {
            Some(existing) => {
                for d in documents {
                    if existing.document(&d.doc_type).is_none() {
                        existing.documents.push(d);
                    }
                }
            }
            None => kept.push(Service {
                documents,
                ..service.clone()
            }),
        }
    }
    Ok(kept)
}

fn track(archive_dir: &Path, args: TrackArgs, clock: Clock) -> Result<ExitCode, CliError> {
    limit_malloc_arenas();
    let archive = Archive::open(archive_dir)?;
    let declared = load_services(&archive)?;
    let services = filter_services(declared.clone(), &args.services)?;
    let settings = settings(archive.root(), &args.fetch, &args.run, &args.author)?;
    let alert_settings = alert_settings(archive.root(), &args)?;
    // Checked before fetching: a run that cannot open issues should say so at once.
    let github_issues = if alert_settings.github_issues {
        Some(crate::notify::issues::GithubIssues::from_env(|name| std::env::var(name).ok()).map_err(usage)?)
    } else {
        None
    };
    let _lock = archive.lock()?;
    // Checked before anything is fetched or committed: status.json is written after the
    // versions, and a link there must not stop the run halfway.
    archive.check_writable(crate::status::STATUS_FILE)?;

    let total: usize = services.iter().map(|s| s.documents.len()).sum();
    let progress = if args.no_progress || args.json || !io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    };
    let send = crate::notify::SendOptions {
        user_agent: settings.fetch.user_agent.clone(),
        timeout: settings.fetch.timeout,
        retries: settings.fetch.retries,
        retry_delay: settings.fetch.retry_delay,
        allow_private: settings.fetch.allow_private,
    };
    let options = track_options(
        settings,
        crate::track::ShrinkAcceptance::from_values(&args.accept_shrink),
        clock,
        &archive,
    )?;
    provisions::check_tag_cache_writable(&archive, &options.taxonomy)?;
    let started = Instant::now();
    let mut write_error: Option<io::Error> = None;
    let report = track::track(&archive, &services, &options, |outcome| {
        progress.inc(1);
        if args.json || write_error.is_some() {
            return;
        }
        let line = outcome_line(outcome);
        progress.suspend(|| {
            if let Err(e) = writeln!(io::stdout().lock(), "{line}") {
                write_error = Some(e);
            }
        });
    })?;
    progress.finish_and_clear();
    if let Some(e) = write_error {
        return Err(e.into());
    }
    // After the versions: a kill in between loses only tags, which the next run redoes.
    let tag_cache = provisions::save_tag_cache(&archive, &options.taxonomy, &options.identity, options.now)?;
    if let Some(outage) = report.outage.as_ref().filter(|o| o.is_run()) {
        return run_outage(&report, outage, args.json, started);
    }

    // Versions are committed; what follows can report problems but not lose them.
    let follow_up = alerts::follow_up(
        &alerts::Context {
            archive: &archive,
            declared: &declared,
            alerts: &alert_settings,
            issues: github_issues.as_ref(),
            send,
            identity: &options.identity,
            taxonomy: &options.taxonomy,
            now: options.now,
        },
        &report,
    )?;
    {
        let mut err = io::stderr().lock();
        for warning in alerts::warnings(&follow_up) {
            let _ = writeln!(err, "{warning}");
        }
    }

    let mut out = io::stdout().lock();
    for annotation in github::report(&report)? {
        writeln!(out, "{annotation}")?;
    }
    for annotation in github::report_follow_up(&follow_up)? {
        writeln!(out, "{annotation}")?;
    }
    if args.json {
        #[derive(serde::Serialize)]
        struct TrackJson<'a> {
            documents: &'a [DocumentOutcome],
            #[serde(skip_serializing_if = "Option::is_none")]
            outage: Option<&'a track::Outage>,
            #[serde(flatten)]
            follow_up: &'a alerts::FollowUp,
            #[serde(skip_serializing_if = "Option::is_none")]
            tag_cache: Option<&'a provisions::TagCacheReport>,
            timings: track::Timings,
        }
        write_json(
            &mut out,
            &TrackJson {
                documents: &report.documents,
                outage: report.outage.as_ref(),
                follow_up: &follow_up,
                tag_cache: tag_cache.as_ref(),
                timings: report.timings,
            },
        )?;
    } else {
        for line in alerts::lines(&follow_up) {
            writeln!(out, "{line}")?;
        }
        if let Some(line) = tag_cache.as_ref().and_then(provisions::TagCacheReport::line) {
            writeln!(out, "{line}")?;
        }
        if let Some(outage) = &report.outage {
            for line in outage.message().lines() {
                writeln!(
                    out,
                    "outage     {}; their failure tracking is left as it was",
                    crate::printable::Printable(line)
                )?;
            }
        }
        writeln!(
            out,
            "{} recorded, {} unchanged, {} failed ({} in {:.1} s)",
            report.recorded(),
            report.unchanged(),
            report.failed(),
            plural(report.documents.len(), "document"),
            started.elapsed().as_secs_f64()
        )?;
    }
    // Alerts and issues never change the exit code: it says how tracking went.
    Ok(if report.failed() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A run in which no document reached a server (see [`track::Outage`]): nothing was
/// recorded, and failure tracking, issues and alerts are left alone, since the next run
/// with a network would undo whatever they did. Exit code 4.
fn run_outage(
    report: &track::TrackReport,
    outage: &track::Outage,
    json: bool,
    started: Instant,
) -> Result<ExitCode, CliError> {
    let mut out = io::stdout().lock();
    // Inside GitHub Actions: the job summary and outputs, like any run.
    for annotation in github::report(report)? {
        writeln!(out, "{annotation}")?;
    }
    if json {
        write_json(&mut out, report)?;
    } else {
        writeln!(
            out,
            "0 recorded, 0 unchanged, {} failed ({} in {:.1} s)",
            report.failed(),
            plural(report.documents.len(), "document"),
            started.elapsed().as_secs_f64()
        )?;
    }
    drop(out);
    eprintln!(
        "error: {}; nothing was recorded, and failure tracking, issues and alerts were left as they were",
        crate::printable::Printable(&outage.message())
    );
    Ok(ExitCode::from(4))
}

/// glibc gives threads that allocate at once arenas of their own (up to eight per core)
/// and keeps what each freed; with pages parsed on the blocking pool, a run's peak memory
/// grew with its length. Two arenas cut the peak of a 1,000-document first run by a
/// quarter (BENCHMARKS.md). Called before the run starts its threads.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of the allocator; no memory is touched.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Alert settings: `--notify` (else `CLAUSEWATCH_NOTIFY`), `--remind-after`,
/// `--github-issues`, over the archive's `clausewatch.toml`.
fn alert_settings(archive_root: &Path, args: &TrackArgs) -> Result<AlertSettings, CliError> {
    let file = FileConfig::load(archive_root).map_err(usage)?;
    let notify = if args.notify.is_empty() {
        std::env::var("CLAUSEWATCH_NOTIFY")
            .ok()
            .map(|v| crate::notify::target::split_list(&v))
            .filter(|list| !list.is_empty())
    } else {
        Some(args.notify.clone())
    };
    let overrides = AlertOverrides {
        notify,
        remind_after: args.remind_after.map(|i| i.0),
        github_issues: args.github_issues,
    };
    AlertSettings::resolve(&file, &overrides, |name| std::env::var(name).ok()).map_err(usage)
}

/// An error and its causes, each once, joined by ": " (what `{:#}` prints for anyhow):
/// error types leave their source out of their own message.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Pretty JSON and a final newline: what every `--json` prints.
fn write_json(out: &mut impl io::Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value)
        .context("cannot write JSON")
        .map_err(runtime)?;
    writeln!(out)?;
    Ok(())
}

fn outcome_line(outcome: &DocumentOutcome) -> String {
    use crate::printable::Printable;
    let name = format!("{}/{}", outcome.service, outcome.document);
    // A failure message can quote what a server sent: printed escaped, like summaries.
    match &outcome.status {
        Status::Recorded { commit, summary, .. } => {
            format!(
                "recorded   {name}  {} ({})",
                Printable(summary),
                &commit[..commit.len().min(12)]
            )
        }
        Status::Unchanged => format!("unchanged  {name}"),
        Status::Failed { category, message } => format!("failed     {name}  {category}: {}", Printable(message)),
    }
}

fn reextract(archive_dir: &Path, args: ReextractArgs, clock: Clock) -> Result<ExitCode, CliError> {
    use crate::reextract::ReextractStatus;
    let archive = Archive::open(archive_dir)?;
    let services = filter_services(load_services(&archive)?, &args.services)?;
    let fetch = FetchArgs {
        max_body_mb: args.max_body_mb,
        ..FetchArgs::default()
    };
    let settings = settings(archive.root(), &fetch, &RunArgs::default(), &args.author)?;
    let _lock = archive.lock()?;
    let taxonomy = provisions::taxonomy(&archive)?;
    provisions::check_tag_cache_writable(&archive, &taxonomy)?;
    let outcomes = crate::reextract::reextract(
        &archive,
        &services,
        &settings.identity,
        clock.now(),
        &taxonomy,
        settings.fetch.max_body_bytes,
    )?;
    let tag_cache = provisions::save_tag_cache(&archive, &taxonomy, &settings.identity, clock.now())?;
    let mut out = io::stdout().lock();
    if args.json {
        write_json(&mut out, &outcomes)?;
    } else {
        for o in &outcomes {
            let name = format!("{}/{}", o.service, o.document);
            match &o.status {
                ReextractStatus::Rebuilt { commit, summary } => {
                    writeln!(out, "rebuilt    {name}  {summary} ({})", &commit[..12])?
                }
                ReextractStatus::Unchanged => writeln!(out, "unchanged  {name}")?,
                ReextractStatus::NoSnapshot => writeln!(out, "skipped    {name}  no recorded snapshot")?,
                ReextractStatus::Failed { category, message } => {
                    writeln!(out, "failed     {name}  {category}: {message}")?
                }
            }
        }
        if let Some(line) = tag_cache.as_ref().and_then(provisions::TagCacheReport::line) {
            writeln!(out, "{line}")?;
        }
    }
    let failed = outcomes
        .iter()
        .any(|o| matches!(o.status, ReextractStatus::Failed { .. }));
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `check --fetch`: declaration health (see [`crate::health`]). Exit 1 when a document
/// is unhealthy, 4 when no document reached a server (nothing is judged, no issue is
/// touched).
fn check_fetch(archive_dir: &Path, args: CheckArgs, clock: Clock) -> Result<ExitCode, CliError> {
    use crate::health::Health;
    use crate::notify::issues::{GithubIssues, HealthFinding, IssueAction};
    let archive = Archive::open(archive_dir)?;
    let declared = load_services(&archive)?;
    let services = filter_services(declared.clone(), &args.services)?;
    let settings = settings(archive.root(), &args.fetch_options, &args.run, &AuthorArgs::default())?;
    // Checked before fetching: a run that cannot open issues should say so at once.
    let github_issues = if args.github_issues {
        Some(GithubIssues::from_env(|name| std::env::var(name).ok()).map_err(usage)?)
    } else {
        None
    };
    let send = crate::notify::SendOptions {
        user_agent: settings.fetch.user_agent.clone(),
        timeout: settings.fetch.timeout,
        retries: settings.fetch.retries,
        retry_delay: settings.fetch.retry_delay,
        // Only the GitHub API is sent to here, at GITHUB_API_URL: the environment's
        // choice, never the archive's, so an Enterprise server inside the network works.
        allow_private: true,
    };
    let options = track_options(settings, crate::track::ShrinkAcceptance::None, clock, &archive)?;
    let report = crate::health::check(&archive, &services, &options)?;
    let run_outage = report.outage.as_ref().filter(|o| o.is_run());

    let mut issues: Vec<IssueAction> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    if let Some(github) = &github_issues
        && run_outage.is_none()
    {
        let service_name = |slug: &str| {
            declared
                .iter()
                .find(|s| s.slug == slug)
                .map_or_else(|| slug.to_string(), |s| s.name.clone())
        };
        // A document on a network outage, or failing in a way that may pass on its own,
        // says nothing of its declaration: its issue is left as it is.
        let findings: Vec<HealthFinding> = report
            .documents
            .iter()
            .filter(|d| !d.outage && !d.status.is_transient())
            .map(|d| HealthFinding {
                service: d.service.clone(),
                document: d.document.clone(),
                problem: (!d.status.is_healthy()).then(|| {
                    let info = crate::notify::issues::DocumentInfo {
                        title: crate::notify::document_title(&service_name(&d.service), &d.document),
                        source_urls: d.urls.clone(),
                    };
                    crate::notify::issues::health_body(&info, &d.service, &d.document, d)
                }),
            })
            .collect();
        // Only a run over every declared document can tell that one is gone.
        let is_declared = |service: &str, document: &str| {
            declared
                .iter()
                .any(|s| s.slug == service && s.document(document).is_some())
        };
        let is_declared: Option<crate::notify::issues::IsDeclared> = args.services.is_empty().then_some(&is_declared);
        match crate::notify::Sender::new(send) {
            Ok(sender) => issues = github.sync_health(&sender, &findings, is_declared, options.now),
            Err(e) => warnings.push(format!("warning: issues are skipped: {}", chain(&e))),
        }
    }
    for a in issues.iter().filter(|a| a.error.is_some()) {
        warnings.push(format!(
            "warning: GitHub issue for {}/{}: {}",
            a.service,
            a.document,
            a.error.as_deref().unwrap_or_default()
        ));
    }
    {
        let mut err = io::stderr().lock();
        for warning in &warnings {
            let _ = writeln!(err, "{warning}");
        }
    }

    let mut out = io::stdout().lock();
    if args.json {
        #[derive(serde::Serialize)]
        struct Checked<'a> {
            #[serde(flatten)]
            health: &'a crate::health::DocumentHealth,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            issues: Vec<&'a IssueAction>,
        }
        let checked: Vec<Checked> = report
            .documents
            .iter()
            .map(|d| Checked {
                health: d,
                issues: issues
                    .iter()
                    .filter(|a| a.service == d.service && a.document == d.document)
                    .collect(),
            })
            .collect();
        write_json(&mut out, &checked)?;
    } else {
        use crate::printable::Printable;
        for d in &report.documents {
            let name = format!("{}/{}", d.service, d.document);
            match &d.status {
                Health::Stable => writeln!(out, "stable     {name}")?,
                Health::Unstable {
                    first_only,
                    second_only,
                } => {
                    writeln!(out, "unstable   {name}")?;
                    for line in first_only {
                        writeln!(out, "    first fetch only:  {}", Printable(line))?;
                    }
                    for line in second_only {
                        writeln!(out, "    second fetch only: {}", Printable(line))?;
                    }
                }
                Health::Failed { category, message } => {
                    writeln!(out, "failed     {name}  {category}: {}", Printable(message))?
                }
                Health::Drifted {
                    category,
                    message,
                    recorded_only,
                    fetched_only,
                } => {
                    writeln!(out, "drifted    {name}  {category}: {}", Printable(message))?;
                    for line in recorded_only {
                        writeln!(out, "    recorded only:     {}", Printable(line))?;
                    }
                    for line in fetched_only {
                        writeln!(out, "    fetched only:      {}", Printable(line))?;
                    }
                }
            }
            match &d.fix {
                Some(crate::health::Fix::Selector { suggestion, .. }) => writeln!(
                    out,
                    "    suggested fix:     select = {:?} (recall {:.0}%, precision {:.0}%)",
                    suggestion.selector,
                    suggestion.overlap.recall * 100.0,
                    suggestion.overlap.precision * 100.0
                )?,
                Some(crate::health::Fix::NoSuggestion { reason }) => {
                    writeln!(out, "    no suggested fix:  {}", Printable(reason))?
                }
                None => {}
            }
        }
        for action in &issues {
            let name = format!("{}/{}", action.service, action.document);
            let number = action.issue.map(|n| format!(" #{n}")).unwrap_or_default();
            match &action.error {
                Some(error) => writeln!(out, "issue      {name}  failed{number}: {}", Printable(error))?,
                None => writeln!(out, "issue      {name}  {}{number}", action.action)?,
            }
        }
        if let Some(outage) = report.outage.as_ref().filter(|o| !o.is_run()) {
            for line in outage.message().lines() {
                writeln!(out, "outage     {}; its declarations are not judged", Printable(line))?;
            }
        }
        let count = |f: fn(&Health) -> bool| report.documents.iter().filter(|d| f(&d.status)).count();
        writeln!(
            out,
            "{} stable, {} unstable, {} drifted, {} failed",
            count(|s| matches!(s, Health::Stable)),
            count(|s| matches!(s, Health::Unstable { .. })),
            count(|s| matches!(s, Health::Drifted { .. })),
            count(|s| matches!(s, Health::Failed { .. }))
        )?;
    }
    drop(out);
    if let Some(outage) = run_outage {
        eprintln!(
            "error: {}; no declaration was judged, and no issue was touched",
            crate::printable::Printable(&outage.message())
        );
        return Ok(ExitCode::from(4));
    }
    let all_healthy = report.documents.iter().all(|d| d.status.is_healthy());
    Ok(if all_healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn import_ota(archive_dir: &Path, args: ImportOtaArgs) -> Result<ExitCode, CliError> {
    use crate::declaration::ota::{Outcome, convert};
    let archive = Archive::open(archive_dir)?;
    let files: Vec<PathBuf> = if args.source.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&args.source)
            .with_context(|| format!("cannot read {}", args.source.display()))
            .map_err(usage)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
    } else {
        vec![args.source.clone()]
    };
    // File names and declaration contents come from a repository we do not control.
    let mut out = crate::printable::Terminal::stdout(false);
    let (mut written, mut skipped, mut failed) = (0, 0, 0);
    let mut claimed: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // On one line whatever it holds (a file name can hold a line feed).
        let shown = crate::printable::Printable(&name);
        let json = match crate::declaration::ota::read_declaration(file) {
            Ok(json) => json,
            Err(e) => {
                writeln!(out, "failed     {shown}: cannot read: {e}")?;
                failed += 1;
                continue;
            }
        };
        match convert(&name, &json) {
            Err(message) => {
                writeln!(out, "failed     {shown}: {message}")?;
                failed += 1;
            }
            Ok(Outcome::Skipped { reason }) => {
                writeln!(out, "skipped    {shown}: {reason}")?;
                skipped += 1;
            }
            Ok(Outcome::Converted(converted)) => {
                let target = archive.services_dir().join(format!("{}.toml", converted.slug));
                if let Some(first) = claimed.get(&converted.slug) {
                    writeln!(
                        out,
                        "skipped    {shown}: services/{}.toml comes from {first} in this import",
                        converted.slug
                    )?;
                    skipped += 1;
                    continue;
                }
                if target.exists() && !args.force {
                    writeln!(
                        out,
                        "skipped    {shown}: services/{}.toml exists (--force overwrites it)",
                        converted.slug
                    )?;
                    skipped += 1;
                    continue;
                }
                claimed.insert(converted.slug.clone(), shown.to_string());
                if !args.dry_run {
                    std::fs::write(&target, &converted.toml)
                        .with_context(|| format!("cannot write {}", target.display()))
                        .map_err(runtime)?;
                }
                writeln!(
                    out,
                    "converted  {shown} -> services/{}.toml ({} documents)",
                    converted.slug, converted.documents
                )?;
                for warning in &converted.warnings {
                    writeln!(out, "    warning: {warning}")?;
                }
                written += 1;
            }
        }
    }
    writeln!(
        out,
        "{written} converted, {skipped} skipped, {failed} failed{}",
        if args.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    )?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn check(archive_dir: &Path, args: CheckArgs) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    let mut out = io::stdout().lock();
    match declaration::load_all(&archive.services_dir()) {
        Ok(services) => {
            let documents: usize = services.iter().map(|s| s.documents.len()).sum();
            let count = services.len();
            let services = filter_services(services, &args.services)?;
            let warnings = declaration::lint::lint(&services, &archive.services_dir());
            if args.json {
                write_json(
                    &mut out,
                    &serde_json::json!({ "services": count, "documents": documents, "warnings": warnings }),
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            for w in &warnings {
                writeln!(
                    out,
                    "warning    {}  {}/{}  {}",
                    w.location, w.service, w.document, w.message
                )?;
            }
            writeln!(
                out,
                "{}, {}: all declarations are valid{}",
                plural(count, "service"),
                plural(documents, "document"),
                match warnings.len() {
                    0 => String::new(),
                    1 => ", 1 warning".to_string(),
                    n => format!(", {n} warnings"),
                }
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for error in &errors {
                writeln!(out, "{error}")?;
            }
            writeln!(
                out,
                "{} problem{} found",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            )?;
            Ok(ExitCode::from(1))
        }
    }
}

/// `check --snapshots`: the offline drift check. Exit 1 when a text would change or
/// could no longer be extracted.
fn check_snapshots(archive_dir: &Path, args: CheckArgs) -> Result<ExitCode, CliError> {
    use crate::canon::regions::RegionProblem;
    use crate::reextract::Drift;
    let archive = Archive::open(archive_dir)?;
    let services = filter_services(load_services(&archive)?, &args.services)?;
    // Snapshots are read under the body cap they could have been fetched under.
    let settings = settings(
        archive.root(),
        &args.fetch_options,
        &RunArgs::default(),
        &AuthorArgs::default(),
    )?;
    let outcomes = crate::reextract::drift(&archive, &services, settings.fetch.max_body_bytes)?;
    let mut out = io::stdout().lock();
    if args.json {
        write_json(&mut out, &outcomes)?;
    } else {
        for o in &outcomes {
            let name = format!("{}/{}", o.service, o.document);
            match &o.drift {
                Drift::Same => writeln!(out, "same       {name}")?,
                Drift::NoSnapshot => writeln!(out, "no-snapshot {name}")?,
                Drift::Failed { category, message } => writeln!(out, "failed     {name}  {category}: {message}")?,
                Drift::Changed { removed, added } => {
                    writeln!(out, "changed    {name}")?;
                    for line in removed {
                        writeln!(out, "    recorded only: {line}")?;
                    }
                    for line in added {
                        writeln!(out, "    would become:  {line}")?;
                    }
                }
            }
            for problem in &o.problems {
                match problem {
                    RegionProblem::DisjointRegions { selector, regions } => writeln!(
                        out,
                        "warning    {name}  `{selector}` matches {regions} separate parts of the stored page"
                    )?,
                    RegionProblem::RangeWithoutEnd { start, end } => writeln!(
                        out,
                        "warning    {name}  the range from `{start}` has no `{end}` after it in the stored page"
                    )?,
                }
            }
        }
        let count = |f: fn(&Drift) -> bool| outcomes.iter().filter(|o| f(&o.drift)).count();
        writeln!(
            out,
            "{} same, {} changed, {} failed, {} without a snapshot",
            count(|d| matches!(d, Drift::Same)),
            count(|d| matches!(d, Drift::Changed { .. })),
            count(|d| matches!(d, Drift::Failed { .. })),
            count(|d| matches!(d, Drift::NoSnapshot)),
        )?;
    }
    let drifted = outcomes
        .iter()
        .any(|o| matches!(o.drift, Drift::Changed { .. } | Drift::Failed { .. }));
    Ok(if drifted { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn extract(args: ExtractArgs) -> Result<ExitCode, CliError> {
    let selection = Selection::css(&args.select, &args.remove).map_err(|f| usage(anyhow::anyhow!(f.message)))?;
    let (body, content_type) = if args.source.starts_with("http://") || args.source.starts_with("https://") {
        let url = url::Url::parse(&args.source)
            .with_context(|| format!("{:?} is not a valid URL", args.source))
            .map_err(usage)?;
        let settings = settings(Path::new("."), &args.fetch, &RunArgs::default(), &AuthorArgs::default())?;
        let fetcher = HttpFetcher::new(settings.fetch).map_err(|f| runtime(anyhow::anyhow!(f)))?;
        let runtime_ = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let page = runtime_.block_on(fetcher.fetch(&url)).map_err(|f| CliError {
            code: 1,
            error: f.into(),
        })?;
        (page.body, page.content_type)
    } else {
        let path = Path::new(&args.source);
        let body = std::fs::read(path)
            .with_context(|| format!("cannot read {}", path.display()))
            .map_err(usage)?;
        let guessed = match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("html" | "htm" | "xhtml") => Some("text/html".to_string()),
            Some("txt") => Some("text/plain".to_string()),
            Some("md" | "markdown") => Some("text/markdown".to_string()),
            Some("pdf") => Some("application/pdf".to_string()),
            _ => None,
        };
        (body, args.content_type.clone().or(guessed))
    };
    let text = canon::canonicalize(&body, content_type.as_deref(), &selection).map_err(|f| CliError {
        code: 1,
        error: f.into(),
    })?;
    io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
