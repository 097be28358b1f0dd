//! Prints the sentences of corpus Markdown files the way provision labels name them, one
//! per row: `path<TAB>line<TAB>hash<TAB>text`. It is how sentences are drawn for labelling;
//! the text it prints is third-party text, to be read, never committed.
//!
//! ```text
//! cargo run --example corpus-sentences -- ../shared/corpus pairs/CASE/reference.md ...
//! ```

#[path = "../tests/support/labelled_corpus.rs"]
mod labelled_corpus;

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(corpus) = args.next().map(PathBuf::from) else {
        eprintln!("usage: corpus-sentences CORPUS FILE... (FILE relative to CORPUS)");
        return ExitCode::from(2);
    };
    let mut out = BufWriter::new(io::stdout().lock());
    for file in args {
        let text = match std::fs::read_to_string(corpus.join(&file)) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("corpus-sentences: {}: {e}", corpus.join(&file).display());
                return ExitCode::FAILURE;
            }
        };
        for (i, line) in text.lines().enumerate() {
            for sentence in labelled_corpus::sentences_of_line(line) {
                let hash = labelled_corpus::sentence_hash(&sentence);
                if let Err(e) = writeln!(out, "{file}\t{}\t{hash}\t{sentence}", i + 1) {
                    return write_failed(&e);
                }
            }
        }
    }
    match out.flush() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => write_failed(&e),
    }
}

/// A closed pipe (`| head`) is not an error; anything else is.
fn write_failed(error: &io::Error) -> ExitCode {
    if error.kind() == io::ErrorKind::BrokenPipe {
        ExitCode::SUCCESS
    } else {
        eprintln!("corpus-sentences: {error}");
        ExitCode::FAILURE
    }
}
