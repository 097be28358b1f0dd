//! `clausewatch site`: the archive as a static website, built from a scripted history
//! and checked file by file, link by link, byte for byte, and in a real browser.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{TestArchive, TestServer, policy_page};

const JAN15: &str = "2026-01-15T06:00:00Z";
const FEB10: &str = "2026-02-10T06:00:00Z";
const FEB20: &str = "2026-02-20T06:00:00Z";
const FEB27: &str = "2026-02-27T06:00:00Z";

const ACME_PRIVACY_1: &str = "<h1>Privacy Policy</h1><h2>Data</h2><p>We collect your name. We keep data for 30 days.</p>\
    <h2>Sharing</h2><p>We never sell data. Partners receive reports.</p><ul><li>Email us.</li><li>Write to us.</li></ul>";
/// One sentence changed (30 -> 90 days), one added, one removed.
const ACME_PRIVACY_2: &str = "<h1>Privacy Policy</h1><h2>Data</h2><p>We collect your name. We keep data for 90 days. \
    We may use your content to train our AI models.</p>\
    <h2>Sharing</h2><p>Partners receive reports.</p><ul><li>Email us.</li><li>Write to us.</li></ul>";
const ACME_TERMS_1: &str = "<h1>Terms of Service</h1><p>You must be 13 or older. Be kind to others.</p>";
/// Adds a sentence whose text looks like markup: the site must show it, not run it.
const ACME_TERMS_2: &str = "<h1>Terms of Service</h1><p>You must be 13 or older. Be kind to others. \
    Never post &lt;script&gt;alert(1)&lt;/script&gt; or &quot;quotes&quot; &amp; such.</p>";
const BCORP_PRIVACY_1: &str = "<h1>Privacy</h1><p>We do not use your content to train artificial intelligence models. \
    We store data in the EU.</p>";
/// Only letter case differs: a cosmetic change, which reports leave out.
const BCORP_PRIVACY_2: &str = "<h1>Privacy</h1><p>We do not use your content to train artificial intelligence models. \
    We store data in the eu.</p>";

/// Two services with three documents over January and February, and a third service
/// declared after the last run, so one document is not recorded yet.
pub fn scripted() -> (TestServer, TestArchive) {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/acme/privacy")),
            ("terms-of-service", &server.url("/acme/terms")),
        ],
    );
    archive.declare_simple("bcorp", "B-Corp", &[("privacy-policy", &server.url("/bcorp/privacy"))]);
    let steps: [(&str, &[(&str, &str)]); 4] = [
        (
            JAN15,
            &[
                ("/acme/privacy", ACME_PRIVACY_1),
                ("/acme/terms", ACME_TERMS_1),
                ("/bcorp/privacy", BCORP_PRIVACY_1),
            ],
        ),
        (FEB10, &[("/acme/privacy", ACME_PRIVACY_2)]),
        (FEB20, &[("/bcorp/privacy", BCORP_PRIVACY_2)]),
        (FEB27, &[("/acme/terms", ACME_TERMS_2)]),
    ];
    for (now, pages) in steps {
        for (path, body) in pages {
            server.page(path, &policy_page(body, now));
        }
        let (code, stdout, stderr) = archive.run_at(now, &["track"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    archive.declare_simple("ccorp", "CCorp", &[("terms-of-service", &server.url("/ccorp/terms"))]);
    (server, archive)
}

/// Runs `site --out DIR` at the suite's clock and returns the folder.
fn build_site(archive: &TestArchive, name: &str) -> PathBuf {
    let out = archive.repo.join(name);
    let (code, stdout, stderr) = archive.run(&["site", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    out
}

/// Every file under `root`, by relative path with `/`.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn page(files: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
    let bytes = files.get(path).unwrap_or_else(|| panic!("{path} was not written"));
    String::from_utf8(bytes.clone()).unwrap()
}

/// The 12-character short id of each version of a document, oldest first.
fn short_ids(archive: &TestArchive, document: &str) -> Vec<String> {
    let (_, json, _) = archive.run(&["log", document, "--json"]);
    let log: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut ids: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["commit"].as_str().unwrap()[..12].to_string())
        .collect();
    ids.reverse();
    ids
}

/// The text of each element `selector` matches in `html`: its text nodes joined by one
/// space.
fn texts(html: &str, selector: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(selector).unwrap();
    document
        .select(&selector)
        .map(|e| {
            e.text()
                .collect::<Vec<_>>()
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn the_site_has_an_index_document_pages_versions_reports_provisions_and_feeds() {
    let (_server, archive) = scripted();
    let out = build_site(&archive, "site");
    let files = files(&out);
    let privacy = short_ids(&archive, "acme/privacy-policy");
    let terms = short_ids(&archive, "acme/terms-of-service");
    let bcorp = short_ids(&archive, "bcorp/privacy-policy");
    assert_eq!((privacy.len(), terms.len(), bcorp.len()), (2, 2, 2));

    let mut expected = vec![
        ".clausewatch-site".to_string(),
        "feed.xml".into(),
        "index.html".into(),
        "provisions/ai-training.html".into(),
        "provisions/index.html".into(),
        "reports/2026-01.html".into(),
        "reports/2026-02.html".into(),
        "reports/2026-03.html".into(),
        "reports/index.html".into(),
        "reports/last-30-days.html".into(),
        "reports/last-7-days.html".into(),
    ];
    for (document, ids) in [
        ("acme/privacy-policy", &privacy),
        ("acme/terms-of-service", &terms),
        ("bcorp/privacy-policy", &bcorp),
    ] {
        expected.push(format!("documents/{document}/feed.xml"));
        expected.push(format!("documents/{document}/index.html"));
        for id in ids {
            expected.push(format!("documents/{document}/{id}.html"));
        }
    }
    expected.sort();
    assert_eq!(files.keys().cloned().collect::<Vec<_>>(), expected);

    // The index: every document with its last change; the unrecorded one says so.
    let index = page(&files, "index.html");
    let rows = texts(&index, "table.list tbody tr");
    assert_eq!(
        rows,
        [
            "Privacy Policy 2026-02-10 substantive +1 −1 ~1 2",
            "Terms of Service 2026-02-27 substantive +1 −0 ~0 2",
            "Privacy Policy 2026-02-20 cosmetic +0 −0 ~1 2",
            "Terms of Service not recorded yet",
        ]
    );
    assert_eq!(texts(&index, "section.service h3"), ["Acme", "B-Corp", "CCorp"]);
    assert!(index.contains(&format!(
        "<a href=\"documents/acme/privacy-policy/{}.html\" title=\"Acme Privacy Policy: 1 sentence added, 1 removed, 1 changed\">",
        privacy[1]
    )));
    assert!(index.contains("<p class=\"lead\">4 documents of 3 services tracked, 6 versions recorded.</p>"));
    // Latest changes leave the cosmetic one out, newest first.
    let latest = texts(&index, "ul.recent li");
    assert_eq!(latest.len(), 5, "{latest:?}");
    assert!(latest[0].starts_with("2026-02-27 substantive Acme Terms of Service: 1 sentence added"));
    assert!(latest.iter().all(|l| !l.contains("cosmetic")), "{latest:?}");

    // A document page: its current sentences, each with its age from blame.
    let doc = page(&files, "documents/acme/privacy-policy/index.html");
    let (_, blame, _) = archive.run(&["blame", "acme/privacy-policy", "--json"]);
    let blame: serde_json::Value = serde_json::from_str(&blame).unwrap();
    let blame = blame.as_array().unwrap();
    assert_eq!(blame.len(), 9, "{blame:?}");
    for line in blame {
        let text = line["text"].as_str().unwrap();
        let sentence = text
            .trim_start_matches("# ")
            .trim_start_matches("## ")
            .trim_start_matches("- ");
        let date = &line["date"].as_str().unwrap()[..10];
        let age = line["age_days"].as_i64().unwrap();
        let first = line["commit"].as_str().unwrap().starts_with(&privacy[0]);
        let expected = if first {
            format!("title=\"since {date}, the first record ({age} days)\">{sentence}</span>")
        } else {
            format!(
                "title=\"since {date} ({age} days)\">{sentence}</span> <a class=\"since\" \
                 href=\"../../../documents/acme/privacy-policy/{}.html\">{date}</a>",
                privacy[1]
            )
        };
        assert!(doc.contains(&expected), "{expected}\nnot in\n{doc}");
    }
    assert!(doc.contains("class=\"s new age-month\" title=\"since 2026-02-10 (19 days)\">We keep data for 90 days."));
    assert!(
        !doc.contains("We never sell data."),
        "removed sentences are not current text"
    );
    assert_eq!(texts(&doc, "h1"), ["Acme Privacy Policy acme/privacy-policy"]);
    // Its versions, newest first, each a link to its own page, and a marker for each.
    let versions = texts(&doc, "#versions + table tbody tr");
    assert_eq!(versions.len(), 2);
    assert!(versions[0].starts_with("2026-02-10 06:00 substantive +1 −1 ~1 Acme Privacy Policy: 1 sentence added"));
    // A first record counts every line of its text, headings included, as diffs do.
    assert!(
        versions[1].starts_with("2026-01-15 06:00 first 9 sentences First record of Acme Privacy Policy"),
        "{versions:?}"
    );
    for id in &privacy {
        assert!(doc.contains(&format!("<a href=\"{id}.html\">")), "{id}");
    }
    assert_eq!(doc.matches("<circle class=\"marker").count(), 2);
    assert!(doc.contains("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Policy changes: Acme Privacy Policy\" href=\"feed.xml\">"));

    // A version page: the diff against the version before.
    let version = page(&files, &format!("documents/acme/privacy-policy/{}.html", privacy[1]));
    assert_eq!(
        texts(&version, "ul.added li.provision"),
        ["Data Provision: ai-training We may use your content to train our AI models."]
    );
    assert_eq!(texts(&version, "ul.removed li"), ["Sharing We never sell data."]);
    assert!(version.contains("We keep data for <del>30</del><ins>90</ins> days."));
    assert!(version.contains(&format!(
        "<a rel=\"prev\" href=\"{}.html\">← older version, 2026-01-15</a>",
        privacy[0]
    )));
    assert!(!version.contains("rel=\"next\""), "the newest version has no newer one");
    let cosmetic = page(&files, &format!("documents/bcorp/privacy-policy/{}.html", bcorp[1]));
    assert!(
        cosmetic.contains("We store data in the <del>EU</del><ins>eu</ins>."),
        "{cosmetic}"
    );

    // Markup in a policy's text is shown as text.
    let terms_page = page(&files, "documents/acme/terms-of-service/index.html");
    assert!(terms_page.contains("Never post &lt;script&gt;alert(1)&lt;/script&gt; or &quot;quotes&quot; &amp; such."));
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes).to_lowercase();
        assert!(!text.contains("<script"), "{path} has a script element");
    }

    // Reports: rolling windows and months, cosmetic changes left out.
    let week = page(&files, "reports/last-7-days.html");
    assert!(week.contains("<title>Policy changes, 2026-02-23 to 2026-03-01</title>"));
    assert!(week.contains("<p class=\"lead\">1 change in 1 document.</p>"));
    assert!(week.contains("<a href=\"../documents/acme/terms-of-service/index.html\">terms-of-service</a>"));
    let february = page(&files, "reports/2026-02.html");
    assert!(february.contains("<p class=\"lead\">2 changes in 2 documents.</p>"));
    assert!(february.contains("We keep data for <del>30</del><ins>90</ins> days."));
    assert!(!february.contains("bcorp"), "a cosmetic change is no report's business");
    assert!(page(&files, "reports/2026-01.html").contains("<p class=\"lead\">3 changes in 3 documents.</p>"));
    assert!(page(&files, "reports/2026-03.html").contains("No substantive changes in this period."));
    let reports = texts(&page(&files, "reports/index.html"), "tbody tr");
    assert_eq!(
        reports,
        [
            "Last 7 days 2026-02-23 2026-03-01 1 1",
            "Last 30 days 2026-01-31 2026-03-01 2 2",
            "March 2026 2026-03-01 2026-03-31 0 0",
            "February 2026 2026-02-01 2026-02-28 2 2",
            "January 2026 2026-01-01 2026-01-31 3 3",
        ]
    );

    // Provisions: the matrix and one comparison, agreeing with `compare`.
    let matrix = page(&files, "provisions/index.html");
    assert_eq!(texts(&matrix, "th.platform"), ["acme", "bcorp"], "{matrix}");
    assert!(matrix.contains("<a href=\"../provisions/ai-training.html\">AI training on user content or data</a>"));
    // Each cell states the position (the test taxonomy has no phrases: the title's stand
    // in) and opens to the strongest sentence, its document and since when it stands.
    assert_eq!(
        texts(&matrix, "table.matrix td summary"),
        [
            "AI training on user content or data: yes",
            "AI training on user content or data: no"
        ]
    );
    assert_eq!(
        texts(&matrix, "table.matrix td .evidence"),
        [
            "We may use your content to train our AI models. grants · privacy-policy · since 2026-02-10",
            "We do not use your content to train artificial intelligence models. restricts · privacy-policy · since the first record ( 2026-01-15 )"
        ]
    );
    assert!(
        matrix.contains(&format!(
            "<a href=\"../documents/acme/privacy-policy/index.html\">privacy-policy</a> · since <a href=\"../documents/acme/privacy-policy/{}.html\">2026-02-10</a>",
            privacy[1]
        )),
        "{matrix}"
    );
    let comparison = page(&files, "provisions/ai-training.html");
    let (_, json, _) = archive.run(&["compare", "ai-training", "--format", "json"]);
    let compared: serde_json::Value = serde_json::from_str(&json).unwrap();
    let statements = compared["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    for statement in statements {
        for sentence in statement["sentences"].as_array().unwrap() {
            assert!(comparison.contains(&format!(
                "<td>{}</td><td><a href=\"../documents/{}/{}/index.html\">{}</a></td><td><span class=\"stance stance-{}\">",
                statement["service"].as_str().unwrap(),
                statement["service"].as_str().unwrap(),
                statement["document"].as_str().unwrap(),
                statement["document"].as_str().unwrap(),
                sentence["stance"].as_str().unwrap()
            )));
            assert!(comparison.contains(sentence["text"].as_str().unwrap()));
        }
    }

    // Feeds: valid Atom, substantive changes and first records, newest first.
    let all = atom_syndication::Feed::read_from(&files["feed.xml"][..]).expect("feed.xml is Atom");
    let titles: Vec<&str> = all.entries().iter().map(|e| e.title().as_str()).collect();
    assert_eq!(titles.len(), 5, "{titles:?}");
    assert!(titles[0].starts_with("Acme Terms of Service: 1 sentence added"));
    assert!(titles[1].starts_with("Acme Privacy Policy: 1 sentence added"));
    assert_eq!(all.id(), "tag:clausewatch,2026:feed/all");
    let one = atom_syndication::Feed::read_from(&files["documents/bcorp/privacy-policy/feed.xml"][..]).unwrap();
    assert_eq!(one.id(), "tag:clausewatch,2026:feed/bcorp/privacy-policy");
    assert_eq!(
        one.entries().iter().map(|e| e.title().as_str()).collect::<Vec<_>>(),
        ["First record of B-Corp Privacy Policy"]
    );
    // The same feed as `clausewatch feed` gives for that document.
    let (_, cli_feed, _) = archive.run(&["feed", "bcorp/privacy-policy"]);
    assert_eq!(
        cli_feed.as_bytes(),
        &files["documents/bcorp/privacy-policy/feed.xml"][..]
    );
}

#[test]
fn every_page_is_well_formed_and_every_link_is_relative_and_resolves() {
    let (_server, archive) = scripted();
    let out = build_site(&archive, "site");
    let files = files(&out);
    let href = scraper::Selector::parse("[href]").unwrap();
    let loaded = scraper::Selector::parse("[src], link[rel~=stylesheet], script, iframe, object, embed").unwrap();
    // The parser does report what it had to repair, so an empty list means something.
    assert!(
        !scraper::Html::parse_document("<!DOCTYPE html><p></div>")
            .errors
            .is_empty()
    );
    let mut checked = 0;
    for (path, bytes) in files.iter().filter(|(p, _)| p.ends_with(".html")) {
        let html = String::from_utf8(bytes.clone()).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{path}");
        let document = scraper::Html::parse_document(&html);
        assert!(
            document.errors.is_empty(),
            "{path}: HTML parse errors {:?}",
            document.errors
        );
        assert_eq!(document.select(&loaded).count(), 0, "{path} loads something");
        for element in document.select(&href) {
            let target = element.value().attr("href").unwrap();
            if target.starts_with("https://") || target.starts_with("http://") {
                assert_eq!(
                    element.value().name(),
                    "a",
                    "{path}: only links may point elsewhere: {target}"
                );
                continue;
            }
            assert!(
                !target.starts_with('/') && !target.contains(':') && !target.is_empty(),
                "{path}: {target:?} is not a relative link"
            );
            let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
            let resolved = if file.is_empty() {
                path.clone()
            } else {
                resolve(path, file)
            };
            assert!(
                files.contains_key(&resolved),
                "{path}: {target} -> {resolved} was not written"
            );
            if !fragment.is_empty() {
                let page = String::from_utf8(files[&resolved].clone()).unwrap();
                assert!(
                    page.contains(&format!(" id=\"{fragment}\"")),
                    "{path}: {target}: no id {fragment:?} in {resolved}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} links checked");
}

/// `dir/of/page.html` + `../x.html` -> `dir/of/../x.html` normalized, or a path that
/// cannot exist when it climbs above the site's root.
fn resolve(from: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in relative.split('/') {
        match part {
            ".." => {
                if parts.pop().is_none() {
                    return format!("<above the root>/{relative}");
                }
            }
            "." => {}
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

#[test]
fn the_same_archive_and_clock_give_the_same_bytes_and_a_rerun_changes_nothing() {
    let (_server, archive) = scripted();
    let first = files(&build_site(&archive, "one"));
    let second = files(&build_site(&archive, "two"));
    assert_eq!(first.keys().collect::<Vec<_>>(), second.keys().collect::<Vec<_>>());
    for (path, bytes) in &first {
        assert!(second[path] == *bytes, "{path} differs between two runs");
    }
    let out = archive.repo.join("one");
    let (code, stdout, stderr) = archive.run(&["site", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "site of 3 documents (6 versions) in {}: 0 files written, {} unchanged, 0 removed",
            out.display(),
            first.len() - 1
        )),
        "{stdout}"
    );
    // A later clock moves the rolling reports and ages, and nothing is left behind.
    let (code, _, stderr) = archive.run_at("2026-04-02T00:00:00Z", &["site", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let later = files(&out);
    assert!(later.contains_key("reports/2026-04.html"));
    assert_ne!(later["reports/last-7-days.html"], first["reports/last-7-days.html"]);
    let listed: Vec<String> = String::from_utf8(later[".clausewatch-site"].clone())
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let written: Vec<String> = later.keys().filter(|k| *k != ".clausewatch-site").cloned().collect();
    assert_eq!(listed, written, "the marker lists exactly the files of the run");
}

#[test]
fn a_folder_with_other_files_is_refused_unless_forced_and_its_files_are_kept() {
    let (_server, archive) = scripted();
    let out = archive.repo.join("mine");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "my notes").unwrap();
    let (code, stdout, stderr) = archive.run(&["site", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("did not write") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(files(&out).len(), 1, "nothing is written into a refused folder");

    let (code, _, stderr) = archive.run(&["site", "--out", out.to_str().unwrap(), "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.join("index.html").is_file());
    // Now it is a site: no --force needed, and the notes are still not ours to remove.
    let (code, _, stderr) = archive.run(&["site", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "my notes");

    let file = archive.repo.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (code, _, stderr) = archive.run(&["site", "--out", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not a folder"), "{stderr}");
}

#[test]
fn the_index_and_a_document_page_render_in_a_browser_without_console_errors() {
    let Some(chromium) = crate::render::chromium() else {
        return;
    };
    let (_server, archive) = scripted();
    let out = build_site(&archive, "site");
    let (dom, console) = crate::render::render(&chromium, &out.join("index.html"));
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains("<h3 id=\"service-acme-title\">Acme</h3>"), "{dom}");
    assert!(dom.contains("not recorded yet"));
    let (dom, console) = crate::render::render(&chromium, &out.join("documents/acme/privacy-policy/index.html"));
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains("We may use your content to train our AI models."));
    assert!(dom.contains("<svg class=\"timeline\""));
    let (dom, console) = crate::render::render(&chromium, &out.join("provisions/index.html"));
    assert!(console.is_empty(), "console messages: {console:?}");
    assert_eq!(texts(&dom, "th.platform"), ["acme", "bcorp"]);
}

/// Hostile text through the real paths: a declared service name, the archive's
/// taxonomy, and a version commit written by hand (subject, Source-URL, Provisions and
/// the text). Every HTML file of the site and of `report` and `compare` shows it as text
/// and links only to web addresses or relative paths.
#[test]
fn hostile_declarations_taxonomy_and_commits_stay_text_on_every_page() {
    const HOSTILE: &str = "<script>alert(1)</script> \"><img src=x onerror=alert(1)> &amp;";
    let (server, archive) = scripted();
    archive.declare_simple(
        "acme",
        &format!("Acme {HOSTILE}"),
        &[
            ("privacy-policy", &server.url("/acme/privacy")),
            ("terms-of-service", &server.url("/acme/terms")),
        ],
    );
    let taxonomy = std::fs::read_to_string(archive.archive().join("provisions.toml")).unwrap();
    let taxonomy = taxonomy
        .replace(
            "title = \"AI training on user content or data\"",
            &format!(
                "title = {:?}\ngrants = {:?}",
                format!("AI training {HOSTILE}"),
                format!("may train {HOSTILE}")
            ),
        )
        .replace(
            "regulations = [",
            &format!("regulations = [{:?}, ", format!("Reg {HOSTILE}")),
        );
    std::fs::write(archive.archive().join("provisions.toml"), taxonomy).unwrap();
    let version = archive.archive().join("versions/acme/privacy-policy.md");
    let mut text = std::fs::read_to_string(&version).unwrap();
    text.push_str(&format!(
        "\n## Heading {HOSTILE}\n\nWe may use your content to train our AI models, {HOSTILE}.\n"
    ));
    std::fs::write(&version, text).unwrap();
    archive.git(&["add", "-A"]);
    let message = format!(
        "Subject {HOSTILE}\n\nService: acme\nDocument: privacy-policy\nSource-URL: javascript:alert(1)\n\
         Source-URL: https://acme.example/\"><img src=x onerror=alert(1)>\nFetched-At: 2026-02-28T06:00:00Z\n\
         Snapshot-SHA256: 00\nFetcher: http\nChange: substantive\nProvisions: ai-training, {HOSTILE}\n\
         Canonicalizer: 1\nClausewatch-Version: 0.1.0\n"
    );
    let out = std::process::Command::new("git")
        .current_dir(&archive.repo)
        .env("GIT_AUTHOR_DATE", "2026-02-28T06:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-02-28T06:00:00Z")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "commit",
            "-q",
            "-m",
            &message,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = build_site(&archive, "site");
    let mut pages: BTreeMap<String, String> = files(&out)
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html"))
        .map(|(p, b)| (p, String::from_utf8(b).unwrap()))
        .collect();
    for (name, args) in [
        (
            "report.html",
            &["report", "--since", "2026-01-01", "--format", "html"][..],
        ),
        ("compare.html", &["compare", "ai-training", "--format", "html"][..]),
        ("matrix.html", &["compare", "--all", "--format", "html"][..]),
    ] {
        let (code, html, stderr) = archive.run(args);
        assert_eq!(code, 0, "{name}: {stderr}");
        pages.insert(name.to_string(), html);
    }
    let all = scraper::Selector::parse("*").unwrap();
    let mut shown = 0;
    for (path, html) in &pages {
        let document = scraper::Html::parse_document(html);
        assert!(document.errors.is_empty(), "{path}: {:?}", document.errors);
        for element in document.select(&all) {
            let element = element.value();
            assert!(
                !matches!(element.name(), "script" | "img"),
                "{path}: <{}>",
                element.name()
            );
            for (attribute, value) in element.attrs() {
                assert!(!attribute.starts_with("on"), "{path}: {attribute}={value:?}");
                if attribute == "href" {
                    let scheme = value.split(['/', '?', '#']).next().unwrap();
                    assert!(
                        !scheme.contains(':') || value.starts_with("https://") || value.starts_with("http://"),
                        "{path}: href={value:?}"
                    );
                }
            }
        }
        let text: String = document.root_element().text().collect();
        if text.contains(HOSTILE) {
            shown += 1;
        }
    }
    // The name on every page of Acme and the index; the subject, sentence, heading,
    // provision and URL on the version page and in reports; the title, the position
    // phrase and the sentence in comparisons.
    for path in [
        "index.html",
        "documents/acme/privacy-policy/index.html",
        "reports/2026-02.html",
        "provisions/index.html",
        "provisions/ai-training.html",
        "report.html",
        "compare.html",
        "matrix.html",
    ] {
        let text: String = scraper::Html::parse_document(&pages[path])
            .root_element()
            .text()
            .collect();
        assert!(text.contains(HOSTILE), "{path} does not show the hostile text as text");
    }
    for path in ["provisions/index.html", "matrix.html"] {
        let phrases = texts(&pages[path], "table.matrix summary");
        assert_eq!(
            phrases[0],
            format!("may train {HOSTILE}"),
            "{path}: the taxonomy's phrase, as text"
        );
    }
    let version = pages
        .iter()
        .find(|(p, h)| p.starts_with("documents/acme/privacy-policy/") && h.contains("Subject &lt;script&gt;"))
        .map(|(_, h)| h)
        .expect("the hand-written version has a page");
    for expected in [
        "Subject <script>",
        "Heading <script>",
        "train our AI models, <script>",
        "ai-training<script>",
        "source javascript:alert(1)",
    ] {
        let text: String = scraper::Html::parse_document(version).root_element().text().collect();
        assert!(
            text.contains(expected),
            "{expected:?} not in the version page:\n{version}"
        );
    }
    assert!(shown >= 10, "{shown} pages show the hostile text");
}

/// One recorded document and a site built from it at `JAN15`.
fn one_document_site() -> (TestServer, TestArchive, PathBuf) {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/acme/privacy"))]);
    server.page("/acme/privacy", &policy_page(ACME_PRIVACY_1, JAN15));
    let (code, stdout, stderr) = archive.run_at(JAN15, &["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let out = archive.repo.join("site");
    let (code, stdout, stderr) = archive.run_at(JAN15, &["site", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    (server, archive, out)
}

#[test]
fn a_link_at_a_temporary_name_in_the_site_folder_is_never_written_through() {
    let (_server, archive, out) = one_document_site();
    let outside = tempfile::tempdir().unwrap();
    for temp in [".index.html.clausewatch-tmp", ".clausewatch-site.clausewatch-tmp"] {
        let target = outside.path().join(temp);
        std::fs::write(&target, "keep me\n").unwrap();
        std::os::unix::fs::symlink(&target, out.join(temp)).unwrap();
    }
    // Another day: the front page changes, so it is written again, and so is the marker.
    let index_before = std::fs::read_to_string(out.join("index.html")).unwrap();
    let (code, stdout, stderr) = archive.run_at(FEB10, &["site", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let index = std::fs::symlink_metadata(out.join("index.html")).unwrap();
    assert!(index.is_file(), "index.html is a regular file");
    assert_ne!(std::fs::read_to_string(out.join("index.html")).unwrap(), index_before);
    assert!(
        std::fs::symlink_metadata(out.join(clausewatch::site::MARKER))
            .unwrap()
            .is_file()
    );
    for temp in [".index.html.clausewatch-tmp", ".clausewatch-site.clausewatch-tmp"] {
        assert_eq!(
            std::fs::read_to_string(outside.path().join(temp)).unwrap(),
            "keep me\n",
            "{temp}: the file outside is unchanged"
        );
        assert!(out.join(temp).is_symlink(), "{temp}: the link is left alone");
    }
}

#[test]
fn a_link_where_a_site_file_goes_refuses_the_run_naming_it() {
    let (_server, archive, out) = one_document_site();
    let outside = tempfile::tempdir().unwrap();
    for file in ["index.html", clausewatch::site::MARKER] {
        let target = outside.path().join(file);
        std::fs::rename(out.join(file), &target).unwrap();
        std::os::unix::fs::symlink(&target, out.join(file)).unwrap();
        let before = std::fs::read(&target).unwrap();

        let (code, stdout, stderr) = archive.run_at(FEB10, &["site", "--out", out.to_str().unwrap()]);
        assert_eq!(code, 3, "{file}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("{} is in the way", out.join(file).display())) && stderr.contains("links"),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read(&target).unwrap(),
            before,
            "{file}: the file outside is unchanged"
        );
        assert!(out.join(file).is_symlink(), "{file}: the link is left alone");
        std::fs::remove_file(out.join(file)).unwrap();
        std::fs::rename(&target, out.join(file)).unwrap();
    }
}
