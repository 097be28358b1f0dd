//! HTML output checked in a real headless Chromium: it renders, logs no console error,
//! and shows what it should. `.ci/run` installs Chromium; without one the tests skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::TestArchive;

/// Chromium's executable, or `None` (with a message) where none is installed.
pub fn chromium() -> Option<PathBuf> {
    let candidates = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let found = std::env::var_os("CLAUSEWATCH_CHROMIUM").map(PathBuf::from).or_else(|| {
        candidates.iter().find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
    });
    if found.is_none() {
        crate::support::skip("no Chromium installed (apt-get install chromium, or set CLAUSEWATCH_CHROMIUM)");
    }
    found
}

/// Loads a file in headless Chromium: the rendered DOM and the console messages.
pub fn render(chromium: &Path, page: &Path) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

fn write_html(archive: &TestArchive, name: &str, args: &[&str]) -> PathBuf {
    let path = archive.repo.join(name);
    let mut full: Vec<&str> = args.to_vec();
    let path_str = path.to_str().unwrap().to_string();
    full.extend(["--out", &path_str]);
    let (code, _, stderr) = archive.run_at("2026-03-06T00:00:00Z", &full);
    assert_eq!(code, 0, "{stderr}");
    path
}

#[test]
fn the_html_report_renders_with_its_timeline() {
    let Some(chromium) = chromium() else { return };
    let (_server, archive) = crate::history::scripted();
    let page = write_html(
        &archive,
        "report.html",
        &["report", "--since", "2026-03-01", "--format", "html"],
    );
    let (dom, console) = render(&chromium, &page);
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(
        dom.contains("<svg") && dom.contains("role=\"img\""),
        "a timeline is drawn"
    );
    assert!(
        dom.contains("<del>30</del>") && dom.contains("<ins>90</ins>"),
        "word differences render"
    );
    assert!(dom.contains("We may use your content to train our AI models."));
    assert!(
        !dom.contains("cosmetic changes in"),
        "cosmetic changes stay out of reports"
    );
}

#[test]
fn the_provision_comparison_renders_as_a_matrix() {
    let Some(chromium) = chromium() else { return };
    let (_server, archive) = crate::provision_history::scripted();
    let page = write_html(
        &archive,
        "compare.html",
        &["compare", "ai-training", "--at", "2026-03-03", "--format", "html"],
    );
    let (dom, console) = render(&chromium, &page);
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains("<td>acme</td><td>privacy-policy</td><td><span class=\"stance stance-grants\">grants</span></td><td>2026-03-03</td>"), "{dom}");
    let page = write_html(
        &archive,
        "matrix.html",
        &["compare", "--all", "--at", "2026-03-04", "--format", "html"],
    );
    let (dom, console) = render(&chromium, &page);
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(
        dom.contains("<span>acme</span></th><th class=\"platform\" scope=\"col\" title=\"bcorp\"><span>bcorp</span>"),
        "{dom}"
    );
    assert!(
        dom.contains("<summary>AI training on user content or data: no</summary>"),
        "each cell states a position: {dom}"
    );
    assert!(dom.contains("<td class=\"none\">—</td>"), "ccorp says nothing: {dom}");
}
