//! Provision comparisons as HTML, in the report's page shell.

use std::fmt::Write as _;

use super::html::{escape, page};
use super::provisions::{Comparison, Matrix};
use crate::provision::{Stance, Taxonomy};

/// Table styles the report page does not need.
const TABLE_CSS: &str = "<style>\
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.95rem}\
th,td{border:1px solid var(--rule,#ccc);padding:.4rem .5rem;text-align:left;vertical-align:top}\
th{background:var(--panel,#f3f3f3)}\
.stance{font-weight:600;white-space:nowrap}\
.stance-grants{color:#b3261e}.stance-restricts{color:#1b6e20}.stance-conditional{color:#8a5a00}\
.none{color:var(--muted,#777)}\
</style>";

fn stance(s: Stance) -> String {
    format!("<span class=\"stance stance-{0}\">{0}</span>", s.as_str())
}

/// One provision across platforms: who states it, how, and since when.
pub fn comparison(c: &Comparison) -> String {
    let mut body = String::from(TABLE_CSS);
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
            for sentence in &s.sentences {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&s.service),
                    escape(&s.document),
                    stance(sentence.stance),
                    sentence.since.format("%Y-%m-%d"),
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
    page(&format!("{} across platforms", c.title), &body)
}

/// The provision × platform matrix.
pub fn matrix(m: &Matrix, taxonomy: &Taxonomy) -> String {
    let mut body = String::from(TABLE_CSS);
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
        let _ = write!(
            body,
            "<tr><th scope=\"row\">{} <code>{}</code></th>",
            escape(title),
            escape(id)
        );
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
    page("Provisions by platform", &body)
}
