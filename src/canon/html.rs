//! HTML to blocks: parse once with html5ever, drop what `remove` names, keep what
//! `select` names (or the page minus its chrome), and walk the kept DOM into blocks.
//!
//! The walk is iterative: hostile pages nest elements tens of thousands deep, and a
//! recursive walk would overflow the stack.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use ego_tree::{NodeId, NodeRef};
use html5ever::tendril::{StrTendril, TendrilSink as _};
use scraper::{ElementRef, Html, HtmlTreeSink, Node, Selector};

use super::blocks::{Block, BlockSink, CELL_BREAK};
use super::boilerplate;
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
pub(super) fn is_inline(name: &str) -> bool {
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

/// Page chrome, dropped when a declaration gives no `select`. Tags and roles say what
/// an element is; ids and classes are words a developer chose (`cookie-policy`,
/// `gdpr-rights`, Adobe's `cmp-text`), so inside the main content region they never
/// remove anything, and elsewhere only a consent vendor's widget or a short block goes.
fn is_chrome(element: &ElementRef, in_main: bool) -> bool {
    let el = element.value();
    if matches!(el.name(), "nav" | "header" | "footer" | "aside" | "dialog" | "menu") {
        return true;
    }
    // A form inside the document is part of it (an opt-out or a request form).
    if el.name() == "form" {
        return !in_main;
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
    if in_main {
        return false;
    }
    let names: Vec<String> = el
        .id()
        .into_iter()
        .chain(el.classes())
        .map(str::to_ascii_lowercase)
        .collect();
    names.iter().any(|name| is_consent_vendor(name))
        || (names.iter().any(|name| is_chrome_word(name))
            && text_shorter_than(**element, CHROME_TEXT_CHARS)
            && holds_a_control(**element))
}

/// Whether a subtree is or holds something to click or fill in: a banner asks to
/// accept, a skip link is one; a title named `CookiesNoticeTitle` holds nothing of it.
fn holds_a_control(root: NodeRef<'_, Node>) -> bool {
    root.descendants()
        .filter_map(|node| node.value().as_element())
        .any(|el| {
            matches!(el.name(), "a" | "button" | "input" | "select" | "form")
                || el.attr("role").is_some_and(|role| {
                    matches!(
                        role.trim().to_ascii_lowercase().as_str(),
                        "button" | "link" | "checkbox" | "switch"
                    )
                })
        })
}

/// A consent banner or a skip link says little; a block named `cookie-notice` with more
/// text than this is the cookie notice itself.
const CHROME_TEXT_CHARS: usize = 1_500;

/// Ids and classes of consent-management widgets (OneTrust, Didomi, Cookiebot,
/// TrustArc, Usercentrics, Quantcast, consentmanager.net, Cookie Consent).
fn is_consent_vendor(name: &str) -> bool {
    [
        "onetrust",
        "didomi",
        "cookiebot",
        "usercentrics",
        "trustarc",
        "truste-",
        "truste_",
        "qc-cmp",
        "cmpbox",
        "cmpwrapper",
        "cc-banner",
        "cc-window",
    ]
    .iter()
    .any(|needle| name.contains(needle))
}

/// Words of home-grown banners (`cookie-banner`, `gdpr-consent`) and skip links.
fn is_chrome_word(name: &str) -> bool {
    ["cookie", "consent", "gdpr", "skip-link", "skip-to", "skiplink"]
        .iter()
        .any(|needle| name.contains(needle))
}

/// Whether a subtree's text is shorter than `limit` characters; stops counting there.
fn text_shorter_than(root: NodeRef<'_, Node>, limit: usize) -> bool {
    let mut length = 0;
    for node in root.descendants() {
        if let Node::Text(text) = node.value() {
            length += text.text.trim().chars().count();
            if length >= limit {
                return false;
            }
        }
    }
    true
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

/// Bounds on the work spent parsing one page. html5ever's tree builder checks "is there
/// a `<p>` in button scope?" at every start tag by walking its whole stack of open
/// elements, so a page nesting n elements costs n² (100,000 `<div/>`, which HTML does
/// not self-close, took a minute): depth is what makes parsing slow, the node count
/// what makes it big, and the deadline backs both up.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most nodes (elements and runs of text) a page may have; a large policy page
    /// has about 40,000.
    pub max_nodes: usize,
    /// The deepest nesting, as the tree builder nests them; Chromium stops at 512.
    pub max_depth: usize,
    /// Wall-clock time parsing may take before the page fails as `timeout`.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_nodes: 500_000,
            max_depth: 5_000,
            deadline: Duration::from_secs(30),
        }
    }
}

/// How much input is parsed between two checks of the limits: small enough that a
/// chunk at the deepest accepted nesting takes milliseconds.
const PARSE_CHUNK: usize = 8 * 1024;

/// Parses a page with html5ever, failing as `too-large` past the node count or the
/// depth and as `timeout` past the deadline, checked after every chunk of input on the
/// nodes that chunk added. (The parser is instantiated here rather than in scraper, so
/// debug builds run it unoptimized, about 1.7 times slower; release builds do not care.)
pub fn parse_bounded(html: &str, limits: &Limits) -> Result<Html, Failure> {
    let started = Instant::now();
    let mut parser = html5ever::driver::parse_document(HtmlTreeSink::new(Html::new_document()), Default::default());
    let mut measured = 0;
    let mut depths: HashMap<NodeId, usize> = HashMap::new();
    let mut from = 0;
    while from < html.len() {
        let mut to = (from + PARSE_CHUNK).min(html.len());
        while !html.is_char_boundary(to) {
            to += 1;
        }
        parser.process(StrTendril::from_slice(&html[from..to]));
        from = to;
        let document = parser.tokenizer.sink.sink.0.borrow();
        let nodes = document.tree.nodes();
        let count = nodes.len();
        if count > limits.max_nodes {
            return Err(Failure::new(
                FailureKind::TooLarge,
                format!(
                    "the page has more than {} nodes: too large to canonicalize",
                    limits.max_nodes
                ),
            ));
        }
        // Nodes are appended where the tree builder's open elements end, so the new
        // nodes' depth is the depth of its stack of open elements. Each is its parent's
        // plus one, oldest first; a node moved since its parent was measured is walked up.
        let mut added: Vec<_> = nodes.rev().take(count - measured).collect();
        added.reverse();
        let mut deepest = 0;
        for node in added {
            let depth = match node.parent().and_then(|parent| depths.get(&parent.id())) {
                Some(parent_depth) => parent_depth + 1,
                None => node.ancestors().take(limits.max_depth + 1).count(),
            };
            depths.insert(node.id(), depth);
            deepest = deepest.max(depth);
        }
        measured = count;
        if deepest > limits.max_depth {
            return Err(Failure::new(
                FailureKind::TooLarge,
                format!(
                    "the page nests elements more than {} deep: broken or hostile HTML",
                    limits.max_depth
                ),
            ));
        }
        if started.elapsed() > limits.deadline {
            return Err(Failure::new(
                FailureKind::Timeout,
                format!(
                    "parsing the page took longer than {} s: broken or hostile HTML",
                    limits.deadline.as_secs_f64()
                ),
            ));
        }
    }
    Ok(parser.finish())
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

    if selection.select.is_empty() {
        let without_chrome = |root, in_main, main_region, removed: &HashSet<NodeId>| {
            let mut sink = BlockSink::default();
            let how = Walk {
                removed,
                drop_chrome: true,
                in_main,
                main_region,
                gate: None,
            };
            walk(root, &how, &mut sink);
            sink.finish()
        };
        let (root, in_main) = content_root(document, &removed);
        if in_main {
            let blocks = without_chrome(root, true, None, &removed);
            // A main that holds a small part of the page's text is not the document
            // (Jasper's legal pages keep a newsletter form in theirs, the policy outside).
            let page = without_chrome(body(document), false, None, &removed);
            if text_length(&blocks) * MAIN_SHARE >= text_length(&page) {
                return Ok(blocks);
            }
        }
        // No main region: the region holding the page's prose stands for one, and the
        // menus around it go.
        let page = body(document);
        let prose = boilerplate::prose_region(page, |element| {
            removed.contains(&element.id())
                || is_never_text(element.value().name())
                || is_hidden(element)
                || is_chrome(element, false)
        });
        let removed: HashSet<NodeId> = removed.union(&prose.menus).copied().collect();
        return Ok(without_chrome(page, false, prose.region, &removed));
    }

    let mut sink = BlockSink::default();

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
            in_main: false,
            main_region: None,
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
/// that is not removed, else `<body>`, else the whole document; and whether it is a main.
fn content_root<'a>(document: &'a Html, removed: &HashSet<NodeId>) -> (NodeRef<'a, Node>, bool) {
    static MAIN: std::sync::LazyLock<Selector> =
        std::sync::LazyLock::new(|| Selector::parse("main, [role=main]").expect("valid selector"));
    let mains: Vec<ElementRef> = document.select(&MAIN).filter(|e| !removed.contains(&e.id())).collect();
    if let [main] = mains.as_slice() {
        return (**main, true);
    }
    (body(document), false)
}

/// `<body>`, else the whole document.
fn body(document: &Html) -> NodeRef<'_, Node> {
    static BODY: std::sync::LazyLock<Selector> =
        std::sync::LazyLock::new(|| Selector::parse("body").expect("valid selector"));
    document
        .select(&BODY)
        .next()
        .map_or_else(|| document.tree.root(), |b| *b)
}

/// A `<main>` with less than a fifth of the page's text is taken for a widget, and the
/// page is read without it.
const MAIN_SHARE: usize = 5;

fn text_length(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|block| match block {
            Block::Heading { text, .. } | Block::Paragraph { text, .. } => text.len(),
            Block::Table { rows, .. } => rows.iter().flatten().flatten().map(|part| part.text.len()).sum(),
        })
        .sum()
}

enum Step<'a> {
    Enter(NodeRef<'a, Node>),
    Exit(NodeRef<'a, Node>),
}

/// What a walk skips and, with a `select`, what it keeps.
struct Walk<'a> {
    removed: &'a HashSet<NodeId>,
    drop_chrome: bool,
    /// Whether the walk's root is the page's main content region (see [`is_chrome`]).
    in_main: bool,
    /// On a page without one, the element that stands for it: inside it, the walk
    /// judges chrome as inside a main.
    main_region: Option<NodeId>,
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
    let mut in_main = how.in_main;
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
                    let is_main_region = how.main_region == Some(node.id());
                    if how.removed.contains(&node.id())
                        || is_never_text(name)
                        || is_hidden(&element)
                        || (how.drop_chrome && is_chrome(&element, in_main || is_main_region))
                    {
                        continue;
                    }
                    in_main |= is_main_region;
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
                if how.main_region == Some(node.id()) {
                    in_main = how.in_main;
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
