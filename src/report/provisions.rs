//! Provisions over history: the tagged sentences of a version, a provision's timeline in
//! one document, and how every platform states a provision at a date.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
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

/// Every tagged sentence of a text whose language was already found covered.
fn tag_lines(text: &str, taxonomy: &Taxonomy) -> Vec<TaggedSentence> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let sentence = sentence_of(line);
        if sentence.is_empty() {
            continue;
        }
        for tag in taxonomy.tag(sentence) {
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absences: Vec<Absence>,
}

/// What happened to a provision in one version.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum TimelineEvent {
    Appeared {
        date: DateTime<Utc>,
        commit: String,
        sentences: Vec<Wording>,
    },
    Changed {
        date: DateTime<Utc>,
        commit: String,
        before: Vec<Wording>,
        after: Vec<Wording>,
    },
    Disappeared {
        date: DateTime<Utc>,
        commit: String,
        sentences: Vec<Wording>,
    },
}

/// A provision's history in one document.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub provision: String,
    pub events: Vec<TimelineEvent>,
}

/// The timelines of a document's provisions (of `only`, when given), oldest event first.
/// Sentences are compared by their [`since::key`], so a cosmetic edit, a move or a second
/// copy is no event. Re-extractions are looked through, since they change how text is
/// cut, not what it says: a re-extraction is an event only for a provision it brings in
/// or takes out entirely (the first English text after versions in another language,
/// a sentence an older extractor missed), dated at the re-extraction; each sentence
/// still carries its own since-date.
pub fn timelines(
    archive: &Archive,
    service: &str,
    doc_type: &str,
    taxonomy: &Taxonomy,
    only: Option<&str>,
) -> Result<Vec<Timeline>, ArchiveError> {
    let filter = DocumentFilter {
        service: Some(service.into()),
        doc_type: Some(doc_type.into()),
    };
    let mut versions: Vec<VersionRecord> = archive.versions(&filter, None, None)?;
    versions.reverse();
    type Sentences = BTreeMap<String, BTreeMap<String, Wording>>;
    let mut history = SentenceHistory::default();
    let mut previous: Sentences = BTreeMap::new();
    let mut events: BTreeMap<String, Vec<TimelineEvent>> = BTreeMap::new();
    for version in versions {
        let text = archive.blob_text(version.blob)?;
        let reextract = version.message.change == ChangeKind::Reextract;
        history.push(version.commit, version.date, reextract, text.clone());
        // A version the tagger cannot read says nothing about provisions: the timeline
        // goes from the version before it to the next one it can read, rather than
        // showing every provision vanish and come back with a change of language.
        if Coverage::of(&text, taxonomy) != Coverage::Covered {
            continue;
        }
        let mut current: Sentences = BTreeMap::new();
        for tagged in tag_lines(&text, taxonomy) {
            if only.is_none_or(|id| id == tagged.tag.provision) {
                let (first, absences) = history
                    .of(&tagged.text)
                    .map_or((version.date, Vec::new()), |(seen, absences)| {
                        (seen.date, absences.to_vec())
                    });
                current.entry(tagged.tag.provision).or_default().insert(
                    since::key(&tagged.text),
                    Wording {
                        text: tagged.text,
                        stance: tagged.tag.stance,
                        since: first,
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
                    sentences: only_in(now, &BTreeMap::new()),
                },
                (Some(before), None) => TimelineEvent::Disappeared {
                    date,
                    commit: commit.clone(),
                    sentences: only_in(before, &BTreeMap::new()),
                },
                // A re-extraction re-cuts sentences: a provision stated before and after
                // it has not changed. One it brings in or takes out entirely has: from
                // then on the text states it (or not), as `compare` and `blame` say.
                (Some(before), Some(after)) if !reextract && before.keys().ne(after.keys()) => TimelineEvent::Changed {
                    date,
                    commit: commit.clone(),
                    before: only_in(before, after),
                    after: only_in(after, before),
                },
                _ => continue,
            };
            events.entry(id).or_default().push(event);
        }
        previous = current;
    }
    Ok(events
        .into_iter()
        .map(|(provision, events)| Timeline { provision, events })
        .collect())
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
            let tags = taxonomy.tag(sentence);
            let provisions_expressed = tags.len();
            for tag in tags {
                if let Some(i) = provisions.iter().position(|p| *p == tag.provision) {
                    sentences[i].push(DatedSentence {
                        text: sentence.to_string(),
                        stance: tag.stance,
                        since: line.date,
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
    fn markers_are_not_part_of_the_sentence() {
        assert_eq!(sentence_of("- We may train models."), "We may train models.");
        assert_eq!(sentence_of("  3. We sell data."), "We sell data.");
        assert_eq!(sentence_of("## AI training"), "AI training");
        assert_eq!(sentence_of("1.5 million users."), "1.5 million users.");
    }
}
