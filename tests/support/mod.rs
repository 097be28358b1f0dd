//! Shared test fixtures: a temp archive in a fresh git repository, the command runner
//! with a fixed clock, and git helpers.

pub mod labelled_corpus;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, Once};

pub use server::{Fault, Response, Revalidation, TestServer};

/// The fixed clock of the suite (DESIGN §6).
pub const NOW: &str = "2026-03-02T00:00:00Z";

/// A git repository in a temp dir with an empty archive in `archive/`.
pub struct TestArchive {
    /// None once handed to [`remove_at_exit`].
    dir: Option<tempfile::TempDir>,
    pub repo: PathBuf,
}

impl TestArchive {
    pub fn new() -> TestArchive {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().to_path_buf();
        git(&repo, &["init", "-q", "-b", "main"]);
        let archive = TestArchive { dir: Some(dir), repo };
        let out = archive.cmd(&["init", "--empty"]).output().expect("run init");
        assert!(
            out.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        archive.use_test_taxonomy();
        archive
    }

    /// For an archive kept in a `static` and shared by several tests: removed when the
    /// test process exits (see [`remove_at_exit`]).
    pub fn removed_at_exit(mut self) -> TestArchive {
        if let Some(dir) = self.dir.take() {
            remove_at_exit(dir);
        }
        self
    }

    pub fn archive(&self) -> PathBuf {
        self.repo.join("archive")
    }

    /// Gives the archive a taxonomy of its own, so tests do not move when the default
    /// taxonomy grows: just the AI-training provision.
    pub fn use_test_taxonomy(&self) {
        let taxonomy = r#"[[provision]]
id = "ai-training"
title = "AI training on user content or data"
description = "The platform may use what people post, upload or provide, or data about them, to train AI models."
regulations = ["GDPR Art. 6(1)(f)", "EU AI Act Art. 10"]
all = [
  ["train*", "improv*", "develop*", "fine-tun*", "build*"],
  ["machine learning", "artificial intelligence", "ai", "model*", "generative", "llm*", "algorithm*"],
  ["content", "data", "information", "posts", "inputs", "input", "uploads", "conversations", "chats", "prompts"],
]
none = ["cookie*"]
window = 20
"#;
        std::fs::write(self.archive().join("provisions.toml"), taxonomy).expect("write provisions.toml");
    }

    /// Writes `services/<slug>.toml`.
    pub fn declare(&self, slug: &str, toml: &str) {
        std::fs::write(self.archive().join("services").join(format!("{slug}.toml")), toml).expect("write declaration");
    }

    /// Declares one service with one document per (type, url) pair.
    pub fn declare_simple(&self, slug: &str, name: &str, documents: &[(&str, &str)]) {
        let mut toml = format!("name = {name:?}\n");
        for (doc_type, url) in documents {
            toml.push_str(&format!(
                "\n[[documents]]\ntype = {doc_type:?}\nurl = {url:?}\nfetcher = \"http\"\n"
            ));
        }
        self.declare(slug, &toml);
    }

    /// `clausewatch` with the fixed clock, private addresses allowed, and short waits.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_clausewatch"));
        cmd.current_dir(&self.repo)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.repo)
            .env("CLAUSEWATCH_NOW", NOW)
            .env("CLAUSEWATCH_ALLOW_PRIVATE", "1")
            .env("CLAUSEWATCH_HOST_DELAY", "0")
            .env("CLAUSEWATCH_RETRY_DELAY", "0.05")
            .env("CLAUSEWATCH_TIMEOUT", "5")
            // A page the browser fallback cannot satisfy (a selector that never matches)
            // waits out this timeout: 30 s by default, which was a third of the suite.
            .env("CLAUSEWATCH_BROWSER_TIMEOUT", "5")
            .args(args);
        cmd
    }

    /// Runs a command and returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd(args).output().expect("run clausewatch");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs a command with the clock at `now` (RFC 3339).
    pub fn run_at(&self, now: &str, args: &[&str]) -> (i32, String, String) {
        let out = self
            .cmd(args)
            .env("CLAUSEWATCH_NOW", now)
            .output()
            .expect("run clausewatch");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(&self.repo, args)
    }

    /// Commit subjects, newest first.
    pub fn subjects(&self) -> Vec<String> {
        self.git(&["log", "--format=%s"]).lines().map(str::to_string).collect()
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.archive().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
    }

    /// Commits `text` as a version of acme/privacy-policy by hand, as a hostile archive
    /// could: the version file and a message with clausewatch's trailers, dated `date`.
    pub fn commit_acme_version(&self, text: &str, date: &str, subject: &str, change: &str) {
        let path = self.archive().join("versions/acme/privacy-policy.md");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        self.git(&["add", "-A"]);
        let message = format!(
            "{subject}\n\nService: acme\nDocument: privacy-policy\nFetched-At: {date}\nSnapshot-SHA256: 00\n\
             Fetcher: http\nChange: {change}\nCanonicalizer: 4\nClausewatch-Version: 0.1.0\n"
        );
        commit_dated(&self.repo, date, &message);
    }
}

/// Removes `dir` when the test process exits, and returns its path.
///
/// For fixtures built once and shared by several tests through a `static`: Rust never
/// drops a static, so a `TempDir` held in one outlives the process. The real-history
/// replays are tens of megabytes of third-party text each, and every run of the suite
/// left them in the temp folder.
pub fn remove_at_exit(dir: tempfile::TempDir) -> PathBuf {
    static DIRS: Mutex<Vec<tempfile::TempDir>> = Mutex::new(Vec::new());
    static HOOK: Once = Once::new();
    extern "C" fn remove_all() {
        // Dropping a TempDir removes it and ignores errors, so this cannot unwind.
        let dirs = std::mem::take(&mut *DIRS.lock().unwrap_or_else(|e| e.into_inner()));
        drop(dirs);
    }
    HOOK.call_once(|| {
        // The test harness ends the process with `exit`, which runs this hook after
        // every test has finished.
        // SAFETY: `atexit` only records the function pointer; the function takes no
        // arguments and does not unwind.
        let registered = unsafe { libc::atexit(remove_all) };
        assert_eq!(registered, 0, "atexit failed: shared temp dirs would be left behind");
    });
    let path = dir.path().to_path_buf();
    DIRS.lock().unwrap_or_else(|e| e.into_inner()).push(dir);
    path
}

/// `git commit --allow-empty -m message` in `dir`, authored and committed at `date`.
pub fn commit_dated(dir: &Path, date: &str, message: &str) {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.org"])
        .args(["commit", "-q", "--allow-empty", "-m", message])
        .output()
        .expect("run git");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs git in `dir`, asserting success.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.org"])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `../shared/corpus`, or `None` (the test is recorded as skipped) where this checkout
/// has none.
pub fn corpus() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if path.is_dir() {
        Some(path)
    } else {
        skip("../shared/corpus is absent (real pages are read from there, never copied)");
        None
    }
}

/// Marks the running test as skipped: the caller returns at once, so libtest reports it
/// "ok", and a fresh clone without `../shared` or Chromium still passes `cargo test`.
///
/// A skip must still be seen, so this line goes to the process's stderr directly, past
/// libtest's output capture (which only takes `print!`/`eprint!`): it shows in every
/// run, next to the test results. Where `CLAUSEWATCH_SKIP_LOG` names a file, the test
/// and the reason are appended to it too; `.ci/run` counts them in its summary.
pub fn skip(reason: &str) {
    use std::io::Write as _;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let line = format!("skipped {test}: {reason}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("CLAUSEWATCH_SKIP_LOG") {
        // One write per line, appended: tests running at once do not interleave.
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log);
        if let Ok(mut file) = file {
            let _ = file.write_all(format!("{test}\t{reason}\n").as_bytes());
        }
    }
}

/// A small policy page; `extra` goes into the page chrome (nonces, timestamps).
pub fn policy_page(body: &str, extra: &str) -> String {
    format!(
        "<!doctype html><html><head><title>Policy</title><script>var nonce = \"{extra}\";</script></head>\
         <body><nav>Home · Help · {extra}</nav><main>{body}</main><footer>Generated at {extra}</footer></body></html>"
    )
}

/// `../shared/scripts/wordscore` of our text against a reference: (precision, recall).
pub fn wordscore(corpus: &Path, ours: &str, reference: &Path) -> (f64, f64) {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("ours.md");
    std::fs::write(&path, ours).unwrap();
    let out = std::process::Command::new("python3")
        .arg(corpus.join("../scripts/wordscore"))
        .arg(&path)
        .arg(reference)
        .arg("--json")
        .output()
        .unwrap();
    let score: serde_json::Value = serde_json::from_slice(&out.stdout).expect("wordscore JSON");
    (score["precision"].as_f64().unwrap(), score["recall"].as_f64().unwrap())
}
