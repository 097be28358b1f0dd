//! Sentence-level diff of two canonical texts, and change classification.
//!
//! Canonical text has one sentence per line, so a line diff is a sentence diff. On top
//! of it, a removed and an added sentence that say nearly the same thing are paired as
//! one *changed* sentence, and a sentence removed in one place and added verbatim in
//! another is a *move*: that is how a reader thinks of an edit.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use similar::{Algorithm, DiffOp};

use crate::archive::ChangeKind;

/// Two sentences whose words overlap at least this much (Dice coefficient over word
/// multisets) are one changed sentence rather than a removal and an addition.
const PAIRING_THRESHOLD: f64 = 0.5;
/// How far ahead in a hunk a removed sentence looks for its new form.
const PAIRING_WINDOW: usize = 40;
/// How long the line diff may search for the smallest difference. Past it, what is left
/// is one replaced hunk: every sentence added or removed is still reported, but an
/// unchanged one in that hunk may show as moved. The search is quadratic when most lines
/// change: a 20,000-sentence page that changed throughout took 25 s.
const SENTENCE_DIFF_DEADLINE: Duration = Duration::from_secs(1);

/// One changed sentence. Line numbers are 1-based lines of the old and new texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SentenceChange {
    Added {
        new_line: usize,
        text: String,
    },
    Removed {
        old_line: usize,
        text: String,
    },
    Changed {
        old_line: usize,
        new_line: usize,
        old: String,
        new: String,
    },
    Moved {
        old_line: usize,
        new_line: usize,
        text: String,
    },
}

/// How many sentences a change added, removed, changed and moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub moved: usize,
}

impl Counts {
    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

/// The sentence-level difference between two versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TextDiff {
    /// In the order of the new text (removals where they stood).
    pub changes: Vec<SentenceChange>,
    pub counts: Counts,
}

/// Diffs two canonical texts sentence by sentence. Blank lines are layout, not content.
pub fn diff_texts(old: &str, new: &str) -> TextDiff {
    let old_lines: Vec<(usize, &str)> = content_lines(old);
    let new_lines: Vec<(usize, &str)> = content_lines(new);
    // Each distinct line is a number, so the diff compares integers, not strings.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let old_keys = line_ids(&old_lines, &mut ids);
    let new_keys = line_ids(&new_lines, &mut ids);
    let deadline = Instant::now() + SENTENCE_DIFF_DEADLINE;
    let ops = similar::capture_diff_slices_deadline(Algorithm::Patience, &old_keys, &new_keys, Some(deadline));

    let mut changes = Vec::new();
    for op in ops {
        match op {
            DiffOp::Equal { .. } => {}
            DiffOp::Delete { old_index, old_len, .. } => {
                pair_hunk(&old_lines[old_index..old_index + old_len], &[], &mut changes);
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                pair_hunk(&[], &new_lines[new_index..new_index + new_len], &mut changes);
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => pair_hunk(
                &old_lines[old_index..old_index + old_len],
                &new_lines[new_index..new_index + new_len],
                &mut changes,
            ),
        }
    }
    detect_moves(&mut changes);

    let mut counts = Counts::default();
    for change in &changes {
        match change {
            SentenceChange::Added { .. } => counts.added += 1,
            SentenceChange::Removed { .. } => counts.removed += 1,
            SentenceChange::Changed { .. } => counts.changed += 1,
            SentenceChange::Moved { .. } => counts.moved += 1,
        }
    }
    TextDiff { changes, counts }
}

/// A number for each line, the same for equal lines (`ids` holds those given so far).
fn line_ids<'a>(lines: &[(usize, &'a str)], ids: &mut HashMap<&'a str, usize>) -> Vec<usize> {
    lines
        .iter()
        .map(|&(_, line)| {
            let next = ids.len();
            *ids.entry(line).or_insert(next)
        })
        .collect()
}

fn content_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| (i + 1, line))
        .collect()
}

/// Pairs the removed and added sentences of one hunk, keeping their order.
fn pair_hunk(removed: &[(usize, &str)], added: &[(usize, &str)], out: &mut Vec<SentenceChange>) {
    // Words are only needed to pair removals with additions (a first record has none).
    let added_words: Vec<Vec<String>> = if removed.is_empty() {
        Vec::new()
    } else {
        added.iter().map(|(_, l)| words(l)).collect()
    };
    let mut next_added = 0;
    for (old_line, old) in removed {
        let old_words = words(old);
        let window = next_added..added.len().min(next_added + PAIRING_WINDOW);
        let best = window
            .map(|j| (j, similarity(&old_words, &added_words[j])))
            .filter(|(_, score)| *score >= PAIRING_THRESHOLD)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        match best {
            Some((j, _)) => {
                for (new_line, text) in &added[next_added..j] {
                    out.push(SentenceChange::Added {
                        new_line: *new_line,
                        text: (*text).to_string(),
                    });
                }
                let (new_line, new) = added[j];
                // The same line on both sides of a hunk, which only a diff cut short by
                // its deadline leaves, is unchanged.
                if new != *old {
                    out.push(SentenceChange::Changed {
                        old_line: *old_line,
                        new_line,
                        old: (*old).to_string(),
                        new: new.to_string(),
                    });
                }
                next_added = j + 1;
            }
            None => out.push(SentenceChange::Removed {
                old_line: *old_line,
                text: (*old).to_string(),
            }),
        }
    }
    for (new_line, text) in &added[next_added..] {
        out.push(SentenceChange::Added {
            new_line: *new_line,
            text: (*text).to_string(),
        });
    }
}

/// A removal and an addition of the same sentence (ignoring list indentation) are a move.
fn detect_moves(changes: &mut Vec<SentenceChange>) {
    let mut removed_at: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, change) in changes.iter().enumerate() {
        if let SentenceChange::Removed { text, .. } = change {
            removed_at.entry(text.trim().to_string()).or_default().push(i);
        }
    }
    if removed_at.is_empty() {
        return;
    }
    let mut moved_from: Vec<Option<usize>> = vec![None; changes.len()];
    let mut consumed = vec![false; changes.len()];
    for (i, change) in changes.iter().enumerate() {
        if let SentenceChange::Added { text, .. } = change
            && let Some(candidates) = removed_at.get_mut(text.trim())
            && let Some(r) = candidates.pop()
        {
            moved_from[i] = Some(r);
            consumed[r] = true;
        }
    }
    let old = std::mem::take(changes);
    let old_lines: Vec<usize> = old
        .iter()
        .map(|c| {
            if let SentenceChange::Removed { old_line, .. } = c {
                *old_line
            } else {
                0
            }
        })
        .collect();
    for (i, change) in old.into_iter().enumerate() {
        if consumed[i] {
            continue;
        }
        match (moved_from[i], change) {
            (Some(r), SentenceChange::Added { new_line, text }) => {
                changes.push(SentenceChange::Moved {
                    old_line: old_lines[r],
                    new_line,
                    text,
                });
            }
            (_, change) => changes.push(change),
        }
    }
}

/// Lower-cased words (runs of letters and digits) of a sentence.
pub fn words(sentence: &str) -> Vec<String> {
    sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(comparable_word)
        .collect()
}

/// A word as versions are compared by: lower case, and Latin ligatures spelt out. A
/// page's typesetting decides whether "off" is written with `ﬀ` (U+FB00), as X's privacy
/// policy did for a few months; the canonical text keeps what the page wrote, so a
/// sentence that only changed its ligatures is the same sentence (its since-date holds).
fn comparable_word(word: &str) -> String {
    let lower = word.to_lowercase();
    if !lower.contains(|c: char| ('\u{FB00}'..='\u{FB06}').contains(&c)) {
        return lower;
    }
    let mut spelt = String::with_capacity(lower.len() + 4);
    for c in lower.chars() {
        match c {
            '\u{FB00}' => spelt.push_str("ff"),
            '\u{FB01}' => spelt.push_str("fi"),
            '\u{FB02}' => spelt.push_str("fl"),
            '\u{FB03}' => spelt.push_str("ffi"),
            '\u{FB04}' => spelt.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => spelt.push_str("st"),
            c => spelt.push(c),
        }
    }
    spelt
}

fn similarity(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let mut counts: HashMap<&str, isize> = HashMap::new();
    for w in a {
        *counts.entry(w).or_default() += 1;
    }
    let mut common = 0;
    for w in b {
        if let Some(n) = counts.get_mut(w.as_str())
            && *n > 0
        {
            *n -= 1;
            common += 1;
        }
    }
    2.0 * f64::from(common) / (a.len() + b.len()) as f64
}

/// Whether a change between two texts is substantive or only cosmetic: cosmetic when
/// the words, read in order, are the same once letter case, punctuation, quote and dash
/// style, whitespace, line breaks and list or section numbering are set aside.
pub fn classify(old: &str, new: &str) -> ChangeKind {
    if comparable_words(old) == comparable_words(new) {
        ChangeKind::Cosmetic
    } else {
        ChangeKind::Substantive
    }
}

/// The words of a text with Markdown markers and each line's leading enumerator
/// (`1.`, `4.2`, `(a)`, `iv.`) dropped.
fn comparable_words(text: &str) -> Vec<String> {
    text.lines().flat_map(comparable_line_words).collect()
}

/// The words of one line as [`classify`] compares them: the same for two lines that
/// differ only cosmetically (the sentence key of [`super::since`]).
pub fn comparable_line_words(line: &str) -> Vec<String> {
    let rest = line.trim_start().trim_start_matches('#').trim_start();
    let rest = rest.strip_prefix("- ").unwrap_or(rest);
    // Emphasis before a section number ("**5. Take Control") is markup too.
    let rest = rest.trim_start_matches(['*', '_']);
    words(strip_enumerator(rest))
}

/// Units and currencies written after a quantity (`2.5 GB of storage`, `9.99 EUR a
/// month`): a bare `N.M` before one is a number of the sentence, not a section number.
/// In the 228,096 canonical lines of `../shared/corpus` no line starts with a section
/// number before one of them, so no renumbered heading there is read as a quantity
/// (docs/history.md#since-when-the-definition).
const QUANTITY_UNITS: &[&str] = &[
    "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "Kbps", "Mbps", "Gbps", "MHz", "GHz", "USD", "EUR",
    "GBP", "CHF", "JPY", "CNY", "RMB", "INR", "CAD", "AUD", "NZD", "HKD", "SGD", "KRW", "BRL", "MXN", "ZAR", "SEK",
    "NOK", "DKK", "PLN",
];

/// Whether `text` starts with a unit or currency of [`QUANTITY_UNITS`] as a word of its
/// own (`GB of`, `GB/month`, `EUR.`; not `GBA`).
fn starts_with_unit(text: &str) -> bool {
    let word = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default();
    QUANTITY_UNITS.contains(&word)
}

/// `1. We` -> `We`, `4.2. Data` and `4.2 Data` -> `Data`, `(a) We`, `a) We`, `iv. We`
/// and `(IV) We` -> `We`; anything else unchanged.
///
/// Only what reads as list or section numbering is set aside: a label closed by a period
/// or a bracket (the canonicalizer's own `1. ` list markers, and numbering written in
/// the page), or a bare section number of two or more parts before a capitalised word
/// (`6.2 We move your data`) that is not a unit or currency (`2.5 GB of storage`). A
/// bare integer is part of the sentence: `30 days after you close your account` and `13
/// is the minimum age` must not lose their number, or a change to it would be cosmetic.
fn strip_enumerator(line: &str) -> &str {
    let (opened, body) = match line.strip_prefix(['(', '[']) {
        Some(body) => (true, body),
        None => (false, line),
    };
    let label_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .unwrap_or(body.len());
    let (label, after) = body.split_at(label_len);
    let label_core = label.trim_end_matches('.');
    let parts: Vec<&str> = label_core.split('.').collect();
    let numeric = !label_core.is_empty()
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let roman = |numerals: &[u8]| label_core.bytes().all(|b| numerals.contains(&b));
    let lettered = label_core.len() == 1 && label_core.bytes().all(|b| b.is_ascii_alphabetic())
        || (!label_core.is_empty() && label_core.len() <= 5 && (roman(b"ivx") || roman(b"IVX")));
    if !(numeric || lettered) {
        return line;
    }
    let after = match after.strip_prefix([')', ']']) {
        Some(rest) => rest,
        None if opened => return line,
        None if label.ends_with('.') => after,
        // "4.2 Data": a bare section number, told from a decimal ("2.5 times more", "2.5
        // GB of storage") by its short parts and the capital after it, which is not a unit.
        None if numeric
            && parts.len() > 1
            && parts.iter().all(|p| p.len() <= 3)
            && after
                .chars()
                .find(|c| c.is_alphanumeric())
                .is_some_and(char::is_uppercase)
            && !starts_with_unit(after.trim_start()) =>
        {
            after
        }
        None => return line,
    };
    if after.starts_with(char::is_whitespace) {
        after.trim_start()
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ligature_spelt_out_is_the_same_word() {
        assert_eq!(
            words("Ads we serve on or o\u{FB00} our services, e\u{FB03}ciently."),
            words("Ads we serve on or off our services, efficiently.")
        );
        assert_eq!(
            classify("We show ads o\u{FB00} the site.\n", "We show ads off the site.\n"),
            ChangeKind::Cosmetic
        );
        // Only ligatures are spelt out: other letters stay themselves.
        assert_ne!(words("café"), words("cafe"));
    }

    #[test]
    fn counts_added_removed_changed() {
        let old = "# Terms\n\nWe collect your name.\nWe keep data for 30 days.\nWe never sell data.\n";
        let new =
            "# Terms\n\nWe collect your name and email.\nWe keep data for 30 days.\nWe may train AI on your content.\n";
        let diff = diff_texts(old, new);
        assert_eq!(
            diff.counts,
            Counts {
                added: 1,
                removed: 1,
                changed: 1,
                moved: 0
            }
        );
        assert_eq!(
            diff.changes[0],
            SentenceChange::Changed {
                old_line: 3,
                new_line: 3,
                old: "We collect your name.".into(),
                new: "We collect your name and email.".into()
            }
        );
        assert!(diff.changes.contains(&SentenceChange::Removed {
            old_line: 5,
            text: "We never sell data.".into()
        }));
        assert!(diff.changes.contains(&SentenceChange::Added {
            new_line: 5,
            text: "We may train AI on your content.".into()
        }));
    }

    #[test]
    fn moves_are_moves() {
        let old = "Alpha is first.\nBeta is second.\nGamma is third.\n";
        let new = "Beta is second.\nGamma is third.\nAlpha is first.\n";
        let diff = diff_texts(old, new);
        assert_eq!(
            diff.counts,
            Counts {
                moved: 1,
                ..Counts::default()
            }
        );
        assert_eq!(
            diff.changes,
            vec![SentenceChange::Moved {
                old_line: 1,
                new_line: 3,
                text: "Alpha is first.".into()
            }]
        );
    }

    #[test]
    fn identical_texts_have_no_changes() {
        assert!(diff_texts("A.\n\nB.\n", "A.\nB.\n").counts.is_empty());
    }

    /// `n` sentences like a long policy's ("Clause 7 says we share data ..."), every one
    /// different from those of another `seed`.
    fn long_text(seed: u64, n: usize) -> String {
        let vocabulary = [
            "data", "user", "content", "share", "partner", "service", "account", "policy", "train", "model", "keep",
            "delete",
        ];
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        (0..n)
            .map(|i| {
                let words: Vec<&str> = (0..8).map(|_| vocabulary[next() % vocabulary.len()]).collect();
                format!("Clause {i} says we {} (version {seed}).\n", words.join(" "))
            })
            .collect()
    }

    /// Every sentence only in `old` is reported removed (or as a changed sentence's old
    /// form, or moved), and every one only in `new` added (or as a new form, or moved).
    fn assert_accounts_for_every_sentence(old: &str, new: &str, diff: &TextDiff) {
        let (mut gone, mut came) = (Vec::new(), Vec::new());
        for change in &diff.changes {
            match change {
                SentenceChange::Added { text, .. } => came.push(text.as_str()),
                SentenceChange::Removed { text, .. } => gone.push(text.as_str()),
                SentenceChange::Changed { old, new, .. } => {
                    assert_ne!(old, new, "an unchanged sentence reported as changed");
                    gone.push(old);
                    came.push(new);
                }
                SentenceChange::Moved { text, .. } => {
                    gone.push(text);
                    came.push(text);
                }
            }
        }
        let old_lines: std::collections::HashSet<&str> = old.lines().collect();
        let new_lines: std::collections::HashSet<&str> = new.lines().collect();
        let (gone, came): (std::collections::HashSet<&str>, std::collections::HashSet<&str>) =
            (gone.into_iter().collect(), came.into_iter().collect());
        for line in old_lines.difference(&new_lines) {
            assert!(gone.contains(line), "not reported removed: {line}");
        }
        for line in new_lines.difference(&old_lines) {
            assert!(came.contains(line), "not reported added: {line}");
        }
        assert!(gone.is_subset(&old_lines) && came.is_subset(&new_lines));
    }

    #[test]
    fn a_long_text_changed_throughout_is_diffed_in_bounded_time_and_in_full() {
        let (old, new) = (long_text(1, 20_000), long_text(2, 20_000));
        let started = Instant::now();
        let diff = diff_texts(&old, &new);
        let took = started.elapsed();
        // Unbounded, this took 25 s in a release build (minutes in a debug one).
        assert!(took < Duration::from_secs(15), "took {took:?}");
        assert_accounts_for_every_sentence(&old, &new, &diff);
        let counts = diff.counts;
        assert_eq!(counts.removed + counts.changed + counts.moved, 20_000, "{counts:?}");
        assert_eq!(counts.added + counts.changed + counts.moved, 20_000, "{counts:?}");
    }

    #[test]
    fn a_diff_cut_short_still_reports_every_sentence_and_no_unchanged_one() {
        // Every third sentence kept: after the deadline, kept ones fall inside replaced
        // hunks, and must not be reported as changed.
        let old = long_text(1, 20_000);
        let new: String = long_text(2, 20_000)
            .lines()
            .zip(old.lines())
            .enumerate()
            .map(|(i, (new, old))| format!("{}\n", if i % 3 == 0 { old } else { new }))
            .collect();
        let diff = diff_texts(&old, &new);
        assert_accounts_for_every_sentence(&old, &new, &diff);
    }

    #[test]
    fn list_and_section_numbering_is_set_aside() {
        for (line, rest) in [
            ("1. We collect data.", "We collect data."),
            ("12. We collect data.", "We collect data."),
            ("1) We collect data.", "We collect data."),
            ("(a) We sell.", "We sell."),
            ("a) We sell.", "We sell."),
            ("[3] We sell.", "We sell."),
            ("b. We sell.", "We sell."),
            ("iv. We sell.", "We sell."),
            ("(IV) We sell.", "We sell."),
            ("IV. Scope", "Scope"),
            ("3.1. The terms", "The terms"),
            ("4.2 Data", "Data"),
            (
                "6.2 We move your data to make X work for you.",
                "We move your data to make X work for you.",
            ),
            ("4.2 “Personal data” means", "“Personal data” means"),
            // All-caps headings that are not units (the corpus has these).
            ("4.1 EEA and UK Transfers.", "EEA and UK Transfers."),
            ("6.2 HIPAA.", "HIPAA."),
            ("9.1 MANDATORY ARBITRATION.", "MANDATORY ARBITRATION."),
            ("2.3 GBA members", "GBA members"),
        ] {
            assert_eq!(strip_enumerator(line), rest, "{line}");
        }
    }

    #[test]
    fn a_number_that_is_part_of_the_sentence_is_kept() {
        for line in [
            "30 days after you close your account, we delete your data.",
            "13 is the minimum age to use Acme.",
            "100 Main Street, Springfield",
            "3180 18th St.",
            "2.5 times more data is kept.",
            "1.5 million users share 2.5 GB.",
            "2.5 GB of storage is included.",
            "1.5 TB of backups.",
            "2.5 GB/month of traffic.",
            "9.99 EUR a month.",
            "4.99 USD.",
            "3.2 GHz processors.",
            "2024.10.01 is the date.",
            "A We sell.",
            "(a We sell.",
            "I agree.",
            "1.We sell.",
        ] {
            assert_eq!(strip_enumerator(line), line, "{line}");
        }
    }

    #[test]
    fn a_changed_leading_number_is_substantive() {
        assert_eq!(
            classify(
                "30 days after you close your account, we delete your data.\n",
                "365 days after you close your account, we delete your data.\n"
            ),
            ChangeKind::Substantive
        );
        assert_eq!(
            classify(
                "13 is the minimum age to use Acme.\n",
                "18 is the minimum age to use Acme.\n"
            ),
            ChangeKind::Substantive
        );
        assert_eq!(
            classify("- 100 Main Street\n", "- 200 Main Street\n"),
            ChangeKind::Substantive
        );
        assert_eq!(
            classify("## 6.2 We move your data.\n", "## 7.2 We move your data.\n"),
            ChangeKind::Cosmetic
        );
        assert_eq!(
            classify("2.5 GB of storage is included.\n", "3.5 GB of storage is included.\n"),
            ChangeKind::Substantive
        );
        assert_eq!(
            classify("9.99 EUR a month.\n", "12.99 EUR a month.\n"),
            ChangeKind::Substantive
        );
    }

    #[test]
    fn cosmetic_changes() {
        let base = "1. We collect \"data\" - sometimes.\n2. We share it.\n";
        assert_eq!(
            classify(base, "1. We collect “data” — sometimes.\n2. We share it.\n"),
            ChangeKind::Cosmetic
        );
        assert_eq!(
            classify(base, "1. WE COLLECT DATA, sometimes!\n2. We share it.\n"),
            ChangeKind::Cosmetic
        );
        assert_eq!(
            classify(base, "3. We collect \"data\" - sometimes.\n4. We share it.\n"),
            ChangeKind::Cosmetic
        );
        assert_eq!(
            classify(base, "1. We collect \"data\" - sometimes. We share it.\n"),
            ChangeKind::Cosmetic
        );
        assert_eq!(classify("(a) We sell.\n", "(b) We sell.\n"), ChangeKind::Cosmetic);
        assert_eq!(
            classify(base, "1. We collect \"data\" - always.\n2. We share it.\n"),
            ChangeKind::Substantive
        );
        assert_eq!(
            classify("We keep it 30 days.\n", "We keep it 90 days.\n"),
            ChangeKind::Substantive
        );
        assert_eq!(
            classify("A is here.\nB is there.\n", "B is there.\nA is here.\n"),
            ChangeKind::Substantive
        );
    }
}
