//! Golden pages of the site (insta snapshots in `tests/snapshots/`): the index, a
//! document page, a version page and the provisions pages of the scripted archive of
//! `site.rs`, at a fixed clock. A change to any of them shows as a diff to review
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test --test tests golden_site`
//! and `git diff`).
//!
//! The test server's port and the commit ids (which carry it, in Source-URL) change
//! from run to run, so they are replaced by stable names; the style sheets, the same
//! on every page, are left out.

use std::collections::BTreeMap;

use crate::site::scripted;

/// The commits of the archive, oldest first (by document within a second), as
/// `commit-1`, `commit-2`, ...
fn commit_names(archive: &crate::support::TestArchive) -> BTreeMap<String, String> {
    let (_, json, _) = archive.run(&["log", "--json"]);
    let log: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut commits: Vec<(String, String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let field = |name: &str| v[name].as_str().unwrap().to_string();
            (
                field("date"),
                format!("{}/{}", field("service"), field("document")),
                field("commit"),
            )
        })
        .collect();
    commits.sort();
    commits
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, commit))| (commit, format!("commit-{}", i + 1)))
        .collect()
}

/// The page with the run's accidents replaced: ports, commit ids, style sheets.
fn stable(html: &str, names: &BTreeMap<String, String>) -> String {
    let mut out = html.to_string();
    for (commit, name) in names {
        out = out.replace(commit.as_str(), name).replace(&commit[..12], name);
    }
    let mut text = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find("127.0.0.1:") {
        let (before, after) = rest.split_at(at + "127.0.0.1:".len());
        text.push_str(before);
        text.push_str("PORT");
        rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    text.push_str(rest);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<style>") {
        let end = start + rest[start..].find("</style>").expect("closed style");
        out.push_str(&rest[..start]);
        out.push_str("<style>/* … */");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn site_pages_match_their_golden_copies() {
    let (_server, archive) = scripted();
    let out = archive.repo.join("golden-site");
    let (code, stdout, stderr) = archive.run_at("2026-03-01T00:00:00Z", &["site", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let names = commit_names(&archive);
    let page = |path: &str| {
        let html = std::fs::read_to_string(out.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        stable(&html, &names)
    };
    // The newest version of Acme's privacy policy: a change with every kind of sentence.
    let (_, json, _) = archive.run(&["log", "acme/privacy-policy", "--json"]);
    let log: serde_json::Value = serde_json::from_str(&json).unwrap();
    let newest = &log[0]["commit"].as_str().unwrap()[..12];

    insta::assert_snapshot!("index", page("index.html"));
    insta::assert_snapshot!("document", page("documents/acme/privacy-policy/index.html"));
    insta::assert_snapshot!("version", page(&format!("documents/acme/privacy-policy/{newest}.html")));
    insta::assert_snapshot!("provisions", page("provisions/index.html"));
    insta::assert_snapshot!("provision", page("provisions/ai-training.html"));
}
