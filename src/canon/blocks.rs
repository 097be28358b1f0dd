//! Blocks and their rendering as canonical text: the Markdown subset of docs/architecture.md#canonical-text, one
//! sentence per line.

use super::text::{normalize_inline, split_sentences};

/// One block of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Heading {
        level: u8,
        text: String,
    },
    /// A paragraph, or a list item when `list` is set.
    Paragraph {
        text: String,
        list: Option<ListPlace>,
    },
    /// A data table: rows of cells; the flag marks a first row of header cells.
    Table {
        rows: Vec<Vec<Cell>>,
        header: bool,
    },
}

/// A table cell: its parts (paragraphs, lines, list items) in order; empty when the
/// cell is. Bars in the text are escaped (`\|`).
pub type Cell = Vec<CellPart>;

/// Separates the parts of a cell's raw text handed to [`BlockSink::push_table`]: not a
/// line feed, which in HTML source is only a space.
pub const CELL_BREAK: char = '\u{2029}';

/// One paragraph, line or list item of a table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellPart {
    pub text: String,
    /// A list item (rendered with `- `).
    pub item: bool,
}

/// A row stays on one line (`| a | b |`) when each cell is one sentence at most and the
/// line is no longer than this; otherwise it is laid out cell by cell, one sentence per
/// line (see [`render`]).
pub const ROW_WIDTH: usize = 300;

/// Where a paragraph sits in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPlace {
    /// 1 for a top-level list.
    pub depth: usize,
    /// `- ` or `3. ` for an item's first paragraph; `None` for a later paragraph of it.
    pub marker: Option<String>,
}

/// Collects inline text and structure events from a walk and cuts them into blocks.
#[derive(Debug, Default)]
pub struct BlockSink {
    blocks: Vec<Block>,
    text: String,
    heading: Option<u8>,
    /// One entry per open list: the next number of an ordered list, `None` if unordered.
    lists: Vec<Option<i64>>,
    pending_marker: Option<String>,
    preformatted: usize,
}

impl BlockSink {
    pub fn push_text(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Ends the current paragraph, if it has any text.
    pub fn break_block(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let raw = std::mem::take(&mut self.text);
        if self.preformatted > 0 {
            // Preformatted text keeps its lines; each is a paragraph of its own.
            for line in raw.lines() {
                self.emit(line);
            }
        } else {
            self.emit(&raw);
        }
    }

    fn emit(&mut self, raw: &str) {
        let text = normalize_inline(raw);
        if text.is_empty() {
            return;
        }
        if let Some(level) = self.heading {
            self.blocks.push(Block::Heading { level, text });
            return;
        }
        let list = (!self.lists.is_empty()).then(|| ListPlace {
            depth: self.lists.len(),
            marker: self.pending_marker.take(),
        });
        self.blocks.push(Block::Paragraph { text, list });
    }

    pub fn start_heading(&mut self, level: u8) {
        self.break_block();
        self.heading = Some(level.clamp(1, 6));
    }

    pub fn end_heading(&mut self) {
        self.break_block();
        self.heading = None;
    }

    /// Opens a list: `Some(start)` numbers its items from `start`.
    pub fn start_list(&mut self, ordered_from: Option<i64>) {
        self.break_block();
        self.lists.push(ordered_from);
    }

    pub fn end_list(&mut self) {
        self.break_block();
        self.lists.pop();
        self.pending_marker = None;
    }

    pub fn start_item(&mut self) {
        self.break_block();
        let marker = match self.lists.last_mut() {
            Some(Some(next)) => {
                let marker = format!("{next}. ");
                *next += 1;
                marker
            }
            _ => "- ".to_string(),
        };
        self.pending_marker = Some(marker);
    }

    pub fn end_item(&mut self) {
        self.break_block();
        self.pending_marker = None;
    }

    pub fn start_preformatted(&mut self) {
        self.break_block();
        self.preformatted += 1;
    }

    pub fn end_preformatted(&mut self) {
        self.break_block();
        self.preformatted = self.preformatted.saturating_sub(1);
    }

    /// Adds a data table; rows are cell texts, the flag marks an all-header row. In a
    /// cell's text, [`CELL_BREAK`] separates two parts (paragraphs, `<br>` lines, list
    /// items), and a part that starts with a bullet (`- `, `* `, `+ `, `• `) is a list item.
    pub fn push_table(&mut self, rows: Vec<(Vec<String>, bool)>) {
        self.break_block();
        let header = rows.first().is_some_and(|(_, h)| *h);
        let rows: Vec<Vec<Cell>> = rows
            .into_iter()
            .map(|(cells, _)| cells.iter().map(|c| cell_parts(c)).collect())
            .collect();
        if !rows.is_empty() {
            self.blocks.push(Block::Table { rows, header });
        }
    }

    pub fn finish(mut self) -> Vec<Block> {
        self.break_block();
        self.blocks
    }
}

/// Renders blocks as canonical text: blank lines between blocks (list items and table
/// rows stay together), one sentence per line, a final newline.
pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    let mut previous_in_list = false;
    for block in blocks {
        let in_list = matches!(block, Block::Paragraph { list: Some(_), .. });
        if !out.is_empty() {
            out.push_str(if in_list && previous_in_list { "\n" } else { "\n\n" });
        }
        previous_in_list = in_list;
        match block {
            Block::Heading { level, text } => {
                out.extend(std::iter::repeat_n('#', usize::from(*level)));
                out.push(' ');
                out.push_str(text);
            }
            Block::Paragraph { text, list } => {
                let (first_prefix, rest_prefix) = match list {
                    None => (String::new(), String::new()),
                    Some(ListPlace {
                        depth,
                        marker: Some(marker),
                    }) => {
                        let indent = "  ".repeat(depth - 1);
                        (
                            format!("{indent}{marker}"),
                            format!("{indent}{}", " ".repeat(marker.len())),
                        )
                    }
                    Some(ListPlace { depth, marker: None }) => {
                        let indent = "  ".repeat(*depth);
                        (indent.clone(), indent)
                    }
                };
                for (i, sentence) in split_sentences(text).into_iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    out.push_str(if i == 0 { &first_prefix } else { &rest_prefix });
                    out.push_str(sentence);
                }
            }
            Block::Table { rows, header } => render_table(&mut out, rows, *header),
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// A table: a row of short cells on one line, `| a | b |` (a header row followed by
/// `| --- | --- |`); any other row as a block of its own between blank lines, each cell
/// opening with `| ` and its further sentences, parts and list items (`- `) on their
/// own lines indented by two spaces, so that a cell edit shows as a sentence edit.
fn render_table(out: &mut String, rows: &[Vec<Cell>], header: bool) {
    let mut previous_compact = None;
    for (i, row) in rows.iter().enumerate() {
        let compact = compact_row(row);
        if let Some(previous) = previous_compact {
            out.push_str(if previous && compact.is_some() { "\n" } else { "\n\n" });
        }
        previous_compact = Some(compact.is_some());
        match compact {
            Some(line) => out.push_str(&line),
            None => expanded_row(out, row),
        }
        if i == 0 && header {
            out.push('\n');
            let rule = vec![
                vec![CellPart {
                    text: "---".into(),
                    item: false,
                }];
                row.len()
            ];
            out.push_str(&compact_row(&rule).unwrap_or_default());
        }
    }
}

/// `| a | b |` when every cell is one sentence at most and the line fits in [`ROW_WIDTH`].
fn compact_row(row: &[Cell]) -> Option<String> {
    let mut line = String::from("|");
    for cell in row {
        match cell.as_slice() {
            [] => {}
            [part] if !part.item && split_sentences(&part.text).len() <= 1 => {
                line.push(' ');
                line.push_str(&part.text);
            }
            _ => return None,
        }
        line.push_str(" |");
    }
    (line.chars().count() <= ROW_WIDTH).then_some(line)
}

fn expanded_row(out: &mut String, row: &[Cell]) {
    for (c, cell) in row.iter().enumerate() {
        if c > 0 {
            out.push('\n');
        }
        out.push('|');
        let mut first_line = true;
        for part in cell {
            let (marker, rest) = if part.item { ("- ", "    ") } else { ("", "  ") };
            for (s, sentence) in split_sentences(&part.text).into_iter().enumerate() {
                if first_line {
                    out.push(' ');
                    first_line = false;
                } else {
                    out.push('\n');
                    out.push_str(if s == 0 { "  " } else { rest });
                }
                if s == 0 {
                    out.push_str(marker);
                }
                out.push_str(sentence);
            }
        }
    }
}

/// The parts of a cell's raw text (see [`BlockSink::push_table`]).
fn cell_parts(raw: &str) -> Cell {
    raw.split(CELL_BREAK)
        .filter_map(|line| {
            let trimmed = line.trim_start();
            let bullet = ["- ", "* ", "+ ", "• "].iter().find_map(|b| trimmed.strip_prefix(b));
            let text = normalize_inline(bullet.unwrap_or(line)).replace('|', "\\|");
            (!text.is_empty()).then_some(CellPart {
                text,
                item: bullet.is_some(),
            })
        })
        .collect()
}
