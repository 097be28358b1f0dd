//! `import wayback` against a fake Wayback Machine on 127.0.0.1 (a CDX endpoint and raw
//! captures) serving the real OpenAI privacy-policy snapshots of `../shared/corpus/`.

use std::path::Path;

use crate::support::{Response, TestArchive, TestServer, corpus, policy_page};

const URL: &str = "https://openai.com/policies/privacy-policy";
const CDX: &str = "/cdx/search/cdx?url=https%3A%2F%2Fopenai.com%2Fpolicies%2Fprivacy-policy&output=json&filter=statuscode%3A200&collapse=digest";

/// (timestamp, digest, what the capture serves)
const CAPTURES: [(&str, &str, &str); 7] = [
    ("20231016123008", "D1", "openai__privacy-policy__2023-10-16.html"),
    // The same day again: thinned away by --every day.
    ("20231016180000", "D1B", "openai__privacy-policy__2023-10-16.html"),
    // A markup-only change: the text is the same.
    ("20231017003011", "D2", "openai__privacy-policy__2023-10-17.html"),
    ("20231101000000", "D3", "wall"),
    ("20231105000000", "D4", "404"),
    ("20231114183027", "D5", "openai__privacy-policy__2023-11-14.html"),
    ("20231215183030", "D6", "openai__privacy-policy__2023-12-15.html"),
];

const WALL: &str = "<html><head><title>Just a moment...</title></head><body><div id=\"cf-challenge-running\">\
    Checking your browser</div><script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1\"></script></body></html>";

fn capture_path(timestamp: &str) -> String {
    format!("/web/{timestamp}id_/{URL}")
}

/// A fake Wayback Machine with the captures above.
fn wayback(corpus: &Path) -> TestServer {
    let server = TestServer::start();
    let mut rows = vec![serde_json::json!([
        "urlkey",
        "timestamp",
        "original",
        "mimetype",
        "statuscode",
        "digest",
        "length"
    ])];
    for (timestamp, digest, serves) in CAPTURES {
        rows.push(serde_json::json!([
            "com,openai)/policies/privacy-policy",
            timestamp,
            URL,
            "text/html",
            "200",
            digest,
            "1000"
        ]));
        let response = match serves {
            "wall" => Response::html(WALL),
            "404" => Response::status(
                404,
                "<h1>Not Found</h1><p>The Wayback Machine has not archived that URL.</p>",
            ),
            file => Response::new(200, std::fs::read(corpus.join("html").join(file)).unwrap())
                .header("Content-Type", "text/html; charset=utf-8"),
        };
        server.set(&capture_path(timestamp), vec![response]);
    }
    let listing = serde_json::to_string(&rows).unwrap();
    server.set(
        CDX,
        vec![Response::new(200, listing.clone()).header("Content-Type", "application/json")],
    );
    server.set(
        &format!("{CDX}&from=2023&to=2023"),
        vec![Response::new(200, listing).header("Content-Type", "application/json")],
    );
    server
}

/// An archive declaring OpenAI (from OTA's declaration in the corpus).
fn declared_archive(corpus: &Path) -> TestArchive {
    let archive = TestArchive::new();
    let declaration = corpus.join("declarations/openai.json");
    let (code, stdout, _) = archive.run(&["import", "ota-declarations", declaration.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    archive
}

fn run(archive: &TestArchive, server: &TestServer, args: &[&str]) -> (i32, String, String) {
    let mut full = vec!["import", "wayback", "openai/privacy-policy"];
    full.extend_from_slice(args);
    let out = archive
        .cmd(&full)
        .env("CLAUSEWATCH_WAYBACK_CDX", server.url("/cdx/search/cdx"))
        .env("CLAUSEWATCH_WAYBACK_BASE", server.url("/web/"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Our versions of the document, oldest first: (author date, Capture-URL, Capture-Digest, Source).
fn versions(archive: &TestArchive) -> Vec<(String, String, String, String)> {
    archive
        .git(&[
            "log",
            "--reverse",
            "--format=%aI|%(trailers:key=Capture-URL,valueonly,separator=)|%(trailers:key=Capture-Digest,valueonly,separator=)|%(trailers:key=Source,valueonly,separator=)",
            "--",
            "archive/versions/openai/privacy-policy.md",
        ])
        .lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('|').collect();
            (
                cols[0].replace("+00:00", "Z"),
                cols[1].to_string(),
                cols[2].to_string(),
                cols[3].to_string(),
            )
        })
        .collect()
}

fn hits(server: &TestServer) -> Vec<usize> {
    CAPTURES.iter().map(|(t, _, _)| server.hits(&capture_path(t))).collect()
}

#[test]
fn captures_are_listed_thinned_fetched_and_recorded_in_order() {
    let Some(corpus) = corpus() else { return };
    let server = wayback(&corpus);
    let archive = declared_archive(&corpus);
    let (code, stdout, stderr) = run(&archive, &server, &["--every", "day", "--from", "2023", "--to", "2023"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("imported   openai/privacy-policy  3 recorded, 1 unchanged, 2 skipped\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    skipped capture 20231101000000: bot-wall: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("    skipped capture 20231105000000: not-found: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("7 captures listed, 6 kept (the first of each day)"),
        "{stdout}"
    );
    assert_eq!(server.hits(&format!("{CDX}&from=2023&to=2023")), 1);
    assert_eq!(
        hits(&server),
        [1, 0, 1, 1, 1, 1, 1],
        "the second capture of a day is never fetched"
    );

    let ours = versions(&archive);
    let dates: Vec<&str> = ours.iter().map(|v| v.0.as_str()).collect();
    assert_eq!(
        dates,
        ["2023-10-16T12:30:08Z", "2023-11-14T18:30:27Z", "2023-12-15T18:30:30Z"]
    );
    assert_eq!(ours[0].1, server.url(&capture_path("20231016123008")));
    let digests: Vec<&str> = ours.iter().map(|v| v.2.as_str()).collect();
    assert_eq!(digests, ["D1", "D5", "D6"]);
    assert!(ours.iter().all(|v| v.3 == "wayback"));
    let trailers = archive.git(&["log", "-1", "--format=%(trailers)"]);
    assert!(trailers.contains(&format!("Source-URL: {URL}\n")), "{trailers}");
    assert!(trailers.contains("Fetched-At: 2023-12-15T18:30:30Z\n"), "{trailers}");
    assert!(trailers.contains("Fetcher: http\n"), "{trailers}");
    // The capture is the snapshot, so a rebuild changes nothing.
    let (_, stdout, _) = archive.run(&["reextract", "--service", "openai/privacy-policy"]);
    assert_eq!(stdout, "unchanged  openai/privacy-policy\n");

    // Monthly: the first capture of October, November (a wall) and December.
    let monthly = declared_archive(&corpus);
    let (code, stdout, _) = run(&monthly, &server, &["--every", "month"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("2 recorded, 1 skipped"), "{stdout}");
    assert!(
        stdout.contains("7 captures listed, 3 kept (the first of each month)"),
        "{stdout}"
    );

    // Bad input is named.
    let (code, _, stderr) = run(&archive, &server, &["--from", "23"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("'--from <YEAR>': \"23\" is not a year (2019) or a longer timestamp prefix"),
        "{stderr}"
    );
    let (code, _, stderr) = archive.run(&["import", "wayback", "openai/nothing"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("openai declares no document \"nothing\""), "{stderr}");
}

#[test]
fn an_import_resumes_where_it_stopped_and_records_nothing_twice() {
    let Some(corpus) = corpus() else { return };
    let server = wayback(&corpus);
    let archive = declared_archive(&corpus);

    // A limited run: two captures, then a stop.
    let (code, stdout, stderr) = run(&archive, &server, &["--every", "day", "--max-captures", "2"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 recorded, 1 unchanged\n"), "{stdout}");
    assert!(
        stdout.contains("stopped after 2 captures (--max-captures); run again to continue (4 captures left)"),
        "{stdout}"
    );
    assert_eq!(hits(&server), [1, 0, 1, 0, 0, 0, 0]);

    // The next run continues: nothing fetched twice.
    let (code, stdout, _) = run(&archive, &server, &["--every", "day"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("2 recorded, 2 skipped"), "{stdout}");
    assert!(stdout.contains("2 done by an earlier run"), "{stdout}");
    assert_eq!(hits(&server), [1, 0, 1, 1, 1, 1, 1]);
    assert_eq!(versions(&archive).len(), 3);

    // Finished: a third run fetches and records nothing.
    let head = archive.git(&["rev-parse", "HEAD"]);
    let (code, stdout, _) = run(&archive, &server, &["--every", "day"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("0 recorded") && stdout.contains("6 done by an earlier run"),
        "{stdout}"
    );
    assert_eq!(hits(&server), [1, 0, 1, 1, 1, 1, 1]);

    // Without the progress file (another clone): captures are checked, nothing recorded.
    std::fs::remove_dir_all(archive.repo.join(".git/clausewatch-wayback")).unwrap();
    let (code, stdout, stderr) = run(&archive, &server, &["--every", "day", "--json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["recorded"], 0);
    assert_eq!(json["already_recorded"], 4, "{json}");
    assert_eq!(json["skipped"], 2, "{json}");
    assert_eq!(archive.git(&["rev-parse", "HEAD"]), head);
    // The recorded captures were known by their digests, without a fetch.
    assert_eq!(hits(&server), [1, 0, 2, 2, 2, 1, 1]);
}

#[test]
fn a_capture_the_wayback_machine_will_not_serve_stops_the_import_until_the_next_run() {
    let Some(corpus) = corpus() else { return };
    let server = wayback(&corpus);
    let archive = declared_archive(&corpus);
    let november = capture_path("20231114183027");
    server.set(&november, vec![Response::status(503, "<h1>Service Unavailable</h1>")]);
    let (code, stdout, _) = run(&archive, &server, &["--every", "day"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("the Wayback Machine did not serve capture 20231114183027 (server-error: ")
            && stdout.contains("run again to continue (2 captures left)"),
        "{stdout}"
    );
    assert_eq!(server.hits(&november), 3, "the fetcher retried twice");
    assert_eq!(hits(&server)[6], 0, "nothing after the failed capture was fetched");
    assert_eq!(versions(&archive).len(), 1);

    server.set(
        &november,
        vec![
            Response::new(
                200,
                std::fs::read(corpus.join("html/openai__privacy-policy__2023-11-14.html")).unwrap(),
            )
            .header("Content-Type", "text/html"),
        ],
    );
    let (code, stdout, _) = run(&archive, &server, &["--every", "day"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("2 recorded") && stdout.contains("4 done by an earlier run"),
        "{stdout}"
    );
    assert_eq!(hits(&server)[0], 1, "the first capture was not fetched again");
    let dates: Vec<String> = versions(&archive).into_iter().map(|v| v.0).collect();
    assert_eq!(
        dates,
        ["2023-10-16T12:30:08Z", "2023-11-14T18:30:27Z", "2023-12-15T18:30:30Z"]
    );
}

#[test]
fn captures_older_than_the_archive_are_refused_or_skipped() {
    let Some(corpus) = corpus() else { return };
    let server = wayback(&corpus);
    let archive = declared_archive(&corpus);
    // Tracked live first, in 2024: every capture is older.
    let live = TestServer::start();
    live.page(
        "/privacy",
        &policy_page(
            "<div id=\"landings-privacy-policy\"><h1>Privacy policy</h1><p>We changed it.</p></div>",
            "",
        ),
    );
    let toml = std::fs::read_to_string(archive.archive().join("services/openai.toml"))
        .unwrap()
        .replace(URL, &live.url("/privacy"))
        .replace("fetcher = \"browser\"", "fetcher = \"http\"");
    archive.declare("openai", &toml);
    let (code, stdout, stderr) =
        archive.run_at("2024-01-01T00:00:00Z", &["track", "--service", "openai/privacy-policy"]);
    assert!(
        stdout.contains("recorded   openai/privacy-policy"),
        "{code} {stdout}{stderr}"
    );
    archive.declare("openai", &toml.replace(&live.url("/privacy"), URL));
    let head = archive.git(&["rev-parse", "HEAD"]);

    let (code, stdout, _) = run(&archive, &server, &["--every", "day"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("refused    openai/privacy-policy  openai/privacy-policy: capture 20231016123008 (2023-10-16T12:30:08Z) would go before the latest recorded version (2024-01-01T00:00:00Z)"),
        "{stdout}"
    );
    assert_eq!(archive.git(&["rev-parse", "HEAD"]), head, "nothing was recorded");

    let before = hits(&server);
    let (code, stdout, _) = run(&archive, &server, &["--every", "day", "--skip-older"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("0 recorded, 6 older than the archive's latest version (skipped)"),
        "{stdout}"
    );
    assert_eq!(hits(&server), before, "skipped captures are not fetched");
}
