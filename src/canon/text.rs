//! Text layer of the canonicalizer: inline normalization and sentence splitting.
//!
//! Archived documents are stored one sentence per line so that `git diff` and `git blame`
//! work at clause level. Everything here is a single linear scan over chars, with no
//! allocation beyond the output, because it runs over megabytes of policy text.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Normalizes one run of inline text: Unicode NFC; NBSP (U+00A0), U+202F, U+2007 and every
/// other Unicode space separator become ' '; tabs/newlines/CR become ' '; zero-width and
/// invisible characters are dropped (U+200B, U+2060, U+FEFF, U+00AD soft hyphen,
/// U+200E/U+200F marks, U+061C, U+180E, U+2061..U+2064, the noncharacters U+FFFE and
/// U+FFFF — not allowed in XML 1.0, so they would break the Atom feed — and other C0/C1
/// control chars);
/// private-use characters (U+E000..U+F8FF, planes 15-16) are dropped; runs of whitespace
/// collapse to one space; leading/trailing spaces are trimmed.
///
/// The zero-width joiner and non-joiner (U+200C, U+200D) are kept: they carry meaning in
/// emoji sequences and in Persian and Indic scripts. Bidirectional embedding and isolate
/// controls (U+202A..U+202E, U+2066..U+2069) are dropped like the LRM/RLM marks.
///
/// The result is idempotent: `normalize_inline(&normalize_inline(x)) == normalize_inline(x)`.
pub fn normalize_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        // `char::is_whitespace` covers every Zs space separator plus tab, LF, CR, VT, FF,
        // NEL and the line/paragraph separators.
        if c.is_whitespace() {
            pending_space = true;
        } else if !is_invisible(c) {
            // Deferring the space until the next visible char both collapses runs
            // (also across dropped chars) and trims both ends.
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    // Filtering runs before NFC so that marks separated by a dropped char compose now
    // rather than on a second pass, which keeps the function idempotent. NFC never
    // creates or reorders spaces (they have combining class 0 and compose with nothing).
    if is_nfc_quick(out.chars()) == IsNormalized::Yes {
        out
    } else {
        out.nfc().collect()
    }
}

/// Characters with no visible rendering that only add noise to diffs.
pub(crate) fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFFE}'
                | '\u{FFFF}'
                | '\u{E000}'..='\u{F8FF}'
                | '\u{F0000}'..='\u{10FFFF}'
        )
}

/// Splits a paragraph (already normalized: single spaces, no newlines) into sentences,
/// returned trimmed, in order, none empty, whose concatenation with single spaces gives
/// back the input exactly.
///
/// One exception to the concatenation rule: CJK full stops (`。！？`) end a sentence even
/// when no space follows, and then the two sentences are adjacent in the input, with
/// nothing between them. Input that is not normalized never panics; its sentences are
/// still trimmed and non-empty.
pub fn split_sentences(paragraph: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut tokens = Tokens::new(paragraph);
    let mut current = tokens.next();
    let mut begin = None;
    let mut position = 0;
    let mut prev = None;
    let mut ending = Ending::Never;
    while let Some((start, end)) = current {
        let next = tokens.next();
        let sentence_start = *begin.get_or_insert(start);
        let token = &paragraph[start..end];
        // Bare closing punctuation (French `Stop. »`) keeps the verdict of the word
        // before it, so the split moves past the guillemet.
        if !is_closers_only(token) {
            ending = classify(token, prev, position);
        }
        let split = match next {
            None => true,
            Some((next_start, next_end)) => {
                let next = &paragraph[next_start..next_end];
                if is_closers_only(next) {
                    false
                } else if is_openers_only(next) {
                    // French `« Bonjour`: the word after the guillemet decides.
                    let after = tokens.clone().next();
                    after.is_some_and(|(s, e)| ending.ends_before(&paragraph[s..e]))
                } else {
                    ending.ends_before(next)
                }
            }
        };
        if split {
            sentences.push(&paragraph[sentence_start..end]);
            begin = None;
            position = 0;
            prev = None;
            ending = Ending::Never;
        } else {
            position += 1;
            prev = Some(token);
        }
        current = next;
    }
    sentences
}

/// Byte ranges of the paragraph's tokens: maximal runs without whitespace, also cut after a
/// CJK full stop (and its closing brackets), since CJK text puts no space between sentences.
#[derive(Clone)]
struct Tokens<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }
}

impl Iterator for Tokens<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let rest = &self.text[self.pos..];
        let start = self.pos + (rest.len() - rest.trim_start().len());
        let bytes = self.text.as_bytes();
        let mut end = start;
        let mut after_full_stop = false;
        while let Some(&b) = bytes.get(end) {
            // Printable ASCII is the bulk of the text: skip it without decoding.
            if !after_full_stop && b.is_ascii_graphic() {
                end += 1;
                continue;
            }
            let Some(c) = self.text[end..].chars().next() else {
                break;
            };
            if c.is_whitespace() || (after_full_stop && !is_cjk_terminator(c) && !is_closer(c)) {
                break;
            }
            after_full_stop |= is_cjk_terminator(c);
            end += c.len_utf8();
        }
        self.pos = end;
        (end > start).then_some((start, end))
    }
}

/// What a token says about a sentence boundary right after it. Whatever the token alone can
/// tell is decided once here, so that looking at the next token stays cheap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Not a sentence end: no terminal punctuation, or an abbreviation, enumerator or
    /// numbering that always continues ("e.g.", "1.", "Section 3.1.").
    Never,
    /// A CJK full stop: the sentence ends whatever follows.
    Always,
    /// Ends a sentence when the next token can start one ("data. We", not "data. we").
    BeforeCapital,
    /// An abbreviation or initial that ends a sentence only before a common sentence
    /// opener: "Dialer Inc. Learn more", but "Google Inc. Search", "U.S. Department".
    BeforeCommonWord,
    /// A small number that may be a German ordinal date: "under 13. In", not "am 13. Juli".
    BeforeNonMonth,
}

impl Ending {
    fn ends_before(self, next: &str) -> bool {
        match self {
            Self::Never => false,
            Self::Always => true,
            Self::BeforeCapital => starts_sentence(next),
            Self::BeforeCommonWord => is_common_opener(next),
            Self::BeforeNonMonth => starts_sentence(next) && !is_german_month(next),
        }
    }
}

/// Classifies `token`, the `position`-th token (from 0) of the current sentence, preceded
/// within that sentence by `prev`.
fn classify(token: &str, prev: Option<&str>, position: usize) -> Ending {
    let core = token.trim_end_matches(is_closer);
    let Some(last) = core.chars().next_back() else {
        return Ending::Never;
    };
    if is_cjk_terminator(last) {
        return Ending::Always;
    }
    if !is_terminator(last) {
        return Ending::Never;
    }
    let body = core.trim_end_matches(is_terminator);
    // `!`, `?`, `…` and "..." are never part of a word; only a lone period is ambiguous.
    if last != '.' || core.len() - body.len() > 1 {
        return Ending::BeforeCapital;
    }
    classify_period(body, prev, position)
}

/// Classifies a token made of `body` and one final period.
fn classify_period(body: &str, prev: Option<&str>, position: usize) -> Ending {
    // `("CCPA").`: the period closes a parenthetical or quote, not an abbreviation.
    if body.is_empty() || body.ends_with(is_closer) {
        return Ending::BeforeCapital;
    }
    let word = body.trim_start_matches(is_opener);
    if word.is_empty() {
        return Ending::BeforeCapital;
    }
    // Numbering that heads a sentence belongs to it: "1. We", "3.1. The", "IV. Scope".
    if position == 0 && is_enumerator(word) {
        return Ending::Never;
    }
    if let Some((segments, longest)) = number_shape(word) {
        if prev.is_some_and(is_section_word) {
            // "Section 3.1. The" is numbering anywhere in a sentence.
            if segments > 1 && longest <= 3 {
                return Ending::Never;
            }
            // A leading "Section 3." may title its text ("Section 3. Scope") or be a
            // label sentence of its own ("Article 49. In the absence of...").
            if position == 1 {
                return Ending::BeforeCommonWord;
            }
        }
        return if segments == 1 && longest <= 2 {
            Ending::BeforeNonMonth
        } else {
            Ending::BeforeCapital
        };
    }
    // Spaced abbreviations: the short second half of "z. B.", "d. h.", "u. a.", "p. ex.".
    if prev.is_some_and(is_one_letter_abbreviation)
        && word.chars().nth(2).is_none()
        && word.chars().all(char::is_alphabetic)
    {
        return Ending::Never;
    }
    let mut chars = word.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return if c.is_lowercase() {
            // "p. 5", "v. Jones", "z. B."
            Ending::Never
        } else if c.is_uppercase() {
            // An initial ("J. Smith", "Section A. Definitions"), unless it plainly ends a
            // clause after an ordinary word: "available on X. For example".
            if prev.is_some_and(|p| !p.ends_with('.')) {
                Ending::BeforeCommonWord
            } else {
                Ending::Never
            }
        } else {
            Ending::BeforeCapital
        };
    }
    match abbreviation(word) {
        Some(Abbreviation::Prefix) => Ending::Never,
        Some(Abbreviation::Suffix) => Ending::BeforeCommonWord,
        None => Ending::BeforeCapital,
    }
}

/// Sentence terminators that need a following space and a capital to end a sentence.
fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '؟' | '۔' | '।' | '॥')
}

/// Full stops of scripts written without spaces; they end a sentence unconditionally.
/// The full stops after which a sentence ends with no space: CJK text puts none between
/// sentences.
pub fn is_cjk_terminator(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '｡')
}

/// Closing quotes and brackets that may follow a terminator. `*` and `_` are Markdown
/// emphasis. German closes quotes with `“` and `‘`, so those count as closers too.
#[rustfmt::skip]
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '”' | '’' | '“' | '‘' | '»' | '«' | '›' | ')' | ']' | '}' | '*' | '_' | '」'
            | '』' | '）' | '】' | '〕' | '〉' | '》'
    )
}

/// Opening quotes and brackets that may precede the first word of a sentence. `»` opens
/// quotes in German and Danish typesetting.
#[rustfmt::skip]
fn is_opener(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '“' | '‘' | '„' | '‚' | '«' | '»' | '‹' | '(' | '[' | '{' | '*' | '_' | '「'
            | '『' | '（' | '【' | '〔' | '〈' | '《'
    )
}

/// Bare closing punctuation: `»` in French spacing, a stray `)`. A bare `«` opens a French
/// quote instead.
fn is_closers_only(token: &str) -> bool {
    token.chars().all(|c| is_closer(c) && !matches!(c, '«' | '‹'))
}

/// Bare opening punctuation: `«` in French spacing.
fn is_openers_only(token: &str) -> bool {
    token.chars().all(is_opener)
}

/// Whether `next` can begin a sentence: after opening punctuation, an uppercase letter, a
/// digit, or a letter of a script without case (CJK, Arabic, Hebrew, Devanagari...).
fn starts_sentence(next: &str) -> bool {
    for c in next.chars() {
        if matches!(c, '¿' | '¡') {
            return true;
        }
        if !is_opener(c) {
            return c.is_uppercase() || c.is_numeric() || (c.is_alphabetic() && !c.is_lowercase());
        }
    }
    false
}

/// The leading run of letters of `next` after opening punctuation, and what follows it.
fn leading_word(next: &str) -> (&str, &str) {
    let word = next.trim_start_matches(is_opener);
    let end = word.find(|c: char| !c.is_alphabetic()).unwrap_or(word.len());
    word.split_at(end)
}

/// Whether `next` is a capitalized function word that typically opens a sentence. Used after
/// abbreviations that may or may not end one: "Inc. We" splits, "Inc. Group" does not.
fn is_common_opener(next: &str) -> bool {
    let (word, rest) = leading_word(next);
    let mut buffer = [0; 32];
    // "A." or "J." is another initial, not an opener.
    !rest.starts_with('.')
        && word.starts_with(char::is_uppercase)
        && lowercase_into(word, &mut buffer).is_some_and(|lower| COMMON_OPENERS.binary_search(&lower).is_ok())
}

/// Lowercases a short word into `buffer` without allocating; `None` if it does not fit
/// (no table word is that long).
fn lowercase_into<'b>(word: &str, buffer: &'b mut [u8; 32]) -> Option<&'b str> {
    let mut len = 0;
    for c in word.chars().flat_map(char::to_lowercase) {
        len += c.encode_utf8(buffer.get_mut(len..len + c.len_utf8())?).len();
    }
    std::str::from_utf8(&buffer[..len]).ok()
}

fn is_german_month(next: &str) -> bool {
    let (word, _) = leading_word(next);
    GERMAN_MONTHS.iter().any(|m| eq_ignore_case(word, m))
}

/// Digits separated by single dots ("13", "3.1", "192.168.0.1"): the number of segments and
/// the length of the longest one.
fn number_shape(word: &str) -> Option<(usize, usize)> {
    let mut segments = 0;
    let mut longest = 0;
    for segment in word.split('.') {
        if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        segments += 1;
        longest = longest.max(segment.len());
    }
    Some((segments, longest))
}

/// List and heading enumerators: "1", "3.1", "A", "b", "IV", "xii".
fn is_enumerator(word: &str) -> bool {
    if number_shape(word).is_some_and(|(_, longest)| longest <= 3) {
        return true;
    }
    let mut chars = word.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return c.is_alphabetic();
    }
    word.len() <= 6
        && (word.bytes().all(|b| matches!(b, b'I' | b'V' | b'X'))
            || word.bytes().all(|b| matches!(b, b'i' | b'v' | b'x')))
}

/// Words after which a number is a reference ("Section 3.1", "Art. 6", "§ 5").
fn is_section_word(word: &str) -> bool {
    let word = word.trim_start_matches(is_opener).trim_end_matches('.');
    SECTION_WORDS.iter().any(|w| eq_ignore_case(word, w))
}

/// A single letter and a period, as in "z." of "z. B." or "p." of "p. ex.".
fn is_one_letter_abbreviation(token: &str) -> bool {
    let mut chars = token.trim_start_matches(is_opener).chars();
    matches!(
        (chars.next(), chars.next(), chars.next()),
        (Some(c), Some('.'), None) if c.is_alphabetic()
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Abbreviation {
    /// Always followed by what it introduces ("e.g.", "Mr.", "cf."): never ends a sentence.
    Prefix,
    /// May close a sentence ("Inc.", "U.S.", "et seq.").
    Suffix,
}

/// Looks `word` (without its final period) up in the abbreviation table or as dotted
/// initials ("U.S.A", "Ph.D"), then does the same for its last piece after a hyphen, slash or
/// elision apostrophe ("EU-U.S." → "U.S", French "l'art." → "art").
fn abbreviation(word: &str) -> Option<Abbreviation> {
    lookup_abbreviation(word).or_else(|| {
        let (_, tail) = word.rsplit_once(['-', '/', '\'', '’'])?;
        lookup_abbreviation(tail)
    })
}

fn lookup_abbreviation(word: &str) -> Option<Abbreviation> {
    if word.is_empty() {
        return None;
    }
    ABBREVIATIONS
        .iter()
        .find(|(entry, _)| matches_abbreviation(word, entry))
        .map(|&(_, kind)| kind)
        .or_else(|| is_dotted_initials(word).then_some(Abbreviation::Suffix))
}

/// Capitalized entries ("Mr", "Inc") need a capital in the text, so that "10 ms." is not
/// "Ms."; lowercase entries ("e.g", "approx") match in any case.
fn matches_abbreviation(word: &str, entry: &str) -> bool {
    eq_ignore_case(word, entry) && (word.starts_with(char::is_uppercase) || !entry.starts_with(char::is_uppercase))
}

/// "U.S.A", "S.A", "N.V", "a.m", "Ph.D": letter groups of one or two joined by periods.
/// Domains ("openai.com") have longer groups and are not abbreviations.
fn is_dotted_initials(word: &str) -> bool {
    word.contains('.')
        && word.split('.').all(|group| {
            let mut letters = 0;
            for c in group.chars() {
                letters += 1;
                if letters > 2 || !c.is_alphabetic() {
                    return false;
                }
            }
            letters > 0
        })
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    // Table look-ups run at every period, so most entries must be rejected by length alone.
    // The rare case pairs whose UTF-8 lengths differ (the Kelvin sign, "ẞ") occur in no
    // table word.
    a.len() == b.len()
        && (a.eq_ignore_ascii_case(b)
            || (!a.is_ascii()
                && a.chars()
                    .flat_map(char::to_lowercase)
                    .eq(b.chars().flat_map(char::to_lowercase))))
}

/// Known abbreviations, written without their final period. Dotted initials ("U.S.",
/// "S.A.") are also recognized generically; the common ones are listed for clarity.
#[rustfmt::skip]
const ABBREVIATIONS: &[(&str, Abbreviation)] = {
    use Abbreviation::{Prefix as P, Suffix as S};
    &[
        // Latin and English connectives: always followed by what they introduce.
        ("e.g", P), ("i.e", P), ("cf", P), ("vs", P), ("viz", P), ("approx", P), ("incl", P),
        ("excl", P), ("esp", P),
        // Titles.
        ("Mr", P), ("Mrs", P), ("Ms", P), ("Messrs", P), ("Dr", P), ("Prof", P), ("Hon", P),
        ("Mme", P), ("Mmes", P), ("Mlle", P),
        // French and German connectives.
        ("c.-à-d", P), ("p.ex", P), ("z.B", P), ("d.h", P), ("u.a", P), ("bzw", P), ("ggf", P),
        ("vgl", P),
        // California code citations: "Cal. Civ. Code § 1798.83", "Cal. Bus. & Prof. Code".
        ("Cal", P), ("Civ", P), ("Bus", P),
        // Company forms and places: may end a sentence.
        ("Inc", S), ("Ltd", S), ("LLC", S), ("Corp", S), ("Co", S), ("Cie", S), ("GmbH", S),
        ("Pte", S), ("S.A", S), ("r.l", S), ("N.V", S), ("B.V", S), ("U.S", S), ("U.S.A", S),
        ("U.K", S), ("E.U", S), ("EU", S), ("U.N", S), ("D.C", S), ("N.Y", S), ("St", S),
        ("Jr", S), ("Sr", S),
        // References and citations.
        ("No", S), ("Nos", S), ("Nr", S), ("Sec", S), ("Secs", S), ("art", S), ("arts", S),
        ("para", S), ("paras", S), ("pp", S), ("ch", S), ("cl", S), ("ss", S), ("Reg", S),
        ("Dir", S), ("Vol", S), ("ed", S), ("Fig", S), ("Code", S), ("Stat", S), ("Ann", S),
        ("Rev", S), ("Pub", S), ("Div", S), ("Abs", S), ("seq", S), ("al", S),
        // Times and months.
        ("a.m", S), ("p.m", S), ("Jan", S), ("Feb", S), ("Mar", S), ("Apr", S), ("Jun", S),
        ("Jul", S), ("Aug", S), ("Sep", S), ("Sept", S), ("Oct", S), ("Nov", S), ("Dec", S),
        // Units and other shortenings that can close a sentence.
        ("min", S), ("max", S), ("dept", S), ("est", S), ("usw", S),
    ]
};

/// Words that commonly open a sentence in policy text (English, German, French, Spanish,
/// Italian), lowercase and sorted for binary search. Deliberately no names, nouns or single
/// letters, which also follow abbreviations and initials inside a sentence
/// ("U.S. Department", "J. A. Smith").
#[rustfmt::skip]
const COMMON_OPENERS: &[&str] = &[
    "about", "accordingly", "additionally", "after", "al", "all", "also", "although", "an",
    "and", "another", "any", "as", "at", "auch", "außerdem", "because", "before", "bei",
    "below", "bitte", "both", "but", "by", "ce", "cependant", "ces", "cet", "cette", "click",
    "contact", "cuando", "da", "daher", "dans", "das", "depending", "der", "die", "dies",
    "diese", "dieser", "dieses", "during", "each", "either", "el", "elle", "elles", "en", "es",
    "esta", "este", "estos", "even", "every", "except", "falls", "finally", "find", "for",
    "from", "further", "furthermore", "für", "generally", "gli", "go", "he", "here", "how",
    "however", "if", "ihre", "il", "ils", "im", "in", "inoltre", "instead", "it", "its",
    "jedoch", "just", "la", "las", "le", "learn", "les", "let", "leur", "likewise", "lorsque",
    "los", "many", "mit", "more", "moreover", "most", "my", "nach", "neither", "no", "noi",
    "nos", "nosotros", "not", "note", "notre", "notwithstanding", "nous", "of", "on", "once",
    "only", "or", "other", "otherwise", "our", "para", "per", "please", "pour", "puede",
    "quando", "questa", "questo", "read", "regardless", "se", "see", "she", "si", "sie",
    "similarly", "since", "so", "sofern", "some", "sometimes", "soweit", "su", "such", "sur",
    "sus", "that", "the", "their", "then", "there", "therefore", "these", "they", "this",
    "those", "through", "thus", "to", "um", "under", "une", "unfortunately", "unless", "unsere",
    "until", "upon", "usted", "veuillez", "visit", "vos", "votre", "vous", "we", "weitere",
    "wenn", "what", "when", "whenever", "where", "whether", "which", "while", "who", "why",
    "wie", "wir", "with", "within", "without", "you", "your", "zu",
];

/// After "13." these make it a German date ("am 13. Juli 2022"), not a sentence end.
#[rustfmt::skip]
const GERMAN_MONTHS: &[&str] = &[
    "Januar", "Jänner", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
    "September", "Oktober", "November", "Dezember",
];

/// Lowercase, without a final period.
#[rustfmt::skip]
const SECTION_WORDS: &[&str] = &[
    "§", "§§", "section", "sections", "sec", "secs", "article", "articles", "art", "arts",
    "clause", "cl", "chapter", "ch", "part", "paragraph", "para", "paras", "no", "nos", "nr",
    "item", "schedule", "annex", "appendix", "exhibit", "title", "rule", "step", "point",
    "abschnitt", "artikel", "absatz", "abs", "ziffer", "kapitel", "teil", "punkt", "chapitre",
    "titre", "sección", "artículo", "capítulo", "articolo",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the documented guarantees of `split_sentences` and returns its output.
    fn split(paragraph: &str) -> Vec<&str> {
        let sentences = split_sentences(paragraph);
        assert_invariants(paragraph, &sentences);
        sentences
    }

    fn assert_invariants(paragraph: &str, sentences: &[&str]) {
        for s in sentences {
            assert!(!s.is_empty(), "empty sentence in {paragraph:?}");
            assert_eq!(s.trim(), *s, "untrimmed sentence in {paragraph:?}");
        }
        // For normalized input, joining with single spaces (nothing after a CJK full
        // stop the input did not follow with a space) gives back the input.
        if paragraph == normalize_inline(paragraph) {
            let mut rebuilt = String::new();
            for (i, s) in sentences.iter().enumerate() {
                if i > 0 {
                    if paragraph[rebuilt.len()..].starts_with(' ') {
                        rebuilt.push(' ');
                    } else {
                        let previous = sentences[i - 1].trim_end_matches(is_closer);
                        assert!(
                            previous.ends_with(is_cjk_terminator),
                            "glued sentences in {paragraph:?}: {sentences:?}"
                        );
                    }
                }
                rebuilt.push_str(s);
            }
            assert_eq!(rebuilt, paragraph);
            if !paragraph.contains(is_cjk_terminator) {
                assert_eq!(sentences.join(" "), paragraph);
            }
        }
    }

    // --- normalize_inline -------------------------------------------------------------

    #[test]
    fn normalize_collapses_and_trims_whitespace() {
        assert_eq!(normalize_inline("  a \t b\n\nc\r\n d  "), "a b c d");
        assert_eq!(normalize_inline(""), "");
        assert_eq!(normalize_inline(" \t\n "), "");
    }

    #[test]
    fn normalize_maps_space_separators() {
        let text = "a\u{00A0}b\u{202F}c\u{2007}d\u{2003}e\u{3000}f\u{1680}g\u{205F}h\u{2028}i";
        assert_eq!(normalize_inline(text), "a b c d e f g h i");
        assert_eq!(normalize_inline("Art.\u{00A0}6 \u{00A0} GDPR"), "Art. 6 GDPR");
    }

    #[test]
    fn normalize_drops_invisible_characters() {
        let text = "pri\u{00AD}vacy\u{200B} po\u{2060}li\u{FEFF}cy\u{200E}\u{200F}\u{061C}\u{180E}\u{2061}\u{2064}";
        assert_eq!(normalize_inline(text), "privacy policy");
        assert_eq!(normalize_inline("\u{FEFF}Terms"), "Terms");
        assert_eq!(normalize_inline("Terms\u{FFFE} of\u{FFFF} Use"), "Terms of Use");
        assert_eq!(normalize_inline("a\u{202A}b\u{202C}c\u{2066}d\u{2069}"), "abcd");
    }

    #[test]
    fn normalize_drops_control_characters() {
        assert_eq!(normalize_inline("a\u{0}b\u{7}c\u{1B}d\u{7F}e\u{80}f\u{9F}g"), "abcdefg");
        // VT, FF and NEL separate words like any other whitespace.
        assert_eq!(normalize_inline("a\u{B}b\u{C}c\u{85}d"), "a b c d");
    }

    #[test]
    fn normalize_drops_private_use_characters() {
        let text = "\u{E000}icon\u{F8FF} text \u{F0000}\u{10FFFD}";
        assert_eq!(normalize_inline(text), "icon text");
    }

    #[test]
    fn normalize_keeps_joiners_and_emoji() {
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(normalize_inline(family), family);
        assert_eq!(normalize_inline("می\u{200C}خواهم"), "می\u{200C}خواهم");
    }

    #[test]
    fn normalize_applies_nfc() {
        assert_eq!(normalize_inline("Cafe\u{301}"), "Café");
        assert_eq!(normalize_inline("Datenschutzerkla\u{308}rung"), "Datenschutzerklärung");
        // A mark separated from its base by a dropped character composes on the first pass.
        assert_eq!(normalize_inline("e\u{200B}\u{301}"), "é");
        // Compatibility characters are left alone: NFC, not NFKC.
        assert_eq!(normalize_inline("ﬁle ①"), "ﬁle ①");
    }

    #[test]
    fn normalize_is_identity_on_clean_text() {
        let text = "We may share data with TikTok Pte. Ltd. (“TikTok Singapore”).";
        assert_eq!(normalize_inline(text), text);
    }

    #[test]
    fn normalize_whitespace_around_dropped_characters_collapses() {
        assert_eq!(normalize_inline("a \u{200B} b"), "a b");
        assert_eq!(normalize_inline("\u{200B} a \u{00AD} "), "a");
    }

    #[test]
    fn opener_table_is_sorted_lowercase() {
        assert!(COMMON_OPENERS.windows(2).all(|w| w[0] < w[1]));
        assert!(COMMON_OPENERS.iter().all(|w| w.to_lowercase() == *w));
        assert!(COMMON_OPENERS.iter().all(|w| w.len() < 32));
        assert!(is_common_opener("Für") && is_common_opener("ALSO") && !is_common_opener("also"));
        assert!(!is_common_opener(&"W".repeat(40)));
    }

    // --- split_sentences: basics --------------------------------------------------------

    #[test]
    fn empty_and_blank_input() {
        assert!(split("").is_empty());
        assert!(split_sentences("   ").is_empty());
    }

    #[test]
    fn simple_sentences() {
        assert_eq!(
            split("We collect data. We use it. Do we sell it? No! Never."),
            ["We collect data.", "We use it.", "Do we sell it?", "No!", "Never."]
        );
    }

    #[test]
    fn no_terminal_punctuation_is_one_sentence() {
        assert_eq!(split("Last updated 1 March 2026"), ["Last updated 1 March 2026"]);
        assert_eq!(split("Introduction"), ["Introduction"]);
    }

    #[test]
    fn lowercase_after_period_does_not_split() {
        assert_eq!(
            split("Photos, videos, etc. and comments. That is all."),
            ["Photos, videos, etc. and comments.", "That is all."]
        );
        assert_eq!(split("We use data e.g. you know."), ["We use data e.g. you know."]);
    }

    #[test]
    fn splits_before_digits_and_uncased_letters() {
        assert_eq!(
            split("We keep data. 30 days is the limit."),
            ["We keep data.", "30 days is the limit."]
        );
        assert_eq!(split("See above. 数据 is data."), ["See above.", "数据 is data."]);
    }

    #[test]
    fn never_splits_after_colon_or_semicolon() {
        assert_eq!(
            split("We collect: Your name; Your email. Then we stop."),
            ["We collect: Your name; Your email.", "Then we stop."]
        );
    }

    #[test]
    fn enumerated_clauses_stay_together() {
        let text = "(a) The Services are provided as is; (b) We make no warranty; and (c) Liability is limited.";
        assert_eq!(split(text), [text]);
    }

    // --- abbreviations ----------------------------------------------------------------

    #[test]
    fn latin_abbreviations_never_split() {
        assert_eq!(
            split("Some apps (e.g. Instagram) and sites, i.e. Facebook, vs. Google, cf. Section 2."),
            ["Some apps (e.g. Instagram) and sites, i.e. Facebook, vs. Google, cf. Section 2."]
        );
        assert_eq!(split("Apps, e.g. TikTok Lite."), ["Apps, e.g. TikTok Lite."]);
        assert_eq!(split("E.g. Google may."), ["E.g. Google may."]);
    }

    #[test]
    fn etc_splits_only_before_a_capital() {
        assert_eq!(
            split("We collect photos, videos, etc. We also collect comments."),
            ["We collect photos, videos, etc.", "We also collect comments."]
        );
        assert_eq!(
            split("Photos, videos, etc. are content. Fine."),
            ["Photos, videos, etc. are content.", "Fine."]
        );
        assert_eq!(
            split("(photos, videos, etc.) We keep them."),
            ["(photos, videos, etc.)", "We keep them."]
        );
    }

    #[test]
    fn titles_never_split() {
        assert_eq!(
            split("Contact Mr. Smith or Dr. Jones, Prof. Lee, Ms. Wu or Mrs. Park. They help."),
            [
                "Contact Mr. Smith or Dr. Jones, Prof. Lee, Ms. Wu or Mrs. Park.",
                "They help."
            ]
        );
        // Lowercase "ms." is milliseconds, not the title.
        assert_eq!(split("It took 10 ms. The end."), ["It took 10 ms.", "The end."]);
    }

    #[test]
    fn company_forms() {
        let text = "TikTok Inc. and its affiliates (e.g., TikTok Pte. Ltd.) may share data with U.S. authorities. This includes requests.";
        assert_eq!(
            split(text),
            [
                "TikTok Inc. and its affiliates (e.g., TikTok Pte. Ltd.) may share data with U.S. authorities.",
                "This includes requests."
            ]
        );
        assert_eq!(
            split("Acme GmbH. Acme S.A. Acme Corp. Holdings, Acme N.V. Group and Acme Co. Ltd. sell."),
            ["Acme GmbH. Acme S.A. Acme Corp. Holdings, Acme N.V. Group and Acme Co. Ltd. sell."]
        );
        assert_eq!(
            split("Acme S.à r.l. Luxembourg acts."),
            ["Acme S.à r.l. Luxembourg acts."]
        );
    }

    #[test]
    fn suffix_abbreviation_ends_sentence_before_common_opener() {
        assert_eq!(
            split("Services are provided by Google Dialer Inc. Learn more about them."),
            ["Services are provided by Google Dialer Inc.", "Learn more about them."]
        );
        assert_eq!(
            split("Data may be kept outside the U.S. How long we keep it varies."),
            ["Data may be kept outside the U.S.", "How long we keep it varies."]
        );
        assert_eq!(
            split(
                "We adhere to the EU-U.S. Data Privacy Framework and the Swiss-U.S. DPF. If there is a conflict, they govern."
            ),
            [
                "We adhere to the EU-U.S. Data Privacy Framework and the Swiss-U.S. DPF.",
                "If there is a conflict, they govern."
            ]
        );
        assert_eq!(
            split("We told the U.S. Department of Commerce."),
            ["We told the U.S. Department of Commerce."]
        );
    }

    #[test]
    fn ccpa_citation() {
        let text = r#"We comply with the California Consumer Privacy Act ("CCPA"), Cal. Civ. Code § 1798.100 et seq. We do not sell data."#;
        assert_eq!(
            split(text),
            [
                r#"We comply with the California Consumer Privacy Act ("CCPA"), Cal. Civ. Code § 1798.100 et seq."#,
                "We do not sell data."
            ]
        );
        assert_eq!(
            split("See Cal. Bus. & Prof. Code § 22575. We honor requests."),
            ["See Cal. Bus. & Prof. Code § 22575.", "We honor requests."]
        );
        assert_eq!(
            split("See Cal. Civ. Code § 1798.83. We respond within 30 days."),
            ["See Cal. Civ. Code § 1798.83.", "We respond within 30 days."]
        );
    }

    #[test]
    fn gdpr_articles_and_sections() {
        assert_eq!(
            split("Under Art. 6(1)(f) GDPR, we rely on legitimate interests. See Sec. 4.2 below."),
            [
                "Under Art. 6(1)(f) GDPR, we rely on legitimate interests.",
                "See Sec. 4.2 below."
            ]
        );
        assert_eq!(
            split("See No. 3 and Nos. 4 to 6, para. 2, pp. 10-12, ch. 3, Fig. 2 and Vol. 7. Done."),
            [
                "See No. 3 and Nos. 4 to 6, para. 2, pp. 10-12, ch. 3, Fig. 2 and Vol. 7.",
                "Done."
            ]
        );
        assert_eq!(
            split(
                "Protecting Americans from Foreign Adversary Controlled Applications Act, Pub. L. No. 118-50, Div. H, 138 Stat. 955. We comply."
            ),
            [
                "Protecting Americans from Foreign Adversary Controlled Applications Act, Pub. L. No. 118-50, Div. H, 138 Stat. 955.",
                "We comply."
            ]
        );
    }

    #[test]
    fn times_and_months() {
        assert_eq!(
            split("Support is open 9 a.m. to 5 p.m. Pacific Time, from Jan. 5 to Dec. 20. Call us."),
            [
                "Support is open 9 a.m. to 5 p.m. Pacific Time, from Jan. 5 to Dec. 20.",
                "Call us."
            ]
        );
        assert_eq!(
            split("We close at 5 p.m. We reopen at 9 a.m. Please wait."),
            ["We close at 5 p.m.", "We reopen at 9 a.m.", "Please wait."]
        );
    }

    #[test]
    fn et_al_and_ranges() {
        assert_eq!(
            split("Smith et al. Report 2024 says so. Smith et al. The study agrees."),
            ["Smith et al. Report 2024 says so.", "Smith et al.", "The study agrees."]
        );
    }

    // --- numbers, numbering, URLs -----------------------------------------------------

    #[test]
    fn numbers_inside_tokens_never_split() {
        assert_eq!(
            split("Plans cost $4.99. Version v2.0 has 1.5 million users at 192.168.0.1 today. Fine."),
            [
                "Plans cost $4.99.",
                "Version v2.0 has 1.5 million users at 192.168.0.1 today.",
                "Fine."
            ]
        );
    }

    #[test]
    fn urls_emails_and_domains() {
        assert_eq!(
            split("Visit www.tiktok.com/legal or openai.com. Write to privacy@example.com. We reply."),
            [
                "Visit www.tiktok.com/legal or openai.com.",
                "Write to privacy@example.com.",
                "We reply."
            ]
        );
        assert_eq!(
            split("See https://example.com/a.b?x=1.Y for details."),
            ["See https://example.com/a.b?x=1.Y for details."]
        );
    }

    #[test]
    fn numbered_headings_stay_with_their_text() {
        assert_eq!(split("3.1. The Services"), ["3.1. The Services"]);
        assert_eq!(split("1. Introduction"), ["1. Introduction"]);
        assert_eq!(split("A. Definitions"), ["A. Definitions"]);
        assert_eq!(
            split("IV. Your Rights. We respect them."),
            ["IV. Your Rights.", "We respect them."]
        );
        assert_eq!(
            split("Section 3.1. The data we collect. Section 2. Scope is narrow."),
            ["Section 3.1. The data we collect.", "Section 2. Scope is narrow."]
        );
        assert_eq!(
            split("Article 49. In the absence of a decision, we rely on consent."),
            ["Article 49.", "In the absence of a decision, we rely on consent."]
        );
        assert_eq!(
            split("1. We collect data. 2. We share it."),
            ["1. We collect data.", "2. We share it."]
        );
    }

    #[test]
    fn number_at_sentence_end_splits() {
        assert_eq!(
            split("We do not collect data from anyone under 13. In addition, we limit ads."),
            [
                "We do not collect data from anyone under 13.",
                "In addition, we limit ads."
            ]
        );
        assert_eq!(
            split("This policy was updated in 2022. We review it yearly."),
            ["This policy was updated in 2022.", "We review it yearly."]
        );
        assert_eq!(
            split("As described in version 2.0. The new terms apply."),
            ["As described in version 2.0.", "The new terms apply."]
        );
    }

    #[test]
    fn initials() {
        assert_eq!(
            split("Written by J. Smith and J. R. R. Tolkien."),
            ["Written by J. Smith and J. R. R. Tolkien."]
        );
        assert_eq!(
            split("See Section A. Definitions apply."),
            ["See Section A. Definitions apply."]
        );
        assert_eq!(
            split("Content may remain after it is removed from X. For example, search engines cache it."),
            [
                "Content may remain after it is removed from X.",
                "For example, search engines cache it."
            ]
        );
    }

    // --- ellipses and quotes ------------------------------------------------------------

    #[test]
    fn ellipsis() {
        assert_eq!(
            split("We may... in some cases share data."),
            ["We may... in some cases share data."]
        );
        assert_eq!(split("We may… in some cases."), ["We may… in some cases."]);
        assert_eq!(split("And so on... The end."), ["And so on...", "The end."]);
        assert_eq!(split("And so on… The end."), ["And so on…", "The end."]);
    }

    #[test]
    fn closing_quotes_stay_with_the_sentence() {
        assert_eq!(
            split(r#"He said "Stop." Then he left."#),
            [r#"He said "Stop.""#, "Then he left."]
        );
        assert_eq!(
            split("He said “Stop.” Then he left."),
            ["He said “Stop.”", "Then he left."]
        );
        assert_eq!(
            split("Read our policy (see below.) Then agree. Really?! Yes."),
            ["Read our policy (see below.)", "Then agree.", "Really?!", "Yes."]
        );
        assert_eq!(
            split(r#"This is the "Policy". We update it."#),
            [r#"This is the "Policy"."#, "We update it."]
        );
    }

    #[test]
    fn opening_quote_before_capital_splits() {
        assert_eq!(
            split(r#"We collect data. "Personal data" means any information. (Terms apply.) Done."#),
            [
                "We collect data.",
                r#""Personal data" means any information."#,
                "(Terms apply.)",
                "Done."
            ]
        );
        assert_eq!(
            split(r#"We collect data. "personal" data."#),
            [r#"We collect data. "personal" data."#]
        );
    }

    #[test]
    fn markdown_emphasis_is_punctuation() {
        assert_eq!(
            split("**Profile information.** We collect your name. **Content.** We store it."),
            [
                "**Profile information.**",
                "We collect your name.",
                "**Content.**",
                "We store it."
            ]
        );
    }

    // --- other languages ----------------------------------------------------------------

    #[test]
    fn french_guillemets_and_spacing() {
        assert_eq!(
            split("Il a dit « Stop. » Puis il est parti. Vraiment ? Oui !"),
            ["Il a dit « Stop. »", "Puis il est parti.", "Vraiment ?", "Oui !"]
        );
        assert_eq!(
            split("Nous utilisons vos données, p. ex. Votre nom, c.-à-d. Votre identité. Nous les protégeons."),
            [
                "Nous utilisons vos données, p. ex. Votre nom, c.-à-d. Votre identité.",
                "Nous les protégeons."
            ]
        );
        assert_eq!(
            split("Voir l'art. 6 du RGPD. Merci."),
            ["Voir l'art. 6 du RGPD.", "Merci."]
        );
        assert_eq!(
            split("Contactez M. Dupont ou Mme. Curie."),
            ["Contactez M. Dupont ou Mme. Curie."]
        );
    }

    #[test]
    fn guillemets_in_french_and_german_style() {
        assert_eq!(
            split("Il a dit. « Bonjour. » Puis « non » et « oui ». Fin."),
            ["Il a dit.", "« Bonjour. »", "Puis « non » et « oui ».", "Fin."]
        );
        assert_eq!(
            split("Er sagte: »Stopp.« Dann ging er."),
            ["Er sagte: »Stopp.«", "Dann ging er."]
        );
    }

    #[test]
    fn german_abbreviations_and_dates() {
        assert_eq!(
            split(
                "Wir erheben Daten, wie z. B. Ihr Geburtsdatum, d. h. Ihre Angaben, z.B. Fotos. Sie können widersprechen."
            ),
            [
                "Wir erheben Daten, wie z. B. Ihr Geburtsdatum, d. h. Ihre Angaben, z.B. Fotos.",
                "Sie können widersprechen."
            ]
        );
        assert_eq!(
            split("Sie tritt am 13. Juli 2022 in Kraft. Letzte Aktualisierung: 5. Oktober 2021."),
            [
                "Sie tritt am 13. Juli 2022 in Kraft.",
                "Letzte Aktualisierung: 5. Oktober 2021."
            ]
        );
        assert_eq!(
            split("Siehe Art. 6 Abs. 1 S. 1 lit. f DSGVO, Nr. 3 bzw. Nr. 4 usw. Die Rechte bleiben."),
            [
                "Siehe Art. 6 Abs. 1 S. 1 lit. f DSGVO, Nr. 3 bzw. Nr. 4 usw.",
                "Die Rechte bleiben."
            ]
        );
        assert_eq!(
            split("„Stopp.“ Dann ging er. Ggf. Sie auch."),
            ["„Stopp.“", "Dann ging er.", "Ggf. Sie auch."]
        );
    }

    #[test]
    fn spanish_inverted_marks() {
        assert_eq!(
            split("Usamos datos. ¿Qué datos? Los suyos. ¡Atención! Lea esto."),
            ["Usamos datos.", "¿Qué datos?", "Los suyos.", "¡Atención!", "Lea esto."]
        );
    }

    #[test]
    fn cjk_full_stops_split_without_spaces() {
        assert_eq!(
            split("我们收集数据。我们使用数据！你同意吗？是的。"),
            ["我们收集数据。", "我们使用数据！", "你同意吗？", "是的。"]
        );
        assert_eq!(split("「はい。」次の文です。"), ["「はい。」", "次の文です。"]);
        assert_eq!(split("数据。 We agree."), ["数据。", "We agree."]);
        assert_eq!(split("版本1.5。"), ["版本1.5。"]);
    }

    #[test]
    fn other_scripts() {
        assert_eq!(
            split("Мы собираем данные. Мы их защищаем."),
            ["Мы собираем данные.", "Мы их защищаем."]
        );
        assert_eq!(
            split("우리는 데이터를 수집합니다. 우리는 보호합니다."),
            ["우리는 데이터를 수집합니다.", "우리는 보호합니다."]
        );
        assert_eq!(split("هل توافق؟ نعم."), ["هل توافق؟", "نعم."]);
        assert_eq!(
            split("हम डेटा एकत्र करते हैं। हम सुरक्षा करते हैं।"),
            ["हम डेटा एकत्र करते हैं।", "हम सुरक्षा करते हैं।"]
        );
    }

    // --- robustness -----------------------------------------------------------------------

    #[test]
    fn unnormalized_input_does_not_panic() {
        let sentences = split_sentences("  We collect.\n\nWe share.\u{00A0} ");
        assert_eq!(sentences, ["We collect.", "We share."]);
        assert_eq!(split_sentences("a\u{3000}。b"), ["a\u{3000}。", "b"]);
    }

    #[test]
    fn punctuation_only_tokens() {
        assert_eq!(split("."), ["."]);
        assert_eq!(split(". . ."), [". . ."]);
        assert_eq!(split("Hi . There"), ["Hi .", "There"]);
        assert_eq!(split("» « ) ( \" '"), ["» « ) ( \" '"]);
        assert_eq!(split("。。。"), ["。。。"]);
        assert_eq!(split("?! ¿ ¡"), ["?!", "¿ ¡"]);
    }

    #[test]
    fn long_tokens_are_linear() {
        // A huge token followed by many bare closers must not be re-scanned per closer.
        let mut text = "a".repeat(200_000);
        text.push('.');
        for _ in 0..50_000 {
            text.push_str(" )");
        }
        text.push_str(" We end.");
        let sentences = split(&text);
        assert_eq!(sentences.len(), 2);
    }

    /// Tiny deterministic generator: Knuth's MMIX LCG.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    #[rustfmt::skip]
    const FRAGMENTS: &[&str] = &[
        "We", "data", "Inc.", "e.g.", "U.S.", "3.1.", "13.", "(a)", "«", "»", "。", "数据", "¿",
        "¡", "X.", "z.", "B.", "Sec.", "No.", "etc.", "...", "…", "\"", "“", "”", "'", "(", ")",
        "é", "e\u{301}", "\u{E000}", "\u{1}", "\u{200B}", "\u{00AD}", "\u{FEFF}", "?", "!", ".",
        ",", ":", ";", "The", "the", "1.5", "$4.99.", "openai.com", "a.m.", "Art.", "6(1)(f)",
        "Juli", "Learn", "J.", "IV.", "§", "ﬁ", "\u{308}", "👨\u{200D}👩", "」", "？", "Мы", "Ünd",
        "ß", "*", "_",
    ];
    #[rustfmt::skip]
    const SEPARATORS: &[&str] = &[
        " ", " ", " ", "", "  ", "\n", "\t", "\u{00A0}", "\u{202F}", "\u{2007}", "\u{3000}",
        "\r\n",
    ];

    #[test]
    fn generated_strings_keep_all_invariants() {
        let mut rng = Lcg(0x5eed_c1a5_e0a7_c0de);
        for _ in 0..600 {
            let mut raw = String::new();
            for _ in 0..rng.next() % 40 {
                raw.push_str(rng.pick(FRAGMENTS));
                raw.push_str(rng.pick(SEPARATORS));
            }

            let normalized = normalize_inline(&raw);
            assert_eq!(normalize_inline(&normalized), normalized, "not idempotent: {raw:?}");
            assert!(!normalized.contains("  "), "double space: {normalized:?}");
            assert_eq!(normalized.trim_matches(' '), normalized, "untrimmed: {normalized:?}");
            assert!(
                !normalized.contains(|c: char| (c.is_whitespace() && c != ' ') || is_invisible(c)),
                "leftover whitespace or invisible char: {normalized:?}"
            );

            // `split` asserts the invariants; raw input must merely not panic.
            split(&normalized);
            for s in split_sentences(&raw) {
                assert!(!s.is_empty());
                assert_eq!(s.trim(), s);
            }
        }
    }
}
