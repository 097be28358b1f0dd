//! `init` and `check`: creating archives and validating declarations.

use std::process::Command;

use crate::support::{TestArchive, git};

#[test]
fn init_creates_a_repository_and_the_default_archive() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("watch");
    let out = Command::new(env!("CARGO_BIN_EXE_clausewatch"))
        .env("CLAUSEWATCH_NOW", crate::support::NOW)
        .args(["init"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("service declarations"), "{stdout}");
    assert_eq!(git(&target, &["branch", "--show-current"]).trim(), "main");
    assert!(target.join("README.md").is_file());
    assert!(target.join("versions").is_dir() && target.join("snapshots").is_dir());
    let services = std::fs::read_dir(target.join("services")).unwrap().count();
    assert!(services >= 30, "{services} default services");
    assert_eq!(
        git(&target, &["log", "--format=%s"]).trim(),
        "Initialize the clausewatch archive"
    );
    assert_eq!(
        git(&target, &["status", "--porcelain"]),
        "",
        "everything created is committed"
    );

    // A second init changes nothing and says so.
    let out = Command::new(env!("CARGO_BIN_EXE_clausewatch"))
        .arg("init")
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to create"));
}

#[test]
fn init_inside_a_repository_uses_a_folder_of_it() {
    let archive = TestArchive::new();
    assert!(archive.archive().join("services").is_dir());
    assert_eq!(
        archive.git(&["rev-parse", "--show-toplevel"]).trim(),
        archive.repo.canonicalize().unwrap().to_str().unwrap()
    );
    assert!(archive.git(&["ls-files"]).contains("archive/services/.gitkeep"));
}

#[test]
fn the_embedded_default_archive_is_valid() {
    let archive = TestArchive::new();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a");
    let (code, stdout, stderr) = archive.run(&["init", "--no-commit", target.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("created an archive"));
    let (code, stdout, _) = archive.run(&["--archive", target.to_str().unwrap(), "check"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("all declarations are valid"), "{stdout}");
}

#[test]
fn check_names_file_line_and_fix() {
    let archive = TestArchive::new();
    archive.declare(
        "good",
        "name = \"Good\"\n[[documents]]\ntype = \"privacy-policy\"\nurl = \"https://example.com/p\"\n",
    );
    archive.declare(
        "bad",
        "name = \"Bad\"\n\n[[documents]]\ntype = \"Privacy Policy\"\nurl = \"ftp://example.com/p\"\nselect = [\"div[\"]\n",
    );
    archive.declare(
        "typo",
        "name = \"Typo\"\n[[documents]]\ntype = \"terms\"\nurl = \"https://example.com/t\"\nfetch = \"http\"\n",
    );
    let (code, stdout, _) = archive.run(&["check"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("bad.toml:4: document type \"Privacy Policy\" is not a slug: write type = \"privacy-policy\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("bad.toml:5: url \"ftp://example.com/p\" uses \"ftp\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("bad.toml:6: `select` selector \"div[\" is not valid CSS"),
        "{stdout}"
    );
    assert!(stdout.contains("typo.toml:5: unknown field `fetch`"), "{stdout}");
    assert!(stdout.contains("4 problems found"), "{stdout}");

    // track refuses to run on invalid declarations: a configuration error.
    let (code, _, stderr) = archive.run(&["track"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid declarations"), "{stderr}");
}

#[test]
fn commands_outside_an_archive_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_clausewatch"))
        .current_dir(dir.path())
        .arg("track")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `clausewatch init`"));
}

#[test]
fn unknown_service_filter_lists_the_known_ones() {
    let archive = TestArchive::new();
    archive.declare(
        "good",
        "name = \"Good\"\n[[documents]]\ntype = \"privacy-policy\"\nurl = \"https://example.com/p\"\n",
    );
    let (code, _, stderr) = archive.run(&["track", "--service", "nope"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no service \"nope\" is declared (known: good)"),
        "{stderr}"
    );
    let (code, _, stderr) = archive.run(&["track", "--service", "good/terms"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("good declares no document \"terms\" (it has: privacy-policy)"),
        "{stderr}"
    );
}

#[test]
fn check_fetch_reports_texts_that_move_between_loads() {
    use crate::support::{Response, TestServer, policy_page};
    let server = TestServer::start();
    server.page("/stable", &policy_page("<p>We keep data for 30 days.</p>", "nonce-a"));
    server.set(
        "/moving",
        vec![
            Response::html(&policy_page(
                "<p>We keep data.</p><p>Page generated at 10:00:01.</p>",
                "",
            )),
            Response::html(&policy_page(
                "<p>We keep data.</p><p>Page generated at 10:00:02.</p>",
                "",
            )),
        ],
    );
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/stable")),
            ("terms-of-service", &server.url("/moving")),
        ],
    );
    let (code, stdout, _) = archive.run(&["check", "--fetch"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("stable     acme/privacy-policy\n"), "{stdout}");
    assert!(
        stdout.contains(
            "unstable   acme/terms-of-service\n    first fetch only:  Page generated at 10:00:01.\n    second fetch only: Page generated at 10:00:02.\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 stable, 1 unstable, 0 drifted, 0 failed\n"),
        "{stdout}"
    );
    let (code, stdout, _) = archive.run(&["check", "--fetch", "acme/privacy-policy", "--json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json[0]["status"], "stable");
    assert_eq!(archive.subjects().len(), 1, "check records nothing");
}

#[test]
fn open_terms_archive_declarations_all_import_or_are_reported() {
    let Some(corpus) = crate::support::corpus() else { return };
    let archive = TestArchive::new();
    let source = corpus.join("declarations");
    let (code, stdout, stderr) = archive.run(&["import", "ota-declarations", source.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let files = std::fs::read_dir(&source).unwrap().count();
    let reported = stdout
        .lines()
        .filter(|l| l.starts_with("converted") || l.starts_with("skipped"))
        .count();
    assert_eq!(reported, files, "every file is converted or reported: {stdout}");
    assert!(stdout.contains("skipped    tiktok.pga.history.json:"), "{stdout}");
    assert!(
        stdout.contains("converted  tiktok.json -> services/tiktok.toml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skipped    tiktok.pga.json: services/tiktok.toml comes from tiktok.json"),
        "{stdout}"
    );
    let tiktok = archive.read("services/tiktok.toml");
    assert!(
        tiktok.contains("fetcher = \"browser\""),
        "executeClientScripts maps to the browser: {tiktok}"
    );
    // Whatever was imported is a valid declaration.
    let (code, stdout, _) = archive.run(&["check"]);
    assert_eq!(code, 0, "{stdout}");
    // A second import leaves existing files alone.
    let (_, again, _) = archive.run(&[
        "import",
        "ota-declarations",
        source.join("tiktok.json").to_str().unwrap(),
    ]);
    assert!(
        again.contains("services/tiktok.toml exists (--force overwrites it)"),
        "{again}"
    );
}

/// `check` judges selectors: a class name generated by a front-end build is a warning
/// with its file and line, and the run still succeeds.
#[test]
fn check_warns_about_generated_class_names() {
    let archive = TestArchive::new();
    archive.declare(
        "meta",
        "name = \"Meta\"\n\n[[documents]]\ntype = \"cookie-policy\"\nurl = \"https://example.com/cookies\"\nselect = [\".xg6iff7\"]\n\n[[documents]]\ntype = \"privacy-policy\"\nurl = \"https://example.com/privacy\"\nselect = [\"#mdc-main-content\"]\n",
    );
    let (code, stdout, stderr) = archive.run(&["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "warning    services/meta.toml:6  meta/cookie-policy  `xg6iff7` looks generated by a front-end build"
        ),
        "{stdout}"
    );
    assert!(
        !stdout.contains("meta/privacy-policy"),
        "a stable id is not flagged: {stdout}"
    );
    assert!(
        stdout.ends_with("1 service, 2 documents: all declarations are valid, 1 warning\n"),
        "{stdout}"
    );
}

/// `check --snapshots` re-reads the stored snapshot with today's declaration: the same
/// text, a text that would change, a selector that no longer matches, and a selector
/// that matches two separate parts of the page.
#[test]
fn check_snapshots_reports_drift_without_fetching() {
    let server = crate::support::TestServer::start();
    let archive = TestArchive::new();
    server.page(
        "/terms",
        "<html><body><main><p>You may use the service.</p><p>We may end your account.</p></main>\
         <aside class=\"note\">Read this too.</aside><div class=\"note\">And this.</div></body></html>",
    );
    let declare = |select: &str| {
        archive.declare(
            "acme",
            &format!(
                "name = \"Acme\"\n\n[[documents]]\ntype = \"terms-of-service\"\nurl = {:?}\nfetcher = \"http\"\nselect = [{select:?}]\n",
                server.url("/terms")
            ),
        )
    };
    declare("main");
    assert_eq!(archive.run(&["track", "--allow-private"]).0, 0);
    let head = archive.git(&["rev-parse", "HEAD"]);

    let (code, stdout, _) = archive.run(&["check", "--snapshots"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("same       acme/terms-of-service"), "{stdout}");

    declare("main p:first-child");
    let (code, stdout, _) = archive.run(&["check", "--snapshots"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("changed    acme/terms-of-service"), "{stdout}");
    assert!(
        stdout.contains("    recorded only: We may end your account."),
        "{stdout}"
    );

    declare("article");
    let (code, stdout, _) = archive.run(&["check", "--snapshots"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("failed     acme/terms-of-service  selector-no-match"),
        "{stdout}"
    );

    declare(".note");
    let (_, stdout, _) = archive.run(&["check", "--snapshots", "--json"]);
    let outcomes: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(outcomes[0]["status"], "changed");
    assert_eq!(outcomes[0]["problems"][0]["kind"], "disjoint-regions");
    assert_eq!(outcomes[0]["problems"][0]["regions"], 2);

    assert_eq!(archive.git(&["rev-parse", "HEAD"]), head, "nothing is recorded");
    assert_eq!(server.hits("/terms"), 1, "nothing is fetched");
}
