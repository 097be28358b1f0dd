//! The default declarations (`archive/services/`) against the real pages of the same
//! documents saved in `../shared/corpus` (read there, never copied; skipped where
//! absent). A declaration that no longer cuts the policy out of today's page records
//! chrome, or nothing, on every run: this is where that shows before a user sees it.
//!
//! A saved page belongs to a default document when the URL it was fetched from (its
//! Open Terms Archive declaration says which) is the document's URL. Pages fetched more
//! than 18 months before the defaults were last checked against the corpus are left
//! out: they show that layouts move, not that a declaration is wrong today.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clausewatch::canon::{self, Selection};
use clausewatch::declaration::{self, Document};

use crate::support::{corpus, wordscore};

/// Word precision against Open Terms Archive's text of the same page, where one exists.
const MIN_PRECISION: f64 = 0.98;
/// When the default declarations were last checked against the corpus, and the oldest
/// page that still counts as today's layout (18 months before). A fixed date, so the
/// test checks the same pages every day; move both when the defaults are re-checked.
const CHECKED_ON: &str = "20261205";
const OLDEST_PAGE: &str = "20250605";

/// One saved page: where it is, the date it was fetched (`YYYYMMDD`), and OTA's text of
/// it when the corpus has one.
#[derive(Debug, Clone)]
struct SavedPage {
    path: PathBuf,
    date: String,
    reference: Option<PathBuf>,
}

fn normalized(url: &str) -> String {
    url.split('#')
        .next()
        .unwrap_or(url)
        .trim_end_matches('/')
        .replace("http://", "https://")
}

/// The URLs an Open Terms Archive entry fetches: `fetch`, or each part of `combine`.
fn fetched_urls(entry: &serde_json::Value) -> Vec<String> {
    if let Some(url) = entry.get("fetch").and_then(|v| v.as_str()) {
        return vec![normalized(url)];
    }
    entry
        .get("combine")
        .and_then(|c| c.as_array())
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.get("fetch").and_then(|v| v.as_str()).map(normalized))
                .collect()
        })
        .unwrap_or_default()
}

/// Every saved page of the corpus by the URL it was fetched from.
fn saved_pages(corpus: &Path) -> BTreeMap<String, Vec<SavedPage>> {
    let mut pages: BTreeMap<String, Vec<SavedPage>> = BTreeMap::new();
    let read_json =
        |path: &Path| -> Option<serde_json::Value> { serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok() };
    // Pairs: the declaration in force when the page was fetched.
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus.join("pairs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let (Some(meta), Some(declaration)) = (
            read_json(&dir.join("meta.json")),
            read_json(&dir.join("declaration.json")),
        ) else {
            continue;
        };
        let Some(terms_type) = meta["terms_type"].as_str() else {
            continue;
        };
        let terms = declaration.get("terms").or_else(|| declaration.get("documents"));
        let Some(entry) = terms.and_then(|t| t.get(terms_type)) else {
            continue;
        };
        let date = meta["date"].as_str().unwrap_or_default().to_string();
        let (page, reference) = if dir.join("snapshot.html").is_file() {
            (dir.join("snapshot.html"), Some(dir.join("reference.md")))
        } else {
            (dir.join("after.html"), None)
        };
        for url in fetched_urls(entry) {
            pages.entry(url).or_default().push(SavedPage {
                path: page.clone(),
                date: date.clone(),
                reference: reference.clone(),
            });
        }
    }
    // Snapshots: `html/<service>__<type>__<date>.html`; the manifest names the OTA file,
    // whose terms type the service's declaration maps to a URL.
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(ota_path)) = (fields.first(), fields.get(4)) else {
            continue;
        };
        let Some(name) = file.strip_prefix("html/").and_then(|f| f.strip_suffix(".html")) else {
            continue;
        };
        let mut pieces = name.split("__");
        let (Some(service), Some(_), Some(date)) = (pieces.next(), pieces.next(), pieces.next()) else {
            continue;
        };
        let terms_type = Path::new(ota_path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let declaration_path = corpus.join("declarations").join(format!("{service}.json"));
        let Some(declaration) = read_json(&declaration_path) else {
            continue;
        };
        let Some(entry) = declaration.get("terms").and_then(|t| t.get(terms_type)) else {
            continue;
        };
        for url in fetched_urls(entry) {
            pages.entry(url).or_default().push(SavedPage {
                path: corpus.join(file),
                date: date.replace('-', ""),
                reference: None,
            });
        }
    }
    pages
}

/// Lines that are page chrome rather than policy: language pickers, sign-up bars,
/// footer menus of `·`-separated links.
fn chrome_lines(text: &str) -> Vec<String> {
    const LANGUAGES: &[&str] = &[
        "English",
        "English (US)",
        "English (UK)",
        "Deutsch",
        "Español",
        "Español (España)",
        "Français",
        "Français (France)",
        "Italiano",
        "Português",
        "Português (Brasil)",
        "Polski",
        "Türkçe",
        "Română",
        "Nederlands",
        "Русский",
        "Українська",
        "العربية",
        "हिन्दी",
        "日本語",
        "한국어",
        "中文(简体)",
        "中文(台灣)",
        "中文(香港)",
        "Bahasa Indonesia",
        "Tiếng Việt",
        "ภาษาไทย",
    ];
    text.lines()
        .map(|line| line.trim_start_matches("- ").trim())
        .filter(|line| {
            LANGUAGES.contains(line)
                || (line.ends_with(" ·") && line.len() < 40)
                || (line.contains("Sign Up") && line.contains("Log In"))
        })
        .map(str::to_string)
        .collect()
}

fn extract(document: &Document, page: &Path, part: usize) -> Result<String, String> {
    let part = &document.parts[part];
    let selection = Selection::new(&part.select, &part.remove).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(page).unwrap();
    canon::canonicalize(&bytes, Some("text/html"), &selection).map_err(|f| f.to_string())
}

#[test]
fn default_declarations_extract_policy_text_from_saved_real_pages() {
    let Some(corpus) = corpus() else { return };
    let services = declaration::load_all(&Path::new(env!("CARGO_MANIFEST_DIR")).join("archive/services"))
        .unwrap_or_else(|errors| panic!("{errors:?}"));
    let pages = saved_pages(&corpus);
    let cutoff = OLDEST_PAGE;

    let mut checked = Vec::new();
    let mut documents = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for service in &services {
        for document in &service.documents {
            for (index, part) in document.parts.iter().enumerate() {
                let Some(saved) = pages.get(&normalized(part.url.as_str())) else {
                    continue;
                };
                for page in saved
                    .iter()
                    .filter(|p| p.date.as_str() >= cutoff && p.date.as_str() <= CHECKED_ON)
                {
                    let name = format!(
                        "{}/{} ({}, {})",
                        service.slug,
                        document.doc_type,
                        page.date,
                        page.path.display()
                    );
                    let text = match extract(document, &page.path, index) {
                        Ok(text) => text,
                        Err(e) => {
                            problems.push(format!("{name}: {e}"));
                            continue;
                        }
                    };
                    let chrome = chrome_lines(&text);
                    if chrome.len() >= 3 {
                        problems.push(format!(
                            "{name}: page chrome in the text: {:?}",
                            &chrome[..chrome.len().min(6)]
                        ));
                    }
                    let words = text.split_whitespace().count();
                    if words < 150 {
                        problems.push(format!("{name}: only {words} words"));
                    }
                    // A reference of a combined document holds every part; precision
                    // against it says nothing about one part.
                    if let Some(reference) = page.reference.as_ref().filter(|_| document.parts.len() == 1) {
                        let (precision, _) = wordscore(&corpus, &text, reference);
                        if precision < MIN_PRECISION {
                            problems.push(format!("{name}: word precision {precision:.3} against OTA's text"));
                        }
                    }
                    checked.push(name);
                    documents.insert((service.slug.clone(), document.doc_type.clone()));
                }
            }
        }
    }
    eprintln!(
        "default declarations: {} saved pages of {} documents checked since {cutoff}",
        checked.len(),
        documents.len()
    );
    assert!(
        checked.len() >= 40,
        "only {} saved pages matched a default document",
        checked.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn chrome_lines_are_recognized() {
    let text = "# Terms\n\nYou agree.\n\nDeutsch\n\nFrançais (France)\n\n- Privacy ·\n\nSign UpLog InMessenger\n";
    assert_eq!(
        chrome_lines(text),
        ["Deutsch", "Français (France)", "Privacy ·", "Sign UpLog InMessenger"]
    );
    assert!(chrome_lines("# Terms\n\nYou may use English in your posts.\n").is_empty());
}
