//! Webhook targets: where alerts go, in which payload format, and how a target is shown.
//!
//! Webhook URLs carry their secret in the path or query (Slack's and Discord's do), so a
//! target is only ever shown redacted, as `scheme://host/…`: its `Debug` and `Display`
//! both redact, and no error message holds the full URL.

use std::fmt;

use url::Url;

/// The payload a target receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// clausewatch's own JSON (see docs/tracking.md).
    Generic,
    /// `{"text": ..., "blocks": [...]}` for Slack incoming webhooks.
    Slack,
    /// `{"content": ..., "embeds": [...]}` for Discord webhooks.
    Discord,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Generic => "json",
            Format::Slack => "slack",
            Format::Discord => "discord",
        }
    }
}

/// One webhook.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    url: Url,
    format: Format,
}

/// A target that cannot be used; `shown` is already redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notify target {shown}: {reason}")]
pub struct TargetError {
    pub shown: String,
    pub reason: String,
}

impl Target {
    /// Reads `[slack+|discord+|json+]http(s)://...`; without a prefix the format follows
    /// the host (hooks.slack.com, discord.com/api/webhooks, discordapp.com/api/webhooks).
    pub fn parse(spec: &str) -> Result<Target, TargetError> {
        let spec = spec.trim();
        let (explicit, rest) = match spec.split_once('+') {
            Some(("slack", rest)) => (Some(Format::Slack), rest),
            Some(("discord", rest)) => (Some(Format::Discord), rest),
            Some(("json", rest)) => (Some(Format::Generic), rest),
            _ => (None, spec),
        };
        let url = Url::parse(rest).map_err(|e| TargetError {
            shown: "(not shown: it may hold a secret)".into(),
            reason: format!("not a URL ({e})"),
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(TargetError {
                shown: redact(&url),
                reason: "only http and https URLs can receive alerts; prefix slack+, discord+ or json+ to choose the payload".into(),
            });
        }
        let format = explicit.unwrap_or_else(|| detect(&url));
        Ok(Target { url, format })
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// `https://hooks.slack.com/… (slack)`: enough to tell targets apart, nothing secret.
    pub fn redacted(&self) -> String {
        format!("{} ({})", redact(&self.url), self.format.as_str())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `scheme://host[:port]/…`: no user, password, path, query or fragment.
pub fn redact(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

fn detect(url: &Url) -> Format {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let discord_host =
        ["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"].contains(&host.as_str());
    if host == "hooks.slack.com" {
        Format::Slack
    } else if discord_host && url.path().starts_with("/api/webhooks/") {
        Format::Discord
    } else {
        Format::Generic
    }
}

/// Splits a list given in one string (`CLAUSEWATCH_NOTIFY`) on whitespace and commas.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses every spec; `env:NAME` reads the URL from the environment variable NAME, so
/// a committed `clausewatch.toml` can name a secret without holding it.
pub fn parse_all(specs: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Vec<Target>, TargetError> {
    let mut targets = Vec::new();
    for spec in specs {
        let spec = spec.trim();
        if spec.is_empty() {
            continue;
        }
        if let Some(name) = spec.strip_prefix("env:") {
            let value = env(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| TargetError {
                shown: spec.to_string(),
                reason: format!("the environment variable {name} is not set"),
            })?;
            for inner in split_list(&value) {
                targets.push(Target::parse(&inner)?);
            }
        } else {
            targets.push(Target::parse(spec)?);
        }
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_host_or_the_prefix() {
        let slack = Target::parse("https://hooks.slack.com/services/T000/B000/XXXX").unwrap();
        assert_eq!(slack.format(), Format::Slack);
        let discord = Target::parse("https://discord.com/api/webhooks/123/abc").unwrap();
        assert_eq!(discord.format(), Format::Discord);
        let old_discord = Target::parse("https://discordapp.com/api/webhooks/123/abc").unwrap();
        assert_eq!(old_discord.format(), Format::Discord);
        assert_eq!(
            Target::parse("https://discord.com/channels/1").unwrap().format(),
            Format::Generic
        );
        assert_eq!(
            Target::parse("https://example.org/hook").unwrap().format(),
            Format::Generic
        );
        let forced = Target::parse("slack+https://chat.example.org/hooks/abc").unwrap();
        assert_eq!(forced.format(), Format::Slack);
        assert_eq!(forced.url().as_str(), "https://chat.example.org/hooks/abc");
        assert_eq!(
            Target::parse("discord+http://127.0.0.1:9/x").unwrap().format(),
            Format::Discord
        );
        assert_eq!(
            Target::parse("json+https://hooks.slack.com/services/x")
                .unwrap()
                .format(),
            Format::Generic
        );
    }

    #[test]
    fn secrets_are_redacted_everywhere() {
        let target = Target::parse("https://user:pw@hooks.slack.com/services/T0/B0/s3cret?token=q#f").unwrap();
        let shown = [target.redacted(), format!("{target:?}"), format!("{target}")];
        for text in shown {
            assert_eq!(text, "https://hooks.slack.com/… (slack)");
        }
        assert_eq!(
            Target::parse("http://127.0.0.1:8080/hook/s3cret").unwrap().redacted(),
            "http://127.0.0.1:8080/… (json)"
        );
        let error = Target::parse("ftp://example.org/s3cret").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
        let error = Target::parse("not a url s3cret").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn lists_and_environment_references() {
        assert_eq!(
            split_list(" https://a.example/1, https://b.example/2\nhttps://c.example/3 "),
            vec!["https://a.example/1", "https://b.example/2", "https://c.example/3"]
        );
        let env = |name: &str| (name == "HOOK").then(|| "https://hooks.slack.com/services/x".to_string());
        let targets = parse_all(&["env:HOOK".into(), "https://example.org/h".into()], env).unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].format(), Format::Slack);
        let missing = parse_all(&["env:NOPE".into()], env).unwrap_err();
        assert!(missing.to_string().contains("NOPE is not set"), "{missing}");
    }
}
