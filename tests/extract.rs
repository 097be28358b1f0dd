//! `clausewatch extract`: canonical text of one page, from a file or a URL.

use crate::support::{TestArchive, TestServer, policy_page};

#[test]
fn extracts_a_file_with_selectors_and_its_charset() {
    let archive = TestArchive::new();
    let page = archive.repo.join("page.html");
    let mut bytes =
        b"<html><head><meta charset=\"windows-1252\"></head><body><div id=p><p>Caf\xe9 \x93terms\x94 apply.</p>"
            .to_vec();
    bytes.extend_from_slice(b"<p class=ad>Buy now.</p></div><p>Outside.</p></body></html>");
    std::fs::write(&page, bytes).unwrap();
    let (code, stdout, stderr) = archive.run(&["extract", "page.html", "--select", "#p", "--remove", ".ad"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "Café “terms” apply.\n");
}

#[test]
fn extracts_a_url() {
    let server = TestServer::start();
    server.page("/p", &policy_page("<p>One. Two.</p>", "chrome"));
    let archive = TestArchive::new();
    let (code, stdout, stderr) = archive.run(&["extract", &server.url("/p")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "One.\nTwo.\n");
}

#[test]
fn a_selector_without_a_match_fails_clearly() {
    let archive = TestArchive::new();
    std::fs::write(archive.repo.join("p.html"), "<p>x</p>").unwrap();
    let (code, _, stderr) = archive.run(&["extract", "p.html", "--select", "main"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("selector-no-match: no element matches select main"),
        "{stderr}"
    );
}
