//! Datasette's `metadata.json` for an SQLite export: a title, where the data comes
//! from and under which terms, a description of every table and column, and the
//! full-text search tables wired to the tables they index, so that
//! `datasette policies.sqlite --metadata metadata.json` opens ready to search.
//!
//! The descriptions are the export's schema in words (docs/export.md says the same);
//! a test checks that every column of the SQLite file is described here.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// What marks a `metadata.json` as ours, so a later export may replace it and never
/// overwrites a file somebody wrote by hand.
const ABOUT: &str = "clausewatch";
const ABOUT_URL: &str = "https://github.com/clausewatch/clausewatch";

/// One table: its name, what a row is, its columns, and its full-text index if any.
struct TableDoc {
    name: &'static str,
    description: &'static str,
    columns: &'static [(&'static str, &'static str)],
    fts_table: Option<&'static str>,
    sort_desc: Option<&'static str>,
}

const TABLES: &[TableDoc] = &[
    TableDoc {
        name: "documents",
        description: "One row per tracked document.",
        columns: &[
            ("service", "Service slug, e.g. tiktok"),
            ("document", "Document type slug, e.g. privacy-policy"),
            ("url", "Source URL(s) of the latest version, space-separated"),
            ("first_seen", "Author date of the first version (RFC 3339, UTC)"),
            ("last_seen", "Author date of the latest version (RFC 3339, UTC)"),
            ("versions", "How many versions the document has"),
        ],
        fts_table: None,
        sort_desc: Some("last_seen"),
    },
    TableDoc {
        name: "versions",
        description: "One row per version (git commit) of a document, with its full canonical text.",
        columns: &[
            ("commit_id", "The git commit that recorded the version"),
            ("service", "Service slug"),
            ("document", "Document type slug"),
            ("date", "When the version was fetched or captured (RFC 3339, UTC)"),
            (
                "change",
                "first, substantive, cosmetic, revert (the text went back to an earlier version's) or reextract",
            ),
            ("added", "Sentences added against the previous version"),
            ("removed", "Sentences removed against the previous version"),
            ("changed", "Sentences reworded against the previous version"),
            ("moved", "Sentences moved elsewhere in the document"),
            ("subject", "The commit subject: a summary of the change"),
            ("provisions", "Provision ids the change touched, comma-separated"),
            (
                "declared_date",
                "The date the document gives itself (YYYY-MM-DD), when it gives one",
            ),
            ("source", "track, wayback, ota-versions or ota-snapshots"),
            ("source_urls", "The URL(s) fetched, space-separated"),
            ("fetched_at", "Fetch or capture time (RFC 3339, UTC)"),
            (
                "snapshot_sha256",
                "SHA-256 of the stored snapshot the text was made from",
            ),
            ("fetcher", "http, browser, ota or wayback"),
            ("canonicalizer", "Version of the text extractor that produced the text"),
            ("text", "The canonical text: one sentence per line"),
        ],
        fts_table: Some("versions_fts"),
        sort_desc: Some("date"),
    },
    TableDoc {
        name: "sentence_changes",
        description: "One row per sentence a version added, removed, changed or moved.",
        columns: &[
            ("commit_id", "The version's commit"),
            ("service", "Service slug"),
            ("document", "Document type slug"),
            ("date", "The version's date (RFC 3339, UTC)"),
            ("position", "Order among the version's changes, from 1"),
            ("kind", "added, removed, changed or moved"),
            ("old_sentence", "The sentence before (empty when added)"),
            ("new_sentence", "The sentence after (empty when removed)"),
            ("old_line", "Line number in the old text"),
            ("new_line", "Line number in the new text"),
            (
                "provisions",
                "Provision ids the old or new sentence expresses, comma-separated",
            ),
        ],
        fts_table: Some("sentence_changes_fts"),
        sort_desc: Some("date"),
    },
    TableDoc {
        name: "provision_occurrences",
        description: "A sentence that expresses a provision, over the run of consecutive versions that contain it.",
        columns: &[
            ("id", "A number, stable across incremental exports"),
            ("service", "Service slug"),
            ("document", "Document type slug"),
            ("provision", "Provision id from provisions.toml, e.g. ai-training"),
            ("stance", "grants, restricts, conditional or neutral"),
            ("sentence", "The sentence, without list or heading markers"),
            ("first_seen", "Date of the version in which it appeared"),
            ("first_commit", "Commit of the version in which it appeared"),
            ("last_seen", "Date of the last version that still had it"),
            ("last_commit", "Commit of the last version that still had it"),
            ("in_force", "1 while the latest version has it, else 0"),
        ],
        fts_table: None,
        sort_desc: Some("last_seen"),
    },
];

/// Where an export's description lives: `metadata.json` in the SQLite file's folder,
/// where `datasette DIR` finds it too.
pub fn path_beside(database: &Path) -> PathBuf {
    database.with_file_name("metadata.json")
}

/// The largest `metadata.json` looked into: ours is a few kilobytes, and a larger one
/// (or a device) is somebody else's.
const MAX_METADATA_BYTES: u64 = 1 << 20;

/// Whether `path` may be written: absent, or written by an earlier export. It is looked
/// into without following a link (a link there is an error, naming it) and only up to
/// [`MAX_METADATA_BYTES`].
pub fn may_replace(path: &Path) -> io::Result<bool> {
    use crate::nofollow::ReadError;
    match crate::nofollow::read_capped(path, MAX_METADATA_BYTES) {
        Ok(bytes) => Ok(serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.get("about").and_then(Value::as_str).map(|about| about == ABOUT))
            .unwrap_or(false)),
        Err(e) if e.is_not_found() => Ok(true),
        Err(ReadError::TooLarge { .. } | ReadError::NotAFile) => Ok(false),
        Err(ReadError::Io(e)) => Err(e),
        Err(e @ ReadError::Symlink) => Err(io::Error::other(e.to_string())),
    }
}

/// The metadata of the SQLite file `database` (Datasette names a database by the
/// file's stem). `source_url` is the archive's repository on the web, when known.
pub fn datasette_metadata(database: &Path, source_url: Option<&str>) -> Value {
    let name = database.file_stem().and_then(|s| s.to_str()).unwrap_or("clausewatch");
    let mut tables = Map::new();
    for table in TABLES {
        let columns: Map<String, Value> = table
            .columns
            .iter()
            .map(|(column, description)| ((*column).to_string(), json!(description)))
            .collect();
        let mut entry = json!({ "description": table.description, "columns": columns });
        if let Some(fts) = table.fts_table {
            entry["fts_table"] = json!(fts);
            entry["fts_pk"] = json!("rowid");
        }
        if let Some(column) = table.sort_desc {
            entry["sort_desc"] = json!(column);
        }
        tables.insert(table.name.to_string(), entry);
    }
    // The internal tables are not data: hide them from the index page.
    for hidden in ["meta", "versions_fts", "sentence_changes_fts"] {
        tables.insert(hidden.to_string(), json!({ "hidden": true }));
    }
    let mut metadata = json!({
        "title": "Platform policies: a clausewatch archive",
        "description": "Every recorded version of the tracked terms of service, privacy policies and \
                        AI/data-use policies, with the sentences each version changed and the \
                        provisions (kinds of clauses) they express.",
        "license": "Policy texts remain their publishers' copyright; recorded for research and journalism",
        "about": ABOUT,
        "about_url": ABOUT_URL,
        "databases": { name: { "tables": tables } },
    });
    if let Some(url) = source_url {
        metadata["source"] = json!("the archive's git history");
        metadata["source_url"] = json!(url);
    }
    metadata
}

/// The columns every table is documented with, for checks against the real schema.
pub fn documented_columns() -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLES
        .iter()
        .flat_map(|table| table.columns.iter().map(move |(column, _)| (table.name, *column)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_database_by_its_file_stem_and_wires_full_text_search() {
        let metadata = datasette_metadata(
            Path::new("out/policies.sqlite"),
            Some("https://github.com/acme/archive"),
        );
        let versions = &metadata["databases"]["policies"]["tables"]["versions"];
        assert_eq!(versions["fts_table"], "versions_fts");
        assert_eq!(versions["fts_pk"], "rowid");
        // Every kind a version can have is named, so a filter written from the
        // description loses no version.
        let change = versions["columns"]["change"].as_str().unwrap();
        for kind in crate::archive::ChangeKind::ALL {
            assert!(change.contains(kind.as_str()), "{kind:?} missing from {change:?}");
        }
        assert_eq!(metadata["source_url"], "https://github.com/acme/archive");
        assert_eq!(metadata["databases"]["policies"]["tables"]["meta"]["hidden"], true);
        assert_eq!(
            path_beside(Path::new("out/policies.sqlite")),
            Path::new("out/metadata.json")
        );
    }

    #[test]
    fn replaces_only_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metadata.json");
        assert!(may_replace(&path).unwrap(), "an absent file may be written");
        std::fs::write(&path, r#"{"title": "mine"}"#).unwrap();
        assert!(!may_replace(&path).unwrap(), "somebody else's file is kept");
        std::fs::write(
            &path,
            datasette_metadata(&dir.path().join("p.sqlite"), None).to_string(),
        )
        .unwrap();
        assert!(may_replace(&path).unwrap(), "an earlier export's file is replaced");
        #[cfg(unix)]
        {
            // A link there, even to an earlier export's file, is never looked through.
            let link = dir.path().join("linked").join("metadata.json");
            std::fs::create_dir(link.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(&path, &link).unwrap();
            let error = may_replace(&link).unwrap_err();
            assert!(error.to_string().contains("symbolic link"), "{error}");
            std::fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
            assert!(may_replace(&link).is_err());
        }
    }
}
