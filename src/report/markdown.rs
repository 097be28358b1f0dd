//! Reports as Markdown, for a GitHub issue, a job summary or an e-mail.

use std::fmt::Write as _;

use super::model::{Change, Report};
use super::words::WordPiece;

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
        "{} changes in {} documents.\n",
        report.change_count(),
        report.documents.len()
    );
    for document in &report.documents {
        let _ = writeln!(out, "## {}/{}\n", document.service, document.document);
        for change in &document.changes {
            render_change(&mut out, change);
        }
    }
    out
}

fn render_change(out: &mut String, change: &Change) {
    let commit = &change.commit[..change.commit.len().min(12)];
    let link = match &change.commit_url {
        Some(url) => format!("[`{commit}`]({url})"),
        None => format!("`{commit}`"),
    };
    let _ = writeln!(
        out,
        "### {} — {}\n",
        change.date.format("%Y-%m-%d"),
        escape(&change.summary)
    );
    let _ = write!(out, "{} change, commit {link}", change.change);
    for url in &change.source_urls {
        let _ = write!(out, ", [source]({url})");
    }
    out.push_str("\n\n");
    if !change.provisions.is_empty() {
        let _ = writeln!(out, "Provisions touched: {}\n", change.provisions.join(", "));
    }
    for flag in &change.flags {
        let _ = writeln!(out, "> **Note:** {}.\n", flag.describe());
    }
    let list = |out: &mut String, title: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(out, "**{title}**\n");
        for item in items {
            let _ = writeln!(out, "- {item}");
        }
        out.push('\n');
    };
    list(out, "Added", change.added.iter().map(|s| escape(&s.text)).collect());
    list(out, "Removed", change.removed.iter().map(|s| escape(&s.text)).collect());
    list(out, "Changed", change.changed.iter().map(|c| words(&c.words)).collect());
    list(out, "Moved", change.moved.iter().map(|s| escape(&s.text)).collect());
}

/// A changed sentence with deletions struck through and insertions in bold; a deletion
/// directly followed by its replacement gets a space between them.
fn words(pieces: &[WordPiece]) -> String {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            WordPiece::Same(t) => out.push_str(&escape(t)),
            WordPiece::Removed(t) | WordPiece::Added(t) if t.trim().is_empty() => out.push_str(t),
            WordPiece::Removed(t) => {
                out.push_str(&format!("~~{}~~", escape(t.trim())));
                let replaced = matches!(pieces.get(i + 1), Some(WordPiece::Added(_)));
                out.push_str(if replaced || t.ends_with(' ') { " " } else { "" });
            }
            WordPiece::Added(t) => {
                out.push_str(&format!("**{}**", escape(t.trim())));
                out.push_str(trailing_space(t));
            }
        }
    }
    out
}

fn trailing_space(t: &str) -> &'static str {
    if t.ends_with(' ') { " " } else { "" }
}

/// Escapes what Markdown would read as markup in policy text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
