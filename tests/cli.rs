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
    for args in [
        &["report", "--since", "2026-01-01", "--provision", "nope"][..],
        &["feed", "--provision", "nope"],
    ] {
        let (code, stdout, stderr) = archive.run(args);
        assert_eq!((code, stdout.as_str()), (2, ""), "{args:?}: {stderr}");
        assert!(
            stderr.contains("no provision \"nope\" in the taxonomy (known: ai-training)"),
            "{args:?}: {stderr}"
        );
    }
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
        .filter(|line| line.trim_start().starts_with('-'))
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

/// docs/cli-reference.md is generated from the clap definitions; this fails while it is
/// stale, and rewrites it with UPDATE_CLI_REFERENCE=1.
#[test]
fn cli_reference_is_current() {
    use clausewatch::cli::reference;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli-reference.md");
    let generated = reference::markdown();
    if std::env::var_os("UPDATE_CLI_REFERENCE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "docs/cli-reference.md is stale: regenerate it with `{}`",
        reference::REGENERATE
    );
}

#[test]
fn the_reference_has_every_command_and_option_of_help() {
    let generated = clausewatch::cli::reference::markdown();
    let archive = TestArchive::new();
    for command in [
        "init",
        "track",
        "check",
        "extract",
        "log",
        "diff",
        "report",
        "feed",
        "blame",
        "reextract",
        "provisions",
        "timeline",
        "compare",
        "site",
        "show",
        "export",
        "completions",
        "man",
    ] {
        assert!(generated.contains(&format!("## `clausewatch {command}`")), "{command}");
        // Every option `--help` shows is in the reference, in the command's section.
        let section = generated
            .split(&format!("## `clausewatch {command}`\n"))
            .nth(1)
            .unwrap()
            .split("\n## `")
            .next()
            .unwrap();
        let (_, help, _) = archive.run(&[command, "--help"]);
        for flag in help
            .lines()
            .filter(|line| line.trim_start().starts_with('-'))
            .filter_map(|line| line.trim_start().split([' ', ',']).find(|w| w.starts_with("--")))
            .map(|f| f.trim_end_matches("..."))
            .filter(|f| !matches!(*f, "--help" | "--archive" | "--verbose"))
        {
            assert!(
                section.contains(&format!("`{flag}")) || section.contains(&format!(", {flag}")),
                "{command} {flag}"
            );
        }
    }
    assert!(generated.contains("## `clausewatch import ota-versions`"));
    assert!(generated.contains("env: `CLAUSEWATCH_ARCHIVE`"));
}

#[test]
fn completions_and_the_man_page_come_from_the_definitions() {
    let archive = TestArchive::new();
    for (shell, marker) in [
        ("bash", "_clausewatch()"),
        ("zsh", "#compdef clausewatch"),
        ("fish", "complete -c clausewatch"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[clausewatch]"),
    ] {
        let (code, script, stderr) = archive.run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        assert!(script.contains(marker), "{shell}: {script}");
        for command in ["track", "blame", "show", "ota-versions"] {
            assert!(script.contains(command), "{shell} completion lacks {command}");
        }
    }
    let (_, bash, _) = archive.run(&["completions", "bash"]);
    assert!(bash.contains("--remind-after"), "options are completed too");
    let (code, _, stderr) = archive.run(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{stderr}");

    let (code, page, stderr) = archive.run(&["man"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(page.contains(".TH clausewatch 1"), "{page}");
    for command in ["track", "blame", "report", "completions"] {
        assert!(
            page.contains(&format!("clausewatch\\-{command}(1)")),
            "{command}: {page}"
        );
    }
    let (code, page, stderr) = archive.run(&["man", "track"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(page.contains(".TH clausewatch-track 1  \"clausewatch "), "{page}");
    assert!(
        page.contains("\\-\\-service") && page.contains("\\-\\-allow\\-private"),
        "{page}"
    );
    let (code, page, _) = archive.run(&["man", "import", "wayback"]);
    assert_eq!(code, 0);
    assert!(page.contains(".TH clausewatch-import-wayback 1"), "{page}");
    let (code, _, stderr) = archive.run(&["man", "nothing"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no command \"nothing\""), "{stderr}");
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_clausewatch"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("CLAUSEWATCH_NOW", crate::support::NOW)
        .args(args)
        .output()
        .expect("run clausewatch");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `clausewatch init DIR && cd DIR && clausewatch check` used to say "no archive at
/// archive: run clausewatch init", and following that advice nested DIR/archive.
#[test]
fn the_archive_is_found_from_inside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run_in(tmp.path(), &["init", "policies"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("created an archive in policies"), "{stdout}");
    let dir = tmp.path().join("policies");

    let (code, stdout, stderr) = run_in(&dir, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("all declarations are valid"), "{stdout}");
    let (code, stdout, _) = run_in(&dir.join("services"), &["log", "tiktok"]);
    assert_eq!(code, 0);
    assert_eq!(stdout, "no versions recorded for tiktok\n");
    let (code, stdout, _) = run_in(&dir, &["init"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains(". already has an archive; nothing to create"),
        "{stdout}"
    );
    assert!(!dir.join("archive").exists(), "no archive inside the archive");

    // Named explicitly, a wrong folder is an error that points at the right one.
    let (code, _, stderr) = run_in(&dir.join("services"), &["--archive", "archive", "check"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no archive at archive; this folder is inside the archive ..: pass --archive .."),
        "{stderr}"
    );
    let (code, _, stderr) = run_in(tmp.path(), &["--archive", "elsewhere", "check"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no archive at elsewhere: run `clausewatch init elsewhere` to create one"),
        "{stderr}"
    );
    // From the folder above, `archive` is not there and nothing encloses it.
    let (code, _, stderr) = run_in(tmp.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("run `clausewatch init` to create one"), "{stderr}");
}
