//! GitHub Actions output for `track`: a Markdown job summary, one annotation per failed
//! document, and step outputs, when the run happens inside a workflow.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use super::alerts::FollowUp;
use crate::notify::Delivery;
use crate::notify::issues::IssueAction;
use crate::status::Transition;
use crate::track::{Status, TrackReport};

/// Writes the summary (`GITHUB_STEP_SUMMARY`), the outputs (`GITHUB_OUTPUT`) and returns
/// the annotation lines for standard output. Does nothing outside GitHub Actions.
pub fn report(report: &TrackReport) -> std::io::Result<Vec<String>> {
    if std::env::var_os("GITHUB_ACTIONS").is_none_or(|v| v != "true") {
        return Ok(Vec::new());
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        append(Path::new(&path), &summary(report))?;
    }
    if let Some(path) = std::env::var_os("GITHUB_OUTPUT") {
        append(Path::new(&path), &outputs(report))?;
    }
    Ok(annotations(report))
}

/// Appends failure transitions, GitHub issue actions and undelivered alerts to the job
/// summary, says whether `status.json` was committed (`status-changed`, so the workflow
/// pushes a status-only run too), and returns a `::warning` annotation per undelivered
/// alert. Does nothing outside GitHub Actions.
pub fn report_follow_up(follow_up: &FollowUp) -> std::io::Result<Vec<String>> {
    if std::env::var_os("GITHUB_ACTIONS").is_none_or(|v| v != "true") {
        return Ok(Vec::new());
    }
    let (transitions, issues, deliveries) = (&follow_up.transitions, &follow_up.issues, &follow_up.notifications);
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        let text = follow_up_summary(transitions, issues, deliveries);
        if !text.is_empty() {
            append(Path::new(&path), &text)?;
        }
    }
    if let Some(path) = std::env::var_os("GITHUB_OUTPUT") {
        append(
            Path::new(&path),
            &format!("status-changed={}\n", follow_up.status_commit.is_some()),
        )?;
    }
    Ok(deliveries
        .iter()
        .filter(|d| !d.delivered)
        .map(|d| {
            format!(
                "::warning title=clausewatch alert not delivered::{}",
                escape_data(&format!(
                    "{} alert for {}/{} to {}: {}",
                    d.event,
                    d.service,
                    d.document,
                    d.target,
                    d.error.as_deref().unwrap_or_default()
                ))
            )
        })
        .collect())
}

/// The follow-up sections of the job summary; empty when there is nothing to say.
pub fn follow_up_summary(transitions: &[Transition], issues: &[IssueAction], deliveries: &[Delivery]) -> String {
    let mut out = String::new();
    if !transitions.is_empty() {
        out.push_str(
            "### Failure tracking\n\n| document | transition | category | failing since |\n| --- | --- | --- | --- |\n",
        );
        for t in transitions {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                t.key(),
                t.kind.as_str(),
                cell(&t.category),
                t.failing_since.format("%Y-%m-%d %H:%M UTC")
            );
        }
        out.push('\n');
    }
    if !issues.is_empty() {
        out.push_str("### GitHub issues\n\n| document | action | issue |\n| --- | --- | --- |\n");
        for a in issues {
            let action = match &a.error {
                Some(error) => format!("failed: {}", cell(error)),
                None => a.action.to_string(),
            };
            let number = a.issue.map(|n| format!("#{n}")).unwrap_or_default();
            let _ = writeln!(out, "| {}/{} | {action} | {number} |", a.service, a.document);
        }
        out.push('\n');
    }
    let failed: Vec<&Delivery> = deliveries.iter().filter(|d| !d.delivered).collect();
    if !deliveries.is_empty() {
        let _ = writeln!(
            out,
            "### Alerts\n\n{} delivered, {} not delivered\n",
            deliveries.len() - failed.len(),
            failed.len()
        );
    }
    if !failed.is_empty() {
        out.push_str("| alert | document | target | error |\n| --- | --- | --- | --- |\n");
        for d in failed {
            let _ = writeln!(
                out,
                "| {} | {}/{} | {} | {} |",
                d.event,
                d.service,
                d.document,
                cell(&d.target),
                cell(d.error.as_deref().unwrap_or_default())
            );
        }
        out.push('\n');
    }
    out
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

/// The job summary: counts, then what changed and what failed, in tables.
pub fn summary(report: &TrackReport) -> String {
    let mut out = format!(
        "## clausewatch track\n\n{} recorded, {} unchanged, {} failed ({} documents)\n\n",
        report.recorded(),
        report.unchanged(),
        report.failed(),
        report.documents.len()
    );
    let recorded: Vec<_> = report
        .documents
        .iter()
        .filter(|d| matches!(d.status, Status::Recorded { .. }))
        .collect();
    if !recorded.is_empty() {
        out.push_str("### Changed\n\n| document | change | summary | commit |\n| --- | --- | --- | --- |\n");
        for d in recorded {
            if let Status::Recorded {
                commit,
                change,
                summary,
                ..
            } = &d.status
            {
                let _ = writeln!(
                    out,
                    "| {}/{} | {change} | {} | `{}` |",
                    d.service,
                    d.document,
                    cell(summary),
                    &commit[..commit.len().min(12)]
                );
            }
        }
        out.push('\n');
    }
    let failed: Vec<_> = report
        .documents
        .iter()
        .filter(|d| matches!(d.status, Status::Failed { .. }))
        .collect();
    if !failed.is_empty() {
        out.push_str("### Failed\n\n| document | category | reason |\n| --- | --- | --- |\n");
        for d in failed {
            if let Status::Failed { category, message } = &d.status {
                let _ = writeln!(out, "| {}/{} | {category} | {} |", d.service, d.document, cell(message));
            }
        }
        out.push('\n');
    }
    out
}

/// A table cell: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Step outputs: the counts, and the changed documents one per line.
pub fn outputs(report: &TrackReport) -> String {
    let changed: Vec<String> = report
        .documents
        .iter()
        .filter(|d| matches!(d.status, Status::Recorded { .. }))
        .map(|d| format!("{}/{}", d.service, d.document))
        .collect();
    // A delimiter that cannot occur in a document name (slugs have no underscores).
    format!(
        "recorded={}\nunchanged={}\nfailed={}\nchanged<<CLAUSEWATCH_EOF\n{}\nCLAUSEWATCH_EOF\n",
        report.recorded(),
        report.unchanged(),
        report.failed(),
        changed.join("\n")
    )
}

/// `::error` for documents that cannot be reached at all, `::warning` for the rest.
pub fn annotations(report: &TrackReport) -> Vec<String> {
    report
        .documents
        .iter()
        .filter_map(|d| match &d.status {
            Status::Failed { category, message } => {
                let level = if category.is_transient() { "warning" } else { "error" };
                Some(format!(
                    "::{level} title=clausewatch {}/{} ({category})::{}",
                    d.service,
                    d.document,
                    escape_data(message)
                ))
            }
            _ => None,
        })
        .collect()
}

/// Workflow-command data escaping: `%`, CR and LF.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}
