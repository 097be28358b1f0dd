//! The CSV and JSON Lines stores: a folder with one file per table and `export.json`,
//! the export state.
//!
//! `versions` and `sentence_changes` only grow, so a run appends to them; `documents`
//! and `provision_occurrences` have rows that change (a last sighting), so a run
//! rewrites them (through a temporary file and a rename). The state records how long
//! the appended files were after the last complete run: a run that died half-way left
//! rows the state does not know, and the next run cuts them off before it appends.
//!
//! The folder may come from someone else (kept in a repository, received to continue),
//! so its contents are untrusted: `export.json` may name only the appended tables, a
//! link at a table's name or at `export.json` refuses the run, and every file is opened
//! without following links ([`crate::nofollow`]). CSV cells are written by
//! [`CsvTableWriter`], so no cell starts a spreadsheet formula.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead as _, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::csv_cells::{self, CsvTableWriter};
use super::{
    Delta, DocumentRow, ExportError, ExportState, Format, OccurrenceRow, SCHEMA, SentenceChangeRow, Store, VersionRow,
};
use crate::nofollow;

pub const DOCUMENT_COLUMNS: &[&str] = &["service", "document", "url", "first_seen", "last_seen", "versions"];
pub const VERSION_COLUMNS: &[&str] = &[
    "commit_id",
    "service",
    "document",
    "date",
    "change",
    "added",
    "removed",
    "changed",
    "moved",
    "subject",
    "provisions",
    "declared_date",
    "source",
    "source_urls",
    "fetched_at",
    "snapshot_sha256",
    "fetcher",
    "canonicalizer",
    "text",
];
pub const SENTENCE_COLUMNS: &[&str] = &[
    "commit_id",
    "service",
    "document",
    "date",
    "position",
    "kind",
    "old_sentence",
    "new_sentence",
    "old_line",
    "new_line",
    "provisions",
];
pub const OCCURRENCE_COLUMNS: &[&str] = &[
    "id",
    "service",
    "document",
    "provision",
    "stance",
    "sentence",
    "first_seen",
    "first_commit",
    "last_seen",
    "last_commit",
    "in_force",
];

const STATE_FILE: &str = "export.json";

/// `export.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FileState {
    format: String,
    #[serde(flatten)]
    state: ExportState,
    /// Byte length of each appended file after the last complete run.
    lengths: BTreeMap<String, u64>,
}

pub struct FileStore {
    dir: PathBuf,
    format: Format,
    state: FileState,
}

/// The tables a run appends to rather than rewrites.
const APPENDED_TABLES: [&str; 2] = ["versions", "sentence_changes"];
/// The tables a run rewrites whole.
const REWRITTEN_TABLES: [&str; 2] = ["documents", "provision_occurrences"];

/// An I/O error on `path`, said as a link when `O_NOFOLLOW` refused one there.
fn io_error(path: &Path, error: std::io::Error) -> ExportError {
    if nofollow::is_link_error(&error) {
        ExportError::Link {
            path: path.display().to_string(),
        }
    } else {
        ExportError::store(path, error)
    }
}

/// Refuses a link at `path`: the folder may come from someone else, and a link there
/// could send a read or a write anywhere on the machine.
fn refuse_link(path: &Path) -> Result<(), ExportError> {
    match nofollow::is_symlink(path) {
        Ok(false) => Ok(()),
        Ok(true) => Err(ExportError::Link {
            path: path.display().to_string(),
        }),
        Err(e) => Err(ExportError::store(path, e)),
    }
}

impl FileStore {
    /// Opens (or creates) an export folder for CSV or JSON Lines. Nothing is written
    /// here: the state is checked first, and cut back only when a run applies its rows.
    pub fn open(dir: &Path, format: Format) -> Result<FileStore, ExportError> {
        if dir.is_file() {
            return Err(ExportError::Mismatch(format!(
                "{} is a file; --format {} writes a folder with one file per table",
                dir.display(),
                format.as_str()
            )));
        }
        let state_path = dir.join(STATE_FILE);
        refuse_link(&state_path)?;
        let state = if state_path.is_file() {
            let bytes = nofollow::read(&state_path).map_err(|e| io_error(&state_path, e))?;
            let state: FileState = serde_json::from_slice(&bytes)
                .map_err(|e| ExportError::store(&state_path, format!("is not a clausewatch export state ({e})")))?;
            if state.format != format.as_str() {
                return Err(ExportError::Mismatch(format!(
                    "{} holds a {} export; pass --format {} or choose another --out",
                    dir.display(),
                    state.format,
                    state.format
                )));
            }
            if state.state.schema != SCHEMA {
                return Err(ExportError::Mismatch(format!(
                    "{} was written with export schema {}, this clausewatch writes schema {SCHEMA}; export to a new folder",
                    dir.display(),
                    state.state.schema
                )));
            }
            state
        } else {
            if dir.is_dir() && fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false) {
                return Err(ExportError::Mismatch(format!(
                    "{} is a folder with files but no {STATE_FILE}, so not a clausewatch export; choose an empty or new folder",
                    dir.display()
                )));
            }
            FileState {
                format: format.as_str().to_string(),
                ..FileState::default()
            }
        };
        let store = FileStore {
            dir: dir.to_path_buf(),
            format,
            state,
        };
        // `lengths` names files to cut: only the appended tables, never a path.
        let appended: Vec<String> = APPENDED_TABLES.iter().map(|t| store.file_name(t)).collect();
        if let Some(name) = store.state.lengths.keys().find(|name| !appended.contains(name)) {
            return Err(ExportError::Mismatch(format!(
                "{} lists {name:?} in \"lengths\", which is not a table of this export ({}); \
                 the file was changed by something other than clausewatch: export to a new folder",
                state_path.display(),
                appended.join(", ")
            )));
        }
        for table in APPENDED_TABLES.iter().chain(&REWRITTEN_TABLES) {
            refuse_link(&store.file(table))?;
        }
        Ok(store)
    }

    fn file_name(&self, table: &str) -> String {
        format!("{table}.{}", self.format.as_str())
    }

    fn file(&self, table: &str) -> PathBuf {
        self.dir.join(self.file_name(table))
    }

    /// Cuts the appended files back to the lengths of the last complete run.
    fn recover(&self) -> Result<(), ExportError> {
        for table in APPENDED_TABLES {
            let path = self.file(table);
            let Some(length) = self.state.lengths.get(&self.file_name(table)) else {
                continue;
            };
            let actual = match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(ExportError::Link {
                        path: path.display().to_string(),
                    });
                }
                Ok(meta) => meta.len(),
                Err(_) => 0,
            };
            if actual > *length {
                tracing::warn!(file = %path.display(), "cutting rows an interrupted export left behind");
                let file = nofollow::open_write(&path).map_err(|e| io_error(&path, e))?;
                file.set_len(*length).map_err(|e| io_error(&path, e))?;
            } else if actual < *length {
                return Err(ExportError::Mismatch(format!(
                    "{} is shorter than the last export left it (rows were removed by hand?); export to a new folder",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    fn read_rows<T: DeserializeOwned>(&self, table: &str) -> Result<Vec<T>, ExportError> {
        let path = self.file(table);
        let file = match nofollow::open_read(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&path, e)),
        };
        match self.format {
            Format::Csv => csv_cells::read_rows(file).map_err(|e| ExportError::store(&path, e)),
            _ => {
                let mut rows = Vec::new();
                for (i, line) in BufReader::new(file).lines().enumerate() {
                    let line = line.map_err(|e| ExportError::store(&path, e))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    rows.push(
                        serde_json::from_str(&line)
                            .map_err(|e| ExportError::store(&path, format!("line {}: {e}", i + 1)))?,
                    );
                }
                Ok(rows)
            }
        }
    }

    /// Writes `rows` (after the header when `header`) in this store's format.
    fn write_table<T: Serialize>(
        &self,
        out: &mut impl Write,
        columns: &'static [&'static str],
        rows: &[T],
        header: bool,
    ) -> Result<(), String> {
        match self.format {
            Format::Csv => {
                let mut writer = CsvTableWriter::new(out, columns);
                if header {
                    writer.write_header().map_err(|e| e.to_string())?;
                }
                for row in rows {
                    writer.write_row(row).map_err(|e| e.to_string())?;
                }
                writer.flush().map_err(|e| e.to_string())
            }
            _ => {
                for row in rows {
                    serde_json::to_writer(&mut *out, row).map_err(|e| e.to_string())?;
                    out.write_all(b"\n").map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        }
    }

    /// Appends rows to a table, with its header when the file is new or empty.
    fn append_rows<T: Serialize>(
        &self,
        table: &str,
        columns: &'static [&'static str],
        rows: &[T],
    ) -> Result<(), ExportError> {
        let path = self.file(table);
        let file = nofollow::open_append(&path).map_err(|e| io_error(&path, e))?;
        let empty = file.metadata().map_err(|e| io_error(&path, e))?.len() == 0;
        let mut out = BufWriter::new(file);
        self.write_table(&mut out, columns, rows, empty)
            .map_err(|e| ExportError::store(&path, e))?;
        out.flush().map_err(|e| io_error(&path, e))?;
        out.get_ref().sync_all().map_err(|e| io_error(&path, e))?;
        Ok(())
    }

    /// Writes a whole table to a fresh temporary file; returns its path, to be renamed
    /// over the table's file.
    fn stage_rows<T: Serialize>(
        &self,
        table: &str,
        columns: &'static [&'static str],
        rows: &[T],
    ) -> Result<PathBuf, ExportError> {
        let mut bytes = Vec::new();
        let target = self.file(table);
        self.write_table(&mut bytes, columns, rows, true)
            .map_err(|e| ExportError::store(&target, e))?;
        nofollow::write_temp(&self.dir, &self.file_name(table), &bytes).map_err(|e| ExportError::store(&target, e))
    }
}

impl Store for FileStore {
    fn state(&self) -> &ExportState {
        &self.state.state
    }

    fn documents(&self) -> Result<Vec<DocumentRow>, ExportError> {
        self.read_rows("documents")
    }

    fn open_occurrences(&self) -> Result<Vec<OccurrenceRow>, ExportError> {
        let mut rows: Vec<OccurrenceRow> = self.read_rows("provision_occurrences")?;
        rows.retain(|o| o.in_force == 1);
        Ok(rows)
    }

    fn max_occurrence_id(&self) -> Result<i64, ExportError> {
        let rows: Vec<OccurrenceRow> = self.read_rows("provision_occurrences")?;
        Ok(rows.iter().map(|o| o.id).max().unwrap_or(0))
    }

    fn apply(&mut self, delta: &Delta, state: &ExportState) -> Result<(), ExportError> {
        fs::create_dir_all(&self.dir).map_err(|e| ExportError::store(&self.dir, e))?;
        self.recover()?;
        // The appended tables first: the state written last is what makes them count.
        self.append_rows::<VersionRow>("versions", VERSION_COLUMNS, &delta.versions)?;
        self.append_rows::<SentenceChangeRow>("sentence_changes", SENTENCE_COLUMNS, &delta.sentence_changes)?;

        let mut documents: BTreeMap<(String, String), DocumentRow> = self
            .documents()?
            .into_iter()
            .map(|d| ((d.service.clone(), d.document.clone()), d))
            .collect();
        for d in &delta.documents {
            documents.insert((d.service.clone(), d.document.clone()), d.clone());
        }
        let documents: Vec<DocumentRow> = documents.into_values().collect();
        let mut occurrences: BTreeMap<i64, OccurrenceRow> = self
            .read_rows::<OccurrenceRow>("provision_occurrences")?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        for o in &delta.occurrences {
            occurrences.insert(o.id, o.clone());
        }
        let occurrences: Vec<OccurrenceRow> = occurrences.into_values().collect();
        let staged = [
            (
                self.stage_rows("documents", DOCUMENT_COLUMNS, &documents)?,
                self.file("documents"),
            ),
            (
                self.stage_rows("provision_occurrences", OCCURRENCE_COLUMNS, &occurrences)?,
                self.file("provision_occurrences"),
            ),
        ];

        let mut lengths = BTreeMap::new();
        for table in APPENDED_TABLES {
            let path = self.file(table);
            let length = fs::symlink_metadata(&path)
                .map(|m| m.len())
                .map_err(|e| ExportError::store(&path, e))?;
            lengths.insert(self.file_name(table), length);
        }
        let file_state = FileState {
            format: self.format.as_str().to_string(),
            state: state.clone(),
            lengths,
        };
        let state_path = self.dir.join(STATE_FILE);
        let json = serde_json::to_string_pretty(&file_state).map_err(|e| ExportError::store(&state_path, e))? + "\n";
        let state_temp = nofollow::write_temp(&self.dir, STATE_FILE, json.as_bytes())
            .map_err(|e| ExportError::store(&state_path, e))?;
        // Renaming over a link would silently replace it: refused like a write through it.
        for (_, target) in &staged {
            refuse_link(target)?;
        }
        refuse_link(&state_path)?;
        for (temp, target) in &staged {
            fs::rename(temp, target).map_err(|e| ExportError::store(target, e))?;
        }
        fs::rename(&state_temp, &state_path).map_err(|e| ExportError::store(&state_path, e))?;
        self.state = file_state;
        Ok(())
    }
}
