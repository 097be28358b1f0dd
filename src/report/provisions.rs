//! Provisions over history: the tagged sentences of a version, a provision's timeline in
//! one document, and how every platform states a provision at a date.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::blame::{BlameLine, blame};
use super::position::{self, Phrasing, Position};
use super::since::{self, Absence, SentenceHistory};
use crate::archive::history::{DocumentFilter, VersionRecord};
use crate::archive::{Archive, ArchiveError, ChangeKind};
use crate::canon::language::{Language, language_of};
use crate::provision::{Stance, Tag, Taxonomy};

/// A sentence of a version that expresses a provision: where it is, and its tag (the
/// provision, the stance and the evidence, flattened into the same JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaggedSentence {
    pub line: usize,
    pub text: String,
    #[serde(flatten)]
    pub tag: Tag,
}

/// Whether the tagger reads the language a text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// In a language the tagger covers, or too short to tell: it is tagged.
    Covered,
    /// In a language the tagger does not read: nothing is tagged, and outputs say so.
    NotCovered(Language),
}

impl Coverage {
    pub fn of(text: &str, taxonomy: &Taxonomy) -> Coverage {
        match language_of(text) {
            Some(language) if !taxonomy.covers(language.code()) => Coverage::NotCovered(language),
            _ => Coverage::Covered,
        }
    }

    /// "provisions not tagged: the text is in French, and the tagger reads English", for
    /// a text the tagger does not cover.
    pub fn notice(self, taxonomy: &Taxonomy) -> Option<String> {
        let Coverage::NotCovered(language) = self else {
            return None;
        };
        // A code the detector does not know is shown as it is written.
        let covered: Vec<&str> = taxonomy
            .languages
            .iter()
            .map(|code| Language::from_code(code).map_or(code.as_str(), |language| language.name()))
            .collect();
        Some(format!(
            "provisions not tagged: the text is in {language} ({}), and the tagger reads {}",
            language.code(),
            covered.join(", ")
        ))
    }
}

/// Every tagged sentence of a text, in order; none for a text in a language the tagger
/// does not cover (see [`Coverage`]).
pub fn tag_text(text: &str, taxonomy: &Taxonomy) -> Vec<TaggedSentence> {
    match Coverage::of(text, taxonomy) {
        Coverage::Covered => tag_lines(text, taxonomy),
        Coverage::NotCovered(_) => Vec::new(),
    }
}

/// The tags of one line of a canonical text. A Markdown heading (`#`) names a topic and
/// states no provision (docs/labelling.md: of the 321 labelled headings, one is
/// positive), so the learned model does not read it: the rules decide, as for any
/// fragment (`learned::is_fragment`, which cannot see the `#` that [`sentence_of`]
/// strips, and reads a numbered heading such as `4.2 Account closure` as a sentence).
pub fn tag_line(line: &str, taxonomy: &Taxonomy) -> Vec<Tag> {
    let sentence = sentence_of(line);
    if line.trim_start().starts_with('#') {
        taxonomy.rule_tags(sentence)
    } else {
        taxonomy.tag(sentence)
    }
}

/// The ids of the provisions any of `lines` expresses (see [`tag_line`]), sorted.
pub fn ids_in_lines<'a>(lines: impl IntoIterator<Item = &'a str>, taxonomy: &Taxonomy) -> Vec<String> {
    let ids: BTreeSet<String> = lines
        .into_iter()
        .flat_map(|line| tag_line(line, taxonomy))
        .map(|tag| tag.provision)
        .collect();
    ids.into_iter().collect()
}

/// Every tagged sentence of a text whose language was already found covered.
fn tag_lines(text: &str, taxonomy: &Taxonomy) -> Vec<TaggedSentence> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let sentence = sentence_of(line);
        if sentence.is_empty() {
            continue;
        }
        for tag in tag_line(line, taxonomy) {
            out.push(TaggedSentence {
                line: i + 1,
                text: sentence.to_string(),
                tag,
            });
        }
    }
    out
}

/// A line without its Markdown list or heading marker.
pub fn sentence_of(line: &str) -> &str {
    let trimmed = line.trim();
    let trimmed = trimmed.trim_start_matches('#').trim_start();
    let trimmed = trimmed.strip_prefix("- ").unwrap_or(trimmed);
    match trimmed.split_once(". ") {
        Some((number, rest)) if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => trimmed,
    }
}

/// A sentence with its stance, in a timeline event, and since when it has been in the
/// document ([`super::since`]: earlier than the event for a sentence coming back).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Wording {
    pub text: String,
    pub stance: Stance,
    pub since: DateTime<Utc>,
    /// `since` is the document's first recorded version: the sentence was already there
    /// when recording began, since a date the archive cannot know.
    pub since_first_record: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absences: Vec<Absence>,
}

/// What happened to a provision in one version.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum TimelineEvent {
    /// The provision is stated from this version on. At the document's first record
    /// (`first_record`), or at the first version the tagger reads after versions it does
    /// not (`after_untagged`), that is not news: it may have been stated before.
    Appeared {
        date: DateTime<Utc>,
        commit: String,
        /// This version is the document's first record: the provision was already
        /// stated when recording began.
        first_record: bool,
        /// The date the first record gives itself ("Effective: ..."), when it has one.
        #[serde(skip_serializing_if = "Option::is_none")]
        declared_date: Option<NaiveDate>,
        #[serde(skip_serializing_if = "Option::is_none")]
        after_untagged: Option<UntaggedSpan>,
        sentences: Vec<Wording>,
    },
    Changed {
        date: DateTime<Utc>,
        commit: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        after_untagged: Option<UntaggedSpan>,
        before: Vec<Wording>,
        after: Vec<Wording>,
    },
    /// No sentence of the version states the provision any more. `reworded` pairs those
    /// of `sentences` with a close rewording the version still has, which the tagger
    /// does not read as stating it: the text may not have dropped the clause at all.
    Disappeared {
        date: DateTime<Utc>,
        commit: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        after_untagged: Option<UntaggedSpan>,
        sentences: Vec<Wording>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        reworded: Vec<Rewording>,
    },
}

/// A sentence that stated a provision, and a new sentence close to it in words (a
/// spelling localised, a word or two swapped) that is not read as stating it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rewording {
    pub before: String,
    pub now: String,
}

/// The share of words two sentences have in common (of the words either has) from
/// which one is a close rewording of the other. A real sentence of twelve words with
/// its spelling localised and "like" made "such as" keeps 10 of 15; one whose purpose
/// is replaced ("to train our AI models" by "to improve our services") keeps 7 of 12.
const CLOSE_REWORDING: f64 = 0.6;

/// The sentences of `gone` that `new_text` still has in a close rewording: a sentence
/// of `new_text` that was not in `old_text` (so not another sentence that was there
/// all along) and shares at least [`CLOSE_REWORDING`] of its words with it.
fn close_rewordings(gone: &[Wording], old_text: &str, new_text: &str) -> Vec<Rewording> {
    let words = |sentence: &str| -> BTreeSet<String> { super::diff::words(sentence).into_iter().collect() };
    let old_keys: BTreeSet<String> = old_text.lines().map(since::key).collect();
    let fresh: Vec<(&str, BTreeSet<String>)> = new_text
        .lines()
        .filter(|line| !old_keys.contains(&since::key(line)))
        .map(sentence_of)
        .filter(|sentence| !sentence.is_empty())
        .map(|sentence| (sentence, words(sentence)))
        .collect();
    gone.iter()
        .filter_map(|wording| {
            let before = words(&wording.text);
            let overlap = |now: &BTreeSet<String>| {
                before.intersection(now).count() as f64 / before.union(now).count().max(1) as f64
            };
            let (now, best) = fresh
                .iter()
                .map(|(sentence, now)| (*sentence, overlap(now)))
                .max_by(|a, b| a.1.total_cmp(&b.1))?;
            (best >= CLOSE_REWORDING).then(|| Rewording {
                before: wording.text.clone(),
                now: now.to_string(),
            })
        })
        .collect()
}

impl TimelineEvent {
    /// The versions the tagger did not read just before this event's version: the event
    /// may have happened anywhere in them.
    pub fn after_untagged(&self) -> Option<&UntaggedSpan> {
        match self {
            TimelineEvent::Appeared { after_untagged, .. }
            | TimelineEvent::Changed { after_untagged, .. }
            | TimelineEvent::Disappeared { after_untagged, .. } => after_untagged.as_ref(),
        }
    }
}

/// A provision's history in one document.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub provision: String,
    pub events: Vec<TimelineEvent>,
}

/// Consecutive versions of a document in languages the tagger does not read: what they
/// state is unknown, so a timeline cannot say when in them a provision came or went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UntaggedSpan {
    /// The first of these versions.
    pub from: DateTime<Utc>,
    /// The last of them.
    pub last: DateTime<Utc>,
    /// The version after them, which the tagger reads (absent while they are the
    /// latest): they were in force from `from` until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    pub versions: usize,
    /// Their languages, in order of first appearance.
    pub languages: Vec<SpanLanguage>,
}

/// A language of an [`UntaggedSpan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpanLanguage {
    /// ISO 639-1 code.
    pub code: String,
    /// Its English name.
    pub name: String,
}

impl UntaggedSpan {
    fn start(date: DateTime<Utc>, language: Language) -> UntaggedSpan {
        let mut span = UntaggedSpan {
            from: date,
            last: date,
            until: None,
            versions: 0,
            languages: Vec::new(),
        };
        span.extend(date, language);
        span
    }

    fn extend(&mut self, date: DateTime<Utc>, language: Language) {
        self.last = date;
        self.versions += 1;
        if !self.languages.iter().any(|l| l.code == language.code()) {
            self.languages.push(SpanLanguage {
                code: language.code().to_string(),
                name: language.name().to_string(),
            });
        }
    }

    /// `German`, `German and French`.
    pub fn language_names(&self) -> String {
        let names: Vec<&str> = self.languages.iter().map(|l| l.name.as_str()).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => names.join(""),
        }
    }

    /// When they were in force: `2022-07-11..2022-10-19` (until the version after
    /// them), or `since 2022-07-11` while they are the latest.
    pub fn span(&self) -> String {
        let from = self.from.format("%Y-%m-%d");
        match self.until {
            Some(until) => format!("{from}..{}", until.format("%Y-%m-%d")),
            None => format!("since {from}"),
        }
    }
}

/// A document's provision timelines, and the versions the tagger could not read.
#[derive(Debug, Clone, Serialize)]
pub struct Timelines {
    pub timelines: Vec<Timeline>,
    /// Runs of versions in a language the tagger does not read, oldest first.
    pub untagged: Vec<UntaggedSpan>,
}

/// The timelines of a document's provisions (of `only`, when given), oldest event first.
/// Sentences are compared by their [`since::key`], so a cosmetic edit, a move or a second
/// copy is no event. Re-extractions are looked through, since they change how text is
/// cut, not what it says: a re-extraction is an event only for a provision it brings in
/// or takes out entirely (the first English text after versions in another language,
/// a sentence an older extractor missed), dated at the re-extraction; each sentence
/// still carries its own since-date.
///
/// A provision the first record states "appeared" there only in the sense that
/// recording began ([`TimelineEvent::Appeared`]'s `first_record`); versions in a
/// language the tagger does not read are stepped over, and the next event carries them
/// (`after_untagged`).
pub fn timelines(
    archive: &Archive,
    service: &str,
    doc_type: &str,
    taxonomy: &Taxonomy,
    only: Option<&str>,
) -> Result<Timelines, ArchiveError> {
    let filter = DocumentFilter {
        service: Some(service.into()),
        doc_type: Some(doc_type.into()),
    };
    let mut versions: Vec<VersionRecord> = archive.versions(&filter, None, None)?;
    versions.reverse();
    type Sentences = BTreeMap<String, BTreeMap<String, Wording>>;
    let mut history = SentenceHistory::default();
    let mut previous: Sentences = BTreeMap::new();
    // The text of the last version read, for telling a dropped clause from a reworded one.
    let mut previous_text = String::new();
    let mut events: BTreeMap<String, Vec<TimelineEvent>> = BTreeMap::new();
    let mut untagged: Vec<UntaggedSpan> = Vec::new();
    // The run of unread versions since the last version read, if any.
    let mut unread: Option<UntaggedSpan> = None;
    let first_commit = versions.first().map(|v| v.commit);
    for version in versions {
        let text = archive.blob_text(version.blob)?;
        let reextract = version.message.change == ChangeKind::Reextract;
        history.push(version.commit, version.date, reextract, text.clone());
        // A version the tagger cannot read says nothing about provisions: the timeline
        // goes from the version before it to the next one it can read, rather than
        // showing every provision vanish and come back with a change of language; the
        // next event says which versions it stepped over.
        if let Coverage::NotCovered(language) = Coverage::of(&text, taxonomy) {
            match &mut unread {
                Some(span) => span.extend(version.date, language),
                None => unread = Some(UntaggedSpan::start(version.date, language)),
            }
            continue;
        }
        let after_untagged = unread.take().map(|span| UntaggedSpan {
            until: Some(version.date),
            ..span
        });
        untagged.extend(after_untagged.clone());
        let first_record = Some(version.commit) == first_commit;
        let mut current: Sentences = BTreeMap::new();
        for tagged in tag_lines(&text, taxonomy) {
            if only.is_none_or(|id| id == tagged.tag.provision) {
                let (first, since_first_record, absences) = history
                    .of(&tagged.text)
                    .map_or((version.date, first_record, Vec::new()), |(seen, absences)| {
                        (seen.date, history.is_origin(seen), absences.to_vec())
                    });
                current.entry(tagged.tag.provision).or_default().insert(
                    since::key(&tagged.text),
                    Wording {
                        text: tagged.text,
                        stance: tagged.tag.stance,
                        since: first,
                        since_first_record,
                        absences,
                    },
                );
            }
        }
        let (date, commit) = (version.date, version.commit.to_string());
        let ids: BTreeSet<String> = previous.keys().chain(current.keys()).cloned().collect();
        let only_in = since::only_in::<Wording>;
        for id in ids {
            let event = match (previous.get(&id), current.get(&id)) {
                (None, Some(now)) => TimelineEvent::Appeared {
                    date,
                    commit: commit.clone(),
                    first_record,
                    declared_date: version.message.declared_date.filter(|_| first_record),
                    after_untagged: after_untagged.clone(),
                    sentences: only_in(now, &BTreeMap::new()),
                },
                (Some(before), None) => {
                    let sentences = only_in(before, &BTreeMap::new());
                    TimelineEvent::Disappeared {
                        date,
                        commit: commit.clone(),
                        after_untagged: after_untagged.clone(),
                        reworded: close_rewordings(&sentences, &previous_text, &text),
                        sentences,
                    }
                }
                // A re-extraction re-cuts sentences: a provision stated before and after
                // it has not changed. One it brings in or takes out entirely has: from
                // then on the text states it (or not), as `compare` and `blame` say.
                (Some(before), Some(after)) if !reextract && before.keys().ne(after.keys()) => TimelineEvent::Changed {
                    date,
                    commit: commit.clone(),
                    after_untagged: after_untagged.clone(),
                    before: only_in(before, after),
                    after: only_in(after, before),
                },
                _ => continue,
            };
            events.entry(id).or_default().push(event);
        }
        previous = current;
        previous_text = text;
    }
    // Unread versions at the end: no event follows them, but they are unknown too.
    untagged.extend(unread);
    Ok(Timelines {
        timelines: events
            .into_iter()
            .map(|(provision, events)| Timeline { provision, events })
            .collect(),
        untagged,
    })
}

/// The moment texts are shown "in force at": `the end of 2024-03-01 (UTC)` for the last
/// second of a day (what `--at 2024-03-01` means), `2024-03-01 12:00 UTC` otherwise
/// (seconds too when there are any).
pub fn moment_label(at: DateTime<Utc>) -> String {
    let time = at.time();
    if time.format("%H:%M:%S").to_string() == "23:59:59" {
        format!("the end of {} (UTC)", at.format("%Y-%m-%d"))
    } else if time.format("%S").to_string() == "00" {
        at.format("%Y-%m-%d %H:%M UTC").to_string()
    } else {
        at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

/// How one document states a provision at a date.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub service: String,
    pub document: String,
    /// Every stance its sentences take, sorted.
    pub stances: Vec<Stance>,
    pub sentences: Vec<DatedSentence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatedSentence {
    pub text: String,
    pub stance: Stance,
    /// When the sentence first appeared in the document ([`super::since`]).
    pub since: DateTime<Utc>,
    /// `since` is the document's first recorded version: the sentence was already there
    /// when recording began, since a date the archive cannot know.
    pub since_first_record: bool,
    pub commit: String,
    /// Spans in which it was not in the document.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absences: Vec<Absence>,
    /// How many provisions of the taxonomy the sentence expresses: the fewer, the more
    /// it is about this one ([`super::position`] prefers it).
    pub provisions_expressed: usize,
    /// Whether its line is a heading or a title-like fragment ([`super::position::is_heading`]):
    /// it names a topic rather than stating a position.
    #[serde(skip)]
    pub heading: bool,
}

/// A provision across every tracked document.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub provision: String,
    pub title: String,
    pub description: String,
    pub regulations: Vec<String>,
    pub at: DateTime<Utc>,
    /// Documents that state it.
    pub statements: Vec<Statement>,
    /// Services with versions at that date whose documents do not state it.
    pub silent: Vec<String>,
    /// Documents in a language the tagger does not read: not silent, unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untagged: Vec<UntaggedDocument>,
    /// Each stating service's position ([`super::position`]), by service.
    pub positions: BTreeMap<String, Position>,
}

/// A document whose text the tagger does not read ([`Coverage`]): what it says of any
/// provision is unknown, which is not the same as saying nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UntaggedDocument {
    pub service: String,
    pub document: String,
    /// ISO 639-1 code.
    pub language: String,
    /// Its English name.
    pub language_name: String,
}

impl fmt::Display for UntaggedDocument {
    /// `acme/privacy-policy-fr (French)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} ({})", self.service, self.document, self.language_name)
    }
}

/// Every document with a version before `until` (all when `None`), as (service, type).
fn documents_at(archive: &Archive, until: Option<DateTime<Utc>>) -> Result<Vec<(String, String)>, ArchiveError> {
    let mut docs: BTreeSet<(String, String)> = BTreeSet::new();
    for v in archive.versions(&DocumentFilter::default(), None, until)? {
        docs.insert((v.message.service, v.message.document));
    }
    Ok(docs.into_iter().collect())
}

/// How each platform states `provision` in the texts in force before `until` (the
/// latest when `None`; `at` is the moment shown), with the date each sentence appeared.
pub fn compare(
    archive: &Archive,
    taxonomy: &Taxonomy,
    provision: &str,
    at: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<Comparison, ArchiveError> {
    let mut blamed: Vec<(String, String, Vec<BlameLine>)> = Vec::new();
    for (service, doc_type) in documents_at(archive, until)? {
        if let Some(lines) = blame(archive, &service, &doc_type, until, at)? {
            blamed.push((service, doc_type, lines));
        }
    }
    let documents = BlamedDocument::all(&blamed);
    let mut comparisons = compare_blamed(taxonomy, &[provision.to_string()], at, &documents);
    Ok(comparisons.remove(0))
}

/// A document's version, blamed: what `compare_blamed` reads.
#[derive(Debug, Clone, Copy)]
pub struct BlamedDocument<'a> {
    pub service: &'a str,
    pub document: &'a str,
    pub lines: &'a [BlameLine],
}

impl<'a> BlamedDocument<'a> {
    /// Borrows `(service, document, lines)` triples as the documents `compare_blamed` reads.
    pub fn all(blamed: &'a [(String, String, Vec<BlameLine>)]) -> Vec<BlamedDocument<'a>> {
        blamed
            .iter()
            .map(|(service, document, lines)| BlamedDocument {
                service,
                document,
                lines,
            })
            .collect()
    }
}

/// How each document states each of `provisions`, from blamed versions the caller has
/// already computed: every sentence is tagged once, whatever the number of provisions.
/// Comparisons come in the order of `provisions`, statements in the order of `documents`.
pub fn compare_blamed(
    taxonomy: &Taxonomy,
    provisions: &[String],
    at: DateTime<Utc>,
    documents: &[BlamedDocument],
) -> Vec<Comparison> {
    let mut untagged = Vec::new();
    let mut read: Vec<&BlamedDocument> = Vec::new();
    for doc in documents {
        let text: String = doc.lines.iter().map(|l| format!("{}\n", l.text)).collect();
        match Coverage::of(&text, taxonomy) {
            Coverage::NotCovered(language) => untagged.push(UntaggedDocument {
                service: doc.service.to_string(),
                document: doc.document.to_string(),
                language: language.code().to_string(),
                language_name: language.name().to_string(),
            }),
            Coverage::Covered => read.push(doc),
        }
    }
    // A service none of whose documents the tagger reads is not silent on anything.
    let services: BTreeSet<&str> = read.iter().map(|d| d.service).collect();
    let mut statements: Vec<Vec<Statement>> = vec![Vec::new(); provisions.len()];
    for doc in read {
        let mut sentences: Vec<Vec<DatedSentence>> = vec![Vec::new(); provisions.len()];
        for line in doc.lines {
            let sentence = sentence_of(&line.text);
            let tags = tag_line(&line.text, taxonomy);
            let provisions_expressed = tags.len();
            for tag in tags {
                if let Some(i) = provisions.iter().position(|p| *p == tag.provision) {
                    sentences[i].push(DatedSentence {
                        text: sentence.to_string(),
                        stance: tag.stance,
                        since: line.date,
                        since_first_record: line.since_first_record,
                        commit: line.commit.clone(),
                        absences: line.absences.clone(),
                        provisions_expressed,
                        heading: position::is_heading(&line.text),
                    });
                }
            }
        }
        for (i, sentences) in sentences.into_iter().enumerate() {
            if sentences.is_empty() {
                continue;
            }
            let stances: BTreeSet<Stance> = sentences.iter().map(|s| s.stance).collect();
            statements[i].push(Statement {
                service: doc.service.to_string(),
                document: doc.document.to_string(),
                stances: stances.into_iter().collect(),
                sentences,
            });
        }
    }
    provisions
        .iter()
        .zip(statements)
        .map(|(provision, statements)| {
            let definition = taxonomy.get(provision);
            let stating: BTreeSet<&str> = statements.iter().map(|s| s.service.as_str()).collect();
            let phrasing = Phrasing::of(definition, provision);
            let positions = stating
                .iter()
                .filter_map(|service| {
                    let of_service: Vec<&Statement> = statements.iter().filter(|s| s.service == *service).collect();
                    Some((service.to_string(), position::position(&phrasing, &of_service)?))
                })
                .collect();
            Comparison {
                provision: provision.clone(),
                title: definition.map(|d| d.title.clone()).unwrap_or_default(),
                description: definition.map(|d| d.description.clone()).unwrap_or_default(),
                regulations: definition.map(|d| d.regulations.clone()).unwrap_or_default(),
                at,
                silent: services.difference(&stating).map(|s| s.to_string()).collect(),
                untagged: untagged.clone(),
                positions,
                statements,
            }
        })
        .collect()
}

/// The provision × platform matrix of comparisons already made, over `services`.
pub fn matrix_of(comparisons: &[Comparison], services: Vec<String>, at: DateTime<Utc>) -> Matrix {
    let cells = comparisons
        .iter()
        .map(|c| {
            services
                .iter()
                .map(|service| c.positions.get(service).cloned())
                .collect()
        })
        .collect();
    Matrix {
        at,
        provisions: comparisons.iter().map(|c| c.provision.clone()).collect(),
        services,
        cells,
        untagged: comparisons.first().map(|c| c.untagged.clone()).unwrap_or_default(),
    }
}

/// Each service's position on each provision: `matrix[provision][service]`.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub at: DateTime<Utc>,
    pub provisions: Vec<String>,
    pub services: Vec<String>,
    /// Rows in `provisions` order, cells in `services` order; no position (`null`)
    /// means the service's documents do not state the provision.
    pub cells: Vec<Vec<Option<Position>>>,
    /// Documents in a language the tagger does not read (see [`UntaggedDocument`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untagged: Vec<UntaggedDocument>,
}

/// The provision × platform matrix of the texts in force before `until` (the latest
/// when `None`; `at` is the moment shown), with the date each strongest sentence
/// appeared: `compare` over every document, blamed once.
pub fn matrix(
    archive: &Archive,
    taxonomy: &Taxonomy,
    ids: &[String],
    at: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<Matrix, ArchiveError> {
    let mut blamed: Vec<(String, String, Vec<BlameLine>)> = Vec::new();
    for (service, doc_type) in documents_at(archive, until)? {
        if let Some(lines) = blame(archive, &service, &doc_type, until, at)? {
            blamed.push((service, doc_type, lines));
        }
    }
    let mut services: Vec<String> = blamed.iter().map(|(s, _, _)| s.clone()).collect();
    services.dedup();
    let comparisons = compare_blamed(taxonomy, ids, at, &BlamedDocument::all(&blamed));
    Ok(matrix_of(&comparisons, services, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_days_last_second_reads_as_its_end() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        assert_eq!(moment_label(at("2024-03-01T23:59:59Z")), "the end of 2024-03-01 (UTC)");
        assert_eq!(moment_label(at("2024-03-02T00:00:00Z")), "2024-03-02 00:00 UTC");
        assert_eq!(moment_label(at("2024-03-02T10:30:05Z")), "2024-03-02 10:30:05 UTC");
    }

    #[test]
    fn markers_are_not_part_of_the_sentence() {
        assert_eq!(sentence_of("- We may train models."), "We may train models.");
        assert_eq!(sentence_of("  3. We sell data."), "We sell data.");
        assert_eq!(sentence_of("## AI training"), "AI training");
        assert_eq!(sentence_of("1.5 million users."), "1.5 million users.");
    }
}
