//! The canonicalizer on the real pages of `../shared/corpus/` (read there at test time,
//! never copied into the repository; skipped with a message where absent).

use std::path::{Path, PathBuf};
use std::process::Command;

use clausewatch::canon::{self, Selection};
use clausewatch::declaration::{Edge, RangeTarget, Target};

use crate::support::{corpus, wordscore};

/// An extraction or noise pair with the selectors of its Open Terms Archive declaration.
struct Pair {
    dir: PathBuf,
    selection: Selection,
}

/// The pairs of one kind, with their declaration's selectors.
fn pairs(corpus: &Path, noise: bool) -> Vec<Pair> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus.join("pairs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.to_string_lossy().ends_with("__noise") == noise)
        .collect();
    dirs.sort();
    dirs.into_iter()
        .filter_map(|dir| {
            let meta: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).ok()?).ok()?;
            let declaration: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("declaration.json")).ok()?).ok()?;
            let terms = declaration.get("terms").or_else(|| declaration.get("documents"))?;
            let entry = &terms[meta["terms_type"].as_str()?];
            let select = targets(entry.get("select"))?;
            let remove = targets(entry.get("remove"))?;
            Some(Pair {
                selection: Selection::new(&select, &remove).ok()?,
                dir,
            })
        })
        .collect()
}

/// OTA's `select`/`remove`: a CSS selector, a range object, or a list of them.
pub(crate) fn targets(value: Option<&serde_json::Value>) -> Option<Vec<Target>> {
    let one = |v: &serde_json::Value| -> Option<Target> {
        match v {
            serde_json::Value::String(s) => Some(Target::Css(s.clone())),
            serde_json::Value::Object(o) => {
                let side = |before: &str, after: &str| match (o.get(before), o.get(after)) {
                    (Some(v), None) => Some((v.as_str()?.to_string(), Edge::Before)),
                    (None, Some(v)) => Some((v.as_str()?.to_string(), Edge::After)),
                    _ => None,
                };
                let (start, start_edge) = side("startBefore", "startAfter")?;
                let (end, end_edge) = side("endBefore", "endAfter")?;
                Some(Target::Range(RangeTarget {
                    start,
                    start_edge,
                    end,
                    end_edge,
                }))
            }
            _ => None,
        }
    };
    match value {
        None => Some(Vec::new()),
        Some(serde_json::Value::Array(items)) => items.iter().map(one).collect(),
        Some(v) => one(v).map(|t| vec![t]),
    }
}

fn canonical(path: &Path, selection: &Selection) -> String {
    let bytes = std::fs::read(path).unwrap();
    canon::canonicalize(&bytes, Some("text/html"), selection).unwrap_or_else(|f| panic!("{}: {f}", path.display()))
}

#[test]
fn real_pages_are_deterministic_and_free_of_scripts_and_styles() {
    let Some(corpus) = corpus() else { return };
    let mut pages: Vec<PathBuf> = std::fs::read_dir(corpus.join("html"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    pages.sort();
    assert!(pages.len() >= 50);
    for page in &pages {
        let bytes = std::fs::read(page).unwrap();
        let first = canon::canonicalize(&bytes, Some("text/html"), &Selection::default());
        let second = canon::canonicalize(&bytes, Some("text/html"), &Selection::default());
        assert_eq!(first, second, "{}", page.display());
        let Ok(text) = first else { continue };
        for needle in [
            "function(",
            "self.__next_f",
            "window.__",
            "<script",
            "{display:",
            "var(--",
            "=>{",
        ] {
            assert!(!text.contains(needle), "{} leaks {needle:?}", page.display());
        }
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{}", page.display());
        for line in text.lines() {
            assert_eq!(line, line.trim_end(), "trailing space in {}", page.display());
            assert!(
                !line.contains('\u{a0}') && !line.contains('\u{200b}') && !line.contains('\u{feff}'),
                "{}",
                page.display()
            );
        }
    }
}

/// Word-level agreement with Open Terms Archive's own extraction, as
/// `../shared/scripts/wordscore` measures it.
#[test]
fn extraction_pairs_agree_with_open_terms_archive() {
    let Some(corpus) = corpus() else { return };
    let wordscore = corpus.join("../scripts/wordscore");
    if Command::new("python3").arg("--version").output().is_err() {
        crate::support::skip("python3 is needed to run ../shared/scripts/wordscore");
        return;
    }
    let pairs = pairs(&corpus, false);
    assert_eq!(pairs.len(), 113, "extraction pairs");
    let scratch = tempfile::tempdir().unwrap();
    let mut scores = Vec::new();
    for pair in &pairs {
        let ours = scratch.path().join("ours.md");
        std::fs::write(&ours, canonical(&pair.dir.join("snapshot.html"), &pair.selection)).unwrap();
        let out = Command::new("python3")
            .arg(&wordscore)
            .arg(&ours)
            .arg(pair.dir.join("reference.md"))
            .arg("--json")
            .output()
            .unwrap();
        let score: serde_json::Value = serde_json::from_slice(&out.stdout).expect("wordscore JSON");
        let f1 = score["f1"].as_f64().unwrap();
        eprintln!("{f1:.4} {}", pair.dir.file_name().unwrap().to_string_lossy());
        scores.push(f1);
    }
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    let worst = scores.iter().copied().fold(1.0, f64::min);
    eprintln!(
        "extraction pairs: {} pairs, mean F1 {mean:.4}, worst {worst:.4}",
        scores.len()
    );
    assert!(mean >= 0.97, "mean F1 {mean:.4} below 0.97");
    assert!(worst >= 0.90, "worst F1 {worst:.4} below 0.90");
}

/// The services whose pairs the no-selector rules were tuned on; the others are held
/// out. Fixed 2026-12-06 by rule before measuring the held-out half: the corpus's
/// services in alphabetical order, every other one from the first (13 services, 48
/// pairs; held out: 12 services, 65 pairs). The rules of canonicalizer 4 were first
/// written looking at all pairs, so the held-out figure is not clean evidence for them
/// (see docs/canonical-text.md).
const TUNED_ON_SERVICES: [&str; 13] = [
    "amazon",
    "chatgpt",
    "cursor",
    "fal",
    "jasper",
    "liquid-ai",
    "meta-ai",
    "mistral-ai",
    "qwen-chat",
    "sambanova",
    "tiktok",
    "wordtune",
    "xai",
];

/// The service of a pair: `genai__grok__terms-of-service__20251202` is `grok`.
fn service(pair: &Pair) -> String {
    let name = pair.dir.file_name().unwrap().to_string_lossy().into_owned();
    name.split("__").nth(1).unwrap_or_default().to_string()
}

/// Without any selector (the page alone, as a declaration with no `select` gives it),
/// automatic chrome removal must keep the policy: recall is what it must never lose,
/// precision what menus outside any `<main>` still cost. Pairs at precision and recall
/// of 0.95 or more, measured 2026-12-06 (canonicalizer 3 -> 4): tuned-on services
/// 34 -> 42 of 48, held-out services 57 -> 61 of 65, all 91 -> 103 of 113; mean recall
/// 0.9978 -> 0.9983, worst 0.9448 (unchanged: a Claude help article whose reference
/// keeps its links' URLs, which canonical text drops).
#[test]
fn extraction_pairs_without_selectors_keep_the_policy_text() {
    let Some(corpus) = corpus() else { return };
    if Command::new("python3").arg("--version").output().is_err() {
        crate::support::skip("python3 is needed to run ../shared/scripts/wordscore");
        return;
    }
    let pairs = pairs(&corpus, false);
    assert_eq!(pairs.len(), 113, "extraction pairs");
    let mut services: Vec<String> = pairs.iter().map(service).collect();
    services.sort();
    services.dedup();
    for tuned in TUNED_ON_SERVICES {
        assert!(services.iter().any(|s| s == tuned), "no pair of {tuned} in the corpus");
    }
    // (tuned on, held out): pairs, of which at precision and recall >= 0.95.
    let mut counts = [(0, 0); 2];
    let mut recalls = Vec::new();
    for pair in &pairs {
        let ours = canonical(&pair.dir.join("snapshot.html"), &Selection::default());
        let (precision, recall) = wordscore(&corpus, &ours, &pair.dir.join("reference.md"));
        let held_out = !TUNED_ON_SERVICES.contains(&service(pair).as_str());
        eprintln!(
            "{precision:.4} {recall:.4} {} {}",
            if held_out { "held-out" } else { "tuned-on" },
            pair.dir.file_name().unwrap().to_string_lossy()
        );
        let count = &mut counts[usize::from(held_out)];
        count.0 += 1;
        count.1 += usize::from(precision >= 0.95 && recall >= 0.95);
        recalls.push(recall);
    }
    let [(tuned, tuned_good), (held, held_good)] = counts;
    let mean_recall = recalls.iter().sum::<f64>() / recalls.len() as f64;
    let worst_recall = recalls.iter().copied().fold(1.0, f64::min);
    eprintln!(
        "without selectors, pairs at precision and recall >= 0.95: tuned-on {tuned_good} of {tuned}, \
         held-out {held_good} of {held}, all {} of {}; mean recall {mean_recall:.4}, worst {worst_recall:.4}",
        tuned_good + held_good,
        pairs.len()
    );
    assert!(tuned_good >= 42, "tuned-on: {tuned_good} of {tuned} pairs, below 42");
    assert!(held_good >= 61, "held-out: {held_good} of {held} pairs, below 61");
    assert!(mean_recall >= 0.998, "mean recall {mean_recall:.4} below 0.998");
    assert!(worst_recall >= 0.94, "worst recall {worst_recall:.4} below 0.94");
}

/// Two snapshots of the same page whose text did not change must give the same bytes:
/// a difference would be a false "change" in the archive.
#[test]
fn noise_pairs_canonicalize_to_identical_text() {
    let Some(corpus) = corpus() else { return };
    let pairs = pairs(&corpus, true);
    assert_eq!(pairs.len(), 42, "noise pairs");
    let mut differing = Vec::new();
    for pair in &pairs {
        let before = canonical(&pair.dir.join("before.html"), &pair.selection);
        let after = canonical(&pair.dir.join("after.html"), &pair.selection);
        if before != after {
            let diff: Vec<String> = clausewatch::report::diff_texts(&before, &after)
                .changes
                .iter()
                .take(3)
                .map(|c| format!("    {c:?}"))
                .collect();
            differing.push(format!("{}\n{}", pair.dir.display(), diff.join("\n")));
        }
    }
    assert!(
        differing.is_empty(),
        "{} of {} noise pairs differ:\n{}",
        differing.len(),
        pairs.len(),
        differing.join("\n")
    );
}

/// No real policy page of the corpus is taken for a bot wall, a soft 404 or a script shell.
#[test]
fn real_pages_are_not_mistaken_for_walls() {
    let Some(corpus) = corpus() else { return };
    let mut pages: Vec<PathBuf> = std::fs::read_dir(corpus.join("html"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    for dir in std::fs::read_dir(corpus.join("pairs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
    {
        for name in ["snapshot.html", "before.html", "after.html"] {
            if dir.join(name).is_file() {
                pages.push(dir.join(name));
            }
        }
    }
    assert!(pages.len() > 200);
    for page in pages {
        let bytes = std::fs::read(&page).unwrap();
        let html =
            clausewatch::fetch::decode::decode(&bytes, Some("text/html"), clausewatch::fetch::decode::BodyKind::Html);
        assert_eq!(clausewatch::fetch::wall::inspect(&html), None, "{}", page.display());
    }
}

/// No real version of the corpus is refused as an error, login or consent page by the
/// guard every recording path goes through: Open Terms Archive's Markdown versions, the
/// extraction pairs' snapshots (with their declaration's selectors) and the HTML pages.
#[test]
fn real_versions_pass_the_error_page_guard() {
    use clausewatch::fetch::wall::{Shape, judge_text};
    let Some(corpus) = corpus() else { return };
    let mut checked = 0;
    let mut refused = Vec::new();
    let mut least_prose = (usize::MAX, String::new());
    let mut judge = |name: String, text: &str, snapshot: &[u8], ext: &str| {
        checked += 1;
        let prose = Shape::of(text).prose;
        if prose < least_prose.0 {
            least_prose = (prose, name.clone());
        }
        if let Some(verdict) = judge_text(text, snapshot, ext) {
            refused.push(format!("{name}: {verdict:?}"));
        }
    };
    let mut versions: Vec<PathBuf> = std::fs::read_dir(corpus.join("versions"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .flat_map(|dir| std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    versions.sort();
    let version_count = versions.len();
    for path in versions {
        let bytes = std::fs::read(&path).unwrap();
        let text = canon::canonicalize(&bytes, Some("text/markdown"), &Selection::default()).unwrap();
        judge(path.display().to_string(), &text, &bytes, "md");
    }
    for pair in pairs(&corpus, false) {
        let path = pair.dir.join("snapshot.html");
        let text = canonical(&path, &pair.selection);
        judge(
            path.display().to_string(),
            &text,
            &std::fs::read(&path).unwrap(),
            "html",
        );
    }
    for pair in pairs(&corpus, true) {
        for name in ["before.html", "after.html"] {
            let path = pair.dir.join(name);
            let text = canonical(&path, &pair.selection);
            judge(
                path.display().to_string(),
                &text,
                &std::fs::read(&path).unwrap(),
                "html",
            );
        }
    }
    let mut pages: Vec<PathBuf> = std::fs::read_dir(corpus.join("html"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    pages.sort();
    for path in pages {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(text) = canon::canonicalize(&bytes, Some("text/html"), &Selection::default()) else {
            continue;
        };
        judge(path.display().to_string(), &text, &bytes, "html");
    }
    eprintln!(
        "error-page guard on real versions: {} of {checked} refused ({version_count} OTA versions); least prose {} in {}",
        refused.len(),
        least_prose.0,
        least_prose.1
    );
    assert!(checked > 550, "only {checked} real versions found");
    assert!(refused.is_empty(), "real versions refused:\n{}", refused.join("\n"));
}

/// Google's privacy policy holds its processing purposes in a table whose cells are
/// pages long: every version's table rows must come out as lines of one sentence, not
/// one "sentence" of thousands of characters with words glued at cell breaks.
#[test]
fn table_cells_of_real_versions_become_sentences() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("versions/google__privacy-policy");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{} versions", files.len());
    let (mut table_lines, mut longest) = (0, 0);
    for file in &files {
        let markdown = std::fs::read_to_string(file).unwrap();
        let text = canon::canonicalize(markdown.as_bytes(), Some("text/markdown"), &Selection::default()).unwrap();
        assert!(
            !text.contains("featuresExamples") && !text.contains("activities:*"),
            "{}: words glued at a cell break",
            file.display()
        );
        // Lines of a table: rows (`| a | b |`), cells (`| a`) and the cells' later lines.
        let mut in_table = false;
        for line in text.lines() {
            in_table = line.starts_with('|') || (in_table && line.starts_with("  "));
            if in_table {
                table_lines += 1;
                longest = longest.max(line.chars().count());
                assert!(
                    line.chars().count() <= 1_000,
                    "{}: a table line of {} characters: {}…",
                    file.display(),
                    line.chars().count(),
                    line.chars().take(120).collect::<String>()
                );
            }
        }
        if markdown.contains("<br>") {
            assert!(
                text.lines()
                    .any(|l| l == "  - We process the terms that you search for in order to return results."),
                "{}: a bullet of a cell on its own line",
                file.display()
            );
        }
    }
    eprintln!(
        "google privacy policy: {} versions, {table_lines} table lines, longest {longest} characters",
        files.len()
    );
}

/// The checks `track::new_version` runs against the version before
/// (`track::continuity::judge`: a transfer cut short, an error page wrapped in prose,
/// another page behind a redirect) refuse no real version of the corpus, each taken
/// after its predecessor: every step of the 8 OTA histories, the successive snapshots
/// of a document in `html/` and the noise pairs, each also as if it had come through a
/// redirect to another page (a policy that moved as it was rewritten). Also reports the
/// least share of sentences consecutive real versions keep (measured 2026-12-06: 0.000
/// for an OTA re-extraction, 0.019 for Facebook's 2022 rewrite; 4 of 253 steps under
/// `KEPT_SHARE_FLOOR`), which is why that share is never a reason alone.
#[test]
fn real_versions_pass_the_checks_against_the_version_before() {
    use clausewatch::track::continuity::{self, Arrival, KEPT_SHARE_FLOOR, Redirect};
    let Some(corpus) = corpus() else { return };
    let notes: std::collections::HashMap<String, String> = std::fs::read_to_string(corpus.join("MANIFEST.tsv"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((cols.first()?.to_string(), cols.last()?.to_string()))
        })
        .collect();
    let mut checked = 0;
    let mut refused = Vec::new();
    // (share, pair) of the least kept, over all steps and outside re-extractions.
    let mut least = (f64::MAX, String::new());
    let mut least_real = (f64::MAX, String::new());
    let mut title_signals = 0;
    let mut below_floor = Vec::new();
    let mut step = |name: String, reextraction: bool, old: (&str, &[u8]), new: (&str, &[u8]), ext: &str| {
        checked += 1;
        let kept = continuity::kept_share(old.0, new.0);
        if kept < least.0 {
            least = (kept, name.clone());
        }
        if !reextraction && kept < least_real.0 {
            least_real = (kept, name.clone());
        }
        if clausewatch::fetch::wall::title_signal(new.0, new.1, ext).is_some() {
            title_signals += 1;
        }
        if kept < KEPT_SHARE_FLOOR {
            let prose = |t: &str| clausewatch::fetch::wall::Shape::of(t).prose;
            below_floor.push(format!(
                "{kept:.3} kept, prose {} -> {}{}: {name}",
                prose(old.0),
                prose(new.0),
                if reextraction { " (re-extraction)" } else { "" }
            ));
        }
        // As if the page had been redirected elsewhere on its way, too.
        let moved = Redirect::of(
            0,
            1,
            &url::Url::parse("https://example.com/privacy").unwrap(),
            &url::Url::parse("https://example.com/legal/privacy").unwrap(),
        );
        let redirects: Vec<Redirect> = moved.into_iter().collect();
        let arrival = Arrival {
            text: new.0,
            snapshot: new.1,
            snapshot_ext: ext,
            redirects: &redirects,
            accept_shrink: false,
            document: "corpus/document",
            source: &name,
        };
        let old_snapshot = || Ok::<_, std::convert::Infallible>(Some((old.1.to_vec(), ext.to_string())));
        if let Ok(Some(failure)) = continuity::judge(&arrival, old.0, old_snapshot) {
            refused.push(format!("{name}: {failure}"));
        }
    };
    let mut histories: Vec<PathBuf> = std::fs::read_dir(corpus.join("versions"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    histories.sort();
    for dir in histories {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .collect();
        files.sort();
        let read = |path: &Path| {
            let bytes = std::fs::read(path).unwrap();
            let text = canon::canonicalize(&bytes, Some("text/markdown"), &Selection::default()).unwrap();
            (text, bytes)
        };
        for pair in files.windows(2) {
            let (old, new) = (read(&pair[0]), read(&pair[1]));
            if old.0 == new.0 {
                continue;
            }
            let relative = pair[1].strip_prefix(&corpus).unwrap().to_string_lossy().into_owned();
            let note = notes.get(&relative).cloned().unwrap_or_default();
            let reextraction = note.starts_with("Refilter") || note.starts_with("Apply technical upgrade");
            step(
                format!("{} -> {}", pair[0].display(), pair[1].display()),
                reextraction,
                (&old.0, &old.1),
                (&new.0, &new.1),
                "md",
            );
        }
    }
    let mut pages: Vec<PathBuf> = std::fs::read_dir(corpus.join("html"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    pages.sort();
    let document = |p: &Path| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        name.rsplit_once("__").map(|(d, _)| d.to_string()).unwrap_or(name)
    };
    for pair in pages.windows(2).filter(|w| document(&w[0]) == document(&w[1])) {
        let read = |path: &Path| {
            let bytes = std::fs::read(path).unwrap();
            let text = canon::canonicalize(&bytes, Some("text/html"), &Selection::default()).ok();
            (text, bytes)
        };
        let (old, new) = (read(&pair[0]), read(&pair[1]));
        let (Some(old_text), Some(new_text)) = (&old.0, &new.0) else {
            continue;
        };
        if old_text == new_text {
            continue;
        }
        step(
            format!("{} -> {}", pair[0].display(), pair[1].display()),
            false,
            (old_text, &old.1),
            (new_text, &new.1),
            "html",
        );
    }
    for pair in pairs(&corpus, true) {
        let (before, after) = (pair.dir.join("before.html"), pair.dir.join("after.html"));
        let (old, new) = (canonical(&before, &pair.selection), canonical(&after, &pair.selection));
        let (old_bytes, new_bytes) = (std::fs::read(&before).unwrap(), std::fs::read(&after).unwrap());
        step(
            pair.dir.display().to_string(),
            false,
            (&old, &old_bytes),
            (&new, &new_bytes),
            "html",
        );
    }
    eprintln!(
        "checks against the version before on real versions: {} of {checked} steps refused; {title_signals} with a \
         title signal; least share of sentences kept {:.3} ({}), outside re-extractions {:.3} ({}); floor {KEPT_SHARE_FLOOR}",
        refused.len(),
        least.0,
        least.1,
        least_real.0,
        least_real.1
    );
    eprintln!(
        "steps keeping under {KEPT_SHARE_FLOOR} of their sentences:\n{}",
        below_floor.join("\n")
    );
    assert!(checked > 250, "only {checked} steps found");
    assert!(refused.is_empty(), "real versions refused:\n{}", refused.join("\n"));
}
