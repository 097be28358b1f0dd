//! Reliability (issue 8): the fault matrix, two runs at once, and kills mid-run.
//!
//! Every fault meets one document of a run whose two other documents are healthy: the
//! run must finish, record the healthy ones, record nothing for the faulty one, report
//! the right category and message, and exit 1 (0 where the fault is recovered from).

use std::time::{Duration, Instant};

use crate::support::server::refused_url;
use crate::support::{Fault, Response, TestArchive, TestServer, policy_page};

const HEALTHY_V1: &str = "<h1>Privacy Policy</h1><p>We collect your name. We keep data for 30 days.</p>";
const HEALTHY_V2: &str = "<h1>Privacy Policy</h1><p>We collect your name and address. We keep data for 30 days.</p>";
const TERMS_V1: &str = "<h1>Terms</h1><p>You must be 13 or older. You may not misuse the service.</p>";
const TERMS_V2: &str = "<h1>Terms</h1><p>You must be 16 or older. You may not misuse the service.</p>";

/// What the faulty document of a case must come to.
enum Expect {
    /// Reported failed with this category and a message containing each fragment.
    Failed(&'static str, &'static [&'static str]),
    /// Recorded after all (a fault that is recovered from), with this text in the version.
    Recorded(&'static str),
}

struct Case {
    name: &'static str,
    /// What the faulty path serves in the run under test.
    responses: fn() -> Vec<Response>,
    /// A page recorded by a first, clean run before the fault (for faults that are only
    /// faults against an earlier version: a vanished selector, a shrunk text).
    before: Option<fn() -> String>,
    /// `select` of the faulty document.
    select: Option<&'static str>,
    /// Points the faulty document somewhere else than the server (connection refused).
    url: Option<fn() -> String>,
    expect: Expect,
}

fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1 text"))
        .collect()
}

const LATIN1_PAGE: &str = "<html><head><title>Politique</title></head><body><main>\
                           <p>Nous protégeons vos données personnelles. Déclaration à l'été.</p></main></body></html>";

fn long_page() -> String {
    let body: String = (1..=30)
        .map(|i| format!("<p>Clause number {i} applies to every user of the service.</p>"))
        .collect();
    policy_page(&format!("<div id=\"policy\">{body}</div>"), "")
}

fn cases() -> Vec<Case> {
    let ok = |name, responses: fn() -> Vec<Response>, expect| Case {
        name,
        responses,
        before: None,
        select: None,
        url: None,
        expect,
    };
    vec![
        ok(
            "404",
            || vec![Response::status(404, "<h1>Not Found</h1>")],
            Expect::Failed("not-found", &["404"]),
        ),
        ok(
            "410",
            || vec![Response::status(410, "<h1>Gone</h1>")],
            Expect::Failed("gone", &["410"]),
        ),
        ok(
            "403-challenge",
            || {
                vec![Response::status(
                    403,
                    "<html><head><title>Just a moment...</title></head><body>\
                     <script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1\"></script>\
                     Checking your browser before accessing the site.</body></html>",
                )]
            },
            Expect::Failed("bot-wall", &["Cloudflare challenge"]),
        ),
        ok(
            "429-retry-after",
            || vec![Response::status(429, "slow down").header("Retry-After", "1")],
            Expect::Failed("rate-limited", &["429"]),
        ),
        ok(
            "500-then-success",
            || {
                vec![
                    Response::status(500, "oops"),
                    Response::html(&policy_page("<p>Recovered after a retry.</p>", "")),
                ]
            },
            Expect::Recorded("Recovered after a retry.\n"),
        ),
        ok(
            "503-forever",
            || vec![Response::status(503, "down")],
            Expect::Failed("server-error", &["503"]),
        ),
        Case {
            url: Some(refused_url),
            ..ok("connection-refused", Vec::new, Expect::Failed("connection", &[]))
        },
        ok(
            "reset-mid-body",
            || vec![Response::html(&long_page()).fault(Fault::ResetMidBody)],
            Expect::Failed("connection", &[]),
        ),
        ok(
            "never-answers",
            || vec![Response::html("").fault(Fault::NeverAnswer)],
            Expect::Failed("timeout", &[]),
        ),
        ok(
            "slow-drip",
            || {
                vec![Response::html(&long_page()).fault(Fault::SlowDrip {
                    chunk: 20,
                    every: Duration::from_millis(100),
                })]
            },
            Expect::Failed("timeout", &[]),
        ),
        ok(
            "over-size-cap",
            || vec![Response::html(&policy_page(&"<p>Big clause.</p>".repeat(100_000), ""))],
            Expect::Failed("too-large", &["larger than 1048576 bytes"]),
        ),
        ok(
            "gzip-bomb",
            || {
                vec![Response::html("").fault(Fault::GzipBomb {
                    decompressed: 3 * 1024 * 1024 / 2,
                })]
            },
            Expect::Failed("too-large", &["larger than 1048576 bytes"]),
        ),
        ok(
            "redirect-loop",
            || vec![Response::redirect(302, "/faulty")],
            Expect::Failed("redirect", &["redirect loop"]),
        ),
        ok(
            "redirect-to-ftp",
            || vec![Response::redirect(301, "ftp://example.com/terms")],
            Expect::Failed("redirect", &["ftp"]),
        ),
        ok(
            "redirect-to-file",
            || vec![Response::redirect(302, "file:///etc/passwd")],
            Expect::Failed("redirect", &["redirect to a file: URL"]),
        ),
        ok(
            "redirect-to-data",
            || vec![Response::redirect(302, "data:text/html,<p>Not the policy.</p>")],
            Expect::Failed("redirect", &["redirect to a data: URL"]),
        ),
        ok(
            "latin1-declared",
            || vec![Response::new(200, latin1(LATIN1_PAGE)).header("Content-Type", "text/html; charset=iso-8859-1")],
            Expect::Recorded("Nous protégeons vos données personnelles.\nDéclaration à l'été.\n"),
        ),
        ok(
            "utf16le-declared-without-bom",
            || {
                let bytes: Vec<u8> = LATIN1_PAGE.encode_utf16().flat_map(u16::to_le_bytes).collect();
                vec![Response::new(200, bytes).header("Content-Type", "text/html; charset=utf-16le")]
            },
            Expect::Recorded("Nous protégeons vos données personnelles.\nDéclaration à l'été.\n"),
        ),
        ok(
            "latin1-undeclared",
            || vec![Response::new(200, latin1(LATIN1_PAGE)).header("Content-Type", "text/html")],
            Expect::Recorded("Nous protégeons vos données personnelles.\nDéclaration à l'été.\n"),
        ),
        ok(
            "invalid-utf8",
            || {
                let mut body = b"<html><body><main><p>Valid start. ".to_vec();
                body.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1]);
                body.extend_from_slice(b" end.</p></main></body></html>");
                vec![Response::new(200, body).header("Content-Type", "text/html; charset=utf-8")]
            },
            // Decoded as a browser shows it, each bad sequence a U+FFFD: still the document.
            Expect::Recorded("Valid start. \u{fffd}"),
        ),
        ok(
            "binary-as-html",
            || {
                let garbage: Vec<u8> = (0..4096u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect();
                vec![Response::new(200, garbage).header("Content-Type", "text/html")]
            },
            Expect::Failed("unsupported-content", &[]),
        ),
        ok(
            "empty-200",
            || vec![Response::new(200, "").header("Content-Type", "text/html")],
            Expect::Failed("empty", &[]),
        ),
        Case {
            before: Some(long_page),
            select: Some("#policy"),
            ..ok(
                "selector-vanished",
                || {
                    vec![Response::html(&policy_page(
                        "<div id=\"moved\"><p>Elsewhere now.</p></div>",
                        "",
                    ))]
                },
                Expect::Failed("selector-no-match", &["#policy"]),
            )
        },
        Case {
            before: Some(long_page),
            ..ok(
                "truncated-to-a-tenth",
                || {
                    let body: String = (1..=3)
                        .map(|i| format!("<p>Clause number {i} applies to every user of the service.</p>"))
                        .collect();
                    vec![Response::html(&policy_page(
                        &format!("<div id=\"policy\">{body}</div>"),
                        "",
                    ))]
                },
                Expect::Failed("shrunk", &["shrank"]),
            )
        },
    ]
}

const FLAGS: &[&str] = &[
    "track",
    "--json",
    "--retries",
    "1",
    "--retry-delay",
    "0.05",
    "--timeout",
    "1",
    "--max-body-mb",
    "1",
];

/// Runs one case on its own server and archive; `Err` says what went wrong.
fn run_case(case: &Case) -> Result<(), String> {
    let server = TestServer::start();
    let faulty_url = case.url.map_or_else(|| server.url("/faulty"), |url| url());
    let select = case.select.map(|s| format!("select = {s:?}\n")).unwrap_or_default();
    let archive = TestArchive::new();
    archive.declare(
        "matrix",
        &format!(
            "name = \"Matrix\"\n\
             [[documents]]\ntype = \"privacy-policy\"\nurl = {:?}\nfetcher = \"http\"\n\
             [[documents]]\ntype = \"terms-of-service\"\nurl = {:?}\nfetcher = \"http\"\n\
             [[documents]]\ntype = \"faulty\"\nurl = {faulty_url:?}\nfetcher = \"http\"\n{select}",
            server.url("/privacy"),
            server.url("/terms"),
        ),
    );
    server.page("/privacy", &policy_page(HEALTHY_V1, ""));
    server.page("/terms", &policy_page(TERMS_V1, ""));
    let mut faulty_before = None;
    if let Some(before) = case.before {
        server.page("/faulty", &before());
        let (code, stdout, stderr) = archive.run(FLAGS);
        if code != 0 {
            return Err(format!("the clean first run exited {code}: {stdout}{stderr}"));
        }
        faulty_before = Some(archive.read("versions/matrix/faulty.md"));
        // The healthy documents change too, so the run under test has something to record.
        server.page("/privacy", &policy_page(HEALTHY_V2, ""));
        server.page("/terms", &policy_page(TERMS_V2, ""));
    }
    server.set("/faulty", (case.responses)());
    let commits_before = archive.subjects().len();

    let (code, stdout, stderr) = archive.run(FLAGS);
    let json: serde_json::Value =
        serde_json::from_str(&stdout).map_err(|e| format!("no JSON summary ({e}): {stdout}{stderr}"))?;
    let doc = |name: &str| {
        json["documents"]
            .as_array()
            .and_then(|docs| docs.iter().find(|d| d["document"] == name))
            .cloned()
            .ok_or_else(|| format!("{name} missing from {json}"))
    };
    for healthy in ["privacy-policy", "terms-of-service"] {
        if doc(healthy)?["status"] != "recorded" {
            return Err(format!("healthy {healthy} was not recorded: {json}"));
        }
    }
    let faulty = doc("faulty")?;
    let versions = archive.git(&["ls-files", "archive/versions/matrix/"]);
    let expected_code = match &case.expect {
        Expect::Failed(category, fragments) => {
            if faulty["status"] != "failed" || faulty["category"] != *category {
                return Err(format!("expected failed/{category}, got {faulty}"));
            }
            let message = faulty["message"].as_str().unwrap_or_default();
            if message.is_empty() {
                return Err(format!("no message: {faulty}"));
            }
            if let Some(missing) = fragments.iter().find(|f| !message.contains(*f)) {
                return Err(format!("message lacks {missing:?}: {message}"));
            }
            // Nothing recorded for it: no new version file, or the old one untouched.
            match &faulty_before {
                None if versions.contains("faulty") => {
                    return Err(format!("a faulty version was recorded: {versions}"));
                }
                Some(before) if archive.read("versions/matrix/faulty.md") != *before => {
                    return Err("the faulty document's version changed".into());
                }
                _ => {}
            }
            let touched = archive.git(&[
                "log",
                "--format=",
                "--name-only",
                &format!("HEAD~{}..HEAD", archive.subjects().len() - commits_before),
            ]);
            if touched.contains("faulty") {
                return Err(format!("a commit touched the faulty document: {touched}"));
            }
            1
        }
        Expect::Recorded(text) => {
            if faulty["status"] != "recorded" {
                return Err(format!("expected recorded, got {faulty}"));
            }
            let version = archive.read("versions/matrix/faulty.md");
            if !version.contains(text) {
                return Err(format!("version lacks {text:?}:\n{version}"));
            }
            0
        }
    };
    if code != expected_code {
        return Err(format!("exit code {code}, expected {expected_code}: {stderr}"));
    }
    // Version commits only: a failing document also gets a `status:` commit (status.json).
    let versions = |subjects: Vec<String>| subjects.into_iter().filter(|s| !s.starts_with("status:")).count();
    let status_commits = archive.subjects().iter().filter(|s| s.starts_with("status:")).count();
    if status_commits != usize::from(expected_code != 0) {
        return Err(format!(
            "expected a status commit only for a failure: {:?}",
            archive.subjects()
        ));
    }
    if versions(archive.subjects()) != commits_before + 2 + usize::from(expected_code == 0) {
        return Err(format!("unexpected commits: {:?}", archive.subjects()));
    }
    Ok(())
}

/// The whole matrix, each case on its own server and archive, all at once.
#[test]
fn fault_matrix_healthy_documents_are_recorded_faulty_ones_never() {
    let started = Instant::now();
    let cases = cases();
    let results: Vec<(&str, Result<(), String>, Duration)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| {
                scope.spawn(move || {
                    let t = Instant::now();
                    (case.name, run_case(case), t.elapsed())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("case thread")).collect()
    });
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(name, result, took)| result.as_ref().err().map(|e| format!("{name} ({took:?}): {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "every fault is bounded: {:?}",
        started.elapsed()
    );
}

fn three_documents(server: &TestServer, delay: Duration) -> TestArchive {
    let archive = TestArchive::new();
    let mut documents = Vec::new();
    for (i, doc) in ["privacy-policy", "terms-of-service", "cookie-policy"]
        .into_iter()
        .enumerate()
    {
        let path = format!("/{doc}");
        let body = policy_page(
            &format!("<h1>Policy {i}</h1><p>Clause {i} applies. Another clause {i} applies.</p>"),
            "",
        );
        server.set(&path, vec![Response::html(&body).fault(Fault::Delay(delay))]);
        documents.push((doc, server.url(&path)));
    }
    let documents: Vec<(&str, &str)> = documents.iter().map(|(d, u)| (*d, u.as_str())).collect();
    archive.declare_simple("acme", "Acme", &documents);
    archive
}

/// Two runs started together: one records, the other is refused; nothing is lost,
/// doubled or interleaved, and a third run has nothing left to record.
#[test]
fn two_runs_started_at_once_one_records_the_other_is_refused() {
    let server = TestServer::start();
    let archive = three_documents(&server, Duration::from_millis(500));
    let commits_before = archive.subjects().len();
    let spawn = || {
        archive
            .cmd(&["track", "--jobs", "1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn track")
    };
    let (a, b) = (spawn(), spawn());
    let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut codes: Vec<i32> = outputs.iter().map(|o| o.status.code().unwrap_or(-1)).collect();
    codes.sort_unstable();
    assert_eq!(codes, [0, 3], "{outputs:?}");
    let refused = outputs.iter().find(|o| o.status.code() == Some(3)).unwrap();
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("another clausewatch run holds the archive lock"),
        "{refused:?}"
    );
    assert_eq!(archive.git(&["fsck", "--no-dangling", "--full"]), "");
    let subjects = archive.subjects();
    assert_eq!(subjects.len(), commits_before + 3, "{subjects:?}");
    // One commit per document, each touching exactly that document's text and snapshot.
    let mut documents: Vec<String> = (0..3)
        .map(|i| {
            let touched = archive.git(&["show", "--format=", "--name-only", &format!("HEAD~{i}")]);
            let stems: Vec<&str> = touched
                .lines()
                .map(|t| t.rsplit('/').next().unwrap().split('.').next().unwrap())
                .collect();
            assert!(stems.len() == 2 && stems[0] == stems[1], "{touched}");
            stems[0].to_string()
        })
        .collect();
    documents.sort();
    assert_eq!(documents, ["cookie-policy", "privacy-policy", "terms-of-service"]);
    let mut recorded: Vec<String> = archive
        .git(&["ls-files", "archive/versions/acme/"])
        .lines()
        .map(String::from)
        .collect();
    recorded.sort();
    assert_eq!(
        recorded,
        [
            "archive/versions/acme/cookie-policy.md",
            "archive/versions/acme/privacy-policy.md",
            "archive/versions/acme/terms-of-service.md"
        ]
    );
    assert_eq!(
        archive.git(&["status", "--porcelain", "--", "archive/versions", "archive/snapshots"]),
        "",
        "index and tree match HEAD"
    );

    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("0 recorded, 3 unchanged, 0 failed"), "{stdout}");
    assert_eq!(archive.subjects().len(), commits_before + 3);
}

/// A small in-suite version of `scripts/crash-loop`: runs SIGKILLed at several moments
/// leave a sound repository, never a lock, and the archive converges to what an
/// uninterrupted run records.
#[test]
fn runs_killed_mid_way_leave_a_sound_archive_that_converges() {
    let server = TestServer::start();
    let archive = three_documents(&server, Duration::from_millis(150));
    let started = Instant::now();
    for (round, kill_after_ms) in [30u64, 120, 200, 350, 500].into_iter().enumerate() {
        if round == 3 {
            // New texts halfway, so later kills can land while versions are committed.
            for doc in ["privacy-policy", "terms-of-service", "cookie-policy"] {
                let body = policy_page(
                    &format!("<h1>{doc}</h1><p>Revised {doc} clause applies. Another applies.</p>"),
                    "",
                );
                server.set(
                    &format!("/{doc}"),
                    vec![Response::html(&body).fault(Fault::Delay(Duration::from_millis(150)))],
                );
            }
        }
        let mut child = archive
            .cmd(&["track", "--jobs", "1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        assert_eq!(archive.git(&["fsck", "--no-dangling", "--full"]), "", "round {round}");
        assert_eq!(archive.git(&["cat-file", "-t", "HEAD"]).trim(), "commit");
        let tree = archive.git(&[
            "ls-tree",
            "-r",
            "--name-only",
            "HEAD",
            "archive/versions",
            "archive/snapshots",
        ]);
        let versions = tree.lines().filter(|l| l.ends_with(".md")).count();
        let snapshots = tree.lines().filter(|l| l.ends_with(".html")).count();
        assert_eq!(versions, snapshots, "every version has its snapshot in HEAD: {tree}");
    }
    // Not blocked by a lock; converges to an uninterrupted run's texts.
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let clean = TestArchive::new();
    clean.declare(
        "acme",
        &std::fs::read_to_string(archive.archive().join("services/acme.toml")).unwrap(),
    );
    assert_eq!(clean.run(&["track"]).0, 0);
    // Files are written before the branch moves, so a kill leaves at most an uncommitted
    // new text, which the next run records: the checkout ends up matching HEAD.
    assert_eq!(
        archive.git(&[
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--",
            "archive/versions",
            "archive/snapshots"
        ]),
        "",
        "the index and working tree match HEAD after the next run"
    );
    for doc in ["privacy-policy", "terms-of-service", "cookie-policy"] {
        assert_eq!(
            archive.read(&format!("versions/acme/{doc}.md")),
            clean.read(&format!("versions/acme/{doc}.md")),
            "{doc}"
        );
        let spec = format!("HEAD:archive/versions/acme/{doc}.md");
        assert_eq!(archive.git(&["show", &spec]), clean.git(&["show", &spec]), "{doc}");
    }
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}
