//! Declarations: `services/<service>.toml`, what to track (docs/architecture.md#declarations).
//!
//! Parsing is strict (unknown keys are errors) and every validation error names the
//! file, the line and what to do, because declarations are written by hand.

pub mod lint;
pub mod ota;
pub mod selector;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use url::Url;

/// Upper bounds that keep an absurd declaration from turning into an absurd run.
const MAX_DOCUMENTS_PER_SERVICE: usize = 200;
pub const MAX_PARTS_PER_DOCUMENT: usize = 50;
const MAX_SELECTORS: usize = 100;
const MAX_SELECTOR_LEN: usize = 1_000;
const MAX_DECLARATION_BYTES: u64 = 1 << 20;

/// One service (a platform) and the documents it publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The slug, taken from the file name (`tiktok` for `services/tiktok.toml`).
    pub slug: String,
    /// The display name, e.g. `TikTok`.
    pub name: String,
    pub documents: Vec<Document>,
}

/// One tracked document of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The document-type slug, e.g. `privacy-policy`.
    pub doc_type: String,
    /// The pages the document is made of, in order; usually exactly one.
    pub parts: Vec<Part>,
    pub fetcher: FetcherKind,
}

/// One page of a document, with the selectors that cut its text out of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub url: Url,
    /// What is kept, in document order; empty means "the page minus its chrome".
    pub select: Vec<Target>,
    /// What is removed before selection.
    pub remove: Vec<Target>,
}

/// A `select` or `remove` entry: the elements a CSS selector matches, or the content
/// between two elements (Open Terms Archive's range selectors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Css(String),
    Range(RangeTarget),
}

/// From the first match of `start` (before or after it) to the first match of `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeTarget {
    pub start: String,
    pub start_edge: Edge,
    pub end: String,
    pub end_edge: Edge,
}

/// Which side of a range boundary element the range begins or ends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Before,
    After,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Css(css) => f.write_str(css),
            Target::Range(r) => {
                let edge = |e: Edge| if e == Edge::Before { "before" } else { "after" };
                write!(
                    f,
                    "{{ start_{} = {:?}, end_{} = {:?} }}",
                    edge(r.start_edge),
                    r.start,
                    edge(r.end_edge),
                    r.end
                )
            }
        }
    }
}

impl From<&str> for Target {
    fn from(css: &str) -> Target {
        Target::Css(css.to_string())
    }
}

/// How a document is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FetcherKind {
    Http,
    Browser,
    #[default]
    Auto,
}

impl fmt::Display for FetcherKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FetcherKind::Http => "http",
            FetcherKind::Browser => "browser",
            FetcherKind::Auto => "auto",
        })
    }
}

impl Service {
    /// The document with the given type slug.
    pub fn document(&self, doc_type: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.doc_type == doc_type)
    }
}

impl Document {
    /// A human title made from the type slug: `privacy-policy` -> `Privacy Policy`.
    pub fn title(&self) -> String {
        title_from_slug(&self.doc_type)
    }
}

/// `privacy-policy` -> `Privacy Policy`; `ai-terms` -> `AI Terms`.
pub fn title_from_slug(slug: &str) -> String {
    slug.split('-')
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, word)| match word {
            "ai" | "eu" | "us" | "uk" | "dsa" | "api" | "faq" => word.to_uppercase(),
            // Title case keeps short function words low after the first word.
            "of" | "and" | "or" | "the" | "for" | "on" | "in" | "to" | "a" | "an" | "by" if i > 0 => word.to_string(),
            _ => {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// A declaration that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct DeclarationError {
    pub path: PathBuf,
    /// 1-based line, when the problem has a place in the file.
    pub line: Option<usize>,
    pub message: String,
}

/// Whether `s` is a valid service or document-type slug: `[a-z0-9][a-z0-9-]*`, at most
/// 64 bytes. This rules out everything that could escape the archive folder.
pub fn is_slug(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// A slug suggestion for a rejected name: `Privacy Policy` -> `privacy-policy`.
fn suggest_slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

// ---- the file format --------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: Spanned<String>,
    #[serde(default)]
    documents: Vec<Spanned<RawDocument>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    #[serde(rename = "type")]
    doc_type: Spanned<String>,
    url: Option<Spanned<String>>,
    #[serde(default)]
    select: Selectors,
    #[serde(default)]
    remove: Selectors,
    #[serde(default)]
    fetcher: FetcherKind,
    combine: Option<Vec<Spanned<RawPart>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    url: Spanned<String>,
    select: Option<Selectors>,
    remove: Option<Selectors>,
}

/// A selector list; a single string is accepted for a single selector. The span covers
/// the whole value (serde's untagged enums cannot carry spans inside them).
#[derive(Default, Deserialize)]
#[serde(transparent)]
struct Selectors(Option<Spanned<OneOrMany>>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    // `Many` first: serde can read a struct from a sequence, so an array of four
    // selectors would otherwise be taken for one range.
    Many(Vec<RawTarget>),
    One(RawTarget),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawTarget {
    Css(String),
    Range(RawRange),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    start_before: Option<String>,
    start_after: Option<String>,
    end_before: Option<String>,
    end_after: Option<String>,
}

impl Selectors {
    fn items(&self) -> (Option<Range<usize>>, &[RawTarget]) {
        match &self.0 {
            None => (None, &[]),
            Some(spanned) => (
                Some(spanned.span()),
                match spanned.get_ref() {
                    OneOrMany::One(s) => std::slice::from_ref(s),
                    OneOrMany::Many(v) => v,
                },
            ),
        }
    }
}

/// Loads every `*.toml` under `services_dir`, sorted by slug. All errors are collected,
/// so one `check` shows every problem at once.
pub fn load_all(services_dir: &Path) -> Result<Vec<Service>, Vec<DeclarationError>> {
    let entries = match std::fs::read_dir(services_dir) {
        Ok(entries) => entries,
        Err(e) => {
            return Err(vec![DeclarationError {
                path: services_dir.to_path_buf(),
                line: None,
                message: format!("cannot read the services folder: {e}"),
            }]);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();

    let mut services = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match load_file(&path) {
            Ok(service) => services.push(service),
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    if errors.is_empty() { Ok(services) } else { Err(errors) }
}

/// Loads one declaration file; the service slug is the file stem.
pub fn load_file(path: &Path) -> Result<Service, Vec<DeclarationError>> {
    let at = |line: Option<usize>, message: String| DeclarationError {
        path: path.to_path_buf(),
        line,
        message,
    };
    // A symlink could point anywhere: declarations are plain files inside the archive.
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(vec![at(
                None,
                "declarations must be regular files, not symbolic links".into(),
            )]);
        }
        Ok(meta) if meta.len() > MAX_DECLARATION_BYTES => {
            return Err(vec![at(
                None,
                format!(
                    "file is {} bytes; a declaration is at most {MAX_DECLARATION_BYTES} bytes",
                    meta.len()
                ),
            )]);
        }
        Ok(_) => {}
        Err(e) => return Err(vec![at(None, format!("cannot read: {e}"))]),
    }
    let source = std::fs::read_to_string(path).map_err(|e| vec![at(None, format!("cannot read: {e}"))])?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    parse(stem, &source).map_err(|errs| {
        errs.into_iter()
            .map(|(span, message)| at(span.map(|s| line_of(&source, s.start)), message))
            .collect()
    })
}

/// 1-based line number of a byte offset.
fn line_of(source: &str, offset: usize) -> usize {
    source.as_bytes()[..offset.min(source.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A problem and the byte range of the declaration it is about.
pub type SpannedMessage = (Option<Range<usize>>, String);

/// Parses and validates a declaration given its slug and text.
pub fn parse(slug: &str, source: &str) -> Result<Service, Vec<SpannedMessage>> {
    let mut errors: Vec<SpannedMessage> = Vec::new();
    if !is_slug(slug) {
        errors.push((
            None,
            format!(
                "the file name {slug:?} is not a valid service slug: rename it to {:?}.toml \
                 (lowercase letters, digits and '-', starting with a letter or digit)",
                suggest_slug(slug)
            ),
        ));
    }
    let raw: RawService = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            errors.push((e.span(), describe_toml_error(&e)));
            return Err(errors);
        }
    };

    let name = raw.name.get_ref().trim().to_string();
    if name.is_empty() {
        errors.push((
            Some(raw.name.span()),
            "`name` is empty: give the platform's display name, e.g. name = \"TikTok\"".into(),
        ));
    }
    check_printable("name", &name, Some(raw.name.span()), &mut errors);
    if raw.documents.is_empty() {
        errors.push((
            None,
            "no [[documents]]: declare at least one document with `type` and `url`".into(),
        ));
    }
    if raw.documents.len() > MAX_DOCUMENTS_PER_SERVICE {
        errors.push((
            None,
            format!(
                "{} documents declared; a service may declare at most {MAX_DOCUMENTS_PER_SERVICE}",
                raw.documents.len()
            ),
        ));
        return Err(errors);
    }

    let mut documents: Vec<Document> = Vec::new();
    for raw_doc in &raw.documents {
        let span = raw_doc.span();
        let raw_doc = raw_doc.get_ref();
        let doc_type = raw_doc.doc_type.get_ref();
        let type_span = raw_doc.doc_type.span();
        if !is_slug(doc_type) {
            errors.push((
                Some(type_span.clone()),
                format!(
                    "document type {doc_type:?} is not a slug: write type = {:?} \
                     (lowercase letters, digits and '-')",
                    suggest_slug(doc_type)
                ),
            ));
        } else if documents.iter().any(|d| &d.doc_type == doc_type) {
            errors.push((
                Some(type_span),
                format!(
                    "document type {doc_type:?} is declared twice: each type appears once per \
                     service (use `combine` for a document spread over several pages)"
                ),
            ));
        }

        let mut parts = Vec::new();
        match (&raw_doc.url, &raw_doc.combine) {
            (Some(url), None) => {
                let select = check_selectors(&raw_doc.select, "select", &mut errors);
                let remove = check_selectors(&raw_doc.remove, "remove", &mut errors);
                if let Some(url) = check_url(url, &mut errors) {
                    parts.push(Part { url, select, remove });
                }
            }
            (None, Some(combine)) => {
                if combine.is_empty() {
                    errors.push((
                        Some(span.clone()),
                        "`combine` is empty: list at least one part with a `url`".into(),
                    ));
                }
                if combine.len() > MAX_PARTS_PER_DOCUMENT {
                    errors.push((
                        Some(span.clone()),
                        format!("{} parts in `combine`; at most {MAX_PARTS_PER_DOCUMENT}", combine.len()),
                    ));
                    continue;
                }
                // Document-level selectors are the defaults of parts that give none.
                let default_select = check_selectors(&raw_doc.select, "select", &mut errors);
                let default_remove = check_selectors(&raw_doc.remove, "remove", &mut errors);
                for raw_part in combine {
                    let raw_part = raw_part.get_ref();
                    let select = match &raw_part.select {
                        Some(s) => check_selectors(s, "select", &mut errors),
                        None => default_select.clone(),
                    };
                    let remove = match &raw_part.remove {
                        Some(s) => check_selectors(s, "remove", &mut errors),
                        None => default_remove.clone(),
                    };
                    if let Some(url) = check_url(&raw_part.url, &mut errors) {
                        parts.push(Part { url, select, remove });
                    }
                }
            }
            (Some(url), Some(_)) => errors.push((
                Some(url.span()),
                "a document has either `url` or `combine`, not both: move this url into a \
                 [[documents.combine]] part"
                    .into(),
            )),
            (None, None) => errors.push((
                Some(type_span_or(span, &raw_doc.doc_type)),
                format!(
                    "document {doc_type:?} has no `url`: add url = \"https://...\" (or [[documents.combine]] parts)"
                ),
            )),
        }
        documents.push(Document {
            doc_type: doc_type.clone(),
            parts,
            fetcher: raw_doc.fetcher,
        });
    }

    if errors.is_empty() {
        Ok(Service {
            slug: slug.to_string(),
            name,
            documents,
        })
    } else {
        Err(errors)
    }
}

fn type_span_or(fallback: Range<usize>, doc_type: &Spanned<String>) -> Range<usize> {
    let span = doc_type.span();
    if span.is_empty() { fallback } else { span }
}

fn check_url(raw: &Spanned<String>, errors: &mut Vec<SpannedMessage>) -> Option<Url> {
    let text = raw.get_ref().trim();
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Ok(url) => {
            errors.push((
                Some(raw.span()),
                format!(
                    "url {text:?} uses {:?}: only http and https URLs can be tracked",
                    url.scheme()
                ),
            ));
            None
        }
        Err(e) => {
            errors.push((
                Some(raw.span()),
                format!(
                    "url {text:?} is not a valid URL ({e}): write it in full, e.g. \"https://example.com/privacy\""
                ),
            ));
            None
        }
    }
}

fn check_selectors(raw: &Selectors, key: &str, errors: &mut Vec<SpannedMessage>) -> Vec<Target> {
    let (span, entries) = raw.items();
    if entries.len() > MAX_SELECTORS {
        errors.push((
            span,
            format!("{} selectors in `{key}`; at most {MAX_SELECTORS}", entries.len()),
        ));
        return Vec::new();
    }
    let mut out = Vec::new();
    for entry in entries {
        match entry {
            RawTarget::Css(css) => out.extend(check_css(css, key, &span, errors).map(Target::Css)),
            RawTarget::Range(range) => {
                let start = match (&range.start_before, &range.start_after) {
                    (Some(css), None) => Some((css, Edge::Before)),
                    (None, Some(css)) => Some((css, Edge::After)),
                    _ => None,
                };
                let end = match (&range.end_before, &range.end_after) {
                    (Some(css), None) => Some((css, Edge::Before)),
                    (None, Some(css)) => Some((css, Edge::After)),
                    _ => None,
                };
                let (Some((start, start_edge)), Some((end, end_edge))) = (start, end) else {
                    errors.push((
                        span.clone(),
                        format!("a `{key}` range needs exactly one of start_before/start_after and one of end_before/end_after"),
                    ));
                    continue;
                };
                if let (Some(start), Some(end)) =
                    (check_css(start, key, &span, errors), check_css(end, key, &span, errors))
                {
                    out.push(Target::Range(RangeTarget {
                        start,
                        start_edge,
                        end,
                        end_edge,
                    }));
                }
            }
        }
    }
    out
}

/// A declared name or selector reaches terminals, commit messages and failure messages:
/// a control character or a bidirectional override there is an escape sequence or a
/// disguise, never something a hand-written declaration needs.
fn check_printable(key: &str, value: &str, span: Option<Range<usize>>, errors: &mut Vec<SpannedMessage>) -> bool {
    let Some(c) = crate::printable::first_unprintable(value) else {
        return true;
    };
    errors.push((
        span,
        format!(
            "`{key}` contains the control character U+{:04X} ({}): terminal escapes and invisible \
             characters are not allowed in a declaration; write it as plain text",
            c as u32,
            crate::printable::escape(value)
        ),
    ));
    false
}

fn check_css(css: &str, key: &str, span: &Option<Range<usize>>, errors: &mut Vec<SpannedMessage>) -> Option<String> {
    let css = css.trim();
    // Whitespace is whitespace to CSS (and output escapes it); other controls are not.
    let visible: String = css.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if !check_printable(key, &visible, span.clone(), errors) {
        None
    } else if css.len() > MAX_SELECTOR_LEN {
        errors.push((
            span.clone(),
            format!(
                "a `{key}` selector is {} bytes long; at most {MAX_SELECTOR_LEN}",
                css.len()
            ),
        ));
        None
    } else if let Some(problem) = selector::css_problem(css) {
        errors.push((
            span.clone(),
            format!(
                "`{key}` selector {css:?} is not valid CSS ({problem}): use a standard CSS selector such as \"main\", \"#content\" or \".policy-body\""
            ),
        ));
        None
    } else {
        Some(css.to_string())
    }
}

/// Turns toml's error into one line that says what to do.
fn describe_toml_error(e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    if message.starts_with("unknown field") {
        format!("{message}; remove or rename the key (see docs/declarations.md or `clausewatch check --help`)")
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(slug: &str, source: &str) -> Vec<(usize, String)> {
        parse(slug, source)
            .unwrap_err()
            .into_iter()
            .map(|(span, m)| (span.map(|s| line_of(source, s.start)).unwrap_or(0), m))
            .collect()
    }

    #[test]
    fn control_characters_in_names_and_selectors_are_refused() {
        let source = "name = \"Evil \\u001b[31mCorp\\u001b[0m\"\n\n[[documents]]\ntype = \"terms\"\n\
                      url = \"https://evil.example/terms\"\nselect = \"main\\u202e\"\n";
        assert_eq!(
            errors("evil", source),
            vec![
                (
                    1,
                    "`name` contains the control character U+001B (Evil \\u{1b}[31mCorp\\u{1b}[0m): terminal \
                     escapes and invisible characters are not allowed in a declaration; write it as plain text"
                        .to_string()
                ),
                (
                    6,
                    "`select` contains the control character U+202E (main\\u{202e}): terminal escapes and \
                     invisible characters are not allowed in a declaration; write it as plain text"
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn parses_the_design_example() {
        let source = r#"
name = "TikTok"

[[documents]]
type = "privacy-policy"
url = "https://www.tiktok.com/legal/page/us/privacy-policy/en"
select = ["main"]
remove = [".cookie-banner", "nav"]
fetcher = "auto"

[[documents]]
type = "terms-of-service"
url = "https://www.tiktok.com/legal/page/us/terms-of-service/en"
select = "article"
"#;
        let service = parse("tiktok", source).unwrap();
        assert_eq!(service.name, "TikTok");
        assert_eq!(service.documents.len(), 2);
        let privacy = &service.documents[0];
        assert_eq!(privacy.doc_type, "privacy-policy");
        assert_eq!(privacy.parts[0].select, vec![Target::from("main")]);
        assert_eq!(
            privacy.parts[0].remove,
            vec![Target::from(".cookie-banner"), Target::from("nav")]
        );
        assert_eq!(service.documents[1].parts[0].select, vec![Target::from("article")]);
        assert_eq!(service.documents[1].fetcher, FetcherKind::Auto);
    }

    #[test]
    fn combine_parts_keep_order_and_inherit_selectors() {
        let source = r##"
name = "X"
[[documents]]
type = "terms-of-service"
select = ["main"]
[[documents.combine]]
url = "https://x.com/a"
[[documents.combine]]
url = "https://x.com/b"
select = ["#b"]
"##;
        let service = parse("x", source).unwrap();
        let parts = &service.documents[0].parts;
        assert_eq!(parts[0].url.as_str(), "https://x.com/a");
        assert_eq!(parts[0].select, vec![Target::from("main")]);
        assert_eq!(parts[1].url.as_str(), "https://x.com/b");
        assert_eq!(parts[1].select, vec![Target::from("#b")]);
    }

    #[test]
    fn unknown_key_names_its_line() {
        let errs = errors(
            "x",
            "name = \"X\"\n[[documents]]\ntype = \"a\"\nurl = \"https://x.com\"\nselector = \"main\"\n",
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, 5, "{errs:?}");
        assert!(errs[0].1.contains("unknown field `selector`"), "{errs:?}");
    }

    #[test]
    fn rejects_bad_slugs_and_suggests_one() {
        let errs = errors(
            "x",
            "name = \"X\"\n[[documents]]\ntype = \"../Privacy Policy\"\nurl = \"https://x.com\"\n",
        );
        assert_eq!(errs[0].0, 3);
        assert!(errs[0].1.contains("\"privacy-policy\""), "{errs:?}");
        let errs = errors(
            "Bad Name",
            "name = \"X\"\n[[documents]]\ntype = \"a\"\nurl = \"https://x.com\"\n",
        );
        assert!(errs[0].1.contains("\"bad-name\".toml"), "{errs:?}");
    }

    #[test]
    fn rejects_non_http_urls_duplicates_and_bad_selectors() {
        let source = "name = \"X\"\n\
            [[documents]]\ntype = \"a\"\nurl = \"file:///etc/passwd\"\n\
            [[documents]]\ntype = \"a\"\nurl = \"https://x.com\"\nselect = [\"main[\"]\n";
        let errs = errors("x", source);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert_eq!(errs[0].0, 4);
        assert!(errs[0].1.contains("only http and https"));
        assert_eq!(errs[1].0, 6);
        assert!(errs[1].1.contains("declared twice"));
        assert_eq!(errs[2].0, 8);
        assert!(errs[2].1.contains("not valid CSS"));
    }

    #[test]
    fn range_selectors() {
        let source = "name = \"X\"\n[[documents]]\ntype = \"a\"\nurl = \"https://x.com\"\n\
            select = [\"h1\", { start_after = \"#intro\", end_before = \"footer\" }]\n";
        let service = parse("x", source).unwrap();
        assert_eq!(
            service.documents[0].parts[0].select[1],
            Target::Range(RangeTarget {
                start: "#intro".into(),
                start_edge: Edge::After,
                end: "footer".into(),
                end_edge: Edge::Before
            })
        );
        let errs = errors(
            "x",
            "name = \"X\"\n[[documents]]\ntype = \"a\"\nurl = \"https://x.com\"\nselect = { start_after = \"#a\" }\n",
        );
        assert!(
            errs[0].1.contains("exactly one of start_before/start_after"),
            "{errs:?}"
        );
    }

    #[test]
    fn document_needs_exactly_one_source() {
        let errs = errors("x", "name = \"X\"\n[[documents]]\ntype = \"a\"\n");
        assert!(errs[0].1.contains("has no `url`"), "{errs:?}");
        let errs = errors(
            "x",
            "name = \"X\"\n[[documents]]\ntype = \"a\"\nurl = \"https://x.com\"\n[[documents.combine]]\nurl = \"https://x.com/b\"\n",
        );
        assert!(errs[0].1.contains("not both"), "{errs:?}");
    }

    #[test]
    fn absurd_sizes_fail_fast() {
        let mut source = String::from("name = \"X\"\n");
        for i in 0..=MAX_DOCUMENTS_PER_SERVICE {
            source.push_str(&format!(
                "[[documents]]\ntype = \"t{i}\"\nurl = \"https://x.com/{i}\"\n"
            ));
        }
        let errs = errors("x", &source);
        assert!(errs[0].1.contains("at most 200"), "{errs:?}");
        let long = "a".repeat(MAX_SELECTOR_LEN + 1);
        let errs = errors(
            "x",
            &format!("name = \"X\"\n[[documents]]\ntype = \"a\"\nurl = \"https://x.com\"\nselect = \"{long}\"\n"),
        );
        assert!(errs[0].1.contains("bytes long"), "{errs:?}");
    }

    #[test]
    fn slugs() {
        for ok in ["tiktok", "privacy-policy", "x", "1password", "a-b-c"] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in ["", "-x", "X", "a/b", "..", "a.b", "a b", "é", "a_b", &"a".repeat(65)] {
            assert!(!is_slug(bad), "{bad}");
        }
        assert_eq!(title_from_slug("ai-terms"), "AI Terms");
        assert_eq!(title_from_slug("privacy-policy"), "Privacy Policy");
        assert_eq!(title_from_slug("terms-of-service"), "Terms of Service");
        assert_eq!(title_from_slug("the-rules"), "The Rules");
    }
}
