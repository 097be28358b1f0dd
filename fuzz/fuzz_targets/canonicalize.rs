//! HTML (or any body) in, canonical text out: see `canonicalizer_holds`.
#![no_main]

use std::sync::LazyLock;

use clausewatch::canon::Selection;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/invariants.rs"]
mod invariants;

/// The whole page, and a typical declaration's selection.
static SELECTIONS: LazyLock<[Selection; 2]> = LazyLock::new(|| {
    let css = |select: &[&str], remove: &[&str]| {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Selection::css(&owned(select), &owned(remove)).expect("valid selectors")
    };
    [
        css(&[], &[]),
        css(&["main", "article", "#content"], &["nav", ".cookie-banner"]),
    ]
});

fuzz_target!(|data: &[u8]| {
    invariants::restore_default_panic_hook();
    // The first byte picks the content type and the selection; the rest is the body.
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let content_type = invariants::CONTENT_TYPES[usize::from(choice) % invariants::CONTENT_TYPES.len()];
    let selection = &SELECTIONS[usize::from(choice >> 7)];
    invariants::canonicalizer_holds(body, content_type, selection);
});
