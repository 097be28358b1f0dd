//! Failure tracking across runs (`status.json`): a document that keeps failing is
//! reported when it starts, reminded at an interval and reported when it recovers, in
//! track's output, its alerts and GitHub issues, never on every run.

use crate::support::{Response, TestArchive, TestServer, policy_page};

const PAGE: &str = "<h1>Terms</h1><p>You may use the service. We may end it.</p>";
const T0: &str = "2026-03-02T00:00:00Z";
const T1: &str = "2026-03-03T00:00:00Z";
const T2: &str = "2026-03-04T00:00:00Z";
/// Seven days after T1: the default remind interval.
const T3: &str = "2026-03-10T00:00:00Z";
const T4: &str = "2026-03-11T00:00:00Z";

fn setup(site: &TestServer) -> TestArchive {
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("terms-of-service", &site.url("/terms"))]);
    archive
}

/// Runs at `now` with extra environment variables.
/// The environment `--github-issues` reads, pointed at a fake API.
fn github_env(api: &TestServer) -> [(&'static str, String); 3] {
    [
        ("GITHUB_API_URL", api.url("").trim_end_matches('/').to_string()),
        ("GITHUB_REPOSITORY", "acme/archive".to_string()),
        ("GITHUB_TOKEN", TOKEN.to_string()),
    ]
}

fn as_pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(name, value)| (*name, value.as_str())).collect()
}

fn run(archive: &TestArchive, now: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = archive.cmd(args);
    cmd.env("CLAUSEWATCH_NOW", now);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.output().expect("run clausewatch");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn status(archive: &TestArchive) -> serde_json::Value {
    serde_json::from_str(&archive.read("status.json")).expect("status.json is JSON")
}

#[test]
fn a_failure_is_reported_when_it_starts_reminded_later_and_reported_when_it_recovers() {
    let site = TestServer::start();
    let hooks = TestServer::start();
    hooks.set("/hook", vec![Response::new(200, "ok")]);
    site.page("/terms", &policy_page(PAGE, ""));
    let archive = setup(&site);
    let hook = hooks.url("/hook");
    let env = [("CLAUSEWATCH_NOTIFY", hook.as_str())];

    let (code, stdout, _) = run(&archive, T0, &["track"], &env);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        !archive.archive().join("status.json").exists(),
        "nothing failed, nothing to keep"
    );

    // Starts failing: reported once, committed once, alerted once.
    site.set("/terms", vec![Response::status(404, "<p>Not found</p>")]);
    let (code, stdout, _) = run(&archive, T1, &["track"], &env);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("failing    acme/terms-of-service  started failing: not-found"),
        "{stdout}"
    );
    assert!(
        stdout.contains("status     1 failing, recorded in status.json"),
        "{stdout}"
    );
    assert_eq!(archive.subjects()[0], "status: 1 failing (1 started)");
    assert_eq!(
        archive.git(&["show", "--format=", "--name-only", "HEAD"]),
        "archive/status.json\n",
        "the status commit touches status.json only"
    );
    assert_eq!(
        archive.git(&["log", "-1", "--format=%b"]).trim(),
        "started failing: acme/terms-of-service (not-found)"
    );
    let state = &status(&archive)["failing"]["acme/terms-of-service"];
    assert_eq!(state["category"], "not-found");
    assert_eq!(state["failing_since"], T1);
    assert_eq!(state["last_success"], T0, "the newest version's fetch time");
    assert_eq!(state["reminders"], 0);
    assert_eq!(state["last_reminded"], serde_json::Value::Null);
    let alerts = hooks.requests("/hook");
    assert_eq!(alerts.len(), 1);
    let alert = alerts[0].json();
    assert_eq!(alert["event"], "failure-started");
    assert_eq!(alert["category"], "not-found");
    assert_eq!(alert["failing_since"], T1);
    assert_eq!(alert["source_urls"], serde_json::json!([site.url("/terms")]));
    assert_eq!(alert["text"], "Acme Terms of Service started failing: not-found");

    // Still failing the next day: the failed line, but no report, commit or alert.
    let commits = archive.subjects().len();
    let (code, stdout, _) = run(&archive, T2, &["track"], &env);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("failed     acme/terms-of-service  not-found"),
        "{stdout}"
    );
    assert!(!stdout.contains("failing    "), "{stdout}");
    assert!(!stdout.contains("status     "), "{stdout}");
    assert_eq!(archive.subjects().len(), commits);
    assert_eq!(hooks.hits("/hook"), 1);

    // Seven days after it started: one reminder.
    let (code, stdout, _) = run(&archive, T3, &["track", "--json"], &env);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["transitions"][0]["transition"], "reminder");
    assert_eq!(json["transitions"][0]["failing_since"], T1);
    assert_eq!(json["failing"], 1);
    assert_eq!(
        json["status_commit"].as_str(),
        Some(archive.git(&["log", "-1", "--format=%H"]).trim())
    );
    assert_eq!(archive.subjects()[0], "status: 1 failing (1 reminded)");
    let state = &status(&archive)["failing"]["acme/terms-of-service"];
    assert_eq!(state["reminders"], 1);
    assert_eq!(state["last_reminded"], T3);
    assert_eq!(hooks.hits("/hook"), 2);
    assert_eq!(hooks.requests("/hook")[1].json()["event"], "failure-reminder");

    // Works again: recovered, and the state is cleared.
    site.page("/terms", &policy_page(PAGE, ""));
    let (code, stdout, _) = run(&archive, T4, &["track"], &env);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("recovered  acme/terms-of-service  works again (failing since 2026-03-03T00:00:00Z)"),
        "{stdout}"
    );
    assert_eq!(archive.subjects()[0], "status: none failing, 1 recovered");
    assert_eq!(status(&archive)["failing"], serde_json::json!({}));
    assert_eq!(hooks.hits("/hook"), 3);
    assert_eq!(hooks.requests("/hook")[2].json()["event"], "recovered");

    // And a recovered document that keeps working says nothing more.
    let (code, stdout, _) = run(&archive, "2026-03-20T00:00:00Z", &["track"], &env);
    assert_eq!(code, 0);
    assert!(!stdout.contains("recovered"), "{stdout}");
    assert_eq!(hooks.hits("/hook"), 3);

    // Only status commits touch status.json; the one version commit is untouched by it.
    assert_eq!(
        archive.git(&["log", "--format=%s", "--", "archive/status.json"]),
        "status: none failing, 1 recovered\nstatus: 1 failing (1 reminded)\nstatus: 1 failing (1 started)\n"
    );
    assert_eq!(
        archive.git(&["log", "--format=%s", "--", "archive/versions/acme"]),
        "First record of Acme Terms of Service\n"
    );
}

#[test]
fn the_remind_interval_comes_from_the_config_or_the_flag() {
    let site = TestServer::start();
    site.set("/terms", vec![Response::status(410, "<p>Gone</p>")]);
    let archive = setup(&site);
    std::fs::write(
        archive.archive().join("clausewatch.toml"),
        "[failures]\nremind_after = \"12h\"\n",
    )
    .unwrap();
    let (_, stdout, _) = run(&archive, "2026-03-02T00:00:00Z", &["track"], &[]);
    assert!(stdout.contains("started failing: gone"), "{stdout}");
    assert_eq!(
        status(&archive)["failing"]["acme/terms-of-service"]["last_success"],
        serde_json::Value::Null
    );
    let (_, stdout, _) = run(&archive, "2026-03-02T11:00:00Z", &["track"], &[]);
    assert!(!stdout.contains("reminder"), "{stdout}");
    let (_, stdout, _) = run(&archive, "2026-03-02T12:00:00Z", &["track"], &[]);
    assert!(stdout.contains("(reminder)"), "{stdout}");
    let (_, stdout, _) = run(
        &archive,
        "2026-03-05T00:00:00Z",
        &["track", "--remind-after", "never"],
        &[],
    );
    assert!(!stdout.contains("reminder"), "{stdout}");
    let (_, stdout, _) = run(
        &archive,
        "2026-03-05T00:00:00Z",
        &["track", "--remind-after", "2d"],
        &[],
    );
    assert!(stdout.contains("(reminder)"), "{stdout}");
    let (code, _, stderr) = run(
        &archive,
        "2026-03-05T00:00:00Z",
        &["track", "--remind-after", "soon"],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
}

const ISSUES: &str = "/repos/acme/archive/issues";
const OPEN_ISSUES: &str = "/repos/acme/archive/issues?state=open&labels=clausewatch&per_page=100";
const TOKEN: &str = "ghs_T0ken-s3cret";

/// A fake GitHub API that knows no open issue and opens #7.
fn github() -> TestServer {
    let api = TestServer::start();
    api.set(OPEN_ISSUES, vec![Response::json(200, "[]")]);
    api.set(
        ISSUES,
        vec![Response::json(
            201,
            r#"{"number": 7, "html_url": "https://github.com/acme/archive/issues/7"}"#,
        )],
    );
    api.set(&format!("{ISSUES}/7/comments"), vec![Response::json(201, "{}")]);
    api.set(&format!("{ISSUES}/7"), vec![Response::json(200, "{}")]);
    api
}

#[test]
fn github_issues_open_once_comment_on_reminders_and_close_on_recovery() {
    let site = TestServer::start();
    let api = github();
    site.page("/terms", &policy_page(PAGE, ""));
    let archive = setup(&site);
    let env = github_env(&api);
    let env = as_pairs(&env);
    let args = ["track", "--github-issues"];
    let mut outputs = Vec::new();

    outputs.push(run(&archive, T0, &args, &env));
    assert_eq!(outputs[0].0, 0);
    assert_eq!(
        api.requests(OPEN_ISSUES).len() + api.requests(ISSUES).len(),
        0,
        "nothing failing"
    );

    site.set("/terms", vec![Response::status(404, "<p>Not found</p>")]);
    outputs.push(run(&archive, T1, &args, &env));
    assert!(
        outputs[1].1.contains("issue      acme/terms-of-service  opened #7"),
        "{}",
        outputs[1].1
    );
    let opened = api.requests(ISSUES);
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].method, "POST");
    assert_eq!(
        opened[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(opened[0].header("accept"), Some("application/vnd.github+json"));
    let body = opened[0].json();
    assert_eq!(body["title"], "clausewatch: acme/terms-of-service is failing");
    assert_eq!(body["labels"], serde_json::json!(["clausewatch"]));
    let text = body["body"].as_str().unwrap();
    assert!(text.contains("**not-found**"), "{text}");
    assert!(text.contains(&site.url("/terms")), "{text}");
    assert_eq!(status(&archive)["failing"]["acme/terms-of-service"]["issue"], 7);

    // Still failing: no second issue, no comment.
    outputs.push(run(&archive, T2, &args, &env));
    assert_eq!(api.hits(ISSUES), 1);
    assert_eq!(api.hits(OPEN_ISSUES), 1);
    assert_eq!(api.hits(&format!("{ISSUES}/7/comments")), 0);

    // The reminder is a comment on the same issue, found by its number.
    outputs.push(run(&archive, T3, &args, &env));
    let comments = api.requests(&format!("{ISSUES}/7/comments"));
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].json()["body"]
            .as_str()
            .unwrap()
            .starts_with("Still failing: **not-found**")
    );
    assert_eq!(api.hits(ISSUES), 1);
    assert_eq!(api.hits(OPEN_ISSUES), 1);

    // Recovery: a comment, then the issue is closed.
    site.page("/terms", &policy_page(PAGE, ""));
    outputs.push(run(&archive, T4, &args, &env));
    assert!(
        outputs[4].1.contains("issue      acme/terms-of-service  closed #7"),
        "{}",
        outputs[4].1
    );
    let comments = api.requests(&format!("{ISSUES}/7/comments"));
    assert_eq!(comments.len(), 2);
    assert!(comments[1].json()["body"].as_str().unwrap().starts_with("Recovered:"));
    let closed = api.requests(&format!("{ISSUES}/7"));
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].method, "PATCH");
    assert_eq!(closed[0].json()["state"], "closed");
    assert_eq!(
        closed[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(status(&archive)["failing"], serde_json::json!({}));

    for (_, stdout, stderr) in &outputs {
        assert!(
            !stdout.contains("s3cret") && !stderr.contains("s3cret"),
            "{stdout}{stderr}"
        );
        assert!(!stderr.contains("warning"), "{stderr}");
    }
    assert!(!archive.git(&["log", "-p", "--all"]).contains("s3cret"));
}

#[test]
fn an_open_issue_with_the_title_is_reused_not_opened_twice() {
    let site = TestServer::start();
    let api = github();
    // A pull request with the same title is not the issue; #3 is.
    api.set(
        OPEN_ISSUES,
        vec![Response::json(
            200,
            r#"[{"number": 2, "title": "clausewatch: acme/terms-of-service is failing", "pull_request": {}},
                {"number": 3, "title": "clausewatch: acme/terms-of-service is failing"},
                {"number": 4, "title": "clausewatch: acme/terms-of-service is failing again"}]"#,
        )],
    );
    api.set(&format!("{ISSUES}/3/comments"), vec![Response::json(201, "{}")]);
    site.set("/terms", vec![Response::status(404, "<p>Not found</p>")]);
    let archive = setup(&site);
    let env = github_env(&api);
    let env = as_pairs(&env);
    let (code, stdout, stderr) = run(&archive, T1, &["track", "--github-issues"], &env);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("issue      acme/terms-of-service  reused #3"),
        "{stdout}"
    );
    assert_eq!(api.hits(ISSUES), 0, "no second issue");
    let comments = api.requests(&format!("{ISSUES}/3/comments"));
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].json()["body"]
            .as_str()
            .unwrap()
            .starts_with("Started failing again")
    );
    assert_eq!(status(&archive)["failing"]["acme/terms-of-service"]["issue"], 3);
}

#[test]
fn an_unreachable_github_api_warns_and_keeps_the_exit_code() {
    let site = TestServer::start();
    let api = TestServer::start();
    api.set(
        OPEN_ISSUES,
        vec![Response::json(401, r#"{"message": "Bad credentials"}"#)],
    );
    site.set("/terms", vec![Response::status(404, "<p>Not found</p>")]);
    let archive = setup(&site);
    let env = github_env(&api);
    let env = as_pairs(&env);
    let (code, stdout, stderr) = run(&archive, T1, &["track", "--github-issues"], &env);
    assert_eq!(code, 1, "as without issues: {stdout}{stderr}");
    assert!(
        stderr.contains("warning: GitHub issue for acme/terms-of-service: GET /repos/acme/archive/issues: HTTP 401 Unauthorized (after 1 attempt): Bad credentials"),
        "{stderr}"
    );
    assert!(!stdout.contains("s3cret") && !stderr.contains("s3cret"));
    assert_eq!(
        archive.subjects()[0],
        "status: 1 failing (1 started)",
        "the state is still kept"
    );
}

#[test]
fn github_issues_need_a_token_and_a_repository() {
    let site = TestServer::start();
    site.page("/terms", &policy_page(PAGE, ""));
    let archive = setup(&site);
    let (code, _, stderr) = run(
        &archive,
        T0,
        &["track", "--github-issues"],
        &[("GITHUB_REPOSITORY", "acme/archive")],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--github-issues needs GITHUB_TOKEN"), "{stderr}");
    assert_eq!(site.hits("/terms"), 0, "refused before fetching");
}

/// `.invalid` names fail as `dns` at once, without a query (RFC 6761).
#[test]
fn a_run_where_no_document_reaches_a_server_is_an_outage_that_changes_nothing() {
    let api = github();
    let hooks = TestServer::start();
    hooks.set("/hook", vec![Response::new(200, "ok")]);
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", "http://acme.invalid/privacy"),
            ("terms-of-service", "http://acme.invalid/terms"),
        ],
    );
    archive.declare_simple("other", "Other", &[("terms-of-service", "https://other.invalid/terms")]);
    archive.git(&["add", "-A"]);
    archive.git(&["commit", "-q", "-m", "Declare"]);
    let head = archive.git(&["rev-parse", "HEAD"]);
    let env = github_env(&api);
    let env = as_pairs(&env);
    let hook = hooks.url("/hook");
    let (code, stdout, stderr) = run(
        &archive,
        T0,
        &["track", "--retries", "0", "--github-issues", "--notify", &hook],
        &env,
    );
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "error: no network? every document (3) failed with dns: http://acme.invalid/privacy: the host name does not resolve"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("; nothing was recorded, and failure tracking, issues and alerts were left as they were"),
        "{stderr}"
    );
    assert!(stdout.contains("failed     acme/privacy-policy  dns:"), "{stdout}");
    assert!(
        stdout.contains("0 recorded, 0 unchanged, 3 failed (3 documents"),
        "{stdout}"
    );
    assert!(!stdout.contains("status     "), "{stdout}");
    assert_eq!(archive.git(&["rev-parse", "HEAD"]), head, "nothing committed");
    assert!(!archive.archive().join("status.json").exists());
    assert_eq!(api.hits(ISSUES) + api.hits(OPEN_ISSUES), 0, "no issue opened");
    assert_eq!(hooks.hits("/hook"), 0, "no alert");

    let (code, stdout, _) = run(&archive, T0, &["track", "--retries", "0", "--json"], &[]);
    assert_eq!(code, 4);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["outage"]["scope"], "run");
    assert_eq!(json["outage"]["hosts"][0]["host"], "acme.invalid");
    assert_eq!(json["outage"]["hosts"][0]["documents"], 2);
    assert_eq!(json["documents"][0]["outage"], true);
}

#[test]
fn a_host_outage_leaves_its_documents_state_alone_while_the_others_are_tracked() {
    let site = TestServer::start();
    site.page("/terms", &policy_page(PAGE, ""));
    let api = github();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("terms-of-service", &site.url("/terms"))]);
    archive.declare_simple(
        "down",
        "Down",
        &[
            ("privacy-policy", "http://down.invalid/privacy"),
            ("terms-of-service", "http://down.invalid/terms"),
        ],
    );
    // Alone on its host, a failing document is a failing document.
    archive.declare_simple("gone", "Gone", &[("terms-of-service", "http://gone.invalid/terms")]);
    let env = github_env(&api);
    let env = as_pairs(&env);
    let (code, stdout, stderr) = run(&archive, T0, &["track", "--retries", "0", "--github-issues"], &env);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("recorded   acme/terms-of-service  First record of Acme Terms of Service"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "outage     host down.invalid is out: all 2 of its documents failed with dns; their failure tracking is left as it was"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("failing    gone/terms-of-service  started failing: dns"),
        "{stdout}"
    );
    assert!(!stdout.contains("failing    down/"), "{stdout}");
    let failing = status(&archive)["failing"].clone();
    let keys: Vec<&String> = failing.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["gone/terms-of-service"]);
    let opened = api.requests(ISSUES);
    assert_eq!(opened.len(), 1, "one issue, for gone/ only");
    assert_eq!(
        opened[0].json()["title"],
        "clausewatch: gone/terms-of-service is failing"
    );
}
