//! Word-level differences inside a changed sentence.

use serde::Serialize;
use similar::{Algorithm, DiffOp};

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

/// The word-level difference between two forms of a sentence, with adjacent pieces of
/// the same kind merged.
pub fn word_diff(old: &str, new: &str) -> Vec<WordPiece> {
    let a = tokens(old);
    let b = tokens(new);
    let mut pieces: Vec<WordPiece> = Vec::new();
    let mut push = |piece: WordPiece| match (pieces.last_mut(), &piece) {
        (Some(WordPiece::Same(t)), WordPiece::Same(s))
        | (Some(WordPiece::Removed(t)), WordPiece::Removed(s))
        | (Some(WordPiece::Added(t)), WordPiece::Added(s)) => t.push_str(s),
        _ => pieces.push(piece),
    };
    for op in similar::capture_diff_slices(Algorithm::Myers, &a, &b) {
        match op {
            DiffOp::Equal { old_index, len, .. } => push(WordPiece::Same(a[old_index..old_index + len].concat())),
            DiffOp::Delete { old_index, old_len, .. } => {
                push(WordPiece::Removed(a[old_index..old_index + old_len].concat()))
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                push(WordPiece::Added(b[new_index..new_index + new_len].concat()))
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                push(WordPiece::Removed(a[old_index..old_index + old_len].concat()));
                push(WordPiece::Added(b[new_index..new_index + new_len].concat()));
            }
        }
    }
    pieces
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
}
