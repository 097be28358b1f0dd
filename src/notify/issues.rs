//! One GitHub issue per failing document (`--github-issues`): opened when it starts
//! failing, commented on at each reminder, commented on and closed when it recovers.
//!
//! An issue is found again by its number in `status.json` or, failing that, among the
//! open issues labelled `clausewatch` by its exact title, so a lost number never opens
//! a second issue for the same document. The token is sent as a sensitive header and
//! never shown.

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

/// The exact title of a document's issue, by which it is found again.
pub fn title(service: &str, document: &str) -> String {
    format!("clausewatch: {service}/{document} is failing")
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
    /// `opened`, `reused` (an open issue found by its title), `commented`, `closed` or
    /// `failed`.
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
        let reply = self.call(
            sender,
            Method::GET,
            &format!("/repos/{}/issues?state=open&labels={LABEL}&per_page=100", self.repo),
            None,
        )?;
        let issues = reply.as_array().cloned().unwrap_or_default();
        Ok(issues
            .iter()
            .filter(|i| i.get("pull_request").is_none())
            .find(|i| i["title"].as_str() == Some(wanted.as_str()))
            .and_then(|i| i["number"].as_u64()))
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
    }
}
