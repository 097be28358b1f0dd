//! Word-level differences inside a changed sentence.
//!
//! Words are runs of letters and digits; the spaces and punctuation between them are
//! tokens of their own, so joining the pieces of either side gives that sentence back.
//! Like `git diff --word-diff`, a run of changed words is one removal and one addition
//! (`[-our Services-]{+the Platform+}`), not a pair per word: the spaces and punctuation
//! between two changed words join the run.
//!
//! The diff is Myers' (linear space, time proportional to the sentence's length times
//! the number of differences). A sentence whose changed middle (between the words both
//! forms start and end with) is too long to compare word by word in bounded time — a
//! whole page glued into one "sentence", or one reordered at length — shows that middle
//! as replaced: its old form removed and its new form added, which is still exact.

use std::time::{Duration, Instant};

use serde::Serialize;
use similar::{Algorithm, DiffOp};

/// Beyond this many tokens (words and the separators between them, both sides together,
/// not counting the words both forms start and end with) a sentence is shown as
/// replaced rather than compared word by word. About 2,500 words a side: longer than
/// any real sentence, and Myers' worst case stays well under a second here.
pub const MAX_WORD_DIFF_TOKENS: usize = 10_000;
/// A guard on top of the size bound, for the worst case of a sentence just under it:
/// past this, the diff so far is coarsened (still exact, just fewer shared words).
const WORD_DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// A run of a changed sentence: words both versions share, or words one of them has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", content = "text", rename_all = "lowercase")]
pub enum WordPiece {
    Same(String),
    Removed(String),
    Added(String),
}

/// Splits a sentence into words and the spaces and punctuation between them, so that
/// joining the tokens gives the sentence back.
fn tokens(sentence: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut word = None::<bool>;
    for (i, c) in sentence.char_indices() {
        let is_word = c.is_alphanumeric();
        match word {
            Some(w) if w == is_word => {}
            Some(_) => {
                out.push(&sentence[start..i]);
                start = i;
            }
            None => {}
        }
        word = Some(is_word);
    }
    if start < sentence.len() {
        out.push(&sentence[start..]);
    }
    out
}

/// The word-level difference between two forms of a sentence: runs of changed words
/// grouped (see the module documentation), adjacent pieces of the same kind merged.
pub fn word_diff(old: &str, new: &str) -> Vec<WordPiece> {
    let a = tokens(old);
    let b = tokens(new);
    // The words both forms start and end with cost nothing to find; only what lies
    // between them is bounded.
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    if a.len() + b.len() - 2 * (prefix + suffix) > MAX_WORD_DIFF_TOKENS {
        let pieces = [
            WordPiece::Same(a[..prefix].concat()),
            WordPiece::Removed(a[prefix..a.len() - suffix].concat()),
            WordPiece::Added(b[prefix..b.len() - suffix].concat()),
            WordPiece::Same(a[a.len() - suffix..].concat()),
        ];
        return pieces.into_iter().filter(|p| !is_empty(p)).collect();
    }
    let deadline = Instant::now() + WORD_DIFF_DEADLINE;
    let mut pieces: Vec<WordPiece> = Vec::new();
    for op in similar::capture_diff_slices_deadline(Algorithm::Myers, &a, &b, Some(deadline)) {
        match op {
            DiffOp::Equal { old_index, len, .. } => {
                push(&mut pieces, WordPiece::Same(a[old_index..old_index + len].concat()))
            }
            DiffOp::Delete { old_index, old_len, .. } => push(
                &mut pieces,
                WordPiece::Removed(a[old_index..old_index + old_len].concat()),
            ),
            DiffOp::Insert { new_index, new_len, .. } => push(
                &mut pieces,
                WordPiece::Added(b[new_index..new_index + new_len].concat()),
            ),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                push(
                    &mut pieces,
                    WordPiece::Removed(a[old_index..old_index + old_len].concat()),
                );
                push(
                    &mut pieces,
                    WordPiece::Added(b[new_index..new_index + new_len].concat()),
                );
            }
        }
    }
    group_runs(pieces)
}

fn is_empty(piece: &WordPiece) -> bool {
    matches!(piece, WordPiece::Same(t) | WordPiece::Removed(t) | WordPiece::Added(t) if t.is_empty())
}

/// Appends a piece, merging it into the last one when they are of the same kind, and
/// keeping a removal before the addition that replaces it.
fn push(pieces: &mut Vec<WordPiece>, piece: WordPiece) {
    match (pieces.last_mut(), &piece) {
        (Some(WordPiece::Same(t)), WordPiece::Same(s))
        | (Some(WordPiece::Removed(t)), WordPiece::Removed(s))
        | (Some(WordPiece::Added(t)), WordPiece::Added(s)) => t.push_str(s),
        _ => pieces.push(piece),
    }
}

/// Joins changes separated only by spaces or punctuation into one removal and one
/// addition: `[-our-]{+the+} [-Services-]{+Platform+}` becomes
/// `[-our Services-]{+the Platform+}`. A run is grouped only when both its sides have
/// changed words; otherwise the separators stay shared.
fn group_runs(pieces: Vec<WordPiece>) -> Vec<WordPiece> {
    let is_change = |p: &WordPiece| !matches!(p, WordPiece::Same(_));
    let is_separator = |p: &WordPiece| matches!(p, WordPiece::Same(t) if !t.chars().any(char::is_alphanumeric));
    let mut out: Vec<WordPiece> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        if !is_change(&pieces[i]) {
            push(&mut out, pieces[i].clone());
            i += 1;
            continue;
        }
        // The run: changes, and separators followed by another change.
        let mut end = i + 1;
        while end < pieces.len() {
            if is_change(&pieces[end]) {
                end += 1;
            } else if is_separator(&pieces[end]) && pieces.get(end + 1).is_some_and(is_change) {
                end += 2;
            } else {
                break;
            }
        }
        let run = &pieces[i..end];
        let (mut old, mut new) = (String::new(), String::new());
        for piece in run {
            match piece {
                WordPiece::Same(t) => {
                    old.push_str(t);
                    new.push_str(t);
                }
                WordPiece::Removed(t) => old.push_str(t),
                WordPiece::Added(t) => new.push_str(t),
            }
        }
        let has_removed = run.iter().any(|p| matches!(p, WordPiece::Removed(_)));
        let has_added = run.iter().any(|p| matches!(p, WordPiece::Added(_)));
        let grouped: Option<[WordPiece; 2]> = if has_removed && has_added {
            Some([WordPiece::Removed(old), WordPiece::Added(new)])
        } else if has_removed {
            // Only words taken out, the separators between them also on the new side
            // (`history[- on-] [-the Platform, -]and`): one removal beside them
            // (`history [-on the Platform, -]and`), when they stand at one end.
            split_shared(&old, &new).map(|(before, gone, after)| {
                if before.is_empty() {
                    [WordPiece::Removed(gone.to_string()), WordPiece::Same(after.to_string())]
                } else {
                    [
                        WordPiece::Same(before.to_string()),
                        WordPiece::Removed(gone.to_string()),
                    ]
                }
            })
        } else {
            split_shared(&new, &old).map(|(before, came, after)| {
                if before.is_empty() {
                    [WordPiece::Added(came.to_string()), WordPiece::Same(after.to_string())]
                } else {
                    [WordPiece::Same(before.to_string()), WordPiece::Added(came.to_string())]
                }
            })
        };
        match grouped {
            Some(pieces) => {
                for piece in pieces {
                    if !matches!(&piece, WordPiece::Same(t) | WordPiece::Removed(t) | WordPiece::Added(t) if t.is_empty())
                    {
                        push(&mut out, piece);
                    }
                }
            }
            None => {
                for piece in run {
                    push(&mut out, piece.clone());
                }
            }
        }
        i = end;
    }
    out
}

/// `longer` as `shared` followed or preceded by the rest: (shared, rest, "") or
/// ("", rest, shared); None when `shared` is at neither end.
fn split_shared<'a>(longer: &'a str, shared: &'a str) -> Option<(&'a str, &'a str, &'a str)> {
    if let Some(rest) = longer.strip_prefix(shared) {
        Some((shared, rest, ""))
    } else {
        longer.strip_suffix(shared).map(|rest| ("", rest, shared))
    }
}

/// Plain-text rendering in `git diff --word-diff` style: `[-old-]{+new+}`.
pub fn render_plain(pieces: &[WordPiece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            WordPiece::Same(t) => t.clone(),
            WordPiece::Removed(t) => format!("[-{t}-]"),
            WordPiece::Added(t) => format!("{{+{t}+}}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_rejoin() {
        let s = "We keep data for 30 days, e.g. logs.";
        assert_eq!(tokens(s).concat(), s);
    }

    #[test]
    fn changed_words_are_marked() {
        let pieces = word_diff("We keep data for 30 days.", "We keep your data for 90 days.");
        assert_eq!(render_plain(&pieces), "We keep {+your +}data for [-30-]{+90+} days.");
        let old: String = pieces
            .iter()
            .filter_map(|p| match p {
                WordPiece::Added(_) => None,
                WordPiece::Same(t) | WordPiece::Removed(t) => Some(t.as_str()),
            })
            .collect();
        assert_eq!(old, "We keep data for 30 days.");
    }

    /// The text of one side of a diff, rebuilt from its pieces.
    fn side(pieces: &[WordPiece], new: bool) -> String {
        pieces
            .iter()
            .filter_map(|p| match p {
                WordPiece::Same(t) => Some(t.as_str()),
                WordPiece::Removed(t) if !new => Some(t.as_str()),
                WordPiece::Added(t) if new => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn runs_of_changed_words_are_grouped() {
        let old = "You may not copy our Services, in whole or in part.";
        let new = "You may not copy the Platform, in whole or in part.";
        let pieces = word_diff(old, new);
        assert_eq!(
            render_plain(&pieces),
            "You may not copy [-our Services-]{+the Platform+}, in whole or in part."
        );
        assert_eq!(
            pieces,
            vec![
                WordPiece::Same("You may not copy ".into()),
                WordPiece::Removed("our Services".into()),
                WordPiece::Added("the Platform".into()),
                WordPiece::Same(", in whole or in part.".into()),
            ]
        );
        // Punctuation between changed words joins the run too.
        assert_eq!(
            render_plain(&word_diff(
                "We share name, email and age.",
                "We share photos, voice and age."
            )),
            "We share [-name, email-]{+photos, voice+} and age."
        );
        // A pure insertion keeps the spaces around it shared.
        assert_eq!(
            render_plain(&word_diff("We keep logs.", "We keep server logs.")),
            "We keep {+server +}logs."
        );
        // Words taken out (or put in) at several places between spaces: one run.
        assert_eq!(
            render_plain(&word_diff(
                "your search history on the Platform, and your settings",
                "your search history and your settings"
            )),
            "your search history [-on the Platform, -]and your settings"
        );
        assert_eq!(
            render_plain(&word_diff(
                "feedback about your use",
                "feedback or inquiries about your use"
            )),
            "feedback {+or inquiries +}about your use"
        );
        // A removal and a separate insertion, with an unchanged word between, stay apart.
        assert_eq!(
            render_plain(&word_diff(
                "We may sell data to partners.",
                "We may share data with partners."
            )),
            "We may [-sell-]{+share+} data [-to-]{+with+} partners."
        );
    }

    #[test]
    fn pieces_alternate_and_rebuild_both_sides() {
        let cases = [
            ("a b c d e f", "a x y d z f"),
            ("Terms of Service, 2024.", "Terms of Use (2025)."),
            ("", "Only new."),
            ("Only old.", ""),
            ("one two three", "three two one"),
        ];
        for (old, new) in cases {
            let pieces = word_diff(old, new);
            assert_eq!(side(&pieces, false), old, "{old:?} -> {new:?}");
            assert_eq!(side(&pieces, true), new, "{old:?} -> {new:?}");
            for pair in pieces.windows(2) {
                let same_kind = std::mem::discriminant(&pair[0]) == std::mem::discriminant(&pair[1]);
                assert!(!same_kind, "unmerged neighbours in {pieces:?}");
                assert!(
                    !matches!(pair, [WordPiece::Added(_), WordPiece::Removed(_)]),
                    "an addition before its removal in {pieces:?}"
                );
            }
        }
    }

    #[test]
    fn a_long_reordered_sentence_is_bounded_and_shown_replaced() {
        // 40,000 words, then the same words in reverse order: quadratic for a plain
        // word diff (27 s in the audit), bounded here.
        let words: Vec<String> = (0..40_000).map(|i| format!("w{}", i % 5_000)).collect();
        let old = words.join(" ") + ".";
        let new = words.iter().rev().cloned().collect::<Vec<_>>().join(" ") + ".";
        let started = Instant::now();
        let pieces = word_diff(&old, &new);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "word diff of 40k words took {took:?}");
        assert_eq!(
            pieces,
            vec![
                WordPiece::Removed(old[..old.len() - 1].to_string()),
                WordPiece::Added(new[..new.len() - 1].to_string()),
                WordPiece::Same(".".into()),
            ],
            "shown as replaced but for the shared full stop"
        );

        // A long sentence changed in one word keeps its word detail: only the changed
        // middle is bounded.
        let long = words.join(" ");
        let at = long.find("w17 ").unwrap();
        let edited = long.replacen("w17 ", "w17b ", 1);
        assert_eq!(
            word_diff(&long, &edited),
            vec![
                WordPiece::Same(long[..at].to_string()),
                WordPiece::Removed("w17".into()),
                WordPiece::Added("w17b".into()),
                WordPiece::Same(long[at + 3..].to_string()),
            ]
        );

        // Just under the size bound, the diff is still word by word and exact: a clause
        // moved from the start to the end shows as such.
        let words: Vec<String> = (0..2_400).map(|i| format!("w{}", i % 700)).collect();
        let old = words.join(" ");
        let new = [&words[300..], &words[..300]].concat().join(" ");
        let started = Instant::now();
        let pieces = word_diff(&old, &new);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "word diff of 2,400 words took {took:?}");
        assert!(
            pieces
                .iter()
                .any(|p| matches!(p, WordPiece::Same(t) if t.len() > 1_000))
        );
        assert_eq!(side(&pieces, false), old);
        assert_eq!(side(&pieces, true), new);
    }
}
