//! The tag cache (`archive/tag-cache.tsv`): the learned tagger's tags by sentence,
//! committed by the runs that commit, read by every command that tags. Runs where the
//! MiniLM weights are (`.ci/run` sets `CLAUSEWATCH_MODEL_DIR`).

use std::process::Command;

use crate::support::{TestArchive, TestServer, policy_page};

const CACHE: &str = "tag-cache.tsv";

/// The weights' environment, or None (the test is skipped) where there are none.
fn learned_env() -> Option<Vec<(&'static str, std::ffi::OsString)>> {
    // Loading it here first distils the static embeddings once, into the cache folder
    // the commands below read.
    crate::provisions::learned_taxonomy()?;
    let mut env = vec![("CLAUSEWATCH_MODEL_DIR", std::env::var_os("CLAUSEWATCH_MODEL_DIR")?)];
    if let Some(cache) = std::env::var_os("CLAUSEWATCH_CACHE_DIR") {
        env.push(("CLAUSEWATCH_CACHE_DIR", cache));
    }
    Some(env)
}

struct Learned {
    archive: TestArchive,
    env: Vec<(&'static str, std::ffi::OsString)>,
}

impl Learned {
    fn cmd(&self, now: &str, args: &[&str]) -> Command {
        let mut cmd = self.archive.cmd(args);
        cmd.env("CLAUSEWATCH_NOW", now).envs(self.env.iter().cloned());
        cmd
    }

    /// Runs a command; returns (exit code, stdout, stderr).
    fn run(&self, now: &str, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd(now, args).output().expect("run clausewatch");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `track --json`, which must succeed; its `tag_cache` object.
    fn track(&self, now: &str) -> serde_json::Value {
        let (code, stdout, stderr) = self.run(now, &["track", "--json"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        json["tag_cache"].clone()
    }

    fn timeline_stances(&self) -> Vec<String> {
        let (code, stdout, stderr) = self.run(
            "2026-03-10T00:00:00Z",
            &[
                "timeline",
                "acme/privacy-policy",
                "--provision",
                "ai-training",
                "--json",
            ],
        );
        assert_eq!(code, 0, "{stdout}{stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        json["timelines"][0]["events"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["sentences"].as_array().cloned().unwrap_or_default())
            .map(|s| s["stance"].as_str().unwrap().to_string())
            .collect()
    }
}

fn page(sentences: &[&str]) -> String {
    let body: String = sentences.iter().map(|s| format!("<p>{s}</p>")).collect();
    policy_page(&format!("<h1>Privacy Policy</h1>{body}"), "")
}

const KEPT: &[&str] = &[
    "We collect your name and e-mail address when you create an account.",
    "We keep server logs for 30 days.",
    "We may use your content to train our artificial intelligence models.",
];

fn tracked() -> Option<(TestServer, Learned)> {
    let env = learned_env()?;
    let server = TestServer::start();
    let archive = TestArchive::new();
    // The built-in taxonomy: the one the learned model was trained for.
    std::fs::write(
        archive.archive().join("provisions.toml"),
        include_str!("../archive/provisions.toml"),
    )
    .unwrap();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/acme"))]);
    server.page("/acme", &page(KEPT));
    Some((server, Learned { archive, env }))
}

#[test]
fn track_tags_each_sentence_once_across_runs_and_commits_the_cache() {
    let Some((server, learned)) = tracked() else { return };
    let first = learned.track("2026-03-01T00:00:00Z");
    assert_eq!(first["tagger"]["name"], "learned-minilm-static", "{first}");
    // The three sentences, each tagged once; the `#` heading is the rules' to tag.
    assert_eq!(first["tagged"], 3, "{first}");
    assert_eq!(first["cached"], 0, "{first}");
    let commit = first["commit"].as_str().expect("the cache is committed");
    let subject = learned.archive.git(&["log", "-1", "--format=%s", commit]);
    assert_eq!(
        subject.trim(),
        format!(
            "tags: 3 new sentences tagged by learned-minilm-static/{}",
            first["tagger"]["version"].as_str().unwrap()
        )
    );
    let file = learned.archive.git(&["show", &format!("HEAD:archive/{CACHE}")]);
    assert_eq!(file.lines().filter(|l| !l.starts_with('#')).count(), 1 + 3, "{file}");
    assert!(file.contains("\"ai-training\",\"grants\""), "{file}");

    // One sentence replaced: the new one is tagged, the removed one (which the
    // commit's provision summary looks at) comes from the cache.
    let mut second = KEPT.to_vec();
    second[1] = "We keep server logs for 90 days.";
    server.page("/acme", &page(&second));
    let after = learned.track("2026-03-02T00:00:00Z");
    assert_eq!(after["tagged"], 1, "{after}");
    assert!(after["cached"].as_u64().unwrap() >= 1, "{after}");
    assert!(after["commit"].is_string(), "{after}");

    // Nothing new: no tagging, no commit at all.
    let head = learned.archive.git(&["rev-parse", "HEAD"]);
    let unchanged = learned.track("2026-03-03T00:00:00Z");
    assert_eq!(unchanged["tagged"], 0, "{unchanged}");
    assert!(unchanged.get("commit").is_none(), "{unchanged}");
    assert_eq!(learned.archive.git(&["rev-parse", "HEAD"]), head);

    // The cache commits are not versions: the log lists the two versions only.
    let (code, stdout, stderr) = learned.run("2026-03-04T00:00:00Z", &["log", "acme/privacy-policy", "--json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(log.as_array().map(Vec::len), Some(2), "{stdout}");
}

#[test]
fn reading_commands_take_tags_from_the_cache_and_ignore_a_broken_one() {
    let Some((_server, learned)) = tracked() else { return };
    learned.track("2026-03-01T00:00:00Z");
    assert_eq!(learned.timeline_stances(), ["grants"]);

    // A cache saying otherwise is believed: the timeline did not tag the sentence again.
    let path = learned.archive.archive().join(CACHE);
    let file = std::fs::read_to_string(&path).unwrap();
    let forged = file.replace("\"ai-training\",\"grants\"", "\"ai-training\",\"restricts\"");
    assert_ne!(forged, file);
    std::fs::write(&path, &forged).unwrap();
    learned.archive.git(&["commit", "-q", "-am", "A forged cache"]);
    assert_eq!(learned.timeline_stances(), ["restricts"]);

    // A file that is not as clausewatch writes it is ignored as a whole, with a warning
    // naming the line, and the sentences are tagged afresh.
    std::fs::write(&path, format!("{forged}not an entry\n")).unwrap();
    learned.archive.git(&["commit", "-q", "-am", "A broken cache"]);
    let (code, stdout, stderr) = learned.run(
        "2026-03-10T00:00:00Z",
        &["timeline", "acme/privacy-policy", "--provision", "ai-training"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines = forged.lines().count() + 1;
    assert!(
        stderr.contains(&format!(
            "ignoring the tag cache: {CACHE}, line {lines}: expected `KEY<TAB>TAGS`"
        )),
        "{stderr}"
    );
    assert_eq!(learned.timeline_stances(), ["grants"]);
}

#[test]
fn a_committed_link_at_the_cache_refuses_the_run_before_anything_is_written() {
    let Some((_server, learned)) = tracked() else { return };
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "keep me\n").unwrap();
    std::os::unix::fs::symlink(&victim, learned.archive.archive().join(CACHE)).unwrap();
    learned.archive.git(&["add", "-A"]);
    learned.archive.git(&["commit", "-q", "-m", "Link the cache"]);
    let head = learned.archive.git(&["rev-parse", "HEAD"]);
    let (code, stdout, stderr) = learned.run("2026-03-01T00:00:00Z", &["track"]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("error: archive/{CACHE} is a symbolic link;")),
        "{stderr}"
    );
    assert_eq!(learned.archive.git(&["rev-parse", "HEAD"]), head, "nothing committed");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
}
