//! Provision comparisons as HTML, in the report's page shell.

use maud::{Markup, html};

use super::html::{SiteLinks, linked, page_with, style};
use super::provisions::{Comparison, Matrix};
use crate::provision::{Stance, Taxonomy};

/// Table styles the report page does not need; they go in the page's `<head>`.
pub const TABLE_CSS: &str = "\
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.95rem}\
th,td{border:1px solid var(--line,#ccc);padding:.4rem .5rem;text-align:left;vertical-align:top}\
th{background:var(--panel,#f3f3f3)}\
.stance{font-weight:600;white-space:nowrap}\
.stance-grants{color:#b3261e}.stance-restricts{color:#1b6e20}.stance-conditional{color:#8a5a00}\
.none{color:var(--muted,#777)}";

fn stance(s: Stance) -> Markup {
    html! { span class={ "stance stance-" (s.as_str()) } { (s.as_str()) } }
}

/// One provision across platforms: who states it, how, and since when.
pub fn comparison(c: &Comparison) -> String {
    let (title, body) = comparison_body(c, None);
    page_with(&title, &style(TABLE_CSS), &html! {}, &body)
}

/// A comparison's title and `<main>` content; with `links`, documents and dates link to
/// the site's document and version pages.
pub fn comparison_body(c: &Comparison, links: Option<&dyn SiteLinks>) -> (String, Markup) {
    let body = html! {
        h1 { (c.title) " " code { (c.provision) } }
        @if !c.description.is_empty() {
            p { (c.description) }
        }
        @if !c.regulations.is_empty() {
            p { "Regulations: " (c.regulations.join("; ")) }
        }
        p { "Texts in force at " (c.at.format("%Y-%m-%d %H:%M UTC")) "." }
        @if c.statements.is_empty() {
            p { "No tracked document states this provision." }
        } @else {
            table {
                thead { tr { th { "Service" } th { "Document" } th { "Stance" } th { "Since" } th { "Sentence" } } }
                tbody {
                    @for s in &c.statements {
                        @let document = links.map(|l| l.document(&s.service, &s.document));
                        @for sentence in &s.sentences {
                            @let since = links.map(|l| l.version(&s.service, &s.document, &sentence.commit));
                            tr {
                                td { (s.service) }
                                td { (linked(document.as_ref(), html! { (s.document) })) }
                                td { (stance(sentence.stance)) }
                                td { (linked(since.as_ref(), html! { (sentence.since.format("%Y-%m-%d")) })) }
                                td { (sentence.text) }
                            }
                        }
                    }
                }
            }
        }
        @if !c.silent.is_empty() {
            p.none { "No sentence about it in: " (c.silent.join(", ")) "." }
        }
    };
    (format!("{} across platforms", c.title), body)
}

/// The provision × platform matrix.
pub fn matrix(m: &Matrix, taxonomy: &Taxonomy) -> String {
    let (title, body) = matrix_body(m, taxonomy, None);
    page_with(&title, &style(TABLE_CSS), &html! {}, &body)
}

/// The matrix's title and `<main>` content; with `links`, each provision links to its
/// comparison page.
pub fn matrix_body(m: &Matrix, taxonomy: &Taxonomy, links: Option<&dyn SiteLinks>) -> (String, Markup) {
    let body = html! {
        h1 { "Provisions by platform" }
        p { "Texts in force at " (m.at.format("%Y-%m-%d %H:%M UTC")) "." }
        table {
            thead { tr { th { "Provision" } @for service in &m.services { th { (service) } } } }
            tbody {
                @for (id, row) in m.provisions.iter().zip(&m.cells) {
                    @let title = taxonomy.get(id).map_or(id.as_str(), |p| p.title.as_str());
                    @let href = links.map(|l| l.provision(id));
                    tr {
                        th scope="row" { (linked(href.as_ref(), html! { (title) })) " " code { (id) } }
                        @for cell in row {
                            @if cell.is_empty() {
                                td.none { "—" }
                            } @else {
                                td {
                                    @for (i, s) in cell.iter().enumerate() {
                                        @if i > 0 { " " }
                                        (stance(*s))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    ("Provisions by platform".to_string(), body)
}
