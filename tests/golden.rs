//! Golden outputs: what the canonicalizer and the reading commands print, compared with
//! snapshots committed under `tests/snapshots/` (insta).
//!
//! When an output changes on purpose, review and accept the new snapshots:
//! `INSTA_UPDATE=always cargo test --test tests golden` then `git diff tests/snapshots`
//! (or `cargo insta test --review` with cargo-insta installed). The canonicalizer's
//! fingerprint is updated with `UPDATE_FINGERPRINT=1 cargo test --test tests golden`.
//!
//! Outputs are made stable by construction: the clock is fixed (`CLAUSEWATCH_NOW`) and
//! the two things that differ between runs — the test server's port, and so every
//! commit id — are replaced with placeholders (`http://127.0.0.1:PORT`, `<commit 3>`
//! for a full id, `<c3>` for a short one, numbered oldest first).

use std::path::Path;

use clausewatch::canon::{self, CANONICALIZER_VERSION, Selection};
use sha2::{Digest as _, Sha256};

use crate::support::{TestArchive, TestServer, policy_page};

/// The synthetic pages of `tests/data/canon-pages/`, by file name.
fn canon_pages() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/canon-pages");
    let mut pages: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path.file_stem().expect("file name").to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("read page"))
        })
        .collect();
    pages.sort();
    assert!(pages.len() >= 6, "the canon pages are missing from {}", dir.display());
    pages
}

/// The canonical text `track` would record for a page with no `select`.
fn canonical(page: &[u8]) -> String {
    let selection = Selection::css(&[], &[]).expect("empty selection");
    canon::canonicalize(page, Some("text/html; charset=utf-8"), &selection).expect("canonicalize")
}

#[test]
fn canonical_text_of_synthetic_pages() {
    for (name, page) in canon_pages() {
        insta::assert_snapshot!(format!("canon_{}", name.replace('-', "_")), canonical(&page));
    }
}

const FINGERPRINT: &str = "tests/data/canonicalizer-fingerprint.txt";

/// The SHA-256 of the canonical texts of the synthetic pages, with their names.
fn canonical_fingerprint() -> String {
    let mut hash = Sha256::new();
    for (name, page) in canon_pages() {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(canonical(&page).as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize())
}

/// Fails when the canonical text of the synthetic pages changes while
/// `CANONICALIZER_VERSION` does not: every recorded text depends on it (re-extraction
/// commits are told from page changes by that number).
#[test]
fn canonicalizer_version_follows_its_output() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FINGERPRINT);
    let now = format!(
        "canonicalizer-version {CANONICALIZER_VERSION}\nsha256 {}\n",
        canonical_fingerprint()
    );
    if std::env::var_os("UPDATE_FINGERPRINT").is_some() {
        std::fs::write(&path, &now).unwrap_or_else(|e| panic!("{FINGERPRINT}: {e}"));
        return;
    }
    let recorded = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{FINGERPRINT}: {e}"));
    if let Err(message) = fingerprint_verdict(&recorded, &now) {
        panic!("{message}");
    }
}

const UPDATE: &str = "UPDATE_FINGERPRINT=1 cargo test --test tests golden::canonicalizer_version_follows_its_output";

/// Compares the recorded fingerprint with the current one.
fn fingerprint_verdict(recorded: &str, now: &str) -> Result<(), String> {
    let field = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
            .ok_or_else(|| format!("{FINGERPRINT}: no {key:?} line; rebuild it with {UPDATE}"))
    };
    let (old_version, old_hash) = (field(recorded, "canonicalizer-version ")?, field(recorded, "sha256 ")?);
    let (new_version, new_hash) = (field(now, "canonicalizer-version ")?, field(now, "sha256 ")?);
    if old_hash != new_hash && old_version == new_version {
        return Err(format!(
            "canonical output changed: bump CANONICALIZER_VERSION and update the fingerprint with {UPDATE} \
             (the canon_* snapshots show what changed; if only tests/data/canon-pages changed, just update the fingerprint)"
        ));
    }
    if (old_version, old_hash) != (new_version, new_hash) {
        return Err(format!(
            "CANONICALIZER_VERSION changed: update {FINGERPRINT} with {UPDATE}"
        ));
    }
    Ok(())
}

#[test]
fn fingerprint_mismatches_are_explained() {
    let v1 = "canonicalizer-version 1\nsha256 aaaa\n";
    assert_eq!(fingerprint_verdict(v1, v1), Ok(()));
    let changed = fingerprint_verdict(v1, "canonicalizer-version 1\nsha256 bbbb\n").unwrap_err();
    assert!(
        changed.starts_with(
            "canonical output changed: bump CANONICALIZER_VERSION and update the fingerprint with UPDATE_FINGERPRINT=1"
        ),
        "{changed}"
    );
    let bumped = fingerprint_verdict(v1, "canonicalizer-version 2\nsha256 bbbb\n").unwrap_err();
    assert!(
        bumped.starts_with("CANONICALIZER_VERSION changed: update tests/data/canonicalizer-fingerprint.txt"),
        "{bumped}"
    );
    assert!(
        fingerprint_verdict("", v1)
            .unwrap_err()
            .contains("no \"canonicalizer-version \" line")
    );
}

const DAY1: &str = "2026-03-01T06:00:00Z";
const DAY2: &str = "2026-03-02T06:00:00Z";
const DAY3: &str = "2026-03-03T06:00:00Z";
const LATER: &str = "2026-03-04T12:00:00Z";

const PRIVACY_1: &str = "<h1>Privacy Policy</h1><p>Last updated: January 5, 2026</p>\
    <h2>Data we collect</h2><p>We collect your name and email address. We keep data for 30 days.</p>\
    <ul><li>Account data.</li><li>Usage data.</li></ul>\
    <h2>Sharing</h2><p>You may not copy our Services, in whole or in part. Alpha partners receive reports. \
    We never sell data.</p>";
/// A run of changed words, a new AI-training sentence, a removal and a list item.
const PRIVACY_2: &str = "<h1>Privacy Policy</h1><p>Last updated: 2nd March 2026</p>\
    <h2>Data we collect</h2><p>We collect your name and email address. We keep data for 90 days. \
    We may use your content to train our AI models.</p>\
    <ul><li>Account data.</li><li>Usage and device data.</li></ul>\
    <h2>Sharing</h2><p>You may not copy the Platform, in whole or in part. Alpha partners receive reports.</p>";
/// A moved sentence and a changed heading.
const PRIVACY_3: &str = "<h1>Privacy Policy</h1><p>Last updated: 2nd March 2026</p>\
    <h2>Information we collect</h2><p>Alpha partners receive reports. We collect your name and email address. \
    We keep data for 90 days. We may use your content to train our AI models.</p>\
    <ul><li>Account data.</li><li>Usage and device data.</li></ul>\
    <h2>Sharing</h2><p>You may not copy the Platform, in whole or in part.</p>";
const TERMS_1: &str = "<h1>Terms of Service</h1><p>Effective date: 1 January 2026</p>\
    <p>By using the Services you agree to these Terms. Disputes go to the courts of Dublin.</p>";
/// Only quote style: cosmetic.
const TERMS_2: &str = "<h1>Terms of Service</h1><p>Effective date: 1 January 2026</p>\
    <p>By using the “Services” you agree to these Terms. Disputes go to the courts of Dublin.</p>";

/// An archive with two documents over three days (first records, a substantive and a
/// cosmetic change, then a move), and the placeholders for its run-dependent parts.
struct Scripted {
    _server: TestServer,
    archive: TestArchive,
    replacements: Vec<(String, String)>,
}

impl Scripted {
    fn new() -> Scripted {
        let server = TestServer::start();
        let archive = TestArchive::new();
        archive.declare_simple(
            "acme",
            "Acme",
            &[
                ("privacy-policy", &server.url("/privacy")),
                ("terms-of-service", &server.url("/terms")),
            ],
        );
        // Each document at its own time: versions recorded in the same second would be
        // ordered by commit id, which the server's port changes from run to run.
        for (now, privacy, terms) in [
            (DAY1, PRIVACY_1, TERMS_1),
            (DAY2, PRIVACY_2, TERMS_2),
            (DAY3, PRIVACY_3, TERMS_2),
        ] {
            server.page("/privacy", &policy_page(privacy, now));
            server.page("/terms", &policy_page(terms, now));
            let later = now.replace("T06:", "T07:");
            for (at, document) in [(now, "acme/privacy-policy"), (later.as_str(), "acme/terms-of-service")] {
                let (code, stdout, stderr) = archive.run_at(at, &["track", "--service", document]);
                assert_eq!(code, 0, "{stdout}{stderr}");
            }
        }
        // Oldest first, so a new commit in the script only renumbers those after it.
        let commits = archive.git(&["log", "--reverse", "--format=%H"]);
        let mut replacements = Vec::new();
        for (n, id) in commits.lines().enumerate() {
            replacements.push((id.to_string(), format!("<commit {}>", n + 1)));
        }
        for (n, id) in commits.lines().enumerate() {
            replacements.push((id[..12].to_string(), format!("<c{}>", n + 1)));
        }
        replacements.push((format!("127.0.0.1:{}", server.port()), "127.0.0.1:PORT".into()));
        Scripted {
            _server: server,
            archive,
            replacements,
        }
    }

    /// Runs a command at a fixed time after the script, asserting success, and returns
    /// its standard output with placeholders for what differs between runs.
    fn run(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.archive.run_at(LATER, args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        self.stable(stdout)
    }

    fn stable(&self, mut text: String) -> String {
        for (from, to) in &self.replacements {
            text = text.replace(from.as_str(), to);
        }
        text
    }

    /// The commit of a document's version recorded at `date` (RFC 3339).
    fn version_commit(&self, document: &str, date: &str) -> String {
        let (_, stdout, _) = self.archive.run_at(LATER, &["log", document, "--json"]);
        let json: serde_json::Value = serde_json::from_str(&stdout).expect("log --json");
        let version = json.as_array().expect("versions").iter().find(|v| v["date"] == date);
        version.expect("a version at that date")["commit"]
            .as_str()
            .expect("commit")
            .to_string()
    }
}

#[test]
fn log_outputs() {
    let s = Scripted::new();
    insta::assert_snapshot!("log", s.run(&["log"]));
    insta::assert_snapshot!("log_json", s.run(&["log", "--json"]));
}

#[test]
fn diff_outputs() {
    let s = Scripted::new();
    insta::assert_snapshot!(
        "diff_latest",
        s.run(&["diff", "acme/privacy-policy", "--color", "never"])
    );
    // One version: the change it made.
    insta::assert_snapshot!(
        "diff_one_version",
        s.run(&["diff", "acme/privacy-policy", "2026-03-02", "--color", "never"])
    );
    insta::assert_snapshot!(
        "diff_backwards",
        s.run(&["diff", "acme/privacy-policy", "latest", "~2", "--color", "never"])
    );
    insta::assert_snapshot!(
        "diff_first_version",
        s.run(&["diff", "acme/terms-of-service", "~1", "--color", "never"])
    );
    insta::assert_snapshot!(
        "diff_json",
        s.run(&["diff", "acme/privacy-policy", "2026-03-02", "--json"])
    );
    // A commit id with a step back names the same version as the date.
    let day3 = s.version_commit("acme/privacy-policy", DAY3);
    assert_eq!(
        s.run(&[
            "diff",
            "acme/privacy-policy",
            &format!("{}~1", &day3[..10]),
            "--color",
            "never"
        ]),
        s.run(&["diff", "acme/privacy-policy", "2026-03-02", "--color", "never"])
    );
}

#[test]
fn report_outputs_in_every_format() {
    let s = Scripted::new();
    for format in ["markdown", "html", "json", "atom"] {
        insta::assert_snapshot!(
            format!("report_{format}"),
            s.run(&["report", "--since", "2026-03-01", "--format", format])
        );
    }
}

#[test]
fn blame_outputs() {
    let s = Scripted::new();
    insta::assert_snapshot!("blame", s.run(&["blame", "acme/privacy-policy"]));
    insta::assert_snapshot!("blame_json", s.run(&["blame", "acme/privacy-policy", "--json"]));
}
