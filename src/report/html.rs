//! Reports as one self-contained HTML page for a journalist: no external assets and no
//! JavaScript, so the file can be mailed, archived or opened offline and looks the same.
//! The output depends only on the report (the one timestamp is `generated_at`), so the
//! same report always gives the same bytes.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveTime, SecondsFormat, Utc};

use super::model::{Change, DocumentChanges, Report, Sentence};
use super::words::WordPiece;

/// Renders a report: title, summary, contents by service, then one section per document
/// with its timeline and its changes, newest first.
pub fn render(report: &Report) -> String {
    let (title, body) = render_body(report, None);
    page(&title, &body)
}

/// Where documents, versions and provisions have pages of their own: on a site built by
/// `clausewatch site`, reports link to them. URLs are relative to the page being written.
pub trait SiteLinks {
    fn document(&self, service: &str, document: &str) -> String;
    fn version(&self, service: &str, document: &str, commit: &str) -> String;
    fn provision(&self, id: &str) -> String;
}

/// A report's title and the content of its `<main>`; with `links`, document headings,
/// change summaries and timeline markers link to the site's pages.
pub fn render_body(report: &Report, links: Option<&dyn SiteLinks>) -> (String, String) {
    let title = format!(
        "Policy changes, {} to {}",
        report.since.format("%Y-%m-%d"),
        report.last_day()
    );
    let mut body = String::new();
    let _ = writeln!(body, "<h1>{}</h1>", escape(&title));
    if report.documents.is_empty() {
        body.push_str("<p class=\"lead\">No substantive changes in this period.</p>\n");
    } else {
        let _ = writeln!(
            body,
            "<p class=\"lead\">{} in {}.</p>",
            plural(report.change_count(), "change"),
            plural(report.documents.len(), "document")
        );
    }
    let _ = writeln!(
        body,
        "<p class=\"muted\">Generated <time datetime=\"{}\">{}</time>. All dates are UTC.</p>",
        report.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        report.generated_at.format("%Y-%m-%d %H:%M UTC")
    );
    if !report.documents.is_empty() {
        contents(&mut body, report);
        for document in &report.documents {
            render_document(&mut body, report, document, links);
        }
    }
    (title, body)
}

/// The shared page shell: everything a page needs except its `<main>` content.
pub fn page(title: &str, body_html: &str) -> String {
    page_with(title, "", "", body_html)
}

/// The page shell with more in it: `head_html` goes at the end of `<head>` (styles,
/// feed links), `header_html` after the brand (a site's navigation).
pub fn page_with(title: &str, head_html: &str, header_html: &str, body_html: &str) -> String {
    let mut out = String::with_capacity(CSS.len() + head_html.len() + body_html.len() + 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n<title>{}</title>\n<style>{CSS}</style>\n{head_html}</head>\n\
         <body>\n<header class=\"site\"><p class=\"brand\">clausewatch</p>{header_html}</header>\n<main>\n{body_html}</main>\n\
         <footer class=\"site\"><p>Archived and compared by clausewatch: every version of each policy is \
         kept in git, and each change links to the commit that holds it.</p></footer>\n</body>\n</html>\n",
        escape(title)
    );
    out
}

/// HTML-escapes text for element content and quoted attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The table of contents, grouped by service in the report's document order.
fn contents(out: &mut String, report: &Report) {
    let mut services: Vec<(&str, Vec<&DocumentChanges>)> = Vec::new();
    for document in &report.documents {
        match services.iter_mut().find(|(service, _)| *service == document.service) {
            Some((_, documents)) => documents.push(document),
            None => services.push((&document.service, vec![document])),
        }
    }
    out.push_str("<nav class=\"toc\" aria-labelledby=\"contents\">\n<h2 id=\"contents\">Contents</h2>\n<ul>\n");
    for (service, documents) in services {
        let _ = writeln!(out, "<li><span class=\"service\">{}</span>\n<ul>", escape(service));
        for document in documents {
            let _ = writeln!(
                out,
                "<li><a href=\"#{}\">{}</a> <span class=\"muted\">({})</span></li>",
                anchor(&document.service, &document.document),
                escape(&document.document),
                plural(document.changes.len(), "change")
            );
        }
        out.push_str("</ul>\n</li>\n");
    }
    out.push_str("</ul>\n</nav>\n");
}

fn render_document(out: &mut String, report: &Report, document: &DocumentChanges, links: Option<&dyn SiteLinks>) {
    let id = anchor(&document.service, &document.document);
    let _ = writeln!(
        out,
        "<section class=\"document\" id=\"{id}\" aria-labelledby=\"{id}-title\">"
    );
    let name = escape(&document.document);
    let name = match links {
        Some(links) => format!(
            "<a href=\"{}\">{name}</a>",
            escape(&links.document(&document.service, &document.document))
        ),
        None => name,
    };
    let _ = writeln!(
        out,
        "<h2 id=\"{id}-title\"><span class=\"service\">{}/</span>{name}</h2>",
        escape(&document.service),
    );
    out.push_str(&timeline_svg(report.since, report.until, document, links));
    for change in &document.changes {
        render_change(out, &id, change, links);
    }
    out.push_str("</section>\n");
}

/// One change as an article: kind, commit, sources, provisions, flags and sentences.
pub fn change_article(change: &Change, links: Option<&dyn SiteLinks>) -> String {
    let mut out = String::new();
    render_change(&mut out, &anchor(&change.service, &change.document), change, links);
    out
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
) -> String {
    let mut out = String::new();
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
    let _ = writeln!(
        out,
        "<svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(&label)
    );
    let _ = writeln!(
        out,
        "<line class=\"axis\" x1=\"{PAD}\" y1=\"{AXIS_Y}\" x2=\"{}\" y2=\"{AXIS_Y}\"/>",
        WIDTH - PAD
    );

    // A tick at each midnight inside the window; past three months, only at each month's start.
    let monthly = (until - since).num_days() > 93;
    let mut day = since.date_naive().succ_opt();
    while let Some(d) = day {
        let t = d.and_time(NaiveTime::MIN).and_utc();
        if t >= until {
            break;
        }
        if !monthly || d.day() == 1 {
            let _ = writeln!(
                out,
                "<line class=\"tick\" x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2}\"/>",
                x(t),
                AXIS_Y - 3.0,
                AXIS_Y + 3.0
            );
        }
        day = d.succ_opt();
    }
    let label_y = HEIGHT - 6.0;
    let _ = writeln!(
        out,
        "<text class=\"label\" x=\"{PAD}\" y=\"{label_y}\" text-anchor=\"start\">{first}</text>"
    );
    let _ = writeln!(
        out,
        "<text class=\"label\" x=\"{}\" y=\"{label_y}\" text-anchor=\"end\">{last}</text>",
        WIDTH - PAD
    );

    // Oldest first, so a marker that would overlap its predecessor moves up a row.
    let mut rows = [f64::NEG_INFINITY; ROWS];
    for change in document.changes.iter().rev() {
        let cx = x(change.date);
        let row = rows
            .iter()
            .position(|&previous| cx - previous > 2.0 * RADIUS)
            .unwrap_or(0);
        rows[row] = cx;
        let marker = format!(
            "<circle class=\"marker marker-{}\" cx=\"{cx:.1}\" cy=\"{}\" r=\"{RADIUS}\"><title>{}: {}</title></circle>",
            change.change,
            AXIS_Y - row as f64 * (2.0 * RADIUS + 3.0),
            change.date.format("%Y-%m-%d"),
            escape(&change.summary)
        );
        match links {
            Some(links) => {
                let href = links.version(&change.service, &change.document, &change.commit);
                let _ = writeln!(out, "<a href=\"{}\">{marker}</a>", escape(&href));
            }
            None => {
                let _ = writeln!(out, "{marker}");
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

fn render_change(out: &mut String, document_id: &str, change: &Change, links: Option<&dyn SiteLinks>) {
    let short = change.commit.get(..12).unwrap_or(&change.commit);
    let _ = writeln!(
        out,
        "<article class=\"change\" id=\"{document_id}-{}\">",
        fragment(short)
    );
    let mut summary = format!("<span class=\"summary\">{}</span>", escape(&change.summary));
    if let Some(links) = links {
        let href = links.version(&change.service, &change.document, &change.commit);
        summary = format!("<a href=\"{}\">{summary}</a>", escape(&href));
    }
    let _ = writeln!(
        out,
        "<h3><time datetime=\"{}\">{}</time> {summary}</h3>",
        change.date.to_rfc3339_opts(SecondsFormat::Secs, true),
        change.date.format("%Y-%m-%d"),
    );

    let _ = write!(
        out,
        "<p class=\"meta\"><span class=\"badge badge-{0}\">{0}</span> commit ",
        change.change
    );
    link(
        out,
        change.commit_url.as_deref(),
        &format!("<code>{}</code>", escape(short)),
        "",
    );
    for url in &change.source_urls {
        out.push_str(" · source ");
        link(out, Some(url), &escape(url), "url");
    }
    if let Some(declared) = change.declared_date {
        let _ = write!(out, " · declared date {declared}");
        if let Some(previous) = change.previous_declared_date.filter(|p| *p != declared) {
            let _ = write!(out, " (was {previous})");
        }
    }
    out.push_str("</p>\n");

    if !change.provisions.is_empty() {
        out.push_str("<div class=\"provisions\"><span class=\"muted\">Provisions:</span> <ul class=\"tags\">");
        for provision in &change.provisions {
            let _ = write!(out, "<li>{}</li>", escape(provision));
        }
        out.push_str("</ul></div>\n");
    }
    for flag in &change.flags {
        let _ = writeln!(
            out,
            "<p class=\"flag\"><strong>Note:</strong> {}.</p>",
            escape(flag.describe())
        );
    }

    sentence_list(out, "Added", plain(&change.added));
    sentence_list(out, "Removed", plain(&change.removed));
    sentence_list(
        out,
        "Changed",
        change
            .changed
            .iter()
            .map(|c| (c.heading.as_deref(), words(&c.words)))
            .collect(),
    );
    sentence_list(out, "Moved", plain(&change.moved));
    out.push_str("</article>\n");
}

/// Whole sentences as (heading, escaped text).
fn plain(items: &[Sentence]) -> Vec<(Option<&str>, String)> {
    items.iter().map(|s| (s.heading.as_deref(), escape(&s.text))).collect()
}

/// One titled list of sentences (already HTML), each under its muted section heading.
fn sentence_list(out: &mut String, title: &str, items: Vec<(Option<&str>, String)>) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h4>{title}</h4>\n<ul class=\"sentences {}\">",
        title.to_ascii_lowercase()
    );
    for (heading, html) in items {
        out.push_str("<li>");
        if let Some(heading) = heading {
            let _ = write!(out, "<span class=\"section-label\">{}</span>", escape(heading));
        }
        let _ = writeln!(out, "{html}</li>");
    }
    out.push_str("</ul>\n");
}

/// A changed sentence with removed words in `<del>` and added words in `<ins>`.
fn words(pieces: &[WordPiece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        let _ = match piece {
            WordPiece::Same(t) => write!(out, "{}", escape(t)),
            WordPiece::Removed(t) => write!(out, "<del>{}</del>", escape(t)),
            WordPiece::Added(t) => write!(out, "<ins>{}</ins>", escape(t)),
        };
    }
    out
}

/// Links only web addresses: a URL with another scheme (`javascript:`) stays plain text.
fn link(out: &mut String, url: Option<&str>, text_html: &str, class: &str) {
    let Some(url) = url.filter(|u| u.starts_with("https://") || u.starts_with("http://")) else {
        out.push_str(text_html);
        return;
    };
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(" class=\"{class}\"")
    };
    let _ = write!(out, "<a{class} href=\"{}\">{text_html}</a>", escape(url));
}

/// A document's id: `service-document`.
fn anchor(service: &str, document: &str) -> String {
    fragment(&format!("{service}-{document}"))
}

/// Text usable unescaped as an id and URL fragment: other characters become `-`.
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
    const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&amp;&#39;";

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn sentence(position: usize, text: &str, heading: Option<&str>) -> Sentence {
        Sentence {
            position,
            text: text.into(),
            heading: heading.map(Into::into),
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
            declared_date: None,
            previous_declared_date: None,
            flags: vec![],
            added: vec![],
            removed: vec![],
            changed: vec![],
            moved: vec![],
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
        assert!(!html.to_lowercase().contains("<script"));
        assert!(html.contains(&format!(
            "<li><span class=\"section-label\">Data &amp; you</span>{HOSTILE_ESCAPED}</li>"
        )));
        assert!(html.contains(&format!(
            "<span class=\"summary\">Acme Privacy Policy: {HOSTILE_ESCAPED}</span>"
        )));
        assert_eq!(escape(HOSTILE), HOSTILE_ESCAPED);
        let mut out = String::new();
        link(&mut out, Some("javascript:alert(1)"), "x", "");
        assert_eq!(out, "x");
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

    #[test]
    fn page_escapes_its_title() {
        let html = page("A <b> & \"c\"", "<p>body</p>\n");
        assert!(html.contains("<title>A &lt;b&gt; &amp; &quot;c&quot;</title>"));
        assert!(html.contains("<main>\n<p>body</p>\n</main>"));
        assert_balanced(&html);
    }
}
