//! Structured change summaries: what a change did to each provision (added, removed,
//! reworded, stance flipped), recorded by `track` in the `Provisions-Changed:` trailer and
//! shown by `log`, `report` (every format), `feed`, alerts and the site.

use crate::support::{TestArchive, TestServer};

fn page(body: &str) -> String {
    format!("<html><head><title>Terms</title></head><body><main><h1>Terms</h1>{body}</main></body></html>")
}

const INTRO: &str = "<p>These terms govern your use of the Acme service and apply to everyone who visits it.</p>\
                     <p>Please read them carefully before you create an account or post anything.</p>";

#[test]
fn a_permission_that_was_a_denial_is_reported_as_a_flipped_stance_everywhere() {
    let server = TestServer::start();
    server.page(
        "/terms",
        &page(&format!(
            "{INTRO}<p>We do not use your content to train our AI models.</p>"
        )),
    );
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("terms-of-service", &server.url("/terms"))]);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // A first record is no change: it says nothing of provisions changed.
    let first = archive.git(&["log", "-1", "--format=%B"]);
    assert!(!first.contains("Provisions-Changed"), "{first}");

    server.page(
        "/terms",
        &page(&format!(
            "{INTRO}<p>We may use your content to train our AI models.</p>"
        )),
    );
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let message = archive.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.contains("Provisions changed:\n- ai-training: reworded, restricts → grants\n"),
        "{message}"
    );
    let trailer = archive.git(&["log", "-1", "--format=%(trailers:key=Provisions-Changed,valueonly)"]);
    assert_eq!(trailer.trim(), "ai-training reworded restricts->grants");

    let (code, log, _) = archive.run(&["log"]);
    assert_eq!(code, 0);
    assert!(
        log.contains("\n    ai-training: reworded, restricts → grants  (stance flipped)\n"),
        "{log}"
    );
    let (_, json, _) = archive.run(&["log", "--json"]);
    let entries: serde_json::Value = serde_json::from_str(&json).expect("log --json");
    assert_eq!(entries[0]["provisions_changed"][0]["provision"], "ai-training");
    assert_eq!(entries[0]["provisions_changed"][0]["before"][0], "restricts");
    assert_eq!(entries[0]["provisions_changed"][0]["after"][0], "grants");

    let (code, markdown, stderr) = archive.run(&["report", "--since", "2026-03-01", "--until", "2026-03-03"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        markdown.contains("Provisions changed:\n\n- ai-training: reworded, restricts → grants **(stance flipped)**\n"),
        "{markdown}"
    );
    let (_, html, _) = archive.run(&[
        "report",
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-03",
        "--format",
        "html",
    ]);
    assert!(
        html.contains(
            "<li class=\"flipped\">ai-training: reworded, restricts → grants <strong>(stance flipped)</strong></li>"
        ),
        "{html}"
    );
    let (_, feed, _) = archive.run(&["feed"]);
    assert!(
        feed.contains("ai-training: reworded, restricts → grants &lt;strong&gt;(stance flipped)&lt;/strong&gt;"),
        "{feed}"
    );

    let site = archive.repo.join("site-out");
    let (code, _, stderr) = archive.run(&["site", "--out", site.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let pages = walk(&site);
    assert!(
        pages
            .iter()
            .any(|page| page.contains("ai-training: reworded, restricts → grants <strong>(stance flipped)</strong>")),
        "no site page shows the flipped stance"
    );
}

#[test]
fn a_provision_that_goes_is_removed_and_a_cosmetic_edit_moves_none() {
    let server = TestServer::start();
    let with = page(&format!(
        "{INTRO}<p>We may use your content to train our AI models.</p>"
    ));
    server.page("/terms", &with);
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("terms-of-service", &server.url("/terms"))]);
    assert_eq!(archive.run(&["track"]).0, 0);

    // Only the provision's sentence's punctuation changes: cosmetic, no provision moved.
    server.page(
        "/terms",
        &page(&format!(
            "{INTRO}<p>We may use your content to train our AI models!</p>"
        )),
    );
    assert_eq!(archive.run(&["track"]).0, 0);
    let message = archive.git(&["log", "-1", "--format=%B"]);
    assert!(message.contains("Change: cosmetic"), "{message}");
    assert!(!message.contains("Provisions-Changed"), "{message}");

    server.page("/terms", &page(INTRO));
    assert_eq!(archive.run(&["track"]).0, 0);
    let trailer = archive.git(&["log", "-1", "--format=%(trailers:key=Provisions-Changed,valueonly)"]);
    assert_eq!(trailer.trim(), "ai-training removed grants");
}

#[test]
fn a_carve_out_added_beside_an_unchanged_grant_changes_the_stances_but_flips_nothing() {
    let server = TestServer::start();
    let grant = "<p>We may use your content to train our AI models.</p>";
    server.page("/terms", &page(&format!("{INTRO}{grant}")));
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("terms-of-service", &server.url("/terms"))]);
    assert_eq!(archive.run(&["track"]).0, 0);

    server.page(
        "/terms",
        &page(&format!(
            "{INTRO}{grant}<p>We do not use your private content to train our AI models.</p>"
        )),
    );
    assert_eq!(archive.run(&["track"]).0, 0);
    let trailer = archive.git(&["log", "-1", "--format=%(trailers:key=Provisions-Changed,valueonly)"]);
    assert_eq!(trailer.trim(), "ai-training reworded grants->grants+restricts");

    let (code, log, _) = archive.run(&["log"]);
    assert_eq!(code, 0);
    assert!(
        log.contains("\n    ai-training: reworded, grants → grants, restricts\n"),
        "{log}"
    );
    assert!(!log.contains("flipped"), "{log}");
    let (code, markdown, stderr) = archive.run(&["report", "--since", "2026-03-01", "--until", "2026-03-03"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        markdown.contains("Provisions changed:\n\n- ai-training: reworded, grants → grants, restricts\n"),
        "{markdown}"
    );
    assert!(!markdown.contains("flipped"), "{markdown}");
}

/// Every HTML file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read site") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            pages.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "html") {
            pages.push(std::fs::read_to_string(&path).expect("read page"));
        }
    }
    pages
}
