//! The CSV and JSON Lines stores: a folder with one file per table and `export.json`,
//! the export state.
//!
//! `versions` and `sentence_changes` only grow, so a run appends to them; `documents`
//! and `provision_occurrences` have rows that change (a last sighting), so a run
//! rewrites them (through a temporary file and a rename). The state records how long
//! the appended files were after the last complete run: a run that died half-way left
//! rows the state does not know, and the next run cuts them off before it appends.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{
    Delta, DocumentRow, ExportError, ExportState, Format, OccurrenceRow, SCHEMA, SentenceChangeRow, Store, VersionRow,
};

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

impl FileStore {
    /// Opens (or creates) an export folder for CSV or JSON Lines.
    pub fn open(dir: &Path, format: Format) -> Result<FileStore, ExportError> {
        if dir.is_file() {
            return Err(ExportError::Mismatch(format!(
                "{} is a file; --format {} writes a folder with one file per table",
                dir.display(),
                format.as_str()
            )));
        }
        let state_path = dir.join(STATE_FILE);
        let state = if state_path.is_file() {
            let text = fs::read_to_string(&state_path).map_err(|e| ExportError::store(&state_path, e))?;
            let state: FileState = serde_json::from_str(&text)
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
        store.recover()?;
        Ok(store)
    }

    fn file(&self, table: &str) -> PathBuf {
        self.dir.join(format!("{table}.{}", self.format.as_str()))
    }

    /// Cuts the appended files back to the lengths of the last complete run.
    fn recover(&self) -> Result<(), ExportError> {
        for (name, length) in &self.state.lengths {
            let path = self.dir.join(name);
            let actual = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if actual > *length {
                tracing::warn!(file = %path.display(), "cutting rows an interrupted export left behind");
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| ExportError::store(&path, e))?;
                file.set_len(*length).map_err(|e| ExportError::store(&path, e))?;
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
        if !path.exists() {
            return Ok(Vec::new());
        }
        let file = File::open(&path).map_err(|e| ExportError::store(&path, e))?;
        match self.format {
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(file);
                reader
                    .deserialize()
                    .collect::<Result<Vec<T>, _>>()
                    .map_err(|e| ExportError::store(&path, e))
            }
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

    /// Writes rows to a file: appended to what is there, or replacing it.
    fn write_rows<T: Serialize>(
        &self,
        path: &Path,
        columns: &[&str],
        rows: &[T],
        append: bool,
    ) -> Result<(), ExportError> {
        let err = |e: std::io::Error| ExportError::store(path, e);
        let exists = append && path.exists() && fs::metadata(path).map(|m| m.len() > 0).unwrap_or(false);
        let file = OpenOptions::new()
            .create(true)
            .append(append)
            .write(true)
            .truncate(!append)
            .open(path)
            .map_err(err)?;
        let mut out = BufWriter::new(file);
        match self.format {
            Format::Csv => {
                let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(&mut out);
                if !exists {
                    writer.write_record(columns).map_err(|e| ExportError::store(path, e))?;
                }
                for row in rows {
                    writer.serialize(row).map_err(|e| ExportError::store(path, e))?;
                }
                writer.flush().map_err(err)?;
            }
            _ => {
                for row in rows {
                    serde_json::to_writer(&mut out, row).map_err(|e| ExportError::store(path, e))?;
                    out.write_all(b"\n").map_err(err)?;
                }
            }
        }
        out.flush().map_err(err)?;
        out.get_ref().sync_all().map_err(err)?;
        Ok(())
    }

    /// Rewrites a whole table through a temporary file; returns the temporary path.
    fn stage_rows<T: Serialize>(&self, table: &str, columns: &[&str], rows: &[T]) -> Result<PathBuf, ExportError> {
        let temp = self.dir.join(format!(".{table}.{}.tmp", self.format.as_str()));
        self.write_rows(&temp, columns, rows, false)?;
        Ok(temp)
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
        // The appended tables first: the state written last is what makes them count.
        let versions_path = self.file("versions");
        self.write_rows::<VersionRow>(&versions_path, VERSION_COLUMNS, &delta.versions, true)?;
        let sentences_path = self.file("sentence_changes");
        self.write_rows::<SentenceChangeRow>(&sentences_path, SENTENCE_COLUMNS, &delta.sentence_changes, true)?;

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
        for path in [&versions_path, &sentences_path] {
            let length = fs::metadata(path)
                .map(|m| m.len())
                .map_err(|e| ExportError::store(path, e))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            lengths.insert(name, length);
        }
        let file_state = FileState {
            format: self.format.as_str().to_string(),
            state: state.clone(),
            lengths,
        };
        let state_path = self.dir.join(STATE_FILE);
        let state_temp = self.dir.join(format!(".{STATE_FILE}.tmp"));
        let json = serde_json::to_string_pretty(&file_state).map_err(|e| ExportError::store(&state_temp, e))? + "\n";
        fs::write(&state_temp, json).map_err(|e| ExportError::store(&state_temp, e))?;
        for (temp, target) in &staged {
            fs::rename(temp, target).map_err(|e| ExportError::store(target, e))?;
        }
        fs::rename(&state_temp, &state_path).map_err(|e| ExportError::store(&state_path, e))?;
        self.state = file_state;
        Ok(())
    }
}
