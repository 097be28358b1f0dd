//! Property tests (proptest) of the canonicalizer, the sentence splitter, the declaration
//! parsers and the diff engine, holding them to the invariants of `invariants.rs`, which
//! the fuzz targets of `fuzz/` check too.
//!
//! The cases come from a fixed seed, so that the suite is the same on every run; set
//! `CLAUSEWATCH_PROPERTY_SEED=N` to explore others. A failure is shrunk to a minimal input
//! and printed.

use proptest::prelude::*;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use clausewatch::canon::Selection;

use crate::invariants;

/// Runs `cases` generated values through `check`, panicking with the shrunk input when one
/// fails.
fn holds<S>(cases: u32, strategy: S, check: impl Fn(S::Value))
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let seed: u64 = std::env::var("CLAUSEWATCH_PROPERTY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x05ee_dc1a_05e5);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    if let Err(failure) = runner.run(&strategy, |value| {
        check(value);
        Ok(())
    }) {
        panic!("{failure}");
    }
}

/// Pieces of HTML-ish input: real tags (some unclosed or stray), text with sentence ends
/// and abbreviations, entities, odd whitespace and control characters, other scripts.
const HTML_PIECES: &[&str] = &[
    "<p>",
    "</p>",
    "<h1>",
    "</h1>",
    "<h3>",
    "</h3>",
    "<ul>",
    "</ul>",
    "<ol start=\"3\">",
    "</ol>",
    "<li>",
    "</li>",
    "<table><tr><td>",
    "</td><td>",
    "</td></tr></table>",
    "<pre>",
    "</pre>",
    "<br>",
    "<div>",
    "</div>",
    "<span>",
    "</span>",
    "<script>var x = 1;</script>",
    "<style>p{}</style>",
    "<!-- c -->",
    "<a href=\"/x\">",
    "</a>",
    "<b>",
    "</b>",
    "<blockquote>",
    "</blockquote>",
    "<",
    ">",
    "&amp;",
    "&nbsp;",
    "&#x2014;",
    "&bogus;",
    "We collect data. ",
    "e.g. this",
    "U.S. users",
    "Section 2.1 applies. ",
    "Why? ",
    "Yes! ",
    "“quoted.” ",
    "1. ",
    "- ",
    "# ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\u{a0}",
    "\u{200b}",
    "\u{feff}",
    "\u{0}",
    "\u{7}",
    "e\u{301}",
    "プライバシー。",
    "سياسة الخصوصية. ",
    "Ω",
    "🙂",
    "word",
    " ",
    "...",
    ".",
    "",
    "Mr. Smith",
    "clause",
    "(a) ",
    "\\",
    "|",
    "*",
];

/// Words of a paragraph for the splitter: abbreviations, numbers, quotes, CJK stops.
const WORDS: &[&str] = &[
    "We",
    "collect",
    "data.",
    "e.g.",
    "U.S.",
    "Inc.",
    "No.",
    "3.5",
    "Why?",
    "Yes!",
    "“Quoted.”",
    "(see",
    "below).",
    "...",
    "etc.",
    "i.e.",
    "Section",
    "2.",
    "A.",
    "www.example.com.",
    "。",
    "句子。",
    "Ω.",
    "🙂",
    "\u{a0}",
    "  ",
    "\n",
    "—",
    "-",
    "?!",
    "\"",
    "'",
    ")",
    "a",
    "B",
    "Mr.",
    "Dr.",
    "v1.2.3",
];

/// Lines of canonical-looking texts for the diff: sentences that pair as changed
/// (a word apart), list items, headings, table rows, blank lines.
const LINES: &[&str] = &[
    "# Terms",
    "We collect your data.",
    "We collect your personal data.",
    "We may share your data with partners.",
    "We may share your data with our partners.",
    "You can delete your account.",
    "- We train models on your content.",
    "  - We train models on your content.",
    "We train models on your content.",
    "| a | b |",
    "",
    "   ",
    "Contact us.",
    "Contact us.",
    "Ω.",
];

/// Pieces of declarations, ours (TOML) and Open Terms Archive's (JSON).
const DECLARATION_PIECES: &[&str] = &[
    "name = \"Example\"\n",
    "name = \"\"\n",
    "[[documents]]\n",
    "type = \"terms-of-service\"\n",
    "type = \"Terms of Service\"\n",
    "url = \"https://example.com/terms\"\n",
    "url = \"file:///etc/passwd\"\n",
    "url = \"http://[::1]/\"\n",
    "select = [\"main\", \"#content\"]\n",
    "select = \"p:has(\"\n",
    "remove = [{ startBefore = \"h1\", endBefore = \"footer\" }]\n",
    "fetcher = \"browser\"\n",
    "combine = [{ url = \"https://example.com/a\" }]\n",
    "[[documents.combine]]\n",
    "jobs = 99999999999999999999\n",
    "\"\"\"\n",
    "\u{feff}",
    "{\"name\": \"Example\", \"terms\": {\"Terms of Service\": {\"fetch\": \"https://example.com/t\", ",
    "\"select\": [\"main\", {\"startBefore\": \"#a\", \"endAfter\": \"#b\"}]",
    "\"combine\": [{\"fetch\": \"https://example.com/p\"}]",
    "\"executeClientScripts\": true",
    "\"filter\": [\"removeQueryParams\"]",
    "\"documents\": {\"Privacy Policy\": {\"fetch\": \"https://example.com/p\"}}",
    "}}}",
    "}",
    ", ",
    "null",
    "\"\"",
    "\\u0000",
];

/// A string of `len` pieces chosen from `pieces`.
fn joined(
    pieces: &'static [&'static str],
    len: std::ops::Range<usize>,
    separator: &'static str,
) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(pieces), len).prop_map(move |parts| parts.join(separator))
}

#[test]
fn canonicalizer_writes_canonical_text_from_html() {
    let selection = Selection::css(&[], &[]).expect("no selectors");
    holds(2000, joined(HTML_PIECES, 0..40, ""), |html| {
        invariants::canonicalizer_holds(html.as_bytes(), Some("text/html; charset=utf-8"), &selection);
    });
}

#[test]
fn canonicalizer_answers_any_bytes_under_any_content_type() {
    let selection = Selection::css(&[], &[]).expect("no selectors");
    let bytes = prop::collection::vec(any::<u8>(), 0..400);
    holds(
        1000,
        (bytes, prop::sample::select(invariants::CONTENT_TYPES)),
        |(body, content_type)| {
            invariants::canonicalizer_holds(&body, content_type, &selection);
        },
    );
}

#[test]
fn sentence_splitter_keeps_every_character_in_order() {
    holds(3000, joined(WORDS, 0..30, " "), |text| {
        invariants::sentence_splitter_holds(&text)
    });
    holds(1000, any::<String>(), |text| invariants::sentence_splitter_holds(&text));
}

#[test]
fn declaration_parsers_answer_any_text() {
    holds(1000, joined(DECLARATION_PIECES, 0..16, ""), |source| {
        invariants::declaration_parsers_hold(&source);
    });
    holds(500, any::<String>(), |source| {
        invariants::declaration_parsers_hold(&source)
    });
}

/// Pieces of a sentence for the word diff: words, spaces, punctuation, other scripts.
const WORD_PIECES: &[&str] = &[
    "We",
    "our",
    "Services",
    "the",
    "Platform",
    "data",
    "data",
    "30",
    "90",
    " ",
    " ",
    " ",
    ", ",
    ",",
    ".",
    "—",
    "(",
    ")",
    "e.g.",
    "café",
    "個人情報",
    "\u{301}",
    "-",
    "'s",
];

#[test]
fn word_diff_rebuilds_both_sentences() {
    let sentence = || joined(WORD_PIECES, 0..30, "");
    holds(2000, (sentence(), sentence()), |(old, new)| {
        invariants::word_diff_holds(&old, &new)
    });
}

#[test]
fn diff_rebuilds_the_new_text_from_the_old() {
    let text = || joined(LINES, 0..14, "\n");
    holds(2000, (text(), text()), |(old, new)| {
        invariants::diff_applies(&old, &new)
    });
}
