//! What the provision answers say of dates they cannot know: a clause already in the
//! first recorded version, versions the tagger does not read, and `--at DATE`.

use crate::support::{TestArchive, TestServer, policy_page};

const AI: &str = "We may use your content to train our AI models.";
const LOGS: &str = "We keep logs for 30 days.";

fn page(body: &str) -> String {
    policy_page(&format!("<h1>Privacy Policy</h1>{body}"), "")
}

/// acme/privacy-policy: a first record (2026-03-01 06:00, "Effective: January 5, 2026")
/// that already states AI training, then a version stamped exactly at midnight
/// 2026-03-03 that adds a sentence.
fn first_record_archive() -> (TestServer, TestArchive) {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/acme"))]);
    let first = format!("<p>Effective: January 5, 2026</p><p>We collect your name.</p><p>{AI}</p>");
    for (now, body) in [
        ("2026-03-01T06:00:00Z", first.clone()),
        ("2026-03-03T00:00:00Z", format!("{first}<p>{LOGS}</p>")),
    ] {
        server.page("/acme", &page(&body));
        let (code, stdout, stderr) = archive.run_at(now, &["track"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    (server, archive)
}

const NOW: &str = "2026-03-10T00:00:00Z";

#[test]
fn a_clause_of_the_first_record_is_present_there_not_new() {
    let (_server, archive) = first_record_archive();
    let (code, stdout, stderr) = archive.run_at(NOW, &["timeline", "acme/privacy-policy"]);
    assert_eq!(code, 0, "{stderr}");
    let event = stdout.lines().nth(1).unwrap();
    assert!(event.starts_with("  2026-03-01  "), "{stdout}");
    assert!(
        event.ends_with("  present at the first record (declared date 2026-01-05)"),
        "{stdout}"
    );
    assert!(!stdout.contains("appeared"), "{stdout}");

    let (_, json, _) = archive.run_at(NOW, &["timeline", "acme/privacy-policy", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let event = &json["timelines"][0]["events"][0];
    assert_eq!(event["event"], "appeared", "{json}");
    assert_eq!(event["first_record"], true, "{json}");
    assert_eq!(event["declared_date"], "2026-01-05", "{json}");
    assert_eq!(event["sentences"][0]["since_first_record"], true, "{json}");
}

#[test]
fn compare_and_blame_say_a_since_date_is_the_first_record() {
    let (_server, archive) = first_record_archive();
    let (code, md, stderr) = archive.run_at(NOW, &["compare", "ai-training"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        md.contains(&format!(
            "| acme | privacy-policy | grants | first record (2026-03-01) | {AI} |"
        )),
        "{md}"
    );
    assert!(
        md.contains("first record (DATE): the sentence was already in the document's first recorded version"),
        "{md}"
    );
    let (_, json, _) = archive.run_at(NOW, &["compare", "ai-training", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let strongest = &json["positions"]["acme"]["strongest"];
    assert_eq!(strongest["since"], "2026-03-01T06:00:00Z", "{json}");
    assert_eq!(strongest["since_first_record"], true, "{json}");
    let (_, html, _) = archive.run_at(NOW, &["compare", "ai-training", "--format", "html"]);
    assert!(html.contains("since the first record (2026-03-01)"), "{html}");

    let (code, blame, stderr) = archive.run_at(NOW, &["blame", "acme/privacy-policy"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = blame.lines().collect();
    assert!(
        lines[0].starts_with("# first record: 2026-03-01 (")
            && lines[0].contains(", declared date 2026-01-05); its sentences were there when recording began"),
        "{blame}"
    );
    let line_of = |text: &str| *lines.iter().find(|l| l.ends_with(text)).unwrap();
    assert!(
        line_of(AI).starts_with("2026-03-01  ") && line_of(AI).contains(" >=8d  "),
        "{blame}"
    );
    assert!(
        line_of(LOGS).starts_with("2026-03-03  ") && line_of(LOGS).contains("  7d  "),
        "{blame}"
    );
    let (_, json, _) = archive.run_at(NOW, &["blame", "acme/privacy-policy", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let of = |text: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|l| l["text"] == text)
            .unwrap()
            .clone()
    };
    assert_eq!(of(AI)["since_first_record"], true, "{json}");
    assert_eq!(of(LOGS)["since_first_record"], false, "{json}");
}

#[test]
fn a_report_calls_the_first_record_no_change() {
    let (_server, archive) = first_record_archive();
    let (code, md, stderr) = archive.run_at(NOW, &["report", "--since", "2026-03-01"]);
    assert_eq!(code, 0, "{stderr}");
    let (newer, first) = md.split_once("First record of Acme Privacy Policy").unwrap();
    assert!(
        newer.contains("substantive change, commit") && newer.contains("#### Added"),
        "{md}"
    );
    assert!(
        first.contains("first record, commit") && !first.contains("first change"),
        "{md}"
    );
    assert!(
        first.contains("#### Text at the first record") && !first.contains("#### Added"),
        "{md}"
    );
}

#[test]
fn at_a_date_means_the_end_of_that_day_and_says_that_day() {
    let (_server, archive) = first_record_archive();
    let (code, md, stderr) = archive.run_at(NOW, &["compare", "ai-training", "--at", "2026-03-02"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(md.contains("Texts in force at the end of 2026-03-02 (UTC).\n"), "{md}");
    assert!(
        !md.contains("2026-03-03"),
        "the version of 2026-03-03 00:00 is not in force at 2026-03-02: {md}"
    );
    let (_, json, _) = archive.run_at(
        NOW,
        &["compare", "ai-training", "--at", "2026-03-02", "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["at"], "2026-03-02T23:59:59Z", "{json}");
    let (_, matrix, _) = archive.run_at(NOW, &["compare", "--all", "--at", "2026-03-02"]);
    assert!(matrix.starts_with("# Provisions by platform, 2026-03-02\n"), "{matrix}");
    let (_, html, _) = archive.run_at(
        NOW,
        &["compare", "ai-training", "--at", "2026-03-02", "--format", "html"],
    );
    assert!(
        html.contains("Texts in force at the end of 2026-03-02 (UTC)."),
        "{html}"
    );

    // A time is that moment, included: the version stamped exactly then is in force.
    let (_, md, _) = archive.run_at(NOW, &["compare", "ai-training", "--at", "2026-03-03T00:00:00Z"]);
    assert!(md.contains("Texts in force at 2026-03-03 00:00 UTC.\n"), "{md}");
    let (_, provisions, _) = archive.run_at(
        NOW,
        &["provisions", "acme/privacy-policy", "--at", "2026-03-03T00:00:00Z"],
    );
    assert!(
        provisions.starts_with("acme/privacy-policy at 2026-03-03 ("),
        "{provisions}"
    );

    let (_, provisions, _) = archive.run_at(NOW, &["provisions", "acme/privacy-policy", "--at", "2026-03-02"]);
    let header = provisions.lines().next().unwrap();
    assert!(
        header.starts_with("acme/privacy-policy at 2026-03-01 ("),
        "{provisions}"
    );
    assert!(
        header.ends_with("), the version in force at the end of 2026-03-02 (UTC): 1 tag on 1 sentence"),
        "{provisions}"
    );
    let (_, blame, _) = archive.run_at(NOW, &["blame", "acme/privacy-policy", "--at", "2026-03-02"]);
    assert!(!blame.contains(LOGS), "{blame}");
    let (code, _, stderr) = archive.run_at(NOW, &["blame", "acme/privacy-policy", "--at", "2026-02-28"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("acme/privacy-policy has no recorded version at the end of 2026-02-28 (UTC)"),
        "{stderr}"
    );
}

/// The calendar's last day, and a span longer than the calendar reaches back, once
/// overflowed the date arithmetic of `--at` (a panic).
#[test]
fn at_the_ends_of_the_calendar_answers_without_panicking() {
    let (_server, archive) = first_record_archive();
    let (code, md, stderr) = archive.run_at(NOW, &["compare", "ai-training", "--at", "+262142-12-31"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        md.contains("Texts in force at the end of +262142-12-31 (UTC).\n"),
        "{md}"
    );
    let (code, provisions, stderr) =
        archive.run_at(NOW, &["provisions", "acme/privacy-policy", "--at", "+262142-12-31"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        provisions.starts_with("acme/privacy-policy at 2026-03-03 ("),
        "the latest version is in force: {provisions}"
    );
    let (code, blame, stderr) = archive.run_at(NOW, &["blame", "acme/privacy-policy", "--at", "+262142-12-31"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(blame.contains(LOGS), "{blame}");
    let (code, _, stderr) = archive.run_at(NOW, &["blame", "acme/privacy-policy", "--at", "100000000d"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("acme/privacy-policy has no recorded version at"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_answers_name_the_provision_and_count_tags_and_sentences() {
    let (_server, archive) = first_record_archive();
    // A second provision, so that one sentence carries two tags.
    let taxonomy = archive.read("provisions.toml")
        + "\n[[provision]]\nid = \"content-licence\"\ntitle = \"Licence to user content\"\n\
           description = \"The platform may use what people post.\"\nall = [[\"use\"], [\"content\"]]\nwindow = 5\n";
    std::fs::write(archive.archive().join("provisions.toml"), taxonomy).unwrap();

    let (code, stdout, stderr) = archive.run_at(NOW, &["provisions", "acme/privacy-policy"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.lines().next().unwrap().ends_with(": 2 tags on 1 sentence"),
        "{stdout}"
    );

    let (code, stdout, stderr) = archive.run_at(
        NOW,
        &["timeline", "acme/privacy-policy", "--provision", "content-licence"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("present at the first record"), "{stdout}");
    std::fs::write(
        archive.archive().join("provisions.toml"),
        archive
            .read("provisions.toml")
            .replace("[\"use\"], [\"content\"]", "[\"licen*\"], [\"content\"]"),
    )
    .unwrap();
    let (code, stdout, stderr) = archive.run_at(
        NOW,
        &["timeline", "acme/privacy-policy", "--provision", "content-licence"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "content-licence is not stated in any version of acme/privacy-policy\n"
    );
}

/// German, in words of our own: long enough for the language detector.
const GERMAN: &str = "<p>Wir erheben deinen Namen und deine E-Mail-Adresse, wenn du dich bei uns anmeldest.</p>\
    <p>Wir verwenden diese Daten, um unsere Dienste bereitzustellen und zu verbessern.</p>\
    <p>Du kannst der Verarbeitung deiner Daten jederzeit widersprechen und ihre Löschung verlangen.</p>\
    <p>Wir geben deine Daten nicht an Dritte weiter, es sei denn, das Gesetz verlangt es von uns.</p>\
    <p>Wenn du Fragen zu dieser Richtlinie hast, schreibe uns bitte über das Kontaktformular.</p>";

#[test]
fn a_timeline_says_which_versions_were_not_tagged_and_calls_nothing_after_them_new() {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/acme"))]);
    let english = format!(
        "<p>We collect your name and e-mail address when you sign up.</p><p>{AI}</p>\
         <p>You can object to the processing of your data at any time and ask us to delete it.</p>\
         <p>We do not pass your data to others unless the law requires it of us.</p>\
         <p>If you have questions about this policy, please write to us through the contact form.</p>"
    );
    for (now, body) in [
        ("2026-03-01T06:00:00Z", GERMAN.to_string()),
        (
            "2026-03-02T06:00:00Z",
            format!("{GERMAN}<p>Wir speichern Protokolle dreißig Tage lang.</p>"),
        ),
        ("2026-03-04T06:00:00Z", english),
    ] {
        server.page("/acme", &page(&body));
        let (code, stdout, stderr) = archive.run_at(now, &["track"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let (code, stdout, stderr) = archive.run_at(NOW, &["timeline", "acme/privacy-policy"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "not tagged: 2 versions in German (in force 2026-03-01..2026-03-04), a language the tagger does not \
         read: what they state is unknown",
        "{stdout}"
    );
    assert_eq!(lines[1], "ai-training", "{stdout}");
    assert!(
        lines[2].starts_with("  2026-03-04  ")
            && lines[2]
                .ends_with("  first tagged version (earlier versions: German, not tagged, 2026-03-01..2026-03-04)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("appeared") && !stdout.contains("first record"),
        "{stdout}"
    );

    let (_, json, _) = archive.run_at(NOW, &["timeline", "acme/privacy-policy", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let event = &json["timelines"][0]["events"][0];
    assert_eq!(event["first_record"], false, "{json}");
    let span = &event["after_untagged"];
    assert_eq!(span["languages"][0]["code"], "de", "{json}");
    assert_eq!(span["versions"], 2, "{json}");
    assert_eq!(span["from"], "2026-03-01T06:00:00Z", "{json}");
    assert_eq!(span["until"], "2026-03-04T06:00:00Z", "{json}");
}

/// English, German, the same English again: no event follows the German version, yet
/// `timeline --json` still says it went unread, as the text output does.
#[test]
fn timeline_json_lists_versions_not_tagged_that_no_event_follows() {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/acme"))]);
    let english = format!(
        "<p>We collect your name and e-mail address when you sign up.</p><p>{AI}</p>\
         <p>You can object to the processing of your data at any time and ask us to delete it.</p>\
         <p>We do not pass your data to others unless the law requires it of us.</p>\
         <p>If you have questions about this policy, please write to us through the contact form.</p>"
    );
    for (now, body) in [
        ("2026-03-01T06:00:00Z", english.clone()),
        ("2026-03-02T06:00:00Z", GERMAN.to_string()),
        ("2026-03-04T06:00:00Z", english),
    ] {
        server.page("/acme", &page(&body));
        let (code, stdout, stderr) = archive.run_at(now, &["track"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let (code, stdout, stderr) = archive.run_at(NOW, &["timeline", "acme/privacy-policy"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("not tagged: 1 version in German (in force 2026-03-02..2026-03-04)"),
        "{stdout}"
    );

    let (code, json, stderr) = archive.run_at(NOW, &["timeline", "acme/privacy-policy", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let untagged = json["untagged"].as_array().unwrap();
    assert_eq!(untagged.len(), 1, "{json}");
    assert_eq!(untagged[0]["languages"][0]["code"], "de", "{json}");
    assert_eq!(untagged[0]["languages"][0]["name"], "German", "{json}");
    assert_eq!(untagged[0]["versions"], 1, "{json}");
    assert_eq!(untagged[0]["from"], "2026-03-02T06:00:00Z", "{json}");
    assert_eq!(untagged[0]["until"], "2026-03-04T06:00:00Z", "{json}");
    let timelines = json["timelines"].as_array().unwrap();
    assert_eq!(timelines.len(), 1, "{json}");
    assert_eq!(timelines[0]["provision"], "ai-training", "{json}");
    let events = timelines[0]["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "only the first record: {json}");
    assert_eq!(events[0]["first_record"], true, "{json}");
    assert!(json["tagger"]["name"].is_string(), "{json}");
}
