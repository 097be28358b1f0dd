//! What `track` does after its versions are committed: failure tracking in
//! `status.json` (its own commit), GitHub issues, and webhook alerts. None of it can
//! undo a recorded version or change the exit code; its failures are reported.

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::CliError;
use crate::archive::{Archive, Identity};
use crate::config::AlertSettings;
use crate::declaration::Service;
use crate::notify::issues::{DocumentInfo, GithubIssues, IssueAction};
use crate::notify::{self, Alert, Delivery, SendOptions, Sender};
use crate::provision::Taxonomy;
use crate::status::{self, STATUS_FILE, StatusFile, Transition, TransitionKind};
use crate::track::TrackReport;

/// The results of the follow-up, for output.
#[derive(Debug, Default, Serialize)]
pub struct FollowUp {
    pub transitions: Vec<Transition>,
    /// Documents failing after this run.
    pub failing: usize,
    /// The commit that updated `status.json`, when it changed.
    pub status_commit: Option<String>,
    pub notifications: Vec<Delivery>,
    pub issues: Vec<IssueAction>,
    /// Problems that did not stop the run (an unreadable `status.json`).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Everything the follow-up needs besides the run's report.
pub struct Context<'a> {
    pub archive: &'a Archive,
    /// Every declared service, not only the tracked ones: an entry of `status.json` is
    /// dropped only when its document is no longer declared at all.
    pub declared: &'a [Service],
    pub alerts: &'a AlertSettings,
    pub issues: Option<&'a GithubIssues>,
    pub send: SendOptions,
    pub identity: &'a Identity,
    pub taxonomy: &'a Taxonomy,
    pub now: DateTime<Utc>,
}

pub fn follow_up(context: &Context, report: &TrackReport) -> Result<FollowUp, CliError> {
    let archive = context.archive;
    let mut warnings = Vec::new();
    let previous = match archive.head_file_at_most(STATUS_FILE, status::MAX_STATUS_BYTES) {
        Ok(None) => StatusFile::default(),
        Ok(Some(bytes)) => StatusFile::parse(&bytes).unwrap_or_else(|e| {
            warnings.push(format!("{}; starting failure tracking afresh", super::chain(&e)));
            StatusFile::default()
        }),
        // Like a malformed file: the state is lost, the run's own results are not.
        Err(e @ crate::archive::ArchiveError::TooLarge { .. }) => {
            warnings.push(format!("{}; starting failure tracking afresh", super::chain(&e)));
            StatusFile::default()
        }
        Err(e) => return Err(e.into()),
    };

    // The newest version's time of each document that starts failing now.
    let starting: Vec<(String, String)> = report
        .documents
        .iter()
        .filter(|d| matches!(d.status, crate::track::Status::Failed { .. }))
        .filter(|d| !previous.failing.contains_key(&status::key(&d.service, &d.document)))
        .map(|d| (d.service.clone(), d.document.clone()))
        .collect();
    let last_versions = archive.latest_version_dates(&starting).unwrap_or_else(|e| {
        warnings.push(format!(
            "cannot read when failing documents were last recorded: {}",
            super::chain(&e)
        ));
        Default::default()
    });
    let declared: HashSet<(&str, &str)> = context
        .declared
        .iter()
        .flat_map(|s| s.documents.iter().map(|d| (s.slug.as_str(), d.doc_type.as_str())))
        .collect();
    let status::Advance {
        status: mut next,
        mut transitions,
    } = status::advance(
        &previous,
        report,
        |s, d| declared.contains(&(s, d)),
        context.alerts.remind_after,
        context.now,
        |s, d| last_versions.get(&(s.to_string(), d.to_string())).copied(),
    );

    let mut sender = |needed: bool, options: SendOptions, what: &str| {
        if !needed {
            return None;
        }
        Sender::new(options)
            .map_err(|e| warnings.push(format!("{what} are skipped: {}", super::chain(&e))))
            .ok()
    };
    // The GitHub API's address comes from the environment (GITHUB_API_URL), never from the
    // archive, so an Enterprise server inside the network needs no --allow-private;
    // webhooks can come from the archive's clausewatch.toml and go through the guard.
    let issue_sender = sender(
        context.issues.is_some() && !transitions.is_empty(),
        SendOptions {
            allow_private: true,
            ..context.send.clone()
        },
        "issues",
    );
    let webhook_sender = sender(!context.alerts.targets.is_empty(), context.send.clone(), "alerts");

    let service_name = |slug: &str| {
        context
            .declared
            .iter()
            .find(|s| s.slug == slug)
            .map_or_else(|| slug.to_string(), |s| s.name.clone())
    };
    let mut issues = Vec::new();
    if let (Some(github), Some(sender)) = (context.issues, &issue_sender)
        && !transitions.is_empty()
    {
        let info = |service: &str, document: &str| DocumentInfo {
            title: notify::document_title(&service_name(service), document),
            source_urls: report
                .documents
                .iter()
                .find(|d| d.service == service && d.document == document)
                .map(|d| d.url.split(' ').map(str::to_string).collect())
                .unwrap_or_default(),
        };
        issues = github.sync(sender, &mut transitions, &mut next, info, context.now);
    }

    // The state is committed before any webhook is called: a crash while posting loses
    // at most an alert, never a transition or a version.
    let status_commit = if next != previous {
        let message = status::commit_message(&next, &transitions);
        let oid = archive.commit_file(
            STATUS_FILE,
            next.to_json().as_bytes(),
            &message,
            context.identity,
            context.now,
        )?;
        Some(oid.to_string())
    } else {
        None
    };

    let mut notifications = Vec::new();
    if let Some(sender) = &webhook_sender
        && !context.alerts.targets.is_empty()
    {
        let commit_url_base = commit_url_base(archive);
        // Reading the new versions back can only fail on a broken repository; that
        // costs the change alerts, not the run's exit code.
        let changes = notify::change_alerts(
            archive,
            report,
            service_name,
            context.taxonomy,
            commit_url_base.as_deref(),
            context.now,
        )
        .unwrap_or_else(|e| {
            warnings.push(format!("change alerts are skipped: {}", super::chain(&e)));
            Vec::new()
        });
        let mut alerts: Vec<Alert> = changes.into_iter().map(Alert::Change).collect();
        let issue_url = |n: u64| context.issues.map(|g| g.issue_url(n));
        alerts.extend(
            notify::failure_alerts(&transitions, report, service_name, issue_url, context.now)
                .into_iter()
                .map(Alert::Failure),
        );
        notifications = notify::deliver(sender, &context.alerts.targets, &alerts);
    }

    Ok(FollowUp {
        failing: next.failing.len(),
        transitions,
        status_commit,
        notifications,
        issues,
        warnings,
    })
}

/// `https://github.com/owner/repo/commit/` from the GitHub Actions environment, else
/// from an `origin` remote on GitHub.
fn commit_url_base(archive: &Archive) -> Option<String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY")) {
        (Some(server), Some(repo)) => Some(format!("{}/{}/commit/", server.trim_end_matches('/'), repo.trim())),
        _ => archive.commit_url_base(),
    }
}

/// The lines `track` prints for the follow-up (before its summary line).
pub fn lines(follow_up: &FollowUp) -> Vec<String> {
    let mut lines = Vec::new();
    for t in &follow_up.transitions {
        let name = t.key();
        let since = date(t.failing_since);
        lines.push(match t.kind {
            TransitionKind::Started => format!("failing    {name}  started failing: {}", t.category),
            TransitionKind::Reminder => {
                format!(
                    "failing    {name}  still failing since {since}: {} (reminder)",
                    t.category
                )
            }
            TransitionKind::Recovered => format!("recovered  {name}  works again (failing since {since})"),
            TransitionKind::Dropped => format!("dropped    {name}  no longer declared (failing since {since})"),
        });
    }
    for action in &follow_up.issues {
        let name = format!("{}/{}", action.service, action.document);
        let number = action.issue.map(|n| format!(" #{n}")).unwrap_or_default();
        lines.push(match &action.error {
            Some(error) => format!("issue      {name}  failed{number}: {error}"),
            None => format!("issue      {name}  {}{number}", action.action),
        });
    }
    if let Some(commit) = &follow_up.status_commit {
        lines.push(format!(
            "status     {} failing, recorded in {STATUS_FILE} ({})",
            follow_up.failing,
            &commit[..commit.len().min(12)]
        ));
    }
    if !follow_up.notifications.is_empty() {
        let sent = follow_up.notifications.iter().filter(|d| d.delivered).count();
        lines.push(format!(
            "alerts     {sent} delivered, {} not delivered",
            follow_up.notifications.len() - sent
        ));
    }
    lines
}

/// The warnings `track` prints on stderr: undelivered alerts, failed issue calls.
pub fn warnings(follow_up: &FollowUp) -> Vec<String> {
    let mut warnings: Vec<String> = follow_up.warnings.iter().map(|w| format!("warning: {w}")).collect();
    for d in follow_up.notifications.iter().filter(|d| !d.delivered) {
        warnings.push(format!(
            "warning: {} alert for {}/{} not delivered to {}: {}",
            d.event,
            d.service,
            d.document,
            d.target,
            d.error.as_deref().unwrap_or("unknown error")
        ));
    }
    for a in follow_up.issues.iter().filter(|a| a.error.is_some()) {
        warnings.push(format!(
            "warning: GitHub issue for {}/{}: {}",
            a.service,
            a.document,
            a.error.as_deref().unwrap_or_default()
        ));
    }
    warnings
}

fn date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}
