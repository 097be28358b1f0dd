//! Rendering pages in a headless Chromium, for policy pages that JavaScript builds.
//!
//! Chromium is driven over the DevTools protocol (CDP) by a small client of our own: one
//! WebSocket, JSON commands `{id, method, params, sessionId}`, a reader thread that routes
//! replies by id and events by session. A heavier CDP crate would cost minutes of compile
//! time on CI for the dozen commands used here. One Chromium serves a whole run and renders
//! up to `tabs` pages at once, each in a tab with a browser context of its own. A tab is
//! kept from page to page, which spares Chromium a renderer start and a context's setup
//! and teardown per page, and cleaned between two (see [`Browser::reset`]). A tab whose
//! page hangs or crashes is replaced; a crash fails its page only.
//!
//! Only what can change a page's text is downloaded: images, media, fonts and the like
//! are refused, stylesheets answered empty (see [`REFUSED_TYPES`], [`EMPTIED_TYPES`]). A
//! page is taken once it is done (see [`PageRun::settle`]): its DOM, network and load
//! event quiet for the settle period, and no request under way; or, when no timer or
//! other callback of the page is due within that period either, after a short quiet.
//!
//! Private addresses: without `allow_private`, a URL whose host is a loopback or private IP
//! literal (or `localhost`) is refused before navigating, and every request the page makes
//! (subresources, redirects, navigations by script) is intercepted and failed when its host
//! is such a literal. Host *names* that resolve to private addresses are not caught inside
//! the browser: Chromium resolves them itself, out of our sight. WebSocket connections
//! opened by a page's scripts are not intercepted either.
//!
//! Chromium dies with us: it is spawned in its own process group with `PR_SET_PDEATHSIG`
//! (Linux), and dropping the [`Browser`] closes it, kills the group, reaps it and removes
//! the temporary folder that holds its profile, temporary files and crash database.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};
use url::Url;

use super::guard;
use crate::failure::{Failure, FailureKind};

/// Looked up on `PATH`, in this order, when no executable is configured. The headless
/// shells (Chromium's older, lighter headless mode, packaged apart) come last: they use
/// about half the CPU of a full browser per page (BENCHMARKS.md), but sites tell them
/// from a desktop browser more easily, and a bot wall costs a version; they are used
/// when nothing else is installed, or when configured.
const CANDIDATES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "chromium-headless-shell",
    "chrome-headless-shell",
];

/// The environment variable that names the browser binary, wherever it is: the user's
/// own choice, so it wins over `[browser] executable`, which comes with the archive.
pub const EXECUTABLE_ENV: &str = "CLAUSEWATCH_CHROMIUM";

/// Flags for every launch. The profile folder, user agent and language are added per launch.
const FLAGS: &[&str] = &[
    "--headless",
    // Chromium's sandbox does not run as root, and Ubuntu 24.04 runners restrict the user
    // namespaces it needs.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    // Several pages render at once, each in a window of its own: none of them may be
    // treated as a background tab (lower CPU priority, throttled timers).
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    // A tab renders page after page: the page it leaves must not live on in the
    // back-forward cache (memory, and a renderer process each).
    "--disable-features=BackForwardCache",
    // Containers give /dev/shm 64 MB, too little for Chromium; it uses TMPDIR (our folder) instead.
    "--disable-dev-shm-usage",
    // Like the HTTP fetcher: no proxy taken from the environment.
    "--no-proxy-server",
    // A desktop layout: narrow viewports tuck text away behind toggles.
    "--window-size=1280,1024",
    "--remote-debugging-port=0",
];

/// How long Chromium may take to start and open its DevTools endpoint (slow on a cold CI disk).
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Bounds each clean-up command (disposing a context, closing the browser).
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest pause between two looks at the page (selectors, DOM activity).
const POLL: Duration = Duration::from_millis(50);
/// How long a page with nothing pending (no request under way, no timer, animation frame
/// or idle callback due within the settle period) must have been quiet to be taken: the
/// time for what the last event started (a response handed to a script, a framework's
/// render posted as a message) to reach the DOM.
const QUIET_ENOUGH: Duration = Duration::from_millis(150);
/// A request still running after this long counts as a stream or a long poll (chat widgets,
/// analytics), not as the page's content still arriving: it no longer holds the page up.
const LONG_REQUEST: Duration = Duration::from_secs(2);
/// The least time a script gets to answer, even when the page's deadline has passed, so a
/// slow page that is still responsive is returned rather than failed.
const EVAL_GRACE: Duration = Duration::from_secs(1);
/// Timeouts and settle periods are capped at this, so deadline arithmetic cannot overflow.
const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest protocol message accepted: a serialized page travels in one message.
const MAX_MESSAGE: usize = 256 << 20;
/// Pages rendered at once by default: two renderers per core of a 2-core runner keep both
/// cores busy while other pages wait on the network or settle (BENCHMARKS.md).
pub const DEFAULT_TABS: usize = 4;

/// Requests refused outright: their bytes cannot change a document's text (the DOM keeps
/// an image's `alt` whether or not the image loads). The names are CDP's resource types.
const REFUSED_TYPES: &[&str] = &[
    "Image",
    "Media",
    "Font",
    "TextTrack",
    "Manifest",
    "Ping",
    "Prefetch",
    "CSPViolationReport",
];

/// The types of [`REFUSED_TYPES`] and [`EMPTIED_TYPES`] that `Fetch.enable` can filter on
/// (Chromium 14x rejects the others), for when not every request is paused anyway.
const FILTERED_TYPES: &[&str] = &["Image", "Media", "Font", "Ping", "CSPViolationReport", "Stylesheet"];

/// Stylesheets are answered with an empty one rather than refused: the canonicalizer reads
/// the serialized DOM and only inline `style` and `hidden` (src/canon/html.rs), never
/// computed styles, so a stylesheet cannot change the text; but script loaders (webpack's
/// CSS chunks, `onload` swaps) wait for a stylesheet's `load` and give up on an `error`.
const EMPTIED_TYPES: &[&str] = &["Stylesheet"];

/// True once every selector matches an element with visible text. An invalid selector
/// counts as matched: waiting cannot fix it, and the canonicalizer reports it.
const SELECTORS_MATCH: &str = r#"(selectors) => selectors.every((selector) => {
  try {
    return Array.from(document.querySelectorAll(selector))
      .some((element) => (element.innerText || element.textContent || '').trim() !== '');
  } catch (error) {
    return true;
  }
})"#;

/// Installed in every new document before its own scripts: notes the time of the last DOM
/// mutation (the parser's included), on the page's clock, and which callbacks the page has
/// scheduled: timers (with when they are due), animation frames and idle callbacks. A
/// callback not yet run may still change the text; one that ran did so already.
///
/// Attributes are not watched: animations churn them forever, and text does not live there.
/// The scheduling functions are wrapped in proxies, which keep their name, length and
/// native `toString`. A timer given code as a string cannot be wrapped without `eval`: a
/// native timer of the same delay, which runs right after it, forgets it; an interval
/// given a string counts as always due.
const WATCH_PAGE: &str = r#"(() => {
  if (window.__clausewatchDom) return;
  const state = { last: performance.now(), timers: new Map(), frames: new Set(), idle: new Set() };
  Object.defineProperty(window, '__clausewatchDom', { value: state });
  new MutationObserver(() => { state.last = performance.now(); })
    .observe(document, { subtree: true, childList: true, characterData: true });
  const wrap = (name, apply) => {
    const native = window[name];
    if (typeof native === 'function') window[name] = new Proxy(native, { apply });
  };
  const delay = (ms) => Math.max(0, Number(ms) || 0);
  // Each callback forgets its own entry before it runs: an entry means "not run yet".
  wrap('setTimeout', (native, self, args) => {
    const run = args[0];
    let id;
    if (typeof run === 'function') {
      args[0] = function () { state.timers.delete(id); return Reflect.apply(run, this, arguments); };
      id = Reflect.apply(native, self, args);
    } else {
      id = Reflect.apply(native, self, args);
      Reflect.apply(native, self, [() => state.timers.delete(id), args[1]]);
    }
    state.timers.set(id, performance.now() + delay(args[1]));
    return id;
  });
  wrap('setInterval', (native, self, args) => {
    const run = args[0];
    if (typeof run !== 'function') {
      const id = Reflect.apply(native, self, args);
      state.timers.set(id, -Infinity);
      return id;
    }
    const period = delay(args[1]);
    let id;
    args[0] = function () {
      if (state.timers.has(id)) state.timers.set(id, performance.now() + period);
      return Reflect.apply(run, this, arguments);
    };
    id = Reflect.apply(native, self, args);
    state.timers.set(id, performance.now() + period);
    return id;
  });
  const clearTimer = (native, self, args) => { state.timers.delete(args[0]); return Reflect.apply(native, self, args); };
  wrap('clearTimeout', clearTimer);
  wrap('clearInterval', clearTimer);
  const once = (pending) => (native, self, args) => {
    const run = args[0];
    if (typeof run !== 'function') return Reflect.apply(native, self, args);
    let id;
    args[0] = function () { pending.delete(id); return Reflect.apply(run, this, arguments); };
    id = Reflect.apply(native, self, args);
    pending.add(id);
    return id;
  };
  const cancel = (pending) => (native, self, args) => { pending.delete(args[0]); return Reflect.apply(native, self, args); };
  wrap('requestAnimationFrame', once(state.frames));
  wrap('cancelAnimationFrame', cancel(state.frames));
  wrap('requestIdleCallback', once(state.idle));
  wrap('cancelIdleCallback', cancel(state.idle));
})()"#;

/// Milliseconds since the last DOM mutation, and whether a callback the page scheduled is
/// due within HORIZON milliseconds (see [`WATCH_PAGE`]). A document without the watcher (it
/// did not run) gets one now and reads as just changed, with callbacks due.
const PAGE_ACTIVITY: &str = r#"(() => {
  const now = performance.now();
  const state = window.__clausewatchDom;
  if (!state) {
    WATCH;
    return { quiet: 0, due: true };
  }
  let due = state.frames.size > 0 || state.idle.size > 0;
  if (!due) for (const at of state.timers.values()) if (at <= now + HORIZON) { due = true; break; }
  return { quiet: now - state.last, due };
})()"#;

/// The rendered DOM, the page's own idea of its URL, and its navigation status (0 if unknown).
const SERIALIZE: &str = r#"(() => {
  const doctype = document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\n' : '';
  const root = document.documentElement;
  const navigation = performance.getEntriesByType('navigation')[0];
  return {
    url: location.href,
    status: (navigation && navigation.responseStatus) || 0,
    html: doctype + (root ? root.outerHTML : ''),
  };
})()"#;

/// How the browser behaves. The defaults suit a scheduled run against real sites.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// The Chrome or Chromium binary; `None` finds one (see [`Browser::find_executable`]).
    pub executable: Option<PathBuf>,
    pub user_agent: String,
    /// Sent as `Accept-Language`; its first tag is also the browser's UI language.
    pub accept_language: String,
    /// Bounds navigating, loading and waiting for selectors, per page.
    pub timeout: Duration,
    /// How long the DOM, the network and the load event must be past before the page is
    /// taken (counted from the last of them).
    pub settle: Duration,
    /// Whether loopback and private-network addresses may be fetched.
    pub allow_private: bool,
    /// Pages rendered at once (at least one); more renders wait for a free tab.
    pub tabs: usize,
}

impl Default for BrowserOptions {
    fn default() -> BrowserOptions {
        BrowserOptions {
            executable: None,
            user_agent: super::default_user_agent(None),
            accept_language: "en-US,en;q=0.9".into(),
            timeout: Duration::from_secs(30),
            settle: Duration::from_millis(500),
            allow_private: false,
            tabs: DEFAULT_TABS,
        }
    }
}

/// A page as the browser rendered it.
#[derive(Debug, Clone)]
pub struct RenderedPage {
    /// The URL of the document shown, after redirects (HTTP or by script).
    pub final_url: Url,
    /// The HTTP status of that document, when the browser told us.
    pub status: Option<u16>,
    /// Doctype and `document.documentElement.outerHTML`, UTF-8 whatever the page declared.
    /// Empty when Chromium showed its own error page (an error status with an empty body).
    pub html: String,
}

/// A running headless Chromium. `Send + Sync`: share it (e.g. in an `Arc`) between threads.
///
/// Every method blocks; from async code, call them inside `spawn_blocking`. Any thread may
/// launch it: Chromium lives until the `Browser` is dropped, not until that thread ends.
/// Up to `tabs` threads render at once, each in a tab (target) of its own, kept between
/// renders.
pub struct Browser {
    // Fields drop in order: the connection closes, then Chromium is killed and reaped, then
    // its folder is removed (only once nothing can write there any more).
    connection: Connection,
    tabs: Tabs,
    options: BrowserOptions,
    #[cfg_attr(not(test), expect(dead_code, reason = "held for its Drop"))]
    process: Process,
    #[cfg_attr(not(test), expect(dead_code, reason = "held for its Drop"))]
    profile: Profile,
}

impl Browser {
    /// The executable to use, or None when no browser is installed.
    ///
    /// `CLAUSEWATCH_CHROMIUM` wins (the environment is the user's, the configured path
    /// comes from the archive's settings, docs/settings.md#programs), then the configured
    /// path, then the usual names on `PATH`. An environment or configured value that is not
    /// an executable gives `None` rather than a silent fallback to another browser. A bare
    /// name (no `/`) is looked up on `PATH`.
    pub fn find_executable(configured: Option<&Path>) -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(EXECUTABLE_ENV).filter(|v| !v.is_empty()) {
            return resolve_executable(Path::new(&path));
        }
        if let Some(path) = configured {
            return resolve_executable(path);
        }
        CANDIDATES
            .iter()
            .find_map(|name| search_path(Path::new(name)))
            .or_else(|| MAC_APPS.iter().map(PathBuf::from).find(|p| is_executable(p)))
    }

    /// Starts Chromium and connects to it.
    pub fn launch(options: BrowserOptions) -> Result<Browser, Failure> {
        Browser::launch_with_args(options, &[])
    }

    /// [`Browser::launch`] with extra command-line flags (tests map host names with them).
    fn launch_with_args(mut options: BrowserOptions, extra_args: &[&str]) -> Result<Browser, Failure> {
        options.timeout = options.timeout.min(MAX_WAIT);
        options.settle = options.settle.min(MAX_WAIT);
        options.tabs = options.tabs.max(1);
        let executable = Browser::find_executable(options.executable.as_deref()).ok_or_else(|| not_found(&options))?;
        let failed = |what: String| Failure::new(FailureKind::Browser, format!("{}: {what}", executable.display()));
        let profile = Profile::create().map_err(|e| failed(format!("cannot create a profile folder: {e}")))?;

        let mut command = Command::new(&executable);
        command
            .args(FLAGS)
            .arg(prefixed("--user-data-dir=", &profile.user_data()))
            .arg(format!("--user-agent={}", options.user_agent))
            .args(extra_args)
            // Chromium's temporary files and crash database land in our folder, so they go
            // when it goes (a crash handler otherwise writes to ~/.config/chromium).
            .env("TMPDIR", profile.tmp())
            .env("XDG_CONFIG_HOME", profile.config())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(lang) = language_tags(&options.accept_language).first() {
            command.arg(format!("--lang={lang}"));
        }
        die_with_us(&mut command);
        let (process, stderr) = Process::spawn(command, profile.root.clone())
            .map_err(|e| failed(format!("cannot start the browser: {e}")))?;

        let endpoint = devtools_endpoint(stderr).map_err(|e| failed(format!("cannot start the browser: {e}")))?;
        let endpoint = match endpoint.recv_timeout(LAUNCH_TIMEOUT) {
            Ok(Ok(endpoint)) => endpoint,
            Ok(Err(last_words)) => return Err(failed(format!("the browser exited at start: {last_words}"))),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(failed("the browser exited at start".into())),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(failed(format!(
                    "the browser did not open its DevTools endpoint within {LAUNCH_TIMEOUT:?}"
                )));
            }
        };
        let connected = Instant::now() + LAUNCH_TIMEOUT;
        let connection = Connection::connect(&endpoint, connected)
            .map_err(|e| failed(format!("cannot connect to the browser: {}", e.message())))?;
        // Tells us of crashed tabs (`Target.targetCrashed`), whatever their renderer did.
        connection
            .call(
                "Target.setDiscoverTargets",
                json!({ "discover": true }),
                None,
                connected,
            )
            .map_err(|e| failed(format!("cannot connect to the browser: {}", e.message())))?;
        Ok(Browser {
            connection,
            tabs: Tabs::new(options.tabs),
            options,
            process,
            profile,
        })
    }

    /// Renders a page: navigates, waits for the load event, for every selector in `wait_for`
    /// to match an element with text, and for the page to be done (see [`PageRun::settle`]),
    /// then serializes it.
    ///
    /// Loading and waiting are bounded by the timeout; settling and serializing may add up
    /// to the settle period and a second, and cleaning the tab afterwards (see
    /// [`Browser::reset`]) up to 5 s more. The tab is cleaned at once rather than before
    /// its next page: the page left open would go on running its scripts meanwhile.
    /// Selectors that never match are not an error here: the page is returned as it is
    /// and the canonicalizer reports the missing match. When every tab is taken, a render
    /// first waits for one, outside the timeout.
    pub fn render(&self, url: &Url, wait_for: &[String]) -> Result<RenderedPage, Failure> {
        guard::check_url(url, self.options.allow_private)?;
        let mut timeline = Timeline::start();
        let mut slot = self.tabs.take();
        timeline.mark("tab");
        if let Some(why) = self.connection.lost() {
            return Err(Failure::new(
                FailureKind::Browser,
                format!("{url}: the browser is gone ({why})"),
            ));
        }
        let deadline = Instant::now() + self.options.timeout;
        let tab = match slot.open.take() {
            Some(tab) => tab,
            None => {
                let tab = self
                    .open_tab(deadline)
                    .map_err(|e| cdp_failure(url, self.options.timeout, e))?;
                timeline.mark("open");
                tab
            }
        };
        let mut page = PageRun {
            timeline: &mut timeline,
            connection: &self.connection,
            tab: &tab,
            url,
            options: &self.options,
            deadline,
            response: None,
            loaded: HashSet::new(),
            loaded_at: None,
            blocked_navigation: None,
            in_flight: HashMap::new(),
            last_request: None,
            origins: BTreeSet::new(),
        };
        let outcome = page.run(wait_for);
        let origins = std::mem::take(&mut page.origins);
        // A tab whose page hung or crashed is closed (that also stops a hung page); any
        // other is cleaned for the next page, or closed if that fails.
        if !tab.broken.get() && self.reset(&tab, &origins).is_ok() {
            slot.open = Some(tab);
            timeline.mark("reset");
        } else {
            self.close_tab(tab);
            timeline.mark("close");
        }
        tracing::debug!(%url, ok = outcome.is_ok(), phases = %timeline, "rendered");
        outcome
    }

    /// Opens a tab: a browser context of its own (no cookies, storage or cache shared with
    /// other tabs), one page target in it, its events routed to the tab, and what every page
    /// needs set up once (events, interception, user agent, the page watcher).
    fn open_tab(&self, deadline: Instant) -> Result<OpenTab, CdpError> {
        let missing = |what: &str| CdpError::Protocol(format!("the browser gave no {what}"));
        let call = |method: &str, params: Value| self.connection.call(method, params, None, deadline);
        let context = call("Target.createBrowserContext", json!({}))?;
        let context = string_at(&context, "/browserContextId").ok_or_else(|| missing("context id"))?;
        let opened = (|| {
            // Downloads would otherwise be written to the user's Downloads folder.
            call(
                "Browser.setDownloadBehavior",
                json!({ "behavior": "deny", "browserContextId": context }),
            )?;
            let target = call(
                "Target.createTarget",
                json!({ "url": "about:blank", "browserContextId": context }),
            )?;
            let target = string_at(&target, "/targetId").ok_or_else(|| missing("target id"))?;
            let attached = call("Target.attachToTarget", json!({ "targetId": target, "flatten": true }))?;
            let session = string_at(&attached, "/sessionId").ok_or_else(|| missing("session id"))?;
            // Events and replies for this tab come to its own inbox from now on.
            let (outbox, inbox) = mpsc::channel();
            let route = self.connection.route(&session, &target, &outbox);
            let mut tab = OpenTab {
                context: context.clone(),
                session,
                main_frame: String::new(),
                outbox,
                inbox,
                _route: route,
                broken: Cell::new(false),
            };
            let languages = language_tags(&self.options.accept_language).join(",");
            // Paused requests are answered in `PageRun::on_event`: every request when private
            // addresses must be refused, else only those of the types a text does not need.
            let patterns: Vec<Value> = if self.options.allow_private {
                FILTERED_TYPES
                    .iter()
                    .map(|kind| json!({ "urlPattern": "*", "resourceType": kind }))
                    .collect()
            } else {
                vec![json!({ "urlPattern": "*" })]
            };
            // Sent at once, answered in order: one round trip instead of ten, which counts
            // on a loaded machine.
            let replies = tab.call_all(
                &self.connection,
                vec![
                    ("Page.getFrameTree", json!({})),
                    ("Page.enable", json!({})),
                    ("Page.setLifecycleEventsEnabled", json!({ "enabled": true })),
                    ("Inspector.enable", json!({})),
                    ("Network.enable", json!({})),
                    // Each page fetches what it needs afresh, as in a new browser, and no
                    // service worker left by an earlier page answers for the network.
                    ("Network.setCacheDisabled", json!({ "cacheDisabled": true })),
                    ("Network.setBypassServiceWorker", json!({ "bypass": true })),
                    ("Page.addScriptToEvaluateOnNewDocument", json!({ "source": WATCH_PAGE })),
                    (
                        "Emulation.setUserAgentOverride",
                        json!({ "userAgent": self.options.user_agent, "acceptLanguage": languages }),
                    ),
                    ("Fetch.enable", json!({ "patterns": patterns })),
                ],
                deadline,
            )?;
            tab.main_frame = replies
                .first()
                .and_then(|tree| string_at(tree, "/frameTree/frame/id"))
                .ok_or_else(|| missing("frame id"))?;
            Ok(tab)
        })();
        if opened.is_err() {
            self.dispose_context(&context);
        }
        opened
    }

    /// Makes a tab as good as new for the next page: leaves the page (its scripts stop),
    /// then clears what pages can leave behind: cookies (the whole context's), the storage
    /// of every origin a document of the page was loaded from (local and session storage,
    /// IndexedDB, cache storage, service workers, ...), and `window.name`, which outlives
    /// navigations. The HTTP cache is not used at all (see [`Browser::open_tab`]).
    ///
    /// Not cleared: storage written by cross-site frames, which run out of our sight in
    /// processes of their own. Browsers partition such storage by top-level site, so it
    /// reaches a later page only if that page is from the same site and embeds the same
    /// frame.
    fn reset(&self, tab: &OpenTab, origins: &BTreeSet<String>) -> Result<(), CdpError> {
        let deadline = Instant::now() + CLEANUP_TIMEOUT;
        tab.call_all(
            &self.connection,
            vec![("Page.navigate", json!({ "url": "about:blank" }))],
            deadline,
        )?;
        let mut commands = vec![("Runtime.evaluate", json!({ "expression": "window.name = ''" }))];
        commands.extend(origins.iter().map(|origin| {
            (
                "Storage.clearDataForOrigin",
                json!({ "origin": origin, "storageTypes": "all" }),
            )
        }));
        tab.call_all(&self.connection, commands, deadline)?;
        self.connection.call(
            "Storage.clearCookies",
            json!({ "browserContextId": tab.context }),
            None,
            deadline,
        )?;
        Ok(())
    }

    /// Closes a tab: disposing its context closes the page, stops a hung one, and frees
    /// its memory.
    fn close_tab(&self, tab: OpenTab) {
        self.dispose_context(&tab.context);
    }

    fn dispose_context(&self, context: &str) {
        let _ = self.connection.call(
            "Target.disposeBrowserContext",
            json!({ "browserContextId": context }),
            None,
            Instant::now() + CLEANUP_TIMEOUT,
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.connection.lost().is_none() {
            // A clean exit lets Chromium tidy up; the process group is killed right after anyway.
            let _ = self
                .connection
                .call("Browser.close", json!({}), None, Instant::now() + CLEANUP_TIMEOUT);
        }
    }
}

/// How long each phase of a render took, for the debug log: `tab 0ms, context 3ms, ...`.
struct Timeline {
    last: Instant,
    phases: Vec<(&'static str, Duration)>,
}

impl Timeline {
    fn start() -> Timeline {
        Timeline {
            last: Instant::now(),
            phases: Vec::new(),
        }
    }

    /// Ends a phase: the time since the previous mark goes to `phase`.
    fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.phases.push((phase, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (phase, took)) in self.phases.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            write!(f, "{separator}{phase} {}ms", took.as_millis())?;
        }
        Ok(())
    }
}

/// At most `tabs` renders at once, and the tabs kept open between them.
struct Tabs {
    pool: Mutex<TabPool>,
    freed: Condvar,
}

struct TabPool {
    /// Renders that may start now.
    free: usize,
    /// Tabs ready for their next page (at most `free`).
    idle: Vec<OpenTab>,
}

/// The right to render, taken from [`Tabs`], with the open tab to render in if there is
/// one; given back on drop, with `open` kept for the next render.
struct TabSlot<'a> {
    tabs: &'a Tabs,
    open: Option<OpenTab>,
}

impl Tabs {
    fn new(tabs: usize) -> Tabs {
        Tabs {
            pool: Mutex::new(TabPool {
                free: tabs,
                idle: Vec::new(),
            }),
            freed: Condvar::new(),
        }
    }

    fn take(&self) -> TabSlot<'_> {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        while pool.free == 0 {
            pool = self.freed.wait(pool).unwrap_or_else(PoisonError::into_inner);
        }
        pool.free -= 1;
        TabSlot {
            tabs: self,
            open: pool.idle.pop(),
        }
    }
}

impl Drop for TabSlot<'_> {
    fn drop(&mut self) {
        let mut pool = self.tabs.pool.lock().unwrap_or_else(PoisonError::into_inner);
        pool.free += 1;
        pool.idle.extend(self.open.take());
        drop(pool);
        self.tabs.freed.notify_one();
    }
}

/// A tab kept open between renders: a browser context of its own with one page target,
/// whose events come to `inbox`.
struct OpenTab {
    context: String,
    session: String,
    main_frame: String,
    /// Where the replies to this tab's commands are sent (its own inbox).
    outbox: mpsc::Sender<Incoming>,
    /// This tab's events and replies, routed here by the connection's reader.
    inbox: mpsc::Receiver<Incoming>,
    _route: Route,
    /// Set once the tab cannot be trusted with another page: its page timed out or
    /// crashed, or the connection failed.
    broken: Cell<bool>,
}

impl OpenTab {
    /// Sends commands without waiting between them, then waits for every reply, in order.
    /// For a tab between pages: requests paused meanwhile (the last page's, cut short) are
    /// failed, and other events dropped.
    fn call_all(
        &self,
        connection: &Connection,
        commands: Vec<(&str, Value)>,
        deadline: Instant,
    ) -> Result<Vec<Value>, CdpError> {
        let mut waiting = Vec::with_capacity(commands.len());
        for (method, params) in commands {
            let id = connection.send(method, params, Some(&self.session), Some(&self.outbox))?;
            waiting.push((id, method, None));
        }
        while waiting.iter().any(|(_, _, reply)| reply.is_none()) {
            let message = if Instant::now() < deadline {
                self.inbox.recv_timeout(remaining(deadline))
            } else {
                Err(mpsc::RecvTimeoutError::Timeout)
            };
            match message {
                Ok(Incoming::Reply { id, result }) => {
                    if let Some((_, method, reply)) = waiting.iter_mut().find(|(waited, _, _)| *waited == id) {
                        *reply = Some(result.map_err(|e| CdpError::Protocol(format!("{method}: {e}")))?);
                    }
                }
                Ok(Incoming::Event { method, params, .. }) => {
                    if method == "Fetch.requestPaused"
                        && let Some(request) = string_at(&params, "/requestId")
                    {
                        let params = json!({ "requestId": request, "errorReason": "Aborted" });
                        connection.send("Fetch.failRequest", params, Some(&self.session), None)?;
                    } else if method == "Inspector.targetCrashed" || method == "Target.targetCrashed" {
                        return Err(CdpError::Crashed);
                    }
                }
                Ok(Incoming::Lost(why)) => return Err(CdpError::Lost(why)),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    for (id, _, _) in waiting {
                        connection.forget(id);
                    }
                    return Err(CdpError::Timeout);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(CdpError::Lost("the DevTools connection is gone".into()));
                }
            }
        }
        Ok(waiting.into_iter().filter_map(|(_, _, reply)| reply).collect())
    }
}

/// One page being rendered: its session, and what its events have told so far.
struct PageRun<'a> {
    /// Where the render's time went, for the debug log.
    timeline: &'a mut Timeline,
    connection: &'a Connection,
    tab: &'a OpenTab,
    url: &'a Url,
    options: &'a BrowserOptions,
    deadline: Instant,
    /// Status and URL of the latest main-frame document response.
    response: Option<(u16, String)>,
    /// Loader ids of the main-frame documents that fired `load`.
    loaded: HashSet<String>,
    /// When the latest main-frame `load` came.
    loaded_at: Option<Instant>,
    /// A main-frame request failed because it went to a private address (a redirect).
    blocked_navigation: Option<String>,
    /// Requests under way, by request id, with when they started.
    in_flight: HashMap<String, Instant>,
    /// When the latest request started or ended.
    last_request: Option<Instant>,
    /// The origins documents of the page were loaded from (its own, redirects, frames):
    /// what [`Browser::reset`] clears.
    origins: BTreeSet<String>,
}

impl PageRun<'_> {
    fn run(&mut self, wait_for: &[String]) -> Result<RenderedPage, Failure> {
        // What the last page's leaving left in the inbox is not about this page.
        while let Ok(message) = self.tab.inbox.try_recv() {
            if let Incoming::Event { method, params, .. } = message
                && method == "Fetch.requestPaused"
                && let Some(request) = string_at(&params, "/requestId")
            {
                let params = json!({ "requestId": request, "errorReason": "Aborted" });
                self.connection
                    .send("Fetch.failRequest", params, Some(&self.tab.session), None)
                    .map_err(|e| self.failure(e))?;
            }
        }
        self.origins.extend(origin_of(self.url.as_str()));
        let navigation = self.call("Page.navigate", json!({ "url": self.url.as_str() }))?;
        if let Some(error) = string_at(&navigation, "/errorText").filter(|e| !e.is_empty()) {
            if let Some(target) = self.blocked_navigation.take() {
                return Err(guard::refused(&target));
            }
            // An error status with an empty body: Chromium shows its own error page, and the
            // status is what the caller needs.
            if error == "net::ERR_HTTP_RESPONSE_CODE_FAILURE"
                && let Some((status, url)) = self.response.clone()
            {
                return Ok(RenderedPage {
                    final_url: Url::parse(&url).unwrap_or_else(|_| self.url.clone()),
                    status: Some(status),
                    html: String::new(),
                });
            }
            return Err(net_failure(self.url, &error));
        }
        self.timeline.mark("navigate");
        // A page whose load event never comes (a request that hangs) is still taken once
        // the deadline passes: its text is usually there.
        if let Some(loader) = string_at(&navigation, "/loaderId") {
            while !self.loaded.contains(&loader) && self.pump(self.deadline)? {}
        }
        #[cfg(test)]
        if self.url.query() == Some(tests::CRASH_QUERY) {
            self.connection
                .send("Page.crash", json!({}), Some(&self.tab.session), None)
                .map_err(|e| self.failure(e))?;
        }
        self.timeline.mark("load");
        self.wait_for_selectors(wait_for)?;
        self.timeline.mark("selectors");
        self.settle()?;
        self.timeline.mark("settle");
        // A script or meta refresh sent the page to a private address, and Chromium now
        // shows its error page instead.
        if let Some(target) = self.blocked_navigation.take() {
            return Err(guard::refused(&target));
        }
        let page = self.serialize();
        self.timeline.mark("serialize");
        page
    }

    /// Polls until every selector matches or the deadline passes.
    fn wait_for_selectors(&mut self, selectors: &[String]) -> Result<(), Failure> {
        if selectors.is_empty() {
            return Ok(());
        }
        // JSON is a valid JavaScript literal, so the selectors need no other escaping.
        let expression = format!("({SELECTORS_MATCH})({})", Value::from(selectors));
        loop {
            if self.evaluate(&expression)?.and_then(|v| v.as_bool()) == Some(true) {
                return Ok(());
            }
            let next = Instant::now() + POLL;
            if next >= self.deadline {
                return Ok(());
            }
            self.pump_until(next)?;
        }
    }

    /// Waits until the page is done: no request under way (but for [`LONG_REQUEST`]s) and
    /// neither the DOM, nor the network, nor the load event for the settle period, counted
    /// from the last of them (which may be past already: the time spent waiting for
    /// selectors counts). When no timer, animation frame or idle callback of the page is
    /// due within the settle period either, [`QUIET_ENOUGH`] of quiet is enough: nothing
    /// left in sight could change the text. A page that never stops changing is taken at
    /// the deadline (at least one settle period from now).
    fn settle(&mut self) -> Result<(), Failure> {
        let needed = self.options.settle;
        let enough = QUIET_ENOUGH.min(needed);
        let until = self.deadline.max(Instant::now() + needed);
        let activity = PAGE_ACTIVITY
            .replace("WATCH;", &format!("{WATCH_PAGE};"))
            .replace("HORIZON", &needed.as_millis().to_string());
        loop {
            let now = Instant::now();
            let page = self.evaluate(&activity)?;
            let dom_quiet = page
                .as_ref()
                .and_then(|v| v.get("quiet"))
                .and_then(Value::as_f64)
                .filter(|ms| ms.is_finite() && *ms >= 0.0)
                .map_or(Duration::ZERO, |ms| Duration::from_secs_f64(ms / 1000.0));
            // Unknown (the page did not answer) counts as due.
            let callback_due = page.as_ref().and_then(|v| v.get("due")).and_then(Value::as_bool) != Some(false);
            let network_quiet = self.last_request.map_or(MAX_WAIT, |last| now.duration_since(last));
            // Work a page starts at load may not show as a pending callback (a timer given
            // as a string, a message to itself): the load event counts as activity.
            let load_quiet = self.loaded_at.map_or(MAX_WAIT, |load| now.duration_since(load));
            let quiet = dom_quiet.min(network_quiet).min(load_quiet);
            let waiting_on_network = self
                .in_flight
                .values()
                .any(|started| now.duration_since(*started) < LONG_REQUEST);
            // Nothing pending that could change the text within a settle period: the short
            // quiet window is enough. Otherwise the whole period, as a page that is still
            // working looks.
            let wanted = if callback_due { needed } else { enough };
            if (quiet >= wanted && !waiting_on_network) || now >= until {
                return Ok(());
            }
            let wake = if waiting_on_network {
                POLL
            } else {
                wanted.saturating_sub(quiet).min(POLL)
            };
            self.pump_until((now + wake.max(Duration::from_millis(5))).min(until))?;
        }
    }

    fn serialize(&mut self) -> Result<RenderedPage, Failure> {
        let until = self.deadline.max(Instant::now() + EVAL_GRACE);
        let value = loop {
            if let Some(value) = self.evaluate(SERIALIZE)? {
                break value;
            }
            // The document was being replaced; ask the next one.
            if Instant::now() + POLL >= until {
                return Err(Failure::new(
                    FailureKind::Browser,
                    format!("{}: the page could not be serialized", self.url),
                ));
            }
            self.pump_until(Instant::now() + POLL)?;
        };
        let Some(html) = value.get("html").and_then(Value::as_str) else {
            return Err(Failure::new(
                FailureKind::Browser,
                format!("{}: the page could not be serialized", self.url),
            ));
        };
        let page_status = value
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|&s| s > 0);
        let page_url = value
            .get("url")
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok());
        let (status, final_url) = match &self.response {
            Some((status, url)) => (Some(*status), Url::parse(url).ok()),
            None => (page_status, None),
        };
        Ok(RenderedPage {
            final_url: final_url.or(page_url).unwrap_or_else(|| self.url.clone()),
            status,
            html: html.to_string(),
        })
    }

    /// Evaluates an expression in the page. `None` when the page could not answer (its
    /// document was being replaced, or the script threw); an error when it did not answer
    /// in time (a page busy in a script) or the browser is gone.
    fn evaluate(&mut self, expression: &str) -> Result<Option<Value>, Failure> {
        let deadline = self.deadline.max(Instant::now() + EVAL_GRACE);
        let params = json!({ "expression": expression, "returnByValue": true });
        match self.call_until("Runtime.evaluate", params, deadline) {
            Ok(reply) if reply.get("exceptionDetails").is_none() => Ok(reply.pointer("/result/value").cloned()),
            Ok(_) | Err(CdpError::Protocol(_)) => Ok(None),
            Err(e) => Err(self.failure(e)),
        }
    }

    /// The failure for a protocol error. An error other than the browser's answer leaves
    /// the tab in doubt (a page that hangs or crashed, a lost connection): it is closed
    /// after this render rather than given another page.
    fn failure(&self, error: CdpError) -> Failure {
        if !matches!(error, CdpError::Protocol(_)) {
            self.tab.broken.set(true);
        }
        cdp_failure(self.url, self.options.timeout, error)
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value, Failure> {
        self.call_until(method, params, self.deadline)
            .map_err(|e| self.failure(e))
    }

    /// Sends a command to the page and waits for its reply, handling events meanwhile
    /// (paused requests must be answered, or the reply may never come).
    fn call_until(&mut self, method: &str, params: Value, deadline: Instant) -> Result<Value, CdpError> {
        let id = self
            .connection
            .send(method, params, Some(&self.tab.session), Some(&self.tab.outbox))?;
        loop {
            match self.next(deadline) {
                Some(Incoming::Reply { id: got, result }) if got == id => {
                    return result.map_err(|e| CdpError::Protocol(format!("{method}: {e}")));
                }
                Some(Incoming::Event { method, params, .. }) => self.on_event(&method, &params)?,
                Some(Incoming::Lost(why)) => return Err(CdpError::Lost(why)),
                // The late reply to a command that timed out.
                Some(Incoming::Reply { .. }) => {}
                None => {
                    self.connection.forget(id);
                    return Err(CdpError::Timeout);
                }
            }
        }
    }

    /// The next message for this page, or `None` once `until` has passed.
    fn next(&self, until: Instant) -> Option<Incoming> {
        if Instant::now() >= until {
            return None;
        }
        match self.tab.inbox.recv_timeout(remaining(until)) {
            Ok(message) => Some(message),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => Some(Incoming::Lost("the DevTools connection is gone".into())),
        }
    }

    /// Handles events until `until`.
    fn pump_until(&mut self, until: Instant) -> Result<(), Failure> {
        while self.pump(until)? {}
        Ok(())
    }

    /// Handles the next message; false once `until` has passed.
    fn pump(&mut self, until: Instant) -> Result<bool, Failure> {
        match self.next(until) {
            Some(Incoming::Event { method, params, .. }) => {
                self.on_event(&method, &params).map_err(|e| self.failure(e))?;
                Ok(true)
            }
            Some(Incoming::Lost(why)) => Err(self.failure(CdpError::Lost(why))),
            Some(Incoming::Reply { .. }) => Ok(true),
            None => Ok(false),
        }
    }

    fn on_event(&mut self, method: &str, params: &Value) -> Result<(), CdpError> {
        let in_main_frame = || params.get("frameId").and_then(Value::as_str) == Some(&self.tab.main_frame);
        match method {
            "Fetch.requestPaused" => {
                let Some(request) = string_at(params, "/requestId") else {
                    return Ok(());
                };
                let target = string_at(params, "/request/url").unwrap_or_default();
                let kind = string_at(params, "/resourceType").unwrap_or_default();
                let private =
                    !self.options.allow_private && Url::parse(&target).is_ok_and(|u| guard::is_private_host(&u));
                let (command, params) = if private {
                    if kind == "Document" && in_main_frame() {
                        self.blocked_navigation = Some(target);
                    }
                    let params = json!({ "requestId": request, "errorReason": "BlockedByClient" });
                    ("Fetch.failRequest", params)
                } else if REFUSED_TYPES.contains(&kind.as_str()) {
                    let params = json!({ "requestId": request, "errorReason": "BlockedByClient" });
                    ("Fetch.failRequest", params)
                } else if EMPTIED_TYPES.contains(&kind.as_str()) {
                    let headers = [json!({ "name": "Content-Type", "value": "text/css" })];
                    let params =
                        json!({ "requestId": request, "responseCode": 200, "responseHeaders": headers, "body": "" });
                    ("Fetch.fulfillRequest", params)
                } else {
                    ("Fetch.continueRequest", json!({ "requestId": request }))
                };
                self.connection.send(command, params, Some(&self.tab.session), None)?;
            }
            "Network.requestWillBeSent" => {
                // Not the page's activity: streams, and what the browser asks for itself
                // (the favicon, after load).
                let kind = string_at(params, "/type");
                let by_browser = kind.as_deref() == Some("Other")
                    && string_at(params, "/initiator/type").as_deref() == Some("other");
                if kind.as_deref() == Some("Document")
                    && let Some(url) = params.pointer("/request/url").and_then(Value::as_str)
                {
                    self.origins.extend(origin_of(url));
                }
                // A redirect keeps its request id: the request is still the one under way.
                if let Some(request) = string_at(params, "/requestId")
                    && kind.as_deref() != Some("EventSource")
                    && !by_browser
                {
                    let now = Instant::now();
                    self.in_flight.entry(request).or_insert(now);
                    self.last_request = Some(now);
                }
            }
            "Network.loadingFinished" | "Network.loadingFailed" => {
                if let Some(request) = string_at(params, "/requestId")
                    && self.in_flight.remove(&request).is_some()
                {
                    self.last_request = Some(Instant::now());
                }
            }
            "Network.responseReceived"
                if string_at(params, "/type").as_deref() == Some("Document") && in_main_frame() =>
            {
                let status = params.pointer("/response/status").and_then(Value::as_u64);
                if let (Some(status), Some(url)) = (
                    status.and_then(|s| u16::try_from(s).ok()),
                    string_at(params, "/response/url"),
                ) {
                    self.response = Some((status, url));
                }
            }
            "Page.lifecycleEvent" if string_at(params, "/name").as_deref() == Some("load") && in_main_frame() => {
                if let Some(loader) = string_at(params, "/loaderId") {
                    self.loaded.insert(loader);
                    self.loaded_at = Some(Instant::now());
                }
            }
            "Inspector.targetCrashed" | "Target.targetCrashed" => {
                return Err(CdpError::Crashed);
            }
            _ => {}
        }
        Ok(())
    }
}

/// A DevTools protocol connection shared by every page: commands go out under a lock, and
/// a reader thread routes what comes in: replies by id to whoever waits for them, events
/// by session (CDP's flattened sessions: `sessionId` on every message of a page) to that
/// page's inbox.
///
/// The socket is read and written through two handles: a blocking read must not hold up
/// a write. Only the reader answers control frames; Chromium sends no pings, and a close
/// comes when nothing else is written.
struct Connection {
    writer: Mutex<WebSocket<TcpStream>>,
    routes: Arc<Mutex<Routes>>,
    next_id: AtomicU64,
    /// Shut down on drop, which ends the reader's blocking read.
    stream: TcpStream,
    reader: Option<thread::JoinHandle<()>>,
}

/// Who waits for what.
#[derive(Default)]
struct Routes {
    /// Replies by command id.
    replies: HashMap<u64, mpsc::Sender<Incoming>>,
    /// Events by session id.
    sessions: HashMap<String, mpsc::Sender<Incoming>>,
    /// Session ids by target id, for the browser's `Target.targetCrashed`.
    targets: HashMap<String, String>,
    /// Why the connection is unusable, once it is: Chromium exited or crashed.
    lost: Option<String>,
}

/// A message from the browser.
enum Incoming {
    Reply {
        id: u64,
        result: Result<Value, String>,
    },
    Event {
        method: String,
        params: Value,
        session: Option<String>,
    },
    /// The connection is gone (sent by the reader to everyone waiting).
    Lost(String),
}

#[derive(Debug)]
enum CdpError {
    /// No answer before the deadline; the connection is still usable.
    Timeout,
    /// The browser answered with an error.
    Protocol(String),
    /// The connection is gone.
    Lost(String),
    /// The page's renderer crashed; the browser goes on.
    Crashed,
}

impl CdpError {
    fn message(&self) -> String {
        match self {
            CdpError::Timeout => "no answer in time".into(),
            CdpError::Crashed => "the page crashed".into(),
            CdpError::Protocol(message) | CdpError::Lost(message) => message.clone(),
        }
    }
}

/// The wire form of every message; which fields are set tells replies from events.
#[derive(Deserialize)]
struct RawMessage {
    id: Option<u64>,
    result: Option<Value>,
    error: Option<RawError>,
    method: Option<String>,
    params: Option<Value>,
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

#[derive(Deserialize)]
struct RawError {
    message: String,
}

/// Removes a tab's routes when it closes, however it closes.
struct Route {
    routes: Arc<Mutex<Routes>>,
    session: String,
    target: String,
}

impl Drop for Route {
    fn drop(&mut self) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        routes.sessions.remove(&self.session);
        routes.targets.remove(&self.target);
    }
}

impl Connection {
    fn connect(endpoint: &str, deadline: Instant) -> Result<Connection, CdpError> {
        let lost = |e: &dyn std::fmt::Display| CdpError::Lost(format!("{endpoint}: {e}"));
        let url = Url::parse(endpoint).map_err(|e| lost(&e))?;
        let address = url
            .socket_addrs(|| None)
            .map_err(|e| lost(&e))?
            .into_iter()
            .next()
            .ok_or_else(|| lost(&"no address"))?;
        let stream = TcpStream::connect_timeout(&address, remaining(deadline)).map_err(|e| lost(&e))?;
        stream.set_nodelay(true).map_err(|e| lost(&e))?;
        // Bounds the handshake. Writes are small and Chromium reads them at once, unless it
        // hangs: then the write timeout ends the wait.
        stream
            .set_read_timeout(Some(remaining(deadline)))
            .map_err(|e| lost(&e))?;
        stream.set_write_timeout(Some(CLEANUP_TIMEOUT)).map_err(|e| lost(&e))?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let writer_stream = stream.try_clone().map_err(|e| lost(&e))?;
        let shutdown = stream.try_clone().map_err(|e| lost(&e))?;
        let (reader, _) =
            tungstenite::client::client_with_config(endpoint, stream, Some(config)).map_err(|e| lost(&e))?;
        // The reader waits as long as it takes; dropping the connection wakes it.
        reader.get_ref().set_read_timeout(None).map_err(|e| lost(&e))?;
        let writer = WebSocket::from_raw_socket(writer_stream, Role::Client, Some(config));
        let routes = Arc::new(Mutex::new(Routes::default()));
        let reader = {
            let routes = Arc::clone(&routes);
            thread::Builder::new()
                .name("chromium-devtools".into())
                .spawn(move || read_all(reader, &routes))
                .map_err(|e| lost(&e))?
        };
        Ok(Connection {
            writer: Mutex::new(writer),
            routes,
            next_id: AtomicU64::new(0),
            stream: shutdown,
            reader: Some(reader),
        })
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why the connection is gone, if it is.
    fn lost(&self) -> Option<String> {
        self.routes().lost.clone()
    }

    /// Sends a command without waiting; its reply goes to `reply_to`, or nowhere.
    fn send(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
        reply_to: Option<&mpsc::Sender<Incoming>>,
    ) -> Result<u64, CdpError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        {
            let mut routes = self.routes();
            if let Some(why) = &routes.lost {
                return Err(CdpError::Lost(why.clone()));
            }
            if let Some(reply_to) = reply_to {
                routes.replies.insert(id, reply_to.clone());
            }
        }
        let mut message = serde_json::Map::new();
        message.insert("id".into(), id.into());
        message.insert("method".into(), method.into());
        message.insert("params".into(), params);
        if let Some(session) = session {
            message.insert("sessionId".into(), session.into());
        }
        let text = Value::Object(message).to_string();
        let sent = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(Message::text(text));
        if let Err(e) = sent {
            let why = format!("sending {method} failed: {e}");
            lose(&self.routes, &why);
            return Err(CdpError::Lost(why));
        }
        Ok(id)
    }

    /// Stops routing the reply to a command nobody waits for any more.
    fn forget(&self, id: u64) {
        self.routes().replies.remove(&id);
    }

    /// Sends a command and waits for its reply. For browser-level commands and pages not
    /// yet routed: nothing else comes to the private inbox this uses.
    fn call(&self, method: &str, params: Value, session: Option<&str>, deadline: Instant) -> Result<Value, CdpError> {
        let (outbox, inbox) = mpsc::channel();
        let id = self.send(method, params, session, Some(&outbox))?;
        let reply = if Instant::now() < deadline {
            inbox.recv_timeout(remaining(deadline))
        } else {
            Err(mpsc::RecvTimeoutError::Timeout)
        };
        match reply {
            Ok(Incoming::Reply { result, .. }) => result.map_err(|e| CdpError::Protocol(format!("{method}: {e}"))),
            Ok(Incoming::Lost(why)) => Err(CdpError::Lost(why)),
            Ok(Incoming::Event { .. }) | Err(mpsc::RecvTimeoutError::Timeout) => {
                self.forget(id);
                Err(CdpError::Timeout)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(CdpError::Lost("the DevTools connection is gone".into())),
        }
    }

    /// Routes a tab's events (and its crash) to `inbox` until the returned guard drops.
    fn route(&self, session: &str, target: &str, inbox: &mpsc::Sender<Incoming>) -> Route {
        let mut routes = self.routes();
        routes.sessions.insert(session.to_string(), inbox.clone());
        routes.targets.insert(target.to_string(), session.to_string());
        if let Some(why) = &routes.lost {
            let _ = inbox.send(Incoming::Lost(why.clone()));
        }
        Route {
            routes: Arc::clone(&self.routes),
            session: session.to_string(),
            target: target.to_string(),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The reader thread: routes every message until the connection ends, then tells everyone
/// waiting.
fn read_all(mut socket: WebSocket<TcpStream>, routes: &Mutex<Routes>) {
    let why = loop {
        let message = match socket.read() {
            Ok(Message::Text(text)) => parse_message(text.as_bytes()),
            Ok(Message::Binary(bytes)) => parse_message(&bytes),
            Ok(Message::Close(_)) => break "the browser closed the DevTools connection".to_string(),
            Ok(_) => None,
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) =>
            {
                None
            }
            Err(e) => break format!("the DevTools connection failed: {e}"),
        };
        // A message that is not CDP is skipped; whoever waited for it times out.
        if let Some(message) = message {
            dispatch(routes, message);
        }
    };
    lose(routes, &why);
}

fn dispatch(routes: &Mutex<Routes>, message: Incoming) {
    let mut routes = routes.lock().unwrap_or_else(PoisonError::into_inner);
    match message {
        Incoming::Reply { id, .. } => {
            if let Some(waiting) = routes.replies.remove(&id) {
                let _ = waiting.send(message);
            }
        }
        Incoming::Event {
            session: Some(ref session),
            ..
        } => {
            if let Some(page) = routes.sessions.get(session) {
                let _ = page.send(message);
            }
        }
        // A renderer that crashed: the browser says so, whatever the page could.
        Incoming::Event {
            ref method,
            ref params,
            session: None,
        } if method == "Target.targetCrashed" => {
            let page = string_at(params, "/targetId")
                .and_then(|target| routes.targets.get(&target))
                .and_then(|session| routes.sessions.get(session));
            if let Some(page) = page {
                let _ = page.send(message);
            }
        }
        Incoming::Event { .. } | Incoming::Lost(_) => {}
    }
}

/// Marks the connection lost and tells everyone waiting.
fn lose(routes: &Mutex<Routes>, why: &str) {
    let mut routes = routes.lock().unwrap_or_else(PoisonError::into_inner);
    if routes.lost.is_none() {
        routes.lost = Some(why.to_string());
    }
    let mut waiting: Vec<_> = routes.replies.drain().map(|(_, sender)| sender).collect();
    waiting.extend(routes.sessions.values().cloned());
    for sender in waiting {
        let _ = sender.send(Incoming::Lost(why.to_string()));
    }
}

fn parse_message(bytes: &[u8]) -> Option<Incoming> {
    let raw: RawMessage = serde_json::from_slice(bytes).ok()?;
    if let Some(id) = raw.id {
        let result = match raw.error {
            Some(error) => Err(error.message),
            None => Ok(raw.result.unwrap_or(Value::Null)),
        };
        return Some(Incoming::Reply { id, result });
    }
    Some(Incoming::Event {
        method: raw.method?,
        params: raw.params.unwrap_or(Value::Null),
        session: raw.session_id,
    })
}

/// Time left until `deadline`, at least a millisecond (a zero timeout means "none" to std).
fn remaining(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// `scheme://host:port` of a URL; `None` for opaque origins (`about:`, `data:`), which
/// have no storage to clear.
fn origin_of(url: &str) -> Option<String> {
    let origin = Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

fn string_at(value: &Value, pointer: &str) -> Option<String> {
    value.pointer(pointer).and_then(Value::as_str).map(str::to_string)
}

fn cdp_failure(url: &Url, timeout: Duration, error: CdpError) -> Failure {
    match error {
        CdpError::Timeout => Failure::new(
            FailureKind::Timeout,
            format!("{url}: the page did not render within {timeout:?}"),
        ),
        CdpError::Crashed => Failure::new(
            FailureKind::Browser,
            format!("{url}: the page crashed (out of memory?)"),
        ),
        CdpError::Protocol(message) | CdpError::Lost(message) => {
            Failure::new(FailureKind::Browser, format!("{url}: {message}"))
        }
    }
}

/// Maps Chromium's network error (`net::ERR_...`) onto the category the HTTP fetcher uses.
fn net_failure(url: &Url, error: &str) -> Failure {
    let code = error.trim_start_matches("net::");
    let kind = match code {
        "ERR_NAME_NOT_RESOLVED" | "ERR_NAME_RESOLUTION_FAILED" => FailureKind::Dns,
        _ if code.starts_with("ERR_DNS_") => FailureKind::Dns,
        _ if code.starts_with("ERR_CERT_") || code.starts_with("ERR_SSL_") => FailureKind::Tls,
        "ERR_BAD_SSL_CLIENT_AUTH_CERT" => FailureKind::Tls,
        "ERR_TIMED_OUT" | "ERR_CONNECTION_TIMED_OUT" => FailureKind::Timeout,
        "ERR_TOO_MANY_REDIRECTS" | "ERR_UNSAFE_REDIRECT" | "ERR_INVALID_REDIRECT" => FailureKind::Redirect,
        "ERR_CONNECTION_REFUSED"
        | "ERR_CONNECTION_RESET"
        | "ERR_CONNECTION_CLOSED"
        | "ERR_CONNECTION_ABORTED"
        | "ERR_CONNECTION_FAILED"
        | "ERR_EMPTY_RESPONSE"
        | "ERR_ADDRESS_UNREACHABLE"
        | "ERR_NETWORK_CHANGED"
        | "ERR_INTERNET_DISCONNECTED"
        | "ERR_SOCKET_NOT_CONNECTED"
        | "ERR_INVALID_HTTP_RESPONSE"
        | "ERR_INCOMPLETE_CHUNKED_ENCODING"
        | "ERR_CONTENT_LENGTH_MISMATCH" => FailureKind::Connection,
        _ if code.starts_with("ERR_PROXY_") || code.starts_with("ERR_HTTP2_") => FailureKind::Connection,
        _ => FailureKind::Browser,
    };
    let hint = if code == "ERR_ABORTED" {
        " (a download, or a document the browser does not show?)"
    } else {
        ""
    };
    Failure::new(kind, format!("{url}: {error}{hint}"))
}

fn not_found(options: &BrowserOptions) -> Failure {
    let what = match (std::env::var_os(EXECUTABLE_ENV), &options.executable) {
        (Some(value), _) if !value.is_empty() => {
            format!("{EXECUTABLE_ENV}={} is not an executable", value.to_string_lossy())
        }
        (_, Some(path)) => format!("the configured browser {} is not an executable", path.display()),
        _ => format!(
            "no Chrome or Chromium found on PATH (looked for {})",
            CANDIDATES.join(", ")
        ),
    };
    Failure::new(
        FailureKind::Browser,
        format!(
            "{what}; install Chromium: apt-get install chromium, or set CLAUSEWATCH_CHROMIUM to a Chrome/Chromium binary"
        ),
    )
}

/// Where macOS keeps the browsers, for developers' machines.
#[cfg(target_os = "macos")]
const MAC_APPS: &[&str] = &[
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
];
#[cfg(not(target_os = "macos"))]
const MAC_APPS: &[&str] = &[];

/// A bare name is looked up on `PATH`, as a shell would; a path is taken as it is.
/// `None` when that finds no executable file.
pub fn resolve_executable(path: &Path) -> Option<PathBuf> {
    if path.components().count() == 1 && path.is_relative() {
        search_path(path)
    } else {
        is_executable(path).then(|| path.to_path_buf())
    }
}

fn search_path(name: &Path) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        metadata.is_file()
    }
}

/// `["en-US", "en"]` from `en-US,en;q=0.9`: Chromium takes the tags and adds q-values itself.
fn language_tags(accept_language: &str) -> Vec<&str> {
    accept_language
        .split(',')
        .filter_map(|item| item.split(';').next())
        .map(str::trim)
        .filter(|tag| !tag.is_empty() && *tag != "*")
        .collect()
}

fn prefixed(prefix: &str, path: &Path) -> OsString {
    let mut arg = OsString::from(prefix);
    arg.push(path);
    arg
}

/// Makes the child lead its own process group (so its helpers can be killed with it) and,
/// on Linux, get SIGKILL when the thread that spawned it ends, even if we are killed.
fn die_with_us(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id();
        // SAFETY: the closure runs between fork and exec, where only async-signal-safe calls
        // are allowed: prctl and getppid are, and nothing here allocates.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(io::Error::last_os_error());
                }
                // We may have died between fork and prctl; then no signal would ever come.
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
}

/// Reads Chromium's stderr for the `DevTools listening on ws://...` line and sends it, or
/// Chromium's last words if it exits first. Goes on draining stderr afterwards: a full pipe
/// would stall Chromium.
fn devtools_endpoint(stderr: ChildStderr) -> io::Result<mpsc::Receiver<Result<String, String>>> {
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new().name("chromium-stderr".into()).spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut last_words = VecDeque::new();
        let mut line = Vec::new();
        let mut found = false;
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            if !found {
                let text = String::from_utf8_lossy(&line).trim().to_string();
                if let Some(endpoint) = text.strip_prefix("DevTools listening on ") {
                    found = true;
                    let _ = sender.send(Ok(endpoint.trim().to_string()));
                } else if !text.is_empty() {
                    if last_words.len() == 5 {
                        last_words.pop_front();
                    }
                    last_words.push_back(text);
                }
            }
            line.clear();
        }
        if !found {
            let _ = sender.send(Err(Vec::from(last_words).join(" | ")));
        }
    })?;
    Ok(receiver)
}

/// The Chromium process, spawned and kept by a thread of its own.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that spawned the child ends, not the process.
/// Spawned from the caller's thread, Chromium would be killed when that thread ends, such
/// as a tokio blocking-pool thread retiring after 10 idle seconds; the keeper thread lives
/// exactly as long as this value.
struct Process {
    #[cfg_attr(not(test), expect(dead_code, reason = "tests look for its process group"))]
    pid: u32,
    /// Dropping this tells the keeper to kill and reap Chromium.
    stop: Option<mpsc::Sender<()>>,
    keeper: Option<thread::JoinHandle<()>>,
}

impl Process {
    fn spawn(mut command: Command, folder: PathBuf) -> io::Result<(Process, ChildStderr)> {
        let (ready, started) = mpsc::channel();
        let (stop, stopped) = mpsc::channel::<()>();
        let keeper = thread::Builder::new().name("chromium".into()).spawn(move || {
            let mut child = match command.spawn() {
                Ok(child) => child,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            let stderr = child.stderr.take();
            let _ = ready.send(Ok((child.id(), stderr)));
            // Returns when the sender is dropped.
            let _ = stopped.recv();
            terminate(&mut child, &folder);
        })?;
        let (pid, stderr) = match started.recv() {
            Ok(Ok(started)) => started,
            Ok(Err(e)) => {
                let _ = keeper.join();
                return Err(e);
            }
            Err(_) => {
                let _ = keeper.join();
                return Err(io::Error::other("the keeper thread ended early"));
            }
        };
        let process = Process {
            pid,
            stop: Some(stop),
            keeper: Some(keeper),
        };
        // Always there (stderr is piped); if not, dropping `process` kills Chromium.
        let stderr = stderr.ok_or_else(|| io::Error::other("no stderr pipe"))?;
        Ok((process, stderr))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
    }
}

/// Kills Chromium's process group and its crash handlers, and reaps Chromium.
fn terminate(child: &mut Child, folder: &Path) {
    #[cfg(unix)]
    if let Ok(group) = libc::pid_t::try_from(child.id()) {
        // Crash handlers leave the group (they daemonize) but name our folder in their
        // arguments; unkilled they linger a few seconds after Chromium.
        let strays = leftovers(group, folder);
        // SAFETY: plain syscalls on ids we own: the group Chromium leads (it cannot be reused
        // while its leader is unreaped) and processes naming our private folder.
        unsafe {
            libc::killpg(group, libc::SIGKILL);
            for &pid in &strays {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        let _ = child.wait();
        // The helpers are not our children; wait briefly until they are gone, so nothing of
        // ours runs once the browser is dropped.
        let give_up = Instant::now() + Duration::from_secs(2);
        while Instant::now() < give_up && !leftovers(group, folder).is_empty() {
            thread::sleep(Duration::from_millis(10));
        }
        return;
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Running processes (not zombies) in Chromium's process group or naming our folder on
/// their command line (Linux; elsewhere none are found).
#[cfg(target_os = "linux")]
fn leftovers(group: libc::pid_t, folder: &Path) -> Vec<libc::pid_t> {
    // With the slash, `...-1/` does not also match a sibling browser's `...-10/`.
    let needle = folder.to_str().filter(|s| !s.is_empty()).map(|s| format!("{s}/"));
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let ours = std::process::id();
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: libc::pid_t = entry.file_name().to_str()?.parse().ok()?;
            let stat = proc_stat(pid)?;
            if stat.state == 'Z' || u32::try_from(pid).ok() == Some(ours) {
                return None;
            }
            let names_folder = || {
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                needle
                    .as_ref()
                    .is_some_and(|n| String::from_utf8_lossy(&cmdline).contains(n.as_str()))
            };
            (stat.group == group || names_folder()).then_some(pid)
        })
        .collect()
}

#[cfg(all(unix, not(target_os = "linux")))]
fn leftovers(_group: libc::pid_t, _folder: &Path) -> Vec<libc::pid_t> {
    Vec::new()
}

/// The fields of `/proc/PID/stat` we need.
#[cfg(target_os = "linux")]
struct ProcStat {
    state: char,
    #[cfg_attr(not(test), expect(dead_code, reason = "tests look for zombies of ours"))]
    parent: libc::pid_t,
    group: libc::pid_t,
}

#[cfg(target_os = "linux")]
fn proc_stat(pid: libc::pid_t) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    Some(ProcStat { state, parent, group })
}

/// Names our folders in the temporary directory: the prefix, our pid, a counter.
const PROFILE_PREFIX: &str = "clausewatch-chromium-";

/// Whether a process with this id exists (on other systems than Unix: assumed so).
fn process_exists(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 sends nothing; it only checks that the process exists. EPERM
        // means it exists but is someone else's.
        unsafe { libc::kill(pid, 0) == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// A fresh private folder for one Chromium: `profile/` (its user data), `tmp/` (its TMPDIR)
/// and `config/` (its XDG_CONFIG_HOME, where the crash database goes). Removed on drop.
struct Profile {
    root: PathBuf,
}

impl Profile {
    fn create() -> io::Result<Profile> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        if NEXT.load(Ordering::Relaxed) == 0 {
            Profile::remove_stale();
        }
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        let mut attempts = 0;
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let root = std::env::temp_dir().join(format!("{PROFILE_PREFIX}{}-{n}", std::process::id()));
            // `create` fails on an existing folder (left by a dead process with our pid):
            // try the next name rather than share it.
            match builder.create(&root) {
                Ok(()) => {
                    let profile = Profile { root };
                    for sub in [profile.user_data(), profile.tmp(), profile.config()] {
                        builder.create(sub)?;
                    }
                    return Ok(profile);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => attempts += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Removes the folders of runs that were killed before they could (`PROFILE_PREFIX`,
    /// then the pid of a process that no longer exists).
    fn remove_stale() {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(PROFILE_PREFIX))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if pid != std::process::id() && !process_exists(pid) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    fn user_data(&self) -> PathBuf {
        self.root.join("profile")
    }

    fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn config(&self) -> PathBuf {
        self.root.join("config")
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    use super::*;

    /// A response of the test server.
    struct Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    }

    fn html(body: &str) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type", "text/html; charset=utf-8".into())],
            body: body.into(),
        }
    }

    /// A request as the test server saw it: path and lowercase header names.
    #[derive(Debug, Clone)]
    struct Seen {
        path: String,
        headers: Vec<(String, String)>,
    }

    /// A tiny HTTP/1.1 server on 127.0.0.1 (one thread per connection, `Connection: close`).
    struct TestServer {
        port: u16,
        seen: Arc<Mutex<Vec<Seen>>>,
        stop: Arc<AtomicBool>,
    }

    impl TestServer {
        fn start(handler: impl Fn(&str, u16) -> Reply + Send + Sync + 'static) -> TestServer {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let seen = Arc::new(Mutex::new(Vec::new()));
            let stop = Arc::new(AtomicBool::new(false));
            let handler = Arc::new(handler);
            let (seen2, stop2) = (seen.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (handler, seen) = (handler.clone(), seen2.clone());
                    // Chromium opens spare connections that never send a request: one
                    // thread each, so they cannot hold up the others.
                    thread::spawn(move || serve(stream, port, &*handler, &seen));
                }
            });
            TestServer { port, seen, stop }
        }

        fn url(&self, path: &str) -> Url {
            Url::parse(&format!("http://127.0.0.1:{}{path}", self.port)).unwrap()
        }

        fn seen(&self) -> Vec<Seen> {
            self.seen.lock().unwrap().clone()
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            // Wakes the accept loop so it sees the flag.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
        }
    }

    fn serve(mut stream: TcpStream, port: u16, handler: &dyn Fn(&str, u16) -> Reply, seen: &Mutex<Vec<Seen>>) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buffer[..n]),
            }
        }
        let request = String::from_utf8_lossy(&request);
        let mut lines = request.lines();
        let Some(path) = lines.next().and_then(|line| line.split(' ').nth(1)) else {
            return;
        };
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        seen.lock().unwrap().push(Seen {
            path: path.to_string(),
            headers,
        });
        let reply = handler(path, port);
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
            reply.status,
            reply.body.len()
        );
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(reply.body.as_bytes());
    }

    fn test_options() -> BrowserOptions {
        BrowserOptions {
            allow_private: true,
            timeout: Duration::from_secs(10),
            settle: Duration::from_millis(200),
            ..BrowserOptions::default()
        }
    }

    /// A launched browser, or `None` (with a note) where none is installed.
    fn launch(options: BrowserOptions, extra_args: &[&str]) -> Option<Browser> {
        if Browser::find_executable(options.executable.as_deref()).is_none() {
            eprintln!("skipped: no Chrome/Chromium installed (apt-get install chromium, or set CLAUSEWATCH_CHROMIUM)");
            return None;
        }
        Some(Browser::launch_with_args(options, extra_args).expect("Chromium is installed but does not launch"))
    }

    /// A query that makes a test page crash its renderer once loaded (see `PageRun::run`).
    pub(super) const CRASH_QUERY: &str = "clausewatch-test-crash";

    #[test]
    fn pages_render_in_parallel_tabs() {
        // Each page is answered after 800 ms, so that renders one after the other could
        // not overlap.
        let server = TestServer::start(|path, _| {
            thread::sleep(Duration::from_millis(800));
            html(&format!("<html><body><p>Page {path}</p></body></html>"))
        });
        let options = BrowserOptions {
            tabs: 4,
            ..test_options()
        };
        let Some(browser) = launch(options, &[]) else { return };
        let spans = thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let (browser, url) = (&browser, server.url(&format!("/{i}")));
                    scope.spawn(move || {
                        let started = Instant::now();
                        let page = browser.render(&url, &[]).unwrap();
                        assert!(page.html.contains(&format!("Page /{i}")), "{}", page.html);
                        (started, Instant::now())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
        });
        // Whatever the machine's load: all four were under way at one moment.
        let last_start = spans.iter().map(|s| s.0).max().unwrap();
        let first_end = spans.iter().map(|s| s.1).min().unwrap();
        assert!(last_start < first_end, "the renders did not overlap");
    }

    #[test]
    fn one_tab_renders_one_page_at_a_time() {
        let server = TestServer::start(|path, _| {
            thread::sleep(Duration::from_millis(500));
            html(&format!("<html><body><p>Page {path}</p></body></html>"))
        });
        let options = BrowserOptions {
            tabs: 1,
            ..test_options()
        };
        let Some(browser) = launch(options, &[]) else { return };
        let started = Instant::now();
        thread::scope(|scope| {
            for i in 0..3 {
                let (browser, url) = (&browser, server.url(&format!("/{i}")));
                scope.spawn(move || browser.render(&url, &[]).unwrap());
            }
        });
        assert!(
            started.elapsed() >= Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_crashed_tab_fails_its_page_only() {
        let server = TestServer::start(|path, _| {
            if path == "/slow" {
                thread::sleep(Duration::from_millis(600));
            }
            html(&format!("<html><body><p>Page {path}</p></body></html>"))
        });
        let Some(browser) = launch(test_options(), &[]) else {
            return;
        };
        thread::scope(|scope| {
            let crashing = scope.spawn(|| browser.render(&server.url(&format!("/crash?{CRASH_QUERY}")), &[]));
            let slow = scope.spawn(|| browser.render(&server.url("/slow"), &[]));
            let failure = crashing.join().unwrap().unwrap_err();
            assert_eq!(failure.kind, FailureKind::Browser, "{failure}");
            assert!(failure.message.contains("the page crashed"), "{failure}");
            assert!(slow.join().unwrap().unwrap().html.contains("Page /slow"));
        });
        // The browser goes on.
        let page = browser.render(&server.url("/after"), &[]).unwrap();
        assert!(page.html.contains("Page /after"));
    }

    /// A page with one subresource of every kind, each on its own path.
    fn with_subresources(path: &str, _: u16) -> Reply {
        match path {
            "/page" => html(
                r#"<!DOCTYPE html><html><head>
                <link rel="stylesheet" href="/style.css" onload="document.getElementById('css').textContent = 'stylesheet loaded'">
                <style>@font-face { font-family: F; src: url(/font.woff2); } body { font-family: F; }</style>
                <script src="/app.js"></script>
                </head><body><p>Policy text.</p><p id="css"></p><img src="/picture.png" alt="A picture">
                <video src="/film.mp4" autoplay muted></video></body></html>"#,
            ),
            "/app.js" => Reply {
                status: 200,
                headers: vec![("Content-Type", "text/javascript".into())],
                body: "document.addEventListener('DOMContentLoaded', () => document.body.insertAdjacentHTML('beforeend', '<p>Added by script.</p>'));".into(),
            },
            "/style.css" => Reply {
                status: 200,
                headers: vec![("Content-Type", "text/css".into())],
                body: "p { color: red }".into(),
            },
            _ => Reply {
                status: 200,
                headers: vec![("Content-Type", "application/octet-stream".into())],
                body: "x".repeat(1000),
            },
        }
    }

    #[test]
    fn only_what_the_text_needs_is_downloaded() {
        for allow_private in [true, false] {
            let server = TestServer::start(with_subresources);
            let options = BrowserOptions {
                allow_private,
                ..test_options()
            };
            let Some(browser) = launch(options, &[RESOLVE_PUBLIC]) else {
                return;
            };
            let url = Url::parse(&format!("http://public.test:{}/page", server.port)).unwrap();
            let page = browser.render(&url, &[]).unwrap();
            assert!(page.html.contains("Added by script."), "{}", page.html);
            // Answered empty, the stylesheet still loads for the scripts that wait for it.
            assert!(page.html.contains("stylesheet loaded"), "{}", page.html);
            assert!(page.html.contains(r#"alt="A picture""#), "{}", page.html);
            let mut seen: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
            seen.retain(|p| p != "/favicon.ico");
            seen.sort();
            assert_eq!(seen, ["/app.js", "/page"], "allow_private: {allow_private}");
        }
    }

    #[test]
    fn a_page_waiting_on_a_request_is_taken_when_it_arrives() {
        // No selector to wait for, a short settle, and text that comes 800 ms after load
        // from a request: the request in flight holds the page.
        let server = TestServer::start(|path, _| match path {
            "/clauses" => {
                thread::sleep(Duration::from_millis(800));
                Reply {
                    status: 200,
                    headers: vec![("Content-Type", "text/plain".into())],
                    body: "We keep your data for a year.".into(),
                }
            }
            _ => html(
                r#"<html><body><main id="policy">Loading</main><script>
                window.addEventListener('load', () => fetch('/clauses').then((r) => r.text())
                  .then((text) => { document.getElementById('policy').textContent = text; }));
                </script></body></html>"#,
            ),
        });
        let options = BrowserOptions {
            settle: Duration::from_millis(200),
            ..test_options()
        };
        let Some(browser) = launch(options, &[]) else { return };
        let page = browser.render(&server.url("/"), &[]).unwrap();
        assert!(page.html.contains("We keep your data for a year."), "{}", page.html);
    }

    #[test]
    fn a_quiet_page_is_taken_without_waiting_the_whole_settle_period() {
        let server = TestServer::start(|path, _| match path {
            // Text a timer builds 600 ms after load: due within the settle period.
            "/timer" => html(
                r#"<html><body><main id="policy">Loading</main><script>
                window.addEventListener('load', () => setTimeout(() => {
                  document.getElementById('policy').textContent = 'Built by a timer.';
                }, 600));
                </script></body></html>"#,
            ),
            // The same with code given as a string, as old scripts do.
            "/string-timer" => html(
                r#"<html><body><main id="policy">Loading</main><script>
                setTimeout("document.getElementById('policy').textContent = 'Built by a string timer.'", 600);
                </script></body></html>"#,
            ),
            // Text built after 30 animation frames (half a second at 60 frames a second).
            "/frames" => html(
                r#"<html><body><main id="policy">Loading</main><script>
                let frames = 0;
                const step = () => {
                  frames += 1;
                  if (frames < 30) { requestAnimationFrame(step); return; }
                  document.getElementById('policy').textContent = 'Built in frames.';
                };
                requestAnimationFrame(step);
                </script></body></html>"#,
            ),
            // A timer due long after the settle period: nothing waits for it.
            "/late" => html(
                r#"<html><body><p>Static.</p><script>
                setTimeout(() => { document.body.textContent = 'Changed.'; }, 60000);
                </script></body></html>"#,
            ),
            _ => html("<html><body><p>Static.</p></body></html>"),
        });
        // A settle period far longer than loading these pages takes, even on a loaded machine.
        let settle = Duration::from_secs(4);
        let options = BrowserOptions {
            settle,
            tabs: 1,
            ..test_options()
        };
        let Some(browser) = launch(options, &[]) else { return };
        for path in ["/static", "/late"] {
            let started = Instant::now();
            let page = browser.render(&server.url(path), &[]).unwrap();
            assert!(page.html.contains("<p>Static.</p>"), "{path}: {}", page.html);
            assert!(started.elapsed() < settle, "{path}: {:?}", started.elapsed());
        }
        for (path, text) in [
            ("/timer", "Built by a timer."),
            ("/string-timer", "Built by a string timer."),
            ("/frames", "Built in frames."),
        ] {
            let page = browser.render(&server.url(path), &[]).unwrap();
            assert!(page.html.contains(text), "{path}: {}", page.html);
        }
    }

    #[test]
    fn each_page_starts_clean_in_a_reused_tab() {
        // Reports what an earlier page could have left behind, then leaves all of it.
        let server = TestServer::start(|_, _| {
            html(
                r#"<html><body><p id="seen"></p><script>
                const seen = [document.cookie, localStorage.getItem('left'), sessionStorage.getItem('left'), window.name];
                document.getElementById('seen').textContent = 'seen[' + seen.join('|') + ']';
                document.cookie = 'left=1; max-age=3600';
                localStorage.setItem('left', '1');
                sessionStorage.setItem('left', '1');
                window.name = 'left';
                </script></body></html>"#,
            )
        });
        // One tab: the second page is rendered where the first was.
        let options = BrowserOptions {
            tabs: 1,
            ..test_options()
        };
        let Some(browser) = launch(options, &[]) else { return };
        for path in ["/first", "/second", "/first"] {
            let page = browser.render(&server.url(path), &[]).unwrap();
            assert!(page.html.contains("seen[|||]"), "{path}: {}", page.html);
        }
    }

    #[test]
    fn browser_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Browser>();
    }

    #[test]
    fn text_inserted_by_script_is_captured_whole() {
        let server = TestServer::start(|_, _| {
            html(
                r#"<!DOCTYPE html><html><head><title>Privacy</title></head><body>
                <main id="policy"></main>
                <script>
                  const main = document.getElementById('policy');
                  setTimeout(() => { main.innerHTML = '<h1>Privacy Policy</h1><p>We collect your data.</p>'; }, 700);
                  setTimeout(() => { main.insertAdjacentHTML('beforeend', '<p>We share it with partners.</p>'); }, 900);
                  setTimeout(() => { main.insertAdjacentHTML('beforeend', '<p>We train models on it.</p>'); }, 1100);
                </script></body></html>"#,
            )
        });
        let options = BrowserOptions {
            settle: Duration::from_millis(500),
            ..test_options()
        };
        let (user_agent, accept_language) = (options.user_agent.clone(), options.accept_language.clone());
        let Some(browser) = launch(options, &[]) else { return };
        let url = server.url("/privacy");
        let page = browser.render(&url, &["#policy".to_string()]).unwrap();
        assert!(page.html.starts_with("<!DOCTYPE html>\n<html>"), "{}", page.html);
        for text in [
            "We collect your data.",
            "We share it with partners.",
            "We train models on it.",
        ] {
            assert!(page.html.contains(text), "{text} missing from {}", page.html);
        }
        assert_eq!(page.status, Some(200));
        assert_eq!(page.final_url, url);
        let seen = server.seen();
        let request = seen.iter().find(|s| s.path == "/privacy").unwrap();
        let header = |name: &str| request.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert_eq!(header("user-agent"), Some(user_agent));
        assert_eq!(header("accept-language"), Some(accept_language));

        // An invalid selector is not waited for (the timeout is 10 s).
        let started = Instant::now();
        let page = browser.render(&url, &["main[".to_string()]).unwrap();
        assert!(page.html.contains("<main"));
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn a_page_that_keeps_changing_is_taken_once_it_settles() {
        let server = TestServer::start(|_, _| {
            html(
                r#"<!DOCTYPE html><html><body><ul id="list"></ul><script>
                let n = 0;
                const timer = setInterval(() => {
                  n += 1;
                  document.getElementById('list').insertAdjacentHTML('beforeend', '<li>clause ' + n + '</li>');
                  if (n === 25) { clearInterval(timer); document.body.insertAdjacentHTML('beforeend', '<p>the end</p>'); }
                }, 50);
                </script></body></html>"#,
            )
        });
        // A second of quiet: a 50 ms timer can lag by more than the usual 200 ms on a
        // loaded machine, and the page would rightly look done.
        let options = BrowserOptions {
            settle: Duration::from_secs(1),
            ..test_options()
        };
        let Some(browser) = launch(options, &[]) else {
            return;
        };
        let page = browser.render(&server.url("/"), &[]).unwrap();
        assert!(page.html.contains("<li>clause 25</li>"), "{}", page.html);
        assert!(page.html.contains("<p>the end</p>"), "{}", page.html);
    }

    #[test]
    fn a_selector_that_never_matches_returns_the_page_after_the_timeout() {
        let server =
            TestServer::start(|_, _| html("<html><body><p>Terms of service.</p><div id='empty'> </div></body></html>"));
        // 4 s: with the other browser tests running at once on a loaded machine, starting
        // a renderer and loading the page alone has taken over 2 s.
        let options = BrowserOptions {
            timeout: Duration::from_secs(4),
            ..test_options()
        };
        let Some(browser) = launch(options, &[]) else { return };
        let started = Instant::now();
        let selectors = ["#missing".to_string(), "#empty".to_string()];
        let page = browser.render(&server.url("/"), &selectors).unwrap();
        let took = started.elapsed();
        assert!(page.html.contains("Terms of service."));
        // The timeout, plus at most the settle period and the grace for scripts.
        assert!(
            took >= Duration::from_millis(3900) && took < Duration::from_secs(8),
            "{took:?}"
        );
    }

    #[test]
    fn status_404_is_reported() {
        let server = TestServer::start(|path, _| Reply {
            status: 404,
            headers: vec![("Content-Type", "text/html".into())],
            body: if path == "/empty" {
                String::new()
            } else {
                "<h1>No such page</h1>".into()
            },
        });
        let Some(browser) = launch(test_options(), &[]) else {
            return;
        };
        let page = browser.render(&server.url("/gone"), &[]).unwrap();
        assert_eq!(page.status, Some(404));
        assert!(page.html.contains("No such page"));
        let page = browser.render(&server.url("/empty"), &[]).unwrap();
        assert_eq!(page.status, Some(404));
        assert_eq!(page.final_url, server.url("/empty"));
    }

    #[test]
    fn connection_refused_is_a_connection_failure() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let Some(browser) = launch(test_options(), &[]) else {
            return;
        };
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let failure = browser.render(&url, &[]).unwrap_err();
        assert_eq!(failure.kind, FailureKind::Connection, "{failure}");
        assert!(failure.message.contains("ERR_CONNECTION_REFUSED"), "{failure}");
    }

    /// Makes `public.test` stand for a public site: no private literal, yet Chromium
    /// resolves it to our server.
    const RESOLVE_PUBLIC: &str = "--host-resolver-rules=MAP public.test 127.0.0.1";

    /// A page that reaches for private addresses, and a redirect to one.
    fn reaching_for_private(path: &str, port: u16) -> Reply {
        match path {
            "/page" => html(&format!(
                r#"<html><body><p>Public page.</p>
                <script src="http://127.0.0.1:{port}/script.js"></script>
                <script>fetch('http://127.0.0.1:{port}/secret').catch(() => {{}});</script></body></html>"#
            )),
            "/redirect" => Reply {
                status: 302,
                headers: vec![("Location", format!("http://127.0.0.1:{port}/page"))],
                body: String::new(),
            },
            _ => html("<p>private</p>"),
        }
    }

    #[test]
    fn private_addresses_are_refused_without_allow_private() {
        let server = TestServer::start(reaching_for_private);
        let options = BrowserOptions {
            allow_private: false,
            ..test_options()
        };
        let Some(browser) = launch(options, &[RESOLVE_PUBLIC]) else {
            return;
        };
        for url in [server.url("/page"), Url::parse("http://localhost:1/").unwrap()] {
            let failure = browser.render(&url, &[]).unwrap_err();
            assert_eq!(failure.kind, FailureKind::PrivateAddress, "{failure}");
        }
        let public = |path: &str| Url::parse(&format!("http://public.test:{}{path}", server.port)).unwrap();
        let page = browser.render(&public("/page"), &[]).unwrap();
        assert!(page.html.contains("Public page."));
        let failure = browser.render(&public("/redirect"), &[]).unwrap_err();
        assert_eq!(failure.kind, FailureKind::PrivateAddress, "{failure}");
        assert!(failure.message.contains("127.0.0.1"), "{failure}");
        let paths = |server: &TestServer| -> Vec<String> {
            let seen = server.seen().into_iter().map(|s| s.path);
            seen.filter(|p| p != "/favicon.ico").collect()
        };
        assert_eq!(
            paths(&server),
            ["/page", "/redirect"],
            "only the public requests reach the server"
        );

        // The same page with private addresses allowed does reach them: the blocking above
        // is ours, not Chromium's.
        drop(browser);
        let server = TestServer::start(reaching_for_private);
        let Some(browser) = launch(test_options(), &[RESOLVE_PUBLIC]) else {
            return;
        };
        let public = |path: &str| Url::parse(&format!("http://public.test:{}{path}", server.port)).unwrap();
        browser.render(&public("/page"), &[]).unwrap();
        let mut seen = paths(&server);
        seen.sort();
        assert_eq!(seen, ["/page", "/script.js", "/secret"]);
    }

    #[test]
    fn a_hung_page_times_out_and_the_browser_goes_on() {
        let server = TestServer::start(|path, _| match path {
            "/busy" => html("<html><body><p>Busy.</p><script>while (true) {}</script></body></html>"),
            "/silent" => {
                thread::sleep(Duration::from_secs(4));
                html("<p>Too late.</p>")
            }
            _ => html("<html><body><p>Fine.</p></body></html>"),
        });
        // Generous enough that a loaded CI machine still renders the fine page in time. One
        // tab: the fine page is rendered in the slot the hung ones left.
        let options = BrowserOptions {
            timeout: Duration::from_secs(4),
            settle: Duration::from_millis(200),
            tabs: 1,
            ..test_options()
        };
        let Some(browser) = launch(options, &[]) else { return };
        // A script that never yields, and a server that does not answer in time.
        for path in ["/busy", "/silent"] {
            let started = Instant::now();
            let failure = browser.render(&server.url(path), &[]).unwrap_err();
            assert_eq!(failure.kind, FailureKind::Timeout, "{path}: {failure}");
            // The timeout, plus at most the grace a script gets to answer.
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{path}: {:?}",
                started.elapsed()
            );
        }
        let page = browser.render(&server.url("/fine"), &[]).unwrap();
        assert!(page.html.contains("Fine."));
    }

    #[test]
    fn renders_from_several_threads() {
        let server = TestServer::start(|path, _| html(&format!("<html><body><p>Page {path}</p></body></html>")));
        let options = BrowserOptions {
            settle: Duration::from_millis(100),
            ..test_options()
        };
        if Browser::find_executable(None).is_none() {
            eprintln!("skipped: no Chrome/Chromium installed");
            return;
        }
        // Launched from a thread that ends at once, as a tokio blocking thread may: Chromium
        // must outlive it (PR_SET_PDEATHSIG follows the spawning thread).
        let browser = thread::spawn(move || launch(options, &[])).join().unwrap().unwrap();
        thread::sleep(Duration::from_millis(200));
        thread::scope(|scope| {
            let handles: Vec<_> = (0..3)
                .map(|i| {
                    let (browser, url) = (&browser, server.url(&format!("/{i}")));
                    scope.spawn(move || browser.render(&url, &[]).unwrap())
                })
                .collect();
            for (i, handle) in handles.into_iter().enumerate() {
                assert!(handle.join().unwrap().html.contains(&format!("Page /{i}")));
            }
        });
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn nothing_of_ours_remains_after_drop() {
        let server = TestServer::start(|_, _| html("<p>Hello.</p>"));
        let Some(browser) = launch(test_options(), &[]) else {
            return;
        };
        browser.render(&server.url("/"), &[]).unwrap();
        let group = libc::pid_t::try_from(browser.process.pid).unwrap();
        let folder = browser.profile.root.clone();
        assert!(leftovers(group, &folder).len() > 1, "Chromium runs helpers");
        drop(browser);
        assert_eq!(leftovers(group, &folder), Vec::<libc::pid_t>::new());
        // Killed helpers may remain a moment as zombies for init to reap, but none is ours.
        let ours = libc::pid_t::try_from(std::process::id()).unwrap();
        let zombies_of_ours: Vec<_> = (std::fs::read_dir("/proc").unwrap())
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<libc::pid_t>().ok())
            .filter(|&pid| proc_stat(pid).is_some_and(|s| s.group == group && s.parent == ours))
            .collect();
        assert_eq!(zombies_of_ours, Vec::<libc::pid_t>::new());
        assert!(!folder.exists(), "{} is left behind", folder.display());
    }

    #[test]
    fn a_missing_executable_says_how_to_install_one() {
        let options = BrowserOptions {
            executable: Some("/nonexistent/chromium".into()),
            ..BrowserOptions::default()
        };
        let Err(failure) = Browser::launch(options) else {
            panic!("launched a browser that does not exist");
        };
        assert_eq!(failure.kind, FailureKind::Browser);
        assert!(failure.message.contains("/nonexistent/chromium"), "{failure}");
        assert!(failure.message.contains("apt-get install chromium"), "{failure}");
    }

    #[test]
    fn executables_are_resolved() {
        assert_eq!(Browser::find_executable(Some(Path::new("/nonexistent/chromium"))), None);
        let plain = std::env::temp_dir().join(format!("clausewatch-not-executable-{}", std::process::id()));
        std::fs::write(&plain, "").unwrap();
        let found = Browser::find_executable(Some(&plain));
        std::fs::remove_file(&plain).unwrap();
        assert_eq!(found, None, "a file without execute bits");
        assert_eq!(
            Browser::find_executable(Some(Path::new("/bin/sh"))),
            Some(PathBuf::from("/bin/sh"))
        );
        assert!(Browser::find_executable(Some(Path::new("sh"))).is_some_and(|p| p.ends_with("sh")));
    }

    #[test]
    fn net_errors_map_to_categories() {
        let url = Url::parse("https://example.com/").unwrap();
        let kind = |error: &str| net_failure(&url, error).kind;
        assert_eq!(kind("net::ERR_CONNECTION_REFUSED"), FailureKind::Connection);
        assert_eq!(kind("net::ERR_NAME_NOT_RESOLVED"), FailureKind::Dns);
        assert_eq!(kind("net::ERR_CERT_AUTHORITY_INVALID"), FailureKind::Tls);
        assert_eq!(kind("net::ERR_SSL_PROTOCOL_ERROR"), FailureKind::Tls);
        assert_eq!(kind("net::ERR_CONNECTION_TIMED_OUT"), FailureKind::Timeout);
        assert_eq!(kind("net::ERR_TOO_MANY_REDIRECTS"), FailureKind::Redirect);
        assert_eq!(kind("net::ERR_ABORTED"), FailureKind::Browser);
    }

    #[test]
    fn protocol_messages_are_told_apart() {
        let reply = parse_message(br#"{"id":7,"result":{"x":1}}"#);
        assert!(matches!(reply, Some(Incoming::Reply { id: 7, result: Ok(v) }) if v["x"] == 1));
        let error = parse_message(br#"{"id":8,"error":{"code":-32000,"message":"No target"}}"#);
        assert!(matches!(error, Some(Incoming::Reply { id: 8, result: Err(m) }) if m == "No target"));
        let event = parse_message(br#"{"method":"Page.loadEventFired","params":{},"sessionId":"S"}"#);
        assert!(
            matches!(event, Some(Incoming::Event { method, session: Some(s), .. }) if method == "Page.loadEventFired" && s == "S")
        );
        assert!(parse_message(b"not json").is_none());
    }

    #[test]
    fn language_tags_drop_weights() {
        assert_eq!(language_tags("en-US,en;q=0.9"), ["en-US", "en"]);
        assert_eq!(language_tags("de;q=1, *;q=0.1"), ["de"]);
        assert!(language_tags("").is_empty());
    }
}
