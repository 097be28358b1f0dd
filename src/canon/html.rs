//! HTML to blocks: parse once with html5ever, drop what `remove` names, keep what
//! `select` names (or the page minus its chrome), and walk the kept DOM into blocks.
//!
//! The walk is iterative: hostile pages nest elements tens of thousands deep, and a
//! recursive walk would overflow the stack.

use std::collections::HashSet;

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Html, Node, Selector};

use super::blocks::{Block, BlockSink};
use crate::failure::{Failure, FailureKind};

/// Compiled `select`/`remove` selectors of one page.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    select: Vec<(String, Selector)>,
    remove: Vec<Selector>,
}

impl Selection {
    /// Compiles selectors; declarations were validated, so an error here names the culprit.
    pub fn new(select: &[String], remove: &[String]) -> Result<Selection, Failure> {
        let compile = |s: &String| {
            Selector::parse(s).map_err(|e| {
                Failure::new(
                    FailureKind::SelectorNoMatch,
                    format!("selector {s:?} is not valid CSS: {e}"),
                )
            })
        };
        Ok(Selection {
            select: select
                .iter()
                .map(|s| compile(s).map(|c| (s.clone(), c)))
                .collect::<Result<_, _>>()?,
            remove: remove.iter().map(compile).collect::<Result<_, _>>()?,
        })
    }

    pub fn is_select_empty(&self) -> bool {
        self.select.is_empty()
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
        } else if matches!(name.as_str(), "script" | "style" | "textarea" | "title" | "xmp" | "noscript" | "template") {
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
        "area" | "base" | "br" | "col" | "embed" | "hr" | "img" | "input" | "link" | "meta" | "source" | "track" | "wbr" | "p" | "li" | "option"
    )
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

/// Walks a parsed page into blocks. Returns `SelectorNoMatch` when a `select` is given
/// and none of its selectors matches.
pub fn html_to_blocks(document: &Html, selection: &Selection) -> Result<Vec<Block>, Failure> {
    let removed: HashSet<NodeId> = selection
        .remove
        .iter()
        .flat_map(|sel| document.select(sel).map(|e| e.id()))
        .collect();

    let mut sink = BlockSink::default();
    if selection.select.is_empty() {
        let root = content_root(document, &removed);
        walk(root, &removed, true, &mut sink);
    } else {
        let mut matched_any = false;
        for root in selected_roots(document, selection, &removed) {
            matched_any = true;
            walk(root, &removed, false, &mut sink);
            sink.break_block();
        }
        if !matched_any {
            let names: Vec<&str> = selection.select.iter().map(|(s, _)| s.as_str()).collect();
            return Err(Failure::new(
                FailureKind::SelectorNoMatch,
                format!("no element matches select {}", names.join(", ")),
            ));
        }
    }
    Ok(sink.finish())
}

/// The elements matched by any `select` selector, in document order, outermost only,
/// skipping removed subtrees.
fn selected_roots<'a>(document: &'a Html, selection: &Selection, removed: &HashSet<NodeId>) -> Vec<NodeRef<'a, Node>> {
    let mut roots = Vec::new();
    let mut stack = vec![document.tree.root()];
    while let Some(node) = stack.pop() {
        if removed.contains(&node.id()) {
            continue;
        }
        if let Some(element) = ElementRef::wrap(node)
            && selection.select.iter().any(|(_, sel)| sel.matches(&element))
        {
            roots.push(node);
            continue;
        }
        stack.extend(node.children().rev());
    }
    roots
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

fn walk(root: NodeRef<'_, Node>, removed: &HashSet<NodeId>, drop_chrome: bool, sink: &mut BlockSink) {
    let mut stack = vec![Step::Enter(root)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Enter(node) => match node.value() {
                Node::Text(text) => sink.push_text(&text.text),
                Node::Element(el) => {
                    let element = ElementRef::wrap(node).expect("element node");
                    let name = el.name();
                    if removed.contains(&node.id())
                        || is_never_text(name)
                        || is_hidden(&element)
                        || (drop_chrome && is_chrome(&element))
                    {
                        continue;
                    }
                    if name == "table" && is_data_table(node) {
                        sink.push_table(table_rows(node, removed));
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

/// The text of a subtree on one line: block boundaries become spaces.
fn flat_text(root: NodeRef<'_, Node>, removed: &HashSet<NodeId>) -> String {
    let mut out = String::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        match node.value() {
            Node::Text(text) => out.push_str(&text.text),
            Node::Element(el) => {
                if removed.contains(&node.id())
                    || is_never_text(el.name())
                    || ElementRef::wrap(node).is_some_and(|e| is_hidden(&e))
                {
                    continue;
                }
                if !is_inline(el.name()) {
                    out.push(' ');
                }
                stack.extend(node.children().rev());
            }
            _ => {}
        }
    }
    out
}
