//! Provisions (docs/architecture.md#provisions): a taxonomy of clauses, and tagging sentences with the clauses
//! they express and the stance they take.
//!
//! A rule says which terms must occur together within one sentence (an action such as
//! "train" near an object such as "machine learning"), which must not, and how close
//! together. The stance tells a sentence that grants the platform something ("we may
//! use your content to train our models") from one that restricts it ("we do not use
//! your content to train models") or makes it conditional ("unless you opt out").
//! Tagging is a pure function of the text, so it can be re-run over history.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

pub mod cache;
pub mod embedding;
pub mod learned;
pub mod minilm;
mod tagger;

pub use cache::{TAG_CACHE_FILE, TagCache, TagCacheStats};
pub use tagger::{LearnedTagger, MemoStats, TaggerError, TaggerId, TaggerSettings};

/// The taxonomy: `provisions.toml`, with its terms compiled for matching.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub provisions: Vec<Provision>,
    /// The languages the tagger reads (ISO 639-1 codes): a text in another language is
    /// not tagged, and what shows its provisions says so.
    pub languages: Vec<String>,
    rules: Vec<Rule>,
    /// The learned tagger, when its weights were found ([`Taxonomy::with_learned`]);
    /// without it the rules alone tag.
    learned: Option<std::sync::Arc<LearnedTagger>>,
    /// The archive's learned tags by sentence ([`Taxonomy::with_tag_cache`]).
    tag_cache: Option<std::sync::Arc<TagCache>>,
    /// SHA-256 of what the tags depend on in the taxonomy (see [`matching_digest`]):
    /// with the rules' code, the rules' version.
    source_digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    /// The languages the terms are written in; English when not said.
    #[serde(default = "english")]
    languages: Vec<String>,
    #[serde(rename = "provision", default)]
    provisions: Vec<Provision>,
}

fn english() -> Vec<String> {
    vec!["en".to_string()]
}

/// A provision's terms, tokenized once.
#[derive(Debug, Clone)]
struct Rule {
    all: Vec<Vec<Term>>,
    none: Vec<Term>,
}

#[derive(Debug, Clone)]
struct Term {
    text: String,
    parts: Vec<String>,
    /// A trailing `*`: the last word matches by prefix ("share*" matches "sharing").
    prefix: bool,
}

impl Term {
    fn new(text: &str) -> Term {
        let trimmed = text.trim();
        Term {
            text: trimmed.to_string(),
            parts: Words::new(trimmed.trim_end_matches('*')).tokens,
            prefix: trimmed.ends_with('*'),
        }
    }
}

/// One category of clause.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provision {
    pub id: String,
    pub title: String,
    /// What the clause means for people, in plain language.
    pub description: String,
    /// The regulations it relates to ("GDPR Art. 22", "CCPA § 1798.120", ...).
    #[serde(default)]
    pub regulations: Vec<String>,
    /// Groups of terms; a sentence matches when it has a term of every group.
    pub all: Vec<Vec<String>>,
    /// Terms any of which rules the sentence out.
    #[serde(default)]
    pub none: Vec<String>,
    /// How many words apart the first terms of the groups may be at most.
    #[serde(default = "default_window")]
    pub window: usize,
    /// Cue kinds that belong to this clause's own wording and so say nothing of its
    /// stance: a class action waiver is stated with "not as a class", the right to opt
    /// out is a right affirmed, not a choice that makes it conditional.
    #[serde(default)]
    pub stance_ignores: Vec<StanceCue>,
    /// A platform's position in a few words when its strongest sentence grants this
    /// ("may train AI on your content"), for comparisons (`report::position`); a phrase
    /// made from the title stands in when there is none.
    #[serde(default)]
    pub grants: Option<String>,
    /// The same when it restricts ("does not train AI on your content").
    #[serde(default)]
    pub restricts: Option<String>,
    /// The same when it is conditional ("trains AI on your content only if you allow it").
    #[serde(default)]
    pub conditional: Option<String>,
}

/// A kind of stance cue (see [`Provision::stance_ignores`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StanceCue {
    /// Denials and bounds ("not", "never", "only"), which otherwise mean `restricts`.
    Negations,
    /// The user's choices (consent, opt-out, settings), which otherwise mean `conditional`.
    Conditions,
}

fn default_window() -> usize {
    20
}

/// What a sentence does with a provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    /// The platform may do it.
    Grants,
    /// The platform does not or may not do it.
    Restricts,
    /// It depends on the user: consent, opt-in or opt-out.
    Conditional,
    /// The sentence talks about it without granting or restricting.
    Neutral,
}

impl Stance {
    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Grants => "grants",
            Stance::Restricts => "restricts",
            Stance::Conditional => "conditional",
            Stance::Neutral => "neutral",
        }
    }

    /// The stance named as [`as_str`](Self::as_str) writes it.
    pub fn parse(s: &str) -> Option<Stance> {
        Some(match s {
            "grants" => Stance::Grants,
            "restricts" => Stance::Restricts,
            "conditional" => Stance::Conditional,
            "neutral" => Stance::Neutral,
            _ => return None,
        })
    }
}

impl fmt::Display for Stance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sentence tagged with a provision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub provision: String,
    pub stance: Stance,
    /// The rule's terms that matched, one per group, as they were written in the
    /// taxonomy; empty when the rule did not fire and the learned tagger alone tagged.
    pub matched: Vec<String>,
    /// The learned tagger's evidence: the sentence's words and word pairs that weighed
    /// most for this provision (empty for a tag of the rules alone).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// The learned detector's probability, in thousandths (None for the rules alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u16>,
}

/// The largest `provisions.toml` read. The default taxonomy is about 40 KB; a hundred
/// times that leaves room for any hand-written one while keeping a committed giant (or a
/// device) from exhausting memory.
pub const MAX_TAXONOMY_BYTES: u64 = 4 << 20;

/// A taxonomy that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TaxonomyError {
    pub path: String,
    pub message: String,
}

/// A digest of the parts of a taxonomy tags depend on: its languages and each
/// provision's id and matching rules. Titles, descriptions, regulations, position
/// phrases and comments are left out, so editing them keeps the tagger's version (and
/// an export's provision occurrences comparable).
fn matching_digest(languages: &[String], provisions: &[Provision]) -> String {
    use std::fmt::Write as _;
    let mut text = format!("languages {languages:?}\n");
    for p in provisions {
        let _ = writeln!(
            text,
            "{} window {} all {:?} none {:?} ignores {:?}",
            p.id, p.window, p.all, p.none, p.stance_ignores
        );
    }
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

impl Taxonomy {
    /// Parses and checks a taxonomy: unique slug ids, at least one group of terms each.
    pub fn parse(source: &str, path: &str) -> Result<Taxonomy, TaxonomyError> {
        let error = |message: String| TaxonomyError {
            path: path.to_string(),
            message,
        };
        let file: TaxonomyFile = toml::from_str(source).map_err(|e| {
            let line = e
                .span()
                .map(|s| source[..s.start.min(source.len())].lines().count().max(1));
            error(format!(
                "{}{}",
                line.map(|l| format!("line {l}: ")).unwrap_or_default(),
                e.message().trim()
            ))
        })?;
        if let Some(bad) = file
            .languages
            .iter()
            .find(|code| !(2..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_lowercase()))
        {
            return Err(error(format!(
                "languages: {bad:?} is not a language code (ISO 639-1, like \"en\" or \"fr\")"
            )));
        }
        let mut seen = BTreeSet::new();
        for p in &file.provisions {
            if !crate::declaration::is_slug(&p.id) {
                return Err(error(format!(
                    "provision id {:?} is not a slug (lowercase letters, digits, '-')",
                    p.id
                )));
            }
            if !seen.insert(p.id.as_str()) {
                return Err(error(format!("provision {:?} is defined twice", p.id)));
            }
            if p.all.is_empty() || p.all.iter().any(|g| g.is_empty()) {
                return Err(error(format!(
                    "provision {:?} needs `all` groups of at least one term each",
                    p.id
                )));
            }
        }
        let rules = file
            .provisions
            .iter()
            .map(|p| Rule {
                all: p
                    .all
                    .iter()
                    .map(|group| group.iter().map(|t| Term::new(t)).collect())
                    .collect(),
                none: p.none.iter().map(|t| Term::new(t)).collect(),
            })
            .collect();
        let source_digest = matching_digest(&file.languages, &file.provisions);
        Ok(Taxonomy {
            provisions: file.provisions,
            languages: file.languages,
            rules,
            learned: None,
            tag_cache: None,
            source_digest,
        })
    }

    /// The archive's `provisions.toml`, or the built-in taxonomy when it has none. It
    /// comes with the archive: read only as a regular file of at most
    /// [`MAX_TAXONOMY_BYTES`] (src/nofollow.rs).
    pub fn load(archive_root: &Path) -> Result<Taxonomy, TaxonomyError> {
        let path = archive_root.join("provisions.toml");
        match crate::nofollow::read_capped_text(&path, MAX_TAXONOMY_BYTES) {
            Ok(source) => Taxonomy::parse(&source, &path.display().to_string()),
            Err(e) if e.is_not_found() => Taxonomy::builtin(),
            Err(e) => Err(TaxonomyError {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }

    /// The default taxonomy shipped with clausewatch.
    pub fn builtin() -> Result<Taxonomy, TaxonomyError> {
        Taxonomy::parse(
            include_str!("../../archive/provisions.toml"),
            "provisions.toml (built in)",
        )
    }

    /// Whether the tagger reads text in `language` (an ISO 639-1 code).
    pub fn covers(&self, language: &str) -> bool {
        self.languages.iter().any(|l| l == language)
    }

    pub fn get(&self, id: &str) -> Option<&Provision> {
        self.provisions.iter().find(|p| p.id == id)
    }

    /// The provisions a sentence expresses, with its stance on each: the learned
    /// tagger's verdict where it is attached, the rules' otherwise.
    pub fn tag(&self, sentence: &str) -> Vec<Tag> {
        let Some(learned) = self.learned.as_deref().filter(|_| !sentence.trim().is_empty()) else {
            return self.rule_tags(sentence);
        };
        let key = cache::sentence_key(sentence);
        match &self.tag_cache {
            // The cache remembers this run's tags too: the tagger's own memo would hold
            // a second copy of each.
            Some(cache) => cache.get_or_tag(key, &|id| self.get(id).is_some(), || {
                learned.tag_unmemoized(sentence, || self.rule_tags(sentence))
            }),
            None => learned.tag_keyed(key, sentence, || self.rule_tags(sentence)),
        }
    }

    /// The rules' tags of a sentence, whether or not a learned tagger is attached.
    pub fn rule_tags(&self, sentence: &str) -> Vec<Tag> {
        let words = Words::new(sentence);
        if words.tokens.is_empty() {
            return Vec::new();
        }
        self.provisions
            .iter()
            .zip(&self.rules)
            .filter_map(|(p, rule)| rule.tag(p, &words))
            .collect()
    }

    /// This taxonomy with a learned tagger attached: [`Taxonomy::tag`] then uses it.
    pub fn with_learned(mut self, learned: std::sync::Arc<LearnedTagger>) -> Taxonomy {
        self.learned = Some(learned);
        self
    }

    /// The learned tagger, if one is attached.
    pub fn learned(&self) -> Option<&LearnedTagger> {
        self.learned.as_deref()
    }

    /// This taxonomy reading and remembering the learned tagger's tags in the archive's
    /// [`TAG_CACHE_FILE`], which `source` reads when a sentence is first tagged (None
    /// when there is none), so that a sentence tagged by an earlier run is not tagged
    /// again. Without a learned tagger, nothing changes: the rules tag in microseconds,
    /// and an archive tagged by rules alone has no file.
    pub fn with_tag_cache(mut self, source: cache::TagCacheSource) -> Taxonomy {
        if self.learned.is_some() {
            self.tag_cache = Some(std::sync::Arc::new(TagCache::new(self.tagger(), source)));
        }
        self
    }

    /// The tag cache, if one is attached: its statistics, and the file to write.
    pub fn tag_cache(&self) -> Option<&TagCache> {
        self.tag_cache.as_deref()
    }

    /// Which tagger tags, and its version: tags are a pure function of the sentence and
    /// this (shown in `--json` and commit trailers, and the key of the tag cache).
    pub fn tagger(&self) -> TaggerId {
        let rules = tagger::rules_digest(&self.source_digest);
        match &self.learned {
            Some(learned) => learned.id(&rules),
            None => TaggerId::rules(&rules),
        }
    }

    /// Ids among `only` of the provisions any of `sentences` expresses, sorted: without
    /// a learned tagger, the other provisions' rules are not run.
    pub fn ids_among<'a>(&self, sentences: impl IntoIterator<Item = &'a str>, only: &[String]) -> Vec<String> {
        if only.is_empty() {
            return Vec::new();
        }
        if self.learned.is_some() {
            let ids: BTreeSet<String> = sentences
                .into_iter()
                .flat_map(|s| self.tag(s))
                .map(|t| t.provision)
                .filter(|id| only.contains(id))
                .collect();
            return ids.into_iter().collect();
        }
        let rules: Vec<(&Provision, &Rule)> = self
            .provisions
            .iter()
            .zip(&self.rules)
            .filter(|(p, _)| only.contains(&p.id))
            .collect();
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for sentence in sentences {
            let words = Words::new(sentence);
            if words.tokens.is_empty() {
                continue;
            }
            ids.extend(
                rules
                    .iter()
                    .filter_map(|(p, rule)| rule.tag(p, &words))
                    .map(|t| t.provision),
            );
        }
        ids.into_iter().collect()
    }
}

impl Rule {
    fn tag(&self, provision: &Provision, words: &Words) -> Option<Tag> {
        // For each group, every position where one of its terms occurs. Most sentences
        // miss a group, so the groups are looked at before the excluding terms.
        let mut hits: Vec<Vec<(usize, &str)>> = Vec::with_capacity(self.all.len());
        for group in &self.all {
            let positions: Vec<(usize, &str)> = group
                .iter()
                .flat_map(|term| words.find(term).map(move |at| (at, term.text.as_str())))
                .collect();
            if positions.is_empty() {
                return None;
            }
            hits.push(positions);
        }
        if self.none.iter().any(|term| words.find(term).next().is_some()) {
            return None;
        }
        let (_, matched) = closest(&hits, provision.window)?;
        let stance = stance(words, &provision.stance_ignores);
        Some(Tag {
            provision: provision.id.clone(),
            stance,
            matched,
            words: Vec::new(),
            confidence: None,
        })
    }
}

/// Picks one hit per group so that all lie within `window` words; returns the first
/// and last positions and the terms. Greedy from each hit of the first group: enough for the few
/// hits a sentence has.
fn closest(hits: &[Vec<(usize, &str)>], window: usize) -> Option<((usize, usize), Vec<String>)> {
    let mut best: Option<(usize, (usize, usize), Vec<String>)> = None;
    for &(anchor, term) in &hits[0] {
        let mut chosen = vec![term.to_string()];
        let (mut low, mut high) = (anchor, anchor);
        for group in &hits[1..] {
            let &(at, t) = group.iter().min_by_key(|(at, _)| at.abs_diff(anchor))?;
            low = low.min(at);
            high = high.max(at);
            chosen.push(t.to_string());
        }
        let spread = high - low;
        if spread <= window && best.as_ref().is_none_or(|(s, _, _)| spread < *s) {
            best = Some((spread, (low, high), chosen));
        }
    }
    best.map(|(_, span, chosen)| (span, chosen))
}

/// Words that deny what follows them ("we do not sell", "never used to train").
const NEGATIONS: &[&str] = &[
    "not",
    "never",
    "no",
    "don't",
    "doesn't",
    "won't",
    "cannot",
    "can't",
    "neither",
    "nor",
    "prohibit*",
    "refrain",
    "isn't",
    "aren't",
    "wouldn't",
    "shouldn't",
    "nothing",
    "none",
];
/// Phrases whose negation denies nothing ("including but not limited to").
const IDIOMS: &[&str] = &[
    "not limited to",
    "whether or not",
    "not only",
    "if not",
    "or not",
    "not including",
    "not a judge",
    "without limitation",
    "no later than",
];
/// Words that bound what the platform does: only so much, only so long, only so old.
const LIMITS: &[&str] = &[
    "only",
    "solely",
    "at least",
    "minimi*",
    "shortened",
    "directed to",
    "no longer than",
    "as long as necessary",
    "as long as we need",
    "for up to",
];
/// The user's choice decides: consent, opt-in or opt-out, settings.
const CONDITIONS: &[&str] = &[
    "opt out",
    "opt in",
    "opted",
    "opting",
    "opts",
    "your consent",
    "with consent",
    "consent to",
    "you consent",
    "your permission",
    "you choose",
    "choose to",
    "you can choose",
    "you may choose",
    "you allow",
    "you enable",
    "you turn",
    "turn off",
    "turn on",
    "unless you",
    "until you",
    "your settings",
    "privacy settings",
    "account settings",
    "preferences",
    "you can delete",
    "you can select",
    "whether or not you",
    "you control",
    "control whether",
    "you can disable",
    "you may disable",
    "object to",
    "your choice*",
    "you agree to the use",
    "explicitly agreed",
    "you actively delete",
    "you remove",
    "when enabled",
    "is enabled",
    "are enabled",
];
/// A condition the platform overrides ("even if you opt out, we will use ...") is no choice.
const OVERRIDES: &[&str] = &["even if", "regardless of"];
/// Sentences that point elsewhere or describe without taking a position.
const DESCRIPTIONS: &[&str] = &[
    "for more information",
    "for information about",
    "more information about",
    "learn more",
    "explains",
    "this section",
    "please read",
    "please see",
    "please contact",
    "please email",
    "for a copy",
    "depends on",
    "varies",
    "will be different",
    "take into account",
    "criteria",
    "refers to",
    "means",
    "is defined",
    "are defined",
    "as defined",
    "do not track",
];

/// Phrases compiled once: they are matched against every tagged sentence.
struct Cues {
    negations: Vec<Term>,
    idioms: Vec<Term>,
    limits: Vec<Term>,
    conditions: Vec<Term>,
    overrides: Vec<Term>,
    descriptions: Vec<Term>,
}

static CUES: std::sync::LazyLock<Cues> = std::sync::LazyLock::new(|| {
    let terms = |list: &[&str]| list.iter().map(|t| Term::new(t)).collect();
    Cues {
        negations: terms(NEGATIONS),
        idioms: terms(IDIOMS),
        limits: terms(LIMITS),
        conditions: terms(CONDITIONS),
        overrides: terms(OVERRIDES),
        descriptions: terms(DESCRIPTIONS),
    }
});

/// The stance of a sentence on a provision it matched. A policy sentence that matches
/// a provision most often states it, so a grant is the default; a pointer elsewhere or
/// a definition is neutral, a choice left to the user is conditional (unless the platform
/// overrides it), and a denial or a bound is a restriction. Measured against the
/// labelled corpus sentences by `tests/provisions.rs` (figures in docs/provisions.md).
fn stance(words: &Words, ignores: &[StanceCue]) -> Stance {
    let cues = &*CUES;
    let has = |terms: &[Term]| terms.iter().any(|t| words.find(t).next().is_some());
    if has(&cues.descriptions) {
        return Stance::Neutral;
    }
    if !ignores.contains(&StanceCue::Conditions) && has(&cues.conditions) && !has(&cues.overrides) {
        return Stance::Conditional;
    }
    if !ignores.contains(&StanceCue::Negations) {
        let idiomatic: BTreeSet<usize> = cues
            .idioms
            .iter()
            .flat_map(|t| words.find(t).flat_map(move |at| at..at + t.parts.len()))
            .collect();
        let denied = cues
            .negations
            .iter()
            .any(|t| words.find(t).any(|at| !idiomatic.contains(&at)));
        if denied || has(&cues.limits) {
            return Stance::Restricts;
        }
    }
    Stance::Grants
}

/// A sentence as lower-case word tokens, for phrase search. Apostrophes stay inside
/// words ("don't"), hyphens split ("opt-out" is "opt out").
struct Words {
    tokens: Vec<String>,
    /// Token positions in the order of their text: the tokens a term can start with
    /// (one word, or all the words with a prefix) are one range of it, found by binary
    /// search instead of a scan of the sentence for every term of every provision.
    by_text: Vec<usize>,
}

impl Words {
    fn new(sentence: &str) -> Words {
        let tokens: Vec<String> = sentence
            .to_lowercase()
            .replace(['’', '‘'], "'")
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .map(|w| w.trim_matches('\''))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        let mut by_text: Vec<usize> = (0..tokens.len()).collect();
        by_text.sort_by(|&a, &b| tokens[a].cmp(&tokens[b]));
        Words { tokens, by_text }
    }

    /// Positions where a term starts, in order.
    fn find<'a>(&'a self, term: &'a Term) -> impl Iterator<Item = usize> + 'a {
        let n = term.parts.len();
        let matches = |token: &str, k: usize| {
            let part = term.parts[k].as_str();
            if term.prefix && k == n - 1 {
                token.starts_with(part)
            } else {
                token == part
            }
        };
        let mut found: Vec<usize> = Vec::new();
        if let Some(first) = term.parts.first() {
            let start = self
                .by_text
                .partition_point(|&i| self.tokens[i].as_str() < first.as_str());
            found = self.by_text[start..]
                .iter()
                .copied()
                .take_while(|&i| matches(&self.tokens[i], 0))
                .filter(|&i| i + n <= self.tokens.len() && (1..n).all(|k| matches(&self.tokens[i + k], k)))
                .collect();
            found.sort_unstable();
        }
        found.into_iter()
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_tagger_version_follows_the_rules_not_the_wording_around_them() {
        let source = |title: &str, terms: &str| {
            format!(
                "[[provision]]\nid = \"ai-training\"\ntitle = \"{title}\"\ndescription = \"d\"\n\
                 grants = \"may train\"\nall = [[{terms}], [\"models\"]]\nwindow = 9\n"
            )
        };
        let version = |title: &str, terms: &str| Taxonomy::parse(&source(title, terms), "t").unwrap().tagger();
        let base = version("AI training", "\"train*\"");
        assert_eq!(base.name, "rules");
        assert_eq!(base, version("Training of AI (renamed)", "\"train*\""));
        let commented = Taxonomy::parse(&format!("# a comment\n{}", source("AI training", "\"train*\"")), "t");
        assert_eq!(base, commented.unwrap().tagger());
        assert_ne!(base, version("AI training", "\"train*\", \"fine-tun*\""));
    }
    use super::*;

    fn taxonomy() -> Taxonomy {
        Taxonomy::parse(
            r#"
[[provision]]
id = "ai-training"
title = "AI training on user content"
description = "The platform may use what users post or provide to train AI models."
regulations = ["GDPR Art. 6", "EU AI Act Art. 10"]
all = [["train*", "improve", "develop*", "fine-tun*"], ["machine learning", "artificial intelligence", "ai", "model*"], ["content", "data", "information", "conversations", "input*"]]
none = ["cookie*"]
window = 15
"#,
            "test",
        )
        .unwrap()
    }

    #[test]
    fn stance_ignores_cues_that_are_the_clause_itself() {
        let source = |ignores: &str| {
            format!(
                "[[provision]]\nid = \"class-action-waiver\"\ntitle = \"t\"\ndescription = \"d\"\n\
                 all = [[\"class action*\"], [\"claims\"]]\nstance_ignores = [{ignores}]\n"
            )
        };
        let sentence = "You may bring claims only individually and not in a class action.";
        let stance = |ignores: &str| Taxonomy::parse(&source(ignores), "t").unwrap().tag(sentence)[0].stance;
        assert_eq!(stance(""), Stance::Restricts);
        assert_eq!(stance("\"negations\""), Stance::Grants);
        let err = Taxonomy::parse(&source("\"negation\""), "t").unwrap_err();
        assert!(err.message.starts_with("line 6:"), "{err}");
        assert!(
            err.message.contains("negations"),
            "the error lists the known kinds: {err}"
        );
    }

    #[test]
    fn grants_restricts_and_conditions() {
        let t = taxonomy();
        let tag = |s: &str| t.tag(s).first().map(|t| t.stance);
        assert_eq!(
            tag("We may use your content to train our AI models."),
            Some(Stance::Grants)
        );
        assert_eq!(
            tag("We do not use your content to train models."),
            Some(Stance::Restricts)
        );
        assert_eq!(
            tag("We never train artificial intelligence on your private messages or data."),
            Some(Stance::Restricts)
        );
        assert_eq!(
            tag("Your data may be used to improve our models unless you opt out."),
            Some(Stance::Conditional)
        );
        assert_eq!(
            tag("For more information about how we train models on your data, see our AI notice."),
            Some(Stance::Neutral)
        );
        assert_eq!(
            tag("We train our models only on data you made public."),
            Some(Stance::Restricts),
            "a bound restricts"
        );
        assert_eq!(
            tag("Even if you opt out, we will train our models on flagged content and data."),
            Some(Stance::Grants),
            "an overridden choice is no condition"
        );
        assert_eq!(
            tag("Our models are trained on data, including but not limited to your posts."),
            Some(Stance::Grants),
            "\"not limited to\" denies nothing"
        );
        assert_eq!(
            tag("We use cookies to train our models on your data."),
            None,
            "exclusions rule out"
        );
        assert_eq!(
            tag("We train our staff and keep your content safe."),
            None,
            "every group must match"
        );
    }

    #[test]
    fn tags_carry_matched_terms_and_respect_the_window() {
        let t = taxonomy();
        let tags = t.tag("We may use your content to train our AI models.");
        assert_eq!(tags[0].matched, vec!["train*", "ai", "content"]);
        let far = format!("We may train {} models with your data.", "very ".repeat(30));
        assert!(t.tag(&far).is_empty(), "terms too far apart");
    }

    #[test]
    fn taxonomy_errors() {
        assert!(
            Taxonomy::parse(
                "[[provision]]\nid = \"Bad Id\"\ntitle = \"t\"\ndescription = \"d\"\nall = [[\"a\"]]\n",
                "x"
            )
            .is_err()
        );
        assert!(
            Taxonomy::parse(
                "[[provision]]\nid = \"a\"\ntitle = \"t\"\ndescription = \"d\"\nall = []\n",
                "x"
            )
            .is_err()
        );
        assert!(
            Taxonomy::parse(
                "[[provision]]\nid = \"a\"\ntitle = \"t\"\ndescription = \"d\"\nall = [[\"a\"]]\nextra = 1\n",
                "x"
            )
            .is_err()
        );
    }
}
