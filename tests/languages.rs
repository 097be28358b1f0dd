//! Languages: the provision tagger reads the languages its taxonomy lists; a document in
//! another one is detected, left untagged, and every output that shows provisions says
//! so rather than reporting that the document states none.

use std::collections::BTreeMap;

use clausewatch::canon::language::language_of;

use crate::support::{TestArchive, TestServer, corpus};

const FRENCH: &str = "<html><head><title>Politique</title></head><body><main>\
    <h1>Politique de confidentialité</h1>\
    <p>Nous pouvons utiliser vos contenus pour entraîner nos modèles d'intelligence artificielle.</p>\
    <p>Nous conservons vos données tant que votre compte est ouvert, puis nous les supprimons.</p>\
    <p>Vous pouvez demander l'accès à vos données et leur suppression à tout moment.</p>\
    <p>Nous partageons certaines informations avec nos prestataires, qui les traitent pour notre compte.</p>\
    <p>Si vous avez moins de seize ans, vous devez obtenir l'accord de vos parents avant de vous inscrire.</p>\
    </main></body></html>";

const ENGLISH: &str = "<html><head><title>Policy</title></head><body><main>\
    <h1>Privacy Policy</h1>\
    <p>We may use your content to train our artificial intelligence models.</p>\
    <p>We keep your data while your account is open, and then we delete it.</p>\
    <p>You may ask for access to your data and for its deletion at any time.</p>\
    <p>We share some information with our providers, who process it on our behalf.</p>\
    <p>If you are under sixteen, you must get your parents' consent before you sign up.</p>\
    </main></body></html>";

#[test]
fn a_document_in_a_language_the_tagger_does_not_read_is_said_to_be_untagged() {
    let server = TestServer::start();
    server.page("/fr", FRENCH);
    server.page("/en", ENGLISH);
    let archive = TestArchive::new();
    archive.declare_simple(
        "acme",
        "Acme",
        &[
            ("privacy-policy", &server.url("/en")),
            ("privacy-policy-fr", &server.url("/fr")),
        ],
    );
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let french = archive.git(&[
        "log",
        "-1",
        "--format=%B",
        "--",
        "archive/versions/acme/privacy-policy-fr.md",
    ]);
    assert!(french.contains("\nUntagged-Language: fr\n"), "{french}");
    assert!(!french.contains("Provisions:"), "{french}");
    assert!(
        french.contains("Provisions not tagged: the text is in a language the tagger does not read (fr)."),
        "{french}"
    );
    let english = archive.git(&[
        "log",
        "-1",
        "--format=%B",
        "--",
        "archive/versions/acme/privacy-policy.md",
    ]);
    assert!(english.contains("\nProvisions: ai-training\n"), "{english}");
    assert!(!english.contains("Untagged-Language"), "{english}");

    let (code, stdout, stderr) = archive.run(&["provisions", "acme/privacy-policy-fr"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(": 0 tags on 0 sentences"), "{stdout}");
    assert_eq!(
        stderr.trim(),
        "note: acme/privacy-policy-fr: provisions not tagged: the text is in French (fr), and the tagger reads English"
    );
    let (_, stdout, stderr) = archive.run(&["provisions", "acme/privacy-policy"]);
    assert!(stdout.contains(": 1 tag on 1 sentence\n"), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");

    let (_, _, stderr) = archive.run(&["timeline", "acme/privacy-policy-fr"]);
    assert!(stderr.contains("the latest version: provisions not tagged"), "{stderr}");

    let (_, log, _) = archive.run(&["log", "acme/privacy-policy-fr"]);
    assert!(
        log.contains("\n    provisions not tagged: the text is in fr (not a language the tagger reads)\n"),
        "{log}"
    );
}

#[test]
fn a_taxonomy_that_lists_a_language_tags_it() {
    let server = TestServer::start();
    server.page("/fr", FRENCH);
    let archive = TestArchive::new();
    let taxonomy = "languages = [\"en\", \"fr\"]\n\n[[provision]]\nid = \"ai-training\"\ntitle = \"Entraînement\"\n\
                    description = \"d\"\nall = [[\"entraîner\"], [\"modèles\"], [\"contenus\"]]\nwindow = 12\n";
    std::fs::write(archive.archive().join("provisions.toml"), taxonomy).expect("write taxonomy");
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/fr"))]);
    assert_eq!(archive.run(&["track"]).0, 0);
    let message = archive.git(&["log", "-1", "--format=%B"]);
    assert!(message.contains("\nProvisions: ai-training\n"), "{message}");
    assert!(!message.contains("Untagged-Language"), "{message}");

    std::fs::write(archive.archive().join("provisions.toml"), "languages = [\"French\"]\n").expect("write taxonomy");
    let (code, _, stderr) = archive.run(&["provisions", "acme/privacy-policy"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("\"French\" is not a language code"), "{stderr}");
}

/// Every labelled document of the real corpus is detected in the language most of its
/// labelled sentences are in (English, French, German and Chinese; read from ../shared,
/// never copied). A document the
/// detector cannot decide on is tagged as usual, which is right only for English.
#[test]
fn real_documents_are_detected_in_their_language() {
    let Some(corpus) = corpus() else { return };
    let labels = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/provision-labels-full.tsv"),
    )
    .expect("labels");
    // A document's language is that of most of its labelled sentences: an English
    // contract may end with a French customer's warranty, labelled `fr` sentence by sentence.
    let mut counts: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for row in labels.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let fields: Vec<&str> = row.split('\t').collect();
        *counts.entry(fields[0]).or_default().entry(fields[3]).or_default() += 1;
    }
    let languages: BTreeMap<&str, &str> = counts
        .iter()
        .map(|(path, by_language)| {
            let most = by_language.iter().max_by_key(|(_, n)| **n).map(|(code, _)| *code);
            (*path, most.expect("a labelled sentence"))
        })
        .collect();
    assert!(languages.len() >= 90, "{} labelled documents", languages.len());
    let mut wrong = Vec::new();
    for (path, expected) in &languages {
        let text = std::fs::read_to_string(corpus.join(path)).expect("corpus file");
        let found = language_of(&text).map(|l| l.code());
        // Undecided is tagged as usual: right for English, wrong for any other language.
        let right = found == Some(*expected) || (found.is_none() && *expected == "en");
        if !right {
            wrong.push(format!("{path}: expected {expected}, detected {found:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A platform whose documents the tagger cannot read is not "silent" in a comparison:
/// what it says is unknown, and `compare` says so.
#[test]
fn comparisons_list_untagged_documents_apart_from_silent_ones() {
    let server = TestServer::start();
    server.page("/fr", FRENCH);
    server.page("/en", ENGLISH);
    server.page(
        "/quiet",
        "<html><body><main><h1>Terms</h1><p>These terms apply to everyone who uses the Quiet service \
         and to every visit to its pages, in every country where it is offered.</p></main></body></html>",
    );
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/en"))]);
    archive.declare_simple("bonjour", "Bonjour", &[("privacy-policy", &server.url("/fr"))]);
    archive.declare_simple("quiet", "Quiet", &[("terms-of-service", &server.url("/quiet"))]);
    assert_eq!(archive.run(&["track"]).0, 0);

    let (code, stdout, stderr) = archive.run(&["compare", "ai-training"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\nNo sentence about it in: quiet.\n"), "{stdout}");
    assert!(
        stdout.contains("\nNot tagged, in a language the tagger does not read: bonjour/privacy-policy (French).\n"),
        "{stdout}"
    );
    let (_, json, _) = archive.run(&["compare", "--all", "--format", "json"]);
    let matrix: serde_json::Value = serde_json::from_str(&json).expect("compare --all json");
    assert_eq!(matrix["untagged"][0]["service"], "bonjour");
    assert_eq!(matrix["untagged"][0]["language"], "fr");
    let (_, html, _) = archive.run(&["compare", "--all", "--format", "html"]);
    assert!(
        html.contains("Not tagged, in a language the tagger does not read: bonjour/privacy-policy (French)."),
        "{html}"
    );
}
