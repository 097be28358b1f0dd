//! Any text in, as a declaration (TOML) and as an Open Terms Archive declaration
//! (JSON): see `declaration_parsers_hold`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/invariants.rs"]
mod invariants;

fuzz_target!(|source: &str| invariants::declaration_parsers_hold(source));
