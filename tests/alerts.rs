//! `track --notify`: webhook alerts for substantive changes, their three payload formats,
//! retries, and webhook secrets that never show.

use std::process::Output;

use crate::support::{NOW, Response, TestArchive, TestServer, policy_page, server::refused_url};

const V1: &str = "<h1>Privacy Policy</h1><p>We collect your name. We keep data for 30 days.</p>";
const V2: &str = "<h1>Privacy Policy</h1><p>We collect your name and e-mail address. We keep data for 30 days.</p>\
                  <p>We may use your content to train our AI models.</p>";

fn setup(site: &TestServer) -> TestArchive {
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &site.url("/privacy"))]);
    archive
}

fn text(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_substantive_change_posts_generic_slack_and_discord_payloads() {
    let site = TestServer::start();
    let hooks = TestServer::start();
    for path in ["/generic", "/slack", "/discord"] {
        hooks.set(path, vec![Response::new(200, "ok")]);
    }
    site.page("/privacy", &policy_page(V1, ""));
    let archive = setup(&site);
    let slack = format!("slack+{}", hooks.url("/slack"));
    let discord = format!("discord+{}", hooks.url("/discord"));
    let generic = hooks.url("/generic");
    let args = ["track", "--notify", &generic, "--notify", &slack, "--notify", &discord];

    // A first record says nothing changed: no alert.
    let (code, stdout, stderr) = archive.run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for path in ["/generic", "/slack", "/discord"] {
        assert_eq!(hooks.hits(path), 0, "{path}");
    }

    site.page("/privacy", &policy_page(V2, ""));
    let output = archive
        .cmd(&args)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/archive")
        .output()
        .unwrap();
    let (code, stdout, stderr) = text(&output);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("alerts     3 delivered, 0 not delivered"), "{stdout}");
    let commit = archive.git(&["log", "-1", "--format=%H"]).trim().to_string();
    let commit_url = format!("https://github.com/acme/archive/commit/{commit}");
    let source = site.url("/privacy");

    let requests = hooks.requests("/generic");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    let body = requests[0].json();
    assert_eq!(body["schema"], 1);
    assert_eq!(body["event"], "change");
    assert_eq!(body["service"], "acme");
    assert_eq!(body["service_name"], "Acme");
    assert_eq!(body["document"], "privacy-policy");
    assert_eq!(body["title"], "Acme Privacy Policy");
    assert_eq!(body["change"], "substantive");
    assert_eq!(body["summary"], "Acme Privacy Policy: 1 sentence added, 1 changed");
    assert_eq!(body["text"], body["summary"]);
    assert_eq!(
        body["counts"],
        serde_json::json!({"added": 1, "removed": 0, "changed": 1, "moved": 0})
    );
    assert_eq!(
        body["sentences"],
        serde_json::json!({
            "added": ["We may use your content to train our AI models."],
            "removed": [],
            "changed": [{"old": "We collect your name.", "new": "We collect your name and e-mail address."}],
            "more": 0,
        })
    );
    assert_eq!(
        body["provisions"],
        serde_json::json!([{"id": "ai-training", "title": "AI training on user content or data"}])
    );
    assert_eq!(body["commit"], commit.as_str());
    assert_eq!(body["commit_url"], commit_url.as_str());
    assert_eq!(body["source_urls"], serde_json::json!([source]));
    assert_eq!(body["fetched_at"], NOW);

    let requests = hooks.requests("/slack");
    assert_eq!(requests.len(), 1);
    let body = requests[0].json();
    assert_eq!(body["text"], "Acme Privacy Policy: 1 sentence added, 1 changed");
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["text"], "Acme Privacy Policy");
    let summary = blocks[1]["text"]["text"].as_str().unwrap();
    assert!(
        summary.contains("*Provisions touched:* AI training on user content or data (`ai-training`)"),
        "{summary}"
    );
    let quoted = blocks[2]["text"]["text"].as_str().unwrap();
    assert!(
        quoted.contains("- We collect your name.\n+ We collect your name and e-mail address.\n"),
        "{quoted}"
    );
    assert!(
        quoted.contains("+ We may use your content to train our AI models."),
        "{quoted}"
    );
    let context = blocks[3]["elements"][0]["text"].as_str().unwrap();
    assert!(
        context.contains(&format!("<{commit_url}|Commit {}>", &commit[..12])),
        "{context}"
    );
    assert!(context.contains(&format!("<{source}|Source>")), "{context}");

    let requests = hooks.requests("/discord");
    assert_eq!(requests.len(), 1);
    let body = requests[0].json();
    assert_eq!(body["content"], "**Acme Privacy Policy: 1 sentence added, 1 changed**");
    assert_eq!(body["allowed_mentions"], serde_json::json!({"parse": []}));
    let embed = &body["embeds"][0];
    assert_eq!(embed["title"], "Acme Privacy Policy");
    assert_eq!(embed["url"], commit_url.as_str());
    let description = embed["description"].as_str().unwrap();
    assert!(description.starts_with("```diff\n"), "{description}");
    assert!(
        description.contains("+ We may use your content to train our AI models."),
        "{description}"
    );
    let fields = embed["fields"].as_array().unwrap();
    let provisions = fields.iter().find(|f| f["name"] == "Provisions touched").unwrap();
    assert_eq!(
        provisions["value"],
        "AI training on user content or data (`ai-training`)"
    );
    let source_field = fields.iter().find(|f| f["name"] == "Source").unwrap();
    assert_eq!(source_field["value"], source.as_str());
}

#[test]
fn first_records_and_cosmetic_changes_do_not_alert() {
    let site = TestServer::start();
    let hooks = TestServer::start();
    hooks.set("/hook", vec![Response::new(204, "")]);
    site.page(
        "/privacy",
        &policy_page("<p>We \"may\" share data - sometimes.</p>", ""),
    );
    let archive = setup(&site);
    let track = |archive: &TestArchive| {
        let output = archive
            .cmd(&["track"])
            .env("CLAUSEWATCH_NOTIFY", hooks.url("/hook"))
            .output()
            .unwrap();
        text(&output)
    };
    assert_eq!(track(&archive).0, 0);
    site.page("/privacy", &policy_page("<p>We “may” share DATA — sometimes.</p>", ""));
    let (code, stdout, _) = track(&archive);
    assert_eq!(code, 0);
    assert_eq!(
        archive.subjects()[0],
        "Acme Privacy Policy: cosmetic changes in 1 sentence"
    );
    assert!(!stdout.contains("alerts"), "no alert, so no alert line: {stdout}");
    assert_eq!(hooks.hits("/hook"), 0);

    // The same setup does alert on a change of wording.
    site.page("/privacy", &policy_page("<p>We “may” sell DATA — sometimes.</p>", ""));
    let (code, stdout, _) = track(&archive);
    assert_eq!(code, 0);
    assert!(stdout.contains("alerts     1 delivered"), "{stdout}");
    assert_eq!(hooks.hits("/hook"), 1);
}

#[test]
fn a_failed_delivery_is_retried_and_delivered_once() {
    let site = TestServer::start();
    let hooks = TestServer::start();
    hooks.set("/hook", vec![Response::new(500, "busy"), Response::new(200, "ok")]);
    site.page("/privacy", &policy_page(V1, ""));
    let archive = setup(&site);
    let hook = hooks.url("/hook");
    assert_eq!(archive.run(&["track", "--notify", &hook]).0, 0);
    site.page("/privacy", &policy_page(V2, ""));
    let (code, stdout, stderr) = archive.run(&["track", "--json", "--notify", &hook]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let requests = hooks.requests("/hook");
    assert_eq!(requests.len(), 2, "one failure, one success, no more");
    assert_eq!(requests[0].body, requests[1].body, "the same message is retried");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let notification = &json["notifications"][0];
    assert_eq!(notification["event"], "change");
    assert_eq!(notification["delivered"], true);
    assert_eq!(notification["attempts"], 2);
}

#[test]
fn an_undeliverable_alert_warns_but_keeps_the_version_and_the_exit_code() {
    let site = TestServer::start();
    let hooks = TestServer::start();
    hooks.set("/hook", vec![Response::new(500, "down")]);
    site.page("/privacy", &policy_page(V1, ""));
    let archive = setup(&site);
    let hook = hooks.url("/hook");
    let refused = refused_url();
    assert_eq!(archive.run(&["track"]).0, 0);
    site.page("/privacy", &policy_page(V2, ""));
    let (code, stdout, stderr) = archive.run(&["track", "--json", "--notify", &hook, "--notify", &refused]);
    assert_eq!(code, 0, "tracking succeeded: {stdout}{stderr}");
    assert_eq!(
        archive.subjects()[0],
        "Acme Privacy Policy: 1 sentence added, 1 changed",
        "the version is committed"
    );
    assert_eq!(
        hooks.hits("/hook"),
        3,
        "one attempt and two retries (CLAUSEWATCH_RETRIES defaults to 2)"
    );
    assert!(
        stderr.contains(&format!(
            "warning: change alert for acme/privacy-policy not delivered to http://127.0.0.1:{}/… (json): HTTP 500 Internal Server Error (after 3 attempts)",
            hooks.port()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("could not connect (after 3 attempts)"), "{stderr}");
    assert_eq!(
        stderr.matches("not delivered").count(),
        2,
        "one warning per target: {stderr}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let notifications = json["notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 2);
    assert_eq!(notifications[0]["delivered"], false);
    assert_eq!(notifications[0]["attempts"], 3);
    assert_eq!(
        notifications[0]["error"],
        "HTTP 500 Internal Server Error (after 3 attempts)"
    );
    assert_eq!(notifications[1]["delivered"], false);
}

#[test]
fn webhook_secrets_never_show() {
    const TOKEN: &str = "xoxb-s3cr3t-T0KEN";
    const QUERY: &str = "qu3ry-s3cr3t";
    let site = TestServer::start();
    let hooks = TestServer::start();
    let path = format!("/services/T000/B000/{TOKEN}?sig={QUERY}");
    // Failing deliveries take the error paths, where URLs tend to leak.
    hooks.set(&path, vec![Response::new(500, "no")]);
    site.page("/privacy", &policy_page(V1, ""));
    site.set("/terms", vec![Response::status(404, "gone")]);
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &site.url("/privacy")),
            ("terms-of-service", &site.url("/terms")),
        ],
    );
    let hook = hooks.url(&path);
    assert_eq!(archive.run(&["track"]).0, 1);
    site.page("/privacy", &policy_page(V2, ""));

    let mut outputs = Vec::new();
    // From the environment, with every log line on.
    let output = archive
        .cmd(&["track", "--json", "-vv"])
        .env("CLAUSEWATCH_NOTIFY", &hook)
        .env("CLAUSEWATCH_LOG", "trace")
        .output()
        .unwrap();
    outputs.push(text(&output));
    // From the command line; the terms start failing again after a recovery.
    site.page("/terms", &policy_page(V1, ""));
    assert_eq!(archive.run(&["track"]).0, 0);
    site.set("/terms", vec![Response::status(404, "gone")]);
    site.page("/privacy", &policy_page(V1, ""));
    outputs.push(archive.run_at("2026-03-03T00:00:00Z", &["track", "-vv", "--notify", &hook]));
    // From clausewatch.toml, through an environment variable.
    std::fs::write(
        archive.archive().join("clausewatch.toml"),
        "[notify]\nurls = [\"env:ACME_HOOK\"]\n",
    )
    .unwrap();
    site.page("/privacy", &policy_page(V2, ""));
    let output = archive.cmd(&["track"]).env("ACME_HOOK", &hook).output().unwrap();
    outputs.push(text(&output));

    assert!(hooks.hits(&path) >= 9, "every alert was tried: {}", hooks.hits(&path));
    for (code, stdout, stderr) in &outputs {
        assert_eq!(
            *code, 1,
            "a failing document, whatever the alerts did: {stdout}{stderr}"
        );
        assert!(stderr.contains("not delivered"), "{stderr}");
        for secret in [TOKEN, QUERY, "/services/T000"] {
            assert!(!stdout.contains(secret), "{secret} in stdout: {stdout}");
            assert!(!stderr.contains(secret), "{secret} in stderr: {stderr}");
        }
    }
    let history = archive.git(&["log", "-p", "--all", "--format=%H%n%B"]);
    assert!(history.contains("status: "), "the status commits are there");
    for secret in [TOKEN, QUERY] {
        assert!(!history.contains(secret), "{secret} in the archive's history");
    }
}

#[test]
fn an_unset_webhook_variable_is_a_configuration_error() {
    let site = TestServer::start();
    site.page("/privacy", &policy_page(V1, ""));
    let archive = setup(&site);
    std::fs::write(
        archive.archive().join("clausewatch.toml"),
        "[notify]\nurls = [\"env:ACME_HOOK\"]\n",
    )
    .unwrap();
    let (code, _, stderr) = archive.run(&["track"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("ACME_HOOK is not set"), "{stderr}");
    assert_eq!(site.hits("/privacy"), 0, "refused before fetching");
}

#[test]
fn a_revert_alerts_once_and_a_document_that_keeps_toggling_alerts_once_more_as_flapping() {
    let site = TestServer::start();
    let hooks = TestServer::start();
    hooks.set("/hook", vec![Response::new(204, "")]);
    // A banner sentence that comes and goes above the policy.
    let policy = "<h1>Privacy Policy</h1><p>We collect your name. We keep data for 30 days. \
                  We share data with partners. You can delete your account at any time.</p>";
    let with_banner = format!("<p>We are changing how we show ads to UK users.</p>{policy}");
    site.page("/privacy", &policy_page(policy, ""));
    let archive = setup(&site);
    let hook = hooks.url("/hook");
    // One run a day; V2 adds a banner sentence, V1 takes it away again.
    let mut subjects = Vec::new();
    let pages = [policy, &with_banner, policy, &with_banner, policy, &with_banner, policy];
    for (day, page) in pages.iter().enumerate() {
        site.page("/privacy", &policy_page(page, ""));
        let now = format!("2026-03-{:02}T00:00:00Z", day + 2);
        let (code, stdout, stderr) = archive.run_at(&now, &["track", "--notify", &hook]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        subjects.push(archive.subjects()[0].clone());
    }
    assert_eq!(subjects[1], "Acme Privacy Policy: 1 sentence added");
    assert!(
        subjects[2].starts_with("Acme Privacy Policy: 1 sentence removed (back to the version of 2026-03-02, "),
        "{subjects:?}"
    );
    let message = archive.git(&["log", "-1", "--format=%B"]);
    assert!(message.contains("\nChange: revert\nReverts-To: "), "{message}");
    // The newest earlier version with that text: two versions back.
    let versions = archive.git(&["log", "--format=%H", "--", "archive/versions/acme/privacy-policy.md"]);
    let two_back = versions.lines().nth(2).unwrap();
    assert!(message.contains(&format!("Reverts-To: {two_back}\n")), "{message}");

    // The substantive change, the first revert, and one flapping alert: 3 of 6 changes.
    let alerts: Vec<serde_json::Value> = hooks.requests("/hook").iter().map(|r| r.json()).collect();
    assert_eq!(alerts.len(), 3, "{alerts:#?}");
    let summaries: Vec<&str> = alerts
        .iter()
        .map(|a| a["summary"].as_str().unwrap_or_default())
        .collect();
    assert!(
        summaries[1].contains("(back to the version of 2026-03-02"),
        "{summaries:?}"
    );
    assert!(
        summaries[2].starts_with("Acme Privacy Policy keeps switching between versions (2 reverts since 2026-03-04)"),
        "{summaries:?}"
    );
    let (_, log, _) = archive.run(&["log", "acme/privacy-policy"]);
    assert_eq!(log.lines().filter(|l| l.contains("  revert  ")).count(), 5, "{log}");
}
