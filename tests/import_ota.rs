//! `import ota-versions` and `import ota-snapshots` over repositories laid out like Open
//! Terms Archive's, built at test time from the real version and snapshot files of
//! `../shared/corpus/` (never copied into this repository).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{TestArchive, TestServer, corpus, git, policy_page};

/// One file version to commit into a fake OTA repository.
struct OtaCommit {
    /// `TikTok/Terms of Service.md`.
    path: String,
    source: PathBuf,
    date: String,
    subject: String,
}

/// `file -> (date, note)` from the corpus manifest; a version's note is OTA's subject.
fn manifest(corpus: &Path) -> HashMap<String, (String, String)> {
    std::fs::read_to_string(corpus.join("MANIFEST.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.len() >= 8).then(|| (cols[0].to_string(), (cols[6].to_string(), cols[7].to_string())))
        })
        .collect()
}

/// The first `n` versions of a corpus history, as commits of `<folder>/<name>.md`.
fn versions(corpus: &Path, history: &str, n: usize, target: &str) -> Vec<OtaCommit> {
    let manifest = manifest(corpus);
    let mut files: Vec<String> = std::fs::read_dir(corpus.join("versions").join(history))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
        .into_iter()
        .take(n)
        .map(|file| {
            let key = format!("versions/{history}/{file}");
            let (date, subject) = manifest[&key].clone();
            OtaCommit {
                path: target.to_string(),
                source: corpus.join(&key),
                date,
                subject,
            }
        })
        .collect()
}

/// A git repository with one commit per entry, in date order, dated like OTA's.
fn ota_repo(mut commits: Vec<OtaCommit>) -> (tempfile::TempDir, Vec<(String, OtaCommit)>) {
    commits.sort_by(|a, b| a.date.cmp(&b.date));
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let mut made = Vec::new();
    for commit in commits {
        let target = dir.path().join(&commit.path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&commit.source, &target).unwrap();
        let out = Command::new("git")
            .current_dir(dir.path())
            .env("GIT_AUTHOR_DATE", &commit.date)
            .env("GIT_COMMITTER_DATE", &commit.date)
            .args(["-c", "user.name=OTA-Bot", "-c", "user.email=bot@opentermsarchive.org"])
            .args(["add", "-A"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let out = Command::new("git")
            .current_dir(dir.path())
            .env("GIT_AUTHOR_DATE", &commit.date)
            .env("GIT_COMMITTER_DATE", &commit.date)
            .args(["-c", "user.name=OTA-Bot", "-c", "user.email=bot@opentermsarchive.org"])
            .args(["commit", "-q", "--allow-empty", "-m", &commit.subject])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let sha = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_string();
        made.push((sha, commit));
    }
    (dir, made)
}

/// Our versions of a document, oldest first: (commit, author date, change, OTA-Commit, source).
fn recorded(archive: &TestArchive, document: &str) -> Vec<(String, String, String, String, String)> {
    let log = archive.git(&[
        "log",
        "--reverse",
        "--format=%H|%aI|%(trailers:key=Change,valueonly,separator=)|%(trailers:key=OTA-Commit,valueonly,separator=)|%(trailers:key=Source,valueonly,separator=)",
        "--",
        &format!("archive/versions/{document}.md"),
    ]);
    log.lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('|').collect();
            (
                cols[0].to_string(),
                cols[1].replace("+00:00", "Z"),
                cols[2].to_string(),
                cols[3].to_string(),
                cols[4].to_string(),
            )
        })
        .collect()
}

#[test]
fn ota_versions_replay_history_with_dates_kinds_and_provenance() {
    let Some(corpus) = corpus() else { return };
    let mut commits = versions(&corpus, "tiktok__terms-of-service", 8, "TikTok/Terms of Service.md");
    commits.extend(versions(
        &corpus,
        "tiktok__privacy-policy",
        5,
        "TikTok/Privacy Policy.md",
    ));
    commits.extend(versions(
        &corpus,
        "facebook__terms-of-service",
        2,
        "Facebook/Terms of Service.md",
    ));
    let (repo, made) = ota_repo(commits);
    let archive = TestArchive::new();
    let repo_arg = repo.path().to_str().unwrap();

    let (code, stdout, stderr) = archive.run(&["import", "ota-versions", repo_arg, "--service", "TikTok"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("imported   tiktok/terms-of-service  "), "{stdout}");
    assert!(stdout.contains("imported   tiktok/privacy-policy  "), "{stdout}");
    assert!(!stdout.contains("facebook"), "{stdout}");
    // OTA's 2nd terms version is a broken 5 KB extraction (reverted by the 3rd): like a
    // fetch, it is not recorded as a version.
    assert!(
        stdout.contains("(Refilter TikTok Terms of Service): shrunk: the text shrank from"),
        "{stdout}"
    );

    let by_sha: HashMap<&str, &OtaCommit> = made.iter().map(|(sha, c)| (sha.as_str(), c)).collect();
    for (document, ota_path, total) in [
        ("tiktok/terms-of-service", "TikTok/Terms of Service.md", 8),
        ("tiktok/privacy-policy", "TikTok/Privacy Policy.md", 5),
    ] {
        let ours = recorded(&archive, document);
        assert!(ours.len() >= 3 && ours.len() <= total, "{document}: {ours:?}");
        assert_eq!(ours[0].2, "first", "{document}");
        let mut previous_date = String::new();
        for (commit, date, change, ota_commit, source) in &ours {
            assert_eq!(source, "ota-versions");
            let upstream = by_sha
                .get(ota_commit.as_str())
                .unwrap_or_else(|| panic!("{commit} names OTA commit {ota_commit}, which is not in the repository"));
            assert_eq!(upstream.path, ota_path);
            // Dated at OTA's commit, in order.
            assert_eq!(date, &upstream.date, "{document} {commit}");
            assert!(*date > previous_date, "{document}: dates go forward");
            previous_date = date.clone();
            // Refilters are re-extractions; the rest first, substantive or cosmetic.
            let refilter = upstream.subject.starts_with("Refilter") || upstream.subject.contains("technical");
            if change != "first" {
                assert_eq!(
                    change == "reextract",
                    refilter,
                    "{document} {}: {change}",
                    upstream.subject
                );
            }
            // The text is our canonical text of OTA's Markdown, and the Markdown is the snapshot.
            let (_, expected, _) = archive.run(&["extract", upstream.source.to_str().unwrap()]);
            assert_eq!(
                archive.git(&["show", &format!("{commit}:archive/versions/{document}.md")]),
                expected,
                "{document} {commit}"
            );
            assert_eq!(
                archive
                    .git(&["show", &format!("{commit}:archive/snapshots/{document}.md")])
                    .as_bytes(),
                std::fs::read(&upstream.source).unwrap(),
            );
        }
    }
    // One version per line; the service is named after its folder.
    let text = archive.read("versions/tiktok/terms-of-service.md");
    assert!(text.lines().all(|l| l.len() < 2_000), "sentences are split");
    let subjects = archive.subjects();
    assert!(
        subjects.contains(&"First record of TikTok Terms of Service".to_string())
            && subjects.contains(&"First record of TikTok Privacy Policy".to_string()),
        "{subjects:?}"
    );
    let (code, shown, _) = archive.run(&["show", "tiktok/privacy-policy@2022-07-12", "--no-text"]);
    assert_eq!(code, 0);
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("Source:") && l.ends_with(" ota-versions")),
        "{shown}"
    );
    assert!(shown.contains("OTA-Commit:"), "{shown}");

    // Idempotent: a second import records nothing.
    let before = archive.subjects().len();
    let (code, stdout, stderr) = archive.run(&["import", "ota-versions", repo_arg, "--service", "tiktok", "--json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for document in json["documents"].as_array().unwrap() {
        assert_eq!(document["recorded"], 0, "{document}");
        assert!(document["already_recorded"].as_u64().unwrap() >= 5, "{document}");
    }
    assert_eq!(archive.subjects().len(), before);

    // A rebuild from the stored Markdown changes nothing.
    archive.declare(
        "tiktok",
        "name = \"TikTok\"\n[[documents]]\ntype = \"terms-of-service\"\nurl = \"https://www.tiktok.com/legal/terms\"\n\
         [[documents]]\ntype = \"privacy-policy\"\nurl = \"https://www.tiktok.com/legal/privacy\"\n",
    );
    let (code, stdout, _) = archive.run(&["reextract"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.matches("unchanged").count(), 2, "{stdout}");
}

#[test]
fn an_import_never_goes_before_recorded_history() {
    let Some(corpus) = corpus() else { return };
    let (repo, _) = ota_repo(versions(
        &corpus,
        "tiktok__terms-of-service",
        6,
        "TikTok/Terms of Service.md",
    ));
    let repo_arg = repo.path().to_str().unwrap();
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("tiktok", "TikTok", &[("terms-of-service", &server.url("/terms"))]);
    server.page("/terms", &policy_page("<h1>Terms</h1><p>Be nice.</p>", ""));
    // Tracked once, in the middle of OTA's history (versions 3 and 4 are on 2022-09-20).
    let (code, _, stderr) = archive.run_at("2022-10-01T00:00:00Z", &["track"]);
    assert_eq!(code, 0, "{stderr}");
    let before = archive.git(&["rev-parse", "HEAD"]);

    let (code, stdout, _) = archive.run(&["import", "ota-versions", repo_arg, "--service", "TikTok"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("refused    tiktok/terms-of-service  tiktok/terms-of-service: OTA commit ")
            && stdout.contains("would go before the latest recorded version (2022-10-01T00:00:00Z)")
            && stdout.contains("pass --skip-older"),
        "{stdout}"
    );
    assert_eq!(archive.git(&["rev-parse", "HEAD"]), before, "nothing was recorded");

    // --skip-older: only the versions after October 1 (OTA's 5th and 6th).
    let (code, stdout, stderr) = archive.run(&[
        "import",
        "ota-versions",
        repo_arg,
        "--service",
        "TikTok",
        "--skip-older",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("4 older than the archive's latest version (skipped)"),
        "{stdout}"
    );
    let ours = recorded(&archive, "tiktok/terms-of-service");
    assert_eq!(ours[0].4, "", "the tracked version stays first");
    let dates: Vec<&str> = ours.iter().map(|o| o.1.as_str()).collect();
    assert_eq!(
        dates,
        ["2022-10-01T00:00:00Z", "2022-11-16T18:34:47Z", "2022-11-23T06:33:58Z"],
        "{ours:?}"
    );
    // The declaration names the service and gives the source URL.
    let urls = archive.git(&["log", "-1", "--format=%(trailers:key=Source-URL,valueonly)"]);
    assert_eq!(urls.trim(), server.url("/terms"));
    assert!(
        archive.subjects()[0].starts_with("TikTok Terms of Service: "),
        "{:?}",
        archive.subjects()
    );

    // Unknown services and types are named.
    let (code, _, stderr) = archive.run(&["import", "ota-versions", repo_arg, "--service", "Tik"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no folder for service \"Tik\"") && stderr.contains("similar: TikTok"),
        "{stderr}"
    );
    let (code, _, stderr) = archive.run(&[
        "import",
        "ota-versions",
        repo_arg,
        "--service",
        "TikTok",
        "--document",
        "privacy-policy",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("has no document of type \"privacy-policy\" (it has: terms-of-service)"),
        "{stderr}"
    );
}

#[test]
fn ota_snapshots_replay_through_our_canonicalizer() {
    let Some(corpus) = corpus() else { return };
    let html = |name: &str| corpus.join("html").join(name);
    let snapshot = |file: &str, date: &str, subject: &str| OtaCommit {
        path: "OpenAI/Privacy Policy.html".into(),
        source: html(file),
        date: date.into(),
        subject: subject.into(),
    };
    let wall_dir = tempfile::tempdir().unwrap();
    let wall = wall_dir.path().join("wall.html");
    std::fs::write(
        &wall,
        "<html><head><title>Just a moment...</title></head><body><div id=\"cf-challenge-running\">Checking your browser</div>\
         <script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1\"></script></body></html>",
    )
    .unwrap();
    let mut commits = vec![
        snapshot(
            "openai__privacy-policy__2023-10-16.html",
            "2023-10-16T12:30:08Z",
            "Start tracking OpenAI Privacy Policy",
        ),
        snapshot(
            "openai__privacy-policy__2023-10-17.html",
            "2023-10-17T00:30:11Z",
            "Record new snapshot of OpenAI Privacy Policy",
        ),
        OtaCommit {
            path: "OpenAI/Privacy Policy.html".into(),
            source: wall,
            date: "2023-11-01T00:00:00Z".into(),
            subject: "Record new snapshot of OpenAI Privacy Policy".into(),
        },
        snapshot(
            "openai__privacy-policy__2023-11-14.html",
            "2023-11-14T18:30:27Z",
            "Record new snapshot of OpenAI Privacy Policy",
        ),
        snapshot(
            "openai__privacy-policy__2023-12-15.html",
            "2023-12-15T18:30:30Z",
            "Record new snapshot of OpenAI Privacy Policy",
        ),
    ];
    commits.push(OtaCommit {
        path: "OpenAI/Terms of Service.html".into(),
        source: html("openai__terms-of-service__2023-11-14.html"),
        date: "2023-11-14T18:30:25Z".into(),
        subject: "Start tracking OpenAI Terms of Service".into(),
    });
    let (repo, _) = ota_repo(commits);
    let repo_arg = repo.path().to_str().unwrap();
    let archive = TestArchive::new();

    // Without our declaration there is nothing to canonicalize with.
    let (code, _, stderr) = archive.run(&["import", "ota-snapshots", repo_arg, "--service", "OpenAI"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("services/openai.toml does not exist"), "{stderr}");

    let declaration = corpus.join("declarations/openai.json");
    let (code, stdout, _) = archive.run(&["import", "ota-declarations", declaration.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    let (code, stdout, stderr) = archive.run(&["import", "ota-snapshots", repo_arg, "--service", "OpenAI"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Four real snapshots, one of them a markup-only change; and a bot wall.
    assert!(
        stdout.contains("imported   openai/privacy-policy  3 recorded, 1 unchanged, 1 skipped\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    skipped OTA commit ") && stdout.contains("bot-wall"),
        "{stdout}"
    );
    assert!(
        stdout.contains("imported   openai/terms-of-service  1 recorded\n"),
        "{stdout}"
    );
    let ours = recorded(&archive, "openai/privacy-policy");
    let dates: Vec<&str> = ours.iter().map(|o| o.1.as_str()).collect();
    assert_eq!(
        dates,
        ["2023-10-16T12:30:08Z", "2023-11-14T18:30:27Z", "2023-12-15T18:30:30Z"]
    );
    assert!(ours.iter().all(|o| o.4 == "ota-snapshots"));
    // The snapshot is the page, so a rebuild with the same declaration changes nothing.
    let (code, stdout, _) = archive.run(&["reextract", "--service", "openai/privacy-policy"]);
    assert_eq!(code, 0);
    assert_eq!(stdout, "unchanged  openai/privacy-policy\n");
    // And again: nothing new.
    let (code, stdout, _) = archive.run(&["import", "ota-snapshots", repo_arg, "--service", "openai"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("0 versions recorded"), "{stdout}");
}
