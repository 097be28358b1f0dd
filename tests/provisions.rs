//! The provision taxonomy (archive/provisions.toml) measured against hand-labelled
//! sentences of the real policies in `../shared/corpus/` (read there at test time, never
//! copied into the repository; skipped with a message where absent).
//!
//! `tests/data/provision-labels.tsv` names each sentence by file, line and the hash of its
//! text, and says which provision it does (`pos`) or does not (`neg`) express, with the
//! expected stance. Its header comment documents the format and how a sentence is found.
//! Run with `-- --nocapture` for the per-provision table and the stance confusion
//! matrix; with `STANCE_ERRORS=1` also for every stance that disagrees with its label.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use clausewatch::provision::Taxonomy;

use crate::support::corpus;
use crate::support::labelled_corpus::{sentence_hash, sentences_of_line};

/// Every provision with at least this many labelled positives is held to the thresholds.
const MIN_POSITIVES: usize = 10;
const MIN_PRECISION: f64 = 0.85;
const MIN_RECALL: f64 = 0.75;
const MIN_SENTENCES: usize = 300;
const MIN_PROVISIONS: usize = 20;
/// The share of tagged positives whose stance agrees with the label, over all provisions.
const MIN_STANCE_ACCURACY: f64 = 0.70;

/// One row of the labels file.
struct Label {
    path: String,
    line: usize,
    hash: String,
    provision: String,
    positive: bool,
    stance: String,
    /// Line number in the labels file, for messages.
    row: usize,
}

fn labels_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/provision-labels.tsv")
}

fn read_labels() -> Vec<Label> {
    let path = labels_file();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut labels = Vec::new();
    for (i, row) in text.lines().enumerate() {
        if row.starts_with('#') || row.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = row.split('\t').collect();
        assert_eq!(
            fields.len(),
            6,
            "provision-labels.tsv:{}: expected 6 tab-separated fields: {row:?}",
            i + 1
        );
        let positive = match fields[4] {
            "pos" => true,
            "neg" => false,
            other => panic!(
                "provision-labels.tsv:{}: label must be pos or neg, not {other:?}",
                i + 1
            ),
        };
        let stance = fields[5];
        let valid = if positive {
            ["grants", "restricts", "conditional", "neutral"].contains(&stance)
        } else {
            stance == "-"
        };
        assert!(
            valid,
            "provision-labels.tsv:{}: bad stance {stance:?} for a {} label",
            i + 1,
            fields[4]
        );
        labels.push(Label {
            path: fields[0].to_string(),
            line: fields[1]
                .parse()
                .unwrap_or_else(|_| panic!("provision-labels.tsv:{}: bad line number {:?}", i + 1, fields[1])),
            hash: fields[2].to_string(),
            provision: fields[3].to_string(),
            positive,
            stance: stance.to_string(),
            row: i + 1,
        });
    }
    labels
}

/// Finds every labelled sentence in the corpus; panics, listing them, if any is gone.
fn find_sentences(corpus: &Path, labels: &[Label]) -> HashMap<(String, usize, String), String> {
    let mut files: HashMap<&str, Vec<String>> = HashMap::new();
    let mut found = HashMap::new();
    let mut missing = Vec::new();
    for label in labels {
        let key = (label.path.clone(), label.line, label.hash.clone());
        if found.contains_key(&key) {
            continue;
        }
        let lines = files.entry(label.path.as_str()).or_insert_with(|| {
            std::fs::read_to_string(corpus.join(&label.path))
                .map(|text| text.lines().map(str::to_string).collect())
                .unwrap_or_default()
        });
        let sentence = lines.get(label.line.wrapping_sub(1)).and_then(|line| {
            sentences_of_line(line)
                .into_iter()
                .find(|s| sentence_hash(s) == label.hash)
        });
        match sentence {
            Some(sentence) => {
                found.insert(key, sentence);
            }
            None => missing.push(format!(
                "  provision-labels.tsv:{}: {}:{} has no sentence with hash {}",
                label.row, label.path, label.line, label.hash
            )),
        }
    }
    assert!(
        missing.is_empty(),
        "corpus drift: {} labelled sentence(s) no longer found (the corpus file changed, or the \
         sentence splitter or the Markdown reduction did); re-label them:\n{}",
        missing.len(),
        missing.join("\n")
    );
    found
}

#[derive(Default)]
struct Score {
    positives: usize,
    negatives: usize,
    true_positives: usize,
    false_positives: usize,
    stance_right: usize,
}

impl Score {
    fn precision(&self) -> f64 {
        let tagged = self.true_positives + self.false_positives;
        if tagged == 0 {
            1.0
        } else {
            self.true_positives as f64 / tagged as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.positives == 0 {
            1.0
        } else {
            self.true_positives as f64 / self.positives as f64
        }
    }
    fn stance(&self) -> f64 {
        if self.true_positives == 0 {
            0.0
        } else {
            self.stance_right as f64 / self.true_positives as f64
        }
    }
}

#[test]
fn provisions_meet_precision_and_recall_on_labelled_corpus_sentences() {
    let Some(corpus) = corpus() else { return };
    let taxonomy = Taxonomy::builtin().expect("the built-in taxonomy parses");
    let ids: BTreeSet<&str> = taxonomy.provisions.iter().map(|p| p.id.as_str()).collect();
    assert!(
        ids.len() >= MIN_PROVISIONS,
        "the taxonomy has {} provisions, at least {MIN_PROVISIONS} expected",
        ids.len()
    );

    let labels = read_labels();
    let mut seen = BTreeSet::new();
    for label in &labels {
        assert!(
            ids.contains(label.provision.as_str()),
            "provision-labels.tsv:{}: unknown provision {:?}",
            label.row,
            label.provision
        );
        assert!(
            seen.insert((&label.path, label.line, &label.hash, &label.provision)),
            "provision-labels.tsv:{}: the same sentence is labelled twice for {}",
            label.row,
            label.provision
        );
    }
    let sentences = find_sentences(&corpus, &labels);
    assert!(
        sentences.len() >= MIN_SENTENCES,
        "{} labelled sentences, at least {MIN_SENTENCES} expected",
        sentences.len()
    );

    let mut scores: BTreeMap<&str, Score> = ids.iter().map(|id| (*id, Score::default())).collect();
    // Labelled stance (row) against the stance given (column), over the tagged positives.
    let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut errors: Vec<String> = Vec::new();
    for label in &labels {
        let sentence = &sentences[&(label.path.clone(), label.line, label.hash.clone())];
        let tags = taxonomy.tag(sentence);
        let tag = tags.iter().find(|t| t.provision == label.provision);
        let score = scores.get_mut(label.provision.as_str()).unwrap();
        match (label.positive, tag) {
            (true, Some(tag)) => {
                score.positives += 1;
                score.true_positives += 1;
                *confusion
                    .entry((label.stance.clone(), tag.stance.as_str().to_string()))
                    .or_default() += 1;
                if std::env::var_os("STANCE_ERRORS").is_some() && tag.stance.as_str() != label.stance {
                    eprintln!(
                        "  stance {:>11} as {:<11} {:<27} {sentence}",
                        label.stance,
                        tag.stance.as_str(),
                        label.provision
                    );
                }
                if tag.stance.as_str() == label.stance {
                    score.stance_right += 1;
                }
            }
            (true, None) => {
                score.positives += 1;
                errors.push(format!("  missed   {:<27} {}", label.provision, sentence));
            }
            (false, Some(tag)) => {
                score.negatives += 1;
                score.false_positives += 1;
                errors.push(format!(
                    "  wrongly  {:<27} {} {:?}",
                    label.provision, sentence, tag.matched
                ));
            }
            (false, None) => score.negatives += 1,
        }
    }

    let mut table = String::from(
        "| provision | positives | negatives | precision | recall | stance accuracy |\n|---|---:|---:|---:|---:|---:|\n",
    );
    let mut failures = Vec::new();
    let mut missing_examples = Vec::new();
    for (id, score) in &scores {
        table.push_str(&format!(
            "| `{id}` | {} | {} | {:.2} | {:.2} | {:.2} |\n",
            score.positives,
            score.negatives,
            score.precision(),
            score.recall(),
            score.stance()
        ));
        if score.positives == 0 || score.negatives == 0 {
            missing_examples.push(*id);
        }
        if score.positives >= MIN_POSITIVES && (score.precision() < MIN_PRECISION || score.recall() < MIN_RECALL) {
            failures.push(format!(
                "{id}: precision {:.2} (at least {MIN_PRECISION}), recall {:.2} (at least {MIN_RECALL})",
                score.precision(),
                score.recall()
            ));
        }
    }
    let total = |f: fn(&Score) -> usize| scores.values().map(f).sum::<usize>();
    let (tp, fp, pos) = (
        total(|s| s.true_positives),
        total(|s| s.false_positives),
        total(|s| s.positives),
    );
    eprintln!(
        "{table}\n{} labels on {} sentences; overall precision {:.3}, recall {:.3}, stance accuracy {:.3}",
        labels.len(),
        sentences.len(),
        tp as f64 / (tp + fp).max(1) as f64,
        tp as f64 / pos.max(1) as f64,
        total(|s| s.stance_right) as f64 / tp.max(1) as f64
    );
    let stances = ["grants", "restricts", "conditional", "neutral"];
    let mut matrix = String::from("stance labelled \\ given: grants restricts conditional neutral\n");
    for row in stances {
        matrix.push_str(&format!("{row:>12}:"));
        for column in stances {
            let n = confusion
                .get(&(row.to_string(), column.to_string()))
                .copied()
                .unwrap_or(0);
            matrix.push_str(&format!(" {n:>6}"));
        }
        matrix.push('\n');
    }
    eprintln!("{matrix}");
    if !errors.is_empty() {
        eprintln!("disagreements with the labels:\n{}", errors.join("\n"));
    }
    assert!(
        missing_examples.is_empty(),
        "provisions without both labelled positives and negatives: {missing_examples:?}"
    );
    assert!(failures.is_empty(), "below the thresholds:\n{}", failures.join("\n"));
    let stance_accuracy = total(|s| s.stance_right) as f64 / tp.max(1) as f64;
    assert!(
        stance_accuracy >= MIN_STANCE_ACCURACY,
        "stance accuracy {stance_accuracy:.3}, at least {MIN_STANCE_ACCURACY} expected \
         (STANCE_ERRORS=1 lists the disagreements)"
    );
}
