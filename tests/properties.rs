//! Property tests of the canonicalizer and the sentence splitter on generated input.
//!
//! A small seeded generator instead of a property-testing crate: the cases are the same
//! on every run (set `CLAUSEWATCH_PROPERTY_SEED` to explore others), and a failure
//! prints the input that broke it.

use clausewatch::canon::text::{normalize_inline, split_sentences};
use clausewatch::canon::{self, Selection};

/// xorshift64*: enough randomness to mix tags, entities, scripts and whitespace.
struct Gen(u64);

impl Gen {
    fn seeded() -> Gen {
        let seed = std::env::var("CLAUSEWATCH_PROPERTY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x05ee_dc1a_05e5_u64);
        Gen(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// An HTML-ish string: real tags (some unclosed or stray), text with sentence ends
    /// and abbreviations, entities, odd whitespace and control characters, other scripts.
    fn html(&mut self) -> String {
        const PIECES: &[&str] = &[
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
        let len = self.below(40);
        (0..len).map(|_| self.pick(PIECES)).collect()
    }

    /// A paragraph's raw text for the splitter.
    fn text(&mut self) -> String {
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
        let len = self.below(30);
        (0..len).map(|_| self.pick(WORDS)).collect::<Vec<_>>().join(" ")
    }
}

fn assert_canonical(text: &str, input: &str) {
    assert!(text.ends_with('\n'), "no final newline for {input:?}: {text:?}");
    assert!(!text.contains('\r'), "CR in output for {input:?}: {text:?}");
    for line in text.lines() {
        assert_eq!(line, line.trim_end(), "trailing space for {input:?}: {text:?}");
    }
    assert!(
        !text.contains("\n\n\n"),
        "two blank lines in a row for {input:?}: {text:?}"
    );
}

#[test]
fn canonicalizer_never_panics_and_writes_canonical_text() {
    let selection = Selection::css(&[], &[]).expect("no selectors");
    let mut g = Gen::seeded();
    let mut produced = 0;
    for _ in 0..3000 {
        let input = g.html();
        let result = std::panic::catch_unwind(|| canon::canonicalize_html(&input, &selection));
        let Ok(result) = result else {
            panic!("the canonicalizer panicked on {input:?}");
        };
        // A failure (empty page, too deep) is an answer too; only a text must be canonical.
        let Ok(text) = result else { continue };
        produced += 1;
        assert_canonical(&text, &input);
        // The output read again as plain text is canonical, and a second pass changes
        // nothing more. (It is not always the output itself: the plain-text reader
        // joins an indented list-item continuation onto the item's paragraph rule.)
        let once = canon::canonicalize_plain(&text);
        assert_canonical(&once, &input);
        assert_eq!(
            canon::canonicalize_plain(&once),
            once,
            "plain pass not stable for {input:?}"
        );
    }
    assert!(produced > 1000, "the generator mostly produced failures: {produced}");
}

#[test]
fn sentence_splitter_keeps_every_character_in_order() {
    let mut g = Gen::seeded();
    for _ in 0..5000 {
        let raw = g.text();
        // Any input: never panics, sentences trimmed and non-empty.
        for sentence in split_sentences(&raw) {
            assert!(
                !sentence.is_empty() && sentence == sentence.trim(),
                "{raw:?}: {sentence:?}"
            );
        }
        // Normalized input: the sentences joined by single spaces give the input back
        // (CJK full stops may end a sentence with no space after them).
        let paragraph = normalize_inline(&raw);
        let sentences = split_sentences(&paragraph);
        let joined = sentences.join(" ");
        if paragraph.contains('。') {
            assert_eq!(joined.replace(' ', ""), paragraph.replace(' ', ""), "{paragraph:?}");
        } else {
            assert_eq!(joined, paragraph, "{paragraph:?}: {sentences:?}");
        }
        assert_eq!(
            split_sentences(&joined),
            sentences,
            "splitting is stable: {paragraph:?}"
        );
    }
}
