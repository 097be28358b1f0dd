//! The tag cache (docs/provisions.md#the-tag-cache): tags are a pure function of the
//! sentence and the tagger, so an archive keeps the learned tagger's verdicts by sentence
//! in one file, `tag-cache.tsv`, committed beside the versions. A later run, `reextract`,
//! `timeline` over years or the site then tag only sentences never seen before.
//!
//! The file is read from an archive that may have been written by anyone, so it is
//! parsed strictly: a file that is not exactly what clausewatch writes is ignored as a
//! whole (the sentences are tagged afresh and the next write replaces it), and a tag
//! must name a provision of the taxonomy and a known stance.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest as _, Sha256};

use super::{Stance, Tag, TaggerId};

/// The file's name in the archive folder.
pub const TAG_CACHE_FILE: &str = "tag-cache.tsv";

/// A larger file is not read: no archive of a few thousand documents comes near it.
pub const MAX_TAG_CACHE_BYTES: usize = 64 << 20;

const HEADER: &str = "# clausewatch tag cache (docs/provisions.md#the-tag-cache): the provisions of every\n\
                      # sentence tagged so far, by the SHA-256 of the sentence. Written by clausewatch;\n\
                      # deleting it costs only the time to tag again.\n";

/// A sentence's key: the first 16 bytes of its SHA-256.
pub type SentenceKey = [u8; 16];

pub fn sentence_key(sentence: &str) -> SentenceKey {
    let digest = Sha256::digest(sentence.as_bytes());
    digest[..16].try_into().expect("16 bytes")
}

/// Why a tag cache file was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagCacheError {
    #[error("{TAG_CACHE_FILE} is larger than {} MB", MAX_TAG_CACHE_BYTES >> 20)]
    TooLarge,
    #[error("{TAG_CACHE_FILE} is not UTF-8 text")]
    NotText,
    #[error("{TAG_CACHE_FILE} has no `tagger<TAB>NAME/VERSION` line")]
    NoTagger,
    #[error("{TAG_CACHE_FILE}, line {line}: {message}")]
    Malformed { line: usize, message: String },
}

/// A tag as the file stores it: provision, stance, confidence, matched terms, words.
type StoredTag = (String, String, Option<u16>, Vec<String>, Vec<String>);

/// Reads a tag cache. `Ok(None)` when it was written by another tagger (or another
/// version of this one): its tags say nothing about this tagger's.
pub fn parse(
    bytes: &[u8],
    tagger: &TaggerId,
    known_provision: impl Fn(&str) -> bool,
) -> Result<Option<HashMap<SentenceKey, Vec<Tag>>>, TagCacheError> {
    if bytes.len() > MAX_TAG_CACHE_BYTES {
        return Err(TagCacheError::TooLarge);
    }
    let malformed = |line: usize, message: &str| TagCacheError::Malformed {
        line,
        message: message.to_string(),
    };
    let text = std::str::from_utf8(bytes).map_err(|_| TagCacheError::NotText)?;
    let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));
    let mut found_tagger = None;
    for (number, line) in lines.by_ref() {
        if line.starts_with('#') {
            continue;
        }
        let Some(name) = line.strip_prefix("tagger\t") else {
            return Err(malformed(number, "expected `tagger<TAB>NAME/VERSION` before any entry"));
        };
        found_tagger = Some(name);
        break;
    }
    let Some(found_tagger) = found_tagger else {
        return Err(TagCacheError::NoTagger);
    };
    if found_tagger != tagger.to_string() {
        return Ok(None);
    }
    let mut entries = HashMap::new();
    for (number, line) in lines {
        let (key, tags) = line
            .split_once('\t')
            .ok_or_else(|| malformed(number, "expected `KEY<TAB>TAGS`"))?;
        let key = parse_key(key).ok_or_else(|| malformed(number, "the key is not 32 lowercase hex digits"))?;
        let stored: Vec<StoredTag> =
            serde_json::from_str(tags).map_err(|e| malformed(number, &format!("the tags are not valid ({e})")))?;
        let mut parsed = Vec::with_capacity(stored.len());
        for (provision, stance, confidence, matched, words) in stored {
            if !known_provision(&provision) {
                return Err(malformed(number, &format!("unknown provision `{provision}`")));
            }
            let stance =
                Stance::parse(&stance).ok_or_else(|| malformed(number, &format!("unknown stance `{stance}`")))?;
            if confidence.is_some_and(|c| c > 1000) {
                return Err(malformed(number, "a confidence above 1000"));
            }
            parsed.push(Tag {
                provision,
                stance,
                matched,
                words,
                confidence,
            });
        }
        if entries.insert(key, parsed).is_some() {
            return Err(malformed(number, "a sentence listed twice"));
        }
    }
    Ok(Some(entries))
}

fn parse_key(text: &str) -> Option<SentenceKey> {
    if text.len() != 32 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    hex::decode(text).ok()?.try_into().ok()
}

/// The file for `entries`, sorted by key: the same tags give the same bytes.
pub fn render(tagger: &TaggerId, entries: &HashMap<SentenceKey, Vec<Tag>>) -> Vec<u8> {
    let mut keys: Vec<&SentenceKey> = entries.keys().collect();
    keys.sort_unstable();
    let mut out = String::with_capacity(HEADER.len() + entries.len() * 40);
    out.push_str(HEADER);
    let _ = writeln!(out, "tagger\t{tagger}");
    for key in keys {
        let stored: Vec<StoredTag> = entries[key]
            .iter()
            .map(|t| {
                (
                    t.provision.clone(),
                    t.stance.as_str().to_string(),
                    t.confidence,
                    t.matched.clone(),
                    t.words.clone(),
                )
            })
            .collect();
        let json = serde_json::to_string(&stored).expect("tags serialize");
        let _ = writeln!(out, "{}\t{json}", hex::encode(key));
    }
    out.into_bytes()
}

/// Reads the archive's file when a sentence is first looked up: None when there is none.
pub type TagCacheSource = Box<dyn FnOnce() -> Option<Vec<u8>> + Send>;

/// A tag cache attached to a taxonomy: the archive's file, read and parsed on first use
/// (a run that tags nothing never reads it), and what this process tagged that it lacked.
pub struct TagCache {
    tagger: TaggerId,
    source: Mutex<Option<TagCacheSource>>,
    known: OnceLock<HashMap<SentenceKey, Vec<Tag>>>,
    fresh: Mutex<HashMap<SentenceKey, Vec<Tag>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// How a tag cache served a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TagCacheStats {
    /// Distinct sentences whose tags came from the archive's file.
    pub cached: u64,
    /// Distinct sentences tagged by this run (none in the file).
    pub tagged: u64,
}

impl std::fmt::Debug for TagCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TagCache")
            .field("tagger", &self.tagger)
            .field("known", &self.known.get().map(HashMap::len))
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl TagCache {
    /// A cache for `tagger` over the archive's file, which `source` reads.
    pub fn new(tagger: TaggerId, source: TagCacheSource) -> TagCache {
        TagCache {
            tagger,
            source: Mutex::new(Some(source)),
            known: OnceLock::new(),
            fresh: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn tagger(&self) -> &TaggerId {
        &self.tagger
    }

    fn known(&self, known_provision: &dyn Fn(&str) -> bool) -> &HashMap<SentenceKey, Vec<Tag>> {
        self.known.get_or_init(|| {
            let source = self.source.lock().unwrap_or_else(|e| e.into_inner()).take();
            let Some(bytes) = source.and_then(|read| read()) else {
                return HashMap::new();
            };
            match parse(&bytes, &self.tagger, known_provision) {
                Ok(Some(entries)) => entries,
                // Another tagger's file: replaced at the next write, not an error.
                Ok(None) => HashMap::new(),
                Err(e) => {
                    tracing::warn!(
                        "ignoring the tag cache: {e}; sentences are tagged afresh and the file is rewritten"
                    );
                    HashMap::new()
                }
            }
        })
    }

    /// The tags of the sentence keyed `key`: from the file or this run, else `tag()`'s,
    /// remembered for the next write.
    pub fn get_or_tag(
        &self,
        key: SentenceKey,
        known_provision: &dyn Fn(&str) -> bool,
        tag: impl FnOnce() -> Vec<Tag>,
    ) -> Vec<Tag> {
        if let Some(tags) = self.known(known_provision).get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return tags.clone();
        }
        if let Some(tags) = self.fresh.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return tags.clone();
        }
        let tags = tag();
        let mut fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
        if fresh.insert(key, tags.clone()).is_none() {
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
        tags
    }

    /// Lookups answered by the file (each time a sentence is looked up) and sentences
    /// tagged afresh (once each).
    pub fn stats(&self) -> TagCacheStats {
        TagCacheStats {
            cached: self.hits.load(Ordering::Relaxed),
            tagged: self.misses.load(Ordering::Relaxed),
        }
    }

    /// The file to write when this run tagged sentences the archive's file lacked: its
    /// entries and the new ones. None when there is nothing new.
    pub fn updated_file(&self) -> Option<Vec<u8>> {
        let fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
        if fresh.is_empty() {
            return None;
        }
        // Fresh entries exist only after a lookup, which parsed the file.
        let mut merged = self.known.get().cloned().unwrap_or_default();
        merged.extend(fresh.iter().map(|(k, v)| (*k, v.clone())));
        Some(render(&self.tagger, &merged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagger() -> TaggerId {
        TaggerId {
            name: "learned-minilm-static".into(),
            version: "0123456789ab".into(),
        }
    }

    fn tag(provision: &str, stance: Stance) -> Tag {
        Tag {
            provision: provision.into(),
            stance,
            matched: vec!["train".into(), "your content".into()],
            words: vec!["train on".into(), "models".into()],
            confidence: Some(912),
        }
    }

    fn known(id: &str) -> bool {
        ["ai-training", "sale-of-data"].contains(&id)
    }

    #[test]
    fn renders_and_reads_back_the_same_tags() {
        let mut entries = HashMap::new();
        entries.insert(
            sentence_key("We may train on your content."),
            vec![tag("ai-training", Stance::Grants)],
        );
        entries.insert(sentence_key("Hello."), vec![]);
        let bytes = render(&tagger(), &entries);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("tagger\tlearned-minilm-static/0123456789ab\n"), "{text}");
        assert!(
            text.contains("[[\"ai-training\",\"grants\",912,[\"train\",\"your content\"],[\"train on\",\"models\"]]]"),
            "{text}"
        );
        assert_eq!(parse(&bytes, &tagger(), known).unwrap().unwrap(), entries);
        // Sorted by key: the same tags, the same bytes, whatever the insertion order.
        let mut pairs: Vec<_> = entries.into_iter().collect();
        pairs.reverse();
        let reversed: HashMap<_, _> = pairs.into_iter().collect();
        assert_eq!(render(&tagger(), &reversed), bytes);
    }

    #[test]
    fn another_taggers_file_is_not_used() {
        let bytes = render(&tagger(), &HashMap::from([(sentence_key("a"), vec![])]));
        let other = TaggerId {
            name: "learned-minilm-static".into(),
            version: "ffffffffffff".into(),
        };
        assert_eq!(parse(&bytes, &other, known), Ok(None));
    }

    #[test]
    fn a_file_not_as_written_is_refused_with_its_line() {
        let header = "# comment\ntagger\tlearned-minilm-static/0123456789ab\n";
        let key = hex::encode(sentence_key("a"));
        let cases = [
            (
                format!("{header}{key}\t[[\"made-up\",\"grants\",1,[],[]]]\n"),
                3,
                "unknown provision",
            ),
            (
                format!("{header}{key}\t[[\"ai-training\",\"allows\",1,[],[]]]\n"),
                3,
                "unknown stance",
            ),
            (
                format!("{header}{key}\t[[\"ai-training\",\"grants\",1001,[],[]]]\n"),
                3,
                "above 1000",
            ),
            (format!("{header}{key}\t[]\n{key}\t[]\n"), 4, "twice"),
            (format!("{header}{}\t[]\n", key.to_uppercase()), 3, "hex"),
            (format!("{header}{key} []\n"), 3, "KEY<TAB>TAGS"),
            (format!("{header}{key}\t[1]\n"), 3, "not valid"),
            (format!("{key}\t[]\n"), 1, "tagger"),
        ];
        for (text, line, words) in cases {
            match parse(text.as_bytes(), &tagger(), known) {
                Err(TagCacheError::Malformed { line: at, message }) => {
                    assert_eq!(at, line, "{text}: {message}");
                    assert!(message.contains(words), "{text}: {message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(
            parse(&vec![b'#'; MAX_TAG_CACHE_BYTES + 1], &tagger(), known),
            Err(TagCacheError::TooLarge)
        );
        assert_eq!(
            parse(b"# only a comment\n", &tagger(), known),
            Err(TagCacheError::NoTagger)
        );
        assert_eq!(parse(b"tagger\t\xff\n", &tagger(), known), Err(TagCacheError::NotText));
    }

    #[test]
    fn a_cache_tags_only_what_its_file_lacks_and_writes_both() {
        let old = sentence_key("Old sentence.");
        let file = render(
            &tagger(),
            &HashMap::from([(old, vec![tag("ai-training", Stance::Grants)])]),
        );
        let read = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reading = read.clone();
        let cache = TagCache::new(
            tagger(),
            Box::new(move || {
                reading.store(true, Ordering::Relaxed);
                Some(file)
            }),
        );
        assert!(
            !read.load(Ordering::Relaxed),
            "the file is read on the first lookup, not before"
        );
        let never = || -> Vec<Tag> { panic!("a cached sentence is not tagged again") };
        assert_eq!(
            cache.get_or_tag(old, &known, never),
            vec![tag("ai-training", Stance::Grants)]
        );
        assert_eq!(cache.updated_file(), None, "nothing new, nothing to write");
        let new = sentence_key("New sentence.");
        let mut calls = 0;
        for _ in 0..3 {
            cache.get_or_tag(new, &known, || {
                calls += 1;
                vec![tag("sale-of-data", Stance::Restricts)]
            });
        }
        assert_eq!(calls, 1, "a sentence is tagged once a run");
        assert_eq!(cache.stats(), TagCacheStats { cached: 1, tagged: 1 });
        let written = parse(&cache.updated_file().unwrap(), &tagger(), known)
            .unwrap()
            .unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(written[&new], vec![tag("sale-of-data", Stance::Restricts)]);
    }

    #[test]
    fn a_broken_file_is_ignored_and_replaced() {
        let broken = b"tagger\tlearned-minilm-static/0123456789ab\nnonsense\n".to_vec();
        let cache = TagCache::new(tagger(), Box::new(move || Some(broken)));
        let key = sentence_key("A sentence.");
        assert_eq!(cache.get_or_tag(key, &known, Vec::new), vec![]);
        let written = parse(&cache.updated_file().unwrap(), &tagger(), known)
            .unwrap()
            .unwrap();
        assert_eq!(written.keys().collect::<Vec<_>>(), vec![&key]);
    }
}
