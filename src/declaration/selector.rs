//! What is wrong with a CSS selector, said to a person: where, and what. scraper's own
//! error drops the position and prints a Debug dump ("Unexpected error occurred. Please
//! report this to the developer") for most mistakes, so the selector is parsed again here
//! with the same parser to read cssparser's error.

use cssparser::{BasicParseErrorKind, ParseErrorKind, ParserInput, ToCss as _, Token};
use selectors::parser::{ParseRelative, SelectorList, SelectorParseErrorKind};

/// `None` when `css` is a valid selector; otherwise where and why it is not, e.g.
/// `at character 6: an attribute name was expected after "[", found "["`.
pub fn css_problem(css: &str) -> Option<String> {
    let mut input = ParserInput::new(css);
    let mut parser = cssparser::Parser::new(&mut input);
    let error = SelectorList::parse(&scraper::selector::Parser, &mut parser, ParseRelative::No).err()?;
    // cssparser counts lines from 0 and columns from 1, in UTF-16 units on the line.
    let location = error.location;
    let at = if css.contains('\n') {
        format!("line {}, character {}", location.line + 1, location.column)
    } else {
        format!("character {}", location.column)
    };
    let what = match error.kind {
        ParseErrorKind::Basic(kind) => basic(kind),
        ParseErrorKind::Custom(kind) => custom(kind),
    };
    Some(format!("at {at}: {what}"))
}

fn token(token: &Token) -> String {
    format!("{:?}", token.to_css_string())
}

fn basic(kind: BasicParseErrorKind) -> String {
    match kind {
        BasicParseErrorKind::UnexpectedToken(t) => format!("{} was not expected here", token(&t)),
        BasicParseErrorKind::EndOfInput => "the selector ends too early".to_string(),
        other => words(&format!("{other:?}")),
    }
}

fn custom(kind: SelectorParseErrorKind) -> String {
    use SelectorParseErrorKind as K;
    match kind {
        K::NoQualifiedNameInAttributeSelector(t) => {
            format!("an attribute name was expected after \"[\", found {}", token(&t))
        }
        K::EmptySelector => "the selector is empty".to_string(),
        K::DanglingCombinator => "a combinator (space, >, + or ~) has nothing after it".to_string(),
        K::UnsupportedPseudoClassOrElement(name) => {
            format!(
                "the pseudo-class or pseudo-element {:?} is not supported",
                name.as_ref()
            )
        }
        K::UnexpectedIdent(name) => format!("{:?} was not expected here", name.as_ref()),
        K::UnexpectedTokenInAttributeSelector(t) | K::BadValueInAttr(t) | K::InvalidQualNameInAttr(t) => {
            format!("{} was not expected in an attribute selector", token(&t))
        }
        K::ClassNeedsIdent(t) => format!("a class name was expected after \".\", found {}", token(&t)),
        K::NoIdentForPseudo(t) | K::PseudoElementExpectedIdent(t) => {
            format!("a pseudo-class name was expected after \":\", found {}", token(&t))
        }
        other => words(&format!("{other:?}")),
    }
}

/// `DanglingCombinator(...)` -> `dangling combinator`: the last resort for kinds that
/// have no sentence of their own, still readable and without a dump.
fn words(debug: &str) -> String {
    let name = debug.split(['(', ' ', '{']).next().unwrap_or(debug);
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::css_problem;

    #[test]
    fn says_where_and_what() {
        assert_eq!(css_problem("main > p.policy"), None);
        assert_eq!(css_problem("#content, article:not(.ad)"), None);
        let problem = css_problem("main[[[").unwrap();
        assert!(problem.starts_with("at character 6: "), "{problem}");
        assert!(problem.contains("an attribute name was expected"), "{problem}");
        assert_eq!(
            css_problem("main >").unwrap(),
            "at character 7: a combinator (space, >, + or ~) has nothing after it"
        );
        let problem = css_problem("p:nosuch").unwrap();
        assert!(problem.contains("\"nosuch\" is not supported"), "{problem}");
        for bad in ["", ".", "a..b", "[x=", "a{", "::", "a)"] {
            let problem = css_problem(bad).unwrap_or_else(|| panic!("{bad:?} is invalid"));
            assert!(!problem.contains("report this"), "{bad:?}: {problem}");
            assert!(!problem.contains('\n'), "{bad:?}: {problem}");
        }
    }
}
