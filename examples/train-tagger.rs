//! Trains the learned provision tagger (src/provision/tagger-model.bin) from the labelled
//! corpus sentences, and measures it against the rules.
//!
//! Options: `cargo run --release --example train-tagger -- --help`.
//!
//! The committed model: `--words stemmed --hidden 64 --lambda 1e-3` (docs/provisions.md
//! logs what else was tried, on dev). `--errors` prints a provision's dev misses and
//! false alarms to the terminal: they quote third-party text, so never commit them.
//! `--only-fold K` fits and scores one of the five dev folds (a fifth of the time; its
//! probabilities are the same as the full run's for that fold). `--export-dev FILE`
//! writes the training services' sentences with their fold, labels and out-of-fold
//! probabilities and tags, for experiments outside Rust (`scripts/finetune-minilm`); the
//! file quotes third-party text, so keep it out of the repository, and it never holds a
//! sentence of the test split.
//!
//! The sentences of the test services (tests/data/provision-test-services.txt) are never
//! trained or tuned on: the decision thresholds come from out-of-fold predictions over
//! the training services (five folds, grouped by service, so no service is scored by a
//! model that saw it). Figures are printed for those folds (dev: tuned on); the test
//! split's (held out) only with `--report-test`, so that experiments are chosen on dev
//! alone and the test split is read once, for the configuration chosen. Without
//! `--out` or `--report-test` the final model (all training services) is not fitted.
//! Deterministic: no randomness, a fixed number of epochs.

#[path = "../tests/support/labelled_corpus.rs"]
mod labelled_corpus;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use clausewatch::provision::embedding::StaticEmbeddings;
use clausewatch::provision::learned::{self, Features, Header, Model, Pooling, STANCES, WordForm, sigmoid};
use clausewatch::provision::minilm::MiniLm;
use clausewatch::provision::{Stance, Taxonomy};

use labelled_corpus::{find_sentence, read_full_labels, read_services, service_of};

const USAGE: &str = "\
usage: train-tagger --model DIR [--out src/provision/tagger-model.bin]
    [--labels tests/data/provision-labels-full.tsv] [--test-services tests/data/provision-test-services.txt]
    [--corpus ../shared/corpus] [--cache DIR] [--embedding static|full|none] [--lambda 1e-4]
    [--embedding-scale S (default: the square root of the dimensions)] [--report-test]
    [--words plain|stemmed] [--pooling mean|mean-max] [--hidden UNITS]
    [--positive-weight none|sqrt|ratio] [--epochs 300] [--seed N | --seeds N,N,...] [--errors PROVISION]
    [--only-fold K] [--export-dev FILE] [--thresholds per-provision|global]

The committed model: --words stemmed --hidden 64 --lambda 1e-3 (docs/provisions.md).
--thresholds: one decision threshold tuned per provision (per-provision, the default and
the committed model's) or one for every provision (global: measured, not adopted).
--model defaults to CLAUSEWATCH_MODEL_DIR.
";

/// An n-gram is a feature when at least this many training sentences have it.
const MIN_DOCUMENT_FREQUENCY: usize = 3;
const FOLDS: usize = 5;
const EPOCHS: usize = 300;

/// Sentence texts to their embeddings.
type Embedder = dyn Fn(&[&str]) -> Vec<Vec<f32>>;

struct Options {
    labels: PathBuf,
    test_services: PathBuf,
    corpus: PathBuf,
    model: Option<PathBuf>,
    cache: PathBuf,
    out: Option<PathBuf>,
    embedding: String,
    lambda: f32,
    scale: Option<f32>,
    /// Print the test split's figures (and record them in the model's notes).
    report_test: bool,
    words: WordForm,
    pooling: Pooling,
    hidden: usize,
    /// How a provision's positives weigh in its loss against its negatives.
    positive_weight: PositiveWeight,
    epochs: usize,
    /// The seeds of the hidden layer's starting weights, one per member of the
    /// ensemble (whose detectors' probabilities are averaged).
    seeds: Vec<u64>,
    /// Print the dev false negatives and positives of this provision (to the terminal
    /// only: the texts are third-party).
    errors: Option<String>,
    /// Write the training services' sentences, their fold, labels and out-of-fold tags
    /// to this file (outside the repository: the texts are third-party), for
    /// experiments run outside Rust. The test split is never written.
    export_dev: Option<PathBuf>,
    thresholds: ThresholdRule,
    /// Fit and score one fold only (a quicker, coarser dev figure).
    only_fold: Option<usize>,
}

/// How the detectors' decision thresholds are chosen from out-of-fold scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ThresholdRule {
    /// Each provision's own best F1 (the committed model's rule).
    PerProvision,
    /// One for every provision: the best micro F1 of all provisions' scores together.
    /// Better on every dev fold with thresholds chosen on the others, worse on the test
    /// split: not adopted (docs/provisions.md).
    Global,
}

#[derive(Clone, Copy, Debug)]
enum PositiveWeight {
    /// 1.
    None,
    /// The square root of negatives over positives, within 1 and 10.
    Sqrt,
    /// Negatives over positives, within 1 and 30.
    Ratio,
}

fn options() -> Options {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut o = Options {
        labels: root.join("tests/data/provision-labels-full.tsv"),
        test_services: root.join("tests/data/provision-test-services.txt"),
        corpus: root.join("../shared/corpus"),
        model: std::env::var_os("CLAUSEWATCH_MODEL_DIR").map(PathBuf::from),
        cache: clausewatch::provision::embedding::default_cache_folder().unwrap_or_else(|| PathBuf::from(".cache")),
        out: None,
        embedding: "static".into(),
        lambda: 1e-4,
        scale: None,
        report_test: false,
        words: WordForm::Plain,
        pooling: Pooling::Mean,
        hidden: 0,
        positive_weight: PositiveWeight::Sqrt,
        epochs: EPOCHS,
        seeds: vec![0x9e37_79b9_7f4a_7c15],
        errors: None,
        export_dev: None,
        only_fold: None,
        thresholds: ThresholdRule::PerProvision,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage_error(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "--labels" => o.labels = value().into(),
            "--test-services" => o.test_services = value().into(),
            "--corpus" => o.corpus = value().into(),
            "--model" => o.model = Some(value().into()),
            "--cache" => o.cache = value().into(),
            "--out" => o.out = Some(value().into()),
            "--embedding" => o.embedding = value(),
            "--lambda" => o.lambda = value().parse().expect("a number"),
            "--embedding-scale" => o.scale = Some(value().parse().expect("a number")),
            "--report-test" => o.report_test = true,
            "--words" => {
                o.words = match value().as_str() {
                    "plain" => WordForm::Plain,
                    "stemmed" => WordForm::Stemmed,
                    other => panic!("--words plain or stemmed, not {other}"),
                }
            }
            "--pooling" => {
                o.pooling = match value().as_str() {
                    "mean" => Pooling::Mean,
                    "mean-max" => Pooling::MeanMax,
                    other => panic!("--pooling mean or mean-max, not {other}"),
                }
            }
            "--hidden" => o.hidden = value().parse().expect("a number of units"),
            "--positive-weight" => {
                o.positive_weight = match value().as_str() {
                    "none" => PositiveWeight::None,
                    "sqrt" => PositiveWeight::Sqrt,
                    "ratio" => PositiveWeight::Ratio,
                    other => panic!("--positive-weight none, sqrt or ratio, not {other}"),
                }
            }
            "--epochs" => o.epochs = value().parse().expect("a number of epochs"),
            "--seed" => o.seeds = vec![value().parse().expect("a number")],
            "--seeds" => {
                o.seeds = value()
                    .split(',')
                    .map(|s| s.trim().parse().expect("seeds: numbers separated by commas"))
                    .collect()
            }
            "--errors" => o.errors = Some(value()),
            "--export-dev" => o.export_dev = Some(value().into()),
            "--only-fold" => o.only_fold = Some(value().parse().expect("a fold number")),
            "--thresholds" => {
                o.thresholds = match value().as_str() {
                    "global" => ThresholdRule::Global,
                    "per-provision" => ThresholdRule::PerProvision,
                    other => usage_error(&format!("--thresholds global or per-provision, not {other}")),
                }
            }
            other => usage_error(&format!("unknown argument {other}")),
        }
    }
    o
}

fn usage_error(message: &str) -> ! {
    eprint!("train-tagger: {message}\n{USAGE}");
    std::process::exit(2)
}

struct Example {
    service: String,
    text: String,
    /// Stance by provision index, for the provisions the sentence expresses.
    labels: BTreeMap<usize, Stance>,
    features: Features,
}

fn stance_of(s: &str) -> Stance {
    match s {
        "grants" => Stance::Grants,
        "restricts" => Stance::Restricts,
        "conditional" => Stance::Conditional,
        _ => Stance::Neutral,
    }
}

fn main() {
    let o = options();
    let taxonomy = Taxonomy::builtin().expect("the built-in taxonomy parses");
    let provisions: Vec<String> = taxonomy.provisions.iter().map(|p| p.id.clone()).collect();
    let test_services = read_services(&o.test_services);

    // The labelled sentences, English only (the encoder is English).
    let mut files = HashMap::new();
    let mut sentences: Vec<(String, String, BTreeMap<usize, Stance>)> = Vec::new();
    let mut missing = 0;
    for label in read_full_labels(&o.labels) {
        if label.lang != "en" {
            continue;
        }
        let Some(text) = find_sentence(&o.corpus, &mut files, &label.path, label.line, &label.hash) else {
            missing += 1;
            continue;
        };
        let labels = label
            .provisions
            .iter()
            .map(|(id, stance)| {
                let p = provisions
                    .iter()
                    .position(|x| x == id)
                    .unwrap_or_else(|| panic!("unknown provision {id}"));
                (p, stance_of(stance))
            })
            .collect();
        sentences.push((service_of(&label.path), text, labels));
    }
    eprintln!(
        "{} English sentences ({missing} not found), {} test services",
        sentences.len(),
        test_services.len()
    );

    // Embeddings.
    let (dims, key, embed): (usize, String, Box<Embedder>) = match o.embedding.as_str() {
        "none" => (
            0,
            "none".into(),
            Box::new(|texts: &[&str]| vec![Vec::new(); texts.len()]),
        ),
        "static" => {
            let folder = o
                .model
                .clone()
                .expect("--model DIR (or CLAUSEWATCH_MODEL_DIR) is needed");
            let table = StaticEmbeddings::open(&folder, &o.cache).expect("the static embeddings");
            let pooling = o.pooling;
            (
                pooling.dims(table.dims()),
                table.key.clone(),
                Box::new(move |texts: &[&str]| texts.iter().map(|t| pooling.embed(&table, t)).collect()),
            )
        }
        "full" => {
            let folder = o
                .model
                .clone()
                .expect("--model DIR (or CLAUSEWATCH_MODEL_DIR) is needed");
            let model = MiniLm::load(&folder).expect("the MiniLM weights");
            (
                model.dimensions(),
                "full-transformer (not usable by clausewatch)".into(),
                Box::new(move |texts: &[&str]| texts.chunks(32).flat_map(|c| model.embed(c)).collect()),
            )
        }
        other => panic!("--embedding static, full or none, not {other}"),
    };

    // N-grams seen in enough training sentences.
    let mut frequency: HashMap<u64, usize> = HashMap::new();
    for (service, text, _) in &sentences {
        if test_services.contains(service) {
            continue;
        }
        let unique: BTreeSet<u64> = learned::ngram_hashes(text, o.words).into_iter().collect();
        for h in unique {
            *frequency.entry(h).or_default() += 1;
        }
    }
    let mut ngrams: Vec<u64> = frequency
        .into_iter()
        .filter(|&(_, n)| n >= MIN_DOCUMENT_FREQUENCY)
        .map(|(h, _)| h)
        .collect();
    ngrams.sort_unstable();
    eprintln!("{} n-gram features", ngrams.len());

    let header = Header {
        embedding_key: key,
        dims,
        embedding_scale: o.scale.unwrap_or((dims as f32).sqrt()),
        provisions: provisions.clone(),
        ngrams,
        thresholds: vec![0.5; provisions.len()],
        words: o.words,
        pooling: o.pooling,
        hidden: o.hidden,
        members: 1,
        notes: String::new(),
    };
    let skeleton = Model::zeroed(header);
    let started = std::time::Instant::now();
    let texts: Vec<&str> = sentences.iter().map(|(_, t, _)| t.as_str()).collect();
    let embeddings = embed(&texts);
    eprintln!("embedded in {:.1?}", started.elapsed());
    let examples: Vec<Example> = sentences
        .into_iter()
        .zip(embeddings)
        .map(|((service, text, labels), embedding)| {
            let rule_tags = taxonomy.rule_tags(&text);
            let features = skeleton.features(&text, embedding, &rule_tags);
            Example {
                service,
                text,
                labels,
                features,
            }
        })
        .collect();
    let (mut train, test): (Vec<&Example>, Vec<&Example>) =
        examples.iter().partition(|e| !test_services.contains(&e.service));
    eprintln!("{} training sentences, {} test sentences", train.len(), test.len());

    // Out-of-fold predictions over the training services, grouped by service.
    let services: BTreeSet<&str> = train.iter().map(|e| e.service.as_str()).collect();
    let fold_of: HashMap<&str, usize> = services.iter().enumerate().map(|(i, s)| (*s, i % FOLDS)).collect();
    if let Some(fold) = o.only_fold {
        assert!(fold < FOLDS, "--only-fold is below {FOLDS}");
        assert!(o.out.is_none() && !o.report_test, "--only-fold is for dev experiments");
    }
    let mut oof: Vec<Vec<f32>> = vec![Vec::new(); train.len()];
    let mut oof_stance: Vec<Vec<Stance>> = vec![Vec::new(); train.len()];
    for fold in 0..FOLDS {
        if o.only_fold.is_some_and(|only| only != fold) {
            continue;
        }
        let fit: Vec<&Example> = train
            .iter()
            .copied()
            .filter(|e| fold_of[e.service.as_str()] != fold)
            .collect();
        let model = fit_ensemble(&skeleton, &fit, &o);
        for (i, e) in train.iter().enumerate() {
            if fold_of[e.service.as_str()] == fold {
                oof[i] = model.probabilities(&e.features);
                oof_stance[i] = (0..provisions.len()).map(|p| model.stance(p, &e.features)).collect();
            }
        }
        eprintln!("fold {fold} done ({:.1?})", started.elapsed());
    }
    if o.only_fold.is_some() {
        // Score the sentences of that fold only.
        let mut scored = oof.iter().map(|s| !s.is_empty()).collect::<Vec<_>>().into_iter();
        train.retain(|_| scored.next() == Some(true));
        oof.retain(|s| !s.is_empty());
        oof_stance.retain(|s| !s.is_empty());
    }
    // Thresholds from the out-of-fold scores of every training service.
    let everyone: Vec<bool> = vec![true; train.len()];
    let thresholds = choose_thresholds(o.thresholds, provisions.len(), &train, &oof, &everyone);

    // Figures.
    let dev_tags: Vec<Vec<(usize, Stance)>> = oof
        .iter()
        .zip(&oof_stance)
        .map(|(s, st)| {
            (0..provisions.len())
                .filter(|&p| s[p] >= thresholds[p])
                .map(|p| (p, st[p]))
                .collect()
        })
        .collect();
    let dev = Figures::measure(&provisions, train.iter().copied().zip(dev_tags.iter().cloned()));
    println!(
        "embedding: {} (pooling {:?}, scale {}), words {:?}, hidden {}, positive weight {:?}, lambda {}, epochs {}, thresholds {:?}",
        o.embedding,
        o.pooling,
        skeleton.header.embedding_scale,
        o.words,
        o.hidden,
        o.positive_weight,
        o.lambda,
        o.epochs,
        o.thresholds
    );
    println!("dev (out-of-fold over the training services; thresholds tuned here): {dev}");
    println!("{}", dev.table(&provisions));
    if o.only_fold.is_none() {
        // The dev figures above are optimistic: the thresholds were tuned on the same
        // scores. Each fold scored with thresholds chosen on the other four is not.
        for rule in [ThresholdRule::PerProvision, ThresholdRule::Global] {
            let nested = nested_dev_tags(rule, provisions.len(), &train, &fold_of, &oof, &oof_stance);
            let figures = Figures::measure(&provisions, train.iter().copied().zip(nested));
            println!("dev, {rule:?} thresholds chosen on the other folds: {figures}");
        }
    }
    if let Some(id) = &o.errors {
        let p = provisions
            .iter()
            .position(|x| x == id)
            .expect("--errors names a provision");
        for (e, s) in train.iter().zip(&oof) {
            let (label, tagged) = (e.labels.get(&p), s[p] >= thresholds[p]);
            let kind = match (label, tagged) {
                (Some(_), false) => "FN",
                (None, true) => "FP",
                _ => continue,
            };
            let others: Vec<&str> = e.labels.keys().map(|&q| provisions[q].as_str()).collect();
            eprintln!("{kind} {:.2} [{}] {:?} {}", s[p], e.service, others, e.text);
        }
    }
    if let Some(path) = &o.export_dev {
        export_dev(path, &provisions, &train, &fold_of, &oof, &dev_tags);
    }
    if o.out.is_none() && !o.report_test {
        return;
    }

    let mut model = fit_ensemble(&skeleton, &train, &o);
    model.header.thresholds = thresholds.clone();
    let mut notes = format!(
        "trained by examples/train-tagger.rs on {} sentences of {} services; test split held out: \
         {} sentences; dev {dev}",
        train.len(),
        services.len(),
        test.len()
    );
    if o.report_test {
        let test_learned = Figures::measure(
            &provisions,
            test.iter().map(|e| {
                let probability = model.probabilities(&e.features);
                let tags = (0..provisions.len())
                    .filter(|&p| probability[p] >= thresholds[p])
                    .map(|p| (p, model.stance(p, &e.features)))
                    .collect();
                (*e, tags)
            }),
        );
        let test_rules = Figures::measure(
            &provisions,
            test.iter().map(|e| {
                let tags = e
                    .features
                    .rule_stances
                    .iter()
                    .enumerate()
                    .filter_map(|(p, s)| s.map(|s| (p, s)))
                    .collect();
                (*e, tags)
            }),
        );
        println!("test, rules alone (held out): {test_rules}");
        println!("test, learned (held out): {test_learned}");
        println!("{}", test_learned.table(&provisions));
        notes.push_str(&format!("; test {test_learned}"));
    }
    model.header.notes = notes;
    if let Some(out) = &o.out {
        std::fs::write(out, model.encode()).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        eprintln!("wrote {}", out.display());
    }
}

/// A model of one member per seed, the members fitted in parallel.
fn fit_ensemble(skeleton: &Model, examples: &[&Example], o: &Options) -> Model {
    let members = std::thread::scope(|scope| {
        let fits: Vec<_> = o
            .seeds
            .iter()
            .map(|&seed| scope.spawn(move || fit_model(skeleton, examples, o, seed)))
            .collect();
        fits.into_iter()
            .flat_map(|f| f.join().expect("a fit").members)
            .collect()
    });
    Model::of_members(skeleton.header.clone(), members)
}

/// The thresholds of `rule` from the out-of-fold scores of the sentences `counted`.
fn choose_thresholds(
    rule: ThresholdRule,
    provisions: usize,
    train: &[&Example],
    oof: &[Vec<f32>],
    counted: &[bool],
) -> Vec<f32> {
    let scored = |p: usize| {
        train
            .iter()
            .zip(oof)
            .zip(counted)
            .filter(|(_, counted)| **counted)
            .map(move |((e, s), _)| (s[p], e.labels.contains_key(&p)))
    };
    match rule {
        ThresholdRule::PerProvision => (0..provisions)
            .map(|p| best_threshold(&scored(p).collect::<Vec<_>>()))
            .collect(),
        ThresholdRule::Global => {
            // One threshold over every (sentence, provision) pair: its best F1 is the
            // best micro F1.
            let all: Vec<(f32, bool)> = (0..provisions).flat_map(scored).collect();
            vec![best_threshold(&all); provisions]
        }
    }
}

/// Each fold's tags at thresholds chosen (by `rule`) on the other folds.
fn nested_dev_tags(
    rule: ThresholdRule,
    provisions: usize,
    train: &[&Example],
    fold_of: &HashMap<&str, usize>,
    oof: &[Vec<f32>],
    oof_stance: &[Vec<Stance>],
) -> Vec<Vec<(usize, Stance)>> {
    let mut tags = vec![Vec::new(); train.len()];
    for fold in 0..FOLDS {
        let in_fold: Vec<bool> = train.iter().map(|e| fold_of[e.service.as_str()] == fold).collect();
        let others: Vec<bool> = in_fold.iter().map(|x| !x).collect();
        let thresholds = choose_thresholds(rule, provisions, train, oof, &others);
        for (i, _) in in_fold.iter().enumerate().filter(|(_, x)| **x) {
            tags[i] = (0..provisions)
                .filter(|&p| oof[i][p] >= thresholds[p])
                .map(|p| (p, oof_stance[i][p]))
                .collect();
        }
    }
    tags
}

/// The threshold with the best F1 (ties: the higher threshold), 0.5 without positives.
fn best_threshold(scored: &[(f32, bool)]) -> f32 {
    let positives = scored.iter().filter(|(_, y)| *y).count();
    if positives == 0 {
        return 0.5;
    }
    let mut sorted = scored.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut best = (0.0f64, 0.5f32);
    for (i, &(score, y)) in sorted.iter().enumerate() {
        if y {
            tp += 1;
        } else {
            fp += 1;
        }
        if sorted.get(i + 1).is_some_and(|next| next.0 == score) {
            continue;
        }
        let f1 = 2.0 * tp as f64 / (2 * tp + fp + (positives - tp)) as f64;
        if f1 > best.0 {
            // Halfway to the next lower score: a margin on unseen text.
            let next = sorted.get(i + 1).map(|n| n.0).unwrap_or(0.0);
            best = (f1, (score + next) / 2.0);
        }
    }
    best.1.clamp(0.05, 0.95)
}

/// The detectors (a logistic regression per provision, plus a shared ReLU hidden layer
/// when `--hidden` is given) and a softmax stance classifier, by full-batch Adam on the
/// mean log loss plus `lambda`·‖w‖² (biases unpenalised). The hidden layer starts from
/// fixed pseudo-random weights (a seeded generator): the result is deterministic.
fn fit_model(skeleton: &Model, examples: &[&Example], o: &Options, seed: u64) -> Model {
    let lambda = o.lambda;
    let mut model = skeleton.clone();
    let layout = model.layout.clone();
    let width = layout.detector_width();
    let provisions = layout.provisions;
    let h = model.header.hidden;
    let n = examples.len() as f32;
    let weights: Vec<f32> = (0..provisions)
        .map(|p| {
            let positives = examples.iter().filter(|e| e.labels.contains_key(&p)).count();
            let imbalance = (examples.len() - positives) as f32 / positives.max(1) as f32;
            match o.positive_weight {
                PositiveWeight::None => 1.0,
                // Rare provisions weigh their positives up (square root of the imbalance).
                PositiveWeight::Sqrt => imbalance.sqrt().clamp(1.0, 10.0),
                PositiveWeight::Ratio => imbalance.clamp(1.0, 30.0),
            }
        })
        .collect();
    // Parameters, one vector: linear detectors (P × (width + 1), bias last), then the
    // hidden layer (width × H, input column-major), its H biases, and the P × H outputs.
    let linear_len = provisions * (width + 1);
    let hidden_at = linear_len;
    let hidden_bias_at = hidden_at + width * h;
    let output_at = hidden_bias_at + h;
    let total = output_at + provisions * h;
    let mut w = vec![0f32; total];
    let mut seed = seed;
    let init = (1.0 / (layout.dims.max(1) as f32 + 32.0)).sqrt();
    for x in &mut w[hidden_at..hidden_bias_at] {
        *x = (uniform(&mut seed) * 2.0 - 1.0) * init;
    }
    for x in &mut w[output_at..] {
        *x = (uniform(&mut seed) * 2.0 - 1.0) * (1.0 / (h.max(1) as f32)).sqrt();
    }
    let mut adam = Adam::new(total);
    let mut pre = vec![0f32; h];
    let mut act = vec![0f32; h];
    let mut back = vec![0f32; h];
    let mut g = vec![0f32; provisions];
    for _ in 0..o.epochs {
        let mut grad = vec![0f32; total];
        for e in examples {
            // Forward: the hidden layer, then every detector.
            if h > 0 {
                pre.copy_from_slice(&w[hidden_bias_at..output_at]);
                for (d, &x) in e.features.embedding.iter().enumerate() {
                    for (a, b) in pre.iter_mut().zip(&w[hidden_at + d * h..hidden_at + (d + 1) * h]) {
                        *a += x * b;
                    }
                }
                for &c in &e.features.active {
                    let c = c as usize;
                    for (a, b) in pre.iter_mut().zip(&w[hidden_at + c * h..hidden_at + (c + 1) * h]) {
                        *a += b;
                    }
                }
                for (a, &z) in act.iter_mut().zip(&pre) {
                    *a = z.max(0.0);
                }
            }
            for p in 0..provisions {
                let row = &w[p * (width + 1)..(p + 1) * (width + 1)];
                let mut z = learned::linear(&row[..width], row[width], &e.features, &[]);
                if h > 0 {
                    z += act
                        .iter()
                        .zip(&w[output_at + p * h..output_at + (p + 1) * h])
                        .map(|(a, b)| a * b)
                        .sum::<f32>();
                }
                let y = e.labels.contains_key(&p);
                g[p] = (sigmoid(z) - if y { 1.0 } else { 0.0 }) * if y { weights[p] } else { 1.0 } / n;
                accumulate(
                    &mut grad[p * (width + 1)..(p + 1) * (width + 1)],
                    width,
                    &e.features,
                    &[],
                    g[p],
                );
            }
            // Backward through the hidden layer.
            if h > 0 {
                back.iter_mut().for_each(|b| *b = 0.0);
                for (p, &gp) in g.iter().enumerate() {
                    let out = output_at + p * h;
                    let unit = act.iter().zip(&w[out..out + h]);
                    for ((gr, b), (&a, &wo)) in grad[out..out + h].iter_mut().zip(back.iter_mut()).zip(unit) {
                        *gr += gp * a;
                        *b += gp * wo;
                    }
                }
                for (b, &z) in back.iter_mut().zip(&pre) {
                    if z <= 0.0 {
                        *b = 0.0;
                    }
                }
                for (d, &x) in e.features.embedding.iter().enumerate() {
                    for (a, b) in grad[hidden_at + d * h..hidden_at + (d + 1) * h].iter_mut().zip(&back) {
                        *a += x * b;
                    }
                }
                for &c in &e.features.active {
                    let c = c as usize;
                    for (a, b) in grad[hidden_at + c * h..hidden_at + (c + 1) * h].iter_mut().zip(&back) {
                        *a += b;
                    }
                }
                for (a, b) in grad[hidden_bias_at..output_at].iter_mut().zip(&back) {
                    *a += b;
                }
            }
        }
        // The penalty, on every weight but the biases.
        for p in 0..provisions {
            let at = p * (width + 1);
            for i in at..at + width {
                grad[i] += 2.0 * lambda * w[i];
            }
        }
        for i in (hidden_at..hidden_bias_at).chain(output_at..total) {
            grad[i] += 2.0 * lambda * w[i];
        }
        adam.step(&mut w, &grad);
    }
    for p in 0..provisions {
        let row = &w[p * (width + 1)..(p + 1) * (width + 1)];
        model.members[0].detector_weights[p * width..(p + 1) * width].copy_from_slice(&row[..width]);
        model.members[0].detector_bias[p] = row[width];
    }
    model.members[0].hidden_weights = w[hidden_at..hidden_bias_at].to_vec();
    model.members[0].hidden_bias = w[hidden_bias_at..output_at].to_vec();
    model.members[0].output_weights = w[output_at..].to_vec();
    // Stance: one example per (sentence, provision) labelled positive.
    let swidth = layout.stance_width();
    let pairs: Vec<(&Example, usize, usize, Vec<u32>)> = examples
        .iter()
        .flat_map(|e| {
            e.labels.iter().map(|(&p, &s)| {
                let k = STANCES.iter().position(|x| *x == s).expect("known");
                (*e, p, k, skeleton.stance_extra(p, &e.features))
            })
        })
        .collect();
    let m = pairs.len().max(1) as f32;
    let mut ws: Vec<Vec<f32>> = vec![vec![0f32; swidth + 1]; 4];
    let mut adams: Vec<Adam> = (0..4).map(|_| Adam::new(swidth + 1)).collect();
    for _ in 0..o.epochs {
        let mut grads = vec![vec![0f32; swidth + 1]; 4];
        for (e, _, k, extra) in &pairs {
            let logits: Vec<f32> = ws
                .iter()
                .map(|w| learned::linear(&w[..swidth], w[swidth], &e.features, extra))
                .collect();
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f32> = logits.iter().map(|z| (z - max).exp()).collect();
            let sum: f32 = exp.iter().sum();
            for c in 0..4 {
                let g = (exp[c] / sum - if c == *k { 1.0 } else { 0.0 }) / m;
                accumulate(&mut grads[c], swidth, &e.features, extra, g);
            }
        }
        for c in 0..4 {
            for (g, x) in grads[c][..swidth].iter_mut().zip(&ws[c][..swidth]) {
                *g += 2.0 * lambda * x;
            }
            adams[c].step(&mut ws[c], &grads[c]);
        }
    }
    for (c, w) in ws.iter().enumerate() {
        model.members[0].stance_weights[c * swidth..(c + 1) * swidth].copy_from_slice(&w[..swidth]);
        model.members[0].stance_bias[c] = w[swidth];
    }
    model
}

fn accumulate(grad: &mut [f32], width: usize, f: &Features, extra: &[u32], g: f32) {
    for (a, x) in grad.iter_mut().zip(&f.embedding) {
        *a += g * x;
    }
    for &c in f.active.iter().chain(extra) {
        grad[c as usize] += g;
    }
    grad[width] += g;
}

/// A uniform number in [0, 1) from a SplitMix64 state: fixed seed, fixed sequence.
fn uniform(state: &mut u64) -> f32 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 40) as f32 / (1u64 << 24) as f32
}

struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

impl Adam {
    fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }
    fn step(&mut self, w: &mut [f32], grad: &[f32]) {
        const RATE: f32 = 0.05;
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let (c1, c2) = (1.0 - B1.powi(self.t), 1.0 - B2.powi(self.t));
        for i in 0..w.len() {
            self.m[i] = B1 * self.m[i] + (1.0 - B1) * grad[i];
            self.v[i] = B2 * self.v[i] + (1.0 - B2) * grad[i] * grad[i];
            w[i] -= RATE * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + 1e-8);
        }
    }
}

#[derive(Default)]
struct Figures {
    positives: Vec<usize>,
    true_positives: Vec<usize>,
    false_positives: Vec<usize>,
    stance_right: usize,
}

impl Figures {
    fn measure<'a>(provisions: &[String], rows: impl Iterator<Item = (&'a Example, Vec<(usize, Stance)>)>) -> Figures {
        let mut f = Figures {
            positives: vec![0; provisions.len()],
            true_positives: vec![0; provisions.len()],
            false_positives: vec![0; provisions.len()],
            stance_right: 0,
        };
        for (e, tags) in rows {
            for &p in e.labels.keys() {
                f.positives[p] += 1;
            }
            for (p, stance) in tags {
                match e.labels.get(&p) {
                    Some(&label) => {
                        f.true_positives[p] += 1;
                        if label == stance {
                            f.stance_right += 1;
                        }
                    }
                    None => f.false_positives[p] += 1,
                }
            }
        }
        f
    }

    fn table(&self, provisions: &[String]) -> String {
        let mut out = String::from("| provision | positives | precision | recall |\n|---|---:|---:|---:|\n");
        for (p, id) in provisions.iter().enumerate() {
            let (tp, fp, pos) = (self.true_positives[p], self.false_positives[p], self.positives[p]);
            out.push_str(&format!(
                "| `{id}` | {pos} | {:.2} | {:.2} |\n",
                tp as f64 / (tp + fp).max(1) as f64,
                tp as f64 / pos.max(1) as f64
            ));
        }
        out
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tp: usize = self.true_positives.iter().sum();
        let fp: usize = self.false_positives.iter().sum();
        let pos: usize = self.positives.iter().sum();
        write!(
            f,
            "precision {:.3}, recall {:.3}, stance accuracy {:.3} ({pos} positives)",
            tp as f64 / (tp + fp).max(1) as f64,
            tp as f64 / pos.max(1) as f64,
            self.stance_right as f64 / tp.max(1) as f64
        )
    }
}

/// One line per training sentence: fold, service, labels and out-of-fold tags (each
/// `provision:stance` joined by `,`, `-` for none), probabilities (`,`-joined, in the
/// taxonomy's order) and the text.
fn export_dev(
    path: &Path,
    provisions: &[String],
    train: &[&Example],
    fold_of: &HashMap<&str, usize>,
    oof: &[Vec<f32>],
    dev_tags: &[Vec<(usize, Stance)>],
) {
    let field = |tags: &mut dyn Iterator<Item = (usize, Stance)>| {
        let tags: Vec<String> = tags.map(|(p, s)| format!("{}:{}", provisions[p], s.as_str())).collect();
        if tags.is_empty() {
            "-".to_string()
        } else {
            tags.join(",")
        }
    };
    let mut out = format!("# provisions\t{}\n", provisions.join(","));
    for ((e, probabilities), tags) in train.iter().zip(oof).zip(dev_tags) {
        let labels = field(&mut e.labels.iter().map(|(&p, &s)| (p, s)));
        let tags = field(&mut tags.iter().copied());
        let probabilities: Vec<String> = probabilities.iter().map(|x| format!("{x:.4}")).collect();
        out.push_str(&format!(
            "{}\t{}\t{labels}\t{tags}\t{}\t{}\n",
            fold_of[e.service.as_str()],
            e.service,
            probabilities.join(","),
            e.text.replace(['\t', '\n'], " ")
        ));
    }
    std::fs::write(path, out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!("wrote {} training sentences to {}", train.len(), path.display());
}
