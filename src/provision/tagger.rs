//! Which tagger tags: the learned one when its weights are found, the rules alone
//! otherwise, and a name and version for each, so tags can be cached and told apart.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Tag;
use super::cache::SentenceKey;
use super::embedding::{StaticEmbeddings, default_cache_folder};
use super::learned::{BUILTIN_MODEL, Model, ModelFileError};
use super::minilm::{ModelError, WEIGHTS_FILE};

/// Changes whenever the rule matcher's code does (the taxonomy's text is hashed too).
const RULES_CODE: &str = "rules-v1";
/// Changes whenever the learned tagger's code reads a model differently (the model file
/// is hashed too): v2 left sentences under `learned::MIN_WORDS` words to the rules, v3
/// every fragment (`learned::is_fragment`: headings and short list items too).
const LEARNED_CODE: &str = "learned-v3";

/// The folder name of the weights under the cache folder, where `.ci/run` and the
/// workflows put them and where clausewatch looks when no path is configured.
pub const DEFAULT_MODEL_FOLDER: &str = "all-MiniLM-L6-v2";

/// A tagger's name and version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TaggerId {
    /// `learned-minilm-static` or `rules`.
    pub name: String,
    /// 12 hex digits: a hash of everything the tags depend on.
    pub version: String,
}

impl TaggerId {
    pub fn rules(rules_digest: &str) -> TaggerId {
        TaggerId {
            name: "rules".into(),
            version: rules_digest[..12].to_string(),
        }
    }
}

impl fmt::Display for TaggerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.name, self.version)
    }
}

pub(super) fn rules_digest(source_digest: &str) -> String {
    hex::encode(Sha256::digest(format!("{RULES_CODE}\n{source_digest}").as_bytes()))
}

/// Where the weights and the cache are: from `[tagger]` in the settings file and the
/// environment (`CLAUSEWATCH_MODEL_DIR`, `CLAUSEWATCH_CACHE_DIR`), resolved by the CLI.
#[derive(Debug, Clone, Default)]
pub struct TaggerSettings {
    /// The model folder (`model.safetensors`, `tokenizer.json`, `config.json`); when
    /// None, `<cache>/all-MiniLM-L6-v2` is used if it exists.
    pub model: Option<PathBuf>,
    /// The cache folder (distilled tables); default `$XDG_CACHE_HOME/clausewatch`.
    pub cache: Option<PathBuf>,
    /// Tag with the rules alone even when weights are there.
    pub rules_only: bool,
}

/// Weights that were configured but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TaggerError {
    #[error(transparent)]
    Weights(#[from] ModelError),
    #[error(transparent)]
    Model(#[from] ModelFileError),
    #[error(
        "the tagger model was trained with embeddings {trained}, but the weights in {folder} give {found}; \
         use the weights it was trained with or retrain it (docs/provisions.md)"
    )]
    Mismatch {
        folder: PathBuf,
        trained: String,
        found: String,
    },
    #[error("no cache folder: set CLAUSEWATCH_CACHE_DIR or HOME")]
    NoCache,
}

impl TaggerSettings {
    pub fn cache_folder(&self) -> Option<PathBuf> {
        self.cache.clone().or_else(default_cache_folder)
    }

    /// The model folder to use: the configured one (an error later if unusable), else
    /// the default one in the cache when it holds weights, else None (rules alone).
    pub fn model_folder(&self) -> Option<PathBuf> {
        if self.rules_only {
            return None;
        }
        if let Some(configured) = &self.model {
            return Some(configured.clone());
        }
        let default = self.cache_folder()?.join(DEFAULT_MODEL_FOLDER);
        // Anything at the weights' name counts as found, a link or a FIFO too: opening
        // the tagger then refuses it with a warning that says why, rather than the rules
        // tagging in silence.
        std::fs::symlink_metadata(default.join(WEIGHTS_FILE))
            .is_ok()
            .then_some(default)
    }
}

/// The learned tagger: the built-in model and the embedding table it was trained with.
#[derive(Debug)]
pub struct LearnedTagger {
    /// The model file, whose header was checked when the tagger was opened; its weights
    /// are decoded on first use, like the table: a run that tags nothing (an unchanged
    /// `track`) never decodes their megabytes.
    model_file: &'static [u8],
    model: std::sync::OnceLock<Model>,
    /// The model file's digest (the tagger's version needs it without the weights).
    model_digest: String,
    /// The embedding table's key (what the model was trained with), known without
    /// reading the table.
    embedding_key: String,
    /// The table, read on first use: a run that tags nothing (an unchanged `track`)
    /// never decodes its 47 MB.
    embeddings: std::sync::OnceLock<StaticEmbeddings>,
    /// Where the table is read from on first use.
    model_folder: std::path::PathBuf,
    cache: std::path::PathBuf,
    /// Tags by sentence: tags are a pure function of the sentence (and this tagger),
    /// and histories repeat most sentences from version to version, so a timeline over
    /// years or a re-extraction tags each distinct sentence once.
    memo: std::sync::Mutex<Memo>,
}

#[derive(Debug, Default)]
struct Memo {
    tags: std::collections::HashMap<SentenceKey, Vec<Tag>>,
    hits: u64,
    misses: u64,
}

/// How often the learned tagger found a sentence already tagged in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoStats {
    pub hits: u64,
    pub misses: u64,
}

/// Sentences remembered at most; past it the memo starts over (a run over a large
/// archive keeps a bounded amount of memory).
const MEMO_LIMIT: usize = 200_000;

impl LearnedTagger {
    /// The learned tagger for these settings; None when no weights are configured or
    /// found (the rules then tag alone), an error when configured ones are unusable.
    pub fn load(settings: &TaggerSettings) -> Result<Option<LearnedTagger>, TaggerError> {
        let Some(folder) = settings.model_folder() else {
            return Ok(None);
        };
        let cache = settings.cache_folder().ok_or(TaggerError::NoCache)?;
        LearnedTagger::open_with_digest(&folder, &cache, BUILTIN_MODEL, Model::builtin_digest()).map(Some)
    }

    /// A model file's tagger over the weights in `folder`.
    pub fn open(folder: &Path, cache: &Path, model_file: &'static [u8]) -> Result<LearnedTagger, TaggerError> {
        LearnedTagger::open_with_digest(folder, cache, model_file, Model::file_digest(model_file))
    }

    /// [`open`](Self::open) with the model file's digest ([`Model::file_digest`]) known.
    fn open_with_digest(
        folder: &Path,
        cache: &Path,
        model_file: &'static [u8],
        model_digest: String,
    ) -> Result<LearnedTagger, TaggerError> {
        let header = Model::read_header(model_file)?;
        let key = StaticEmbeddings::key_for(folder, cache)?;
        if header.embedding_key != key {
            return Err(TaggerError::Mismatch {
                folder: folder.to_path_buf(),
                trained: header.embedding_key,
                found: key,
            });
        }
        let embeddings = std::sync::OnceLock::new();
        // A table not distilled yet is distilled now, so that its cost and any error
        // come at the start, not in the middle of a run.
        if !StaticEmbeddings::table_path(cache, &key).is_file() {
            let _ = embeddings.set(StaticEmbeddings::open(folder, cache)?);
        }
        Ok(LearnedTagger {
            model_file,
            model: std::sync::OnceLock::new(),
            model_digest,
            embedding_key: key,
            embeddings,
            model_folder: folder.to_path_buf(),
            cache: cache.to_path_buf(),
            memo: Default::default(),
        })
    }

    /// The model, decoded on first use.
    pub fn model(&self) -> &Model {
        self.model.get_or_init(|| {
            // The header and the weights' size were checked when the tagger was opened;
            // what is left to fail is a weight that is not a finite number, and the
            // built-in model is tested not to have one.
            Model::decode(self.model_file).unwrap_or_else(|e| panic!("the learned tagger's model: {e}"))
        })
    }

    /// Whether the model's weights have been decoded (see [`model`](Self::model)).
    pub fn model_decoded(&self) -> bool {
        self.model.get().is_some()
    }

    /// The embedding table, read (or, if its cached copy is unreadable, distilled
    /// again) on first use.
    pub fn embeddings(&self) -> &StaticEmbeddings {
        self.embeddings.get_or_init(|| {
            StaticEmbeddings::open(&self.model_folder, &self.cache).unwrap_or_else(|e| {
                // The weights were readable when the tagger was opened (their digest
                // was checked); failing now means they went away during the run.
                panic!("the learned tagger's embedding table cannot be read any more: {e}")
            })
        })
    }

    /// The tags of a sentence; `rule_tags` gives the rules' tags of it (not called
    /// for a sentence tagged before).
    pub fn tag(&self, sentence: &str, rule_tags: impl FnOnce() -> Vec<Tag>) -> Vec<Tag> {
        self.tag_keyed(super::cache::sentence_key(sentence), sentence, rule_tags)
    }

    /// [`tag`](Self::tag) for a sentence whose key the caller has computed.
    pub fn tag_keyed(&self, key: SentenceKey, sentence: &str, rule_tags: impl FnOnce() -> Vec<Tag>) -> Vec<Tag> {
        {
            let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(tags) = memo.tags.get(&key).cloned() {
                memo.hits += 1;
                return tags;
            }
            memo.misses += 1;
        }
        let tags = self.tag_unmemoized(sentence, rule_tags);
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        if memo.tags.len() >= MEMO_LIMIT {
            memo.tags.clear();
        }
        memo.tags.insert(key, tags.clone());
        tags
    }

    /// The tags of a sentence, computed without looking at or filling the memo: for a
    /// caller that remembers tags itself (the archive's tag cache).
    pub fn tag_unmemoized(&self, sentence: &str, rule_tags: impl FnOnce() -> Vec<Tag>) -> Vec<Tag> {
        self.model().tag(sentence, self.embeddings(), rule_tags())
    }

    /// Whether the embedding table has been read (see [`embeddings`](Self::embeddings)).
    pub fn table_loaded(&self) -> bool {
        self.embeddings.get().is_some()
    }

    pub fn memo_stats(&self) -> MemoStats {
        let memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        MemoStats {
            hits: memo.hits,
            misses: memo.misses,
        }
    }

    pub fn id(&self, rules_digest: &str) -> TaggerId {
        let digest = Sha256::digest(
            format!(
                "{LEARNED_CODE}\n{}\n{}\n{rules_digest}",
                self.model_digest, self.embedding_key
            )
            .as_bytes(),
        );
        TaggerId {
            name: "learned-minilm-static".into(),
            version: hex::encode(digest)[..12].to_string(),
        }
    }
}
