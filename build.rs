//! Embeds the default archive (`archive/`: declarations, README, taxonomy) in the binary
//! so `clausewatch init` works anywhere, from a crates.io install too, and computes the
//! built-in tagger model's SHA-256 once, here, instead of at every run.

use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest as _, Sha256};

/// The learned tagger's built-in model, embedded by `src/provision/learned.rs`.
const TAGGER_MODEL: &str = "src/provision/tagger-model.bin";

fn main() {
    write_archive();
    write_tagger_model_digest();
}

/// `OUT_DIR/tagger-model.sha256`: the model's SHA-256 in hex. The tagger's version (the
/// key of the tag cache) needs it at every run that opens the learned tagger, and
/// hashing the 9.4 MB there cost about 5 ms of CPU and paged in the whole model, which an
/// unchanged `track` otherwise never touches (docs/performance.md).
fn write_tagger_model_digest() {
    println!("cargo:rerun-if-changed={TAGGER_MODEL}");
    let bytes = std::fs::read(TAGGER_MODEL).expect("read the built-in tagger model");
    let hex = Sha256::digest(&bytes).iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    });
    let dest = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("tagger-model.sha256");
    std::fs::write(dest, hex).expect("write tagger-model.sha256");
}

fn write_archive() {
    let root = Path::new("archive");
    // Only what is embedded: `track` writes versions/, snapshots/ and status.json into
    // archive/, and watching the whole folder recompiled the crate after every run.
    // (A folder is watched for any change to the files under it.)
    for input in ["archive/services", "archive/provisions.toml", "archive/README.md"] {
        println!("cargo:rerun-if-changed={input}");
    }
    let mut files: Vec<String> = Vec::new();
    for name in ["README.md", "provisions.toml"] {
        if root.join(name).is_file() {
            files.push(name.to_string());
        }
    }
    if let Ok(entries) = std::fs::read_dir(root.join("services")) {
        let mut services: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".toml"))
            .map(|n| format!("services/{n}"))
            .collect();
        services.sort();
        files.extend(services);
    }
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let mut out = String::from(
        "/// The default archive's files: (path inside the archive, contents).\npub static DEFAULT_ARCHIVE: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let _ = writeln!(
            out,
            "    ({file:?}, include_str!(concat!({manifest:?}, \"/archive/\", {file:?}))),"
        );
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("default_archive.rs");
    std::fs::write(dest, out).expect("write default_archive.rs");
}
