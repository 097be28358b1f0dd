//! One-line summaries of a change, used as commit subjects and in reports.

use super::diff::Counts;
use crate::archive::ChangeKind;

/// `TikTok Privacy Policy: 3 sentences added, 1 removed, 2 changed`.
pub fn subject(title: &str, kind: ChangeKind, counts: &Counts, canonicalizer: u32) -> String {
    match kind {
        ChangeKind::First => format!("First record of {title}"),
        ChangeKind::Reextract => format!("{title}: re-extracted with canonicalizer {canonicalizer}"),
        ChangeKind::Cosmetic => {
            let touched = counts.added.max(counts.removed) + counts.changed + counts.moved;
            format!("{title}: cosmetic changes in {}", sentences(touched))
        }
        // The caller adds which version it went back to.
        ChangeKind::Substantive | ChangeKind::Revert => format!("{title}: {}", describe(counts)),
    }
}

/// What a re-extraction made upstream (an OTA "Refilter") changed: `switched from
/// French to English, 310 sentences added, 298 removed` or `3 sentences added, 1 removed`.
pub fn upstream_reextraction(title: &str, old: &str, new: &str, counts: &Counts) -> String {
    let what = describe(counts);
    match (language(old), language(new)) {
        (Some(from), Some(to)) if from != to => {
            format!("{title}: re-extracted upstream, switched from {from} to {to}; {what}")
        }
        _ => format!("{title}: re-extracted upstream; {what}"),
    }
}

/// The language most of a text's words are common words of, among those the default
/// declarations cover; `None` for a text too short to tell.
pub fn language(text: &str) -> Option<&'static str> {
    const COMMON: &[(&str, &[&str])] = &[
        (
            "English",
            &["the", "and", "of", "to", "you", "we", "your", "is", "with", "for"],
        ),
        (
            "French",
            &["le", "la", "les", "et", "des", "vous", "nous", "est", "pour", "vos"],
        ),
        (
            "German",
            &["der", "die", "und", "das", "sie", "wir", "ist", "mit", "ihre", "nicht"],
        ),
        (
            "Spanish",
            &["el", "los", "las", "y", "del", "usted", "nosotros", "para", "con", "su"],
        ),
        (
            "Italian",
            &["il", "di", "che", "gli", "e", "per", "con", "sono", "tuoi", "nostri"],
        ),
        (
            "Portuguese",
            &["o", "os", "as", "e", "do", "da", "você", "nós", "para", "com"],
        ),
        (
            "Dutch",
            &["de", "het", "een", "en", "van", "je", "wij", "is", "met", "voor"],
        ),
    ];
    let words = super::diff::words(text);
    if words.len() < 50 {
        return None;
    }
    let score = |common: &[&str]| words.iter().filter(|w| common.contains(&w.as_str())).count();
    let (name, best) = COMMON
        .iter()
        .map(|(name, common)| (*name, score(common)))
        .max_by_key(|(_, n)| *n)?;
    (best * 20 >= words.len()).then_some(name)
}

/// `3 sentences added, 1 removed, 2 changed, 1 moved`; the noun goes with the first part.
pub fn describe(counts: &Counts) -> String {
    let parts: Vec<(usize, &str)> = [
        (counts.added, "added"),
        (counts.removed, "removed"),
        (counts.changed, "changed"),
        (counts.moved, "moved"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .collect();
    if parts.is_empty() {
        return "layout changed".into();
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, (n, what))| {
            if i == 0 {
                format!("{} {what}", sentences(*n))
            } else {
                format!("{n} {what}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the counts back from a subject written by [`subject`]; `None` for first
/// records, re-extractions and subjects written by something else.
pub fn parse_counts(subject: &str) -> Option<Counts> {
    // A revert's subject ends with the version it went back to, in parentheses.
    let subject = match subject.strip_suffix(')').and_then(|s| s.rsplit_once(" (back to ")) {
        Some((counts, _)) => counts,
        None => subject,
    };
    let (_, tail) = subject.rsplit_once(": ")?;
    // An upstream re-extraction's subject ends with its counts after "; ".
    let tail = tail.rsplit_once("; ").map_or(tail, |(_, counts)| counts);
    let tail = tail.strip_prefix("cosmetic changes in ").unwrap_or(tail);
    let mut counts = Counts::default();
    let mut any = false;
    for part in tail.split(", ") {
        let mut words = part.split(' ');
        let n: usize = words.next()?.parse().ok()?;
        let what = words.rfind(|w| !w.starts_with("sentence")).unwrap_or("changed");
        match what {
            "added" => counts.added = n,
            "removed" => counts.removed = n,
            "changed" => counts.changed = n,
            "moved" => counts.moved = n,
            _ => return None,
        }
        any = true;
    }
    any.then_some(counts)
}

fn sentences(n: usize) -> String {
    if n == 1 {
        "1 sentence".into()
    } else {
        format!("{n} sentences")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects() {
        let counts = Counts {
            added: 3,
            removed: 1,
            changed: 2,
            moved: 0,
        };
        assert_eq!(
            subject("TikTok Privacy Policy", ChangeKind::Substantive, &counts, 1),
            "TikTok Privacy Policy: 3 sentences added, 1 removed, 2 changed"
        );
        let one = Counts {
            changed: 1,
            ..Counts::default()
        };
        assert_eq!(
            subject("X Terms", ChangeKind::Substantive, &one, 1),
            "X Terms: 1 sentence changed"
        );
        assert_eq!(
            subject("X Terms", ChangeKind::Cosmetic, &one, 1),
            "X Terms: cosmetic changes in 1 sentence"
        );
        assert_eq!(
            subject("X Terms", ChangeKind::First, &one, 1),
            "First record of X Terms"
        );
    }
}
