//! The JSON each kind of target receives, built by pure functions of an [`Alert`].
//!
//! - generic: `{"schema": 1, "event": ..., "text": ..., ...the alert's fields}`;
//! - Slack: `{"text": ..., "blocks": [...]}` (mrkdwn, `&<>` escaped, limits respected);
//! - Discord: `{"content": ..., "embeds": [...], "allowed_mentions": {"parse": []}}`, so
//!   an `@everyone` in a policy's text pings nobody.
//!
//! Quoted sentences go into code blocks: policy text is full of characters that Slack
//! and Discord would read as markup.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Alert, ChangeAlert, FailureAlert, Format, SampleLine, clip};
use crate::report::summary;
use crate::status::TransitionKind;

/// Slack's limits: a header's text, a section's text.
const SLACK_HEADER: usize = 150;
const SLACK_SECTION: usize = 3000;
/// Discord's limits: message content, embed title, description, field value.
const DISCORD_CONTENT: usize = 2000;
const DISCORD_TITLE: usize = 256;
const DISCORD_DESCRIPTION: usize = 4096;
const DISCORD_FIELD: usize = 1024;

/// The payload of `alert` for a target of `format`.
pub fn build(format: Format, alert: &Alert) -> Value {
    match format {
        Format::Generic => generic(alert),
        Format::Slack => slack(alert),
        Format::Discord => discord(alert),
    }
}

/// One line that says what happened.
pub fn headline(alert: &Alert) -> String {
    match alert {
        Alert::Change(c) => c.summary.clone(),
        Alert::Failure(f) => match f.kind {
            TransitionKind::Started => format!("{} started failing: {}", f.title, f.category),
            TransitionKind::Reminder => format!(
                "{} is still failing: {} since {}",
                f.title,
                f.category,
                date(f.failing_since)
            ),
            TransitionKind::Recovered => {
                format!("{} works again (it failed since {})", f.title, date(f.failing_since))
            }
            TransitionKind::Dropped => format!("{} is no longer declared", f.title),
        },
    }
}

/// clausewatch's own format: every field of the alert, plus `schema`, `event`, `text`.
pub fn generic(alert: &Alert) -> Value {
    let mut value = match alert {
        Alert::Change(c) => serde_json::to_value(c),
        Alert::Failure(f) => serde_json::to_value(f),
    }
    .unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("schema".into(), json!(1));
        map.insert("event".into(), json!(alert.event()));
        map.insert("text".into(), json!(headline(alert)));
    }
    value
}

pub fn slack(alert: &Alert) -> Value {
    match alert {
        Alert::Change(c) => slack_change(c, &headline(alert)),
        Alert::Failure(f) => slack_failure(f, &headline(alert)),
    }
}

pub fn discord(alert: &Alert) -> Value {
    match alert {
        Alert::Change(c) => discord_change(c, &headline(alert)),
        Alert::Failure(f) => discord_failure(f, &headline(alert)),
    }
}

/// One line per provision the change moved, a flipped stance said so.
fn shift_lines(c: &ChangeAlert) -> Option<String> {
    let lines: Vec<String> = c
        .provisions_changed
        .iter()
        .map(|shift| {
            let flipped = if shift.flipped() { " (stance flipped)" } else { "" };
            format!("• {shift}{flipped}")
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn slack_change(c: &ChangeAlert, headline: &str) -> Value {
    let mut summary_text = format!("*{}*", slack_escape(&summary::describe(&c.counts)));
    if !c.provisions.is_empty() {
        let names: Vec<String> = c
            .provisions
            .iter()
            .map(|p| format!("{} (`{}`)", slack_escape(&p.title), slack_escape(&p.id)))
            .collect();
        summary_text.push_str(&format!("\n*Provisions touched:* {}", names.join(", ")));
    }
    if let Some(shifts) = shift_lines(c) {
        summary_text.push_str(&format!("\n*Provisions changed:*\n{}", slack_escape(&shifts)));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": clip(&c.title, SLACK_HEADER)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(&summary_text, SLACK_SECTION)}}),
    ];
    if let Some(quoted) = sentence_lines(c) {
        // Room for the fences.
        let quoted = clip(&slack_escape(&quoted), SLACK_SECTION - 8);
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("```\n{quoted}\n```")}}));
    }
    let mut links = Vec::new();
    if let Some(url) = &c.commit_url {
        links.push(slack_link(url, &format!("Commit {}", short(&c.commit))));
    } else {
        links.push(format!("Commit `{}`", short(&c.commit)));
    }
    for url in &c.source_urls {
        links.push(slack_link(url, "Source"));
    }
    links.push(format!("fetched {}", date(c.fetched_at)));
    blocks.push(
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(&links.join(" · "), SLACK_SECTION)}]}),
    );
    json!({"text": headline, "blocks": blocks})
}

fn slack_failure(f: &FailureAlert, headline: &str) -> Value {
    let icon = match f.kind {
        TransitionKind::Recovered => ":white_check_mark:",
        TransitionKind::Reminder => ":hourglass:",
        _ => ":warning:",
    };
    let mut text = format!("{icon} *{}*", slack_escape(headline));
    if f.kind != TransitionKind::Recovered {
        text.push_str(&format!("\n```\n{}\n```", slack_escape(&f.message)));
    }
    let mut context: Vec<String> = f.source_urls.iter().map(|u| slack_link(u, "Source")).collect();
    context.push(format!("failing since {}", date(f.failing_since)));
    if let Some(last) = f.last_success {
        context.push(format!("last recorded {}", date(last)));
    }
    if let Some(issue) = &f.issue_url {
        context.push(slack_link(issue, "Issue"));
    }
    json!({
        "text": headline,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(&text, SLACK_SECTION)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(&context.join(" · "), SLACK_SECTION)}]},
        ],
    })
}

fn discord_change(c: &ChangeAlert, headline: &str) -> Value {
    let mut fields =
        vec![json!({"name": "Change", "value": clip(&summary::describe(&c.counts), DISCORD_FIELD), "inline": true})];
    if !c.provisions.is_empty() {
        let names: Vec<String> = c
            .provisions
            .iter()
            .map(|p| format!("{} (`{}`)", p.title, p.id))
            .collect();
        fields.push(
            json!({"name": "Provisions touched", "value": clip(&names.join("\n"), DISCORD_FIELD), "inline": false}),
        );
    }
    if let Some(shifts) = shift_lines(c) {
        fields.push(json!({"name": "Provisions changed", "value": clip(&shifts, DISCORD_FIELD), "inline": false}));
    }
    if !c.source_urls.is_empty() {
        fields
            .push(json!({"name": "Source", "value": clip(&c.source_urls.join("\n"), DISCORD_FIELD), "inline": false}));
    }
    let mut embed = json!({
        "title": clip(&c.title, DISCORD_TITLE),
        "color": 0xE6_7E22,
        "fields": fields,
        "timestamp": c.fetched_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "footer": {"text": format!("commit {}", short(&c.commit))},
    });
    if let Some(url) = c.commit_url.as_ref().or(c.source_urls.first()) {
        embed["url"] = json!(url);
    }
    if let Some(quoted) = sentence_lines(c) {
        let quoted = clip(&discord_code(&quoted), DISCORD_DESCRIPTION - 12);
        embed["description"] = json!(format!("```diff\n{quoted}\n```"));
    }
    json!({
        "content": clip(&format!("**{}**", discord_code(headline)), DISCORD_CONTENT),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

fn discord_failure(f: &FailureAlert, headline: &str) -> Value {
    let color = match f.kind {
        TransitionKind::Recovered => 0x2E_CC71,
        TransitionKind::Reminder => 0xF1_C40F,
        _ => 0xE7_4C3C,
    };
    let mut fields = vec![
        json!({"name": "Category", "value": clip(&f.category, DISCORD_FIELD), "inline": true}),
        json!({"name": "Failing since", "value": date(f.failing_since), "inline": true}),
    ];
    if !f.source_urls.is_empty() {
        fields
            .push(json!({"name": "Source", "value": clip(&f.source_urls.join("\n"), DISCORD_FIELD), "inline": false}));
    }
    if let Some(issue) = &f.issue_url {
        fields.push(json!({"name": "Issue", "value": clip(issue, DISCORD_FIELD), "inline": false}));
    }
    let mut embed = json!({
        "title": clip(&f.title, DISCORD_TITLE),
        "color": color,
        "fields": fields,
        "timestamp": f.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    if f.kind != TransitionKind::Recovered {
        embed["description"] = json!(format!(
            "```\n{}\n```",
            clip(&discord_code(&f.message), DISCORD_DESCRIPTION - 8)
        ));
    }
    json!({
        "content": clip(&discord_code(headline), DISCORD_CONTENT),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

/// The sampled sentences as diff lines (`+ new`, `- old`), `None` when there are none.
fn sentence_lines(c: &ChangeAlert) -> Option<String> {
    let mut lines = Vec::new();
    for line in &c.sentences.ordered {
        match line {
            SampleLine::Added(text) => lines.push(format!("+ {text}")),
            SampleLine::Removed(text) => lines.push(format!("- {text}")),
            SampleLine::Changed { old, new } => {
                lines.push(format!("- {old}"));
                lines.push(format!("+ {new}"));
            }
        }
    }
    if c.sentences.more > 0 {
        lines.push(format!("… and {} more", c.sentences.more));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// Slack wants `&`, `<` and `>` escaped in text.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `<url|label>`; a `|` or `>` in the URL would end the link early.
fn slack_link(url: &str, label: &str) -> String {
    format!(
        "<{}|{}>",
        url.replace('|', "%7C").replace('>', "%3E"),
        slack_escape(label)
    )
}

/// Text inside a Discord code block cannot close it.
fn discord_code(text: &str) -> String {
    text.replace("```", "ʼʼʼ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::ChangeKind;
    use crate::notify::{ChangedSentence, ProvisionRef, SampleSentences};
    use crate::report::Counts;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn change() -> Alert {
        Alert::Change(ChangeAlert {
            service: "acme".into(),
            service_name: "Acme".into(),
            document: "privacy-policy".into(),
            title: "Acme Privacy Policy".into(),
            summary: "Acme Privacy Policy: 1 sentence added, 1 changed".into(),
            change: ChangeKind::Substantive,
            flapping: false,
            counts: Counts {
                added: 1,
                changed: 1,
                ..Counts::default()
            },
            sentences: SampleSentences {
                added: vec!["We may use <your> content to train AI & models.".into()],
                removed: vec![],
                changed: vec![ChangedSentence {
                    old: "We collect your name.".into(),
                    new: "We collect your name and ```e-mail```.".into(),
                }],
                more: 2,
                ordered: vec![
                    SampleLine::Changed {
                        old: "We collect your name.".into(),
                        new: "We collect your name and ```e-mail```.".into(),
                    },
                    SampleLine::Added("We may use <your> content to train AI & models.".into()),
                ],
            },
            provisions: vec![ProvisionRef {
                id: "ai-training".into(),
                title: "AI training on user content or data".into(),
            }],
            provisions_changed: vec![crate::archive::ProvisionShift {
                provision: "ai-training".into(),
                kind: crate::archive::ShiftKind::Reworded,
                before: vec![crate::provision::Stance::Restricts],
                after: vec![crate::provision::Stance::Grants],
            }],
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            commit_url: Some("https://github.com/acme/archive/commit/0123456789abcdef0123456789abcdef01234567".into()),
            source_urls: vec!["https://acme.example/privacy".into()],
            fetched_at: at("2026-03-02T06:00:00Z"),
        })
    }

    fn failure(kind: TransitionKind) -> Alert {
        Alert::Failure(FailureAlert {
            kind,
            service: "acme".into(),
            service_name: "Acme".into(),
            document: "terms-of-service".into(),
            title: "Acme Terms of Service".into(),
            category: "not-found".into(),
            message: "https://acme.example/terms answered HTTP 404 Not Found".into(),
            failing_since: at("2026-03-02T00:00:00Z"),
            last_success: Some(at("2026-03-01T00:00:00Z")),
            reminders: 0,
            source_urls: vec!["https://acme.example/terms".into()],
            issue_url: Some("https://github.com/acme/archive/issues/7".into()),
            at: at("2026-03-09T00:00:00Z"),
        })
    }

    #[test]
    fn generic_carries_every_field() {
        let value = generic(&change());
        assert_eq!(value["schema"], 1);
        assert_eq!(value["event"], "change");
        assert_eq!(value["text"], "Acme Privacy Policy: 1 sentence added, 1 changed");
        assert_eq!(value["counts"]["added"], 1);
        assert_eq!(value["sentences"]["more"], 2);
        assert_eq!(value["sentences"]["changed"][0]["old"], "We collect your name.");
        assert_eq!(value["provisions"][0]["id"], "ai-training");
        assert_eq!(value["provisions_changed"][0]["kind"], "reworded");
        assert_eq!(value["provisions_changed"][0]["before"][0], "restricts");
        assert_eq!(value["provisions_changed"][0]["after"][0], "grants");
        assert_eq!(value["fetched_at"], "2026-03-02T06:00:00Z");
        assert!(value["sentences"].get("ordered").is_none());

        let value = generic(&failure(TransitionKind::Reminder));
        assert_eq!(value["event"], "failure-reminder");
        assert_eq!(value["category"], "not-found");
        assert_eq!(
            value["text"],
            "Acme Terms of Service is still failing: not-found since 2026-03-02 00:00 UTC"
        );
        assert!(value.get("kind").is_none());
    }

    #[test]
    fn slack_blocks_escape_and_link() {
        let value = slack(&change());
        assert_eq!(value["text"], "Acme Privacy Policy: 1 sentence added, 1 changed");
        let blocks = value["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["text"]["text"], "Acme Privacy Policy");
        let summary = blocks[1]["text"]["text"].as_str().unwrap();
        assert!(summary.contains("*1 sentence added, 1 changed*"), "{summary}");
        assert!(
            summary.contains("*Provisions touched:* AI training on user content or data (`ai-training`)"),
            "{summary}"
        );
        assert!(
            summary.contains("*Provisions changed:*\n• ai-training: reworded, restricts → grants (stance flipped)"),
            "{summary}"
        );
        let quoted = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(
            quoted.starts_with("```\n- We collect your name.\n+ We collect"),
            "{quoted}"
        );
        assert!(
            quoted.contains("+ We may use &lt;your&gt; content to train AI &amp; models."),
            "{quoted}"
        );
        assert!(quoted.ends_with("… and 2 more\n```"), "{quoted}");
        let context = blocks[3]["elements"][0]["text"].as_str().unwrap();
        assert!(
            context.contains(
                "<https://github.com/acme/archive/commit/0123456789abcdef0123456789abcdef01234567|Commit 0123456789ab>"
            ),
            "{context}"
        );
        assert!(context.contains("<https://acme.example/privacy|Source>"), "{context}");

        let value = slack(&failure(TransitionKind::Started));
        let text = value["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            text.starts_with(":warning: *Acme Terms of Service started failing: not-found*"),
            "{text}"
        );
        assert!(text.contains("HTTP 404"), "{text}");
        let recovered = slack(&failure(TransitionKind::Recovered));
        assert!(
            recovered["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with(":white_check_mark: *Acme Terms of Service works again")
        );
    }

    #[test]
    fn discord_embeds_and_no_mentions() {
        let value = discord(&change());
        assert_eq!(value["allowed_mentions"]["parse"], json!([]));
        assert_eq!(value["content"], "**Acme Privacy Policy: 1 sentence added, 1 changed**");
        let embed = &value["embeds"][0];
        assert_eq!(embed["title"], "Acme Privacy Policy");
        assert_eq!(
            embed["url"],
            "https://github.com/acme/archive/commit/0123456789abcdef0123456789abcdef01234567"
        );
        let description = embed["description"].as_str().unwrap();
        assert!(
            description.starts_with("```diff\n- We collect your name.\n"),
            "{description}"
        );
        // A fence inside a sentence cannot close the block early.
        assert_eq!(description.matches("```").count(), 2, "{description}");
        assert_eq!(embed["fields"][1]["name"], "Provisions touched");
        assert_eq!(
            embed["fields"][1]["value"],
            "AI training on user content or data (`ai-training`)"
        );
        assert_eq!(embed["timestamp"], "2026-03-02T06:00:00Z");

        let value = discord(&failure(TransitionKind::Recovered));
        assert_eq!(
            value["content"],
            "Acme Terms of Service works again (it failed since 2026-03-02 00:00 UTC)"
        );
        assert_eq!(value["embeds"][0]["color"], 0x2E_CC71);
        assert!(value["embeds"][0].get("description").is_none());
    }

    #[test]
    fn long_texts_fit_the_limits() {
        let Alert::Change(mut c) = change() else { unreachable!() };
        c.title = "T".repeat(500);
        c.sentences.ordered = (0..5).map(|_| SampleLine::Added("x".repeat(1000))).collect();
        let alert = Alert::Change(c);
        let slack = slack(&alert);
        for block in slack["blocks"].as_array().unwrap() {
            if let Some(text) = block["text"]["text"].as_str() {
                assert!(text.chars().count() <= SLACK_SECTION);
            }
        }
        assert_eq!(
            slack["blocks"][0]["text"]["text"].as_str().unwrap().chars().count(),
            SLACK_HEADER
        );
        let discord = discord(&alert);
        assert!(discord["embeds"][0]["description"].as_str().unwrap().chars().count() <= DISCORD_DESCRIPTION);
        assert_eq!(
            discord["embeds"][0]["title"].as_str().unwrap().chars().count(),
            DISCORD_TITLE
        );
    }
}
