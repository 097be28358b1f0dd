//! Text that is safe to print on a terminal and to put in a commit message.
//!
//! Declarations and history are untrusted input (issue 15): a service name such as
//! `"Evil \u001b[31mCorp"` would otherwise recolour a terminal, rewrite earlier lines or
//! hide text. Control characters (C0, DEL, C1) and the bidirectional overrides that
//! reorder what a reader sees are shown as visible `\u{1b}` escapes instead. Depends on
//! nothing, so every layer can use it.

use std::borrow::Cow;
use std::fmt;

/// Whether `c` must never reach a terminal or a commit message as it is.
pub fn is_unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The first character of `text` that [`is_unprintable`], if any.
pub fn first_unprintable(text: &str) -> Option<char> {
    text.chars().find(|&c| is_unprintable(c))
}

/// `text` with every unprintable character written as a `\u{..}` escape; borrowed when
/// there is none (the usual case).
pub fn escape(text: &str) -> Cow<'_, str> {
    if first_unprintable(text).is_none() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(Printable(text).to_string())
}

/// Displays a string with its unprintable characters escaped (see [`escape`]).
#[derive(Debug, Clone, Copy)]
pub struct Printable<'a>(pub &'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if is_unprintable(c) {
                write!(f, "\\u{{{:x}}}", c as u32)?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_bidi_overrides_are_shown_escaped() {
        assert_eq!(escape("Evil \u{1b}[31mCorp\u{1b}[0m"), "Evil \\u{1b}[31mCorp\\u{1b}[0m");
        assert_eq!(escape("a\nb\rc\td\u{7f}\u{9b}"), "a\\u{a}b\\u{d}c\\u{9}d\\u{7f}\\u{9b}");
        assert_eq!(escape("txt.exe\u{202e}fdp"), "txt.exe\\u{202e}fdp");
        assert!(matches!(escape("TikTok Privacy Policy · “AI” é"), Cow::Borrowed(_)));
        assert_eq!(first_unprintable("ok\u{7}"), Some('\u{7}'));
    }
}
