//! Atom feeds (RFC 4287): one entry per change, with stable ids, so a feed reader shows
//! each change once.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use maud::{Markup, html};

use super::html::Href;
use super::model::{Change, ChangedSentence, Sentence};
use super::words::WordPiece;

/// A feed of `changes` (newest first). `id` is the feed's stable identity (a tag URI).
pub fn render(title: &str, id: &str, updated: DateTime<Utc>, changes: &[&Change]) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(out, "  <title>{}</title>", xml(title));
    let _ = writeln!(out, "  <id>{}</id>", xml(id));
    let newest = changes.iter().map(|c| c.date).max().unwrap_or(updated);
    let _ = writeln!(out, "  <updated>{}</updated>", rfc3339(newest));
    let _ = writeln!(out, "  <author><name>clausewatch</name></author>");
    let _ = writeln!(
        out,
        "  <generator uri=\"https://github.com/clausewatch/clausewatch\">clausewatch</generator>"
    );
    for change in changes {
        out.push_str("  <entry>\n");
        let _ = writeln!(out, "    <title>{}</title>", xml(&change.summary));
        let _ = writeln!(out, "    <id>tag:clausewatch,2026:{}</id>", change.commit);
        let _ = writeln!(out, "    <updated>{}</updated>", rfc3339(change.date));
        // A web address only: feed readers open this link.
        let link = change
            .commit_url
            .as_deref()
            .and_then(Href::web)
            .or_else(|| change.source_urls.iter().find_map(|u| Href::web(u)));
        if let Some(url) = link {
            let _ = writeln!(out, "    <link rel=\"alternate\" href=\"{}\"/>", xml(url.as_str()));
        }
        let _ = writeln!(
            out,
            "    <category term=\"{}/{}\"/>",
            xml(&change.service),
            xml(&change.document)
        );
        for provision in &change.provisions {
            let _ = writeln!(out, "    <category term=\"{}\" scheme=\"provision\"/>", xml(provision));
        }
        let _ = writeln!(out, "    <summary>{}</summary>", xml(&change.summary));
        let _ = writeln!(out, "    <content type=\"html\">{}</content>", xml(&content(change)));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The entry's HTML (escaped again as the element's XML text): the sentences added,
/// removed, changed and moved.
fn content(change: &Change) -> String {
    let list = |title: &str, items: &[Sentence]| {
        html! {
            @if !items.is_empty() {
                p { strong { (title) } }
                ul { @for s in items { li { (s.text) } } }
            }
        }
    };
    let html = html! {
        (super::html::provisions_changed(&change.provisions_changed))
        (list(super::model::added_title(change.change), &change.added))
        (list("Removed", &change.removed))
        @if !change.changed.is_empty() {
            p { strong { "Changed" } }
            ul { @for c in &change.changed { li { (changed(c)) } } }
        }
        (list("Moved", &change.moved))
        @if change.other_sentence_changes > 0 {
            p { (super::markdown::folded(change)) }
        }
    };
    if html.0.is_empty() {
        return html! { p { (change.summary) } }.into_string();
    }
    html.into_string()
}

fn changed(sentence: &ChangedSentence) -> Markup {
    html! {
        @for piece in &sentence.words {
            @match piece {
                WordPiece::Same(t) => { (t) }
                WordPiece::Removed(t) => { del { (t) } }
                WordPiece::Added(t) => { ins { (t) } }
            }
        }
    }
}

/// Escapes text for XML content and attributes. XML 1.0 forbids most control
/// characters: they are dropped rather than breaking the feed. The other characters
/// that are unprintable on a terminal (bidirectional controls, U+2028/U+2029, DEL, C1,
/// carriage returns) are shown as `\u{202e}` escapes, so a feed reader cannot be made to
/// reorder a quoted sentence; every text of a feed, and its HTML content, passes here.
pub fn xml(text: &str) -> String {
    let allowed: String = text
        .chars()
        // XML 1.0 allows neither C0 controls (but tab and line ends) nor U+FFFE/U+FFFF,
        // which texts recorded before the canonicalizer dropped them may hold.
        .filter(|c| (*c >= ' ' || matches!(c, '\t' | '\n' | '\r')) && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        .collect();
    let visible = crate::printable::escape_keeping_layout(&allowed);
    let mut out = String::with_capacity(visible.len());
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_outside_xml_1_0_is_dropped() {
        assert_eq!(super::xml("a\u{1}b\u{FFFE}c\u{FFFF}d <e>\tf"), "abcd &lt;e&gt;\tf");
    }

    #[test]
    fn bidirectional_controls_and_line_separators_are_shown_escaped() {
        assert_eq!(
            super::xml("rename \u{202e}gnp.exe\u{2028}\u{200f}x\r\n"),
            "rename \\u{202e}gnp.exe\\u{2028}\\u{200f}x\\u{d}\n"
        );
        assert_eq!(super::xml("Données — “AI” 🙂 & co"), "Données — “AI” 🙂 &amp; co");
    }
}
