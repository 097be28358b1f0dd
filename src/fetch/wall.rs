//! Recognizing pages that are not the document: bot challenges, denial pages, soft
//! 404s served with status 200, and script-only shells that need a browser.
//!
//! Each verdict rests on signals that a real policy page does not have: a challenge
//! vendor's own markers, or a telltale title together with very little visible text. A
//! single phrase is never enough, because policies themselves talk about "access
//! denied" and "captcha".

use crate::failure::{Failure, FailureKind};

/// How much of a page the markers are looked for in: challenge pages are small, and
/// policy pages put their markers (titles, app roots) near the top.
const SCAN_BYTES: usize = 256 * 1024;
/// Below this many visible characters a page is a stub, not a policy.
const STUB_TEXT: usize = 1_500;

/// What a page turned out to be, when it is not the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A challenge, captcha or denial page.
    BotWall(String),
    /// A "page not found" page served with a success status.
    SoftNotFound(String),
    /// An empty application shell whose content is built by scripts.
    NeedsScripts,
}

impl Verdict {
    pub fn into_failure(self, url: &str) -> Failure {
        match self {
            Verdict::BotWall(vendor) => Failure::new(
                FailureKind::BotWall,
                format!("{url} answered with a {vendor}, not the document"),
            ),
            Verdict::SoftNotFound(title) => Failure::new(
                FailureKind::NotFound,
                format!("{url} answered with a \"not found\" page ({title:?})"),
            ),
            Verdict::NeedsScripts => Failure::new(
                FailureKind::Empty,
                format!("{url} is an empty page built by JavaScript: declare it with fetcher = \"browser\""),
            ),
        }
    }
}

/// Vendor markers of challenge and block pages (on a stub-sized page).
const VENDOR_MARKERS: &[(&str, &str)] = &[
    ("cdn-cgi/challenge-platform", "Cloudflare challenge"),
    ("cf-chl-", "Cloudflare challenge"),
    ("cf_chl_opt", "Cloudflare challenge"),
    ("cf-error-details", "Cloudflare block page"),
    ("captcha-delivery.com", "DataDome captcha"),
    ("geo.captcha-delivery", "DataDome captcha"),
    ("_pxcaptcha", "PerimeterX captcha"),
    ("px-captcha", "PerimeterX captcha"),
    ("_incapsula_resource", "Imperva (Incapsula) block page"),
    ("incapsula incident id", "Imperva (Incapsula) block page"),
    ("errors.edgesuite.net", "Akamai denial page"),
    ("awswaf", "AWS WAF challenge"),
    ("challenges.cloudflare.com/turnstile", "Cloudflare Turnstile challenge"),
];

/// Titles of challenge and denial pages; they count only on a stub-sized page.
const WALL_TITLES: &[(&str, &str)] = &[
    ("just a moment", "Cloudflare challenge"),
    ("attention required", "Cloudflare block page"),
    ("access denied", "denial page"),
    ("access to this page has been denied", "PerimeterX block page"),
    ("request unsuccessful", "Imperva (Incapsula) block page"),
    ("are you a robot", "captcha"),
    ("are you a human", "captcha"),
    ("human verification", "captcha"),
    ("verify you are human", "captcha"),
    ("security check", "challenge page"),
    ("pardon our interruption", "Distil/Imperva challenge"),
    ("please wait", "challenge page"),
    ("robot check", "captcha"),
    ("you have been blocked", "block page"),
    ("403 forbidden", "denial page"),
];

/// Phrases in the body of stub-sized challenge pages.
const WALL_PHRASES: &[(&str, &str)] = &[
    ("checking your browser", "browser-check challenge"),
    ("enable javascript and cookies to continue", "browser-check challenge"),
    ("please enable js and disable any ad blocker", "DataDome captcha"),
    ("verify you are human", "captcha"),
    ("you don't have permission to access", "Akamai denial page"),
    ("press & hold", "PerimeterX captcha"),
    ("unusual traffic from your computer", "captcha"),
    ("g-recaptcha", "captcha"),
    ("h-captcha", "captcha"),
];

const NOT_FOUND_TITLES: &[&str] = &[
    "404",
    "page not found",
    "not found",
    "page introuvable",
    "page non trouvée",
    "seite nicht gefunden",
    "página no encontrada",
    "pagina non trovata",
    "this page isn't available",
    "this page doesn't exist",
    "page does not exist",
    "we can't find that page",
    "couldn't find this page",
];

/// Markers of a script-built application shell.
const APP_ROOTS: &[&str] = &[
    "id=\"root\"",
    "id=\"app\"",
    "id=\"__next\"",
    "id=\"__nuxt\"",
    "id=\"svelte\"",
    "ng-app",
    "ng-version",
    "data-reactroot",
    "you need to enable javascript to run this app",
];

/// Judges an HTML page. `None` means it may well be the document.
pub fn inspect(html: &str) -> Option<Verdict> {
    let head = &html[..floor_char_boundary(html, SCAN_BYTES)];
    // Every verdict needs a stub-sized page: vendors inject their scripts (Cloudflare's
    // `/cdn-cgi/challenge-platform/scripts/jsd/main.js`) into real pages too.
    let text_len = visible_text_len(html);
    if text_len >= STUB_TEXT {
        return None;
    }
    let lower = head.to_lowercase();
    if let Some((_, vendor)) = VENDOR_MARKERS.iter().find(|(marker, _)| lower.contains(marker)) {
        return Some(Verdict::BotWall((*vendor).to_string()));
    }
    let title = title(&lower).unwrap_or_default();
    if let Some((_, what)) = WALL_TITLES.iter().find(|(t, _)| title.contains(t)) {
        return Some(Verdict::BotWall((*what).to_string()));
    }
    if let Some((_, what)) = WALL_PHRASES.iter().find(|(p, _)| lower.contains(p)) {
        return Some(Verdict::BotWall((*what).to_string()));
    }
    let heading = first_heading(&lower).unwrap_or_default();
    if NOT_FOUND_TITLES
        .iter()
        .any(|t| title.contains(t) || heading.contains(t))
    {
        return Some(Verdict::SoftNotFound(if title.is_empty() { heading } else { title }));
    }
    if text_len < 200 && APP_ROOTS.iter().any(|r| lower.contains(r)) {
        return Some(Verdict::NeedsScripts);
    }
    None
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    if index >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn title(lower: &str) -> Option<String> {
    element_text(lower, "<title")
}

fn first_heading(lower: &str) -> Option<String> {
    element_text(lower, "<h1")
}

/// The text of the first element opened by `open_tag`, tags stripped and spaces collapsed.
fn element_text(lower: &str, open_tag: &str) -> Option<String> {
    let start = lower.find(open_tag)?;
    let content_start = start + lower[start..].find('>')? + 1;
    let name = &open_tag[1..];
    let end = content_start + lower[content_start..].find(&format!("</{name}"))?;
    let mut text = String::new();
    let mut in_tag = false;
    for c in lower[content_start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Visible characters of a page, roughly: tags, comments, scripts and styles skipped,
/// whitespace not counted. Enough to tell a stub from a document.
pub fn visible_text_len(html: &str) -> usize {
    let bytes = html.as_bytes();
    let lower_at = |i: usize, needle: &str| {
        bytes.len() >= i + needle.len() && bytes[i..i + needle.len()].eq_ignore_ascii_case(needle.as_bytes())
    };
    let find_from = |i: usize, needle: &str| -> usize {
        let n = needle.as_bytes();
        bytes[i..]
            .windows(n.len())
            .position(|w| w.eq_ignore_ascii_case(n))
            .map_or(bytes.len(), |p| i + p + n.len())
    };
    let (mut i, mut count) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'<' {
            i = if lower_at(i, "<!--") {
                find_from(i, "-->")
            } else if lower_at(i, "<script") {
                find_from(i, "</script>")
            } else if lower_at(i, "<style") {
                find_from(i, "</style>")
            } else if lower_at(i, "<noscript") {
                find_from(i, "</noscript>")
            } else {
                bytes[i..]
                    .iter()
                    .position(|&c| c == b'>')
                    .map_or(bytes.len(), |p| i + p + 1)
            };
            continue;
        }
        // Count characters, not bytes: skip UTF-8 continuation bytes.
        if !b.is_ascii_whitespace() && (b & 0xC0) != 0x80 {
            count += 1;
        }
        i += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(extra: &str) -> String {
        format!(
            "<html><head><title>Privacy Policy</title></head><body>{extra}<main>{}</main></body></html>",
            "<p>We may deny access to accounts that violate these terms, and we use captcha checks.</p>".repeat(40)
        )
    }

    #[test]
    fn challenge_pages_are_bot_walls() {
        let cloudflare = "<html><head><title>Just a moment...</title></head><body><div id=cf-wrapper>\
                          <script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1\"></script>\
                          Checking your browser before accessing example.com.</div></body></html>";
        assert!(matches!(inspect(cloudflare), Some(Verdict::BotWall(v)) if v.contains("Cloudflare")));
        let akamai = "<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>\
                      You don't have permission to access \"http://www.example.com/legal\" on this server.<P>\
                      Reference #18.5c7d3e17.1700000000.1a2b3c</BODY></HTML>";
        assert!(matches!(inspect(akamai), Some(Verdict::BotWall(_))));
        let datadome = "<html><head><title>example.com</title></head><body><p>Please enable JS and disable any ad blocker</p>\
                        <script>var dd={'cid':'x','host':'geo.captcha-delivery.com'}</script></body></html>";
        assert!(matches!(inspect(datadome), Some(Verdict::BotWall(v)) if v.contains("DataDome")));
        let perimeterx = "<html><head><title>Access to this page has been denied.</title></head>\
                          <body><div id=\"px-captcha\"></div><p>Press &amp; Hold to confirm you are a human</p></body></html>";
        assert!(matches!(inspect(perimeterx), Some(Verdict::BotWall(_))));
        let incapsula = "<html><head><META NAME=\"robots\" CONTENT=\"noindex,nofollow\"></head><body>\
                         <iframe src=\"/_Incapsula_Resource?CWUDNSAI=1\">Request unsuccessful. Incapsula incident ID: 1-2</iframe></body></html>";
        assert!(matches!(inspect(incapsula), Some(Verdict::BotWall(v)) if v.contains("Imperva")));
    }

    #[test]
    fn policies_that_mention_access_and_captchas_are_documents() {
        assert_eq!(inspect(&policy("")), None);
        assert_eq!(inspect(&policy("<nav>Access denied? Contact support.</nav>")), None);
        let with_bot_detection = policy("<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script>");
        assert_eq!(
            inspect(&with_bot_detection),
            None,
            "Cloudflare injects its script into real pages"
        );
    }

    #[test]
    fn soft_404s_and_script_shells() {
        let soft = "<html><head><title>Page Not Found | Example</title></head><body><h1>Oops</h1><p>Try the home page.</p></body></html>";
        assert!(matches!(inspect(soft), Some(Verdict::SoftNotFound(_))));
        let french = "<html><head><title>Example</title></head><body><h1>Page introuvable</h1></body></html>";
        assert!(matches!(inspect(french), Some(Verdict::SoftNotFound(_))));
        let shell = "<!doctype html><html><head><title>Example</title><script src=/app.js></script></head>\
                     <body><noscript>You need to enable JavaScript to run this app.</noscript><div id=\"root\"></div></body></html>";
        assert_eq!(inspect(shell), Some(Verdict::NeedsScripts));
    }

    #[test]
    fn visible_text_skips_markup_and_scripts() {
        assert_eq!(
            visible_text_len("<p>ab <b>c</b></p><script>var x = '<p>long</p>';</script><!-- note -->é"),
            4
        );
    }
}
