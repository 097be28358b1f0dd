//! What a declaration's selectors match on a real page, for `check --snapshots`: a
//! `select` that matches several separate parts of a page usually picks up a sidebar or
//! a footer beside the document, and a range whose end no longer follows its start
//! keeps nothing, or everything to the end of the page.

use scraper::{ElementRef, Html, Selector};
use serde::Serialize;

use crate::declaration::Target;

/// A selector that matched in a way the declaration's author likely did not mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RegionProblem {
    /// A `select` selector matched this many elements, none inside another.
    DisjointRegions { selector: String, regions: usize },
    /// A range's end does not match after its start.
    RangeWithoutEnd { start: String, end: String },
}

/// Judges the `select` targets of one page of a document against the page.
pub fn region_problems(html: &str, select: &[Target]) -> Vec<RegionProblem> {
    let document = Html::parse_document(html);
    let mut problems = Vec::new();
    for target in select {
        match target {
            Target::Css(css) => {
                let Ok(selector) = Selector::parse(css) else { continue };
                let matched: Vec<ElementRef> = document.select(&selector).collect();
                let ids: std::collections::HashSet<_> = matched.iter().map(|e| e.id()).collect();
                let outermost = matched
                    .iter()
                    .filter(|e| !e.ancestors().any(|a| ids.contains(&a.id())))
                    .count();
                if outermost > 1 {
                    problems.push(RegionProblem::DisjointRegions {
                        selector: css.clone(),
                        regions: outermost,
                    });
                }
            }
            Target::Range(range) => {
                let (Ok(start), Ok(end)) = (Selector::parse(&range.start), Selector::parse(&range.end)) else {
                    continue;
                };
                let Some(first) = document.select(&start).next() else {
                    continue;
                };
                // Document order: an end element must come after the start or inside it.
                let after_start = document
                    .root_element()
                    .descendants()
                    .skip_while(|node| node.id() != first.id())
                    .skip(1)
                    .filter_map(ElementRef::wrap)
                    .any(|element| end.matches(&element));
                if !after_start {
                    problems.push(RegionProblem::RangeWithoutEnd {
                        start: range.start.clone(),
                        end: range.end.clone(),
                    });
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declaration::{Edge, RangeTarget};

    #[test]
    fn separate_matches_are_reported_nested_ones_are_not() {
        let html = "<main class=c><div class=c>A</div></main><aside class=c>B</aside><p class=d>C</p>";
        assert_eq!(
            region_problems(html, &[Target::Css(".c".into()), Target::Css(".d".into())]),
            [RegionProblem::DisjointRegions {
                selector: ".c".into(),
                regions: 2
            }]
        );
    }

    #[test]
    fn a_range_whose_end_comes_before_its_start_is_reported() {
        let range = |start: &str, end: &str| {
            Target::Range(RangeTarget {
                start: start.into(),
                start_edge: Edge::Before,
                end: end.into(),
                end_edge: Edge::Before,
            })
        };
        let html = "<hr id=end><main id=start><p>Text</p></main>";
        assert_eq!(
            region_problems(html, &[range("#start", "#end")]),
            [RegionProblem::RangeWithoutEnd {
                start: "#start".into(),
                end: "#end".into()
            }]
        );
        let html = "<main id=start><p>Text</p><hr id=end></main>";
        assert!(region_problems(html, &[range("#start", "#end")]).is_empty());
    }
}
