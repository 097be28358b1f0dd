//! clausewatch's canonicalizer against html2text on the corpus extraction pairs: word
//! agreement with Open Terms Archive's reference text, and throughput. See RESULTS.md.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use std::{env, fs};

use clausewatch::canon::{Selection, canonicalize_html};
use scraper::{ElementRef, Html, Selector};

/// One extraction pair whose declaration uses CSS selectors only.
struct Case {
    name: String,
    dir: PathBuf,
    html: String,
    select: Vec<String>,
    remove: Vec<String>,
}

type Converter = fn(&Case) -> String;

const CONVERTERS: [(&str, Converter); 2] = [("clausewatch", clausewatch), ("html2text", html2text)];
const RUNS: usize = 3;

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !corpus.is_dir() {
        println!("{} is missing: nothing to measure.", corpus.display());
        return;
    }
    let (cases, skipped) = load(&corpus.join("pairs"));
    let out = env::temp_dir().join("html2text-compare");
    let wordscore = corpus.join("../scripts/wordscore");
    let megabytes = cases.iter().map(|c| c.html.len()).sum::<usize>() as f64 / 1e6;

    // scores[converter][case] = (f1, order)
    let scores: Vec<Vec<(f64, f64)>> = CONVERTERS
        .iter()
        .map(|(name, convert)| {
            let score_case = |case: &Case| {
                let text = out.join(&case.name).join(format!("{name}.txt"));
                fs::create_dir_all(text.parent().unwrap()).unwrap();
                fs::write(&text, convert(case)).unwrap();
                score(&wordscore, &text, &case.dir.join("reference.md"))
            };
            cases.iter().map(score_case).collect()
        })
        .collect();

    // Throughput: runs alternate between the converters so that a change in machine load
    // hits both alike; each converter's figure is its median run.
    let mut runs = vec![Vec::new(); CONVERTERS.len()];
    for _ in 0..RUNS {
        for (i, (_, convert)) in CONVERTERS.iter().enumerate() {
            let start = Instant::now();
            cases.iter().for_each(|c| drop(convert(c)));
            runs[i].push(megabytes / start.elapsed().as_secs_f64());
        }
    }
    let speeds: Vec<f64> = runs
        .into_iter()
        .map(|mut r| {
            r.sort_by(f64::total_cmp);
            r[RUNS / 2]
        })
        .collect();

    println!(
        "{} extraction pairs, {megabytes:.1} MB of HTML ({skipped} skipped: range selectors); texts in {}\n",
        cases.len(),
        out.display()
    );
    println!("| converter | mean F1 | worst F1 | mean order | pairs < 0.99 F1 | MB/s (median of {RUNS}) |");
    println!("|---|---|---|---|---|---|");
    for (i, (name, _)) in CONVERTERS.iter().enumerate() {
        let s = &scores[i];
        let mean = |f: fn(&(f64, f64)) -> f64| s.iter().map(f).sum::<f64>() / s.len() as f64;
        let worst = (0..s.len()).min_by(|&a, &b| s[a].0.total_cmp(&s[b].0)).unwrap();
        let below = s.iter().filter(|x| x.0 < 0.99).count();
        println!(
            "| {name} | {:.4} | {:.4} ({}) | {:.4} | {below} | {:.1} |",
            mean(|x| x.0),
            s[worst].0,
            cases[worst].name,
            mean(|x| x.1),
            speeds[i]
        );
    }

    println!("\nThe 10 pairs where the two differ most (F1, then order):\n");
    println!("| pair | clausewatch F1 | html2text F1 | clausewatch order | html2text order |");
    println!("|---|---|---|---|---|");
    let gap = |i: usize| {
        let (a, b) = (scores[0][i], scores[1][i]);
        ((a.0 - b.0).abs(), (a.1 - b.1).abs())
    };
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by(|&a, &b| gap(b).partial_cmp(&gap(a)).unwrap());
    for &i in order.iter().take(10) {
        let (a, b) = (scores[0][i], scores[1][i]);
        println!(
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} |",
            cases[i].name, a.0, b.0, a.1, b.1
        );
    }
}

/// The extraction pairs (folders not ending in `__noise`), and how many were skipped
/// because their declaration uses range selectors.
fn load(pairs: &Path) -> (Vec<Case>, usize) {
    let mut dirs: Vec<PathBuf> = fs::read_dir(pairs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.to_string_lossy().ends_with("__noise"))
        .collect();
    dirs.sort();
    let json = |p: PathBuf| -> serde_json::Value { serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap() };
    let mut cases = Vec::new();
    for dir in &dirs {
        let kind = json(dir.join("meta.json"))["terms_type"].as_str().unwrap().to_owned();
        let declaration = json(dir.join("declaration.json"));
        // Current declarations say `terms`, older ones `documents`.
        let terms = &declaration["terms"]
            .get(&kind)
            .unwrap_or(&declaration["documents"][&kind]);
        let (Some(select), Some(remove)) = (strings(&terms["select"]), strings(&terms["remove"])) else {
            continue;
        };
        cases.push(Case {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            html: fs::read_to_string(dir.join("snapshot.html")).unwrap(),
            dir: dir.clone(),
            select,
            remove,
        });
    }
    let skipped = dirs.len() - cases.len();
    (cases, skipped)
}

/// A `select`/`remove` value as CSS selectors; `None` if it holds a range selector.
fn strings(value: &serde_json::Value) -> Option<Vec<String>> {
    match value {
        serde_json::Value::Null => Some(Vec::new()),
        serde_json::Value::String(s) => Some(vec![s.clone()]),
        serde_json::Value::Array(items) => items.iter().map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => None,
    }
}

fn clausewatch(case: &Case) -> String {
    let selection = Selection::css(&case.select, &case.remove).unwrap();
    canonicalize_html(&case.html, &selection).unwrap_or_default()
}

/// html2text on the same selection: scraper matches `select` and `remove` on the whole
/// page (as clausewatch does), detaches the removed subtrees, and serializes the
/// outermost selected elements in document order into one body for html2text.
fn html2text(case: &Case) -> String {
    let mut page = Html::parse_document(&case.html);
    let matches = |page: &Html, selectors: &[String]| -> HashSet<_> {
        let parsed = selectors.iter().map(|s| Selector::parse(s).unwrap());
        parsed
            .flat_map(|s| page.select(&s).map(|e| e.id()).collect::<Vec<_>>())
            .collect()
    };
    let selected = matches(&page, &case.select);
    for id in matches(&page, &case.remove) {
        page.tree.get_mut(id).unwrap().detach();
    }
    let kept = if case.select.is_empty() {
        page.html()
    } else {
        let outermost = page
            .tree
            .root()
            .descendants()
            .filter(|node| selected.contains(&node.id()) && !node.ancestors().any(|a| selected.contains(&a.id())));
        let parts = outermost.map(|node| ElementRef::wrap(node).unwrap().html());
        format!("<html><body>{}</body></html>", parts.collect::<String>())
    };
    // Raw mode puts each table cell on its own line (html2text cannot give one row per
    // line without column padding); `rich()` and the padded table layout score no better.
    html2text::config::plain_no_decorate()
        .link_footnotes(false)
        .raw_mode(true)
        .string_from_read(kept.as_bytes(), usize::MAX)
        .unwrap_or_default()
}

/// F1 and order ratio of `text` against `reference`, by the corpus's `wordscore`.
fn score(wordscore: &Path, text: &Path, reference: &Path) -> (f64, f64) {
    let output = Command::new(wordscore)
        .arg(text)
        .arg(reference)
        .arg("--json")
        .output()
        .unwrap();
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    (result["f1"].as_f64().unwrap(), result["order"].as_f64().unwrap())
}
