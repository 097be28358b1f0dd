//! Two texts in (split at the first NUL), a diff that rebuilds the new from the old:
//! see `diff_applies`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/invariants.rs"]
mod invariants;

fuzz_target!(|texts: &str| {
    let (old, new) = texts.split_once('\0').unwrap_or((texts, ""));
    invariants::diff_applies(old, new);
});
