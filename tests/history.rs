//! Reading history: `log`, `diff`, `report`, `feed` and `blame` over archives whose
//! history is scripted through `track` with an injected clock.

use clausewatch::canon::CANONICALIZER_VERSION;

use crate::support::{TestArchive, TestServer, policy_page};

const DAY1: &str = "2026-03-01T06:00:00Z";
const DAY2: &str = "2026-03-02T06:00:00Z";
const DAY3: &str = "2026-03-03T06:00:00Z";
const DAY4: &str = "2026-03-04T06:00:00Z";

const V1: &str = "<h1>Privacy Policy</h1><p>Last updated: January 1, 2026</p>\
    <h2>Data</h2><p>We collect your name. We keep data for 30 days.</p>\
    <h2>Sharing</h2><p>Alpha partners receive reports. Beta partners receive nothing. We never sell data.</p>\
    <p class=promo>Download our app today.</p>";
/// Only quote style and letter case differ from V1.
const V2: &str = "<h1>Privacy Policy</h1><p>Last updated: January 1, 2026</p>\
    <h2>Data</h2><p>We collect your NAME. We keep data for 30 days.</p>\
    <h2>Sharing</h2><p>Alpha partners receive “reports”. Beta partners receive nothing. We never sell data.</p>\
    <p class=promo>Download our app today.</p>";
/// One changed, one added, one removed, one moved sentence; the declared date stayed.
const V3: &str = "<h1>Privacy Policy</h1><p>Last updated: January 1, 2026</p>\
    <h2>Data</h2><p>We collect your NAME. We keep data for 90 days. We may use your content to train our AI models.</p>\
    <h2>Sharing</h2><p>Beta partners receive nothing. Alpha partners receive “reports”.</p>\
    <p class=promo>Download our app today.</p>";

/// Acme's privacy policy tracked at each (time, page), then declared to drop the promo
/// paragraph (so that a re-extraction changes the text).
fn tracked_then_redeclared(versions: &[(&str, &str)]) -> (TestServer, TestArchive) {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    for (now, body) in versions {
        server.page("/privacy", &policy_page(body, now));
        let (code, stdout, stderr) = archive.run_at(now, &["track"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    archive.declare(
        "acme",
        &format!(
            "name = \"Acme\"\n[[documents]]\ntype = \"privacy-policy\"\nurl = \"{}\"\nremove = [\".promo\"]\nfetcher = \"http\"\n",
            server.url("/privacy")
        ),
    );
    (server, archive)
}

/// Day 1 first record, day 2 cosmetic, day 3 substantive, day 4 a re-extraction after
/// the declaration learns to drop the promo paragraph.
pub fn scripted() -> (TestServer, TestArchive) {
    let (server, archive) = tracked_then_redeclared(&[(DAY1, V1), (DAY2, V2), (DAY3, V3)]);
    let (code, stdout, stderr) = archive.run_at(DAY4, &["reextract"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "rebuilt    acme/privacy-policy  Acme Privacy Policy: re-extracted with canonicalizer {CANONICALIZER_VERSION}"
        )),
        "{stdout}"
    );
    (server, archive)
}

#[test]
fn log_lists_versions_newest_first_with_kinds_and_counts() {
    let (_server, archive) = scripted();
    let (code, stdout, _) = archive.run_at(DAY4, &["log"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(
        lines[0].starts_with("2026-03-04 06:00") && lines[0].contains("acme/privacy-policy  reextract"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("2026-03-03 06:00") && lines[1].contains("substantive  +1 -1 ~1 >1"),
        "{stdout}"
    );
    assert!(
        lines[1].ends_with("Acme Privacy Policy: 1 sentence added, 1 removed, 1 changed, 1 moved  [ai-training]"),
        "{stdout}"
    );
    assert!(
        lines[0].ends_with(&format!("re-extracted with canonicalizer {CANONICALIZER_VERSION}")),
        "the rebuild touched no provision: {stdout}"
    );
    // What the change did to the provision, indented under it.
    assert_eq!(lines[2], "    ai-training: added (grants)", "{stdout}");
    assert!(lines[3].contains("cosmetic     +0 -0 ~2"), "{stdout}");
    assert!(
        lines[4].contains("first") && lines[4].ends_with("First record of Acme Privacy Policy"),
        "{stdout}"
    );

    let (_, stdout, _) = archive.run_at(
        DAY4,
        &[
            "log",
            "acme/privacy-policy",
            "--since",
            "2026-03-02",
            "--until",
            "2026-03-03",
            "--json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let kinds: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["substantive", "cosmetic"]);
    assert_eq!(json[0]["counts"]["added"], 1);
    assert_eq!(json[0]["declared_date"], "2026-01-01");
    // An unknown name is a usage error (it used to print "no versions recorded").
    let (code, stdout, stderr) = archive.run_at(DAY4, &["log", "nobody"]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains("no service \"nobody\" is declared or recorded (known: "),
        "{stderr}"
    );
}

#[test]
fn diff_shows_sentences_words_moves_and_headings() {
    let (_server, archive) = scripted();
    // ~1 is the substantive version (the latest is the re-extraction), ~2 the cosmetic one.
    let (code, stdout, stderr) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", "~2", "~1"]);
    assert_eq!(code, 0, "{stderr}");
    let [_, day3, day2, _] = commits(&archive);
    assert_eq!(
        stdout,
        format!(
            "acme/privacy-policy\n\
             old  2026-03-02 06:00 UTC  {}\n\
             new  2026-03-03 06:00 UTC  {}\n\
             1 sentence added, 1 removed, 1 changed, 1 moved\n\
             \n## Data\n~ We keep data for [-30-]{{+90+}} days.\n+ We may use your content to train our AI models.\n\
             \n## Sharing\n- We never sell data.\n> Alpha partners receive “reports”.\n",
            &day2[..12],
            &day3[..12]
        )
    );
    assert!(!stdout.contains("\x1b["), "no colour off a terminal");

    let (_, stdout, _) = archive.run_at(
        DAY4,
        &["diff", "acme/privacy-policy", "2026-03-02", "2026-03-03", "--json"],
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["changed"][0]["old"], "We keep data for 30 days.");
    assert_eq!(
        json["changed"][0]["words"][1],
        serde_json::json!({"op": "removed", "text": "30"})
    );
    assert_eq!(json["removed"][0]["text"], "We never sell data.");
    assert_eq!(json["moved"][0]["heading"], "Sharing");

    let (_, coloured, _) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", "~2", "~1", "--color", "always"]);
    assert!(
        coloured.contains("\x1b[31;9m30\x1b[0m") && coloured.contains("\x1b[32;4m90\x1b[0m"),
        "{coloured}"
    );

    let (code, _, stderr) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", "~9"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("~9 goes back past the first version: acme/privacy-policy has only 4 versions"),
        "{stderr}"
    );
}

/// The commit ids of the scripted document's versions, newest first.
fn commits(archive: &crate::support::TestArchive) -> [String; 4] {
    let (_, stdout, _) = archive.run_at(DAY4, &["log", "acme/privacy-policy", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<String> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["commit"].as_str().unwrap().to_string())
        .collect();
    ids.try_into().expect("four versions")
}

#[test]
fn diff_with_one_version_shows_the_change_that_version_made() {
    let (_server, archive) = scripted();
    let [day4, day3, day2, day1] = commits(&archive);
    let substantive = format!(
        "acme/privacy-policy\n\
         old  2026-03-02 06:00 UTC  {}\n\
         new  2026-03-03 06:00 UTC  {}\n\
         1 sentence added, 1 removed, 1 changed, 1 moved\n\
         \n## Data\n~ We keep data for [-30-]{{+90+}} days.\n+ We may use your content to train our AI models.\n\
         \n## Sharing\n- We never sell data.\n> Alpha partners receive “reports”.\n",
        &day2[..12],
        &day3[..12]
    );
    // The day-3 version against the one it replaced, however it is named: not against
    // the latest version.
    for one in [
        &day3[..8],
        "2026-03-03",
        "~1",
        &format!("{}~1", &day4[..8]),
        &format!("{}^", &day4[..10]),
    ] {
        let (code, stdout, stderr) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", one, "--color", "never"]);
        assert_eq!(code, 0, "{one}: {stderr}");
        assert_eq!(stdout, substantive, "{one}");
    }
    // Two versions step back together: day 3's version from its parent's parent.
    let (_, stdout, _) = archive.run_at(
        DAY4,
        &["diff", "acme/privacy-policy", &format!("{}^^", &day3[..8]), &day3[..8]],
    );
    assert!(
        stdout.starts_with(&format!(
            "acme/privacy-policy\nold  2026-03-01 06:00 UTC  {}\nnew  2026-03-03 06:00 UTC  {}\n",
            &day1[..12],
            &day3[..12]
        )),
        "{stdout}"
    );

    // The first version: nothing before it.
    let (_, stdout, _) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", &day1[..8]]);
    assert!(
        stdout.starts_with(&format!(
            "acme/privacy-policy\n\
             old  none: new is the document's first version\n\
             new  2026-03-01 06:00 UTC  {}\n",
            &day1[..12]
        )),
        "{stdout}"
    );
    assert!(stdout.contains("\n+ We never sell data.\n"), "{stdout}");

    // OLD newer than NEW is said, and the diff reads backwards.
    let (_, stdout, _) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", &day3[..8], &day2[..8]]);
    assert!(
        stdout.starts_with(&format!(
            "acme/privacy-policy\n\
             old  2026-03-03 06:00 UTC  {}\n\
             new  2026-03-02 06:00 UTC  {}\n\
             note: old is newer than new: this diff reads backwards in time\n",
            &day3[..12],
            &day2[..12]
        )),
        "{stdout}"
    );
    assert!(stdout.contains("~ We keep data for [-90-]{+30+} days."), "{stdout}");

    let (_, json, _) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", &day3[..8], &day2[..8], "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["old"]["commit"], day3.as_str());
    assert_eq!(json["old"]["date"], "2026-03-03T06:00:00Z");
    assert_eq!(json["new"]["commit"], day2.as_str());
    assert_eq!(json["old_is_newer"], true);

    let (_, stdout, _) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", "~1", &day3[..8]]);
    assert!(stdout.ends_with("old and new are the same version\n"), "{stdout}");

    let (code, _, stderr) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", &format!("{}~1", &day1[..8])]);
    assert_eq!(code, 2);
    assert!(stderr.contains("has only 4 versions"), "{stderr}");
    let (code, _, stderr) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", "yesterday"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("\"yesterday\" names no version"), "{stderr}");
}

/// A first version, a cosmetic one that adds two wordless lines, and a revert to the
/// first text: written by hand, so the subjects are exactly what `track` writes.
fn cosmetic_and_revert() -> TestArchive {
    let archive = TestArchive::new();
    let text = "# Acme Privacy Policy\n\nWe collect your name.\nWe keep data for 30 days.\n";
    archive.commit_acme_version(text, DAY1, "First record of Acme Privacy Policy", "first");
    archive.commit_acme_version(
        &format!("{text}* * *\n…\n"),
        DAY2,
        "Acme Privacy Policy: cosmetic changes in 2 sentences",
        "cosmetic",
    );
    archive.commit_acme_version(
        text,
        DAY3,
        "Acme Privacy Policy: 2 sentences removed (back to 2026-03-01)",
        "revert",
    );
    archive
}

#[test]
fn log_and_diff_give_a_cosmetic_version_the_same_counts() {
    let archive = cosmetic_and_revert();
    let (code, log, stderr) = archive.run_at(DAY4, &["log", "acme/privacy-policy", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let log: serde_json::Value = serde_json::from_str(&log).unwrap();
    let cosmetic = &log[1];
    assert_eq!(cosmetic["change"], "cosmetic");
    let (_, diff, _) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", "2026-03-02", "--json"]);
    let diff: serde_json::Value = serde_json::from_str(&diff).unwrap();
    let expected = serde_json::json!({"added": 2, "removed": 0, "changed": 0, "moved": 0});
    assert_eq!(diff["counts"], expected);
    assert_eq!(
        cosmetic["counts"], expected,
        "the subject's total is not the count of each kind"
    );
    let (_, text, _) = archive.run_at(DAY4, &["log", "acme/privacy-policy"]);
    assert!(
        text.lines().nth(1).is_some_and(
            |l| l.contains("  cosmetic     +2 -0 ~0        Acme Privacy Policy: cosmetic changes in 2 sentences")
        ),
        "{text}"
    );
    let (_, text, _) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", "2026-03-02"]);
    assert!(text.contains("\n2 sentences added\n"), "{text}");
}

#[test]
fn diff_between_two_versions_with_the_same_text_says_so() {
    let archive = cosmetic_and_revert();
    let (code, stdout, stderr) = archive.run_at(DAY4, &["diff", "acme/privacy-policy", "2026-03-01", "2026-03-03"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.ends_with("\nno change in text: old and new have the same text\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("layout changed"), "{stdout}");
}

#[test]
fn report_lists_substantive_changes_only_in_every_format() {
    let (_server, archive) = scripted();
    let (code, markdown, _) = archive.run_at(DAY4, &["report", "--since", "2026-03-02"]);
    assert_eq!(code, 0);
    assert!(
        markdown.starts_with("# Policy changes, 2026-03-02 to 2026-03-04\n"),
        "until now, day 4: {markdown}"
    );
    // Plurals follow the counts (it said "1 changes in 1 documents.").
    assert!(markdown.contains("\n1 change in 1 document.\n"), "{markdown}");
    assert!(
        markdown.contains("### 2026-03-03 — Acme Privacy Policy: 1 sentence added, 1 removed, 1 changed, 1 moved"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- *Data:* We keep data for ~~30~~ **90** days."),
        "{markdown}"
    );
    assert!(
        markdown.contains("#### Removed\n\n- *Sharing:* We never sell data.\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("the text changed but its declared date did not"),
        "{markdown}"
    );
    assert!(
        !markdown.contains("cosmetic") && !markdown.contains("re-extracted"),
        "{markdown}"
    );

    let (_, until, _) = archive.run_at(DAY4, &["report", "--since", "2026-03-02", "--until", "2026-03-02"]);
    assert!(
        until.starts_with("# Policy changes, 2026-03-02 to 2026-03-02\n"),
        "{until}"
    );
    assert!(
        until.contains("No substantive changes"),
        "the cosmetic change of day 2 is not listed: {until}"
    );
    let (_, json, _) = archive.run_at(DAY4, &["report", "--since", "2026-03-01", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["schema"], 1);
    let changes = json["documents"][0]["changes"].as_array().unwrap();
    let kinds: Vec<&str> = changes.iter().map(|c| c["change"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["substantive", "first"]);
    assert_eq!(changes[0]["flags"], serde_json::json!(["declared-date-unchanged"]));

    let (_, empty, _) = archive.run_at(DAY4, &["report", "--since", "2026-03-04"]);
    assert!(empty.contains("No substantive changes in this period."), "{empty}");
    let (code, _, stderr) = archive.run_at(DAY4, &["report", "--since", "yesterday-ish"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a date"), "{stderr}");
}

#[test]
fn blame_dates_sentences_through_the_reextraction() {
    let (_server, archive) = scripted();
    let (code, stdout, stderr) = archive.run_at(DAY4, &["blame", "acme/privacy-policy", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let date_of = |needle: &str| -> String {
        let line = lines
            .iter()
            .find(|l| l["text"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {stdout}"));
        line["date"].as_str().unwrap()[..10].to_string()
    };
    assert_eq!(date_of("We keep data for 90 days."), "2026-03-03");
    assert_eq!(date_of("train our AI models"), "2026-03-03");
    assert_eq!(
        date_of("Beta partners receive nothing."),
        "2026-03-01",
        "unchanged since the first record"
    );
    assert_eq!(
        date_of("We collect your NAME."),
        "2026-03-01",
        "a cosmetic edit (letter case) does not change since when the sentence has been there"
    );
    assert!(
        !stdout.contains("Download our app"),
        "the re-extraction dropped the promo"
    );
    assert!(
        lines
            .iter()
            .all(|l| !l["date"].as_str().unwrap().starts_with("2026-03-04")),
        "the rebuild is looked through"
    );
    let first = lines
        .iter()
        .find(|l| l["text"] == "Beta partners receive nothing.")
        .unwrap();
    assert_eq!(first["age_days"], 3);

    let (_, stdout, _) = archive.run_at(DAY4, &["blame", "acme/privacy-policy", "--at", "2026-03-01"]);
    assert!(stdout.contains("We never sell data."), "{stdout}");
    // Every sentence is the first record's: a line above says so, and each age is a
    // lower bound.
    let (header, lines) = stdout.split_once('\n').unwrap();
    assert!(header.starts_with("# first record: 2026-03-01 ("), "{stdout}");
    assert!(
        lines
            .lines()
            .all(|l| l.starts_with("2026-03-01") && l.contains(" >=0d  ")),
        "{stdout}"
    );
}

#[test]
fn feed_is_valid_atom_with_stable_ids() {
    let (_server, archive) = scripted();
    let (code, feed, _) = archive.run_at(DAY4, &["feed", "acme/privacy-policy"]);
    assert_eq!(code, 0);
    let parsed = atom_syndication::Feed::read_from(feed.as_bytes()).expect("a valid Atom feed");
    assert_eq!(parsed.entries().len(), 2, "substantive change and first record");
    let entry = &parsed.entries()[0];
    assert_eq!(
        entry.title().as_str(),
        "Acme Privacy Policy: 1 sentence added, 1 removed, 1 changed, 1 moved"
    );
    assert!(entry.id().starts_with("tag:clausewatch,2026:"));
    assert_eq!(entry.updated().to_rfc3339(), "2026-03-03T06:00:00+00:00");
    let content = entry.content().and_then(|c| c.value()).unwrap();
    assert!(
        content.contains("<del>30</del>") && content.contains("<ins>90</ins>"),
        "{content}"
    );
    let (_, again, _) = archive.run_at("2026-04-01T00:00:00Z", &["feed", "acme/privacy-policy"]);
    let again = atom_syndication::Feed::read_from(again.as_bytes()).unwrap();
    assert_eq!(again.entries()[0].id(), entry.id(), "entry ids are stable across runs");
    assert_eq!(
        again.updated(),
        parsed.updated(),
        "the feed is as new as its newest entry"
    );

    let out = archive.repo.join("feed.xml");
    assert_eq!(archive.run_at(DAY4, &["feed", "--out", out.to_str().unwrap()]).0, 0);
    assert!(
        std::fs::read_to_string(out)
            .unwrap()
            .contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
    );
}

#[test]
fn declared_dates_become_trailers() {
    let (_server, archive) = scripted();
    let trailers = archive.git(&[
        "log",
        "--format=%(trailers:key=Declared-Date,valueonly)",
        "-1",
        "HEAD~1",
    ]);
    assert_eq!(trailers.trim(), "2026-01-01");
}

/// The Markdown report read back by a CommonMark parser: the structure a reader (or
/// GitHub) sees, not just the characters.
#[test]
fn the_markdown_report_parses_into_the_expected_structure() {
    use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
    let (_server, archive) = scripted();
    let (_, markdown, _) = archive.run_at(DAY4, &["report", "--since", "2026-03-01"]);
    let mut headings: Vec<(HeadingLevel, String)> = Vec::new();
    let mut current: Option<(HeadingLevel, String)> = None;
    let (mut items, mut struck, mut strong) = (0, Vec::new(), Vec::new());
    let (mut in_strike, mut in_strong) = (false, false);
    for event in Parser::new_ext(&markdown, pulldown_cmark::Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => current = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
            Event::Start(Tag::Item) => items += 1,
            Event::Start(Tag::Strikethrough) => in_strike = true,
            Event::End(TagEnd::Strikethrough) => in_strike = false,
            Event::Start(Tag::Strong) => in_strong = true,
            Event::End(TagEnd::Strong) => in_strong = false,
            Event::Text(text) | Event::Code(text) => {
                if let Some((_, h)) = current.as_mut() {
                    h.push_str(&text);
                }
                if in_strike {
                    struck.push(text.to_string());
                }
                if in_strong {
                    strong.push(text.to_string());
                }
            }
            _ => {}
        }
    }
    let titles: Vec<&str> = headings.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Policy changes, 2026-03-01 to 2026-03-04",
            "acme/privacy-policy",
            "2026-03-03 — Acme Privacy Policy: 1 sentence added, 1 removed, 1 changed, 1 moved",
            "Added",
            "Removed",
            "Changed",
            "Moved",
            "2026-03-01 — First record of Acme Privacy Policy",
            // A first record is the text as recording found it, not sentences added.
            "Text at the first record",
        ]
    );
    // The sections of the HTML report: h1 title, h2 document, h3 change, h4 list.
    let levels: Vec<HeadingLevel> = headings.iter().map(|(l, _)| *l).collect();
    use HeadingLevel::{H1, H2, H3, H4};
    assert_eq!(levels, [H1, H2, H3, H4, H4, H4, H4, H3, H4]);
    assert_eq!(struck, ["30"]);
    // Bold is for inserted words only (the lists' titles are headings now).
    assert_eq!(strong, ["Note:", "90"]);
    assert!(
        items >= 4 + 8,
        "the changes' sentences and the first record's sentences are list items: {items}"
    );
}

/// A git repository laid out like an Open Terms Archive one, with one commit per
/// (date, subject, Markdown) of `Acme/Privacy Policy.md`.
fn ota_history(versions: &[(&str, &str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::support::git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(dir.path().join("Acme")).unwrap();
    for (date, subject, markdown) in versions {
        std::fs::write(dir.path().join("Acme/Privacy Policy.md"), markdown).unwrap();
        crate::support::git(dir.path(), &["add", "-A"]);
        crate::support::commit_dated(dir.path(), date, subject);
    }
    dir
}

/// `import ota-versions` of Acme from the OTA repository at `ota`: (code, stdout, stderr).
fn import_acme(archive: &TestArchive, ota: &std::path::Path) -> (i32, String, String) {
    archive.run(&[
        "import",
        "ota-versions",
        ota.to_str().unwrap(),
        "--service",
        "Acme",
        "--no-progress",
    ])
}

/// An archive holding `versions` of acme/privacy-policy, imported from an OTA history.
fn imported(versions: &[(&str, &str, String)]) -> TestArchive {
    let ota = ota_history(versions);
    let archive = TestArchive::new();
    let (code, stdout, stderr) = import_acme(&archive, ota.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
    archive
}

/// The `change` of each version of acme/privacy-policy, oldest first, by day.
fn kinds(archive: &TestArchive) -> Vec<(String, String)> {
    let (code, stdout, stderr) = archive.run(&["log", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let log: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    log.iter()
        .rev()
        .map(|v| {
            (
                v["date"].as_str().unwrap()[..10].to_string(),
                v["change"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The since-date `blame --json` gives the line holding `needle`.
fn blamed(archive: &TestArchive, needle: &str) -> String {
    let (code, stdout, stderr) = archive.run(&["blame", "acme/privacy-policy", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let line = lines
        .iter()
        .find(|l| l["text"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("{needle} in {stdout}"));
    line["date"].as_str().unwrap()[..10].to_string()
}

#[test]
fn a_number_starting_a_sentence_is_words_not_list_numbering() {
    let v1 = "# Acme Privacy Policy\n\n## Data\n\nWe collect your name and email address.\n\
              30 days after you close your account, we delete your data.\n\n## Children\n\n\
              13 is the minimum age to use Acme.\n\n## Choices\n\n\
              1. You can object to processing.\n2. You can ask for a copy.\n"
        .to_string();
    let v2 = v1.replace("30 days after", "365 days after");
    let v3 = v2.replace("13 is the minimum", "18 is the minimum");
    // What the numbering is set aside for: list items renumbered, the words unchanged.
    let v4 = v3
        .replace("1. You can object", "3. You can object")
        .replace("2. You can ask", "4. You can ask");
    let archive = imported(&[
        ("2024-01-10T10:00:00Z", "Start tracking Acme Privacy Policy", v1),
        ("2024-02-10T10:00:00Z", "Update Acme Privacy Policy", v2),
        ("2024-03-10T10:00:00Z", "Update Acme Privacy Policy", v3),
        ("2024-04-10T10:00:00Z", "Update Acme Privacy Policy", v4),
    ]);
    assert_eq!(
        kinds(&archive),
        [
            ("2024-01-10", "first"),
            ("2024-02-10", "substantive"),
            ("2024-03-10", "substantive"),
            ("2024-04-10", "cosmetic"),
        ]
        .map(|(d, k)| (d.to_string(), k.to_string()))
    );

    let (code, report, stderr) = archive.run(&["report", "--since", "2024-02-01", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let changes = report["documents"][0]["changes"].as_array().unwrap();
    let changed: Vec<(&str, &str, &str)> = changes
        .iter()
        .flat_map(|c| {
            c["changed"].as_array().unwrap().iter().map(|s| {
                (
                    &c["date"].as_str().unwrap()[..10],
                    s["old"].as_str().unwrap(),
                    s["new"].as_str().unwrap(),
                )
            })
        })
        .collect();
    assert_eq!(
        changed,
        [
            (
                "2024-03-10",
                "13 is the minimum age to use Acme.",
                "18 is the minimum age to use Acme."
            ),
            (
                "2024-02-10",
                "30 days after you close your account, we delete your data.",
                "365 days after you close your account, we delete your data."
            ),
        ],
        "the report lists both changes, newest first, and nothing of the renumbering"
    );

    assert_eq!(blamed(&archive, "365 days after you close"), "2024-02-10");
    assert_eq!(blamed(&archive, "18 is the minimum age"), "2024-03-10");
    assert_eq!(
        blamed(&archive, "You can object to processing."),
        "2024-01-10",
        "a renumbered list item keeps its date"
    );
}

#[test]
fn a_provision_a_reextraction_brings_in_appears_in_the_timeline_as_compare_and_blame_date_it() {
    let a = "# Acme Privacy Policy\n\nWe collect your name.\n".to_string();
    let b = format!("{a}\n## Artificial intelligence\n\nWe may use your content to train our AI models.\n");
    let c = b.replace("We collect your name.", "We collect your name and address.");
    // The old extractor missed the section; the Refilter re-reads the page and finds it.
    let archive = imported(&[
        ("2024-01-10T10:00:00Z", "Start tracking Acme Privacy Policy", a),
        ("2024-02-10T10:00:00Z", "Refilter Acme Privacy Policy", b),
        ("2024-03-10T10:00:00Z", "Update Acme Privacy Policy", c),
    ]);
    assert_eq!(kinds(&archive)[1], ("2024-02-10".to_string(), "reextract".to_string()));

    let (code, stdout, stderr) = archive.run(&["timeline", "acme/privacy-policy"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "ai-training", "{stdout}");
    assert!(
        lines[1].starts_with("  2024-02-10") && lines[1].ends_with("appeared"),
        "{stdout}"
    );
    assert_eq!(
        lines[2], "      + [grants] We may use your content to train our AI models.",
        "no earlier since-date to add: the sentence came with the re-extraction"
    );
    assert_eq!(lines.len(), 3, "{stdout}");

    let (_, json, _) = archive.run(&[
        "timeline",
        "acme/privacy-policy",
        "--provision",
        "ai-training",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let event = &json["timelines"][0]["events"][0];
    assert_eq!(event["event"], "appeared", "{json}");
    assert_eq!(&event["date"].as_str().unwrap()[..10], "2024-02-10");
    assert_eq!(&event["sentences"][0]["since"].as_str().unwrap()[..10], "2024-02-10");

    let (_, compare, _) = archive.run(&["compare", "ai-training", "--format", "json"]);
    let compare: serde_json::Value = serde_json::from_str(&compare).unwrap();
    assert_eq!(
        &compare["statements"][0]["sentences"][0]["since"].as_str().unwrap()[..10],
        "2024-02-10",
        "{compare}"
    );
    assert_eq!(blamed(&archive, "train our AI models"), "2024-02-10");
}

/// Runs git in `archive`'s repository with `env`, feeding `input`; returns stdout.
fn git_with(archive: &TestArchive, env: &[(&str, &str)], args: &[&str], input: &[u8]) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new("git")
        .current_dir(&archive.repo)
        .envs(env.iter().copied())
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.org"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_version_too_large_to_read_hidden_in_an_old_commit_is_refused_naming_it() {
    let text = "# Acme Privacy Policy\n\nWe keep your data for thirty days after you close your account.\n";
    let archive = imported(&[
        (
            "2024-01-10T10:00:00Z",
            "Start tracking Acme Privacy Policy",
            text.to_string(),
        ),
        (
            "2024-02-10T10:00:00Z",
            "Update Acme Privacy Policy",
            text.replace("thirty", "ninety"),
        ),
    ]);
    // A commit holding a version just over the limit, well compressed (a clone does not
    // check it out), then one that puts the small text back.
    let line = "We keep your data for thirty days after you close your account.\n";
    let limit = clausewatch::archive::history::MAX_VERSION_TEXT_BYTES as usize;
    let bomb = line.repeat(limit / line.len() + 1);
    let blob = git_with(&archive, &[], &["hash-object", "-w", "--stdin"], bomb.as_bytes());
    let head = archive.git(&["rev-parse", "HEAD"]).trim().to_string();
    let message = archive.git(&["log", "-1", "--format=%B"]);
    let index = archive.repo.join(".git/bomb-index");
    let index_env = [("GIT_INDEX_FILE", index.to_str().unwrap())];
    git_with(&archive, &index_env, &["read-tree", &head], b"");
    let entry = format!("100644,{blob},archive/versions/acme/privacy-policy.md");
    git_with(&archive, &index_env, &["update-index", "--cacheinfo", &entry], b"");
    let tree = git_with(&archive, &index_env, &["write-tree"], b"");
    let at = |date: &'static str| [("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)];
    let commit_bomb = git_with(
        &archive,
        &at("2024-03-10T10:00:00Z"),
        &["commit-tree", &tree, "-p", &head, "-F", "-"],
        message.as_bytes(),
    );
    let restored = git_with(
        &archive,
        &at("2024-04-10T10:00:00Z"),
        &[
            "commit-tree",
            &format!("{head}^{{tree}}"),
            "-p",
            &commit_bomb,
            "-F",
            "-",
        ],
        message.as_bytes(),
    );
    archive.git(&["update-ref", "refs/heads/main", &restored]);

    let refusal = format!(
        "archive/versions/acme/privacy-policy.md at commit {} holds {} bytes, more than the {limit} clausewatch reads",
        &commit_bomb[..12],
        bomb.len()
    );
    for args in [
        &["blame", "acme/privacy-policy"][..],
        &["report", "--since", "2024-01-01"][..],
        &["timeline", "acme/privacy-policy"][..],
    ] {
        let started = std::time::Instant::now();
        let (code, stdout, stderr) = archive.run(args);
        assert_ne!(code, 0, "{args:?}: {stdout}");
        assert!(stderr.contains(&refusal), "{args:?}: {stderr}");
        assert!(started.elapsed().as_secs() < 10, "{args:?} is refused at once");
    }
    // What does not reach that version still reads.
    let (code, stdout, stderr) = archive.run(&["show", "acme/privacy-policy@latest"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ninety days"), "{stdout}");
}

/// Commits `bytes` at `path` on top of HEAD, dated `date`, with HEAD's message (a
/// version commit, as a hostile archive could make one); returns the new commit.
fn commit_blob_at_head(archive: &TestArchive, path: &str, bytes: &[u8], date: &'static str) -> String {
    let blob = git_with(archive, &[], &["hash-object", "-w", "--stdin"], bytes);
    let head = archive.git(&["rev-parse", "HEAD"]).trim().to_string();
    let message = archive.git(&["log", "-1", "--format=%B"]);
    let index = archive.repo.join(".git/blob-index");
    let index_env = [("GIT_INDEX_FILE", index.to_str().unwrap())];
    git_with(archive, &index_env, &["read-tree", &head], b"");
    let entry = format!("100644,{blob},{path}");
    git_with(archive, &index_env, &["update-index", "--cacheinfo", &entry], b"");
    let tree = git_with(archive, &index_env, &["write-tree"], b"");
    let commit = git_with(
        archive,
        &[("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)],
        &["commit-tree", &tree, "-p", &head, "-F", "-"],
        message.as_bytes(),
    );
    archive.git(&["update-ref", "refs/heads/main", &commit]);
    commit
}

#[test]
fn a_head_version_or_snapshot_too_large_to_read_is_refused_naming_it() {
    let line = "We keep your data for thirty days after you close your account.\n";
    let archive = imported(&[(
        "2024-01-10T10:00:00Z",
        "Start tracking Acme Privacy Policy",
        format!("# Acme Privacy Policy\n\n{line}"),
    )]);
    archive.declare_simple("acme", "Acme", &[("privacy-policy", "https://acme.example/privacy")]);
    let limit = clausewatch::archive::history::MAX_VERSION_TEXT_BYTES as usize;
    let refused = |path: &str, commit: &str, size: usize, limit: usize| {
        let refusal = format!(
            "{path} at commit {} holds {size} bytes, more than the {limit} clausewatch reads",
            &commit[..12]
        );
        for args in [&["reextract"][..], &["check", "--snapshots"][..]] {
            let started = std::time::Instant::now();
            let (code, stdout, stderr) = archive.run(args);
            assert_ne!(code, 0, "{args:?}: {stdout}");
            assert!(stderr.contains(&refusal), "{args:?}: {stderr}");
            assert!(started.elapsed().as_secs() < 10, "{args:?} is refused at once");
        }
    };

    // The version file at HEAD, just over the limit.
    let version = line.repeat(limit / line.len() + 1);
    let version_path = "archive/versions/acme/privacy-policy.md";
    let commit = commit_blob_at_head(&archive, version_path, version.as_bytes(), "2024-02-10T10:00:00Z");
    refused(version_path, &commit, version.len(), limit);

    // The version put back, and the snapshot at HEAD just over its limit (the body cap's
    // default, with room for a combined document's marker line).
    let small = format!("# Acme Privacy Policy\n\n{line}");
    commit_blob_at_head(&archive, version_path, small.as_bytes(), "2024-03-10T10:00:00Z");
    let snapshot_limit = limit + 64 * 1024;
    let snapshot = line.repeat(snapshot_limit / line.len() + 1);
    let snapshot_path = "archive/snapshots/acme/privacy-policy.md";
    let commit = commit_blob_at_head(&archive, snapshot_path, snapshot.as_bytes(), "2024-04-10T10:00:00Z");
    refused(snapshot_path, &commit, snapshot.len(), snapshot_limit);
}

/// `show` checks a version's snapshot against its recorded SHA-256 by reading it; a
/// stored file larger than any body cap records (a blob bomb in a cloned archive) is
/// left unread, and `show` says so instead of inflating it.
#[test]
fn show_leaves_a_snapshot_larger_than_any_body_cap_unread() {
    let line = "We keep your data for thirty days after you close your account.\n";
    let archive = imported(&[(
        "2024-01-10T10:00:00Z",
        "Start tracking Acme Privacy Policy",
        format!("# Acme Privacy Policy\n\n{line}"),
    )]);
    let limit = 64 * 1024 * 1024 + 64 * 1024;
    let snapshot = line.repeat(limit / line.len() + 1);
    let path = "archive/snapshots/acme/privacy-policy.md";
    commit_blob_at_head(&archive, path, snapshot.as_bytes(), "2024-02-10T10:00:00Z");
    // A version on top, whose tree holds that snapshot.
    let text = format!("# Acme Privacy Policy\n\n{}", line.replace("thirty", "ninety"));
    let version_path = "archive/versions/acme/privacy-policy.md";
    commit_blob_at_head(&archive, version_path, text.as_bytes(), "2024-02-10T10:00:01Z");
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = archive.run(&["show", "acme/privacy-policy@latest", "--no-text"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("{path} (SHA-256 "))
            && stdout.contains(&format!(
                ", not checked: the stored file is {} bytes, more than the {limit} show reads)",
                snapshot.len()
            )),
        "{stdout}"
    );
    assert!(started.elapsed().as_secs() < 10, "left unread at once");
}

/// A page over the default body cap recorded under a larger `--max-body-mb` reads back
/// under the same value; the cap itself is bounded, from the archive's settings too.
#[test]
fn a_snapshot_recorded_under_a_larger_body_cap_reads_back_under_it() {
    let server = TestServer::start();
    let default_cap = clausewatch::archive::history::MAX_VERSION_TEXT_BYTES as usize;
    // A short policy in a page just over what is read by default (20 MiB and the room
    // for a combined document's markers): the bulk is a comment, not text.
    let page = format!(
        "<html><body><main><h1>Privacy Policy</h1><p>We keep your data for thirty days.</p></main>\
         <!-- {} --></body></html>",
        "x".repeat(default_cap + 128 * 1024)
    );
    server.page("/privacy", &page);
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);

    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 1, "over the default body cap: {stdout}{stderr}");
    assert!(stdout.contains("failed     acme/privacy-policy"), "{stdout}");
    let (code, stdout, stderr) = archive.run(&["track", "--max-body-mb", "21"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("recorded   acme/privacy-policy"), "{stdout}");

    // Read without the cap it was recorded under: refused unread, saying what to pass.
    for args in [&["reextract"][..], &["check", "--snapshots"][..]] {
        let (code, stdout, stderr) = archive.run(args);
        assert_eq!(code, 3, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!(
                "archive/snapshots/acme/privacy-policy.html at commit {} holds {} bytes, more than the {} \
                 clausewatch reads; a snapshot recorded under a larger body cap is read under the same one: \
                 pass the --max-body-mb it was recorded with (or set [fetch] max_body_mb), at most 64",
                &archive.git(&["rev-parse", "HEAD"])[..12],
                page.len(),
                default_cap + 64 * 1024
            )),
            "{args:?}: {stderr}"
        );
    }
    // With it (the flag, or the settings file), it is read.
    let (code, stdout, stderr) = archive.run(&["reextract", "--max-body-mb", "21"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("unchanged  acme/privacy-policy"), "{stdout}");
    std::fs::write(
        archive.archive().join("clausewatch.toml"),
        "[fetch]\nmax_body_mb = 21\n",
    )
    .unwrap();
    let (code, stdout, stderr) = archive.run(&["check", "--snapshots"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("same       acme/privacy-policy"), "{stdout}");

    // A body cap over the ceiling is refused from every source, the archive's own
    // settings included: they cannot make a reader allocate more than 64 MiB a page.
    std::fs::write(
        archive.archive().join("clausewatch.toml"),
        "[fetch]\nmax_body_mb = 65\n",
    )
    .unwrap();
    for args in [&["track"][..], &["reextract"][..], &["check", "--snapshots"][..]] {
        let (code, stdout, stderr) = archive.run(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains("max_body_mb: 65 MB: choose between 1 and 64"),
            "{args:?}: {stderr}"
        );
    }
    std::fs::remove_file(archive.archive().join("clausewatch.toml")).unwrap();
    let (code, _, stderr) = archive.run(&["track", "--max-body-mb", "1000000"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("max_body_mb: 1000000 MB: choose between 1 and 64"),
        "{stderr}"
    );
}

#[test]
fn an_ota_version_too_large_to_read_is_skipped_naming_it() {
    let text = "# Acme Privacy Policy\n\nWe keep your data for thirty days after you close your account.\n";
    let line = "We keep your data for thirty days after you close your account.\n";
    let limit = clausewatch::archive::history::MAX_VERSION_TEXT_BYTES as usize;
    let bomb = line.repeat(limit / line.len() + 1);
    let ota = ota_history(&[
        (
            "2024-01-10T10:00:00Z",
            "Start tracking Acme Privacy Policy",
            text.to_string(),
        ),
        ("2024-02-10T10:00:00Z", "Update Acme Privacy Policy", bomb.clone()),
        (
            "2024-03-10T10:00:00Z",
            "Update Acme Privacy Policy",
            text.replace("thirty", "ninety"),
        ),
    ]);
    let bomb_commit = crate::support::git(ota.path(), &["rev-parse", "HEAD~1"]);
    let archive = TestArchive::new();
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = import_acme(&archive, ota.path());
    assert!(started.elapsed().as_secs() < 10, "skipped at once");
    assert!(
        stdout.contains(&format!(
            "OTA commit {} (Update Acme Privacy Policy): too-large: Acme/Privacy Policy.md holds {} bytes, \
             more than the {limit} clausewatch reads",
            &bomb_commit.trim()[..12],
            bomb.len()
        )),
        "{stdout}{stderr}"
    );
    let (_, shown, _) = archive.run(&["show", "acme/privacy-policy@latest"]);
    assert!(
        shown.contains("ninety days"),
        "the versions around it are recorded: {shown}"
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn a_reextraction_never_goes_before_the_latest_version() {
    let (_server, archive) = tracked_then_redeclared(&[(DAY1, V1), (DAY3, V3)]);
    let before = archive.git(&["rev-parse", "HEAD"]);
    // This machine's clock says the 2nd, the latest version is of the 3rd.
    let (code, stdout, stderr) = archive.run_at(DAY2, &["reextract"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "failed     acme/privacy-policy  clock-behind: the re-extraction time (2026-03-02T06:00:00Z) would go \
         before the latest recorded version (2026-03-03T06:00:00Z), and recorded history is never rewritten: \
         this machine's clock seems to be behind; set it right and run again (the rebuilt text was not recorded)\n"
    );
    assert_eq!(archive.git(&["rev-parse", "HEAD"]), before, "nothing was committed");
    // The same second as the latest version is after it, in commit order.
    let (code, stdout, stderr) = archive.run_at(DAY3, &["reextract"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("rebuilt    acme/privacy-policy  "), "{stdout}");
}
