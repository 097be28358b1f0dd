//! `clausewatch import ota-declarations`: Open Terms Archive (OTA) JSON declarations
//! converted to our TOML declarations (docs/architecture.md#declarations).
//!
//! Both formats describe a document the same way (a URL or a list of pages, CSS selectors
//! to keep and to remove, range selectors), so most of a declaration carries over as is.
//! Two things do not: OTA's named `filter`s are JavaScript functions we do not have, and
//! OTA chooses per page whether to run a page's scripts where we choose per document.
//! Whatever is lost becomes a warning and, where it helps a later reader of the file, a
//! comment in it. Each converted document is checked with our own parser, so an imported
//! file always passes `clausewatch check`.

use std::fmt::{self, Write as _};
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::error::Category;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use url::Url;

use super::{Edge, RangeTarget, Target, is_slug, title_from_slug};

/// The largest OTA declaration read. Open Terms Archive's largest are about 15 KB; the
/// cap only keeps a file of a folder that came from elsewhere (or a device) from
/// exhausting memory.
pub const MAX_OTA_DECLARATION_BYTES: u64 = 4 << 20;

/// Reads one OTA declaration for [`convert`]: a regular file, never a symbolic link (the
/// folder may be someone else's clone), of at most [`MAX_OTA_DECLARATION_BYTES`].
pub fn read_declaration(path: &Path) -> Result<String, crate::nofollow::ReadError> {
    crate::nofollow::read_capped_text(path, MAX_OTA_DECLARATION_BYTES)
}

/// A declaration converted to our format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The service slug, e.g. `tiktok` for `tiktok.json` or `tiktok.pga.json`.
    pub slug: String,
    /// A complete declaration file.
    pub toml: String,
    /// How many documents it declares.
    pub documents: usize,
    /// What was dropped or changed, one sentence each, naming service and document type.
    pub warnings: Vec<String>,
}

/// What became of one OTA file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Converted(Converted),
    /// Not imported, deliberately (a history file, or nothing in it could be converted).
    Skipped {
        reason: String,
    },
}

/// OTA type names whose slug is not simply their slugified name; the names on the right
/// are the ones `archive/services/` uses. Every other type, including the common "Terms of
/// Service", "Privacy Policy", "Community Guidelines", "Acceptable Use Policy", "Commercial
/// Terms", "Developer Terms", "Law Enforcement Guidelines", "Reports List" and "Systemic
/// Risks — 2023", slugifies to our name for it.
const TYPE_RENAMES: &[(&str, &str)] = &[
    ("Trackers Policy", "cookie-policy"),
    ("Cookies Policy", "cookie-policy"),
    ("Data Processor Agreement", "data-processing-agreement"),
    ("Generative AI Usage Policy", "ai-usage-policy"),
];

/// Keys of an OTA document and of a page of its `combine`.
const DOCUMENT_KEYS: &[&str] = &["fetch", "select", "remove", "filter", "executeClientScripts", "combine"];
const PAGE_KEYS: &[&str] = &["fetch", "select", "remove", "filter", "executeClientScripts"];

/// Selector lists longer than this are written one selector per line.
const ONE_LINE_LIST_WIDTH: usize = 100;

/// Converts one OTA declaration file. `file_name` (a path is accepted too) gives the
/// service slug: `tiktok.json` and `tiktok.pga.json` are both `tiktok`. `Err` means the
/// text is not JSON or not an OTA declaration at all.
pub fn convert(file_name: &str, json: &str) -> Result<Outcome, String> {
    let file_name = Path::new(file_name)
        .file_name()
        .map_or_else(|| file_name.to_string(), |n| n.to_string_lossy().into_owned());
    let stem = file_name.strip_suffix(".json").unwrap_or(&file_name);
    let mut segments: Vec<&str> = stem.split('.').collect();
    let named_history = segments.len() > 1 && segments.last() == Some(&"history");
    if named_history {
        segments.pop();
    }

    let raw: RawDeclaration = serde_json::from_str(json).map_err(|e| match e.classify() {
        Category::Data => format!("{file_name} is not an Open Terms Archive declaration: {e}"),
        Category::Syntax | Category::Eof | Category::Io => format!("{file_name} is not valid JSON: {e}"),
    })?;
    if named_history || raw.looks_like_history() {
        return Ok(Outcome::Skipped {
            reason: format!(
                "{file_name} holds older declarations (each valid until its `validUntil` date); \
                 only current declarations are imported"
            ),
        });
    }

    let declared_name = match &raw.name {
        Some(Value::String(name)) if !name.trim().is_empty() => Some(name.trim()),
        _ => None,
    };
    let slug = service_slug(&segments, declared_name);
    if !is_slug(&slug) {
        return Err(format!(
            "{file_name}: no service slug can be made from this file name; rename it to <service>.json"
        ));
    }
    let mut warnings = Vec::new();
    // A display name is all we need it for, so a missing one is not worth refusing the file.
    let name = declared_name.map_or_else(
        || {
            let fallback = title_from_slug(&slug);
            warnings.push(format!(
                "{fallback}: the declaration has no usable `name`; named the service {fallback:?}"
            ));
            fallback
        },
        str::to_string,
    );
    // Our declarations refuse control characters (they would reach terminals and commit
    // messages); an imported name loses them, and the import says so.
    let name = if crate::printable::first_unprintable(&name).is_some() {
        let clean: String = name
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .filter(|&c| !crate::printable::is_unprintable(c))
            .collect();
        warnings.push(format!(
            "{}: control characters removed from the name, now {clean:?}",
            crate::printable::escape(&name)
        ));
        clean
    } else {
        name
    };
    let terms = match (raw.terms, raw.documents) {
        (Some(terms), legacy) => {
            if legacy.is_some() {
                warnings.push(format!(
                    "{name}: has both `terms` and the older `documents`; imported `terms`"
                ));
            }
            terms
        }
        // `documents` is what older versions of the OTA format called `terms`.
        (None, Some(legacy)) => legacy,
        (None, None) => {
            return Err(format!(
                "{file_name} is not an Open Terms Archive declaration: it has no `terms` object"
            ));
        }
    };
    for (key, _) in &raw.other {
        // `importedFrom` records where OTA took the declaration from: nothing to convert.
        if key != "importedFrom" {
            warnings.push(format!("{name}: ignored the unknown key `{key}`"));
        }
    }

    let total = terms.0.len();
    let mut documents: Vec<Document> = Vec::new();
    for (ota_type, value) in &terms.0 {
        let mut ctx = Ctx {
            service: &name,
            ota_type,
            page: None,
            warnings: &mut warnings,
        };
        if documents.len() == super::MAX_DOCUMENTS_PER_SERVICE {
            ctx.warn(format_args!(
                "not imported: a service declares at most {} documents",
                super::MAX_DOCUMENTS_PER_SERVICE
            ));
            continue;
        }
        match convert_document(&slug, value, &documents, &mut ctx) {
            Ok(document) => documents.push(document),
            Err(reason) => ctx.warn(format_args!("not imported: {reason}")),
        }
    }
    if documents.is_empty() {
        let reason = if total == 0 {
            format!("{file_name} declares no documents")
        } else {
            format!(
                "none of the {total} documents of {file_name} could be imported: {}",
                warnings.join("; ")
            )
        };
        return Ok(Outcome::Skipped { reason });
    }

    let toml = render(&file_name, &name, &documents).expect("writing to a String cannot fail");
    debug_assert!(super::parse(&slug, &toml).is_ok(), "{toml}");
    Ok(Outcome::Converted(Converted {
        slug,
        toml,
        documents: documents.len(),
        warnings,
    }))
}

// ---- reading OTA's JSON ------------------------------------------------------------

#[derive(Deserialize)]
struct RawDeclaration {
    name: Option<Value>,
    terms: Option<Ordered>,
    documents: Option<Ordered>,
    #[serde(flatten)]
    other: Ordered,
}

impl RawDeclaration {
    /// A `<service>.history.json` under another name: type names mapping to lists of
    /// dated declarations.
    fn looks_like_history(&self) -> bool {
        self.name.is_none()
            && self.terms.is_none()
            && self.documents.is_none()
            && !self.other.0.is_empty()
            && self.other.0.iter().all(|(_, v)| v.is_array())
    }
}

/// A JSON object with its keys in file order (serde_json's `Map` sorts them), so the
/// documents come out in the order the declaration lists them.
struct Ordered(Vec<(String, Value)>);

impl<'a> IntoIterator for &'a Ordered {
    type Item = &'a (String, Value);
    type IntoIter = std::slice::Iter<'a, (String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}

/// Where warnings come from: each one names the service and the OTA document type.
struct Ctx<'a> {
    service: &'a str,
    ota_type: &'a str,
    /// 1-based index in `combine`, while reading a page of it.
    page: Option<usize>,
    warnings: &'a mut Vec<String>,
}

impl Ctx<'_> {
    fn warn(&mut self, message: impl fmt::Display) {
        let page = self
            .page
            .map(|n| format!(", page {n} of `combine`"))
            .unwrap_or_default();
        self.warnings
            .push(format!("{} \"{}\"{page}: {message}", self.service, self.ota_type));
    }
}

// ---- one document --------------------------------------------------------------------

/// One document in our terms, ready to be written.
struct Document {
    ota_type: String,
    doc_type: String,
    pages: Pages,
    /// For a single page, its selectors; with `combine`, the defaults of its pages.
    select: Vec<Target>,
    remove: Vec<Target>,
    browser: bool,
    /// OTA filters that were dropped, for a comment in the file.
    filters: Vec<String>,
}

enum Pages {
    Single(String),
    Combine(Vec<Page>),
}

/// A page of `combine`; `None` selectors inherit the document's, as in OTA.
struct Page {
    url: String,
    select: Option<Vec<Target>>,
    remove: Option<Vec<Target>>,
}

/// Converts one OTA document; `Err` says why it cannot be imported at all.
fn convert_document(slug: &str, value: &Value, taken: &[Document], ctx: &mut Ctx<'_>) -> Result<Document, String> {
    let Value::Object(declaration) = value else {
        return Err(format!("its declaration is {}, not a JSON object", kind_of(value)));
    };
    for key in declaration.keys() {
        if !DOCUMENT_KEYS.contains(&key.as_str()) {
            ctx.warn(format_args!("ignored the unknown key `{key}`"));
        }
    }
    let mut filters = filter_names(declaration.get("filter"));
    let mut browser = client_scripts(declaration.get("executeClientScripts"), ctx);
    let select = match declaration.get("select") {
        Some(value) => selectors(value, Key::Select, ctx)?,
        None => Vec::new(),
    };
    let remove = match declaration.get("remove") {
        Some(value) => selectors(value, Key::Remove, ctx)?,
        None => Vec::new(),
    };
    let pages = match (declaration.get("fetch"), declaration.get("combine")) {
        (fetch, Some(combine)) => {
            if fetch.is_some() {
                // OTA declares one or the other; `combine` names every page, so it wins.
                ctx.warn("has both `fetch` and `combine`: imported `combine` and ignored `fetch`");
            }
            let Value::Array(items) = combine else {
                return Err(format!("`combine` is {}, not a list of pages", kind_of(combine)));
            };
            let mut pages = Vec::new();
            for (index, item) in items.iter().enumerate() {
                ctx.page = Some(index + 1);
                match convert_page(item, &mut filters, &mut browser, ctx) {
                    Ok(page) => pages.push(page),
                    Err(reason) => ctx.warn(format_args!(
                        "page not imported: {reason}; the document will lack that page's text"
                    )),
                }
            }
            ctx.page = None;
            if pages.is_empty() {
                return Err("`combine` has no page that can be imported".into());
            }
            Pages::Combine(pages)
        }
        (Some(fetch), None) => Pages::Single(page_url(fetch)?),
        (None, None) => return Err("it has neither `fetch` nor `combine`".into()),
    };

    let ota_type = ctx.ota_type;
    let doc_type = unique_type(ota_type, taken, ctx)?;
    let document = Document {
        ota_type: ota_type.to_string(),
        doc_type,
        pages,
        select,
        remove,
        browser,
        filters,
    };
    // The last word is our own parser's: it knows every rule (limits included).
    let mut probe = String::from("name = \"probe\"\n");
    render_document(&mut probe, &document).expect("writing to a String cannot fail");
    if let Err(errors) = super::parse(slug, &probe) {
        let messages: Vec<String> = errors.into_iter().map(|(_, message)| message).collect();
        return Err(format!("it fails clausewatch's checks: {}", messages.join("; ")));
    }
    if !document.filters.is_empty() {
        ctx.warn(format_args!(
            "filters dropped: {} — the text may contain noise these removed",
            document.filters.join(", ")
        ));
    }
    Ok(document)
}

fn convert_page(
    item: &Value,
    filters: &mut Vec<String>,
    browser: &mut bool,
    ctx: &mut Ctx<'_>,
) -> Result<Page, String> {
    let Value::Object(page) = item else {
        return Err(format!("it is {}, not a JSON object", kind_of(item)));
    };
    for key in page.keys() {
        if !PAGE_KEYS.contains(&key.as_str()) {
            ctx.warn(format_args!("ignored the unknown key `{key}`"));
        }
    }
    for filter in filter_names(page.get("filter")) {
        if !filters.contains(&filter) {
            filters.push(filter);
        }
    }
    // We fetch all pages of a document alike, and a browser can fetch any page.
    *browser |= client_scripts(page.get("executeClientScripts"), ctx);
    let url = page_url(page.get("fetch").ok_or("it has no `fetch` URL")?)?;
    let select = page.get("select").map(|v| selectors(v, Key::Select, ctx)).transpose()?;
    let remove = page.get("remove").map(|v| selectors(v, Key::Remove, ctx)).transpose()?;
    Ok(Page { url, select, remove })
}

fn page_url(value: &Value) -> Result<String, String> {
    let Value::String(text) = value else {
        return Err(format!("`fetch` is {}, not a URL", kind_of(value)));
    };
    let text = text.trim();
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(text.to_string()),
        Ok(url) => Err(format!(
            "{text:?} is a {} URL; only http and https can be tracked",
            url.scheme()
        )),
        Err(e) => Err(format!("{text:?} is not a valid URL ({e})")),
    }
}

fn client_scripts(value: Option<&Value>, ctx: &mut Ctx<'_>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(on)) => *on,
        Some(other) => {
            ctx.warn(format_args!(
                "ignored `executeClientScripts` = {other}: it must be true or false"
            ));
            false
        }
    }
}

/// OTA filters by name; a filter with parameters (`{"removeQueryParams": ["utm_source"]}`)
/// reads `removeQueryParams(utm_source)`.
fn filter_names(value: Option<&Value>) -> Vec<String> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items.as_slice(),
        Some(single) => std::slice::from_ref(single),
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(name) => name.clone(),
            Value::Object(call) if call.len() == 1 => {
                let (name, arguments) = call.iter().next().expect("one entry");
                let arguments = match arguments {
                    Value::Array(list) => list
                        .iter()
                        .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                format!("{name}({arguments})")
            }
            other => other.to_string(),
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Select,
    Remove,
}

/// Reads a `select` or `remove` value: a selector, a range, or a list of both. Entries we
/// cannot use are dropped with a warning; `Err` when none of a `select` is left, because
/// an empty `select` would keep the whole page, not what OTA keeps.
fn selectors(value: &Value, key: Key, ctx: &mut Ctx<'_>) -> Result<Vec<Target>, String> {
    let entries = match value {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let mut targets = Vec::new();
    let mut rejected = Vec::new();
    for entry in entries {
        match target(entry) {
            Ok(target) => targets.push(target),
            Err(reason) => rejected.push(reason),
        }
    }
    if key == Key::Select && targets.is_empty() && !rejected.is_empty() {
        return Err(format!("no usable `select`: {}", rejected.join("; ")));
    }
    for reason in rejected {
        match key {
            Key::Select => ctx.warn(format_args!(
                "dropped a `select` entry: {reason} — the text may lack what it selected"
            )),
            Key::Remove => ctx.warn(format_args!(
                "dropped a `remove` entry: {reason} — the text may contain what it removed"
            )),
        }
    }
    Ok(targets)
}

fn target(entry: &Value) -> Result<Target, String> {
    match entry {
        Value::String(css) => css_selector(css).map(Target::Css),
        Value::Object(range) => {
            let (mut start, mut end) = (None, None);
            for (key, value) in range {
                let (slot, edge) = match key.as_str() {
                    "startBefore" => (&mut start, Edge::Before),
                    "startAfter" => (&mut start, Edge::After),
                    "endBefore" => (&mut end, Edge::Before),
                    "endAfter" => (&mut end, Edge::After),
                    _ => return Err(format!("a range with the unknown key `{key}`")),
                };
                let Value::String(css) = value else {
                    return Err(format!("a range whose `{key}` is {}, not a selector", kind_of(value)));
                };
                if slot.replace((css_selector(css)?, edge)).is_some() {
                    return Err("a range with two starts or two ends".into());
                }
            }
            match (start, end) {
                (Some((start, start_edge)), Some((end, end_edge))) => Ok(Target::Range(RangeTarget {
                    start,
                    start_edge,
                    end,
                    end_edge,
                })),
                _ => {
                    Err("a range without both a start (startBefore/startAfter) and an end (endBefore/endAfter)".into())
                }
            }
        }
        other => Err(format!("{}, which is neither a selector nor a range", kind_of(other))),
    }
}

/// A selector our extractor can run: the same checks as the declaration parser's.
fn css_selector(css: &str) -> Result<String, String> {
    let css = css.trim();
    if css.is_empty() {
        Err("an empty selector".into())
    } else if css.len() > super::MAX_SELECTOR_LEN {
        Err(format!(
            "a selector of {} bytes (at most {})",
            css.len(),
            super::MAX_SELECTOR_LEN
        ))
    } else if let Err(e) = scraper::Selector::parse(css) {
        Err(format!("{css:?} is not CSS our extractor supports ({e})"))
    } else {
        Ok(css.to_string())
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

// ---- names ---------------------------------------------------------------------------

/// Our slug for an OTA type name (empty if the name has no letter or digit).
pub(crate) fn type_slug(ota_type: &str) -> String {
    TYPE_RENAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(ota_type.trim()))
        .map_or_else(|| slugify(ota_type), |(_, slug)| (*slug).to_string())
}

/// The type slug for a document, unique within the service: our parser refuses a type
/// declared twice, and two OTA types can share a slug ("Trackers Policy" and "Cookies
/// Policy"). The plain slugified name is tried first, then numbered ones.
fn unique_type(ota_type: &str, taken: &[Document], ctx: &mut Ctx<'_>) -> Result<String, String> {
    let preferred = type_slug(ota_type);
    if preferred.is_empty() {
        return Err("its name has no letter or digit to make a type slug from".into());
    }
    let holder = |slug: &str| taken.iter().find(|d| d.doc_type == slug);
    let Some(other) = holder(&preferred) else {
        return Ok(preferred);
    };
    let stem = preferred[..preferred.len().min(60)].trim_end_matches('-');
    let chosen = std::iter::once(slugify(ota_type))
        .chain((2..).map(|n| format!("{stem}-{n}")))
        .find(|slug| holder(slug).is_none())
        .expect("the numbered slugs never run out");
    ctx.warn(format_args!(
        "imported as type {chosen:?}: {preferred:?} is already taken by {:?}",
        other.ota_type
    ));
    Ok(chosen)
}

/// The service slug from the dot-separated parts of the file stem: `tiktok.pga` is
/// `tiktok` in the `pga` collection. OTA service ids may themselves contain dots
/// (`Booking.com`), so the longest leading run of parts that spells the declared name
/// wins; otherwise the first part is the service.
fn service_slug(segments: &[&str], name: Option<&str>) -> String {
    let name = name.map(slugify);
    (2..=segments.len())
        .rev()
        .map(|n| slugify(&segments[..n].join(".")))
        .find(|candidate| Some(candidate) == name.as_ref())
        .unwrap_or_else(|| slugify(segments.first().copied().unwrap_or_default()))
}

/// `Systemic Risks — 2023` -> `systemic-risks-2023`, `Conditions générales` ->
/// `conditions-generales`: lowercase ASCII letters and digits, anything else a single
/// '-', accents dropped, at most 64 bytes (the limit of [`is_slug`]).
pub(crate) fn slugify(text: &str) -> String {
    let mut slug = String::new();
    let mut gap = false;
    for c in text
        .nfkd()
        .filter(|&c| !is_combining_mark(c))
        .flat_map(char::to_lowercase)
    {
        let ascii = match c {
            'a'..='z' | '0'..='9' => None,
            // Possessives and elisions read better joined: "Children's" -> "childrens".
            '\'' | '\u{2019}' => continue,
            'ß' => Some("ss"),
            'æ' => Some("ae"),
            'œ' => Some("oe"),
            'ø' => Some("o"),
            'ł' => Some("l"),
            'đ' | 'ð' => Some("d"),
            'þ' => Some("th"),
            'ı' => Some("i"),
            _ => {
                gap = true;
                continue;
            }
        };
        if gap && !slug.is_empty() {
            slug.push('-');
        }
        gap = false;
        match ascii {
            Some(text) => slug.push_str(text),
            None => slug.push(c),
        }
    }
    if slug.len() > 64 {
        slug.truncate(64);
        slug.truncate(slug.trim_end_matches('-').len());
    }
    slug
}

// ---- writing TOML --------------------------------------------------------------------

fn render(file_name: &str, name: &str, documents: &[Document]) -> Result<String, fmt::Error> {
    let mut out = String::new();
    writeln!(
        out,
        "# Imported from Open Terms Archive declaration {}",
        comment_text(file_name)
    )?;
    writeln!(out, "name = {}", toml_string(name))?;
    for document in documents {
        out.push('\n');
        render_document(&mut out, document)?;
    }
    Ok(out)
}

fn render_document(out: &mut String, document: &Document) -> fmt::Result {
    // Our titles are made from the slug: keep OTA's name where the title will not show it.
    if !title_from_slug(&document.doc_type).eq_ignore_ascii_case(&document.ota_type) {
        writeln!(out, "# Open Terms Archive type: {}", comment_text(&document.ota_type))?;
    }
    if !document.filters.is_empty() {
        writeln!(
            out,
            "# Not imported: Open Terms Archive filters (JavaScript) {}",
            comment_text(&document.filters.join(", "))
        )?;
    }
    writeln!(out, "[[documents]]")?;
    writeln!(out, "type = {}", toml_string(&document.doc_type))?;
    if let Pages::Single(url) = &document.pages {
        writeln!(out, "url = {}", toml_string(url))?;
    }
    if !document.select.is_empty() {
        write_targets(out, "select", &document.select)?;
    }
    if !document.remove.is_empty() {
        write_targets(out, "remove", &document.remove)?;
    }
    if document.browser {
        writeln!(out, "fetcher = \"browser\"")?;
    }
    if let Pages::Combine(pages) = &document.pages {
        for page in pages {
            writeln!(out, "[[documents.combine]]")?;
            writeln!(out, "url = {}", toml_string(&page.url))?;
            // An empty list matters only when it overrides a default.
            if let Some(select) = page
                .select
                .as_ref()
                .filter(|s| !s.is_empty() || !document.select.is_empty())
            {
                write_targets(out, "select", select)?;
            }
            if let Some(remove) = page
                .remove
                .as_ref()
                .filter(|r| !r.is_empty() || !document.remove.is_empty())
            {
                write_targets(out, "remove", remove)?;
            }
        }
    }
    Ok(())
}

/// `key = [...]` on one line, or one entry per line when that would be long.
fn write_targets(out: &mut String, key: &str, targets: &[Target]) -> fmt::Result {
    let items: Vec<String> = targets.iter().map(target_toml).collect();
    let one_line = items.join(", ");
    if key.len() + one_line.len() + 5 <= ONE_LINE_LIST_WIDTH {
        writeln!(out, "{key} = [{one_line}]")
    } else {
        writeln!(out, "{key} = [")?;
        for item in items {
            writeln!(out, "    {item},")?;
        }
        writeln!(out, "]")
    }
}

fn target_toml(target: &Target) -> String {
    match target {
        Target::Css(css) => toml_string(css),
        Target::Range(range) => {
            let edge = |edge: Edge| if edge == Edge::Before { "before" } else { "after" };
            format!(
                "{{ start_{} = {}, end_{} = {} }}",
                edge(range.start_edge),
                toml_string(&range.start),
                edge(range.end_edge),
                toml_string(&range.end)
            )
        }
    }
}

/// `text` as a TOML string. Selectors are full of double quotes, so a literal string
/// (`'a[href="x"]'`, no escapes at all) is used when it can represent `text`; otherwise a
/// basic string with every character TOML requires escaped.
fn toml_string(text: &str) -> String {
    let literal_ok = !text.contains('\'') && !text.chars().any(char::is_control);
    if literal_ok && (text.contains('"') || text.contains('\\')) {
        return format!("'{text}'");
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Every control character is in the BMP, so four digits suffice.
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` made safe for a comment line: TOML comments cannot hold control characters,
/// and a newline would end the comment.
fn comment_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::super::{FetcherKind, Service};
    use super::*;

    fn converted(file_name: &str, json: &str) -> Converted {
        match convert(file_name, json) {
            Ok(Outcome::Converted(converted)) => converted,
            other => panic!("{file_name}: {other:?}"),
        }
    }

    /// Our parser reads the output back.
    fn parsed(converted: &Converted) -> Service {
        super::super::parse(&converted.slug, &converted.toml)
            .unwrap_or_else(|errors| panic!("{errors:?}\n{}", converted.toml))
    }

    fn corpus_declarations() -> Option<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let found = ["../shared/corpus", "../../shared/corpus"]
            .iter()
            .map(|dir| root.join(dir).join("declarations"))
            .find(|dir| dir.is_dir());
        if found.is_none() {
            eprintln!(
                "skipped: no shared corpus (../shared/corpus) next to {}",
                root.display()
            );
        }
        found
    }

    fn corpus_file(name: &str) -> Option<Converted> {
        let path = corpus_declarations()?.join(name);
        Some(converted(name, &std::fs::read_to_string(path).unwrap()))
    }

    fn css(items: &[&str]) -> Vec<Target> {
        items.iter().map(|&s| Target::from(s)).collect()
    }

    /// OTA's selectors read naively, to compare with what our parser reads back.
    fn ota_targets(value: Option<&Value>) -> Option<Vec<Target>> {
        let entries = match value? {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        };
        let target = |entry: Value| match entry {
            Value::String(css) => Target::Css(css.trim().to_string()),
            Value::Object(range) => {
                let side = |before: &str, after: &str| match (range.get(before), range.get(after)) {
                    (Some(Value::String(css)), None) => (css.clone(), Edge::Before),
                    (None, Some(Value::String(css))) => (css.clone(), Edge::After),
                    _ => panic!("bad range {range:?}"),
                };
                let (start, start_edge) = side("startBefore", "startAfter");
                let (end, end_edge) = side("endBefore", "endAfter");
                Target::Range(RangeTarget {
                    start,
                    start_edge,
                    end,
                    end_edge,
                })
            }
            other => panic!("bad selector {other}"),
        };
        Some(entries.into_iter().map(target).collect())
    }

    /// Every document of a declaration, read back by our parser, fetches OTA's pages with
    /// OTA's selectors (a page's own, else the document's) and OTA's need for a browser.
    fn assert_faithful(json: &str, service: &Service) {
        let declaration: Value = serde_json::from_str(json).unwrap();
        let terms = declaration.get("terms").or(declaration.get("documents")).unwrap();
        for (ota_type, ota) in terms.as_object().unwrap() {
            let doc_type = type_slug(ota_type);
            let ours = service
                .document(&doc_type)
                .unwrap_or_else(|| panic!("{doc_type} missing"));
            let ota_pages = match ota.get("combine") {
                Some(Value::Array(pages)) => pages.clone(),
                _ => vec![ota.clone()],
            };
            assert_eq!(ours.parts.len(), ota_pages.len(), "{ota_type}");
            let mut browser = ota.get("executeClientScripts") == Some(&Value::Bool(true));
            for (part, page) in ours.parts.iter().zip(&ota_pages) {
                assert_eq!(
                    part.url.as_str(),
                    Url::parse(page["fetch"].as_str().unwrap()).unwrap().as_str()
                );
                let effective = |key: &str| {
                    ota_targets(page.get(key))
                        .or_else(|| ota_targets(ota.get(key)))
                        .unwrap_or_default()
                };
                assert_eq!(part.select, effective("select"), "{ota_type} select");
                assert_eq!(part.remove, effective("remove"), "{ota_type} remove");
                browser |= page.get("executeClientScripts") == Some(&Value::Bool(true));
            }
            let fetcher = if browser {
                FetcherKind::Browser
            } else {
                FetcherKind::Auto
            };
            assert_eq!(ours.fetcher, fetcher, "{ota_type}");
        }
    }

    #[test]
    fn every_corpus_declaration_converts_or_is_skipped() {
        let Some(dir) = corpus_declarations() else { return };
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        assert!(names.len() >= 40, "{names:?}");
        let (mut converted_files, mut skipped, mut documents) = (0, 0, 0);
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for name in &names {
            let json = std::fs::read_to_string(dir.join(name)).unwrap();
            match convert(name, &json).unwrap_or_else(|e| panic!("{name}: {e}")) {
                Outcome::Skipped { reason } => {
                    assert!(name.ends_with(".history.json"), "{name}: {reason}");
                    skipped += 1;
                }
                Outcome::Converted(converted) => {
                    assert!(!name.ends_with(".history.json"), "{name}");
                    assert_eq!(converted.slug, name.split('.').next().unwrap());
                    let first = format!("# Imported from Open Terms Archive declaration {name}\n");
                    assert!(converted.toml.starts_with(&first), "{}", converted.toml);
                    let service = parsed(&converted);
                    assert_eq!(service.documents.len(), converted.documents);
                    assert_faithful(&json, &service);
                    converted_files += 1;
                    documents += converted.documents;
                    for warning in &converted.warnings {
                        let kind = [
                            "filters dropped",
                            "not imported",
                            "dropped a",
                            "unknown key",
                            "imported as type",
                        ]
                        .into_iter()
                        .find(|kind| warning.contains(kind))
                        .unwrap_or("other");
                        *kinds.entry(kind).or_default() += 1;
                        eprintln!("{name}: {warning}");
                    }
                }
            }
        }
        eprintln!(
            "{} files: {converted_files} converted, {skipped} skipped; {documents} documents; warnings {kinds:?}",
            names.len()
        );
        assert_eq!(converted_files + skipped, names.len());
        // Only filters are lost on this corpus: every selector and URL carries over.
        assert_eq!(kinds.keys().copied().collect::<Vec<_>>(), ["filters dropped"]);
    }

    #[test]
    fn corpus_specifics() {
        // A range selector, and a browser for `executeClientScripts`.
        let Some(amazon) = corpus_file("amazon-com.json") else {
            return;
        };
        assert!(amazon.toml.contains(
            "type = \"privacy-policy\"\n\
             url = \"https://www.amazon.com/gp/help/customer/display.html/ref=hp_left_v4_sib?ie=UTF8&nodeId=GX7NJQ4ZB8MHFRNJ\"\n\
             select = [{ start_before = \"h1\", end_before = \"#hmd-FeedbackBox\" }]\n\
             fetcher = \"browser\"\n"
        ));
        assert_eq!(amazon.slug, "amazon-com");
        let service = parsed(&amazon);
        assert_eq!(service.name, "Amazon.com");
        assert_eq!(service.document("terms-of-service").unwrap().fetcher, FetcherKind::Auto);

        // A range in `remove` ending after its element; filters become a warning and a comment.
        let facebook = corpus_file("facebook.json").unwrap();
        assert!(facebook.toml.contains(
            r#"remove = [{ start_before = '[role="separator"]', end_after = "body" }, '[style="display:none"]']"#
        ));
        assert!(
            facebook.warnings.contains(
                &"Facebook \"Terms of Service\": filters dropped: removeEmptyAnchorsLinks, removeTrackingIDs, \
              removeLocaleFromUrls — the text may contain noise these removed"
                    .to_string()
            )
        );
        assert!(facebook.toml.contains(
            "# Not imported: Open Terms Archive filters (JavaScript) removeEmptyAnchorsLinks, removeTrackingIDs, \
             removeLocaleFromUrls\n[[documents]]\ntype = \"terms-of-service\"\n"
        ));
        // Documents keep the declaration's order, not serde_json's alphabetical one.
        let types: Vec<String> = parsed(&facebook).documents.into_iter().map(|d| d.doc_type).collect();
        assert_eq!(
            types[..3],
            ["privacy-policy", "terms-of-service", "community-guidelines"]
        );

        // A filter with parameters.
        let google = corpus_file("google.json").unwrap();
        assert!(
            google
                .warnings
                .iter()
                .any(|w| w.contains("removeQueryParams(utm_source, utm_medium, utm_campaign), removeCountryVersion")),
            "{:?}",
            google.warnings
        );

        // One page of `combine` runs scripts: the whole document uses the browser.
        let claude = corpus_file("claude-ai.json").unwrap();
        let dpa = parsed(&claude);
        let dpa = dpa.document("data-processing-agreement").unwrap();
        assert_eq!(dpa.fetcher, FetcherKind::Browser);
        assert!(
            claude
                .toml
                .contains("# Open Terms Archive type: Data Processor Agreement\n")
        );

        // Shared selectors of `combine` stay on the document, as defaults of its pages.
        let chatgpt = corpus_file("chatgpt.genai-eu.json").unwrap();
        assert_eq!(chatgpt.slug, "chatgpt");
        assert!(chatgpt.toml.contains(
            "type = \"terms-of-service\"\n\
             select = [\"main\"]\n\
             remove = ['select[name=\"Locale Select\"]', \"main .sr-only\"]\n\
             fetcher = \"browser\"\n\
             [[documents.combine]]\n\
             url = \"https://openai.com/policies/eu-terms-of-use/\"\n\
             [[documents.combine]]\n"
        ));

        // TikTok declares DSA documents: PDFs, a dash in the type, a '[' in a URL.
        let tiktok = corpus_file("tiktok.json").unwrap();
        assert!(tiktok.toml.contains(
            "# Open Terms Archive type: Systemic Risks — 2023\n[[documents]]\ntype = \"systemic-risks-2023\"\n"
        ));
        assert!(
            tiktok
                .toml
                .contains("[/ljhwZthlaukjlkulzlp/DSA/TikTok_DSA_Risk_Assessment_Report_2024.pdf")
        );
        assert!(tiktok.toml.contains("type = \"reports-list\"\n"));
        assert!(tiktok.warnings.is_empty());
        let reports = parsed(&tiktok);
        assert_eq!(reports.document("reports-list").unwrap().fetcher, FetcherKind::Browser);
        // Its PGA declaration (no ranges) combines pages, run with a browser.
        let tiktok_pga = corpus_file("tiktok.pga.json").unwrap();
        assert_eq!(tiktok_pga.slug, "tiktok");
        let tiktok_pga = parsed(&tiktok_pga);
        let privacy = tiktok_pga.document("privacy-policy").unwrap();
        assert!(privacy.parts.len() > 1 && privacy.fetcher == FetcherKind::Browser);

        // A range inside a page of `combine`.
        let x = corpus_file("x.pga.json").unwrap();
        let x_service = parsed(&x);
        let guidelines = x_service.document("community-guidelines").unwrap();
        assert!(guidelines.parts.len() > 30);
        assert!(
            guidelines
                .parts
                .iter()
                .any(|p| matches!(p.select.first(), Some(Target::Range(r)) if r.end == "[class*=\"share-tweet\"]"))
        );

        // The legacy `documents` key; `importedFrom` is no cause for a warning.
        let openai = corpus_file("openai.json").unwrap();
        assert!(openai.documents > 0);
        let spotify = corpus_file("spotify.json").unwrap();
        assert!(spotify.warnings.iter().all(|w| !w.contains("importedFrom")));
    }

    #[test]
    fn history_files_are_skipped() {
        let history =
            r#"{ "Privacy Policy": [ { "fetch": "https://a.example/p", "validUntil": "2023-02-15T12:32:05Z" } ] }"#;
        for name in ["amazon-com.history.json", "x.pga.history.json", "renamed.json"] {
            let Ok(Outcome::Skipped { reason }) = convert(name, history) else {
                panic!("{name}")
            };
            assert!(reason.contains("older declarations"), "{reason}");
        }
        // Still JSON, though.
        assert!(convert("a.history.json", "{").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn errors_are_for_what_is_not_a_declaration() {
        let err = convert("a.json", "{\"name\": \"A\",").unwrap_err();
        assert!(err.starts_with("a.json is not valid JSON"), "{err}");
        let err = convert("a.json", "[1, 2]").unwrap_err();
        assert!(err.contains("not an Open Terms Archive declaration"), "{err}");
        let err = convert("a.json", r#"{"name": "A"}"#).unwrap_err();
        assert!(err.contains("no `terms` object"), "{err}");
        let err = convert("a.json", r#"{"name": "A", "terms": "x"}"#).unwrap_err();
        assert!(err.contains("not an Open Terms Archive declaration"), "{err}");
        let err = convert("-.json", r#"{"name": "—", "terms": {}}"#).unwrap_err();
        assert!(err.contains("no service slug"), "{err}");
    }

    #[test]
    fn awkward_strings_are_escaped_and_read_back_unchanged() {
        let selectors = [
            r#"a[title="say \"hi\""]"#,
            r#"[data-x="back\\slash"]"#,
            r#"[title="it's \"both\""]"#,
            r".a\:b",
            "[title='single']",
            "[title=\"tab\there\"]",
            "[title=\"ünïcødé — ✓ 𝔘\"]",
            r#"[title="\\\"\\"]"#,
        ];
        let remove: Vec<Value> = selectors.iter().map(|&s| Value::from(s)).collect();
        let json = serde_json::json!({
            "name": "Ac\"me\\ \u{1} Ünï\ncode",
            "terms": { "Privacy Policy": {
                "fetch": "https://example.com/p?a=\"b\"&c='d'",
                "select": [{ "startAfter": selectors[0], "endBefore": selectors[2] }],
                "remove": remove,
            } }
        });
        let converted = converted("acme.json", &json.to_string());
        // Control characters leave the name (declarations refuse them, issue 15).
        assert_eq!(
            converted.warnings,
            [r#"Ac"me\ \u{1} Ünï\u{a}code: control characters removed from the name, now "Ac\"me\\  Ünï code""#]
        );
        // Literal strings keep selectors readable.
        assert!(
            converted.toml.contains(r#"    '[data-x="back\\slash"]',"#),
            "{}",
            converted.toml
        );
        assert!(
            converted.toml.contains(r#""[title=\"it's \\\"both\\\"\"]""#),
            "{}",
            converted.toml
        );
        let service = parsed(&converted);
        assert_eq!(service.name, "Ac\"me\\  Ünï code");
        let part = &service.documents[0].parts[0];
        assert_eq!(part.remove, css(&selectors));
        assert_eq!(
            part.select,
            [Target::Range(RangeTarget {
                start: selectors[0].into(),
                start_edge: Edge::After,
                end: selectors[2].into(),
                end_edge: Edge::Before,
            })]
        );
        // A file name cannot break out of the comment line.
        let sneaky = converted_named("a.json\nname = \"x\"");
        assert!(
            sneaky
                .toml
                .starts_with("# Imported from Open Terms Archive declaration a.json name = \"x\"\n")
        );
    }

    fn converted_named(file_name: &str) -> Converted {
        let json = r#"{"name": "A", "terms": {"Privacy Policy": {"fetch": "https://a.example/p"}}}"#;
        let converted = converted(file_name, json);
        parsed(&converted);
        converted
    }

    #[test]
    fn toml_strings() {
        for text in [
            "",
            "plain",
            "a\"b",
            "a'b",
            "a'b\"c\\d",
            "\u{7f}\u{0}\u{1b}\u{85}\r\n\t",
            "ß—✓",
        ] {
            let value: toml::Value = toml::from_str(&format!("v = {}", toml_string(text))).unwrap();
            assert_eq!(value["v"].as_str(), Some(text), "{}", toml_string(text));
        }
        assert_eq!(toml_string("a\"b"), "'a\"b'");
        assert_eq!(toml_string("main"), "\"main\"");
    }

    #[test]
    fn legacy_documents_key_and_order() {
        let json = r#"{"name": "Old", "documents": {
            "Terms of Service": {"fetch": "https://old.example/tos", "select": "main"},
            "Cookies Policy": {"fetch": "https://old.example/cookies", "executeClientScripts": false}
        }}"#;
        let converted = converted("old.json", json);
        assert!(converted.warnings.is_empty(), "{:?}", converted.warnings);
        assert_eq!(
            converted.toml,
            "# Imported from Open Terms Archive declaration old.json\n\
             name = \"Old\"\n\
             \n\
             [[documents]]\n\
             type = \"terms-of-service\"\n\
             url = \"https://old.example/tos\"\n\
             select = [\"main\"]\n\
             \n\
             # Open Terms Archive type: Cookies Policy\n\
             [[documents]]\n\
             type = \"cookie-policy\"\n\
             url = \"https://old.example/cookies\"\n"
        );
        assert_eq!(parsed(&converted).documents[1].fetcher, FetcherKind::Auto);
    }

    #[test]
    fn slugs() {
        for (text, slug) in [
            ("Amazon.com", "amazon-com"),
            ("Systemic Risks — 2023", "systemic-risks-2023"),
            ("Community Guidelines - Self-harm", "community-guidelines-self-harm"),
            (
                "Conditions Générales d’Utilisation",
                "conditions-generales-dutilisation",
            ),
            ("Children's Privacy Policy", "childrens-privacy-policy"),
            ("  Straße & Œuvre / Søren  ", "strasse-oeuvre-soren"),
            ("ﬁle Ｎａｍｅ", "file-name"),
            ("利用規約", ""),
        ] {
            assert_eq!(slugify(text), slug, "{text}");
        }
        let long = slugify(&"word ".repeat(30));
        assert!(is_slug(&long) && long.len() <= 64, "{long}");

        for (ota, ours) in [
            ("Terms of Service", "terms-of-service"),
            ("Privacy Policy", "privacy-policy"),
            ("Community Guidelines", "community-guidelines"),
            ("Trackers Policy", "cookie-policy"),
            ("Cookies Policy", "cookie-policy"),
            ("Acceptable Use Policy", "acceptable-use-policy"),
            ("Commercial Terms", "commercial-terms"),
            ("Developer Terms", "developer-terms"),
            ("Law Enforcement Guidelines", "law-enforcement-guidelines"),
            ("Generative AI Usage Policy", "ai-usage-policy"),
            ("Data Processor Agreement", "data-processing-agreement"),
            ("Reports List", "reports-list"),
            ("Systemic Risks — 2023", "systemic-risks-2023"),
            ("In-App Purchases Policy", "in-app-purchases-policy"),
        ] {
            assert_eq!(type_slug(ota), ours);
        }
        assert!(TYPE_RENAMES.iter().all(|(_, slug)| is_slug(slug)));

        for (file, name, slug) in [
            ("tiktok.json", "TikTok", "tiktok"),
            ("tiktok.pga.json", "TikTok", "tiktok"),
            ("chatgpt.genai-eu.json", "ChatGPT", "chatgpt"),
            ("Amazon.com.json", "Amazon.com", "amazon-com"),
            ("Booking.com.contrib.json", "Booking.com", "booking-com"),
            ("Amazon.json", "Amazon", "amazon"),
            ("/some/dir/Le Monde.json", "Le Monde", "le-monde"),
            ("x.pga.json", "Something else", "x"),
        ] {
            let json = format!(r#"{{"name": "{name}", "terms": {{"Imprint": {{"fetch": "https://a.example/"}}}}}}"#);
            assert_eq!(converted(file, &json).slug, slug, "{file}");
        }
    }

    #[test]
    fn what_cannot_be_converted_is_dropped_with_a_warning() {
        let json = r#"{"name": "Shop", "owner": "me", "terms": {
            "Terms of Service": {"fetch": "https://shop.example/tos", "select": ["main", "main["],
                "remove": ["nav", {"startBefore": "h1"}, 3], "validUntil": "2020"},
            "Privacy Policy": {"fetch": "ftp://shop.example/privacy"},
            "Imprint": {"fetch": "https://shop.example/imprint", "select": ":has-text(x)"},
            "Trackers Policy": {"fetch": "https://shop.example/cookies", "filter": ["cleanUrls"]},
            "Cookies Policy": {"fetch": "https://shop.example/cookies2", "executeClientScripts": "yes"},
            "Developer Terms": {"select": "main", "combine": [
                {"fetch": "https://shop.example/d1", "remove": []},
                {"fetch": "javascript:alert(1)"},
                {"fetch": "https://shop.example/d3", "filter": [{"removeQueryParams": ["utm"]}], "executeClientScripts": true}
            ]},
            "Brand Guidelines": {"fetch": "https://shop.example/a", "combine": [{"fetch": "https://shop.example/b"}]},
            "Live Policy": {"select": "main"},
            "—": {"fetch": "https://shop.example/dash"}
        }}"#;
        let converted = converted("shop.json", json);
        let expected = [
            "Shop: ignored the unknown key `owner`",
            "Shop \"Terms of Service\": ignored the unknown key `validUntil`",
            "Shop \"Terms of Service\": dropped a `select` entry: \"main[\" is not CSS our extractor supports",
            "Shop \"Terms of Service\": dropped a `remove` entry: a range without both a start",
            "Shop \"Terms of Service\": dropped a `remove` entry: a number, which is neither",
            "Shop \"Privacy Policy\": not imported: \"ftp://shop.example/privacy\" is a ftp URL",
            "Shop \"Imprint\": not imported: no usable `select`: \":has-text(x)\" is not CSS",
            "Shop \"Trackers Policy\": filters dropped: cleanUrls — the text may contain noise these removed",
            "Shop \"Cookies Policy\": ignored `executeClientScripts` = \"yes\": it must be true or false",
            "Shop \"Cookies Policy\": imported as type \"cookies-policy\": \"cookie-policy\" is already taken by \"Trackers Policy\"",
            "Shop \"Developer Terms\", page 2 of `combine`: page not imported: \"javascript:alert(1)\" is a javascript URL",
            "Shop \"Developer Terms\": filters dropped: removeQueryParams(utm) — the text",
            "Shop \"Brand Guidelines\": has both `fetch` and `combine`: imported `combine` and ignored `fetch`",
            "Shop \"Live Policy\": not imported: it has neither `fetch` nor `combine`",
            "Shop \"—\": not imported: its name has no letter or digit",
        ];
        for (warning, start) in converted.warnings.iter().zip(expected) {
            assert!(warning.starts_with(start), "{warning}\n  does not start with\n{start}");
        }
        assert_eq!(converted.warnings.len(), expected.len(), "{:#?}", converted.warnings);

        let service = parsed(&converted);
        let types: Vec<&str> = service.documents.iter().map(|d| d.doc_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "terms-of-service",
                "cookie-policy",
                "cookies-policy",
                "developer-terms",
                "brand-guidelines"
            ]
        );
        assert_eq!(converted.documents, 5);
        let tos = &service.documents[0].parts[0];
        assert_eq!(
            (tos.select.clone(), tos.remove.clone()),
            (css(&["main"]), css(&["nav"]))
        );
        let developer = service.document("developer-terms").unwrap();
        assert_eq!(developer.fetcher, FetcherKind::Browser);
        assert_eq!(developer.parts.len(), 2);
        assert!(
            developer
                .parts
                .iter()
                .all(|p| p.select == css(&["main"]) && p.remove.is_empty())
        );
        assert_eq!(
            service.document("brand-guidelines").unwrap().parts[0].url.as_str(),
            "https://shop.example/b"
        );
    }

    #[test]
    fn nothing_convertible_is_skipped_with_the_reasons() {
        let json = r#"{"name": "Gone", "terms": {"Privacy Policy": {"fetch": "mailto:a@b.c"}}}"#;
        let Ok(Outcome::Skipped { reason }) = convert("gone.json", json) else {
            panic!()
        };
        assert!(
            reason.contains("none of the 1 documents") && reason.contains("mailto"),
            "{reason}"
        );
        let Ok(Outcome::Skipped { reason }) = convert("empty.json", r#"{"name": "E", "terms": {}}"#) else {
            panic!()
        };
        assert!(reason.contains("declares no documents"), "{reason}");
    }

    #[test]
    fn missing_name_falls_back_to_the_slug() {
        let json = r#"{"terms": {"Privacy Policy": {"fetch": "https://a.example/p"}}}"#;
        let converted = converted("meta-ai.json", json);
        assert_eq!(parsed(&converted).name, "Meta AI");
        assert_eq!(converted.warnings.len(), 1, "{:?}", converted.warnings);
    }

    #[test]
    fn our_parsers_limits_apply() {
        let many: Vec<String> = (0..=super::super::MAX_PARTS_PER_DOCUMENT)
            .map(|i| format!(r#"{{"fetch": "https://a.example/{i}"}}"#))
            .collect();
        let json = format!(
            r#"{{"name": "Big", "terms": {{"Privacy Policy": {{"fetch": "https://a.example/p"}},
                "Terms of Service": {{"combine": [{}]}}}}}}"#,
            many.join(",")
        );
        let converted = converted("big.json", &json);
        assert_eq!(converted.documents, 1);
        assert!(
            converted.warnings[0].contains("fails clausewatch's checks"),
            "{:?}",
            converted.warnings
        );
    }
}
