//! Provision commands: `provisions`, `timeline` and `compare`.

use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::{Args, ValueEnum};

use super::args::{self, DocumentSpec, When};
use super::history::{check_known, write_output};
use super::{CliError, runtime, usage, write_json};
use crate::archive::Archive;
use crate::clock::Clock;
use crate::printable::Terminal;
use crate::provision::{LearnedTagger, TAG_CACHE_FILE, Taxonomy};
use crate::report::html::plural;
use crate::report::markdown::escape;
use crate::report::provisions::{
    self, Comparison, DatedSentence, Matrix, TimelineEvent, UntaggedDocument, UntaggedSpan, Wording, moment_label,
};
use crate::report::provisions_html as html;
use crate::report::since;

#[derive(Debug, Args)]
pub struct ProvisionsArgs {
    /// SERVICE/TYPE.
    #[arg(value_name = "SERVICE/TYPE", value_parser = args::document)]
    pub document: DocumentSpec,
    /// The version in force at the end of DATE instead of the latest.
    #[arg(long, value_name = "DATE")]
    pub at: Option<When>,
    /// Only this provision id.
    #[arg(long, value_name = "ID")]
    pub provision: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// SERVICE/TYPE.
    #[arg(value_name = "SERVICE/TYPE", value_parser = args::document)]
    pub document: DocumentSpec,
    /// Only this provision id.
    #[arg(long, value_name = "ID")]
    pub provision: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    Markdown,
    Html,
    Json,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Provision ids (see archive/provisions.toml); with --all, every provision.
    #[arg(required_unless_present = "all")]
    pub provisions: Vec<String>,
    /// A provision × platform matrix of every provision.
    #[arg(long)]
    pub all: bool,
    /// Compare the texts in force at the end of DATE (UTC), or at an RFC 3339 time
    /// [default: now].
    #[arg(long, value_name = "DATE")]
    pub at: Option<When>,
    /// The output: a Markdown table, an HTML page, or JSON.
    #[arg(long, value_enum, default_value_t = CompareFormat::Markdown)]
    pub format: CompareFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

/// The archive's taxonomy with the learned tagger attached where its weights are found
/// (`[tagger]` in clausewatch.toml, `CLAUSEWATCH_MODEL_DIR`, or the cache folder); the
/// rules alone otherwise. Weights configured but unusable are an error; weights merely
/// found in the cache folder but unusable are a warning, and the rules tag.
pub(super) fn taxonomy(archive: &Archive) -> Result<Taxonomy, CliError> {
    let taxonomy = Taxonomy::load(archive.root()).map_err(usage)?;
    let file = crate::config::FileConfig::load(archive.root()).map_err(usage)?;
    let settings = file.tagger.resolve(archive.root());
    match learned_tagger(&settings) {
        Ok(Some(learned)) => Ok(taxonomy.with_learned(learned).with_tag_cache(tag_cache_source(archive))),
        Ok(None) => Ok(taxonomy),
        Err(e) if settings.model.is_some() => Err(usage(anyhow!("{e}"))),
        Err(e) => {
            tracing::warn!("{e}; tagging provisions with the rules alone");
            Ok(taxonomy)
        }
    }
}

/// Reads the archive's tag cache at HEAD when the first sentence is tagged (a command
/// that tags nothing never reads it); a file that cannot be read is a warning, and the
/// sentences are tagged afresh.
fn tag_cache_source(archive: &Archive) -> crate::provision::cache::TagCacheSource {
    let root = archive.root().to_path_buf();
    Box::new(move || {
        let limit = crate::provision::cache::MAX_TAG_CACHE_BYTES as u64;
        match Archive::open(&root).and_then(|archive| archive.head_file_at_most(TAG_CACHE_FILE, limit)) {
            Ok(file) => file,
            Err(e) => {
                tracing::warn!("ignoring the tag cache: {e}; sentences are tagged afresh");
                None
            }
        }
    })
}

/// What the tag cache did in a run that commits (`track`, `reextract`, `import`).
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct TagCacheReport {
    pub tagger: crate::provision::TaggerId,
    #[serde(flatten)]
    pub stats: crate::provision::TagCacheStats,
    /// The commit that updated the file, when the run tagged new sentences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl TagCacheReport {
    /// `tags       12 new sentences tagged by NAME/VERSION, 3456 lookups answered by the
    /// tag cache (committed COMMIT)`, when the run tagged anything new.
    pub fn line(&self) -> Option<String> {
        let commit = self.commit.as_deref()?;
        Some(format!(
            "tags       {} tagged by {}, {} answered by the tag cache (committed {})",
            crate::report::html::plural(self.stats.tagged as usize, "new sentence"),
            self.tagger,
            crate::report::html::plural(self.stats.cached as usize, "lookup"),
            &commit[..12.min(commit.len())]
        ))
    }
}

/// Refuses, before anything is fetched or committed, a tag cache path that could not
/// be written without following a symbolic link.
pub(super) fn check_tag_cache_writable(archive: &Archive, taxonomy: &Taxonomy) -> Result<(), CliError> {
    if taxonomy.tag_cache().is_some() {
        archive.check_writable(TAG_CACHE_FILE)?;
    }
    Ok(())
}

/// Commits the tag cache with the sentences this run tagged for the first time, in a
/// commit of its own (`tags: ...`, no version trailers, so history readers never take
/// it for a version). Nothing when the learned tagger is not in use.
pub(super) fn save_tag_cache(
    archive: &Archive,
    taxonomy: &Taxonomy,
    identity: &crate::archive::Identity,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<TagCacheReport>, CliError> {
    let Some(cache) = taxonomy.tag_cache() else {
        return Ok(None);
    };
    let stats = cache.stats();
    let commit = match cache.updated_file() {
        Some(bytes) => {
            let message = format!(
                "tags: {} tagged by {}\n\n\
                 The learned tagger's provisions of each sentence, by the sentence's SHA-256, so that\n\
                 later runs, timelines and the site tag only new sentences ({TAG_CACHE_FILE}).\n",
                crate::report::html::plural(stats.tagged as usize, "new sentence"),
                cache.tagger()
            );
            Some(
                archive
                    .commit_file(TAG_CACHE_FILE, &bytes, &message, identity, now)?
                    .to_string(),
            )
        }
        None => None,
    };
    Ok(Some(TagCacheReport {
        tagger: cache.tagger().clone(),
        stats,
        commit,
    }))
}

/// Loads the learned tagger once per process and settings (loading reads a 47 MB table).
fn learned_tagger(
    settings: &crate::provision::TaggerSettings,
) -> Result<Option<std::sync::Arc<LearnedTagger>>, crate::provision::TaggerError> {
    type Loaded = std::collections::HashMap<
        (Option<std::path::PathBuf>, Option<std::path::PathBuf>),
        std::sync::Arc<LearnedTagger>,
    >;
    static LOADED: std::sync::Mutex<Option<Loaded>> = std::sync::Mutex::new(None);
    let Some(folder) = settings.model_folder() else {
        return Ok(None);
    };
    let key = (Some(folder), settings.cache_folder());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = loaded.as_ref().and_then(|l| l.get(&key)) {
        return Ok(Some(found.clone()));
    }
    let Some(learned) = LearnedTagger::load(settings)? else {
        return Ok(None);
    };
    let learned = std::sync::Arc::new(learned);
    loaded.get_or_insert_default().insert(key, learned.clone());
    Ok(Some(learned))
}

/// An item of `--json` output with the tagger that tagged it (`{"name", "version"}`)
/// added as a `tagger` field: tags are a function of the sentence and the tagger.
#[derive(serde::Serialize)]
struct WithTagger<'a, T: serde::Serialize> {
    #[serde(flatten)]
    item: &'a T,
    tagger: &'a crate::provision::TaggerId,
}

/// `timeline --json`: the tagger, the runs of versions it could not read (oldest
/// first), and the timelines.
#[derive(serde::Serialize)]
struct TimelineJson<'a> {
    tagger: &'a crate::provision::TaggerId,
    untagged: &'a [UntaggedSpan],
    timelines: &'a [provisions::Timeline],
}

fn with_tagger<'a, T: serde::Serialize>(
    items: &'a [T],
    tagger: &'a crate::provision::TaggerId,
) -> Vec<WithTagger<'a, T>> {
    items.iter().map(|item| WithTagger { item, tagger }).collect()
}

pub(super) fn check_id(taxonomy: &Taxonomy, id: &str) -> Result<(), CliError> {
    if taxonomy.get(id).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = taxonomy.provisions.iter().map(|p| p.id.as_str()).collect();
    Err(usage(anyhow!(
        "no provision {id:?} in the taxonomy (known: {})",
        known.join(", ")
    )))
}

pub fn provisions(archive_dir: &Path, args: ProvisionsArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    let taxonomy = taxonomy(&archive)?;
    if let Some(id) = &args.provision {
        check_id(&taxonomy, id)?;
    }
    check_known(&archive, [&args.document])?;
    let now = clock.now();
    let at = args.at.map(|a| a.last_instant(now));
    let until = at.map(args::until_after);
    let Some(version) = archive
        .versions(&args.document.filter(), None, until)?
        .into_iter()
        .next()
    else {
        return Err(usage(anyhow!("{} has no recorded version", args.document)));
    };
    let text = archive.blob_text(version.blob)?;
    let notice = provisions::Coverage::of(&text, &taxonomy).notice(&taxonomy);
    if let Some(notice) = &notice {
        eprintln!("note: {}: {notice}", args.document);
    }
    let tagged: Vec<_> = provisions::tag_text(&text, &taxonomy)
        .into_iter()
        .filter(|t| args.provision.as_ref().is_none_or(|id| *id == t.tag.provision))
        .collect();
    if args.json {
        write_json(&mut io::stdout().lock(), &with_tagger(&tagged, &taxonomy.tagger()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Terminal::stdout(false);
    // A sentence stating two provisions is tagged twice: both figures are given.
    let lines: std::collections::BTreeSet<usize> = tagged.iter().map(|t| t.line).collect();
    writeln!(
        out,
        "{} at {} ({}){}: {} on {}",
        args.document,
        version.date.format("%Y-%m-%d"),
        version.short_id(),
        at.map(|at| format!(", the version in force at {}", moment_label(at)))
            .unwrap_or_default(),
        plural(tagged.len(), "tag"),
        plural(lines.len(), "sentence")
    )?;
    for t in &tagged {
        writeln!(
            out,
            "{:>5}  {:<24} {:<11} {}",
            t.line,
            t.tag.provision,
            t.tag.stance.as_str(),
            t.text
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn timeline(archive_dir: &Path, args: TimelineArgs) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    let taxonomy = taxonomy(&archive)?;
    if let Some(id) = &args.provision {
        check_id(&taxonomy, id)?;
    }
    check_known(&archive, [&args.document])?;
    let (service, doc_type) = (&args.document.service, args.document.doc_type());
    let provisions::Timelines { timelines, untagged } =
        provisions::timelines(&archive, service, doc_type, &taxonomy, args.provision.as_deref())?;
    if let Some(latest) = archive.versions(&args.document.filter(), None, None)?.first() {
        let text = archive.blob_text(latest.blob)?;
        if let Some(notice) = provisions::Coverage::of(&text, &taxonomy).notice(&taxonomy) {
            eprintln!("note: {}: the latest version: {notice}", args.document);
        }
    }
    if args.json {
        // An object, not the bare list of timelines: the versions the tagger could not
        // read belong to the document, and an array of timelines has no place for a
        // span that no event follows (or for one when no provision has a timeline).
        let json = TimelineJson {
            tagger: &taxonomy.tagger(),
            untagged: &untagged,
            timelines: &timelines,
        };
        write_json(&mut io::stdout().lock(), &json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Terminal::stdout(false);
    // What the tagger could not read is unknown, not silent: said before any event.
    for span in &untagged {
        writeln!(
            out,
            "not tagged: {} in {} (in force {}), a language the tagger does not read: what they state is unknown",
            plural(span.versions, "version"),
            span.language_names(),
            span.span()
        )?;
    }
    if timelines.is_empty() {
        let tagged = if untagged.is_empty() { "" } else { "tagged " };
        match &args.provision {
            Some(id) => writeln!(out, "{id} is not stated in any {tagged}version of {}", args.document)?,
            None => writeln!(
                out,
                "no provision is stated in any {tagged}version of {}",
                args.document
            )?,
        }
    }
    // A sentence coming back says since when it has been in the document, and its gaps.
    let wording = |w: &Wording, date: &chrono::DateTime<chrono::Utc>| {
        let mut line = format!("[{}] {}", w.stance, w.text);
        if w.since < *date {
            line.push_str(&format!(
                "  ({})",
                since::describe(w.since, w.since_first_record, &w.absences)
            ));
        }
        line
    };
    // An event after versions the tagger did not read may have happened in any of them.
    let after = |event: &TimelineEvent| {
        event.after_untagged().map_or_else(String::new, |span| {
            format!(
                " (after versions not tagged: {}, {})",
                span.language_names(),
                span.span()
            )
        })
    };
    for timeline in &timelines {
        writeln!(out, "{}", timeline.provision)?;
        for event in &timeline.events {
            match event {
                TimelineEvent::Appeared {
                    date,
                    commit,
                    first_record,
                    declared_date,
                    after_untagged,
                    sentences,
                } => {
                    writeln!(
                        out,
                        "  {}  {}  {}",
                        date.format("%Y-%m-%d"),
                        &commit[..12],
                        appeared(*first_record, *declared_date, after_untagged.as_ref())
                    )?;
                    for s in sentences {
                        writeln!(out, "      + {}", wording(s, date))?;
                    }
                }
                TimelineEvent::Changed {
                    date,
                    commit,
                    before,
                    after: now,
                    ..
                } => {
                    writeln!(
                        out,
                        "  {}  {}  changed{}",
                        date.format("%Y-%m-%d"),
                        &commit[..12],
                        after(event)
                    )?;
                    for s in before {
                        writeln!(out, "      - [{}] {}", s.stance, s.text)?;
                    }
                    for s in now {
                        writeln!(out, "      + {}", wording(s, date))?;
                    }
                }
                TimelineEvent::Disappeared {
                    date,
                    commit,
                    sentences,
                    reworded,
                    ..
                } => {
                    // The tagger's reading may have changed rather than the text: the
                    // close rewording is shown for the reader to judge.
                    let reading = match (reworded.len(), sentences.len()) {
                        (0, _) => String::new(),
                        (1, 1) => {
                            " (a close rewording of its sentence is still there, not read as stating it)".to_string()
                        }
                        (r, n) => format!(
                            " ({r} of its {n} sentences still there in a close rewording, not read as stating it)"
                        ),
                    };
                    writeln!(
                        out,
                        "  {}  {}  disappeared{reading}{}",
                        date.format("%Y-%m-%d"),
                        &commit[..12],
                        after(event)
                    )?;
                    for s in sentences {
                        writeln!(out, "      - [{}] {}", s.stance, s.text)?;
                        if let Some(rewording) = reworded.iter().find(|r| r.before == s.text) {
                            writeln!(out, "        now: {}", rewording.now)?;
                        }
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a timeline calls a provision's first event: `appeared`, except at the
/// document's first record (`present at the first record (declared date 2023-09-29)`)
/// and at the first version the tagger reads after others it does not (`first tagged
/// version (earlier versions: German, not tagged, 2022-07-11..2022-09-20)`): neither is
/// a new clause.
fn appeared(first_record: bool, declared: Option<chrono::NaiveDate>, after_untagged: Option<&UntaggedSpan>) -> String {
    if let Some(span) = after_untagged {
        return format!(
            "first tagged version (earlier versions: {}, not tagged, {})",
            span.language_names(),
            span.span()
        );
    }
    if !first_record {
        return "appeared".to_string();
    }
    match declared {
        Some(date) => format!("present at the first record (declared date {date})"),
        None => "present at the first record".to_string(),
    }
}

pub fn compare(archive_dir: &Path, args: CompareArgs, clock: Clock) -> Result<ExitCode, CliError> {
    let archive = Archive::open(archive_dir)?;
    let taxonomy = taxonomy(&archive)?;
    let now = clock.now();
    // `at` is the last moment included (the end of a day given as a date), and what is
    // shown; `until` the exclusive bound history is filtered by.
    let at = args.at.map(|a| a.last_instant(now));
    let until = at.map(args::until_after);
    let at = at.unwrap_or(now);
    let ids: Vec<String> = if args.all {
        taxonomy.provisions.iter().map(|p| p.id.clone()).collect()
    } else {
        args.provisions.clone()
    };
    for id in &ids {
        check_id(&taxonomy, id)?;
    }
    let text = if args.all || ids.len() > 1 {
        let matrix = provisions::matrix(&archive, &taxonomy, &ids, at, until)?;
        match args.format {
            CompareFormat::Json => serde_json::to_string_pretty(&matrix).map_err(runtime)? + "\n",
            CompareFormat::Markdown => matrix_markdown(&matrix, &taxonomy),
            CompareFormat::Html => html::matrix(&matrix, &taxonomy),
        }
    } else {
        let comparison = provisions::compare(&archive, &taxonomy, &ids[0], at, until)?;
        match args.format {
            CompareFormat::Json => serde_json::to_string_pretty(&comparison).map_err(runtime)? + "\n",
            CompareFormat::Markdown => comparison_markdown(&comparison),
            CompareFormat::Html => html::comparison(&comparison),
        }
    };
    write_output(args.out.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

/// `2024-03-22`, `first record (2024-02-21)`, either followed by `(absent
/// 2025-03-01..2025-04-02)`: a since column's cell.
fn since_cell(sentence: &DatedSentence) -> String {
    let date = since::date_label(sentence.since, sentence.since_first_record);
    match sentence.absences.as_slice() {
        [] => date,
        absences => format!(
            "{date} (absent {})",
            absences.iter().map(|a| a.span()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// What "first record (DATE)" means, once under the tables that show it.
fn first_record_note(out: &mut String, any: bool) {
    if any {
        let _ = writeln!(out, "\n{}", html::FIRST_RECORD_NOTE);
    }
}

/// One provision across platforms: each platform's position, then a table of every
/// sentence and since when it stands.
pub fn comparison_markdown(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} (`{}`)\n", escape(&c.title), c.provision);
    if !c.description.is_empty() {
        let _ = writeln!(out, "{}\n", escape(&c.description));
    }
    if !c.regulations.is_empty() {
        let _ = writeln!(out, "Regulations: {}\n", c.regulations.join("; "));
    }
    let _ = writeln!(out, "Texts in force at {}.\n", moment_label(c.at));
    if c.statements.is_empty() {
        out.push_str("No tracked document states this provision.\n");
    } else {
        out.push_str("## Positions\n\n");
        out.push_str(
            "| service | position | document | since | strongest sentence |\n| --- | --- | --- | --- | --- |\n",
        );
        for (service, p) in &c.positions {
            let _ = writeln!(
                out,
                "| {service} | {} | {} | {} | {} |",
                escape(&p.phrase),
                p.strongest.document,
                since_cell(&p.strongest.sentence),
                escape(&p.strongest.sentence.text)
            );
        }
        out.push_str("\n## Every sentence\n\n");
        out.push_str("| service | document | stance | since | sentence |\n| --- | --- | --- | --- | --- |\n");
        for s in &c.statements {
            for sentence in &s.sentences {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    s.service,
                    s.document,
                    sentence.stance,
                    since_cell(sentence),
                    escape(&sentence.text)
                );
            }
        }
        let any_first_record = c
            .statements
            .iter()
            .flat_map(|s| &s.sentences)
            .any(|s| s.since_first_record);
        first_record_note(&mut out, any_first_record);
    }
    if !c.silent.is_empty() {
        let _ = writeln!(out, "\nNo sentence about it in: {}.", c.silent.join(", "));
    }
    untagged_note(&mut out, &c.untagged);
    out
}

/// The provision × platform matrix: each cell states the service's position in a few
/// words (`—` where its documents say nothing); below the table, each position's
/// strongest sentence, document and since-date.
pub fn matrix_markdown(m: &Matrix, taxonomy: &Taxonomy) -> String {
    let mut out = format!(
        "# Provisions by platform, {}\n\nEach cell states the platform's position from its strongest sentence \
         on the provision; the sentences follow the table.\n\n| provision |",
        m.at.format("%Y-%m-%d")
    );
    for s in &m.services {
        let _ = write!(out, " {s} |");
    }
    out.push_str("\n| --- |");
    out.push_str(&" --- |".repeat(m.services.len()));
    out.push('\n');
    let title = |id: &str| escape(taxonomy.get(id).map_or(id, |p| p.title.as_str()));
    for (id, row) in m.provisions.iter().zip(&m.cells) {
        let _ = write!(out, "| {} (`{id}`) |", title(id));
        for cell in row {
            match cell {
                Some(p) => {
                    let _ = write!(out, " {} |", escape(&p.phrase));
                }
                None => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    for (id, row) in m.provisions.iter().zip(&m.cells) {
        if row.iter().all(Option::is_none) {
            continue;
        }
        let _ = writeln!(out, "\n## {} (`{id}`)\n", title(id));
        for (service, p) in m.services.iter().zip(row) {
            let Some(p) = p else { continue };
            let others = match p.sentences {
                1 => String::new(),
                n => format!(" (strongest of {n} sentences)"),
            };
            let sentence = &p.strongest.sentence;
            let _ = writeln!(
                out,
                "- {service}: {}. {}, {}, {}{others}: {}",
                escape(&p.phrase),
                p.strongest.document,
                sentence.stance,
                since::describe(sentence.since, sentence.since_first_record, &sentence.absences),
                escape(&sentence.text)
            );
        }
    }
    let any_first_record = m
        .cells
        .iter()
        .flatten()
        .flatten()
        .any(|p| p.strongest.sentence.since_first_record);
    first_record_note(&mut out, any_first_record);
    untagged_note(&mut out, &m.untagged);
    out
}

/// Documents the tagger does not read: what they say of a provision is unknown.
fn untagged_note(out: &mut String, untagged: &[UntaggedDocument]) {
    if !untagged.is_empty() {
        let docs: Vec<String> = untagged.iter().map(|d| escape(&d.to_string())).collect();
        let _ = writeln!(
            out,
            "\nNot tagged, in a language the tagger does not read: {}.",
            docs.join(", ")
        );
    }
}
