//! Reports as one self-contained HTML page for a journalist: no external assets and no
//! JavaScript, so the file can be mailed, archived or opened offline and looks the same.
//! The output depends only on the report (the one timestamp is `generated_at`), so the
//! same report always gives the same bytes.
//!
//! Every page is built with maud's `html!`, which escapes every value it splices in: text
//! from a policy, a declaration or a commit cannot become markup. The one way around it,
//! `PreEscaped`, is used for the style sheets below (constants) and nowhere else
//! (a test checks). Link targets are [`Href`]s: a web address (http or https) or a
//! path inside the site, never another scheme. See docs/architecture.md.

use chrono::{DateTime, Datelike, NaiveTime, SecondsFormat, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, Render, html};

use super::model::{Change, DocumentChanges, Report, Sentence};
use super::words::WordPiece;
use crate::archive::ProvisionShift;

/// Renders a report: title, summary, contents by service, then one section per document
/// with its timeline and its changes, newest first.
pub fn render(report: &Report) -> String {
    let (title, body) = render_body(report, None);
    page(&title, &body)
}

/// A link target that is safe in `href`: a web address (`http:` or `https:`) or a
/// relative path inside the site. Nothing else can be made into one, so a
/// `javascript:` or `data:` URL from a declaration or a commit never becomes a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Href(String);

impl Href {
    /// A web address, or `None` for any other scheme.
    pub fn web(url: &str) -> Option<Href> {
        let lower = url.trim_start().get(..8).unwrap_or("").to_ascii_lowercase();
        (lower.starts_with("https://") || lower.starts_with("http://")).then(|| Href(url.trim().to_string()))
    }

    /// A path relative to the page. One whose first segment would read as a scheme
    /// (`javascript:x`) is made to read as a path (`./javascript:x`).
    pub fn relative(path: String) -> Href {
        let first_segment = path.split(['/', '?', '#']).next().unwrap_or("");
        if first_segment.contains(':') {
            Href(format!("./{path}"))
        } else {
            Href(path)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Render for Href {
    fn render_to(&self, buffer: &mut String) {
        self.0.render_to(buffer);
    }
}

/// Where documents, versions and provisions have pages of their own: on a site built by
/// `clausewatch site`, reports link to them. URLs are relative to the page being written.
pub trait SiteLinks {
    fn document(&self, service: &str, document: &str) -> Href;
    fn version(&self, service: &str, document: &str, commit: &str) -> Href;
    fn provision(&self, id: &str) -> Href;
}

/// A style sheet. Style sheets are this crate's own constants, the only text that goes
/// into a page unescaped.
pub fn style(css: &'static str) -> Markup {
    html! { style { (PreEscaped(css)) } "\n" }
}

/// A report's title and the content of its `<main>`; with `links`, document headings,
/// change summaries and timeline markers link to the site's pages.
pub fn render_body(report: &Report, links: Option<&dyn SiteLinks>) -> (String, Markup) {
    let title = format!(
        "Policy changes, {} to {}",
        report.since.format("%Y-%m-%d"),
        report.last_day()
    );
    let body = html! {
        h1 { (title) } "\n"
        @if report.documents.is_empty() {
            p.lead { "No substantive changes in this period." } "\n"
        } @else {
            p.lead { (plural(report.change_count(), "change")) " in " (plural(report.documents.len(), "document")) "." } "\n"
        }
        p.muted {
            "Generated " (time(report.generated_at, "%Y-%m-%d %H:%M UTC")) ". All dates are UTC."
        } "\n"
        @if !report.documents.is_empty() {
            (contents(report))
            @for document in &report.documents {
                (render_document(report, document, links))
            }
        }
    };
    (title, body)
}

/// A `<time>` element: the instant in RFC 3339, shown in `format`.
pub fn time(t: DateTime<Utc>, format: &str) -> Markup {
    html! {
        time datetime=(t.to_rfc3339_opts(SecondsFormat::Secs, true)) { (t.format(format)) }
    }
}

/// The shared page shell: everything a page needs except its `<main>` content.
pub fn page(title: &str, body: &Markup) -> String {
    page_with(title, &html! {}, &html! {}, body)
}

/// The page shell with more in it: `head` goes at the end of `<head>` (styles, feed
/// links), `header` after the brand (a site's navigation).
///
/// Every page is written through here, so this is where third-party text is made
/// visible: maud has escaped markup, and control characters, bidirectional controls and
/// U+2028/U+2029 (which the page's own markup never holds) are shown as `\u{202e}`
/// escapes, as on a terminal, rather than reordering a quoted sentence.
pub fn page_with(title: &str, head: &Markup, header: &Markup, body: &Markup) -> String {
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n"
                meta charset="utf-8"; "\n"
                meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                meta name="color-scheme" content="light dark"; "\n"
                title { (title) } "\n"
                (style(CSS))
                (head)
            } "\n"
            body {
                "\n"
                header.site { p.brand { "clausewatch" } (header) } "\n"
                main { "\n" (body) } "\n"
                footer.site {
                    p {
                        "Archived and compared by clausewatch: every version of each policy is \
                         kept in git, and each change links to the commit that holds it."
                    }
                } "\n"
            } "\n"
        } "\n"
    };
    let page = page.into_string();
    match crate::printable::escape_keeping_layout(&page) {
        std::borrow::Cow::Borrowed(_) => page,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// The table of contents, grouped by service in the report's document order.
fn contents(report: &Report) -> Markup {
    let mut services: Vec<(&str, Vec<&DocumentChanges>)> = Vec::new();
    for document in &report.documents {
        match services.iter_mut().find(|(service, _)| *service == document.service) {
            Some((_, documents)) => documents.push(document),
            None => services.push((&document.service, vec![document])),
        }
    }
    html! {
        nav.toc aria-labelledby="contents" {
            "\n"
            h2 #contents { "Contents" } "\n"
            ul {
                "\n"
                @for (service, documents) in &services {
                    li {
                        span.service { (service) } "\n"
                        ul {
                            "\n"
                            @for document in documents {
                                li {
                                    a href={ "#" (anchor(&document.service, &document.document)) } { (document.document) }
                                    " "
                                    span.muted { "(" (plural(document.changes.len(), "change")) ")" }
                                } "\n"
                            }
                        } "\n"
                    } "\n"
                }
            } "\n"
        } "\n"
    }
}

fn render_document(report: &Report, document: &DocumentChanges, links: Option<&dyn SiteLinks>) -> Markup {
    let id = anchor(&document.service, &document.document);
    let href = links.map(|links| links.document(&document.service, &document.document));
    html! {
        section.document id=(id) aria-labelledby={ (id) "-title" } {
            "\n"
            h2 id={ (id) "-title" } {
                span.service { (document.service) "/" }
                (linked(href.as_ref(), html! { (document.document) }))
            } "\n"
            (timeline_svg(report.since, report.until, document, links))
            @for change in &document.changes {
                (render_change(&id, change, links))
            }
        } "\n"
    }
}

/// One change as an article: kind, commit, sources, provisions, flags and sentences.
pub fn change_article(change: &Change, links: Option<&dyn SiteLinks>) -> Markup {
    render_change(&anchor(&change.service, &change.document), change, links)
}

// Timeline geometry, in SVG user units; the drawing scales to the page width.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 64.0;
const PAD: f64 = 12.0;
const AXIS_Y: f64 = 38.0;
const RADIUS: f64 = 5.0;
const ROWS: usize = 3;

/// An inline SVG with one marker per change between `since` and `until`. Screen readers
/// get the dates from the label, since `role="img"` hides the drawing's parts. With
/// `links`, each marker links to its version's page.
pub fn timeline_svg(
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    document: &DocumentChanges,
    links: Option<&dyn SiteLinks>,
) -> Markup {
    let span = (until - since).num_seconds().max(1) as f64;
    let x = |t: DateTime<Utc>| {
        let fraction = ((t - since).num_seconds() as f64 / span).clamp(0.0, 1.0);
        PAD + fraction * (WIDTH - 2.0 * PAD)
    };
    let (first, last) = (
        since.format("%Y-%m-%d").to_string(),
        super::model::last_day(until).to_string(),
    );
    let mut dates: Vec<String> = document
        .changes
        .iter()
        .map(|c| c.date.format("%Y-%m-%d").to_string())
        .collect();
    dates.reverse();
    let label = format!(
        "Timeline of {} to {}/{} from {first} to {last}{}{}",
        plural(document.changes.len(), "change"),
        document.service,
        document.document,
        if dates.is_empty() { "" } else { ": " },
        dates.join(", ")
    );

    // A tick at each midnight inside the window; past three months, only at each month's start.
    let monthly = (until - since).num_days() > 93;
    let mut ticks = Vec::new();
    let mut day = since.date_naive().succ_opt();
    while let Some(d) = day {
        let t = d.and_time(NaiveTime::MIN).and_utc();
        if t >= until {
            break;
        }
        if !monthly || d.day() == 1 {
            ticks.push(format!("{:.1}", x(t)));
        }
        day = d.succ_opt();
    }

    // Oldest first, so a marker that would overlap its predecessor moves up a row.
    let mut rows = [f64::NEG_INFINITY; ROWS];
    let mut markers = Vec::new();
    for change in document.changes.iter().rev() {
        let cx = x(change.date);
        let row = rows
            .iter()
            .position(|&previous| cx - previous > 2.0 * RADIUS)
            .unwrap_or(0);
        rows[row] = cx;
        let cy = AXIS_Y - row as f64 * (2.0 * RADIUS + 3.0);
        let href = links.map(|links| links.version(&change.service, &change.document, &change.commit));
        markers.push((change, format!("{cx:.1}"), cy, href));
    }
    let label_y = HEIGHT - 6.0;
    // SVG elements are not void: each is closed, as `<line></line>`.
    html! {
        svg.timeline viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(label) {
            "\n"
            line.axis x1=(PAD) y1=(AXIS_Y) x2=(WIDTH - PAD) y2=(AXIS_Y) {} "\n"
            @for tick in &ticks {
                line.tick x1=(tick) y1=(AXIS_Y - 3.0) x2=(tick) y2=(AXIS_Y + 3.0) {} "\n"
            }
            text.label x=(PAD) y=(label_y) text-anchor="start" { (first) } "\n"
            text.label x=(WIDTH - PAD) y=(label_y) text-anchor="end" { (last) } "\n"
            @for (change, cx, cy, href) in &markers {
                @let marker = html! {
                    circle class={ "marker marker-" (change.change) } cx=(cx) cy=(cy) r=(RADIUS) {
                        title { (change.date.format("%Y-%m-%d")) ": " (change.summary) }
                    }
                };
                @match href {
                    Some(href) => { a href=(href) { (marker) } }
                    None => { (marker) }
                }
                "\n"
            }
        } "\n"
    }
}

fn render_change(document_id: &str, change: &Change, links: Option<&dyn SiteLinks>) -> Markup {
    let short = change.commit.get(..12).unwrap_or(&change.commit);
    let version = links.map(|links| links.version(&change.service, &change.document, &change.commit));
    let commit_url = change.commit_url.as_deref().and_then(Href::web);
    let previous_declared = change
        .previous_declared_date
        .filter(|p| Some(*p) != change.declared_date);
    let changed: Vec<Item> = change
        .changed
        .iter()
        .map(|c| (c.heading.as_deref(), c.provisions.as_slice(), words(&c.words)))
        .collect();
    html! {
        article.change id={ (document_id) "-" (fragment(short)) } {
            "\n"
            h3 {
                (time(change.date, "%Y-%m-%d")) " "
                (linked(version.as_ref(), html! { span.summary { (change.summary) } }))
            } "\n"
            p.meta {
                (badge(change)) " commit "
                (linked(commit_url.as_ref(), html! { code { (short) } }))
                @for url in &change.source_urls {
                    " · source "
                    @match Href::web(url) {
                        Some(href) => { a.url href=(href) { (url) } }
                        None => { (url) }
                    }
                }
                @if let Some(declared) = change.declared_date {
                    " · declared date " (declared)
                    @if let Some(previous) = previous_declared {
                        " (was " (previous) ")"
                    }
                }
            } "\n"
            @if !change.provisions.is_empty() {
                div.provisions {
                    span.muted { "Provisions:" } " "
                    ul.tags { @for provision in &change.provisions { li { (provision) } } }
                } "\n"
            }
            (provisions_changed(&change.provisions_changed))
            @for flag in &change.flags {
                p.flag { strong { "Note:" } " " (flag.describe()) "." } "\n"
            }
            (sentence_list(super::model::added_title(change.change), plain(&change.added)))
            (sentence_list("Removed", plain(&change.removed)))
            (sentence_list("Changed", changed))
            (sentence_list("Moved", plain(&change.moved)))
            @if change.other_sentence_changes > 0 {
                p.muted.folded { (super::markdown::folded(change)) } "\n"
            }
        } "\n"
    }
}

/// What the change did to each provision, a flipped stance set apart.
pub fn provisions_changed(shifts: &[ProvisionShift]) -> Markup {
    html! {
        @if !shifts.is_empty() {
            div.provisions-changed {
                span.muted { "Provisions changed:" } "\n"
                ul {
                    @for shift in shifts {
                        li class=[shift.flipped().then_some("flipped")] {
                            (shift.to_string())
                            @if shift.flipped() { " " strong { "(stance flipped)" } }
                        }
                    }
                }
            } "\n"
        }
    }
}

/// `<span class="badge badge-substantive">substantive</span>`.
pub fn badge(change: &Change) -> Markup {
    html! { span class={ "badge badge-" (change.change) } { (change.change) } }
}

/// A sentence of a list: its section heading, the provisions it states, its text.
type Item<'a> = (Option<&'a str>, &'a [String], Markup);

/// Whole sentences as list items.
fn plain(items: &[Sentence]) -> Vec<Item<'_>> {
    items
        .iter()
        .map(|s| (s.heading.as_deref(), s.provisions.as_slice(), html! { (s.text) }))
        .collect()
}

/// One titled list of sentences, each under its muted section heading; a sentence that
/// states a provision is marked (class `provision`) and labelled with its ids.
fn sentence_list(title: &str, items: Vec<Item>) -> Markup {
    html! {
        @if !items.is_empty() {
            h4 { (title) } "\n"
            ul class={ "sentences " (title.to_ascii_lowercase()) } {
                "\n"
                @for (heading, provisions, sentence) in &items {
                    li class=[(!provisions.is_empty()).then_some("provision")] {
                        @if let Some(heading) = heading {
                            span.section-label { (heading) }
                        }
                        @if !provisions.is_empty() {
                            span.provision-label { "Provision: " (provisions.join(", ")) } " "
                        }
                        (sentence)
                    } "\n"
                }
            } "\n"
        }
    }
}

/// A changed sentence with removed words in `<del>` and added words in `<ins>`.
fn words(pieces: &[WordPiece]) -> Markup {
    html! {
        @for piece in pieces {
            @match piece {
                WordPiece::Same(t) => { (t) }
                WordPiece::Removed(t) => { del { (t) } }
                WordPiece::Added(t) => { ins { (t) } }
            }
        }
    }
}

/// `content` inside a link to `href`, or as it is without one.
pub fn linked(href: Option<&Href>, content: Markup) -> Markup {
    html! {
        @match href {
            Some(href) => { a href=(href) { (content) } }
            None => { (content) }
        }
    }
}

/// A document's id: `service-document`.
fn anchor(service: &str, document: &str) -> String {
    fragment(&format!("{service}-{document}"))
}

/// Text usable as an id and URL fragment: other characters become `-`.
fn fragment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Inline so the page needs nothing else. Colours come from variables so dark mode and
/// print only swap the palette; insertions and deletions are also underlined and struck
/// through, and list markers say +/−, so nothing depends on colour alone.
const CSS: &str = r#"
:root {
  color-scheme: light dark;
  --fg: #1a1a1a; --muted: #595959; --bg: #ffffff; --panel: #f3f3f0; --line: #d4d4ce;
  --link: #0a58ca; --accent: #9a4a00; --flag-bg: #fff3d6;
  --del-bg: #fde2df; --del-fg: #8b1a1a; --ins-bg: #d9f2e0; --ins-fg: #0f5a2a;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6e6e3; --muted: #a9a9a4; --bg: #151515; --panel: #222222; --line: #3d3d3d;
    --link: #8ab4f8; --accent: #f0a23b; --flag-bg: #3a2e12;
    --del-bg: #4b1e1e; --del-fg: #ffb3ad; --ins-bg: #16391f; --ins-fg: #a5e3b3;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 1rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header.site, main, footer.site { max-width: 60rem; margin: 0 auto; padding: 0 1.25rem; }
header.site { border-bottom: 1px solid var(--line); }
.brand { margin: .75rem 0; font-weight: 700; letter-spacing: .02em; }
footer.site { margin-top: 3rem; border-top: 1px solid var(--line); color: var(--muted); font-size: .875rem; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 1.5rem 0 .5rem; }
h2 { font-size: 1.4rem; line-height: 1.3; margin: 2rem 0 .5rem; }
h3 { font-size: 1.1rem; line-height: 1.4; margin: 0 0 .25rem; }
h4 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 1rem 0 .25rem; }
a { color: var(--link); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.muted, .service, .section-label { color: var(--muted); }
.lead { font-size: 1.15rem; margin: .25rem 0; }
nav.toc { background: var(--panel); border-radius: .5rem; padding: .75rem 1.25rem; margin: 1.5rem 0; }
nav.toc h2 { font-size: 1rem; margin: 0 0 .25rem; }
nav.toc ul { margin: 0; padding-left: 1.25rem; }
section.document { border-top: 2px solid var(--line); margin-top: 2.5rem; }
.timeline { display: block; width: 100%; height: auto; margin: .5rem 0 1rem; }
.timeline .axis, .timeline .tick { stroke: var(--muted); stroke-width: 1; }
.timeline .label { fill: var(--muted); font-size: 11px; font-family: inherit; }
.timeline .marker { fill: var(--accent); stroke: var(--accent); stroke-width: 2; }
.timeline .marker-first { fill: var(--bg); }
article.change { border-left: 3px solid var(--line); padding-left: 1rem; margin: 1.75rem 0; }
time { font-variant-numeric: tabular-nums; }
.meta { margin: .25rem 0; font-size: .9rem; }
.badge {
  display: inline-block; padding: 0 .5em; border: 1px solid currentColor; border-radius: 1em;
  font-size: .75rem; text-transform: uppercase; letter-spacing: .05em;
}
.badge-substantive { color: var(--accent); }
.badge-first { color: var(--muted); }
.url { word-break: break-all; }
.provisions { font-size: .9rem; margin: .25rem 0; }
.provisions-changed { font-size: .9rem; margin: .25rem 0; }
.provisions-changed ul { margin: .25rem 0; }
.provisions-changed li.flipped { font-weight: 600; }
ul.tags { display: inline; list-style: none; margin: 0; padding: 0; }
ul.tags li {
  display: inline-block; margin: .1rem .25rem .1rem 0; padding: 0 .5em;
  background: var(--panel); border: 1px solid var(--line); border-radius: .25rem;
}
.flag { background: var(--flag-bg); border-left: 4px solid var(--accent); padding: .5rem .75rem; margin: .5rem 0; }
ul.sentences { margin: 0; padding-left: 1.5rem; }
ul.sentences li { margin: .4rem 0; }
ul.added li::marker { content: "+  "; }
ul.removed li::marker { content: "−  "; }
ul.changed li::marker { content: "~  "; }
ul.moved li::marker { content: "↕  "; }
.section-label { display: block; font-size: .75rem; }
ul.sentences li.provision { background: var(--flag-bg); border-radius: .25rem; padding: .1rem .4rem; }
.provision-label {
  display: inline-block; margin-right: .35rem; padding: 0 .4em; font-size: .75rem;
  border: 1px solid var(--accent); border-radius: .25rem; color: var(--accent);
}
del { background: var(--del-bg); color: var(--del-fg); text-decoration: line-through; }
del + ins { margin-left: .15em; }
ins { background: var(--ins-bg); color: var(--ins-fg); text-decoration: underline; text-underline-offset: .15em; }
/* Screen readers do not announce del and ins by default; these words are read but not shown. */
del::before, del::after, ins::before, ins::after {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;
}
del::before { content: " [deleted: "; }
ins::before { content: " [inserted: "; }
del::after, ins::after { content: "] "; }
@media print {
  :root {
    --fg: #000000; --muted: #444444; --bg: #ffffff; --panel: #ffffff; --line: #999999;
    --link: #000000; --accent: #7a3a00; --flag-bg: #ffffff;
  }
  body { font-size: 11pt; }
  nav.toc { display: none; }
  .timeline, ul.sentences li, .flag { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  a[href^="http"]:not(.url)::after { content: " (" attr(href) ")"; font-size: .8em; word-break: break-all; }
  del, ins { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::ChangeKind;
    use crate::report::Counts;
    use crate::report::model::{ChangedSentence, Flag};

    const HOSTILE: &str = "<script>alert(1)</script> \"&'";
    // maud leaves `'` as it is: its attribute values are always in double quotes.
    const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&amp;'";

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn sentence(position: usize, text: &str, heading: Option<&str>) -> Sentence {
        Sentence {
            position,
            text: text.into(),
            heading: heading.map(Into::into),
            provisions: vec![],
        }
    }

    fn change(service: &str, document: &str, commit: &str, date: &str, kind: ChangeKind) -> Change {
        Change {
            service: service.into(),
            document: document.into(),
            commit: commit.into(),
            commit_url: None,
            date: at(date),
            change: kind,
            reverts_to: None,
            summary: format!("{service} {document}: changed"),
            source_urls: vec![format!("https://{service}.example/{document}")],
            counts: Counts::default(),
            provisions: vec![],
            provisions_changed: vec![],
            declared_date: None,
            previous_declared_date: None,
            flags: vec![],
            added: vec![],
            removed: vec![],
            changed: vec![],
            moved: vec![],
            other_sentence_changes: 0,
        }
    }

    fn report() -> Report {
        let mut newest = change(
            "acme",
            "privacy-policy",
            &"a".repeat(40),
            "2026-03-20T09:30:00Z",
            ChangeKind::Substantive,
        );
        newest.commit_url = Some(format!("https://github.com/o/r/commit/{}", "a".repeat(40)));
        newest.summary = format!("Acme Privacy Policy: {HOSTILE}");
        newest.provisions = vec!["data-retention".into(), "ai-training".into()];
        newest.flags = vec![Flag::DeclaredDateUnchanged];
        newest.added = vec![sentence(0, HOSTILE, Some("Data & you"))];
        newest.removed = vec![sentence(1, "We never sell data.", None)];
        newest.changed = vec![ChangedSentence {
            position: 2,
            old: "We keep data for 30 days.".into(),
            new: "We keep data for 90 days.".into(),
            words: super::super::words::word_diff("We keep data for 30 days.", "We keep data for 90 days."),
            heading: Some("Retention".into()),
            provisions: vec![],
        }];
        newest.moved = vec![sentence(3, "Contact us at privacy@acme.example.", Some("Contact"))];
        let older = change(
            "acme",
            "privacy-policy",
            &"b".repeat(40),
            "2026-03-02T00:00:00Z",
            ChangeKind::First,
        );
        let other = change(
            "globex",
            "terms",
            &"c".repeat(40),
            "2026-03-10T12:00:00Z",
            ChangeKind::Substantive,
        );
        Report {
            schema: 1,
            generated_at: at("2026-04-01T06:00:00Z"),
            since: at("2026-03-01T00:00:00Z"),
            until: at("2026-04-01T00:00:00Z"),
            documents: vec![
                DocumentChanges {
                    service: "acme".into(),
                    document: "privacy-policy".into(),
                    changes: vec![newest, older],
                },
                DocumentChanges {
                    service: "globex".into(),
                    document: "terms".into(),
                    changes: vec![other],
                },
            ],
        }
    }

    /// Every element except `<meta>` must be closed (or self-closed), in nesting order.
    fn assert_balanced(html: &str) {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            let end = start + rest[start..].find('>').expect("unterminated tag");
            let tag = &rest[start + 1..end];
            rest = &rest[end + 1..];
            if tag.starts_with('!') || tag.ends_with('/') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "unexpected </{name}>");
            } else {
                let name = tag.split_whitespace().next().unwrap();
                if name != "meta" {
                    stack.push(name);
                }
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    fn count_open(html: &str, tag: &str) -> usize {
        html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count()
    }

    #[test]
    fn renders_documents_changes_and_sentences() {
        let html = render(&report());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>Policy changes, 2026-03-01 to 2026-03-31</title>"));
        assert!(html.contains("<p class=\"lead\">3 changes in 2 documents.</p>"));
        assert!(html.contains("<section class=\"document\" id=\"acme-privacy-policy\""));
        assert!(html.contains("<section class=\"document\" id=\"globex-terms\""));
        assert!(html.contains("<a href=\"#acme-privacy-policy\">privacy-policy</a>"));
        assert!(html.contains("We keep data for <del>30</del><ins>90</ins> days."));
        assert!(html.contains("<span class=\"section-label\">Data &amp; you</span>"));
        assert!(html.contains("<li>data-retention</li><li>ai-training</li>"));
        assert!(html.contains("the text changed but its declared date did not"));
        assert!(html.contains("<span class=\"badge badge-first\">first</span>"));
        // A commit with a URL is a link; one without is its short id as text.
        assert!(html.contains(&format!(
            "href=\"https://github.com/o/r/commit/{}\"><code>aaaaaaaaaaaa</code></a>",
            "a".repeat(40)
        )));
        assert!(html.contains("commit <code>bbbbbbbbbbbb</code>"));
        assert!(html.contains("href=\"https://globex.example/terms\""));
        for title in ["Added", "Removed", "Changed", "Moved"] {
            assert_eq!(html.matches(&format!("<h4>{title}</h4>")).count(), 1, "{title}");
        }
        // Newest first, as in the model.
        assert!(html.find("2026-03-20</time>").unwrap() < html.find("2026-03-02</time>").unwrap());
    }

    #[test]
    fn escapes_hostile_text_and_has_no_script() {
        let html = render(&report());
        assert!(!html.to_lowercase().contains("<script"), "{html}");
        assert!(
            html.contains(&format!(
                "<li><span class=\"section-label\">Data &amp; you</span>{HOSTILE_ESCAPED}</li>"
            )),
            "{html}"
        );
        assert!(html.contains(&format!(
            "<span class=\"summary\">Acme Privacy Policy: {HOSTILE_ESCAPED}</span>"
        )));
        // Only web addresses and relative paths become link targets.
        assert_eq!(Href::web("javascript:alert(1)"), None);
        assert_eq!(Href::web(" JaVaScRiPt:alert(1)"), None);
        assert_eq!(Href::web("data:text/html,x"), None);
        assert_eq!(
            Href::web("HTTPS://a.example/x").unwrap().as_str(),
            "HTTPS://a.example/x"
        );
        assert_eq!(
            Href::relative("javascript:alert(1)".into()).as_str(),
            "./javascript:alert(1)"
        );
        assert_eq!(Href::relative("../a/b.html#c:d".into()).as_str(), "../a/b.html#c:d");
        let mut hostile = report();
        hostile.documents[0].changes[0].commit_url = Some("javascript:alert(1)".into());
        hostile.documents[0].changes[0].source_urls = vec!["javascript:alert(2)".into()];
        let html = render(&hostile);
        assert!(!html.contains("href=\"javascript:"), "{html}");
        assert!(html.contains(" · source javascript:alert(2)"), "{html}");
    }

    #[test]
    fn one_timeline_per_document_with_a_marker_per_change() {
        let html = render(&report());
        let svgs: Vec<&str> = html
            .split("<svg ")
            .skip(1)
            .map(|s| &s[..s.find("</svg>").unwrap()])
            .collect();
        assert_eq!(svgs.len(), 2);
        assert_eq!(svgs[0].matches("class=\"marker ").count(), 2);
        assert_eq!(svgs[1].matches("class=\"marker ").count(), 1);
        assert!(svgs[0].contains("role=\"img\" aria-label=\"Timeline of 2 changes to acme/privacy-policy"));
        assert!(svgs[0].contains("<title>2026-03-20: Acme Privacy Policy: &lt;script&gt;"));
        assert!(svgs[0].contains(">2026-03-01</text>") && svgs[0].contains(">2026-03-31</text>"));
        // A 31-day window has a tick at each of the 30 midnights inside it.
        assert_eq!(svgs[0].matches("class=\"tick\"").count(), 30);
    }

    #[test]
    fn is_well_formed_and_deterministic() {
        let html = render(&report());
        for tag in ["section", "ul", "li", "svg", "article", "nav"] {
            assert_eq!(
                count_open(&html, tag),
                html.matches(&format!("</{tag}>")).count(),
                "<{tag}>"
            );
        }
        assert_balanced(&html);
        assert_eq!(html, render(&report()));
    }

    #[test]
    fn empty_report_is_friendly() {
        let mut empty = report();
        empty.documents.clear();
        let html = render(&empty);
        assert!(html.contains("No substantive changes in this period."));
        assert!(!html.contains("<svg") && !html.contains("<nav"));
        assert_balanced(&html);
    }

    /// Markup is written with `html!` only: no module that writes pages builds a tag in a
    /// string, and the only text let through unescaped is a style sheet constant.
    #[test]
    fn pages_are_built_only_with_the_template_macro() {
        let sources = [
            ("report/html.rs", include_str!("html.rs")),
            ("report/provisions_html.rs", include_str!("provisions_html.rs")),
            ("report/atom.rs (its HTML content)", include_str!("atom.rs")),
            ("site/pages.rs", include_str!("../site/pages.rs")),
            ("site/text.rs", include_str!("../site/text.rs")),
            ("site/mod.rs", include_str!("../site/mod.rs")),
        ];
        let opt_out = ["Pre", "Escaped("].concat();
        let mut opt_outs = 0;
        for (name, source) in sources {
            let code = source.split("#[cfg(test)]").next().unwrap();
            let code = if name.starts_with("report/atom.rs") {
                // The feed's XML is escaped by `xml()`; only its embedded HTML must be maud's.
                &code[code.find("fn content(").unwrap()..code.find("/// Escapes text for XML").unwrap()]
            } else {
                code
            };
            for (n, line) in code.lines().enumerate() {
                let line = line.trim_start();
                if line.starts_with("//") {
                    continue;
                }
                assert!(!line.contains("\"<"), "{name}:{}: markup in a string: {line}", n + 1);
            }
            opt_outs += code.matches(opt_out.as_str()).count();
        }
        assert_eq!(opt_outs, 1, "only `style` may splice unescaped text");
        assert!(include_str!("html.rs").contains(&format!("html! {{ style {{ ({opt_out}css)) }} \"\\n\" }}")));
    }

    #[test]
    fn page_escapes_its_title() {
        let html = page("A <b> & \"c\"", &html! { p { "body" } "\n" });
        assert!(html.contains("<title>A &lt;b&gt; &amp; &quot;c&quot;</title>"));
        assert!(html.contains("<main>\n<p>body</p>\n</main>"));
        assert_balanced(&html);
    }
}
