//! The archive's contents are untrusted (issue 15): a link committed anywhere under it
//! never has a write go through it, a detached HEAD or a user's uncommitted edit is
//! never committed over, and a failed write says what failed.

use std::path::Path;

use crate::support::{Response, TestArchive, TestServer, policy_page};

const V1: &str = "<h1>Privacy Policy</h1><p>We collect your name. We keep data for 30 days.</p>";
const V2: &str = "<h1>Privacy Policy</h1><p>We collect your name and address. We keep data for 30 days.</p>";

fn setup(server: &TestServer) -> TestArchive {
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    archive.git(&["add", "-A"]);
    archive.git(&["commit", "-q", "-m", "Declare acme"]);
    archive
}

/// Commits a symbolic link at `inside` (archive-relative) pointing at `target`,
/// replacing whatever was there.
fn commit_link(archive: &TestArchive, inside: &str, target: &Path) {
    let path = archive.archive().join(inside);
    if path.is_dir() && !path.is_symlink() {
        archive.git(&["rm", "-r", "-q", &format!("archive/{inside}")]);
        let _ = std::fs::remove_dir_all(&path);
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, &path).unwrap();
    archive.git(&["add", "-A"]);
    archive.git(&["commit", "-q", "-m", &format!("Link {inside}")]);
}

fn head(archive: &TestArchive) -> String {
    archive.git(&["rev-parse", "HEAD"])
}

/// Nothing written, nothing committed, and the checkout matches HEAD.
fn assert_untouched(archive: &TestArchive, head_before: &str, outside: &Path, what: &str) {
    assert_eq!(head(archive), head_before, "{what}: nothing committed");
    assert_eq!(
        archive.git(&["status", "--porcelain", "--untracked-files=all"]),
        "",
        "{what}: the index and working tree match HEAD"
    );
    let written: Vec<_> = std::fs::read_dir(outside).unwrap().map(|e| e.unwrap().path()).collect();
    let expected: Vec<_> = written
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "victim.txt"))
        .cloned()
        .collect();
    assert_eq!(written, expected, "{what}: nothing written outside");
    if let Some(victim) = expected.first() {
        assert_eq!(std::fs::read_to_string(victim).unwrap(), "keep me\n", "{what}");
    }
}

#[test]
fn a_committed_link_to_a_folder_outside_refuses_the_run_before_anything_is_written() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, ""));
    for folder in ["versions", "snapshots", "versions/acme", "snapshots/acme"] {
        let outside = tempfile::tempdir().unwrap();
        let archive = setup(&server);
        commit_link(&archive, folder, outside.path());
        let before = head(&archive);
        let (code, stdout, stderr) = archive.run(&["track"]);
        assert_eq!(code, 3, "{folder}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!(
                "error: archive/{folder} is a symbolic link; clausewatch never writes through a link inside the repository"
            )),
            "{folder}: {stderr}"
        );
        assert!(
            stderr.contains("replace it with a regular folder, commit that, and run again"),
            "{stderr}"
        );
        assert_untouched(&archive, &before, outside.path(), folder);
    }
}

#[test]
fn a_committed_link_at_a_version_or_status_path_is_refused_never_replaced() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, ""));
    server.set("/gone", vec![Response::status(404, "<p>Not found</p>")]);
    for file in [
        "versions/acme/privacy-policy.md",
        "snapshots/acme/privacy-policy.html",
        "status.json",
    ] {
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim.txt");
        std::fs::write(&victim, "keep me\n").unwrap();
        let archive = TestArchive::new();
        // A failing document too, so the run has a status.json to write.
        archive.declare_simple(
            "acme",
            "Acme",
            &[
                ("privacy-policy", &server.url("/privacy")),
                ("terms", &server.url("/gone")),
            ],
        );
        commit_link(&archive, file, &victim);
        let before = head(&archive);
        let (code, stdout, stderr) = archive.run(&["track"]);
        assert_eq!(code, 3, "{file}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("error: archive/{file} is a symbolic link;")),
            "{file}: {stderr}"
        );
        assert!(stderr.contains("replace it with a regular file"), "{stderr}");
        assert!(
            archive.archive().join(file).is_symlink(),
            "{file}: the link is left alone"
        );
        assert_untouched(&archive, &before, outside.path(), file);
    }
}

#[test]
fn a_committed_link_at_a_temporary_name_is_never_written_through() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, "nonce"));
    server.set("/gone", vec![Response::status(404, "<p>Not found</p>")]);
    for temp in [
        "versions/acme/.privacy-policy.md.clausewatch-tmp",
        "snapshots/acme/.privacy-policy.html.clausewatch-tmp",
        ".status.json.clausewatch-tmp",
    ] {
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim.txt");
        std::fs::write(&victim, "keep me\n").unwrap();
        let archive = TestArchive::new();
        archive.declare_simple(
            "acme",
            "Acme",
            &[
                ("privacy-policy", &server.url("/privacy")),
                ("terms", &server.url("/gone")),
            ],
        );
        commit_link(&archive, temp, &victim);
        let (code, stdout, stderr) = archive.run(&["track"]);
        // The link is stepped around: the run records as usual.
        assert_eq!(code, 1, "{temp}: {stdout}{stderr}");
        assert!(
            stdout.contains("recorded   acme/privacy-policy  First record of Acme Privacy Policy"),
            "{temp}: {stdout}"
        );
        assert!(stdout.contains("failed     acme/terms  not-found"), "{stdout}");
        assert!(stdout.contains("recorded in status.json"), "{stdout}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n", "{temp}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1, "{temp}");
        for file in [
            "versions/acme/privacy-policy.md",
            "snapshots/acme/privacy-policy.html",
            "status.json",
        ] {
            let meta = std::fs::symlink_metadata(archive.archive().join(file)).unwrap();
            assert!(meta.is_file(), "{temp}: {file} is a regular file");
        }
        assert_eq!(
            archive.read("snapshots/acme/privacy-policy.html"),
            policy_page(V1, "nonce")
        );
        assert!(
            archive.archive().join(temp).is_symlink(),
            "{temp}: the link is left alone"
        );
        assert_eq!(
            archive.git(&["status", "--porcelain", "--untracked-files=all"]),
            "",
            "{temp}: no temporary file left behind, index and tree match HEAD"
        );
    }
}

#[test]
fn a_detached_head_is_refused_before_fetching() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, ""));
    let archive = setup(&server);
    archive.git(&["checkout", "-q", "--detach"]);
    let before = head(&archive);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: HEAD is detached (at {}): clausewatch commits versions on a branch; check one out (`git switch main`) and run again",
            &before.trim()[..12]
        )),
        "{stderr}"
    );
    assert_eq!(server.hits("/privacy"), 0, "nothing fetched");
    assert_eq!(head(&archive), before);
    assert!(!archive.archive().join("versions/acme").exists());
}

#[test]
fn an_uncommitted_edit_is_kept_and_its_document_refused_the_others_recorded() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, ""));
    server.page("/terms", &policy_page("<h1>Terms</h1><p>Be nice. Or else.</p>", ""));
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/privacy")),
            ("terms", &server.url("/terms")),
        ],
    );
    assert_eq!(archive.run(&["track"]).0, 0);

    let edited = format!("{}My own note.\n", archive.read("versions/acme/privacy-policy.md"));
    std::fs::write(archive.archive().join("versions/acme/privacy-policy.md"), &edited).unwrap();
    server.page("/privacy", &policy_page(V2, ""));
    server.page(
        "/terms",
        &policy_page("<h1>Terms</h1><p>Be nice. Or else we leave.</p>", ""),
    );
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "failed     acme/privacy-policy  uncommitted-changes: archive/versions/acme/privacy-policy.md has uncommitted changes: \
             commit or discard them, and run again (the new version was not recorded)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("recorded   acme/terms  Acme Terms: 1 sentence changed"),
        "{stdout}"
    );
    assert_eq!(
        archive.read("versions/acme/privacy-policy.md"),
        edited,
        "the edit is kept"
    );
    assert_eq!(archive.subjects()[1], "Acme Terms: 1 sentence changed");

    // A staged edit is the user's too.
    archive.git(&["add", "archive/versions/acme/privacy-policy.md"]);
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("uncommitted-changes: archive/versions/acme/privacy-policy.md"),
        "{stdout}"
    );

    // Discarded: the new version is recorded.
    archive.git(&[
        "checkout",
        "-q",
        "HEAD",
        "--",
        "archive/versions/acme/privacy-policy.md",
    ]);
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("recorded   acme/privacy-policy  Acme Privacy Policy"),
        "{stdout}"
    );
}

#[test]
fn a_failed_write_says_which_file_and_why_and_leaves_nothing_behind() {
    // A file size limit stands in for a full disk (no tmpfs without root): the
    // snapshot is larger than the limit, its compressed blob is not.
    let server = TestServer::start();
    let filler = "<!-- padding -->".repeat(30_000);
    server.page("/privacy", &policy_page(V1, &filler));
    let archive = setup(&server);
    let before = head(&archive);
    let cmd = archive.cmd(&["track"]);
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut limited = std::process::Command::new("bash");
    limited
        .arg("-c")
        .arg("ulimit -f 1024 && trap '' XFSZ && exec \"$0\" \"$@\"")
        .arg(program)
        .args(args)
        .current_dir(&archive.repo)
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))));
    let out = limited.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("error: cannot write archive/snapshots/acme/privacy-policy.html: File too large (os error 27)"),
        "{stderr}"
    );
    assert_eq!(head(&archive), before);
    assert!(!archive.archive().join("snapshots/acme/privacy-policy.html").exists());
    let leftovers: Vec<_> = std::fs::read_dir(archive.archive().join("snapshots/acme"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "no partial file left: {leftovers:?}");
}

#[test]
fn a_declared_name_with_a_terminal_escape_is_refused_with_its_line() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, ""));
    let archive = TestArchive::new();
    archive.declare(
        "evil",
        &format!(
            "# An evil name\nname = \"Evil \\u001b[31mCorp\\u001b[0m\"\n\n[[documents]]\ntype = \"privacy-policy\"\nurl = {:?}\n",
            server.url("/privacy")
        ),
    );
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "services/evil.toml:2: `name` contains the control character U+001B (Evil \\u{1b}[31mCorp\\u{1b}[0m): \
             terminal escapes and invisible characters are not allowed in a declaration; write it as plain text"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}') && !stdout.contains('\u{1b}'), "{stderr:?}");
    assert_eq!(server.hits("/privacy"), 0);
    assert_eq!(archive.subjects().len(), 1, "nothing committed");
}

#[test]
fn an_escape_already_in_history_is_shown_escaped_by_log_and_show() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, ""));
    let archive = setup(&server);
    assert_eq!(archive.run(&["track"]).0, 0);
    // A commit written by an older clausewatch or by hand, with escapes in its subject.
    {
        let repo = git2::Repository::open(&archive.repo).unwrap();
        let commit = repo.head().unwrap().peel_to_commit().unwrap();
        let message = commit.message().unwrap().replacen(
            "First record of Acme",
            "First record of \u{1b}[2J\u{1b}[31mEvil\u{1b}[0m Acme\u{7}",
            1,
        );
        assert!(message.contains('\u{1b}'));
        commit
            .amend(Some("HEAD"), None, None, None, Some(&message), None)
            .unwrap();
    }
    assert!(archive.git(&["log", "-1", "--format=%s"]).contains('\u{1b}'));

    let escaped = "First record of \\u{1b}[2J\\u{1b}[31mEvil\\u{1b}[0m Acme\\u{7} Privacy Policy";
    for args in [
        &["log"][..],
        &["show", "acme/privacy-policy@latest", "--no-text"][..],
        &["report", "--since", "2026-03-01", "--until", "2026-03-02"][..],
    ] {
        let (code, stdout, stderr) = archive.run(args);
        assert_eq!(code, 0, "{args:?}: {stdout}{stderr}");
        if args[0] == "report" {
            // Markdown escapes the brackets and backslashes in turn.
            assert!(
                stdout.contains("First record of \\\\u{1b}\\[2J\\\\u{1b}\\[31mEvil"),
                "{stdout}"
            );
        } else {
            assert!(stdout.contains(escaped), "{args:?}: {stdout}");
        }
        assert!(
            !stdout.contains('\u{1b}') && !stdout.contains('\u{7}') && !stderr.contains('\u{1b}'),
            "{args:?}: {stdout:?}"
        );
    }
}
