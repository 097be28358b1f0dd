//! Canonicalization throughput against its practical limit, parsing alone.
//!
//! `cargo bench --bench canonicalize` reads the extraction pairs of
//! `../shared/corpus/pairs/` (plain CSS selectors only, as `scripts/bench-track` does),
//! and times, on the same pages in the same process, interleaved round by round:
//! - parse: `scraper::Html::parse_document`, the html5ever parse into a DOM that the
//!   canonicalizer starts from (no selection, no text);
//! - canonicalize: `canon::canonicalize_html` with the pair's `select`/`remove`, which is
//!   that same parse plus selection, the walk into blocks, sentence splitting and rendering.
//!
//! It prints MB/s for both (median of the rounds) and their ratio. Arguments: the number
//! of rounds (default 5). Exits with a message, not a failure, when the corpus is absent.

use std::path::Path;
use std::time::{Duration, Instant};

use clausewatch::canon::{self, Selection};

struct Page {
    html: String,
    selection: Selection,
}

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pairs");
    let pages = match load(&corpus) {
        Ok(pages) if !pages.is_empty() => pages,
        Ok(_) | Err(_) => {
            eprintln!(
                "skipped: no extraction pairs in {} (../shared is absent)",
                corpus.display()
            );
            return;
        }
    };
    let bytes: usize = pages.iter().map(|p| p.html.len()).sum();
    let mb = bytes as f64 / 1e6;
    println!("{} pages, {mb:.1} MB of HTML, {rounds} rounds", pages.len());

    let (mut parse, mut canonicalize) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        parse.push(time(|| {
            for page in &pages {
                std::hint::black_box(scraper::Html::parse_document(&page.html));
            }
        }));
        canonicalize.push(time(|| {
            for page in &pages {
                let _ = std::hint::black_box(canon::canonicalize_html(&page.html, &page.selection));
            }
        }));
    }
    let (parse, canonicalize) = (median(parse), median(canonicalize));
    let rate = |d: Duration| mb / d.as_secs_f64();
    println!("| step | seconds | MB/s |");
    println!("| --- | ---: | ---: |");
    println!(
        "| parse (html5ever via scraper) | {:.3} | {:.1} |",
        parse.as_secs_f64(),
        rate(parse)
    );
    println!(
        "| canonicalize (parse, select, walk, split, render) | {:.3} | {:.1} |",
        canonicalize.as_secs_f64(),
        rate(canonicalize)
    );
    println!(
        "canonicalization runs at {:.0}% of parse-only speed",
        100.0 * parse.as_secs_f64() / canonicalize.as_secs_f64()
    );
}

fn time(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// The pairs whose document declares plain CSS selectors, with their pages.
fn load(corpus: &Path) -> std::io::Result<Vec<Page>> {
    let mut folders: Vec<_> = std::fs::read_dir(corpus)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    folders.sort();
    let mut pages = Vec::new();
    for folder in folders {
        if folder.to_string_lossy().ends_with("__noise") {
            continue;
        }
        let read_json = |name: &str| -> Option<serde_json::Value> {
            serde_json::from_str(&std::fs::read_to_string(folder.join(name)).ok()?).ok()
        };
        let (Some(declaration), Some(meta)) = (read_json("declaration.json"), read_json("meta.json")) else {
            continue;
        };
        let Some(terms_type) = meta["terms_type"].as_str() else {
            continue;
        };
        let terms = if declaration["terms"].is_object() {
            &declaration["terms"]
        } else {
            &declaration["documents"]
        };
        let entry = &terms[terms_type];
        if !entry.is_object() || entry.get("combine").is_some() {
            continue;
        }
        let (Some(select), Some(remove)) = (css_list(&entry["select"]), css_list(&entry["remove"])) else {
            continue; // a range selector
        };
        let Ok(selection) = Selection::css(&select, &remove) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(folder.join("snapshot.html")) else {
            continue;
        };
        pages.push(Page {
            html: String::from_utf8_lossy(&bytes).into_owned(),
            selection,
        });
    }
    Ok(pages)
}

/// A selector list of plain CSS strings (`None` when one is a range object).
fn css_list(value: &serde_json::Value) -> Option<Vec<String>> {
    match value {
        serde_json::Value::Null => Some(Vec::new()),
        serde_json::Value::String(s) => Some(vec![s.clone()]),
        serde_json::Value::Array(items) => items.iter().map(|i| i.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}
