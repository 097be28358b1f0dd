//! The date a document declares for itself: "Last updated: March 2, 2026", "Effective
//! date: 2026-03-02", "Dernière mise à jour : 2 mars 2026", "Stand: 02.03.2026".

use chrono::NaiveDate;

/// Phrases that introduce a document's own date, lower-cased.
const LEADS: &[&str] = &[
    "last updated",
    "last update",
    "last modified",
    "last revised",
    "effective date",
    "effective as of",
    "effective from",
    "effective on",
    "date of last revision",
    "updated on",
    "updated:",
    "version date",
    "dernière mise à jour",
    "dernière modification",
    "mis à jour le",
    "date d'entrée en vigueur",
    "en vigueur le",
    "en vigueur à compter du",
    "zuletzt aktualisiert",
    "letzte aktualisierung",
    "stand:",
    "gültig ab",
    "última actualización",
    "ultima modifica",
    "ultimo aggiornamento",
];

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sept", 9),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    ("janvier", 1),
    ("février", 2),
    ("mars", 3),
    ("avril", 4),
    ("mai", 5),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("januar", 1),
    ("februar", 2),
    ("märz", 3),
    ("juni", 6),
    ("juli", 7),
    ("oktober", 10),
    ("dezember", 12),
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
];

/// The first date a lead phrase introduces, looking at most a few words past it.
pub fn declared_date(text: &str) -> Option<NaiveDate> {
    // Most texts name few of the leads, or none: look for each once in the whole text,
    // then only for those line by line. Reports and sites call this for every version.
    let whole = text.to_lowercase();
    let present: Vec<&str> = LEADS.iter().copied().filter(|lead| whole.contains(lead)).collect();
    if present.is_empty() {
        return None;
    }
    for line in text.lines() {
        let lower = line.to_lowercase();
        for lead in &present {
            let mut from = 0;
            while let Some(pos) = lower[from..].find(lead) {
                let after = from + pos + lead.len();
                let window: String = lower[after..].chars().take(48).collect();
                if let Some(date) = parse_date(&window) {
                    return Some(date);
                }
                from = after;
            }
        }
    }
    None
}

/// Parses the first date in `s`: `2026-03-02`, `March 2, 2026`, `2 March 2026`,
/// `2 mars 2026`, `02.03.2026`, `02/03/2026` (day first unless that is impossible).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | '(' | ')' | '–' | '—'))
        .filter(|w| !w.is_empty())
        .take(6)
        .collect();
    for (i, word) in words.iter().enumerate() {
        let word = word.trim_end_matches('.');
        let number = |w: Option<&&str>| {
            w.and_then(|w| {
                w.trim_end_matches(['.', ','])
                    .trim_end_matches("th")
                    .trim_end_matches("st")
                    .trim_end_matches("nd")
                    .trim_end_matches("rd")
                    .parse::<u32>()
                    .ok()
            })
        };
        let month = |w: &str| {
            MONTHS
                .iter()
                .find(|(name, _)| *name == w.trim_end_matches(['.', ',']))
                .map(|(_, m)| *m)
        };
        if let Some(date) = numeric_date(word) {
            return Some(date);
        }
        // Month D, YYYY
        if let (Some(m), Some(d), Some(y)) = (month(word), number(words.get(i + 1)), number(words.get(i + 2)))
            && let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d)
        {
            return Some(date);
        }
        // D Month YYYY (also "1er mars 2026")
        let day = word.trim_end_matches("er").parse::<u32>().ok();
        if let (Some(d), Some(m), Some(y)) = (day, words.get(i + 1).and_then(|w| month(w)), number(words.get(i + 2)))
            && let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d)
        {
            return Some(date);
        }
        // Month YYYY: the first of the month.
        if let (Some(m), Some(y)) = (month(word), number(words.get(i + 1)))
            && y > 1900
            && let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, 1)
        {
            return Some(date);
        }
    }
    None
}

fn numeric_date(word: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = word.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let (a, b, c): (u32, u32, u32) = (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?);
    if a > 1900 {
        return NaiveDate::from_ymd_opt(a as i32, b, c);
    }
    if c > 1900 {
        // Day first, as most of the world writes it; month first when the day-first
        // reading is impossible (US "12/31/2025").
        return NaiveDate::from_ymd_opt(c as i32, b, a).or_else(|| NaiveDate::from_ymd_opt(c as i32, a, b));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn finds_declared_dates() {
        assert_eq!(
            declared_date("# Privacy\n\nLast updated: March 2, 2026\n"),
            date(2026, 3, 2)
        );
        assert_eq!(declared_date("Effective Date: 2026-03-02\n"), date(2026, 3, 2));
        assert_eq!(declared_date("Effective as of 1 January 2025.\n"), date(2025, 1, 1));
        assert_eq!(declared_date("Dernière mise à jour : 2 mars 2026\n"), date(2026, 3, 2));
        assert_eq!(
            declared_date("Date d'entrée en vigueur : 1er juillet 2024\n"),
            date(2024, 7, 1)
        );
        assert_eq!(declared_date("Stand: 02.03.2026\n"), date(2026, 3, 2));
        assert_eq!(declared_date("Last Updated: 12/31/2025\n"), date(2025, 12, 31));
        assert_eq!(declared_date("Last modified: November 2025\n"), date(2025, 11, 1));
        assert_eq!(declared_date("We updated our terms.\nNo date here.\n"), None);
    }
}
