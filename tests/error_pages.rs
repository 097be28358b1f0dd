//! Pages that are not the document: the labelled set of `tests/data/error-pages/`
//! (error, "not found", maintenance, login-wall, consent-wall and denial pages in the
//! languages of the default archive's neighbours, all written for these tests), through
//! the same decisions `track` and the imports make, and end to end.

use std::path::{Path, PathBuf};

use clausewatch::canon::{self, Selection};
use clausewatch::fetch::decode::{self, BodyKind};
use clausewatch::fetch::wall;

use crate::support::{Response, TestArchive, TestServer, git, policy_page};

fn set_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/error-pages")
}

/// `(file, expected verdict, note)` from the set's manifest.
fn manifest() -> Vec<(String, String, String)> {
    std::fs::read_to_string(set_dir().join("MANIFEST.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "MANIFEST.tsv: {l:?}");
            (cols[0].to_string(), cols[1].to_string(), cols[2].to_string())
        })
        .collect()
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("html") => "text/html",
        Some("md") => "text/markdown",
        _ => "text/plain",
    }
}

/// What the recording paths make of a page: the HTML guard of `track` and the imports
/// (a challenge, soft 404 or script shell), then the text guard every version passes
/// (see `track::new_version`). `document` when it would be recorded.
fn verdict(file: &str) -> String {
    let bytes = std::fs::read(set_dir().join(file)).unwrap();
    let ct = content_type(file);
    let ext = match ct {
        "text/html" => "html",
        "text/markdown" => "md",
        _ => "txt",
    };
    if ext == "html"
        && let Some(verdict) = wall::inspect(&decode::decode(&bytes, Some(ct), BodyKind::Html))
    {
        return verdict.label().to_string();
    }
    let text = match canon::canonicalize(&bytes, Some(ct), &Selection::default()) {
        Ok(text) => text,
        Err(failure) => return failure.kind.to_string(),
    };
    match wall::judge_text(&text, &bytes, ext) {
        Some(verdict) => verdict.label().to_string(),
        None => "document".to_string(),
    }
}

#[test]
fn the_labelled_error_pages_are_never_recorded_and_the_documents_are() {
    let manifest = manifest();
    let pages = manifest
        .iter()
        .filter(|(_, expected, _)| expected != "document")
        .count();
    assert!(pages >= 60, "only {pages} error pages in the set");
    let mut wrong = Vec::new();
    let mut refused = 0;
    let mut languages = std::collections::BTreeSet::new();
    for (file, expected, note) in &manifest {
        let got = verdict(file);
        if expected != "document" && got != "document" {
            refused += 1;
            languages.insert(file[4..].split('-').next().unwrap_or_default().to_string());
        }
        if &got != expected {
            wrong.push(format!("{file}: expected {expected}, got {got} ({note})"));
        }
    }
    eprintln!(
        "error-page set: {refused} of {pages} pages refused; {} documents; languages {languages:?}",
        manifest.len() - pages
    );
    assert!(
        wrong.is_empty(),
        "{} of {} misjudged:\n{}",
        wrong.len(),
        manifest.len(),
        wrong.join("\n")
    );
    for lang in ["en", "fr", "de", "es", "it", "pt", "nl", "zh"] {
        assert!(languages.contains(lang), "no {lang} page refused: {languages:?}");
    }
}
