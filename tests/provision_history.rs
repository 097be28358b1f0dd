//! Provisions over scripted histories: tagging, timelines and cross-platform comparison.

use crate::support::{TestArchive, TestServer, policy_page};

const BASE: &str = "<h1>Privacy Policy</h1><p>We collect your name and e-mail address.</p>";

fn version(extra: &str) -> String {
    policy_page(&format!("{BASE}<p>{extra}</p><p>We keep logs for 30 days.</p>"), "")
}

/// acme: the AI-training clause appears, changes wording, flips stance, disappears.
/// bcorp: restricts it from the start. ccorp: never mentions it.
pub fn scripted() -> (TestServer, TestArchive) {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/acme"))]);
    archive.declare_simple("bcorp", "BCorp", &[("privacy-policy", &server.url("/bcorp"))]);
    archive.declare_simple("ccorp", "CCorp", &[("terms-of-service", &server.url("/ccorp"))]);
    server.page(
        "/bcorp",
        &version("We do not use your content to train artificial intelligence models."),
    );
    server.page("/ccorp", &version("You must be 18 or older to use the service."));
    let steps = [
        ("2026-03-01T00:00:00Z", "We send newsletters when you ask for them."),
        (
            "2026-03-02T00:00:00Z",
            "We may use your content to train our AI models.",
        ),
        (
            "2026-03-03T00:00:00Z",
            "We may use your posts and messages to train and improve our AI models.",
        ),
        (
            "2026-03-04T00:00:00Z",
            "We do not use your posts and messages to train our AI models.",
        ),
        ("2026-03-05T00:00:00Z", "We send newsletters when you ask for them."),
    ];
    for (now, sentence) in steps {
        server.page("/acme", &version(sentence));
        let (code, stdout, stderr) = archive.run_at(now, &["track"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    (server, archive)
}

#[test]
fn commits_name_the_provisions_their_changes_touch() {
    let (_server, archive) = scripted();
    let provisions = archive.git(&[
        "log",
        "--format=%(trailers:key=Provisions,valueonly)%x00",
        "--",
        "archive/versions/acme",
    ]);
    let per_commit: Vec<&str> = provisions.split('\0').map(str::trim).collect();
    // Newest first: disappeared, flipped, reworded, appeared, first record (no clause).
    assert_eq!(
        &per_commit[..5],
        &["ai-training", "ai-training", "ai-training", "ai-training", ""],
        "{provisions:?}"
    );
    let (_, log, _) = archive.run_at("2026-03-06T00:00:00Z", &["log", "acme"]);
    assert!(log.lines().next().unwrap().ends_with("[ai-training]"), "{log}");
}

#[test]
fn provisions_lists_tagged_sentences_with_stance() {
    let (_server, archive) = scripted();
    let (code, stdout, stderr) = archive.run_at(
        "2026-03-06T00:00:00Z",
        &["provisions", "acme/privacy-policy", "--at", "2026-03-03"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("acme/privacy-policy at 2026-03-03"), "{stdout}");
    assert!(stdout.contains("ai-training              grants      We may use your posts and messages to train and improve our AI models."), "{stdout}");
    let (_, json, _) = archive.run_at(
        "2026-03-06T00:00:00Z",
        &["provisions", "bcorp/privacy-policy", "--json"],
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json[0]["provision"], "ai-training");
    assert_eq!(json[0]["stance"], "restricts");
    assert!(json[0]["matched"].as_array().unwrap().len() >= 3);
    let (code, _, stderr) = archive.run_at(
        "2026-03-06T00:00:00Z",
        &["provisions", "acme/privacy-policy", "--provision", "nope"],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no provision \"nope\" in the taxonomy (known: ai-training"),
        "{stderr}"
    );
}

#[test]
fn timeline_shows_appearance_rewording_stance_flip_and_disappearance() {
    let (_server, archive) = scripted();
    let (code, stdout, stderr) = archive.run_at(
        "2026-03-06T00:00:00Z",
        &["timeline", "acme/privacy-policy", "--provision", "ai-training"],
    );
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "ai-training");
    assert!(
        lines[1].starts_with("  2026-03-02") && lines[1].ends_with("appeared"),
        "{stdout}"
    );
    assert_eq!(
        lines[2],
        "      + [grants] We may use your content to train our AI models."
    );
    assert!(
        lines[3].starts_with("  2026-03-03") && lines[3].ends_with("changed"),
        "{stdout}"
    );
    assert_eq!(
        lines[4],
        "      - [grants] We may use your content to train our AI models."
    );
    assert_eq!(
        lines[5],
        "      + [grants] We may use your posts and messages to train and improve our AI models."
    );
    assert!(
        lines[6].starts_with("  2026-03-04") && lines[6].ends_with("changed"),
        "{stdout}"
    );
    assert_eq!(
        lines[8],
        "      + [restricts] We do not use your posts and messages to train our AI models."
    );
    assert!(
        lines[9].starts_with("  2026-03-05") && lines[9].ends_with("disappeared"),
        "{stdout}"
    );
    assert_eq!(lines.len(), 11, "{stdout}");
}

#[test]
fn compare_states_each_platform_and_since_when() {
    let (_server, archive) = scripted();
    let now = "2026-03-06T00:00:00Z";
    let (code, md, stderr) = archive.run_at(now, &["compare", "ai-training", "--at", "2026-03-03"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        md.starts_with("# AI training on user content or data (`ai-training`)\n"),
        "{md}"
    );
    assert!(md.contains("| acme | privacy-policy | grants | 2026-03-03 | We may use your posts and messages to train and improve our AI models. |"), "{md}");
    assert!(md.contains("| bcorp | privacy-policy | restricts | first record (2026-03-01) | We do not use your content to train artificial intelligence models. |"), "{md}");
    assert!(md.contains("No sentence about it in: ccorp."), "{md}");
    // Above the sentences, each platform's position from its strongest sentence (the
    // test taxonomy has no phrases: the title's stand in).
    assert!(md.contains("| acme | AI training on user content or data: yes | privacy-policy | 2026-03-03 | We may use your posts and messages to train and improve our AI models. |"), "{md}");
    assert!(md.contains("| bcorp | AI training on user content or data: no | privacy-policy | first record (2026-03-01) | We do not use your content to train artificial intelligence models. |"), "{md}");
    assert!(md.find("## Positions") < md.find("## Every sentence"), "{md}");

    let (_, json, _) = archive.run_at(now, &["compare", "ai-training", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let services: Vec<&str> = json["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["bcorp"], "acme dropped the clause on day 5");
    assert_eq!(json["silent"], serde_json::json!(["acme", "ccorp"]));
    let bcorp = &json["positions"]["bcorp"];
    assert_eq!(bcorp["phrase"], "AI training on user content or data: no");
    assert_eq!(bcorp["stance"], "restricts");
    assert_eq!(bcorp["strongest"]["document"], "privacy-policy");
    assert_eq!(
        bcorp["strongest"]["text"],
        "We do not use your content to train artificial intelligence models."
    );
    assert_eq!(bcorp["strongest"]["since"], "2026-03-01T00:00:00Z");
    assert!(json["positions"].get("acme").is_none(), "{json}");

    let (_, matrix, _) = archive.run_at(now, &["compare", "--all", "--at", "2026-03-04"]);
    assert!(matrix.contains("| provision | acme | bcorp | ccorp |"), "{matrix}");
    assert!(
        matrix.contains(
            "| AI training on user content or data (`ai-training`) | AI training on user content or data: no | \
             AI training on user content or data: no | — |"
        ),
        "{matrix}"
    );
    // The cells' sentences follow, with their document and since-date: acme's since the
    // day its clause flipped, bcorp's since its first version.
    assert!(
        matrix.contains(
            "- acme: AI training on user content or data: no. privacy-policy, restricts, since 2026-03-04: \
         We do not use your posts and messages to train our AI models.\n"
        ),
        "{matrix}"
    );
    assert!(
        matrix.contains(
            "- bcorp: AI training on user content or data: no. privacy-policy, restricts, since the first record (2026-03-01): \
         We do not use your content to train artificial intelligence models.\n"
        ),
        "{matrix}"
    );
    let (_, json, _) = archive.run_at(now, &["compare", "--all", "--at", "2026-03-04", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cells = &json["cells"][0];
    assert_eq!(cells[0]["strongest"]["since"], "2026-03-04T00:00:00Z");
    assert_eq!(cells[0]["strongest"]["since_first_record"], false, "{json}");
    assert_eq!(cells[1]["strongest"]["since_first_record"], true, "{json}");
    // `--at DATE` is the end of that day: the last second included.
    assert_eq!(json["at"], "2026-03-04T23:59:59Z");
    assert_eq!(cells[1]["phrase"], "AI training on user content or data: no");
    assert!(cells[2].is_null(), "ccorp says nothing: {json}");
}

#[test]
fn reports_and_feeds_filter_by_provision() {
    let (_server, archive) = scripted();
    let now = "2026-03-06T00:00:00Z";
    let (_, json, _) = archive.run_at(
        now,
        &[
            "report",
            "--since",
            "2026-03-01",
            "--provision",
            "ai-training",
            "--format",
            "json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let docs: Vec<&str> = json["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["service"].as_str().unwrap())
        .collect();
    assert_eq!(docs, ["acme", "bcorp"]);
    assert_eq!(json["documents"][0]["changes"].as_array().unwrap().len(), 4);
    let (_, markdown, _) = archive.run_at(now, &["report", "--since", "2026-03-01", "--provision", "ai-training"]);
    // Only the sentences of the provision, marked; the others of each change counted.
    assert!(
        markdown.contains(
            "#### Added\n\n- *Privacy Policy:* (provision `ai-training`) We may use your content to train \
             our AI models.\n\nand 1 other sentence change.\n"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("and 3 other sentence changes.\n"), "{markdown}");
    let (_, html, _) = archive.run_at(
        now,
        &[
            "report",
            "--since",
            "2026-03-01",
            "--provision",
            "ai-training",
            "--format",
            "html",
        ],
    );
    assert!(
        html.contains(
            "<li class=\"provision\"><span class=\"section-label\">Privacy Policy</span><span class=\"provision-label\">\
             Provision: ai-training</span> We may use your content to train our AI models.</li>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<p class=\"muted folded\">and 3 other sentence changes.</p>"),
        "{html}"
    );
    let first = &json["documents"][1]["changes"][0];
    assert_eq!(first["other_sentence_changes"], 3, "{first}");
    assert_eq!(first["added"].as_array().unwrap().len(), 1, "{first}");

    let (_, feed, _) = archive.run_at(now, &["feed", "--provision", "ai-training"]);
    let feed = atom_syndication::Feed::read_from(feed.as_bytes()).unwrap();
    assert_eq!(feed.entries().len(), 5, "four acme changes and bcorp's first record");
    assert!(feed.id().ends_with("/provision/ai-training"));
}

/// The learned tagger on real histories (`../shared/corpus/versions`, imported as Open
/// Terms Archive commits): TikTok's 2023-10-19 rewording of its AI-training clause and
/// Snapchat's My AI conversations clause, which the rules miss, are tagged with the
/// right provision and stance. Runs where the MiniLM weights are (`.ci/run` sets
/// `CLAUSEWATCH_MODEL_DIR`).
#[test]
fn learned_tagger_reads_real_ai_training_clauses() {
    let Some(corpus) = crate::support::corpus() else { return };
    let Some(model) = std::env::var_os("CLAUSEWATCH_MODEL_DIR") else {
        if std::env::var_os("CLAUSEWATCH_REQUIRE_MODEL").is_some() {
            panic!("CLAUSEWATCH_REQUIRE_MODEL is set but CLAUSEWATCH_MODEL_DIR is not");
        }
        crate::support::skip("no MiniLM weights (set CLAUSEWATCH_MODEL_DIR; .ci/run fetches them)");
        return;
    };
    // Loading it here first distils the static embeddings once, into the cache the
    // commands below read (the other provision tests share this load).
    assert!(crate::provisions::learned_taxonomy().is_some(), "the weights load");
    let cache = std::env::var_os("CLAUSEWATCH_CACHE_DIR").map(std::path::PathBuf::from);
    let (ota, _) = crate::real_histories::ota_repository(&corpus);
    let archive = TestArchive::new();
    // The built-in taxonomy: the one the learned model was trained for.
    std::fs::write(
        archive.archive().join("provisions.toml"),
        include_str!("../archive/provisions.toml"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = archive.cmd(args);
        cmd.env("CLAUSEWATCH_NOW", crate::real_histories::AFTER)
            .env("CLAUSEWATCH_MODEL_DIR", &model);
        if let Some(cache) = &cache {
            cmd.env("CLAUSEWATCH_CACHE_DIR", cache);
        }
        let out = cmd.output().expect("run clausewatch");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    for service in ["TikTok", "Snapchat"] {
        run(&[
            "import",
            "ota-versions",
            ota.path().to_str().unwrap(),
            "--service",
            service,
            "--no-progress",
        ]);
    }
    // Versions whose change names provisions say which tagger decided them (a version
    // whose diff touches no tagged sentence has no trailer).
    let taggers = archive.git(&[
        "log",
        "--format=%(trailers:key=Tagger,valueonly)",
        "--",
        "archive/versions/tiktok",
    ]);
    let taggers: Vec<&str> = taggers.lines().map(str::trim).filter(|t| !t.is_empty()).collect();
    assert!(
        !taggers.is_empty() && taggers.iter().all(|t| t.starts_with("learned-minilm-static/")),
        "Tagger trailers: {taggers:?}"
    );

    // TikTok's privacy policy: the 2023-10-19 version words training "our machine
    // learning models" as a grant.
    let json = run(&[
        "timeline",
        "tiktok/privacy-policy",
        "--provision",
        "ai-training",
        "--json",
    ]);
    let json_value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json_value["tagger"]["name"], "learned-minilm-static", "{json}");
    let timeline = &json_value["timelines"][0];
    let reworded = timeline["events"].as_array().unwrap().iter().any(|event| {
        event["date"].as_str().is_some_and(|d| d.starts_with("2023-10-19"))
            && event.to_string().contains("machine learning models")
    });
    assert!(
        reworded,
        "no 2023-10-19 event with the machine-learning wording: {json}"
    );
    let text = run(&["timeline", "tiktok/privacy-policy", "--provision", "ai-training"]);
    assert!(text.contains("2023-10-19"), "{text}");
    // The wording before it, in force until then.
    let json = run(&[
        "provisions",
        "tiktok/privacy-policy",
        "--at",
        "2023-10-18",
        "--provision",
        "ai-training",
        "--json",
    ]);
    let tagged: serde_json::Value = serde_json::from_str(&json).unwrap();
    let grant = tagged.as_array().unwrap().iter().find(|t| {
        t["text"]
            .as_str()
            .is_some_and(|s| s.contains("train, develop, and improve our technology"))
    });
    let grant = grant.unwrap_or_else(|| panic!("the training sentence is not tagged ai-training: {json}"));
    assert_eq!(grant["stance"], "grants", "{grant}");
    assert!(
        grant["confidence"].as_u64().is_some(),
        "a learned tag shows its evidence: {grant}"
    );

    // Snapchat: models that take My AI conversations into account.
    let json = run(&[
        "provisions",
        "snapchat/privacy-policy",
        "--provision",
        "ai-training-conversations",
        "--json",
    ]);
    let tagged: serde_json::Value = serde_json::from_str(&json).unwrap();
    let conversations = tagged.as_array().unwrap().iter().find(|t| {
        t["text"]
            .as_str()
            .is_some_and(|s| s.contains("conversations Snapchatters are having with My AI"))
    });
    let conversations =
        conversations.unwrap_or_else(|| panic!("the My AI sentence is not tagged ai-training-conversations: {json}"));
    assert_eq!(conversations["stance"], "grants", "{conversations}");
}

/// A sentence whose wording changes a little (a spelling localised, "like" made "such
/// as") may leave the tagger's reading: the timeline still says the provision
/// disappeared, as `compare` and `provisions` will, but shows the close rewording that is
/// still there, so a reader can tell a changed reading from a dropped clause.
#[test]
fn a_provision_lost_on_a_close_rewording_shows_the_rewording() {
    let server = TestServer::start();
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/acme"))]);
    // A rule that knows one spelling only, as a tagger's reading can hinge on one.
    let taxonomy = archive.read("provisions.toml")
        + "\n[[provision]]\nid = \"face-recognition\"\ntitle = \"Face recognition\"\n\
           description = \"The platform recognises faces.\"\nall = [[\"recognize\"], [\"faces\"]]\nwindow = 6\n";
    std::fs::write(archive.archive().join("provisions.toml"), taxonomy).unwrap();
    archive.git(&["add", "-A"]);
    archive.git(&["commit", "-q", "-m", "taxonomy"]);
    for (now, sentence) in [
        (
            "2026-03-01T00:00:00Z",
            "Our systems use image analysis to recognize objects like faces in the pictures you upload.",
        ),
        (
            "2026-03-02T00:00:00Z",
            "Our systems use image analysis to recognise objects such as faces in the pictures you upload.",
        ),
    ] {
        server.page("/acme", &version(sentence));
        let (code, stdout, stderr) = archive.run_at(now, &["track"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let (code, stdout, stderr) = archive.run_at(
        "2026-03-03T00:00:00Z",
        &["timeline", "acme/privacy-policy", "--provision", "face-recognition"],
    );
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[3].starts_with("  2026-03-02")
            && lines[3]
                .ends_with("disappeared (a close rewording of its sentence is still there, not read as stating it)"),
        "{stdout}"
    );
    assert_eq!(
        &lines[4..],
        &[
            "      - [grants] Our systems use image analysis to recognize objects like faces in the pictures you upload.",
            "        now: Our systems use image analysis to recognise objects such as faces in the pictures you upload.",
        ],
        "{stdout}"
    );
    let (_, json, _) = archive.run_at(
        "2026-03-03T00:00:00Z",
        &[
            "timeline",
            "acme/privacy-policy",
            "--provision",
            "face-recognition",
            "--json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let event = &json["timelines"][0]["events"][1];
    assert_eq!(event["event"], "disappeared", "{json}");
    assert_eq!(
        event["reworded"][0]["now"],
        "Our systems use image analysis to recognise objects such as faces in the pictures you upload."
    );
}
