//! Why a document could not be recorded. Shared by every stage of the pipeline, so it
//! depends on nothing.

use std::fmt;

use serde::Serialize;

/// The category of a failed document, as shown in `track` output and its `--json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// HTTP 404, or a page that says it does not exist.
    NotFound,
    /// HTTP 410.
    Gone,
    /// HTTP 401 or 403 without a challenge page.
    Forbidden,
    /// A challenge, captcha or denial page (Cloudflare, Akamai, DataDome, ...).
    BotWall,
    /// HTTP 429 after every retry.
    RateLimited,
    /// HTTP 5xx after every retry.
    ServerError,
    /// Any other HTTP status that is not a success.
    HttpError,
    /// The connect or total timeout expired.
    Timeout,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// Connection refused or reset.
    Connection,
    /// Too many redirects, a redirect loop, a redirect to a scheme other than http(s), or
    /// a redirect to another page that shares almost nothing with the document.
    Redirect,
    /// A loopback or private-network address, refused without `--allow-private`.
    PrivateAddress,
    /// The body exceeded the size cap (also after decompression).
    TooLarge,
    /// A body that is neither HTML, plain text nor a supported document format.
    UnsupportedContent,
    /// A `select` selector matched nothing.
    SelectorNoMatch,
    /// The extraction produced no text.
    Empty,
    /// The text shrank by more than half against the last recorded version.
    Shrunk,
    /// The text is the last recorded version's beginning, cut short: a transfer that
    /// stopped early behind a complete-looking framing.
    Truncated,
    /// The headless browser could not be started or failed on the page.
    Browser,
    /// The document's file in the working tree has changes that are not committed;
    /// recording a new version would overwrite them.
    UncommittedChanges,
    /// The fetch time is before the document's latest recorded version: the machine's
    /// clock is behind, and recording would put the version out of order.
    ClockBehind,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::NotFound => "not-found",
            FailureKind::Gone => "gone",
            FailureKind::Forbidden => "forbidden",
            FailureKind::BotWall => "bot-wall",
            FailureKind::RateLimited => "rate-limited",
            FailureKind::ServerError => "server-error",
            FailureKind::HttpError => "http-error",
            FailureKind::Timeout => "timeout",
            FailureKind::Dns => "dns",
            FailureKind::Tls => "tls",
            FailureKind::Connection => "connection",
            FailureKind::Redirect => "redirect",
            FailureKind::PrivateAddress => "private-address",
            FailureKind::TooLarge => "too-large",
            FailureKind::UnsupportedContent => "unsupported-content",
            FailureKind::SelectorNoMatch => "selector-no-match",
            FailureKind::Empty => "empty",
            FailureKind::Shrunk => "shrunk",
            FailureKind::Truncated => "truncated",
            FailureKind::Browser => "browser",
            FailureKind::UncommittedChanges => "uncommitted-changes",
            FailureKind::ClockBehind => "clock-behind",
        }
    }

    /// Whether trying again later may succeed without anyone changing anything.
    /// `truncated` is: a transfer cut short once is most often whole at the next run, so
    /// `track` shows it as a warning, not an error. It is decided after a fetch
    /// succeeded, so it never drives a retry; and `check --fetch`, having had the same
    /// cut from both its fetches, reports it `drifted`, which never counts as passing
    /// (`health::Health::is_transient`): a cut that repeats gets its health issue.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureKind::RateLimited
                | FailureKind::ServerError
                | FailureKind::Timeout
                | FailureKind::Connection
                | FailureKind::Truncated
        )
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure with its category and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }
}
