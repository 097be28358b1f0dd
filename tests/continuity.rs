//! Pages that are not the document, told by the version before them
//! (`track::continuity`): a body cut short behind a matching `Content-Length`, an error
//! or login page wrapped in prose, another page behind a redirect; and the real
//! changes that look like them (sections dropped, a policy that moved) still recorded.
//! Every page here is written for these tests.

use crate::support::{Response, TestArchive, TestServer};

/// A policy page of `sections` sections, each a heading and two sentences.
pub(crate) fn policy(sections: std::ops::Range<usize>, title: &str) -> String {
    let body: String = sections
        .map(|i| {
            format!(
                "<h2>Section {i}: how we handle records of kind {i}</h2>\
                 <p>We keep records of kind {i} for as long as your account stays open with us.</p>\
                 <p>You may ask us to delete records of kind {i} at any time by writing to our office.</p>"
            )
        })
        .collect();
    format!(
        "<!doctype html><html><head><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main>\
         <footer>Acme Example Ltd</footer></body></html>\n"
    )
}

const LATER: &str = "2026-03-03T00:00:00Z";
const LATER_STILL: &str = "2026-03-04T00:00:00Z";

fn version_count(archive: &TestArchive) -> usize {
    archive
        .git(&["log", "--format=%H", "--", "archive/versions/acme/privacy-policy.md"])
        .lines()
        .count()
}

#[test]
fn a_body_cut_short_with_a_matching_length_is_not_recorded_and_dropped_sections_are() {
    let server = TestServer::start();
    let full = policy(0..40, "Privacy Policy");
    server.page("/privacy", &full);
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // 57% of the bytes, cut inside a word, served with their own Content-Length.
    let at = full.find("delete records of kind 22").unwrap() + "delete rec".len();
    assert!((0.5..0.65).contains(&(at as f64 / full.len() as f64)));
    server.page("/privacy", &full[..at]);
    let (code, stdout, stderr) = archive.run_at(LATER, &["track"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("acme/privacy-policy  truncated: the text is the last version's first")
            && stdout.contains("stops in the middle of a line, which went on \"…ords of kind 22 at any time")
            && stdout.contains("run again with --accept-shrink=acme/privacy-policy"),
        "{stdout}"
    );
    // Cut after a whole paragraph: the closing tags the old page had are gone.
    let at = full.find("<h2>Section 23").unwrap();
    server.page("/privacy", &full[..at]);
    let (code, stdout, _) = archive.run_at(LATER, &["track"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("truncated:") && stdout.contains("its page lost the closing </body> and </html> tags"),
        "{stdout}"
    );
    assert_eq!(version_count(&archive), 1, "nothing recorded");

    // The document really did drop its last sections: a whole page, whole lines.
    server.page("/privacy", &policy(0..23, "Privacy Policy"));
    let (code, stdout, stderr) = archive.run_at(LATER_STILL, &["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("recorded   acme/privacy-policy"), "{stdout}");
    assert_eq!(version_count(&archive), 2);
}

#[test]
fn accept_shrink_records_a_cut_text_the_user_has_checked() {
    let server = TestServer::start();
    let full = policy(0..40, "Privacy Policy");
    server.page("/privacy", &full);
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    assert_eq!(archive.run(&["track"]).0, 0);
    let at = full.find("delete records of kind 22").unwrap() + "delete rec".len();
    server.page("/privacy", &full[..at]);
    let (code, stdout, stderr) = archive.run_at(LATER, &["track", "--accept-shrink=acme/privacy-policy"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(version_count(&archive), 2);
}

/// Thirty teasers of a magazine, each two sentences: far more prose than an error page.
fn teasers() -> String {
    (0..30)
        .map(|i| {
            format!(
                "<article><h3>Story {i}</h3><p>Our reporters spent week {i} with a team of gardeners in a small town. \
                 They came back with notes about soil, patience and the weather of that spring.</p></article>"
            )
        })
        .collect()
}

#[test]
fn an_error_or_login_page_wrapped_in_prose_is_not_recorded_after_a_version() {
    let server = TestServer::start();
    server.page("/privacy", &policy(0..40, "Privacy Policy"));
    server.page("/terms", &policy(0..40, "Terms of Service"));
    let not_found = format!(
        "<!doctype html><html><head><title>Page Not Found | Acme</title></head><body><main>\
         <h1>Page not found</h1><p>Here is what we published lately.</p>{}</main></body></html>",
        teasers()
    );
    let login = format!(
        "<!doctype html><html><head><title>Sign in to Acme</title></head><body><main>\
         <h1>Sign in</h1><form><input name=\"email\"><button>Continue</button></form>{}</main></body></html>",
        teasers()
    );
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/privacy")),
            ("terms-of-service", &server.url("/terms")),
            ("community-guidelines", &server.url("/guidelines")),
        ],
    );
    // With no version before it, a wrapped page reads as a document (as before).
    server.page("/guidelines", &not_found);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("recorded   acme/community-guidelines"), "{stdout}");

    server.page("/privacy", &not_found);
    server.page("/terms", &login);
    let (code, stdout, stderr) = archive.run_at(LATER, &["track"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "acme/privacy-policy  not-found: {} is a \"not found\" page, not the document (the title \
             \"page not found | acme\" says \"not found\", and the text keeps 0% of the last version's sentences)",
            server.url("/privacy")
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme/terms-of-service  forbidden:")
            && stdout.contains("is a login wall, not the document (the title \"sign in to acme\" says \"sign in\""),
        "{stdout}"
    );
    assert_eq!(version_count(&archive), 1);
}

#[test]
fn a_redirect_to_another_page_is_refused_and_a_moved_policy_is_recorded_with_where_it_ended() {
    let server = TestServer::start();
    server.page("/privacy", &policy(0..40, "Privacy Policy"));
    server.page("/terms", &policy(0..40, "Terms of Service"));
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

    // The privacy policy now lands on the help centre; the terms moved, one clause edited.
    server.set("/privacy", vec![Response::redirect(302, "/help")]);
    // As long as the policy's text, so not a shrink: a list of questions, little prose.
    server.page("/help", &help_centre());
    server.set("/terms", vec![Response::redirect(301, "/legal/terms")]);
    let moved = policy(0..40, "Terms of Service").replace(
        "We keep records of kind 3 for as long",
        "We keep records of kind 3 for ninety days, or as long",
    );
    server.page("/legal/terms", &moved);
    let (code, stdout, stderr) = archive.run_at(LATER, &["track", "--json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let documents = json["documents"].as_array().unwrap();
    let privacy = documents.iter().find(|d| d["document"] == "privacy-policy").unwrap();
    assert_eq!(privacy["status"], "failed");
    assert_eq!(privacy["category"], "redirect");
    let message = privacy["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "{} was redirected to {}, whose text keeps 0% of the last version's sentences",
            server.url("/privacy"),
            server.url("/help")
        )) && message.ends_with("if the document moved there, update the declaration's URL"),
        "{message}"
    );
    let terms = documents.iter().find(|d| d["document"] == "terms-of-service").unwrap();
    assert_eq!(terms["status"], "recorded", "{terms}");
    assert_eq!(terms["redirected_to"], serde_json::json!([server.url("/legal/terms")]));
    let body = archive.git(&[
        "log",
        "-1",
        "--format=%B",
        "--",
        "archive/versions/acme/terms-of-service.md",
    ]);
    assert!(
        body.contains(&format!("Source-URL: {}\n", server.url("/terms")))
            && body.contains(&format!("Redirected-To: {}\n", server.url("/legal/terms"))),
        "{body}"
    );
    // A version fetched where it was declared carries no such trailer.
    let first = archive.git(&["log", "--format=%B", "--", "archive/versions/acme/privacy-policy.md"]);
    assert!(!first.contains("Redirected-To:"), "{first}");
}

/// A help centre: as long as a policy page, with little prose.
pub(crate) fn help_centre() -> String {
    let questions: String = (0..120)
        .map(|i| format!("<li><a href=\"/help/{i}\">Where do I find the number of parcel {i}</a></li>"))
        .collect();
    format!(
        "<!doctype html><html><head><title>Help Centre</title></head><body><main><h1>Help Centre</h1>\
         <p>How can we help you today? Pick a topic below to find answers from our team.</p>\
         <ul>{questions}</ul></main></body></html>"
    )
}

/// The declaration health check calls unhealthy what `track` refuses against the
/// version before, and says why, as `track` does.
#[test]
fn check_fetch_reports_what_track_refuses_against_the_version_before() {
    let server = TestServer::start();
    let full = policy(0..40, "Privacy Policy");
    server.page("/privacy", &full);
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
    assert_eq!(archive.run(&["track"]).0, 0);
    let (code, stdout, stderr) = archive.run_at(LATER, &["check", "--fetch"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "stable     acme/privacy-policy\n1 stable, 0 unstable, 0 drifted, 0 failed\n"
    );

    // The policy's URL now lands on the help centre.
    server.set("/privacy", vec![Response::redirect(302, "/help")]);
    server.page("/help", &help_centre());
    let (code, stdout, stderr) = archive.run_at(LATER, &["track"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("acme/privacy-policy  redirect: "), "{stdout}");
    let (code, stdout, stderr) = archive.run_at(LATER, &["check", "--fetch"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "drifted    acme/privacy-policy  redirect: {} was redirected to {}, whose text keeps 0% of the last \
             version's sentences",
            server.url("/privacy"),
            server.url("/help")
        )),
        "{stdout}"
    );
    assert!(stdout.contains("    fetched only:      # Help Centre\n"), "{stdout}");
    assert!(
        stdout.contains(
            "    no suggested fix:  the declared URL does not lead to the document (a redirect to another page, or \
             one that goes nowhere); a selector cannot mend that: if the document moved, declare its new URL"
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 stable, 0 unstable, 1 drifted, 0 failed\n"),
        "{stdout}"
    );
    let (_, json, _) = archive.run_at(LATER, &["check", "--fetch", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json[0]["status"], "drifted", "{json}");
    assert_eq!(json[0]["category"], "redirect", "{json}");

    // A body cut inside a word, the same at every fetch: `track` refuses it, and so
    // does the health check.
    let at = full.find("delete records of kind 22").unwrap() + "delete rec".len();
    server.page("/privacy", &full[..at]);
    assert_eq!(archive.run_at(LATER, &["track"]).0, 1);
    let (code, stdout, stderr) = archive.run_at(LATER, &["check", "--fetch"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("drifted    acme/privacy-policy  truncated: the text is the last version's first"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    no suggested fix:  the page arrived cut short; a selector cannot mend that"),
        "{stdout}"
    );
    assert_eq!(version_count(&archive), 1, "nothing recorded");
}

#[test]
fn imports_skip_a_cut_version_and_skip_it_again_on_a_reimport() {
    let full: String = (0..40)
        .map(|i| format!("## Section {i}\n\nWe keep records of kind {i} for as long as your account stays open.\n\n"))
        .collect();
    let at = full.find("records of kind 22").unwrap() + "records of ki".len();
    let edited = full.replace("records of kind 3 for", "records of kind 3 for ninety days, not");
    let repo = crate::error_pages::ota_repo(&[
        ("Acme/Privacy Policy.md", full.clone(), "2024-01-01T00:00:00Z"),
        ("Acme/Privacy Policy.md", full[..at].to_string(), "2024-02-01T00:00:00Z"),
        ("Acme/Privacy Policy.md", edited, "2024-03-01T00:00:00Z"),
    ]);
    let repo_arg = repo.path().to_str().unwrap();
    let archive = TestArchive::new();
    let (code, stdout, stderr) = archive.run(&["import", "ota-versions", repo_arg, "--service", "Acme"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("imported   acme/privacy-policy  2 recorded, 1 skipped\n") && stdout.contains("truncated: "),
        "{stdout}"
    );
    let (code, stdout, stderr) = archive.run(&["import", "ota-versions", repo_arg, "--service", "Acme"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("0 recorded") && stdout.contains("1 skipped"),
        "{stdout}"
    );
}
