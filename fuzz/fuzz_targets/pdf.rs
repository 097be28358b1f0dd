//! Any bytes in, as a PDF: the canonicalizer answers with a text or a failure, never a
//! panic or an abort, and a text is canonical.
#![no_main]

use std::sync::LazyLock;

use clausewatch::canon::Selection;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/invariants.rs"]
mod invariants;

static WHOLE: LazyLock<Selection> = LazyLock::new(|| Selection::css(&[], &[]).expect("no selectors"));

fuzz_target!(|data: &[u8]| {
    invariants::restore_default_panic_hook();
    invariants::canonicalizer_holds(data, Some("application/pdf"), &WHOLE);
});
