//! Any paragraph in, sentences out: see `sentence_splitter_holds`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/invariants.rs"]
mod invariants;

fuzz_target!(|text: &str| invariants::sentence_splitter_holds(text));
