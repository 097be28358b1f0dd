//! Text that is safe to print on a terminal and to put in a commit message.
//!
//! Declarations and history are untrusted input (issue 15): a service name such as
//! `"Evil \u001b[31mCorp"`, or a sentence committed into a hostile archive, would
//! otherwise recolour a terminal, rewrite earlier lines or hide text. Control characters
//! (C0, DEL, C1), the bidirectional controls that reorder what a reader sees and the
//! line breaks other than LF are shown as visible `\u{1b}` escapes instead. Depends on
//! nothing, so every layer can use it.
//!
//! [`Printable`] is for one value that must stay on one line (a commit trailer, a file
//! name); [`Terminal`] is the output of a command that prints history, through which
//! every character passes escaped; [`escape_keeping_layout`] is what HTML pages and Atom
//! feeds pass through (markup escaping cannot stop a bidirectional override reordering a
//! quoted sentence).

use std::borrow::Cow;
use std::fmt;
use std::io;

/// Whether `c` must never reach a terminal or a commit message as it is: C0 (tab and
/// line feed included), DEL and C1; the bidirectional marks, embeddings, overrides and
/// isolates (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069); and the line and
/// paragraph separators U+2028 and U+2029.
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
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

/// `text` with every unprintable character escaped except line feeds and tabs, which lay
/// out a page or a feed: what the HTML pages and the Atom feeds show of third-party text.
/// Borrowed when there is nothing to escape.
pub fn escape_keeping_layout(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unprintable(c) && !matches!(c, '\n' | '\t')) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    write_escaped(&mut out, text, true).expect("writing to a String cannot fail");
    Cow::Owned(out)
}

/// Displays a string with its unprintable characters escaped (see [`escape`]).
#[derive(Debug, Clone, Copy)]
pub struct Printable<'a>(pub &'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0, false)
    }
}

/// Writes `text` with every unprintable character escaped, except the line feeds and
/// tabs `keep_layout` lets through.
fn write_escaped(out: &mut impl fmt::Write, text: &str, keep_layout: bool) -> fmt::Result {
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| is_unprintable(c) && !(keep_layout && matches!(c, '\n' | '\t'))) {
        out.write_str(&rest[..at])?;
        let c = rest[at..].chars().next().unwrap_or_default();
        write!(out, "\\u{{{:x}}}", c as u32)?;
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest)
}

/// The output of a command that prints history or other third-party text on a terminal
/// (`show`, `diff`, `blame`, `log`, `provisions`, `timeline`, the imports): escaped by
/// construction. Everything written with `write!`/`writeln!` passes through [`Printable`]'s
/// escaping, except line feeds and tabs, which lay the output out (third-party text
/// reaches it line by line, so a line feed in it is always one of the output's own line
/// ends). The only raw control sequence it writes is a colour from [`Terminal::paint`],
/// whose codes are constants of the crate. It is not an [`io::Write`], so bytes cannot
/// bypass it; JSON goes to standard output directly, where serde escapes control
/// characters and bidirectional controls stay exact, as data.
pub struct Terminal<W: io::Write> {
    inner: W,
    color: bool,
}

/// Select Graphic Rendition parameters for [`Terminal::paint`] (`"31"` red, `"1"` bold).
pub type Sgr = &'static str;

impl Terminal<io::StdoutLock<'static>> {
    /// Standard output, with colours when `color`.
    pub fn stdout(color: bool) -> Self {
        Terminal::new(io::stdout().lock(), color)
    }
}

impl<W: io::Write> Terminal<W> {
    pub fn new(inner: W, color: bool) -> Self {
        Terminal { inner, color }
    }

    /// What `write!` and `writeln!` call: the formatted text, escaped.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        let mut adapter = Escaping {
            inner: &mut self.inner,
            error: None,
        };
        match fmt::write(&mut adapter, args) {
            Ok(()) => Ok(()),
            Err(_) => Err(adapter.error.unwrap_or_else(|| io::Error::other("formatting failed"))),
        }
    }

    /// `text`, escaped, in the colour `sgr` when colours are on.
    pub fn paint(&mut self, sgr: Sgr, text: impl fmt::Display) -> io::Result<()> {
        if self.color {
            write!(self.inner, "\x1b[{sgr}m")?;
            self.write_fmt(format_args!("{text}"))?;
            self.inner.write_all(b"\x1b[0m")
        } else {
            self.write_fmt(format_args!("{text}"))
        }
    }

    /// Whether [`Terminal::paint`] colours.
    pub fn color(&self) -> bool {
        self.color
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

/// Formats into an [`io::Write`], escaping as it goes; keeps the I/O error, which
/// `fmt::Error` cannot carry.
struct Escaping<'a, W: io::Write> {
    inner: &'a mut W,
    error: Option<io::Error>,
}

impl<W: io::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        struct Raw<'b, W: io::Write>(&'b mut W, &'b mut Option<io::Error>);
        impl<W: io::Write> fmt::Write for Raw<'_, W> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0.write_all(s.as_bytes()).map_err(|e| {
                    *self.1 = Some(e);
                    fmt::Error
                })
            }
        }
        write_escaped(&mut Raw(self.inner, &mut self.error), text, true)
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
        assert_eq!(
            escape_keeping_layout("a\tb\nc\rd\u{202e}e\u{2028}f"),
            "a\tb\nc\\u{d}d\\u{202e}e\\u{2028}f"
        );
        assert!(matches!(escape_keeping_layout("Données 🙂\n\t“AI”"), Cow::Borrowed(_)));
        assert_eq!(first_unprintable("ok\u{7}"), Some('\u{7}'));
        assert_eq!(
            escape("a\u{2028}b\u{2029}c\u{61c}d\u{200f}e\u{2066}f"),
            "a\\u{2028}b\\u{2029}c\\u{61c}d\\u{200f}e\\u{2066}f"
        );
    }

    fn terminal_output(color: bool, write: impl FnOnce(&mut Terminal<Vec<u8>>) -> io::Result<()>) -> String {
        let mut out = Terminal::new(Vec::new(), color);
        write(&mut out).unwrap();
        String::from_utf8(out.into_inner()).unwrap()
    }

    #[test]
    fn a_terminal_escapes_everything_but_its_own_line_feeds_tabs_and_colours() {
        let hostile =
            "\u{1b}]8;;https://evil.example/\u{1b}\\HERE\u{1b}]8;;\u{1b}\\ \u{1b}[2K\rX \u{202e}gnp.exe\u{85}";
        let printed = terminal_output(false, |out| writeln!(out, "a\t{hostile}"));
        assert_eq!(
            printed,
            "a\t\\u{1b}]8;;https://evil.example/\\u{1b}\\HERE\\u{1b}]8;;\\u{1b}\\ \\u{1b}[2K\\u{d}X \\u{202e}gnp.exe\\u{85}\n"
        );
        let painted = terminal_output(true, |out| out.paint("31", "- \u{1b}[0m"));
        assert_eq!(painted, "\u{1b}[31m- \\u{1b}[0m\u{1b}[0m");
        assert_eq!(terminal_output(false, |out| out.paint("31", "- x")), "- x");
    }
}
