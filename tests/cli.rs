//! The command line itself: typed arguments, unknown names, and each command's options.

use crate::support::{TestArchive, TestServer, policy_page};

/// One recorded document (acme/privacy-policy), and one recorded then undeclared
/// (gone/terms), whose history can still be read.
fn archive_with_history() -> (TestServer, TestArchive) {
    let server = TestServer::start();
    server.page("/privacy", &policy_page("<p>We keep data for 30 days.</p>", ""));
    server.page("/terms", &policy_page("<p>Be kind to each other.</p>", ""));
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    archive.declare_simple("gone", "Gone", &[("terms", &server.url("/terms"))]);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    std::fs::remove_file(archive.archive().join("services/gone.toml")).unwrap();
    (server, archive)
}

#[test]
fn unknown_documents_are_usage_errors_that_list_the_known_ones() {
    let (_server, archive) = archive_with_history();
    for args in [
        &["log", "nope"][..],
        &["feed", "nope"],
        &["diff", "nope/x"],
        &["blame", "nope/x"],
        &["show", "nosuch/terms@latest"],
        &["provisions", "nope/x"],
        &["timeline", "nope/x"],
        &["report", "--since", "2026-01-01", "--document", "nope"],
        &["track", "--service", "nope"],
    ] {
        let (code, stdout, stderr) = archive.run(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{args:?} printed {stdout}");
        assert!(stderr.contains("no service \"no"), "{args:?}: {stderr}");
        assert!(stderr.contains("known: acme"), "{args:?}: {stderr}");
    }
    // A history command also knows what is recorded but no longer declared; `track`
    // fetches declarations only.
    let (_, _, stderr) = archive.run(&["log", "nope"]);
    assert!(stderr.contains("known: acme, gone)"), "{stderr}");
    let (_, _, stderr) = archive.run(&["track", "--service", "nope"]);
    assert!(stderr.contains("known: acme)"), "{stderr}");

    let (code, _, stderr) = archive.run(&["log", "acme/nope"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("acme declares or records no document \"nope\" (it has: privacy-policy)"),
        "{stderr}"
    );
    let (code, stdout, stderr) = archive.run(&["log", "gone/terms"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("gone/terms"), "{stdout}");
    let (code, stdout, stderr) = archive.run(&["show", "gone/terms@latest", "--no-text"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Cite as:"), "{stdout}");
}

#[test]
fn malformed_values_are_refused_by_the_parser() {
    let (_server, archive) = archive_with_history();
    for (args, says) in [
        (&["log", "TikTok"][..], "\"TikTok\" is not SERVICE or SERVICE/TYPE"),
        (&["log", "../acme"], "is not SERVICE or SERVICE/TYPE"),
        (&["diff", "acme"], "\"acme\" names a service, not a document"),
        (&["blame", "acme"], "names a service, not a document"),
        (&["log", "--since", "yesterday"], "\"yesterday\" is not a date"),
        (
            &["blame", "acme/privacy-policy", "--at", "soon"],
            "\"soon\" is not a date",
        ),
        (&["compare", "ai-training", "--at", "2026-13-01"], "is not a date"),
        (&["track", "--remind-after", "soon"], "\"soon\" is not an interval"),
        (&["show", "acme@latest"], "is not a reference"),
        (
            &["import", "wayback", "acme/privacy-policy", "--from", "19"],
            "\"19\" is not a year",
        ),
    ] {
        let (code, stdout, stderr) = archive.run(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

fn options(args: &[&str]) -> Vec<String> {
    let archive = TestArchive::new();
    let (code, stdout, stderr) = archive.run(args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    stdout
        .lines()
        .filter_map(|line| line.trim_start().split([' ', ',']).find(|w| w.starts_with("--")))
        .map(str::to_string)
        .collect()
}

#[test]
fn each_command_shows_only_its_own_options() {
    let fetching = [
        "--timeout",
        "--retries",
        "--retry-delay",
        "--max-body-mb",
        "--contact",
        "--allow-private",
    ];
    let pacing = ["--jobs", "--host-delay", "--browser-timeout"];
    let author = ["--author-name", "--author-email"];

    let track = options(&["track", "--help"]);
    for flag in fetching.iter().chain(&pacing).chain(&author) {
        assert!(track.iter().any(|o| o == flag), "track lacks {flag}: {track:?}");
    }
    let extract = options(&["extract", "--help"]);
    for flag in &fetching {
        assert!(extract.iter().any(|o| o == flag), "extract lacks {flag}: {extract:?}");
    }
    for flag in pacing.iter().chain(&author) {
        assert!(!extract.iter().any(|o| o == flag), "extract shows {flag}");
    }
    let check = options(&["check", "--help"]);
    assert!(check.iter().any(|o| o == "--allow-private"), "{check:?}");
    for flag in &author {
        assert!(!check.iter().any(|o| o == flag), "check shows {flag}");
    }
    for command in ["reextract", "import ota-versions"] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let shown = options(&args);
        assert!(shown.iter().any(|o| o == "--author-name"), "{command}: {shown:?}");
        assert!(
            !shown.iter().any(|o| o == "--allow-private"),
            "{command} shows --allow-private"
        );
    }
    for command in [
        "init", "log", "diff", "report", "feed", "blame", "show", "site", "export", "compare",
    ] {
        let shown = options(&[command, "--help"]);
        for flag in fetching.iter().chain(&pacing).chain(&author) {
            assert!(!shown.iter().any(|o| o == flag), "{command} shows {flag}: {shown:?}");
        }
    }
    let archive = TestArchive::new();
    let (_, report, _) = archive.run(&["report", "--help"]);
    assert!(
        report.contains("--format <FORMAT>") && report.contains("Markdown to paste into an article"),
        "{report}"
    );
}
