//! Reports as Markdown, for a GitHub issue, a job summary, an e-mail or an article: the
//! sections of the HTML report (document, change, then Added / Removed / Changed /
//! Moved), each sentence under its section heading, and policy text escaped so that it
//! reads as text in any CommonMark renderer.

use std::fmt::Write as _;

use super::html::{Href, plural};
use super::model::{Change, Report, Sentence};
use super::words::WordPiece;
use crate::archive::ChangeKind;
use crate::printable::{Printable, is_unprintable};

/// Renders a report: a heading, then per document its changes with their sentences.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Policy changes, {} to {}\n",
        report.since.format("%Y-%m-%d"),
        report.last_day()
    );
    if report.documents.is_empty() {
        out.push_str("No substantive changes in this period.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{} in {}.\n",
        plural(report.change_count(), "change"),
        plural(report.documents.len(), "document")
    );
    for document in &report.documents {
        let _ = writeln!(out, "## {}/{}\n", escape(&document.service), escape(&document.document));
        for change in &document.changes {
            render_change(&mut out, change);
        }
    }
    out
}

/// What a provision filter left out: "and 12 other sentence changes."
pub fn folded(change: &Change) -> String {
    let n = change.other_sentence_changes;
    if change.sentence_change_count() == 0 {
        format!("{}, none that states the provision.", plural(n, "sentence change"))
    } else {
        format!("and {}.", plural(n, "other sentence change"))
    }
}

fn render_change(out: &mut String, change: &Change) {
    let commit = &change.commit[..change.commit.len().min(12)];
    let commit = match change.commit_url.as_deref().and_then(Href::web) {
        Some(url) => format!("[`{commit}`]({})", destination(&url)),
        None => format!("`{commit}`"),
    };
    let _ = writeln!(
        out,
        "### {} — {}\n",
        change.date.format("%Y-%m-%d"),
        escape(&change.summary)
    );
    // A first record is not a change: recording began there.
    match change.change {
        ChangeKind::First => {
            let _ = write!(out, "first record, commit {commit}");
        }
        kind => {
            let _ = write!(out, "{kind} change, commit {commit}");
        }
    }
    for url in &change.source_urls {
        match Href::web(url) {
            Some(href) => {
                let _ = write!(out, ", [source]({})", destination(&href));
            }
            None => {
                let _ = write!(out, ", source {}", escape(url));
            }
        }
    }
    if let Some(declared) = change.declared_date {
        let _ = write!(out, ", declared date {declared}");
        if let Some(previous) = change.previous_declared_date.filter(|p| *p != declared) {
            let _ = write!(out, " (was {previous})");
        }
    }
    out.push_str("\n\n");
    if !change.provisions.is_empty() {
        let ids: Vec<String> = change.provisions.iter().map(|p| escape(p)).collect();
        let _ = writeln!(out, "Provisions: {}\n", ids.join(", "));
    }
    if !change.provisions_changed.is_empty() {
        out.push_str("Provisions changed:\n\n");
        for shift in &change.provisions_changed {
            let flipped = if shift.flipped() { " **(stance flipped)**" } else { "" };
            let _ = writeln!(out, "- {}{flipped}", escape(&shift.to_string()));
        }
        out.push('\n');
    }
    for flag in &change.flags {
        let _ = writeln!(out, "> **Note:** {}.\n", flag.describe());
    }
    let mut list = |title: &str, items: Vec<Item>| {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(out, "#### {title}\n");
        for (heading, provisions, text) in items {
            out.push_str("- ");
            if let Some(heading) = heading {
                let _ = write!(out, "*{}:* ", escape(heading.trim()));
            }
            if !provisions.is_empty() {
                let ids: Vec<String> = provisions
                    .iter()
                    .map(|p| format!("`{}`", Printable(&p.replace('`', "'"))))
                    .collect();
                let _ = write!(out, "(provision {}) ", ids.join(", "));
            }
            let _ = writeln!(out, "{text}");
        }
        out.push('\n');
    };
    list(super::model::added_title(change.change), sentences(&change.added));
    list("Removed", sentences(&change.removed));
    list(
        "Changed",
        change
            .changed
            .iter()
            .map(|c| {
                // A heading line of the text is its own section: say so, as for whole sentences.
                let text = changed_words(&c.words);
                if is_heading_line(&c.old) && is_heading_line(&c.new) {
                    (None, c.provisions.as_slice(), format!("*(heading)* {text}"))
                } else {
                    (c.heading.as_deref(), c.provisions.as_slice(), text)
                }
            })
            .collect(),
    );
    list("Moved", sentences(&change.moved));
    if change.other_sentence_changes > 0 {
        let _ = writeln!(out, "{}\n", folded(change));
    }
}

/// Whole sentences as list items: section heading, provisions, text.
fn sentences(items: &[Sentence]) -> Vec<Item<'_>> {
    items
        .iter()
        .map(|s| {
            let (heading, text) = sentence(s.heading.as_deref(), &s.text);
            (heading, s.provisions.as_slice(), text)
        })
        .collect()
}

/// A list item: the section heading to show, the provisions, the text (Markdown).
type Item<'a> = (Option<&'a str>, &'a [String], String);

/// A link destination in angle brackets, so spaces and parentheses in a URL cannot end it.
fn destination(url: &Href) -> String {
    let mut out = String::from("<");
    for c in url.as_str().chars() {
        match c {
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            ' ' => out.push_str("%20"),
            c if is_unprintable(c) => {
                let mut bytes = [0; 4];
                for byte in c.encode_utf8(&mut bytes).bytes() {
                    let _ = write!(out, "%{byte:02X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('>');
    out
}

/// `## Title`: a heading line of the canonical text.
fn is_heading_line(text: &str) -> bool {
    let trimmed = text.trim_start();
    let hashes = trimmed.len() - trimmed.trim_start_matches('#').len();
    hashes > 0 && trimmed[hashes..].starts_with(' ')
}

/// A whole sentence as a list item's text, with the section heading to show before it.
/// A line of the canonical text that is itself a heading says so instead (its section is
/// itself); a list item's own marker goes, since the report's list has one.
fn sentence<'a>(heading: Option<&'a str>, text: &str) -> (Option<&'a str>, String) {
    let trimmed = text.trim();
    let hashes = trimmed.len() - trimmed.trim_start_matches('#').len();
    if hashes > 0
        && let Some(title) = trimmed[hashes..].strip_prefix(' ')
    {
        return (None, format!("*(heading)* {}", escape_start(&escape(title.trim()))));
    }
    let text = trimmed
        .strip_prefix("- ")
        .or_else(|| trimmed.strip_prefix("* "))
        .or_else(|| trimmed.strip_prefix("+ "))
        .unwrap_or(trimmed);
    (heading, escape_start(&escape(text)))
}

/// Escapes what would make the start of a list item's text a block of its own: a
/// nested bullet (`- `, `+ `), a numbered item (`3. `), a quote or a heading.
fn escape_start(text: &str) -> String {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && digits <= 9 && matches!(text[digits..].chars().next(), Some('.' | ')')) {
        return format!("{}\\{}", &text[..digits], &text[digits..]);
    }
    if text.starts_with(['-', '+', '=']) {
        return format!("\\{text}");
    }
    text.to_string()
}

/// A changed sentence as a list item's text: a list marker both forms share goes, as for
/// whole sentences.
fn changed_words(pieces: &[WordPiece]) -> String {
    let marker = match pieces.first() {
        Some(WordPiece::Same(t)) => {
            let start = t.len() - t.trim_start().len();
            let hashes = t[start..].len() - t[start..].trim_start_matches('#').len();
            if hashes > 0 && t[start + hashes..].starts_with(' ') {
                Some(start + hashes + 1)
            } else {
                ["- ", "* ", "+ "]
                    .iter()
                    .find(|m| t[start..].starts_with(*m))
                    .map(|m| start + m.len())
            }
        }
        _ => None,
    };
    match marker {
        Some(skip) => {
            let mut pieces = pieces.to_vec();
            if let Some(WordPiece::Same(t)) = pieces.first_mut() {
                t.drain(..skip);
            }
            escape_start(&words(&pieces))
        }
        None => escape_start(&words(pieces)),
    }
}

/// A changed sentence with deletions struck through and insertions in bold. Spaces at
/// the edges of an edit stay outside its markers (`~~ x~~` would not be struck), and a
/// space separates a deletion from the word that replaces it.
fn words(pieces: &[WordPiece]) -> String {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        let (marker, text) = match piece {
            WordPiece::Same(t) => {
                out.push_str(&escape(t));
                continue;
            }
            WordPiece::Removed(t) => ("~~", t),
            WordPiece::Added(t) => ("**", t),
        };
        // Whitespace is policy text too: a carriage return or U+2028 is escaped like the rest.
        let core = text.trim();
        if core.is_empty() {
            out.push_str(&escape(text));
            continue;
        }
        let lead = &text[..text.len() - text.trim_start().len()];
        let trail = &text[text.trim_end().len()..];
        out.push_str(&escape(lead));
        let core = escape(core);
        let before = out.chars().last();
        let after = match pieces.get(i + 1) {
            Some(WordPiece::Same(t) | WordPiece::Removed(t) | WordPiece::Added(t)) if trail.is_empty() => {
                t.chars().next()
            }
            _ => None,
        };
        // A delimiter run only opens after a space or punctuation when the text it
        // opens starts with punctuation (CommonMark's flanking rules), and likewise for
        // closing: where a word touches it, a space keeps the marker working.
        if starts_with_punctuation(&core) && before.is_some_and(char::is_alphanumeric) {
            out.push(' ');
        }
        let _ = write!(out, "{marker}{core}{marker}");
        if ends_with_punctuation(&core) && after.is_some_and(char::is_alphanumeric) {
            out.push(' ');
        }
        out.push_str(&escape(trail));
        let replaced = matches!(piece, WordPiece::Removed(_))
            && matches!(pieces.get(i + 1), Some(WordPiece::Added(t)) if t.trim_start() == t
                && t.chars().next().is_some_and(char::is_alphanumeric));
        if replaced && trail.is_empty() {
            out.push(' ');
        }
    }
    out
}

fn starts_with_punctuation(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_punctuation() || (!c.is_alphanumeric() && !c.is_whitespace()))
}

fn ends_with_punctuation(text: &str) -> bool {
    text.chars()
        .last()
        .is_some_and(|c| c.is_ascii_punctuation() || (!c.is_alphanumeric() && !c.is_whitespace()))
}

/// Escapes what Markdown would read as markup in policy text: emphasis, code, links,
/// HTML, tables and character references; and, as on a terminal, control characters,
/// bidirectional controls and line breaks (a tab stays), shown as `\u{1b}` (written
/// `\\u{1b}`, so that no renderer reads the backslash as an escape).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            // `&amp;` would show as `&`: a reference is escaped, a lone `&` left alone.
            '&' if is_reference(&text[i..]) => out.push_str("\\&"),
            '\t' => out.push(c),
            c if is_unprintable(c) => {
                let _ = write!(out, "\\{}", Printable(&text[i..i + c.len_utf8()]));
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether `text` starts with a character reference: `&name;`, `&#123;` or `&#x1F;`.
fn is_reference(text: &str) -> bool {
    let Some(end) = text.find(';') else {
        return false;
    };
    let body = &text[1..end];
    !body.is_empty()
        && body.len() <= 32
        && body
            .strip_prefix('#')
            .map_or(body.chars().all(|c| c.is_ascii_alphanumeric()), |n| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric())
            })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    use super::*;
    use crate::archive::ChangeKind;
    use crate::report::Counts;
    use crate::report::model::{ChangedSentence, DocumentChanges};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn sentence(position: usize, text: &str, heading: Option<&str>) -> Sentence {
        Sentence {
            position,
            text: text.into(),
            heading: heading.map(Into::into),
            provisions: vec![],
        }
    }

    fn change() -> Change {
        Change {
            reverts_to: None,
            service: "acme".into(),
            document: "privacy-policy".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            commit_url: Some("https://github.com/o/r/commit/0123456789abcdef0123456789abcdef01234567".into()),
            date: at("2026-03-20T09:30:00Z"),
            change: ChangeKind::Substantive,
            summary: "Acme Privacy Policy: 1 sentence added, 1 changed".into(),
            source_urls: vec!["https://acme.example/privacy (EU)".into()],
            counts: Counts::default(),
            provisions: vec!["ai-training".into()],
            provisions_changed: vec![],
            declared_date: None,
            previous_declared_date: None,
            flags: vec![],
            added: vec![
                sentence(0, "## Your *content*", Some("Your *content*")),
                sentence(
                    1,
                    "- We may use your content to train our AI models.",
                    Some("Your *content*"),
                ),
                sentence(2, "2. We keep <data> & more for 30 days.", Some("Your *content*")),
            ],
            removed: vec![],
            changed: vec![ChangedSentence {
                position: 3,
                old: "We share connections on the Platform, with partners.".into(),
                new: "We share connections, including messages, with partners.".into(),
                words: vec![
                    WordPiece::Same("We share connections".into()),
                    WordPiece::Removed(" on the Platform".into()),
                    WordPiece::Added(", including messages".into()),
                    WordPiece::Same(", with partners.".into()),
                ],
                heading: Some("Sharing".into()),
                provisions: vec![],
            }],
            moved: vec![],
            other_sentence_changes: 0,
        }
    }

    fn report(changes: Vec<Change>) -> Report {
        Report {
            schema: 1,
            generated_at: at("2026-04-01T06:00:00Z"),
            since: at("2026-03-01T00:00:00Z"),
            until: at("2026-04-01T00:00:00Z"),
            documents: vec![DocumentChanges {
                service: "acme".into(),
                document: "privacy-policy".into(),
                changes,
            }],
        }
    }

    /// The text of each run a renderer shows struck through or in bold, and all the text.
    fn read(markdown: &str) -> (Vec<String>, Vec<String>, String) {
        let (mut struck, mut strong, mut all) = (Vec::new(), Vec::new(), String::new());
        let (mut in_struck, mut in_strong) = (false, false);
        for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
            match event {
                Event::Start(Tag::Strikethrough) => {
                    in_struck = true;
                    struck.push(String::new());
                }
                Event::End(TagEnd::Strikethrough) => in_struck = false,
                Event::Start(Tag::Strong) => {
                    in_strong = true;
                    strong.push(String::new());
                }
                Event::End(TagEnd::Strong) => in_strong = false,
                Event::Text(t) | Event::Code(t) => {
                    all.push_str(&t);
                    if in_struck {
                        struck.last_mut().unwrap().push_str(&t);
                    }
                    if in_strong {
                        strong.last_mut().unwrap().push_str(&t);
                    }
                }
                Event::Html(_) | Event::InlineHtml(_) => panic!("HTML in {markdown}"),
                Event::SoftBreak | Event::HardBreak | Event::End(_) => all.push('\n'),
                _ => {}
            }
        }
        (struck, strong, all)
    }

    #[test]
    fn a_small_report_reads_as_the_html_does() {
        let markdown = render(&report(vec![change()]));
        assert_eq!(
            markdown,
            "# Policy changes, 2026-03-01 to 2026-03-31\n\
             \n\
             1 change in 1 document.\n\
             \n\
             ## acme/privacy-policy\n\
             \n\
             ### 2026-03-20 — Acme Privacy Policy: 1 sentence added, 1 changed\n\
             \n\
             substantive change, commit [`0123456789ab`](<https://github.com/o/r/commit/0123456789abcdef0123456789abcdef01234567>), \
             [source](<https://acme.example/privacy%20(EU)>)\n\
             \n\
             Provisions: ai-training\n\
             \n\
             #### Added\n\
             \n\
             - *(heading)* Your \\*content\\*\n\
             - *Your \\*content\\*:* We may use your content to train our AI models.\n\
             - *Your \\*content\\*:* 2\\. We keep \\<data\\> & more for 30 days.\n\
             \n\
             #### Changed\n\
             \n\
             - *Sharing:* We share connections ~~on the Platform~~**, including messages**, with partners.\n\
             \n"
        );
        // Read back by a CommonMark parser: three items, no nested list, no heading
        // inside an item, the sentences' words as they are.
        let parser = Parser::new_ext(&markdown, Options::ENABLE_STRIKETHROUGH);
        let items = parser.filter(|e| matches!(e, Event::Start(Tag::Item))).count();
        assert_eq!(items, 4);
        let (struck, strong, all) = read(&markdown);
        assert_eq!(struck, ["on the Platform"]);
        assert_eq!(strong, [", including messages"]);
        assert!(all.contains("2. We keep <data> & more for 30 days."), "{all}");
        assert!(all.contains("Your *content*"), "{all}");
    }

    #[test]
    fn plurals_follow_the_counts() {
        let mut second = change();
        second.commit = "f".repeat(40);
        let markdown = render(&report(vec![change(), second]));
        assert!(markdown.contains("\n2 changes in 1 document.\n"), "{markdown}");
        let mut empty = report(vec![]);
        empty.documents.clear();
        assert!(render(&empty).contains("No substantive changes in this period."));
    }

    #[test]
    fn edits_keep_their_spaces_and_their_markers_work() {
        use WordPiece::{Added as A, Removed as R, Same as S};
        let s = |t: &str| t.to_string();
        let cases = [
            (
                vec![S(s("We keep data for ")), R(s("30")), A(s("90")), S(s(" days."))],
                "We keep data for ~~30~~ **90** days.",
            ),
            // The issue's example: the space before the deletion stays in the text.
            (
                vec![
                    S(s("connections")),
                    R(s(" on the Platform")),
                    A(s(", including")),
                    S(s(" with others")),
                ],
                "connections ~~on the Platform~~**, including** with others",
            ),
            // `**` cannot open between a letter and a comma: a space lets it.
            (
                vec![S(s("We collect data")), A(s(", and more")), S(s("."))],
                "We collect data **, and more**.",
            ),
            (
                vec![S(s("We sell ")), R(s("(some) ")), S(s("data."))],
                "We sell ~~(some)~~ data.",
            ),
            (
                vec![R(s("Our")), A(s("The")), S(s(" rules apply."))],
                "~~Our~~ **The** rules apply.",
            ),
        ];
        // A list item's marker, the same in both forms, is not a nested bullet.
        assert_eq!(
            changed_words(&[S(s("- Surveys")), A(s(", Research,")), S(s(" and Promotions."))]),
            "Surveys **, Research,** and Promotions."
        );
        assert_eq!(
            changed_words(&[S(s("3. We ")), R(s("sell")), A(s("share"))]),
            "3\\. We ~~sell~~ **share**"
        );
        assert_eq!(
            changed_words(&[S(s("## ")), R(s("Data")), A(s("Information")), S(s(" we collect"))]),
            "~~Data~~ **Information** we collect"
        );
        for (pieces, expected) in cases {
            let text = words(&pieces);
            assert_eq!(text, expected);
            // Each edit is read back struck or bold, exactly its words.
            let (struck, strong, _) = read(&text);
            let removed: Vec<String> = pieces
                .iter()
                .filter_map(|p| match p {
                    R(t) => Some(t.trim().to_string()),
                    _ => None,
                })
                .collect();
            let added: Vec<String> = pieces
                .iter()
                .filter_map(|p| match p {
                    A(t) => Some(t.trim().to_string()),
                    _ => None,
                })
                .collect();
            assert_eq!((struck, strong), (removed, added), "{text}");
        }
    }

    #[test]
    fn control_characters_bidi_controls_and_line_breaks_are_shown_escaped() {
        use WordPiece::{Added as A, Removed as R, Same as S};
        let s = |t: &str| t.to_string();
        assert_eq!(
            escape("a\u{1b}[31mb\rc\u{202e}d\u{2028}e\u{61c}f\u{85}g\th"),
            r"a\\u{1b}\[31mb\\u{d}c\\u{202e}d\\u{2028}e\\u{61c}f\\u{85}g".to_string() + "\th"
        );
        // Whitespace around an edit is policy text too: a carriage return there was kept raw.
        assert_eq!(
            words(&[S(s("We keep\r")), R(s("\u{2028}30\r")), A(s("90")), S(s(" \u{2029}"))]),
            r"We keep\\u{d}\\u{2028}~~30~~\\u{d}**90** \\u{2029}"
        );
    }

    #[test]
    fn a_provision_filter_folds_the_other_sentences_into_a_count() {
        let taxonomy = crate::provision::Taxonomy::builtin().unwrap();
        let mut big = change();
        big.added = (0..12)
            .map(|i| sentence(i, &format!("Clause {i} is about something else entirely."), None))
            .collect();
        big.added.push(sentence(
            12,
            "We may use your content to train our AI models.",
            Some("AI"),
        ));
        big.changed.clear();
        let mut report = report(vec![big]);
        report.focus_on_provisions(&taxonomy, &["ai-training".to_string()]);
        let markdown = render(&report);
        assert!(
            markdown.contains(
                "#### Added\n\n- *AI:* (provision `ai-training`) We may use your content to train our AI models.\n\n\
                 and 12 other sentence changes.\n"
            ),
            "{markdown}"
        );
        assert!(!markdown.contains("Clause 3"), "{markdown}");
        let html = crate::report::html::render(&report);
        assert!(
            html.contains(
                "<li class=\"provision\"><span class=\"section-label\">AI</span><span class=\"provision-label\">\
                 Provision: ai-training</span> We may use your content to train our AI models.</li>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<p class=\"muted folded\">and 12 other sentence changes.</p>"),
            "{html}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["documents"][0]["changes"][0]["other_sentence_changes"], 12);
        assert_eq!(
            json["documents"][0]["changes"][0]["added"][0]["provisions"][0],
            "ai-training"
        );
        // A change that does not touch the provision leaves the report.
        let mut other = report.clone();
        other.focus_on_provisions(&taxonomy, &["no-such-provision".to_string()]);
        assert!(other.documents.is_empty());
    }
}
