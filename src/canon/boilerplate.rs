//! Without `select` and without a main region: which blocks around a page's prose are
//! menus. Many pages build their menus, language switchers and footers from plain
//! `div`s (no `nav`, no `footer`, no ARIA role) and have no `<main>`; what gives them
//! away is their shape, not their names: short fragments and links, next to a region
//! that holds the page's prose.
//!
//! The prose region is found by where the long paragraphs are: from `<body>` down,
//! into the child that holds nearly all of them, as deep as that goes, then back up to
//! the element holding the page's `<h1>` if that adds little text. Only blocks
//! *outside* it can be dropped, and only when they hold little prose and are either
//! many short fragments or mostly link text: a title, a date line or an introduction
//! next to the region stays, and nothing inside the region is ever judged.

use std::collections::{HashMap, HashSet};

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Node};

use super::html::is_inline;

/// A paragraph (the text one block element holds directly, inline markup included) of
/// at least this many characters is prose; menu labels and footer lines are shorter.
const PROSE_PARAGRAPH_CHARS: usize = 120;

/// A page with less prose than this (a list of links, a form) is left as it is: there
/// is no body of text to find a region by.
const MIN_PAGE_PROSE_CHARS: usize = 1_000;

/// The region is the deepest element holding at least this share (in tenths) of the
/// page's prose: a header's or footer's blurbs are a few paragraphs beside the policy's
/// many (SambaNova's mega-menu and footer hold a tenth of its page's prose).
const REGION_PROSE_TENTHS: usize = 8;

/// Widened to the element holding the page's title, the region may hold at most this
/// many tenths of its text before: a title, a date and a few links add a tenth at most.
const TITLE_WIDENING_TENTHS: usize = 11;

/// A block outside the region with at least this many paragraphs, of this many
/// characters or fewer on average, and a quarter of prose at most, is a menu: labels,
/// not sentences. (Single-page apps' menus are `div`s with click handlers, no links.)
const MENU_FRAGMENTS: usize = 5;
const MENU_FRAGMENT_CHARS: usize = 40;

/// A block outside the region with at least this many links, carrying half its text or
/// more, and a quarter of prose at most, is a menu.
const MENU_LINKS: usize = 3;

/// A block outside the region with at least this many links and no more than this many
/// characters per link is a menu whatever its prose: mega-menus describe each entry in
/// a sentence, a policy's paragraphs hold a link now and then.
const MEGA_MENU_LINKS: usize = 5;
const MEGA_MENU_CHARS_PER_LINK: usize = 60;

/// What a subtree holds, in characters of text with whitespace runs collapsed.
#[derive(Debug, Default, Clone, Copy)]
struct Measure {
    text: usize,
    link_text: usize,
    links: usize,
    /// Paragraphs: block elements that hold text directly.
    fragments: usize,
    /// Text of paragraphs of [`PROSE_PARAGRAPH_CHARS`] or more that are not mostly links.
    prose: usize,
    /// `<h1>` elements: the page's title is in one of them.
    titles: usize,
}

impl Measure {
    fn add(&mut self, other: &Measure) {
        self.text += other.text;
        self.link_text += other.link_text;
        self.links += other.links;
        self.fragments += other.fragments;
        self.prose += other.prose;
        self.titles += other.titles;
    }

    fn is_menu(&self) -> bool {
        let little_prose = self.prose * 4 <= self.text;
        let labels = self.fragments >= MENU_FRAGMENTS && self.text <= self.fragments * MENU_FRAGMENT_CHARS;
        let links = self.links >= MENU_LINKS && self.link_text * 2 >= self.text;
        let mega_menu = self.links >= MEGA_MENU_LINKS && self.text <= self.links * MEGA_MENU_CHARS_PER_LINK;
        self.text > 0 && ((little_prose && (labels || links)) || mega_menu)
    }
}

/// Where a page's prose is, and the menus around it.
#[derive(Debug, Default)]
pub(super) struct ProseRegion {
    /// The element holding nearly all the prose: the page's main content region.
    pub region: Option<NodeId>,
    /// Blocks outside the region that are menus.
    pub menus: HashSet<NodeId>,
}

/// The prose region under `root` and the menus around it (see the module
/// documentation); nothing when the page has too little prose, or too much text outside
/// the region, to tell. `skipped` says which elements the walk will not read anyway
/// (scripts, hidden elements, chrome, removed elements); they are not measured.
pub(super) fn prose_region(root: NodeRef<'_, Node>, skipped: impl Fn(&ElementRef) -> bool) -> ProseRegion {
    let measures = measure(root, &skipped);
    let Some(total) = measures.get(&root.id()).copied() else {
        return ProseRegion::default();
    };
    if total.prose < MIN_PAGE_PROSE_CHARS {
        return ProseRegion::default();
    }
    // From the root down into the child holding nearly all the prose.
    let mut path = vec![root];
    loop {
        let here = path[path.len() - 1];
        let richest = here
            .children()
            .filter_map(|child| measures.get(&child.id()).map(|m| (child, m.prose)))
            .max_by_key(|(_, prose)| *prose);
        match richest {
            Some((child, prose)) if prose * 10 >= total.prose * REGION_PROSE_TENTHS => path.push(child),
            _ => break,
        }
    }
    // The document's title and the lines under it (a date, a list of previous versions)
    // belong to it, though the descent may pass them by into the one list or division
    // holding the clauses: the region widens to the nearest element holding the title,
    // when that adds little text.
    if let Some(titled) = path.iter().rposition(|node| measures[&node.id()].titles > 0)
        && titled > 0
        && measures[&path[titled].id()].text * 10 <= measures[&path[path.len() - 1].id()].text * TITLE_WIDENING_TENTHS
    {
        path.truncate(titled + 1);
    }
    let region_root = path[path.len() - 1];
    let region = measures[&region_root.id()];
    // A region with less than half the page's text leaves too much outside it to judge:
    // a list of reports beside a short introduction is the document, not a menu.
    if path.len() < 2 || region.text * 2 < total.text {
        return ProseRegion::default();
    }
    let headings: HashSet<String> = region_root
        .descendants()
        .filter(|node| {
            node.value()
                .as_element()
                .is_some_and(|el| matches!(el.name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"))
        })
        .map(|heading| {
            let text: String = heading
                .descendants()
                .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
                .collect();
            label_words(&text)
        })
        .filter(|words| !words.is_empty())
        .collect();
    // Outside the region, every block that is a menu goes, unless it is the document's
    // table of contents (its labels are the region's headings); a block that is not a
    // menu may hold some (a footer with an address beside its link columns), so its
    // children are judged.
    let mut menus = HashSet::new();
    let mut outside: Vec<NodeRef<'_, Node>> = Vec::new();
    for pair in path.windows(2) {
        let (parent, on_path) = (pair[0], pair[1]);
        outside.extend(parent.children().filter(|c| c.id() != on_path.id()));
    }
    while let Some(node) = outside.pop() {
        let Some(measure) = measures.get(&node.id()) else {
            continue;
        };
        if measure.is_menu() {
            if !is_table_of_contents(node, &headings, &skipped) {
                menus.insert(node.id());
            }
        } else {
            outside.extend(node.children());
        }
    }
    ProseRegion {
        region: Some(region_root.id()),
        menus,
    }
}

/// Whether at least half the labels of a block are headings of the region: a table of
/// contents is part of the document (Grok's is a column of buttons beside it).
fn is_table_of_contents(
    block: NodeRef<'_, Node>,
    headings: &HashSet<String>,
    skipped: &impl Fn(&ElementRef) -> bool,
) -> bool {
    let labels = paragraph_texts(block, skipped);
    let labels: Vec<String> = labels
        .iter()
        .map(|l| label_words(l))
        .filter(|l| !l.is_empty())
        .collect();
    let in_headings = labels.iter().filter(|label| headings.contains(*label)).count();
    !labels.is_empty() && in_headings * 2 >= labels.len()
}

/// A label's words, lower-cased, without numbers: `2. Who We Are` and `Who we are` match.
fn label_words(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && !word.chars().all(|c| c.is_numeric()))
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of each paragraph under `root` (see [`measure`]), in document order.
fn paragraph_texts(root: NodeRef<'_, Node>, skipped: &impl Fn(&ElementRef) -> bool) -> Vec<String> {
    let mut order: Vec<NodeId> = Vec::new();
    let mut texts: HashMap<NodeId, String> = HashMap::new();
    let mut stack = vec![(root, root.id())];
    while let Some((node, paragraph)) = stack.pop() {
        match node.value() {
            Node::Text(text) => {
                let own = texts.entry(paragraph).or_insert_with(|| {
                    order.push(paragraph);
                    String::new()
                });
                own.push_str(&text.text);
                own.push(' ');
            }
            Node::Element(el) => {
                if ElementRef::wrap(node).is_some_and(|element| skipped(&element)) {
                    continue;
                }
                let paragraph = if is_inline(el.name()) { paragraph } else { node.id() };
                stack.extend(node.children().rev().map(|child| (child, paragraph)));
            }
            _ => {}
        }
    }
    order.into_iter().filter_map(|id| texts.remove(&id)).collect()
}

/// Measures every element under `root` that the walk reads.
fn measure(root: NodeRef<'_, Node>, skipped: &impl Fn(&ElementRef) -> bool) -> HashMap<NodeId, Measure> {
    let mut measures: HashMap<NodeId, Measure> = HashMap::new();
    // Each paragraph's own text: (characters, of which in links).
    let mut paragraphs: HashMap<NodeId, (usize, usize)> = HashMap::new();
    // Elements in document order, with their parent, to add up from the leaves.
    let mut order: Vec<(NodeId, Option<NodeId>)> = Vec::new();
    // (node, its parent element, the block element its text belongs to, inside a link)
    let mut stack = vec![(root, None::<NodeId>, root.id(), false)];
    while let Some((node, parent, paragraph, in_link)) = stack.pop() {
        match node.value() {
            Node::Text(text) => {
                let chars: usize = text.text.split_whitespace().map(|w| w.chars().count() + 1).sum();
                if chars == 0 {
                    continue;
                }
                let Some(parent) = parent else { continue };
                let entry = measures.entry(parent).or_default();
                entry.text += chars;
                let own = paragraphs.entry(paragraph).or_default();
                own.0 += chars;
                if in_link {
                    entry.link_text += chars;
                    own.1 += chars;
                }
            }
            Node::Element(el) => {
                let element = ElementRef::wrap(node).expect("element node");
                if skipped(&element) {
                    continue;
                }
                let is_link = el.name() == "a";
                let entry = measures.entry(node.id()).or_default();
                entry.links += usize::from(is_link);
                entry.titles += usize::from(el.name() == "h1");
                order.push((node.id(), parent));
                let paragraph = if is_inline(el.name()) { paragraph } else { node.id() };
                for child in node.children().rev() {
                    stack.push((child, Some(node.id()), paragraph, in_link || is_link));
                }
            }
            Node::Document | Node::Fragment => {
                for child in node.children().rev() {
                    stack.push((child, parent, paragraph, in_link));
                }
            }
            _ => {}
        }
    }
    for (paragraph, (chars, linked)) in paragraphs {
        let entry = measures.entry(paragraph).or_default();
        entry.fragments += 1;
        if chars >= PROSE_PARAGRAPH_CHARS && linked * 2 < chars {
            entry.prose += chars;
        }
    }
    for (id, parent) in order.into_iter().rev() {
        if let Some(parent) = parent {
            let own = measures.get(&id).copied().unwrap_or_default();
            measures.entry(parent).or_default().add(&own);
        }
    }
    measures
}
