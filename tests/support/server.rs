//! A scripted HTTP/1.1 server on 127.0.0.1 for integration tests, built on std
//! (plus `flate2` for the gzip-bomb fault).
//!
//! Every response carries `Connection: close`, so each request is its own
//! connection: the server stays simple and a fault hits exactly one request.
//! Paths are matched exactly against the request target, query string included.

// Each test binary that includes this file uses a different subset of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;

/// How long any blocking call waits before looking at the stop flag again;
/// this bounds how long `Drop` takes.
const POLL: Duration = Duration::from_millis(20);
/// Sleep between accept attempts when no connection is pending.
const ACCEPT_POLL: Duration = Duration::from_millis(5);
/// Request heads larger than this are refused with 431.
const MAX_HEAD: usize = 64 * 1024;
/// Preallocation cap for request bodies (they may be longer).
const MAX_BODY: usize = 1024 * 1024;

/// A running server; dropping it stops the accept loop and joins every
/// connection thread (open `NeverAnswer`/`SlowDrip` connections are cut).
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Binds 127.0.0.1:0 and serves in a background thread, one thread per connection.
    ///
    /// # Panics
    /// If the socket or thread cannot be set up: the test cannot run anyway.
    pub fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        // Polling a non-blocking accept lets Drop stop the loop with a flag alone,
        // with no need to wake a blocked accept().
        listener.set_nonblocking(true).expect("make the listener non-blocking");
        let addr = listener.local_addr().expect("listener address");
        let shared = Arc::new(Shared::default());
        let accept = thread::Builder::new()
            .name("testserver-accept".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || accept_loop(&listener, &shared)
            })
            .expect("spawn the accept thread");
        TestServer {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT/path`; a missing leading `/` is added.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, normalize(path))
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Replaces the whole script of a path: each request to the path takes the
    /// next response; the last one repeats forever. An empty script makes the
    /// path 404 again. Recorded requests are kept.
    pub fn set(&self, path: &str, responses: Vec<Response>) {
        let mut state = self.shared.lock();
        let path = normalize(path);
        if responses.is_empty() {
            state.scripts.remove(&path);
        } else {
            state.scripts.insert(path, Script { responses, served: 0 });
        }
    }

    /// Shorthand: `set(path, vec![Response::html(body)])`.
    pub fn page(&self, path: &str, body: &str) {
        self.set(path, vec![Response::html(body)]);
    }

    /// How many requests the path has received (unscripted paths included).
    pub fn hits(&self, path: &str) -> usize {
        let path = normalize(path);
        let state = self.shared.lock();
        state.log.iter().filter(|r| r.path == path).count()
    }

    /// The requests the path has received, oldest first.
    pub fn requests(&self, path: &str) -> Vec<Request> {
        let path = normalize(path);
        let state = self.shared.lock();
        state.log.iter().filter(|r| r.path == path).cloned().collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            // A panic in the server was already printed; don't double-panic in Drop.
            let _ = accept.join();
        }
    }
}

/// An `http://` URL on 127.0.0.1 where nothing listens (the port was just
/// free; another process could take it, which is unlikely enough for tests).
///
/// # Panics
/// If no port can be bound on 127.0.0.1.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("listener address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/")
}

/// A request as received; header names are lowercased, values trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The request body (read up to its `Content-Length`).
    pub body: Vec<u8>,
}

impl Request {
    /// The body parsed as JSON.
    ///
    /// # Panics
    /// If the body is not JSON: the test expected some.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {}: body is not JSON ({e}): {}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A scripted response. `Content-Length` and `Connection: close` are added
/// when sent, unless set with `header` (a wrong length is a fault of its own).
#[derive(Clone, Debug)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    fault: Option<Fault>,
    revalidation: Option<Revalidation>,
}

/// How a response answers a conditional request (one with `If-None-Match` or
/// `If-Modified-Since`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revalidation {
    /// 304 when `If-None-Match` equals its `ETag`, or, with no `If-None-Match`, when
    /// `If-Modified-Since` equals its `Last-Modified` (one-second dates, as Python's
    /// `http.server` compares them).
    Honest,
    /// 304 to any conditional request, whatever it names: a cache stuck on a stale tag.
    AlwaysNotModified,
}

impl Response {
    /// A response with no `Content-Type`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
            fault: None,
            revalidation: None,
        }
    }

    /// 200 with `text/html; charset=utf-8`.
    pub fn html(body: &str) -> Response {
        Response::status(200, body)
    }

    /// Any status with an HTML body.
    pub fn status(code: u16, body: &str) -> Response {
        Response::new(code, body).header("Content-Type", "text/html; charset=utf-8")
    }

    /// Any status with a JSON body.
    pub fn json(code: u16, body: &str) -> Response {
        Response::new(code, body).header("Content-Type", "application/json")
    }

    /// Adds a header; call again to repeat a name.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// An empty-bodied redirect to `location`, taken as given (relative is fine).
    pub fn redirect(code: u16, location: &str) -> Response {
        Response::new(code, Vec::new()).header("Location", location)
    }

    /// Answers conditional requests as `revalidation` says, with an empty 304 that
    /// repeats this response's headers.
    #[must_use]
    pub fn revalidate(mut self, revalidation: Revalidation) -> Response {
        self.revalidation = Some(revalidation);
        self
    }

    fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The 304 this response gives `request`, if it gives one.
    fn not_modified_for(&self, request: &Request) -> Option<Response> {
        let none_match = request.header("if-none-match");
        let modified_since = request.header("if-modified-since");
        let not_modified = match self.revalidation? {
            Revalidation::AlwaysNotModified => none_match.is_some() || modified_since.is_some(),
            Revalidation::Honest => match none_match {
                Some(tag) => self.header_value("etag") == Some(tag),
                None => modified_since.is_some() && self.header_value("last-modified") == modified_since,
            },
        };
        not_modified.then(|| Response {
            status: 304,
            body: Vec::new(),
            ..self.clone()
        })
    }

    /// Misbehaves as `fault` says when this response is served.
    #[must_use]
    pub fn fault(mut self, fault: Fault) -> Response {
        self.fault = Some(fault);
        self
    }
}

/// Ways a response can go wrong on purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Sends the head (with the full `Content-Length`) and half the body, then
    /// resets the connection (RST), as a crashed or cut-off server would.
    ResetMidBody,
    /// Reads the request, then says nothing until the client leaves or the
    /// server is dropped.
    NeverAnswer,
    /// Sends the head at once, then the body `chunk` bytes at a time, waiting
    /// `every` before each chunk.
    SlowDrip { chunk: usize, every: Duration },
    /// Waits this long before answering.
    Delay(Duration),
    /// Serves a gzip of `decompressed` zero bytes with `Content-Encoding: gzip`
    /// (about a thousandth of that size on the wire); the scripted body is ignored.
    /// It is compressed afresh for every request, at roughly 10 ms per MiB, so
    /// make it just bigger than the limit under test.
    GzipBomb { decompressed: usize },
    /// Reads the request and closes the connection cleanly without a response.
    CloseWithoutResponse,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    scripts: HashMap<String, Script>,
    log: Vec<Request>,
}

struct Script {
    /// Never empty: `set` removes the script instead.
    responses: Vec<Response>,
    served: usize,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// A test that panicked while holding the lock must not take the server
    /// (or the other assertions) down with it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the request and takes the next response from its path's script.
    fn respond(&self, request: Request) -> Response {
        let mut state = self.lock();
        let response = match state.scripts.get_mut(&request.path) {
            Some(script) => {
                let i = script.served.min(script.responses.len() - 1);
                script.served += 1;
                let response = &script.responses[i];
                response.not_modified_for(&request).unwrap_or_else(|| response.clone())
            }
            None => Response::status(404, "<h1>404 Not Found</h1>\n"),
        };
        state.log.push(request);
        response
    }
}

fn normalize(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stopped() {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(shared);
                let handler = move || {
                    // Errors are clients hanging up or faults doing their job.
                    let _ = serve(stream, &shared);
                };
                let builder = thread::Builder::new().name("testserver-conn".into());
                // If the spawn fails the stream is dropped: the client sees a close.
                if let Ok(handle) = builder.spawn(handler) {
                    connections.push(handle);
                }
            }
            // WouldBlock means nothing is pending; anything else (say EMFILE)
            // is retried rather than killing the server.
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
        connections.retain(|c| !c.is_finished());
    }
    for connection in connections {
        let _ = connection.join();
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let stop = &shared.stop;
    // Accepted sockets inherit non-blocking mode from the listener on some platforms.
    stream.set_nonblocking(false)?;
    // Timeouts turn every blocking read and write into a poll of the stop flag.
    stream.set_read_timeout(Some(POLL))?;
    stream.set_write_timeout(Some(POLL))?;
    stream.set_nodelay(true)?;

    let Some(head) = read_head(&mut stream, stop)? else {
        return Ok(());
    };
    let Some(request) = parse_head(&head) else {
        discard(&mut stream, 1, stop)?;
        let response = Response::status(400, "<h1>400 Bad Request</h1>\n");
        write_all(&mut stream, &head_bytes(&response), stop)?;
        return write_all(&mut stream, &response.body, stop);
    };
    let body_len: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let head_only = request.method == "HEAD";
    // A body is read (with the head's last byte) before answering, so it can be
    // recorded; a request without one keeps that byte unread for `ResetMidBody`.
    let mut request = request;
    let consumed = body_len > 0;
    if consumed {
        let mut bytes = read_up_to(&mut stream, 1 + body_len, stop)?;
        request.body = bytes.split_off(1.min(bytes.len()));
    }
    let mut response = shared.respond(request);

    if let Some(Fault::GzipBomb { decompressed }) = response.fault {
        response.body = gzip_zeros(decompressed, stop)?;
        if !has_header(&response.headers, "content-encoding") {
            response = response.header("Content-Encoding", "gzip");
        }
    }
    let head = head_bytes(&response);
    let body: &[u8] = if head_only || matches!(response.status, 204 | 304) {
        &[]
    } else {
        &response.body
    };

    if response.fault == Some(Fault::ResetMidBody) {
        write_all(&mut stream, &head, stop)?;
        write_all(&mut stream, &body[..body.len() / 2], stop)?;
        // A reset discards whatever is still queued, so let the bytes leave first.
        pause(Duration::from_millis(50), stop);
        // std cannot set SO_LINGER=0, but closing a socket with unread input
        // also resets it, and read_head left the head's last byte unread.
        return Ok(());
    }

    // Take the head's last byte and any request body, so that closing is a
    // clean FIN rather than a reset.
    if !consumed {
        discard(&mut stream, 1, stop)?;
    }
    match response.fault {
        Some(Fault::CloseWithoutResponse) => return Ok(()),
        Some(Fault::NeverAnswer) => {
            hold(&mut stream, stop);
            return Ok(());
        }
        Some(Fault::Delay(delay)) if !pause(delay, stop) => return Ok(()),
        _ => {}
    }
    write_all(&mut stream, &head, stop)?;
    if let Some(Fault::SlowDrip { chunk, every }) = response.fault {
        for piece in body.chunks(chunk.max(1)) {
            if !pause(every, stop) {
                return Ok(());
            }
            write_all(&mut stream, piece, stop)?;
        }
        Ok(())
    } else {
        write_all(&mut stream, body, stop)
    }
}

/// Reads the request head up to and including the blank line, but leaves its
/// very last byte unread in the socket, so that `ResetMidBody` can close with
/// unread input (which makes the kernel send RST). Peeking first is what lets
/// us stop exactly there. `None` if the client left or the server stopped.
fn read_head(stream: &mut TcpStream, stop: &AtomicBool) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let n = match stream.peek(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => n,
            Err(e) if is_retry(&e) && !stop.load(Ordering::Relaxed) => continue,
            Err(e) if is_retry(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        // The blank line may straddle what was consumed earlier and the new bytes.
        let from = head.len().saturating_sub(3);
        let consumed = head.len();
        head.extend_from_slice(&buf[..n]);
        if let Some(at) = find(&head[from..], b"\r\n\r\n") {
            head.truncate(from + at + 4);
            stream.read_exact(&mut buf[..head.len() - 1 - consumed])?;
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD {
            let response = Response::status(431, "<h1>431 Request Header Fields Too Large</h1>\n");
            write_all(stream, &head_bytes(&response), stop)?;
            write_all(stream, &response.body, stop)?;
            return Ok(None);
        }
        stream.read_exact(&mut buf[..n])?;
    }
}

fn parse_head(head: &[u8]) -> Option<Request> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, path, version) = (parts.next()?, parts.next()?, parts.next()?);
    if method.is_empty() || path.is_empty() || !version.starts_with("HTTP/1.") {
        return None;
    }
    if parts.next().is_some() {
        return None;
    }
    let headers = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    Some(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        headers,
        body: Vec::new(),
    })
}

fn head_bytes(response: &Response) -> Vec<u8> {
    let status = response.status;
    let mut lines = vec![format!("HTTP/1.1 {status} {}", reason(status))];
    lines.extend(response.headers.iter().map(|(n, v)| format!("{n}: {v}")));
    // 204 must not carry a length; for HEAD and 304 it is what a GET would get.
    if status != 204 && !has_header(&response.headers, "content-length") {
        lines.push(format!("Content-Length: {}", response.body.len()));
    }
    if !has_header(&response.headers, "connection") {
        lines.push("Connection: close".to_owned());
    }
    // Two empty lines make the head end in CRLF CRLF.
    lines.extend([String::new(), String::new()]);
    lines.join("\r\n").into_bytes()
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Clients ignore the reason phrase, but people reading a trace do not.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Compresses `len` zero bytes chunk by chunk, so only the (small) output is
/// held. This is the slow part of a bomb (around 10 ms per MiB with optimised
/// dependencies), so it gives up once the server stops.
fn gzip_zeros(len: usize, stop: &AtomicBool) -> io::Result<Vec<u8>> {
    static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    let mut left = len;
    while left > 0 {
        if stop.load(Ordering::Relaxed) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = left.min(ZEROS.len());
        encoder.write_all(&ZEROS[..n])?;
        left -= n;
    }
    encoder.finish()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Timeouts (`WouldBlock` on Unix, `TimedOut` on Windows) and signals just mean "try again".
fn is_retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Like `Write::write_all`, but gives up once the server stops, so a client
/// that does not read cannot block `Drop`.
fn write_all(stream: &mut TcpStream, mut buf: &[u8], stop: &AtomicBool) -> io::Result<()> {
    while !buf.is_empty() {
        match stream.write(buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if is_retry(&e) && !stop.load(Ordering::Relaxed) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads and drops `len` bytes; stops early if the client stops sending.
/// Reads `len` bytes; fewer if the client stops sending.
fn read_up_to(stream: &mut TcpStream, len: usize, stop: &AtomicBool) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len.min(MAX_BODY));
    let mut buf = [0; 4096];
    while out.len() < len {
        match stream.read(&mut buf[..(len - out.len()).min(4096)]) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if is_retry(&e) && !stop.load(Ordering::Relaxed) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn discard(stream: &mut TcpStream, mut len: usize, stop: &AtomicBool) -> io::Result<()> {
    let mut buf = [0; 4096];
    while len > 0 {
        match stream.read(&mut buf[..len.min(4096)]) {
            Ok(0) => return Ok(()),
            Ok(n) => len -= n,
            Err(e) if is_retry(&e) && !stop.load(Ordering::Relaxed) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Keeps the connection open, silently, until the client leaves or the server stops.
fn hold(stream: &mut TcpStream, stop: &AtomicBool) {
    let mut buf = [0; 1024];
    while !stop.load(Ordering::Relaxed) {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if is_retry(&e) => {}
            Err(_) => return,
        }
    }
}

/// Sleeps for `duration` in short steps; `false` if the server stopped meanwhile.
fn pause(duration: Duration, stop: &AtomicBool) -> bool {
    // A deadline too far to represent is simply never reached.
    let deadline = Instant::now().checked_add(duration);
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let left = deadline.map_or(POLL, |d| d.saturating_duration_since(Instant::now()));
        if left.is_zero() {
            return true;
        }
        thread::sleep(left.min(POLL));
    }
}
