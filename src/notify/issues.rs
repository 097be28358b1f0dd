//! GitHub issues, one per document and kind ([`IssueKind`]):
//!
//! - `track --github-issues`: one issue per failing document, opened when it starts
//!   failing, commented on at each reminder, commented on and closed when it recovers.
//! - `check --fetch --github-issues`: one issue per unhealthy declaration (see
//!   [`crate::health`]), opened, its body updated while the declaration stays unhealthy,
//!   commented on and closed when it is healthy again.
//!
//! An issue is found again by its number in `status.json` or, failing that, among the
//! open issues labelled `clausewatch` by its exact title, so a lost number never opens
//! a second issue for the same document. The titles of the two kinds differ, so neither
//! finds, updates or closes the other's issues. The token is sent as a sensitive header
//! and never shown.

use std::fmt;

use chrono::{DateTime, Utc};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use super::{SendError, Sender};
use crate::status::{StatusFile, Transition, TransitionKind};

/// The label every clausewatch issue carries.
pub const LABEL: &str = "clausewatch";

/// The exact title of a failing document's issue, by which it is found again.
pub fn title(service: &str, document: &str) -> String {
    IssueKind::Failing.title(service, document)
}

/// What an issue is about. Each kind has titles of its own: a run of one kind never
/// finds, updates or closes an issue of the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// `track --github-issues`: the document cannot be fetched.
    Failing,
    /// `check --fetch --github-issues`: the declaration no longer extracts the document.
    DeclarationHealth,
}

impl IssueKind {
    /// The exact title of a document's issue of this kind.
    pub fn title(self, service: &str, document: &str) -> String {
        match self {
            IssueKind::Failing => format!("clausewatch: {service}/{document} is failing"),
            IssueKind::DeclarationHealth => format!("Declaration health: {service}/{document}"),
        }
    }

    /// The (service, type) whose issue of this kind has `title`, if it is one.
    pub fn document_of(self, title: &str) -> Option<(&str, &str)> {
        let key = match self {
            IssueKind::Failing => title.strip_prefix("clausewatch: ")?.strip_suffix(" is failing")?,
            IssueKind::DeclarationHealth => title.strip_prefix("Declaration health: ")?,
        };
        let (service, document) = key.split_once('/')?;
        (crate::declaration::is_slug(service) && crate::declaration::is_slug(document)).then_some((service, document))
    }
}

/// Where and as whom issues are written. `Debug` shows no token.
#[derive(Debug)]
pub struct GithubIssues {
    /// `https://api.github.com`, or `GITHUB_API_URL` (GitHub Enterprise).
    api: String,
    /// `owner/name`.
    repo: String,
    /// The web server, for issue links.
    server: String,
    token: Token,
}

/// A token that never prints.
struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// `--github-issues` without what it needs.
#[derive(Debug, thiserror::Error)]
pub enum IssuesConfigError {
    #[error("--github-issues needs {0} in the environment (a GitHub Actions run sets it)")]
    Missing(&'static str),
    #[error("GITHUB_REPOSITORY={0:?} is not owner/name")]
    BadRepository(String),
    #[error("GITHUB_API_URL is not an http(s) URL")]
    BadApiUrl,
}

/// What was done on GitHub for one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueAction {
    pub service: String,
    pub document: String,
    /// `opened`, `reused` (an open issue found by its title), `commented`, `updated`
    /// (a health issue's body rewritten), `kept` (a health issue that already says it
    /// all), `closed` or `failed`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What an issue says about its document.
pub struct DocumentInfo {
    /// `Acme Privacy Policy`.
    pub title: String,
    pub source_urls: Vec<String>,
}

impl GithubIssues {
    /// From `GITHUB_TOKEN`, `GITHUB_REPOSITORY`, `GITHUB_API_URL` and `GITHUB_SERVER_URL`.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<GithubIssues, IssuesConfigError> {
        let get = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let token = get("GITHUB_TOKEN").ok_or(IssuesConfigError::Missing("GITHUB_TOKEN"))?;
        let repo = get("GITHUB_REPOSITORY").ok_or(IssuesConfigError::Missing("GITHUB_REPOSITORY"))?;
        let parts: Vec<&str> = repo.split('/').collect();
        if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
            return Err(IssuesConfigError::BadRepository(repo));
        }
        let api = get("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into());
        if !Url::parse(&api).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            return Err(IssuesConfigError::BadApiUrl);
        }
        let server = get("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
        Ok(GithubIssues {
            api: api.trim_end_matches('/').to_string(),
            repo,
            server: server.trim_end_matches('/').to_string(),
            token: Token(token),
        })
    }

    /// The web page of an issue.
    pub fn issue_url(&self, number: u64) -> String {
        format!("{}/{}/issues/{number}", self.server, self.repo)
    }

    /// Brings GitHub in line with the run's transitions, recording issue numbers in
    /// `status` and in the transitions. Failures are returned as actions, never raised.
    pub fn sync(
        &self,
        sender: &Sender,
        transitions: &mut [Transition],
        status: &mut StatusFile,
        info: impl Fn(&str, &str) -> DocumentInfo,
        now: DateTime<Utc>,
    ) -> Vec<IssueAction> {
        let mut actions = Vec::new();
        for transition in transitions.iter_mut() {
            let document = info(&transition.service, &transition.document);
            let mut act = |action: &'static str, issue: Option<u64>, error: Option<String>| {
                actions.push(IssueAction {
                    service: transition.service.clone(),
                    document: transition.document.clone(),
                    action,
                    issue,
                    error,
                });
            };
            let result = match transition.kind {
                TransitionKind::Started | TransitionKind::Reminder => {
                    self.ensure_open(sender, transition, &document, &mut act)
                }
                TransitionKind::Recovered | TransitionKind::Dropped => {
                    self.close(sender, transition, &document, now, &mut act).map(|_| None)
                }
            };
            match result {
                Ok(Some(number)) => {
                    transition.issue = Some(number);
                    if let Some(state) = status.failing.get_mut(&transition.key()) {
                        state.issue = Some(number);
                    }
                }
                Ok(None) => {}
                Err(error) => act("failed", transition.issue, Some(error)),
            }
        }
        actions
    }

    /// The open issue of a failing document, opened if there is none; a reminder, or a
    /// start that finds an issue already open, comments on it.
    fn ensure_open(
        &self,
        sender: &Sender,
        transition: &Transition,
        document: &DocumentInfo,
        act: &mut impl FnMut(&'static str, Option<u64>, Option<String>),
    ) -> Result<Option<u64>, String> {
        let known = match transition.issue {
            Some(number) => Some(number),
            None => self.find_open(sender, transition)?,
        };
        match known {
            Some(number) => {
                if transition.issue.is_none() {
                    act("reused", Some(number), None);
                }
                let heading = match transition.kind {
                    TransitionKind::Started => "Started failing again",
                    _ => "Still failing",
                };
                self.comment(sender, number, &failure_text(heading, transition))?;
                act("commented", Some(number), None);
                Ok(Some(number))
            }
            None => {
                let number = self.open(sender, transition, document)?;
                act("opened", Some(number), None);
                Ok(Some(number))
            }
        }
    }

    fn close(
        &self,
        sender: &Sender,
        transition: &Transition,
        _document: &DocumentInfo,
        now: DateTime<Utc>,
        act: &mut impl FnMut(&'static str, Option<u64>, Option<String>),
    ) -> Result<(), String> {
        let number = match transition.issue {
            Some(number) => number,
            None => match self.find_open(sender, transition)? {
                Some(number) => number,
                None => return Ok(()),
            },
        };
        let text = match transition.kind {
            TransitionKind::Dropped => "The document is no longer declared in the archive; closing.".to_string(),
            _ => format!(
                "Recovered: the document could be fetched again on {} (it failed since {}).",
                date(now),
                date(transition.failing_since)
            ),
        };
        self.comment(sender, number, &text)?;
        act("commented", Some(number), None);
        self.call(
            sender,
            Method::PATCH,
            &format!("/repos/{}/issues/{number}", self.repo),
            Some(&json!({"state": "closed", "state_reason": "completed"})),
        )?;
        act("closed", Some(number), None);
        Ok(())
    }

    /// The open `clausewatch` issue with the document's exact title.
    fn find_open(&self, sender: &Sender, transition: &Transition) -> Result<Option<u64>, String> {
        let wanted = title(&transition.service, &transition.document);
        Ok(self
            .open_issues(sender)?
            .into_iter()
            .find(|i| i.title == wanted)
            .map(|i| i.number))
    }

    /// The open issues labelled `clausewatch`, pull requests left out: the first page,
    /// then the next while a page is full, up to [`MAX_LISTED_PAGES`].
    fn open_issues(&self, sender: &Sender) -> Result<Vec<OpenIssue>, String> {
        let mut issues = Vec::new();
        for page in 1..=MAX_LISTED_PAGES {
            let mut path = format!("/repos/{}/issues?state=open&labels={LABEL}&per_page=100", self.repo);
            if page > 1 {
                path.push_str(&format!("&page={page}"));
            }
            let reply = self.call(sender, Method::GET, &path, None)?;
            let listed = reply.as_array().map(Vec::as_slice).unwrap_or_default();
            issues.extend(
                listed
                    .iter()
                    .filter(|i| i.get("pull_request").is_none())
                    .filter_map(|i| {
                        Some(OpenIssue {
                            number: i["number"].as_u64()?,
                            title: i["title"].as_str()?.to_string(),
                            body: i["body"].as_str().unwrap_or_default().to_string(),
                        })
                    }),
            );
            if listed.len() < 100 {
                break;
            }
        }
        Ok(issues)
    }

    /// Brings the declaration-health issues in line with `findings`: an unhealthy
    /// declaration's issue is opened, or its body rewritten when it says something else
    /// now; a healthy one's open issue is commented on and closed. With `is_declared`
    /// (a run over every declared document), an open health issue of a document no longer
    /// declared is closed too. Documents not in `findings` (outside the run, or on a
    /// network outage) are otherwise left alone. Failures are returned as actions, never
    /// raised.
    pub fn sync_health(
        &self,
        sender: &Sender,
        findings: &[HealthFinding],
        is_declared: Option<IsDeclared<'_>>,
        now: DateTime<Utc>,
    ) -> Vec<IssueAction> {
        let mut actions = Vec::new();
        let act = |service: &str, document: &str, action: &'static str, issue: Option<u64>, error: Option<String>| {
            IssueAction {
                service: service.to_string(),
                document: document.to_string(),
                action,
                issue,
                error,
            }
        };
        if findings.is_empty() && is_declared.is_none() {
            return actions;
        }
        let open = match self.open_issues(sender) {
            Ok(open) => open,
            Err(error) => {
                return findings
                    .iter()
                    .map(|f| act(&f.service, &f.document, "failed", None, Some(error.clone())))
                    .collect();
            }
        };
        for finding in findings {
            let (service, document) = (finding.service.as_str(), finding.document.as_str());
            let wanted = IssueKind::DeclarationHealth.title(service, document);
            let existing = open.iter().find(|i| i.title == wanted);
            let result = match (&finding.problem, existing) {
                (Some(body), None) => self
                    .call(
                        sender,
                        Method::POST,
                        &format!("/repos/{}/issues", self.repo),
                        Some(&json!({ "title": wanted, "body": body, "labels": [LABEL] })),
                    )
                    .and_then(|reply| {
                        reply["number"]
                            .as_u64()
                            .ok_or_else(|| "GitHub did not say which issue it opened".to_string())
                    })
                    .map(|number| actions.push(act(service, document, "opened", Some(number), None))),
                (Some(body), Some(issue)) if issue.body.trim_end() == body.trim_end() => {
                    actions.push(act(service, document, "kept", Some(issue.number), None));
                    Ok(())
                }
                (Some(body), Some(issue)) => self
                    .call(
                        sender,
                        Method::PATCH,
                        &format!("/repos/{}/issues/{}", self.repo, issue.number),
                        Some(&json!({ "body": body })),
                    )
                    .map(|_| actions.push(act(service, document, "updated", Some(issue.number), None))),
                (None, Some(issue)) => {
                    let text = format!(
                        "Healthy again: on {} both fetches gave the same text, and the recorded version accepts it; closing.",
                        date(now)
                    );
                    self.close_with(sender, issue.number, &text, |action| {
                        actions.push(act(service, document, action, Some(issue.number), None))
                    })
                }
                (None, None) => Ok(()),
            };
            if let Err(error) = result {
                actions.push(act(
                    service,
                    document,
                    "failed",
                    existing.map(|i| i.number),
                    Some(error),
                ));
            }
        }
        if let Some(is_declared) = is_declared {
            for issue in &open {
                let Some((service, document)) = IssueKind::DeclarationHealth.document_of(&issue.title) else {
                    continue;
                };
                if is_declared(service, document) {
                    continue;
                }
                let text = "The document is no longer declared in the archive; closing.";
                let result = self.close_with(sender, issue.number, text, |action| {
                    actions.push(act(service, document, action, Some(issue.number), None))
                });
                if let Err(error) = result {
                    actions.push(act(service, document, "failed", Some(issue.number), Some(error)));
                }
            }
        }
        actions
    }

    /// Comments `text` on an issue, then closes it, reporting each step done.
    fn close_with(
        &self,
        sender: &Sender,
        number: u64,
        text: &str,
        mut done: impl FnMut(&'static str),
    ) -> Result<(), String> {
        self.comment(sender, number, text)?;
        done("commented");
        self.call(
            sender,
            Method::PATCH,
            &format!("/repos/{}/issues/{number}", self.repo),
            Some(&json!({"state": "closed", "state_reason": "completed"})),
        )?;
        done("closed");
        Ok(())
    }

    fn open(&self, sender: &Sender, transition: &Transition, document: &DocumentInfo) -> Result<u64, String> {
        let mut body = format!(
            "**{}** (`{}`) cannot be fetched: **{}**.\n\n```\n{}\n```\n\n- failing since: {}\n- last recorded version: {}\n",
            document.title,
            transition.key(),
            transition.category,
            transition.message.replace("```", "'''"),
            date(transition.failing_since),
            transition.last_success.map_or("none".to_string(), date),
        );
        for url in &document.source_urls {
            body.push_str(&format!("- source: {url}\n"));
        }
        body.push_str(
            "\nclausewatch comments here as a reminder while the document keeps failing, \
             and closes this issue when it can be fetched again.\n",
        );
        let reply = self.call(
            sender,
            Method::POST,
            &format!("/repos/{}/issues", self.repo),
            Some(&json!({
                "title": title(&transition.service, &transition.document),
                "body": body,
                "labels": [LABEL],
            })),
        )?;
        reply["number"]
            .as_u64()
            .ok_or_else(|| "GitHub did not say which issue it opened".to_string())
    }

    fn comment(&self, sender: &Sender, number: u64, text: &str) -> Result<(), String> {
        self.call(
            sender,
            Method::POST,
            &format!("/repos/{}/issues/{number}/comments", self.repo),
            Some(&json!({ "body": text })),
        )
        .map(|_| ())
    }

    /// One API call; errors name the call, never the token.
    fn call(&self, sender: &Sender, method: Method, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let shown = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let url = Url::parse(&format!("{}{path}", self.api)).map_err(|e| format!("{shown}: {e}"))?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", self.token.0))
            .map_err(|_| format!("{shown}: GITHUB_TOKEN is not a valid header value"))?;
        authorization.set_sensitive(true);
        let headers = [
            (AUTHORIZATION, authorization),
            (ACCEPT, HeaderValue::from_static("application/vnd.github+json")),
            (
                HeaderName::from_static("x-github-api-version"),
                HeaderValue::from_static("2022-11-28"),
            ),
        ];
        let reply = sender
            .send(method, &url, &headers, body)
            .map_err(|e: SendError| match &e.detail {
                Some(detail) => format!("{shown}: {e}: {detail}"),
                None => format!("{shown}: {e}"),
            })?;
        Ok(serde_json::from_slice(&reply.body).unwrap_or(Value::Null))
    }
}

/// Whether a (service, type) is declared in the archive.
pub type IsDeclared<'a> = &'a dyn Fn(&str, &str) -> bool;

/// At most this many pages of 100 open issues are listed to find an issue by its title.
const MAX_LISTED_PAGES: u32 = 10;

/// An open issue, as the listing gives it.
struct OpenIssue {
    number: u64,
    title: String,
    body: String,
}

/// One checked document's declaration health, for [`GithubIssues::sync_health`].
#[derive(Debug, Clone)]
pub struct HealthFinding {
    pub service: String,
    pub document: String,
    /// The body of its issue when the declaration is unhealthy (see [`health_body`]);
    /// `None` when it is healthy.
    pub problem: Option<String>,
}

/// At most this many differing lines are quoted per side: the issue points at the
/// problem, `clausewatch check --fetch` shows the rest.
const MAX_QUOTED_LINES: usize = 20;
/// Longer quoted lines are cut to this many characters.
const MAX_QUOTED_CHARS: usize = 300;

/// The body of an unhealthy declaration's issue. Everything that comes from a page
/// (differing lines, failure messages) is quoted in fenced code blocks whose fence is
/// longer than any run of backticks inside, so no page can write Markdown, mentions or
/// links into the issue; selectors go in code spans the same way.
pub fn health_body(
    document: &DocumentInfo,
    service: &str,
    doc_type: &str,
    health: &crate::health::DocumentHealth,
) -> String {
    use crate::health::{Fix, Health};
    let key = format!("{service}/{doc_type}");
    let mut body = String::new();
    let (what, message) = match &health.status {
        Health::Stable => ("healthy".to_string(), None),
        Health::Unstable { .. } => (
            "**unstable**: two fetches in a row gave different texts, so every run could record noise".to_string(),
            None,
        ),
        Health::Failed { category, message } => (format!("**failed** (`{category}`)"), Some(message)),
        Health::Drifted { category, message, .. } => (
            format!("**drifted** (`{category}`): `track` would refuse the text it now extracts"),
            Some(message),
        ),
    };
    body.push_str(&format!(
        "The declaration of **{}** ({}) is {what}.\n\n",
        crate::printable::Printable(&document.title),
        code_span(&key)
    ));
    if let Some(message) = message {
        body.push_str(&code_block([message.as_str()]));
        body.push('\n');
    }
    let sides: Vec<(&str, &[String])> = match &health.status {
        Health::Unstable {
            first_only,
            second_only,
        } => vec![
            ("Only in the first fetch", first_only),
            ("Only in the second fetch", second_only),
        ],
        Health::Drifted {
            recorded_only,
            fetched_only,
            ..
        } => vec![
            ("Only in the recorded version", recorded_only),
            ("Only in the fetched text", fetched_only),
        ],
        _ => Vec::new(),
    };
    if !sides.is_empty() {
        body.push_str("### Differing lines\n\n");
        for (heading, lines) in sides {
            let shown = lines.len().min(MAX_QUOTED_LINES);
            let more = if lines.len() > shown {
                format!(" (the first {shown} of {})", lines.len())
            } else {
                String::new()
            };
            body.push_str(&format!("{heading}{more}:\n\n"));
            if lines.is_empty() {
                body.push_str("(none)\n\n");
            } else {
                body.push_str(&code_block(lines[..shown].iter().map(String::as_str)));
                body.push('\n');
            }
        }
    }
    body.push_str("### Suggested fix\n\n");
    match &health.fix {
        Some(Fix::Selector { suggestion, current_f1 }) => {
            let current = match current_f1 {
                Some(f1) => format!("the current declaration scores {f1:.2}"),
                None => "the current declaration extracts nothing".to_string(),
            };
            body.push_str(&format!(
                "Declare {} for this page in `services/{service}.toml`: on the page fetched now it extracts \
                 {:.0}% of the recorded version's words, and {:.0}% of what it extracts is in the recorded version \
                 (F1 {:.2}; {current}). Check the result with {} before committing.\n\n",
                code_span(&format!("select = {:?}", suggestion.selector)),
                suggestion.overlap.recall * 100.0,
                suggestion.overlap.precision * 100.0,
                suggestion.overlap.f1(),
                code_span(&format!("clausewatch check --fetch {key}")),
            ));
        }
        Some(Fix::NoSuggestion { reason }) => {
            body.push_str(&format!("No suggestion: {}.\n\n", crate::printable::Printable(reason)));
        }
        None => body.push_str("No suggestion.\n\n"),
    }
    for url in &document.source_urls {
        body.push_str(&format!("- source: {url}\n"));
    }
    body.push_str(
        "\nclausewatch rewrites this issue at each `check --fetch --github-issues` run while the declaration \
         stays unhealthy, and closes it when it is healthy again.\n",
    );
    body
}

/// Lines as a fenced code block that nothing inside can close: the fence is one
/// backtick longer than the longest run of backticks in the text. Lines are cut to
/// [`MAX_QUOTED_CHARS`] and their control characters shown escaped.
fn code_block<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let text: Vec<String> = lines
        .into_iter()
        .map(|line| {
            let cut: String = line.chars().take(MAX_QUOTED_CHARS).collect();
            let ellipsis = if cut.len() < line.len() { " [...]" } else { "" };
            format!("{}{ellipsis}", crate::printable::Printable(&cut))
        })
        .collect();
    let fence = "`".repeat(longest_backtick_run(&text.join("\n")).max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.join("\n"))
}

/// Text as a code span nothing inside can end (CommonMark: the delimiters are a run of
/// backticks no run inside has the length of; spaces keep a leading or trailing
/// backtick apart from them).
fn code_span(text: &str) -> String {
    let text = crate::printable::escape(text);
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

fn failure_text(heading: &str, transition: &Transition) -> String {
    format!(
        "{heading}: **{}** since {}.\n\n```\n{}\n```\n",
        transition.category,
        date(transition.failing_since),
        transition.message.replace("```", "'''")
    )
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn configuration_comes_from_the_environment() {
        let issues = GithubIssues::from_env(env(&[
            ("GITHUB_TOKEN", "ghs_s3cret"),
            ("GITHUB_REPOSITORY", "acme/archive"),
        ]))
        .unwrap();
        assert_eq!(issues.api, "https://api.github.com");
        assert_eq!(issues.issue_url(7), "https://github.com/acme/archive/issues/7");
        assert!(!format!("{:?}", issues.token).contains("s3cret"));

        let missing = GithubIssues::from_env(env(&[("GITHUB_REPOSITORY", "acme/archive")])).unwrap_err();
        assert!(missing.to_string().contains("GITHUB_TOKEN"), "{missing}");
        assert!(GithubIssues::from_env(env(&[("GITHUB_TOKEN", "t"), ("GITHUB_REPOSITORY", "acme")])).is_err());
        let enterprise = GithubIssues::from_env(env(&[
            ("GITHUB_TOKEN", "t"),
            ("GITHUB_REPOSITORY", "acme/archive"),
            ("GITHUB_API_URL", "https://ghe.example/api/v3/"),
        ]))
        .unwrap();
        assert_eq!(enterprise.api, "https://ghe.example/api/v3");
    }

    #[test]
    fn titles_are_exact() {
        assert_eq!(
            title("acme", "privacy-policy"),
            "clausewatch: acme/privacy-policy is failing"
        );
        assert_eq!(
            IssueKind::DeclarationHealth.title("acme", "privacy-policy"),
            "Declaration health: acme/privacy-policy"
        );
        for kind in [IssueKind::Failing, IssueKind::DeclarationHealth] {
            assert_eq!(
                kind.document_of(&kind.title("acme", "privacy-policy")),
                Some(("acme", "privacy-policy"))
            );
        }
        assert_eq!(
            IssueKind::DeclarationHealth.document_of("clausewatch: acme/privacy-policy is failing"),
            None
        );
        assert_eq!(
            IssueKind::DeclarationHealth.document_of("Declaration health: acme"),
            None
        );
        assert_eq!(
            IssueKind::DeclarationHealth.document_of("Declaration health: a/b c"),
            None
        );
    }

    #[test]
    fn quoted_text_cannot_close_its_code_block_or_span() {
        let block = code_block(["plain", "````", "a ``` b", "bell\u{7}"]);
        assert!(block.starts_with("`````text\n"), "{block}");
        assert!(block.ends_with("\n`````\n"), "{block}");
        assert!(block.contains("bell\\u{7}"), "{block}");
        assert_eq!(block.matches("`````").count(), 2, "{block}");
        assert_eq!(code_span("#main"), "`#main`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x"), "`` `x ``");
        let long = "x".repeat(MAX_QUOTED_CHARS + 10);
        assert!(code_block([long.as_str()]).contains(" [...]"));
    }
}
