//! A version's canonical text as HTML, each sentence marked with its age from blame.
//!
//! The text is the Markdown subset of docs/architecture.md#canonical-text, one sentence per line, so each line
//! maps to one element: headings, paragraphs (consecutive sentences), list items with
//! their own markers (numbering is the document's, so it is shown as written), and
//! table rows. Every sentence carries a tooltip with the date it appeared; sentences
//! that arrived after the first record are shaded by age and show that date as a link
//! to the version that introduced them.

use maud::{Markup, html};

use crate::report::blame::BlameLine;
use crate::report::html::SiteLinks;

/// What the text needs to know about the document it belongs to.
pub struct TextContext<'a> {
    pub service: &'a str,
    pub document: &'a str,
    /// The commit of the document's first version: its sentences are not "new".
    pub first_commit: &'a str,
    pub links: &'a dyn SiteLinks,
}

/// Age classes, newest first: the CSS shades them from strong to none.
fn age_class(age_days: i64) -> &'static str {
    match age_days {
        ..=30 => "age-month",
        31..=365 => "age-year",
        _ => "age-old",
    }
}

/// How a line of canonical text is laid out.
enum Line<'a> {
    Blank,
    Heading {
        level: usize,
        text: &'a str,
    },
    Item {
        depth: usize,
        marker: &'a str,
        text: &'a str,
    },
    /// An indented line without a marker: a later sentence of the list item above.
    Continuation(&'a str),
    Row(Vec<String>),
    Sentence(&'a str),
}

fn classify(line: &str) -> Line<'_> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Line::Blank;
    }
    if let Some(rest) = trimmed.strip_prefix('#') {
        let hashes = 1 + rest.len() - rest.trim_start_matches('#').len();
        if let Some(text) = trimmed[hashes..].strip_prefix(' ') {
            return Line::Heading { level: hashes, text };
        }
    }
    if trimmed.len() >= 2 && trimmed.starts_with('|') && trimmed.ends_with('|') {
        return Line::Row(cells(trimmed));
    }
    let indent = line.len() - line.trim_start().len();
    let depth = indent / 2 + 1;
    if let Some(text) = trimmed.strip_prefix("- ") {
        return Line::Item {
            depth,
            marker: "•",
            text,
        };
    }
    if let Some((number, text)) = trimmed.split_once(". ")
        && !number.is_empty()
        && number.len() <= 9
        && number.bytes().all(|b| b.is_ascii_digit())
    {
        return Line::Item {
            depth,
            marker: &trimmed[..number.len() + 1],
            text,
        };
    }
    if indent > 0 {
        Line::Continuation(trimmed)
    } else {
        Line::Sentence(trimmed)
    }
}

/// The cells of `| a | b\| c |`: split at unescaped bars, `\|` read back as `|`.
fn cells(row: &str) -> Vec<String> {
    let inner = &row[1..row.len() - 1];
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cells.last_mut().expect("one cell at least").push('|');
            }
            '|' => cells.push(String::new()),
            _ => cells.last_mut().expect("one cell at least").push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

fn is_separator(cells: &[String]) -> bool {
    !cells.is_empty()
        && cells
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
}

type Origin<'b> = Option<&'b BlameLine>;

/// Sentences, each with the blame line it comes from.
type Sentences<'a, 'b> = Vec<(&'a str, Origin<'b>)>;

/// A block of the text, with the blame line of each of its sentences.
enum Block<'a, 'b> {
    Heading {
        level: usize,
        text: &'a str,
        origin: Origin<'b>,
    },
    Paragraph(Sentences<'a, 'b>),
    /// List items: depth, marker, and the item's sentences.
    List(Vec<(usize, &'a str, Sentences<'a, 'b>)>),
    /// Rows; the second row, when it is a separator, makes the first a header.
    Table(Vec<(Vec<String>, Origin<'b>)>),
}

/// Groups the lines of `text` into blocks, each line with its blame line.
fn blocks<'a, 'b>(text: &'a str, blame: &'b [BlameLine]) -> Vec<Block<'a, 'b>> {
    let line_count = text.lines().count();
    let mut origin_of: Vec<Option<usize>> = vec![None; line_count + 1];
    for (i, line) in blame.iter().enumerate() {
        if let Some(slot) = origin_of.get_mut(line.line) {
            *slot = Some(i);
        }
    }
    let mut out: Vec<Block> = Vec::new();
    // Whether the last block is still open: a blank line or a heading closes it.
    let mut open = false;
    for (index, line) in text.lines().enumerate() {
        let origin = origin_of[index + 1].map(|i| &blame[i]);
        let last = if open { out.last_mut() } else { None };
        match (classify(line), last) {
            (Line::Blank, _) => open = false,
            (Line::Heading { level, text }, _) => {
                out.push(Block::Heading { level, text, origin });
                open = false;
            }
            (Line::Item { depth, marker, text }, Some(Block::List(items))) => {
                items.push((depth, marker, vec![(text, origin)]));
            }
            (Line::Item { depth, marker, text }, _) => {
                out.push(Block::List(vec![(depth, marker, vec![(text, origin)])]));
                open = true;
            }
            // Continuations only continue a list; elsewhere they are plain sentences.
            (Line::Continuation(text), Some(Block::List(items))) => {
                if let Some((_, _, sentences)) = items.last_mut() {
                    sentences.push((text, origin));
                }
            }
            (Line::Row(cells), Some(Block::Table(rows))) => rows.push((cells, origin)),
            (Line::Row(cells), _) => {
                out.push(Block::Table(vec![(cells, origin)]));
                open = true;
            }
            (Line::Sentence(text) | Line::Continuation(text), Some(Block::Paragraph(sentences))) => {
                sentences.push((text, origin));
            }
            (Line::Sentence(text) | Line::Continuation(text), _) => {
                out.push(Block::Paragraph(vec![(text, origin)]));
                open = true;
            }
        }
    }
    out
}

/// Renders `text` with the ages of its lines; `blame` holds its non-blank lines.
pub fn render(text: &str, blame: &[BlameLine], context: &TextContext) -> Markup {
    html! {
        div.text {
            "\n"
            @for block in blocks(text, blame) {
                (render_block(&block, context))
            }
        } "\n"
    }
}

fn render_block(block: &Block, context: &TextContext) -> Markup {
    match block {
        // The page has its h1 and the "Current text" h2; the text's headings sit below.
        Block::Heading { level, text, origin } => {
            let sentence = sentence(text, *origin, context);
            html! {
                @match level + 2 {
                    ..=3 => { h3 { (sentence) } }
                    4 => { h4 { (sentence) } }
                    5 => { h5 { (sentence) } }
                    _ => { h6 { (sentence) } }
                }
                "\n"
            }
        }
        Block::Paragraph(sentences) => html! {
            p {
                @for (i, (text, origin)) in sentences.iter().enumerate() {
                    @if i > 0 { "\n" }
                    (sentence(text, *origin, context))
                }
            } "\n"
        },
        Block::List(items) => html! {
            ul.items {
                "\n"
                @for (depth, marker, sentences) in items {
                    li class={ "depth-" ((*depth).min(6)) } {
                        span.marker { (marker) }
                        @for (text, origin) in sentences {
                            " " (sentence(text, *origin, context))
                        }
                    } "\n"
                }
            } "\n"
        },
        Block::Table(rows) => table(rows, context),
    }
}

fn table(rows: &[(Vec<String>, Origin)], context: &TextContext) -> Markup {
    let header = rows.get(1).is_some_and(|(cells, _)| is_separator(cells));
    let width = rows.iter().map(|(cells, _)| cells.len()).max().unwrap_or(0);
    let cell = |head: bool, text: &str, since: Markup| {
        html! {
            @if head { th { (text) (since) } } @else { td { (text) (since) } }
        }
    };
    html! {
        div.table {
            table {
                "\n"
                @for (i, (cells, origin)) in rows.iter().enumerate() {
                    @if !(header && i == 1) {
                        @let (class, title) = age(*origin, context);
                        tr class=(class) title=(title) {
                            @for column in 0..width {
                                @let text = cells.get(column).map_or("", String::as_str);
                                @let since = if column + 1 == width { since_link(*origin, context) } else { html! {} };
                                (cell(header && i == 0, text, since))
                            }
                        } "\n"
                    }
                }
            }
        } "\n"
    }
}

/// A sentence's shading class and tooltip.
fn age(origin: Origin, context: &TextContext) -> (String, String) {
    let Some(origin) = origin else {
        return ("s".to_string(), String::new());
    };
    let date = origin.date.format("%Y-%m-%d");
    if origin.commit == context.first_commit {
        return (
            "s".to_string(),
            format!("since {date}, the first record ({})", days(origin.age_days)),
        );
    }
    (
        format!("s new {}", age_class(origin.age_days)),
        format!("since {date} ({})", days(origin.age_days)),
    )
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

/// For a sentence newer than the first record: its date, linking to its version.
fn since_link(origin: Origin, context: &TextContext) -> Markup {
    html! {
        @if let Some(origin) = origin.filter(|o| o.commit != context.first_commit) {
            " "
            a.since href=(context.links.version(context.service, context.document, &origin.commit)) {
                (origin.date.format("%Y-%m-%d"))
            }
        }
    }
}

fn sentence(text: &str, origin: Origin, context: &TextContext) -> Markup {
    let (class, title) = age(origin, context);
    html! {
        span class=(class) title=(title) { (text) }
        (since_link(origin, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::Href;

    struct Links;
    impl SiteLinks for Links {
        fn document(&self, service: &str, document: &str) -> Href {
            Href::relative(format!("{service}/{document}"))
        }
        fn version(&self, _: &str, _: &str, commit: &str) -> Href {
            Href::relative(format!("{}.html", &commit[..4]))
        }
        fn provision(&self, id: &str) -> Href {
            Href::relative(id.to_string())
        }
    }

    fn line(line: usize, text: &str, commit: &str, date: &str, age_days: i64) -> BlameLine {
        BlameLine {
            line,
            text: text.to_string(),
            commit: commit.to_string(),
            date: date.parse().unwrap(),
            since_first_record: false,
            age_days,
            absences: Vec::new(),
        }
    }

    #[test]
    fn lines_become_headings_paragraphs_items_and_tables_with_ages() {
        let text = "# Privacy & you\n\nWe collect <data>.\nWe keep it.\n\n- One thing.\n  And more.\n3. Third.\n\n| a | b\\|c |\n| --- | --- |\n| 1 | 2 |\n";
        let (old, new) = ("a".repeat(40), "b".repeat(40));
        let first = "2026-01-01T00:00:00Z";
        let blame: Vec<BlameLine> = [
            (1, "# Privacy & you", &old),
            (3, "We collect <data>.", &old),
            (4, "We keep it.", &new),
            (6, "- One thing.", &old),
            (7, "  And more.", &old),
            (8, "3. Third.", &old),
            (10, "| a | b\\|c |", &old),
            (11, "| --- | --- |", &old),
            (12, "| 1 | 2 |", &new),
        ]
        .into_iter()
        .map(|(n, t, c)| {
            let (date, age) = if *c == old {
                (first, 60)
            } else {
                ("2026-02-20T00:00:00Z", 10)
            };
            line(n, t, c, date, age)
        })
        .collect();
        let context = TextContext {
            service: "acme",
            document: "privacy-policy",
            first_commit: &old,
            links: &Links,
        };
        let html = render(text, &blame, &context).into_string();
        assert!(html.contains("<h3><span class=\"s\" title=\"since 2026-01-01, the first record (60 days)\">Privacy &amp; you</span></h3>"), "{html}");
        assert!(html.contains("<p><span class=\"s\" title=\"since 2026-01-01, the first record (60 days)\">We collect &lt;data&gt;.</span>\n<span class=\"s new age-month\" title=\"since 2026-02-20 (10 days)\">We keep it.</span> <a class=\"since\" href=\"bbbb.html\">2026-02-20</a></p>"), "{html}");
        assert!(html.contains("<li class=\"depth-1\"><span class=\"marker\">•</span> <span class=\"s\" title=\"since 2026-01-01, the first record (60 days)\">One thing.</span> <span class=\"s\""), "{html}");
        assert!(html.contains("<span class=\"marker\">3.</span>"), "{html}");
        assert!(html.contains("<th>a</th><th>b|c</th></tr>"), "{html}");
        assert!(html.contains("<tr class=\"s new age-month\" title=\"since 2026-02-20 (10 days)\"><td>1</td><td>2 <a class=\"since\" href=\"bbbb.html\">2026-02-20</a></td></tr>"), "{html}");
        assert!(!html.contains("---"), "the separator row is not content: {html}");
        assert_eq!(html.matches("<ul").count(), html.matches("</ul>").count());
        assert_eq!(html.matches("<li").count(), html.matches("</li>").count());
    }

    #[test]
    fn ages_fall_into_classes() {
        assert_eq!(age_class(0), "age-month");
        assert_eq!(age_class(31), "age-year");
        assert_eq!(age_class(366), "age-old");
    }
}
