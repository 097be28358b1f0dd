//! HTML to blocks: parse once with html5ever, drop what `remove` names, keep what
//! `select` names (or the page minus its chrome), and walk the kept DOM into blocks.
//!
//! The walk is iterative: hostile pages nest elements tens of thousands deep, and a
//! recursive walk would overflow the stack.

use std::collections::HashSet;

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Html, Node, Selector};

use super::blocks::{Block, BlockSink, CELL_BREAK};
use crate::declaration::{Edge, Target};
use crate::failure::{Failure, FailureKind};

/// Compiled `select`/`remove` targets of one page.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    select: Vec<(String, Compiled)>,
    remove: Vec<Compiled>,
}

#[derive(Debug, Clone)]
enum Compiled {
    Css(Selector),
    Range {
        start: Selector,
        start_edge: Edge,
        end: Selector,
        end_edge: Edge,
    },
}

impl Selection {
    /// Compiles targets; declarations were validated, so an error here names the culprit.
    pub fn new(select: &[Target], remove: &[Target]) -> Result<Selection, Failure> {
        let css = |s: &str| {
            Selector::parse(s).map_err(|_| {
                let problem = crate::declaration::selector::css_problem(s)
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default();
                Failure::new(
                    FailureKind::SelectorNoMatch,
                    format!("selector {s:?} is not valid CSS{problem}"),
                )
            })
        };
        let compile = |target: &Target| -> Result<Compiled, Failure> {
            Ok(match target {
                Target::Css(s) => Compiled::Css(css(s)?),
                Target::Range(r) => Compiled::Range {
                    start: css(&r.start)?,
                    start_edge: r.start_edge,
                    end: css(&r.end)?,
                    end_edge: r.end_edge,
                },
            })
        };
        Ok(Selection {
            select: select
                .iter()
                .map(|t| compile(t).map(|c| (t.to_string(), c)))
                .collect::<Result<_, _>>()?,
            remove: remove.iter().map(compile).collect::<Result<_, _>>()?,
        })
    }

    /// Shorthand for CSS-only selections (tests, `extract`).
    pub fn css(select: &[String], remove: &[String]) -> Result<Selection, Failure> {
        let targets = |list: &[String]| list.iter().map(|s| Target::Css(s.clone())).collect::<Vec<_>>();
        Selection::new(&targets(select), &targets(remove))
    }
}

/// Elements whose content is never text, inside a selection or not.
fn is_never_text(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "title"
            | "meta"
            | "link"
            | "base"
            | "iframe"
            | "frame"
            | "frameset"
            | "object"
            | "embed"
            | "applet"
            | "canvas"
            | "svg"
            | "math"
            | "audio"
            | "video"
            | "source"
            | "track"
            | "picture"
            | "img"
            | "map"
            | "select"
            | "option"
            | "datalist"
            | "input"
            | "textarea"
            | "param"
    )
}

/// Inline elements: their text joins the surrounding paragraph. Everything else,
/// unknown and custom elements included, starts a new block; splitting too often is
/// harmless, gluing two paragraphs into one sentence is not.
fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "abbr"
            | "acronym"
            | "b"
            | "bdi"
            | "bdo"
            | "big"
            | "cite"
            | "code"
            | "data"
            | "del"
            | "dfn"
            | "em"
            | "font"
            | "i"
            | "ins"
            | "kbd"
            | "label"
            | "mark"
            | "nobr"
            | "q"
            | "rp"
            | "rt"
            | "ruby"
            | "s"
            | "samp"
            | "small"
            | "span"
            | "strike"
            | "strong"
            | "sub"
            | "sup"
            | "time"
            | "tt"
            | "u"
            | "var"
            | "wbr"
            | "button"
            | "output"
    )
}

/// Page chrome, dropped when a declaration gives no `select`.
fn is_chrome(element: &ElementRef) -> bool {
    let el = element.value();
    if matches!(
        el.name(),
        "nav" | "header" | "footer" | "aside" | "form" | "dialog" | "menu"
    ) {
        return true;
    }
    if let Some(role) = el.attr("role")
        && matches!(
            role.trim().to_ascii_lowercase().as_str(),
            "navigation"
                | "banner"
                | "contentinfo"
                | "dialog"
                | "alertdialog"
                | "search"
                | "menu"
                | "menubar"
                | "complementary"
        )
    {
        return true;
    }
    if el.attr("aria-modal").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return true;
    }
    let mut names = el.id().into_iter().chain(el.classes());
    names.any(is_consent_name)
}

/// Ids and classes of cookie and consent widgets (OneTrust, Didomi, Cookiebot, TrustArc,
/// Usercentrics, Quantcast, and home-grown `cookie-banner`s).
fn is_consent_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "cookie",
        "consent",
        "gdpr",
        "onetrust",
        "didomi",
        "cookiebot",
        "truste",
        "usercentrics",
        "qc-cmp",
        "cmp-",
        "cc-banner",
        "cc-window",
        "skip-link",
        "skip-to",
        "skiplink",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

/// Hidden by the `hidden` attribute or an inline `display:none`: never shown to a
/// reader, and often a stale copy or a template that differs between loads.
fn is_hidden(element: &ElementRef) -> bool {
    let el = element.value();
    if el.attr("hidden").is_some() {
        return true;
    }
    el.attr("style").is_some_and(|style| {
        let compact: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        compact.contains("display:none") || compact.contains("visibility:hidden")
    })
}

/// The deepest nesting accepted; Chromium itself stops nesting at 512.
pub const MAX_NESTING: usize = 5_000;

/// An estimate of how deep a page nests its elements, from a scan of its tags: raw-text
/// elements are skipped, and void, self-closing and end-tag-optional elements (`p`,
/// `li`, `option`, which pages rarely close) are not counted.
pub fn nesting_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(offset) = memchr(b'<', &bytes[i..]) {
        i += offset + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let name_len = bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if name_len == 0 || !bytes[start].is_ascii_alphabetic() {
            continue;
        }
        let name = html[start..start + name_len].to_ascii_lowercase();
        let end = memchr(b'>', &bytes[start..]).map_or(bytes.len(), |e| start + e);
        if closing {
            if !is_void(&name) {
                depth = depth.saturating_sub(1);
            }
        } else if matches!(
            name.as_str(),
            "script" | "style" | "textarea" | "title" | "xmp" | "noscript" | "template"
        ) {
            // Raw text: jump to its end tag so `a<b` in a script is not a tag.
            let close = format!("</{name}");
            i = find_ignore_case(&bytes[end..], close.as_bytes()).map_or(bytes.len(), |p| end + p + close.len());
            continue;
        } else if !is_void(&name) && bytes.get(end.wrapping_sub(1)) != Some(&b'/') {
            depth += 1;
            deepest = deepest.max(depth);
        }
        i = end.min(bytes.len());
    }
    deepest
}

/// Elements that never nest in the depth estimate.
fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
            | "p"
            | "li"
            | "option"
    )
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Walks a parsed page into blocks. Returns `SelectorNoMatch` when a `select` is given
/// and none of its targets matches.
pub fn html_to_blocks(document: &Html, selection: &Selection) -> Result<Vec<Block>, Failure> {
    let mut removed: HashSet<NodeId> = HashSet::new();
    for target in &selection.remove {
        match target {
            Compiled::Css(sel) => removed.extend(document.select(sel).map(|e| e.id())),
            Compiled::Range { .. } => removed.extend(range_nodes(document, target).unwrap_or_default()),
        }
    }

    let mut sink = BlockSink::default();
    if selection.select.is_empty() {
        let root = content_root(document, &removed);
        walk(
            root,
            &Walk {
                removed: &removed,
                drop_chrome: true,
                gate: None,
            },
            &mut sink,
        );
        return Ok(sink.finish());
    }

    let mut css = Vec::new();
    let mut kept = HashSet::new();
    let mut matched_any = false;
    for (_, target) in &selection.select {
        match target {
            Compiled::Css(sel) => {
                matched_any |= document.select(sel).next().is_some();
                css.push(sel);
            }
            Compiled::Range { .. } => {
                if let Some(nodes) = range_nodes(document, target) {
                    matched_any = true;
                    kept.extend(nodes);
                }
            }
        }
    }
    if !matched_any {
        let names: Vec<&str> = selection.select.iter().map(|(s, _)| s.as_str()).collect();
        return Err(Failure::new(
            FailureKind::SelectorNoMatch,
            format!("no element matches select {}", names.join(", ")),
        ));
    }
    let gate = Gate { css, kept };
    walk(
        document.tree.root(),
        &Walk {
            removed: &removed,
            drop_chrome: false,
            gate: Some(gate),
        },
        &mut sink,
    );
    Ok(sink.finish())
}

/// The nodes a range covers: text nodes between its boundaries, and elements that lie
/// wholly between them. `None` when a boundary matches nothing.
fn range_nodes(document: &Html, range: &Compiled) -> Option<HashSet<NodeId>> {
    let Compiled::Range {
        start,
        start_edge,
        end,
        end_edge,
    } = range
    else {
        return None;
    };
    let start = document.select(start).next()?.id();
    let end = document.select(end).next()?.id();
    let mut nodes = HashSet::new();
    let mut entered = HashSet::new();
    let mut active = false;
    for edge in document.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => {
                if node.id() == end && *end_edge == Edge::Before {
                    break;
                }
                if node.id() == start && *start_edge == Edge::Before {
                    active = true;
                }
                if active {
                    match node.value() {
                        Node::Text(_) => {
                            nodes.insert(node.id());
                        }
                        Node::Element(_) => {
                            entered.insert(node.id());
                        }
                        _ => {}
                    }
                }
            }
            ego_tree::iter::Edge::Close(node) => {
                if active && entered.contains(&node.id()) {
                    nodes.insert(node.id());
                }
                if node.id() == end && *end_edge == Edge::After {
                    break;
                }
                if node.id() == start && *start_edge == Edge::After {
                    active = true;
                }
            }
        }
    }
    Some(nodes)
}

/// Without `select`: the `<main>` element (or `role=main`) when the page has exactly one
/// that is not removed, else `<body>`, else the whole document.
fn content_root<'a>(document: &'a Html, removed: &HashSet<NodeId>) -> NodeRef<'a, Node> {
    static MAIN: std::sync::LazyLock<Selector> =
        std::sync::LazyLock::new(|| Selector::parse("main, [role=main]").expect("valid selector"));
    static BODY: std::sync::LazyLock<Selector> =
        std::sync::LazyLock::new(|| Selector::parse("body").expect("valid selector"));
    let mains: Vec<ElementRef> = document.select(&MAIN).filter(|e| !removed.contains(&e.id())).collect();
    if let [main] = mains.as_slice() {
        return **main;
    }
    document
        .select(&BODY)
        .next()
        .map_or_else(|| document.tree.root(), |b| *b)
}

enum Step<'a> {
    Enter(NodeRef<'a, Node>),
    Exit(NodeRef<'a, Node>),
}

/// What a walk skips and, with a `select`, what it keeps.
struct Walk<'a> {
    removed: &'a HashSet<NodeId>,
    drop_chrome: bool,
    /// `None` keeps everything under the root.
    gate: Option<Gate<'a>>,
}

/// Kept content: subtrees matched by CSS selectors, and nodes covered by ranges.
struct Gate<'a> {
    css: Vec<&'a Selector>,
    kept: HashSet<NodeId>,
}

fn walk(root: NodeRef<'_, Node>, how: &Walk, sink: &mut BlockSink) {
    // The CSS-selected element the walk is inside, if any.
    let mut selected_root: Option<NodeId> = None;
    let keeps = |node: NodeRef<'_, Node>, selected_root: Option<NodeId>| match &how.gate {
        None => true,
        Some(gate) => selected_root.is_some() || gate.kept.contains(&node.id()),
    };
    let mut stack = vec![Step::Enter(root)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Enter(node) => match node.value() {
                Node::Text(text) if keeps(node, selected_root) && !how.removed.contains(&node.id()) => {
                    sink.push_text(&text.text);
                }
                Node::Element(el) => {
                    let element = ElementRef::wrap(node).expect("element node");
                    let name = el.name();
                    if how.removed.contains(&node.id())
                        || is_never_text(name)
                        || is_hidden(&element)
                        || (how.drop_chrome && is_chrome(&element))
                    {
                        continue;
                    }
                    if selected_root.is_none()
                        && let Some(gate) = &how.gate
                        && gate.css.iter().any(|sel| sel.matches(&element))
                    {
                        selected_root = Some(node.id());
                        sink.break_block();
                    }
                    if name == "table" && is_data_table(node) {
                        if keeps(node, selected_root) {
                            sink.push_table(table_rows(node, how.removed));
                        }
                        if selected_root == Some(node.id()) {
                            selected_root = None;
                        }
                        continue;
                    }
                    open(name, &element, sink);
                    stack.push(Step::Exit(node));
                    stack.extend(node.children().rev().map(Step::Enter));
                }
                Node::Document | Node::Fragment => stack.extend(node.children().rev().map(Step::Enter)),
                _ => {}
            },
            Step::Exit(node) => {
                if let Node::Element(el) = node.value() {
                    close(el.name(), sink);
                }
                if selected_root == Some(node.id()) {
                    selected_root = None;
                    sink.break_block();
                }
            }
        }
    }
}

fn open(name: &str, element: &ElementRef, sink: &mut BlockSink) {
    match name {
        "br" => sink.break_block(),
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
            sink.break_block();
            sink.start_heading(name.as_bytes()[1] - b'0');
        }
        "ul" | "menu" => sink.start_list(None),
        "ol" => {
            let start = element
                .value()
                .attr("start")
                .and_then(|s| s.trim().parse::<i64>().ok())
                .unwrap_or(1);
            sink.start_list(Some(start));
        }
        "li" => sink.start_item(),
        "pre" => {
            sink.break_block();
            sink.start_preformatted();
        }
        _ if is_inline(name) => {}
        _ => sink.break_block(),
    }
}

fn close(name: &str, sink: &mut BlockSink) {
    match name {
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => sink.end_heading(),
        "ul" | "ol" | "menu" => sink.end_list(),
        "li" => sink.end_item(),
        "pre" => sink.end_preformatted(),
        _ if is_inline(name) => {}
        _ => sink.break_block(),
    }
}

/// A table with rows of two or more cells and no nested tables holds data; anything
/// else is layout, and its cells are walked as ordinary blocks.
fn is_data_table(table: NodeRef<'_, Node>) -> bool {
    let mut widest = 0;
    for node in table.descendants().skip(1) {
        let Some(el) = node.value().as_element() else { continue };
        match el.name() {
            "table" => return false,
            "tr" => widest = widest.max(node.children().filter(|c| is_cell(*c)).count()),
            _ => {}
        }
    }
    widest >= 2
}

fn is_cell(node: NodeRef<'_, Node>) -> bool {
    node.value()
        .as_element()
        .is_some_and(|e| matches!(e.name(), "td" | "th"))
}

/// The rows of a data table: each cell's text, and whether the row is all header cells.
fn table_rows(table: NodeRef<'_, Node>, removed: &HashSet<NodeId>) -> Vec<(Vec<String>, bool)> {
    let mut rows = Vec::new();
    for node in table.descendants() {
        if removed.contains(&node.id()) || node.value().as_element().is_none_or(|e| e.name() != "tr") {
            continue;
        }
        let cells: Vec<NodeRef<Node>> = node.children().filter(|c| is_cell(*c)).collect();
        let header = !cells.is_empty()
            && cells
                .iter()
                .all(|c| c.value().as_element().is_some_and(|e| e.name() == "th"));
        let texts: Vec<String> = cells.iter().map(|cell| flat_text(*cell, removed)).collect();
        if texts.iter().any(|t| !t.trim().is_empty()) {
            rows.push((texts, header));
        }
    }
    rows
}

/// The text of a table cell: block boundaries become [`CELL_BREAK`]s.
fn flat_text(root: NodeRef<'_, Node>, removed: &HashSet<NodeId>) -> String {
    // A block element separates its text from its neighbours' on both sides, so
    // `<td><p>A</p>It is X.</td>` reads "A" and "It is X.", not "AIt is X.".
    enum Step<'a> {
        Visit(NodeRef<'a, Node>),
        Space,
    }
    let mut out = String::new();
    let mut stack = vec![Step::Visit(root)];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Space => {
                out.push(CELL_BREAK);
                continue;
            }
            Step::Visit(node) => node,
        };
        match node.value() {
            Node::Text(text) if !removed.contains(&node.id()) => out.push_str(&text.text),
            Node::Element(el) => {
                if removed.contains(&node.id())
                    || is_never_text(el.name())
                    || ElementRef::wrap(node).is_some_and(|e| is_hidden(&e))
                {
                    continue;
                }
                // A block child (or a `<br>`) starts a new part of the cell, a list item
                // one with a bullet (see `BlockSink::push_table`).
                if el.name() == "br" {
                    out.push(CELL_BREAK);
                    continue;
                }
                if !is_inline(el.name()) {
                    out.push(CELL_BREAK);
                    if el.name() == "li" {
                        out.push_str("- ");
                    }
                    stack.push(Step::Space);
                }
                stack.extend(node.children().rev().map(Step::Visit));
            }
            _ => {}
        }
    }
    out
}
