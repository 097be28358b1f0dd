//! A BERT encoder (all-MiniLM-L6-v2) run in plain Rust: its WordPiece tokenizer, its
//! weights read from `model.safetensors`, and the forward pass with mean pooling.
//!
//! Written here rather than taken from candle or `tokenizers`: the model is six small
//! layers, and the tagger needs it only to distil a static embedding table once per set
//! of weights (see [`super::embedding`]); a few hundred lines and one matrix-multiply
//! crate build in seconds on CI's two cores, where candle-transformers and `tokenizers`
//! (with its regex engine and C++ suffix-array build) cost minutes (docs/provisions.md).
//!
//! A model folder holds `model.safetensors`, `tokenizer.json` and `config.json`. Every
//! file is checked against what the code expects; nothing is downloaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

/// A model folder that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A file of the folder that is not a regular file of a plausible size: the folder
    /// can be named by an archive's settings, so a link or a device there is not read.
    #[error(
        "{path}: {source}; a model folder must hold the files themselves \
         (scripts/fetch-minilm puts them there; docs/provisions.md#the-weights)"
    )]
    Unreadable {
        path: PathBuf,
        source: crate::nofollow::ReadError,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

fn invalid(path: &Path, message: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// A file of a model folder, read only as a regular file (never through a link, never
/// a device or a FIFO) of at most `max` bytes.
fn read(path: &Path, max: u64) -> Result<Vec<u8>, ModelError> {
    crate::nofollow::read_capped(path, max).map_err(|source| model_read_error(path, source))
}

/// The error for a file of a model folder that could not be read: a missing file or
/// a failed read as such, anything else as a file that cannot be used.
pub(super) fn model_read_error(path: &Path, source: crate::nofollow::ReadError) -> ModelError {
    match source {
        crate::nofollow::ReadError::Io(source) => ModelError::Io {
            path: path.to_path_buf(),
            source,
        },
        source => ModelError::Unreadable {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// The files a model folder must hold.
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const CONFIG_FILE: &str = "config.json";

/// The largest `model.safetensors` read or hashed: all-MiniLM-L6-v2's is 87 MiB, and
/// the encoder is only ever a small BERT (it is run over the whole vocabulary once);
/// 1 GiB leaves room for larger checkpoints of that kind while keeping a link to
/// `/dev/zero` or a giant file from being hashed and read without end.
pub const MAX_WEIGHTS_BYTES: u64 = 1 << 30;
/// The largest `tokenizer.json`: all-MiniLM-L6-v2's is 455 KiB (30,522 word pieces);
/// multilingual WordPiece vocabularies stay under a few MiB.
pub const MAX_TOKENIZER_BYTES: u64 = 64 << 20;
/// The largest `config.json`: a BERT config is under a kilobyte.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The part of `config.json` the forward pass depends on.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f32,
    #[serde(default)]
    pub hidden_act: String,
}

fn default_eps() -> f32 {
    1e-12
}

// ---------------------------------------------------------------------------------------
// Tokenizer

/// BERT's uncased WordPiece tokenizer, as `tokenizer.json` describes it: clean the text,
/// space out CJK characters, lowercase and strip accents, split on whitespace and
/// punctuation, then greedy longest-match word pieces.
#[derive(Debug, Clone)]
pub struct WordPiece {
    vocab: HashMap<String, u32>,
    /// Token ids in order: the text of id `i` is `tokens[i]`.
    tokens: Vec<String>,
    pub unk: u32,
    pub cls: u32,
    pub sep: u32,
}

#[derive(Deserialize)]
struct TokenizerFile {
    model: TokenizerModel,
}

#[derive(Deserialize)]
struct TokenizerModel {
    #[serde(rename = "type")]
    kind: String,
    vocab: HashMap<String, u32>,
    #[serde(default)]
    continuing_subword_prefix: Option<String>,
}

/// Longest word the WordPiece step looks into; longer ones are unknown (BERT's rule).
const MAX_WORD_CHARS: usize = 100;

impl WordPiece {
    pub fn load(path: &Path) -> Result<WordPiece, ModelError> {
        let bytes = read(path, MAX_TOKENIZER_BYTES)?;
        let file: TokenizerFile =
            serde_json::from_slice(&bytes).map_err(|e| invalid(path, format!("not a tokenizer.json: {e}")))?;
        if file.model.kind != "WordPiece" {
            return Err(invalid(
                path,
                format!("a {} tokenizer, WordPiece expected", file.model.kind),
            ));
        }
        if file.model.continuing_subword_prefix.as_deref().unwrap_or("##") != "##" {
            return Err(invalid(
                path,
                "a continuing-subword prefix other than ## is not supported",
            ));
        }
        WordPiece::from_tokens(file.model.vocab).map_err(|m| invalid(path, m))
    }

    pub(crate) fn from_tokens(vocab: HashMap<String, u32>) -> Result<WordPiece, String> {
        let mut tokens = vec![String::new(); vocab.len()];
        for (text, &id) in &vocab {
            let slot = tokens
                .get_mut(id as usize)
                .ok_or_else(|| format!("token id {id} outside a vocabulary of {}", vocab.len()))?;
            if !slot.is_empty() {
                return Err(format!("token id {id} given twice"));
            }
            *slot = text.clone();
        }
        let special = |name: &str| vocab.get(name).copied().ok_or_else(|| format!("no {name} token"));
        Ok(WordPiece {
            unk: special("[UNK]")?,
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            tokens,
            vocab,
        })
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The text of a token id (`##` marks a piece that continues a word).
    pub fn token(&self, id: u32) -> &str {
        self.tokens.get(id as usize).map(String::as_str).unwrap_or("")
    }

    /// Whether the id is one of the `[...]` control tokens or BERT's `[unusedN]` slots.
    pub fn is_special(&self, id: u32) -> bool {
        let t = self.token(id);
        t.starts_with('[') && t.ends_with(']')
    }

    /// The word pieces of a text, without `[CLS]` and `[SEP]`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        for word in basic_words(text) {
            self.word_pieces(&word, &mut ids);
        }
        ids
    }

    fn word_pieces(&self, word: &str, out: &mut Vec<u32>) {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let start_len = out.len();
        let mut start = 0;
        let mut piece = String::new();
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                piece.clear();
                if start > 0 {
                    piece.push_str("##");
                }
                piece.extend(&chars[start..end]);
                if let Some(&id) = self.vocab.get(&piece) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    out.truncate(start_len);
                    out.push(self.unk);
                    return;
                }
            }
        }
    }
}

/// BERT's basic tokenizer: the words and punctuation marks of a text, cleaned,
/// lowercased and without accents.
fn basic_words(text: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || (c.is_control() && !c.is_whitespace()) {
            continue;
        }
        if is_cjk(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else if c.is_whitespace() {
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    // Most policy text is ASCII, which has no accents to strip.
    let lowered: String = if cleaned.is_ascii() {
        cleaned.to_ascii_lowercase()
    } else {
        cleaned
            .to_lowercase()
            .nfd()
            .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
            .collect()
    };
    let mut words = Vec::new();
    for chunk in lowered.split(' ').filter(|w| !w.is_empty()) {
        let mut current = String::new();
        for c in chunk.chars() {
            if is_punctuation(c) {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                words.push(c.to_string());
            } else {
                current.push(c);
            }
        }
        if !current.is_empty() {
            words.push(current);
        }
    }
    words
}

/// BERT splits on ASCII punctuation and on Unicode punctuation; without the Unicode
/// category tables, any other non-ASCII character that is neither a letter, a digit nor
/// a space counts as punctuation (symbols such as `©` too, which BERT keeps: they are
/// rare in policies and are single-character words either way).
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace())
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

// ---------------------------------------------------------------------------------------
// Weights

/// A row-major matrix of `rows × cols` values.
#[derive(Debug, Clone)]
struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

/// A dense layer: `y = x · weightᵀ + bias`, with the weight as PyTorch stores it
/// (`out × in`, row-major).
#[derive(Debug, Clone)]
struct Linear {
    weight: Matrix,
    bias: Vec<f32>,
}

#[derive(Debug, Clone)]
struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

#[derive(Debug, Clone)]
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// The encoder: embeddings, layers, and the tokenizer that feeds it.
#[derive(Debug, Clone)]
pub struct MiniLm {
    pub config: BertConfig,
    pub tokenizer: WordPiece,
    word_embeddings: Matrix,
    position_embeddings: Matrix,
    token_type_embedding: Vec<f32>,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct TensorInfo {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// The tensors of a safetensors file, by name (only F32 tensors are read).
struct Tensors<'a> {
    path: &'a Path,
    infos: HashMap<String, TensorInfo>,
    data: &'a [u8],
}

impl<'a> Tensors<'a> {
    fn parse(path: &'a Path, bytes: &'a [u8]) -> Result<Tensors<'a>, ModelError> {
        let header_len = bytes
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("eight bytes")) as usize)
            .ok_or_else(|| invalid(path, "shorter than a safetensors header"))?;
        let header = bytes
            .get(8..8usize.saturating_add(header_len))
            .ok_or_else(|| invalid(path, "the safetensors header runs past the end of the file"))?;
        let mut raw: HashMap<String, serde_json::Value> =
            serde_json::from_slice(header).map_err(|e| invalid(path, format!("bad safetensors header: {e}")))?;
        raw.remove("__metadata__");
        let mut infos = HashMap::new();
        for (name, value) in raw {
            let info: TensorInfo =
                serde_json::from_value(value).map_err(|e| invalid(path, format!("tensor {name}: {e}")))?;
            infos.insert(name, info);
        }
        Ok(Tensors {
            path,
            infos,
            data: &bytes[8 + header_len..],
        })
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
        let info = self
            .infos
            .get(name)
            .ok_or_else(|| invalid(self.path, format!("no tensor {name}")))?;
        if info.dtype != "F32" {
            return Err(invalid(
                self.path,
                format!("tensor {name} is {}, F32 expected", info.dtype),
            ));
        }
        if info.shape != shape {
            return Err(invalid(
                self.path,
                format!("tensor {name} has shape {:?}, {shape:?} expected", info.shape),
            ));
        }
        let [start, end] = info.data_offsets;
        let bytes = self
            .data
            .get(start..end)
            .filter(|b| b.len() == shape.iter().product::<usize>() * 4)
            .ok_or_else(|| invalid(self.path, format!("tensor {name} has bad data offsets")))?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("four bytes")))
            .collect())
    }

    fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Matrix, ModelError> {
        Ok(Matrix {
            rows,
            cols,
            data: self.get(name, &[rows, cols])?,
        })
    }

    fn linear(&self, prefix: &str, out: usize, input: usize) -> Result<Linear, ModelError> {
        Ok(Linear {
            weight: self.matrix(&format!("{prefix}.weight"), out, input)?,
            bias: self.get(&format!("{prefix}.bias"), &[out])?,
        })
    }

    fn norm(&self, prefix: &str, size: usize) -> Result<LayerNorm, ModelError> {
        Ok(LayerNorm {
            weight: self.get(&format!("{prefix}.weight"), &[size])?,
            bias: self.get(&format!("{prefix}.bias"), &[size])?,
        })
    }
}

impl MiniLm {
    /// Loads a model folder (`model.safetensors`, `tokenizer.json`, `config.json`).
    pub fn load(folder: &Path) -> Result<MiniLm, ModelError> {
        let config_path = folder.join(CONFIG_FILE);
        let config: BertConfig = serde_json::from_slice(&read(&config_path, MAX_CONFIG_BYTES)?)
            .map_err(|e| invalid(&config_path, format!("not a BERT config.json: {e}")))?;
        if config.hidden_act != "gelu" {
            return Err(invalid(
                &config_path,
                format!("hidden_act {:?}, gelu expected", config.hidden_act),
            ));
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return Err(invalid(&config_path, "hidden_size is not a multiple of the heads"));
        }
        let tokenizer = WordPiece::load(&folder.join(TOKENIZER_FILE))?;
        if tokenizer.len() != config.vocab_size {
            return Err(invalid(
                &folder.join(TOKENIZER_FILE),
                format!("{} tokens, the config says {}", tokenizer.len(), config.vocab_size),
            ));
        }
        let weights_path = folder.join(WEIGHTS_FILE);
        let bytes = read(&weights_path, MAX_WEIGHTS_BYTES)?;
        let t = Tensors::parse(&weights_path, &bytes)?;
        let (h, i) = (config.hidden_size, config.intermediate_size);
        // Checkpoints exported with and without the `bert.` prefix both exist.
        let prefix = if t.infos.contains_key("bert.embeddings.word_embeddings.weight") {
            "bert."
        } else {
            ""
        };
        let layers = (0..config.num_hidden_layers)
            .map(|n| {
                let p = format!("{prefix}encoder.layer.{n}");
                Ok(Layer {
                    query: t.linear(&format!("{p}.attention.self.query"), h, h)?,
                    key: t.linear(&format!("{p}.attention.self.key"), h, h)?,
                    value: t.linear(&format!("{p}.attention.self.value"), h, h)?,
                    attention_out: t.linear(&format!("{p}.attention.output.dense"), h, h)?,
                    attention_norm: t.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                    intermediate: t.linear(&format!("{p}.intermediate.dense"), i, h)?,
                    output: t.linear(&format!("{p}.output.dense"), h, i)?,
                    output_norm: t.norm(&format!("{p}.output.LayerNorm"), h)?,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        let token_types = t.matrix(&format!("{prefix}embeddings.token_type_embeddings.weight"), 2, h)?;
        Ok(MiniLm {
            word_embeddings: t.matrix(
                &format!("{prefix}embeddings.word_embeddings.weight"),
                config.vocab_size,
                h,
            )?,
            position_embeddings: t.matrix(
                &format!("{prefix}embeddings.position_embeddings.weight"),
                config.max_position_embeddings,
                h,
            )?,
            token_type_embedding: token_types.data[..h].to_vec(),
            embedding_norm: t.norm(&format!("{prefix}embeddings.LayerNorm"), h)?,
            layers,
            tokenizer,
            config,
        })
    }

    pub fn dimensions(&self) -> usize {
        self.config.hidden_size
    }

    /// The longest sequence the encoder takes, `[CLS]` and `[SEP]` included (128, the
    /// length the sentence-transformers model was trained at).
    pub fn max_tokens(&self) -> usize {
        128.min(self.config.max_position_embeddings)
    }

    /// The sentence embedding of each text, as sentence-transformers computes it: the
    /// mean of the last layer's token vectors, scaled to unit length.
    pub fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        let sequences: Vec<Vec<u32>> = texts
            .iter()
            .map(|text| {
                let mut ids = self.tokenizer.encode(text);
                ids.truncate(self.max_tokens() - 2);
                let mut sequence = Vec::with_capacity(ids.len() + 2);
                sequence.push(self.tokenizer.cls);
                sequence.extend(ids);
                sequence.push(self.tokenizer.sep);
                sequence
            })
            .collect();
        let mut pooled = self.mean_pooled(&sequences);
        for v in &mut pooled {
            normalize(v);
        }
        pooled
    }

    /// The mean of the last layer's token vectors of each sequence of token ids
    /// (`[CLS]` and `[SEP]` included by the caller), not normalized. The sequences are
    /// run as one batch: every dense layer is one matrix product over all their tokens.
    pub fn mean_pooled(&self, sequences: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let h = self.config.hidden_size;
        let total: usize = sequences.iter().map(Vec::len).sum();
        let mut hidden = vec![0f32; total * h];
        let mut row = 0;
        for sequence in sequences {
            for (position, &id) in sequence.iter().enumerate() {
                let out = &mut hidden[row * h..(row + 1) * h];
                let word = self.word_embeddings.row(id as usize);
                let pos = self
                    .position_embeddings
                    .row(position.min(self.position_embeddings.rows - 1));
                for j in 0..h {
                    out[j] = word[j] + pos[j] + self.token_type_embedding[j];
                }
                row += 1;
            }
        }
        self.embedding_norm.apply(&mut hidden, h, self.config.layer_norm_eps);
        let spans: Vec<(usize, usize)> = sequences
            .iter()
            .scan(0, |start, s| {
                let span = (*start, s.len());
                *start += s.len();
                Some(span)
            })
            .collect();
        for layer in &self.layers {
            self.run_layer(layer, &mut hidden, total, &spans);
        }
        spans
            .iter()
            .map(|&(start, len)| {
                let mut mean = vec![0f32; h];
                for r in start..start + len {
                    for (m, x) in mean.iter_mut().zip(&hidden[r * h..(r + 1) * h]) {
                        *m += x;
                    }
                }
                let n = len.max(1) as f32;
                mean.iter_mut().for_each(|m| *m /= n);
                mean
            })
            .collect()
    }

    fn run_layer(&self, layer: &Layer, hidden: &mut [f32], rows: usize, spans: &[(usize, usize)]) {
        let h = self.config.hidden_size;
        let heads = self.config.num_attention_heads;
        let head_size = h / heads;
        let eps = self.config.layer_norm_eps;
        let q = layer.query.forward(hidden, rows);
        let k = layer.key.forward(hidden, rows);
        let v = layer.value.forward(hidden, rows);
        let mut context = vec![0f32; rows * h];
        let scale = 1.0 / (head_size as f32).sqrt();
        let mut scores = Vec::new();
        for &(start, len) in spans {
            for head in 0..heads {
                let offset = head * head_size;
                for i in 0..len {
                    let qi = &q[(start + i) * h + offset..(start + i) * h + offset + head_size];
                    scores.clear();
                    scores.extend((0..len).map(|j| {
                        let kj = &k[(start + j) * h + offset..(start + j) * h + offset + head_size];
                        dot(qi, kj) * scale
                    }));
                    softmax(&mut scores);
                    let out = &mut context[(start + i) * h + offset..(start + i) * h + offset + head_size];
                    for (j, &weight) in scores.iter().enumerate() {
                        let vj = &v[(start + j) * h + offset..(start + j) * h + offset + head_size];
                        for (o, x) in out.iter_mut().zip(vj) {
                            *o += weight * x;
                        }
                    }
                }
            }
        }
        let attended = layer.attention_out.forward(&context, rows);
        add_assign(hidden, &attended);
        layer.attention_norm.apply(hidden, h, eps);
        let mut intermediate = layer.intermediate.forward(hidden, rows);
        intermediate.iter_mut().for_each(|x| *x = gelu(*x));
        let output = layer.output.forward(&intermediate, rows);
        add_assign(hidden, &output);
        layer.output_norm.apply(hidden, h, eps);
    }

    /// The input embedding of a token: the table the static embeddings start from.
    pub fn word_embedding(&self, id: u32) -> &[f32] {
        self.word_embeddings.row(id as usize)
    }
}

impl Matrix {
    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

impl Linear {
    /// `x` is `rows × in`, row-major; returns `rows × out`.
    fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let (out, input) = (self.weight.rows, self.weight.cols);
        debug_assert_eq!(x.len(), rows * input);
        let mut y = Vec::with_capacity(rows * out);
        for _ in 0..rows {
            y.extend_from_slice(&self.bias);
        }
        // SAFETY: the strides describe `x` (rows × input, row-major), the weight read as
        // its transpose (input × out: row stride 1, column stride `input`) and `y`
        // (rows × out, row-major); every slice has exactly the size they span.
        unsafe {
            matrixmultiply::sgemm(
                rows,
                input,
                out,
                1.0,
                x.as_ptr(),
                input as isize,
                1,
                self.weight.data.as_ptr(),
                1,
                input as isize,
                1.0,
                y.as_mut_ptr(),
                out as isize,
                1,
            );
        }
        y
    }
}

impl LayerNorm {
    fn apply(&self, x: &mut [f32], width: usize, eps: f32) {
        for row in x.chunks_exact_mut(width) {
            let mean = row.iter().sum::<f32>() / width as f32;
            let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / width as f32;
            let inv = 1.0 / (variance + eps).sqrt();
            for ((v, w), b) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
                *v = (*v - mean) * inv * w + b;
            }
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn add_assign(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

fn softmax(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    x.iter_mut().for_each(|v| *v /= sum);
}

/// Scales a vector to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// BERT's exact GELU, `x · Φ(x)`, with erf from Abramowitz and Stegun 7.1.26
/// (absolute error below 1.5e-7, under f32's resolution at these magnitudes).
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x / std::f32::consts::SQRT_2))
}

fn erf(x: f32) -> f32 {
    let sign = x.signum();
    let x = x.abs() as f64;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t + 0.254_829_592)
            * t
            * (-x * x).exp();
    sign * y as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenizer() -> WordPiece {
        let vocab = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "we", "may", "use", "your", "data", "to", "train", "model", "##s", ",",
            ".", "cafe", "un", "##know",
        ];
        WordPiece::from_tokens(
            vocab
                .iter()
                .enumerate()
                .map(|(i, t)| (t.to_string(), i as u32))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn word_pieces_lowercase_split_punctuation_and_strip_accents() {
        let t = tokenizer();
        let ids = t.encode("We may use your DATA, to train models. Café");
        let text: Vec<&str> = ids.iter().map(|&i| t.token(i)).collect();
        assert_eq!(
            text,
            [
                "we", "may", "use", "your", "data", ",", "to", "train", "model", "##s", ".", "cafe"
            ]
        );
        assert_eq!(
            t.encode("unknowable"),
            vec![t.unk],
            "a word with no full cover is unknown"
        );
        assert!(t.is_special(t.cls) && !t.is_special(4));
    }

    #[test]
    fn tokenizer_vocabulary_must_be_dense_and_have_specials() {
        let gap: HashMap<String, u32> = [("[UNK]".to_string(), 5)].into_iter().collect();
        assert!(WordPiece::from_tokens(gap).is_err());
        let no_cls: HashMap<String, u32> = [("[UNK]".to_string(), 0), ("[SEP]".to_string(), 1)]
            .into_iter()
            .collect();
        assert!(WordPiece::from_tokens(no_cls).unwrap_err().contains("[CLS]"));
    }

    #[test]
    fn erf_and_gelu_match_reference_values() {
        assert!((erf(0.5) - 0.520_499_9).abs() < 1e-6);
        assert!((erf(-1.0) + 0.842_700_8).abs() < 1e-6);
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-6);
    }

    #[test]
    fn a_truncated_safetensors_file_is_an_error_not_a_panic() {
        let path = Path::new("x.safetensors");
        assert!(Tensors::parse(path, &[1, 0]).is_err());
        let mut bytes = 100u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        assert!(Tensors::parse(path, &bytes).is_err());
    }
}
