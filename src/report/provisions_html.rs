//! Provision comparisons as HTML, in the report's page shell.

use maud::{Markup, html};

use super::html::{Href, SiteLinks, linked, page_with, plural, style};
use super::position::Position;
use super::provisions::{Comparison, DatedSentence, Matrix, UntaggedDocument, moment_label};
use super::since::{Absence, date_label};
use crate::provision::{Stance, Taxonomy};

/// Table styles the report page does not need; they go in the page's `<head>`.
pub const TABLE_CSS: &str = "\
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.95rem}\
th,td{border:1px solid var(--line,#ccc);padding:.4rem .5rem;text-align:left;vertical-align:top}\
th{background:var(--panel,#f3f3f3)}\
.stance{font-weight:600;white-space:nowrap}\
.stance-grants{color:#b3261e}.stance-restricts{color:#1b6e20}.stance-conditional{color:#8a5a00}\
.none{color:var(--muted,#777)}";

/// The matrix's own layout, after [`TABLE_CSS`]: wide enough for twenty platforms on a
/// 1280 px screen without scrolling the page sideways (tests/compare_matrix.rs measures
/// it in Chromium). Platforms are columns of equal width with their names written
/// upwards, provisions are rows; a cell is the position's few words, in the text colour
/// (legible in dark mode too), on a tint of its stance (stripes when mixed), with little
/// padding and no border of its own to spare the width a word needs. Opening a cell shows its sentence in a box over the table,
/// anchored to the cell's left edge in the left half and its right edge in the right
/// half, so it never reaches past the page. On a screen too narrow even so, the table
/// scrolls, not the page, and the provisions stay in view.
pub const MATRIX_CSS: &str = "\
header.site,main,footer.site{max-width:90rem;padding:0 .75rem}\
@media (max-width:60rem){.matrix-scroll{overflow-x:auto}}\
table.matrix{table-layout:fixed;font-size:.7rem;line-height:1.25}\
table.matrix col.provision{width:8rem}\
table.matrix th,table.matrix td{padding:.15rem;overflow-wrap:break-word;hyphens:auto}\
table.matrix td{position:relative;border-width:0 0 1px;color:var(--fg)}\
table.matrix td.none{color:var(--muted)}\
table.matrix thead th{vertical-align:bottom}\
table.matrix th.platform span{display:inline-block;writing-mode:vertical-rl;transform:rotate(180deg);\
white-space:nowrap;max-height:9rem;overflow:hidden;text-overflow:ellipsis}\
table.matrix tbody th{position:sticky;left:0;z-index:1}\
table.matrix td.stance-grants{background:rgba(179,38,30,.1)}\
table.matrix td.stance-restricts{background:rgba(27,110,32,.1)}\
table.matrix td.stance-conditional{background:rgba(138,90,0,.1)}\
table.matrix td.mixed{background:repeating-linear-gradient(135deg,rgba(179,38,30,.12) 0 .4rem,rgba(27,110,32,.12) .4rem .8rem)}\
table.matrix summary{list-style:none;cursor:pointer}\
table.matrix summary::-webkit-details-marker{display:none}\
table.matrix details{margin:0}\
table.matrix .evidence{position:absolute;top:100%;left:0;z-index:2;width:22rem;max-width:80vw;\
padding:.5rem .75rem;font-size:.85rem;line-height:1.4;color:var(--fg);background:var(--bg);\
border:1px solid var(--line);box-shadow:0 .25rem .75rem rgba(0,0,0,.2)}\
table.matrix td.end .evidence{left:auto;right:0}\
.evidence p{margin:.25rem 0}";

/// What "first record (DATE)" means, under a table that shows it.
pub const FIRST_RECORD_NOTE: &str = "first record (DATE): the sentence was already in the document's first \
                                     recorded version; since when before that is not known.";

fn stance(s: Stance) -> Markup {
    html! { span class={ "stance stance-" (s.as_str()) } { (s.as_str()) } }
}

/// `since 2024-03-22` or `since the first record (2024-02-21)` (the date linked to the
/// version that brought the sentence, on a site), with the spans it was absent.
fn since(sentence: &DatedSentence, href: Option<&Href>) -> Markup {
    html! {
        @if sentence.since_first_record {
            "since the first record (" (linked(href, html! { (sentence.since.format("%Y-%m-%d")) })) ")"
        } @else {
            "since " (linked(href, html! { (sentence.since.format("%Y-%m-%d")) }))
        }
        @if !sentence.absences.is_empty() {
            ", absent " (sentence.absences.iter().map(Absence::span).collect::<Vec<_>>().join(", "))
        }
    }
}

/// What a position rests on: its strongest sentence, that sentence's stance, document
/// and date, and how many other sentences there are.
fn evidence(service: &str, p: &Position, links: Option<&dyn SiteLinks>) -> Markup {
    let strongest = &p.strongest;
    let document = links.map(|l| l.document(service, &strongest.document));
    let version = links.map(|l| l.version(service, &strongest.document, &strongest.sentence.commit));
    html! {
        p { q { (strongest.sentence.text) } }
        p {
            (stance(strongest.sentence.stance)) " · "
            (linked(document.as_ref(), html! { (strongest.document) })) " · "
            (since(&strongest.sentence, version.as_ref()))
        }
        @if p.sentences > 1 {
            p.muted {
                "The strongest of " (plural(p.sentences, "sentence")) " ("
                (p.stances.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) ")."
            }
        }
    }
}

/// One provision across platforms: who states it, how, and since when.
pub fn comparison(c: &Comparison) -> String {
    let (title, body) = comparison_body(c, None);
    page_with(&title, &style(TABLE_CSS), &html! {}, &body)
}

/// A comparison's title and `<main>` content: each platform's position, then every
/// sentence; with `links`, documents and dates link to the site's document and version
/// pages.
pub fn comparison_body(c: &Comparison, links: Option<&dyn SiteLinks>) -> (String, Markup) {
    let body = html! {
        h1 { (c.title) " " code { (c.provision) } }
        @if !c.description.is_empty() {
            p { (c.description) }
        }
        @if !c.regulations.is_empty() {
            p { "Regulations: " (c.regulations.join("; ")) }
        }
        p { "Texts in force at " (moment_label(c.at)) "." }
        @if c.statements.is_empty() {
            p { "No tracked document states this provision." }
        } @else {
            h2 { "Positions" }
            p.muted { "Each platform's position, stated from its strongest sentence on it." }
            table {
                thead { tr { th { "Service" } th { "Position" } th { "Strongest sentence" } } }
                tbody {
                    @for (service, p) in &c.positions {
                        tr {
                            td { (service) }
                            td class={ "stance-" (p.stance.as_str()) } { (p.phrase) }
                            td { (evidence(service, p, links)) }
                        }
                    }
                }
            }
            h2 { "Every sentence" }
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
                                td { (linked(since.as_ref(), html! { (date_label(sentence.since, sentence.since_first_record)) })) }
                                td { (sentence.text) }
                            }
                        }
                    }
                }
            }
        }
        @if c.statements.iter().flat_map(|s| &s.sentences).any(|s| s.since_first_record) {
            p.muted { (FIRST_RECORD_NOTE) }
        }
        @if !c.silent.is_empty() {
            p.none { "No sentence about it in: " (c.silent.join(", ")) "." }
        }
        (untagged_note(&c.untagged))
    };
    (format!("{} across platforms", c.title), body)
}

/// Documents the tagger does not read: their cells are unknown, not silent.
fn untagged_note(untagged: &[UntaggedDocument]) -> Markup {
    html! {
        @if !untagged.is_empty() {
            p.none {
                "Not tagged, in a language the tagger does not read: "
                @for (i, doc) in untagged.iter().enumerate() {
                    @if i > 0 { ", " }
                    (doc.to_string())
                }
                "."
            }
        }
    }
}

/// The provision × platform matrix.
pub fn matrix(m: &Matrix, taxonomy: &Taxonomy) -> String {
    let (title, body) = matrix_body(m, taxonomy, None);
    page_with(
        &title,
        &html! { (style(TABLE_CSS)) (style(MATRIX_CSS)) },
        &html! {},
        &body,
    )
}

/// The matrix's title and `<main>` content (styled by [`TABLE_CSS`] and [`MATRIX_CSS`]):
/// a cell states the platform's position in a few words and opens to its strongest
/// sentence, document and date; with `links`, provisions link to their comparison pages
/// and documents and dates to the site's pages.
pub fn matrix_body(m: &Matrix, taxonomy: &Taxonomy, links: Option<&dyn SiteLinks>) -> (String, Markup) {
    // Evidence boxes of the right half open leftwards, so none reaches past the page.
    let half = m.services.len().div_ceil(2);
    let body = html! {
        h1 { "Provisions by platform" }
        p { "Texts in force at " (moment_label(m.at)) ". "
            "Each cell states the platform's position from its strongest sentence on the provision; "
            "open it for the sentence, its document and since when it has been there. "
            "— means no sentence about it." }
        div.matrix-scroll {
            table.matrix {
                colgroup { col.provision; @for _ in &m.services { col; } }
                thead {
                    tr {
                        th scope="col" { "Provision" }
                        @for service in &m.services { th.platform scope="col" title=(service) { span { (service) } } }
                    }
                }
                tbody {
                    @for (id, row) in m.provisions.iter().zip(&m.cells) {
                        @let title = taxonomy.get(id).map_or(id.as_str(), |p| p.title.as_str());
                        @let href = links.map(|l| l.provision(id));
                        tr {
                            th scope="row" title=(id) { (linked(href.as_ref(), html! { (title) })) }
                            @for (i, (service, cell)) in m.services.iter().zip(row).enumerate() {
                                @match cell {
                                    None => { td.none { "—" } }
                                    Some(p) => {
                                        td class={
                                            "stance-" (p.stance.as_str())
                                            @if p.mixed { " mixed" }
                                            @if i >= half { " end" }
                                        } {
                                            details {
                                                summary { (p.phrase) }
                                                div.evidence { (evidence(service, p, links)) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! { (body) (untagged_note(&m.untagged)) };
    ("Provisions by platform".to_string(), body)
}
