//! What makes a text canonical (docs/architecture.md#canonical-text), checked rather than assumed.
//!
//! The canonicalizer is built to write only canonical text; this states the rules once,
//! so that property tests, fuzz targets and imports can hold any text to them.

use unicode_normalization::is_nfc;

use super::text::is_invisible;

/// Why `text` is not canonical text, or `None` when it is: UTF-8 (given by the type),
/// Unicode NFC, LF line endings and a final newline, no trailing spaces, no blank line
/// at the start or two in a row, no control, invisible or non-space whitespace
/// characters, and within a line (after its list indentation) no run of spaces.
pub fn canonical_violation(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    if !text.ends_with('\n') {
        return Some("no final newline".into());
    }
    if text.starts_with('\n') {
        return Some("a blank line at the start".into());
    }
    if text.contains("\n\n\n") {
        return Some("two blank lines in a row".into());
    }
    if !is_nfc(text) {
        return Some("not in Unicode NFC".into());
    }
    // Not `lines()`, which would hide a CR before each LF.
    for (index, line) in text.split_terminator('\n').enumerate() {
        let number = index + 1;
        if let Some(c) = line
            .chars()
            .find(|&c| (c.is_whitespace() && c != ' ') || is_invisible(c))
        {
            return Some(format!("line {number}: the character U+{:04X}", u32::from(c)));
        }
        if line.ends_with(' ') {
            return Some(format!("line {number}: a trailing space"));
        }
        if line.trim_start_matches(' ').contains("  ") {
            return Some(format!("line {number}: a run of spaces"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::canonical_violation;

    #[test]
    fn accepts_canonical_text() {
        let text = "# Terms\n\nWe collect data.\nWe keep it.\n\n- One.\n  Two.\n| a | b |\n";
        assert_eq!(canonical_violation(text), None);
        assert_eq!(canonical_violation(""), None);
    }

    #[test]
    fn names_what_is_wrong() {
        let cases = [
            ("no newline", "no final newline"),
            ("\nA.\n", "a blank line at the start"),
            ("A.\n\n\nB.\n", "two blank lines in a row"),
            ("e\u{301}\n", "not in Unicode NFC"),
            ("A.\r\n", "line 1: the character U+000D"),
            ("A.\nB\u{a0}C.\n", "line 2: the character U+00A0"),
            ("A\u{200b}.\n", "line 1: the character U+200B"),
            ("A. \n", "line 1: a trailing space"),
            ("A.  B.\n", "line 1: a run of spaces"),
        ];
        for (text, why) in cases {
            assert_eq!(canonical_violation(text).as_deref(), Some(why), "{text:?}");
        }
    }
}
