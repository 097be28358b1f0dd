//! Markdown (as Open Terms Archive records its versions) to canonical text: parsed with
//! pulldown-cmark into our blocks and rendered by our renderer, so sentences go one per
//! line and the Markdown subset is ours (link text kept, URLs dropped, escapes undone).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::blocks::{Block, BlockSink, CELL_BREAK};

/// The blocks of a Markdown document.
pub fn markdown_to_blocks(markdown: &str) -> Vec<Block> {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut sink = BlockSink::default();
    // A table is collected whole, then handed to the sink.
    let mut table: Option<Vec<(Vec<String>, bool)>> = None;
    let mut in_head = false;
    let mut cell: Option<String> = None;
    // Inside an image, its alt text is not document text.
    let mut image_depth = 0usize;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Image { .. }) => image_depth += 1,
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            _ if image_depth > 0 => {}
            Event::Start(Tag::Heading { level, .. }) => sink.start_heading(level as u8),
            Event::End(TagEnd::Heading(_)) => sink.end_heading(),
            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => sink.break_block(),
            Event::Start(Tag::BlockQuote(_)) | Event::End(TagEnd::BlockQuote(_)) => sink.break_block(),
            Event::Start(Tag::List(start)) => {
                sink.start_list(start.map(|n| i64::try_from(n).unwrap_or(i64::MAX)));
            }
            Event::End(TagEnd::List(_)) => sink.end_list(),
            Event::Start(Tag::Item) => sink.start_item(),
            Event::End(TagEnd::Item) => sink.end_item(),
            Event::Start(Tag::CodeBlock(_)) => sink.start_preformatted(),
            Event::End(TagEnd::CodeBlock) => sink.end_preformatted(),
            Event::Start(Tag::Table(_)) => {
                sink.break_block();
                table = Some(Vec::new());
            }
            Event::End(TagEnd::Table) => {
                if let Some(rows) = table.take() {
                    sink.push_table(rows);
                }
            }
            Event::Start(Tag::TableHead) => {
                in_head = true;
                if let Some(rows) = table.as_mut() {
                    rows.push((Vec::new(), true));
                }
            }
            Event::End(TagEnd::TableHead) => in_head = false,
            Event::Start(Tag::TableRow) => {
                if let Some(rows) = table.as_mut() {
                    rows.push((Vec::new(), in_head));
                }
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                if let (Some(text), Some(rows)) = (cell.take(), table.as_mut())
                    && let Some((cells, _)) = rows.last_mut()
                {
                    cells.push(text);
                }
            }
            Event::Text(text) | Event::Code(text) => match cell.as_mut() {
                Some(cell) => cell.push_str(&text),
                None => sink.push_text(&text),
            },
            Event::SoftBreak => match cell.as_mut() {
                Some(cell) => cell.push(' '),
                None => sink.push_text(" "),
            },
            Event::HardBreak => match cell.as_mut() {
                Some(cell) => cell.push(CELL_BREAK),
                None => sink.break_block(),
            },
            // Table cells hold their lines and bullets with `<br>` (a cell is one line of
            // Markdown): each is a part of the cell, not glued to the next.
            Event::InlineHtml(html) | Event::Html(html) if is_line_break(&html) => match cell.as_mut() {
                Some(cell) => cell.push(CELL_BREAK),
                None => sink.break_block(),
            },
            Event::Rule => sink.break_block(),
            // Raw HTML in Markdown is markup, not text; footnotes, math and task
            // markers do not occur in policy texts worth keeping.
            _ => {}
        }
    }
    sink.finish()
}

/// `<br>`, `<br/>`, `<br />` in any case.
fn is_line_break(html: &str) -> bool {
    let tag: String = html.chars().filter(|c| !c.is_whitespace() && *c != '/').collect();
    tag.eq_ignore_ascii_case("<br>")
}

#[cfg(test)]
mod tests {
    use super::super::canonicalize_markdown;

    #[test]
    fn ota_markdown_becomes_canonical_text() {
        let markdown = "Privacy Policy\n==============\n\nLast updated: June 1, 2023\n\n\
            ## 1\\. What we collect\n\nWe collect your name. We use it, e.g. to run the \
            [service](https://example.com/service?utm=1).\nWe keep it for 30 days.\n\n\
            *   First item. Second sentence.\n    *   Nested\n*   Other\n\n\
            3. Three\n4. Four\n\n| Kind | Use |\n| --- | --- |\n| Email | Login |\n\n\
            ![logo](https://example.com/logo.png)\n\n---\n\nContact us at privacy\\@example.com.\n";
        assert_eq!(
            canonicalize_markdown(markdown).unwrap(),
            "# Privacy Policy\n\
             \n\
             Last updated: June 1, 2023\n\
             \n\
             ## 1. What we collect\n\
             \n\
             We collect your name.\n\
             We use it, e.g. to run the service.\n\
             We keep it for 30 days.\n\
             \n\
             - First item.\n  Second sentence.\n  - Nested\n- Other\n\
             3. Three\n4. Four\n\
             \n\
             | Kind | Use |\n| --- | --- |\n| Email | Login |\n\
             \n\
             Contact us at privacy@example.com.\n"
        );
    }
}
