//! The site's pages, in the report's page shell with a navigation bar and a few styles
//! of their own, built with maud's `html!` (every value it splices in is escaped). Every
//! URL is relative or a web address ([`Href`]).

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::text::{self, TextContext};
use super::{DocumentEntry, Period, ServiceNames, SiteError, SiteWriter};
use crate::archive::ChangeKind;
use crate::provision::Taxonomy;
use crate::report::blame::BlameLine;
use crate::report::html::{
    Href, SiteLinks, badge, change_article, page_with, plural, render_body, style, time, timeline_svg,
};
use crate::report::model::{Change, DocumentChanges, Report};
use crate::report::provisions::{Comparison, Matrix};
use crate::report::provisions_html::{self, MATRIX_CSS, TABLE_CSS};
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

/// A link to a version's page from another page of its document.
fn sibling_version(commit: &str) -> Href {
    Href::relative(version_file(commit))
}

// Services, documents and provisions are slugs (checked before any page is written), so
// these paths are plain relative paths.
impl SiteLinks for Links {
    fn document(&self, service: &str, document: &str) -> Href {
        Href::relative(format!("{}documents/{service}/{document}/index.html", self.root))
    }

    fn version(&self, service: &str, document: &str, commit: &str) -> Href {
        Href::relative(format!(
            "{}documents/{service}/{document}/{}",
            self.root,
            version_file(commit)
        ))
    }

    fn provision(&self, id: &str) -> Href {
        Href::relative(format!("{}provisions/{id}.html", self.root))
    }
}

impl Links {
    fn to(&self, path: &str) -> Href {
        Href::relative(format!("{}{path}", self.root))
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
fn site_page(title: &str, links: &Links, place: Place, head: Markup, body: &Markup) -> String {
    let nav = html! {
        nav.site aria-label="Site" {
            ul {
                @for (section, path, label) in [
                    (Section::Documents, "index.html", "Documents"),
                    (Section::Reports, "reports/index.html", "Reports"),
                    (Section::Provisions, "provisions/index.html", "Provisions"),
                ] {
                    @let current = match place {
                        Place::IndexOf(s) if s == section => Some("page"),
                        Place::In(s) if s == section => Some("true"),
                        _ => None,
                    };
                    li { a href=(links.to(path)) aria-current=[current] { (label) } }
                }
                li { a href=(links.to("feed.xml")) { "Atom feed" } }
            }
        }
    };
    let head = html! { (style(SITE_CSS)) (head) };
    page_with(title, &head, &nav, body)
}

fn feed_link(title: &str) -> Markup {
    html! {
        link rel="alternate" type="application/atom+xml" title=(title) href="feed.xml"; "\n"
    }
}

fn generated(now: DateTime<Utc>) -> Markup {
    html! {
        p.muted { "Generated " (time(now, "%Y-%m-%d %H:%M UTC")) ". All dates are UTC." } "\n"
    }
}

/// `+3 −1 ~2 ↕1`, with the words in a tooltip; first records and re-extractions say so.
fn counts(change: &Change) -> Markup {
    let c = &change.counts;
    html! {
        @match change.change {
            ChangeKind::First => span.counts { (plural(c.added, "sentence")) },
            ChangeKind::Reextract => span.counts { "re-extracted" },
            ChangeKind::Substantive | ChangeKind::Cosmetic | ChangeKind::Revert => {
                span.counts title=(summary::describe(c)) {
                    "+" (c.added) " −" (c.removed) " ~" (c.changed)
                    @if c.moved > 0 { " ↕" (c.moved) }
                }
            }
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
    let body = html! {
        h1 { "Platform policies, version by version" } "\n"
        p.lead {
            (plural(entries.len(), "document")) " of " (plural(services.len(), "service"))
            " tracked, " (plural(version_count, "version")) " recorded."
        } "\n"
        @if recorded < entries.len() {
            p.muted { (plural(entries.len() - recorded, "document")) " not recorded yet." } "\n"
        }
        (generated(now))
        @if !services.is_empty() {
            nav.toc aria-labelledby="services" {
                "\n"
                h2 #services { "Services" } "\n"
                ul.inline {
                    "\n"
                    @for (service, _) in &services {
                        li { a href={ "#service-" (service) } { (names.service(service)) } } "\n"
                    }
                } "\n"
            } "\n"
        }
        h2 #latest { "Latest changes" } "\n"
        @if recent.is_empty() {
            p { "No changes recorded yet." } "\n"
        } @else {
            ul.recent {
                "\n"
                @for change in recent {
                    li {
                        (time(change.date, "%Y-%m-%d")) " " (badge(change)) " "
                        a href=(TOP.version(&change.service, &change.document, &change.commit)) { (change.summary) }
                    } "\n"
                }
            } "\n"
            p { a href="reports/index.html" { "Reports by period" } } "\n"
        }
        h2 #documents { "Documents" } "\n"
        @for (service, list) in &services {
            section.service id={ "service-" (service) } aria-labelledby={ "service-" (service) "-title" } {
                "\n"
                h3 id={ "service-" (service) "-title" } { (names.service(service)) } "\n"
                table.list {
                    thead {
                        tr {
                            th scope="col" { "Document" } th scope="col" { "Last change" }
                            th scope="col" { "Kind" } th scope="col" { "Sentences" } th scope="col" { "Versions" }
                        }
                    }
                    tbody {
                        "\n"
                        @for entry in list {
                            @let title = crate::declaration::title_from_slug(&entry.document);
                            @match &entry.history {
                                Some(history) => {
                                    @let last = &history.last;
                                    tr {
                                        td { a href=(TOP.document(&entry.service, &entry.document)) { (title) } }
                                        td {
                                            a href=(TOP.version(&entry.service, &entry.document, &last.commit)) title=(last.summary) {
                                                (time(last.date, "%Y-%m-%d"))
                                            }
                                        }
                                        td { (badge(last)) }
                                        td { (counts(last)) }
                                        td.num { (history.versions) }
                                    }
                                }
                                None => {
                                    tr { td { (title) } td.muted colspan="4" { "not recorded yet" } }
                                }
                            }
                            "\n"
                        }
                    }
                } "\n"
            } "\n"
        }
    };
    site_page(
        "Platform policies, version by version",
        &TOP,
        Place::IndexOf(Section::Documents),
        feed_link("Policy changes: all documents"),
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
    /// The taxonomy, to mark the sentences of a version that state a provision.
    pub taxonomy: &'a Taxonomy,
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

    fn crumbs(&self, here: Option<&str>) -> Markup {
        html! {
            p.crumbs {
                a href=(DOCUMENT.to(&format!("index.html#service-{}", self.service))) { (self.names.service(self.service)) }
                @if let Some(here) = here {
                    " › " a href="index.html" { (crate::declaration::title_from_slug(self.document)) } " › " (here)
                }
            } "\n"
        }
    }

    fn document_page(&self) -> String {
        let title = self.title();
        let (first, last) = (&self.changes[0], &self.changes[self.changes.len() - 1]);
        // The timeline runs from the day of the first record to now.
        let since = first.date.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        let until = self.now.max(last.date + chrono::Duration::seconds(1));
        let all = DocumentChanges {
            service: self.service.to_string(),
            document: self.document.to_string(),
            changes: self.changes.iter().rev().cloned().collect(),
        };
        let newest_first: Vec<&Change> = self.changes.iter().rev().collect();
        let (shown, folded) = newest_first.split_at(newest_first.len().min(VERSIONS_SHOWN));
        let context = TextContext {
            service: self.service,
            document: self.document,
            first_commit: &first.commit,
            links: &DOCUMENT,
        };
        let body = html! {
            (self.crumbs(None))
            h1 { (title) " " span.muted.slug { (self.service) "/" (self.document) } } "\n"
            p.lead {
                (plural(self.changes.len(), "version")) " since " (time(first.date, "%Y-%m-%d"))
                "; last changed " (time(last.date, "%Y-%m-%d")) " (" (last.change) ")."
            } "\n"
            p.meta {
                @for url in last.source_urls.iter().filter_map(|u| Href::web(u).map(|h| (u, h))) {
                    "Source " a.url href=(url.1) { (url.0) } " · "
                }
                a href="feed.xml" { "Atom feed of its changes" } " · " a href="#text" { "Current text" }
            } "\n"
            (generated(self.now))
            (timeline_svg(since, until, &all, Some(&DOCUMENT)))
            h2 #versions { "Versions" } "\n"
            (versions_table(shown))
            @if !folded.is_empty() {
                details {
                    summary { (plural(folded.len(), "version")) " older" } "\n"
                    (versions_table(folded))
                } "\n"
            }
            h2 #text { "Current text" } "\n"
            p.legend {
                "Every sentence says since when it has stood (hover or tap it). Sentences \
                 that arrived after the first record of " (first.date.format("%Y-%m-%d")) " are shaded — "
                span.s.new.age-month { "in the last 30 days" } ", "
                span.s.new.age-year { "in the last year" }
                ", or earlier — and link to the version that brought them."
            } "\n"
            (text::render(self.text, self.blame, &context))
        };
        site_page(
            &title,
            &DOCUMENT,
            Place::In(Section::Documents),
            feed_link(&format!("Policy changes: {title}")),
            &body,
        )
    }

    fn version_page(&self, change: &Change, older: Option<&Change>, newer: Option<&Change>) -> String {
        let day = change.date.format("%Y-%m-%d").to_string();
        let title = format!("{}, version of {day}", self.title());
        let empty = change.added.is_empty()
            && change.removed.is_empty()
            && change.changed.is_empty()
            && change.moved.is_empty();
        // The sentences that state a provision are marked, as `report --provision` marks them.
        let mut change = change.clone();
        change.mark_provisions(self.taxonomy);
        let body = html! {
            (self.crumbs(Some(&format!("version of {day}"))))
            h1 { (title) } "\n"
            nav.pager aria-label="Versions" {
                ul {
                    @if let Some(older) = older {
                        li { a rel="prev" href=(sibling_version(&older.commit)) { "← older version, " (older.date.format("%Y-%m-%d")) } }
                    }
                    li { a href="index.html#versions" { "all versions" } }
                    @if let Some(newer) = newer {
                        li { a rel="next" href=(sibling_version(&newer.commit)) { "newer version, " (newer.date.format("%Y-%m-%d")) " →" } }
                    }
                }
            } "\n"
            (change_article(&change, None))
            @if empty {
                p.muted { "No sentence differs from the version before: only the layout of the text changed." } "\n"
            }
        };
        site_page(&title, &DOCUMENT, Place::In(Section::Documents), html! {}, &body)
    }
}

fn versions_table(changes: &[&Change]) -> Markup {
    html! {
        table.list {
            thead {
                tr {
                    th scope="col" { "Date" } th scope="col" { "Kind" }
                    th scope="col" { "Sentences" } th scope="col" { "Summary" }
                }
            }
            tbody {
                "\n"
                @for change in changes {
                    tr {
                        td { (time(change.date, "%Y-%m-%d %H:%M")) }
                        td { (badge(change)) }
                        td { (counts(change)) }
                        td { a href=(sibling_version(&change.commit)) { (change.summary) } }
                    } "\n"
                }
            }
        } "\n"
    }
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
    site_page(&title, &SECTION, Place::In(Section::Reports), html! {}, &body)
}

pub fn reports_index(periods: &[Period], now: DateTime<Utc>) -> String {
    let body = html! {
        h1 { "Reports" } "\n"
        p.lead {
            "Every substantive change and first record in a period, grouped by document, \
             with the sentences added, removed, changed and moved."
        } "\n"
        (generated(now))
        table.list {
            thead {
                tr {
                    th scope="col" { "Period" } th scope="col" { "From" }
                    th scope="col" { "To" } th scope="col" { "Changes" } th scope="col" { "Documents" }
                }
            }
            tbody {
                "\n"
                @for period in periods {
                    tr {
                        td { a href=(Href::relative(format!("{}.html", period.slug))) { (period.label) } }
                        td { (period.report.since.format("%Y-%m-%d")) }
                        td { (period.report.last_day()) }
                        td.num { (period.report.change_count()) }
                        td.num { (period.report.documents.len()) }
                    } "\n"
                }
            }
        } "\n"
    };
    site_page("Reports", &SECTION, Place::IndexOf(Section::Reports), html! {}, &body)
}

pub fn matrix(matrix: &Matrix, taxonomy: &Taxonomy, now: DateTime<Utc>) -> String {
    let (title, table) = provisions_html::matrix_body(matrix, taxonomy, Some(&SECTION));
    let body = html! {
        (table)
        @if matrix.provisions.is_empty() {
            p { "The archive's taxonomy (provisions.toml) defines no provisions." }
        }
        "\n"
        (generated(now))
    };
    site_page(
        &title,
        &SECTION,
        Place::IndexOf(Section::Provisions),
        html! { (style(TABLE_CSS)) (style(MATRIX_CSS)) },
        &body,
    )
}

pub fn comparison(comparison: &Comparison) -> String {
    let (title, body) = provisions_html::comparison_body(comparison, Some(&SECTION));
    let body = html! { (body) "\n" };
    site_page(
        &title,
        &SECTION,
        Place::In(Section::Provisions),
        style(TABLE_CSS),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::report::Counts;
    use crate::report::model::{ChangedSentence, Flag, Sentence};
    use crate::report::position::{Evidence, Position};
    use crate::report::provisions::{DatedSentence, Statement};
    use crate::report::words::WordPiece;

    const SCRIPT: &str = "<script>alert(1)</script>";
    const BREAKOUT: &str = "\"><img src=x onerror=alert(1)>";
    const ENTITY: &str = "&amp;";
    const JAVASCRIPT: &str = "javascript:alert(1)";

    /// Every hostile string, as one text.
    fn hostile(field: &str) -> String {
        format!("{field} {SCRIPT} {BREAKOUT} {ENTITY} '{field}'")
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn sentence(position: usize, field: &str) -> Sentence {
        Sentence {
            position,
            text: hostile(field),
            heading: Some(hostile(&format!("{field} heading"))),
            provisions: vec![hostile(&format!("{field} provision"))],
        }
    }

    /// A change with hostile text in every field a page shows. Service and document
    /// stay slugs on the site (commits naming anything else are not followed) but not
    /// in a report, where they are hostile too.
    fn change(service: &str, document: &str, commit: &str, date: &str) -> Change {
        Change {
            reverts_to: None,
            service: service.into(),
            document: document.into(),
            commit: commit.into(),
            commit_url: Some(JAVASCRIPT.into()),
            date: at(date),
            change: ChangeKind::Substantive,
            summary: hostile("commit subject"),
            source_urls: vec![
                JAVASCRIPT.into(),
                format!("https://acme.example/{BREAKOUT}"),
                format!("data:text/html,{SCRIPT}"),
            ],
            counts: Counts {
                added: 1,
                removed: 1,
                changed: 1,
                moved: 1,
            },
            provisions: vec![hostile("provision id")],
            provisions_changed: vec![],
            declared_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
            previous_declared_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
            flags: vec![Flag::DeclaredDateUnchanged],
            added: vec![sentence(0, "added")],
            removed: vec![sentence(1, "removed")],
            changed: vec![ChangedSentence {
                position: 2,
                old: hostile("old"),
                new: hostile("new"),
                words: vec![
                    WordPiece::Same(hostile("same")),
                    WordPiece::Removed(hostile("removed words")),
                    WordPiece::Added(hostile("added words")),
                ],
                heading: Some(hostile("changed heading")),
                provisions: vec![hostile("changed provision")],
            }],
            moved: vec![sentence(3, "moved")],
            other_sentence_changes: 7,
        }
    }

    fn taxonomy() -> Taxonomy {
        let toml = format!(
            "[[provision]]\nid = \"ai-training\"\ntitle = {:?}\ndescription = {:?}\nregulations = [{:?}]\nall = [[\"train\"]]\n",
            hostile("provision title"),
            hostile("provision description"),
            hostile("regulation")
        );
        Taxonomy::parse(&toml, "test").unwrap()
    }

    /// Asserts a page shows the hostile strings only as text: no element or attribute
    /// they could have made, every link a web address or a relative path, and the
    /// strings themselves readable in the page's text.
    fn assert_safe(name: &str, html: &str, expected_texts: &[&str]) {
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{name}: a script element\n{html}");
        assert!(!lower.contains("<img"), "{name}: an img element\n{html}");
        assert!(
            !lower.contains("javascript:alert(1)\""),
            "{name}: a javascript: attribute\n{html}"
        );
        let document = scraper::Html::parse_document(html);
        assert!(document.errors.is_empty(), "{name}: parse errors {:?}", document.errors);
        let all = scraper::Selector::parse("*").unwrap();
        for element in document.select(&all) {
            let element = element.value();
            assert!(
                !matches!(element.name(), "script" | "img" | "iframe" | "object" | "embed"),
                "{name}: <{}>",
                element.name()
            );
            for (attribute, value) in element.attrs() {
                assert!(!attribute.starts_with("on"), "{name}: {attribute}={value:?}");
                if matches!(attribute, "href" | "src" | "action" | "formaction" | "xlink:href") {
                    let scheme = value.split(['/', '?', '#']).next().unwrap_or("");
                    assert!(
                        !scheme.contains(':') || value.starts_with("https://") || value.starts_with("http://"),
                        "{name}: {attribute}={value:?}"
                    );
                }
            }
        }
        let text: String = document.root_element().text().collect();
        for expected in expected_texts {
            assert!(
                text.contains(expected),
                "{name}: {expected:?} is not shown as text\n{html}"
            );
        }
    }

    #[test]
    fn hostile_text_in_every_field_of_every_page_stays_text() {
        let now = at("2026-04-01T06:00:00Z");
        let taxonomy = taxonomy();
        let names = ServiceNames {
            names: BTreeMap::from([("acme".to_string(), hostile("service name"))]),
        };
        let commits = ["a".repeat(40), "b".repeat(40)];
        let changes: Vec<Change> = commits
            .iter()
            .zip(["2026-03-02T00:00:00Z", "2026-03-20T00:00:00Z"])
            .map(|(commit, date)| change("acme", "privacy-policy", commit, date))
            .collect();
        let text = format!(
            "# {}\n\n{}\n{}\n\n- {}\n3. {}\n\n| {} | b |\n| --- | --- |\n| {} | d |\n",
            hostile("text heading"),
            hostile("text sentence"),
            hostile("second sentence"),
            hostile("list item"),
            hostile("numbered item"),
            hostile("table header"),
            hostile("table cell")
        );
        let blame: Vec<BlameLine> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| BlameLine {
                absences: Vec::new(),
                line: i + 1,
                text: l.to_string(),
                commit: commits[i % 2].clone(),
                date: changes[i % 2].date,
                since_first_record: false,
                age_days: 3,
            })
            .collect();
        let page = DocumentPage {
            service: "acme",
            document: "privacy-policy",
            names: &names,
            changes: &changes,
            text: &text,
            blame: &blame,
            taxonomy: &taxonomy,
            now,
        };
        let entries = vec![DocumentEntry {
            service: "acme".into(),
            document: "privacy-policy".into(),
            history: Some(super::super::DocumentHistory {
                versions: 2,
                first_date: changes[0].date,
                last: changes[1].clone(),
            }),
        }];
        let recent: Vec<&Change> = changes.iter().rev().collect();
        let site_report = Report::from_changes(changes.clone(), at("2026-03-01T00:00:00Z"), now, now);
        // In a report, service and document come from commits and are not checked.
        let mut wild = change(
            &hostile("service slug"),
            &hostile("document slug"),
            &commits[0],
            "2026-03-02T00:00:00Z",
        );
        wild.commit_url = Some(format!("https://github.com/o/r/commit/{BREAKOUT}"));
        let wild_report = Report::from_changes(vec![wild], at("2026-03-01T00:00:00Z"), now, now);
        let periods = vec![Period {
            slug: "2026-03".into(),
            label: hostile("period label"),
            report: site_report.clone(),
        }];
        let stated = DatedSentence {
            absences: Vec::new(),
            text: hostile("stated sentence"),
            stance: crate::provision::Stance::Grants,
            since: changes[0].date,
            since_first_record: false,
            commit: commits[0].clone(),
            provisions_expressed: 1,
            heading: false,
        };
        let position = Position {
            phrase: hostile("position phrase"),
            stance: crate::provision::Stance::Grants,
            mixed: false,
            qualifiers: Vec::new(),
            strongest: Evidence {
                document: "privacy-policy".into(),
                sentence: stated.clone(),
            },
            sentences: 1,
            stances: vec![crate::provision::Stance::Grants],
        };
        let untagged = crate::report::provisions::UntaggedDocument {
            service: hostile("untagged service"),
            document: "terms-of-service".into(),
            language: "fr".into(),
            language_name: "French".into(),
        };
        let compared = Comparison {
            provision: "ai-training".into(),
            title: hostile("provision title"),
            description: hostile("provision description"),
            regulations: vec![hostile("regulation")],
            at: now,
            statements: vec![Statement {
                service: "acme".into(),
                document: "privacy-policy".into(),
                stances: vec![crate::provision::Stance::Grants],
                sentences: vec![stated],
            }],
            silent: vec![hostile("silent service")],
            untagged: vec![untagged.clone()],
            positions: BTreeMap::from([("acme".to_string(), position.clone())]),
        };
        let matrix_data = Matrix {
            at: now,
            provisions: vec!["ai-training".into()],
            services: vec!["acme".into(), hostile("matrix service")],
            cells: vec![vec![Some(position), None]],
            untagged: vec![untagged],
        };

        let common = [SCRIPT, BREAKOUT, ENTITY];
        let shown = |fields: &[&str]| -> Vec<String> {
            fields
                .iter()
                .map(|f| hostile(f))
                .chain(common.iter().map(|s| s.to_string()))
                .collect()
        };
        let change_fields = [
            "commit subject",
            "provision id",
            "added",
            "added heading",
            "added provision",
            "removed",
            "moved heading",
            "same",
            "removed words",
            "added words",
            "changed heading",
            "changed provision",
        ];
        let pages: Vec<(&str, String, Vec<String>)> = vec![
            (
                "report (HTML)",
                crate::report::html::render(&wild_report),
                shown(&[&change_fields[..], &["service slug", "document slug"]].concat()),
            ),
            (
                "site index",
                index(&entries, &names, &recent, 2, now),
                shown(&["service name", "commit subject"]),
            ),
            (
                "document page",
                page.document_page(),
                shown(&[
                    "service name",
                    "commit subject",
                    "text heading",
                    "text sentence",
                    "second sentence",
                    "list item",
                    "numbered item",
                    "table header",
                    "table cell",
                ]),
            ),
            (
                "version page",
                page.version_page(&changes[1], Some(&changes[0]), None),
                // Its provision marks come from the taxonomy, not from the change.
                shown(
                    &[&change_fields[..], &["service name"]]
                        .concat()
                        .into_iter()
                        .filter(|f| !f.ends_with(" provision"))
                        .collect::<Vec<_>>(),
                ),
            ),
            ("site report", report(&site_report), shown(&change_fields)),
            ("reports page", reports_index(&periods, now), shown(&["period label"])),
            (
                "provisions page",
                matrix(&matrix_data, &taxonomy, now),
                shown(&[
                    "provision title",
                    "matrix service",
                    "position phrase",
                    "stated sentence",
                    "untagged service",
                ]),
            ),
            (
                "provision page",
                comparison(&compared),
                shown(&[
                    "provision title",
                    "provision description",
                    "regulation",
                    "stated sentence",
                    "silent service",
                    "position phrase",
                    "untagged service",
                ]),
            ),
            (
                "compare (HTML)",
                crate::report::provisions_html::comparison(&compared),
                shown(&["provision title", "stated sentence", "position phrase"]),
            ),
            (
                "compare --all (HTML)",
                crate::report::provisions_html::matrix(&matrix_data, &taxonomy),
                shown(&[
                    "matrix service",
                    "position phrase",
                    "stated sentence",
                    "untagged service",
                ]),
            ),
        ];
        for (name, html, expected) in &pages {
            let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
            assert_safe(name, html, &expected);
        }
        // A source URL that is a web address is a link, escaped; the others are text.
        let version = &pages[3].1;
        assert!(
            version.contains("href=\"https://acme.example/&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\""),
            "{version}"
        );
        assert!(version.contains(" · source javascript:alert(1)"), "{version}");
        // The document page shows the declared name, the report its fold and date.
        assert!(pages[3].1.contains("and 7 other sentence changes."));
        assert!(pages[0].1.contains("declared date 2026-03-01 (was 2026-01-01)"));
    }
}
