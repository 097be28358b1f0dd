//! Pages that are not the document: the labelled set of `tests/data/error-pages/`
//! (error, "not found", maintenance, login-wall, consent-wall and denial pages in the
//! languages of the default archive's neighbours, all written for these tests), through
//! the same decisions `track` and the imports make, and end to end.

use std::path::{Path, PathBuf};

use clausewatch::canon::{self, Selection};
use clausewatch::fetch::decode::{self, BodyKind};
use clausewatch::fetch::wall;

use crate::support::{Response, TestArchive, TestServer, git, policy_page};

fn set_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/error-pages")
}

/// `(file, expected verdict, note)` from the set's manifest.
fn manifest() -> Vec<(String, String, String)> {
    std::fs::read_to_string(set_dir().join("MANIFEST.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "MANIFEST.tsv: {l:?}");
            (cols[0].to_string(), cols[1].to_string(), cols[2].to_string())
        })
        .collect()
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("html") => "text/html",
        Some("md") => "text/markdown",
        _ => "text/plain",
    }
}

/// What the recording paths make of a page: the HTML guard of `track` and the imports
/// (a challenge, soft 404 or script shell), then the text guard every version passes
/// (see `track::new_version`). `document` when it would be recorded.
fn verdict(file: &str) -> String {
    let bytes = std::fs::read(set_dir().join(file)).unwrap();
    let ct = content_type(file);
    let ext = match ct {
        "text/html" => "html",
        "text/markdown" => "md",
        _ => "txt",
    };
    if ext == "html"
        && let Some(verdict) = wall::inspect(&decode::decode(&bytes, Some(ct), BodyKind::Html))
    {
        return verdict.label().to_string();
    }
    let text = match canon::canonicalize(&bytes, Some(ct), &Selection::default()) {
        Ok(text) => text,
        Err(failure) => return failure.kind.to_string(),
    };
    match wall::judge_text(&text, &bytes, ext) {
        Some(verdict) => verdict.label().to_string(),
        None => "document".to_string(),
    }
}

#[test]
fn the_labelled_error_pages_are_never_recorded_and_the_documents_are() {
    let manifest = manifest();
    let pages = manifest
        .iter()
        .filter(|(_, expected, _)| expected != "document")
        .count();
    assert!(pages >= 60, "only {pages} error pages in the set");
    let mut wrong = Vec::new();
    let mut refused = 0;
    let mut languages = std::collections::BTreeSet::new();
    for (file, expected, note) in &manifest {
        let got = verdict(file);
        if expected != "document" && got != "document" {
            refused += 1;
            languages.insert(file[4..].split('-').next().unwrap_or_default().to_string());
        }
        if &got != expected {
            wrong.push(format!("{file}: expected {expected}, got {got} ({note})"));
        }
    }
    eprintln!(
        "error-page set: {refused} of {pages} pages refused; {} documents; languages {languages:?}",
        manifest.len() - pages
    );
    assert!(
        wrong.is_empty(),
        "{} of {} misjudged:\n{}",
        wrong.len(),
        manifest.len(),
        wrong.join("\n")
    );
    for lang in ["en", "fr", "de", "es", "it", "pt", "nl", "zh"] {
        assert!(languages.contains(lang), "no {lang} page refused: {languages:?}");
    }
}

/// The page of the set whose file name ends with `suffix`.
fn page(suffix: &str) -> String {
    let (file, _, _) = manifest()
        .into_iter()
        .find(|(file, _, _)| file.ends_with(suffix))
        .unwrap_or_else(|| panic!("no page *{suffix} in the set"));
    std::fs::read_to_string(set_dir().join(file)).unwrap()
}

/// A policy long enough to be one (and to make a later error page a shrink).
fn policy(extra: &str) -> String {
    let clauses: String = (1..=12)
        .map(|i| format!("<p>Clause {i}: we keep the data you give us for as long as your account is open.</p>"))
        .collect();
    policy_page(&format!("<h1>Privacy Policy</h1>{clauses}{extra}"), "")
}

/// A one-page PDF whose text is `lines` (Helvetica, uncompressed).
fn pdf(lines: &[&str]) -> Vec<u8> {
    let mut stream = String::from("BT /F1 12 Tf 72 720 Td");
    for line in lines {
        stream.push_str(&format!(" ({line}) Tj 0 -18 Td"));
    }
    stream.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn track_records_no_error_page_as_a_first_version_or_a_later_one() {
    let server = TestServer::start();
    // Issue 15.5: a soft 404 with 200 navigation and footer links and a two-line <main>.
    server.page("/privacy", &page("en-soft-404-200-links.html"));
    server.page("/terms", &page("fr-maintenance.html"));
    server.set(
        "/notice.pdf",
        vec![
            Response::new(
                200,
                pdf(&[
                    "Error",
                    "The document you requested is temporarily unavailable. Please try again later.",
                ]),
            )
            .header("Content-Type", "application/pdf"),
        ],
    );
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/privacy")),
            ("terms-of-service", &server.url("/terms")),
            ("ai-notice", &server.url("/notice.pdf")),
        ],
    );
    let (code, stdout, _) = archive.run(&["track"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("acme/privacy-policy  not-found: ")
            && stdout.contains("is a \"not found\" page, not the document"),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme/terms-of-service  server-error: ") && stdout.contains("is a maintenance page"),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme/ai-notice  server-error: ") && stdout.contains("is an error page"),
        "{stdout}"
    );
    assert_eq!(
        archive.git(&["ls-files", "archive/versions/*.md"]),
        "",
        "no first record"
    );

    // The real documents come; then error pages again, even with --accept-shrink.
    server.page("/privacy", &policy(""));
    server.page("/terms", &policy("<p>These are the terms.</p>"));
    let (code, stdout, _) = archive.run(&[
        "track",
        "--service",
        "acme/privacy-policy",
        "--service",
        "acme/terms-of-service",
    ]);
    assert_eq!(code, 0, "{stdout}");
    let recorded = archive.subjects().len();
    server.page("/privacy", &page("en-session-expired.html"));
    server.page("/terms", &page("de-error.html"));
    for args in [&["track"][..], &["track", "--accept-shrink"][..]] {
        let (code, stdout, _) = archive.run(args);
        assert_eq!(code, 1, "{stdout}");
        assert!(
            stdout.contains("acme/privacy-policy  forbidden: ") && stdout.contains("is a login wall"),
            "{args:?}: {stdout}"
        );
        assert!(
            stdout.contains("acme/terms-of-service  server-error: ") && stdout.contains("is an error page"),
            "{args:?}: {stdout}"
        );
    }
    let versions = archive.git(&["log", "--format=%s", "--", "archive/versions/acme"]);
    assert_eq!(
        versions.lines().collect::<Vec<_>>(),
        [
            "First record of Acme Terms of Service",
            "First record of Acme Privacy Policy"
        ],
        "only the two real first records"
    );
    let subjects = archive.subjects();
    assert!(
        subjects[..subjects.len() - recorded]
            .iter()
            .all(|s| s.starts_with("status:")),
        "nothing but the failures' state: {subjects:?}"
    );
    assert!(archive.read("versions/acme/privacy-policy.md").contains("Clause 12"));
}

/// A git repository laid out like an Open Terms Archive one: one commit per (path,
/// content, date).
pub(crate) fn ota_repo(commits: &[(&str, String, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for (path, content, date) in commits {
        let target = dir.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, content).unwrap();
        for args in [&["add", "-A"][..], &["commit", "-q", "-m", "Record new changes"][..]] {
            let out = std::process::Command::new("git")
                .current_dir(dir.path())
                .env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date)
                .args(["-c", "user.name=OTA-Bot", "-c", "user.email=bot@example.org"])
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    dir
}

#[test]
fn imports_skip_error_pages_first_or_later_and_again_on_a_reimport() {
    let doc = page("doc-ai-notice-short.md");
    let changed = format!("{doc}\nWe delete training data after two years.\n");
    let repo = ota_repo(&[
        (
            "Acme/Privacy Policy.md",
            page("en-ota-version-error.md"),
            "2024-01-01T00:00:00Z",
        ),
        ("Acme/Privacy Policy.md", doc.clone(), "2024-02-01T00:00:00Z"),
        (
            "Acme/Privacy Policy.md",
            page("en-ota-version-not-found.md"),
            "2024-03-01T00:00:00Z",
        ),
        (
            "Acme/Privacy Policy.md",
            page("fr-ota-version-maintenance.md"),
            "2024-03-15T00:00:00Z",
        ),
        ("Acme/Privacy Policy.md", changed, "2024-04-01T00:00:00Z"),
    ]);
    let repo_arg = repo.path().to_str().unwrap();
    let archive = TestArchive::new();
    let (code, stdout, stderr) = archive.run(&[
        "import",
        "ota-versions",
        repo_arg,
        "--service",
        "Acme",
        "--accept-shrink",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("imported   acme/privacy-policy  2 recorded, 3 skipped\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("server-error: ") && stdout.contains("is an error page"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not-found: ") && stdout.contains("is a \"not found\" page"),
        "{stdout}"
    );
    assert!(stdout.contains("is a maintenance page"), "{stdout}");
    let dates = archive.git(&[
        "log",
        "--reverse",
        "--format=%aI",
        "--",
        "archive/versions/acme/privacy-policy.md",
    ]);
    assert_eq!(dates, "2024-02-01T00:00:00Z\n2024-04-01T00:00:00Z\n");
    // A re-import skips them again rather than calling them a conflict.
    let (code, stdout, stderr) = archive.run(&["import", "ota-versions", repo_arg, "--service", "Acme"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("0 recorded") && stdout.contains("3 skipped"),
        "{stdout}"
    );

    // ota-snapshots: the soft 404 passes the HTML guard (it has plenty of links) and is
    // refused on its text.
    let repo = ota_repo(&[
        ("Acme/Terms of Service.html", policy(""), "2024-01-01T00:00:00Z"),
        (
            "Acme/Terms of Service.html",
            page("en-soft-404-200-links.html"),
            "2024-02-01T00:00:00Z",
        ),
        (
            "Acme/Terms of Service.html",
            policy("<p>A new clause.</p>"),
            "2024-03-01T00:00:00Z",
        ),
    ]);
    archive.declare_simple("acme", "Acme", &[("terms-of-service", "https://acme.example/terms")]);
    let (code, stdout, stderr) = archive.run(&[
        "import",
        "ota-snapshots",
        repo.path().to_str().unwrap(),
        "--service",
        "Acme",
        "--accept-shrink",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("imported   acme/terms-of-service  2 recorded, 1 skipped\n")
            && stdout.contains("is a \"not found\" page"),
        "{stdout}"
    );
}

#[test]
fn wayback_imports_skip_error_pages() {
    const URL: &str = "https://acme.example/privacy";
    let server = TestServer::start();
    let captures = [
        ("20240101000000", policy("")),
        ("20240201000000", page("es-sorry.html")),
        ("20240301000000", page("en-consent-wall.html")),
        ("20240401000000", policy("<p>A new clause.</p>")),
    ];
    let mut rows = vec![serde_json::json!([
        "urlkey",
        "timestamp",
        "original",
        "mimetype",
        "statuscode",
        "digest",
        "length"
    ])];
    for (i, (timestamp, body)) in captures.iter().enumerate() {
        rows.push(serde_json::json!([
            "example,acme)/privacy",
            timestamp,
            URL,
            "text/html",
            "200",
            format!("D{i}"),
            "1000"
        ]));
        server.set(
            &format!("/web/{timestamp}id_/{URL}"),
            vec![Response::new(200, body.clone()).header("Content-Type", "text/html; charset=utf-8")],
        );
    }
    server.set(
        "/cdx/search/cdx?url=https%3A%2F%2Facme.example%2Fprivacy&output=json&filter=statuscode%3A200&collapse=digest",
        vec![Response::new(200, serde_json::to_string(&rows).unwrap()).header("Content-Type", "application/json")],
    );
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", URL)]);
    let out = archive
        .cmd(&["import", "wayback", "acme/privacy-policy", "--accept-shrink"])
        .env("CLAUSEWATCH_WAYBACK_CDX", server.url("/cdx/search/cdx"))
        .env("CLAUSEWATCH_WAYBACK_BASE", server.url("/web/"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("imported   acme/privacy-policy  2 recorded, 2 skipped\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skipped capture 20240201000000: server-error: ") && stdout.contains("is an error page"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skipped capture 20240301000000: forbidden: ") && stdout.contains("is a consent wall"),
        "{stdout}"
    );
}

#[test]
fn the_browser_fetcher_records_no_error_page_built_by_scripts() {
    let found = ["chromium", "chromium-browser", "google-chrome"].iter().any(|name| {
        std::process::Command::new("which")
            .arg(name)
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !found {
        eprintln!("skipped: no Chromium installed (apt-get install chromium)");
        return;
    }
    // A single-page app whose content request failed: the DOM says so after load.
    let app = "<!doctype html><html><head><title>Acme</title></head><body><div id=\"root\"></div>\
        <script>setTimeout(function () { document.getElementById('root').innerHTML =\
        '<main><h1>Something went wrong</h1><p>We could not load this page.</p><p>Please try again later.</p></main>'; }, 300);\
        </script></body></html>";
    let server = TestServer::start();
    server.page("/terms", app);
    let archive = TestArchive::new();
    archive.declare(
        "acme",
        &format!(
            "name = \"Acme\"\n[[documents]]\ntype = \"terms-of-service\"\nurl = {:?}\nfetcher = \"browser\"\n",
            server.url("/terms")
        ),
    );
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("acme/terms-of-service  server-error: ") && stdout.contains("is an error page"),
        "{stdout}"
    );
    assert_eq!(archive.git(&["ls-files", "archive/versions/acme"]), "");
}

#[test]
fn reextract_records_no_error_page_either() {
    let server = TestServer::start();
    let page = policy("<div class=\"notice\"><p>Something went wrong.</p><p>Please try again later.</p></div>");
    server.page("/privacy", &page);
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    assert_eq!(archive.run(&["track"]).0, 0);
    // A declaration pointed at the wrong region: the rebuilt text is an error message.
    archive.declare(
        "acme",
        &format!(
            "name = \"Acme\"\n[[documents]]\ntype = \"privacy-policy\"\nurl = {:?}\nselect = \".notice\"\nfetcher = \"http\"\n",
            server.url("/privacy")
        ),
    );
    let before = archive.subjects();
    let (code, stdout, _) = archive.run(&["reextract"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("acme/privacy-policy") && stdout.contains("is an error page, not the document"),
        "{stdout}"
    );
    assert_eq!(archive.subjects(), before, "nothing recorded");
}
