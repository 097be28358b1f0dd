//! "Since when has this sentence been in the document?" — defined once, here, and used
//! by `blame`, `compare`, `timeline`, the site's sentence ages and the export.
//!
//! **The definition.** A version is a multiset of sentences, each read through its *key*:
//! its words once letter case, punctuation, quote and dash style, whitespace, Markdown
//! markers and list numbering are set aside (the rules that make a change `cosmetic`).
//! A sentence is *present* in a version when its key is. Its *since* is the first
//! version, over the document's whole history, in which it was present; its *absences*
//! are the spans between a version where it was no longer present and the version where
//! it came back. So a second copy appearing and going away, a move, or a cosmetic edit
//! leaves the date alone; a real absence does not reset it either, but is shown
//! ("since 2024-02-21, absent 2025-03-01..2025-04-02"). A since that is the document's
//! first record is a bound, not a date: the sentence was there when recording began
//! ("since the first record (2024-02-21)"), and every answer says so.
//!
//! Re-extractions (`Change: reextract`) change how text is cut, not what it says: a
//! sentence a rebuild re-split or re-joined inherits the date of the old sentence of
//! that version sharing most of its words (at least 60%).
//!
//! Git's line blame answers another question (which commit last wrote this line), and
//! is wrong for a policy page that was shown twice for a while: when the doubled copy
//! went away, git kept the newer copy's lines.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use git2::Oid;
use serde::Serialize;

use super::diff::comparable_line_words;

/// Words two words lists must share (of the newer line's) for a re-extracted sentence
/// to inherit an old one's date.
const LOOK_THROUGH_SHARE: f64 = 0.6;

/// The key a sentence is compared by across versions: its words, cosmetics set aside.
/// A line without words (a rule, a lone symbol) is its own key.
pub fn key(line: &str) -> String {
    let words = comparable_line_words(line);
    if words.is_empty() {
        line.trim().to_string()
    } else {
        words.join(" ")
    }
}

/// The sentences of `a` (keyed by [`key`]) that `b` does not have, sorted: what went
/// between two versions, or what came.
pub fn only_in<T: Clone + Ord>(a: &BTreeMap<String, T>, b: &BTreeMap<String, T>) -> Vec<T> {
    let mut out: Vec<T> = a
        .iter()
        .filter(|(key, _)| !b.contains_key(*key))
        .map(|(_, sentence)| sentence.clone())
        .collect();
    out.sort();
    out
}

/// A version: when it was recorded and by which commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub commit: Oid,
    pub date: DateTime<Utc>,
}

/// A span in which a sentence was not in the document: from the first version without
/// it to the version that brought it back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Absence {
    pub from: DateTime<Utc>,
    pub from_commit: String,
    pub until: DateTime<Utc>,
    pub until_commit: String,
}

impl Absence {
    /// `2025-03-01..2025-04-02`.
    pub fn span(&self) -> String {
        format!("{}..{}", self.from.format("%Y-%m-%d"), self.until.format("%Y-%m-%d"))
    }
}

/// A since-date as it is shown: `2024-03-22`, or `first record (2024-02-21)` when it is
/// the document's first recorded version. The archive cannot know since when a sentence
/// of the first record had been there: only that it already was when recording began.
pub fn date_label(since: DateTime<Utc>, first_record: bool) -> String {
    if first_record {
        format!("first record ({})", since.format("%Y-%m-%d"))
    } else {
        since.format("%Y-%m-%d").to_string()
    }
}

/// `since 2024-03-22`, `since the first record (2024-02-21)`, or either followed by
/// `, absent 2025-03-01..2025-04-02, 2025-06-01..2025-06-03`.
pub fn describe(since: DateTime<Utc>, first_record: bool, absences: &[Absence]) -> String {
    let mut out = if first_record {
        format!("since the {}", date_label(since, true))
    } else {
        format!("since {}", date_label(since, false))
    };
    if !absences.is_empty() {
        out.push_str(", absent ");
        out.push_str(&absences.iter().map(Absence::span).collect::<Vec<_>>().join(", "));
    }
    out
}

/// What the history says of one sentence.
#[derive(Debug, Clone)]
struct Presence {
    first: Seen,
    absences: Vec<Absence>,
    /// The first version without it, while it is away.
    away_since: Option<Seen>,
}

/// A line of the latest version pushed, with its since and absences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentenceSince {
    /// 1-based line number in the version.
    pub line: usize,
    pub text: String,
    pub first: Seen,
    /// `first` is the document's first recorded version: the sentence was already there
    /// when recording began, since a date the archive cannot know.
    pub first_record: bool,
    pub absences: Vec<Absence>,
}

/// The presence of every sentence of a document over its history, built version by
/// version, oldest first.
#[derive(Debug, Default)]
pub struct SentenceHistory {
    /// The first version pushed: the document's first record.
    origin: Option<Seen>,
    sentences: HashMap<String, Presence>,
    /// Keys of the last version pushed.
    present: HashSet<String>,
    text: String,
    /// The key of every line seen: successive versions share most of their lines.
    keys: HashMap<String, String>,
}

impl SentenceHistory {
    /// Takes the next version (newer than every one pushed before) and its text;
    /// `reextract` when it is a re-extraction, looked through.
    pub fn push(&mut self, commit: Oid, date: DateTime<Utc>, reextract: bool, text: String) {
        let here = Seen { commit, date };
        self.origin.get_or_insert(here);
        let mut keys: HashSet<String> = HashSet::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let k = match self.keys.get(line) {
                Some(k) => k.clone(),
                None => {
                    let k = key(line);
                    self.keys.insert(line.to_string(), k.clone());
                    k
                }
            };
            keys.insert(k);
        }
        let left: Vec<&String> = self.present.iter().filter(|k| !keys.contains(*k)).collect();
        let left_words: Vec<(&String, HashSet<&str>)> = if reextract {
            left.iter().map(|k| (*k, k.split(' ').collect())).collect()
        } else {
            Vec::new()
        };
        let mut arrived: Vec<(String, Presence)> = Vec::new();
        for k in keys.iter().filter(|k| !self.present.contains(*k)) {
            if let Some(presence) = self.sentences.get_mut(k) {
                // Back after an absence: the date stands, the gap is noted.
                if let Some(away) = presence.away_since.take() {
                    presence.absences.push(Absence {
                        from: away.date,
                        from_commit: away.commit.to_string(),
                        until: date,
                        until_commit: commit.to_string(),
                    });
                }
                continue;
            }
            let inherited = best_match(k, &left_words).map(|old| {
                let old = &self.sentences[old];
                Presence {
                    first: old.first,
                    absences: old.absences.clone(),
                    away_since: None,
                }
            });
            arrived.push((
                k.clone(),
                inherited.unwrap_or(Presence {
                    first: here,
                    absences: Vec::new(),
                    away_since: None,
                }),
            ));
        }
        let left: Vec<String> = left.into_iter().cloned().collect();
        for k in left {
            if let Some(presence) = self.sentences.get_mut(&k) {
                presence.away_since = Some(here);
            }
        }
        self.sentences.extend(arrived);
        self.present = keys;
        self.text = text;
    }

    /// The text of the last version pushed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first version pushed: the document's first record.
    pub fn origin(&self) -> Option<Seen> {
        self.origin
    }

    /// Whether `seen` is the document's first record.
    pub fn is_origin(&self, seen: Seen) -> bool {
        self.origin == Some(seen)
    }

    /// The first version and absences of a sentence of the last version pushed.
    pub fn of(&self, line: &str) -> Option<(Seen, &[Absence])> {
        let k = self.keys.get(line).cloned().unwrap_or_else(|| key(line));
        if !self.present.contains(&k) {
            return None;
        }
        self.sentences.get(&k).map(|p| (p.first, p.absences.as_slice()))
    }

    /// The non-blank lines of the last version pushed, each with its since.
    pub fn lines(&self) -> Vec<SentenceSince> {
        self.text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .filter_map(|(i, line)| {
                let (first, absences) = self.of(line)?;
                Some(SentenceSince {
                    line: i + 1,
                    text: line.to_string(),
                    first,
                    first_record: self.is_origin(first),
                    absences: absences.to_vec(),
                })
            })
            .collect()
    }
}

/// The sentence that left in this version sharing the largest part of `key`'s words,
/// if one shares enough.
fn best_match<'a>(key: &str, left: &[(&'a String, HashSet<&str>)]) -> Option<&'a String> {
    if left.is_empty() {
        return None;
    }
    let wanted: Vec<&str> = key.split(' ').collect();
    left.iter()
        .map(|(old, words)| {
            let shared = wanted.iter().filter(|w| words.contains(*w)).count();
            (*old, shared as f64 / wanted.len() as f64)
        })
        .filter(|(_, share)| *share >= LOOK_THROUGH_SHARE)
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(old, _)| old)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: u8) -> (Oid, DateTime<Utc>) {
        (
            Oid::from_bytes(&[n; 20]).unwrap(),
            DateTime::from_timestamp(i64::from(n) * 86_400, 0).unwrap(),
        )
    }

    fn history(versions: &[(u8, bool, &str)]) -> SentenceHistory {
        let mut history = SentenceHistory::default();
        for (n, reextract, text) in versions {
            let (commit, date) = at(*n);
            history.push(commit, date, *reextract, text.to_string());
        }
        history
    }

    fn since_of(history: &SentenceHistory, line: &str) -> (u8, Vec<String>) {
        let (first, absences) = history.of(line).expect("present");
        (first.commit.as_bytes()[0], absences.iter().map(Absence::span).collect())
    }

    #[test]
    fn a_doubled_copy_coming_and_going_keeps_the_first_date() {
        let single = "We collect data.\nWe may train our models on it.\n";
        let doubled = "New: we collect data.\nWe collect data.\nWe may train our models on it.\n\
                       We collect data.\nWe may train our models on it.\n";
        let h = history(&[(1, false, single), (2, false, doubled), (3, false, single)]);
        assert_eq!(since_of(&h, "We may train our models on it."), (1, vec![]));
        assert!(h.of("New: we collect data.").is_none());
    }

    #[test]
    fn moves_and_cosmetic_edits_keep_the_date() {
        let h = history(&[
            (1, false, "We don't sell data.\nWe collect data.\n"),
            (2, false, "We collect data.\n- We don’t sell  DATA\n"),
        ]);
        let headings = history(&[(1, false, "**5. Take Control\n"), (2, false, "## 5. Take control\n")]);
        assert_eq!(since_of(&headings, "## 5. Take control"), (1, vec![]));
        assert_eq!(since_of(&h, "- We don’t sell  DATA"), (1, vec![]));
        assert_eq!(since_of(&h, "We collect data."), (1, vec![]));
    }

    #[test]
    fn a_sentence_typeset_with_ligatures_keeps_its_key() {
        assert_eq!(
            key("When you see ads we serve on or o\u{FB00} the site."),
            key("When you see ads we serve on or off the site.")
        );
    }

    #[test]
    fn a_quantity_is_a_word_of_the_key_and_a_section_number_is_not() {
        assert_ne!(key("2.5 GB of storage"), key("3.5 GB of storage"));
        assert_ne!(key("9.99 EUR a month"), key("12.99 EUR a month"));
        assert_eq!(key("6.2 We move your data"), key("7.2 We move your data"));
        assert_eq!(key("4.1 EEA and UK Transfers."), key("5.1 EEA and UK Transfers."));
    }

    #[test]
    fn an_absence_is_shown_not_reset() {
        let h = history(&[
            (1, false, "A is here.\nB is here.\n"),
            (3, false, "A is here.\n"),
            (5, false, "A is here.\nB is here.\nC is new.\n"),
        ]);
        assert_eq!(
            since_of(&h, "B is here."),
            (1, vec!["1970-01-04..1970-01-06".to_string()])
        );
        assert_eq!(since_of(&h, "C is new."), (5, vec![]));
        let (first, absences) = h.of("B is here.").unwrap();
        assert_eq!(
            describe(first.date, h.is_origin(first), absences),
            "since the first record (1970-01-02), absent 1970-01-04..1970-01-06"
        );
        let (first, absences) = h.of("C is new.").unwrap();
        assert_eq!(describe(first.date, h.is_origin(first), absences), "since 1970-01-06");
    }

    #[test]
    fn reextraction_is_looked_through_and_a_real_change_is_not() {
        let joined = "We collect data. We share it with partners.\n";
        let split = "We collect data.\nWe share it with partners.\n";
        let rebuilt = history(&[(1, false, joined), (2, true, split)]);
        assert_eq!(since_of(&rebuilt, "We share it with partners."), (1, vec![]));
        let changed = history(&[(1, false, joined), (2, false, split)]);
        assert_eq!(since_of(&changed, "We share it with partners."), (2, vec![]));
    }

    #[test]
    fn lines_are_the_last_versions_non_blank_lines() {
        let h = history(&[(1, false, "A one.\n"), (2, false, "# Title\n\nA one.\nB two.\n")]);
        let lines: Vec<(usize, u8)> = h
            .lines()
            .iter()
            .map(|l| (l.line, l.first.commit.as_bytes()[0]))
            .collect();
        assert_eq!(lines, vec![(1, 2), (3, 1), (4, 2)]);
        let first_record: Vec<bool> = h.lines().iter().map(|l| l.first_record).collect();
        assert_eq!(first_record, vec![false, true, false]);
    }
}
