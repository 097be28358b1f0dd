//! Every error the suite provokes, said once: the printer walks each error's chain of
//! causes, so a message that also formats its cause would print it twice
//! ("cannot write x: Not a directory (os error 20): Not a directory (os error 20)").

use std::collections::HashSet;

use crate::support::{TestArchive, TestServer, policy_page};

/// The segments of stderr, split at ": " and at line ends, that occur more than once.
/// The leading `error`/`warning` labels are not segments of a message.
fn repeated_segments(stderr: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut repeated = Vec::new();
    for line in stderr.lines() {
        for segment in line.trim().split(": ").map(str::trim) {
            if segment.is_empty() || matches!(segment, "error" | "warning") {
                continue;
            }
            if !seen.insert(segment.to_string()) {
                repeated.push(segment.to_string());
            }
        }
    }
    repeated
}

#[test]
fn the_splitter_finds_a_repeated_cause() {
    assert_eq!(
        repeated_segments("error: cannot write a/b: Not a directory (os error 20): Not a directory (os error 20)\n"),
        ["Not a directory (os error 20)"]
    );
    assert!(repeated_segments("error: cannot write a/b: Not a directory (os error 20)\n").is_empty());
}

/// A failing invocation: what to run, in which archive, and the exit code it must give.
struct Case {
    name: &'static str,
    archive: TestArchive,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    code: i32,
    /// Text stderr must contain, so the case provokes the error it is about.
    says: &'static str,
}

fn case(name: &'static str, archive: TestArchive, args: &[&str], code: i32, says: &'static str) -> Case {
    Case {
        name,
        archive,
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        code,
        says,
    }
}

/// An archive with one recorded document, acme/privacy-policy.
fn recorded(server: &TestServer) -> TestArchive {
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    archive
}

#[test]
fn every_error_path_says_each_cause_once() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page("<p>We keep data for 30 days.</p>", ""));

    let mut cases = vec![
        case(
            "an unknown flag",
            TestArchive::new(),
            &["track", "--no-such-flag"],
            2,
            "--no-such-flag",
        ),
        case(
            "a missing subcommand argument",
            TestArchive::new(),
            &["diff"],
            2,
            "required",
        ),
        case(
            "no archive",
            TestArchive::new(),
            &["--archive", "nowhere", "log"],
            2,
            "no archive at nowhere",
        ),
        case(
            "an unknown document",
            recorded(&server),
            &["log", "nope"],
            2,
            "no service \"nope\"",
        ),
        case(
            "an unknown type",
            recorded(&server),
            &["blame", "acme/nope"],
            2,
            "no document \"nope\"",
        ),
        case(
            "a malformed name",
            TestArchive::new(),
            &["feed", "Acme"],
            2,
            "is not SERVICE",
        ),
        case(
            "a malformed date",
            recorded(&server),
            &["log", "--since", "soon"],
            2,
            "is not a date",
        ),
        case(
            "an empty period",
            recorded(&server),
            &["report", "--since", "2026-03-01", "--until", "2026-02-01"],
            2,
            "--until must come after --since",
        ),
        case(
            "a bad reference",
            recorded(&server),
            &["show", "acme/privacy-policy@yesterday"],
            2,
            "is not a reference",
        ),
        case(
            "a reference before the first version",
            recorded(&server),
            &["show", "acme/privacy-policy@2020-01-01"],
            2,
            "no version in force",
        ),
        case(
            "an unknown provision",
            recorded(&server),
            &["compare", "nothing-like-it"],
            2,
            "no provision \"nothing-like-it\"",
        ),
        case(
            "a bad selector",
            TestArchive::new(),
            &["extract", "page.html", "--select", "main[[["],
            2,
            "not valid CSS at character 6",
        ),
        case(
            "a missing page",
            TestArchive::new(),
            &["extract", "absent.html"],
            2,
            "cannot read absent.html",
        ),
        case(
            "a site into a file",
            recorded(&server),
            &["site", "--out", "file/sub"],
            3,
            "cannot write file/sub",
        ),
        case(
            "an export into a file",
            recorded(&server),
            &["export", "--out", "file/sub.sqlite"],
            3,
            "file/",
        ),
        case(
            "an init under a file",
            TestArchive::new(),
            &["init", "file/sub"],
            3,
            "cannot create file/sub",
        ),
        case(
            "an import from no repository",
            TestArchive::new(),
            &["import", "ota-versions", "absent", "--service", "acme"],
            2,
            "absent",
        ),
        case(
            "a bad interval",
            TestArchive::new(),
            &["track", "--remind-after", "soon"],
            2,
            "is not an interval",
        ),
    ];

    let bad_declaration = TestArchive::new();
    bad_declaration.declare(
        "bad",
        "name = \"Bad\"\n[[documents]]\ntype = \"Terms\"\nurl = \"ftp://x\"\n",
    );
    cases.push(case(
        "a bad declaration",
        bad_declaration,
        &["track"],
        2,
        "invalid declarations",
    ));

    let bad_config = TestArchive::new();
    std::fs::write(bad_config.archive().join("clausewatch.toml"), "[fetch]\nunknown = 1\n").unwrap();
    cases.push(case(
        "a bad settings file",
        bad_config,
        &["track"],
        2,
        "clausewatch.toml:2",
    ));

    let mut bad_clock = case("a bad clock", TestArchive::new(), &["log"], 2, "CLAUSEWATCH_NOW");
    bad_clock.env.push(("CLAUSEWATCH_NOW", "tomorrow".into()));
    cases.push(bad_clock);

    // A status.json that is not JSON: track warns and starts afresh.
    let bad_status = recorded(&server);
    std::fs::write(bad_status.archive().join("status.json"), "{").unwrap();
    bad_status.git(&["add", "archive/status.json"]);
    bad_status.git(&["commit", "-q", "-m", "Break status.json"]);
    cases.push(case(
        "a broken status.json",
        bad_status,
        &["track"],
        0,
        "status.json is not valid",
    ));

    // A status.json too large to read (a blob a hostile repository committed there): it
    // is never loaded, and track starts afresh as for a broken one.
    let huge_status = recorded(&server);
    let huge = format!("{{\"schema\": 1{}}}", " ".repeat(16 << 20));
    std::fs::write(huge_status.archive().join("status.json"), huge).unwrap();
    huge_status.git(&["add", "archive/status.json"]);
    huge_status.git(&["commit", "-q", "-m", "A huge status.json"]);
    cases.push(case(
        "a status.json too large to read",
        huge_status,
        &["track"],
        0,
        "status.json holds 16777229 bytes, more than the 16777216 clausewatch reads; starting failure tracking afresh",
    ));

    for case in &cases {
        std::fs::write(case.archive.repo.join("file"), "a plain file").unwrap();
        std::fs::write(case.archive.repo.join("page.html"), policy_page("<p>Hello.</p>", "")).unwrap();
        let mut cmd = case
            .archive
            .cmd(&case.args.iter().map(String::as_str).collect::<Vec<_>>());
        for (key, value) in &case.env {
            cmd.env(key, value);
        }
        let out = cmd.output().expect("run clausewatch");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(case.code), "{}: {stderr}", case.name);
        assert!(stderr.contains(case.says), "{}: {stderr}", case.name);
        let repeated = repeated_segments(&stderr);
        assert!(
            repeated.is_empty(),
            "{}: {repeated:?} said twice in\n{stderr}",
            case.name
        );
    }
}
