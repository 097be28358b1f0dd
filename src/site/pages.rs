//! The site's pages, in the report's page shell with a navigation bar and a few styles
//! of their own. Every URL is relative; every text is escaped.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use super::text::{self, TextContext};
use super::{DocumentEntry, Period, ServiceNames, SiteError, SiteWriter};
use crate::archive::ChangeKind;
use crate::report::blame::BlameLine;
use crate::report::html::{SiteLinks, change_article, escape, page_with, plural, render_body, timeline_svg};
use crate::report::model::{Change, DocumentChanges, Report};
use crate::report::provisions::{Comparison, Matrix};
use crate::report::provisions_html::{self, TABLE_CSS};
use crate::report::{atom, summary};

/// Versions listed on a document page before the rest fold away.
const VERSIONS_SHOWN: usize = 10;

/// Links from a page `root` levels below the site's root (`""`, `"../"`, ...).
struct Links {
    root: &'static str,
}

/// The file of a version's page in its document's folder.
fn version_file(commit: &str) -> String {
    format!("{}.html", commit.get(..12).unwrap_or(commit))
}

impl SiteLinks for Links {
    fn document(&self, service: &str, document: &str) -> String {
        format!("{}documents/{service}/{document}/index.html", self.root)
    }

    fn version(&self, service: &str, document: &str, commit: &str) -> String {
        format!("{}documents/{service}/{document}/{}", self.root, version_file(commit))
    }

    fn provision(&self, id: &str) -> String {
        format!("{}provisions/{id}.html", self.root)
    }
}

const TOP: Links = Links { root: "" };
const SECTION: Links = Links { root: "../" };
const DOCUMENT: Links = Links { root: "../../../" };

/// Where a page sits, for the navigation bar: a section's own index is the current
/// page; any other page of it is in the current section.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Documents,
    Reports,
    Provisions,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    IndexOf(Section),
    In(Section),
}

/// A page of the site: the shared shell, the site's styles and navigation.
fn site_page(title: &str, links: &Links, place: Place, head_html: &str, body_html: &str) -> String {
    let root = links.root;
    let mut nav = String::from("<nav class=\"site\" aria-label=\"Site\"><ul>");
    for (section, href, label) in [
        (Section::Documents, "index.html", "Documents"),
        (Section::Reports, "reports/index.html", "Reports"),
        (Section::Provisions, "provisions/index.html", "Provisions"),
    ] {
        let current = match place {
            Place::IndexOf(s) if s == section => " aria-current=\"page\"",
            Place::In(s) if s == section => " aria-current=\"true\"",
            _ => "",
        };
        let _ = write!(nav, "<li><a href=\"{root}{href}\"{current}>{label}</a></li>");
    }
    let _ = write!(nav, "<li><a href=\"{root}feed.xml\">Atom feed</a></li></ul></nav>");
    let head = format!("<style>{SITE_CSS}</style>\n{head_html}");
    page_with(title, &head, &nav, body_html)
}

fn feed_link(title: &str, href: &str) -> String {
    format!(
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{}\" href=\"{}\">\n",
        escape(title),
        escape(href)
    )
}

fn time(t: DateTime<Utc>, format: &str) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        t.to_rfc3339_opts(SecondsFormat::Secs, true),
        t.format(format)
    )
}

fn generated(now: DateTime<Utc>) -> String {
    format!(
        "<p class=\"muted\">Generated {}. All dates are UTC.</p>\n",
        time(now, "%Y-%m-%d %H:%M UTC")
    )
}

fn badge(kind: ChangeKind) -> String {
    format!("<span class=\"badge badge-{kind}\">{kind}</span>")
}

/// `+3 −1 ~2 ↕1`, with the words in a tooltip; first records and re-extractions say so.
fn counts(change: &Change) -> String {
    match change.change {
        ChangeKind::First => format!(
            "<span class=\"counts\">{}</span>",
            plural(change.counts.added, "sentence")
        ),
        ChangeKind::Reextract => "<span class=\"counts\">re-extracted</span>".to_string(),
        ChangeKind::Substantive | ChangeKind::Cosmetic | ChangeKind::Revert => {
            let c = &change.counts;
            let mut text = format!("+{} −{} ~{}", c.added, c.removed, c.changed);
            if c.moved > 0 {
                let _ = write!(text, " ↕{}", c.moved);
            }
            format!(
                "<span class=\"counts\" title=\"{}\">{text}</span>",
                escape(&summary::describe(c))
            )
        }
    }
}

/// The front page: the latest changes, then every service's documents with their last
/// change.
pub fn index(
    entries: &[DocumentEntry],
    names: &ServiceNames,
    recent: &[&Change],
    version_count: usize,
    now: DateTime<Utc>,
) -> String {
    let mut services: Vec<(&str, Vec<&DocumentEntry>)> = Vec::new();
    for entry in entries {
        match services.last_mut() {
            Some((service, list)) if *service == entry.service => list.push(entry),
            _ => services.push((&entry.service, vec![entry])),
        }
    }
    let recorded = entries.iter().filter(|e| e.history.is_some()).count();
    let mut body = String::from("<h1>Platform policies, version by version</h1>\n");
    let _ = writeln!(
        body,
        "<p class=\"lead\">{} of {} tracked, {} recorded.</p>",
        plural(entries.len(), "document"),
        plural(services.len(), "service"),
        plural(version_count, "version")
    );
    if recorded < entries.len() {
        let _ = writeln!(
            body,
            "<p class=\"muted\">{} not recorded yet.</p>",
            plural(entries.len() - recorded, "document")
        );
    }
    body.push_str(&generated(now));

    if !services.is_empty() {
        body.push_str("<nav class=\"toc\" aria-labelledby=\"services\">\n<h2 id=\"services\">Services</h2>\n<ul class=\"inline\">\n");
        for (service, _) in &services {
            let _ = writeln!(
                body,
                "<li><a href=\"#service-{service}\">{}</a></li>",
                escape(&names.service(service))
            );
        }
        body.push_str("</ul>\n</nav>\n");
    }

    body.push_str("<h2 id=\"latest\">Latest changes</h2>\n");
    if recent.is_empty() {
        body.push_str("<p>No changes recorded yet.</p>\n");
    } else {
        body.push_str("<ul class=\"recent\">\n");
        for change in recent {
            let _ = writeln!(
                body,
                "<li>{} {} <a href=\"{}\">{}</a></li>",
                time(change.date, "%Y-%m-%d"),
                badge(change.change),
                escape(&TOP.version(&change.service, &change.document, &change.commit)),
                escape(&change.summary)
            );
        }
        body.push_str("</ul>\n<p><a href=\"reports/index.html\">Reports by period</a></p>\n");
    }

    body.push_str("<h2 id=\"documents\">Documents</h2>\n");
    for (service, list) in &services {
        let _ = writeln!(
            body,
            "<section class=\"service\" id=\"service-{service}\" aria-labelledby=\"service-{service}-title\">\n\
             <h3 id=\"service-{service}-title\">{}</h3>",
            escape(&names.service(service))
        );
        body.push_str(
            "<table class=\"list\"><thead><tr><th scope=\"col\">Document</th><th scope=\"col\">Last change</th>\
             <th scope=\"col\">Kind</th><th scope=\"col\">Sentences</th><th scope=\"col\">Versions</th></tr></thead><tbody>\n",
        );
        for entry in list {
            let title = escape(&crate::declaration::title_from_slug(&entry.document));
            match &entry.history {
                Some(history) => {
                    let last = &history.last;
                    let _ = writeln!(
                        body,
                        "<tr><td><a href=\"{}\">{title}</a></td><td><a href=\"{}\" title=\"{}\">{}</a></td>\
                         <td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                        escape(&TOP.document(&entry.service, &entry.document)),
                        escape(&TOP.version(&entry.service, &entry.document, &last.commit)),
                        escape(&last.summary),
                        time(last.date, "%Y-%m-%d"),
                        badge(last.change),
                        counts(last),
                        history.versions
                    );
                }
                None => {
                    let _ = writeln!(
                        body,
                        "<tr><td>{title}</td><td colspan=\"4\" class=\"muted\">not recorded yet</td></tr>"
                    );
                }
            }
        }
        body.push_str("</tbody></table>\n</section>\n");
    }
    site_page(
        "Platform policies, version by version",
        &TOP,
        Place::IndexOf(Section::Documents),
        &feed_link("Policy changes: all documents", "feed.xml"),
        &body,
    )
}

/// A document's pages: its own, and one per version.
pub struct DocumentPage<'a> {
    pub service: &'a str,
    pub document: &'a str,
    pub names: &'a ServiceNames,
    /// Every version, oldest first, as a change against the one before.
    pub changes: &'a [Change],
    pub text: &'a str,
    pub blame: &'a [BlameLine],
    pub now: DateTime<Utc>,
}

impl DocumentPage<'_> {
    pub fn write(&self, writer: &mut SiteWriter) -> Result<(), SiteError> {
        let folder = format!("documents/{}/{}", self.service, self.document);
        writer.write(&format!("{folder}/index.html"), self.document_page().as_bytes())?;
        for (i, change) in self.changes.iter().enumerate() {
            let older = i.checked_sub(1).map(|j| &self.changes[j]);
            let newer = self.changes.get(i + 1);
            writer.write(
                &format!("{folder}/{}", version_file(&change.commit)),
                self.version_page(change, older, newer).as_bytes(),
            )?;
        }
        Ok(())
    }

    fn title(&self) -> String {
        self.names.document(self.service, self.document)
    }

    fn crumbs(&self, here: Option<&str>) -> String {
        let mut out = format!(
            "<p class=\"crumbs\"><a href=\"{}index.html#service-{}\">{}</a>",
            DOCUMENT.root,
            self.service,
            escape(&self.names.service(self.service))
        );
        if let Some(here) = here {
            let _ = write!(
                out,
                " › <a href=\"index.html\">{}</a> › {}",
                escape(&crate::declaration::title_from_slug(self.document)),
                escape(here)
            );
        }
        out.push_str("</p>\n");
        out
    }

    fn document_page(&self) -> String {
        let title = self.title();
        let (first, last) = (&self.changes[0], &self.changes[self.changes.len() - 1]);
        let mut body = self.crumbs(None);
        let _ = writeln!(
            body,
            "<h1>{} <span class=\"muted slug\">{}/{}</span></h1>",
            escape(&title),
            self.service,
            self.document
        );
        let _ = writeln!(
            body,
            "<p class=\"lead\">{} since {}; last changed {} ({}).</p>",
            plural(self.changes.len(), "version"),
            time(first.date, "%Y-%m-%d"),
            time(last.date, "%Y-%m-%d"),
            last.change
        );
        body.push_str("<p class=\"meta\">");
        for url in last
            .source_urls
            .iter()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        {
            let _ = write!(body, "Source <a class=\"url\" href=\"{0}\">{0}</a> · ", escape(url));
        }
        body.push_str("<a href=\"feed.xml\">Atom feed of its changes</a> · <a href=\"#text\">Current text</a></p>\n");
        body.push_str(&generated(self.now));

        // The timeline runs from the day of the first record to now.
        let since = first.date.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        let until = self.now.max(last.date + chrono::Duration::seconds(1));
        let all = DocumentChanges {
            service: self.service.to_string(),
            document: self.document.to_string(),
            changes: self.changes.iter().rev().cloned().collect(),
        };
        body.push_str(&timeline_svg(since, until, &all, Some(&DOCUMENT)));

        body.push_str("<h2 id=\"versions\">Versions</h2>\n");
        let newest_first: Vec<&Change> = self.changes.iter().rev().collect();
        let (shown, folded) = newest_first.split_at(newest_first.len().min(VERSIONS_SHOWN));
        versions_table(&mut body, shown);
        if !folded.is_empty() {
            let _ = writeln!(
                body,
                "<details><summary>{} older</summary>",
                plural(folded.len(), "version")
            );
            versions_table(&mut body, folded);
            body.push_str("</details>\n");
        }

        let _ = writeln!(body, "<h2 id=\"text\">Current text</h2>");
        let _ = writeln!(
            body,
            "<p class=\"legend\">Every sentence says since when it has stood (hover or tap it). Sentences \
             that arrived after the first record of {} are shaded — <span class=\"s new age-month\">in the \
             last 30 days</span>, <span class=\"s new age-year\">in the last year</span>, or earlier — and \
             link to the version that brought them.</p>",
            first.date.format("%Y-%m-%d")
        );
        let context = TextContext {
            service: self.service,
            document: self.document,
            first_commit: &first.commit,
            links: &DOCUMENT,
        };
        body.push_str(&text::render(self.text, self.blame, &context));
        site_page(
            &title,
            &DOCUMENT,
            Place::In(Section::Documents),
            &feed_link(&format!("Policy changes: {title}"), "feed.xml"),
            &body,
        )
    }

    fn version_page(&self, change: &Change, older: Option<&Change>, newer: Option<&Change>) -> String {
        let day = change.date.format("%Y-%m-%d").to_string();
        let title = format!("{}, version of {day}", self.title());
        let mut body = self.crumbs(Some(&format!("version of {day}")));
        let _ = writeln!(body, "<h1>{}</h1>", escape(&title));
        body.push_str("<nav class=\"pager\" aria-label=\"Versions\"><ul>");
        if let Some(older) = older {
            let _ = write!(
                body,
                "<li><a rel=\"prev\" href=\"{}\">← older version, {}</a></li>",
                version_file(&older.commit),
                older.date.format("%Y-%m-%d")
            );
        }
        body.push_str("<li><a href=\"index.html#versions\">all versions</a></li>");
        if let Some(newer) = newer {
            let _ = write!(
                body,
                "<li><a rel=\"next\" href=\"{}\">newer version, {} →</a></li>",
                version_file(&newer.commit),
                newer.date.format("%Y-%m-%d")
            );
        }
        body.push_str("</ul></nav>\n");
        body.push_str(&change_article(change, None));
        if change.added.is_empty() && change.removed.is_empty() && change.changed.is_empty() && change.moved.is_empty()
        {
            body.push_str("<p class=\"muted\">No sentence differs from the version before: only the layout of the text changed.</p>\n");
        }
        site_page(&title, &DOCUMENT, Place::In(Section::Documents), "", &body)
    }
}

fn versions_table(body: &mut String, changes: &[&Change]) {
    body.push_str(
        "<table class=\"list\"><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Kind</th>\
         <th scope=\"col\">Sentences</th><th scope=\"col\">Summary</th></tr></thead><tbody>\n",
    );
    for change in changes {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td></tr>",
            time(change.date, "%Y-%m-%d %H:%M"),
            badge(change.change),
            counts(change),
            version_file(&change.commit),
            escape(&change.summary)
        );
    }
    body.push_str("</tbody></table>\n");
}

/// An Atom feed of `changes` (newest first), with the identity `clausewatch feed` gives
/// the same scope, so readers see one feed whichever way it was made.
pub fn feed(scope: &str, now: DateTime<Utc>, changes: &[&Change]) -> String {
    let title = if scope == "all" {
        "Policy changes: all documents".to_string()
    } else {
        format!("Policy changes: {scope}")
    };
    atom::render(&title, &format!("tag:clausewatch,2026:feed/{scope}"), now, changes)
}

/// A period report, its documents and changes linking to their pages.
pub fn report(report: &Report) -> String {
    let (title, body) = render_body(report, Some(&SECTION));
    site_page(&title, &SECTION, Place::In(Section::Reports), "", &body)
}

pub fn reports_index(periods: &[Period], now: DateTime<Utc>) -> String {
    let mut body = String::from("<h1>Reports</h1>\n");
    body.push_str(
        "<p class=\"lead\">Every substantive change and first record in a period, grouped by document, \
         with the sentences added, removed, changed and moved.</p>\n",
    );
    body.push_str(&generated(now));
    body.push_str(
        "<table class=\"list\"><thead><tr><th scope=\"col\">Period</th><th scope=\"col\">From</th>\
         <th scope=\"col\">To</th><th scope=\"col\">Changes</th><th scope=\"col\">Documents</th></tr></thead><tbody>\n",
    );
    for period in periods {
        let _ = writeln!(
            body,
            "<tr><td><a href=\"{}.html\">{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            period.slug,
            escape(&period.label),
            period.report.since.format("%Y-%m-%d"),
            period.report.last_day(),
            period.report.change_count(),
            period.report.documents.len()
        );
    }
    body.push_str("</tbody></table>\n");
    site_page("Reports", &SECTION, Place::IndexOf(Section::Reports), "", &body)
}

pub fn matrix(matrix: &Matrix, taxonomy: &crate::provision::Taxonomy, now: DateTime<Utc>) -> String {
    let (title, mut body) = provisions_html::matrix_body(matrix, taxonomy, Some(&SECTION));
    if matrix.provisions.is_empty() {
        body.push_str("<p>The archive's taxonomy (provisions.toml) defines no provisions.</p>");
    }
    body.push('\n');
    body.push_str(&generated(now));
    site_page(
        &title,
        &SECTION,
        Place::IndexOf(Section::Provisions),
        &format!("<style>{TABLE_CSS}</style>\n"),
        &body,
    )
}

pub fn comparison(comparison: &Comparison) -> String {
    let (title, mut body) = provisions_html::comparison_body(comparison, Some(&SECTION));
    body.push('\n');
    site_page(
        &title,
        &SECTION,
        Place::In(Section::Provisions),
        &format!("<style>{TABLE_CSS}</style>\n"),
        &body,
    )
}

/// What the site's pages need beyond the report's styles.
const SITE_CSS: &str = r#"
:root { --age-month: #cdeed6; --age-year: #ebf6ee; }
@media (prefers-color-scheme: dark) { :root { --age-month: #1f4a2b; --age-year: #1c2b20; } }
header.site { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: 1.5rem; }
nav.site ul, nav.pager ul, ul.inline { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
nav.site a[aria-current="page"] { color: var(--fg); font-weight: 600; text-decoration: none; }
nav.pager { margin: .5rem 0 1rem; }
.crumbs { margin: 1rem 0 0; font-size: .9rem; color: var(--muted); }
.slug { font-size: .9rem; font-weight: 400; }
table.list { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
table.list th, table.list td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
table.list .num { text-align: right; font-variant-numeric: tabular-nums; }
.counts { font-variant-numeric: tabular-nums; white-space: nowrap; }
ul.recent { padding-left: 1.25rem; }
ul.recent li { margin: .3rem 0; }
details { margin: .5rem 0 1rem; }
.badge-cosmetic, .badge-reextract { color: var(--muted); }
.timeline .marker-cosmetic, .timeline .marker-reextract { fill: var(--muted); stroke: var(--muted); }
.legend { font-size: .9rem; color: var(--muted); }
.text { line-height: 1.7; }
.text h2, .text h3, .text h4, .text h5, .text h6 { margin: 1.5rem 0 .5rem; }
.s.new { border-radius: .2em; padding: 0 .1em; -webkit-box-decoration-break: clone; box-decoration-break: clone; }
.s.age-month { background: var(--age-month); }
.s.age-year { background: var(--age-year); }
.text a.since { font-size: .75rem; color: var(--muted); white-space: nowrap; }
.text ul.items { list-style: none; padding-left: 0; margin: .5rem 0; }
.text ul.items li { margin: .2rem 0; }
.text .marker { display: inline-block; min-width: 1.5em; color: var(--muted); }
.text li.depth-2 { margin-left: 1.5rem; } .text li.depth-3 { margin-left: 3rem; }
.text li.depth-4 { margin-left: 4.5rem; } .text li.depth-5, .text li.depth-6 { margin-left: 6rem; }
.text .table { overflow-x: auto; }
.text table { border-collapse: collapse; margin: .5rem 0; }
.text th, .text td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
"#;
