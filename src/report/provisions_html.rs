//! Provision comparisons as HTML, in the report's page shell.

use std::fmt::Write as _;

use super::html::{SiteLinks, escape, page_with};
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

fn stance(s: Stance) -> String {
    format!("<span class=\"stance stance-{0}\">{0}</span>", s.as_str())
}

/// One provision across platforms: who states it, how, and since when.
pub fn comparison(c: &Comparison) -> String {
    let (title, body) = comparison_body(c, None);
    page_with(&title, &format!("<style>{TABLE_CSS}</style>\n"), "", &body)
}

/// A comparison's title and `<main>` content; with `links`, documents and dates link to
/// the site's document and version pages.
pub fn comparison_body(c: &Comparison, links: Option<&dyn SiteLinks>) -> (String, String) {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{} <code>{}</code></h1>",
        escape(&c.title),
        escape(&c.provision)
    );
    if !c.description.is_empty() {
        let _ = write!(body, "<p>{}</p>", escape(&c.description));
    }
    if !c.regulations.is_empty() {
        let _ = write!(body, "<p>Regulations: {}</p>", escape(&c.regulations.join("; ")));
    }
    let _ = write!(body, "<p>Texts in force at {}.</p>", c.at.format("%Y-%m-%d %H:%M UTC"));
    if c.statements.is_empty() {
        body.push_str("<p>No tracked document states this provision.</p>");
    } else {
        body.push_str("<table><thead><tr><th>Service</th><th>Document</th><th>Stance</th><th>Since</th><th>Sentence</th></tr></thead><tbody>");
        for s in &c.statements {
            let document = linked(links.map(|l| l.document(&s.service, &s.document)), escape(&s.document));
            for sentence in &s.sentences {
                let since = linked(
                    links.map(|l| l.version(&s.service, &s.document, &sentence.commit)),
                    sentence.since.format("%Y-%m-%d").to_string(),
                );
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{document}</td><td>{}</td><td>{since}</td><td>{}</td></tr>",
                    escape(&s.service),
                    stance(sentence.stance),
                    escape(&sentence.text)
                );
            }
        }
        body.push_str("</tbody></table>");
    }
    if !c.silent.is_empty() {
        let _ = write!(
            body,
            "<p class=\"none\">No sentence about it in: {}.</p>",
            escape(&c.silent.join(", "))
        );
    }
    (format!("{} across platforms", c.title), body)
}

/// The provision × platform matrix.
pub fn matrix(m: &Matrix, taxonomy: &Taxonomy) -> String {
    let (title, body) = matrix_body(m, taxonomy, None);
    page_with(&title, &format!("<style>{TABLE_CSS}</style>\n"), "", &body)
}

/// The matrix's title and `<main>` content; with `links`, each provision links to its
/// comparison page.
pub fn matrix_body(m: &Matrix, taxonomy: &Taxonomy, links: Option<&dyn SiteLinks>) -> (String, String) {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Provisions by platform</h1><p>Texts in force at {}.</p>",
        m.at.format("%Y-%m-%d %H:%M UTC")
    );
    body.push_str("<table><thead><tr><th>Provision</th>");
    for service in &m.services {
        let _ = write!(body, "<th>{}</th>", escape(service));
    }
    body.push_str("</tr></thead><tbody>");
    for (id, row) in m.provisions.iter().zip(&m.cells) {
        let title = taxonomy.get(id).map_or(id.as_str(), |p| p.title.as_str());
        let title = linked(links.map(|l| l.provision(id)), escape(title));
        let _ = write!(body, "<tr><th scope=\"row\">{title} <code>{}</code></th>", escape(id));
        for cell in row {
            if cell.is_empty() {
                body.push_str("<td class=\"none\">—</td>");
            } else {
                let stances: Vec<String> = cell.iter().map(|s| stance(*s)).collect();
                let _ = write!(body, "<td>{}</td>", stances.join(" "));
            }
        }
        body.push_str("</tr>");
    }
    body.push_str("</tbody></table>");
    ("Provisions by platform".to_string(), body)
}

/// `html` inside a link to `href`, or as it is without one.
fn linked(href: Option<String>, html: String) -> String {
    match href {
        Some(href) => format!("<a href=\"{}\">{html}</a>", escape(&href)),
        None => html,
    }
}
