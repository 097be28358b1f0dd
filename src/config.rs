//! Settings, layered as in git-cliff: built-in defaults, then the archive's
//! `clausewatch.toml`, then the environment, then command-line flags. The CLI resolves
//! environment and flags together (clap's `env`), and hands them in as [`Overrides`].

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::archive::Identity;
use crate::fetch::browser::BrowserOptions;
use crate::fetch::{FetchOptions, default_user_agent};
use crate::notify::target::{self, Target};
use crate::status;

/// Documents fetched at once by default. Fetching waits on the network far more than
/// on the CPU (canonicalizing is held to one page per core whatever this is), and each
/// host still gets one request at a time: at 50 ms a request, 32 slots let an unchanged
/// run of 1,000 documents take 2 s instead of 7 s (BENCHMARKS.md).
pub const DEFAULT_JOBS: usize = 32;

/// The resolved settings of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub fetch: FetchOptions,
    /// Documents fetched at once (each host still gets one request at a time).
    pub jobs: usize,
    /// The pause between two requests to the same host.
    pub host_delay: Duration,
    pub identity: Identity,
    pub browser: BrowserOptions,
    /// A version older than this is re-fetched without validators (`None`: never).
    pub revalidate_after: Option<chrono::Duration>,
}

/// How long recorded validators are trusted: past a day, `track` fetches the whole body
/// once more, in case the server answers 304 to a stale tag.
pub const DEFAULT_REVALIDATE_AFTER: chrono::Duration = chrono::Duration::hours(24);

/// The archive's `clausewatch.toml`; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub fetch: FetchSection,
    #[serde(default)]
    pub commit: CommitSection,
    #[serde(default)]
    pub browser: BrowserSection,
    #[serde(default)]
    pub notify: NotifySection,
    #[serde(default)]
    pub failures: FailuresSection,
    #[serde(default)]
    pub wayback: WaybackSection,
    #[serde(default)]
    pub tagger: TaggerSection,
}

/// Where the provision tagger finds its weights (docs/provisions.md#the-learned-tagger).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaggerSection {
    /// The MiniLM folder (`model.safetensors`, `tokenizer.json`, `config.json`),
    /// relative to the archive [default: `<cache>/all-MiniLM-L6-v2` when present].
    pub model: Option<std::path::PathBuf>,
    /// The cache folder for distilled embeddings [default: `$XDG_CACHE_HOME/clausewatch`].
    pub cache: Option<std::path::PathBuf>,
    /// Tag with the hand-written rules alone, even where weights are found.
    #[serde(default)]
    pub rules_only: bool,
}

impl TaggerSection {
    /// The tagger settings: `CLAUSEWATCH_MODEL_DIR`, `CLAUSEWATCH_CACHE_DIR` and
    /// `CLAUSEWATCH_TAGGER=rules` over this section (its paths relative to the archive).
    pub fn resolve(&self, archive_root: &Path) -> crate::provision::TaggerSettings {
        let env_path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from)
        };
        let in_archive = |p: &std::path::PathBuf| archive_root.join(p);
        crate::provision::TaggerSettings {
            model: env_path("CLAUSEWATCH_MODEL_DIR").or_else(|| self.model.as_ref().map(in_archive)),
            cache: env_path("CLAUSEWATCH_CACHE_DIR").or_else(|| self.cache.as_ref().map(in_archive)),
            rules_only: self.rules_only || std::env::var("CLAUSEWATCH_TAGGER").is_ok_and(|v| v == "rules"),
        }
    }
}

/// Where `import wayback` asks (a mirror, or a fake server in tests).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaybackSection {
    /// The CDX API endpoint [default: https://web.archive.org/cdx/search/cdx].
    pub cdx: Option<String>,
    /// The capture base, before `<timestamp>id_/<url>` [default: https://web.archive.org/web/].
    pub base: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    /// Webhook URLs, or `env:NAME` to read one from the environment (this file is
    /// committed; a URL holds a secret).
    pub urls: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailuresSection {
    /// `7d`, `36h`, a number of hours, or `never`.
    pub remind_after: Option<IntervalValue>,
    /// One GitHub issue per failing document.
    pub github_issues: Option<bool>,
}

/// An interval written as text (`7d`) or as a number of hours.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IntervalValue {
    Hours(u64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowserSection {
    /// Chromium or Chrome: a command on PATH or an absolute path outside the repository
    /// (see [`FileConfig::check_programs`]); CLAUSEWATCH_CHROMIUM overrides it; found on
    /// PATH when absent.
    pub executable: Option<std::path::PathBuf>,
    /// Seconds a page may take to render.
    pub timeout: Option<f64>,
    /// Seconds the DOM and the network must stay quiet before a page still busy after its
    /// load event is captured.
    pub settle: Option<f64>,
    /// Pages rendered at once in the one browser [default: 4].
    pub tabs: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSection {
    /// An e-mail address or URL put in the User-Agent, so site operators can reach you.
    pub contact: Option<String>,
    pub accept_language: Option<String>,
    /// Seconds.
    pub timeout: Option<f64>,
    pub connect_timeout: Option<f64>,
    pub max_body_mb: Option<u64>,
    pub retries: Option<u32>,
    pub retry_delay: Option<f64>,
    pub host_delay: Option<f64>,
    pub jobs: Option<usize>,
    /// `24h`, `2d`, a number of hours, or `never`: how old a recorded version may be
    /// before its validators stop being sent.
    pub revalidate_after: Option<IntervalValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitSection {
    pub author_name: Option<String>,
    pub author_email: Option<String>,
}

/// What the environment and the command line say; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub contact: Option<String>,
    pub jobs: Option<usize>,
    pub host_delay: Option<f64>,
    pub timeout: Option<f64>,
    pub retries: Option<u32>,
    pub retry_delay: Option<f64>,
    pub max_body_mb: Option<u64>,
    /// Seconds a page may take to render in the browser.
    pub browser_timeout: Option<f64>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub allow_private: bool,
    /// `Some(None)` is `never`.
    pub revalidate_after: Option<Option<chrono::Duration>>,
}

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

/// The largest `clausewatch.toml` read: a settings file is a few hundred bytes, and the
/// cap keeps a committed giant (or a device) from exhausting memory, as declarations'
/// own 1 MiB cap does.
pub const MAX_SETTINGS_BYTES: u64 = 1 << 20;

impl FileConfig {
    /// Reads `clausewatch.toml` in the archive folder; a missing file is no error. The
    /// file comes with the archive, from whoever can push to it: it is read only as a
    /// regular file of at most [`MAX_SETTINGS_BYTES`], and a program it names is checked
    /// by [`FileConfig::check_programs`].
    pub fn load(archive_root: &Path) -> Result<FileConfig, ConfigError> {
        let path = archive_root.join("clausewatch.toml");
        let shown = path.display().to_string();
        let text = match crate::nofollow::read_capped_text(&path, MAX_SETTINGS_BYTES) {
            Ok(text) => text,
            Err(e) if e.is_not_found() => return Ok(FileConfig::default()),
            Err(e) => {
                return Err(ConfigError {
                    path: shown,
                    message: e.to_string(),
                });
            }
        };
        let config: FileConfig = toml::from_str(&text).map_err(|e| {
            // The line the span starts on: the newlines before it, plus one.
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            ConfigError {
                path: match line {
                    Some(line) => format!("{shown}:{line}"),
                    None => shown.clone(),
                },
                message: e.message().trim().to_string(),
            }
        })?;
        config.check_programs(archive_root, &shown)?;
        Ok(config)
    }

    /// Refuses a `[browser] executable` that could run a program the repository
    /// brought: anything but a command name found on `PATH` or an absolute path whose
    /// target lies outside the archive folder and its repository. A relative path with
    /// a `/` (`./archive/evil.sh`) is refused outright: it names a file relative to
    /// wherever the command runs, which is the repository. The user names any other
    /// binary with `CLAUSEWATCH_CHROMIUM` (docs/settings.md#programs).
    pub fn check_programs(&self, archive_root: &Path, shown: &str) -> Result<(), ConfigError> {
        let Some(configured) = &self.browser.executable else {
            return Ok(());
        };
        let refuse = |why: String| ConfigError {
            path: shown.to_string(),
            message: format!(
                "[browser] executable = {:?}: {why}; name a browser installed on this machine \
                 (a command on PATH such as \"chromium\", or an absolute path outside the repository), \
                 or set {} to the binary to use",
                configured.display().to_string(),
                crate::fetch::browser::EXECUTABLE_ENV
            ),
        };
        let text = configured.as_os_str().to_string_lossy();
        let bare = !text.contains('/')
            && matches!(
                configured.components().collect::<Vec<_>>().as_slice(),
                [std::path::Component::Normal(_)]
            );
        if !bare && !configured.is_absolute() {
            return Err(refuse(
                "a relative path names a file of the repository the command runs in, \
                 and the archive's settings may not run a program from there"
                    .into(),
            ));
        }
        // What would run: the name as PATH resolves it (a relative entry in PATH could
        // lead into the repository too), or the path with its links followed. Nothing
        // found runs nothing; the launch says so.
        let Some(found) =
            crate::fetch::browser::resolve_executable(configured).and_then(|found| std::fs::canonicalize(found).ok())
        else {
            return Ok(());
        };
        let mut protected = Vec::new();
        if let Ok(root) = std::fs::canonicalize(archive_root) {
            protected.push(root);
        }
        if let Some(workdir) = git2::Repository::discover(archive_root)
            .ok()
            .and_then(|repo| repo.workdir().and_then(|w| std::fs::canonicalize(w).ok()))
        {
            protected.push(workdir);
        }
        match protected.iter().find(|folder| found.starts_with(folder)) {
            Some(folder) => Err(refuse(format!(
                "it runs {:?}, inside {:?}, and the archive's settings may not run a program \
                 that the repository brought",
                found.display().to_string(),
                folder.display().to_string()
            ))),
            None => Ok(()),
        }
    }
}

impl Settings {
    /// Layers the file and the overrides over the defaults.
    pub fn resolve(file: &FileConfig, over: &Overrides) -> Result<Settings, ConfigError> {
        let defaults = FetchOptions::default();
        let seconds = |name: &str, value: Option<f64>, default: Duration| -> Result<Duration, ConfigError> {
            match value {
                None => Ok(default),
                Some(s) if (0.0..=86_400.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
                Some(s) => Err(ConfigError {
                    path: name.into(),
                    message: format!("{s} is not a number of seconds between 0 and 86400"),
                }),
            }
        };
        let f = &file.fetch;
        let contact = over.contact.clone().or_else(|| f.contact.clone());
        let jobs = over.jobs.or(f.jobs).unwrap_or(DEFAULT_JOBS);
        if jobs == 0 || jobs > 256 {
            return Err(ConfigError {
                path: "jobs".into(),
                message: format!("{jobs} jobs: choose between 1 and 256"),
            });
        }
        let fetch = FetchOptions {
            user_agent: default_user_agent(contact.as_deref()),
            accept_language: f.accept_language.clone().unwrap_or(defaults.accept_language),
            connect_timeout: seconds("connect_timeout", f.connect_timeout, defaults.connect_timeout)?,
            timeout: seconds("timeout", over.timeout.or(f.timeout), defaults.timeout)?,
            max_body_bytes: match over.max_body_mb.or(f.max_body_mb) {
                None => defaults.max_body_bytes,
                Some(mb @ 1..=crate::fetch::MAX_BODY_MB_CEILING) => mb * 1024 * 1024,
                Some(mb) => {
                    return Err(ConfigError {
                        path: "max_body_mb".into(),
                        message: format!(
                            "{mb} MB: choose between 1 and {} (stored snapshots are read back under \
                             the same cap, and a reader allocates at most that much a page)",
                            crate::fetch::MAX_BODY_MB_CEILING
                        ),
                    });
                }
            },
            retries: over.retries.or(f.retries).unwrap_or(defaults.retries).min(10),
            retry_delay: seconds("retry_delay", over.retry_delay.or(f.retry_delay), defaults.retry_delay)?,
            max_retry_after: defaults.max_retry_after,
            max_redirects: defaults.max_redirects,
            allow_private: over.allow_private,
        };
        let default_identity = Identity::default();
        let browser_defaults = BrowserOptions::default();
        let browser = BrowserOptions {
            executable: file.browser.executable.clone(),
            user_agent: fetch.user_agent.clone(),
            accept_language: fetch.accept_language.clone(),
            timeout: seconds(
                "browser.timeout",
                over.browser_timeout.or(file.browser.timeout),
                browser_defaults.timeout,
            )?,
            settle: seconds("browser.settle", file.browser.settle, browser_defaults.settle)?,
            allow_private: over.allow_private,
            tabs: match file.browser.tabs {
                None => browser_defaults.tabs,
                Some(tabs @ 1..=32) => tabs,
                Some(tabs) => {
                    return Err(ConfigError {
                        path: "browser.tabs".into(),
                        message: format!("{tabs} tabs: choose between 1 and 32"),
                    });
                }
            },
        };
        let revalidate_after = match (over.revalidate_after, &f.revalidate_after) {
            (Some(given), _) => given,
            (None, Some(IntervalValue::Text(text))) => interval("fetch.revalidate_after", text)?,
            (None, Some(IntervalValue::Hours(hours))) => interval("fetch.revalidate_after", &hours.to_string())?,
            (None, None) => Some(DEFAULT_REVALIDATE_AFTER),
        };
        Ok(Settings {
            browser,
            fetch,
            revalidate_after,
            jobs,
            host_delay: seconds("host_delay", over.host_delay.or(f.host_delay), Duration::from_secs(1))?,
            identity: Identity {
                name: over
                    .author_name
                    .clone()
                    .or_else(|| file.commit.author_name.clone())
                    .unwrap_or(default_identity.name),
                email: over
                    .author_email
                    .clone()
                    .or_else(|| file.commit.author_email.clone())
                    .unwrap_or(default_identity.email),
            },
        })
    }
}

/// An interval setting: `24h`, `2d`, `90m`, a number of hours, or `never` (`None`).
fn interval(name: &str, text: &str) -> Result<Option<chrono::Duration>, ConfigError> {
    status::parse_interval(text).map_err(|_| ConfigError {
        path: name.into(),
        message: format!("{text:?}: give a span such as 24h, 2d or 90m, a number of hours, or \"never\""),
    })
}

/// Alerts and failure tracking, resolved for `track` only (so an unset `env:NAME`
/// webhook never stops another command).
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub targets: Vec<Target>,
    /// `None`: reminders are off.
    pub remind_after: Option<chrono::Duration>,
    pub github_issues: bool,
}

/// What the environment and the command line say about alerts.
#[derive(Debug, Clone, Default)]
pub struct AlertOverrides {
    /// `--notify` (all of them), else `CLAUSEWATCH_NOTIFY`; replaces the file's list.
    pub notify: Option<Vec<String>>,
    /// `--remind-after`, already read: `Some(None)` is "never".
    pub remind_after: Option<Option<chrono::Duration>>,
    pub github_issues: bool,
}

impl AlertSettings {
    /// `env` resolves the `env:NAME` references of the file's webhook list.
    pub fn resolve(
        file: &FileConfig,
        over: &AlertOverrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AlertSettings, ConfigError> {
        let specs = over
            .notify
            .clone()
            .or_else(|| file.notify.urls.clone())
            .unwrap_or_default();
        let targets = target::parse_all(&specs, env).map_err(|e| ConfigError {
            path: "notify".into(),
            message: e.to_string(),
        })?;
        let interval_error = |e: status::IntervalError| ConfigError {
            path: "failures.remind_after".into(),
            message: e.to_string(),
        };
        let remind_after = match (&over.remind_after, &file.failures.remind_after) {
            (Some(given), _) => *given,
            (None, Some(IntervalValue::Text(text))) => status::parse_interval(text).map_err(interval_error)?,
            (None, Some(IntervalValue::Hours(hours))) => {
                status::parse_interval(&hours.to_string()).map_err(interval_error)?
            }
            (None, None) => Some(status::DEFAULT_REMIND_AFTER),
        };
        Ok(AlertSettings {
            targets,
            remind_after,
            github_issues: over.github_issues || file.failures.github_issues.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_defaults_file_and_overrides() {
        let file: FileConfig = toml::from_str("[fetch]\ncontact = \"file@example.org\"\njobs = 3\nhost_delay = 0.5\n[commit]\nauthor_name = \"Archive Bot\"\n").unwrap();
        let settings = Settings::resolve(&file, &Overrides::default()).unwrap();
        assert_eq!(settings.jobs, 3);
        assert_eq!(settings.host_delay, Duration::from_millis(500));
        assert!(settings.fetch.user_agent.contains("file@example.org"));
        assert_eq!(settings.identity.name, "Archive Bot");

        let over = Overrides {
            jobs: Some(5),
            contact: Some("flag@example.org".into()),
            ..Overrides::default()
        };
        let settings = Settings::resolve(&file, &over).unwrap();
        assert_eq!(settings.jobs, 5);
        assert!(settings.fetch.user_agent.contains("flag@example.org"));
        assert_eq!(settings.fetch.retries, 2);
    }

    #[test]
    fn revalidate_after_layers_and_rejects_nonsense() {
        let defaults = Settings::resolve(&FileConfig::default(), &Overrides::default()).unwrap();
        assert_eq!(defaults.revalidate_after, Some(chrono::Duration::hours(24)));
        let file: FileConfig = toml::from_str("[fetch]\nrevalidate_after = \"2d\"\n").unwrap();
        let settings = Settings::resolve(&file, &Overrides::default()).unwrap();
        assert_eq!(settings.revalidate_after, Some(chrono::Duration::days(2)));
        let file: FileConfig = toml::from_str("[fetch]\nrevalidate_after = 6\n").unwrap();
        let settings = Settings::resolve(&file, &Overrides::default()).unwrap();
        assert_eq!(settings.revalidate_after, Some(chrono::Duration::hours(6)));
        let over = Overrides {
            revalidate_after: Some(None),
            ..Overrides::default()
        };
        assert_eq!(Settings::resolve(&file, &over).unwrap().revalidate_after, None);
        let bad: FileConfig = toml::from_str("[fetch]\nrevalidate_after = \"soon\"\n").unwrap();
        let error = Settings::resolve(&bad, &Overrides::default()).unwrap_err();
        assert_eq!(error.path, "fetch.revalidate_after");
        assert!(error.message.contains("24h"), "{error}");
    }

    #[test]
    fn rejects_nonsense() {
        let over = Overrides {
            jobs: Some(0),
            ..Overrides::default()
        };
        assert!(Settings::resolve(&FileConfig::default(), &over).is_err());
        let over = Overrides {
            timeout: Some(-1.0),
            ..Overrides::default()
        };
        assert!(Settings::resolve(&FileConfig::default(), &over).is_err());
        assert!(toml::from_str::<FileConfig>("[fetch]\nunknown = 1\n").is_err());
        let no_tabs: FileConfig = toml::from_str("[browser]\ntabs = 0\n").unwrap();
        let error = Settings::resolve(&no_tabs, &Overrides::default()).unwrap_err();
        assert_eq!(error.to_string(), "browser.tabs: 0 tabs: choose between 1 and 32");
    }

    #[test]
    fn a_browser_from_the_file_is_a_command_or_an_absolute_path_outside_the_archive() {
        let archive = tempfile::tempdir().unwrap();
        let check = |value: &str| {
            toml::from_str::<FileConfig>(&format!("[browser]\nexecutable = {value:?}\n"))
                .unwrap()
                .check_programs(archive.path(), "clausewatch.toml")
        };
        assert!(check("sh").is_ok(), "a command on PATH");
        assert!(check("/bin/sh").is_ok(), "an absolute path outside");
        assert!(
            check("/nonexistent/chromium").is_ok(),
            "runs nothing: the launch says so"
        );
        for relative in ["./chrome", "bin/chrome", "../chrome"] {
            let error = check(relative).unwrap_err();
            assert_eq!(error.path, "clausewatch.toml");
            assert!(error.message.contains("a relative path"), "{relative}: {error}");
        }
        let script = archive.path().join("chrome.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
            let error = check(script.to_str().unwrap()).unwrap_err();
            assert!(error.message.contains("may not run a program"), "{error}");
            assert!(error.message.contains("CLAUSEWATCH_CHROMIUM"), "{error}");
        }
    }

    #[test]
    fn browser_tabs_default_and_file() {
        let settings = Settings::resolve(&FileConfig::default(), &Overrides::default()).unwrap();
        assert_eq!(settings.browser.tabs, crate::fetch::browser::DEFAULT_TABS);
        let file: FileConfig = toml::from_str("[browser]\ntabs = 2\n").unwrap();
        assert_eq!(Settings::resolve(&file, &Overrides::default()).unwrap().browser.tabs, 2);
    }

    #[test]
    fn alert_settings_layer_file_environment_and_flags() {
        let file: FileConfig =
            toml::from_str("[notify]\nurls = [\"env:HOOK\"]\n[failures]\nremind_after = 36\ngithub_issues = true\n")
                .unwrap();
        let env = |name: &str| (name == "HOOK").then(|| "https://hooks.slack.com/services/x".to_string());
        let settings = AlertSettings::resolve(&file, &AlertOverrides::default(), env).unwrap();
        assert_eq!(settings.targets.len(), 1);
        assert_eq!(settings.remind_after, Some(chrono::Duration::hours(36)));
        assert!(settings.github_issues);

        let over = AlertOverrides {
            notify: Some(vec!["https://a.example/1".into(), "https://b.example/2".into()]),
            remind_after: Some(None),
            github_issues: false,
        };
        let settings = AlertSettings::resolve(&file, &over, env).unwrap();
        assert_eq!(settings.targets.len(), 2, "the flags replace the file's list");
        assert_eq!(settings.remind_after, None);

        let defaults = AlertSettings::resolve(&FileConfig::default(), &AlertOverrides::default(), env).unwrap();
        assert!(defaults.targets.is_empty());
        assert_eq!(defaults.remind_after, Some(chrono::Duration::days(7)));
        assert!(!defaults.github_issues);

        let bad: FileConfig = toml::from_str("[failures]\nremind_after = \"soon\"\n").unwrap();
        assert!(AlertSettings::resolve(&bad, &AlertOverrides::default(), env).is_err());
        let secret: FileConfig = toml::from_str("[notify]\nurls = [\"ftp://example.org/s3cret\"]\n").unwrap();
        let error = AlertSettings::resolve(&secret, &AlertOverrides::default(), env).unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
