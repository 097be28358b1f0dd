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

use clausewatch::provision::{LearnedTagger, TaggerSettings, Taxonomy};
use clausewatch::report::provisions::tag_line;

use crate::support::labelled_corpus::{FullLabel, find_sentence, read_full_labels, read_services, service_of};
use crate::support::{corpus, skip};

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
    let mut files: HashMap<String, Vec<String>> = HashMap::new();
    let mut found = HashMap::new();
    let mut missing = Vec::new();
    for label in labels {
        let key = (label.path.clone(), label.line, label.hash.clone());
        if found.contains_key(&key) {
            continue;
        }
        match find_sentence(corpus, &mut files, &label.path, label.line, &label.hash) {
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

// ---------------------------------------------------------------------------------------
// The full labels: every sentence labelled for every provision, split by service.

/// Issue 16's targets, on the English sentences of the test services.
const TARGET_PRECISION: f64 = 0.85;
const TARGET_RECALL: f64 = 0.80;
const TARGET_STANCE_ACCURACY: f64 = 0.75;
/// Every provision with at least this many test positives must reach this recall.
const TARGET_CATEGORY_RECALL: f64 = 0.60;
const CATEGORY_MIN_POSITIVES: usize = 15;
/// What the committed model reaches on that split, rounded down: the targets above are
/// NOT met (docs/provisions.md, "The learned tagger"), so the gate holds it to these.
const REACHED_PRECISION: f64 = 0.71;
const REACHED_RECALL: f64 = 0.69;
const REACHED_STANCE_ACCURACY: f64 = 0.81;
/// Provisions with enough positives below the target recall, at most.
const REACHED_WEAK_CATEGORIES: usize = 1;

fn data_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// The English sentences of the test services, with their labels (provision → stance).
fn test_split(corpus: &Path) -> Vec<(String, BTreeMap<String, String>)> {
    let labels: Vec<FullLabel> = read_full_labels(&data_file("provision-labels-full.tsv"));
    let test_services = read_services(&data_file("provision-test-services.txt"));
    assert!(
        !test_services.is_empty(),
        "provision-test-services.txt names no service"
    );
    let mut files = HashMap::new();
    let mut missing = Vec::new();
    let mut split = Vec::new();
    for label in labels {
        if label.lang != "en" || !test_services.contains(&service_of(&label.path)) {
            continue;
        }
        match find_sentence(corpus, &mut files, &label.path, label.line, &label.hash) {
            // Tagged as its line is: a heading's `#` goes with it (tag_line).
            Some(text) => {
                let line = &files[&label.path][label.line - 1];
                let text = if line.trim_start().starts_with('#') {
                    format!("# {text}")
                } else {
                    text
                };
                split.push((text, label.provisions.into_iter().collect()))
            }
            None => missing.push(format!(
                "  provision-labels-full.tsv:{}: {}:{}",
                label.row, label.path, label.line
            )),
        }
    }
    assert!(
        missing.is_empty(),
        "corpus drift: {} labelled test sentence(s) no longer found:\n{}",
        missing.len(),
        missing.join("\n")
    );
    split
}

/// Micro figures over (sentence, provision) pairs, and recall per provision.
struct Measured {
    scores: BTreeMap<String, Score>,
}

impl Measured {
    fn of(taxonomy: &Taxonomy, split: &[(String, BTreeMap<String, String>)]) -> Measured {
        let mut scores: BTreeMap<String, Score> = taxonomy
            .provisions
            .iter()
            .map(|p| (p.id.clone(), Score::default()))
            .collect();
        for (line, labels) in split {
            let tags = tag_line(line, taxonomy);
            for (id, score) in scores.iter_mut() {
                let tag = tags.iter().find(|t| t.provision == *id);
                match (labels.get(id), tag) {
                    (Some(stance), Some(tag)) => {
                        score.positives += 1;
                        score.true_positives += 1;
                        if tag.stance.as_str() == stance {
                            score.stance_right += 1;
                        }
                    }
                    (Some(_), None) => score.positives += 1,
                    (None, Some(_)) => {
                        score.negatives += 1;
                        score.false_positives += 1;
                    }
                    (None, None) => score.negatives += 1,
                }
            }
        }
        Measured { scores }
    }

    fn total(&self, f: fn(&Score) -> usize) -> usize {
        self.scores.values().map(f).sum()
    }
    fn precision(&self) -> f64 {
        let tp = self.total(|s| s.true_positives);
        tp as f64 / (tp + self.total(|s| s.false_positives)).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.total(|s| s.true_positives) as f64 / self.total(|s| s.positives).max(1) as f64
    }
    fn stance(&self) -> f64 {
        self.total(|s| s.stance_right) as f64 / self.total(|s| s.true_positives).max(1) as f64
    }
    /// Provisions with enough positives whose recall is below the target.
    fn weak_categories(&self) -> Vec<String> {
        self.scores
            .iter()
            .filter(|(_, s)| s.positives >= CATEGORY_MIN_POSITIVES && s.recall() < TARGET_CATEGORY_RECALL)
            .map(|(id, s)| format!("{id} (recall {:.2} of {})", s.recall(), s.positives))
            .collect()
    }

    fn report(&self, name: &str) -> String {
        let mut out = format!(
            "{name}: precision {:.3}, recall {:.3}, stance accuracy {:.3}\n\
             | provision | positives | precision | recall | stance accuracy |\n|---|---:|---:|---:|---:|\n",
            self.precision(),
            self.recall(),
            self.stance()
        );
        for (id, s) in &self.scores {
            out.push_str(&format!(
                "| `{id}` | {} | {:.2} | {:.2} | {:.2} |\n",
                s.positives,
                s.precision(),
                s.recall(),
                s.stance()
            ));
        }
        out
    }
}

/// The learned tagger over the MiniLM weights of `CLAUSEWATCH_MODEL_DIR` (`.ci/run`
/// unpacks them from a registry package) or the cache folder, loaded once.
pub(crate) fn learned_taxonomy() -> Option<Taxonomy> {
    static LEARNED: std::sync::OnceLock<Option<std::sync::Arc<LearnedTagger>>> = std::sync::OnceLock::new();
    let learned = LEARNED.get_or_init(|| {
        let settings = TaggerSettings {
            model: std::env::var_os("CLAUSEWATCH_MODEL_DIR").map(PathBuf::from),
            cache: std::env::var_os("CLAUSEWATCH_CACHE_DIR").map(PathBuf::from),
            rules_only: false,
        };
        let loaded = LearnedTagger::load(&settings).expect("the configured MiniLM weights load");
        loaded.map(std::sync::Arc::new)
    });
    match learned {
        Some(learned) => Some(Taxonomy::builtin().unwrap().with_learned(learned.clone())),
        None if std::env::var_os("CLAUSEWATCH_REQUIRE_MODEL").is_some() => {
            panic!("CLAUSEWATCH_REQUIRE_MODEL is set but no MiniLM weights were found")
        }
        None => {
            skip("no MiniLM weights (set CLAUSEWATCH_MODEL_DIR; .ci/run fetches them)");
            None
        }
    }
}

/// An unchanged `track` tags nothing, so it must not pay for decoding the table or the
/// model's weights.
#[test]
fn the_embedding_table_and_the_model_are_read_only_when_a_sentence_needs_them() {
    if learned_taxonomy().is_none() {
        return; // also makes sure the table is distilled and cached
    }
    let settings = TaggerSettings {
        model: std::env::var_os("CLAUSEWATCH_MODEL_DIR").map(PathBuf::from),
        cache: std::env::var_os("CLAUSEWATCH_CACHE_DIR").map(PathBuf::from),
        rules_only: false,
    };
    let learned = LearnedTagger::load(&settings)
        .expect("the weights load")
        .expect("weights found");
    assert!(!learned.table_loaded(), "opened without reading the table");
    assert!(!learned.model_decoded(), "opened without decoding the weights");
    let version = learned.id("rules");
    assert!(!learned.model_decoded(), "the version needs no weights");
    let tags = learned.tag("We may use the content you post to train our AI models.", Vec::new);
    assert!(learned.table_loaded() && learned.model_decoded());
    assert_eq!(learned.id("rules"), version);
    assert!(tags.iter().any(|t| t.provision == "ai-training"), "{tags:?}");
}

#[test]
fn learned_tagger_meets_the_targets_on_the_test_split() {
    let Some(corpus) = corpus() else { return };
    let Some(learned) = learned_taxonomy() else { return };
    assert_eq!(learned.tagger().name, "learned-minilm-static");
    let split = test_split(&corpus);
    let rules = Measured::of(&Taxonomy::builtin().unwrap(), &split);
    let measured = Measured::of(&learned, &split);
    eprintln!(
        "{} test sentences\n{}\n{}",
        split.len(),
        rules.report("rules alone"),
        measured.report("learned")
    );
    let weak = measured.weak_categories();
    let (precision, recall, stance) = (measured.precision(), measured.recall(), measured.stance());
    let targets_met =
        precision >= TARGET_PRECISION && recall >= TARGET_RECALL && stance >= TARGET_STANCE_ACCURACY && weak.is_empty();
    eprintln!(
        "issue 16's targets (precision {TARGET_PRECISION}, recall {TARGET_RECALL}, stance accuracy \
         {TARGET_STANCE_ACCURACY}, no provision with {CATEGORY_MIN_POSITIVES}+ positives below recall \
         {TARGET_CATEGORY_RECALL}): {}; below the category recall: {weak:?}",
        if targets_met { "met" } else { "NOT met" }
    );
    // The targets are not met (docs/provisions.md says so); the gate holds the tagger to
    // what the committed model reaches, so a regression fails, and to beating the rules.
    assert!(
        precision >= REACHED_PRECISION
            && recall >= REACHED_RECALL
            && stance >= REACHED_STANCE_ACCURACY
            && weak.len() <= REACHED_WEAK_CATEGORIES,
        "learned tagger on the test split: precision {precision:.3} (reached {REACHED_PRECISION}), \
         recall {recall:.3} (reached {REACHED_RECALL}), stance accuracy {stance:.3} (reached \
         {REACHED_STANCE_ACCURACY}); {} provisions below recall {TARGET_CATEGORY_RECALL} (reached \
         {REACHED_WEAK_CATEGORIES}): {weak:?}",
        weak.len()
    );
    let f1 = |m: &Measured| 2.0 * m.precision() * m.recall() / (m.precision() + m.recall()).max(f64::EPSILON);
    assert!(
        f1(&measured) > f1(&rules) && recall > rules.recall() && stance > rules.stance(),
        "the learned tagger must beat the rules alone on the test split (F1 {:.3} against {:.3})",
        f1(&measured),
        f1(&rules)
    );
}

#[test]
fn without_weights_the_rules_tag_and_say_so() {
    let rules = Taxonomy::builtin().unwrap();
    let id = rules.tagger();
    assert_eq!(id.name, "rules");
    assert_eq!(id.version.len(), 12);
    let sentence = "We may use your content to train our artificial intelligence models.";
    assert_eq!(rules.tag(sentence), rules.rule_tags(sentence));
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("archive/provisions.toml")).unwrap();
    let extended =
        format!("{source}\n[[provision]]\nid = \"extra\"\ntitle = \"t\"\ndescription = \"d\"\nall = [[\"x\"]]\n");
    let edited = Taxonomy::parse(&extended, "extended").unwrap();
    assert_ne!(edited.tagger().version, id.version, "another taxonomy, another version");
    if let Some(learned) = learned_taxonomy() {
        let tagger = learned.tagger();
        assert_eq!(tagger.name, "learned-minilm-static");
        assert_ne!(tagger.version, id.version);
        let tags = learned.tag(sentence);
        let tag = tags.iter().find(|t| t.provision == "ai-training").expect("ai-training");
        assert!(tag.confidence.is_some(), "a learned tag carries its confidence");
        assert!(!tag.words.is_empty(), "and the words that weighed most: {tag:?}");
    }
}

/// The learned model leaves fragments to the rules: what is shorter than the labelled
/// sentences it learned from (four words), and headings and list items of up to eight
/// words without a sentence's punctuation, which the labels count as stating nothing. A
/// one-word list item of a real privacy policy was once tagged
/// `ai-training-conversations` at confidence 1000, and a heading of a real terms of
/// service read as limiting account suspensions.
#[test]
fn fragments_are_left_to_the_rules() {
    let Some(learned) = learned_taxonomy() else { return };
    let rules = Taxonomy::builtin().unwrap();
    for fragment in [
        "Turkey",
        "Arbitration.",
        "Your choices",
        "Data retention.",
        "Third-party sharing",
        "How we train our machine learning models",
        "Suspending or closing your account",
        "Sharing your information with advertising partners",
    ] {
        assert!(clausewatch::provision::learned::is_fragment(fragment), "{fragment}");
        assert_eq!(learned.tag(fragment), rules.tag(fragment), "{fragment}");
    }
    // A numbered Markdown heading has a period, so it reads as a sentence on its own;
    // tagged as the line it is, its `#` leaves it to the rules too.
    for heading in [
        "## 4.2 Suspending or closing your account",
        "### 7.1 How we use what you post to train our AI models",
    ] {
        let sentence = clausewatch::report::provisions::sentence_of(heading);
        assert!(!clausewatch::provision::learned::is_fragment(sentence), "{heading}");
        assert_eq!(tag_line(heading, &learned), rules.tag(sentence), "{heading}");
    }
    // A list item that goes on is a sentence, and so are a short line that ends as one
    // and a longer line without a period.
    for sentence in [
        "object to the processing; and",
        "We never sell your data.",
        "We may train our models on the content you post and share",
    ] {
        assert!(!clausewatch::provision::learned::is_fragment(sentence), "{sentence}");
    }
    // Four words and more: the model decides (here, more than the rules see).
    let sentence = "We share your personal information with advertising partners.";
    assert!(
        learned.tag(sentence).iter().any(|t| t.confidence.is_some()),
        "{:?}",
        learned.tag(sentence)
    );
}
