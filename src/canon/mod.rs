//! Fetched bytes to canonical text (docs/architecture.md#canonical-text): deterministic, diff-friendly, one
//! sentence per line.
//!
//! HTML is parsed once with html5ever and walked directly into blocks, rather than
//! converted by html2text: the walk applies `select`/`remove` on the same tree, knows
//! which elements are chrome, and emits our Markdown subset exactly; docs/canonical-text.md gives
//! the measurement behind that choice.

mod blocks;
mod boilerplate;
mod check;
mod html;
pub mod language;
mod markdown;
mod pdf;
pub mod regions;
pub mod suggest;
pub mod text;

pub use blocks::{Block, ListPlace, render};
pub use check::canonical_violation;
pub use html::{Limits, Selection};

use crate::failure::{Failure, FailureKind};
use crate::fetch::decode::{self, BodyKind};

/// The canonicalizer's version, recorded in every commit. Bump it whenever the text it
/// produces for the same input changes, so `reextract` can tell rebuilds from changes.
pub const CANONICALIZER_VERSION: u32 = 4;

/// The canonical text of a fetched body, with the kind of body it was.
pub fn canonicalize(body: &[u8], content_type: Option<&str>, selection: &Selection) -> Result<String, Failure> {
    if content_type.is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/markdown")) {
        // Markdown has no DOM either: an imported Open Terms Archive version.
        return canonicalize_markdown(&decode::decode(body, content_type, BodyKind::PlainText));
    }
    match decode::body_kind(content_type, body) {
        BodyKind::Html => canonicalize_html(&decode::decode(body, content_type, BodyKind::Html), selection),
        BodyKind::PlainText => non_empty(canonicalize_plain(&decode::decode(
            body,
            content_type,
            BodyKind::PlainText,
        ))),
        // A PDF has no DOM: `select` and `remove` do not apply to it.
        BodyKind::Pdf => non_empty(canonicalize_pdf(body)?),
        BodyKind::Other => Err(Failure::new(
            FailureKind::UnsupportedContent,
            format!(
                "the body is not text (content type {}): binary data or an unsupported format",
                content_type.unwrap_or("not given")
            ),
        )),
    }
}

/// The canonical text of an HTML page.
pub fn canonicalize_html(html: &str, selection: &Selection) -> Result<String, Failure> {
    canonicalize_html_within(html, selection, &Limits::default())
}

/// [`canonicalize_html`] within explicit bounds on the parse (see [`Limits`]).
pub fn canonicalize_html_within(html: &str, selection: &Selection, limits: &Limits) -> Result<String, Failure> {
    let document = html::parse_bounded(html, limits)?;
    let blocks = html::html_to_blocks(&document, selection)?;
    non_empty(render(&blocks))
}

/// The canonical text of a plain-text body: paragraphs are separated by blank lines and
/// their hard-wrapped lines are joined.
pub fn canonicalize_plain(text: &str) -> String {
    let blocks: Vec<Block> = text
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(text::normalize_inline)
        .filter(|p| !p.is_empty())
        .map(|text| Block::Paragraph { text, list: None })
        .collect();
    render(&blocks)
}

/// The canonical text of a Markdown document, such as an Open Terms Archive version:
/// its headings, lists, tables and paragraphs become our blocks, one sentence per line.
pub fn canonicalize_markdown(markdown: &str) -> Result<String, Failure> {
    non_empty(render(&markdown::markdown_to_blocks(markdown)))
}

/// The canonical text of a PDF document: its paragraphs as laid out on the pages, with
/// running headers, footers and page numbers removed; bulleted paragraphs become list items.
pub fn canonicalize_pdf(bytes: &[u8]) -> Result<String, Failure> {
    let text = pdf::pdf_text(bytes)?;
    let blocks: Vec<Block> = text
        .split("\n\n")
        .filter_map(|paragraph| {
            let (text, list) = match paragraph.strip_prefix("- ") {
                Some(item) => (
                    item,
                    Some(ListPlace {
                        depth: 1,
                        marker: Some("- ".to_string()),
                    }),
                ),
                None => (paragraph, None),
            };
            let text = text::normalize_inline(text);
            (!text.is_empty()).then_some(Block::Paragraph { text, list })
        })
        .collect();
    Ok(render(&blocks))
}

/// Joins the texts of a multi-page document's parts, in declaration order.
pub fn join_parts(parts: &[String]) -> String {
    let mut out = String::new();
    for part in parts.iter().map(|p| p.trim_end()).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(part);
        out.push('\n');
    }
    out
}

fn non_empty(text: String) -> Result<String, Failure> {
    if text.trim().is_empty() {
        Err(Failure::new(
            FailureKind::Empty,
            "the page has no text where the declaration points",
        ))
    } else {
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(html: &str, select: &[&str], remove: &[&str]) -> Result<String, Failure> {
        let select: Vec<String> = select.iter().map(|s| s.to_string()).collect();
        let remove: Vec<String> = remove.iter().map(|s| s.to_string()).collect();
        canonicalize_html(html, &Selection::css(&select, &remove).unwrap())
    }

    #[test]
    fn blocks_become_the_markdown_subset() {
        let html = r#"<html><head><title>T</title><style>p{}</style></head><body>
            <nav>Home | About</nav>
            <main>
              <h1>Privacy   Policy</h1>
              <p>We collect data. We use it, e.g. to run the service.<br>Contact us.</p>
              <ul><li>First item. Second sentence.<ul><li>Nested</li></ul></li><li><p>Para item</p><p>More</p></li></ul>
              <ol start="3"><li>Three</li><li>Four</li></ol>
              <table><tr><th>Kind</th><th>Use</th></tr><tr><td>Email</td><td>Login | support</td></tr></table>
              <script>var x = "secret";</script>
            </main>
            <footer>© 2026</footer></body></html>"#;
        assert_eq!(
            canon(html, &[], &[]).unwrap(),
            "# Privacy Policy\n\
             \n\
             We collect data.\n\
             We use it, e.g. to run the service.\n\
             \n\
             Contact us.\n\
             \n\
             - First item.\n  Second sentence.\n  - Nested\n- Para item\n  More\n\
             3. Three\n4. Four\n\
             \n\
             | Kind | Use |\n| --- | --- |\n| Email | Login \\| support |\n"
        );
    }

    #[test]
    fn select_and_remove() {
        let html = "<div id=a>Kept <span class=ad>Ad text</span>text.</div><div id=b>Not kept.</div><div id=c>Also kept.</div>";
        assert_eq!(
            canon(html, &["#a", "#c"], &[".ad"]).unwrap(),
            "Kept text.\n\nAlso kept.\n"
        );
        let err = canon(html, &["#missing"], &[]).unwrap_err();
        assert_eq!(err.kind, FailureKind::SelectorNoMatch);
        assert!(err.message.contains("#missing"));
    }

    #[test]
    fn range_targets_keep_and_drop_what_lies_between_their_boundaries() {
        use crate::declaration::{Edge, RangeTarget, Target};
        let html = "<h1 id=t>Title</h1><p id=a>Intro.</p><div><p>Kept one.</p><p id=x>Dropped.</p><p>Kept two.</p></div>\
                    <p id=end>End.</p><p>After.</p>";
        let range = |start: &str, start_edge, end: &str, end_edge| {
            Target::Range(RangeTarget {
                start: start.into(),
                start_edge,
                end: end.into(),
                end_edge,
            })
        };
        let select = [Target::from("#t"), range("#a", Edge::After, "#end", Edge::Before)];
        let remove = [range("#x", Edge::Before, "#x", Edge::After)];
        let text = canonicalize_html(html, &Selection::new(&select, &remove).unwrap()).unwrap();
        assert_eq!(text, "# Title\n\nKept one.\n\nKept two.\n");
        let select = [range("#a", Edge::Before, "#end", Edge::After)];
        let text = canonicalize_html(html, &Selection::new(&select, &[]).unwrap()).unwrap();
        assert_eq!(text, "Intro.\n\nKept one.\n\nDropped.\n\nKept two.\n\nEnd.\n");
        let select = [range("#a", Edge::Before, "#missing", Edge::After)];
        let err = canonicalize_html(html, &Selection::new(&select, &[]).unwrap()).unwrap_err();
        assert_eq!(err.kind, FailureKind::SelectorNoMatch);
    }

    #[test]
    fn chrome_and_hidden_text_never_reach_the_text() {
        let html = r#"<body><div id="onetrust-banner-sdk">We use cookies. Accept all</div>
            <div role="navigation">Menu</div><p>Policy text.</p><p hidden>Hidden.</p>
            <p style="display: none">Also hidden.</p><noscript>Enable JS</noscript>
            <template><p>tpl</p></template><svg><title>logo</title></svg></body>"#;
        assert_eq!(canon(html, &[], &[]).unwrap(), "Policy text.\n");
    }

    #[test]
    fn chrome_removal_keeps_policy_sections_named_like_chrome() {
        // Inside <main>, ids and classes never remove anything, and a form is content.
        let html = r#"<body><nav>Menu</nav><main><h1>Privacy Policy</h1>
            <section id="gdpr-rights"><h2>Your GDPR rights</h2><p>You may ask for a copy of your data.</p></section>
            <div class="cookie-policy"><p>We set cookies to keep you signed in.</p></div>
            <div class="cmp-text"><p>Adobe's components are called cmp-something.</p></div>
            <form action="/opt-out"><p>To opt out, write to privacy@example.com.</p></form>
            </main><footer>Footer</footer></body>"#;
        assert_eq!(
            canon(html, &[], &[]).unwrap(),
            "# Privacy Policy\n\n## Your GDPR rights\n\nYou may ask for a copy of your data.\n\n\
             We set cookies to keep you signed in.\n\nAdobe's components are called cmp-something.\n\n\
             To opt out, write to privacy@example.com.\n"
        );
        // Without a <main>, a block named after cookies goes only when it is short and
        // holds something to click (a banner) or is a consent vendor's; a cookie notice
        // with a policy's worth of text stays, and so does its title.
        let notice = "We use cookies for these purposes. ".repeat(50);
        let html = format!(
            r#"<body><div id="cookie-banner">We use cookies. <button>Accept all</button></div>
            <div class="CookiesNoticeTitle">Cookies Notice</div>
            <div class="CookiesNotice--x"><p>{notice}</p></div>
            <div id="onetrust-pc-sdk"><p>{notice}</p></div><div class="page"><p>Policy text.</p></div></body>"#
        );
        let text = canon(&html, &[], &[]).unwrap();
        assert!(!text.contains("Accept all"), "{text}");
        assert!(text.starts_with("Cookies Notice\n"), "{text}");
        assert!(text.contains("Policy text."), "{text}");
        assert_eq!(text.matches("We use cookies for these purposes.").count(), 50, "{text}");
    }

    #[test]
    fn without_a_main_the_menus_around_the_prose_go_and_the_prose_stays() {
        // A page built from plain divs: no <main>, <nav>, <header> or <footer>, no role.
        let clause = |n: usize| {
            format!(
                "<p>Clause {n}. We keep the data you give us for as long as your account is open, \
                 and you may ask for a copy at any time through <a href=/privacy>the privacy centre</a>.</p>"
            )
        };
        let sections: String = (1..=5)
            .map(|n| format!("<h2>Section {n}</h2>{}{}", clause(2 * n - 1), clause(2 * n)))
            .collect();
        let toc: String = (1..=5).map(|n| format!("<div>{n}. Section {n}</div>")).collect();
        let html = format!(
            r#"<body>
            <div class="top"><div><span>Products</span></div><div><span>Research</span></div>
              <div><span>Pricing</span></div><div><span>Company</span></div><div><span>EN</span></div></div>
            <div class="links"><a href=/a>Download the app</a> <a href=/b>Try it free</a> <a href=/c>Sign in</a></div>
            <div class="page">
              <div class="toc">{toc}</div>
              <div class="doc">
                <h1>Privacy Policy</h1><p>Last updated: 9 April 2026</p>
                <ul><li><a href=/v1>9 June 2025</a></li><li><a href=/v2>23 December 2024</a></li><li><a href=/v3>29 October 2024</a></li></ul>
                <div class="clauses">{sections}</div>
              </div>
            </div>
            <div class="bottom"><div><a href=/t>Terms</a></div><div><a href=/p>Privacy</a></div>
              <div><a href=/c>Careers</a></div><div><a href=/s>Status</a></div><div>© 2026 Example Inc.</div></div>
            </body>"#
        );
        let text = canon(&html, &[], &[]).unwrap();
        for menu in ["Products", "EN", "Download the app", "Sign in", "Careers", "© 2026"] {
            assert!(!text.contains(menu), "{menu:?} kept:\n{text}");
        }
        // The title, its date and previous versions, the table of contents of the
        // document's own headings, and every clause, links and all.
        assert!(text.starts_with("1. Section 1\n\n2. Section 2\n\n"), "{text}");
        for kept in [
            "# Privacy Policy",
            "Last updated: 9 April 2026",
            "- 9 June 2025",
            "- 29 October 2024",
            "## Section 5",
        ] {
            assert!(text.contains(kept), "{kept:?} dropped:\n{text}");
        }
        for n in 1..=10 {
            assert!(text.contains(&format!("Clause {n}.")), "clause {n} dropped:\n{text}");
        }
        assert_eq!(text.matches("through the privacy centre.").count(), 10, "{text}");
    }

    #[test]
    fn without_a_main_a_page_with_little_prose_is_left_whole() {
        // A list of links with a line of introduction: there is no body of prose to find
        // a region by, so nothing is judged a menu.
        let items: String = (1..=8)
            .map(|n| format!("<div><a href=/r{n}>Report {n}</a></div>"))
            .collect();
        let html = format!("<body><div><p>Our reports.</p></div><div>{items}</div></body>");
        let text = canon(&html, &[], &[]).unwrap();
        assert!(text.contains("Report 1") && text.contains("Report 8"), "{text}");
    }

    #[test]
    fn a_main_with_little_of_the_text_is_not_the_document() {
        let policy = "<p>We keep your data for thirty days and then delete it.</p>".repeat(20);
        let html = format!(
            "<body><div class=legal>{policy}</div><main><form><p>Subscribe to our newsletter.</p></form></main></body>"
        );
        let text = canon(&html, &[], &[]).unwrap();
        assert!(text.starts_with("We keep your data for thirty days"), "{text}");
        // Read as the whole page, the form is outside any main, and chrome.
        assert!(!text.contains("Subscribe"), "{text}");
        let html = format!("<body><nav>{policy}</nav><main>{policy}</main></body>");
        assert_eq!(canon(&html, &[], &[]).unwrap().lines().count(), 39);
    }

    #[test]
    fn empty_pages_fail() {
        assert_eq!(
            canon("<html><body><script>x</script></body></html>", &[], &[])
                .unwrap_err()
                .kind,
            FailureKind::Empty
        );
    }

    #[test]
    fn inline_markup_does_not_split_words_or_sentences() {
        let html =
            "<p>We <b>do not</b> sell y<i>our</i> data&nbsp;to <a href='https://x.com/?utm_source=1'>partners</a>.</p>";
        assert_eq!(
            canon(html, &[], &[]).unwrap(),
            "We do not sell your data to partners.\n"
        );
    }

    #[test]
    fn layout_tables_are_walked_as_blocks() {
        let html = "<table><tr><td><p>First paragraph.</p><p>Second paragraph.</p></td></tr></table>";
        assert_eq!(
            canon(html, &[], &[]).unwrap(),
            "First paragraph.\n\nSecond paragraph.\n"
        );
    }

    #[test]
    fn data_table_cells_keep_blocks_apart_from_their_neighbours() {
        // Each block child of a cell is a part of its own: never glued ("EmailIt"),
        // nor run together into one sentence.
        let html = "<table><tr><th>Data</th><th>Use</th></tr>\
                    <tr><td><p>Email</p>It is kept.</td><td>Login<div>Support</div>only</td></tr></table>";
        assert_eq!(
            canon(html, &[], &[]).unwrap(),
            "| Data | Use |\n| --- | --- |\n\n| Email\n  It is kept.\n| Login\n  Support\n  only\n"
        );
    }

    #[test]
    fn table_rows_are_lines_and_long_cells_are_split_into_sentences() {
        let html = "<table>\
            <thead><tr><th>Purpose</th><th>Data</th><th>Legal basis</th></tr></thead>\
            <tr><td>Security</td><td>IP address</td><td>Legitimate interests</td></tr>\
            <tr><td><b>To improve our services</b><br><br>Examples of processing:\
                <ul><li>We log crashes. We fix them.</li><li>We train our machine learning models on your content.</li></ul></td>\
                <td>Usage data</td><td></td></tr>\
            <tr><td>Ads</td><td>Device | browser</td><td>Consent</td></tr>\
            </table>";
        assert_eq!(
            canon(html, &[], &[]).unwrap(),
            "| Purpose | Data | Legal basis |\n\
             | --- | --- | --- |\n\
             | Security | IP address | Legitimate interests |\n\
             \n\
             | To improve our services\n\
             \x20 Examples of processing:\n\
             \x20 - We log crashes.\n\
             \x20   We fix them.\n\
             \x20 - We train our machine learning models on your content.\n\
             | Usage data\n\
             |\n\
             \n\
             | Ads | Device \\| browser | Consent |\n"
        );
        // A row of one-sentence cells too wide for a line is laid out cell by cell.
        let wide = "a".repeat(200);
        let html = format!("<table><tr><td>{wide}</td><td>{wide}</td></tr></table>");
        assert_eq!(canon(&html, &[], &[]).unwrap(), format!("| {wide}\n| {wide}\n"));
    }

    #[test]
    fn markdown_table_cells_with_line_breaks_and_bullets() {
        // As Open Terms Archive writes long cells: `<br>` between lines and bullets.
        let markdown = "| Why | What |\n| --- | --- |\n\
            | **To provide our services**<br><br>Examples of processing activities:<br><br>*   We process the terms you search for.<br>*   We use your IP address. It tells us where to send data. | Things you create<br>Your activity |\n\
            | Short | Row |\n";
        assert_eq!(
            canonicalize_markdown(markdown).unwrap(),
            "| Why | What |\n\
             | --- | --- |\n\
             \n\
             | To provide our services\n\
             \x20 Examples of processing activities:\n\
             \x20 - We process the terms you search for.\n\
             \x20 - We use your IP address.\n\
             \x20   It tells us where to send data.\n\
             | Things you create\n\
             \x20 Your activity\n\
             \n\
             | Short | Row |\n"
        );
    }

    #[test]
    fn deep_nesting_is_walked_or_refused_fast() {
        let html = format!("{}deep text{}", "<div>".repeat(4_000), "</div>".repeat(4_000));
        assert_eq!(canon(&html, &[], &[]).unwrap(), "deep text\n");
        // HTML does not self-close a <div/>, and a stray </b> closes nothing: both nest
        // as deep as plain <div>s, as the tree builder sees them.
        for hostile in [
            format!("<main>{}text", "<div/>".repeat(100_000)),
            format!("<main>{}text", "<div></b>".repeat(100_000)),
            format!(
                "{}deep text{}",
                "<div><span>".repeat(50_000),
                "</span></div>".repeat(50_000)
            ),
        ] {
            let started = std::time::Instant::now();
            let err = canon(&hostile, &[], &[]).unwrap_err();
            assert_eq!(err.kind, FailureKind::TooLarge, "{}", err.message);
            assert!(err.message.contains("more than 5000 deep"), "{}", err.message);
            assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
        }
        // Void elements, self-closing void tags and script text do not nest.
        let flat = format!(
            "<p>{}</p><script>{}</script>",
            "<br><img src=x><input/>".repeat(10_000),
            "if (a<b) {}".repeat(10_000)
        );
        assert!(canon(&flat, &[], &[]).is_err_and(|e| e.kind == FailureKind::Empty));
    }

    #[test]
    fn parsing_is_bounded_by_element_count_and_time() {
        let selection = Selection::default();
        let many = format!("<main>{}</main>", "<i>x</i>".repeat(300_000));
        let err = canonicalize_html(&many, &selection).unwrap_err();
        assert_eq!(err.kind, FailureKind::TooLarge);
        assert!(err.message.contains("more than 500000 nodes"), "{}", err.message);
        let no_time = Limits {
            deadline: std::time::Duration::ZERO,
            ..Limits::default()
        };
        let err = canonicalize_html_within("<p>Policy text.</p>", &selection, &no_time).unwrap_err();
        assert_eq!(err.kind, FailureKind::Timeout);
        assert!(err.message.contains("took longer than 0 s"), "{}", err.message);
    }

    #[test]
    fn plain_text_joins_wrapped_lines() {
        assert_eq!(
            canonicalize_plain("Terms of use.\nWrapped line.\r\n\r\nSecond para."),
            "Terms of use.\nWrapped line.\n\nSecond para.\n"
        );
    }

    #[test]
    fn bodies_are_classified() {
        let selection = Selection::default();
        assert_eq!(
            canonicalize(b"\x00\x01binary\x00", Some("text/html"), &selection)
                .unwrap_err()
                .kind,
            FailureKind::UnsupportedContent
        );
        assert_eq!(
            canonicalize(b"", Some("text/html"), &selection).unwrap_err().kind,
            FailureKind::Empty
        );
    }

    #[test]
    fn parts_join_with_a_blank_line() {
        assert_eq!(join_parts(&["A.\n".into(), "".into(), "B.\n".into()]), "A.\n\nB.\n");
    }
}
