//! The SQLite store: one file with the four tables, indexes, FTS5 indexes over version
//! texts and changed sentences, and a `meta` table holding the export state. Each run
//! is one transaction: an interrupted run leaves the file as the run before left it.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension as _, params};

use super::{Delta, DocumentRow, ExportError, ExportState, OccurrenceRow, SCHEMA, Store};

const CREATE: &str = "
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT
);
CREATE TABLE IF NOT EXISTS documents (
  service TEXT NOT NULL,
  document TEXT NOT NULL,
  url TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  versions INTEGER NOT NULL,
  PRIMARY KEY (service, document)
);
CREATE TABLE IF NOT EXISTS versions (
  commit_id TEXT PRIMARY KEY,
  service TEXT NOT NULL,
  document TEXT NOT NULL,
  date TEXT NOT NULL,
  change TEXT NOT NULL,
  added INTEGER NOT NULL,
  removed INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  moved INTEGER NOT NULL,
  subject TEXT NOT NULL,
  provisions TEXT NOT NULL,
  declared_date TEXT,
  source TEXT NOT NULL,
  source_urls TEXT NOT NULL,
  fetched_at TEXT NOT NULL,
  snapshot_sha256 TEXT NOT NULL,
  fetcher TEXT NOT NULL,
  canonicalizer INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_document ON versions (service, document, date);
CREATE INDEX IF NOT EXISTS versions_date ON versions (date);
CREATE TABLE IF NOT EXISTS sentence_changes (
  commit_id TEXT NOT NULL REFERENCES versions (commit_id),
  service TEXT NOT NULL,
  document TEXT NOT NULL,
  date TEXT NOT NULL,
  position INTEGER NOT NULL,
  kind TEXT NOT NULL,
  old_sentence TEXT,
  new_sentence TEXT,
  old_line INTEGER,
  new_line INTEGER,
  provisions TEXT NOT NULL,
  PRIMARY KEY (commit_id, position)
);
CREATE INDEX IF NOT EXISTS sentence_changes_document ON sentence_changes (service, document, date);
CREATE INDEX IF NOT EXISTS sentence_changes_kind ON sentence_changes (kind);
CREATE TABLE IF NOT EXISTS provision_occurrences (
  id INTEGER PRIMARY KEY,
  service TEXT NOT NULL,
  document TEXT NOT NULL,
  provision TEXT NOT NULL,
  stance TEXT NOT NULL,
  sentence TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  first_commit TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  last_commit TEXT NOT NULL,
  in_force INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS provision_occurrences_provision ON provision_occurrences (provision, stance);
CREATE INDEX IF NOT EXISTS provision_occurrences_document ON provision_occurrences (service, document, in_force);
CREATE VIRTUAL TABLE IF NOT EXISTS versions_fts USING fts5 (
  service UNINDEXED, document UNINDEXED, text,
  content = 'versions', content_rowid = 'rowid'
);
CREATE VIRTUAL TABLE IF NOT EXISTS sentence_changes_fts USING fts5 (
  old_sentence, new_sentence,
  content = 'sentence_changes', content_rowid = 'rowid'
);
";

pub struct SqliteStore {
    path: PathBuf,
    connection: Connection,
    state: ExportState,
}

impl SqliteStore {
    /// Opens (or creates) an export file.
    pub fn open(path: &Path) -> Result<SqliteStore, ExportError> {
        let err = |e: rusqlite::Error| ExportError::store(path, e);
        if path.is_dir() {
            return Err(ExportError::Mismatch(format!(
                "{} is a folder; --format sqlite writes one file (use --format csv or jsonl for a folder)",
                path.display()
            )));
        }
        let existed = path.exists();
        let connection = Connection::open(path).map_err(err)?;
        if existed {
            let has_meta: bool = connection
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n > 0)
                .map_err(|e| {
                    ExportError::Mismatch(format!(
                        "{} is not an SQLite database ({e}); choose another --out",
                        path.display()
                    ))
                })?;
            if !has_meta {
                return Err(ExportError::Mismatch(format!(
                    "{} is an SQLite database but not a clausewatch export; choose another --out",
                    path.display()
                )));
            }
        }
        connection.execute_batch(CREATE).map_err(err)?;
        let get = |key: &str| -> Result<Option<String>, ExportError> {
            connection
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(err)
        };
        let schema = get("schema")?.and_then(|s| s.parse().ok()).unwrap_or(SCHEMA);
        if schema != SCHEMA {
            return Err(ExportError::Mismatch(format!(
                "{} was written with export schema {schema}, this clausewatch writes schema {SCHEMA}; export to a new file",
                path.display()
            )));
        }
        let state = ExportState {
            schema,
            last_commit: get("last_commit")?,
            exported_at: get("exported_at")?,
            taxonomy: get("taxonomy")?.unwrap_or_default(),
            clausewatch_version: get("clausewatch_version")?.unwrap_or_default(),
        };
        Ok(SqliteStore {
            path: path.to_path_buf(),
            connection,
            state,
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> ExportError + '_ {
        move |e| ExportError::store(&self.path, e)
    }
}

impl Store for SqliteStore {
    fn state(&self) -> &ExportState {
        &self.state
    }

    fn documents(&self) -> Result<Vec<DocumentRow>, ExportError> {
        let mut statement = self
            .connection
            .prepare("SELECT service, document, url, first_seen, last_seen, versions FROM documents")
            .map_err(self.err())?;
        let rows = statement
            .query_map([], |r| {
                Ok(DocumentRow {
                    service: r.get(0)?,
                    document: r.get(1)?,
                    url: r.get(2)?,
                    first_seen: r.get(3)?,
                    last_seen: r.get(4)?,
                    versions: r.get(5)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    fn open_occurrences(&self) -> Result<Vec<OccurrenceRow>, ExportError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, service, document, provision, stance, sentence, first_seen, first_commit, \
                 last_seen, last_commit, in_force FROM provision_occurrences WHERE in_force = 1 ORDER BY id",
            )
            .map_err(self.err())?;
        let rows = statement
            .query_map([], |r| {
                Ok(OccurrenceRow {
                    id: r.get(0)?,
                    service: r.get(1)?,
                    document: r.get(2)?,
                    provision: r.get(3)?,
                    stance: r.get(4)?,
                    sentence: r.get(5)?,
                    first_seen: r.get(6)?,
                    first_commit: r.get(7)?,
                    last_seen: r.get(8)?,
                    last_commit: r.get(9)?,
                    in_force: r.get(10)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    fn max_occurrence_id(&self) -> Result<i64, ExportError> {
        self.connection
            .query_row("SELECT coalesce(max(id), 0) FROM provision_occurrences", [], |r| {
                r.get(0)
            })
            .map_err(self.err())
    }

    fn apply(&mut self, delta: &Delta, state: &ExportState) -> Result<(), ExportError> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| ExportError::store(&path, e);
        let tx = self.connection.transaction().map_err(err)?;
        {
            let mut insert_document = tx
                .prepare(
                    "INSERT OR REPLACE INTO documents (service, document, url, first_seen, last_seen, versions) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            for d in &delta.documents {
                insert_document
                    .execute(params![
                        d.service,
                        d.document,
                        d.url,
                        d.first_seen,
                        d.last_seen,
                        d.versions
                    ])
                    .map_err(err)?;
            }
            let mut insert_version = tx
                .prepare(
                    "INSERT INTO versions (commit_id, service, document, date, change, added, removed, changed, moved, \
                     subject, provisions, declared_date, source, source_urls, fetched_at, snapshot_sha256, fetcher, \
                     canonicalizer, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                )
                .map_err(err)?;
            let mut index_version = tx
                .prepare("INSERT INTO versions_fts (rowid, service, document, text) VALUES (?1, ?2, ?3, ?4)")
                .map_err(err)?;
            for v in &delta.versions {
                insert_version
                    .execute(params![
                        v.commit_id,
                        v.service,
                        v.document,
                        v.date,
                        v.change,
                        v.added,
                        v.removed,
                        v.changed,
                        v.moved,
                        v.subject,
                        v.provisions,
                        v.declared_date,
                        v.source,
                        v.source_urls,
                        v.fetched_at,
                        v.snapshot_sha256,
                        v.fetcher,
                        v.canonicalizer,
                        v.text
                    ])
                    .map_err(err)?;
                let rowid = tx.last_insert_rowid();
                index_version
                    .execute(params![rowid, v.service, v.document, v.text])
                    .map_err(err)?;
            }
            let mut insert_sentence = tx
                .prepare(
                    "INSERT INTO sentence_changes (commit_id, service, document, date, position, kind, old_sentence, \
                     new_sentence, old_line, new_line, provisions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(err)?;
            let mut index_sentence = tx
                .prepare("INSERT INTO sentence_changes_fts (rowid, old_sentence, new_sentence) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            for s in &delta.sentence_changes {
                insert_sentence
                    .execute(params![
                        s.commit_id,
                        s.service,
                        s.document,
                        s.date,
                        s.position,
                        s.kind,
                        s.old_sentence,
                        s.new_sentence,
                        s.old_line,
                        s.new_line,
                        s.provisions
                    ])
                    .map_err(err)?;
                let rowid = tx.last_insert_rowid();
                index_sentence
                    .execute(params![rowid, s.old_sentence, s.new_sentence])
                    .map_err(err)?;
            }
            let mut upsert_occurrence = tx
                .prepare(
                    "INSERT OR REPLACE INTO provision_occurrences (id, service, document, provision, stance, sentence, \
                     first_seen, first_commit, last_seen, last_commit, in_force) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(err)?;
            for o in &delta.occurrences {
                upsert_occurrence
                    .execute(params![
                        o.id,
                        o.service,
                        o.document,
                        o.provision,
                        o.stance,
                        o.sentence,
                        o.first_seen,
                        o.first_commit,
                        o.last_seen,
                        o.last_commit,
                        o.in_force
                    ])
                    .map_err(err)?;
            }
            let mut set_meta = tx
                .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")
                .map_err(err)?;
            for (key, value) in [
                ("schema", Some(state.schema.to_string())),
                ("last_commit", state.last_commit.clone()),
                ("exported_at", state.exported_at.clone()),
                ("taxonomy", Some(state.taxonomy.clone())),
                ("clausewatch_version", Some(state.clausewatch_version.clone())),
            ] {
                set_meta.execute(params![key, value]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        self.state = state.clone();
        Ok(())
    }
}
