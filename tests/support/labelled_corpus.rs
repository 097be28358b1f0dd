//! Sentences of the real corpus in `../shared/corpus/` as the provision labels name them.
//!
//! A label points at a sentence by file, line and the hash of its text, never by the text
//! itself (third-party text stays in `../shared`). This module is the one definition of how
//! a line of OTA Markdown becomes the sentences a label can point at; the labels files'
//! headers describe it in words. Shared by `tests/provisions.rs` and the tools in
//! `examples/` (included there with `#[path]`), so labelling and measuring agree.

#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

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

/// One row of the full labels file: a sentence and every provision it expresses, with
/// the stance; a provision it does not name is a negative.
#[derive(Debug, Clone)]
pub struct FullLabel {
    pub path: String,
    pub line: usize,
    pub hash: String,
    pub lang: String,
    /// (provision id, stance) pairs.
    pub provisions: Vec<(String, String)>,
    /// Line number in the labels file, for messages.
    pub row: usize,
}

pub const STANCES: [&str; 4] = ["grants", "restricts", "conditional", "neutral"];

/// Reads `path, line, hash, lang, provisions` rows; `provisions` is `-` or
/// `id=stance,id=stance`. Panics with the row on anything else.
pub fn read_full_labels(file: &Path) -> Vec<FullLabel> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("labels");
    let mut labels = Vec::new();
    for (i, row) in text.lines().enumerate() {
        if row.starts_with('#') || row.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = row.split('\t').collect();
        assert_eq!(
            fields.len(),
            5,
            "{name}:{}: expected 5 tab-separated fields: {row:?}",
            i + 1
        );
        if fields[0] == "path" && fields[1] == "line" {
            continue; // a header row
        }
        let provisions = if fields[4] == "-" {
            Vec::new()
        } else {
            fields[4]
                .split(',')
                .map(|pair| {
                    let (id, stance) = pair
                        .split_once('=')
                        .unwrap_or_else(|| panic!("{name}:{}: {pair:?} is not id=stance", i + 1));
                    assert!(STANCES.contains(&stance), "{name}:{}: bad stance {stance:?}", i + 1);
                    (id.to_string(), stance.to_string())
                })
                .collect()
        };
        labels.push(FullLabel {
            path: fields[0].to_string(),
            line: fields[1]
                .parse()
                .unwrap_or_else(|_| panic!("{name}:{}: bad line number {:?}", i + 1, fields[1])),
            hash: fields[2].to_string(),
            lang: fields[3].to_string(),
            provisions,
            row: i + 1,
        });
    }
    labels
}

/// The service a corpus path belongs to: the second `__` field of a pair's folder, or
/// the first of a versions folder (`versions/tiktok__privacy-policy/...` is `tiktok`).
pub fn service_of(path: &str) -> String {
    let mut parts = path.split('/');
    let kind = parts.next().unwrap_or("");
    let folder = parts.next().unwrap_or("");
    let fields: Vec<&str> = folder.split("__").collect();
    match kind {
        "pairs" => fields.get(1).unwrap_or(&folder).to_string(),
        _ => fields.first().copied().unwrap_or(folder).to_string(),
    }
}

/// The services of the test split: one a line, `#` comments.
pub fn read_services(file: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The sentence at `path:line` whose hash is `hash`, re-found as the labels file's
/// header describes; None when the corpus drifted.
pub fn find_sentence(
    corpus: &Path,
    files: &mut HashMap<String, Vec<String>>,
    path: &str,
    line: usize,
    hash: &str,
) -> Option<String> {
    let lines = files.entry(path.to_string()).or_insert_with(|| {
        std::fs::read_to_string(corpus.join(path))
            .map(|text| text.lines().map(str::to_string).collect())
            .unwrap_or_default()
    });
    sentences_of_line(lines.get(line.wrapping_sub(1))?)
        .into_iter()
        .find(|s| sentence_hash(s) == hash)
}
