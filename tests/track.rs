//! `clausewatch track` against a real HTTP server on 127.0.0.1.

use clausewatch::canon::CANONICALIZER_VERSION;

use crate::support::{Fault, NOW, Response, Revalidation, TestArchive, TestServer, policy_page};

const V1: &str = "<h1>Privacy Policy</h1><p>We collect your name. We keep data for 30 days.</p>\
                  <ul><li>We share data with U.S. partners, e.g. payment providers.</li></ul>";
const V2: &str = "<h1>Privacy Policy</h1><p>We collect your name and e-mail address. We keep data for 30 days.</p>\
                  <ul><li>We share data with U.S. partners, e.g. payment providers.</li></ul>\
                  <p>We may use your content to train our AI models.</p>";

fn setup(server: &TestServer) -> TestArchive {
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    archive
}

#[test]
fn records_first_version_nothing_on_noise_then_a_change() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, "nonce-1"));
    let archive = setup(&server);

    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("recorded   acme/privacy-policy  First record of Acme Privacy Policy"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 recorded, 0 unchanged, 0 failed (1 document in "),
        "{stdout}"
    );
    assert_eq!(
        archive.read("versions/acme/privacy-policy.md"),
        "# Privacy Policy\n\
         \n\
         We collect your name.\n\
         We keep data for 30 days.\n\
         \n\
         - We share data with U.S. partners, e.g. payment providers.\n"
    );
    assert_eq!(
        archive.read("snapshots/acme/privacy-policy.html"),
        policy_page(V1, "nonce-1")
    );

    // The page's chrome changes on every load; the text does not: no commit.
    server.page("/privacy", &policy_page(V1, "nonce-2"));
    let commits_before = archive.subjects().len();
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("unchanged  acme/privacy-policy"), "{stdout}");
    assert_eq!(archive.subjects().len(), commits_before);
    assert_eq!(
        archive.read("snapshots/acme/privacy-policy.html"),
        policy_page(V1, "nonce-1"),
        "snapshot moves only with its version"
    );

    server.page("/privacy", &policy_page(V2, "nonce-3"));
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        archive.subjects()[0],
        "Acme Privacy Policy: 1 sentence added, 1 changed"
    );
    let message = archive.git(&["log", "-1", "--format=%B"]);
    let sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(policy_page(V2, "nonce-3").as_bytes()))
    };
    // Which tagger named the provisions: the rules here (no weights), at the version of
    // this archive's taxonomy.
    let taxonomy = std::fs::read_to_string(archive.archive().join("provisions.toml")).unwrap();
    let tagger = clausewatch::provision::Taxonomy::parse(&taxonomy, "provisions.toml")
        .unwrap()
        .tagger()
        .to_string();
    assert!(tagger.starts_with("rules/"), "{tagger}");
    assert_eq!(
        message.trim_end(),
        format!(
            "Acme Privacy Policy: 1 sentence added, 1 changed\n\
             \n\
             Provisions touched: ai-training\n\
             \n\
             Provisions changed:\n\
             - ai-training: added (grants)\n\
             \n\
             Service: acme\n\
             Document: privacy-policy\n\
             Source-URL: {}\n\
             Fetched-At: {NOW}\n\
             Snapshot-SHA256: {sha}\n\
             Fetcher: http\n\
             Tagger: {tagger}\n\
             Change: substantive\n\
             Provisions: ai-training\n\
             Provisions-Changed: ai-training added grants\n\
             Canonicalizer: {CANONICALIZER_VERSION}\n\
             Clausewatch-Version: {}",
            server.url("/privacy"),
            env!("CARGO_PKG_VERSION")
        )
    );
    // Each version commit touches exactly its text and its snapshot.
    let touched = archive.git(&["show", "--format=", "--name-only", "HEAD"]);
    assert_eq!(
        touched,
        "archive/snapshots/acme/privacy-policy.html\narchive/versions/acme/privacy-policy.md\n"
    );
    // Trailers are real git trailers; the author date is the fetch time.
    let trailer = archive.git(&["log", "-1", "--format=%(trailers:key=Source-URL,valueonly)"]);
    assert_eq!(trailer.trim(), server.url("/privacy"));
    assert_eq!(
        archive.git(&["log", "-1", "--format=%aI"]).trim(),
        "2026-03-02T00:00:00Z"
    );
    // Sentence-level history: the diff names whole sentences.
    let diff = archive.git(&["log", "-1", "-p", "--format=", "--", "archive/versions/"]);
    assert!(
        diff.contains("-We collect your name.\n+We collect your name and e-mail address.\n"),
        "{diff}"
    );
    assert!(
        diff.contains("+We may use your content to train our AI models.\n"),
        "{diff}"
    );
    // The working tree and index match the commit.
    assert_eq!(
        archive.git(&["status", "--porcelain", "--", "archive/versions", "archive/snapshots"]),
        ""
    );
}

#[test]
fn identical_runs_give_identical_commits() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, "x"));
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let archive = setup(&server);
            assert_eq!(archive.run(&["track"]).0, 0);
            archive.git(&["log", "-1", "--format=%H"])
        })
        .collect();
    assert_eq!(ids[0], ids[1], "the injected clock makes commit ids reproducible");
}

#[test]
fn cosmetic_changes_are_labelled() {
    let server = TestServer::start();
    server.page(
        "/privacy",
        &policy_page("<p>We \"may\" share data - sometimes.</p>", ""),
    );
    let archive = setup(&server);
    assert_eq!(archive.run(&["track"]).0, 0);
    server.page("/privacy", &policy_page("<p>We “may” share DATA — sometimes.</p>", ""));
    assert_eq!(archive.run(&["track"]).0, 0);
    assert_eq!(
        archive.subjects()[0],
        "Acme Privacy Policy: cosmetic changes in 1 sentence"
    );
    assert!(
        archive
            .git(&["log", "-1", "--format=%B"])
            .contains("\nChange: cosmetic\n")
    );
}

#[test]
fn failures_are_reported_and_never_recorded() {
    let server = TestServer::start();
    server.page("/ok", &policy_page(V1, ""));
    server.set("/missing", vec![Response::status(404, "<p>Not found</p>")]);
    server.set(
        "/flaky",
        vec![Response::status(500, "oops"), Response::html(&policy_page(V2, ""))],
    );
    server.set("/down", vec![Response::status(503, "down")]);
    server.page("/noselect", &policy_page(V1, ""));
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/ok")),
            ("terms-of-service", &server.url("/missing")),
        ],
    );
    archive.declare_simple("flaky", "Flaky", &[("privacy-policy", &server.url("/flaky"))]);
    archive.declare_simple("down", "Down", &[("privacy-policy", &server.url("/down"))]);
    archive.declare(
        "picky",
        &format!(
            "name = \"Picky\"\n[[documents]]\ntype = \"terms-of-service\"\nurl = \"{}\"\nselect = \"#policy\"\n",
            server.url("/noselect")
        ),
    );

    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 1, "some documents failed: {stdout}");
    assert!(
        stdout.contains("failed     acme/terms-of-service  not-found:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failed     down/privacy-policy  server-error:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failed     picky/terms-of-service  selector-no-match: no element matches select #policy"),
        "{stdout}"
    );
    assert!(
        stdout.contains("recorded   flaky/privacy-policy"),
        "a 500 then a success is recovered by retry: {stdout}"
    );
    assert!(stdout.contains("2 recorded, 0 unchanged, 3 failed"), "{stdout}");
    assert_eq!(server.hits("/down"), 3, "one try and two retries");
    let files = archive.git(&["ls-files", "archive/versions/*.md"]);
    assert_eq!(
        files,
        "archive/versions/acme/privacy-policy.md\narchive/versions/flaky/privacy-policy.md\n"
    );

    let (code, stdout, _) = archive.run(&["track", "--json", "--service", "acme"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON summary");
    let docs = json["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["document"], "privacy-policy");
    assert_eq!(docs[0]["status"], "unchanged");
    assert_eq!(docs[1]["status"], "failed");
    assert_eq!(docs[1]["category"], "not-found");
    // Where the time went: both documents were fetched, one unchanged, nothing committed.
    let timings = &json["timings"];
    let seconds = |key: &str| {
        timings[key]
            .as_f64()
            .unwrap_or_else(|| panic!("timings.{key}: {timings}"))
    };
    assert!(seconds("wall_s") > 0.0 && seconds("fetch_s") > 0.0, "{timings}");
    assert!(seconds("fetch_s") < 10.0 * seconds("wall_s"), "{timings}");
    assert!(seconds("commit_s") < 0.01, "nothing to commit: {timings}");
    assert!(
        seconds("canonicalize_s") >= 0.0 && seconds("compare_s") >= 0.0,
        "{timings}"
    );
}

#[test]
fn accept_shrink_can_name_one_document_and_a_lost_copy_needs_no_flag() {
    let server = TestServer::start();
    let clauses = |range: std::ops::Range<usize>| -> String {
        range
            .map(|i| format!("<p>Clause number {i} applies to every user of the service.</p>"))
            .collect()
    };
    // Terms: the upcoming text shown above the current one, then only the current one.
    let current = clauses(1..21);
    let upcoming = clauses(1..19) + "<p>Clause number 99 is new in the upcoming terms.</p>";
    server.page(
        "/terms",
        &policy_page(
            &format!("<h2>Upcoming terms</h2>{upcoming}<h2>Current terms</h2>{current}"),
            "",
        ),
    );
    server.page("/privacy", &policy_page(&clauses(1..21), ""));
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/privacy")),
            ("terms-of-service", &server.url("/terms")),
        ],
    );
    assert_eq!(archive.run(&["track"]).0, 0);
    server.page("/terms", &policy_page(&format!("<h2>Current terms</h2>{current}"), ""));
    // The privacy policy is truncated: its beginning stays, the rest is gone.
    server.page("/privacy", &policy_page(&clauses(1..4), ""));
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("shrunk: the text shrank from") && stdout.contains("--accept-shrink=acme/privacy-policy"),
        "{stdout}"
    );
    assert!(
        archive
            .subjects()
            .iter()
            .any(|s| s.starts_with("Acme Terms of Service: ") && s.contains("removed")),
        "the terms lost their second copy: a version, no flag needed: {:?}",
        archive.subjects()
    );
    // Naming another document accepts nothing here; naming this one records it.
    let (code, stdout, _) = archive.run(&["track", "--accept-shrink=acme/terms-of-service"]);
    assert_eq!(code, 1, "{stdout}");
    let (code, stdout, _) = archive.run(&["track", "--accept-shrink=acme/privacy-policy"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        archive
            .subjects()
            .iter()
            .any(|s| s == "Acme Privacy Policy: 17 sentences removed"),
        "{:?}",
        archive.subjects()
    );
}

#[test]
fn a_text_that_shrank_by_half_needs_accept_shrink() {
    let server = TestServer::start();
    let long: String = (1..=20)
        .map(|i| format!("<p>Clause number {i} applies to every user.</p>"))
        .collect();
    server.page("/privacy", &policy_page(&long, ""));
    let archive = setup(&server);
    assert_eq!(archive.run(&["track"]).0, 0);
    server.page(
        "/privacy",
        &policy_page(
            "<p>Clause number 1 applies to every user.</p><p>Clause number 2 applies.</p>",
            "",
        ),
    );
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("shrunk: the text shrank from"), "{stdout}");
    assert_eq!(
        archive.subjects(),
        [
            "status: 1 failing (1 started)",
            "First record of Acme Privacy Policy",
            "Initialize the clausewatch archive"
        ],
        "no version, only the failure's state"
    );
    let (code, stdout, _) = archive.run(&["track", "--accept-shrink"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        archive.subjects()[..2],
        [
            "status: none failing, 1 recovered",
            "Acme Privacy Policy: 18 sentences removed, 1 changed"
        ]
    );
}

#[test]
fn combined_documents_join_parts_in_order() {
    let server = TestServer::start();
    server.page("/part-b", &policy_page("<p>Second part.</p>", ""));
    server.page(
        "/part-a",
        &policy_page("<div id=x><p>First part.</p></div><p>Not selected.</p>", ""),
    );
    let archive = TestArchive::new();
    archive.declare(
        "acme",
        &format!(
            "name = \"Acme\"\n[[documents]]\ntype = \"terms-of-service\"\n\
             [[documents.combine]]\nurl = \"{}\"\nselect = \"#x\"\n\
             [[documents.combine]]\nurl = \"{}\"\n",
            server.url("/part-a"),
            server.url("/part-b")
        ),
    );
    assert_eq!(archive.run(&["track"]).0, 0);
    assert_eq!(
        archive.read("versions/acme/terms-of-service.md"),
        "First part.\n\nSecond part.\n"
    );
    let urls = archive.git(&["log", "-1", "--format=%(trailers:key=Source-URL,valueonly)"]);
    assert_eq!(
        urls.trim(),
        format!("{}\n{}", server.url("/part-a"), server.url("/part-b"))
    );
}

#[test]
fn users_uncommitted_work_is_left_alone() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, ""));
    let archive = setup(&server);
    std::fs::write(archive.repo.join("notes.txt"), "draft\n").unwrap();
    std::fs::write(archive.repo.join("staged.txt"), "staged\n").unwrap();
    archive.git(&["add", "staged.txt"]);
    let status_before = archive.git(&["status", "--porcelain"]);

    assert_eq!(archive.run(&["track"]).0, 0);
    assert_eq!(
        archive
            .git(&["show", "--format=", "--name-only", "HEAD"])
            .lines()
            .count(),
        2
    );
    let status_after = archive.git(&["status", "--porcelain"]);
    assert_eq!(
        status_after, status_before,
        "staged and unstaged work survive, nothing else shows"
    );
    assert_eq!(archive.git(&["diff", "--cached", "--name-only"]), "staged.txt\n");
}

#[test]
fn a_second_run_on_the_same_archive_is_refused() {
    let server = TestServer::start();
    server.set(
        "/privacy",
        vec![Response::html(&policy_page(V1, "")).fault(Fault::Delay(std::time::Duration::from_secs(3)))],
    );
    let archive = setup(&server);
    let mut first = archive
        .cmd(&["track"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first run has taken the lock and is waiting on the server.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.hits("/privacy") == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (code, _, stderr) = archive.run(&["track"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("another clausewatch run holds the archive lock"),
        "{stderr}"
    );
    assert!(first.wait().unwrap().success());
}

#[test]
fn sends_a_user_agent_and_accept_language() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, ""));
    let archive = setup(&server);
    let (code, _, _) = archive.run(&["track", "--contact", "ops@example.org"]);
    assert_eq!(code, 0);
    let request = &server.requests("/privacy")[0];
    let ua = request.header("user-agent").unwrap();
    assert!(ua.starts_with("clausewatch/") && ua.contains("ops@example.org"), "{ua}");
    assert!(request.header("accept-language").is_some());
}

#[test]
fn private_addresses_need_an_opt_in() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, ""));
    let archive = setup(&server);
    let out = archive
        .cmd(&["track"])
        .env_remove("CLAUSEWATCH_ALLOW_PRIVATE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("private-address:") && stdout.contains("--allow-private"),
        "{stdout}"
    );
    assert_eq!(server.hits("/privacy"), 0, "nothing was sent");
}

#[test]
fn oversized_and_bomb_bodies_are_refused() {
    let server = TestServer::start();
    server.page("/big", &policy_page(&"<p>Big clause.</p>".repeat(200_000), ""));
    server.set(
        "/bomb",
        vec![Response::html("").fault(Fault::GzipBomb {
            decompressed: 3 * 1024 * 1024,
        })],
    );
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/big")),
            ("terms-of-service", &server.url("/bomb")),
        ],
    );
    let (code, stdout, _) = archive.run(&["track", "--max-body-mb", "2"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("acme/privacy-policy  too-large"), "{stdout}");
    assert!(stdout.contains("acme/terms-of-service  too-large"), "{stdout}");
}

#[test]
fn challenge_and_soft_404_pages_are_never_versions() {
    let challenge = "<html><head><title>Just a moment...</title></head><body>\
                     <script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1\"></script>\
                     Checking your browser before accessing the site.</body></html>";
    let server = TestServer::start();
    server.page("/challenge", challenge);
    server.set("/denied", vec![Response::status(403, challenge)]);
    server.page(
        "/gone",
        "<html><head><title>Page not found</title></head><body><h1>Sorry</h1></body></html>",
    );
    server.page("/ok", &policy_page(V1, ""));
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/challenge")),
            ("terms-of-service", &server.url("/denied")),
            ("cookie-policy", &server.url("/gone")),
            ("community-guidelines", &server.url("/ok")),
        ],
    );
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("acme/privacy-policy  bot-wall:") && stdout.contains("Cloudflare challenge"),
        "{stdout}"
    );
    assert!(stdout.contains("acme/terms-of-service  bot-wall:"), "{stdout}");
    assert!(stdout.contains("acme/cookie-policy  not-found:"), "{stdout}");
    assert!(stdout.contains("recorded   acme/community-guidelines"), "{stdout}");
    assert_eq!(server.hits("/denied"), 1, "a challenge is not retried");
    assert_eq!(
        archive.git(&["ls-files", "archive/versions/*.md"]),
        "archive/versions/acme/community-guidelines.md\n"
    );
}

#[test]
fn a_redirect_to_the_home_page_is_not_recorded_a_move_within_the_site_is() {
    let server = TestServer::start();
    // A home page long enough to pass for a document by its size.
    let home: String = (0..40)
        .map(|i| format!("<p>Story {i}: our team shipped a new feature for people who build things together.</p>"))
        .collect();
    server.page("/", &policy_page(&format!("<h1>Welcome to Acme</h1>{home}"), ""));
    server.set("/privacy", vec![Response::redirect(301, "/")]);
    server.set("/terms", vec![Response::redirect(302, "/legal/terms")]);
    server.page("/legal/terms", &policy_page(V1, ""));
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/privacy")),
            ("terms", &server.url("/terms")),
        ],
    );
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "acme/privacy-policy  not-found: {} was redirected to the site's home page ({}), not the document",
            server.url("/privacy"),
            server.url("/")
        )),
        "{stdout}"
    );
    assert_eq!(
        archive.git(&["ls-files", "archive/versions/acme"]),
        "archive/versions/acme/terms.md\n",
        "the moved terms are recorded, the home page is not"
    );
}

#[test]
fn transport_faults_get_their_categories() {
    use std::time::Duration;
    let server = TestServer::start();
    server.set("/loop-a", vec![Response::redirect(302, "/loop-b")]);
    server.set("/loop-b", vec![Response::redirect(302, "/loop-a")]);
    server.set("/ftp", vec![Response::redirect(301, "ftp://example.com/terms")]);
    server.set(
        "/reset",
        vec![Response::html(&policy_page(V1, "")).fault(Fault::ResetMidBody)],
    );
    server.set("/silent", vec![Response::html("").fault(Fault::NeverAnswer)]);
    server.set(
        "/drip",
        vec![Response::html(&policy_page(V1, "")).fault(Fault::SlowDrip {
            chunk: 10,
            every: Duration::from_millis(200),
        })],
    );
    server.set(
        "/busy",
        vec![
            Response::status(429, "slow down").header("Retry-After", "1"),
            Response::html(&policy_page(V2, "")),
        ],
    );
    let refused = crate::support::server::refused_url();
    let archive = TestArchive::new();
    archive.declare_simple(
        "faults",
        "Faults",
        &[
            ("loop", &server.url("/loop-a")),
            ("ftp", &server.url("/ftp")),
            ("reset", &server.url("/reset")),
            ("silent", &server.url("/silent")),
            ("drip", &server.url("/drip")),
            ("busy", &server.url("/busy")),
            ("refused", &refused),
        ],
    );
    let started = std::time::Instant::now();
    let (code, stdout, _) = archive.run(&["track", "--timeout", "1", "--retries", "1"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("faults/loop  redirect:") && stdout.contains("redirect loop"),
        "{stdout}"
    );
    assert!(
        stdout.contains("faults/ftp  redirect:") && stdout.contains("ftp"),
        "{stdout}"
    );
    assert!(stdout.contains("faults/reset  connection:"), "{stdout}");
    assert!(stdout.contains("faults/silent  timeout:"), "{stdout}");
    assert!(stdout.contains("faults/drip  timeout:"), "{stdout}");
    assert!(stdout.contains("faults/refused  connection:"), "{stdout}");
    assert!(
        stdout.contains("recorded   faults/busy"),
        "429 with Retry-After is waited out: {stdout}"
    );
    assert_eq!(server.hits("/busy"), 2);
    assert!(started.elapsed() < Duration::from_secs(30), "every fault is bounded");
}

/// Every failure category a server can provoke, each on its own document of one run.
#[test]
fn each_failure_category_is_reported() {
    let server = TestServer::start();
    server.set("/gone", vec![Response::status(410, "<p>Gone</p>")]);
    server.set("/forbidden", vec![Response::status(403, "<p>No.</p>")]);
    server.set("/limited", vec![Response::status(429, "slow down")]);
    server.set(
        "/binary",
        vec![Response::new(200, vec![0u8, 159, 146, 150, 0, 1, 2, 3]).header("Content-Type", "text/html")],
    );
    server.set(
        "/empty",
        vec![Response::new(200, "").header("Content-Type", "text/html")],
    );
    server.page("/ok", &policy_page(V1, ""));
    // A "TLS" server that answers the handshake with plain text.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tls = format!("https://127.0.0.1:{}/terms", plain.local_addr().unwrap().port());
    std::thread::spawn(move || {
        use std::io::Write as _;
        for mut stream in plain.incoming().flatten() {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("gone", &server.url("/gone")),
            ("forbidden", &server.url("/forbidden")),
            ("limited", &server.url("/limited")),
            ("binary", &server.url("/binary")),
            ("empty", &server.url("/empty")),
            ("tls", &tls),
            // Answered at once by the resolver (RFC 6761): no query leaves the machine.
            ("dns", "http://policy.invalid/privacy"),
            ("ok", &server.url("/ok")),
        ],
    );
    let (code, stdout, _) = archive.run(&["track", "--retries", "0", "--json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let category = |doc: &str| -> String {
        let d = json["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["document"] == doc)
            .unwrap();
        d["category"]
            .as_str()
            .unwrap_or(d["status"].as_str().unwrap())
            .to_string()
    };
    assert_eq!(category("gone"), "gone");
    assert_eq!(category("forbidden"), "forbidden");
    assert_eq!(category("limited"), "rate-limited");
    assert_eq!(category("binary"), "unsupported-content");
    assert_eq!(category("empty"), "empty");
    assert_eq!(category("tls"), "tls");
    assert_eq!(category("dns"), "dns");
    assert_eq!(category("ok"), "recorded");
}

#[test]
fn inside_github_actions_track_writes_a_summary_annotations_and_outputs() {
    let server = TestServer::start();
    server.page("/ok", &policy_page(V1, ""));
    server.set("/missing", vec![Response::status(404, "<p>Not found</p>")]);
    server.set("/down", vec![Response::status(503, "down")]);
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/ok")),
            ("terms-of-service", &server.url("/missing")),
            ("cookie-policy", &server.url("/down")),
        ],
    );
    let summary = archive.repo.join("summary.md");
    let outputs = archive.repo.join("outputs.txt");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let refused = crate::support::server::refused_url();
    let out = archive
        .cmd(&["track", "--retries", "0", "--notify", &refused])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error title=clausewatch acme/terms-of-service (not-found)::"),
        "{stdout}"
    );
    assert!(
        stdout.contains("::warning title=clausewatch acme/cookie-policy (server-error)::"),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("earlier step\n## clausewatch track\n\n1 recorded, 0 unchanged, 2 failed (3 documents)"),
        "{summary}"
    );
    assert!(
        summary.contains("| acme/privacy-policy | first | First record of Acme Privacy Policy |"),
        "{summary}"
    );
    assert!(summary.contains("| acme/terms-of-service | not-found |"), "{summary}");
    assert!(
        summary.contains("### Failure tracking\n\n| document | transition | category | failing since |\n| --- | --- | --- | --- |\n| acme/cookie-policy | started | server-error | 2026-03-02 00:00 UTC |\n| acme/terms-of-service | started | not-found |"),
        "{summary}"
    );
    // Two failure-started alerts, none of which could be delivered.
    assert!(
        summary.contains("### Alerts\n\n0 delivered, 2 not delivered\n"),
        "{summary}"
    );
    assert!(
        stdout.contains("::warning title=clausewatch alert not delivered::failure-started alert for acme/cookie-policy to http://127.0.0.1:"),
        "{stdout}"
    );
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    assert_eq!(
        outputs,
        "recorded=1\nunchanged=0\nfailed=2\nchanged<<CLAUSEWATCH_EOF\nacme/privacy-policy\nCLAUSEWATCH_EOF\nstatus-changed=true\n",
        "a status-only run must be pushed too"
    );

    // Outside GitHub Actions none of it happens.
    let (_, stdout, _) = archive.run(&["track", "--retries", "0"]);
    assert!(!stdout.contains("::error"), "{stdout}");
}

#[test]
fn pdf_documents_are_recorded_as_text_with_their_pdf_snapshot() {
    let Some(corpus) = crate::support::corpus() else { return };
    let first = std::fs::read(corpus.join("pdf/fruitz__privacy-policy__2023-07-25.pdf")).unwrap();
    let second = std::fs::read(corpus.join("pdf/fruitz__privacy-policy__2024-02-26.pdf")).unwrap();
    let server = TestServer::start();
    let pdf = |bytes: &[u8]| vec![Response::new(200, bytes.to_vec()).header("Content-Type", "application/pdf")];
    server.set("/privacy.pdf", pdf(&first));
    let archive = TestArchive::new();
    archive.declare_simple("fruitz", "Fruitz", &[("privacy-policy", &server.url("/privacy.pdf"))]);

    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let text = archive.read("versions/fruitz/privacy-policy.md");
    assert!(
        text.starts_with("PERSONAL DATA PROTECTION POLICY\n\nLast update: 21 July 2023\n"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l == "The Personal Data collected are processed by FLASHGAP, or on its behalf, under the conditions set out below."),
        "paragraphs are joined across the PDF's line breaks:\n{text}"
    );
    assert_eq!(
        std::fs::read(archive.archive().join("snapshots/fruitz/privacy-policy.pdf")).unwrap(),
        first,
        "the snapshot is the PDF itself"
    );
    assert!(stderr.is_empty(), "no library chatter on stderr: {stderr}");

    server.set("/privacy.pdf", pdf(&second));
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("recorded   fruitz/privacy-policy"), "{stdout}");
    let diff = archive.git(&["log", "-1", "-p", "--format=%s", "--", "archive/versions"]);
    assert!(
        diff.contains("-Last update: 21 July 2023\n+Last update: 16 February 2024\n"),
        "{diff}"
    );

    // A body that claims to be a PDF but is not one fails; nothing is recorded.
    server.set(
        "/privacy.pdf",
        vec![
            Response::new(200, b"%PDF-1.7 this is not really a PDF".to_vec()).header("Content-Type", "application/pdf"),
        ],
    );
    let versions = || archive.git(&["log", "--format=%H", "--", "archive/versions", "archive/snapshots"]);
    let before = versions();
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("failed     fruitz/privacy-policy  unsupported-content"),
        "{stdout}"
    );
    assert_eq!(versions(), before, "no version recorded (only status.json may change)");
}

#[test]
fn conditional_requests_skip_unchanged_bodies() {
    let server = TestServer::start();
    let v1 = policy_page(V1, "nonce-1");
    server.set(
        "/privacy",
        vec![
            // An hour older than the response: a strong date, worth sending back.
            Response::html(&v1)
                .header("ETag", "\"v1\"")
                .header("Last-Modified", "Sun, 01 Nov 2026 06:00:00 GMT")
                .header("Date", "Sun, 01 Nov 2026 07:00:00 GMT"),
            Response::status(304, ""),
        ],
    );
    let archive = setup(&server);

    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(server.requests("/privacy")[0].header("if-none-match").is_none());
    // The validators ride along in the version's commit, as trailers.
    let trailers = archive.git(&["log", "-1", "--format=%(trailers:key=ETag,key=Last-Modified)"]);
    assert_eq!(
        trailers,
        "ETag: \"v1\"\nLast-Modified: Sun, 01 Nov 2026 06:00:00 GMT\n\n"
    );

    // The next run asks whether the body changed; the 304 means it did not.
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("0 recorded, 1 unchanged, 0 failed"), "{stdout}");
    let asked = &server.requests("/privacy")[1];
    assert_eq!(asked.header("if-none-match"), Some("\"v1\""));
    assert_eq!(asked.header("if-modified-since"), Some("Sun, 01 Nov 2026 06:00:00 GMT"));

    // A new body with a new tag is recorded, and its tag replaces the old one.
    server.set(
        "/privacy",
        vec![Response::html(&policy_page(V2, "nonce-2")).header("ETag", "\"v2\"")],
    );
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 recorded, 0 unchanged, 0 failed"), "{stdout}");
    assert_eq!(server.requests("/privacy")[2].header("if-none-match"), Some("\"v1\""));
    let trailers = archive.git(&["log", "-1", "--format=%(trailers:key=ETag)"]);
    assert_eq!(trailers, "ETag: \"v2\"\n\n");
}

#[test]
fn a_304_nobody_asked_for_is_a_failure_not_an_unchanged_page() {
    let server = TestServer::start();
    server.set(
        "/privacy",
        vec![Response::html(&policy_page(V1, "nonce-1")), Response::status(304, "")],
    );
    let archive = setup(&server);
    let (code, _, _) = archive.run(&["track"]);
    assert_eq!(code, 0);
    // No validators were recorded, so nothing was asked: a 304 is no document.
    let (code, stdout, _) = archive.run(&["track", "--json"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(server.requests("/privacy")[1].header("if-none-match").is_none());
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON summary");
    assert_eq!(json["documents"][0]["status"], "failed", "{stdout}");
}

#[test]
fn symbolic_links_inside_the_archive_are_never_written_through() {
    let server = TestServer::start();
    server.page("/privacy", &policy_page(V1, "nonce-1"));
    let outside = tempfile::tempdir().expect("temp dir");

    // A service folder that is a link to a folder outside the archive.
    let archive = setup(&server);
    std::fs::create_dir_all(archive.archive().join("versions")).unwrap();
    std::os::unix::fs::symlink(outside.path(), archive.archive().join("versions/acme")).unwrap();
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("archive/versions/acme is a symbolic link"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing written outside"
    );
    assert_eq!(
        archive.git(&["rev-list", "--count", "HEAD"]),
        "1\n",
        "nothing committed"
    );

    // A version file that is a link to a file outside the archive.
    let archive = setup(&server);
    let target = outside.path().join("victim.txt");
    std::fs::write(&target, "keep me\n").unwrap();
    std::fs::create_dir_all(archive.archive().join("versions/acme")).unwrap();
    std::os::unix::fs::symlink(&target, archive.archive().join("versions/acme/privacy-policy.md")).unwrap();
    let (code, _, stderr) = archive.run(&["track"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("archive/versions/acme/privacy-policy.md is a symbolic link"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
}

/// The `Date` of the responses below: the suite's clock.
const SERVED_AT: &str = "Mon, 02 Mar 2026 00:00:00 GMT";

#[test]
fn a_change_within_the_second_of_the_last_fetch_is_recorded() {
    // Python's http.server dates pages to the second: a page saved twice within one
    // second keeps its Last-Modified, and a client that sends it back gets 304.
    let server = TestServer::start();
    let served = |body: &str| {
        Response::html(body)
            .header("Last-Modified", SERVED_AT)
            .header("Date", SERVED_AT)
            .revalidate(Revalidation::Honest)
    };
    server.set(
        "/privacy",
        vec![served(&policy_page(V1, "nonce-1")), served(&policy_page(V2, "nonce-2"))],
    );
    let archive = setup(&server);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let trailers = archive.git(&["log", "-1", "--format=%(trailers:key=Last-Modified)"]);
    assert_eq!(
        trailers, "\n",
        "a Last-Modified within a minute of Date is weak: not kept"
    );

    let (code, stdout, stderr) = archive.run_at("2026-03-02T01:00:00Z", &["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 recorded, 0 unchanged, 0 failed"), "{stdout}");
    assert_eq!(server.requests("/privacy")[1].header("if-modified-since"), None);
    assert!(
        archive
            .read("versions/acme/privacy-policy.md")
            .contains("train our AI models")
    );
}

#[test]
fn a_server_stuck_on_304_is_revalidated_after_a_day() {
    let server = TestServer::start();
    server.set(
        "/privacy",
        vec![
            Response::html(&policy_page(V1, "nonce-1"))
                .header("ETag", "\"v1\"")
                .header("Date", SERVED_AT),
            // The page changed, but a stale cache answers 304 to any validator.
            Response::html(&policy_page(V2, "nonce-2"))
                .header("ETag", "\"v2\"")
                .revalidate(Revalidation::AlwaysNotModified),
        ],
    );
    let archive = setup(&server);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // Within the day the recorded tag is sent, and the 304 is believed.
    let (code, stdout, _) = archive.run_at("2026-03-02T23:00:00Z", &["track"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("0 recorded, 1 unchanged, 0 failed"), "{stdout}");
    assert_eq!(server.requests("/privacy")[1].header("if-none-match"), Some("\"v1\""));

    // A longer interval in clausewatch.toml keeps the tag for longer.
    std::fs::write(
        archive.archive().join("clausewatch.toml"),
        "[fetch]\nrevalidate_after = \"48h\"\n",
    )
    .unwrap();
    let (code, stdout, _) = archive.run_at("2026-03-03T01:00:00Z", &["track"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("0 recorded, 1 unchanged, 0 failed"), "{stdout}");
    std::fs::remove_file(archive.archive().join("clausewatch.toml")).unwrap();

    // Past the default day, the body is fetched without validators and the change found.
    let (code, stdout, stderr) = archive.run_at("2026-03-03T01:00:00Z", &["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 recorded, 0 unchanged, 0 failed"), "{stdout}");
    let last = server.requests("/privacy").pop().unwrap();
    assert_eq!(last.header("if-none-match"), None);
    assert!(
        archive
            .read("versions/acme/privacy-policy.md")
            .contains("train our AI models")
    );
    let trailers = archive.git(&["log", "-1", "--format=%(trailers:key=ETag)"]);
    assert_eq!(trailers, "ETag: \"v2\"\n\n");
}

#[test]
fn validators_are_not_sent_to_a_newly_declared_url() {
    let server = TestServer::start();
    server.set(
        "/old.html",
        vec![Response::html(&policy_page(V1, "nonce-1")).header("ETag", "\"7\"")],
    );
    // The new page happens to answer 304 to the old page's tag (a CMS revision number).
    server.set(
        "/new.html",
        vec![
            Response::html(&policy_page(V2, "nonce-2"))
                .header("ETag", "\"7\"")
                .revalidate(Revalidation::Honest),
        ],
    );
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/old.html"))]);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/new.html"))]);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 recorded, 0 unchanged, 0 failed"), "{stdout}");
    assert_eq!(server.requests("/new.html")[0].header("if-none-match"), None);
    assert!(
        archive
            .read("versions/acme/privacy-policy.md")
            .contains("train our AI models")
    );
}

#[test]
fn a_deeply_nested_page_fails_fast_and_the_others_are_recorded() {
    // `<div/>` is not self-closing in HTML and a stray `</b>` closes nothing: each
    // nests 100,000 deep, which html5ever's tree builder takes quadratic time over.
    let server = TestServer::start();
    server.page(
        "/self-closing",
        &format!("<main>{}Terms.</main>", "<div/>".repeat(100_000)),
    );
    server.page(
        "/stray-end",
        &format!("<main>{}Terms.</main>", "<div></b>".repeat(100_000)),
    );
    server.page("/privacy", &policy_page(V1, "nonce-1"));
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/privacy")),
            ("terms-of-service", &server.url("/self-closing")),
            ("community-guidelines", &server.url("/stray-end")),
        ],
    );
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = archive.run(&["track"]);
    let took = started.elapsed();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(took.as_secs() < 10, "track took {took:?}");
    assert!(stdout.contains("1 recorded, 0 unchanged, 2 failed"), "{stdout}");
    for doc in ["terms-of-service", "community-guidelines"] {
        assert!(
            stdout.contains(&format!("acme/{doc}  too-large:")) && stdout.contains("more than 5000 deep"),
            "{stdout}"
        );
    }
    assert!(
        archive
            .read("versions/acme/privacy-policy.md")
            .contains("We collect your name.")
    );
}

#[test]
fn a_fetch_time_before_the_latest_version_is_refused_the_others_recorded() {
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
    assert_eq!(archive.run_at("2026-03-10T00:00:00Z", &["track"]).0, 0);
    // The privacy policy gets a version on the 12th (another machine, an import)...
    server.page("/privacy", &policy_page(V2, ""));
    assert_eq!(
        archive
            .run_at("2026-03-12T00:00:00Z", &["track", "--service", "acme"])
            .0,
        0
    );
    let recorded = archive.read("versions/acme/privacy-policy.md");

    // ...and this machine's clock says the 11th.
    server.page("/privacy", &policy_page(V1, ""));
    server.page(
        "/terms",
        &policy_page("<h1>Terms</h1><p>Be nice. Or else we leave.</p>", ""),
    );
    let before = archive.git(&["rev-parse", "HEAD"]);
    let (code, stdout, stderr) = archive.run_at("2026-03-11T00:00:00Z", &["track"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "failed     acme/privacy-policy  clock-behind: the fetch time (2026-03-11T00:00:00Z) would go before \
             the latest recorded version (2026-03-12T00:00:00Z), and recorded history is never rewritten: \
             this machine's clock seems to be behind; set it right and run again (the new version was not recorded)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("recorded   acme/terms  Acme Terms: 1 sentence changed"),
        "{stdout}"
    );
    let (_, log, _) = archive.run_at("2026-03-12T00:00:00Z", &["log", "acme/privacy-policy", "--json"]);
    let log: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    assert_eq!(log.len(), 2, "nothing recorded for the privacy policy: {log:?}");
    assert_eq!(archive.read("versions/acme/privacy-policy.md"), recorded);
    let versions: Vec<String> = archive
        .git(&["log", "--format=%s", &format!("{}..HEAD", before.trim())])
        .lines()
        .filter(|s| !s.starts_with("status:"))
        .map(str::to_string)
        .collect();
    assert_eq!(versions, ["Acme Terms: 1 sentence changed"], "one version, the terms'");

    // The same second as the latest version is after it, in commit order (as imports
    // record same-second versions).
    let (code, stdout, stderr) = archive.run_at("2026-03-12T00:00:00Z", &["track", "--service", "acme"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("recorded   acme/privacy-policy"), "{stdout}");
}
