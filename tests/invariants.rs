//! The invariants that the property tests (`properties.rs`, in the suite) and the fuzz
//! targets (`fuzz/`, run by `scripts/fuzz`) hold the parsers to. One file for both, so
//! that a fuzzer's finding and a property test check exactly the same thing. Each
//! function panics, naming the input, when an invariant does not hold.

#![allow(dead_code)] // Each fuzz target uses one of these.

use std::collections::{BTreeMap, HashSet};

use clausewatch::canon::text::{is_cjk_terminator, normalize_inline, split_sentences};
use clausewatch::canon::{self, Selection};
use clausewatch::declaration::{self, ota};
use clausewatch::report::diff::{SentenceChange, TextDiff, diff_texts};
use clausewatch::report::words::{WordPiece, word_diff};

/// The content types a fuzzed body is served with: the decoder picks the body's kind
/// and charset from them (and from the bytes).
pub const CONTENT_TYPES: &[Option<&str>] = &[
    Some("text/html; charset=utf-8"),
    None,
    Some("text/html; charset=windows-1252"),
    Some("text/html; charset=shift_jis"),
    Some("text/plain"),
    Some("text/markdown"),
    Some("application/octet-stream"),
];

/// The canonicalizer, on any bytes: it never panics; what it writes is canonical text
/// (see [`canon::canonical_violation`]), the same on a second call, and read again as
/// plain text it stays canonical, a second plain pass changing nothing.
pub fn canonicalizer_holds(body: &[u8], content_type: Option<&str>, selection: &Selection) {
    // A failure (an empty page, HTML nested too deep, binary data) is an answer too.
    let Ok(text) = canon::canonicalize(body, content_type, selection) else {
        return;
    };
    let input = String::from_utf8_lossy(body);
    if let Some(why) = canon::canonical_violation(&text) {
        panic!("not canonical ({why}) for {input:?} ({content_type:?}): {text:?}");
    }
    let again = canon::canonicalize(body, content_type, selection).expect("succeeded once");
    assert_eq!(again, text, "not deterministic for {input:?}");
    // The first plain pass is not always the identity: it joins an indented list-item
    // continuation onto the item's paragraph rule. After it, nothing moves.
    let once = canon::canonicalize_plain(&text);
    if let Some(why) = canon::canonical_violation(&once) {
        panic!("plain pass not canonical ({why}) for {input:?}: {once:?}");
    }
    assert_eq!(
        canon::canonicalize_plain(&once),
        once,
        "plain pass not stable for {input:?}"
    );
}

/// The sentence splitter, on any text: it never panics and its sentences are trimmed and
/// non-empty. On a normalized paragraph they are the paragraph, in order, cut at single
/// spaces (or right after a CJK full stop, which needs no space), and splitting them
/// joined by spaces gives the same sentences again.
pub fn sentence_splitter_holds(raw: &str) {
    for sentence in split_sentences(raw) {
        assert!(
            !sentence.is_empty() && sentence == sentence.trim(),
            "{raw:?}: {sentence:?}"
        );
    }
    let paragraph = normalize_inline(raw);
    assert_eq!(
        normalize_inline(&paragraph),
        paragraph,
        "normalizing is idempotent: {raw:?}"
    );
    let sentences = split_sentences(&paragraph);
    let mut rest = paragraph.as_str();
    for (i, sentence) in sentences.iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix(' ') {
                Some(after_space) => rest = after_space,
                None => assert!(
                    sentences[i - 1].contains(is_cjk_terminator),
                    "{paragraph:?}: no space before {sentence:?}, and no CJK full stop ends the sentence before"
                ),
            }
        }
        rest = rest
            .strip_prefix(sentence)
            .unwrap_or_else(|| panic!("{paragraph:?}: {sentence:?} is not next in {rest:?}"));
    }
    assert!(rest.is_empty(), "{paragraph:?}: {rest:?} is in no sentence");
    let joined = sentences.join(" ");
    assert_eq!(
        split_sentences(&joined),
        sentences,
        "splitting is stable: {paragraph:?}"
    );
}

/// The declaration parsers, on any text: they never panic; every error they report
/// points inside the source (the CLI quotes the line); and a declaration converted from
/// Open Terms Archive JSON is one that our own parser accepts.
pub fn declaration_parsers_hold(source: &str) {
    if let Err(errors) = declaration::parse("fuzzed", source) {
        assert!(!errors.is_empty(), "an error without a message for {source:?}");
        for (span, message) in errors {
            assert!(!message.trim().is_empty(), "an empty message for {source:?}");
            if let Some(span) = span {
                assert!(
                    span.start <= span.end && span.end <= source.len(),
                    "the span {span:?} of {message:?} is outside {source:?}"
                );
            }
        }
    }
    if let Ok(ota::Outcome::Converted(converted)) = ota::convert("fuzzed.json", source)
        && let Err(errors) = declaration::parse(&converted.slug, &converted.toml)
    {
        panic!(
            "the conversion of {source:?} is not a valid declaration: {errors:?}\n{}",
            converted.toml
        );
    }
}

/// The diff engine, on any two texts: its description of the change, applied to the old
/// text, gives the new one. Blank lines are layout the diff does not describe, so the
/// two texts are compared without them; and the diff of the texts with their blank lines
/// says the same as the diff of the texts without.
pub fn diff_applies(old: &str, new: &str) {
    let (old_compact, new_compact) = (without_blank_lines(old), without_blank_lines(new));
    let diff = diff_texts(&old_compact, &new_compact);
    let rebuilt = apply(&old_compact, &diff);
    let expected: Vec<&str> = new_compact.lines().collect();
    assert_eq!(
        rebuilt, expected,
        "old {old_compact:?}, new {new_compact:?}, diff {diff:?}"
    );

    let full = diff_texts(old, new);
    assert_eq!(
        full.counts, diff.counts,
        "blank lines changed the diff of {old:?} and {new:?}"
    );
    assert!(
        diff_texts(old, old).counts.is_empty(),
        "a text differs from itself: {old:?}"
    );
    for change in &diff.changes {
        if let SentenceChange::Changed { old, new, .. } = change {
            word_diff_holds(old, new);
        }
    }
}

/// The word diff of two sentences: its pieces rebuild each side (same and removed the
/// old, same and added the new); no two neighbours are of one kind, and a removal comes
/// before the addition that replaces it.
pub fn word_diff_holds(old: &str, new: &str) {
    let pieces = word_diff(old, new);
    let side = |keep_added: bool| -> String {
        pieces
            .iter()
            .filter_map(|p| match p {
                WordPiece::Same(t) => Some(t.as_str()),
                WordPiece::Removed(t) if !keep_added => Some(t.as_str()),
                WordPiece::Added(t) if keep_added => Some(t.as_str()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(side(false), old, "old side of {pieces:?}");
    assert_eq!(side(true), new, "new side of {pieces:?}");
    for pair in pieces.windows(2) {
        assert!(
            std::mem::discriminant(&pair[0]) != std::mem::discriminant(&pair[1]),
            "unmerged neighbours in {pieces:?} ({old:?} -> {new:?})"
        );
        assert!(
            !matches!(pair, [WordPiece::Added(_), WordPiece::Removed(_)]),
            "an addition before its removal in {pieces:?} ({old:?} -> {new:?})"
        );
    }
    assert!(
        pieces
            .iter()
            .all(|p| !matches!(p, WordPiece::Same(t) | WordPiece::Removed(t) | WordPiece::Added(t) if t.is_empty())),
        "an empty piece in {pieces:?}"
    );
}

/// The lines of a text that are not blank, as the diff engine counts them.
fn without_blank_lines(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Rebuilds the new text from the old one and the diff of the two (texts without blank
/// lines, so that line numbers are positions): every sentence the diff takes away must
/// be the old text's at that line; the sentences it puts in go to their new lines; the
/// old sentences it does not mention fill the other lines, in order.
fn apply<'a>(old: &'a str, diff: &'a TextDiff) -> Vec<&'a str> {
    let old_lines: Vec<&str> = old.lines().collect();
    let mut taken = HashSet::new();
    let mut placed = BTreeMap::new();
    // A move matches the sentence whatever its list indentation, so lines are compared
    // trimmed for it.
    let mut take = |line: usize, text: &str, trimmed: bool| {
        let at = old_lines.get(line - 1).map(|l| if trimmed { l.trim() } else { l });
        let text = if trimmed { text.trim() } else { text };
        assert_eq!(at, Some(text), "old line {line} of {old:?}");
        assert!(taken.insert(line), "old line {line} taken twice");
    };
    for change in &diff.changes {
        let put = match change {
            SentenceChange::Added { new_line, text } => (*new_line, text),
            SentenceChange::Removed { old_line, text } => {
                take(*old_line, text, false);
                continue;
            }
            SentenceChange::Changed {
                old_line,
                new_line,
                old,
                new,
            } => {
                take(*old_line, old, false);
                (*new_line, new)
            }
            SentenceChange::Moved {
                old_line,
                new_line,
                text,
            } => {
                take(*old_line, text, true);
                (*new_line, text)
            }
        };
        assert!(
            placed.insert(put.0, put.1.as_str()).is_none(),
            "new line {} given twice",
            put.0
        );
    }
    let mut kept = (1..=old_lines.len())
        .filter(|n| !taken.contains(n))
        .map(|n| old_lines[n - 1]);
    let total = old_lines.len() - taken.len() + placed.len();
    let rebuilt: Vec<&str> = (1..=total)
        .map(|n| {
            placed
                .get(&n)
                .copied()
                .or_else(|| kept.next())
                .expect("a line for every place")
        })
        .collect();
    assert!(kept.next().is_none(), "old lines left over for {old:?}");
    rebuilt
}

/// libFuzzer's panic hook aborts on every panic, even one that is caught. The PDF reader
/// catches the panics of the library under it on purpose (they become failures), so the
/// fuzz targets that can reach it put the default hook back: a panic that escapes is
/// still a crash, since the fuzz target aborts when its closure unwinds.
pub fn restore_default_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| drop(std::panic::take_hook()));
}
