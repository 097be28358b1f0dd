//! Declaration health (`check --fetch --github-issues`): one issue per unhealthy
//! declaration, with the differing lines and a suggested selector; rewritten rather than
//! duplicated, closed when the declaration is healthy again, and kept apart from
//! `track`'s failure issues.

use crate::support::server::refused_url;
use crate::support::{Response, TestArchive, TestServer};

const T0: &str = "2026-03-02T00:00:00Z";
const T1: &str = "2026-03-09T00:00:00Z";
const T2: &str = "2026-03-16T00:00:00Z";
const T3: &str = "2026-03-23T00:00:00Z";

const ISSUES: &str = "/repos/acme/archive/issues";
const OPEN_ISSUES: &str = "/repos/acme/archive/issues?state=open&labels=clausewatch&per_page=100";
const TOKEN: &str = "ghs_T0ken-s3cret";
const HEALTH_TITLE: &str = "Declaration health: acme/privacy-policy";
const FAILING_TITLE: &str = "clausewatch: acme/privacy-policy is failing";

/// The policy: long enough that a page keeping one sentence of it has shrunk.
const POLICY: &str = "<h2>What we collect</h2>\
    <p>We collect the email address you give us when you sign up.</p>\
    <p>We collect the pages you visit on our site and how long you stay.</p>\
    <h2>How long we keep it</h2>\
    <p>We delete your data within thirty days after you close your account.</p>\
    <p>Backups are kept for ninety more days and then erased.</p>\
    <h2>Your rights</h2>\
    <p>You may ask for a copy of your data at any time by writing to privacy@acme.example.</p>";

/// The page as recorded: the policy in `#policy`.
fn recorded_page() -> String {
    page("<div id=\"policy\">".to_string() + POLICY + "</div>")
}

/// A redesign: `#policy` now holds a cookie notice (with a backtick fence, which must
/// not escape the issue's code block), and the policy moved to `#privacy-text`.
fn redesigned_page(policy_id: &str) -> String {
    page(format!(
        "<div id=\"policy\"><p>We use ``` cookies. @everyone [click](https://evil.example)</p></div>\
         <section class=\"css-1x2y3z\" id=\"{policy_id}\">{POLICY}</section>"
    ))
}

fn page(content: String) -> String {
    format!(
        "<!doctype html><html><head><title>Acme privacy</title></head><body>\
         <nav class=\"menu\"><a href=\"/\">Home</a> <a href=\"/help\">Help</a></nav>\
         <div class=\"content\">{content}</div>\
         <footer class=\"site-footer\"><p>Copyright Acme. Imprint.</p></footer></body></html>"
    )
}

fn setup(site: &TestServer) -> TestArchive {
    let archive = TestArchive::new();
    archive.declare(
        "acme",
        &format!(
            "name = \"Acme\"\n\n[[documents]]\ntype = \"privacy-policy\"\nurl = {:?}\nselect = \"#policy\"\nfetcher = \"http\"\n",
            site.url("/privacy")
        ),
    );
    archive
}

fn github_env(api: &TestServer) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_API_URL", api.url("").trim_end_matches('/').to_string()),
        ("GITHUB_REPOSITORY", "acme/archive".to_string()),
        ("GITHUB_TOKEN", TOKEN.to_string()),
    ]
}

fn run(archive: &TestArchive, now: &str, args: &[&str], env: &[(&'static str, String)]) -> (i32, String, String) {
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

/// A fake GitHub API listing `open` (a JSON array) that opens #8.
fn github(open: &str) -> TestServer {
    let api = TestServer::start();
    api.set(OPEN_ISSUES, vec![Response::json(200, open)]);
    api.set(ISSUES, vec![Response::json(201, r#"{"number": 8}"#)]);
    for number in [3, 8] {
        api.set(&format!("{ISSUES}/{number}/comments"), vec![Response::json(201, "{}")]);
        api.set(&format!("{ISSUES}/{number}"), vec![Response::json(200, "{}")]);
    }
    api
}

/// The open-issue listing GitHub would give for these (number, title, body).
fn listing(issues: &[(u64, &str, &str)]) -> String {
    serde_json::Value::Array(
        issues
            .iter()
            .map(|(number, title, body)| serde_json::json!({"number": number, "title": title, "body": body}))
            .collect(),
    )
    .to_string()
}

const CHECK: [&str; 3] = ["check", "--fetch", "--github-issues"];

#[test]
fn an_unhealthy_declaration_gets_one_issue_updated_then_closed() {
    let site = TestServer::start();
    site.page("/privacy", &recorded_page());
    let archive = setup(&site);
    let (code, stdout, stderr) = archive.run_at(T0, &["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let recorded = archive.read("versions/acme/privacy-policy.md");

    // The redesign: `#policy` keeps a cookie notice, the policy moved.
    site.page("/privacy", &redesigned_page("privacy-text"));
    let api = github("[]");
    let env = github_env(&api);
    let (code, stdout, stderr) = run(&archive, T1, &CHECK, &env);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("drifted    acme/privacy-policy  shrunk: "), "{stdout}");
    assert!(
        stdout.contains("    suggested fix:     select = \"#privacy-text\" (recall 100%, precision 100%)"),
        "{stdout}"
    );
    assert!(stdout.contains("issue      acme/privacy-policy  opened #8"), "{stdout}");
    assert!(
        stdout.ends_with("0 stable, 0 unstable, 1 drifted, 0 failed\n"),
        "{stdout}"
    );
    assert!(stderr.is_empty(), "{stderr}");

    let opened = api.requests(ISSUES);
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].method, "POST");
    assert_eq!(
        opened[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let issue = opened[0].json();
    assert_eq!(issue["title"], HEALTH_TITLE);
    assert_eq!(issue["labels"], serde_json::json!(["clausewatch"]));
    let body = issue["body"].as_str().unwrap().to_string();
    assert!(body.contains("is **drifted** (`shrunk`)"), "{body}");
    // The differing lines: what the recorded version has and the page no longer gives.
    assert!(body.contains("### Differing lines"), "{body}");
    assert!(
        body.contains("Only in the recorded version:\n\n```text\n## What we collect\n"),
        "{body}"
    );
    assert!(body.contains("We delete your data within thirty days after you close your account."));
    // The page's text is quoted in a fence it cannot close.
    assert!(
        body.contains(
            "Only in the fetched text:\n\n````text\nWe use ``` cookies. @everyone [click](https://evil.example)\n````\n"
        ),
        "{body}"
    );
    assert!(body.contains("Declare `select = \"#privacy-text\"` for this page in `services/acme.toml`"));
    assert!(body.contains("extracts 100% of the recorded version's words"), "{body}");
    assert!(body.contains(&format!("- source: {}", site.url("/privacy"))), "{body}");

    // The suggested selector extracts exactly the recorded text from the page now served.
    let (code, extracted, stderr) = archive.run(&["extract", &site.url("/privacy"), "--select", "#privacy-text"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(extracted, recorded);

    // Next week, the same problem: the issue found by its title already says it all.
    api.set(
        OPEN_ISSUES,
        vec![Response::json(200, &listing(&[(8, HEALTH_TITLE, &body)]))],
    );
    let (code, stdout, _) = run(&archive, T2, &CHECK, &env);
    assert_eq!(code, 1);
    assert!(stdout.contains("issue      acme/privacy-policy  kept #8"), "{stdout}");
    assert_eq!(api.hits(ISSUES), 1, "no second issue");
    assert_eq!(api.hits(&format!("{ISSUES}/8")), 0, "nothing to rewrite");

    // The page moves again: the same issue is rewritten with the new suggestion.
    site.page("/privacy", &redesigned_page("legal-privacy"));
    let (code, stdout, _) = run(&archive, T2, &CHECK, &env);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("issue      acme/privacy-policy  updated #8"),
        "{stdout}"
    );
    assert_eq!(api.hits(ISSUES), 1, "still no second issue");
    let updated = api.requests(&format!("{ISSUES}/8"));
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].method, "PATCH");
    let new_body = updated[0].json()["body"].as_str().unwrap().to_string();
    assert!(new_body.contains("`select = \"#legal-privacy\"`"), "{new_body}");
    assert!(updated[0].json().get("state").is_none(), "not closed");

    // Fixed on the site: the issue is commented on and closed.
    site.page("/privacy", &recorded_page());
    let (code, stdout, stderr) = run(&archive, T3, &CHECK, &env);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("stable     acme/privacy-policy\n"), "{stdout}");
    assert!(stdout.contains("issue      acme/privacy-policy  closed #8"), "{stdout}");
    let comments = api.requests(&format!("{ISSUES}/8/comments"));
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].json()["body"]
            .as_str()
            .unwrap()
            .starts_with("Healthy again: on 2026-03-23"),
        "{:?}",
        comments[0].json()
    );
    let calls = api.requests(&format!("{ISSUES}/8"));
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].json()["state"], "closed");
    assert_eq!(api.hits(ISSUES), 1);
    assert_eq!(archive.subjects().len(), 2, "check records nothing");
}

#[test]
fn a_selector_that_matches_nothing_is_reported_with_its_replacement() {
    let site = TestServer::start();
    site.page("/privacy", &recorded_page());
    let archive = setup(&site);
    assert_eq!(archive.run_at(T0, &["track"]).0, 0);
    site.page(
        "/privacy",
        &page(format!(
            "<article id=\"privacy-2027\" class=\"legal\">{POLICY}</article>"
        )),
    );
    let api = github("[]");
    let (code, stdout, _) = run(&archive, T1, &CHECK, &github_env(&api));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("failed     acme/privacy-policy  selector-no-match: "),
        "{stdout}"
    );
    let body = api.requests(ISSUES)[0].json()["body"].as_str().unwrap().to_string();
    assert!(body.contains("is **failed** (`selector-no-match`)"), "{body}");
    // The id carries a year, which the next edition will change: the landmark is steadier.
    assert!(body.contains("`select = \"article\"`"), "{body}");
    assert!(body.contains("the current declaration extracts nothing"), "{body}");
    assert!(
        !body.contains("### Differing lines"),
        "nothing was extracted to compare: {body}"
    );

    let (code, stdout, _) = archive.run_at(T1, &["check", "--fetch", "--json"]);
    assert_eq!(code, 1, "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json[0]["status"], "failed");
    assert_eq!(json[0]["category"], "selector-no-match");
    assert_eq!(json[0]["fix"]["kind"], "selector");
    assert_eq!(json[0]["fix"]["selector"], "article");
    assert_eq!(json[0]["fix"]["overlap"]["recall"], 1.0);
    assert!(json[0].get("issues").is_none(), "no --github-issues: {stdout}");
}

#[test]
fn a_page_gone_is_reported_without_a_selector_and_a_passing_failure_not_at_all() {
    let site = TestServer::start();
    site.page("/privacy", &recorded_page());
    let archive = setup(&site);
    assert_eq!(archive.run_at(T0, &["track"]).0, 0);
    let api = github("[]");
    let env = github_env(&api);

    // A 503 may pass by next week: reported, but no issue is opened for it.
    site.set("/privacy", vec![Response::status(503, "<p>Busy</p>")]);
    let (code, stdout, _) = run(
        &archive,
        T1,
        &["check", "--fetch", "--github-issues", "--retries", "0"],
        &env,
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("failed     acme/privacy-policy  server-error: "),
        "{stdout}"
    );
    assert!(!stdout.contains("suggested fix"), "{stdout}");
    assert_eq!(api.hits(ISSUES), 0, "{stdout}");

    // A 404 is the page, not the selector: an issue, and no selector to propose.
    site.set("/privacy", vec![Response::status(404, "<p>Not found</p>")]);
    let (code, stdout, _) = run(&archive, T1, &CHECK, &env);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("    no suggested fix:  the page itself could not be fetched; a selector cannot mend that"),
        "{stdout}"
    );
    let body = api.requests(ISSUES)[0].json()["body"].as_str().unwrap().to_string();
    assert!(body.contains("is **failed** (`not-found`)"), "{body}");
    assert!(
        body.contains("No suggestion: the page itself could not be fetched"),
        "{body}"
    );
    // track once, then two fetches per check: a page that failed is not fetched a third time.
    assert_eq!(site.hits("/privacy"), 1 + 2 + 2);
}

/// `truncated` may pass on its own for `track`, but a cut that both fetches of a check
/// gave is steady: `track` will go on refusing it, so it gets an issue.
#[test]
fn a_cut_the_check_fetched_twice_gets_an_issue() {
    let site = TestServer::start();
    let full = crate::continuity::policy(0..40, "Privacy Policy");
    site.page("/privacy", &full);
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &site.url("/privacy"))]);
    assert_eq!(archive.run_at(T0, &["track"]).0, 0);
    let at = full.find("delete records of kind 22").unwrap() + "delete rec".len();
    site.page("/privacy", &full[..at]);
    let api = github("[]");
    let (code, stdout, stderr) = run(&archive, T1, &CHECK, &github_env(&api));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("drifted    acme/privacy-policy  truncated: "),
        "{stdout}"
    );
    assert!(stdout.contains("issue      acme/privacy-policy  opened #8"), "{stdout}");
    let body = api.requests(ISSUES)[0].json()["body"].as_str().unwrap().to_string();
    assert!(body.contains("is **drifted** (`truncated`)"), "{body}");
    assert!(body.contains("No suggestion: the page arrived cut short"), "{body}");
}

#[test]
fn health_issues_and_failure_issues_never_touch_each_other() {
    let site = TestServer::start();
    site.page("/privacy", &recorded_page());
    let archive = setup(&site);
    assert_eq!(archive.run_at(T0, &["track"]).0, 0);

    // A healthy declaration while track's failure issue #3 is open: #3 is not closed.
    let api = github(&listing(&[(3, FAILING_TITLE, "track's")]));
    let env = github_env(&api);
    let (code, stdout, stderr) = run(&archive, T1, &CHECK, &env);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("issue "), "{stdout}");
    assert_eq!(api.hits(&format!("{ISSUES}/3")), 0);
    assert_eq!(api.hits(&format!("{ISSUES}/3/comments")), 0);

    // A failing document while the health issue #8 is open: track opens its own.
    api.set(
        OPEN_ISSUES,
        vec![Response::json(200, &listing(&[(8, HEALTH_TITLE, "health's")]))],
    );
    api.set(ISSUES, vec![Response::json(201, r#"{"number": 9}"#)]);
    site.set("/privacy", vec![Response::status(404, "<p>Not found</p>")]);
    let (code, stdout, stderr) = run(&archive, T1, &["track", "--github-issues"], &env);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("issue      acme/privacy-policy  opened #9"), "{stdout}");
    assert_eq!(api.requests(ISSUES)[0].json()["title"], FAILING_TITLE);
    assert_eq!(api.hits(&format!("{ISSUES}/8")), 0);
    assert_eq!(api.hits(&format!("{ISSUES}/8/comments")), 0);

    // It recovers: track closes #9 only, and health, now fine, closes #8 only.
    site.page("/privacy", &recorded_page());
    api.set(&format!("{ISSUES}/9/comments"), vec![Response::json(201, "{}")]);
    api.set(&format!("{ISSUES}/9"), vec![Response::json(200, "{}")]);
    let (code, stdout, _) = run(&archive, T2, &["track", "--github-issues"], &env);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("issue      acme/privacy-policy  closed #9"), "{stdout}");
    assert_eq!(
        api.hits(&format!("{ISSUES}/8")),
        0,
        "track leaves the health issue alone"
    );
    let (code, stdout, _) = run(&archive, T2, &CHECK, &env);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("issue      acme/privacy-policy  closed #8"), "{stdout}");
    assert_eq!(api.hits(&format!("{ISSUES}/3")), 0);
    assert_eq!(api.hits(&format!("{ISSUES}/9")), 1, "only track's own close");
}

#[test]
fn the_issue_of_a_document_no_longer_declared_is_closed_by_a_full_run_only() {
    let site = TestServer::start();
    site.page("/privacy", &recorded_page());
    let archive = setup(&site);
    assert_eq!(archive.run_at(T0, &["track"]).0, 0);
    let gone = "Declaration health: gone/terms-of-service";
    let api = github(&listing(&[
        (5, gone, "old"),
        (3, "clausewatch: gone/terms-of-service is failing", ""),
    ]));
    api.set(&format!("{ISSUES}/5/comments"), vec![Response::json(201, "{}")]);
    api.set(&format!("{ISSUES}/5"), vec![Response::json(200, "{}")]);
    let env = github_env(&api);

    // A run over one service cannot tell what else is declared.
    let (code, stdout, _) = run(&archive, T1, &["check", "--fetch", "--github-issues", "acme"], &env);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(api.hits(&format!("{ISSUES}/5")), 0, "{stdout}");

    let (code, stdout, _) = run(&archive, T1, &CHECK, &env);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("issue      gone/terms-of-service  closed #5"),
        "{stdout}"
    );
    let comments = api.requests(&format!("{ISSUES}/5/comments"));
    assert_eq!(
        comments[0].json()["body"],
        "The document is no longer declared in the archive; closing."
    );
    assert_eq!(api.requests(&format!("{ISSUES}/5"))[0].json()["state"], "closed");
    assert_eq!(api.hits(&format!("{ISSUES}/3")), 0, "track's issue is track's to close");
}

#[test]
fn an_issue_past_the_first_hundred_is_found_on_the_next_page() {
    let site = TestServer::start();
    site.page("/privacy", &recorded_page());
    let archive = setup(&site);
    assert_eq!(archive.run_at(T0, &["track"]).0, 0);
    site.page("/privacy", &redesigned_page("privacy-text"));
    let others: Vec<(u64, String)> = (100..200).map(|n| (n, format!("someone else's issue {n}"))).collect();
    let first: Vec<(u64, &str, &str)> = others.iter().map(|(n, t)| (*n, t.as_str(), "")).collect();
    let api = github(&listing(&first));
    api.set(
        &format!("{OPEN_ISSUES}&page=2"),
        vec![Response::json(200, &listing(&[(8, HEALTH_TITLE, "last week's")]))],
    );
    let (code, stdout, _) = run(&archive, T1, &CHECK, &github_env(&api));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("issue      acme/privacy-policy  updated #8"),
        "{stdout}"
    );
    assert_eq!(api.hits(ISSUES), 0, "not opened twice");
    assert_eq!(
        api.hits(&format!("{OPEN_ISSUES}&page=3")),
        0,
        "a page not full is the last"
    );
}

#[test]
fn a_network_outage_opens_and_closes_nothing() {
    let archive = TestArchive::new();
    let dead = refused_url();
    archive.declare(
        "acme",
        &format!(
            "name = \"Acme\"\n\n[[documents]]\ntype = \"privacy-policy\"\nurl = \"{dead}privacy\"\nfetcher = \"http\"\n\n\
             [[documents]]\ntype = \"terms-of-service\"\nurl = \"{dead}terms\"\nfetcher = \"http\"\n"
        ),
    );
    // Even an open health issue is left alone: the run says nothing of declarations.
    let api = github(&listing(&[(8, HEALTH_TITLE, "health's")]));
    let (code, stdout, stderr) = run(
        &archive,
        T1,
        &["check", "--fetch", "--github-issues", "--retries", "0"],
        &github_env(&api),
    );
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(stderr.contains("no network?"), "{stderr}");
    assert!(stderr.contains("no issue was touched"), "{stderr}");
    assert_eq!(api.hits(OPEN_ISSUES), 0);
    assert_eq!(api.hits(ISSUES), 0);
    assert_eq!(api.hits(&format!("{ISSUES}/8")), 0);
}

#[test]
fn github_issues_need_check_fetch_and_a_token() {
    let archive = TestArchive::new();
    let (code, _, stderr) = archive.run(&["check", "--github-issues"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--fetch"), "{stderr}");
    let (code, _, stderr) = archive.run(&["check", "--fetch", "--github-issues"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--github-issues needs GITHUB_TOKEN"), "{stderr}");
}

/// The suggestion on real pages: each extraction pair of `../shared/corpus/pairs` whose
/// declaration has a `select` is canonicalized with it (the recorded text), then the
/// declaration is broken (its `select` replaced by a selector matching nothing) and the
/// same page searched for the nearest selector. A suggestion whose text scores an F1 of
/// 0.95 or more against the recorded text recovers the document. Measured 2026-12-06:
/// before any tuning, 111 of 113 recovered, 40 with the declared selector itself; after
/// adding `body` as a last-resort candidate and ordering ties by steadiness (both chosen
/// on these pairs, so these figures are tuned-on), 113 and 40. Same page, not a
/// redesign: it shows that the search finds the text, not that the selector lasts.
#[test]
fn suggestions_recover_the_text_of_real_pages_whose_selector_broke() {
    use clausewatch::canon::suggest::nearest_selector;
    use clausewatch::canon::{self, Selection};
    use clausewatch::declaration::Target;

    let Some(corpus) = crate::support::corpus() else { return };
    let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir(corpus.join("pairs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !p.to_string_lossy().ends_with("__noise"))
        .collect();
    dirs.sort();
    let (mut cases, mut recovered, mut partial, mut same_as_declared) = (0, 0, 0, 0);
    let mut missed = Vec::new();
    let started = std::time::Instant::now();
    for dir in &dirs {
        let read_json = |name: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
        };
        let (meta, declaration) = (read_json("meta.json"), read_json("declaration.json"));
        let terms = declaration
            .get("terms")
            .or_else(|| declaration.get("documents"))
            .unwrap();
        let entry = &terms[meta["terms_type"].as_str().unwrap()];
        let (Some(select), Some(remove)) = (
            crate::corpus::targets(entry.get("select")),
            crate::corpus::targets(entry.get("remove")),
        ) else {
            continue;
        };
        if select.is_empty() {
            continue;
        }
        let html = String::from_utf8_lossy(&std::fs::read(dir.join("snapshot.html")).unwrap()).into_owned();
        let Ok(selection) = Selection::new(&select, &remove) else {
            continue;
        };
        let Ok(recorded) = canon::canonicalize_html(&html, &selection) else {
            continue;
        };
        cases += 1;
        let broken = [Target::Css("#clausewatch-no-such-element".into())];
        let search = nearest_selector(&html, &broken, &remove, &recorded).unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        match search.suggestion {
            Some(s) if s.overlap.f1() >= 0.95 => {
                recovered += 1;
                if matches!(select.as_slice(), [Target::Css(css)] if *css == s.selector) {
                    same_as_declared += 1;
                }
                eprintln!(
                    "recovered {:.3} {name}: {} (declared {select:?})",
                    s.overlap.f1(),
                    s.selector
                );
            }
            Some(s) => {
                partial += 1;
                eprintln!(
                    "partial   {:.3} {name}: {} (declared {select:?})",
                    s.overlap.f1(),
                    s.selector
                );
            }
            None => {
                eprintln!("none            {name} (declared {select:?})");
                missed.push(name);
            }
        }
    }
    eprintln!(
        "suggestions on {cases} real pages with a broken select: {recovered} recovered (F1 >= 0.95; {same_as_declared} \
         the declared selector itself), {partial} partial, {} none, in {:.1} s",
        missed.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(cases, 113, "extraction pairs with a select");
    assert!(recovered >= 110, "{recovered} of {cases} recovered, below 110");
    assert!(
        same_as_declared >= 35,
        "{same_as_declared} suggestions are the declared selector, below 35"
    );
}

/// Real redesigns from the corpus: the recorded text comes from the snapshot before the
/// declaration was changed (with the declaration of then), and the search runs on the
/// next snapshot with that old declaration. Of the corpus' three declaration changes
/// with snapshots on both sides: Twitter's terms moved (the old selector matches
/// nothing) and the suggestion extracts what the declaration Open Terms Archive wrote
/// afterwards extracts (measured: precision 1.000, recall 0.963 by words); Facebook's
/// privacy policy was rewritten along with its page (99 KB of text instead of 39 KB), so
/// no element is near enough to the recorded text to be proposed; Instagram's old
/// selector still works on its next snapshot, so nothing is proposed.
#[test]
fn suggestions_on_real_redesigns() {
    use clausewatch::canon::suggest::nearest_selector;
    use clausewatch::canon::{self, Selection};
    use clausewatch::declaration::Target;

    enum Expect {
        /// A suggestion whose text matches the later declaration's (its select, remove).
        Like(Vec<Target>, Vec<Target>),
        /// No suggestion, the old declaration failing or not.
        Nothing,
    }
    let Some(corpus) = crate::support::corpus() else { return };
    let css = |list: &[&str]| list.iter().map(|s| Target::Css((*s).to_string())).collect::<Vec<_>>();
    let cases = [
        (
            "twitter__terms-of-service__2022-02-08.html",
            "twitter__terms-of-service__2022-05-11.html",
            css(&[".p22-chapters-container"]),
            css(&[".p05-chapter-navigation", "[style='display: none;']"]),
            Expect::Like(
                css(&["#twtr-main"]),
                css(&[
                    ".ct01__background-img",
                    ".twtr-hidden--lg",
                    ".ct07__dropdown-item",
                    ".ct07__side-nav",
                    "[aria-hidden=\"true\"]",
                ]),
            ),
        ),
        (
            "facebook__privacy-policy__2022-05-26.html",
            "facebook__privacy-policy__2022-07-13.html",
            css(&["div[role=\"main\"]"]),
            css(&["._5tko"]),
            Expect::Nothing,
        ),
        (
            "instagram__privacy-policy__2022-05-24.html",
            "instagram__privacy-policy__2022-05-26.html",
            css(&["#cms-help-content-results"]),
            Vec::new(),
            Expect::Nothing,
        ),
    ];
    let words = |text: &str| -> std::collections::HashMap<String, usize> {
        let mut counts = std::collections::HashMap::new();
        for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            *counts.entry(word.to_lowercase()).or_insert(0) += 1;
        }
        counts
    };
    for (before, after, select, remove, expect) in cases {
        let read =
            |name: &str| String::from_utf8_lossy(&std::fs::read(corpus.join("html").join(name)).unwrap()).into_owned();
        let (before_html, after_html) = (read(before), read(after));
        let then = Selection::new(&select, &remove).unwrap();
        let recorded = canon::canonicalize_html(&before_html, &then).unwrap();
        let search = nearest_selector(&after_html, &select, &remove, &recorded).unwrap();
        match (expect, &search.suggestion) {
            (Expect::Like(fixed_select, fixed_remove), Some(suggestion)) => {
                let ours = Selection::new(&[Target::Css(suggestion.selector.clone())], &remove).unwrap();
                let ours = words(&canon::canonicalize_html(&after_html, &ours).unwrap());
                let fixed = Selection::new(&fixed_select, &fixed_remove).unwrap();
                let fixed = words(&canon::canonicalize_html(&after_html, &fixed).unwrap());
                let common: usize = ours.iter().map(|(w, n)| (*n).min(*fixed.get(w).unwrap_or(&0))).sum();
                let precision = common as f64 / ours.values().sum::<usize>() as f64;
                let recall = common as f64 / fixed.values().sum::<usize>() as f64;
                eprintln!(
                    "{after}: {} (precision {precision:.3}, recall {recall:.3} against the later declaration)",
                    suggestion.selector
                );
                assert!(search.current.is_none(), "{after}: the old selector matches nothing");
                assert!(precision >= 0.95 && recall >= 0.9, "{after}: {}", suggestion.selector);
            }
            (Expect::Nothing, None) => eprintln!("{after}: no suggestion (current {:?})", search.current),
            (Expect::Like(..), None) => panic!("{after}: no suggestion"),
            (Expect::Nothing, Some(suggestion)) => panic!("{after}: unexpected {suggestion:?}"),
        }
    }
}
