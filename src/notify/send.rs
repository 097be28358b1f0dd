//! Sending JSON to webhooks and to the GitHub API: one attempt plus bounded retries with
//! backoff for what may pass (connection errors, timeouts, 5xx, 429), none for the rest.
//!
//! Errors say what went wrong without the URL: reqwest's own messages quote it, and a
//! webhook URL is a secret, so they are never shown.
//!
//! Loopback and private-network addresses are refused unless `allow_private`, by the
//! fetcher's own guard (src/fetch/guard.rs): IP literals before sending, names when they
//! resolve. A webhook list can come from the archive's `clausewatch.toml`, which anyone
//! with push access writes, and must not turn a run into a probe of the runner's network.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::fetch::guard::{GuardedResolver, OPT_IN, PrivateAddressError, is_private_host};

/// The longest `Retry-After` waited for; a longer one waits this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// How requests are sent.
#[derive(Debug, Clone)]
pub struct SendOptions {
    pub user_agent: String,
    /// Bounds one whole request.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first retry waits this long; each next one twice as long.
    pub retry_delay: Duration,
    /// Whether loopback and private-network addresses may receive requests
    /// (`--allow-private`).
    pub allow_private: bool,
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub attempts: u32,
}

/// A request that did not succeed. `reason` never holds the URL; `detail` is the
/// server's own explanation (`{"message": ...}`), for APIs that give one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (after {attempts} attempt{})", if *.attempts == 1 { "" } else { "s" })]
pub struct SendError {
    pub reason: String,
    pub attempts: u32,
    pub detail: Option<String>,
}

/// An HTTP client for alerts, with a small runtime of its own.
pub struct Sender {
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    options: SendOptions,
}

impl Sender {
    pub fn new(options: SendOptions) -> Result<Sender, SendError> {
        let failed = |reason: String| SendError {
            reason,
            attempts: 0,
            detail: None,
        };
        // The same TLS provider as the fetcher; installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            // A redirect would carry the body (and any token) somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: options.allow_private,
            }))
            .no_proxy()
            .build()
            .map_err(|e| failed(format!("cannot build the HTTP client: {}", e.without_url())))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| failed(format!("cannot start the async runtime: {e}")))?;
        Ok(Sender {
            client,
            runtime,
            options,
        })
    }

    /// Sends one request (a JSON body when given), retrying what may pass.
    pub fn send(
        &self,
        method: reqwest::Method,
        url: &Url,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, SendError> {
        if !self.options.allow_private && is_private_host(url) {
            return Err(private_address());
        }
        let mut header_map = HeaderMap::new();
        for (name, value) in headers {
            header_map.insert(name.clone(), value.clone());
        }
        self.runtime.block_on(async {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let mut request = self
                    .client
                    .request(method.clone(), url.clone())
                    .headers(header_map.clone());
                if let Some(body) = body {
                    request = request
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(serde_json::to_vec(body).unwrap_or_default());
                }
                let (reason, retry_after, detail) = match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        let retry_after = retry_after(response.headers());
                        let bytes = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                        if status.is_success() {
                            return Ok(Reply {
                                status: status.as_u16(),
                                body: bytes,
                                attempts: attempt,
                            });
                        }
                        let reason = format!("HTTP {} {}", status.as_u16(), status.canonical_reason().unwrap_or(""))
                            .trim_end()
                            .to_string();
                        let detail = api_message(&bytes);
                        let transient = status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
                        if !transient {
                            let reason = if status.is_redirection() {
                                format!("{reason} (redirects are not followed)")
                            } else {
                                reason
                            };
                            return Err(SendError {
                                reason,
                                attempts: attempt,
                                detail,
                            });
                        }
                        (reason, retry_after, detail)
                    }
                    // A name that resolved to a private address: retrying cannot help.
                    Err(e) if resolved_private(&e) => return Err(private_address()),
                    Err(e) => (describe(&e), None, None),
                };
                if attempt > self.options.retries {
                    return Err(SendError {
                        reason,
                        attempts: attempt,
                        detail,
                    });
                }
                let backoff = self.options.retry_delay * 2u32.saturating_pow(attempt - 1);
                let wait = retry_after.map_or(backoff, |asked| asked.min(MAX_RETRY_AFTER));
                tracing::debug!(attempt, ?wait, %reason, "retrying an alert");
                tokio::time::sleep(wait).await;
            }
        })
    }
}

/// A target refused by the private-address guard, before anything was sent; the reason
/// names no address (the caller shows the target redacted).
fn private_address() -> SendError {
    SendError {
        reason: format!("not sent: a loopback or private-network address; {OPT_IN} to send alerts there"),
        attempts: 0,
        detail: None,
    }
}

/// Whether the resolver refused the target's name for resolving to a private address.
fn resolved_private(error: &reqwest::Error) -> bool {
    use std::error::Error as _;
    let mut source = error.source();
    while let Some(cause) = source {
        if cause.downcast_ref::<PrivateAddressError>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// What went wrong, in words that cannot hold the URL.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else if error.is_body() || error.is_decode() {
        "the response broke off".into()
    } else {
        "the request failed".into()
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// An API's `{"message": "..."}`, one line, short.
fn api_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = value.get("message")?.as_str()?;
    let line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    (!line.is_empty()).then(|| super::clip(&line, 200))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_count_attempts() {
        let error = SendError {
            reason: "HTTP 500 Internal Server Error".into(),
            attempts: 3,
            detail: None,
        };
        assert_eq!(error.to_string(), "HTTP 500 Internal Server Error (after 3 attempts)");
        assert_eq!(
            SendError { attempts: 1, ..error }.to_string(),
            "HTTP 500 Internal Server Error (after 1 attempt)"
        );
    }

    #[test]
    fn api_messages_are_one_short_line() {
        assert_eq!(
            api_message(br#"{"message": "Bad\n credentials"}"#).as_deref(),
            Some("Bad credentials")
        );
        assert_eq!(api_message(b"<html>"), None);
    }
}
