//! A platform's position on a provision, in a few words: what a comparison cell says.
//!
//! A platform's documents may state a provision in several sentences, with different
//! stances. Its *position* is stated from its **strongest sentence**: of all the
//! sentences of all its documents that express the provision (leaving out headings,
//! unless there is nothing else: [`is_heading`]), the one that comes first when ordered by
//!
//! 1. **stance**: a sentence that grants or restricts (the platform saying what it does)
//!    before one that makes it conditional (how the user's choice bears on it), before a
//!    neutral one (a pointer or a definition);
//! 2. **weight**: of grants and restrictions, the stance more distinct sentences take
//!    (a platform that shares data in five sentences and excepts private messages in one
//!    shares data); a tie leaves it to what follows;
//! 3. **document**: a privacy policy or terms (a type whose words include `privacy` or
//!    `terms`) before any other document (cookie policy, community guidelines, ...);
//! 4. **focus**: a sentence that expresses fewer provisions before one that expresses
//!    more (a sentence about AI training alone says more of it than a list of ten
//!    purposes that mentions it);
//! 5. **since**: the most recent wording first: it is the platform's latest statement;
//! 6. the order of documents and lines, so the choice never wavers.
//!
//! The **phrase** is built from that sentence's stance and the provision's phrase for
//! it (`grants`, `restricts`, `conditional` in `provisions.toml`; a phrase made from
//! the title when there is none), then the **qualifiers** found in the platform's
//! decisive sentences: `opt-out`, `opt-in`, `consent`, `by default`, each written `no …`
//! when every mention of it is denied ("you cannot opt out"; "if you do not opt out" is
//! a condition, not a denial). A qualifier the phrase already says is left out, and at
//! most two are shown. When the platform's sentences (headings left out, as above) both
//! grant and restrict, the phrase starts with `mixed:` (the strongest sentence's stance
//! follows). When every sentence is neutral, it says so.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use serde::Serialize;

use super::diff::words;
use super::provisions::{DatedSentence, Statement, sentence_of};
use crate::provision::{Provision, Stance};

/// At most this many qualifiers follow the phrase: a cell has room for a few words.
const MAX_QUALIFIERS: usize = 2;

/// What the phrase says when every sentence is neutral.
const NEUTRAL_PHRASE: &str = "mentions it, no stance";

/// How one platform stands on a provision, from all of its documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Position {
    /// A few words: "may train AI on your content; opt-out".
    pub phrase: String,
    /// The strongest sentence's stance.
    pub stance: Stance,
    /// Whether its sentences (headings aside, unless there is nothing else) both grant
    /// and restrict.
    pub mixed: bool,
    /// What the platform's decisive sentences say of the user's choice ("opt-out",
    /// "no opt-out", "consent", "by default"), in that order.
    pub qualifiers: Vec<String>,
    /// The sentence the phrase is stated from.
    pub strongest: Evidence,
    /// How many sentences state the provision, over all the platform's documents.
    pub sentences: usize,
    /// Every stance they take, sorted.
    pub stances: Vec<Stance>,
}

/// A sentence and the document it stands in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub document: String,
    #[serde(flatten)]
    pub sentence: DatedSentence,
}

/// How a provision's position is put in words: its phrases from `provisions.toml`, or
/// phrases made from its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrasing {
    grants: String,
    restricts: String,
    conditional: String,
}

impl Phrasing {
    /// The provision's own phrases, each missing one made from its title (or from `id`
    /// when the taxonomy does not know it): "licence to user content: yes".
    pub fn of(provision: Option<&Provision>, id: &str) -> Phrasing {
        let subject = lower_first(provision.map_or(id, |p| p.title.as_str()));
        let pick = |own: Option<&String>, fallback: &str| {
            own.filter(|p| !p.trim().is_empty())
                .map_or_else(|| format!("{subject}: {fallback}"), |p| p.trim().to_string())
        };
        Phrasing {
            grants: pick(provision.and_then(|p| p.grants.as_ref()), "yes"),
            restricts: pick(provision.and_then(|p| p.restricts.as_ref()), "no"),
            conditional: pick(provision.and_then(|p| p.conditional.as_ref()), "your choice"),
        }
    }

    fn of_stance(&self, stance: Stance) -> &str {
        match stance {
            Stance::Grants => &self.grants,
            Stance::Restricts => &self.restricts,
            Stance::Conditional => &self.conditional,
            Stance::Neutral => NEUTRAL_PHRASE,
        }
    }
}

/// "AI training" stays, "Sale of data" becomes "sale of data".
fn lower_first(title: &str) -> String {
    let mut chars = title.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(title[first.len_utf8()..].chars()).collect()
        }
        _ => title.to_string(),
    }
}

/// The order of stances for the strongest sentence: the platform's own statements,
/// then the user's choices, then the rest.
fn decisiveness(stance: Stance) -> u8 {
    match stance {
        Stance::Grants | Stance::Restricts => 2,
        Stance::Conditional => 1,
        Stance::Neutral => 0,
    }
}

/// At most this many words make a line without sentence punctuation a title.
const HEADING_MAX_WORDS: usize = 12;

/// Whether a canonical text's line is a heading or a title-like fragment rather than a
/// sentence: a Markdown heading (`#`), or a line of at most [`HEADING_MAX_WORDS`] words
/// that does not end as a sentence does (`.`, `!`, `?`, `;`, `:`, `…`), such as an
/// unmarked section title ("Improving Products, Features & Machine Learning Models"),
/// a table cell or a link label. Telling a verbless title from a sentence by
/// its grammar would take a part-of-speech tagger; a short line without a sentence's
/// ending is nearly always one, and one that is a clause after all ("We use your data
/// to make X better", a summary's link) loses only its turn to headline, behind real
/// sentences. The stance tagged on a heading comes from its topic words ("Limiting,
/// pausing or closing accounts" would read as a restriction), so it says nothing
/// of the platform's position. It reads a line's ending, unlike the tagger's
/// [`crate::provision::learned::is_fragment`] (no sentence punctuation anywhere, at most
/// eight words): a table cell's label carries an "e.g." and still names a topic.
pub fn is_heading(line: &str) -> bool {
    let line = line.trim();
    if line.starts_with('#') {
        return true;
    }
    let sentence = sentence_of(line);
    // Closing quotes, brackets, emphasis and table bars come after a sentence's full stop.
    let ending = sentence
        .trim_end_matches(|c: char| c.is_whitespace() || "\"'”’»)]*_|".contains(c))
        .chars()
        .last();
    !matches!(ending, Some('.' | '!' | '?' | ';' | ':' | '…')) && words(sentence).len() <= HEADING_MAX_WORDS
}

/// Of grants and restrictions, the stance more distinct sentences take; `None` on a tie.
/// A sentence repeated (a second copy of a page, a table of contents) counts once.
fn prevailing<'a>(sentences: impl IntoIterator<Item = &'a DatedSentence> + Clone) -> Option<Stance> {
    let count = |stance: Stance| {
        sentences
            .clone()
            .into_iter()
            .filter(|s| s.stance == stance)
            .map(|s| s.text.as_str())
            .collect::<BTreeSet<_>>()
            .len()
    };
    match count(Stance::Grants).cmp(&count(Stance::Restricts)) {
        std::cmp::Ordering::Greater => Some(Stance::Grants),
        std::cmp::Ordering::Less => Some(Stance::Restricts),
        std::cmp::Ordering::Equal => None,
    }
}

/// A privacy policy or terms: the documents a platform states its positions in.
pub fn is_main_document(document: &str) -> bool {
    document.split('-').any(|w| w == "privacy" || w == "terms")
}

/// The position of one platform from its statements of one provision (one per document,
/// in document order); `None` when there are none.
pub fn position(phrasing: &Phrasing, statements: &[&Statement]) -> Option<Position> {
    let sentences: Vec<(&str, &DatedSentence)> = statements
        .iter()
        .flat_map(|s| s.sentences.iter().map(move |sentence| (s.document.as_str(), sentence)))
        .collect();
    // A heading names a topic; it states the position only when nothing else does.
    let stating: Vec<(&str, &DatedSentence)> = if sentences.iter().all(|(_, s)| s.heading) {
        sentences.clone()
    } else {
        sentences.iter().copied().filter(|(_, s)| !s.heading).collect()
    };
    let prevailing = prevailing(stating.iter().map(|(_, s)| *s));
    let (_, &(document, strongest)) = stating.iter().enumerate().max_by_key(|(order, (document, s))| {
        (
            decisiveness(s.stance),
            Some(s.stance) == prevailing,
            is_main_document(document),
            Reverse(s.provisions_expressed),
            s.since,
            Reverse(*order),
        )
    })?;
    let mut stances: Vec<Stance> = sentences.iter().map(|(_, s)| s.stance).collect();
    stances.sort();
    stances.dedup();
    let states = |stance: Stance| stating.iter().any(|(_, s)| s.stance == stance);
    let mixed = states(Stance::Grants) && states(Stance::Restricts);
    let base = phrasing.of_stance(strongest.stance);
    let decisive = sentences
        .iter()
        .filter(|(_, s)| s.stance != Stance::Neutral)
        .map(|(_, s)| s.text.as_str());
    let qualifiers: Vec<String> = qualifiers(decisive)
        .into_iter()
        .filter(|q| !q.kind.said_by(base))
        .take(MAX_QUALIFIERS)
        .map(|q| q.to_string())
        .collect();
    let mut phrase = String::new();
    if mixed {
        phrase.push_str("mixed: ");
    }
    phrase.push_str(base);
    if !qualifiers.is_empty() {
        phrase.push_str("; ");
        phrase.push_str(&qualifiers.join(", "));
    }
    Some(Position {
        phrase,
        stance: strongest.stance,
        mixed,
        qualifiers,
        strongest: Evidence {
            document: document.to_string(),
            sentence: strongest.clone(),
        },
        sentences: sentences.len(),
        stances,
    })
}

/// A kind of choice a sentence can give the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum QualifierKind {
    OptOut,
    OptIn,
    Consent,
    ByDefault,
}

impl QualifierKind {
    const ALL: [QualifierKind; 4] = [
        QualifierKind::OptOut,
        QualifierKind::OptIn,
        QualifierKind::Consent,
        QualifierKind::ByDefault,
    ];

    fn name(self) -> &'static str {
        match self {
            QualifierKind::OptOut => "opt-out",
            QualifierKind::OptIn => "opt-in",
            QualifierKind::Consent => "consent",
            QualifierKind::ByDefault => "by default",
        }
    }

    /// The word sequences that say it, lower-cased words.
    fn cues(self) -> &'static [&'static [&'static str]] {
        match self {
            QualifierKind::OptOut => &[
                &["opt", "out"],
                &["opting", "out"],
                &["opted", "out"],
                &["opts", "out"],
                &["object", "to"],
                &["turn", "off"],
                &["switch", "off"],
            ],
            QualifierKind::OptIn => &[&["opt", "in"], &["opting", "in"], &["opted", "in"], &["opts", "in"]],
            QualifierKind::Consent => &[&["consent"], &["permission"]],
            QualifierKind::ByDefault => &[&["by", "default"]],
        }
    }

    /// Whether a phrase already says it ("only with your consent" says consent).
    fn said_by(self, phrase: &str) -> bool {
        let phrase = words(phrase);
        self.cues().iter().any(|cue| find(&phrase, cue).next().is_some())
    }
}

/// Words that deny a choice right after them: "you cannot opt out", "you can't opt in"
/// (apostrophes split words, so "can't" ends in "t"), "there is no opt-out".
const DENIALS: &[&str] = &["not", "cannot", "t", "no", "never", "unable"];
/// How many words before a cue a denial still bears on it.
const DENIAL_REACH: usize = 3;
/// Words that make a denial the condition of a choice, not its absence: "if you do not
/// opt out" says there is an opt-out.
const CONDITIONS: &[&str] = &["if", "unless", "until", "when", "whether"];
/// How many words before a cue such a word still bears on it.
const CONDITION_REACH: usize = 4;

/// Whether the choice named at `at` is denied ("you cannot opt out").
fn denied(words: &[String], at: usize) -> bool {
    let before = |reach: usize| words[at.saturating_sub(reach)..at].iter().map(String::as_str);
    !before(CONDITION_REACH).any(|w| CONDITIONS.contains(&w)) && before(DENIAL_REACH).any(|w| DENIALS.contains(&w))
}

/// A choice found in a platform's sentences, denied when every mention of it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Qualifier {
    kind: QualifierKind,
    denied: bool,
}

impl std::fmt::Display for Qualifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.denied {
            f.write_str("no ")?;
        }
        f.write_str(self.kind.name())
    }
}

/// The choices the sentences mention, in [`QualifierKind::ALL`] order.
fn qualifiers<'a>(sentences: impl IntoIterator<Item = &'a str>) -> Vec<Qualifier> {
    let sentences: Vec<Vec<String>> = sentences.into_iter().map(words).collect();
    QualifierKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let mut mentions = sentences.iter().flat_map(|w| {
                kind.cues()
                    .iter()
                    .flat_map(move |cue| find(w, cue).map(move |at| denied(w, at)))
            });
            let first = mentions.next()?;
            let denied = first && mentions.all(|denied| denied);
            Some(Qualifier { kind, denied })
        })
        .collect()
}

/// Where a word sequence starts in a sentence's words.
fn find<'a>(words: &'a [String], cue: &'a [&str]) -> impl Iterator<Item = usize> + 'a {
    (0..words.len().saturating_sub(cue.len() - 1))
        .filter(move |&at| cue.iter().enumerate().all(|(k, c)| words[at + k] == *c))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-03-{day:02}T00:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn sentence(text: &str, stance: Stance, day: u32, provisions: usize) -> DatedSentence {
        DatedSentence {
            text: text.to_string(),
            stance,
            since: at(day),
            since_first_record: false,
            commit: format!("c{day}"),
            absences: Vec::new(),
            provisions_expressed: provisions,
            heading: is_heading(text),
        }
    }

    fn statement(document: &str, sentences: Vec<DatedSentence>) -> Statement {
        let mut stances: Vec<Stance> = sentences.iter().map(|s| s.stance).collect();
        stances.sort();
        stances.dedup();
        Statement {
            service: "acme".into(),
            document: document.into(),
            stances,
            sentences,
        }
    }

    fn training() -> Phrasing {
        Phrasing {
            grants: "may train AI on your content".into(),
            restricts: "does not train AI on your content".into(),
            conditional: "trains AI on your content only if you allow it".into(),
        }
    }

    fn position_of(statements: &[Statement]) -> Position {
        let refs: Vec<&Statement> = statements.iter().collect();
        position(&training(), &refs).expect("a position")
    }

    #[test]
    fn a_grant_with_an_opt_out_elsewhere_says_both() {
        let p = position_of(&[statement(
            "privacy-policy",
            vec![
                sentence("We may use your content to train our AI models.", Stance::Grants, 2, 1),
                sentence(
                    "You can opt out of AI training in your settings.",
                    Stance::Conditional,
                    5,
                    1,
                ),
            ],
        )]);
        assert_eq!(p.phrase, "may train AI on your content; opt-out");
        assert_eq!(
            p.strongest.sentence.text,
            "We may use your content to train our AI models."
        );
        assert_eq!(p.strongest.sentence.since, at(2));
        assert_eq!((p.sentences, p.mixed), (2, false));
    }

    #[test]
    fn a_restriction_with_an_opt_in_reads_as_such() {
        let p = position_of(&[statement(
            "privacy-policy",
            vec![
                sentence(
                    "If you opt in, we use your chats to improve our models.",
                    Stance::Conditional,
                    1,
                    1,
                ),
                sentence(
                    "We do not train our AI models on your content.",
                    Stance::Restricts,
                    1,
                    1,
                ),
            ],
        )]);
        assert_eq!(p.phrase, "does not train AI on your content; opt-in");
        assert_eq!(p.stance, Stance::Restricts);
    }

    #[test]
    fn grants_and_restrictions_together_are_mixed() {
        let p = position_of(&[statement(
            "privacy-policy",
            vec![
                sentence("We may use your posts to train our AI models.", Stance::Grants, 1, 1),
                sentence(
                    "We do not use your private messages to train AI.",
                    Stance::Restricts,
                    3,
                    1,
                ),
            ],
        )]);
        assert_eq!(
            p.phrase, "mixed: does not train AI on your content",
            "newest wins the tie"
        );
        assert!(p.mixed);
        assert_eq!(p.stances, vec![Stance::Grants, Stance::Restricts]);
    }

    #[test]
    fn the_stance_more_sentences_take_headlines_a_mixed_position() {
        // The carve-out is the newest and comes first; the grant is said three times.
        let p = position_of(&[statement(
            "privacy-policy",
            vec![
                sentence(
                    "We do not use your private messages to train AI.",
                    Stance::Restricts,
                    9,
                    1,
                ),
                sentence("We may use your posts to train our AI models.", Stance::Grants, 1, 1),
                sentence("We use your photos to improve our AI models.", Stance::Grants, 1, 1),
                sentence("Your comments help train our AI models.", Stance::Grants, 1, 1),
                // A second copy of the carve-out (a table of contents, a doubled page)
                // is one sentence, not two.
                sentence(
                    "We do not use your private messages to train AI.",
                    Stance::Restricts,
                    9,
                    1,
                ),
            ],
        )]);
        assert_eq!(p.phrase, "mixed: may train AI on your content");
        assert_eq!(
            p.strongest.sentence.text,
            "We may use your posts to train our AI models."
        );
        // Outnumbered the other way, the restriction headlines.
        let p = position_of(&[statement(
            "privacy-policy",
            vec![
                sentence("We may use your posts to train our AI models.", Stance::Grants, 9, 1),
                sentence(
                    "We do not use your private messages to train AI.",
                    Stance::Restricts,
                    1,
                    1,
                ),
                sentence("We never train AI models on your photos.", Stance::Restricts, 1, 1),
            ],
        )]);
        assert_eq!(p.phrase, "mixed: does not train AI on your content");
        assert_eq!(
            p.strongest.sentence.text, "We do not use your private messages to train AI.",
            "the newer grant does not outrank the prevailing stance"
        );
    }

    #[test]
    fn a_heading_never_headlines_when_a_sentence_does() {
        let p = position_of(&[statement(
            "privacy-policy",
            vec![
                sentence(
                    "Improving Products, Features & Machine Learning Models",
                    Stance::Grants,
                    9,
                    1,
                ),
                sentence(
                    "You can opt out of AI training on your content.",
                    Stance::Conditional,
                    1,
                    1,
                ),
            ],
        )]);
        assert_eq!(p.stance, Stance::Conditional);
        assert_eq!(
            p.strongest.sentence.text,
            "You can opt out of AI training on your content."
        );
        // A heading tagged from its topic words neither headlines nor makes it mixed.
        let mut heading = sentence("Restricting AI training on content", Stance::Restricts, 9, 1);
        heading.heading = is_heading("## 6. Restricting AI training on content");
        let p = position_of(&[statement(
            "terms-of-service",
            vec![
                heading.clone(),
                sentence("We may use your content to train our AI models.", Stance::Grants, 1, 1),
            ],
        )]);
        assert_eq!((p.phrase.as_str(), p.mixed), ("may train AI on your content", false));
        assert_eq!(
            p.stances,
            vec![Stance::Grants, Stance::Restricts],
            "every stance is still listed"
        );
        // Alone, a heading is all there is to show.
        let p = position_of(&[statement("terms-of-service", vec![heading])]);
        assert_eq!(p.strongest.sentence.text, "Restricting AI training on content");
    }

    #[test]
    fn headings_are_marked_or_short_lines_without_a_sentence_ending() {
        for line in [
            "## How Do We Use Your Information?",
            "# Privacy Policy",
            "Improving Products, Features & Machine Learning Models",
            "- 6. Limiting, pausing or closing accounts",
            "| To personalise services, including content and ads |",
            "Data received from connected apps",
        ] {
            assert!(is_heading(line), "{line}");
        }
        for line in [
            "We do not sell your data.",
            "- to train our AI models;",
            "We share it with partners (such as advertisers).",
            "You can opt out: see “Your choices.”",
            "| We keep your data for as long as your account is open. |",
            "We may use what we collect and what is public on the web to help develop our models over time",
        ] {
            assert!(!is_heading(line), "{line}");
        }
    }

    #[test]
    fn the_main_documents_and_the_focused_sentence_come_first() {
        let cookie = statement(
            "cookie-policy",
            vec![sentence(
                "We do not use cookie data to train AI models.",
                Stance::Restricts,
                9,
                1,
            )],
        );
        let privacy = statement(
            "privacy-policy",
            vec![
                sentence(
                    "We use data to personalise ads, share it with partners and train AI models.",
                    Stance::Grants,
                    4,
                    3,
                ),
                sentence("We may train AI models on your content.", Stance::Grants, 2, 1),
            ],
        );
        let p = position_of(&[cookie, privacy]);
        assert_eq!(p.strongest.document, "privacy-policy");
        assert_eq!(p.strongest.sentence.text, "We may train AI models on your content.");
        assert_eq!(p.phrase, "mixed: may train AI on your content");
    }

    #[test]
    fn a_decisive_sentence_beats_a_neutral_one_and_neutral_alone_says_so() {
        let pointer = sentence(
            "Learn more about how we train AI models on data.",
            Stance::Neutral,
            9,
            1,
        );
        let p = position_of(&[statement(
            "terms-of-service",
            vec![
                pointer.clone(),
                sentence(
                    "Your content is used to train AI unless you opt out.",
                    Stance::Conditional,
                    1,
                    1,
                ),
            ],
        )]);
        assert_eq!(p.phrase, "trains AI on your content only if you allow it; opt-out");
        let p = position_of(&[statement("terms-of-service", vec![pointer])]);
        assert_eq!(p.phrase, NEUTRAL_PHRASE);
        assert!(p.qualifiers.is_empty(), "a pointer's words are no qualifier");
    }

    #[test]
    fn a_choice_denied_everywhere_is_no_choice() {
        let denied = position_of(&[statement(
            "privacy-policy",
            vec![sentence(
                "You cannot opt out of our use of your content to train AI, which is on by default.",
                Stance::Grants,
                1,
                1,
            )],
        )]);
        assert_eq!(denied.phrase, "may train AI on your content; no opt-out, by default");
        let both = position_of(&[statement(
            "privacy-policy",
            vec![
                sentence("You can't opt out of safety reviews.", Stance::Grants, 1, 1),
                sentence("You can opt out of AI training.", Stance::Conditional, 1, 1),
            ],
        )]);
        assert_eq!(both.qualifiers, vec!["opt-out"]);
        let conditioned = position_of(&[statement(
            "privacy-policy",
            vec![sentence(
                "If you do not opt out, partners may use your content to train their AI models.",
                Stance::Conditional,
                1,
                1,
            )],
        )]);
        assert_eq!(conditioned.qualifiers, vec!["opt-out"], "a condition is no denial");
    }

    #[test]
    fn a_qualifier_the_phrase_says_is_not_repeated() {
        let phrasing = Phrasing {
            conditional: "trains AI on your content only with your consent".into(),
            ..training()
        };
        let statements = [statement(
            "privacy-policy",
            vec![sentence(
                "With your consent, we use your content to train AI models.",
                Stance::Conditional,
                1,
                1,
            )],
        )];
        let refs: Vec<&Statement> = statements.iter().collect();
        let p = position(&phrasing, &refs).unwrap();
        assert_eq!(p.phrase, "trains AI on your content only with your consent");
    }

    #[test]
    fn phrases_fall_back_to_the_title() {
        let phrasing = Phrasing::of(None, "Sale of personal data");
        assert_eq!(phrasing.of_stance(Stance::Grants), "sale of personal data: yes");
        assert_eq!(phrasing.of_stance(Stance::Restricts), "sale of personal data: no");
        assert_eq!(
            Phrasing::of(None, "AI training").of_stance(Stance::Conditional),
            "AI training: your choice"
        );
        assert!(is_main_document("privacy-policy") && is_main_document("ai-terms"));
        assert!(!is_main_document("cookie-policy") && !is_main_document("community-guidelines"));
    }
}
