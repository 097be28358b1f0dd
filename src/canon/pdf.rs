//! PDF bytes to paragraphs of text, ready for the sentence splitter.
//!
//! Two layers. The first lays out glyphs: `pdf-extract` (on `lopdf`) parses the file,
//! decodes content streams and fonts (ToUnicode maps, CID and Type 1 encodings) and hands
//! every glyph over with its position; we group glyphs into lines by baseline and into
//! words by the gaps between them. Its own plain-text writer is not used: it glues a page
//! number drawn before its footer onto the footer ("3Pinterest"). The second layer works
//! on page texts alone: it drops running headers, footers and page numbers, rejoins words
//! hyphenated across lines and joins the lines of each paragraph.
//!
//! Three workarounds for pdf-extract 0.12, each explained where it is made: the width
//! ranges of CID fonts are rewritten before extraction (it misreads them and loses word
//! gaps), structures it would follow forever are refused first (a stack overflow aborts
//! the process), and every call runs under `catch_unwind` (it asserts and unwraps on
//! malformed input), so a panic becomes a [`Failure`] like any other unreadable file.
//! The default panic hook still prints such a panic to stderr.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};

use pdf_extract::{Dictionary, Document, MediaBox, Object, ObjectId, OutputDev, OutputError, Stream, Transform};

use crate::failure::{Failure, FailureKind};

/// The text of a PDF as paragraphs separated by blank lines ("\n\n"), each on one line;
/// list items start with "- ".
pub fn pdf_text(bytes: &[u8]) -> Result<String, Failure> {
    let pages = page_texts(bytes)?;
    let text = paragraphs(&pages);
    if text.is_empty() {
        // Not `Empty`: a browser would not find text in it either, so `auto` must not
        // escalate, and the fix (OCR, or another source) is not the declaration's.
        return Err(unsupported(
            "the PDF has no text layer (a scan or images only?): nothing to extract without OCR",
        ));
    }
    Ok(text)
}

// ---------------------------------------------------------------------------------------
// Reading: bytes to glyphs, and glyphs to page texts.
// ---------------------------------------------------------------------------------------

/// The text of each page, lines separated by '\n' and paragraphs (by vertical gap) by a
/// blank line.
fn page_texts(bytes: &[u8]) -> Result<Vec<String>, Failure> {
    // The header may follow a few bytes of junk (the PDF specification tolerates 1 KiB).
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(unsupported("the body is not a PDF document (no %PDF- header)"));
    }
    let caught = panic::catch_unwind(AssertUnwindSafe(|| -> Result<Vec<Vec<Glyph>>, Failure> {
        let mut doc = load(bytes)?;
        // lopdf decrypts on load what opens with the empty user password: most
        // "protected" policies only restrict printing or copying. What is still
        // encrypted needs a password that nobody can give here.
        if doc.is_encrypted() {
            return Err(unsupported("the PDF is encrypted and needs a password to open"));
        }
        check_structure(&doc)?;
        fix_cid_widths(&mut doc);
        let mut collector = Collector::default();
        // One unreadable page fails the whole document: a text missing a page would be
        // recorded as a change, and again when the page reads.
        for page in doc.get_pages().into_keys() {
            pdf_extract::output_doc_page(&doc, &mut collector, page)
                .map_err(|e| unsupported(format!("the text of page {page} cannot be read: {e}")))?;
        }
        Ok(collector.pages)
    }));
    let pages = match caught {
        Ok(result) => result?,
        Err(payload) => {
            let why = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown error".into());
            // The payload may quote a whole PDF object: keep the message short.
            let why: String = why.chars().take(200).collect();
            return Err(unsupported(format!(
                "the PDF is malformed or uses an unsupported feature ({why})"
            )));
        }
    };
    Ok(pages.iter().map(|glyphs| layout_page(glyphs)).collect())
}

/// Parses the document, rebuilding its cross-reference table if that is what fails.
fn load(bytes: &[u8]) -> Result<Document, Failure> {
    let first = match Document::load_mem(bytes) {
        Ok(doc) if !doc.get_pages().is_empty() => return Ok(doc),
        other => other,
    };
    let repaired = rebuilt_xref(bytes)
        .and_then(|repaired| Document::load_mem(&repaired).ok())
        .filter(|doc| !doc.get_pages().is_empty());
    match (repaired, first) {
        (Some(doc), _) | (None, Ok(doc)) => Ok(doc),
        (None, Err(e)) if !ends_whole(bytes) => Err(unsupported(format!(
            "the PDF is cut short (no %%EOF at its end) and cannot be parsed: {e}"
        ))),
        (None, Err(e)) => Err(unsupported(format!("the PDF cannot be parsed: {e}"))),
    }
}

/// Whether the file ends with its end-of-file marker, as a whole file does.
fn ends_whole(bytes: &[u8]) -> bool {
    occurrences(&bytes[bytes.len().saturating_sub(1024)..], b"%%EOF")
        .next()
        .is_some()
}

/// The PDF with a new cross-reference table, listing every `N G obj` found by scanning
/// the file, as readers do to repair one whose byte offsets are off (line endings
/// converted, bytes inserted or lost in transit); lopdf 0.42 gives up on those. None if
/// the file is truncated or no `/Root` is found to name in the new trailer.
fn rebuilt_xref(bytes: &[u8]) -> Option<Vec<u8>> {
    // A file cut short is not repaired: what is left of it would read as a shorter text,
    // recorded as a change.
    if !ends_whole(bytes) {
        return None;
    }
    // Object numbers beyond this are damage, not objects: the table would be huge.
    const MAX_OBJECT: u32 = 1 << 20;
    let mut objects: BTreeMap<u32, (u16, usize)> = BTreeMap::new();
    for at in occurrences(bytes, b"obj") {
        // Not "objects" or "obj1"; later definitions (incremental updates) win.
        if bytes.get(at + 3).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        if let Some((generation, start)) = number_before(bytes, at)
            && let Ok(generation) = u16::try_from(generation)
            && let Some((number, start)) = number_before(bytes, start)
            && (start == 0 || bytes[start - 1].is_ascii_whitespace())
            && (1..MAX_OBJECT).contains(&number)
        {
            objects.insert(number, (generation, start));
        }
    }
    let reference = |key: &'static [u8]| {
        trailer_entries(bytes, key).find_map(|value| {
            let mut words = value.split_ascii_whitespace();
            let (number, generation) = (words.next()?.parse::<u32>().ok()?, words.next()?.parse::<u16>().ok()?);
            words
                .next()?
                .starts_with('R')
                .then(|| format!("{number} {generation} R"))
        })
    };
    let root = reference(b"/Root")?;
    let size = objects.keys().next_back().map_or(1, |&n| n + 1);
    let mut out = bytes.to_vec();
    out.push(b'\n');
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f \n").as_bytes());
    for number in 1..size {
        let line = match objects.get(&number) {
            Some((generation, offset)) => format!("{offset:010} {generation:05} n \n"),
            None => "0000000000 00000 f \n".to_string(),
        };
        out.extend_from_slice(line.as_bytes());
    }
    // An encrypted file's key derives from its /ID too.
    let encrypt = reference(b"/Encrypt").map_or(String::new(), |r| format!(" /Encrypt {r}"));
    let id = trailer_entries(bytes, b"/ID")
        .find_map(|value| Some(format!(" /ID {}", &value[..=value.find(']')?])))
        .unwrap_or_default();
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root {root}{encrypt}{id} >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    Some(out)
}

/// What follows each `key` in the file, last first: the latest value of a trailer entry,
/// whether in a trailer or a cross-reference stream, comes first.
fn trailer_entries<'a>(bytes: &'a [u8], key: &'static [u8]) -> impl Iterator<Item = String> + 'a {
    occurrences(bytes, key).rev().map(move |at| {
        let rest = &bytes[at + key.len()..];
        String::from_utf8_lossy(&rest[..rest.len().min(200)]).into_owned()
    })
}

/// Where `needle` occurs in `haystack`, in order.
fn occurrences<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl DoubleEndedIterator<Item = usize> + 'a {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(move |(_, w)| *w == needle)
        .map(|(i, _)| i)
}

/// The unsigned number that ends, after whitespace, just before `end`, and where it
/// starts.
fn number_before(bytes: &[u8], end: usize) -> Option<(u32, usize)> {
    let digits_end = end
        - bytes[..end]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    if digits_end == end {
        return None;
    }
    let start = digits_end
        - bytes[..digits_end]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
    let digits = std::str::from_utf8(&bytes[start..digits_end]).ok()?;
    (!digits.is_empty() && digits.len() <= 10).then_some(())?;
    Some((digits.parse().ok()?, start))
}

fn unsupported(message: impl Into<String>) -> Failure {
    Failure::new(FailureKind::UnsupportedContent, message)
}

/// How deep Form XObjects may nest, and how many times in all a page may draw one.
const MAX_FORM_DEPTH: usize = 16;
const MAX_FORM_DRAWS: usize = 10_000;

/// Refuses damaged page trees, and the structures that pdf-extract would follow without
/// end. It looks up inherited
/// page attributes through `/Parent` and draws Form XObjects by recursion, both unguarded:
/// a cycle overflows the stack, which aborts the process (`catch_unwind` cannot catch it),
/// and forms drawn many times by forms drawn many times multiply the work.
fn check_structure(doc: &Document) -> Result<(), Failure> {
    // Pages that lopdf could not read (damaged objects) are left out of its page list
    // without a word: a text without them would be recorded as a change.
    let listed = doc
        .catalog()
        .and_then(|catalog| catalog.get_deref(b"Pages", doc))
        .and_then(Object::as_dict)
        .and_then(|pages| pages.get(b"Count"))
        .and_then(Object::as_i64);
    let found = doc.get_pages().len();
    if let Ok(listed) = listed
        && listed != found as i64
    {
        return Err(unsupported(format!(
            "the page tree lists {listed} pages but {found} can be read"
        )));
    }
    let mut walk = FormWalk {
        doc,
        done: HashMap::new(),
    };
    for (number, page) in doc.get_pages() {
        let mut seen = HashSet::from([page]);
        let mut node = page;
        while let Ok(parent) = doc
            .get_dictionary(node)
            .and_then(|d| d.get(b"Parent"))
            .and_then(Object::as_reference)
        {
            if !seen.insert(parent) {
                return Err(unsupported(format!(
                    "page {number} is its own ancestor in the page tree"
                )));
            }
            node = parent;
        }
        let Some(resources) = inherited_resources(doc, page) else {
            continue;
        };
        if !has_forms(doc, resources) {
            continue;
        }
        let content = doc.get_page_content(page).unwrap_or_default();
        walk.content(page, resources, &content, &mut vec![])
            .map_err(|why| unsupported(format!("page {number} {why}")))?;
    }
    Ok(())
}

/// The resources a page uses: its own, or the nearest ancestor's (the chain is checked
/// for cycles before this is called).
fn inherited_resources(doc: &Document, page: ObjectId) -> Option<&Dictionary> {
    let mut node = doc.get_dictionary(page).ok()?;
    loop {
        if let Ok(resources) = node.get(b"Resources") {
            return doc.dereference(resources).ok()?.1.as_dict().ok();
        }
        node = doc
            .get_dictionary(node.get(b"Parent").ok()?.as_reference().ok()?)
            .ok()?;
    }
}

/// Whether resources name any Form XObject (most pages draw only text and images).
fn has_forms(doc: &Document, resources: &Dictionary) -> bool {
    xobjects(doc, resources).is_some_and(|x| x.iter().any(|(_, o)| form(doc, o).is_some()))
}

fn xobjects<'a>(doc: &'a Document, resources: &'a Dictionary) -> Option<&'a Dictionary> {
    doc.dereference(resources.get(b"XObject").ok()?).ok()?.1.as_dict().ok()
}

/// The object id and stream of a Form XObject reference.
fn form<'a>(doc: &'a Document, object: &Object) -> Option<(ObjectId, &'a Stream)> {
    let id = object.as_reference().ok()?;
    let stream = doc.get_object(id).ok()?.as_stream().ok()?;
    stream
        .dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|s| s == b"Form")
        .then_some((id, stream))
}

/// Walks the forms that content streams draw, as pdf-extract will.
struct FormWalk<'a> {
    doc: &'a Document,
    /// Forms already walked, with the object whose resources they used: how many forms
    /// one drawing of them draws.
    done: HashMap<(ObjectId, ObjectId), usize>,
}

impl<'a> FormWalk<'a> {
    /// How many forms `content` (whose resources belong to `owner`) draws, counting
    /// those they draw; `path` holds the forms being drawn. The error says what is
    /// wrong, after "page N".
    fn content(
        &mut self,
        owner: ObjectId,
        resources: &'a Dictionary,
        content: &[u8],
        path: &mut Vec<ObjectId>,
    ) -> Result<usize, String> {
        let Ok(content) = pdf_extract::content::Content::decode(content) else {
            // pdf-extract will fail on it too, with its own message.
            return Ok(0);
        };
        let mut drawn = 0;
        for operation in content.operations.iter().filter(|o| o.operator == "Do") {
            let Some((id, stream)) = operation
                .operands
                .first()
                .and_then(|name| xobjects(self.doc, resources)?.get(name.as_name().ok()?).ok())
                .and_then(|object| form(self.doc, object))
            else {
                continue;
            };
            if path.contains(&id) {
                return Err("draws a form that draws itself".into());
            }
            // A form without resources of its own uses those of whatever draws it.
            let (form_owner, form_resources) = match stream.dict.get(b"Resources") {
                Ok(own) => match self.doc.dereference(own).ok().and_then(|(_, o)| o.as_dict().ok()) {
                    Some(own) => (id, own),
                    None => (owner, resources),
                },
                Err(_) => (owner, resources),
            };
            let nested = match self.done.get(&(id, form_owner)) {
                Some(&nested) => nested,
                None => {
                    if path.len() >= MAX_FORM_DEPTH {
                        return Err(format!("nests forms more than {MAX_FORM_DEPTH} deep"));
                    }
                    let content = stream.decompressed_content().unwrap_or_else(|_| stream.content.clone());
                    path.push(id);
                    let nested = self.content(form_owner, form_resources, &content, path)?;
                    path.pop();
                    self.done.insert((id, form_owner), nested);
                    nested
                }
            };
            drawn += 1 + nested;
            if drawn > MAX_FORM_DRAWS {
                return Err(format!("draws forms more than {MAX_FORM_DRAWS} times"));
            }
        }
        Ok(drawn)
    }
}

/// Rewrites the `cFirst cLast width` ranges of CID font width arrays (`/W`) as explicit
/// `cFirst [width ...]` lists. pdf-extract 0.12 misreads the range form and falls back to
/// the default width for those glyphs, which hides word gaps ("update:21"); the list form
/// it reads correctly. Google Docs and many other producers write ranges.
fn fix_cid_widths(doc: &mut Document) {
    // CIDs are 16-bit: a larger range is malformed. pdf-extract reads the widths again
    // for every page, so the expansion has a budget for the whole document too; real
    // fonts are subsets of a few hundred glyphs.
    const MAX_CID: i64 = 0xFFFF;
    let mut budget: i64 = 200_000;
    let mut arrays = Vec::new();
    for (&id, object) in &doc.objects {
        let Ok(dict) = object.as_dict() else { continue };
        if !dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|s| s.starts_with(b"CIDFontType"))
        {
            continue;
        }
        match dict.get(b"W") {
            Ok(Object::Array(w)) => arrays.push((id, w.clone())),
            Ok(Object::Reference(r)) => {
                if let Ok(Object::Array(w)) = doc.get_object(*r) {
                    arrays.push((id, w.clone()));
                }
            }
            _ => {}
        }
    }
    for (font, w) in arrays {
        let mut fixed = Vec::with_capacity(w.len());
        let mut i = 0;
        while i < w.len() {
            match (w.get(i), w.get(i + 1), w.get(i + 2)) {
                (Some(first), Some(Object::Array(list)), _) => {
                    fixed.push(first.clone());
                    fixed.push(Object::Array(list.clone()));
                    i += 2;
                }
                (Some(first), Some(last), Some(width)) => {
                    if let (Ok(first), Ok(last)) = (first.as_i64(), last.as_i64()) {
                        let last = last.min(MAX_CID);
                        if first >= 0 && first <= last && budget >= last - first {
                            budget -= last - first + 1;
                            let widths = (first..=last).map(|_| width.clone()).collect();
                            fixed.push(Object::Integer(first));
                            fixed.push(Object::Array(widths));
                        }
                    }
                    i += 3;
                }
                _ => break,
            }
        }
        if let Some(Object::Dictionary(dict)) = doc.objects.get_mut(&font) {
            dict.set("W", Object::Array(fixed));
        }
    }
}

/// One glyph as placed on the page, in PDF user space (y grows upwards).
#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    y: f64,
    /// Where the glyph's advance ends.
    end: f64,
    /// The font size on the page.
    size: f64,
    text: String,
}

/// Receives the glyphs from pdf-extract, page by page.
#[derive(Default)]
struct Collector {
    pages: Vec<Vec<Glyph>>,
}

impl OutputDev for Collector {
    fn begin_page(&mut self, _: u32, _: &MediaBox, _: Option<(f64, f64, f64, f64)>) -> Result<(), OutputError> {
        self.pages.push(Vec::new());
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        // Only upright text is read: rotated text is a watermark or a margin note, and
        // the line layout below assumes lines run left to right. (Slanted italics shear
        // the y axis, m21, and stay.)
        if trm.m11 <= 0.0 || trm.m12.abs() > 0.05 * trm.m11 {
            return Ok(());
        }
        // The glyph's scale is the font size times the scale of the text rendering matrix;
        // the determinant keeps it right for flipped (Google Docs) and sheared matrices.
        let size = font_size * (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt();
        let (x, y) = (trm.m31, trm.m32);
        if !(size.is_finite() && x.is_finite() && y.is_finite()) || size <= 0.0 {
            return Ok(());
        }
        let end = x + if width.is_finite() { width.max(0.0) } else { 0.0 } * size;
        if let Some(page) = self.pages.last_mut() {
            page.push(Glyph {
                x,
                y,
                end,
                size,
                text: text.to_string(),
            });
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Layout: the glyphs of a page to lines and words.
// ---------------------------------------------------------------------------------------

/// A line of glyphs sharing a baseline, in drawing order.
struct Line<'a> {
    y: f64,
    size: f64,
    glyphs: Vec<&'a Glyph>,
}

/// A gap wider than this fraction of the font size between two glyphs is a word space
/// (pdftotext uses about the same); kerning stays well below it.
const WORD_GAP: f64 = 0.15;

/// The text of a page: its lines in drawing order, each indented by its distance from the
/// body's left edge, with a blank line where the spacing or the type size says a new
/// paragraph starts.
fn layout_page(glyphs: &[Glyph]) -> String {
    let lines = group_lines(glyphs);
    if lines.is_empty() {
        return String::new();
    }
    let leading = body_leading(&lines);
    let left = body_margin(&lines);
    let mut out = String::new();
    let mut previous: Option<(&Line, f64)> = None;
    for line in &lines {
        let text = line_text(line);
        if text.trim().is_empty() {
            continue;
        }
        let size = text_size(line);
        if let Some((prev, prev_size)) = previous {
            let drop = prev.y - line.y;
            let larger = size.max(prev_size);
            // Lines of larger type (headings) are spaced wider than the body's leading.
            let spacing = leading.unwrap_or(0.0).max(1.2 * larger);
            // A gap clearly wider than the line spacing, a move upwards (a new column or
            // box) or a change of type size (heading to body) separates paragraphs.
            let blank = drop < -0.5 * larger || drop > 1.3 * spacing || larger > 1.2 * size.min(prev_size);
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        // Indentation from the body's left edge, as spaces (half an em each): the text
        // layer uses it to tell paragraph starts and list continuations.
        let indent = ((line_start(line) - left) / (0.5 * size)).round().clamp(0.0, 40.0) as usize;
        out.extend(std::iter::repeat_n(' ', indent));
        out.push_str(text.trim());
        previous = Some((line, size));
    }
    out
}

/// The type size of most of a line's glyphs, not of a superscript or an outsized bullet.
fn text_size(line: &Line) -> f64 {
    let mut sizes: Vec<f64> = line
        .glyphs
        .iter()
        .filter(|g| !g.text.trim().is_empty())
        .map(|g| g.size)
        .collect();
    if sizes.is_empty() {
        return line.size;
    }
    sizes.sort_by(f64::total_cmp);
    sizes[sizes.len() / 2]
}

/// Groups glyphs, in drawing order, into lines: a glyph whose baseline is within half a
/// font size of the current line's joins it (superscripts included).
fn group_lines(glyphs: &[Glyph]) -> Vec<Line<'_>> {
    let mut lines: Vec<Line> = Vec::new();
    for glyph in glyphs {
        match lines.last_mut() {
            Some(line) if (glyph.y - line.y).abs() <= 0.5 * line.size.max(glyph.size) => {
                // The line keeps the baseline of its largest type, not of a superscript.
                if glyph.size > line.size {
                    line.size = glyph.size;
                    line.y = glyph.y;
                }
                line.glyphs.push(glyph);
            }
            _ => lines.push(Line {
                y: glyph.y,
                size: glyph.size,
                glyphs: vec![glyph],
            }),
        }
    }
    lines
}

/// Where the line's first visible glyph starts.
fn line_start(line: &Line) -> f64 {
    line.glyphs
        .iter()
        .filter(|g| !g.text.trim().is_empty())
        .map(|g| g.x)
        .fold(f64::INFINITY, f64::min)
}

/// The x where most lines of the page start: the left edge of its body text, from which
/// indentation is measured (the leftmost glyph may be a hanging number or a margin note).
fn body_margin(lines: &[Line]) -> f64 {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for line in lines {
        let x = line_start(line);
        if x.is_finite() {
            *counts.entry(x.round() as i64).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(x, n)| (n, -x))
        .map_or(0.0, |(x, _)| x as f64)
}

/// The most common baseline-to-baseline distance between consecutive lines of the page,
/// to tell line spacing from paragraph spacing.
fn body_leading(lines: &[Line]) -> Option<f64> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for pair in lines.windows(2) {
        let drop = pair[0].y - pair[1].y;
        if drop > 0.8 * pair[1].size && drop < 3.0 * pair[1].size {
            *counts.entry((drop * 2.0).round() as i64).or_default() += 1;
        }
    }
    // Ties go to the smaller distance, so the result does not depend on hash order.
    counts
        .into_iter()
        .max_by_key(|&(half_points, n)| (n, -half_points))
        .map(|(half_points, _)| half_points as f64 / 2.0)
}

/// The text of a line. Runs drawn out of order on the same baseline (a page number drawn
/// before its footer) are put back in left-to-right order; words are split where the gap
/// between two glyphs is wider than [`WORD_GAP`].
fn line_text(line: &Line) -> String {
    let mut runs: Vec<Vec<&Glyph>> = Vec::new();
    for &glyph in &line.glyphs {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|last| glyph.x >= last.x - 0.5 * glyph.size) => run.push(glyph),
            _ => runs.push(vec![glyph]),
        }
    }
    // Stable: runs that start at the same x keep their drawing order.
    runs.sort_by(|a, b| a[0].x.total_cmp(&b[0].x));
    let raised = |g: &Glyph| g.y > line.y + 0.15 * line.size && g.size < 0.85 * line.size;
    let mut out = String::new();
    let mut previous: Option<&Glyph> = None;
    // Whether every glyph so far is a superscript: a footnote's number, which pdftotext
    // also separates from the footnote's text.
    let mut only_raised = true;
    for glyph in runs.iter().flatten() {
        if glyph.text.chars().all(char::is_whitespace) {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            previous = None;
            continue;
        }
        let footnote_mark = only_raised && !out.is_empty() && !raised(glyph);
        only_raised &= raised(glyph);
        if let Some(prev) = previous
            && (glyph.x - prev.end > WORD_GAP * glyph.size.min(prev.size) || glyph.x < prev.x || footnote_mark)
            && !out.ends_with(' ')
        {
            out.push(' ');
        }
        out.push_str(&glyph.text);
        previous = Some(glyph);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Text: page texts to paragraphs.
// ---------------------------------------------------------------------------------------

/// Joins page texts into paragraphs separated by "\n\n", list items starting with "- ".
fn paragraphs(pages: &[String]) -> String {
    let pages: Vec<Vec<String>> = pages.iter().map(|p| page_lines(p)).collect();
    let pages = remove_running_lines(pages);
    let typical = typical_width(&pages);
    let mut builder = Builder::new(typical);
    for page in &pages {
        builder.page_start = true;
        for line in page {
            builder.line(line);
        }
    }
    builder.finish()
}

/// The lines of a page, normalized: ligatures expanded, zero-width and control
/// characters dropped, NBSP and other spaces made plain, trailing space trimmed. Leading
/// blank lines are dropped and blank runs collapse to one empty line.
fn page_lines(page: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in page.split(['\n', '\r']) {
        let line = normalize_line(raw);
        if line.trim().is_empty() {
            if lines.last().is_some_and(|l| !l.is_empty()) {
                lines.push(String::new());
            }
        } else {
            lines.push(line);
        }
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

fn normalize_line(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            // Only the Latin ligatures: NFKC on the whole text would also rewrite
            // superscripts, fractions and full-width forms, which carry meaning.
            '\u{FB00}'..='\u{FB06}' => unicode_normalization::char::decompose_compatible(c, |d| out.push(d)),
            '\u{c}' => {}
            c if c.is_whitespace() => out.push(' '),
            '\u{00AD}' | '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{2060}' | '\u{FEFF}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// How many lines at each end of a page are looked at for running headers and footers.
const EDGE_LINES: usize = 3;

/// Removes running headers and footers (lines that come back, digits aside, among the
/// first or last lines of many pages) and bare page numbers.
fn remove_running_lines(mut pages: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let edge_indices = |page: &[String]| -> Vec<usize> {
        let content: Vec<usize> = (0..page.len()).filter(|&i| !page[i].is_empty()).collect();
        let mut edges: Vec<usize> = content.iter().take(EDGE_LINES).copied().collect();
        edges.extend(content.iter().rev().take(EDGE_LINES));
        edges.sort_unstable();
        edges.dedup();
        edges
    };
    // Count each shape once per page.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for page in &pages {
        let shapes: HashSet<String> = edge_indices(page).into_iter().map(|i| shape(&page[i])).collect();
        for s in shapes {
            *counts.entry(s).or_default() += 1;
        }
    }
    let needed = running_threshold(pages.len());
    for page in &mut pages {
        let drop: HashSet<usize> = edge_indices(page)
            .into_iter()
            .filter(|&i| is_page_number(&page[i]) || counts.get(&shape(&page[i])).is_some_and(|&n| n >= needed))
            .collect();
        let kept: Vec<String> = page
            .drain(..)
            .enumerate()
            .filter(|(i, _)| !drop.contains(i))
            .map(|(_, l)| l)
            .collect();
        *page = tidy_blanks(kept);
    }
    pages
}

/// On how many pages a line must come back to be running: 2 of 2 or 3 pages, else 40% of
/// the pages and at least 3 (headers that alternate between odd and even pages are on
/// half of them; a title page has none), so a heading repeated once or twice is kept.
fn running_threshold(pages: usize) -> usize {
    match pages {
        0 | 1 => usize::MAX,
        2 | 3 => 2,
        n => (n * 2).div_ceil(5).max(3),
    }
}

/// Collapses blank runs and trims blank lines at both ends.
fn tidy_blanks(lines: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for line in lines {
        if line.is_empty() && out.last().is_none_or(String::is_empty) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out
}

/// A line's shape for header detection: each run of digits becomes one '#' (page 9 and
/// page 10 have the same footer), spaces collapse, case folds.
fn shape(line: &str) -> String {
    let mut out = String::new();
    for word in line.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            if !c.is_ascii_digit() {
                out.push(c);
            } else if !out.ends_with('#') {
                out.push('#');
            }
        }
    }
    out
}

/// "3", "Page 3", "page 3 of 12", "3 / 12", "- 3 -", "— 3 —".
fn is_page_number(line: &str) -> bool {
    let lower = line.trim().trim_matches(['-', '–', '—', ' ']).to_lowercase();
    let s = lower.strip_prefix("page").map_or(lower.as_str(), str::trim_start);
    let number = |t: &str| (1..=4).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
    match s.split_once(['/', ' ']) {
        None => number(s),
        Some((n, total)) => {
            let total = total.trim();
            number(n)
                && number(
                    total
                        .strip_prefix("of")
                        .or_else(|| total.strip_prefix('/'))
                        .unwrap_or(total)
                        .trim(),
                )
        }
    }
}

/// The width, in characters, of a full line of body text: lines much shorter than it end
/// a paragraph or are headings.
fn typical_width(pages: &[Vec<String>]) -> usize {
    let mut widths: Vec<usize> = pages
        .iter()
        .flatten()
        .map(|l| l.trim().chars().count())
        .filter(|&w| w > 0)
        .collect();
    if widths.is_empty() {
        return 80;
    }
    widths.sort_unstable();
    widths[widths.len() * 9 / 10].max(20)
}

/// What a line starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    /// A bullet glyph that is only ever a bullet: '•', '●', '▪', ...
    Bullet,
    /// '-', '–', '*': a bullet at the start of a list, a dash elsewhere.
    Dash,
    /// "1.", "1.2.", "(a)", "a)", "iv."
    Number,
}

/// The marker at the start of a (trimmed) line, and the rest of the line after it.
fn marker(line: &str) -> (Marker, &str) {
    let mut chars = line.chars();
    let Some(first) = chars.next() else {
        return (Marker::None, line);
    };
    let rest = chars.as_str();
    if matches!(
        first,
        '•' | '●'
            | '▪'
            | '■'
            | '◦'
            | '○'
            | '□'
            | '‣'
            | '⁃'
            | '◆'
            | '◾'
            | '►'
            | '➢'
            | '✓'
            | '\u{F0B7}'
            | '\u{F0A7}'
    ) {
        return (Marker::Bullet, rest.trim_start());
    }
    if matches!(first, '-' | '–' | '—' | '*') && rest.starts_with(' ') {
        return (Marker::Dash, rest.trim_start());
    }
    let token = line.split(' ').next().unwrap_or("");
    if token.len() < line.len() && is_numbering(token) {
        return (Marker::Number, line);
    }
    (Marker::None, line)
}

/// "1.", "1.2", "1.2.", "(a)", "a)", "(iv)", "iv.", "A.": section and list numbers.
fn is_numbering(token: &str) -> bool {
    let roman = |s: &str| !s.is_empty() && s.len() <= 5 && s.chars().all(|c| "ivxlcIVXLC".contains(c));
    let label = |s: &str| {
        (!s.is_empty() && s.len() <= 3 && s.chars().all(|c| c.is_ascii_digit()))
            || (s.len() == 1 && s.chars().all(|c| c.is_ascii_alphabetic()))
            || roman(s)
    };
    if let Some(inner) = token.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        return label(inner);
    }
    if let Some(inner) = token.strip_suffix(')') {
        return label(inner);
    }
    // Dotted numbers: "1.", "1.2", "1.2.3.", "A.", "IV."; a bare "1" is not numbering.
    let dotted = token.strip_suffix('.').unwrap_or(token);
    let parts: Vec<&str> = dotted.split('.').collect();
    if parts.len() == 1 {
        return token.ends_with('.') && label(parts[0]);
    }
    parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
}

/// Whether a line ends a sentence or clause: '.', '!', '?', ':' or ';', maybe inside
/// closing quotes or brackets.
fn ends_clause(line: &str) -> bool {
    line.trim_end_matches(['"', '\'', '”', '’', ')', ']', '»'])
        .ends_with(['.', '!', '?', ':', ';', '。'])
}

/// Digits alone, maybe with thousands separators or a decimal point: "7", "1,526", "0.25"
/// (not "1.", a list number).
fn is_bare_number(line: &str) -> bool {
    let line = line.trim();
    line.starts_with(|c: char| c.is_ascii_digit())
        && line.ends_with(|c: char| c.is_ascii_digit())
        && line.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.')
}

/// A list marker alone on its line ("1.", "(a)", "•"), its item's text on the next.
fn is_lone_marker(line: &str) -> bool {
    is_numbering(line) || matches!(marker(line), (Marker::Bullet, ""))
}

/// A line that starts in lower case, with no list marker, goes on with the sentence of
/// the line before, whatever that line ended with ("...; peach: for a desire);" / "and").
fn continues_sentence(line: &str, marker: Marker) -> bool {
    marker == Marker::None && line.chars().next().is_some_and(char::is_lowercase)
}

/// Whether a line is shorter than `tenths` tenths of a full line.
fn is_short(line: &str, typical: usize, tenths: usize) -> bool {
    line.chars().count() * 10 < typical * tenths
}

/// A short line with no final punctuation whose words are capitalized, or in capitals,
/// or that is numbered: a heading.
fn is_heading(line: &str, typical: usize) -> bool {
    let line = line.trim();
    let width = line.chars().count();
    if width == 0 || !is_short(line, typical, 7) || line.ends_with(['.', ',', ';', ':']) {
        return false;
    }
    let (marker, _) = marker(line);
    if marker == Marker::Number {
        return true;
    }
    if marker != Marker::None {
        return false;
    }
    let letters: Vec<char> = line.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() {
        return false;
    }
    if letters.iter().all(|c| !c.is_lowercase()) && letters.len() > 1 {
        return true;
    }
    // Title case: every word of four letters or more starts with a capital.
    let long: Vec<&str> = line.split_whitespace().filter(|w| w.chars().count() >= 4).collect();
    !long.is_empty()
        && long
            .iter()
            .all(|w| w.chars().find(|c| c.is_alphabetic()).is_none_or(char::is_uppercase))
}

/// Builds paragraphs line by line.
struct Builder {
    typical: usize,
    paragraphs: Vec<String>,
    current: String,
    /// The previous line, trimmed; empty after a blank line or at the start.
    previous: String,
    previous_blank: bool,
    previous_heading: bool,
    /// Whether no line of the current page has been seen yet.
    page_start: bool,
}

impl Builder {
    fn new(typical: usize) -> Builder {
        Builder {
            typical,
            paragraphs: Vec::new(),
            current: String::new(),
            previous: String::new(),
            previous_blank: true,
            previous_heading: false,
            page_start: true,
        }
    }

    fn line(&mut self, raw: &str) {
        if raw.is_empty() {
            self.flush();
            self.previous_blank = true;
            return;
        }
        // A number alone on a line is a table cell or the page number of a contents entry
        // set lower than its text: it goes with the text before it, as on a one-line row.
        if is_bare_number(raw) && !(self.current.is_empty() && self.paragraphs.is_empty()) {
            if self.current.is_empty() {
                self.current = self.paragraphs.pop().unwrap_or_default();
            }
            self.current.push(' ');
            self.current.push_str(raw.trim());
            return;
        }
        let indented = raw.starts_with("  ");
        let line = raw.trim();
        let (marker, rest) = marker(line);
        let prev_ended = ends_clause(&self.previous);
        let prev_short = is_short(&self.previous, self.typical, 7);
        let heading = is_heading(line, self.typical) && (self.previous_blank || prev_ended || prev_short);
        // A title set on two lines ("PERSONAL DATA PROTECTION" / "POLICY") is one heading;
        // not two headings on two pages, nor contents entries ("2 Introduction 4").
        let heading_continues = self.previous_heading
            && !self.page_start
            && ((heading && marker == Marker::None && !line.starts_with(|c: char| c.is_ascii_digit()))
                || continues_sentence(line, marker));
        // "1." or "-" after a full line ending with ':' is more often a wrapped "(a)" in
        // running text than a list.
        let list_start = matches!(marker, Marker::Dash | Marker::Number)
            && (!self.previous.ends_with(':') || prev_short || indented);
        // In a list, a dash starts the next item whatever the item before ended with.
        let next_item = marker == Marker::Dash && self.current.starts_with("- ");
        // The text of a list item whose marker stands alone on the line before.
        let item_text = !self.previous_blank && is_lone_marker(&self.previous) && marker == Marker::None;
        let starts = self.previous_blank
            || self.previous_heading
            || heading
            || marker == Marker::Bullet
            || next_item
            || (prev_ended
                && !continues_sentence(line, marker)
                && (prev_short || is_short(line, self.typical, 5) || indented || list_start));
        let new_paragraph = starts && !heading_continues && !item_text;
        if new_paragraph {
            self.flush();
            if matches!(marker, Marker::Bullet | Marker::Dash) {
                self.current.push_str("- ");
                self.current.push_str(rest);
            } else {
                self.current.push_str(line);
            }
        } else {
            self.join(line);
        }
        self.previous = line.to_string();
        self.previous_blank = false;
        self.previous_heading = heading;
        self.page_start = false;
    }

    /// Appends a continuation line, rejoining a word hyphenated across the line end.
    fn join(&mut self, line: &str) {
        let mut tail = self.current.chars().rev();
        let hyphenated = tail.next() == Some('-')
            && tail.next().is_some_and(char::is_lowercase)
            && line.chars().next().is_some_and(char::is_lowercase);
        if hyphenated {
            self.current.pop();
        } else if !self.current.ends_with(['-', '/']) || self.current.ends_with(" -") {
            // A line ending with a hyphen or slash otherwise ("COVID-", "https://x/")
            // joins without a space.
            self.current.push(' ');
        }
        self.current.push_str(line);
    }

    fn flush(&mut self) {
        let paragraph = self.current.split_whitespace().collect::<Vec<_>>().join(" ");
        if !paragraph.is_empty() && paragraph != "-" {
            self.paragraphs.push(paragraph);
        }
        self.current.clear();
    }

    fn finish(mut self) -> String {
        self.flush();
        self.paragraphs.join("\n\n")
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn pages(pages: &[&str]) -> String {
        paragraphs(&pages.iter().map(|p| p.to_string()).collect::<Vec<_>>())
    }

    /// Filler body lines of about the same width, so that "short" means something.
    const BODY: &str = "This line of the body text is long enough to set the typical line width";

    #[test]
    fn running_headers_footers_and_page_numbers_are_removed() {
        let topics = ["accounts", "payments", "content", "privacy", "disputes"];
        let texts: Vec<String> = (1..=5)
            .map(|n| {
                format!(
                    "ACME Terms of Service, version 2\n\n{BODY} about {},\nand it ends with {}.\n\n\
                     ACME Inc. | Confidential | {n} of 5\n{n}",
                    topics[n - 1],
                    topics[5 - n]
                )
            })
            .collect();
        let text = paragraphs(&texts);
        assert!(!text.contains("ACME"), "{text}");
        assert!(!text.contains("of 5"), "{text}");
        assert_eq!(text.matches(", and it ends with ").count(), 5, "{text}");
        assert!(text.lines().all(|l| !is_page_number(l)), "{text}");
        // A line that repeats on only two of five pages is content, not a header.
        let mut texts = texts;
        texts[1] = format!("Definitions\n{BODY}.\n");
        texts[3] = format!("Definitions\n{BODY}.\n");
        assert_eq!(paragraphs(&texts).matches("Definitions").count(), 2);
    }

    #[test]
    fn page_numbers_in_their_usual_forms() {
        for line in [
            "3",
            " 12 ",
            "Page 3",
            "page 3 of 12",
            "3 / 12",
            "3/12",
            "- 3 -",
            "— 3 —",
            "Page 7",
        ] {
            assert!(is_page_number(line), "{line}");
        }
        for line in ["3 people", "Page three", "2024-25", "Section 3", "1.", "12345"] {
            assert!(!is_page_number(line), "{line}");
        }
    }

    #[test]
    fn hyphenated_words_are_rejoined_across_lines() {
        let text = pages(&[&format!(
            "{BODY} and the informa-\ntion we keep about the COVID-\n19 pandemic in our e-mail, well-\nKnown."
        )]);
        assert!(text.contains("the information we keep"), "{text}");
        assert!(text.contains("the COVID-19 pandemic"), "{text}");
        assert!(text.contains("e-mail, well-Known."), "{text}");
    }

    #[test]
    fn lines_join_into_paragraphs() {
        let text = pages(&[&format!(
            "PRIVACY POLICY\n\
             Last updated 1 May 2024\n\
             \n\
             {BODY} and it goes on\n\
             {BODY}.\n\
             Short last line.\n\
             {BODY} in a second paragraph that\n\
             continues here.\n\
             \n\
             1. How We Use Data\n\
             {BODY}: (a) one thing,\n\
             (b) another.\n\
             Sharing Your Information\n\
             {BODY}."
        )]);
        let paragraphs: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(
            paragraphs,
            [
                "PRIVACY POLICY",
                "Last updated 1 May 2024",
                &format!("{BODY} and it goes on {BODY}."),
                "Short last line.",
                &format!("{BODY} in a second paragraph that continues here."),
                "1. How We Use Data",
                &format!("{BODY}: (a) one thing, (b) another."),
                "Sharing Your Information",
                &format!("{BODY}."),
            ],
            "{text}"
        );
    }

    #[test]
    fn headings_join_within_a_page_only() {
        let text = pages(&[
            "Digital Services\nAct Report",
            &format!("Contents\n1 Introduction 3\n2 Scope 4\n\n{BODY}."),
        ]);
        assert_eq!(
            text,
            format!("Digital Services Act Report\n\nContents\n\n1 Introduction 3\n\n2 Scope 4\n\n{BODY}.")
        );
    }

    #[test]
    fn a_sentence_goes_on_across_a_page_break() {
        let text = pages(&[
            &format!("{BODY}.\n{BODY} that runs on to"),
            &format!("the next page.\n{BODY}."),
        ]);
        assert!(text.contains("that runs on to the next page."), "{text}");
        assert_eq!(text.split("\n\n").count(), 1, "{text}");
    }

    #[test]
    fn bullets_become_list_items() {
        let text = pages(&[&format!(
            "We collect:\n\
             • your name;\n\
             ●  your email address, which we use\n   to reach you;\n\
             ▪ your age; and\n\
             \u{F0B7} your country.\n\
             {BODY}:\n\
             - first,\n\
             * second.\n\
             {BODY} about the - dash in text."
        )]);
        let paragraphs: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(
            paragraphs,
            [
                "We collect:",
                "- your name;",
                "- your email address, which we use to reach you;",
                "- your age; and",
                "- your country.",
                &format!("{BODY}:"),
                "- first,",
                "- second.",
                &format!("{BODY} about the - dash in text."),
            ],
            "{text}"
        );
    }

    #[test]
    fn a_marker_alone_on_its_line_takes_the_next_line() {
        let text = pages(&[&format!(
            "{BODY}:\n●\nyour name;\n1.\nThe first clause.\n(b)\nThe second clause."
        )]);
        assert_eq!(
            text,
            format!("{BODY}:\n\n- your name;\n\n1. The first clause.\n\n(b) The second clause.")
        );
    }

    #[test]
    fn a_bare_number_goes_with_the_text_before_it() {
        let text = pages(&[
            "Contents\n\n1 Introduction 3\n\n2 Risk assessment methodology and\nits scope\n\n12\n\n3 Conclusion 14\n\n4 Annex 15\n\n5 Glossary 16",
        ]);
        assert!(
            text.contains("\n\n2 Risk assessment methodology and its scope 12\n\n"),
            "{text}"
        );
        assert!(text.split("\n\n").all(|p| !is_bare_number(p)), "{text}");
    }

    #[test]
    fn ligatures_and_invisible_characters_are_normalized() {
        let text = pages(&["The ﬁnal ﬂow of e\u{ad}ﬀort\u{200b}s, ﬃ and ﬄ.\u{c}\n\u{c}Next\u{a0}page: ½ stays."]);
        assert_eq!(text, "The final flow of efforts, ffi and ffl.\n\nNext page: ½ stays.");
    }

    #[test]
    fn headings_are_recognized() {
        assert!(is_heading("PERSONAL DATA PROTECTION", 80));
        assert!(is_heading("Sharing Your Information", 80));
        assert!(is_heading("2.1 Pinterest", 80));
        assert!(!is_heading("Contact us.", 80));
        assert!(!is_heading("the end of a sentence that wrapped", 80));
        assert!(!is_heading(BODY, BODY.len()));
    }

    fn word_glyphs(text: &str, x: f64, y: f64, size: f64) -> Vec<Glyph> {
        // Every glyph half an em wide; a space is a gap, as when a producer positions
        // each word on its own.
        let mut glyphs = Vec::new();
        let mut x = x;
        for c in text.chars() {
            if c != ' ' {
                glyphs.push(Glyph {
                    x,
                    y,
                    end: x + 0.5 * size,
                    size,
                    text: c.to_string(),
                });
            }
            x += 0.5 * size;
        }
        glyphs
    }

    #[test]
    fn glyphs_are_laid_out_in_words_lines_and_paragraphs() {
        let mut glyphs = Vec::new();
        // A page number drawn before its footer, on the same baseline.
        glyphs.extend(word_glyphs("7", 560.0, 30.0, 9.0));
        glyphs.extend(word_glyphs("Example Footer", 72.0, 30.0, 9.0));
        glyphs.extend(word_glyphs("Terms of use", 72.0, 720.0, 16.0));
        glyphs.extend(word_glyphs("First line of text", 72.0, 690.0, 10.0));
        glyphs.extend(word_glyphs("second line.", 72.0, 678.0, 10.0));
        glyphs.extend(word_glyphs("After a gap, indented", 92.0, 650.0, 10.0));
        glyphs.extend(word_glyphs("third line.", 72.0, 638.0, 10.0));
        // A footnote: its raised, smaller number, then its text.
        glyphs.extend(word_glyphs("1", 72.0, 103.0, 6.0));
        glyphs.extend(word_glyphs("See the annex.", 75.0, 100.0, 8.0));
        assert_eq!(
            layout_page(&glyphs),
            "Example Footer 7\n\nTerms of use\n\nFirst line of text\nsecond line.\n\n    After a gap, indented\n\
             third line.\n\n1 See the annex."
        );
    }

    /// A PDF file of the given objects, numbered from 1; object 1 is the catalog.
    fn build_pdf(objects: &[String]) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n{object}\nendobj\n", i + 1).bytes());
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
        for offset in offsets {
            out.extend(format!("{offset:010} 00000 n \n").bytes());
        }
        out.extend(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .bytes(),
        );
        out
    }

    fn stream(dict: &str, content: &str) -> String {
        format!("<< {dict} /Length {} >>\nstream\n{content}\nendstream", content.len())
    }

    const CATALOG: &str = "<< /Type /Catalog /Pages 2 0 R >>";
    const HELVETICA: &str = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";

    /// A PDF whose pages show the given content streams in Helvetica (F1).
    fn pdf(contents: &[&str]) -> Vec<u8> {
        let kids: Vec<String> = (0..contents.len()).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
        let mut objects = vec![
            CATALOG.to_string(),
            format!(
                "<< /Type /Pages /Kids [{}] /Count {} >>",
                kids.join(" "),
                contents.len()
            ),
            HELVETICA.to_string(),
        ];
        for (i, content) in contents.iter().enumerate() {
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> \
                 /Contents {} 0 R >>",
                5 + 2 * i
            ));
            objects.push(stream("", content));
        }
        build_pdf(&objects)
    }

    /// A one-page PDF whose page (object 4, content 5) draws form 6 (/X), and the given
    /// forms from 6 on, each with a content stream and its /Resources entry, if any.
    fn pdf_with_forms(forms: &[(&str, &str)]) -> Vec<u8> {
        let mut objects = vec![
            CATALOG.to_string(),
            "<< /Type /Pages /Kids [4 0 R] /Count 1 >>".to_string(),
            HELVETICA.to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << /F1 3 0 R >> /XObject << /X 6 0 R >> >> /Contents 5 0 R >>"
                .to_string(),
            stream("", "/X Do"),
        ];
        for (content, resources) in forms {
            objects.push(stream(
                &format!("/Type /XObject /Subtype /Form /BBox [0 0 612 792] {resources}"),
                content,
            ));
        }
        build_pdf(&objects)
    }

    #[test]
    fn text_in_forms_is_read_and_form_cycles_are_refused() {
        let text = "BT /F1 12 Tf 72 720 Td (Drawn by a form.) Tj ET";
        let twice = "/Y Do /Y Do";
        let bytes = pdf_with_forms(&[
            (twice, "/Resources << /XObject << /Y 7 0 R >> >>"),
            (text, "/Resources << /Font << /F1 3 0 R >> >>"),
        ]);
        assert_eq!(pdf_text(&bytes).unwrap(), "Drawn by a form. Drawn by a form.");
        // pdf-extract would recurse until the stack overflows, which aborts the process.
        let cycles = [
            ("/X Do", "/Resources << /XObject << /X 6 0 R >> >>"),
            // Without resources of its own, a form uses the page's, which name it.
            ("/X Do", ""),
        ];
        for form in cycles {
            let err = pdf_text(&pdf_with_forms(&[form])).unwrap_err();
            assert_eq!(err.kind, FailureKind::UnsupportedContent);
            assert!(err.message.contains("page 1 draws a form that draws itself"), "{err}");
        }
        // Ten forms each drawing the next ten times: ten billion drawings.
        let forms: Vec<(String, String)> = (0..10)
            .map(|i| {
                let resources = format!("/Resources << /Font << /F1 3 0 R >> /XObject << /X {} 0 R >> >>", 7 + i);
                (format!("{text} {}", "/X Do ".repeat(10)), resources)
            })
            .collect();
        let forms: Vec<(&str, &str)> = forms.iter().map(|(c, r)| (c.as_str(), r.as_str())).collect();
        let err = pdf_text(&pdf_with_forms(&forms)).unwrap_err();
        assert!(err.message.contains("draws forms more than"), "{err}");
    }

    #[test]
    fn a_page_tree_with_unreadable_pages_is_refused() {
        let mut bytes = pdf(&[
            "BT /F1 12 Tf 72 720 Td (One.) Tj ET",
            "BT /F1 12 Tf 72 720 Td (Two.) Tj ET",
        ]);
        // Damage the second page's object header, as a transfer error would.
        let at = bytes.windows(7).position(|w| w == b"6 0 obj").unwrap();
        bytes[at + 4] = b'x';
        let err = pdf_text(&bytes).unwrap_err();
        assert!(err.message.contains("lists 2 pages but 1 can be read"), "{err}");
    }

    #[test]
    fn a_page_that_is_its_own_parent_is_refused() {
        let bytes = build_pdf(&[
            CATALOG.to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_string(),
            stream("", "BT ET"),
        ]);
        let err = pdf_text(&bytes).unwrap_err();
        assert_eq!(err.kind, FailureKind::UnsupportedContent);
        assert!(err.message.contains("its own ancestor"), "{err}");
    }

    #[test]
    fn a_generated_pdf_is_read() {
        let bytes = pdf(&[
            "BT /F1 12 Tf 72 720 Td (Hello) Tj 40 0 Td (World, the \\256nal) Tj 0 -14 Td (word.) Tj ET",
            "BT /F1 12 Tf 72 720 Td (Second page.) Tj ET",
        ]);
        assert_eq!(
            pdf_text(&bytes).unwrap(),
            "Hello World, the final word.\n\nSecond page."
        );
    }

    #[test]
    fn a_pdf_with_wrong_offsets_is_repaired_but_a_cut_one_is_refused() {
        let bytes = pdf(&["BT /F1 12 Tf 72 720 Td (Still readable.) Tj ET"]);
        // Line endings converted, and a byte inserted: every offset after it is off.
        let crlf = String::from_utf8(bytes.clone())
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes();
        let mut inserted = bytes.clone();
        inserted.insert(20, b' ');
        for damaged in [crlf, inserted] {
            assert!(
                Document::load_mem(&damaged).is_err(),
                "lopdf now repairs: drop rebuilt_xref"
            );
            assert_eq!(pdf_text(&damaged).unwrap(), "Still readable.");
        }
        let err = pdf_text(&bytes[..bytes.len() - 60]).unwrap_err();
        assert_eq!(err.kind, FailureKind::UnsupportedContent);
        assert!(err.message.contains("cut short"), "{err}");
    }

    #[test]
    fn a_pdf_without_text_is_unsupported() {
        let err = pdf_text(&pdf(&["0 0 m 100 100 l S"])).unwrap_err();
        assert_eq!(err.kind, FailureKind::UnsupportedContent, "{err}");
        assert!(err.message.contains("no text"), "{err}");
    }

    #[test]
    fn garbage_is_a_failure_not_a_panic() {
        for bytes in [
            &b""[..],
            b"not a pdf at all",
            b"%PDF-1.7\n",
            b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
            &[0xFF; 4096],
        ] {
            let err = pdf_text(bytes).unwrap_err();
            assert_eq!(err.kind, FailureKind::UnsupportedContent, "{err}");
        }
        // Content streams that pdf-extract asserts on: a Tj without a string, a Tm with
        // too few operands, text shown before any font is set.
        for content in [
            "BT /F1 12 Tf 72 720 Td 42 Tj ET",
            "BT /F1 12 Tf 1 0 0 Tm (x) Tj ET",
            "BT (x) Tj ET",
        ] {
            let err = pdf_text(&pdf(&[content])).unwrap_err();
            assert_eq!(err.kind, FailureKind::UnsupportedContent, "{content}: {err}");
        }
    }

    /// The shared corpus of real PDFs, beside the repository; None (and a note) if absent.
    fn corpus() -> Option<PathBuf> {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let found = ["../shared/corpus/pdf", "../../shared/corpus/pdf"]
            .iter()
            .map(|p| manifest.join(p))
            .find(|p| p.is_dir());
        if found.is_none() {
            eprintln!("skipped: no shared/corpus/pdf beside {}", manifest.display());
        }
        found
    }

    fn corpus_text(name: &str) -> Option<String> {
        let path = corpus()?.join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Some(pdf_text(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")))
    }

    /// What every real document must satisfy: substantial text, paragraphs on one line
    /// each, no page numbers, no running header left, the expected phrases.
    fn check(name: &str, expected: &[&str]) -> Option<String> {
        let text = corpus_text(name)?;
        assert!(text.len() > 5_000, "{name}: {} bytes", text.len());
        assert!(!text.contains("\n\n\n") && !text.starts_with('\n') && !text.ends_with('\n'));
        let paragraphs: Vec<&str> = text.split("\n\n").collect();
        for p in &paragraphs {
            assert!(!p.is_empty() && !p.contains('\n') && p.trim() == *p, "{name}: {p:?}");
            assert!(!is_page_number(p) && !is_bare_number(p), "{name}: page number {p:?}");
        }
        // A running header would come back, digits aside, on most pages (list items
        // repeated in parallel sections of a short document may come back 3 times).
        let pages = Document::load_mem(&std::fs::read(corpus()?.join(name)).unwrap())
            .unwrap()
            .get_pages()
            .len();
        let mut counts: HashMap<String, usize> = HashMap::new();
        for p in &paragraphs {
            *counts.entry(shape(p)).or_default() += 1;
        }
        let (most, n) = counts.iter().max_by_key(|&(s, n)| (n, s)).unwrap();
        assert!(
            *n < (pages * 2).div_ceil(3).max(4),
            "{name}: {most:?} is repeated {n} times in {pages} pages"
        );
        for phrase in expected {
            assert!(text.contains(phrase), "{name}: {phrase:?} not found");
        }
        Some(text)
    }

    #[test]
    fn corpus_chatgpt() {
        let Some(text) = check(
            "chatgpt__law-enforcement-guidelines__2026-02-18.pdf",
            &[
                "OPENAI GOVERNMENT USER DATA REQUEST POLICY",
                "law enforcement or official representatives of government agencies",
                "- take the form of valid and enforceable legal process",
                "consistent with 18 U.S.C. § 2703(f).",
            ],
        ) else {
            return;
        };
        assert!(!text.contains("v2025.12"), "the running footer is left");
    }

    #[test]
    fn corpus_fruitz_keeps_accents_and_spaces() {
        for name in [
            "fruitz__privacy-policy__2023-07-25.pdf",
            "fruitz__privacy-policy__2024-02-26.pdf",
        ] {
            let Some(text) = check(
                name,
                &[
                    "PERSONAL DATA PROTECTION POLICY",
                    "a French “société par actions simplifiée”",
                    "Registre du Commerce et des Sociétés",
                    "\"Loi informatique et libertés\"",
                    "- your first name;",
                    "- geolocation: to allow FLASHGAP",
                ],
            ) else {
                return;
            };
            // Word gaps that pdf-extract alone loses with Google Docs' width ranges.
            for glued in ["update:2", "include,in", "geolocation:to", "to:privacy"] {
                assert!(!text.contains(glued), "{name}: {glued:?}");
            }
            assert!(text.contains("Last update: "), "{name}");
        }
    }

    #[test]
    fn corpus_pinterest() {
        let Some(text) = check(
            "pinterest__systemic-risks-2023__2025-10-03.pdf",
            &[
                "1. Executive summary",
                "Digital Services Act (DSA)",
                "- Interviews: We conducted ~40 interviews",
                "2 https://ec.europa.eu/commission/presscorner/detail/en/QANDA_20_2348",
            ],
        ) else {
            return;
        };
        // The 30 page footers are gone: only the cover's title names the report.
        assert_eq!(text.matches("Risk Assessment and Mitigation Report 2023").count(), 1);
    }

    #[test]
    fn damaged_real_pdfs_fail_without_panicking() {
        let Some(dir) = corpus() else { return };
        let bytes = std::fs::read(dir.join("chatgpt__law-enforcement-guidelines__2026-02-18.pdf")).unwrap();
        // Truncated: the cross-reference table and trailer are gone.
        for len in [10, 1_000, bytes.len() / 2, bytes.len() - 100] {
            let _ = pdf_text(&bytes[..len]);
        }
        // Bytes overwritten at spread positions (a fixed sequence, so the test is
        // repeatable): any result is fine as long as it is one.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..12 {
            let mut damaged = bytes.clone();
            for _ in 0..20 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let at = (seed >> 33) as usize % damaged.len();
                damaged[at] = (seed >> 13) as u8;
            }
            let _ = pdf_text(&damaged);
        }
    }
}
