//! Sentences of the real corpus in `../shared/corpus/` as the provision labels name them.
//!
//! A label points at a sentence by file, line and the hash of its text, never by the text
//! itself (third-party text stays in `../shared`). This module is the one definition of how
//! a line of OTA Markdown becomes the sentences a label can point at; the labels files'
//! headers describe it in words. Shared by `tests/provisions.rs` and the tools in
//! `examples/` (included there with `#[path]`), so labelling and measuring agree.

use clausewatch::canon::text::{normalize_inline, split_sentences};
use sha2::{Digest, Sha256};

/// The sentences of one Markdown line of the corpus, in order.
pub fn sentences_of_line(line: &str) -> Vec<String> {
    let text = normalize_inline(&markdown_to_text(line));
    split_sentences(&text).into_iter().map(str::to_string).collect()
}

/// A Markdown line of the corpus as plain text, exactly as the labels file's header says:
/// block markers dropped at the start, links and images reduced to their text, backslash
/// escapes undone, emphasis markers removed.
pub fn markdown_to_text(line: &str) -> String {
    let mut rest = line.trim_start();
    loop {
        let before = rest;
        let hashes = rest.len() - rest.trim_start_matches('#').len();
        if hashes > 0 && rest[hashes..].starts_with(' ') {
            rest = rest[hashes..].trim_start();
        }
        if let Some(r) = rest.strip_prefix('>') {
            rest = r.trim_start();
        }
        for bullet in ["* ", "- ", "+ "] {
            if let Some(r) = rest.strip_prefix(bullet) {
                rest = r.trim_start();
            }
        }
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            let after = &rest[digits..];
            for marker in ["\\. ", ". ", ") "] {
                if let Some(r) = after.strip_prefix(marker) {
                    rest = r.trim_start();
                    break;
                }
            }
        }
        if rest == before {
            break;
        }
    }
    // Links and images: `[text](url)` and `![alt](url)` become `text` and `alt`.
    let chars: Vec<char> = rest.chars().collect();
    let mut linked = String::with_capacity(rest.len());
    let mut i = 0;
    while i < chars.len() {
        let image = chars[i] == '!' && chars.get(i + 1) == Some(&'[');
        let open = if image { i + 1 } else { i };
        if chars[open] == '['
            && let Some((text_end, url_end)) = link_at(&chars, open)
        {
            let inner: String = chars[open + 1..text_end].iter().collect();
            if inner.contains("](") {
                linked.push_str(&markdown_to_text(&inner));
            } else {
                linked.push_str(&inner);
            }
            i = url_end + 1;
            continue;
        }
        linked.push(chars[i]);
        i += 1;
    }
    // Backslash escapes, `*`, and `_` that is not inside a word.
    let chars: Vec<char> = linked.chars().collect();
    let mut out = String::with_capacity(linked.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) {
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        let inner_underscore = c == '_'
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if !(c == '*' || (c == '_' && !inner_underscore)) {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// For the `[` at `open`: the index of its matching `]`, directly followed by `(`, and of
/// the `)` that closes the URL (brackets and parentheses balanced).
fn link_at(chars: &[char], open: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut j = open;
    let text_end = loop {
        match chars.get(j)? {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    break j;
                }
            }
            _ => {}
        }
        j += 1;
    };
    if chars.get(text_end + 1) != Some(&'(') {
        return None;
    }
    let mut depth = 0usize;
    let mut k = text_end + 1;
    loop {
        match chars.get(k)? {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((text_end, k));
                }
            }
            _ => {}
        }
        k += 1;
    }
}

pub fn sentence_hash(sentence: &str) -> String {
    hex::encode(Sha256::digest(sentence.as_bytes()))[..12].to_string()
}
