//! The comparison matrix at full size: twenty synthetic platforms, the built-in taxonomy
//! (22 provisions), tracked twice. What a cell says (the position phrase, its strongest
//! sentence, document and since-date) in the site and in `compare --all`, and that the
//! page fits a 1280 px wide screen in headless Chromium, closed and with every cell open.

use std::path::Path;
use std::process::Command;

use clausewatch::provision::Taxonomy;

use crate::support::{TestArchive, TestServer, policy_page};

const JAN15: &str = "2026-01-15T06:00:00Z";
const FEB10: &str = "2026-02-10T06:00:00Z";
const NOW: &str = "2026-03-01T00:00:00Z";

/// Slugs of every length a real archive has, so the column headings are not all alike.
const SERVICES: [&str; 20] = [
    "acme",
    "bluebird-social",
    "cobalt",
    "driftwood-ai",
    "ember",
    "fjord-video",
    "glimmer",
    "harbor-cloud",
    "ion-search",
    "juniper",
    "kite-messenger",
    "lumen",
    "mosaic-photos",
    "nimbus-assistant",
    "orbit",
    "pebble-shop",
    "quartz",
    "ripple-music",
    "sable",
    "tundra-maps",
];

/// The first four platforms' AI-training sentences, written for this test; the cells
/// they make are asserted word for word.
const ACME_GRANT: &str = "We may use your content to train our AI models.";
const ACME_OPT_OUT: &str = "You can opt out of AI training on your content in your settings.";
const BLUEBIRD_DENIAL: &str = "We do not use your content to train artificial intelligence models.";
const COBALT_OPT_IN: &str = "If you opt in, we use your posts to improve our AI models.";
const DRIFTWOOD_GRANT: &str = "We may use your public posts to train our AI models.";
const DRIFTWOOD_DENIAL: &str = "We do not use your private messages to train AI models.";

/// A sentence that expresses `id` under the built-in rules: a term of each of its
/// groups, in order (the rules ask for nothing more), in one of four stances.
fn sentence_for(taxonomy: &Taxonomy, id: &str, variant: usize) -> String {
    let provision = taxonomy.get(id).expect("a built-in provision");
    let terms: Vec<String> = provision
        .all
        .iter()
        .map(|group| group[0].trim_end_matches('*').to_string())
        .collect();
    let body = terms.join(" ");
    let sentence = match variant {
        0 => format!("We may {body} for you."),
        1 => format!("We do not {body} for you."),
        _ => format!("We may {body} for you unless you opt out."),
    };
    assert!(
        taxonomy.tag(&sentence).iter().any(|t| t.provision == id),
        "the fixture sentence {sentence:?} no longer expresses {id}: adjust sentence_for"
    );
    sentence
}

/// Each platform's privacy policy at a run: every provision stated (AI training in the
/// hand-written sentences above for the first four), so every cell of the matrix is full.
fn privacy_policy(taxonomy: &Taxonomy, index: usize, run: usize) -> String {
    let mut sentences: Vec<String> = vec!["We collect your name and e-mail address.".into()];
    for (j, provision) in taxonomy.provisions.iter().enumerate() {
        let ai = provision.id == "ai-training";
        match index {
            0 if ai => {
                if run == 1 {
                    sentences.push(ACME_GRANT.into());
                }
            }
            1 if ai => sentences.push(BLUEBIRD_DENIAL.into()),
            2 if ai => sentences.push(COBALT_OPT_IN.into()),
            3 if ai => {
                sentences.push(DRIFTWOOD_GRANT.into());
                if run == 1 {
                    sentences.push(DRIFTWOOD_DENIAL.into());
                }
            }
            _ => {
                let variant = (index + j) % 4;
                sentences.push(sentence_for(taxonomy, &provision.id, variant.min(2)));
                if variant == 3 {
                    // Both a grant and a denial: a mixed position.
                    sentences.push(sentence_for(taxonomy, &provision.id, 1));
                }
            }
        }
    }
    let paragraphs: String = sentences.iter().map(|s| format!("<p>{s}</p>")).collect();
    policy_page(&format!("<h1>Privacy Policy</h1>{paragraphs}"), "")
}

/// Twenty platforms with a privacy policy each (Acme also terms), tracked on January 15
/// and February 10, with the built-in taxonomy.
fn twenty_platforms() -> (TestServer, TestArchive, Taxonomy) {
    let taxonomy = Taxonomy::builtin().expect("the built-in taxonomy");
    let server = TestServer::start();
    let archive = TestArchive::new();
    std::fs::remove_file(archive.archive().join("provisions.toml")).expect("the test taxonomy");
    for (i, slug) in SERVICES.iter().enumerate() {
        let mut documents = vec![("privacy-policy", server.url(&format!("/{slug}/privacy")))];
        if i == 0 {
            documents.push(("terms-of-service", server.url("/acme/terms")));
        }
        let documents: Vec<(&str, &str)> = documents.iter().map(|(t, u)| (*t, u.as_str())).collect();
        archive.declare_simple(slug, &slug.replace('-', " "), &documents);
    }
    server.page(
        "/acme/terms",
        &policy_page(&format!("<h1>Terms of Service</h1><p>{ACME_OPT_OUT}</p>"), ""),
    );
    for (run, now) in [JAN15, FEB10].into_iter().enumerate() {
        for (i, slug) in SERVICES.iter().enumerate() {
            server.page(&format!("/{slug}/privacy"), &privacy_policy(&taxonomy, i, run));
        }
        let (code, stdout, stderr) = archive.run_at(now, &["track"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    (server, archive, taxonomy)
}

/// The text of each element `selector` matches, whitespace collapsed.
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
fn a_twenty_platform_matrix_states_positions_and_fits_a_1280_px_screen() {
    let (_server, archive, taxonomy) = twenty_platforms();
    let out = archive.repo.join("site");
    let (code, stdout, stderr) = archive.run_at(NOW, &["site", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let page = out.join("provisions/index.html");
    let html = std::fs::read_to_string(&page).unwrap();

    assert_eq!(texts(&html, "th.platform"), SERVICES);
    assert_eq!(texts(&html, "tbody th").len(), taxonomy.provisions.len());
    let cells = texts(&html, "table.matrix td");
    assert_eq!(cells.len(), 20 * taxonomy.provisions.len());
    assert!(cells.iter().all(|c| c != "—"), "every platform states every provision");

    // The AI-training row, cell by cell: the phrase, then the strongest sentence, its
    // stance, document and since-date, and how many sentences it was chosen from.
    let row = taxonomy.provisions.iter().position(|p| p.id == "ai-training").unwrap();
    let phrases = texts(&html, "table.matrix tbody tr");
    let ai_row = &phrases[row];
    let summaries: Vec<String> = texts(&html, "table.matrix td summary")
        .into_iter()
        .skip(row * 20)
        .take(4)
        .collect();
    assert_eq!(
        summaries,
        [
            "may train AI on your content; opt-out",
            "no or limited AI training on your content",
            "AI training on your content: your choice; opt-in",
            "mixed: no or limited AI training on your content",
        ],
        "{ai_row}"
    );
    let evidence: Vec<String> = texts(&html, "table.matrix td .evidence")
        .into_iter()
        .skip(row * 20)
        .take(4)
        .collect();
    assert_eq!(
        evidence,
        [
            format!(
                "{ACME_GRANT} grants · privacy-policy · since 2026-02-10 \
                 The strongest of 2 sentences (grants, conditional)."
            ),
            format!("{BLUEBIRD_DENIAL} restricts · privacy-policy · since the first record ( 2026-01-15 )"),
            format!("{COBALT_OPT_IN} conditional · privacy-policy · since the first record ( 2026-01-15 )"),
            format!(
                "{DRIFTWOOD_DENIAL} restricts · privacy-policy · since 2026-02-10 \
                 The strongest of 2 sentences (grants, restricts)."
            ),
        ]
    );

    // `compare --all` says the same, in JSON and as text.
    let (code, json, stderr) = archive.run_at(NOW, &["compare", "--all", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let acme = &json["cells"][row][0];
    assert_eq!(acme["phrase"], "may train AI on your content; opt-out");
    assert_eq!(acme["qualifiers"], serde_json::json!(["opt-out"]));
    assert_eq!(acme["strongest"]["text"], ACME_GRANT);
    assert_eq!(acme["strongest"]["document"], "privacy-policy");
    assert_eq!(acme["strongest"]["since"], "2026-02-10T06:00:00Z");
    assert_eq!(json["cells"][row][3]["mixed"], true);
    let (_, text, _) = archive.run_at(NOW, &["compare", "--all"]);
    assert!(
        text.contains(&format!(
            "- acme: may train AI on your content; opt-out. privacy-policy, grants, since 2026-02-10 \
             (strongest of 2 sentences): {ACME_GRANT}\n"
        )),
        "{text}"
    );

    let Some(chromium) = crate::render::chromium() else {
        return;
    };
    let [closed, open] = overflows(&chromium, &page);
    assert!(closed <= 0, "the page scrolls {closed} px sideways on a 1280 px screen");
    assert!(
        open <= 0,
        "with every cell open, the page scrolls {open} px sideways on a 1280 px screen"
    );
}

/// How far the page reaches sideways past its viewport in a 1280 × 900 window
/// (`scrollWidth - clientWidth` of the document: 0 when there is nothing to scroll), as
/// it loads and with every `<details>` open: a copy of the page with a script that
/// writes both into the DOM Chromium dumps. The window's own width is checked too, so
/// a Chromium that ignored the size could not pass.
fn overflows(chromium: &Path, page: &Path) -> [i32; 2] {
    const MEASURE: &str = "<script>\
        var root = document.documentElement;\
        var shut = root.scrollWidth - root.clientWidth;\
        document.querySelectorAll('details').forEach(function (d) { d.open = true; });\
        var opened = root.scrollWidth - root.clientWidth;\
        document.body.setAttribute('data-widths', window.innerWidth + ' ' + shut + ' ' + opened);\
        </script>";
    let html = std::fs::read_to_string(page).unwrap();
    let measured = page.with_file_name("measured.html");
    std::fs::write(&measured, html.replace("</body>", &format!("{MEASURE}</body>"))).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--window-size=1280,900",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", measured.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    let document = scraper::Html::parse_document(&dom);
    let body = document
        .select(&scraper::Selector::parse("body").unwrap())
        .next()
        .expect("a body");
    let widths: Vec<i32> = body
        .value()
        .attr("data-widths")
        .unwrap_or_else(|| panic!("the measuring script did not run: {dom}"))
        .split(' ')
        .map(|w| w.parse().unwrap_or_else(|_| panic!("not a width: {w:?} in {dom}")))
        .collect();
    assert_eq!(widths[0], 1280, "Chromium's window is not 1280 px wide");
    [widths[1], widths[2]]
}

/// A mixed cell's headline is the stance most of the platform's sentences take, and a
/// heading never headlines while a sentence states the provision
/// (docs/provisions.md#comparing-platforms-positions). The built-in taxonomy, for its
/// phrases.
#[test]
fn a_cell_headlines_the_prevailing_stance_and_never_a_heading() {
    // A narrow carve-out that comes first, then the platform's grant, said twice.
    const CARVE_OUT: &str = "We do not use your private content to train our AI models.";
    const GRANT: &str = "We may use your public posts to train our AI models.";
    const GRANT_AGAIN: &str = "We may use your photos to improve our AI models.";
    const HEADING: &str = "How we use your content to train AI models";
    let server = TestServer::start();
    server.page(
        "/acme/privacy",
        &policy_page(
            &format!("<h1>Privacy Policy</h1><p>{CARVE_OUT}</p><p>{GRANT}</p><p>{GRANT_AGAIN}</p>"),
            "",
        ),
    );
    server.page(
        "/bluebird/privacy",
        &policy_page(
            &format!("<h1>Privacy Policy</h1><h2>{HEADING}</h2><p>{ACME_OPT_OUT}</p>"),
            "",
        ),
    );
    let archive = TestArchive::new();
    std::fs::remove_file(archive.archive().join("provisions.toml")).expect("the test taxonomy");
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/acme/privacy"))]);
    archive.declare_simple(
        "bluebird",
        "Bluebird",
        &[("privacy-policy", &server.url("/bluebird/privacy"))],
    );
    let (code, stdout, stderr) = archive.run_at(JAN15, &["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let (code, json, stderr) = archive.run_at(NOW, &["compare", "ai-training", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let acme = &json["positions"]["acme"];
    assert_eq!(acme["phrase"], "mixed: may train AI on your content");
    assert_eq!(acme["strongest"]["text"], GRANT);
    let bluebird = &json["positions"]["bluebird"];
    assert_eq!(
        bluebird["stances"],
        serde_json::json!(["grants", "conditional"]),
        "the heading is tagged, and listed"
    );
    assert_eq!(bluebird["phrase"], "AI training on your content: your choice; opt-out");
    assert_eq!(bluebird["strongest"]["text"], ACME_OPT_OUT);

    let (_, text, _) = archive.run_at(NOW, &["compare", "ai-training"]);
    assert!(
        text.contains(&format!(
            "| acme | mixed: may train AI on your content | privacy-policy | first record (2026-01-15) | {GRANT} |"
        )),
        "{text}"
    );
}
