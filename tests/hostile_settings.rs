//! An archive's `clausewatch.toml` and `provisions.toml` come from whoever can push to
//! the repository: they cannot make clausewatch run a program the repository brought,
//! post alerts into the runner's network, or read through a link or without bound
//! (docs/settings.md#the-file-is-untrusted).

use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};

use crate::support::{Response, TestArchive, TestServer};

/// An executable script at `path` that writes `ran <args>` to `marker` and fails, as a
/// browser that cannot start would.
fn marker_script(path: &Path, marker: &Path) {
    std::fs::write(
        path,
        format!("#!/bin/sh\necho \"ran $*\" > '{}'\nexit 1\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// An archive with one document rendered in the browser, and a script committed in the
/// repository at `archive/chrome.sh` that leaves a marker outside it when run.
fn archive_with_committed_script(server: &TestServer, marker: &Path) -> TestArchive {
    server.page(
        "/cookies",
        "<html><body><main><p>We use cookies.</p></main></body></html>",
    );
    let archive = TestArchive::new();
    archive.declare(
        "acme",
        &format!(
            "name = \"Acme\"\n[[documents]]\ntype = \"cookie-policy\"\nurl = {:?}\nfetcher = \"browser\"\n",
            server.url("/cookies")
        ),
    );
    marker_script(&archive.archive().join("chrome.sh"), marker);
    archive
}

fn set_browser(archive: &TestArchive, executable: &str) {
    std::fs::write(
        archive.archive().join("clausewatch.toml"),
        format!("[browser]\nexecutable = {executable:?}\n"),
    )
    .unwrap();
    archive.git(&["add", "-A"]);
    archive.git(&["commit", "-qm", "settings"]);
}

#[test]
fn a_committed_script_named_as_the_browser_never_runs() {
    let server = TestServer::start();
    let outside = tempfile::tempdir().unwrap();
    let marker = outside.path().join("ran.txt");
    let archive = archive_with_committed_script(&server, &marker);
    let script = archive.archive().join("chrome.sh");
    let link_outside = outside.path().join("chromium");
    symlink(&script, &link_outside).unwrap();

    for (executable, why) in [
        ("./archive/chrome.sh", "a relative path names a file of the repository"),
        ("archive/chrome.sh", "a relative path names a file of the repository"),
        (script.to_str().unwrap(), "the archive's settings may not run a program"),
        // An absolute path outside the repository that leads back into it.
        (
            link_outside.to_str().unwrap(),
            "the archive's settings may not run a program",
        ),
    ] {
        set_browser(&archive, executable);
        for command in [&["track"][..], &["check", "--fetch", "acme/cookie-policy"][..]] {
            let (code, stdout, stderr) = archive.run(command);
            assert_eq!(code, 2, "{command:?} with {executable}: {stdout}{stderr}");
            assert!(!marker.exists(), "{command:?} ran {executable}");
            assert!(
                stderr.contains("clausewatch.toml: [browser] executable = ")
                    && stderr.contains(why)
                    && stderr.contains("set CLAUSEWATCH_CHROMIUM"),
                "{command:?} with {executable}: {stderr}"
            );
        }
    }

    // A command name is looked up on PATH; a PATH entry that leads into the repository
    // (relative, as here, or absolute) does not make the committed script runnable.
    set_browser(&archive, "chrome.sh");
    let path = format!("archive:{}", std::env::var("PATH").unwrap_or_default());
    let out = archive.cmd(&["track"]).env("PATH", path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("it runs ") && stderr.contains("chrome.sh"), "{stderr}");
    assert!(!marker.exists(), "ran the script found on PATH");
}

#[test]
fn a_browser_outside_the_repository_or_named_by_the_environment_still_runs() {
    let server = TestServer::start();
    let outside = tempfile::tempdir().unwrap();
    let marker = outside.path().join("ran.txt");
    let archive = archive_with_committed_script(&server, &marker);

    // An absolute path outside the repository, from the settings file.
    let installed = outside.path().join("my-chromium");
    marker_script(&installed, &marker);
    set_browser(&archive, installed.to_str().unwrap());
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 1, "the fake browser fails at start: {stdout}{stderr}");
    assert!(stdout.contains("my-chromium: the browser exited at start"), "{stdout}");
    let ran = std::fs::read_to_string(&marker).unwrap();
    assert!(ran.starts_with("ran --headless"), "{ran}");
    std::fs::remove_file(&marker).unwrap();

    // The environment names any binary, even one in the repository, and wins over the file.
    let script: PathBuf = archive.archive().join("chrome.sh");
    let out = archive
        .cmd(&["track"])
        .env("CLAUSEWATCH_CHROMIUM", &script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("chrome.sh: the browser exited at start"), "{stdout}");
    assert!(marker.exists(), "CLAUSEWATCH_CHROMIUM is the user's choice");
}

/// A site on 127.0.0.1 whose pages fail, and an archive whose `clausewatch.toml` names a
/// webhook on 127.0.0.1: every run has a failure alert to send.
fn archive_with_private_webhook(site: &TestServer, hooks: &TestServer) -> TestArchive {
    site.set("/privacy", vec![Response::new(404, "gone")]);
    hooks.set("/internal-admin", vec![Response::new(200, "ok")]);
    let archive = TestArchive::new();
    archive.declare_simple("acme", "Acme", &[("privacy-policy", &site.url("/privacy"))]);
    std::fs::write(
        archive.archive().join("clausewatch.toml"),
        format!("[notify]\nurls = [{:?}]\n", hooks.url("/internal-admin")),
    )
    .unwrap();
    archive.git(&["add", "-A"]);
    archive.git(&["commit", "-qm", "settings"]);
    archive
}

#[test]
fn webhooks_on_private_addresses_need_the_opt_in() {
    let site = TestServer::start();
    let hooks = TestServer::start();
    let archive = archive_with_private_webhook(&site, &hooks);
    let out = archive
        .cmd(&["track", "--json"])
        .env_remove("CLAUSEWATCH_ALLOW_PRIVATE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the page is refused too: {stdout}{stderr}");
    assert_eq!(hooks.hits("/internal-admin"), 0, "nothing was posted");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let notification = &json["notifications"][0];
    assert_eq!(notification["event"], "failure-started");
    assert_eq!(notification["delivered"], false);
    assert_eq!(notification["attempts"], 0);
    assert_eq!(
        notification["error"],
        "not sent: a loopback or private-network address; pass --allow-private \
         (or set CLAUSEWATCH_ALLOW_PRIVATE=1) to send alerts there (after 0 attempts)"
    );
    assert!(
        stderr.contains("not sent: a loopback or private-network address"),
        "{stderr}"
    );
}

#[test]
fn webhooks_on_private_addresses_are_posted_to_with_the_opt_in() {
    let site = TestServer::start();
    let hooks = TestServer::start();
    let archive = archive_with_private_webhook(&site, &hooks);
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("alerts     1 delivered, 0 not delivered"), "{stdout}");
    assert_eq!(hooks.hits("/internal-admin"), 1);
}

#[test]
fn linked_settings_and_taxonomy_files_are_refused() {
    let archive = TestArchive::new();
    let outside = tempfile::tempdir().unwrap();
    let elsewhere = outside.path().join("settings.toml");
    std::fs::write(&elsewhere, "[fetch]\njobs = 3\n").unwrap();
    let settings = archive.archive().join("clausewatch.toml");
    for target in [Path::new("/dev/zero"), elsewhere.as_path()] {
        symlink(target, &settings).unwrap();
        let (code, stdout, stderr) = archive.run(&["track"]);
        assert_eq!(code, 2, "{stdout}{stderr}");
        assert!(
            stderr.contains("clausewatch.toml: is a symbolic link; it must be a regular file"),
            "{stderr}"
        );
        std::fs::remove_file(&settings).unwrap();
    }

    let taxonomy = archive.archive().join("provisions.toml");
    std::fs::remove_file(&taxonomy).unwrap();
    symlink("/dev/zero", &taxonomy).unwrap();
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("provisions.toml: is a symbolic link; it must be a regular file"),
        "{stderr}"
    );
}

#[test]
fn oversized_settings_and_taxonomy_files_are_refused() {
    let archive = TestArchive::new();
    // Valid TOML, all comment: only its size is wrong.
    let line = format!("{}\n", "#".repeat(99));
    let settings = archive.archive().join("clausewatch.toml");
    std::fs::write(&settings, line.repeat((1 << 20) / 100 + 1)).unwrap();
    let (code, _, stderr) = archive.run(&["track"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("clausewatch.toml: is larger than 1048576 bytes"),
        "{stderr}"
    );
    // At the cap, it is read.
    std::fs::write(&settings, line.repeat((1 << 20) / 100)).unwrap();
    let (code, stdout, stderr) = archive.run(&["track"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    std::fs::remove_file(&settings).unwrap();

    let taxonomy = archive.archive().join("provisions.toml");
    let mut big = archive.read("provisions.toml");
    big.push_str(&line.repeat((4 << 20) / 100 + 1));
    std::fs::write(&taxonomy, big).unwrap();
    let (code, _, stderr) = archive.run(&["track"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("provisions.toml: is larger than 4194304 bytes"),
        "{stderr}"
    );
}

#[test]
fn a_linked_ota_declaration_is_not_read() {
    let archive = TestArchive::new();
    let source = tempfile::tempdir().unwrap();
    symlink("/dev/zero", source.path().join("Evil.json")).unwrap();
    std::fs::write(source.path().join("Huge.json"), " ".repeat((4 << 20) + 1)).unwrap();
    let (code, stdout, stderr) = archive.run(&["import", "ota-declarations", source.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("failed     Evil.json: cannot read: is a symbolic link; it must be a regular file"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failed     Huge.json: cannot read: is larger than 4194304 bytes"),
        "{stdout}"
    );
}

/// Runs `cmd` and returns (exit code, stdout, stderr), or fails the test if it has not
/// ended within `limit`: a run that hangs on what it reads is the failure looked for,
/// and it must not hang the suite with it.
fn run_within(mut cmd: std::process::Command, limit: std::time::Duration) -> (i32, String, String) {
    use std::process::Stdio;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}: it hangs on what it reads");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A weights folder whose `model.safetensors` is `what`: a link to /dev/zero or a FIFO,
/// with a tokenizer and config beside it (never reached).
fn weights_folder(folder: &Path, what: &str) {
    std::fs::create_dir_all(folder).unwrap();
    std::fs::write(folder.join("config.json"), "{}").unwrap();
    std::fs::write(folder.join("tokenizer.json"), "{}").unwrap();
    let weights = folder.join("model.safetensors");
    match what {
        "link" => symlink("/dev/zero", &weights).unwrap(),
        "fifo" => {
            let name = std::ffi::CString::new(weights.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
            assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
        }
        _ => unreachable!(),
    }
}

#[test]
fn weights_that_are_a_link_to_dev_zero_or_a_fifo_are_refused_promptly() {
    let server = TestServer::start();
    server.page(
        "/privacy",
        "<html><body><main><p>We may use your content to train our AI models.</p></main></body></html>",
    );
    let limit = std::time::Duration::from_secs(60);
    for (what, shown) in [
        (
            "link",
            "model.safetensors: is a symbolic link; it must be a regular file",
        ),
        ("fifo", "model.safetensors: is not a regular file"),
    ] {
        // Named by the archive's committed settings: an error, nothing recorded.
        let archive = TestArchive::new();
        archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
        weights_folder(&archive.archive().join("weights"), what);
        std::fs::write(
            archive.archive().join("clausewatch.toml"),
            "[tagger]\nmodel = \"weights\"\n",
        )
        .unwrap();
        let cache = tempfile::tempdir().unwrap();
        let mut cmd = archive.cmd(&["track"]);
        cmd.env("CLAUSEWATCH_CACHE_DIR", cache.path());
        let (code, stdout, stderr) = run_within(cmd, limit);
        assert_eq!(code, 2, "{what}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("archive/weights/{shown}"))
                && stderr.contains("a model folder must hold the files themselves")
                && stderr.contains("docs/provisions.md#the-weights"),
            "{what}: {stderr}"
        );
        assert!(!stdout.contains("recorded "), "{what}: {stdout}");

        // Merely found in the cache folder: a warning, and the rules tag.
        let archive = TestArchive::new();
        archive.declare_simple("acme", "Acme", &[("privacy-policy", &server.url("/privacy"))]);
        let cache = tempfile::tempdir().unwrap();
        let folder = cache.path().join("all-MiniLM-L6-v2");
        weights_folder(&folder, what);
        let mut cmd = archive.cmd(&["track"]);
        cmd.env("CLAUSEWATCH_CACHE_DIR", cache.path());
        let (code, stdout, stderr) = run_within(cmd, limit);
        assert_eq!(code, 0, "{what}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("{}/{shown}", folder.display()))
                && stderr.contains("tagging provisions with the rules alone"),
            "{what}: {stderr}"
        );
        let trailers = archive.git(&["log", "-1", "--format=%(trailers:key=Tagger,valueonly)"]);
        assert!(trailers.starts_with("rules/"), "{what}: {trailers}");
    }
}
