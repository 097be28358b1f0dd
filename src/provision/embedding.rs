//! Static sentence embeddings distilled from MiniLM, the model2vec way: every token of
//! the vocabulary goes through the encoder once (as `[CLS] token [SEP]`, mean-pooled),
//! centered, and a sentence is then the normalized mean of its tokens' vectors: a table lookup per
//! word piece, microseconds per sentence instead of the encoder's milliseconds.
//!
//! Distilling takes the encoder a minute or two, so the table is cached in the cache
//! folder, named by the SHA-256 of the weights it came from and [`DISTILLATION`]; the
//! table file carries the vocabulary too, so a run that finds it reads nothing else.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::minilm::{MAX_WEIGHTS_BYTES, MiniLm, ModelError, WEIGHTS_FILE, WordPiece, model_read_error};

/// Changes whenever the distillation (or the table's layout) does: part of every
/// table's name and of the tagger version.
pub const DISTILLATION: &str = "static-v1";

const MAGIC: &[u8; 8] = b"CWSTATIC";

/// The largest table read: all-MiniLM-L6-v2's is 47 MB (30,522 word pieces × 384
/// dimensions); a larger file at its name is not one this build wrote.
const MAX_TABLE_BYTES: u64 = 256 << 20;

/// Token vectors, one row per token id, and the tokenizer that yields the ids.
#[derive(Debug, Clone)]
pub struct StaticEmbeddings {
    pub tokenizer: WordPiece,
    dims: usize,
    vectors: Vec<f32>,
    /// `DISTILLATION` and the weights' SHA-256: what a learned model was trained with.
    pub key: String,
}

impl StaticEmbeddings {
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The unit-length mean of the sentence's token vectors (zero if it has none).
    pub fn embed(&self, sentence: &str) -> Vec<f32> {
        let mut sum = vec![0f32; self.dims];
        for id in self.tokenizer.encode(sentence) {
            if self.tokenizer.is_special(id) {
                continue;
            }
            for (s, v) in sum.iter_mut().zip(self.vector(id)) {
                *s += v;
            }
        }
        super::minilm::normalize(&mut sum);
        sum
    }

    /// The unit-length mean of the sentence's token vectors followed by their unit-length
    /// component-wise maximum (zeros if it has no tokens).
    pub fn embed_mean_max(&self, sentence: &str) -> Vec<f32> {
        let mut sum = vec![0f32; self.dims];
        let mut max = vec![f32::NEG_INFINITY; self.dims];
        for id in self.tokenizer.encode(sentence) {
            if self.tokenizer.is_special(id) {
                continue;
            }
            for ((s, m), &v) in sum.iter_mut().zip(max.iter_mut()).zip(self.vector(id)) {
                *s += v;
                *m = m.max(v);
            }
        }
        if max.iter().any(|m| m.is_infinite()) {
            max.iter_mut().for_each(|m| *m = 0.0);
        }
        super::minilm::normalize(&mut sum);
        super::minilm::normalize(&mut max);
        sum.extend(max);
        sum
    }

    fn vector(&self, id: u32) -> &[f32] {
        let i = id as usize;
        &self.vectors[i * self.dims..(i + 1) * self.dims]
    }

    /// Distils the table from a loaded encoder (about 30,000 tokens through six layers).
    pub fn distil(model: &MiniLm, key: String) -> StaticEmbeddings {
        let dims = model.dimensions();
        let vocab = model.tokenizer.len() as u32;
        let mut vectors = vec![0f32; vocab as usize * dims];
        // Batches of 512 three-token sequences: every dense layer is one 1536-row product.
        let ids: Vec<u32> = (0..vocab).collect();
        for batch in ids.chunks(512) {
            let sequences: Vec<Vec<u32>> = batch
                .iter()
                .map(|&id| vec![model.tokenizer.cls, id, model.tokenizer.sep])
                .collect();
            for (&id, pooled) in batch.iter().zip(model.mean_pooled(&sequences)) {
                vectors[id as usize * dims..(id as usize + 1) * dims].copy_from_slice(&pooled);
            }
        }
        // Every pooled vector shares a large common component (the [CLS]/[SEP] context);
        // left in, it dominates every sentence's mean and all sentences look alike
        // (cosines of 0.7 to 0.9 between unrelated ones). Centering removes it.
        let words: Vec<u32> = (0..vocab).filter(|&id| !model.tokenizer.is_special(id)).collect();
        let mut mean = vec![0f32; dims];
        for &id in &words {
            for (m, v) in mean
                .iter_mut()
                .zip(&vectors[id as usize * dims..(id as usize + 1) * dims])
            {
                *m += v / words.len() as f32;
            }
        }
        for id in 0..vocab as usize {
            for (v, m) in vectors[id * dims..(id + 1) * dims].iter_mut().zip(&mean) {
                *v -= m;
            }
        }
        StaticEmbeddings {
            tokenizer: model.tokenizer.clone(),
            dims,
            vectors,
            key,
        }
    }

    /// The table distilled before at `table`, if it is there, whole and for `key`.
    fn read_cached(table: &Path, key: &str) -> Option<StaticEmbeddings> {
        let problem = match crate::nofollow::read_capped(table, MAX_TABLE_BYTES) {
            Ok(bytes) => match StaticEmbeddings::decode(&bytes, key) {
                Ok(found) => return Some(found),
                Err(message) => message,
            },
            Err(e) if e.is_not_found() => return None,
            // The cache folder may be configured inside a repository: a link or a device
            // there is not read.
            Err(e) => e.to_string(),
        };
        tracing::warn!("{}: {problem}; distilling it again", table.display());
        None
    }

    /// The table for the model folder: read from `cache` when distilled before, else
    /// distilled now and written there (a cache that cannot be written only costs time).
    pub fn open(model_folder: &Path, cache: &Path) -> Result<StaticEmbeddings, ModelError> {
        let weights = model_folder.join(WEIGHTS_FILE);
        let key = StaticEmbeddings::key_for(model_folder, cache)?;
        let table = StaticEmbeddings::table_path(cache, &key);
        if let Some(found) = StaticEmbeddings::read_cached(&table, &key) {
            return Ok(found);
        }
        let model = MiniLm::load(model_folder)?;
        tracing::info!(
            "distilling static embeddings from {} (once per set of weights)",
            weights.display()
        );
        let distilled = StaticEmbeddings::distil(&model, key);
        if let Err(e) = write_atomically(&table, &distilled.encode()) {
            tracing::warn!("{}: cannot cache the static embeddings: {e}", table.display());
        }
        Ok(distilled)
    }

    /// The key of the table the weights in `model_folder` give, without reading the
    /// table: the distillation's name and the weights' SHA-256 (itself cached).
    pub fn key_for(model_folder: &Path, cache: &Path) -> Result<String, ModelError> {
        let sha = weights_sha256(&model_folder.join(WEIGHTS_FILE), cache)?;
        Ok(format!("{DISTILLATION}-{sha}"))
    }

    /// Where the table of `key` is cached.
    pub fn table_path(cache: &Path, key: &str) -> std::path::PathBuf {
        cache.join(format!("{key}.bin"))
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.vectors.len() * 4 + 400_000);
        out.extend_from_slice(MAGIC);
        let key = self.key.as_bytes();
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(&(self.dims as u32).to_le_bytes());
        out.extend_from_slice(&(self.tokenizer.len() as u32).to_le_bytes());
        for id in 0..self.tokenizer.len() as u32 {
            let token = self.tokenizer.token(id).as_bytes();
            out.extend_from_slice(&(token.len() as u16).to_le_bytes());
            out.extend_from_slice(token);
        }
        for v in &self.vectors {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Reads a table file; cache contents are checked like any input.
    fn decode(bytes: &[u8], key: &str) -> Result<StaticEmbeddings, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err("not a static embedding table".into());
        }
        let key_len = r.u32()? as usize;
        let found_key = std::str::from_utf8(r.take(key_len)?).map_err(|_| "bad key")?;
        if found_key != key {
            return Err(format!("made for {found_key}, not {key}"));
        }
        let dims = r.u32()? as usize;
        let vocab = r.u32()? as usize;
        if dims == 0 || dims > 4096 || vocab == 0 || vocab > 1_000_000 {
            return Err(format!("implausible shape {vocab} × {dims}"));
        }
        let mut tokens = std::collections::HashMap::with_capacity(vocab);
        for id in 0..vocab {
            let len = u16::from_le_bytes(r.take(2)?.try_into().expect("two bytes")) as usize;
            let token = std::str::from_utf8(r.take(len)?).map_err(|_| "a token is not UTF-8")?;
            tokens.insert(token.to_string(), id as u32);
        }
        let tokenizer = WordPiece::from_tokens(tokens)?;
        let data = r.take(vocab * dims * 4)?;
        if r.at != bytes.len() {
            return Err("trailing bytes".into());
        }
        Ok(StaticEmbeddings {
            tokenizer,
            dims,
            vectors: data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("four bytes")))
                .collect(),
            key: key.to_string(),
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or("truncated")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("four bytes")))
    }
}

/// The SHA-256 of the weights file. Hashing 90 MB costs a quarter of a second, more than
/// a whole `track` of an unchanged archive, so it is remembered in the cache under the
/// file's path, size and modification time.
///
/// The weights folder can be named by an archive's settings, so the file is hashed only
/// as a regular file of at most [`MAX_WEIGHTS_BYTES`], never through a link: a link to
/// `/dev/zero` would hash forever, and a FIFO would hang the run.
pub fn weights_sha256(weights: &Path, cache: &Path) -> Result<String, ModelError> {
    let io = |source| ModelError::Io {
        path: weights.to_path_buf(),
        source,
    };
    let (file, meta) =
        crate::nofollow::open_regular(weights, MAX_WEIGHTS_BYTES).map_err(|e| model_read_error(weights, e))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let absolute = std::fs::canonicalize(weights).unwrap_or_else(|_| weights.to_path_buf());
    let stamp_key = hex::encode(Sha256::digest(
        format!("{}\n{}\n{modified}", absolute.display(), meta.len()).as_bytes(),
    ));
    let stamp = cache.join(format!("weights-{}.sha256", &stamp_key[..16]));
    // The cache folder can be named by the settings too: the stamp is read capped.
    if let Ok(text) = crate::nofollow::read_capped_text(&stamp, 64)
        && text.len() == 64
        && text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Ok(text);
    }
    let mut hasher = Sha256::new();
    // The file may grow after the look at its size: one byte past the cap tells.
    let hashed = std::io::copy(&mut file.take(MAX_WEIGHTS_BYTES + 1), &mut hasher).map_err(io)?;
    if hashed > MAX_WEIGHTS_BYTES {
        return Err(model_read_error(
            weights,
            crate::nofollow::ReadError::TooLarge { max: MAX_WEIGHTS_BYTES },
        ));
    }
    let sha = hex::encode(hasher.finalize());
    let _ = write_atomically(&stamp, sha.as_bytes());
    Ok(sha)
}

/// Writes a cache file: the cache folder can be named by the archive's settings, so
/// never through a link at its name or beside it ([`crate::nofollow::replace`]).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    crate::nofollow::replace(path, bytes)
}

/// The default cache folder: `$XDG_CACHE_HOME/clausewatch`, else `~/.cache/clausewatch`.
pub fn default_cache_folder() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("clausewatch"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> StaticEmbeddings {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "train", "models"];
        let tokenizer = WordPiece::from_tokens(
            tokens
                .iter()
                .enumerate()
                .map(|(i, t)| (t.to_string(), i as u32))
                .collect(),
        )
        .unwrap();
        StaticEmbeddings {
            tokenizer,
            dims: 2,
            vectors: vec![0., 0., 0., 0., 0., 0., 0., 0., 3., 0., 0., 4.],
            key: "k".into(),
        }
    }

    #[test]
    fn a_sentence_is_the_unit_mean_of_its_tokens() {
        let t = table();
        let v = t.embed("Train models");
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6, "{v:?}");
        assert_eq!(t.embed("!!"), vec![0.0, 0.0], "only unknown tokens: zero");
    }

    #[test]
    fn table_files_round_trip_and_reject_damage() {
        let t = table();
        let bytes = t.encode();
        let back = StaticEmbeddings::decode(&bytes, "k").unwrap();
        assert_eq!(back.embed("train"), t.embed("train"));
        assert!(StaticEmbeddings::decode(&bytes, "other").is_err(), "another key");
        assert!(StaticEmbeddings::decode(&bytes[..bytes.len() - 1], "k").is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(StaticEmbeddings::decode(&longer, "k").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_cached_table_is_read_only_as_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("table.bin");
        std::fs::write(&file, table().encode()).unwrap();
        let read = StaticEmbeddings::read_cached(&file, "k").expect("a table written before is read");
        assert_eq!(read.embed("train"), table().embed("train"));
        assert!(StaticEmbeddings::read_cached(&dir.path().join("absent.bin"), "k").is_none());
        // Through a link (to a good table, or to a device), nothing is read.
        let link = dir.path().join("link.bin");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(StaticEmbeddings::read_cached(&link, "k").is_none());
        let zero = dir.path().join("zero.bin");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(StaticEmbeddings::read_cached(&zero, "k").is_none());
    }
}
