//! Tagging throughput and the tag memo's hit rate, on every version of the real
//! histories in `../shared/corpus/versions` (BENCHMARKS.md, "Provision tagging").
//!
//! Options: `cargo run --release --example bench-tagger -- --help`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clausewatch::canon::text::{normalize_inline, split_sentences};
use clausewatch::provision::{LearnedTagger, TaggerSettings, Taxonomy};

const USAGE: &str = "\
usage: bench-tagger --model DIR [--corpus ../shared/corpus] [--cache DIR]
    [--model-file PATH (a candidate model, timed against the built-in one)]
";

fn usage_error(message: &str) -> ! {
    eprint!("bench-tagger: {message}\n{USAGE}");
    std::process::exit(2)
}

fn main() {
    let mut corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut settings = TaggerSettings::default();
    let mut candidate: Option<&'static [u8]> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            print!("{USAGE}");
            return;
        }
        let value = args
            .next()
            .unwrap_or_else(|| usage_error(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--corpus" => corpus = value.into(),
            "--model" => settings.model = Some(value.into()),
            "--cache" => settings.cache = Some(value.into()),
            // Leaked: a tagger holds its model file for the whole run, as the built-in one.
            "--model-file" => {
                let bytes = std::fs::read(&value).unwrap_or_else(|e| panic!("{value}: {e}"));
                candidate = Some(Box::leak(bytes.into_boxed_slice()));
            }
            other => usage_error(&format!("unknown argument {other}")),
        }
    }
    // Every version of every history, in order: what `timeline` and `reextract` tag.
    let mut versions: Vec<PathBuf> = std::fs::read_dir(corpus.join("versions"))
        .expect("../shared/corpus/versions")
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    versions.sort();
    let documents: Vec<Vec<String>> = versions
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            text.lines()
                .flat_map(|line| {
                    let line = normalize_inline(line.trim_start_matches(['#', '*', '-', '>', ' ']));
                    split_sentences(&line)
                        .into_iter()
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .collect();
    let all: Vec<&str> = documents.iter().flatten().map(String::as_str).collect();
    let mut distinct = all.clone();
    distinct.sort_unstable();
    distinct.dedup();
    println!(
        "{} versions, {} sentences, {} distinct",
        versions.len(),
        all.len(),
        distinct.len()
    );

    time_tagging("rules alone", &Taxonomy::builtin().unwrap(), &distinct);

    let started = Instant::now();
    let learned = Arc::new(
        LearnedTagger::load(&settings)
            .expect("the weights load")
            .expect("weights found"),
    );
    println!("learned tagger loaded in {:.3} s", started.elapsed().as_secs_f64());
    time_tagging(
        "learned",
        &Taxonomy::builtin().unwrap().with_learned(learned),
        &distinct,
    );

    if let Some(bytes) = candidate {
        let folder = settings.model_folder().expect("weights found");
        let cache = settings.cache_folder().expect("a cache folder");
        let other = Arc::new(LearnedTagger::open(&folder, &cache, bytes).expect("the candidate model loads"));
        time_tagging(
            "candidate model",
            &Taxonomy::builtin().unwrap().with_learned(other),
            &distinct,
        );
    }

    // A fresh tagger over every version in order, as a timeline over years tags them.
    let fresh = Arc::new(LearnedTagger::load(&settings).unwrap().unwrap());
    let taxonomy = Taxonomy::builtin().unwrap().with_learned(fresh.clone());
    let started = Instant::now();
    for s in &all {
        taxonomy.tag(s);
    }
    let elapsed = started.elapsed();
    let stats = fresh.memo_stats();
    println!(
        "every version in order: {} sentences in {:.3} s; memo hits {} of {} ({:.1} %)",
        all.len(),
        elapsed.as_secs_f64(),
        stats.hits,
        stats.hits + stats.misses,
        100.0 * stats.hits as f64 / (stats.hits + stats.misses).max(1) as f64
    );
}

/// Tags every sentence once and prints the time a sentence took.
fn time_tagging(name: &str, taxonomy: &Taxonomy, sentences: &[&str]) {
    let started = Instant::now();
    let tagged: usize = sentences.iter().map(|s| taxonomy.tag(s).len()).sum();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{name}: {} distinct sentences in {elapsed:.3} s, {:.1} µs a sentence ({tagged} tags)",
        sentences.len(),
        elapsed * 1e6 / sentences.len() as f64
    );
}
