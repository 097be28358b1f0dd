//! Fetching pages over HTTP: polite, bounded, and precise about why a fetch failed.
//!
//! Everything that can go wrong on the network becomes a [`Failure`] with a category,
//! because "the site is down" and "the site blocks us" call for different actions.

pub mod browser;
pub mod decode;
pub(crate) mod guard;
pub mod wall;

use std::sync::{Arc, Once};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::failure::{Failure, FailureKind};
pub use guard::is_private_address;

/// How fetching behaves. The defaults suit a scheduled run against real sites.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Sent as `User-Agent`; names the tool and, when configured, a contact.
    pub user_agent: String,
    pub accept_language: String,
    pub connect_timeout: Duration,
    /// Bounds a whole request, body included.
    pub timeout: Duration,
    /// The largest body accepted, counted after decompression.
    pub max_body_bytes: u64,
    /// How many times a transient failure is retried.
    pub retries: u32,
    /// The first retry waits this long; each next one twice as long.
    pub retry_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one fails as rate-limited.
    pub max_retry_after: Duration,
    pub max_redirects: usize,
    /// Whether loopback and private-network addresses may be fetched.
    pub allow_private: bool,
}

/// The largest body cap any setting may ask for (`--max-body-mb`, `[fetch] max_body_mb`),
/// in MiB. A stored snapshot is read back page by page up to the body cap it could have
/// been fetched under, so this also bounds what an archive's own committed settings can
/// make a reader of its snapshots (`reextract`, `check --snapshots`) allocate: 64 MiB a
/// page, against the 20 MiB default; the largest real page of the test corpus is under
/// 2 MB.
pub const MAX_BODY_MB_CEILING: u64 = 64;

impl Default for FetchOptions {
    fn default() -> FetchOptions {
        FetchOptions {
            user_agent: default_user_agent(None),
            accept_language: "en-US,en;q=0.9".into(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_body_bytes: 20 * 1024 * 1024,
            retries: 2,
            retry_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(60),
            max_redirects: 10,
            allow_private: false,
        }
    }
}

/// `clausewatch/0.1.0 (+https://github.com/clausewatch/clausewatch; contact)`.
pub fn default_user_agent(contact: Option<&str>) -> String {
    let mut ua = format!(
        "clausewatch/{} (+https://github.com/clausewatch/clausewatch",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(contact) = contact.filter(|c| !c.trim().is_empty()) {
        ua.push_str("; ");
        ua.push_str(contact.trim());
    }
    ua.push(')');
    ua
}

/// A page as the server sent it.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// The URL after redirects.
    pub final_url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// What the server said identifies this body, for a conditional request next time.
    pub validators: Validators,
}

/// A response's `ETag` and `Last-Modified`: sent back as `If-None-Match` and
/// `If-Modified-Since`, they let a server answer "304 Not Modified" without the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The response's `Date`: only to judge whether `last_modified` is weak (see
    /// [`Validators::reusable`]); never sent back nor recorded.
    pub served_at: Option<DateTime<Utc>>,
}

/// A `Last-Modified` closer than this to the response's `Date` may hide a second change
/// made within the same clock second (RFC 9110 §8.8.2.2 calls it weak).
const WEAK_LAST_MODIFIED: chrono::Duration = chrono::Duration::seconds(60);

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }

    /// The validators worth sending back later: a weak `Last-Modified` (less than 60 s
    /// before the response's `Date`, or before `fetched_at` when the server sent no
    /// `Date`) is dropped, because a server that answers `If-Modified-Since` with it
    /// would call "not modified" a page changed again within the same second.
    pub fn reusable(&self, fetched_at: DateTime<Utc>) -> Validators {
        let served_at = self.served_at.unwrap_or(fetched_at);
        let strong = |date: &String| http_date(date).is_some_and(|modified| served_at - modified >= WEAK_LAST_MODIFIED);
        Validators {
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone().filter(strong),
            served_at: None,
        }
    }

    fn of(headers: &HeaderMap) -> Validators {
        // Kept only when they can be sent back as they are.
        let value = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 256)
                .map(str::to_string)
        };
        Validators {
            etag: value(header::ETAG),
            last_modified: value(header::LAST_MODIFIED),
            served_at: value(header::DATE).as_deref().and_then(http_date),
        }
    }
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, the only form servers send today).
fn http_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|date| date.with_timezone(&Utc))
}

/// What a conditional fetch found.
#[derive(Debug, Clone)]
pub enum Conditional {
    /// The body, which may or may not differ from the one the validators stand for.
    Page(Box<FetchedPage>),
    /// 304 Not Modified: the body is still the one the validators stand for.
    NotModified,
}

/// An HTTP client with the project's rules built in. Cheap to clone.
#[derive(Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
    options: Arc<FetchOptions>,
}

impl HttpFetcher {
    pub fn new(options: FetchOptions) -> Result<HttpFetcher, Failure> {
        static CRYPTO: Once = Once::new();
        // reqwest is built without a default crypto provider so the TLS stack is ring
        // (pure Rust and C, no cmake); it must be installed once per process.
        CRYPTO.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });

        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8,*/*;q=0.5",
            ),
        );
        if let Ok(value) = HeaderValue::from_str(&options.accept_language) {
            headers.insert(header::ACCEPT_LANGUAGE, value);
        }
        let allow_private = options.allow_private;
        let max_redirects = options.max_redirects;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(RedirectError(format!("more than {max_redirects} redirects")));
            }
            let next = attempt.url().clone();
            if !matches!(next.scheme(), "http" | "https") {
                return attempt.error(RedirectError(format!("redirect to a {}: URL ({next})", next.scheme())));
            }
            if attempt.previous().contains(&next) {
                return attempt.error(RedirectError(format!("redirect loop at {next}")));
            }
            if !allow_private && guard::is_private_host(&next) {
                return attempt.error(guard::PrivateAddressError(next.to_string()));
            }
            attempt.follow()
        });
        let client = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .default_headers(headers)
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(redirect)
            .dns_resolver(Arc::new(guard::GuardedResolver { allow_private }))
            .no_proxy()
            .build()
            .map_err(|e| Failure::new(FailureKind::Tls, format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpFetcher {
            client,
            options: Arc::new(options),
        })
    }

    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Fetches a URL, retrying transient failures with backoff. A non-success status is
    /// a failure; the body of a failed response is not kept.
    pub async fn fetch(&self, url: &Url) -> Result<FetchedPage, Failure> {
        match self.fetch_if_changed(url, &Validators::default()).await? {
            Conditional::Page(page) => Ok(*page),
            // Not reached: `fetch_once` reports NotModified only to a request that sent
            // validators, and a 304 to one that did not is an HTTP failure there.
            Conditional::NotModified => Err(status_failure(StatusCode::NOT_MODIFIED, url)),
        }
    }

    /// [`fetch`](Self::fetch), asking the server to answer 304 Not Modified when the
    /// body is still the one `known` stands for (nothing is asked when it is empty).
    pub async fn fetch_if_changed(&self, url: &Url, known: &Validators) -> Result<Conditional, Failure> {
        guard::check_url(url, self.options.allow_private)?;
        let mut attempt = 0;
        loop {
            let outcome = self.fetch_once(url, known).await;
            let wait = match &outcome {
                Err(Retry { wait: Some(asked), .. }) if attempt < self.options.retries => {
                    asked.unwrap_or_else(|| self.options.retry_delay * 2u32.saturating_pow(attempt))
                }
                _ => return outcome.map_err(|r| r.failure),
            };
            attempt += 1;
            tracing::debug!(%url, attempt, ?wait, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn fetch_once(&self, url: &Url, known: &Validators) -> Result<Conditional, Retry> {
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &known.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = &known.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, date);
        }
        let mut response = request.send().await.map_err(|e| Retry::now(classify(url, &e)))?;
        let status = response.status();
        let final_url = response.url().clone();
        if status == StatusCode::NOT_MODIFIED && !known.is_empty() {
            return Ok(Conditional::NotModified);
        }
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            // reqwest hands back a redirect it cannot follow (file:, data:): say so.
            return Err(Retry::never(unfollowed_redirect(
                status,
                &final_url,
                response.headers(),
            )));
        }
        if !status.is_success() {
            let retry_after = retry_after(response.headers());
            let failure = status_failure(status, &final_url);
            // A refusal page may be a challenge: say so, it calls for a browser, not a retry.
            if matches!(status.as_u16(), 401 | 403 | 406 | 429 | 503)
                && let Some(verdict) = refusal_page(&mut response).await
                && matches!(verdict, wall::Verdict::BotWall(_))
            {
                return Err(Retry::never(verdict.into_failure(final_url.as_str())));
            }
            if matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE)
                && let Some(wait) = retry_after
            {
                if wait > self.options.max_retry_after {
                    let message = format!(
                        "{} (Retry-After {}s is longer than we wait)",
                        failure.message,
                        wait.as_secs()
                    );
                    return Err(Retry::never(Failure::new(failure.kind, message)));
                }
                return Err(Retry {
                    failure,
                    wait: Some(Some(wait)),
                });
            }
            return Err(Retry::now(failure));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let validators = Validators::of(response.headers());
        let cap = self.options.max_body_bytes;
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(Retry::never(too_large(&final_url, cap)));
        }
        // Counted chunk by chunk after decompression, so a gzip bomb stops at the cap.
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Retry::now(classify(&final_url, &e)))?
        {
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(Retry::never(too_large(&final_url, cap)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Conditional::Page(Box::new(FetchedPage {
            final_url,
            status: status.as_u16(),
            content_type,
            body,
            validators,
        })))
    }
}

/// Reads the start of an error response and judges it.
async fn refusal_page(response: &mut reqwest::Response) -> Option<wall::Verdict> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > 256 * 1024 {
            break;
        }
    }
    wall::inspect(&String::from_utf8_lossy(&body))
}

/// A failed attempt: why, and whether and when to try again.
struct Retry {
    failure: Failure,
    /// `None` when no retry can help (a body over the cap, a `Retry-After` too long);
    /// otherwise the wait the server asked for, if any.
    wait: Option<Option<Duration>>,
}

impl Retry {
    /// A failure worth another attempt when its category is transient.
    fn now(failure: Failure) -> Retry {
        let wait = failure.kind.is_transient().then_some(None);
        Retry { failure, wait }
    }

    /// A failure that no retry can fix, whatever its category says.
    fn never(failure: Failure) -> Retry {
        Retry { failure, wait: None }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RedirectError(String);

fn too_large(url: &Url, cap: u64) -> Failure {
    Failure::new(FailureKind::TooLarge, format!("{url}: body larger than {} bytes", cap))
}

/// A redirect left unfollowed: its `Location` names a scheme that is not fetched (a
/// `file:` or `data:` URL, which reqwest does not even offer to the redirect policy).
fn unfollowed_redirect(status: StatusCode, url: &Url, headers: &HeaderMap) -> Failure {
    let target = headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|location| url.join(location).ok());
    let message = match target {
        Some(next) => format!("{url}: redirect to a {}: URL, which is never followed", next.scheme()),
        None => format!("{url} answered HTTP {status} with no usable Location"),
    };
    Failure::new(FailureKind::Redirect, message)
}

/// The site a URL is on, as redirects are judged: its host in lower case, `www.` aside.
pub fn site_of(url: &Url) -> Option<String> {
    url.host_str()
        .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
}

/// The failure of a page whose URL was redirected to its own site's home page: a policy
/// that moved, was withdrawn or is hidden from this client is served that way, and the
/// home page is never the document. A declared URL that is itself a home page, or a
/// redirect to another site's root (`example.com/privacy` to `privacy.example.com/`),
/// is left alone.
pub fn redirected_home(requested: &Url, final_url: &Url) -> Option<Failure> {
    let home = |url: &Url| matches!(url.path(), "" | "/");
    (site_of(requested) == site_of(final_url) && !home(requested) && home(final_url)).then(|| {
        Failure::new(
            FailureKind::NotFound,
            format!("{requested} was redirected to the site's home page ({final_url}), not the document"),
        )
    })
}

/// The failure an HTTP error status stands for.
pub fn status_failure(status: StatusCode, url: &Url) -> Failure {
    let kind = match status.as_u16() {
        404 => FailureKind::NotFound,
        410 => FailureKind::Gone,
        401 | 403 | 406 | 451 => FailureKind::Forbidden,
        429 => FailureKind::RateLimited,
        500..=599 => FailureKind::ServerError,
        _ => FailureKind::HttpError,
    };
    Failure::new(kind, format!("{url} answered HTTP {status}"))
}

/// `Retry-After` as seconds; the HTTP-date form is read as "a minute".
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    Some(match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => Duration::from_secs(60),
    })
}

/// Maps a transport error onto a category by walking its causes.
fn classify(url: &Url, error: &reqwest::Error) -> Failure {
    use std::error::Error as _;
    let mut source: Option<&(dyn std::error::Error + 'static)> = error.source();
    let mut chain = String::new();
    while let Some(cause) = source {
        if let Some(private) = cause.downcast_ref::<guard::PrivateAddressError>() {
            return guard::refused(&private.0);
        }
        if let Some(redirect) = cause.downcast_ref::<RedirectError>() {
            return Failure::new(FailureKind::Redirect, format!("{url}: {}", redirect.0));
        }
        if cause.downcast_ref::<rustls::Error>().is_some() {
            return Failure::new(FailureKind::Tls, format!("{url}: TLS failed: {cause}"));
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            // tokio-rustls reports handshake failures as I/O errors wrapping rustls's.
            if wraps_tls_error(io) {
                return Failure::new(FailureKind::Tls, format!("{url}: TLS failed: {io}"));
            }
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionRefused | ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                    return Failure::new(FailureKind::Connection, format!("{url}: {io}"));
                }
                TimedOut => return Failure::new(FailureKind::Timeout, format!("{url}: timed out")),
                _ => {}
            }
        }
        chain = cause.to_string();
        source = cause.source();
    }
    if error.is_timeout() {
        return Failure::new(
            FailureKind::Timeout,
            format!("{url}: no complete answer within the timeout"),
        );
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("dns")
        || lower.contains("lookup")
        || lower.contains("resolve")
        || lower.contains("name or service")
    {
        return Failure::new(
            FailureKind::Dns,
            format!("{url}: the host name does not resolve ({chain})"),
        );
    }
    if lower.contains("certificate") || lower.contains("tls") {
        return Failure::new(FailureKind::Tls, format!("{url}: TLS failed: {chain}"));
    }
    if error.is_redirect() {
        return Failure::new(FailureKind::Redirect, format!("{url}: {error}"));
    }
    let detail = if chain.is_empty() { error.to_string() } else { chain };
    // Connection-level trouble (closed early, incomplete message) is worth a retry.
    Failure::new(FailureKind::Connection, format!("{url}: {detail}"))
}

/// Whether an I/O error wraps, at any depth of I/O errors, a rustls error (hyper and
/// tokio-rustls each add a layer).
fn wraps_tls_error(mut io: &std::io::Error) -> bool {
    loop {
        match io.get_ref() {
            Some(inner) if inner.downcast_ref::<rustls::Error>().is_some() => return true,
            Some(inner) => match inner.downcast_ref::<std::io::Error>() {
                Some(next) => io = next,
                None => return false,
            },
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_to_the_same_sites_home_page_is_not_the_document() {
        let url = |u: &str| Url::parse(u).unwrap();
        let failure = redirected_home(
            &url("https://acme.example/legal/privacy"),
            &url("https://www.acme.example/?ref=x"),
        )
        .expect("the home page is not the policy");
        assert_eq!(failure.kind, FailureKind::NotFound);
        assert_eq!(
            failure.message,
            "https://acme.example/legal/privacy was redirected to the site's home page \
             (https://www.acme.example/?ref=x), not the document"
        );
        for (requested, final_url) in [
            ("https://acme.example/privacy", "https://acme.example/legal/privacy"),
            ("https://acme.example/privacy", "https://privacy.acme.example/"),
            ("https://acme.example/", "https://acme.example/"),
            ("https://acme.example", "https://www.acme.example/"),
        ] {
            assert!(
                redirected_home(&url(requested), &url(final_url)).is_none(),
                "{requested} -> {final_url}"
            );
        }
    }

    #[test]
    fn tls_errors_are_found_inside_io_errors() {
        let tls = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        let wrapped = std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, tls));
        assert!(wraps_tls_error(&wrapped));
        assert!(!wraps_tls_error(&std::io::Error::other("plain")));
    }

    #[test]
    fn user_agent_names_tool_and_contact() {
        assert!(default_user_agent(None).starts_with("clausewatch/"));
        assert!(default_user_agent(Some("ops@example.org")).ends_with("; ops@example.org)"));
    }

    #[test]
    fn statuses_map_to_categories() {
        let url = Url::parse("https://example.com/").unwrap();
        let kind = |s: u16| status_failure(StatusCode::from_u16(s).unwrap(), &url).kind;
        assert_eq!(kind(404), FailureKind::NotFound);
        assert_eq!(kind(410), FailureKind::Gone);
        assert_eq!(kind(403), FailureKind::Forbidden);
        assert_eq!(kind(429), FailureKind::RateLimited);
        assert_eq!(kind(503), FailureKind::ServerError);
        assert_eq!(kind(418), FailureKind::HttpError);
    }

    #[test]
    fn a_last_modified_within_a_minute_of_the_response_is_not_reused() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        let validators = |last_modified: &str, date: Option<&str>| Validators {
            etag: Some("\"x\"".into()),
            last_modified: Some(last_modified.into()),
            served_at: date.and_then(http_date),
        };
        let fetched_at = at("2026-11-01T07:00:00Z");
        let strong = validators("Sun, 01 Nov 2026 06:59:00 GMT", Some("Sun, 01 Nov 2026 07:00:00 GMT"));
        assert_eq!(
            strong.reusable(fetched_at).last_modified.as_deref(),
            Some("Sun, 01 Nov 2026 06:59:00 GMT")
        );
        let weak = validators("Sun, 01 Nov 2026 06:59:01 GMT", Some("Sun, 01 Nov 2026 07:00:00 GMT"));
        assert_eq!(weak.reusable(fetched_at).last_modified, None);
        assert_eq!(weak.reusable(fetched_at).etag.as_deref(), Some("\"x\""));
        // No Date: judged against the fetch time; a date in the future or unreadable is weak too.
        assert_eq!(
            validators("Sun, 01 Nov 2026 06:00:00 GMT", None)
                .reusable(fetched_at)
                .last_modified
                .as_deref(),
            Some("Sun, 01 Nov 2026 06:00:00 GMT")
        );
        assert_eq!(
            validators("Sun, 01 Nov 2026 06:59:30 GMT", None)
                .reusable(fetched_at)
                .last_modified,
            None
        );
        assert_eq!(
            validators("Mon, 02 Nov 2026 06:00:00 GMT", None)
                .reusable(fetched_at)
                .last_modified,
            None
        );
        assert_eq!(validators("yesterday", None).reusable(fetched_at).last_modified, None);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(60)));
    }
}
