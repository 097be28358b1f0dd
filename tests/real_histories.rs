//! Every real version history of `../shared/corpus/versions/`, replayed with `import
//! ota-versions` from one repository laid out like Open Terms Archive's (one commit per
//! version, dated as `MANIFEST.tsv` says, equal dates in file order), and the answers a
//! journalist would ask of it: whole histories, since-when, reverts, newest first.
//!
//! The replay is built once and shared by the tests of this module (read-only): it is
//! the costly part.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::{TestArchive, corpus};

/// OTA folder and file of each corpus history.
const HISTORIES: &[(&str, &str, &str)] = &[
    ("chatgpt__terms-of-service", "ChatGPT", "Terms of Service"),
    ("facebook__terms-of-service", "Facebook", "Terms of Service"),
    ("google__privacy-policy", "Google", "Privacy Policy"),
    ("reddit__privacy-policy", "Reddit", "Privacy Policy"),
    ("snapchat__privacy-policy", "Snapchat", "Privacy Policy"),
    ("tiktok__privacy-policy", "TikTok", "Privacy Policy"),
    ("tiktok__terms-of-service", "TikTok", "Terms of Service"),
    ("x__privacy-policy", "X", "Privacy Policy"),
];

const SERVICES: &[&str] = &["ChatGPT", "Facebook", "Google", "Reddit", "Snapchat", "TikTok", "X"];

/// After the corpus's last version: imports commit at this time (a commit is never
/// older than the version it records), and reports are read then.
pub(crate) const AFTER: &str = "2026-09-01T00:00:00Z";

/// X's AI-training sentence, in its first version (2024-02-21) and ever since.
const X_AI_TRAINING: &str = "help train our machine learning or artificial intelligence models";

struct Replay {
    archive: TestArchive,
    ota: PathBuf,
    /// `import ota-versions` output of each service.
    imports: HashMap<&'static str, (i32, String)>,
    /// Corpus files per history.
    files: HashMap<&'static str, Vec<String>>,
}

/// One commit per corpus version, oldest first, built with libgit2 (hundreds of `git`
/// processes would cost seconds).
pub(crate) fn ota_repository(corpus: &Path) -> (tempfile::TempDir, HashMap<&'static str, Vec<String>>) {
    let manifest: HashMap<String, (String, String)> = std::fs::read_to_string(corpus.join("MANIFEST.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.len() >= 8).then(|| (cols[0].to_string(), (cols[6].to_string(), cols[7].to_string())))
        })
        .collect();
    let mut plan = Vec::new();
    let mut files = HashMap::new();
    for (order, (history, folder, name)) in HISTORIES.iter().enumerate() {
        let mut names: Vec<String> = std::fs::read_dir(corpus.join("versions").join(history))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for (i, file) in names.iter().enumerate() {
            let key = format!("versions/{history}/{file}");
            let (date, subject) = manifest[&key].clone();
            plan.push((date, order, i, *folder, *name, key, subject));
        }
        files.insert(*history, names);
    }
    // Date order; a history's own order among equal dates (TikTok has four in a second).
    plan.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));

    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let mut tree: HashMap<&str, HashMap<String, git2::Oid>> = HashMap::new();
    let mut parent: Option<git2::Oid> = None;
    for (date, _, _, folder, name, key, subject) in plan {
        let blob = repo.blob(&std::fs::read(corpus.join(&key)).unwrap()).unwrap();
        tree.entry(folder).or_default().insert(format!("{name}.md"), blob);
        let mut root = repo.treebuilder(None).unwrap();
        for (folder, entries) in &tree {
            let mut sub = repo.treebuilder(None).unwrap();
            for (file, oid) in entries {
                sub.insert(file, *oid, 0o100644).unwrap();
            }
            root.insert(folder, sub.write().unwrap(), 0o040000).unwrap();
        }
        let tree_id = root.write().unwrap();
        let when = chrono::DateTime::parse_from_rfc3339(&date).unwrap().timestamp();
        let signature = git2::Signature::new("OTA-Bot", "bot@opentermsarchive.org", &git2::Time::new(when, 0)).unwrap();
        let parents: Vec<git2::Commit> = parent.iter().map(|p| repo.find_commit(*p).unwrap()).collect();
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let commit = repo
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                &subject,
                &repo.find_tree(tree_id).unwrap(),
                &parent_refs,
            )
            .unwrap();
        parent = Some(commit);
    }
    (dir, files)
}

/// Every history imported (the OTA repository holds them all, as OTA's would).
fn replay() -> Option<&'static Replay> {
    static REPLAY: OnceLock<Option<Replay>> = OnceLock::new();
    REPLAY.get_or_init(|| build(SERVICES)).as_ref()
}

/// X's history alone: what the site and the export of X are checked on, at a fraction
/// of the cost of rendering every document.
fn x_replay() -> Option<&'static Replay> {
    static REPLAY: OnceLock<Option<Replay>> = OnceLock::new();
    REPLAY.get_or_init(|| build(&["X"])).as_ref()
}

fn build(services: &[&'static str]) -> Option<Replay> {
    let corpus = corpus()?;
    let started = std::time::Instant::now();
    let (ota_dir, files) = ota_repository(&corpus);
    // Built once and kept in a static, which is never dropped.
    let ota = crate::support::remove_at_exit(ota_dir);
    let archive = TestArchive::new().removed_at_exit();
    let mut imports = HashMap::new();
    for service in services {
        let (code, stdout, stderr) = archive.run_at(
            AFTER,
            &[
                "import",
                "ota-versions",
                ota.to_str().unwrap(),
                "--service",
                service,
                "--no-progress",
            ],
        );
        imports.insert(*service, (code, format!("{stdout}{stderr}")));
    }
    eprintln!("replayed {} in {:.1?}", services.join(", "), started.elapsed());
    Some(Replay {
        archive,
        ota,
        imports,
        files,
    })
}

/// `imported   tiktok/privacy-policy  51 recorded, 13 unchanged` -> (51, 13, rest).
fn tally(output: &str, document: &str) -> (usize, usize, String) {
    let line = output
        .lines()
        .find(|l| l.starts_with("imported   ") && l.contains(&format!(" {document}  ")))
        .unwrap_or_else(|| panic!("no tally for {document}:\n{output}"));
    let counts = line.split("  ").last().unwrap().to_string();
    let number = |what: &str| -> usize {
        counts
            .split(", ")
            .find_map(|part| part.strip_suffix(what).and_then(|n| n.trim().parse().ok()))
            .unwrap_or(0)
    };
    (number(" recorded"), number(" unchanged"), counts)
}

/// `(date, commit, change)` of every version of a document, newest first, from `log --json`.
fn log(replay: &Replay, document: &str) -> Vec<(String, String, String, String)> {
    let args: &[&str] = if document.is_empty() {
        &["log", "--json"]
    } else {
        &["log", document, "--json"]
    };
    let (code, stdout, stderr) = replay.archive.run(args);
    assert_eq!(code, 0, "{stderr}");
    let entries: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    entries
        .iter()
        .map(|e| {
            (
                e["date"].as_str().unwrap().to_string(),
                e["commit"].as_str().unwrap().to_string(),
                e["change"].as_str().unwrap().to_string(),
                e["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_real_history_is_imported_whole_and_reruns_record_nothing() {
    let Some(replay) = replay() else { return };
    for (history, folder, _) in HISTORIES {
        let (code, output) = &replay.imports[folder];
        assert_eq!(*code, 0, "{folder}: {output}");
        assert!(!output.contains("refused") && !output.contains("stopped"), "{output}");
        let document = history.replace("__", "/");
        let (recorded, unchanged, counts) = tally(output, &document);
        let total = replay.files[history].len();
        // TikTok's second terms version is OTA's broken 5 KB extraction, reverted by the
        // third: the only candidate of the whole corpus not recorded or already there.
        let broken = usize::from(*history == "tiktok__terms-of-service");
        assert_eq!(
            recorded + unchanged + broken,
            total,
            "{document}: {counts} of {total} versions"
        );
        assert_eq!(counts.contains("skipped"), broken == 1, "{document}: {counts}");
        assert_eq!(log(replay, &document).len(), recorded, "{document}");
    }
    // TikTok's four versions of 2026-05-21T00:59:14Z went in, and what follows them.
    let tiktok = log(replay, "tiktok/privacy-policy");
    assert_eq!(tiktok.iter().filter(|v| v.0 == "2026-05-21T00:59:14Z").count(), 4);
    let last_file = replay.files["tiktok__privacy-policy"].last().unwrap().clone();
    let last_date = &last_file[5..15];
    assert!(last_date > "2026-08-04", "{last_file}");
    assert!(tiktok[0].0.starts_with(last_date), "{:?} vs {last_file}", tiktok[0]);

    // A rerun finds everything recorded: nothing new, exit 0.
    let (code, stdout, stderr) = replay.archive.run_at(
        AFTER,
        &[
            "import",
            "ota-versions",
            replay.ota.to_str().unwrap(),
            "--service",
            "TikTok",
            "--no-progress",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("0 versions recorded from TikTok"), "{stdout}");
    assert_eq!(tally(&stdout, "tiktok/privacy-policy").0, 0, "{stdout}");
    assert_eq!(tally(&stdout, "tiktok/terms-of-service").0, 0, "{stdout}");
}

#[test]
fn x_first_version_sentences_are_dated_2024_02_21_in_blame_compare_timeline_export_and_site() {
    let Some(replay) = x_replay() else { return };
    let archive = &replay.archive;
    let first = log(replay, "x/privacy-policy").last().unwrap().clone();
    assert!(first.0.starts_with("2024-02-21"), "{first:?}");
    let first_text = archive.git(&["show", &format!("{}:archive/versions/x/privacy-policy.md", first.1)]);

    // blame: every sentence of the current text that the first version had (compared
    // word for word, as since does) is dated 2024-02-21; the AI-training one included.
    let (code, stdout, stderr) = archive.run(&["blame", "x/privacy-policy", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    // Words in order, a leading section number set aside ("**5. Take Control").
    let words = |s: &str| -> String {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .skip_while(|w| w.bytes().all(|b| b.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let first_sentences: std::collections::HashSet<String> = first_text.lines().map(words).collect();
    let from_first: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| first_sentences.contains(&words(l["text"].as_str().unwrap())))
        .collect();
    assert!(from_first.len() > 200, "{} of {} lines", from_first.len(), lines.len());
    for line in &from_first {
        assert!(line["date"].as_str().unwrap().starts_with("2024-02-21"), "{line}");
        assert_eq!(line["commit"], first.1.as_str(), "{line}");
    }
    let ai = lines
        .iter()
        .find(|l| l["text"].as_str().unwrap().contains(X_AI_TRAINING))
        .expect("the AI-training sentence is in the current text");
    assert!(ai["date"].as_str().unwrap().starts_with("2024-02-21"), "{ai}");
    let (_, text_blame, _) = archive.run(&["blame", "x/privacy-policy"]);
    let ai_line = text_blame.lines().find(|l| l.contains(X_AI_TRAINING)).unwrap();
    assert!(
        ai_line.starts_with(&format!("2024-02-21  {}", &first.1[..12])),
        "{ai_line}"
    );

    // compare
    let (code, stdout, stderr) = archive.run(&["compare", "ai-training", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let comparison: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let x = comparison["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "x")
        .expect("X states it");
    let sentence = x["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"].as_str().unwrap().contains(X_AI_TRAINING))
        .expect("the sentence");
    assert!(
        sentence["since"].as_str().unwrap().starts_with("2024-02-21"),
        "{sentence}"
    );
    assert_eq!(sentence["commit"], first.1.as_str());
    // The first capture is a bound: the text says it was effective on 2023-09-29.
    assert_eq!(sentence["since_first_record"], true, "{sentence}");
    let (_, markdown, _) = archive.run(&["compare", "ai-training"]);
    let row = markdown.lines().find(|l| l.contains(X_AI_TRAINING)).unwrap();
    assert!(row.contains("| first record (2024-02-21) |"), "{row}");

    // timeline: present in the first record and never left.
    let (code, stdout, stderr) = archive.run(&["timeline", "x/privacy-policy", "--provision", "ai-training"]);
    assert_eq!(code, 0, "{stderr}");
    let appeared = stdout
        .lines()
        .position(|l| l.contains("present at the first record (declared date 2023-09-29)"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        stdout
            .lines()
            .nth(appeared)
            .unwrap()
            .contains(&format!("2024-02-21  {}", &first.1[..12])),
        "{stdout}"
    );
    assert!(
        stdout.lines().nth(appeared + 1).unwrap().contains(X_AI_TRAINING),
        "{stdout}"
    );
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with("      - ") && l.contains(X_AI_TRAINING)),
        "never removed: {stdout}"
    );

    // export: the occurrence in force began in the first version.
    let out = tempfile::tempdir().unwrap();
    let export = out.path().join("export");
    let (code, stdout, stderr) = archive.run(&["export", "--format", "jsonl", "--out", export.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let occurrences = std::fs::read_to_string(export.join("provision_occurrences.jsonl")).unwrap();
    let open: Vec<serde_json::Value> = occurrences
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|o| o["service"] == "x" && o["sentence"].as_str().unwrap().contains(X_AI_TRAINING))
        .collect();
    assert_eq!(open.len(), 1, "one run of presence: {open:#?}");
    assert_eq!(open[0]["first_seen"], first.0.as_str());
    assert_eq!(open[0]["first_commit"], first.1.as_str());
    assert_eq!(open[0]["in_force"], 1);

    // site: the sentence's age on the document page.
    let site = out.path().join("site");
    let (code, stdout, stderr) = archive.run(&["site", "--out", site.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let page = std::fs::read_to_string(site.join("documents/x/privacy-policy/index.html")).unwrap();
    let at = page.find(X_AI_TRAINING).expect("the sentence is on the page");
    let title_at = page[..at].rfind("title=\"").unwrap();
    let element = &page[title_at..at];
    assert!(
        element.starts_with("title=\"since 2024-02-21, the first record"),
        "{element}"
    );
}

#[test]
fn x_versions_after_the_doubled_page_are_recorded() {
    let Some(replay) = replay() else { return };
    let output = &replay.imports["X"].1;
    assert!(!output.contains("shrunk"), "{output}");
    let versions = log(replay, "x/privacy-policy");
    for date in ["2025-07-29", "2026-01-16"] {
        assert!(versions.iter().any(|v| v.0.starts_with(date)), "{date}: {versions:#?}");
    }
    // 2025-10-23 is OTA's re-extraction of the same single text: already said.
    assert!(!versions.iter().any(|v| v.0.starts_with("2025-10-23")), "{versions:#?}");
    let (code, stdout, stderr) = replay.archive.run(&["show", "x/privacy-policy@2025-09-01"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("Cite as:        x/privacy-policy@2025-07-29"),
        "{stdout}"
    );
    assert!(
        stdout.len() < 40_000,
        "the single text, not the doubled one: {} bytes",
        stdout.len()
    );
    assert_eq!(stdout.matches(X_AI_TRAINING).count(), 1);
}

#[test]
fn tiktok_banner_toggles_and_reddit_re_adding_are_reverts() {
    let Some(replay) = replay() else { return };
    let tiktok = log(replay, "tiktok/privacy-policy");
    let summer: Vec<&(String, String, String, String)> = tiktok
        .iter()
        .filter(|v| v.0.as_str() >= "2026-05-21" && v.0.as_str() < "2026-09")
        .collect();
    let reverts: Vec<_> = summer.iter().filter(|v| v.2 == "revert").collect();
    let substantive: Vec<_> = summer.iter().filter(|v| v.2 == "substantive").collect();
    assert!(reverts.len() >= 20, "{summer:#?}");
    assert!(substantive.len() <= 5, "{substantive:#?}");
    for revert in &reverts {
        assert!(revert.3.contains("(back to the version of 20"), "{revert:?}");
        // Reverts-To names an earlier version with exactly this text.
        let message = replay.archive.git(&["log", "-1", "--format=%B", &revert.1]);
        let target = message
            .lines()
            .find_map(|l| l.strip_prefix("Reverts-To: "))
            .unwrap_or_else(|| panic!("{message}"));
        let path = "archive/versions/tiktok/privacy-policy.md";
        assert_eq!(
            replay.archive.git(&["show", &format!("{target}:{path}")]),
            replay.archive.git(&["show", &format!("{}:{path}", revert.1)])
        );
        assert!(tiktok.iter().any(|v| v.1 == target && v.0 <= revert.0), "{target}");
    }
    let reddit = log(replay, "reddit/privacy-policy");
    let back = reddit
        .iter()
        .position(|v| v.3.contains("71 sentences added"))
        .expect("Reddit re-adds 71 sentences");
    assert_eq!(reddit[back].2, "revert", "{:?}", reddit[back]);
    assert!(
        reddit[back + 1].3.contains("71 sentences removed"),
        "{:?}",
        reddit[back + 1]
    );

    // A report says so.
    let (code, report, stderr) = replay.archive.run_at(
        AFTER,
        &[
            "report",
            "--since",
            "2026-08-19",
            "--document",
            "reddit/privacy-policy",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(report.contains("\"change\": \"revert\""), "{report}");
    assert!(report.contains("\"reverts_to\": \""), "{report}");
}

#[test]
fn feed_and_log_are_newest_first_across_imported_documents() {
    let Some(replay) = replay() else { return };
    let all = log(replay, "");
    let dates: Vec<&str> = all.iter().map(|v| v.0.as_str()).collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    let newest = dates[0];
    assert!(newest > "2026-08", "{newest}");

    let (code, feed, stderr) = replay.archive.run(&["feed"]);
    assert_eq!(code, 0, "{stderr}");
    let updated: Vec<&str> = feed
        .split("<entry>")
        .skip(1)
        .filter_map(|entry| entry.split("<updated>").nth(1)?.split('<').next())
        .collect();
    assert_eq!(updated.len(), 50, "{feed}");
    assert_eq!(updated[0], newest, "the feed starts with the newest change");
    // The 50 newest reported changes (after June 2026 too, which the feed used to omit).
    let reported: Vec<&str> = all
        .iter()
        .filter(|v| matches!(v.2.as_str(), "substantive" | "first" | "revert"))
        .map(|v| v.0.as_str())
        .take(50)
        .collect();
    assert_eq!(updated, reported);
    assert!(updated.contains(&"2026-08-19T12:51:47Z"), "{updated:?}");
}
