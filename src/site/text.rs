//! A version's canonical text as HTML, each sentence marked with its age from blame.
//!
//! The text is the Markdown subset of docs/architecture.md#canonical-text, one sentence per line, so each line
//! maps to one element: headings, paragraphs (consecutive sentences), list items with
//! their own markers (numbering is the document's, so it is shown as written), and
//! table rows. Every sentence carries a tooltip with the date it appeared; sentences
//! that arrived after the first record are shaded by age and show that date as a link
//! to the version that introduced them.

use std::fmt::Write as _;

use crate::report::blame::BlameLine;
use crate::report::html::{SiteLinks, escape};

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

/// The open block text is being added to. Tables are written when they end, once it is
/// known whether their second row makes the first a header.
enum Open<'b> {
    None,
    Paragraph,
    List,
    Table(Vec<(Vec<String>, Option<&'b BlameLine>)>),
}

/// Renders `text` with the ages of its lines; `blame` holds its non-blank lines.
pub fn render(text: &str, blame: &[BlameLine], context: &TextContext) -> String {
    let line_count = text.lines().count();
    let mut origin_of: Vec<Option<usize>> = vec![None; line_count + 1];
    for (i, line) in blame.iter().enumerate() {
        if let Some(slot) = origin_of.get_mut(line.line) {
            *slot = Some(i);
        }
    }
    let mut out = String::from("<div class=\"text\">\n");
    let mut open = Open::None;
    for (index, line) in text.lines().enumerate() {
        let origin = origin_of[index + 1].map(|i| &blame[i]);
        let kind = classify(line);
        // Continuations only continue a list; elsewhere they are plain sentences.
        let kind = match (kind, &open) {
            (Line::Continuation(t), Open::List) => Line::Continuation(t),
            (Line::Continuation(t), _) => Line::Sentence(t),
            (kind, _) => kind,
        };
        match kind {
            Line::Blank => close(&mut out, &mut open, context),
            Line::Heading { level, text } => {
                close(&mut out, &mut open, context);
                // The page has its h1 and the "Current text" h2; the text's headings sit below.
                let tag = format!("h{}", (level + 2).min(6));
                let _ = writeln!(out, "<{tag}>{}</{tag}>", sentence(text, origin, context));
            }
            Line::Item { depth, marker, text } => {
                match open {
                    Open::List => out.push_str("</li>\n"),
                    _ => {
                        close(&mut out, &mut open, context);
                        out.push_str("<ul class=\"items\">\n");
                        open = Open::List;
                    }
                }
                let _ = write!(
                    out,
                    "<li class=\"depth-{}\"><span class=\"marker\">{}</span> {}",
                    depth.min(6),
                    escape(marker),
                    sentence(text, origin, context)
                );
            }
            Line::Continuation(text) => {
                let _ = write!(out, " {}", sentence(text, origin, context));
            }
            Line::Row(cells) => {
                if !matches!(open, Open::Table(_)) {
                    close(&mut out, &mut open, context);
                    open = Open::Table(Vec::new());
                }
                if let Open::Table(rows) = &mut open {
                    rows.push((cells, origin));
                }
            }
            Line::Sentence(text) => {
                match open {
                    Open::Paragraph => out.push('\n'),
                    _ => {
                        close(&mut out, &mut open, context);
                        out.push_str("<p>");
                        open = Open::Paragraph;
                    }
                }
                out.push_str(&sentence(text, origin, context));
            }
        }
    }
    close(&mut out, &mut open, context);
    out.push_str("</div>\n");
    out
}

fn close(out: &mut String, open: &mut Open, context: &TextContext) {
    match std::mem::replace(open, Open::None) {
        Open::None => {}
        Open::Paragraph => out.push_str("</p>\n"),
        Open::List => out.push_str("</li>\n</ul>\n"),
        Open::Table(rows) => table(out, &rows, context),
    }
}

fn table(out: &mut String, rows: &[(Vec<String>, Option<&BlameLine>)], context: &TextContext) {
    let header = rows.get(1).is_some_and(|(cells, _)| is_separator(cells));
    let width = rows.iter().map(|(cells, _)| cells.len()).max().unwrap_or(0);
    out.push_str("<div class=\"table\"><table>\n");
    for (i, (cells, origin)) in rows.iter().enumerate() {
        if header && i == 1 {
            continue;
        }
        let origin = *origin;
        let cell_tag = if header && i == 0 { "th" } else { "td" };
        let (class, title) = age(origin, context);
        let _ = write!(out, "<tr class=\"{class}\" title=\"{}\">", escape(&title));
        for column in 0..width {
            let text = cells.get(column).map_or("", String::as_str);
            let _ = write!(out, "<{cell_tag}>{}", escape(text));
            if column + 1 == width {
                out.push_str(&since_link(origin, context));
            }
            let _ = write!(out, "</{cell_tag}>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
}

/// A sentence's shading class and tooltip.
fn age(origin: Option<&BlameLine>, context: &TextContext) -> (String, String) {
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
fn since_link(origin: Option<&BlameLine>, context: &TextContext) -> String {
    match origin {
        Some(origin) if origin.commit != context.first_commit => format!(
            " <a class=\"since\" href=\"{}\">{}</a>",
            escape(&context.links.version(context.service, context.document, &origin.commit)),
            origin.date.format("%Y-%m-%d")
        ),
        _ => String::new(),
    }
}

fn sentence(text: &str, origin: Option<&BlameLine>, context: &TextContext) -> String {
    let (class, title) = age(origin, context);
    format!(
        "<span class=\"{class}\" title=\"{}\">{}</span>{}",
        escape(&title),
        escape(text),
        since_link(origin, context)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Links;
    impl SiteLinks for Links {
        fn document(&self, service: &str, document: &str) -> String {
            format!("{service}/{document}")
        }
        fn version(&self, _: &str, _: &str, commit: &str) -> String {
            format!("{}.html", &commit[..4])
        }
        fn provision(&self, id: &str) -> String {
            id.to_string()
        }
    }

    fn line(line: usize, text: &str, commit: &str, date: &str, age_days: i64) -> BlameLine {
        BlameLine {
            line,
            text: text.to_string(),
            commit: commit.to_string(),
            date: date.parse().unwrap(),
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
        let html = render(text, &blame, &context);
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
