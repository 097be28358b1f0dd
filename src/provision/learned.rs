//! The learned tagger: a detector per provision (a logistic regression plus its share of
//! a hidden layer all detectors read) and one softmax stance classifier, over features
//! that generalise beyond the rules' keywords:
//!
//! - the sentence's static MiniLM embedding ([`super::embedding`]),
//! - its word unigrams and bigrams (those seen in at least a few training sentences,
//!   of words in the model's [`WordForm`], kept as 64-bit hashes: the model file holds
//!   no words of the training text),
//! - the hand-written rules' verdicts (which provisions fired, and with what stance).
//!
//! The model file (`src/provision/tagger-model.bin`, built in) is trained by
//! `cargo run --release --example train-tagger` from the labelled corpus sentences; its
//! thresholds were chosen on the training services only (docs/provisions.md).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::embedding::StaticEmbeddings;
use super::{Stance, Tag, Words};

/// The model trained for the built-in taxonomy, committed with the code.
pub const BUILTIN_MODEL: &[u8] = include_bytes!("tagger-model.bin");

/// [`BUILTIN_MODEL`]'s SHA-256 in hex, computed by build.rs: part of the tagger's
/// version, which every run that opens the learned tagger needs, so it is not hashed at
/// every start (docs/performance.md).
pub const BUILTIN_MODEL_SHA256: &str = include_str!(concat!(env!("OUT_DIR"), "/tagger-model.sha256"));

const MAGIC: &[u8; 8] = b"CWTAGGER";

/// The stances in the order of the stance classifier's outputs.
pub const STANCES: [Stance; 4] = [Stance::Grants, Stance::Restricts, Stance::Conditional, Stance::Neutral];

/// What the model file's JSON header holds; the weights follow it as little-endian f32.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The static embedding table the model was trained with ([`StaticEmbeddings::key`]).
    pub embedding_key: String,
    pub dims: usize,
    /// What the unit-length embedding is multiplied by: about `sqrt(dims)`, so its
    /// components weigh about as much as a one-hot column under the same L2 penalty
    /// (at scale 1 the penalty leaves them no say: measured, docs/provisions.md).
    #[serde(default = "unit_scale")]
    pub embedding_scale: f32,
    /// Provision ids, in the order of the detectors.
    pub provisions: Vec<String>,
    /// Hashes of the word n-grams that are features ([`ngram_hash`]), in column order.
    pub ngrams: Vec<u64>,
    /// Per provision: the detector's probability at and above which it tags.
    pub thresholds: Vec<f32>,
    /// How a sentence's words become the n-grams that are hashed ([`WordForm`]).
    #[serde(default)]
    pub words: WordForm,
    /// How the sentence embedding pools its word pieces' vectors ([`Pooling`]).
    #[serde(default)]
    pub pooling: Pooling,
    /// Units of the hidden layer the detectors share (0: the detectors are linear).
    #[serde(default)]
    pub hidden: usize,
    /// Models in the file, each trained from its own starting weights; their detectors'
    /// probabilities are averaged and their stance logits summed. One model alone
    /// depends on its starting weights by up to 0.04 of dev F1 (docs/provisions.md).
    #[serde(default = "one_member")]
    pub members: usize,
    /// How the model was trained and measured, for people (not read by the code).
    #[serde(default)]
    pub notes: String,
}

fn unit_scale() -> f32 {
    1.0
}

fn one_member() -> usize {
    1
}

/// How words become n-grams. Part of the model file: the hashes are of these forms, so
/// tagging must form words exactly as training did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WordForm {
    /// The lower-case tokens of [`Words`].
    #[default]
    Plain,
    /// Lower-case tokens with inflections stripped ([`stem`]), so "share", "shares",
    /// "shared" and "sharing" are one feature and an n-gram learnt from one wording
    /// counts for the others.
    Stemmed,
}

/// How a sentence's word-piece vectors become one embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// The unit-length mean ([`StaticEmbeddings::embed`]).
    #[default]
    Mean,
    /// The unit-length mean, then the unit-length component-wise maximum (twice the
    /// dimensions): a word the mean dilutes in a long sentence still shows.
    MeanMax,
}

impl Pooling {
    /// The embedding's dimensions for a table of `dims`.
    pub fn dims(self, dims: usize) -> usize {
        match self {
            Pooling::Mean => dims,
            Pooling::MeanMax => 2 * dims,
        }
    }

    pub fn embed(self, embeddings: &StaticEmbeddings, sentence: &str) -> Vec<f32> {
        match self {
            Pooling::Mean => embeddings.embed(sentence),
            Pooling::MeanMax => embeddings.embed_mean_max(sentence),
        }
    }
}

/// A light, rule-based stem of a lower-case word: plural and verb endings stripped
/// (`-s`, `-es`, `-ies`, `-ed`, `-ing`, a final `-e`), a doubled final consonant undone.
/// Not a linguistic stemmer: it only needs to give inflections of a word one form, and
/// to be a pure function of the word (the model's n-gram hashes depend on it).
pub fn stem(word: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    // Short words, numbers and words with apostrophes ("don't") are kept as they are.
    if word.len() <= 3 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return Cow::Borrowed(word);
    }
    let mut w = word;
    let mut owned: Option<String> = None;
    if let Some(base) = w.strip_suffix("ies").filter(|b| b.len() >= 2) {
        owned = Some(format!("{base}y"));
    } else if w.ends_with("sses") {
        w = &w[..w.len() - 2];
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w = &w[..w.len() - 1];
    }
    if owned.is_none() {
        for suffix in ["ing", "ed"] {
            if let Some(base) = w.strip_suffix(suffix).filter(|b| b.len() >= 3) {
                w = base;
                let b = w.as_bytes();
                let n = b.len();
                // "stopped" -> "stop", but "sell"/"pass"/"buzz" keep theirs.
                if n >= 4 && b[n - 1] == b[n - 2] && !b"aeiouylsz".contains(&b[n - 1]) {
                    w = &w[..n - 1];
                }
                break;
            }
        }
        if let Some(base) = w.strip_suffix('e').filter(|b| b.len() >= 3) {
            w = base;
        }
    }
    match owned {
        Some(s) => Cow::Owned(s),
        None if w.len() == word.len() => Cow::Borrowed(word),
        None => Cow::Owned(w.to_string()),
    }
}

/// The sentence's lower-case tokens in the given form.
fn word_forms(sentence: &str, form: WordForm) -> (Vec<String>, Vec<String>) {
    let words = Words::new(sentence).tokens;
    let formed = match form {
        WordForm::Plain => words.clone(),
        WordForm::Stemmed => words.iter().map(|w| stem(w).into_owned()).collect(),
    };
    (words, formed)
}

/// Column layout of a sentence's features: `[embedding | n-grams | rule hits]` for the
/// detectors; the stance classifier adds `[rule stance (4) | provision (P)]`.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dims: usize,
    pub ngrams: usize,
    pub provisions: usize,
    /// Units of the hidden layer.
    pub hidden: usize,
}

impl Layout {
    fn of(header: &Header) -> Layout {
        Layout {
            dims: header.dims,
            ngrams: header.ngrams.len(),
            provisions: header.provisions.len(),
            hidden: header.hidden,
        }
    }

    /// The f32s of one member's weights in a model file.
    fn member_len(&self) -> usize {
        let (p, h) = (self.provisions, self.hidden);
        let (dw, sw) = (self.detector_width(), self.stance_width());
        p * dw + p + STANCES.len() * sw + STANCES.len() + dw * h + h + p * h
    }

    pub fn detector_width(&self) -> usize {
        self.dims + self.ngrams + self.provisions
    }
    pub fn stance_width(&self) -> usize {
        self.detector_width() + STANCES.len() + self.provisions
    }
}

/// Each n-gram hash's feature column: after the embedding's, in the header's order.
fn ngram_columns(header: &Header, layout: &Layout) -> HashMap<u64, u32> {
    header
        .ngrams
        .iter()
        .enumerate()
        .map(|(i, &h)| (h, (layout.dims + i) as u32))
        .collect()
}

/// A sentence's features: the dense embedding and the columns (past it) that are 1.
#[derive(Debug, Clone)]
pub struct Features {
    pub embedding: Vec<f32>,
    /// Sorted, deduplicated columns of the n-grams and rule hits present.
    pub active: Vec<u32>,
    /// The rules' tags, by provision index (None where the rule did not fire).
    pub rule_stances: Vec<Option<Stance>>,
}

/// The trained model: the header and one or more members' weights.
#[derive(Debug, Clone)]
pub struct Model {
    pub header: Header,
    pub layout: Layout,
    ngram_columns: HashMap<u64, u32>,
    pub members: Vec<Weights>,
}

/// One member's weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// `P × detector_width` weights, then `P` biases.
    pub detector_weights: Vec<f32>,
    pub detector_bias: Vec<f32>,
    /// `4 × stance_width` weights, then 4 biases.
    pub stance_weights: Vec<f32>,
    pub stance_bias: Vec<f32>,
    /// The shared hidden layer (`header.hidden` units H, ReLU), input column-major:
    /// `detector_width × H` weights (the H weights of an input column are contiguous, so
    /// a sparse column adds one slice), then H biases; then `P × H` output weights that
    /// add to each detector's linear logit. Empty when H is 0.
    pub hidden_weights: Vec<f32>,
    pub hidden_bias: Vec<f32>,
    pub output_weights: Vec<f32>,
}

impl Weights {
    /// Every weight zero, to be trained (the training tool).
    pub fn zeroed(layout: &Layout) -> Weights {
        let (p, h) = (layout.provisions, layout.hidden);
        Weights {
            detector_weights: vec![0.0; p * layout.detector_width()],
            detector_bias: vec![0.0; p],
            stance_weights: vec![0.0; STANCES.len() * layout.stance_width()],
            stance_bias: vec![0.0; STANCES.len()],
            hidden_weights: vec![0.0; layout.detector_width() * h],
            hidden_bias: vec![0.0; h],
            output_weights: vec![0.0; p * h],
        }
    }

    /// The weights in file order.
    fn floats(&self) -> impl Iterator<Item = &f32> {
        self.detector_weights
            .iter()
            .chain(&self.detector_bias)
            .chain(&self.stance_weights)
            .chain(&self.stance_bias)
            .chain(&self.hidden_weights)
            .chain(&self.hidden_bias)
            .chain(&self.output_weights)
    }

    /// The hidden layer's activations (ReLU) for a sentence; empty without one.
    pub fn hidden_layer(&self, layout: &Layout, f: &Features) -> Vec<f32> {
        let h = layout.hidden;
        if h == 0 {
            return Vec::new();
        }
        let mut out = self.hidden_bias.clone();
        for (d, &x) in f.embedding.iter().enumerate() {
            for (o, w) in out.iter_mut().zip(&self.hidden_weights[d * h..(d + 1) * h]) {
                *o += x * w;
            }
        }
        for &c in &f.active {
            let c = c as usize;
            for (o, w) in out.iter_mut().zip(&self.hidden_weights[c * h..(c + 1) * h]) {
                *o += w;
            }
        }
        out.iter_mut().for_each(|o| *o = o.max(0.0));
        out
    }

    /// The detectors' logits, by provision: each detector's linear logit plus its share
    /// of the hidden layer.
    pub fn detector_logits(&self, layout: &Layout, f: &Features) -> Vec<f32> {
        let width = layout.detector_width();
        let hidden = self.hidden_layer(layout, f);
        let h = hidden.len();
        (0..layout.provisions)
            .map(|p| {
                let w = &self.detector_weights[p * width..(p + 1) * width];
                let deep: f32 = hidden
                    .iter()
                    .zip(&self.output_weights[p * h..(p + 1) * h])
                    .map(|(a, b)| a * b)
                    .sum();
                linear(w, self.detector_bias[p], f, &[]) + deep
            })
            .collect()
    }

    /// The stance classifier's logits, given the provision's extra columns
    /// ([`Model::stance_extra`]).
    pub fn stance_logits(&self, layout: &Layout, f: &Features, extra: &[u32]) -> [f32; 4] {
        let width = layout.stance_width();
        std::array::from_fn(|k| {
            linear(
                &self.stance_weights[k * width..(k + 1) * width],
                self.stance_bias[k],
                f,
                extra,
            )
        })
    }
}

/// A model file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("tagger model: {0}")]
pub struct ModelFileError(pub String);

/// The hash of a word n-gram (words joined by one space): FNV-1a, stable across builds.
pub fn ngram_hash(words: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            h ^= u64::from(b' ');
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in w.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The hashes of a sentence's unigrams and bigrams (of its words in `form`), in order.
pub fn ngram_hashes(sentence: &str, form: WordForm) -> Vec<u64> {
    let (_, formed) = word_forms(sentence, form);
    let tokens: Vec<&str> = formed.iter().map(String::as_str).collect();
    let mut out = Vec::with_capacity(tokens.len() * 2);
    for (i, w) in tokens.iter().enumerate() {
        out.push(ngram_hash(&[w]));
        if let Some(next) = tokens.get(i + 1) {
            out.push(ngram_hash(&[w, next]));
        }
    }
    out
}

/// The unigrams and bigrams of a sentence, as (hash of the words in `form`, the words
/// as written in lower case) pairs in order.
pub fn ngrams(sentence: &str, form: WordForm) -> Vec<(u64, String)> {
    let (words, formed) = word_forms(sentence, form);
    let mut out = Vec::with_capacity(words.len() * 2);
    for (i, w) in words.iter().enumerate() {
        out.push((ngram_hash(&[&formed[i]]), w.clone()));
        if let Some(next) = words.get(i + 1) {
            out.push((ngram_hash(&[&formed[i], &formed[i + 1]]), format!("{w} {next}")));
        }
    }
    out
}

impl Model {
    /// A model file's header, checked against the size of the weights that follow it:
    /// what a tagger needs to know before it tags (see [`decode`](Self::decode)).
    pub fn read_header(bytes: &[u8]) -> Result<Header, ModelFileError> {
        Model::split(bytes).map(|(header, _)| header)
    }

    /// A model file's checked header and the bytes of its weights.
    fn split(bytes: &[u8]) -> Result<(Header, &[u8]), ModelFileError> {
        let bad = |m: &str| ModelFileError(m.to_string());
        if bytes.get(..8) != Some(MAGIC.as_slice()) {
            return Err(bad("not a clausewatch tagger model"));
        }
        let header_len = bytes
            .get(8..12)
            .map(|b| u32::from_le_bytes(b.try_into().expect("four bytes")) as usize)
            .ok_or_else(|| bad("truncated"))?;
        let header_bytes = bytes.get(12..12 + header_len).ok_or_else(|| bad("truncated header"))?;
        let header: Header =
            serde_json::from_slice(header_bytes).map_err(|e| ModelFileError(format!("bad header: {e}")))?;
        let layout = Layout::of(&header);
        if header.thresholds.len() != layout.provisions {
            return Err(bad("one threshold per provision expected"));
        }
        if header.members == 0 {
            return Err(bad("a model needs at least one member"));
        }
        if !layout.dims.is_multiple_of(header.pooling.dims(1)) {
            return Err(bad("the embedding's dimensions do not fit its pooling"));
        }
        let weights = &bytes[12 + header_len..];
        if !weights.len().is_multiple_of(4) {
            return Err(bad("the weights are not whole f32s"));
        }
        let expected = layout.member_len() * header.members;
        if weights.len() / 4 != expected {
            return Err(ModelFileError(format!(
                "{} weights, {expected} expected",
                weights.len() / 4
            )));
        }
        Ok((header, weights))
    }

    /// The first 12 hex digits of a model file's SHA-256: part of the tagger's version.
    pub fn file_digest(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))[..12].to_string()
    }

    /// [`Model::file_digest`] of [`BUILTIN_MODEL`], from the digest build.rs computed.
    pub fn builtin_digest() -> String {
        BUILTIN_MODEL_SHA256[..12].to_string()
    }

    pub fn decode(bytes: &[u8]) -> Result<Model, ModelFileError> {
        let (header, weights) = Model::split(bytes)?;
        let layout = Layout::of(&header);
        let p = layout.provisions;
        let (dw, sw, h) = (layout.detector_width(), layout.stance_width(), layout.hidden);
        // `split` checked that the weights are exactly the members' f32s.
        let mut rest = weights;
        let mut take = |n: usize| -> Vec<f32> {
            let (a, b) = rest.split_at(4 * n);
            rest = b;
            a.chunks_exact(4)
                .map(|f| f32::from_le_bytes(f.try_into().expect("four bytes")))
                .collect()
        };
        let members: Vec<Weights> = (0..header.members)
            .map(|_| Weights {
                detector_weights: take(p * dw),
                detector_bias: take(p),
                stance_weights: take(STANCES.len() * sw),
                stance_bias: take(STANCES.len()),
                hidden_weights: take(dw * h),
                hidden_bias: take(h),
                output_weights: take(p * h),
            })
            .collect();
        if members.iter().flat_map(Weights::floats).any(|f| !f.is_finite()) {
            return Err(ModelFileError("a weight is not finite".into()));
        }
        let ngram_columns = ngram_columns(&header, &layout);
        Ok(Model {
            header,
            layout,
            ngram_columns,
            members,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let header = Header {
            members: self.members.len(),
            ..self.header.clone()
        };
        let header = serde_json::to_vec(&header).expect("a header serializes");
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        for f in self.members.iter().flat_map(Weights::floats) {
            out.extend_from_slice(&f.to_le_bytes());
        }
        out
    }

    /// A model of `header.members` members with every weight zero, to be trained (the
    /// training tool).
    pub fn zeroed(header: Header) -> Model {
        let zero = Weights::zeroed(&Layout::of(&header));
        let members = vec![zero; header.members];
        Model::of_members(header, members)
    }

    /// One model of these members, trained on the same header (the training tool).
    pub fn of_members(mut header: Header, members: Vec<Weights>) -> Model {
        header.members = members.len();
        let layout = Layout::of(&header);
        Model {
            ngram_columns: ngram_columns(&header, &layout),
            members,
            header,
            layout,
        }
    }

    /// The features of a sentence, given its embedding and the rules' tags.
    pub fn features(&self, sentence: &str, mut embedding: Vec<f32>, rule_tags: &[Tag]) -> Features {
        embedding.iter_mut().for_each(|x| *x *= self.header.embedding_scale);
        let mut active: Vec<u32> = ngram_hashes(sentence, self.header.words)
            .iter()
            .filter_map(|h| self.ngram_columns.get(h).copied())
            .collect();
        let rule_base = self.layout.dims + self.layout.ngrams;
        let mut rule_stances = vec![None; self.layout.provisions];
        for tag in rule_tags {
            if let Some(i) = self.header.provisions.iter().position(|p| *p == tag.provision) {
                active.push((rule_base + i) as u32);
                rule_stances[i] = Some(tag.stance);
            }
        }
        active.sort_unstable();
        active.dedup();
        Features {
            embedding,
            active,
            rule_stances,
        }
    }

    /// The detectors' probabilities, by provision: the members' average.
    pub fn probabilities(&self, f: &Features) -> Vec<f32> {
        let mut sum = vec![0f32; self.layout.provisions];
        for member in &self.members {
            for (s, z) in sum.iter_mut().zip(member.detector_logits(&self.layout, f)) {
                *s += sigmoid(z);
            }
        }
        let n = self.members.len() as f32;
        sum.iter_mut().for_each(|s| *s /= n);
        sum
    }

    /// The stance columns past the detector's: the rule's stance on `p`, and `p` itself.
    pub fn stance_extra(&self, p: usize, f: &Features) -> Vec<u32> {
        let base = self.layout.detector_width();
        let mut extra = Vec::with_capacity(2);
        if let Some(stance) = f.rule_stances[p] {
            let k = STANCES.iter().position(|s| *s == stance).expect("a known stance");
            extra.push((base + k) as u32);
        }
        extra.push((base + STANCES.len() + p) as u32);
        extra
    }

    /// The stance of provision `p` in a sentence: the highest of the members' summed
    /// stance logits.
    pub fn stance(&self, p: usize, f: &Features) -> Stance {
        let extra = self.stance_extra(p, f);
        let mut logits = [0f32; 4];
        for member in &self.members {
            for (a, b) in logits.iter_mut().zip(member.stance_logits(&self.layout, f, &extra)) {
                *a += b;
            }
        }
        let best = (0..STANCES.len())
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .expect("four stances");
        STANCES[best]
    }

    /// Tags a sentence. `rule_tags` are the rules' tags of the same sentence: a provision
    /// the model does not know keeps its rule tag; one it knows is tagged when the
    /// detector's probability reaches its threshold.
    pub fn tag(&self, sentence: &str, embeddings: &StaticEmbeddings, rule_tags: Vec<Tag>) -> Vec<Tag> {
        // A fragment states no provision by the labels' rules, and the model's verdict
        // on one was seen to be a confident wrong one. The rules decide there, as
        // without it.
        if is_fragment(sentence) {
            return rule_tags;
        }
        let features = self.features(sentence, self.header.pooling.embed(embeddings, sentence), &rule_tags);
        let mut tags: Vec<Tag> = Vec::new();
        let mut rules: HashMap<String, Tag> = HashMap::new();
        for tag in rule_tags {
            if self.header.provisions.contains(&tag.provision) {
                rules.insert(tag.provision.clone(), tag);
            } else {
                tags.push(tag);
            }
        }
        // The n-grams with their text, built only for a sentence that gets a tag.
        let mut sentence_ngrams: Option<Vec<(u64, String)>> = None;
        let probabilities = self.probabilities(&features);
        for (p, id) in self.header.provisions.iter().enumerate() {
            let probability = probabilities[p];
            if probability < self.header.thresholds[p] {
                continue;
            }
            let rule = rules.remove(id);
            tags.push(Tag {
                provision: id.clone(),
                stance: self.stance(p, &features),
                matched: rule.map(|r| r.matched).unwrap_or_default(),
                words: self.evidence(
                    p,
                    sentence_ngrams.get_or_insert_with(|| ngrams(sentence, self.header.words)),
                ),
                confidence: Some((probability * 1000.0).round() as u16),
            });
        }
        tags
    }

    /// The sentence's words and word pairs that weighed most for provision `p` (in the
    /// detectors' linear parts, summed over the members; the hidden layer mixes them): at
    /// most three, strongest first, each with a positive weight.
    fn evidence(&self, p: usize, ngrams: &[(u64, String)]) -> Vec<String> {
        let row = p * self.layout.detector_width();
        let mut weighed: Vec<(f32, String)> = ngrams
            .iter()
            .filter_map(|(h, text)| {
                let column = row + *self.ngram_columns.get(h)? as usize;
                let weight = self.members.iter().map(|m| m.detector_weights[column]).sum();
                Some((weight, text.clone()))
            })
            .filter(|(weight, _)| *weight > 0.0)
            .collect();
        weighed.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        weighed.dedup_by(|a, b| a.1 == b.1);
        weighed.into_iter().take(3).map(|(_, text)| text).collect()
    }
}

/// `w · x + bias` for a weight row over `[embedding | one-hot columns]`.
pub fn linear(w: &[f32], bias: f32, f: &Features, extra: &[u32]) -> f32 {
    let dense: f32 = w.iter().zip(&f.embedding).map(|(a, b)| a * b).sum();
    let sparse: f32 = f.active.iter().chain(extra).map(|&c| w[c as usize]).sum();
    dense + sparse + bias
}

/// The fewest words of a sentence the learned model tags: the labelled sentences it
/// learned from have at least this many (docs/labelling.md).
pub const MIN_WORDS: usize = 4;

/// At most this many words without a sentence's punctuation make a heading or a list
/// item, not a sentence (see [`is_fragment`]).
pub const FRAGMENT_MAX_WORDS: usize = 8;

/// Whether a sentence is a fragment the learned model leaves to the rules: under
/// [`MIN_WORDS`] words (the labelled sentences it learned from have at least that many:
/// a country in a list came out `ai-training-conversations` at confidence 1000), or a
/// short line with none of a sentence's punctuation, as headings and list items are
/// ("Suspending or closing your account"). The labels count those as
/// stating nothing (docs/labelling.md: a heading, or a line that needs the words around
/// it): of the 1,025 such lines of the training services, 5 state a provision. A list
/// item that goes on ("object to the processing; and") has a `;` and is a sentence.
pub fn is_fragment(sentence: &str) -> bool {
    const SENTENCE_MARKS: [char; 10] = ['.', '!', '?', ';', ':', '。', '！', '？', '；', '：'];
    let words = word_count(sentence);
    words < MIN_WORDS || (words <= FRAGMENT_MAX_WORDS && !sentence.contains(SENTENCE_MARKS))
}

/// Words as the labels count them: whitespace-separated, with a letter or digit.
pub fn word_count(sentence: &str) -> usize {
    sentence
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            embedding_key: "k".into(),
            dims: 2,
            embedding_scale: 1.0,
            provisions: vec!["a".into(), "b".into()],
            ngrams: vec![ngram_hash(&["train"]), ngram_hash(&["train", "models"])],
            thresholds: vec![0.5, 0.5],
            words: WordForm::Plain,
            pooling: Pooling::Mean,
            hidden: 0,
            members: 1,
            notes: String::new(),
        }
    }

    #[test]
    fn the_built_in_model_decodes_whole() {
        // The tagger checks only the header when it opens and decodes the weights on
        // first use, where a damaged weight could only panic: it must not have one.
        let header = Model::read_header(BUILTIN_MODEL).unwrap();
        let model = Model::decode(BUILTIN_MODEL).unwrap();
        assert_eq!(model.members.len(), header.members);
    }

    #[test]
    fn the_build_time_digest_is_the_embedded_models_sha256() {
        assert_eq!(BUILTIN_MODEL_SHA256, hex::encode(Sha256::digest(BUILTIN_MODEL)));
        assert_eq!(Model::builtin_digest(), Model::file_digest(BUILTIN_MODEL));
    }

    #[test]
    fn model_files_round_trip_and_reject_damage() {
        let mut model = Model::zeroed(header());
        model.members[0].detector_weights[3] = 1.5;
        let bytes = model.encode();
        let back = Model::decode(&bytes).unwrap();
        assert_eq!(back.members, model.members);
        assert_eq!(Model::file_digest(&bytes).len(), 12);
        assert!(Model::decode(&bytes[..bytes.len() - 4]).is_err(), "a weight short");
        assert!(
            Model::read_header(&bytes[..bytes.len() - 4]).is_err(),
            "the header sees it"
        );
        assert!(Model::decode(&bytes[..bytes.len() - 1]).is_err(), "a partial float");
        assert!(Model::read_header(&bytes[..bytes.len() - 1]).is_err());
        let mut nan = bytes.clone();
        let at = nan.len() - 4;
        nan[at..].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(Model::decode(&nan).is_err());
        assert!(Model::decode(b"CWTAGGER").is_err());
    }

    #[test]
    fn features_mark_known_ngrams_and_rule_hits() {
        let model = Model::zeroed(header());
        let rule = Tag {
            provision: "b".into(),
            stance: Stance::Restricts,
            matched: vec![],
            words: vec![],
            confidence: None,
        };
        let f = model.features("We TRAIN models.", vec![0.0, 1.0], &[rule]);
        // Columns: 2 dims, then "train" (2), "train models" (3), then rule hits a (4), b (5).
        assert_eq!(f.active, vec![2, 3, 5]);
        assert_eq!(f.rule_stances, vec![None, Some(Stance::Restricts)]);
        assert_eq!(model.stance_extra(1, &f), vec![6 + 1, 6 + 4 + 1]);
    }

    #[test]
    fn stems_give_inflections_one_form() {
        for family in [
            ["share", "shares", "shared", "sharing"],
            ["process", "processes", "processed", "processing"],
            ["stop", "stops", "stopped", "stopping"],
            ["party", "parties", "party", "party"],
        ] {
            let stems: Vec<_> = family.iter().map(|w| stem(w)).collect();
            assert!(stems.iter().all(|s| *s == stems[0]), "{family:?} -> {stems:?}");
        }
        // Short words, numbers and contractions stay as they are.
        for kept in ["us", "use", "13", "don't", "sell", "data"] {
            assert_eq!(stem(kept), kept);
        }
        // Hashes of stemmed n-grams; the evidence keeps the words as written.
        let grams = ngrams("We shared it", WordForm::Stemmed);
        assert_eq!(grams[2], (ngram_hash(&["shar"]), "shared".to_string()));
        assert_eq!(ngram_hashes("We share it", WordForm::Stemmed)[2], grams[2].0);
    }

    #[test]
    fn a_hidden_layer_adds_to_the_logits_and_round_trips() {
        let mut h = header();
        h.hidden = 2;
        let mut model = Model::zeroed(h);
        let f = model.features("We train models.", vec![1.0, 0.0], &[]);
        let layout = model.layout.clone();
        let member = &mut model.members[0];
        assert_eq!(member.detector_logits(&layout, &f), vec![0.0, 0.0]);
        // Hidden unit 0 reads "train" (column 2) with weight 2 and dimension 0 with 1;
        // unit 1 is negative (ReLU: silent). Detector b reads unit 0 with weight 0.5.
        member.hidden_weights[2 * 2] = 2.0;
        member.hidden_weights[0] = 1.0;
        member.hidden_bias[1] = -1.0;
        member.output_weights[2] = 0.5;
        member.output_weights[3] = 7.0;
        assert_eq!(member.hidden_layer(&layout, &f), vec![3.0, 0.0]);
        assert_eq!(member.detector_logits(&layout, &f), vec![0.0, 1.5]);
        let back = Model::decode(&model.encode()).unwrap();
        assert_eq!(back.members[0].detector_logits(&layout, &f), vec![0.0, 1.5]);
        assert!(Model::decode(&model.encode()[..model.encode().len() - 4]).is_err());
    }

    #[test]
    fn members_average_their_probabilities_and_sum_their_stances() {
        let mut h = header();
        h.members = 2;
        let mut model = Model::zeroed(h);
        let f = model.features("We train models.", vec![0.0, 0.0], &[]);
        // Member 0 is sure of provision a (sigmoid(50) is 1 in f32), member 1 has no
        // view (0.5).
        model.members[0].detector_bias[0] = 50.0;
        assert_eq!(model.probabilities(&f), vec![0.75, 0.5]);
        // Stance of a: member 0 leans to grants, member 1 more strongly to restricts.
        let width = model.layout.stance_width();
        model.members[0].stance_bias[0] = 1.0;
        model.members[1].stance_bias[1] = 2.0;
        assert_eq!(model.stance(0, &f), Stance::Restricts);
        model.members[1].stance_weights[width + 2] = -1.5; // "train" against restricts
        assert_eq!(model.stance(0, &f), Stance::Grants);
        let back = Model::decode(&model.encode()).unwrap();
        assert_eq!(back.members, model.members);
        assert_eq!(back.probabilities(&f), vec![0.75, 0.5]);
        // A file whose header counts more members than it holds is refused.
        let one = Model::zeroed(header()).encode();
        let at = one.windows(11).position(|w| w == b"\"members\":1").expect("the count") + 10;
        let mut two = one.clone();
        two[at] = b'2';
        assert!(Model::decode(&one).is_ok());
        assert!(Model::decode(&two).is_err());
    }

    #[test]
    fn evidence_is_the_heaviest_words_of_the_sentence() {
        let mut h = header();
        h.members = 2;
        let mut model = Model::zeroed(h);
        let width = model.layout.detector_width();
        model.members[0].detector_weights[2] = 0.5; // "train" for provision a
        model.members[1].detector_weights[3] = 2.0; // "train models" for provision a
        model.members[0].detector_weights[width + 2] = -1.0; // "train" against provision b
        model.members[1].detector_weights[width + 2] = 0.5; // the members' sum is against
        let grams = ngrams("We train models", WordForm::Plain);
        assert_eq!(model.evidence(0, &grams), vec!["train models", "train"]);
        assert!(model.evidence(1, &grams).is_empty());
    }
}
