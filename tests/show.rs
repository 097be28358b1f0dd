//! `show REF`: citable references resolve to the version in force, with provenance.

use clausewatch::canon::CANONICALIZER_VERSION;

use crate::support::{TestArchive, TestServer, policy_page};

const MAR1: &str = "2026-03-01T06:00:00Z";
const MAR5_MORNING: &str = "2026-03-05T06:00:00Z";
const MAR5_EVENING: &str = "2026-03-05T18:00:00Z";

/// Versions on March 1, and twice on March 5; origin on GitHub.
fn dated() -> (TestServer, TestArchive, Vec<String>) {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    let mut commits = Vec::new();
    for (now, sentence) in [
        (MAR1, "We keep data for 30 days."),
        (MAR5_MORNING, "We keep data for 60 days."),
        (MAR5_EVENING, "We keep data for 90 days."),
    ] {
        server.page(
            "/privacy",
            &policy_page(&format!("<h1>Privacy</h1><p>{sentence}</p>"), now),
        );
        let (code, stdout, stderr) = archive.run_at(now, &["track"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        commits.push(archive.git(&["rev-parse", "HEAD"]).trim().to_string());
    }
    archive.git(&["remote", "add", "origin", "git@github.com:acme/policy-archive.git"]);
    (server, archive, commits)
}

fn show_json(archive: &TestArchive, reference: &str) -> serde_json::Value {
    let (code, stdout, stderr) = archive.run(&["show", reference, "--json"]);
    assert_eq!(code, 0, "{reference}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn a_date_names_the_version_in_force_at_the_end_of_that_day() {
    let (server, archive, commits) = dated();

    // Between two versions: the earlier one is in force.
    let between = show_json(&archive, "acme/privacy-policy@2026-03-03");
    assert_eq!(between["commit"], commits[0]);
    assert_eq!(between["date"], MAR1);
    assert_eq!(between["valid_until"], MAR5_MORNING);
    assert_eq!(between["cite_as"], "acme/privacy-policy@2026-03-01");
    assert_eq!(between["text"], "# Privacy\n\nWe keep data for 30 days.\n");

    // The exact day of a version: in force at its end, so the day's last version.
    let same_day = show_json(&archive, "acme/privacy-policy@2026-03-05");
    assert_eq!(same_day["commit"], commits[2]);
    assert!(same_day.get("valid_until").is_none(), "still in force: {same_day}");
    // Two versions share the day, so the date alone would not name the morning one.
    assert_eq!(
        same_day["cite_as"],
        format!("acme/privacy-policy@{}", &commits[2][..12])
    );
    assert_eq!(
        show_json(&archive, "acme/privacy-policy@2026-03-01")["commit"],
        commits[0]
    );

    // A moment, a commit prefix, latest.
    assert_eq!(
        show_json(&archive, "acme/privacy-policy@2026-03-05T12:00:00Z")["commit"],
        commits[1]
    );
    let by_commit = show_json(&archive, &format!("acme/privacy-policy@{}", &commits[1][..7]));
    assert_eq!(by_commit["commit"], commits[1]);
    assert_eq!(by_commit["valid_until"], MAR5_EVENING);
    assert_eq!(show_json(&archive, "acme/privacy-policy@latest")["commit"], commits[2]);

    // Provenance.
    assert_eq!(by_commit["source"], "track");
    assert_eq!(by_commit["source_urls"][0], server.url("/privacy"));
    assert_eq!(by_commit["fetched_at"], MAR5_MORNING);
    assert_eq!(by_commit["fetcher"], "http");
    assert_eq!(by_commit["canonicalizer"], CANONICALIZER_VERSION);
    assert_eq!(
        by_commit["snapshot"]["path"],
        "archive/snapshots/acme/privacy-policy.html"
    );
    assert_eq!(by_commit["snapshot"]["verified"], true);
    assert_eq!(by_commit["snapshot"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(
        by_commit["permalink"],
        format!(
            "https://github.com/acme/policy-archive/blob/{}/archive/versions/acme/privacy-policy.md",
            commits[1]
        )
    );
    assert_eq!(
        by_commit["commit_url"],
        format!("https://github.com/acme/policy-archive/commit/{}", commits[1])
    );

    // The human form: provenance lines, a blank line, the text.
    let (code, stdout, _) = archive.run(&["show", "acme/privacy-policy@2026-03-03"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("Cite as:"), "{stdout}");
    assert!(
        stdout.contains(&format!("In force:      {MAR1} until {MAR5_MORNING}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Source-URL:    {}\n", server.url("/privacy"))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Canonicalizer: {CANONICALIZER_VERSION} (clausewatch ")),
        "{stdout}"
    );
    assert!(stdout.contains(", verified)"), "{stdout}");
    assert!(
        stdout.ends_with("\n\n# Privacy\n\nWe keep data for 30 days.\n"),
        "{stdout}"
    );
    let (_, provenance_only, _) = archive.run(&["show", "acme/privacy-policy@latest", "--no-text"]);
    assert!(!provenance_only.contains("We keep data"), "{provenance_only}");
}

#[test]
fn references_that_name_no_version_say_why() {
    let (_server, archive, _) = dated();
    let (code, _, stderr) = archive.run(&["show", "acme/privacy-policy@2026-02-28"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "acme/privacy-policy has no version in force at the end of 2026-02-28: its first version was recorded on 2026-03-01T06:00:00Z"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = archive.run(&["show", "acme/privacy-policy@ffffffff"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no version of acme/privacy-policy has a commit id starting with ffffffff"),
        "{stderr}"
    );
    // A document neither declared nor recorded is named as unknown.
    let (code, _, stderr) = archive.run(&["show", "acme/terms@latest"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("acme declares or records no document \"terms\" (it has: privacy-policy)"),
        "{stderr}"
    );
    let (code, _, stderr) = archive.run(&["show", "acme/privacy-policy"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("write SERVICE/TYPE@DATE"), "{stderr}");
}
