//! The browser fetcher and `fetcher = "auto"` against pages built by JavaScript.
//! `.ci/run` installs Chromium; where none can be had, these tests skip with a message.

use crate::support::{TestArchive, TestServer, policy_page};

fn browser_installed() -> bool {
    let found = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .any(|name| {
            std::process::Command::new("which")
                .arg(name)
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if !found {
        crate::support::skip("no Chromium installed (apt-get install chromium)");
    }
    found
}

/// A page whose policy arrives 700 ms after load, as single-page apps do.
const DELAYED: &str = "<!doctype html><html><head><title>Terms</title></head><body>\
    <div id=\"root\"></div><script>setTimeout(function () {\
      document.getElementById('root').innerHTML = '<main id=\"policy\"><h1>Terms</h1>' +\
        '<p>We may suspend accounts that break these terms. You can appeal any decision.</p></main>';\
    }, 700);</script></body></html>";

fn declare(archive: &TestArchive, fetcher: &str, url: &str, select: Option<&str>) {
    let select = select.map(|s| format!("select = {s:?}\n")).unwrap_or_default();
    archive.declare(
        "acme",
        &format!("name = \"Acme\"\n[[documents]]\ntype = \"terms-of-service\"\nurl = {url:?}\n{select}fetcher = {fetcher:?}\n"),
    );
}

#[test]
fn the_browser_fetcher_waits_for_script_built_text() {
    if !browser_installed() {
        return;
    }
    let server = TestServer::start();
    server.page("/terms", DELAYED);
    let archive = TestArchive::new();
    declare(&archive, "browser", &server.url("/terms"), Some("#policy"));
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        archive.read("versions/acme/terms-of-service.md"),
        "# Terms\n\nWe may suspend accounts that break these terms.\nYou can appeal any decision.\n"
    );
    assert!(
        archive
            .git(&["log", "-1", "--format=%B"])
            .contains("\nFetcher: browser\n")
    );
    // The snapshot is the rendered DOM, not the empty shell that was served.
    assert!(
        archive
            .read("snapshots/acme/terms-of-service.html")
            .contains("We may suspend accounts")
    );
    assert!(no_chromium_left(), "the run's browser is gone");
}

#[test]
fn auto_escalates_to_the_browser_only_when_http_falls_short() {
    if !browser_installed() {
        return;
    }
    let server = TestServer::start();
    server.page("/app", DELAYED);
    server.page("/plain", &policy_page("<p>Plain terms apply.</p>", ""));
    let archive = TestArchive::new();
    archive.declare(
        "acme",
        &format!(
            "name = \"Acme\"\n\
             [[documents]]\ntype = \"terms-of-service\"\nurl = {:?}\nselect = \"#policy\"\n\
             [[documents]]\ntype = \"privacy-policy\"\nurl = {:?}\n",
            server.url("/app"),
            server.url("/plain")
        ),
    );
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let fetchers = archive.git(&[
        "log",
        "--format=%(trailers:key=Document,valueonly) %(trailers:key=Fetcher,valueonly)",
        "-2",
    ]);
    assert!(fetchers.contains("terms-of-service\n browser"), "{fetchers}");
    assert!(fetchers.contains("privacy-policy\n http"), "{fetchers}");
}

/// Who fetched a page: Chromium sends `Sec-Fetch-Mode`, the HTTP fetcher does not.
fn fetched_by(server: &TestServer, path: &str) -> Vec<&'static str> {
    server
        .requests(path)
        .iter()
        .map(|r| {
            if r.header("sec-fetch-mode").is_some() {
                "browser"
            } else {
                "http"
            }
        })
        .collect()
}

#[test]
fn auto_remembers_that_a_document_needed_the_browser() {
    if !browser_installed() {
        return;
    }
    let server = TestServer::start();
    server.page("/app", DELAYED);
    server.page("/plain", &policy_page("<p>Plain terms apply.</p>", ""));
    let archive = TestArchive::new();
    let declare_both = |select: &str| {
        archive.declare(
            "acme",
            &format!(
                "name = \"Acme\"\n\
                 [[documents]]\ntype = \"terms-of-service\"\nurl = {:?}\nselect = {select:?}\n\
                 [[documents]]\ntype = \"privacy-policy\"\nurl = {:?}\n",
                server.url("/app"),
                server.url("/plain")
            ),
        );
    };
    declare_both("#policy");
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(fetched_by(&server, "/app"), ["http", "browser"]);
    let trailers = archive.git(&[
        "log",
        "--format=%(trailers:key=Document,key=Fetcher,key=Declaration-SHA256)",
        "-2",
    ]);
    assert_eq!(
        trailers.matches("Declaration-SHA256: ").count(),
        1,
        "only the browser's version of an auto document carries it: {trailers}"
    );

    // The next run goes straight to the browser for the script-built page, and stays on
    // HTTP for the plain one.
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(fetched_by(&server, "/app"), ["http", "browser", "browser"]);
    assert_eq!(fetched_by(&server, "/plain"), ["http", "http"]);

    // A declaration change resets the memory: HTTP is tried first again.
    declare_both("main#policy");
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        fetched_by(&server, "/app"),
        ["http", "browser", "browser", "http", "browser"]
    );
    assert_eq!(
        archive.read("versions/acme/terms-of-service.md"),
        "# Terms\n\nWe may suspend accounts that break these terms.\nYou can appeal any decision.\n"
    );
}

#[test]
fn without_a_browser_the_failure_says_how_to_get_one() {
    let server = TestServer::start();
    server.page("/app", DELAYED);
    let archive = TestArchive::new();
    declare(&archive, "browser", &server.url("/app"), Some("#policy"));
    let out = archive
        .cmd(&["track"])
        .env("CLAUSEWATCH_CHROMIUM", "/nonexistent/chromium")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("acme/terms-of-service  browser:") && stdout.contains("install"),
        "{stdout}"
    );

    declare(&archive, "auto", &server.url("/app"), Some("#policy"));
    let out = archive
        .cmd(&["track"])
        .env("CLAUSEWATCH_CHROMIUM", "/nonexistent/chromium")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("acme/terms-of-service  empty:") && stdout.contains("no browser is installed"),
        "{stdout}"
    );
}

/// Whether no Chromium started by clausewatch outlives its run: processes whose command
/// line names a clausewatch profile folder (`clausewatch-chromium-<pid>-<n>`) whose
/// owner, that pid, is gone. Other runs on the machine (other test binaries) have
/// Chromiums of their own, crash handlers re-parented to init among them, while they run.
/// Shutdown takes a moment, so this waits up to five seconds for them to go.
fn no_chromium_left() -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if orphans() == 0 {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn orphans() -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            let Some((_, rest)) = cmdline.split_once("clausewatch-chromium-") else {
                return false;
            };
            let owner = rest.split('-').next().unwrap_or_default();
            !owner.is_empty() && !std::path::Path::new("/proc").join(owner).exists()
        })
        .count()
}
