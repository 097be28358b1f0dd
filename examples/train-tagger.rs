//! Trains the learned provision tagger (src/provision/tagger-model.bin) from the labelled
//! corpus sentences, and measures it against the rules.
//!
//! ```text
//! cargo run --release --example train-tagger -- --model DIR [--out src/provision/tagger-model.bin]
//!     [--labels tests/data/provision-labels-full.tsv] [--test-services tests/data/provision-test-services.txt]
//!     [--corpus ../shared/corpus] [--cache DIR] [--embedding static|full|none] [--lambda 1e-4]
//!     [--embedding-scale S (default: the square root of the dimensions)] [--report-test]
//! ```
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
use clausewatch::provision::learned::{self, Features, Header, Model, STANCES, sigmoid};
use clausewatch::provision::minilm::MiniLm;
use clausewatch::provision::{Stance, Taxonomy};

use labelled_corpus::{find_sentence, read_full_labels, read_services, service_of};

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
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
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
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

struct Example {
    service: String,
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
            (
                table.dims(),
                table.key.clone(),
                Box::new(move |texts: &[&str]| texts.iter().map(|t| table.embed(t)).collect()),
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
        let unique: BTreeSet<u64> = learned::ngrams(text).into_iter().map(|(h, _)| h).collect();
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
                labels,
                features,
            }
        })
        .collect();
    let (train, test): (Vec<&Example>, Vec<&Example>) =
        examples.iter().partition(|e| !test_services.contains(&e.service));
    eprintln!("{} training sentences, {} test sentences", train.len(), test.len());

    // Out-of-fold predictions over the training services, grouped by service.
    let services: BTreeSet<&str> = train.iter().map(|e| e.service.as_str()).collect();
    let fold_of: HashMap<&str, usize> = services.iter().enumerate().map(|(i, s)| (*s, i % FOLDS)).collect();
    let mut oof: Vec<Vec<f32>> = vec![Vec::new(); train.len()];
    let mut oof_stance: Vec<Vec<Stance>> = vec![Vec::new(); train.len()];
    for fold in 0..FOLDS {
        let fit: Vec<&Example> = train
            .iter()
            .copied()
            .filter(|e| fold_of[e.service.as_str()] != fold)
            .collect();
        let model = fit_model(&skeleton, &fit, o.lambda);
        for (i, e) in train.iter().enumerate() {
            if fold_of[e.service.as_str()] == fold {
                oof[i] = (0..provisions.len())
                    .map(|p| sigmoid(model.detector_logit(p, &e.features)))
                    .collect();
                oof_stance[i] = (0..provisions.len())
                    .map(|p| predict_stance(&model, p, &e.features))
                    .collect();
            }
        }
        eprintln!("fold {fold} done ({:.1?})", started.elapsed());
    }
    // Thresholds: the best F1 of each provision's out-of-fold scores.
    let thresholds: Vec<f32> = (0..provisions.len())
        .map(|p| {
            let scored: Vec<(f32, bool)> = train
                .iter()
                .zip(&oof)
                .map(|(e, s)| (s[p], e.labels.contains_key(&p)))
                .collect();
            best_threshold(&scored)
        })
        .collect();

    // Figures.
    let dev = Figures::measure(
        &provisions,
        train.iter().zip(&oof).zip(&oof_stance).map(|((e, s), st)| {
            let tags: Vec<(usize, Stance)> = (0..provisions.len())
                .filter(|&p| s[p] >= thresholds[p])
                .map(|p| (p, st[p]))
                .collect();
            (*e, tags)
        }),
    );
    println!(
        "embedding: {} (scale {}, lambda {})",
        o.embedding, skeleton.header.embedding_scale, o.lambda
    );
    println!("dev (out-of-fold over the training services; thresholds tuned here): {dev}");
    println!("{}", dev.table(&provisions));
    if o.out.is_none() && !o.report_test {
        return;
    }

    let mut model = fit_model(&skeleton, &train, o.lambda);
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
                let tags = (0..provisions.len())
                    .filter(|&p| sigmoid(model.detector_logit(p, &e.features)) >= thresholds[p])
                    .map(|p| (p, predict_stance(&model, p, &e.features)))
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

fn predict_stance(model: &Model, p: usize, f: &Features) -> Stance {
    let logits = model.stance_logits(p, f);
    let best = (0..4).max_by(|&a, &b| logits[a].total_cmp(&logits[b])).expect("four");
    STANCES[best]
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

/// Logistic regression per provision and a softmax stance classifier, by full-batch
/// Adam on the mean log loss plus `lambda`·‖w‖² (biases unpenalised).
fn fit_model(skeleton: &Model, examples: &[&Example], lambda: f32) -> Model {
    let mut model = skeleton.clone();
    let layout = model.layout.clone();
    let width = layout.detector_width();
    let n = examples.len() as f32;
    for p in 0..layout.provisions {
        let positives = examples.iter().filter(|e| e.labels.contains_key(&p)).count();
        // Rare provisions weigh their positives up (square root of the imbalance).
        let weight = ((examples.len() - positives) as f32 / positives.max(1) as f32)
            .sqrt()
            .clamp(1.0, 10.0);
        let mut w = vec![0f32; width + 1];
        let mut adam = Adam::new(width + 1);
        for _ in 0..EPOCHS {
            let mut grad = vec![0f32; width + 1];
            for e in examples {
                let y = e.labels.contains_key(&p);
                let z = learned::linear(&w[..width], w[width], &e.features, &[]);
                let g = (sigmoid(z) - if y { 1.0 } else { 0.0 }) * if y { weight } else { 1.0 } / n;
                accumulate(&mut grad, width, &e.features, &[], g);
            }
            for (g, x) in grad[..width].iter_mut().zip(&w[..width]) {
                *g += 2.0 * lambda * x;
            }
            adam.step(&mut w, &grad);
        }
        model.detector_weights[p * width..(p + 1) * width].copy_from_slice(&w[..width]);
        model.detector_bias[p] = w[width];
    }
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
    for _ in 0..EPOCHS {
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
        model.stance_weights[c * swidth..(c + 1) * swidth].copy_from_slice(&w[..swidth]);
        model.stance_bias[c] = w[swidth];
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
