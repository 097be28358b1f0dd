//! Third-party text on a terminal (security review, finding 5). A version file committed
//! into a hostile archive, or an Open Terms Archive repository, carries a colour, an
//! OSC 8 hyperlink whose visible text hides its target, a carriage return that would
//! overwrite the line, and a right-to-left override that reverses `exe.png`. Every
//! command that prints that text shows those characters as visible `\u{..}` escapes;
//! JSON keeps the text exact, as data.

use crate::support::{TestArchive, commit_dated, git};

const DOC: &str = "acme/privacy-policy";
const NOW: &str = "2026-03-03T00:00:00Z";

const FIRST: &str = "# Acme Privacy Policy\n\n## Data\n\nWe collect your name.\nWe keep data for 30 days.\n";
/// A sentence the AI-training provision matches, with every kind of hostile character.
const HOSTILE: &str = "We may use your content to train our artificial intelligence models \
    \u{1b}]8;;https://evil.example/\u{1b}\\HERE\u{1b}]8;;\u{1b}\\ \u{1b}[31mred\u{1b}[0m \rOVERWRITE \u{202e}gnp.exe.";
/// HOSTILE as a terminal shows it.
const SHOWN: &str = r"We may use your content to train our artificial intelligence models \u{1b}]8;;https://evil.example/\u{1b}\HERE\u{1b}]8;;\u{1b}\ \u{1b}[31mred\u{1b}[0m \u{d}OVERWRITE \u{202e}gnp.exe.";
/// HOSTILE in Markdown: the same escapes, with Markdown's own backslashes.
const MARKDOWN: &str = r"We may use your content to train our artificial intelligence models \\u{1b}\]8;;https://evil.example/\\u{1b}\\HERE\\u{1b}\]8;;\\u{1b}\\ \\u{1b}\[31mred\\u{1b}\[0m \\u{d}OVERWRITE \\u{202e}gnp.exe.";

/// An archive whose first version of acme/privacy-policy is FIRST, on 2026-03-01.
fn first_recorded() -> TestArchive {
    let archive = TestArchive::new();
    archive.git(&["add", "-A"]);
    archive.git(&["commit", "-q", "-m", "init"]);
    archive.commit_acme_version(
        FIRST,
        "2026-03-01T06:00:00Z",
        "First record of Acme Privacy Policy",
        "first",
    );
    archive
}

/// A first version, then one that adds HOSTILE and changes a sentence's words with an
/// erase-line escape and a carriage return.
fn hostile_archive() -> TestArchive {
    let archive = first_recorded();
    let second = FIRST.replace("30 days.", "\u{1b}[2K\r90 days.") + HOSTILE + "\n";
    archive.commit_acme_version(
        &second,
        "2026-03-02T06:00:00Z",
        "Acme Privacy Policy: 1 sentence added, 1 changed",
        "substantive",
    );
    archive
}

fn run(archive: &TestArchive, args: &[&str]) -> String {
    let (code, stdout, stderr) = archive.run_at(NOW, args);
    assert_eq!(code, 0, "{args:?}: {stdout}{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{args:?}: {stderr:?}");
    stdout
}

/// No character of `text` is one a terminal would act on or reorder.
fn assert_inert(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(bad.is_empty(), "{what}: {bad:?} in {text:?}");
}

#[test]
fn history_text_reaches_the_terminal_escaped_in_every_command() {
    let archive = hostile_archive();

    let show = run(&archive, &["show", &format!("{DOC}@latest")]);
    assert_inert("show", &show);
    assert!(show.ends_with(&format!("\n{SHOWN}\n")), "{show}");
    assert!(show.contains("\nWe keep data for \\u{1b}[2K\\u{d}90 days.\n"), "{show}");

    let diff = run(&archive, &["diff", DOC]);
    assert_inert("diff", &diff);
    assert!(diff.contains(&format!("\n+ {SHOWN}\n")), "{diff}");
    assert!(
        diff.contains("\n~ We keep data for[- 30-]{+ \\u{1b}[2K\\u{d}90+} days.\n"),
        "{diff}"
    );
    // Colours are the only escape sequences, and the text inside them stays escaped.
    let coloured = run(&archive, &["diff", DOC, "--color", "always"]);
    assert!(
        coloured.contains(&format!("\u{1b}[32m+ {SHOWN}\u{1b}[0m\n")),
        "{coloured:?}"
    );
    assert!(
        !coloured.contains('\r') && !coloured.contains('\u{202e}'),
        "{coloured:?}"
    );

    let commit = archive.git(&["rev-parse", "--short=12", "HEAD"]);
    let commit = commit.trim();
    let blame = run(&archive, &["blame", DOC]);
    assert_inert("blame", &blame);
    assert!(
        blame.contains(&format!("\n2026-03-02  {commit}       0d  {SHOWN}\n")),
        "{blame}"
    );

    let provisions = run(&archive, &["provisions", DOC]);
    assert_inert("provisions", &provisions);
    assert!(
        provisions.ends_with(&format!("\n    7  ai-training              grants      {SHOWN}\n")),
        "{provisions}"
    );

    let timeline = run(&archive, &["timeline", DOC]);
    assert_inert("timeline", &timeline);
    assert_eq!(
        timeline,
        format!("ai-training\n  2026-03-02  {commit}  appeared\n      + [grants] {SHOWN}\n")
    );

    let compare = run(&archive, &["compare", "ai-training"]);
    assert_inert("compare", &compare);
    assert!(compare.contains(&format!(" | {MARKDOWN} |\n")), "{compare}");

    let report = run(&archive, &["report", "--since", "2026-03-02"]);
    assert_inert("report", &report);
    assert!(report.contains(&format!("\n- *Data:* {MARKDOWN}\n")), "{report}");
    assert!(
        report.contains(r"- *Data:* We keep data for ~~30~~ **\\u{1b}\[2K\\u{d}90** days."),
        "{report}"
    );

    // JSON is data: the text exactly, its control characters escaped by JSON itself.
    let json = run(&archive, &["show", &format!("{DOC}@latest"), "--json"]);
    assert!(
        json.contains("\\u001b]8;;https://evil.example/") && json.contains("\\rOVERWRITE \u{202e}gnp"),
        "{json}"
    );
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(parsed["text"].as_str().unwrap().contains(HOSTILE));
}

/// An Open Terms Archive repository whose commit subject and file names carry escapes.
#[test]
fn upstream_subjects_and_file_names_are_printed_escaped_by_the_imports() {
    let ota = tempfile::tempdir().unwrap();
    git(ota.path(), &["init", "-q", "-b", "main"]);
    std::fs::create_dir(ota.path().join("Acme")).unwrap();
    let policy = ota.path().join("Acme/Privacy Policy.md");
    std::fs::write(
        &policy,
        "# Acme Privacy Policy\n\nWe collect your email address when you sign up for the service. \
         We keep data for 30 days after you close your account. We may share information with partners.\n",
    )
    .unwrap();
    git(ota.path(), &["add", "-A"]);
    commit_dated(ota.path(), "2026-01-01T00:00:00Z", "Start tracking Acme Privacy Policy");
    std::fs::write(&policy, "# Not Found\n\nError 404 page not found.\n").unwrap();
    git(ota.path(), &["add", "-A"]);
    commit_dated(
        ota.path(),
        "2026-01-02T00:00:00Z",
        "Update \u{1b}[2J\u{1b}[HCLEARED \u{202e}evil\u{2028}Acme",
    );
    let skipped = git(ota.path(), &["rev-parse", "--short=12", "HEAD"]);
    std::fs::write(
        ota.path()
            .join("Acme/evil\u{1b}[31mRED\u{1b}]8;;https:evil.example\u{7}LINK\u{1b}]8;;\u{7}\nline.txt"),
        "x",
    )
    .unwrap();
    git(ota.path(), &["add", "-A"]);
    commit_dated(ota.path(), "2026-01-03T00:00:00Z", "f");

    let archive = TestArchive::new();
    let repo = ota.path().to_str().unwrap();
    let (code, stdout, stderr) = archive.run(&["import", "ota-versions", repo, "--service", "Acme", "--no-progress"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_inert("import ota-versions", &stdout);
    assert!(
        stdout.contains(&format!(
            "\n    skipped OTA commit {} (Update \\u{{1b}}[2J\\u{{1b}}[HCLEARED \\u{{202e}}evil\\u{{2028}}Acme): not-found",
            skipped.trim()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "\nignored    Acme/evil\\u{1b}[31mRED\\u{1b}]8;;https:evil.example\\u{7}LINK\\u{1b}]8;;\\u{7}\\u{a}line.txt: "
        ),
        "{stdout}"
    );

    let declarations = tempfile::tempdir().unwrap();
    std::fs::write(
        declarations.path().join("Evil\u{1b}[31mCorp\u{202e}\n.json"),
        "not json",
    )
    .unwrap();
    let (code, stdout, stderr) = archive.run(&["import", "ota-declarations", declarations.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_inert("import ota-declarations", &stdout);
    assert!(
        stdout.starts_with("failed     Evil\\u{1b}[31mCorp\\u{202e}\\u{a}.json: "),
        "{stdout}"
    );
}

/// A bidirectional override in a committed sentence reverses `exe.png` on screen; the
/// site's pages and the Atom feeds show it as `\u{202e}`, as a terminal does, and leave
/// other text (accents, dashes, quotes, emoji) as it is.
#[test]
fn bidirectional_controls_reach_the_site_and_the_feeds_visible() {
    const ORDINARY: &str = "Vos données — “AI” 🙂 sont à vous.";
    let archive = first_recorded();
    let second = format!("{FIRST}Send us the file \u{202e}gnp.exe today.\n{ORDINARY}\n");
    archive.commit_acme_version(
        &second,
        "2026-03-02T06:00:00Z",
        "Acme Privacy Policy: 2 sentences added",
        "substantive",
    );
    let commit = archive.git(&["rev-parse", "--short=12", "HEAD"]);
    let shown = r"Send us the file \u{202e}gnp.exe today.";

    let site = archive.repo.join("site");
    run(&archive, &["site", "--out", site.to_str().unwrap()]);
    let version_page =
        std::fs::read_to_string(site.join(format!("documents/acme/privacy-policy/{}.html", commit.trim()))).unwrap();
    for (name, text) in [
        ("version page", version_page),
        ("site feed", std::fs::read_to_string(site.join("feed.xml")).unwrap()),
        ("feed", run(&archive, &["feed", DOC])),
    ] {
        assert!(!text.contains('\u{202e}'), "{name}: {text}");
        assert!(text.contains(shown), "{name}: {text}");
        assert!(text.contains(ORDINARY), "{name}: {text}");
    }
}
